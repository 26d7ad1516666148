"""Benchmark: single-case indices on an ``(n_series, n)`` pair of arrays with ``axis=1``.

``rs.sced.nap(baseline, treatment, axis=1)`` (and Tau-U, SMD, LRRi) on 1,000 A-B
series of 10 + 15 counts, against the same indices called once per series
(the loop a user would otherwise write; both measured in this run). The
SingleCaseES reference for the six-index batch over 1,000 such series,
``batch_calc_ES``, is 6.63 s on the project's machine (recorded in
``tests/reference/validation.tar.xz``: ``sced/TIMINGS.md``; R is not run here).

Run: ``python benchmarks/bench_sced_axis.py``
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from rehabstats import sced

INDICES = ("nap", "tau", "tau_u", "tau_bc", "smd", "lrri")
R_SECONDS = 6.63  # SingleCaseES batch_calc_ES, 6 indices, 1,000 series (TIMINGS.md)


def main(n_series: int = 1_000, n_loop: int = 100, seed: int = 7) -> dict[str, Any]:
    """Time the axis= calls and a per-series loop; print the ratios."""
    rng = np.random.default_rng(seed)
    a = rng.poisson(5.0, size=(n_series, 10)).astype(float) + 1.0
    b = rng.poisson(9.0, size=(n_series, 15)).astype(float) + 1.0
    for name in INDICES:  # warm-up
        getattr(sced, name)(a[:5], b[:5], axis=1)
    t0 = time.perf_counter()
    for name in INDICES:
        getattr(sced, name)(a, b, axis=1)
    t_axis = time.perf_counter() - t0
    n_loop = min(n_loop, n_series)
    t0 = time.perf_counter()
    for name in INDICES:
        f = getattr(sced, name)
        for i in range(n_loop):
            f(a[i], b[i])
    t_loop = (time.perf_counter() - t0) * n_series / n_loop
    print(f"series: {n_series:,} (10 + 15 sessions), indices: {', '.join(INDICES)}")
    print(f"rehabstats axis=1 calls: {t_axis:.3f} s")
    print(
        f"rehabstats one call per series (timed on {n_loop}, scaled): {t_loop:.3f} s "
        f"-> ratio {t_loop / t_axis:.1f}x"
    )
    print(
        f"SingleCaseES batch_calc_ES (recorded, {R_SECONDS} s) / axis calls: "
        f"{R_SECONDS / t_axis:.1f}x"
    )
    return {
        "seconds_axis": t_axis,
        "seconds_loop": t_loop,
        "ratio_loop": t_loop / t_axis,
        "ratio_singlecasees_recorded": R_SECONDS / t_axis,
    }


if __name__ == "__main__":
    main()
