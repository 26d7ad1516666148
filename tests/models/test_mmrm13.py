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
    y = rng.normal(size=n * k) + np.repeat(rng.normal(size=n), k) + np.tile(np.arange(k), n) * 0.5
    return pd.DataFrame(
        {
            "subject": subj,
            "arm": arm,
            "visit": visit,
            "y": y,
            "t": np.tile(np.arange(k, dtype=float), n),
        }
    )


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
        fit = mmrm(
            "FEV1 ~ ARMCD",
            fev_data(validation_dir),
            subject="USUBJID",
            visit="AVISIT",
            covariance="sp_exp",
            time="VISITN",
        )
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


# ---------------------------------------------------------------- fit.test / anova(type=)
@pytest.fixture(scope="module")
def toy_fit() -> MMRMResult:
    return _fit(_toy(), covariance="us")


@pytest.mark.parametrize("method", ["satterthwaite", "kenward-roger", "residual", "asymptotic"])
def test_test_one_row_equals_coef_row(toy_fit: MMRMResult, method: str) -> None:
    coef = toy_fit.coef(df_method=method).set_index("term")
    name = "armtrt:visitv2"
    for L in (
        {name: 1.0},
        pd.Series({name: 1.0}),
        (np.array(toy_fit.coef_names) == name).astype(float),
    ):
        row = toy_fit.test(L, df_method=method).iloc[0]
        for col in ("estimate", "se", "df", "t", "p", "ci_low", "ci_high"):
            assert row[col] == pytest.approx(coef.loc[name, col], rel=1e-12)


def test_test_several_rows_equals_anova_term(toy_fit: MMRMResult) -> None:
    names = list(toy_fit.coef_names)
    inter = [n for n in names if ":" in n]
    L = pd.DataFrame(np.eye(len(inter)), columns=inter)
    row = toy_fit.test(L).iloc[0]
    an = toy_fit.anova(type=3).set_index("term").loc["arm:visit"]
    for a, b in (("num_df", "num_df"), ("den_df", "den_df"), ("F", "F"), ("p", "p")):
        assert row[a] == pytest.approx(an[b], rel=1e-10)
    # the highest-order term is the same hypothesis under type II and III
    an2 = toy_fit.anova(type="II").set_index("term").loc["arm:visit"]
    assert an2["F"] == pytest.approx(an["F"], rel=1e-10)


def test_test_redundant_rows_reduced_to_rank(toy_fit: MMRMResult) -> None:
    p = len(toy_fit.coef_names)
    e1, e2 = np.eye(p)[1], np.eye(p)[2]
    full = toy_fit.test(np.vstack([e1, e2])).iloc[0]
    red = toy_fit.test(np.vstack([e1, e2, e1 + e2])).iloc[0]
    assert red["num_df"] == 2
    assert red["F"] == pytest.approx(full["F"], rel=1e-10)


def test_test_and_anova_errors(toy_fit: MMRMResult) -> None:
    p = len(toy_fit.coef_names)
    with pytest.raises(DataError, match=rf"'L' must have {p} entries per row"):
        toy_fit.test([1.0, 0.0])
    with pytest.raises(DataError, match=r"'L' names coefficient\(s\) \['armx'\]"):
        toy_fit.test({"armx": 1.0})
    with pytest.raises(DataError, match=r"'L' must be finite"):
        toy_fit.test([np.nan] * p)
    with pytest.raises(DataError, match=r"'L' must be numeric"):
        toy_fit.test(["a"] * p)
    with pytest.raises(DataError, match=r"'df_method'"):
        toy_fit.test(np.eye(p)[1], df_method="bogus")
    with pytest.raises(DataError, match=r"'type' argument must be 2 or 3"):
        toy_fit.anova(type=1)
    with pytest.raises(DataError, match=r"'type' argument must be 2 or 3"):
        toy_fit.anova(type=True)


def test_type2_needs_an_intercept() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        f0 = mmrm("y ~ 0 + arm + visit", _toy(), subject="subject", visit="visit", covariance="cs")
    with pytest.raises(DesignError, match=r"Type II tests need a model with an intercept"):
        f0.anova(type=2)


def test_test_available_on_ancova() -> None:
    import rehabstats as rs

    rng = np.random.default_rng(2)
    d = pd.DataFrame({"arm": np.repeat(["control", "trt"], 15), "b": rng.normal(size=30)})
    d["y"] = d["b"] + (d["arm"] == "trt") + rng.normal(size=30)
    fit = rs.ancova(d, outcome="y", arm="arm", baseline="b")
    name = next(n for n in fit.coef_names if n.startswith("arm"))
    row = fit.test({name: 1.0}).iloc[0]
    assert row["estimate"] == pytest.approx(fit.coef().set_index("term").loc[name, "estimate"])


# ---------------------------------------------------------------- fitted / residuals / predict / simulate
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _with_gaps(seed: int, frac: float) -> pd.DataFrame:
    d = _toy(n=24, k=4, seed=seed)
    rng = np.random.default_rng(seed + 100)
    drop = rng.random(len(d)) < frac
    drop[d.index % 4 == 0] = False  # keep every first visit
    d.loc[drop, "y"] = np.nan
    return d


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    frac=st.floats(0.05, 0.4),
    cov=st.sampled_from(["us", "cs", "ar1h", "adh"]),
)
def test_conditional_predictions_of_observed_values_equal_the_data(
    seed: int, frac: float, cov: str
) -> None:
    d = _with_gaps(seed, frac)
    fit = _fit(d.dropna(subset=["y"]), covariance=cov)
    pred = fit.predict(d, interval="prediction")
    obs = d["y"].notna()
    np.testing.assert_array_equal(pred.loc[obs, "estimate"], d.loc[obs, "y"])
    np.testing.assert_array_equal(pred.loc[obs, "se"], 0.0)
    assert (pred.loc[~obs, "se"] > 0).all()
    # with newdata=None: the rows used, again equal to the data
    np.testing.assert_array_equal(fit.predict()["estimate"], fit.frame["y"])


def test_conditional_prediction_is_the_gaussian_conditional_mean() -> None:
    d = _with_gaps(7, 0.3)
    fit = _fit(d.dropna(subset=["y"]), covariance="us")
    pred = fit.predict(d, interval="confidence")
    S = fit.covariance_matrix.to_numpy()
    V = fit.vcov().to_numpy()
    X = np.asarray(__import__("patsy").build_design_matrices([fit.design_info], d)[0])
    mu = X @ fit.beta
    sub = d.groupby("subject").filter(lambda g: g["y"].isna().any() and g["y"].notna().any())
    g = sub[sub["subject"] == sub["subject"].iloc[0]]
    o = np.flatnonzero(g["y"].notna().to_numpy())
    u = np.flatnonzero(g["y"].isna().to_numpy())
    vis = g["visit"].map({v: i for i, v in enumerate(fit.visit_levels)}).to_numpy()
    rows = g.index.to_numpy()
    ss = S[np.ix_(vis[u], vis[o])] @ np.linalg.inv(S[np.ix_(vis[o], vis[o])])
    expect = mu[rows[u]] + ss @ (g["y"].to_numpy()[o] - mu[rows[o]])
    np.testing.assert_allclose(pred.loc[rows[u], "estimate"], expect, rtol=1e-10)
    Z = X[rows[u]] - ss @ X[rows[o]]
    np.testing.assert_allclose(pred.loc[rows[u], "se"], np.sqrt(np.diag(Z @ V @ Z.T)), rtol=1e-10)


def test_unconditional_prediction_and_fitted() -> None:
    d = _with_gaps(3, 0.2)
    fit = _fit(d.dropna(subset=["y"]), covariance="cs")
    fitted = fit.fitted()
    marg = fit.predict(conditional=False, interval="prediction")
    np.testing.assert_allclose(marg["estimate"], fitted, rtol=1e-12)
    sd = np.sqrt(np.diag(fit.covariance_matrix.to_numpy()))[0]
    assert (marg["se"] > sd).all()
    np.testing.assert_allclose(fit.residuals("response"), fit.frame["y"] - fitted, rtol=1e-12)
    np.testing.assert_allclose(fit.residuals("pearson"), fit.residuals("response") / sd, rtol=1e-10)


def test_normalized_residuals_whiten_each_subject() -> None:
    d = _with_gaps(11, 0.3)
    fit = _fit(d.dropna(subset=["y"]), covariance="us")
    r = fit.residuals("response")
    z = fit.residuals("normalized")
    S = fit.covariance_matrix.to_numpy()
    lv = {v: i for i, v in enumerate(fit.visit_levels)}
    for _, g in fit.frame.groupby("subject"):
        vis = g["visit"].map(lv).to_numpy().astype(int)
        Si = S[np.ix_(vis, vis)]
        ri = r.loc[g.index].to_numpy()
        zi = z.loc[g.index].to_numpy()
        assert zi @ zi == pytest.approx(ri @ np.linalg.solve(Si, ri), rel=1e-10)
        np.testing.assert_allclose(np.linalg.cholesky(Si) @ zi, ri, rtol=1e-10, atol=1e-12)


def test_simulate_reproduces_the_model_moments() -> None:
    d = _toy(n=20, k=3, seed=4)
    fit = _fit(d, covariance="us")
    sims = fit.simulate(4000, rng=123)
    again = fit.simulate(4000, rng=123)
    pd.testing.assert_frame_equal(sims, again)
    assert sims.shape == (len(d), 4000)
    first = sims.loc[d["subject"] == "s00"].to_numpy()  # the subject's 3 visits x sims
    S = fit.covariance_matrix.to_numpy()
    # Monte Carlo error of a covariance from 4000 draws: well under 10% of the scale here
    np.testing.assert_allclose(np.cov(first), S, atol=0.1 * float(np.max(np.diag(S))))
    np.testing.assert_allclose(
        first.mean(axis=1),
        fit.fitted().loc[d["subject"] == "s00"],
        atol=4 * np.sqrt(np.max(np.diag(S)) / 4000),
    )
    # newdata: a new subject with one visit
    new = pd.DataFrame({"subject": ["z"], "arm": ["trt"], "visit": ["v2"]})
    assert fit.simulate(2, newdata=new, rng=1).shape == (1, 2)


def test_predict_new_subject_without_outcomes_is_marginal() -> None:
    d = _toy()
    fit = _fit(d, covariance="ar1")
    new = pd.DataFrame({"subject": ["z", "z"], "arm": ["ctl", "ctl"], "visit": ["v0", "v3"]})
    a = fit.predict(new, interval="prediction")
    b = fit.predict(new, conditional=False, interval="prediction")
    pd.testing.assert_frame_equal(a, b)


def test_predict_and_simulate_errors() -> None:
    d = _toy()
    fit = _fit(d, covariance="cs")
    with pytest.raises(DataError, match=r"'interval' argument must be one of"):
        fit.predict(interval="pred")
    with pytest.raises(DataError, match=r"'level'"):
        fit.predict(interval="confidence", level=95)
    with pytest.raises(DataError, match=r"'conditional' argument must be True or False"):
        fit.predict(conditional="yes")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"'newdata' must be a pandas DataFrame"):
        fit.predict([1, 2])  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"'visit'"):
        fit.predict(d.drop(columns="visit"))
    with pytest.raises(
        DataError, match=r"Column 'visit' of 'newdata' has value 'v9', not one of the fitted"
    ):
        fit.predict(d.assign(visit="v9"))
    with pytest.raises(DataError, match=r"Column 'arm' of 'newdata' has value 'xyz'"):
        fit.predict(d.assign(arm="xyz"))
    with pytest.raises(DataError, match=r"has a visit listed twice in 'newdata'"):
        fit.predict(pd.concat([d.iloc[:1], d.iloc[:1]]))
    with pytest.raises(DataError, match=r"'type' argument must be one of"):
        fit.residuals("studentized")
    with pytest.raises(DataError, match=r"'n' argument must be a positive integer"):
        fit.simulate(0)
    with pytest.raises(DataError, match=r"'rng'"):
        fit.simulate(2, rng="seed")
    assert d.equals(_toy())  # inputs are not modified


def test_spatial_predict_at_new_times() -> None:
    d = _toy()
    fit = _fit(d, covariance="sp_exp", time="t")
    assert np.array_equal(fit.predict()["estimate"], fit.frame["y"])
    # a missing observation at a time between the grid points is predicted from the others
    new = d[d["subject"] == "s00"].copy()
    new.loc[new.index[1], ["y", "t"]] = [np.nan, 1.5]
    pred = fit.predict(new, interval="prediction")
    assert np.isfinite(pred["estimate"].iloc[1])
    assert pred["se"].iloc[1] > 0
    with pytest.raises(DataError, match=r"Column 't' of 'newdata' must be numeric"):
        fit.predict(new.assign(t=np.nan))


def test_proportional_weights_by_hand_and_balanced() -> None:
    d = _toy()
    d["sex"] = np.where(np.arange(len(d)) // 4 % 3 == 0, "f", "m")  # 1/3 f, subject-level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        f2 = mmrm(
            "y ~ arm * visit + sex", d, subject="subject", visit="visit", arm="arm", covariance="cs"
        )
    prop = f2.emmeans("arm", weights="proportional").set_index("arm")["estimate"]
    grid = f2._grid()
    # by hand: average over visit x sex cells weighted by their frequencies in the data
    cnt = d.groupby(["visit", "sex"]).size()
    for a in ("ctl", "trt"):
        rows = grid.grid["arm"].astype(str) == a
        w = np.array(
            [
                cnt[(v, s)]
                for v, s in zip(
                    grid.grid.loc[rows, "visit"], grid.grid.loc[rows, "sex"], strict=True
                )
            ]
        )
        expect = w @ (grid.X[rows.to_numpy()] @ f2.beta) / w.sum()
        assert prop[a] == pytest.approx(expect, rel=1e-12)
    # balanced in visit (every subject has every visit): visit weights are equal
    f3 = _fit(d, covariance="cs")
    np.testing.assert_allclose(
        f3.emmeans("arm", weights="proportional")["estimate"],
        f3.emmeans("arm")["estimate"],
        rtol=1e-12,
    )
    tab = f3.contrasts("arm", method="trt.vs.ctrl", weights="proportional")
    assert len(tab) == 1
    with pytest.raises(DataError, match=r"'weights' argument must be one of"):
        f3.emmeans("arm", weights="cells")


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    kind=st.sampled_from(["empirical", "empirical-jackknife", "empirical-bias-reduced"]),
)
def test_sandwich_is_invariant_to_subject_relabelling_and_row_order(seed: int, kind: str) -> None:
    d = _with_gaps(seed, 0.2).dropna(subset=["y"])
    rng = np.random.default_rng(seed)
    names = {s: f"p{i:03d}" for i, s in enumerate(rng.permutation(d["subject"].unique()))}
    d2 = d.assign(subject=d["subject"].map(names)).sample(frac=1.0, random_state=seed)
    a = _fit(d, covariance="cs", vcov=kind, df_method="residual")
    b = _fit(d2, covariance="cs", vcov=kind, df_method="residual")
    np.testing.assert_allclose(a.vcov().to_numpy(), b.vcov().to_numpy(), rtol=1e-7)


def test_sandwich_options_and_errors() -> None:
    d = _toy()
    emp = _fit(d, covariance="us", vcov="empirical", df_method="asymptotic")
    assert emp.df_methods == ("asymptotic", "satterthwaite", "residual", "between-within")
    assert not np.allclose(emp.vcov().to_numpy(), emp._V)
    jk = _fit(d, covariance="us", vcov="empirical-jackknife", df_method="residual")
    # jackknife inflates the plain sandwich (each (I - H_ii)^-1 >= I)
    assert np.all(np.diag(jk.vcov().to_numpy()) > np.diag(emp.vcov().to_numpy()))
    with pytest.raises(DataError, match=r"'vcov' argument must be None"):
        _fit(d, vcov="sandwich", df_method="residual")
    with pytest.raises(DesignError, match=r"Kenward-Roger uses its own adjusted covariance"):
        _fit(d, vcov="empirical", df_method="kenward-roger")
    # Satterthwaite with a sandwich: Bell-McCaffrey df (tests/models/test_mmrm_control.py)
    assert _fit(d, vcov="empirical").df_methods[0] == "satterthwaite"
    with pytest.raises(DataError, match=r"'df_method'"):
        emp.coef(df_method="kenward-roger")


# ---------------------------------------------------------------- several coordinates
def _toy2d() -> pd.DataFrame:
    d = _toy()
    num = d["subject"].str[1:].astype(int)
    return d.assign(ypos=((num + d["t"]) % 3) * 0.5)


def test_two_coordinates_use_euclidean_distances() -> None:
    d = _toy2d()
    fit = _fit(d, covariance="sp_exp", time=["t", "ypos"])
    assert fit.converged
    pts = list(fit.covariance_matrix.index)
    assert all(isinstance(p, tuple) and len(p) == 2 for p in pts)
    rho = 1 / (1 + math.exp(-fit.theta[1]))
    a, b = pts[0], pts[-1]
    dist = math.hypot(a[0] - b[0], a[1] - b[1])
    assert fit.correlation_matrix.loc[[a], [b]].to_numpy()[0, 0] == pytest.approx(
        rho**dist, rel=1e-12
    )
    # a constant second coordinate changes nothing: the same fit as time="t" (1e-10)
    one = _fit(d, covariance="sp_exp", time="t")
    flat = _fit(d.assign(ypos=2.0), covariance="sp_exp", time=["t", "ypos"])
    assert flat.loglik == pytest.approx(one.loglik, rel=1e-10)
    np.testing.assert_allclose(flat.theta, one.theta, rtol=1e-7, atol=1e-9)
    # swapping the coordinate columns is a relabelling of the axes
    swapped = _fit(d, covariance="sp_exp", time=["ypos", "t"])
    assert swapped.loglik == pytest.approx(fit.loglik, rel=1e-10)


def test_two_coordinates_predict_newdata_and_simulate() -> None:
    d = _toy2d()
    fit = _fit(d, covariance="sp_gau", time=["t", "ypos"])
    new = d.head(8).copy()
    new.loc[[1, 6], "y"] = np.nan  # predicted from the subject's other observations
    pred = fit.predict(new, interval="prediction")
    obs = new["y"].notna()
    np.testing.assert_array_equal(pred.loc[obs, "estimate"], new.loc[obs, "y"])
    # the Gaussian conditional mean over the 2-D grid (1e-10)
    S = fit.covariance_matrix
    for row in (1, 6):
        sub = new[new["subject"] == new.loc[row, "subject"]]
        pts = list(zip(sub["t"], sub["ypos"], strict=True))
        X = np.asarray(__import__("patsy").build_design_matrices([fit.design_info], sub)[0])
        r = (sub["y"] - X @ fit.beta).to_numpy()
        o = sub["y"].notna().to_numpy()
        me = pts[list(sub.index).index(row)]
        s_mo = S.loc[[me], [p for p, k in zip(pts, o, strict=True) if k]].to_numpy()
        s_oo = S.loc[
            [p for p, k in zip(pts, o, strict=True) if k],
            [p for p, k in zip(pts, o, strict=True) if k],
        ].to_numpy()
        i = list(sub.index).index(row)
        mu = float(X[i] @ fit.beta + (s_mo @ np.linalg.solve(s_oo, r[o]))[0])
        assert pred.loc[row, "estimate"] == pytest.approx(mu, rel=1e-10)
    sims = fit.simulate(2, rng=1)
    assert sims.shape == (len(d), 2)
    with pytest.raises(DataError, match=r"'time\[1\]'.*'ypos'"):
        fit.predict(d.drop(columns="ypos"))


def test_two_coordinate_errors() -> None:
    d = _toy2d()
    with pytest.raises(DataError, match=r"non-empty list of column names"):
        _fit(d, covariance="sp_exp", time=[])
    with pytest.raises(DataError, match=r"name a column twice"):
        _fit(d, covariance="sp_exp", time=["t", "t"])
    with pytest.raises(DataError, match=r"'time\[1\]'.*'zz'"):
        _fit(d, covariance="sp_exp", time=["t", "zz"])
    dup = d.copy()
    dup.loc[1, ["t", "ypos"]] = dup.loc[0, ["t", "ypos"]].to_numpy()
    with pytest.raises(DesignError, match=r"two observations at coordinates .*columns"):
        _fit(dup, covariance="sp_exp", time=["t", "ypos"])
    many = d.assign(ypos=np.arange(len(d), dtype=float))
    with pytest.raises(DesignError, match=r"120 distinct coordinate points.*at most 60"):
        _fit(many, covariance="sp_exp", time=["t", "ypos"])


# ---------------------------------------------------------------- simulate(method=)
@pytest.mark.parametrize("cov", ["us", "ar1h"])
def test_conditional_simulation_keeps_observed_and_draws_the_conditional_law(cov: str) -> None:
    d = _with_gaps(11, 0.3)
    fit = _fit(d.dropna(subset=["y"]), covariance=cov)
    sims = fit.simulate(6000, newdata=d, method="conditional", rng=5)
    obs = d["y"].notna().to_numpy()
    np.testing.assert_array_equal(
        sims.to_numpy()[obs], np.repeat(d["y"].to_numpy()[obs, None], 6000, axis=1)
    )
    pred = fit.predict(d, interval="none")  # conditional mean given the observed outcomes
    S = fit.covariance_matrix.to_numpy()
    X = np.asarray(__import__("patsy").build_design_matrices([fit.design_info], d)[0])
    for sid, sub in d.groupby("subject"):
        miss = sub["y"].isna().to_numpy()
        if not miss.any():
            continue
        k = sub.index.to_numpy()
        c = d.loc[k, "visit"].map({v: i for i, v in enumerate(fit.visit_levels)}).to_numpy()
        o, mm = c[~miss], c[miss]
        cond = S[np.ix_(mm, mm)] - S[np.ix_(mm, o)] @ np.linalg.solve(
            S[np.ix_(o, o)], S[np.ix_(o, mm)]
        )
        draws = sims.loc[k[miss]].to_numpy()
        # mean within 5 Monte Carlo SEs of the conditional mean; variance within 15%
        se = np.sqrt(np.diag(cond) / 6000)
        assert np.all(np.abs(draws.mean(axis=1) - pred.loc[k[miss], "estimate"]) < 5 * se), sid
        np.testing.assert_allclose(np.cov(draws), cond, rtol=0.15, atol=0.05 * S.max())
        assert X.shape[0] == len(d)


def test_marginal_simulation_adds_parameter_uncertainty() -> None:
    d = _with_gaps(3, 0.3)
    fit = _fit(d.dropna(subset=["y"]), covariance="ar1")
    cond = fit.simulate(1500, newdata=d, method="conditional", rng=2)
    marg = fit.simulate(1500, newdata=d, method="marginal", rng=2)
    miss = d["y"].isna().to_numpy()
    obs = ~miss
    np.testing.assert_array_equal(marg.to_numpy()[obs], cond.to_numpy()[obs])
    pred = fit.predict(d)["estimate"].to_numpy()
    # centred on the conditional prediction (mmrm's test: tolerance 1e-1 relative)
    assert np.mean(np.abs(marg.to_numpy()[miss].mean(axis=1) - pred[miss])) < 0.1 * np.mean(
        np.abs(pred[miss])
    )
    # theta and beta uncertainty widen the spread on average
    assert marg.to_numpy()[miss].var(axis=1).mean() > cond.to_numpy()[miss].var(axis=1).mean()
    again = fit.simulate(1500, newdata=d, method="marginal", rng=2)
    pd.testing.assert_frame_equal(marg, again)


def test_unconditional_simulation_ignores_observed_outcomes_and_method_errors() -> None:
    d = _with_gaps(3, 0.3)
    fit = _fit(d.dropna(subset=["y"]), covariance="cs")
    a = fit.simulate(3, newdata=d, rng=9)
    b = fit.simulate(3, newdata=d.assign(y=np.nan), rng=9)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(DataError, match=r"'method'.*'conditional'"):
        fit.simulate(2, method="bootstrap")
