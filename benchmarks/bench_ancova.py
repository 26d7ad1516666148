"""Benchmark: one ANCOVA on 20 rows with its contrast table, against statsmodels (ratios).

Data: 20 subjects (10 per arm), post ~ arm + pre, simulated (seeded). Compared:

* ``rs.ancova(...)`` + ``.differences`` (the arm contrast table with df, p and CI:
  what a user runs),
* statsmodels ``smf.ols("post ~ arm + pre").fit()`` + ``.summary()``,
* R's ``lm`` + ``summary`` (recorded: 0.83 ms on this machine type, issue 12; not
  run here).

Goal (issue 12): rehabstats at most 1/3 of statsmodels' time (ratio >= 3).
Run: ``python3 benchmarks/bench_ancova.py [--repeats R]``. Prints median times and
ratios (peer time / ours: above 1 means rehabstats is faster).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from rehabstats.models import ancova

R_LM_SECONDS = 0.83e-3  # recorded lm() + summary() at 20 rows (issue 12)


def _data(n: int = 20, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"arm": np.repeat(["control", "cimt"], n // 2), "pre": rng.normal(30, 5, n)})
    d["post"] = d["pre"] + 3.0 * (d["arm"] == "cimt") + rng.normal(0, 3, n)
    return d


def _median_time(fun: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fun()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(repeats: int = 200) -> dict[str, float]:
    """Run the comparison; return the median times and ratios."""
    d = _data()

    def ours() -> None:
        _ = ancova(d, outcome="post", arm="arm", baseline="pre").differences

    def statsmodels() -> None:
        smf.ols("post ~ arm + pre", data=d).fit().summary()

    ours()
    statsmodels()
    t_rs, t_sm = [], []
    for _ in range(3):  # interleaved rounds: load changes hit both alike
        t_rs.append(_median_time(ours, repeats // 3))
        t_sm.append(_median_time(statsmodels, repeats // 3))
    rs_t, sm_t = float(np.median(t_rs)), float(np.median(t_sm))
    print(f"data: 20 rows, post ~ arm + pre; median of {repeats} runs")
    print(f"rehabstats ancova + differences     : {rs_t * 1e3:8.3f} ms")
    print(f"statsmodels ols fit + summary       : {sm_t * 1e3:8.3f} ms")
    print(f"ratio statsmodels / rehabstats      : {sm_t / rs_t:8.2f}   (goal >= 3)")
    print(f"R lm + summary (recorded)           : {R_LM_SECONDS * 1e3:8.3f} ms")
    print(f"ratio R lm (recorded) / rehabstats  : {R_LM_SECONDS / rs_t:8.2f}")
    return {
        "rehabstats": rs_t,
        "statsmodels": sm_t,
        "ratio_statsmodels": sm_t / rs_t,
        "ratio_r_lm_recorded": R_LM_SECONDS / rs_t,
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=300)
    main(ap.parse_args().repeats)
