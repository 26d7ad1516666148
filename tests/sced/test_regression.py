"""Unit tests of piecewise_regression and multilevel: codings, multi-phase terms,
missing values, degenerate designs and bad input (reference comparisons are in
test_reference_scan_regression.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from rehabstats.errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning
from rehabstats.sced._multilevel import MultilevelResult, multilevel
from rehabstats.sced._piecewise import PiecewiseRegressionResult, piecewise_regression

Y = [3.0, 4, 3, 5, 4, 5, 8, 9, 9, 10, 11, 11, 12, 12]


def ab(y=Y, n_a=6, start=1):
    return pd.DataFrame(
        {"t": np.arange(start, start + len(y)), "ph": ["A"] * n_a + ["B"] * (len(y) - n_a), "y": y}
    )


def test_ab_terms_and_ols_identity():
    res = piecewise_regression(ab(), outcome="y", phase="ph", session="t", model="H-M")
    assert isinstance(res, PiecewiseRegressionResult)
    tab = res.to_frame()
    assert tab["term"].tolist() == ["intercept", "trend", "level", "slope"]
    assert list(tab.columns) == [
        "case",
        "term",
        "scan_term",
        "estimate",
        "se",
        "df",
        "t",
        "p",
        "ci_low",
        "ci_high",
    ]
    t = np.arange(1.0, 15)
    d = (t > 6).astype(float)
    x = np.column_stack([np.ones(14), t, d, np.where(d > 0, t - 7, 0)])
    beta = np.linalg.lstsq(x, np.asarray(Y), rcond=None)[0]
    np.testing.assert_allclose(tab["estimate"], beta, rtol=1e-10)
    resid = np.asarray(Y) - x @ beta
    se = np.sqrt(np.diag(np.linalg.inv(x.T @ x)) * (resid @ resid) / 10)
    np.testing.assert_allclose(tab["se"], se, rtol=1e-10)
    assert (tab["ci_low"] < tab["estimate"]).all()
    assert (tab["estimate"] < tab["ci_high"]).all()
    assert "Piecewise regression" in res.summary()


def test_models_differ_only_in_coding():
    w = piecewise_regression(ab(start=5), outcome="y", phase="ph", session="t", model="W")
    hm = piecewise_regression(ab(start=5), outcome="y", phase="ph", session="t", model="H-M")
    bl = piecewise_regression(ab(start=5), outcome="y", phase="ph", session="t", model="B&L-B")
    est = {
        m: r.to_frame().set_index("term")["estimate"] for m, r in (("W", w), ("HM", hm), ("BL", bl))
    }
    # same trend and slope; the intercept moves with the time origin (W: first session = 0)
    np.testing.assert_allclose(est["W"]["trend"], est["HM"]["trend"], rtol=1e-10)
    np.testing.assert_allclose(
        est["W"]["intercept"], est["HM"]["intercept"] + 5 * est["HM"]["trend"], rtol=1e-10
    )
    # B&L-B: the level is the change one session before the phase starts
    np.testing.assert_allclose(
        est["BL"]["level"], est["HM"]["level"] - est["HM"]["slope"], rtol=1e-10
    )
    np.testing.assert_allclose(w.fit["r2"], bl.fit["r2"], rtol=1e-10)


def test_multiphase_terms_with_repeated_labels():
    df = pd.DataFrame(
        {
            "t": range(1, 21),
            "ph": list("AAAAABBBBBAAAAABBBBB"),
            "y": np.r_[1:6, 8:13, 2:7, 9:14].astype(float),
        }
    )
    with pytest.warns(RehabStatsWarning, match="fits every observation"):  # exact lines
        tab = piecewise_regression(df, outcome="y", phase="ph", session="t").to_frame()
    assert tab["term"].tolist() == [
        "intercept",
        "trend",
        "level_B1",
        "level_A2",
        "level_B2",
        "slope_B1",
        "slope_A2",
        "slope_B2",
    ]
    assert tab["scan_term"].tolist()[2:5] == ["phaseB1", "phaseA2", "phaseB2"]


def test_several_cases_fitted_separately():
    df = pd.concat([ab().assign(c="x"), ab(Y[::-1]).assign(c="y")])
    res = piecewise_regression(df, outcome="y", phase="ph", session="t", case="c")
    assert res.to_frame()["case"].tolist() == ["x"] * 4 + ["y"] * 4
    single = piecewise_regression(ab(), outcome="y", phase="ph", session="t")
    np.testing.assert_allclose(
        res.to_frame()["estimate"][:4], single.to_frame()["estimate"], rtol=1e-12
    )


def test_missing_outcome_keeps_time_origin():
    df = ab()
    df.loc[0, "y"] = np.nan
    before = df.copy()
    with pytest.warns(RehabStatsWarning, match="missing"):
        res = piecewise_regression(df, outcome="y", phase="ph", session="t", model="W")
    pd.testing.assert_frame_equal(df, before)
    t = np.arange(14.0)[1:]  # W: time 0 is session 1 even though it is missing
    d = (t >= 6).astype(float)
    x = np.column_stack([np.ones(13), t, d, np.where(d > 0, t - 6, 0)])
    beta = np.linalg.lstsq(x, np.asarray(Y)[1:], rcond=None)[0]
    np.testing.assert_allclose(res.to_frame()["estimate"], beta, rtol=1e-10)


def test_ar1_reduces_to_ols_likelihood_when_phi_zero_direction():
    rng = np.random.default_rng(5)
    e = np.zeros(40)
    for i in range(1, 40):
        e[i] = 0.6 * e[i - 1] + rng.normal()
    df = ab(list(10 + e), n_a=15)
    res = piecewise_regression(df, outcome="y", phase="ph", session="t", ar=1)
    ols = piecewise_regression(df, outcome="y", phase="ph", session="t")
    phi = res.fit["ar"].iloc[0][0]
    assert 0.2 < phi < 0.95
    assert res.fit["loglik"].iloc[0] >= ols.fit["loglik"].iloc[0]
    res2 = piecewise_regression(df, outcome="y", phase="ph", session="t", ar=2)
    assert len(res2.fit["ar"].iloc[0]) == 2
    assert res2.fit["loglik"].iloc[0] >= res.fit["loglik"].iloc[0] - 1e-6


def test_degenerate_designs():
    with pytest.warns(RehabStatsWarning, match="exact"):
        res = piecewise_regression(ab([1.0, 2, 4, 5], n_a=2), outcome="y", phase="ph", session="t")
    assert res.to_frame()["se"].isna().all()
    with pytest.raises(DesignError, match="needs at least 4"):
        piecewise_regression(ab([1.0, 2, 4], n_a=2), outcome="y", phase="ph", session="t")
    with pytest.raises(DesignError, match="rank deficient"):
        piecewise_regression(
            ab([1.0, 2, 3, 4, 7], n_a=4),
            outcome="y",
            phase="ph",
            session="t",
            level=True,
            slope=True,
            trend=True,
        )
    with pytest.raises(DesignError, match="only phase"):
        piecewise_regression(ab(n_a=14), outcome="y", phase="ph", session="t")
    with pytest.raises(DesignError, match="AR"):
        piecewise_regression(ab(Y[:5], n_a=2), outcome="y", phase="ph", session="t", ar=1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "HM"}, "model"),
        ({"ar": -1}, "ar"),
        ({"ar": 1.5}, "ar"),
        ({"ci": 95}, "ci"),
        ({"outcome": "nope"}, "outcome"),
    ],
)
def test_bad_options(kwargs, match):
    args = {"outcome": "y", "phase": "ph", "session": "t"}
    args.update(kwargs)
    with pytest.raises(DataError, match=match):
        piecewise_regression(ab(), **args)


def _mbd(seed=3, n_cases=4):
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_cases):
        start = 5 + 2 * c
        for t in range(1, 21):
            rows.append(
                (
                    f"P{c}",
                    t,
                    "A" if t < start else "B",
                    10 + c + 4 * (t >= start) + 0.2 * t + rng.normal(),
                )
            )
    return pd.DataFrame(rows, columns=["case", "t", "ph", "y"])


def test_multilevel_basic_and_df():
    df = _mbd()
    res = multilevel(df, outcome="y", phase="ph", session="t", case="case", method="REML")
    assert isinstance(res, MultilevelResult)
    tab = res.to_frame()
    assert tab["term"].tolist() == ["intercept", "trend", "level", "slope"]
    assert (tab["df"] == 80 - 4 - 3).all()
    np.testing.assert_allclose(tab.set_index("term").loc["level", "estimate"], 4, atol=1.0)
    assert 0 <= res.icc <= 1
    assert res.n_cases == 4
    assert res.n == 80
    assert "ICC" in res.summary()
    # a 4x4 random-effects covariance from 4 cases is weakly identified: the fit may
    # end on the boundary, which is announced (ConvergenceWarning), not hidden
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        slopes = multilevel(
            df, outcome="y", phase="ph", session="t", case="case", random_slopes=True
        )
    assert len(slopes.random) == 5
    assert np.isfinite(slopes.loglik)


def test_multilevel_bad_input():
    df = _mbd()
    with pytest.raises(DesignError, match="at least two cases"):
        multilevel(df[df.case == "P0"], outcome="y", phase="ph", session="t", case="case")
    odd = df.copy()
    odd.loc[(odd.case == "P1") & (odd.t > 15), "ph"] = "C"
    with pytest.raises(DesignError, match="same phase sequence"):
        multilevel(odd, outcome="y", phase="ph", session="t", case="case")
    with pytest.raises(DataError, match="method"):
        multilevel(df, outcome="y", phase="ph", session="t", case="case", method="reml")
    with pytest.raises(DataError, match="random_slopes"):
        multilevel(df, outcome="y", phase="ph", session="t", case="case", random_slopes="yes")


def test_multilevel_random_slopes_nests_random_intercept():
    """With ML, the random-slopes model contains the random-intercept model
    (Lambda with only its (0, 0) element non-zero), so its maximised logLik can
    only be higher or equal; its fixed-effect df are nlme's (not reduced)."""
    df = _mbd()
    ri = multilevel(df, outcome="y", phase="ph", session="t", case="case")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rs = multilevel(df, outcome="y", phase="ph", session="t", case="case", random_slopes=True)
    assert rs.loglik >= ri.loglik - 1e-8
    assert (rs.to_frame()["df"] == 80 - 4 - 3).all()
    assert (rs.random["variance"] >= 0).all()


def test_fold_keeps_covariance():
    from rehabstats.models._lmm_engine import blocks_from_theta as _blocks_from_theta
    from rehabstats.sced._multilevel import _fold

    theta = np.array([-1.5, 0.3, -0.2, 0.7, 2.0, 0.4, 0.1, -0.8, 0.5, 1.1])
    folded = _fold(theta, 4)
    lam, lam_f = _blocks_from_theta(theta, 4), _blocks_from_theta(folded, 4)
    np.testing.assert_allclose(lam_f @ lam_f.T, lam @ lam.T, rtol=1e-14)
    assert (np.diag(lam_f) >= 0).all()
    assert not np.array_equal(folded, theta)


@pytest.mark.parametrize("y", [[5.0] * 14, [float(v) for v in range(14)]])
def test_ar_model_refuses_an_outcome_without_residual(y) -> None:
    # constant, or fitted exactly by the piecewise terms: the AR likelihood is unbounded
    with pytest.raises(DataError, match=r"outcome 'y' .*piecewise_regression\(ar=1\)"):
        piecewise_regression(ab(y), outcome="y", phase="ph", session="t", ar=1)
