"""Benchmark: rs.sced.bc_smd on a 5-case multiple baseline vs scdhlm's calc_BCSMD.

Data: Rodriguez & Anderson (2014), 5 cases, 148 sessions, bundled in scdhlm
(``../shared/validation/bcsmd/datasets/Rodriguez.csv``). Models: scdhlm's
default (random intercepts, fixed level shift, AR(1) errors; "M1") and the
random-shift model ("M3", ``re_trt=0``).

Reference times: the issue records scdhlm ``calc_BCSMD`` at 0.03-0.09 s per
design (R 4.2, scdhlm 0.7.4). ``tests/reference/bcsmd/time_lme_gmlm.R`` times
its REML core (``nlme::lme`` + ``lmeInfo::g_mlm``) on the same data on this
machine; pass its medians with ``--r-m1`` / ``--r-m3`` to get same-machine
ratios.

Run: ``python benchmarks/bench_bcsmd.py [--repeats R] [--r-m1 S] [--r-m3 S]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

from rehabstats import sced

_REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_REPO / "tests" / "reference"))
try:  # the vendored validation archive, once merged
    from validation_data import unpack_validation

    VALIDATION = unpack_validation()
except ImportError:  # pragma: no cover - developer checkout beside ../shared
    VALIDATION = _REPO.parent / "shared" / "validation"
DATA = VALIDATION / "bcsmd" / "datasets" / "Rodriguez.csv"
R_RECORDED = (0.03, 0.09)  # scdhlm calc_BCSMD per design (issue 9)


def run(data: pd.DataFrame, model: str) -> sced.BCSMDResult:
    """The timed call."""
    extra = {"re_trt": 0} if model == "M3" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sced.bc_smd(
            data,
            outcome="outcome",
            phase="condition",
            session="session",
            case="case",
            treatment_phase="B",
            **extra,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--r-m1", type=float, default=None, help="same-machine R median, M1")
    parser.add_argument("--r-m3", type=float, default=None, help="same-machine R median, M3")
    args = parser.parse_args()
    data = pd.read_csv(DATA)
    for model, r_same in (("M1", args.r_m1), ("M3", args.r_m3)):
        res = run(data, model)  # warm-up
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run(data, model)
            times.append(time.perf_counter() - start)
        med = statistics.median(times)
        lo, hi = R_RECORDED
        print(
            f"{model}: g_AB = {res.estimate:.6f}; median {med:.4f} s "
            f"(min {min(times):.4f}, max {max(times):.4f}) over {args.repeats} runs"
        )
        print(f"    vs scdhlm recorded {lo}-{hi} s: {lo / med:.1f}x - {hi / med:.1f}x faster")
        if r_same is not None:
            print(
                f"    vs lme + g_mlm on this machine ({r_same:.4f} s): {r_same / med:.1f}x faster"
            )


if __name__ == "__main__":
    main()
