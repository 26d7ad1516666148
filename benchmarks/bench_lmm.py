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
(random intercept, and random intercept + slope on ``time``), and scaling series
of 100 / 300 / 1,000 / 3,000 / 10,000 subjects x 7 visits (random intercept, and
random intercept + slope) with the log-log slope of time against subjects (goal
<= 1.1, issue 12).

Ours and the peers are timed interleaved (one call of each in turn, repeated;
medians), so that the load of the shared machine hits both alike. BLAS runs
single-threaded (``OPENBLAS_NUM_THREADS=1`` etc. unless set): on 2 shared cores
multi-threaded BLAS made the peers' times vary 10-fold between runs. For ours the
split "engine" (``LMMProblem`` + optimiser + result/inference + coefficient
table, on the already-built design) vs "front end" (data checks, formula, design
matrix) is printed as well.

Run: ``python3 benchmarks/bench_lmm.py [--no-r] [--quick]``.
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = os.environ.get("OPENBLAS_NUM_THREADS", "1")
os.environ["OMP_NUM_THREADS"] = os.environ.get("OMP_NUM_THREADS", "1")
os.environ["MKL_NUM_THREADS"] = os.environ.get("MKL_NUM_THREADS", "1")

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


def _rehabstats(d: pd.DataFrame, random: str = "1") -> None:
    lmm("outcome ~ arm * visit", d, subject="subject", random=random).coef(
        df_method="satterthwaite"
    )


def _engine_call(d: pd.DataFrame, random: str = "1") -> Any:
    """Ours without the front end: the engine, the result and its coefficient table on
    the design of one fit (what the front end hands over)."""
    from rehabstats.models._lmm import LMMResult
    from rehabstats.models._lmm_engine import LMMProblem, optimize_theta

    fit = lmm("outcome ~ arm * visit", d, subject="subject", random=random)
    prob0 = fit._prob
    groups = fit.frame["subject"].to_numpy()

    def run() -> None:
        prob = LMMProblem(prob0.y, prob0.X, prob0.Zs, groups, True)
        q = prob.q
        start = np.array([1.0 if i == j else 0.0 for j in range(q) for i in range(j, q)])
        theta, dev, gnorm = optimize_theta(prob, start)
        LMMResult(
            prob=prob,
            theta=theta,
            deviance=dev,
            design_info=fit.design_info,
            frame=fit.frame,
            formula=fit.formula,
            random=random,
            re_names=fit.re_names,
            subject="subject",
            reml=True,
            gradient=gnorm,
            n_omitted=0,
            outcome="outcome",
            rank_info=fit._rank_info,
        ).coef(df_method="satterthwaite")

    return run


def _interleaved(funs: dict[str, Any], repeats: int) -> dict[str, float]:
    """Median seconds of each function, called in turn ``repeats`` times."""
    times: dict[str, list[float]] = {k: [] for k in funs}
    for _ in range(repeats):
        for name, fun in funs.items():
            t0 = time.perf_counter()
            fun()
            times[name].append(time.perf_counter() - t0)
    return {k: float(np.median(v)) for k, v in times.items()}


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
            out = subprocess.run(
                [rscript, "-e", code], capture_output=True, text=True, timeout=300, check=True
            )
            return float(out.stdout.strip().split()[-1])
        except (subprocess.SubprocessError, ValueError, IndexError):
            return None


def simulate(
    n_subjects: int = 300, n_visits: int = 7, seed: int = 1, slope_sd: float = 0.0
) -> pd.DataFrame:
    """Two-arm trial, random intercept (and slope with SD ``slope_sd`` per visit),
    ``n_subjects x n_visits`` rows (issue 12's size)."""
    rng = np.random.default_rng(seed)
    arm = np.repeat(
        rng.permutation(["control", "cimt"] * (n_subjects // 2 + 1))[:n_subjects], n_visits
    )
    d = pd.DataFrame(
        {
            "subject": np.repeat(np.arange(n_subjects), n_visits),
            "arm": pd.Categorical(arm, categories=["control", "cimt"]),
            "visit": pd.Categorical(
                np.tile([f"v{j}" for j in range(n_visits)], n_subjects),
                categories=[f"v{j}" for j in range(n_visits)],
            ),
        }
    )
    d["outcome"] = (
        rng.normal(size=len(d))
        + np.repeat(rng.normal(size=n_subjects), n_visits)
        + 0.2 * (d["arm"] == "cimt") * d["visit"].cat.codes
    )
    if slope_sd > 0:
        d["outcome"] += (
            np.repeat(rng.normal(0, slope_sd, n_subjects), n_visits) * d["visit"].cat.codes
        )
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
        fit = smf.mixedlm("outcome ~ arm * visit", d, groups=d["subject"], re_formula="~time").fit(
            reml=True
        )
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


def _compare(
    label: str,
    d: pd.DataFrame,
    repeats: int,
    random: str = "1",
    statsmodels: Any = None,
    lmertest: float | None = None,
) -> dict[str, float | None]:
    """Ours (whole call, and engine only) and mixedlm interleaved; statsmodels too when
    ``statsmodels`` is a callable (or its precomputed time)."""
    funs: dict[str, Any] = {
        "rehabstats": lambda: _rehabstats(d, random),
        "engine": _engine_call(d, random),
        "mixedlm": lambda: _mixedlm(d, random),
    }
    if callable(statsmodels):
        funs["statsmodels"] = statsmodels
    t = _interleaved(funs, repeats)
    sm = t.get("statsmodels", statsmodels if isinstance(statsmodels, float) else None)
    peers: dict[str, float | None] = {
        "mixedlm": t["mixedlm"],
        "statsmodels": sm,
        "lmertest": lmertest,
    }
    out = _row(label, t["rehabstats"], peers)
    out["engine"] = t["engine"]
    print(
        f"{'':<28} of which engine {t['engine'] * 1e3:8.1f} ms, front end "
        f"{(t['rehabstats'] - t['engine']) * 1e3:8.1f} ms; mixedlm / engine "
        f"{t['mixedlm'] / t['engine']:6.2f}",
        flush=True,
    )
    return out


def _scaling(random: str, sizes: list[int], base_reps: int) -> dict[str, Any]:
    ours: list[float] = []
    peer: list[float] = []
    eng: list[float] = []
    results: dict[str, Any] = {}
    for n in sizes:
        d = simulate(n, 7, slope_sd=0.3 if random != "1" else 0.0)
        d["time"] = d["visit"].cat.codes.astype(float)
        reps = base_reps if n <= 300 else max(3, 3000 // n)
        r = _compare(f"{n} x 7, {'intercept' if random == '1' else 'slope'}", d, reps, random)
        ours.append(float(r["rehabstats"] or 0.0))
        peer.append(float(r["mixedlm"] or 0.0))
        eng.append(float(r["engine"] or 0.0))
        results[str(n)] = r
    lx = np.log(sizes)
    slopes = {
        name: float(np.polyfit(lx, np.log(v), 1)[0])
        for name, v in (("rehabstats", ours), ("engine", eng), ("mixedlm", peer))
    }
    print(
        f"log-log slope of time in subjects ({sizes[0]}-{sizes[-1]}, {random!r}): "
        f"rehabstats {slopes['rehabstats']:.2f} (goal <= 1.1; engine alone "
        f"{slopes['engine']:.2f}), mixedlm {slopes['mixedlm']:.2f}",
        flush=True,
    )
    results["slopes"] = slopes
    return results


def main(repeats: int = 21, with_r: bool = True, quick: bool = False) -> dict[str, Any]:
    """Run every comparison; return the median times and ratios per design (the 20 x 3
    figures also at the top level: ``rehabstats``, ``ratio_statsmodels``, ...).
    ``repeats <= 1`` is a smoke run (``quick``)."""
    quick = quick or repeats <= 1
    results: dict[str, Any] = {}
    small = _data()
    big = simulate(300, 7)
    sloped = simulate(300, 7, slope_sd=0.3)
    sloped["time"] = sloped["visit"].cat.codes.astype(float)
    for d in (small, big):  # warm-up (imports, caches) of every engine
        _rehabstats(d)
        _mixedlm(d)
    print(f"median seconds per fit (interleaved); 20 x 3 has {len(small)} rows")
    r = 2 if quick else repeats
    results["20x3"] = _compare(
        "20 x 3, intercept",
        small,
        r,
        statsmodels=lambda: _statsmodels(small),
        lmertest=_lmertest(small, r) if with_r else None,
    )
    for peer in ("mixedlm", "statsmodels", "lmertest"):
        if results["20x3"].get(f"ratio_{peer}") is not None:
            print(f"20 x 3: ratio {peer} / rehabstats : {results['20x3'][f'ratio_{peer}']:8.2f}")
    r = 2 if quick else 11
    results["300x7"] = _compare(
        "300 x 7, intercept",
        big,
        r,
        statsmodels=None if quick else (lambda: _statsmodels(big)),
        lmertest=_lmertest(big, r) if with_r else None,
    )
    sm_slope = None  # statsmodels takes seconds here: timed once, on its own
    if not quick:
        t0 = time.perf_counter()
        _statsmodels_slope(sloped)
        sm_slope = time.perf_counter() - t0
    results["300x7 slope"] = _compare(
        "300 x 7, intercept + slope", sloped, r, "1 + time", statsmodels=sm_slope
    )
    sizes = [100, 300, 1000] if quick else [100, 300, 1000, 3000, 10000]
    results["scaling"] = _scaling("1", sizes, r)
    results["scaling slope"] = _scaling("1 + time", sizes, r)
    return {**results["20x3"], **results}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="LMM benchmark (rehabstats vs peers)")
    ap.add_argument("--no-r", action="store_true", help="skip lmerTest (Rscript)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats, no 10,000 subjects")
    args = ap.parse_args()
    main(with_r=not args.no_r, quick=args.quick)
