"""Benchmark: MMRM (unstructured covariance, REML) + Satterthwaite contrasts.

Times ``rs.mmrm(..., covariance="us")`` followed by the treatment-minus-control
contrast at every visit with Satterthwaite df, on a simulated trial of
``n`` subjects x 7 visits with monotone dropout (seeded), against

* statsmodels ``MixedLM`` random intercept, REML (a simpler model: the only
  mixed model Python has; reference 0.58 s at 300 x 7), and
* ``nlme::gls`` with ``corSymm`` + ``varIdent`` (the same unstructured model;
  reference 12.2 s at 300 x 7), through ``Rscript`` when R is installed.

R's mmrm 0.3.18 takes 0.247 s for the same fit + df_1d at 300 x 7
(``/work/shared/validation/rct/TIMINGS.md``). Ratios printed are the peer's
time over rehabstats' time (> 1: rehabstats is faster).

Run: ``python benchmarks/bench_mmrm.py [--n 300] [--repeats 5] [--no-r]``
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from rehabstats.models._mmrm import mmrm

R_MMRM_300x7 = 0.247  # seconds, mmrm 0.3.18 fit + df_1d (TIMINGS.md)


def simulate(n: int, k: int = 7, seed: int = 300) -> pd.DataFrame:
    """Two arms, k visits, AR-like correlation, monotone dropout (observed rows only)."""
    rng = np.random.default_rng(seed)
    t = np.arange(k)
    sd = 5.0 * (1 + 0.05 * t)
    cov = (0.3 + 0.6 * 0.8 ** np.abs(np.subtract.outer(t, t))) * np.outer(sd, sd)
    np.fill_diagonal(cov, sd**2)
    arm = np.where(np.arange(n) < n // 2, "control", "active")
    y = 38 - t[None, :] + np.where(arm == "active", 0.4, 0.0)[:, None] * t[None, :]
    y = y + rng.standard_normal((n, k)) @ np.linalg.cholesky(cov).T
    last = np.minimum(rng.geometric(0.12, n), k)  # visits attended
    keep = t[None, :] < last[:, None]
    frame = pd.DataFrame({
        "subject": np.repeat([f"S{i:04d}" for i in range(n)], k),
        "arm": np.repeat(arm, k),
        "visit": np.tile([f"v{j}" for j in t], n),
        "visit_index": np.tile(t + 1, n),
        "outcome": y.ravel(),
    })[keep.ravel()].reset_index(drop=True)
    frame["arm"] = pd.Categorical(frame["arm"], categories=["control", "active"])
    frame["visit"] = pd.Categorical(frame["visit"], categories=[f"v{j}" for j in t])
    return frame


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_rehabstats(data: pd.DataFrame) -> pd.DataFrame:
    fit = mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit", covariance="us")
    return fit.contrasts("arm", by="visit", method="trt.vs.ctrl", df_method="satterthwaite")


def run_statsmodels(data: pd.DataFrame) -> None:
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        smf.mixedlm("outcome ~ arm * visit", data, groups=data["subject"]).fit(reml=True)


R_SCRIPT = r"""
suppressPackageStartupMessages(library(nlme))
d <- read.csv(commandArgs(TRUE)[1])
d$arm <- factor(d$arm, levels = c("control", "active"))
d$visit <- factor(d$visit, levels = paste0("v", 0:6))
t0 <- proc.time()[["elapsed"]]
m <- gls(outcome ~ arm * visit, data = d, correlation = corSymm(form = ~ visit_index | subject),
         weights = varIdent(form = ~ 1 | visit), method = "REML")
cat(proc.time()[["elapsed"]] - t0, "\n")
"""


def run_gls(data: pd.DataFrame) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "data.csv"
        script = Path(tmp) / "gls.R"
        data.to_csv(csv, index=False)
        script.write_text(R_SCRIPT, encoding="utf-8")
        out = subprocess.run(["Rscript", str(script), str(csv)], capture_output=True, text=True,
                             check=False, timeout=600)
    if out.returncode != 0:
        print("nlme::gls failed:", out.stderr.strip()[-300:])
        return None
    return float(out.stdout.split()[-1])


def main(argv: list[str] | None = None) -> dict[str, float | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="subjects (default 300)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (median)")
    parser.add_argument("--no-r", action="store_true", help="skip nlme::gls via Rscript")
    args = parser.parse_args(argv)
    data = simulate(args.n)
    print(f"data: {args.n} subjects x 7 visits, {len(data)} observed rows")
    t_rs = _median_time(lambda: run_rehabstats(data), args.repeats)
    t_sm = _median_time(lambda: run_statsmodels(data), max(1, min(args.repeats, 3)))
    t_gls = None if args.no_r else run_gls(data)
    print(f"rehabstats mmrm(us) + Satterthwaite contrasts: {t_rs:.3f} s")
    print(f"statsmodels MixedLM random intercept:          {t_sm:.3f} s  "
          f"(ratio {t_sm / t_rs:.1f}x)")
    if t_gls is not None:
        print(f"nlme::gls corSymm + varIdent (one run):        {t_gls:.3f} s  "
              f"(ratio {t_gls / t_rs:.1f}x)")
    if args.n == 300:
        print(f"R mmrm 0.3.18 fit + df_1d (TIMINGS.md):        {R_MMRM_300x7:.3f} s  "
              f"(ratio {R_MMRM_300x7 / t_rs:.1f}x)")
    return {"rehabstats": t_rs, "statsmodels": t_sm, "gls": t_gls}


if __name__ == "__main__":
    main()
