"""Benchmark: Hedges' g and Cliff's delta with CIs for many pairs of samples.

rehabstats computes all pairs in one public call, scipy style:
``rs.effect_sizes.hedges_g(x, y, axis=1)`` (exact J and the noncentral-t interval,
element i equal to ``hedges_g(x[i], y[i])``) and ``cliffs_delta(x, y, axis=1)``
(effectsize's Fisher-z interval). pingouin has no batch interface, so it is looped:

* the peer of issue 12: ``compute_effsize(eftype="hedges")`` alone (pingouin gives
  no interval there), against ``hedges_g(x, y, axis=1)`` *with* its interval;
* the like-for-like loop of the earlier benchmark: ``compute_effsize`` +
  ``compute_esci`` for Hedges' g and for the CLES (pingouin has no Cliff's delta
  interval; ``eftype="r"`` is the closest equivalent work), against both
  rehabstats calls.

pingouin is timed on a subset of pairs (``n_loop``, 2,000 by default) and scaled
linearly to ``n_pairs``; the printed ratios are pingouin's scaled time over
rehabstats' time, measured in the same run (both suffer the same machine load),
after a warm-up call of each (imports and first-call costs are not timed).

Run: ``python benchmarks/bench_effect_sizes.py``
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

import rehabstats as rs


def _rehabstats_batch(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    t0 = time.perf_counter()
    g = rs.effect_sizes.hedges_g(x, y, axis=1)
    t_g = time.perf_counter() - t0
    t0 = time.perf_counter()
    cliff = rs.effect_sizes.cliffs_delta(x, y, axis=1)
    t_c = time.perf_counter() - t0
    return {"g": g, "cliff": cliff, "seconds_g": t_g, "seconds_cliff": t_c}


def _pingouin_effsize_loop(x: np.ndarray, y: np.ndarray) -> None:
    import pingouin as pg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for xi, yi in zip(x, y, strict=True):
            pg.compute_effsize(xi, yi, eftype="hedges")


def _pingouin_loop(x: np.ndarray, y: np.ndarray) -> None:
    import pingouin as pg

    nx, ny = x.shape[1], y.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for xi, yi in zip(x, y, strict=True):
            g = pg.compute_effsize(xi, yi, eftype="hedges")
            pg.compute_esci(stat=g, nx=nx, ny=ny, eftype="hedges", decimals=12)
            cles = pg.compute_effsize(xi, yi, eftype="CLES")
            pg.compute_esci(stat=2 * cles - 1, nx=nx + ny, eftype="r", decimals=12)


def main(
    n_pairs: int = 100_000, n_loop: int = 2_000, n_per_group: int = 10, seed: int = 2024
) -> dict[str, Any]:
    """Time both libraries and print the speed ratios; returns the timings."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.5, 1.0, size=(n_pairs, n_per_group))
    y = rng.normal(0.0, 1.0, size=(n_pairs, n_per_group))

    # warm up: imports (scipy.stats, pingouin) and first-call costs stay out of the timings
    _rehabstats_batch(x[:50], y[:50])
    _pingouin_loop(x[:2], y[:2])
    out = _rehabstats_batch(x, y)
    t_rs = out["seconds_g"] + out["seconds_cliff"]

    n_loop = min(n_loop, n_pairs)
    scale = n_pairs / n_loop
    t0 = time.perf_counter()
    _pingouin_effsize_loop(x[:n_loop], y[:n_loop])
    t_pg_g = (time.perf_counter() - t0) * scale
    t0 = time.perf_counter()
    _pingouin_loop(x[:n_loop], y[:n_loop])
    t_pg = (time.perf_counter() - t0) * scale

    ratio_g = t_pg_g / out["seconds_g"]
    ratio = t_pg / t_rs
    print(f"pairs: {n_pairs:,} ({n_per_group} vs {n_per_group})")
    print(
        f"rehabstats hedges_g(x, y, axis=1) with CI: {out['seconds_g']:.3f} s; "
        f"cliffs_delta(x, y, axis=1) with CI: {out['seconds_cliff']:.3f} s"
    )
    print(
        f"pingouin compute_effsize('hedges') loop, no CI (timed on {n_loop:,} pairs, "
        f"scaled x{scale:g}): {t_pg_g:.3f} s"
    )
    print(f"ratio pingouin effsize loop / rehabstats hedges_g batch: {ratio_g:.1f}x (goal >= 20x)")
    print(f"pingouin effsize + esci loop for g and CLES: {t_pg:.3f} s")
    print(f"ratio pingouin / rehabstats (g and Cliff's delta, with CIs): {ratio:.1f}x")
    g = out["g"]
    assert np.all(g.ci_low < g.estimate)
    assert np.all(g.estimate < g.ci_high)
    return {
        "n_pairs": n_pairs,
        "n_loop": n_loop,
        "seconds_rehabstats": t_rs,
        "seconds_hedges_g": out["seconds_g"],
        "seconds_cliffs_delta": out["seconds_cliff"],
        "seconds_pingouin_effsize_scaled": t_pg_g,
        "seconds_pingouin_scaled": t_pg,
        "ratio_hedges_g": ratio_g,
        "ratio": ratio,
    }


if __name__ == "__main__":
    main()
