"""Batch cores equal the public functions; result objects render; NNT wording."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import rehabstats.effect_sizes as es
from rehabstats._results import EffectSizeResult
from rehabstats.effect_sizes._binary import _newcombe_core
from rehabstats.effect_sizes._intervals import ncp_limits
from rehabstats.effect_sizes._nonparametric import _cliffs_delta_core
from rehabstats.effect_sizes._standardized import _hedges_g_core
from rehabstats.errors import RehabStatsWarning


def test_hedges_core_equals_public_function():
    rng = np.random.default_rng(7)
    x = rng.normal(0.5, 1.0, size=(40, 8))
    y = rng.normal(0.0, 1.3, size=(40, 11))
    out = _hedges_g_core(x.mean(1), x.std(1, ddof=1), 8, y.mean(1), y.std(1, ddof=1), 11)
    for i in range(40):
        res = es.hedges_g(x[i], y[i])
        assert_allclose(
            [out["estimate"][i], out["se"][i], out["ci_low"][i], out["ci_high"][i]],
            [res.estimate, res.se, res.ci_low, res.ci_high],
            rtol=1e-12,
        )


def test_cliffs_core_equals_public_function_with_ties():
    rng = np.random.default_rng(8)
    x = rng.integers(0, 5, size=(30, 7)).astype(float)
    y = rng.integers(0, 5, size=(30, 9)).astype(float)
    out = _cliffs_delta_core(x, y)
    for i in range(30):
        res = es.cliffs_delta(x[i], y[i])
        assert_allclose(
            [out["estimate"][i], out["ci_low"][i], out["ci_high"][i]],
            [res.estimate, res.ci_low, res.ci_high],
            rtol=1e-12,
            atol=1e-15,
        )


def test_newcombe_core_vectorised():
    rd, lo, hi = _newcombe_core([12, 3, 0], [20, 15, 10], [5, 7, 3], [20, 16, 12])
    for i, args in enumerate([(12, 20, 5, 20), (3, 15, 7, 16), (0, 10, 3, 12)]):
        res = es.risk_difference(*args)
        assert_allclose([rd[i], lo[i], hi[i]], [res.estimate, res.ci_low, res.ci_high], rtol=1e-14)


def test_ncp_limits_solve_the_defining_equations():
    from scipy import special

    t = np.array([-30.0, -2.5, 0.0, 0.3, 4.0, 12.0, 45.0])
    df = np.array([4.0, 9.0, 18.0, 2.5, 58.0, 7.0, 3.0])
    lo, hi = ncp_limits(t, df, 0.9)
    assert_allclose(special.nctdtr(df, lo, t), 0.95, rtol=0, atol=1e-12)
    assert_allclose(special.nctdtr(df, hi, t), 0.05, rtol=0, atol=1e-12)
    # t = 0 gives limits symmetric about zero
    assert_allclose(lo[2], -hi[2], rtol=1e-12)


def test_result_frame_and_summary():
    res = es.hedges_g([5, 6, 7, 8, 9], [3, 4, 5, 6, 7])
    assert isinstance(res, EffectSizeResult)
    frame = res.to_frame()
    assert list(frame.columns) == [
        "measure",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "ci_level",
        "ci_method",
        "n_x",
        "n_y",
        "n",
        "n_omitted",
    ]
    assert res.summary().startswith("hedges_g = 1.142 (SE 0.682) [95% CI ")
    assert "<table" in res._repr_html_()


def test_nnt_benefit_harm_and_infinity():
    benefit = es.nnt(18, 20, 5, 20)  # responders: clear benefit
    assert benefit.estimate > 0
    assert not benefit.details["ci_through_infinity"]
    assert 0 < benefit.ci_low <= benefit.estimate <= benefit.ci_high
    assert benefit.details["label"] == "NNTB"
    assert "NNTB" in benefit.summary()
    harm = es.nnt(18, 20, 5, 20, improvement="decrease")  # the same events are adverse
    assert_allclose(harm.estimate, -benefit.estimate, rtol=1e-15)
    assert harm.details["label"] == "NNTH"
    assert harm.ci_high < 0
    unclear = es.nnt(12, 20, 9, 20)
    assert unclear.details["ci_through_infinity"]
    assert unclear.ci_low < 0 < unclear.ci_high
    assert unclear.details["ci_text"].startswith("NNTH")
    assert "to ∞ to NNTB" in unclear.details["ci_text"]
    with pytest.warns(RehabStatsWarning, match="risk difference is 0"):
        none = es.nnt(5, 20, 5, 20)
    assert math.isinf(none.estimate)


@pytest.mark.parametrize("standardizer", ["pre", "change", "average", "average_var", "rm"])
def test_smc_sign_and_ci(standardizer):
    pre = [10, 12, 9, 14, 11, 13, 10, 15]
    post = [13, 15, 10, 18, 12, 15, 14, 16]
    up = es.standardized_mean_change(pre, post, standardizer=standardizer)
    assert up.estimate > 0
    assert up.ci_low < up.estimate < up.ci_high
    assert up.measure == f"smc_{standardizer}"
    raw = es.standardized_mean_change(pre, post, standardizer=standardizer, correction=False)
    assert abs(up.estimate) < abs(raw.estimate)
