"""Property-based tests of the single-case indices (hypothesis, "ci" profile)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rehabstats import sced
from rehabstats.errors import RehabStatsWarning

ints = st.lists(st.integers(min_value=-20, max_value=20), min_size=2, max_size=12)
distinct_pairs = st.lists(
    st.integers(min_value=-500, max_value=500), min_size=4, max_size=24, unique=True
)


def _mono(x: list[int]) -> list[float]:
    """A strictly increasing transformation that keeps integers exact."""
    return [float(v**3 + 4 * v + 1000) for v in x]


@given(ints, ints)
def test_nap_in_unit_interval_and_ci_contains_it(a: list[int], b: list[int]) -> None:
    res = sced.nap(a, b)
    assert 0 <= res.estimate <= 1
    assert 0 <= res.ci_low <= res.estimate + 1e-12
    assert res.estimate - 1e-12 <= res.ci_high <= 1


@given(distinct_pairs, st.integers(min_value=2, max_value=10))
def test_tau_is_2nap_minus_1_and_mean_sign_without_ties(values: list[int], m: int) -> None:
    assume(m <= len(values) - 2)
    a, b = values[:m], values[m:]
    tau = sced.tau(a, b).estimate
    assert tau == pytest.approx(2 * sced.nap(a, b).estimate - 1)
    signs = np.sign(np.subtract.outer(np.array(b), np.array(a)))
    assert tau == pytest.approx(signs.mean())


@given(ints, ints)
def test_reversing_improvement_mirrors(a: list[int], b: list[int]) -> None:
    for name in ("tau", "tau_u"):
        inc = sced.INDICES[name](a, b).estimate
        dec = sced.INDICES[name](a, b, improvement="decrease").estimate
        assert dec == pytest.approx(-inc)
    assert sced.nap(a, b, improvement="decrease").estimate == pytest.approx(
        1 - sced.nap(a, b).estimate
    )
    assume(np.var(a) > 0)
    inc = sced.smd(a, b)
    dec = sced.smd(a, b, improvement="decrease")
    assert dec.estimate == pytest.approx(-inc.estimate)
    assert dec.se == pytest.approx(inc.se)


@given(ints, ints)
def test_reversing_improvement_mirrors_ratio_measures(a: list[int], b: list[int]) -> None:
    pa = [abs(v) + 1.0 for v in a]
    pb = [abs(v) + 1.0 for v in b]
    for name in ("lrri", "lrm"):
        inc = sced.INDICES[name](pa, pb).estimate
        dec = sced.INDICES[name](pa, pb, improvement="decrease").estimate
        assert dec == pytest.approx(-inc)
    pct_a = [min(abs(v) * 5.0, 100.0) for v in a]
    pct_b = [min(abs(v) * 5.0, 100.0) for v in b]
    inc = sced.lor(pct_a, pct_b, intervals=20).estimate
    assert sced.lor(pct_a, pct_b, intervals=20, improvement="decrease").estimate == pytest.approx(
        -inc
    )


@given(ints, ints, st.sampled_from(["increase", "decrease"]))
def test_rank_indices_invariant_to_monotone_transforms(
    a: list[int], b: list[int], improvement: str
) -> None:
    # (PEM is not: with an even baseline its median averages two values.)
    ta, tb = _mono(a), _mono(b)
    for name in ("nap", "tau", "pnd", "pand", "ird", "tau_u"):
        f = sced.INDICES[name]
        assert f(ta, tb, improvement=improvement).estimate == pytest.approx(
            f(a, b, improvement=improvement).estimate
        ), name
    assert sced.pand(ta, tb, method="sort", improvement=improvement).estimate == pytest.approx(
        sced.pand(a, b, method="sort", improvement=improvement).estimate
    )


@given(ints, ints, st.floats(min_value=-1e3, max_value=1e3), st.floats(min_value=0.1, max_value=50))
def test_smd_invariant_to_shift_and_scale(
    a: list[int], b: list[int], shift: float, scale: float
) -> None:
    assume(np.var(a) > 0)
    ref = sced.smd(a, b)
    moved = sced.smd([v * scale + shift for v in a], [v * scale + shift for v in b])
    assert moved.estimate == pytest.approx(ref.estimate, rel=1e-9, abs=1e-9)
    assert moved.se == pytest.approx(ref.se, rel=1e-9, abs=1e-9)


@given(ints, ints)
def test_tau_bc_equals_tau_when_baseline_is_flat_after_correction(
    a: list[int], b: list[int]
) -> None:
    # Adding a linear trend to all sessions leaves Tau-BC unchanged (Theil-Sen is equivariant)
    # in exact arithmetic; where a baseline and a treatment residual tie exactly, rounding
    # decides the tie differently in the two series, so such data are left out.
    from fractions import Fraction
    from statistics import median

    m, n = len(a), len(b)
    if m >= 2:
        sl = median(Fraction(a[j] - a[i], j - i) for i in range(m) for j in range(i + 1, m))
        ra = [Fraction(v) - sl * (i + 1) for i, v in enumerate(a)]
        rb = [Fraction(v) - sl * (m + i + 1) for i, v in enumerate(b)]
        assume(all(x != y for x in ra for y in rb))
    slope = 2.0
    ta = [v + slope * (i + 1) for i, v in enumerate(a)]
    tb = [v + slope * (m + i + 1) for i, v in enumerate(b)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        ref = sced.tau_bc(a, b, ci=None)
        trended = sced.tau_bc(ta, tb, ci=None)
    assert trended.estimate == pytest.approx(ref.estimate)
    assert n == len(tb)
