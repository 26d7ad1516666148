"""Benchmark: 1,000 random-effects meta-analyses of k = 10 studies, as a simulation runs them.

rehabstats: ``rs.meta.meta_analysis_batch`` (REML by metafor's Fisher scoring, z test,
Q-profile tau^2 / I^2 interval by a vectorised Brent search, prediction interval) for all
meta-analyses at once. For reference also ``rs.meta.meta_analysis`` in a Python loop.

Peer: a loop of statsmodels ``combine_effects`` (``method_re="iterated"``, Paule-Mandel;
statsmodels has no REML and no tau^2 interval, so the peer does less work) with
``conf_int()``. The printed ratio is statsmodels' time over rehabstats' batch time.

Run: ``python benchmarks/bench_meta.py``
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

import rehabstats as rs


def simulate(n_meta: int, k: int, seed: int = 2026) -> tuple[np.ndarray, np.ndarray]:
    """SMD-like studies: n per arm 10-60, true tau^2 0.05."""
    rng = np.random.default_rng(seed)
    n = rng.integers(10, 61, size=(n_meta, k))
    vi = 2.0 / n + 0.3**2 / (4.0 * n)
    yi = rng.normal(0.3, np.sqrt(vi + 0.05))
    return yi, vi


def _best(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(
    n_meta: int = 1000, k: int = 10, n_loop: int | None = None, repeat: int = 3
) -> dict[str, Any]:
    """Time the batch, the single-fit loop and statsmodels; print and return the ratios."""
    yi, vi = simulate(n_meta, k)
    n_loop = n_meta if n_loop is None else min(n_loop, n_meta)

    def batch() -> None:
        rs.meta.meta_analysis_batch(yi, vi, method="REML", test="z", tau2_ci=True)

    def single_loop() -> None:
        for b in range(n_loop):
            rs.meta.meta_analysis(yi[b], vi[b], method="REML")

    def statsmodels_loop() -> None:
        from statsmodels.stats.meta_analysis import combine_effects

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for b in range(n_loop):
                res = combine_effects(yi[b], vi[b], method_re="iterated")
                res.conf_int()

    t_batch = _best(batch, repeat)
    t_single = _best(single_loop, 1) * n_meta / n_loop
    t_sm = _best(statsmodels_loop, 1) * n_meta / n_loop
    out = {
        "n_meta": n_meta,
        "k": k,
        "batch_s": t_batch,
        "single_loop_s": t_single,
        "statsmodels_s": t_sm,
        "ratio": t_sm / t_batch,
        "ratio_single": t_sm / t_single,
    }
    print(f"{n_meta} meta-analyses of k = {k} (REML + Q-profile CI + prediction interval)")
    print(f"  rehabstats meta_analysis_batch : {t_batch * 1e3:9.1f} ms")
    print(f"  rehabstats meta_analysis loop  : {t_single * 1e3:9.1f} ms")
    print(f"  statsmodels combine_effects loop (PM, no tau2 CI): {t_sm * 1e3:9.1f} ms")
    print(
        f"  ratio statsmodels / rehabstats batch: {out['ratio']:.1f}x; "
        f"statsmodels / rehabstats loop: {out['ratio_single']:.2f}x"
    )
    return out


if __name__ == "__main__":
    main()
