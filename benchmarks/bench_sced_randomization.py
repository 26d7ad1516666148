"""Benchmark: single-case randomization tests against scan's ``rand_test`` (ratios).

scan 0.67.1 reference times (../shared/validation/sced/TIMINGS.md, same 2-core machine):

* one A-B series of 30 points, all 21 admissible start points (min. phase length 5),
  mean B - A: 2.25 ms per call (100 calls in a loop: 0.225 s) -> 1,000 calls 2.25 s;
* 3-case multiple-baseline design, 10,000 Monte Carlo start-point draws: 0.589 s;
* same design, exhaustive (16^3 = 4,096 assignments): 0.572 s.

rehabstats is timed on the same inputs (``timing/ab30.csv``, ``timing/mbd_3cases.csv``):

* ``randomization_test`` on ab30 (exhaustive, one call),
* ``randomization_test_batch`` on 1,000 copies of ab30 with different noise
  (1,000 exhaustive A-B tests in one vectorised call) vs 1,000 scan calls,
* ``randomization_test`` on the MBD with ``n_samples=10_000`` and exhaustively.

Goals: >= 30x faster than scan on the MBD Monte Carlo; the 1,000-test batch >= 10x
faster than 1,000 scan calls.

Run: ``python benchmarks/bench_sced_randomization.py`` (``--smoke`` for a quick check
with small sizes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rehabstats.sced._randomization import randomization_test, randomization_test_batch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reference"))
from validation_data import unpack_validation

TIMING_DIR = unpack_validation() / "sced" / "timing"
SCAN_AB30_PER_CALL = 0.00225
SCAN_MBD_MC_10000 = 0.589
SCAN_MBD_EXHAUSTIVE = 0.572


def _median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _load(name: str, fallback: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    path = TIMING_DIR / name
    if path.is_file():
        return pd.read_csv(path)
    return fallback()


def _fallback_ab30() -> pd.DataFrame:
    rng = np.random.default_rng(43)
    return pd.DataFrame(
        {
            "case": "ab30",
            "session": np.arange(1, 31),
            "phase": ["A"] * 10 + ["B"] * 20,
            "outcome": np.r_[rng.normal(50, 10, 10), rng.normal(60, 10, 20)],
        }
    )


def _fallback_mbd() -> pd.DataFrame:
    rng = np.random.default_rng(44)
    rows = []
    for c, start in zip(("c1", "c2", "c3"), (6, 10, 14), strict=True):
        for t in range(1, 26):
            rows.append((c, t, "A" if t < start else "B", rng.normal(10 + 3 * (t >= start))))
    return pd.DataFrame(rows, columns=["case", "session", "phase", "outcome"])


def main(smoke: bool = False) -> dict[str, float]:
    repeats = 2 if smoke else 7
    n_batch = 50 if smoke else 1000
    n_mc = 500 if smoke else 10_000
    ab30 = _load("ab30.csv", _fallback_ab30)
    mbd = _load("mbd_3cases.csv", _fallback_mbd)
    keys = {"outcome": "outcome", "phase": "phase", "session": "session"}
    out: dict[str, float] = {}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = _median_time(lambda: randomization_test(ab30, **keys, min_phase_length=5), repeats)
    out["ab30_single_s"] = single
    print(
        f"A-B series of 30, exhaustive (21 start points): rehabstats {single * 1e3:.2f} ms "
        f"per call, scan {SCAN_AB30_PER_CALL * 1e3:.2f} ms -> "
        f"{SCAN_AB30_PER_CALL / single:.1f}x"
    )

    # 1,000 A-B series of 30 points: ab30 plus independent noise per copy
    y = ab30["outcome"].to_numpy(dtype=float)
    n_a = int((ab30["phase"] == "A").sum())
    rng = np.random.default_rng(2024)
    values = y[None, :] + rng.normal(0, 5, size=(n_batch, y.size))
    batch = _median_time(lambda: randomization_test_batch(values, n_a, min_phase_length=5), repeats)
    scan_batch = SCAN_AB30_PER_CALL * n_batch
    out["ab30_batch_s"] = batch
    out["ab30_batch_ratio"] = scan_batch / batch
    print(
        f"{n_batch} exhaustive A-B tests in one batch: rehabstats {batch * 1e3:.1f} ms, "
        f"scan {n_batch} calls {scan_batch:.2f} s -> {scan_batch / batch:.0f}x (goal >= 10x)"
    )

    mc = _median_time(
        lambda: randomization_test(
            mbd, **keys, case="case", min_phase_length=5, n_samples=n_mc, rng=1
        ),
        repeats,
    )
    scan_mc = SCAN_MBD_MC_10000 * n_mc / 10_000
    out["mbd_mc_s"] = mc
    out["mbd_mc_ratio"] = scan_mc / mc
    print(
        f"3-case MBD, {n_mc} Monte Carlo draws: rehabstats {mc * 1e3:.2f} ms, scan "
        f"{scan_mc:.3f} s -> {scan_mc / mc:.0f}x (goal >= 30x)"
    )

    ex = _median_time(
        lambda: randomization_test(mbd, **keys, case="case", min_phase_length=5), repeats
    )
    out["mbd_exhaustive_s"] = ex
    out["mbd_exhaustive_ratio"] = SCAN_MBD_EXHAUSTIVE / ex
    print(
        f"3-case MBD, exhaustive (4,096 assignments): rehabstats {ex * 1e3:.2f} ms, scan "
        f"{SCAN_MBD_EXHAUSTIVE:.3f} s -> {SCAN_MBD_EXHAUSTIVE / ex:.0f}x"
    )
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small sizes, quick check")
    main(smoke=parser.parse_args().smoke)
