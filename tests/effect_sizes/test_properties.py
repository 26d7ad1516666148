"""Property tests (hypothesis, derandomised "ci" profile from tests/conftest.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import rehabstats.effect_sizes as es

# integer-valued samples keep means and SDs exact enough for 1e-9 comparisons
sample = st.lists(st.integers(-40, 40), min_size=2, max_size=15).map(
    lambda v: np.asarray(v, dtype=float)
)
shift = st.integers(-1000, 1000)


def _varies(x: np.ndarray, y: np.ndarray) -> bool:
    return bool(np.ptp(x) > 0 or np.ptp(y) > 0)


@given(sample, sample)
def test_sign_flips_when_groups_swap(x, y):
    assume(_varies(x, y))
    for fn in (es.cohens_d, es.hedges_g):
        a, b = fn(x, y), fn(y, x)
        assert_allclose(
            [b.estimate, b.ci_low, b.ci_high],
            [-a.estimate, -a.ci_high, -a.ci_low],
            rtol=1e-9,
            atol=1e-9,
        )
    c, d = es.cliffs_delta(x, y), es.cliffs_delta(y, x)
    assert_allclose(
        [d.estimate, d.ci_low, d.ci_high],
        [-c.estimate, -c.ci_high, -c.ci_low],
        rtol=1e-12,
        atol=1e-12,
    )


@given(sample, sample, shift)
def test_invariant_to_shifting_both_samples(x, y, k):
    assume(_varies(x, y))
    for fn in (es.cohens_d, es.hedges_g, es.cliffs_delta):
        a, b = fn(x, y), fn(x + k, y + k)
        assert_allclose(
            [b.estimate, b.ci_low, b.ci_high],
            [a.estimate, a.ci_low, a.ci_high],
            rtol=1e-9,
            atol=1e-9,
        )


@given(sample, sample)
def test_g_smaller_than_d(x, y):
    assume(_varies(x, y))
    d, g = es.cohens_d(x, y), es.hedges_g(x, y)
    if d.estimate == 0:
        assert g.estimate == 0
    else:
        assert abs(g.estimate) < abs(d.estimate)


@given(sample, sample, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_ci_contains_estimate(x, y, level):
    assume(_varies(x, y))
    for res in (
        es.cohens_d(x, y, ci=level),
        es.hedges_g(x, y, ci=level),
        es.cohens_d(x, y, ci=level, pooled_sd=False),
    ):
        assert res.ci_low < res.estimate < res.ci_high
    if np.ptp(y) > 0:
        gd = es.glass_delta(x, y, ci=level)
        assert gd.ci_low < gd.estimate < gd.ci_high
    cd = es.cliffs_delta(x, y, ci=level)
    assert cd.ci_low <= cd.estimate <= cd.ci_high


@given(sample, sample)
def test_cliffs_delta_bounded_and_prob_superiority(x, y):
    cd = es.cliffs_delta(x, y)
    assert -1.0 <= cd.ci_low <= cd.estimate <= cd.ci_high <= 1.0
    ps = es.prob_superiority(x, y)
    assert_allclose(
        [ps.estimate, ps.ci_low, ps.ci_high],
        [(cd.estimate + 1) / 2, (cd.ci_low + 1) / 2, (cd.ci_high + 1) / 2],
        rtol=1e-15,
        atol=1e-15,
    )
    # Cliff's delta is P(X > Y) - P(X < Y) by brute force
    diff = np.sign(x[:, None] - y[None, :])
    assert_allclose(cd.estimate, diff.mean(), rtol=1e-12, atol=1e-15)


@given(sample, st.integers(1, 20))
def test_paired_d_scale_invariant(x, scale):
    y = x[::-1] + np.arange(x.size)
    assume(np.ptp(x - y) > 0)
    a, b = es.cohens_d(x, y, paired=True), es.cohens_d(scale * x, scale * y, paired=True)
    assert_allclose(
        [b.estimate, b.ci_low, b.ci_high], [a.estimate, a.ci_low, a.ci_high], rtol=1e-9, atol=1e-12
    )
