"""MMRM fit control, Satterthwaite df with a sandwich covariance, marginal effects, broom tables.

References (``tests/reference/mmrm_ctl/``):

- ``mmrm_satterthwaite_empirical.json``: values of mmrm 0.3.18's
  ``tests/testthat/test-satterthwaite.R`` (source lines in the file), at mmrm's
  tolerances;
- ``clubsandwich_empirical.json`` (``clubsandwich_empirical.R``): nlme::gls +
  clubSandwich CR0/CR2/CR3 and their Satterthwaite df, the peer mmrm's own
  ``test-empirical.R`` uses (1e-4; 1e-3 for the CR2 covariance, as there);
- ``emmeans_marginal.json`` (``emmeans_marginal.R``): emmeans on nlme::gls for
  ``marginal_effect``.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import load_json
from hypothesis import given, settings
from hypothesis import strategies as st

from models._mmrm13_helpers import fev_data
from rehabstats.errors import DataError, DesignError, RehabStatsWarning
from rehabstats.models._mmrm import MMRMResult, mmrm

HERE = Path(__file__).resolve().parent
REF = HERE.parent / "reference" / "mmrm_ctl"
_FITS: dict[tuple[Any, ...], MMRMResult] = {}


def rel(x: Any, y: Any) -> float:
    """mmrm's testthat rule: mean |x - y| / mean |y|."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.mean(np.abs(x - y)) / np.mean(np.abs(y)))


def fev_fit(validation_dir: Path, rhs: str, data: str = "observed", **kw: Any) -> MMRMResult:
    key = (rhs, data, tuple(sorted(kw.items())))
    if key not in _FITS:
        d = fev_data(validation_dir)
        if data == "complete":
            d = d.dropna().reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RehabStatsWarning)
            _FITS[key] = mmrm(f"FEV1 ~ {rhs}", d, subject="USUBJID", visit="AVISIT", **kw)
    return _FITS[key]


# ---------------------------------------------------------------------- empirical Satterthwaite
def test_empirical_satterthwaite_matches_mmrm_tests(validation_dir: Path) -> None:
    ref = load_json(REF / "mmrm_satterthwaite_empirical.json")
    fit = fev_fit(validation_dir, ref["rhs"], covariance=ref["cov"], vcov=ref["vcov"])
    assert fit.df_methods[0] == "satterthwaite"
    one = fit.test(ref["one_d"]["contrast"])
    tol = ref["one_d"]["tolerance"]
    assert rel(one["estimate"], ref["one_d"]["est"]) < tol
    assert rel(one["se"], ref["one_d"]["se"]) < tol
    assert rel(one["t"], ref["one_d"]["t_stat"]) < tol
    assert round(float(one["df"].iloc[0])) == ref["one_d"]["df_rounded"]
    L = np.zeros((2, len(fit.beta)))
    for i, j in enumerate(ref["multi_d"]["contrast_unit_columns"]):
        L[i, j] = 1.0
    md = fit.test(L)
    assert float(md["num_df"].iloc[0]) == ref["multi_d"]["num_df"]
    assert round(float(md["den_df"].iloc[0])) == ref["multi_d"]["denom_df_rounded"]
    assert rel(md["F"], ref["multi_d"]["f_stat"]) < ref["multi_d"]["tolerance"]


CS = load_json(REF / "clubsandwich_empirical.json")["cases"]


@pytest.mark.parametrize("case", CS, ids=[c["id"] for c in CS])
@pytest.mark.parametrize("kind", ["empirical", "empirical-jackknife", "empirical-bias-reduced"])
def test_empirical_vs_clubsandwich(validation_dir: Path, case: dict[str, Any], kind: str) -> None:
    ref = case["results"][kind]
    fit = fev_fit(validation_dir, case["rhs"], case["rows"], covariance=case["cov"], vcov=kind)
    tab = fit.coef()
    assert list(tab["term"]) == ref["terms"]
    # mmrm's test-empirical.R: 1e-4 (CR2 covariance 1e-3: clubSandwich's CR2 adjusts with
    # the target's square root, mmrm with the pseudo-inverse square root of I - H_ii)
    assert rel(fit.vcov().to_numpy().ravel(order="F"), ref["vcov"]) < (
        1e-3 if kind == "empirical-bias-reduced" else 1e-4
    )
    assert rel(tab["df"], ref["df"]) < 1e-4
    assert rel(tab["estimate"], ref["estimate"]) < 1e-5


def test_empirical_satterthwaite_anova_and_contrasts(validation_dir: Path) -> None:
    fit = fev_fit(validation_dir, "RACE + SEX + ARMCD * AVISIT", covariance="us", vcov="empirical")
    an = fit.anova()
    assert np.all(np.isfinite(an["den_df"]))
    assert np.all(an["den_df"] > 2)
    con = fit.contrasts("ARMCD", by="AVISIT", method="trt.vs.ctrl")
    # a one-row contrast: its df equals the F test of the same row (1-d rule of the md test)
    row = fit._contrast_rows(np.eye(len(fit.beta))[3])
    assert math.isclose(fit.test(row)["df"].iloc[0], fit.coef()["df"].iloc[3], rel_tol=1e-12)
    assert np.all(con["df"] < fit.nobs)
    assert "empirical (sandwich" in fit.summary()
    assert "Bell & McCaffrey" in fit.summary()
    # the model-based Satterthwaite df differ (a different variance and distribution)
    mb = fev_fit(validation_dir, "RACE + SEX + ARMCD * AVISIT", covariance="us")
    assert not np.allclose(mb.coef()["df"], fit.coef()["df"], rtol=1e-3)


def test_empirical_kenward_roger_rejected(validation_dir: Path) -> None:
    d = fev_data(validation_dir).dropna(subset=["FEV1"])
    with pytest.raises(DesignError, match="Kenward-Roger"):
        mmrm(
            "FEV1 ~ ARMCD",
            d,
            subject="USUBJID",
            visit="AVISIT",
            vcov="empirical",
            df_method="kenward-roger",
        )


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    kind=st.sampled_from(["empirical", "empirical-jackknife", "empirical-bias-reduced"]),
)
def test_empirical_df_invariant_to_subject_relabelling(seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    n_sub, visits = 24, ["v1", "v2", "v3"]
    d = pd.DataFrame(
        {
            "subject": np.repeat([f"s{i}" for i in range(n_sub)], 3),
            "visit": np.tile(visits, n_sub),
            "arm": np.repeat(rng.permutation(["a", "b"] * (n_sub // 2)), 3),
            "x": np.repeat(rng.normal(size=n_sub), 3),
        }
    )
    d["y"] = d["x"] + rng.normal(size=n_sub).repeat(3) + rng.normal(size=len(d))
    d = d.drop(index=rng.choice(len(d), 6, replace=False)).reset_index(drop=True)
    fit = mmrm(
        "y ~ x + arm * visit", d, subject="subject", visit="visit", covariance="cs", vcov=kind
    )
    perm = rng.permutation(n_sub)
    relab = d.assign(subject=d["subject"].map({f"s{i}": f"t{perm[i]}" for i in range(n_sub)}))
    relab = relab.sample(frac=1.0, random_state=seed % 1000).reset_index(drop=True)
    fit2 = mmrm(
        "y ~ x + arm * visit", relab, subject="subject", visit="visit", covariance="cs", vcov=kind
    )
    np.testing.assert_allclose(fit2.coef()["df"], fit.coef()["df"], rtol=1e-6)
    np.testing.assert_allclose(fit2.anova()["den_df"], fit.anova()["den_df"], rtol=1e-6)


# ---------------------------------------------------------------------- fit control
RHS = "RACE + SEX + ARMCD * AVISIT"


@pytest.mark.parametrize(
    "optimizer",
    [
        "L-BFGS-B",
        "BFGS",
        "CG",
        "nlminb",
        "trust-ncg",
        "newton",
        ["L-BFGS-B", "BFGS", "CG", "nlminb"],
    ],
)
@pytest.mark.parametrize("start", [None, "std", "emp"])
def test_optimizers_and_starts_reach_the_same_fit(
    validation_dir: Path, optimizer: Any, start: Any
) -> None:
    base = fev_fit(validation_dir, RHS)
    fit = fev_fit(
        validation_dir,
        RHS,
        optimizer=tuple(optimizer) if isinstance(optimizer, list) else optimizer,
        start=start,
    )
    assert fit.converged
    first = optimizer if isinstance(optimizer, str) else optimizer[0]
    assert fit.optimizer_info.method == {"nlminb": "trust-exact"}.get(first, first)
    assert len(fit.optimizer_info.attempts) == 1  # the first converged: no refits
    assert abs(fit.loglik - base.loglik) < 1e-8
    np.testing.assert_allclose(fit.theta, base.theta, atol=1e-6)
    np.testing.assert_allclose(fit.coef()["df"], base.coef()["df"], rtol=1e-5)


def test_refit_multiple_optimizers_reports_every_attempt(validation_dir: Path) -> None:
    base = fev_fit(validation_dir, RHS)
    # Nelder-Mead from mmrm's std_start stops at its evaluation limit far from the optimum
    fit = fev_fit(validation_dir, RHS, optimizer=("Nelder-Mead", "newton", "BFGS"), start="std")
    att = fit.optimizer_info.attempts
    assert [a.split(":")[0] for a in att] == ["Nelder-Mead", "newton", "BFGS"]
    assert "not converged" in att[0]
    assert att[1].endswith(", converged)")
    assert fit.converged
    assert fit.optimizer_info.method in ("newton", "BFGS")
    assert abs(fit.loglik - base.loglik) < 1e-8
    with pytest.warns(RehabStatsWarning, match="did not converge"):
        bad = mmrm(
            f"FEV1 ~ {RHS}",
            fev_data(validation_dir).dropna(),
            subject="USUBJID",
            visit="AVISIT",
            optimizer="Nelder-Mead",
            start="std",
        )
    assert not bad.converged
    assert bad.loglik < base.loglik


def test_std_and_emp_start_values(validation_dir: Path) -> None:
    from rehabstats.models._mmrm import emp_start, std_start

    assert std_start("ar1", 4).tolist() == [0.0, 0.5]
    assert std_start("us", 4).shape == (10,)
    assert std_start("toeph", 4).shape == (7,)
    assert std_start("cs", 4, n_groups=2).tolist() == [0.0, 0.0, 0.0, 0.0]
    # emp_start: log-Cholesky of R's pairwise covariance of OLS residuals (hand-checked case)
    y = np.array([1.0, 2.0, 4.0, 3.0, 5.0, 9.0])
    X = np.ones((6, 1))
    th = emp_start(y, X, np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 0, 1, 0, 1]), 2)
    r = (y - y.mean()).reshape(3, 2)
    S = np.cov(r.T)
    Lc = np.linalg.cholesky(S)
    np.testing.assert_allclose(
        th, [math.log(Lc[0, 0]), math.log(Lc[1, 1]), Lc[1, 0] / Lc[1, 1]], rtol=1e-12
    )


@settings(max_examples=6, deadline=None)
@given(cov=st.sampled_from(["us", "cs", "ar1h", "toep", "adh"]), seed=st.integers(0, 10**6))
def test_start_at_the_optimum_reproduces_the_fit(cov: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, visits = 30, ["v1", "v2", "v3", "v4"]
    d = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), 4),
            "visit": np.tile(visits, n),
            "arm": np.repeat(rng.permutation(["c", "t"] * (n // 2)), 4),
        }
    )
    d["y"] = rng.normal(size=n).repeat(4) + 0.3 * np.tile(np.arange(4), n) + rng.normal(size=len(d))
    d = d.drop(index=rng.choice(len(d), 10, replace=False))
    fit = mmrm("y ~ arm * visit", d, subject="id", visit="visit", covariance=cov)
    again = mmrm(
        "y ~ arm * visit",
        d,
        subject="id",
        visit="visit",
        covariance=cov,
        start=fit.theta,
        optimizer="newton",
    )
    assert again.converged
    np.testing.assert_allclose(again.theta, fit.theta, atol=1e-7)
    assert abs(again.loglik - fit.loglik) < 1e-9
    called: dict[str, Any] = {}

    def my_start(**kw: Any) -> np.ndarray:
        called.update(kw)
        return np.asarray(fit.theta)

    cb = mmrm("y ~ arm * visit", d, subject="id", visit="visit", covariance=cov, start=my_start)
    ser = mmrm(
        "y ~ arm * visit",
        d,
        subject="id",
        visit="visit",
        covariance=cov,
        start=pd.Series(fit.theta),
    )
    assert abs(ser.loglik - fit.loglik) < 1e-9
    assert called["cov_type"] == cov
    assert called["n_visits"] == 4
    assert called["x_matrix"].shape == (len(d), len(fit.beta))
    np.testing.assert_allclose(cb.theta, fit.theta, atol=1e-7)


def test_control_argument_errors(validation_dir: Path) -> None:
    d = fev_data(validation_dir).dropna(subset=["FEV1"])
    kw: dict[str, Any] = {"subject": "USUBJID", "visit": "AVISIT"}
    with pytest.raises(DataError, match="'optimizer' argument must be.*'nlminb'.*got 'nlm'"):
        mmrm("FEV1 ~ ARMCD", d, optimizer="nlm", **kw)
    with pytest.raises(DataError, match=r"start values must be 10 finite numbers"):
        mmrm("FEV1 ~ ARMCD", d, start=[0.0, 0.0], **kw)
    with pytest.raises(DataError, match="not positive definite"):
        mmrm("FEV1 ~ ARMCD", d, covariance="cs", start=[0.0, 50.0], **kw)
    with pytest.raises(DataError, match="'start' argument must be"):
        mmrm("FEV1 ~ ARMCD", d, start="zero", **kw)
    with pytest.raises(DataError, match="'accept_singular' argument must be True or False"):
        mmrm("FEV1 ~ ARMCD", d, accept_singular="no", **kw)
    with pytest.raises(DataError, match="'drop_visit_levels' argument must be True or False"):
        mmrm("FEV1 ~ ARMCD", d, drop_visit_levels=None, **kw)


def test_accept_singular(validation_dir: Path) -> None:
    d = fev_data(validation_dir).dropna(subset=["FEV1"]).assign(twice=lambda x: 2.0 * x["FEV1_BL"])
    kw: dict[str, Any] = {"subject": "USUBJID", "visit": "AVISIT"}
    with pytest.warns(RehabStatsWarning, match="aliased"):
        fit = mmrm("FEV1 ~ ARMCD + FEV1_BL + twice", d, **kw)
    assert fit.aliased == ("twice",)
    with pytest.raises(
        DesignError,
        match=r"column\(s\) 'twice' are linear combinations.*"
        r"accept_singular=False",
    ):
        mmrm("FEV1 ~ ARMCD + FEV1_BL + twice", d, accept_singular=False, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        full = mmrm("FEV1 ~ ARMCD + FEV1_BL", d, accept_singular=False, **kw)
    assert full.aliased == ()


def test_drop_visit_levels_against_gls(validation_dir: Path) -> None:
    ref = load_json(REF / "drop_visit_levels.json")
    d = fev_data(validation_dir)
    d = d[d["AVISIT"] != "VIS2"]  # the Categorical keeps the level VIS2
    kw: dict[str, Any] = {"subject": "USUBJID", "visit": "AVISIT", "covariance": ref["cov"]}
    for flag, key in ((True, "dropped"), (False, "kept")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RehabStatsWarning)
            fit = mmrm(f"FEV1 ~ {ref['rhs']}", d, drop_visit_levels=flag, **kw)
        r = ref[key]
        assert fit.visit_levels == (
            ["VIS1", "VIS3", "VIS4"] if flag else ["VIS1", "VIS2", "VIS3", "VIS4"]
        )
        corr = fit.correlation_matrix.to_numpy()
        assert abs(fit.loglik - r["loglik"]) < 1e-6
        assert abs(corr[0, 1] - r["rho"]) < 1e-5
        if not flag:  # VIS1 to VIS3 is lag 2
            assert abs(corr[0, 2] - r["rho"] ** 2) < 1e-5
        np.testing.assert_allclose(fit.coef()["estimate"], r["beta"], rtol=1e-5)
        np.testing.assert_allclose(fit.coef()["se"], r["se"], rtol=1e-5)
    with pytest.raises(DesignError, match=r"keeps visit\(s\) 'VIS2'.*covariance='us'"):
        mmrm(
            "FEV1 ~ ARMCD",
            d.dropna(subset=["FEV1"]),
            subject="USUBJID",
            visit="AVISIT",
            drop_visit_levels=False,
        )
    obs = d.dropna(subset=["FEV1"])
    with pytest.raises(DesignError, match=r"covariance='ad'"):
        mmrm(
            "FEV1 ~ ARMCD",
            obs,
            subject="USUBJID",
            visit="AVISIT",
            covariance="ad",
            drop_visit_levels=False,
        )
    # toep: every lag (1: VIS3-VIS4, 2: VIS1-VIS3, 3: VIS1-VIS4) is observed, so it is accepted
    toep = mmrm(
        "FEV1 ~ ARMCD",
        obs,
        subject="USUBJID",
        visit="AVISIT",
        covariance="toep",
        drop_visit_levels=False,
    )
    assert toep.converged
    assert toep.covariance_matrix.shape == (4, 4)
    # visit_order lists a visit absent from the data: kept as well
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        vo = mmrm(
            "FEV1 ~ ARMCD + FEV1_BL",
            d.assign(AVISIT=d["AVISIT"].astype(str)),
            drop_visit_levels=False,
            visit_order=["VIS1", "VIS2", "VIS3", "VIS4"],
            **kw,
        )
    assert vo.visit_levels == ["VIS1", "VIS2", "VIS3", "VIS4"]
    assert abs(vo.loglik - ref["kept"]["loglik"]) < 1e-6


# ---------------------------------------------------------------------- marginal effects
def test_marginal_effect_population_matches_mmrm_gcomp(validation_dir: Path) -> None:
    ref = load_json(REF / "mmrm_gcomp.json")
    fit = fev_fit(validation_dir, ref["rhs"], covariance=ref["cov"])
    m = fit.marginal_effect(type="means", variance="population")
    assert list(m["ARMCD"]) == ["PBO", "TRT"] * 4
    assert list(m["AVISIT"]) == [v for v in ["VIS1", "VIS2", "VIS3", "VIS4"] for _ in (0, 1)]
    assert m.attrs["n_subjects"] == 200  # every subject of fev_data, as mmrm
    assert rel(m["estimate"], ref["emmean"]) < ref["tolerance"]
    assert rel(m["se"], ref["se"]) < ref["tolerance"]
    # the correction only adds variance; without it the SEs are emmeans' conditional ones
    cond = fit.marginal_effect(type="means")
    assert np.all(m["se"] > cond["se"])
    np.testing.assert_allclose(m["estimate"], cond["estimate"], rtol=1e-12)


EMM = load_json(REF / "emmeans_marginal.json")


@pytest.mark.parametrize("result", EMM["results"], ids=[r["how"] for r in EMM["results"]])
def test_marginal_effect_conditional_matches_emmeans(
    validation_dir: Path, result: dict[str, Any]
) -> None:
    fit = fev_fit(validation_dir, EMM["rhs"], covariance=EMM["cov"])
    assert abs(fit.loglik - EMM["loglik"]) < 1e-6
    for kind, key in (("means", "means"), ("difference", "diffs")):
        tab = fit.marginal_effect(type=kind, df_method="residual")
        r = result[key]
        assert list(tab["AVISIT"]) == r["visit"]
        if kind == "difference":
            assert list(tab["contrast"]) == r["contrast"]
        np.testing.assert_allclose(tab["estimate"], r["estimate"], rtol=1e-6)
        np.testing.assert_allclose(tab["se"], r["se"], rtol=1e-5)
        # emmeans' gls df.error is n - p - (number of correlation parameters: 1 for cs)
        np.testing.assert_array_equal(tab["df"], np.asarray(r["df"]) + 1)
        assert np.all(tab["df"] == fit.nobs - len(fit.beta))


def test_marginal_effect_properties(validation_dir: Path) -> None:
    # no covariates: the marginal effect is emmeans' arm difference at each visit
    plain = fev_fit(validation_dir, "ARMCD * AVISIT")
    me = plain.marginal_effect()
    con = plain.contrasts("ARMCD", by="AVISIT", method="trt.vs.ctrl")
    for c in ("estimate", "se", "df"):
        np.testing.assert_allclose(me[c], con[c], rtol=1e-10)
    assert me.attrs["df_method"] == "satterthwaite"
    # additive covariate: the correction leaves the differences' SE and df unchanged (mmrm test)
    add = fev_fit(validation_dir, "FEV1_BL + ARMCD + AVISIT")
    pop, cond = (add.marginal_effect(variance=v) for v in ("population", "conditional"))
    np.testing.assert_allclose(pop["se"], cond["se"], rtol=1e-12)
    np.testing.assert_allclose(pop["df"], cond["df"], rtol=1e-12)
    # Satterthwaite df with the correction: scaled by (v_pop / v_cond)^2 (mmrm's df_md)
    inter = fev_fit(validation_dir, EMM["rhs"], covariance="cs")
    p2, c2 = (inter.marginal_effect(variance=v) for v in ("population", "conditional"))
    np.testing.assert_allclose(p2["df"], c2["df"] * (p2["se"] / c2["se"]) ** 4, rtol=1e-12)
    # the subjects in the fit only
    fitonly = inter.marginal_effect(subjects="fit")
    assert fitonly.attrs["n_subjects"] == inter.n_subjects < 200
    assert not np.allclose(fitonly["estimate"], c2["estimate"])
    # no visit term: one row per arm difference
    novis = fev_fit(validation_dir, "FEV1_BL + ARMCD")
    one = novis.marginal_effect()
    assert list(one.columns[:2]) == ["contrast", "estimate"]
    assert len(one) == 1
    with pytest.raises(DataError, match="'type'"):
        inter.marginal_effect(type="ratio")
    with pytest.raises(DataError, match="'reference' is 'XYZ'"):
        inter.marginal_effect(reference="XYZ")
    with pytest.raises(DataError, match="'arm' must name"):
        inter.marginal_effect(arm="FEV1_BL")


# ---------------------------------------------------------------------- broom-style tables
def test_tidy_glance_augment_mmrm(validation_dir: Path) -> None:
    fit = fev_fit(validation_dir, "RACE + SEX + ARMCD * AVISIT", vcov="empirical")
    td = fit.tidy()
    coef = fit.coef()
    assert list(td.columns) == [
        "term",
        "estimate",
        "std.error",
        "df",
        "statistic",
        "p.value",
        "conf.low",
        "conf.high",
    ]
    np.testing.assert_array_equal(td.iloc[:, 1:].to_numpy(), coef.iloc[:, 1:].to_numpy())
    assert list(fit.tidy(conf_int=False).columns)[-1] == "p.value"
    res = fit.tidy(df_method="residual", conf_level=0.9)
    assert np.all(res["df"] == fit.nobs - len(fit.beta))
    assert res.attrs["df_method"] == "residual"
    with pytest.raises(DataError, match="'conf_int'"):
        fit.tidy(conf_int="yes")
    g = fit.glance()
    assert len(g) == 1
    assert g.iloc[0].to_dict() == {
        "logLik": fit.loglik,
        "AIC": fit.aic,
        "BIC": fit.bic,
        "deviance": -2 * fit.loglik,
        "nobs": fit.nobs,
        "df.residual": fit.nobs - len(fit.beta),
        "n_subjects": 197,
        "converged": True,
        "covariance": "us",
        "reml": True,
    }
    aug = fit.augment()
    y = fit.frame["FEV1"].to_numpy()
    np.testing.assert_allclose(aug[".fitted"], fit.fitted(), rtol=1e-14)
    np.testing.assert_allclose(aug[".resid"], y - fit.fitted(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(aug[".pearson"], fit.residuals("pearson"), rtol=1e-12)
    assert aug.index.equals(fit.frame.index)
    assert "FEV1" in aug.columns
    cond = fit.augment(conditional=True, interval="prediction")
    np.testing.assert_allclose(cond[".fitted"], y, rtol=1e-14)  # observed: the data itself
    assert {".se.fit", ".lower", ".upper"} <= set(cond.columns)
    # newdata with missing outcomes: conditional predictions there, residuals NaN
    d = fev_data(validation_dir)
    aug2 = fit.augment(d, conditional=True, interval="confidence")
    miss = d["FEV1"].isna().to_numpy()
    assert aug2.loc[miss, ".resid"].isna().all()
    assert aug2.loc[~miss, ".resid"].notna().all()
    assert (aug2.loc[miss, ".se.fit"] > 0).all()
    np.testing.assert_allclose(aug2.loc[~miss, ".resid"], aug[".resid"].to_numpy(), rtol=1e-12)
    assert len(d.columns) + 6 == len(aug2.columns)  # input not modified, columns added


def test_tidy_glance_other_models() -> None:
    import rehabstats as rs

    df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
    lm = rs.lmm("alsfrs ~ arm * visit", df, subject="subject")
    g = lm.glance().iloc[0]
    assert g["sigma"] == lm.sigma
    assert g["converged"] == lm.converged
    assert g["reml"]
    assert list(lm.tidy()["term"]) == list(lm.coef_names)
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"arm": np.repeat(["control", "active"], 15), "b": rng.normal(50, 5, 30)})
    d["y"] = d["b"] + np.repeat([0.0, 3.0], 15) + rng.normal(0, 2, 30)
    an = rs.ancova(d, outcome="y", arm="arm", baseline="b")
    ga = an.glance().iloc[0]
    assert ga["df.residual"] == 27
    assert ga["sigma"] == an.sigma
    assert "n_subjects" not in ga
    np.testing.assert_allclose(an.tidy()["std.error"], an.coef()["se"], rtol=0)


@pytest.mark.parametrize("kind", ["empirical", "empirical-jackknife", "empirical-bias-reduced"])
def test_empirical_df_shortcut_equals_mmrm_g_matrix(kind: str) -> None:
    """G = D - Q'VQ equals mmrm's dense construction of src/empirical.cpp (g_mat)."""
    rng = np.random.default_rng(11)
    n_sub = 16
    d = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n_sub), 3),
            "visit": np.tile(["a", "b", "c"], n_sub),
            "arm": np.repeat(["c", "t"] * (n_sub // 2), 3),
            "x": np.repeat(rng.normal(size=n_sub), 3),
        }
    )
    d["y"] = d["x"] + rng.normal(size=len(d)) + rng.normal(size=n_sub).repeat(3)
    d = d.drop(index=[1, 8, 20, 33]).reset_index(drop=True)
    fit = mmrm("y ~ x + arm * visit", d, subject="id", visit="visit", covariance="csh", vcov=kind)
    emp = fit._emp_df
    assert emp is not None
    Xt, AX, subj, V = emp.Xt, emp.AX, emp.subject, emp.V
    n, p = Xt.shape
    IH = np.eye(n) - Xt @ V @ Xt.T
    g = np.zeros((n, p * n_sub))  # mmrm's g_mat
    for i in range(n_sub):
        rows = np.flatnonzero(subj == i)
        g[:, i * p : (i + 1) * p] = IH[:, rows] @ (AX[rows] @ V)
    for c in [np.eye(p)[1], rng.normal(size=p), np.eye(p)[p - 1]]:
        C = np.kron(np.eye(n_sub), c[None, :])  # blockdiag(c', ..., c')
        G = (g @ C.T).T @ (g @ C.T)
        expected = np.trace(G) ** 2 / np.sum(G**2)
        assert math.isclose(emp.df_1d(c), expected, rel_tol=1e-10)
