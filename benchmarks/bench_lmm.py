"""Time rehabstats' LMM (fit + Satterthwaite coefficient table) against peers (ratios).

All peers are timed in the same run (ratios = peer time / ours; above 1 means
rehabstats is faster):

* ``rs.lmm`` fit + ``coef(df_method="satterthwaite")`` (what a user runs),
* ``mixedlm`` 1.3 (PyPI, an lme4 port in Rust): ``lmer`` + ``pvalues_with_ddf``
  (Satterthwaite),
* statsmodels ``MixedLM`` REML fit + its summary table (z tests only, no df),
* lmerTest ``lmer`` + ``summary(ddf = "Satterthwaite")`` via Rscript when installed
  (timed inside R; R start-up excluded), at 20 x 3 and 300 x 7 (intercept).

Designs: 20 subjects x 3 visits (``../shared/validation/rct/cimt_n20_3v.csv``, falls
back to the bundled ``cimt_ms``); simulated two-arm trials (seeded) with 300 x 7
(random intercept, and random intercept + slope on ``time``), and a scaling series
of 300 / 1,000 / 3,000 / 10,000 subjects x 7 visits (random intercept) with the
log-log slope of time against subjects (goal <= 1.1, issue 12).

Run: ``python3 benchmarks/bench_lmm.py [--no-r] [--quick]``.
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


def simulate(n_subjects: int = 300, n_visits: int = 7, seed: int = 1,
             slope_sd: float = 0.0) -> pd.DataFrame:
    """Two-arm trial, random intercept (and slope with SD ``slope_sd`` per visit),
    ``n_subjects x n_visits`` rows (issue 12's size)."""
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
    if slope_sd > 0:
        d["outcome"] += (np.repeat(rng.normal(0, slope_sd, n_subjects), n_visits)
                         * d["visit"].cat.codes)
    return d


def _mixedlm(d: pd.DataFrame, random: str = "1") -> None:
    import mixedlm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mixedlm.lmer(f"outcome ~ arm * visit + ({random} | subject)", d)
        mixedlm.pvalues_with_ddf(fit, "Satterthwaite")


def _statsmodels_slope(d: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("outcome ~ arm * visit", d, groups=d["subject"],
                          re_formula="~time").fit(reml=True)
        fit.summary()


def _row(label: str, t_rs: float, peers: dict[str, float | None]) -> dict[str, float | None]:
    parts = [f"{label:<28} rehabstats {t_rs * 1e3:9.1f} ms"]
    out: dict[str, float | None] = {"rehabstats": t_rs}
    for name, t in peers.items():
        if t is None:
            continue
        parts.append(f"{name} {t * 1e3:9.1f} ms (ratio {t / t_rs:6.2f})")
        out[name] = t
        out[f"ratio_{name}"] = t / t_rs
    print(" | ".join(parts), flush=True)
    return out


def main(repeats: int = 20, with_r: bool = True, quick: bool = False) -> dict[str, Any]:
    """Run every comparison; return the median times and ratios per design (the 20 x 3
    figures also at the top level: ``rehabstats``, ``ratio_statsmodels``, ...).
    ``repeats <= 1`` is a smoke run (``quick``)."""
    quick = quick or repeats <= 1
    results: dict[str, Any] = {}
    small = _data()
    big = simulate(300, 7)
    sloped = simulate(300, 7, slope_sd=0.3)
    sloped["time"] = sloped["visit"].cat.codes.astype(float)
    for d in (small, big):      # warm-up (imports, caches) of every engine
        _rehabstats(d)
        _mixedlm(d)
    print(f"median seconds per fit; 20 x 3 has {len(small)} rows")
    r = 3 if quick else repeats
    results["20x3"] = _row("20 x 3, intercept", _median_time(lambda: _rehabstats(small), r), {
        "mixedlm": _median_time(lambda: _mixedlm(small), r),
        "statsmodels": _median_time(lambda: _statsmodels(small), r),
        "lmertest": _lmertest(small, r) if with_r else None})
    for peer in ("mixedlm", "statsmodels", "lmertest"):
        if results["20x3"].get(f"ratio_{peer}") is not None:
            print(f"20 x 3: ratio {peer} / rehabstats : {results['20x3'][f'ratio_{peer}']:8.2f}")
    r = 2 if quick else 5
    results["300x7"] = _row("300 x 7, intercept", _median_time(lambda: _rehabstats(big), r), {
        "mixedlm": _median_time(lambda: _mixedlm(big), r),
        "statsmodels": _median_time(lambda: _statsmodels(big), max(1, r // 2)),
        "lmertest": _lmertest(big, r) if with_r else None})

    def slope() -> None:
        lmm("outcome ~ arm * visit", sloped, subject="subject",
            random="1 + time").coef(df_method="satterthwaite")

    slope()
    results["300x7 slope"] = _row("300 x 7, intercept + slope", _median_time(slope, r), {
        "mixedlm": _median_time(lambda: _mixedlm(sloped, "1 + time"), r),
        "statsmodels": None if quick else _median_time(lambda: _statsmodels_slope(sloped), 1)})
    sizes = [300, 1000, 3000] if quick else [300, 1000, 3000, 10000]
    ours, peer = [], []
    for n in sizes:
        d = simulate(n, 7)
        reps = max(1, 6000 // (n * 2)) if n > 300 else r
        t = _median_time(lambda d=d: _rehabstats(d), reps)
        tp = _median_time(lambda d=d: _mixedlm(d), reps)
        ours.append(t)
        peer.append(tp)
        results[f"scaling {n}"] = _row(f"{n} x 7, intercept", t, {"mixedlm": tp})
    slope_ours = float(np.polyfit(np.log(sizes), np.log(ours), 1)[0])
    slope_peer = float(np.polyfit(np.log(sizes), np.log(peer), 1)[0])
    print(f"log-log slope of time in subjects ({sizes[0]}-{sizes[-1]}): rehabstats "
          f"{slope_ours:.2f} (goal <= 1.1), mixedlm {slope_peer:.2f}")
    results["scaling"] = {"slope_rehabstats": slope_ours, "slope_mixedlm": slope_peer}
    return {**results["20x3"], **results}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="LMM benchmark (rehabstats vs peers)")
    ap.add_argument("--no-r", action="store_true", help="skip lmerTest (Rscript)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats, no 10,000 subjects")
    args = ap.parse_args()
    main(with_r=not args.no_r, quick=args.quick)
