"""Time rehabstats' random-intercept LMM with Satterthwaite df against peers (ratios).

Data: ../shared/validation/rct/cimt_n20_3v.csv (20 subjects x 3 visits); falls back to
the bundled ``cimt_ms`` data set. Compared:

* ``rs.lmm`` fit + Satterthwaite coefficient table (what a user runs),
* statsmodels ``MixedLM`` REML fit + its summary table (z tests only, no df),
* lmerTest ``lmer`` + ``summary(ddf = "Satterthwaite")`` via Rscript, when Rscript is
  installed (timed inside R over the same number of repetitions; R start-up excluded).

Run: ``python3 benchmarks/bench_lmm.py``. Prints the median seconds per fit and ratios.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from rehabstats.models import lmm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reference"))
from validation_data import unpack_validation

CSV = unpack_validation() / "rct" / "cimt_n20_3v.csv"


def _data() -> pd.DataFrame:
    if CSV.is_file():
        d = pd.read_csv(CSV)
        d["arm"] = pd.Categorical(d["arm"], categories=["control", "cimt"])
        d["visit"] = pd.Categorical(d["visit"], categories=["pre", "post", "followup"])
        return d.dropna(subset=["outcome"])
    from rehabstats import datasets

    d = datasets.load("cimt_ms").dropna(subset=["mal_aou"])
    return d.rename(columns={"mal_aou": "outcome"})


def _median_time(fun: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fun()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _rehabstats(d: pd.DataFrame) -> None:
    lmm("outcome ~ arm * visit", d, subject="subject").coef(df_method="satterthwaite")


def _statsmodels(d: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("outcome ~ arm * visit", d, groups=d["subject"]).fit(reml=True)
        fit.summary()


def _lmertest(d: pd.DataFrame, repeats: int) -> float | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"
        d.to_csv(csv, index=False)
        code = f"""
suppressPackageStartupMessages(library(lmerTest))
d <- read.csv("{csv}")
d$arm <- factor(d$arm, levels = c("control", "cimt"))
d$visit <- factor(d$visit, levels = unique(d$visit))
t <- numeric({repeats})
for (i in seq_len({repeats})) {{
  t0 <- proc.time()[["elapsed"]]
  s <- summary(lmer(outcome ~ arm * visit + (1 | subject), data = d), ddf = "Satterthwaite")
  t[i] <- proc.time()[["elapsed"]] - t0
}}
cat(median(t))
"""
        try:
            out = subprocess.run([rscript, "-e", code], capture_output=True, text=True,
                                 timeout=300, check=True)
            return float(out.stdout.strip().split()[-1])
        except (subprocess.SubprocessError, ValueError, IndexError):
            return None


def simulate(n_subjects: int = 300, n_visits: int = 7, seed: int = 1) -> pd.DataFrame:
    """Two-arm trial, random intercept, ``n_subjects x n_visits`` rows (issue 12's size)."""
    rng = np.random.default_rng(seed)
    arm = np.repeat(rng.permutation(["control", "cimt"] * (n_subjects // 2 + 1))[:n_subjects],
                    n_visits)
    d = pd.DataFrame({"subject": np.repeat(np.arange(n_subjects), n_visits),
                      "arm": pd.Categorical(arm, categories=["control", "cimt"]),
                      "visit": pd.Categorical(np.tile([f"v{j}" for j in range(n_visits)],
                                                      n_subjects),
                                              categories=[f"v{j}" for j in range(n_visits)])})
    d["outcome"] = (rng.normal(size=len(d)) + np.repeat(rng.normal(size=n_subjects), n_visits)
                    + 0.2 * (d["arm"] == "cimt") * d["visit"].cat.codes)
    return d


def main(repeats: int = 20, with_r: bool = True, data: pd.DataFrame | None = None
         ) -> dict[str, float | None]:
    """Run the comparison; return the median times and ratios."""
    d = _data() if data is None else data
    _rehabstats(d)  # warm-up (imports, patsy caches)
    t_rs = _median_time(lambda: _rehabstats(d), repeats)
    t_sm = _median_time(lambda: _statsmodels(d), repeats)
    t_r = _lmertest(d, repeats) if with_r else None
    print(f"data: {d['subject'].nunique()} subjects, {len(d)} rows; median of {repeats} runs")
    print(f"rehabstats lmm + Satterthwaite table : {t_rs * 1e3:8.1f} ms")
    print(f"statsmodels MixedLM + summary (z)   : {t_sm * 1e3:8.1f} ms")
    print(f"ratio statsmodels / rehabstats      : {t_sm / t_rs:8.2f}")
    if t_r is not None:
        print(f"lmerTest lmer + summary (in R)      : {t_r * 1e3:8.1f} ms")
        print(f"ratio lmerTest / rehabstats         : {t_r / t_rs:8.2f}")
    return {"rehabstats": t_rs, "statsmodels": t_sm, "lmertest": t_r,
            "ratio_statsmodels": t_sm / t_rs,
            "ratio_lmertest": None if t_r is None else t_r / t_rs}


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "large":   # 300 subjects x 7 visits
        main(repeats=5, data=simulate(300, 7))
    else:
        main()
