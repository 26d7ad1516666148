"""Benchmark: MMRM (unstructured covariance, REML) with Satterthwaite inference, by size.

Default run (``python benchmarks/bench_mmrm.py``): for 20 x 3, 20 x 7, 300 x 7,
300 x 10 and 300 x 14 (subjects x visits; simulated two-arm trials, seeded,
monotone dropout except at 20 x 3, which is complete like R's ``cimt_n20_3v``
set) it times

* ``fit``: ``rs.mmrm(..., covariance="us")`` followed by ``fit.coef()``
  (Satterthwaite df), and
* ``fit+contrasts``: the same plus the treatment-minus-control contrast at every
  visit with Satterthwaite df (R: ``mmrm()`` + ``df_1d`` per visit),

reports peak memory of one ``fit+contrasts`` call (``tracemalloc`` peak; and for
300 x 14 the growth of the peak resident set size over the resident set before
the call, in a fresh subprocess with imports done; and the same two figures for
fit + contrasts with Kenward-Roger df at 300 x 14, goal <= 100 MiB),
the ratios against R mmrm -- **measured in the same run on the same data** when
``Rscript`` finds R's mmrm (``r/mmrm_timing.R``; point ``REHABSTATS_R_LIBS`` at the
library it was built into), otherwise figures recorded earlier on this machine type --
and the log-log slope
of the time in the number of visits (7, 10, 14 at 300 subjects), with the
goal slope <= 1.6 (R mmrm's is 1.9). Ratios are peer time / ours (> 1: rehabstats
is faster).

``--n N``: the older single-size comparison (``N`` subjects x 7 visits) against
statsmodels ``MixedLM`` (random intercept, a simpler model) and ``nlme::gls``
with ``corSymm`` + ``varIdent`` through ``Rscript`` when R is installed.

Run: ``python benchmarks/bench_mmrm.py [--repeats 5] [--n 300 [--no-r]] [--kr-memory]``
(``--kr-memory``: only the Kenward-Roger memory figures.)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rehabstats.models._mmrm import mmrm

R_MMRM_300x7 = 0.247  # seconds, mmrm 0.3.18 fit + df_1d (TIMINGS.md)
# R mmrm 0.3.18 (TMB), fit + df_1d, recorded on this machine type (issue 12 and
# /work/shared/validation/rct/TIMINGS.md); NOT measured in this run.
R_RECORDED: dict[tuple[int, int], tuple[float, float | None]] = {
    (20, 3): (0.011, None),
    (20, 7): (0.028, None),
    (300, 7): (0.247, None),
    (300, 14): (0.73, 94.0),  # seconds, MiB
}
R_SLOPE = 1.9
GOAL_SLOPE = 1.6


def simulate(n: int, k: int = 7, seed: int = 300, dropout: bool = True) -> pd.DataFrame:
    """Two arms, k visits, AR-like correlation, monotone dropout (observed rows only)."""
    rng = np.random.default_rng(seed)
    t = np.arange(k)
    sd = 5.0 * (1 + 0.05 * t)
    cov = (0.3 + 0.6 * 0.8 ** np.abs(np.subtract.outer(t, t))) * np.outer(sd, sd)
    np.fill_diagonal(cov, sd**2)
    arm = np.where(np.arange(n) < n // 2, "control", "active")
    y = 38 - t[None, :] + np.where(arm == "active", 0.4, 0.0)[:, None] * t[None, :]
    y = y + rng.standard_normal((n, k)) @ np.linalg.cholesky(cov).T
    last = np.minimum(rng.geometric(0.12, n), k) if dropout else np.full(n, k)  # attended
    keep = t[None, :] < last[:, None]
    frame = pd.DataFrame(
        {
            "subject": np.repeat([f"S{i:04d}" for i in range(n)], k),
            "arm": np.repeat(arm, k),
            "visit": np.tile([f"v{j}" for j in t], n),
            "visit_index": np.tile(t + 1, n),
            "outcome": y.ravel(),
        }
    )[keep.ravel()].reset_index(drop=True)
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
        out = subprocess.run(
            ["Rscript", str(script), str(csv)],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
    if out.returncode != 0:
        print("nlme::gls failed:", out.stderr.strip()[-300:])
        return None
    return float(out.stdout.split()[-1])


def legacy_main(args: argparse.Namespace) -> dict[str, float | None]:
    """The single-size comparison against statsmodels and nlme::gls."""
    data = simulate(args.n)
    print(f"data: {args.n} subjects x 7 visits, {len(data)} observed rows")
    t_rs = _median_time(lambda: run_rehabstats(data), args.repeats)
    t_sm = _median_time(lambda: run_statsmodels(data), max(1, min(args.repeats, 3)))
    t_gls = None if args.no_r else run_gls(data)
    print(f"rehabstats mmrm(us) + Satterthwaite contrasts: {t_rs:.3f} s")
    print(
        f"statsmodels MixedLM random intercept:          {t_sm:.3f} s  (ratio {t_sm / t_rs:.1f}x)"
    )
    if t_gls is not None:
        print(
            f"nlme::gls corSymm + varIdent (one run):        {t_gls:.3f} s  "
            f"(ratio {t_gls / t_rs:.1f}x)"
        )
    if args.n == 300:
        print(
            f"R mmrm 0.3.18 fit + df_1d (TIMINGS.md):        {R_MMRM_300x7:.3f} s  "
            f"(ratio {R_MMRM_300x7 / t_rs:.1f}x)"
        )
    return {"rehabstats": t_rs, "statsmodels": t_sm, "gls": t_gls}


SIZES = [(20, 3), (20, 7), (300, 7), (300, 10), (300, 14)]


def _data(n: int, k: int) -> pd.DataFrame:
    return simulate(n, k, dropout=(n, k) != (20, 3))


def run_fit(data: pd.DataFrame) -> pd.DataFrame:
    fit = mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit", covariance="us")
    return fit.coef()


def _batch_time(fn: Callable[[], object], repeats: int, batch: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds per call.

    CPU time (``time.process_time``) is reported beside the wall time because the
    machine is shared: on a loaded machine the wall time of this single-threaded
    code grows with the load, its CPU time hardly.
    """
    fn()  # warm-up (formula/design cache, BLAS thread limiter)
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(batch):
            fn()
        walls.append((time.perf_counter() - w0) / batch)
        cpus.append((time.process_time() - c0) / batch)
    return statistics.median(walls), statistics.median(cpus)


def run_kr(data: pd.DataFrame) -> pd.DataFrame:
    """Fit + the treatment contrast at every visit with Kenward-Roger df (mmrm's default KR)."""
    fit = mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit", covariance="us")
    return fit.contrasts("arm", by="visit", method="trt.vs.ctrl", df_method="kenward-roger")


def _traced_peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


_RSS_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from bench_mmrm import _data, run_kr, run_rehabstats

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key))

n, k = int(sys.argv[2]), int(sys.argv[3])
run = run_kr if sys.argv[4] == "kr" else run_rehabstats
data = _data(n, k)
run(_data(20, 3))  # imports and caches loaded
with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM) to the current RSS
    fh.write("5")
before = status("VmRSS:")
run(data)
print(json.dumps({"before_kib": before, "after_kib": status("VmHWM:")}))
"""


def _rss_delta_mib(n: int, k: int, kind: str = "satterthwaite") -> float | None:
    """Peak-RSS growth (MiB) of one fit + contrasts (``kind="kr"``: Kenward-Roger df)."""
    if not Path("/proc/self/clear_refs").exists():
        return None
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, here, str(n), str(k), kind],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ},
    )
    if out.returncode != 0:
        return None
    rec = json.loads(out.stdout.strip().splitlines()[-1])
    return (rec["after_kib"] - rec["before_kib"]) / 1024


R_SCRIPT = Path(__file__).resolve().parent / "r" / "mmrm_timing.R"


def run_r_mmrm(
    sizes: list[tuple[int, int]], repeats: int
) -> dict[tuple[int, int], dict[str, Any]] | None:
    """R mmrm on the same data sets in this run (``r/mmrm_timing.R``), or None.

    Needs ``Rscript`` and R's mmrm (built from source; set ``R_LIBS`` or
    ``REHABSTATS_R_LIBS`` to its library). Same work as :func:`run_rehabstats`:
    ``mmrm(us)`` with Satterthwaite and ``df_1d`` of the arm difference per visit.
    """
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    env = dict(os.environ)
    if env.get("REHABSTATS_R_LIBS"):
        env["R_LIBS"] = env["REHABSTATS_R_LIBS"]
    with tempfile.TemporaryDirectory() as tmp:
        for n, k in sizes:
            _data(n, k).to_csv(Path(tmp) / f"{n:05d}x{k:02d}.csv", index=False)
        try:
            out = subprocess.run(
                [rscript, str(R_SCRIPT), tmp, str(repeats)],
                capture_output=True,
                text=True,
                check=False,
                timeout=1800,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    rec = json.loads(out.stdout.strip().splitlines()[-1])
    res: dict[tuple[int, int], dict[str, Any]] = {}
    for key, val in rec["sizes"].items():
        n, k = (int(v) for v in key.split("x"))
        res[(n, k)] = {**val, "version": rec["mmrm"]}
    return res


def loglog_slope(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log(y) on log(x)."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(lx, ly, 1)[0])


def suite(repeats: int) -> dict[str, Any]:
    """Times, memory and ratios for every size in :data:`SIZES`."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    print(
        f"MMRM us, REML, Satterthwaite; median of {repeats} runs; "
        f"load average {load:.2f} on {os.cpu_count()} cores; "
        f"self max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )
    r_run = run_r_mmrm(SIZES, repeats)
    if r_run:
        version = next(iter(r_run.values()))["version"]
        print(
            f"R mmrm {version} MEASURED in this run on the same data (r/mmrm_timing.R: "
            "mmrm(us) + df_1d per visit; wall time, median of repeats)."
        )
        r_times = {key: (v["seconds"], v.get("rss_growth_mib")) for key, v in r_run.items()}
    else:
        print(
            "R mmrm 0.3.18 figures are RECORDED earlier on this machine type (issue 12, "
            "TIMINGS.md), not measured in this run (R's mmrm not installed)."
        )
        r_times = dict(R_RECORDED)
    src = "meas." if r_run else "rec."
    print(
        f"{'size':>9} {'rows':>5} | {'fit+coef':>17} | {'fit+contrasts':>17} | "
        f"{'peak':>7} | {'R mmrm':>7} | {'R / ours (cpu; wall)':>24}"
    )
    print(
        f"{'':>9} {'':>5} | {'wall':>8} {'cpu':>8} | {'wall':>8} {'cpu':>8} | {'MiB':>7} | "
        f"{src:>7} | {'fit+coef':>11} {'fit+contr.':>12}"
    )
    results: dict[str, dict[str, float]] = {}
    for n, k in SIZES:
        data = _data(n, k)
        batch = 20 if n <= 20 else 1
        w_fit, c_fit = _batch_time(lambda: run_fit(data), repeats, batch)  # noqa: B023
        w_all, c_all = _batch_time(lambda: run_rehabstats(data), repeats, batch)  # noqa: B023
        peak = _traced_peak_mib(lambda: run_rehabstats(data))  # noqa: B023
        r = r_times.get((n, k))
        r_txt = f"{r[0] * 1000:.0f} ms" if r else "-"
        rat1 = f"{r[0] / c_fit:.2f}; {r[0] / w_fit:.2f}" if r else "-"
        rat2 = f"{r[0] / c_all:.2f}; {r[0] / w_all:.2f}" if r else "-"
        print(
            f"{n:>4} x {k:<2} {len(data):>5} | {w_fit * 1e3:>5.1f} ms {c_fit * 1e3:>5.1f} ms | "
            f"{w_all * 1e3:>5.1f} ms {c_all * 1e3:>5.1f} ms | {peak:>7.1f} | {r_txt:>7} | "
            f"{rat1:>11} {rat2:>12}"
        )
        results[f"{n}x{k}"] = {
            "fit": w_fit,
            "fit_cpu": c_fit,
            "fit_contrasts": w_all,
            "fit_contrasts_cpu": c_all,
            "peak_mib": peak,
        }
    ks = [7, 10, 14]
    slopes = {}
    for kind in ("fit_contrasts", "fit_contrasts_cpu"):
        slopes[kind] = loglog_slope(ks, [results[f"300x{k}"][kind] for k in ks])
    slope = slopes["fit_contrasts_cpu"]
    verdict = "PASS" if slope <= GOAL_SLOPE else "FAIL"
    r_slope_txt = f"{R_SLOPE} (recorded)"
    if r_run and all((300, k) in r_run for k in ks):
        r_slope_txt = f"{loglog_slope(ks, [r_run[(300, k)]['seconds'] for k in ks]):.2f} (measured)"
    print(
        f"visit scaling at 300 subjects (7, 10, 14 visits), fit+contrasts: log-log slope "
        f"{slope:.2f} in CPU time ({slopes['fit_contrasts']:.2f} in wall time); goal <= "
        f"{GOAL_SLOPE}, R mmrm {r_slope_txt}: {verdict}"
    )
    rss = _rss_delta_mib(300, 14)
    r14 = r_times[(300, 14)]
    t14 = results["300x14"]["fit_contrasts_cpu"]
    print(
        f"300 x 14: {t14:.3f} s CPU vs R mmrm {r14[0]:.2f} s ({src}): ratio "
        f"{r14[0] / t14:.2f}x; peak memory {results['300x14']['peak_mib']:.1f} MiB (tracemalloc), "
        f"peak-RSS growth {'n/a' if rss is None else f'{rss:.1f}'} MiB (fresh subprocess, "
        "VmHWM after clear_refs) "
        f"vs R {r14[1]:.0f} MiB ({src}, RSS growth); goal <= 100 MiB"
    )
    kr_peak, kr_rss = kr_memory()
    return {
        "sizes": results,
        "slope": slope,
        "slope_wall": slopes["fit_contrasts"],
        "rss_delta_mib": rss,
        "kr_peak_mib": kr_peak,
        "kr_rss_delta_mib": kr_rss,
    }


def kr_memory() -> tuple[float, float | None]:
    """Peak memory of fit + Kenward-Roger contrasts at 300 x 14 (tracemalloc; peak-RSS growth)."""
    d14 = _data(300, 14)
    run_kr(_data(20, 3))  # imports and caches loaded
    kr_peak = _traced_peak_mib(lambda: run_kr(d14))
    kr_rss = _rss_delta_mib(300, 14, "kr")
    print(
        f"300 x 14 with Kenward-Roger df (fit + contrast at every visit): peak memory "
        f"{kr_peak:.1f} MiB (tracemalloc), peak-RSS growth "
        f"{'n/a' if kr_rss is None else f'{kr_rss:.1f}'} MiB (fresh subprocess) vs R mmrm "
        f"{R_RECORDED[(300, 14)][1]:.0f} MiB (recorded); goal <= 100 MiB: "
        f"{'PASS' if max(kr_peak, kr_rss or 0.0) <= 100 else 'FAIL'}"
    )
    return kr_peak, kr_rss


def main(argv: list[str] | None = None) -> dict[str, float | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=None, help="single size N x 7 against statsmodels / nlme::gls"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (median)")
    parser.add_argument("--no-r", action="store_true", help="skip nlme::gls via Rscript")
    parser.add_argument(
        "--kr-memory", action="store_true", help="only the Kenward-Roger peak memory at 300 x 14"
    )
    args = parser.parse_args(argv)
    if args.kr_memory:
        peak, rss_kr = kr_memory()
        return {"kr_peak_mib": peak, "kr_rss_delta_mib": rss_kr}
    if args.n is not None:
        return legacy_main(args)
    res = suite(args.repeats)
    return {
        "rehabstats": float(res["sizes"]["300x14"]["fit_contrasts"]),
        "slope": float(res["slope"]),
    }


if __name__ == "__main__":
    main()
