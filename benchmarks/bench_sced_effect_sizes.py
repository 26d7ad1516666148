"""Benchmark: rs.sced.effect_sizes on 1,000 A-B series vs SingleCaseES batch_calc_ES.

Reference time (``../shared/validation/sced/TIMINGS.md``): SingleCaseES 0.7.4
``batch_calc_ES`` with ES = NAP, Tau, Tau_U, Tau_BC, SMD, LRRi over the same
1,000 series (10 + 15 sessions, counts), median 6.63 s on the project's 2-core
machine. Goal: at least 30 times faster.

Run: ``python benchmarks/bench_sced_effect_sizes.py [--series N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from rehabstats import sced

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reference"))
from validation_data import unpack_validation

VALIDATION = unpack_validation() / "sced"
DATA = VALIDATION / "timing" / "ab_1000_series_10_15.csv"
R_SECONDS = 6.63  # SingleCaseES batch_calc_ES, 6 indices, 1,000 series (TIMINGS.md)
INDICES = ("nap", "tau", "tau_u", "tau_bc", "smd", "lrri")


def load(n_series: int | None = None) -> pd.DataFrame:
    """The timing data set (optionally only its first ``n_series`` series)."""
    data = pd.read_csv(DATA)
    if n_series is not None:
        keep = data["series"].drop_duplicates().iloc[:n_series]
        data = data[data["series"].isin(keep)]
    return data


def run(data: pd.DataFrame) -> pd.DataFrame:
    """The timed call."""
    return sced.effect_sizes(
        data,
        outcome="outcome",
        phase="phase",
        session="session",
        case="series",
        indices=INDICES,
        improvement="increase",
        scale="count",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=None, help="use only the first N series")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = load(args.series)
    run(data)  # warm-up (imports, caches)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        out = run(data)
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    n = data["series"].nunique()
    print(f"rs.sced.effect_sizes, {n} series x {len(INDICES)} indices -> {len(out)} rows")
    print(
        f"median {med:.4f} s (min {min(times):.4f}, max {max(times):.4f}) over {args.repeats} runs"
    )
    if n == 1000:
        print(
            f"SingleCaseES batch_calc_ES: {R_SECONDS:.2f} s -> {R_SECONDS / med:.1f}x faster "
            f"(goal >= 30x)"
        )


if __name__ == "__main__":
    main()
