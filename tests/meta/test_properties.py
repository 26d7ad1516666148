"""Invariants of rs.meta (hypothesis) and batch = one-by-one."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import rehabstats as rs
from rehabstats.errors import RehabStatsWarning

METHODS = ["EE", "DL", "REML", "ML", "PM", "HE", "SJ"]


@st.composite
def studies(draw: st.DrawFn, min_k: int = 2, max_k: int = 9) -> tuple[np.ndarray, np.ndarray]:
    k = draw(st.integers(min_k, max_k))
    yi = draw(st.lists(st.floats(-3, 3, allow_nan=False), min_size=k, max_size=k))
    vi = draw(st.lists(st.floats(0.005, 2.0, allow_nan=False), min_size=k, max_size=k))
    return np.array(yi), np.array(vi)


def _fit(yi: np.ndarray, vi: np.ndarray, **kw: object) -> rs.meta.MetaAnalysisResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        return rs.meta.meta_analysis(yi, vi, **kw)  # type: ignore[arg-type]


@given(studies(), st.sampled_from(METHODS), st.randoms(use_true_random=False))
def test_order_invariance(data: tuple[np.ndarray, np.ndarray], method: str, rnd: object) -> None:
    yi, vi = data
    perm = np.arange(yi.size)
    rnd.shuffle(perm)  # type: ignore[attr-defined]
    a, b = _fit(yi, vi, method=method), _fit(yi[perm], vi[perm], method=method)
    # ML/REML stop at a threshold; the permuted sums differ in rounding only
    for attr in ("estimate", "se", "tau2", "q", "i2", "pi_low", "tau2_ci_high"):
        assert_allclose(getattr(a, attr), getattr(b, attr), rtol=1e-7, atol=1e-10)
    assert_allclose(a.weights[perm], b.weights, rtol=1e-7, atol=1e-10)


@given(studies(), st.sampled_from(METHODS))
def test_bounds(data: tuple[np.ndarray, np.ndarray], method: str) -> None:
    yi, vi = data
    res = _fit(yi, vi, method=method)
    assert res.tau2 >= 0
    # a weighted mean with positive weights lies within the study effects
    assert yi.min() - 1e-12 <= res.estimate <= yi.max() + 1e-12
    assert (res.weights > 0).all()
    assert_allclose(res.weights.sum(), 100.0, rtol=1e-12)
    assert 0 <= res.i2 <= 100
    if method != "EE":  # metafor's common-effect H^2 is Q / (k - 1), which can be below 1
        assert res.h2 >= 1 - 1e-12
    assert res.ci_low <= res.estimate <= res.ci_high
    assert res.pi_low <= res.ci_low + 1e-12
    assert res.pi_high >= res.ci_high - 1e-12
    if method != "EE":
        assert res.tau2_ci_low <= res.tau2_ci_high
        assert res.tau2_ci_low - 1e-9 <= res.tau2 or res.tau2_ci_low == 0 or method != "REML"


@given(studies(), st.sampled_from(METHODS), st.floats(-5, 5), st.floats(0.2, 5))
def test_location_scale(
    data: tuple[np.ndarray, np.ndarray], method: str, shift: float, scale: float
) -> None:
    """Shifting effects shifts the estimate; scaling effects and SEs scales it (tau2 by c^2).

    (EE, DL, HE, SJ and the Q-statistic are exactly equivariant; REML/ML/PM up to their
    stopping tolerances, which are absolute in tau2.)
    """
    yi, vi = data
    a = _fit(yi, vi, method=method)
    b = _fit(yi + shift, vi, method=method)
    assert_allclose(b.estimate, a.estimate + shift, rtol=1e-6, atol=1e-6)
    if method in ("EE", "DL", "HE", "SJ"):
        c = _fit(yi * scale, vi * scale**2, method=method)
        assert_allclose(c.estimate, a.estimate * scale, rtol=1e-9, atol=1e-12)
        assert_allclose(c.tau2, a.tau2 * scale**2, rtol=1e-9, atol=1e-12)
        assert_allclose(c.q, a.q, rtol=1e-9, atol=1e-12)


@given(
    st.lists(
        st.tuples(
            st.floats(0, 100),
            st.floats(0.5, 30),
            st.integers(3, 60),
            st.floats(0, 100),
            st.floats(0.5, 30),
            st.integers(3, 60),
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["MD", "SMD"]),
)
def test_swapping_arms_flips_the_sign(rows: list[tuple[float, ...]], measure: str) -> None:
    m1, s1, n1, m2, s2, n2 = (list(x) for x in zip(*rows, strict=True))
    a = rs.meta.study_effects(None, measure, mean_t=m1, sd_t=s1, n_t=n1, mean_c=m2, sd_c=s2, n_c=n2)
    b = rs.meta.study_effects(None, measure, mean_t=m2, sd_t=s2, n_t=n2, mean_c=m1, sd_c=s1, n_c=n1)
    assert_allclose(a["yi"], -b["yi"], rtol=1e-12, atol=1e-12)
    assert_allclose(a["vi"], b["vi"], rtol=1e-12)


@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(1, 30), st.integers(0, 30), st.integers(1, 30)),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["RR", "OR", "RD"]),
)
def test_swapping_arms_flips_binary(rows: list[tuple[int, int, int, int]], measure: str) -> None:
    a_ev, extra_t, c_ev, extra_c = (np.array(x) for x in zip(*rows, strict=True))
    n_t, n_c = a_ev + extra_t, c_ev + extra_c
    a = rs.meta.study_effects(None, measure, events_t=a_ev, n_t=n_t, events_c=c_ev, n_c=n_c)
    b = rs.meta.study_effects(None, measure, events_t=c_ev, n_t=n_c, events_c=a_ev, n_c=n_t)
    assert_allclose(a["yi"], -b["yi"], rtol=1e-12, atol=1e-12)
    assert_allclose(a["vi"], b["vi"], rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", ["z", "hksj"])
def test_batch_equals_one_by_one(method: str, test: str) -> None:
    rng = np.random.default_rng(20261201)
    vi = rng.uniform(0.01, 0.3, size=(25, 6))
    yi = rng.normal(0.4, np.sqrt(vi + rng.choice([0.0, 0.05, 0.3], size=(25, 1))))
    yi[3] = 0.2  # identical studies: tau2 = 0, Q = 0
    common_hksj = test == "hksj" and method in ("EE", "FE")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RehabStatsWarning)
        batch = rs.meta.meta_analysis_batch(yi, vi, method=method, test=test)
    # only HKSJ with a common-effect model may warn (as metafor does), and HKSJ on the row of
    # identical studies (scale factor 0: a zero SE, stated in a warning)
    zero_scale = [w for w in caught if "HKSJ scale factor is 0" in str(w.message)]
    assert zero_scale if test == "hksj" else not zero_scale
    assert len(caught) == len(zero_scale) or common_hksj
    cols = [c for c in batch.columns if c not in ("k", "method", "test", "converged")]
    for b in range(yi.shape[0]):
        with warnings.catch_warnings():
            if test == "hksj":
                warnings.simplefilter("ignore", RehabStatsWarning)
            one = rs.meta.meta_analysis(yi[b], vi[b], method=method, test=test).to_frame()
        for c in cols:
            assert_allclose(
                batch[c].iloc[b], one[c].iloc[0], rtol=1e-12, atol=1e-14, err_msg=f"row {b}, {c}"
            )
    assert batch["converged"].all()


def test_forest_plot_of_a_meta_analysis() -> None:
    es = rs.meta.study_effects(
        None,
        "OR",
        study=["A", "B", "C"],
        events_t=[4, 10, 7],
        n_t=[30, 40, 35],
        events_c=[9, 14, 12],
        n_c=[30, 41, 33],
    )
    res = rs.meta.meta_analysis(es, method="REML", test="hksj")
    fig = res.forest()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[:3] == ["A", "B", "C"]
    assert labels[3].startswith("Random effects")
    assert fig.axes[0].get_xscale() == "log"  # OR drawn on the ratio scale
    right = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert right[-2].endswith("100%")
    assert "%" in right[0]
    fig2 = rs.plot.forest(res, xlabel="Odds ratio")
    assert fig2.axes[0].get_xlabel() == "Odds ratio"
    with pytest.raises(rs.DataError, match="one label per study"):
        res.forest(labels=["x"])


def test_summary_and_frames() -> None:
    es = rs.meta.study_effects(
        None, "RR", events_t=[4, 10, 7], n_t=[30, 40, 35], events_c=[9, 14, 12], n_c=[30, 41, 33]
    )
    res = rs.meta.meta_analysis(es, method="DL")
    text = res.summary()
    assert "Random-Effects Model (k = 3; tau^2 estimator: DL" in text
    assert "Q(df = 2)" in text
    assert "Exponentiated (RR)" in text
    assert list(res.to_frame().columns)[:4] == ["method", "test", "k", "estimate"]
    assert_allclose(res.to_frame(exp=True)["estimate"].iloc[0], np.exp(res.estimate), rtol=1e-15)
    assert_allclose(res.estimate_exp, np.exp(res.estimate), rtol=1e-15)
    assert res.studies()["weight"].sum() == pytest.approx(100.0)
    assert "MetaAnalysisResult" in repr(res)
    assert "<table" in res._repr_html_()
    ee = rs.meta.meta_analysis(es, method="FE")
    assert ee.method == "EE"
    assert ee.summary().startswith("Common-Effect Model")


@given(st.one_of(st.just(0.0), st.floats(1e-290, 10.0)), st.floats(-1e6, 1e3))
def test_step_halving_equals_metafors_loop(tau2: float, adj: float) -> None:
    """The loop-free step halving of the Fisher scoring equals metafor's while loop.

    (Exact for normal floats; in the subnormal range, below 1e-307, repeated halving rounds
    at every step and may differ from one exact scaling in the last bit.)
    """
    from rehabstats.meta._core import _halve_to_nonnegative

    expected = adj
    while tau2 + expected < 0:
        expected /= 2
    got = _halve_to_nonnegative(np.array([tau2]), np.array([adj]))[0]
    assert got == expected or (got == 0 and expected == 0)
