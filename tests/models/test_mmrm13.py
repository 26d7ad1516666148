"""New MMRM structures (ad, adh, sp_exp, sp_gau): invariants and input errors."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models._mmrm13_helpers import fev_data
from rehabstats.errors import DataError, DesignError, RehabStatsWarning
from rehabstats.models._covariance import get_structure
from rehabstats.models._mmrm import MMRMResult, mmrm


def _toy(n: int = 30, k: int = 4, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    subj = np.repeat([f"s{i:02d}" for i in range(n)], k)
    arm = np.repeat(np.where(np.arange(n) < n // 2, "ctl", "trt"), k)
    visit = np.tile([f"v{j}" for j in range(k)], n)
    y = (rng.normal(size=n * k) + np.repeat(rng.normal(size=n), k)
         + np.tile(np.arange(k), n) * 0.5)
    return pd.DataFrame({"subject": subj, "arm": arm, "visit": visit, "y": y,
                         "t": np.tile(np.arange(k, dtype=float), n)})


def _fit(d: pd.DataFrame, **kw: object) -> MMRMResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        return mmrm("y ~ arm * visit", d, subject="subject", visit="visit", **kw)  # type: ignore[arg-type]


def test_ad_correlation_is_product_of_lag_one_correlations() -> None:
    st = get_structure("adh")
    theta = np.array([0.1, 0.2, -0.3, 0.4, 0.5, -1.2, 2.0])
    s = st.sigma(theta, 4)
    sd = np.exp(theta[:4])
    rho = theta[4:] / np.sqrt(1 + theta[4:] ** 2)
    corr = s / np.outer(sd, sd)
    assert corr[2, 0] == pytest.approx(rho[0] * rho[1], rel=1e-12)
    assert corr[3, 0] == pytest.approx(rho[0] * rho[1] * rho[2], rel=1e-12)
    assert corr[3, 1] == pytest.approx(rho[1] * rho[2], rel=1e-12)
    np.testing.assert_allclose(np.diag(s), sd**2, rtol=1e-12)


def test_spatial_theta_is_log_variance_and_logit_rho() -> None:
    # mmrm's get_spatial_exponential: Sigma = exp(theta0) * plogis(theta1)^d
    st = get_structure("sp_exp").bind(np.array([0.0, 0.5, 2.0]))
    s = st.sigma(np.array([math.log(9.0), 0.0]), 3)
    assert s[0, 0] == pytest.approx(9.0, rel=1e-12)
    assert s[2, 0] == pytest.approx(9.0 * 0.5**2.0, rel=1e-12)
    assert s[1, 0] == pytest.approx(9.0 * 0.5**0.5, rel=1e-12)
    g = get_structure("sp_gau").bind(np.array([0.0, 0.5, 2.0]))
    assert g.sigma(np.array([0.0, 0.0]), 3)[2, 0] == pytest.approx(0.5**4.0, rel=1e-12)


def test_jacobian_matches_mmrm_h_jac_list(validation_dir: Path) -> None:
    # mmrm tests/testthat/test-satterthwaite.R:3-20: h_jac_list of FEV1 ~ ARMCD +
    # sp_exp(VISITN | USUBJID) at theta = (4, 0) with beta_vcov = I, tolerance 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        fit = mmrm("FEV1 ~ ARMCD", fev_data(validation_dir), subject="USUBJID",
                   visit="AVISIT", covariance="sp_exp", time="VISITN")
    eng = fit._engine
    th = np.array([4.0, 0.0])
    B = eng.b_matrices(eng.evaluate(th), eng.structure.jacobian(th, eng.m))
    np.testing.assert_allclose(B[0], [[6.037242, 2.893871], [2.893871, 2.893871]], rtol=1e-6)
    np.testing.assert_allclose(B[1], [[1.495479, 0.744836], [0.744836, 0.744836]], rtol=1e-6)


def test_two_visit_adh_equals_us_and_sp_exp_on_a_unit_grid_equals_ar1() -> None:
    d = _toy()
    two = d[d["visit"].isin(["v0", "v1"])]
    a, u = _fit(two, covariance="adh"), _fit(two, covariance="us")
    assert a.loglik == pytest.approx(u.loglik, rel=1e-10)
    np.testing.assert_allclose(a.covariance_matrix, u.covariance_matrix, rtol=1e-6)
    ad, cs = _fit(two, covariance="ad"), _fit(two, covariance="cs")
    assert ad.loglik == pytest.approx(cs.loglik, rel=1e-10)
    sp, ar = _fit(d, covariance="sp_exp", time="t"), _fit(d, covariance="ar1")
    assert ar.correlation_matrix.iloc[1, 0] > 0  # sp_exp's rho is positive
    assert sp.loglik == pytest.approx(ar.loglik, rel=1e-10)
    np.testing.assert_allclose(sp.coef()["se"], ar.coef()["se"], rtol=1e-6)


def test_spatial_is_invariant_to_shifting_time() -> None:
    d = _toy()
    d2 = d.assign(t=d["t"] * 1.0 + 100.0)
    a, b = _fit(d, covariance="sp_gau", time="t"), _fit(d2, covariance="sp_gau", time="t")
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10)
    assert list(b.covariance_matrix.index) == [100.0, 101.0, 102.0, 103.0]


def test_time_argument_errors() -> None:
    d = _toy()
    with pytest.raises(DataError, match=r"spatial structure: name the numeric column.*time="):
        _fit(d, covariance="sp_exp")
    with pytest.raises(DataError, match=r"'time' argument applies to the spatial.*'us'"):
        _fit(d, covariance="us", time="t")
    with pytest.raises(DataError, match=r"'time'.*'tt'"):
        _fit(d, covariance="sp_exp", time="tt")
    with pytest.raises(DataError, match=r"time"):
        _fit(d.assign(t="a"), covariance="sp_exp", time="t")
    dup = d.copy()
    dup.loc[1, "t"] = 0.0
    with pytest.raises(DesignError, match=r"Subject 's00' has two observations at time 0"):
        _fit(dup, covariance="sp_exp", time="t")
    many = d.assign(t=np.arange(len(d), dtype=float))
    with pytest.raises(DesignError, match=r"120 distinct times.*at most 60"):
        _fit(many, covariance="sp_exp", time="t")
