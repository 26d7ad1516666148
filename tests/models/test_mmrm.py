"""MMRM: multi-df tests against lmerTest/pbkrtest, API, invariances, bad input."""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import load_json
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from rehabstats.errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning
from rehabstats.models._covariance import COVARIANCE_STRUCTURES
from rehabstats.models._mmrm import MMRMResult, mmrm

DATASETS = ["cimt_n20_3v", "rct_n40_4v_missing", "als_n60_7v_dropout", "threearm_n45_4v"]


def _rct(vdir: Path, name: str) -> pd.DataFrame:
    ref = load_json(vdir / "rct" / "mmrm" / f"{name}.json")["design"]
    data = pd.read_csv(vdir / "rct" / f"{name}.csv")
    data["arm"] = pd.Categorical(data["arm"], categories=ref["arm_levels"])
    data["visit"] = pd.Categorical(data["visit"], categories=ref["visit_levels"])
    return data


def _fit(data: pd.DataFrame, **kw: object) -> MMRMResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)  # dropped missing outcomes
        return mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit", **kw)  # type: ignore[arg-type]


def _toy(n_per_arm: int = 8, k: int = 3, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 2 * n_per_arm
    subj = np.repeat([f"s{i:02d}" for i in range(n)], k)
    arm = np.repeat(["ctl"] * n_per_arm + ["trt"] * n_per_arm, k)
    visit = np.tile([f"t{j}" for j in range(k)], n)
    y = rng.normal(size=n * k) + np.repeat(rng.normal(size=n), k) + np.tile(np.arange(k), n)
    return pd.DataFrame({"subject": subj, "arm": arm, "visit": visit, "outcome": y})


# ---------------------------------------------------------------- multi-df tests
@pytest.mark.parametrize("name", DATASETS)
def test_cs_anova_matches_lmertest_random_intercept(validation_dir: Path, name: str) -> None:
    # compound symmetry with rho > 0 is the random-intercept model: lmerTest's type III
    # Satterthwaite F tests (numDeriv Hessian) and pbkrtest's Kenward-Roger, which equals
    # mmrm's "Kenward-Roger-Linear" for cs
    fit = _fit(_rct(validation_dir, name), covariance="cs")
    ref = load_json(validation_dir / "rct" / f"{name}.json")["results"]
    # KR den_df: pbkrtest takes W from the expected information, mmrm (and we) from the
    # observed Hessian of the REML criterion -> den_df agree to a few 1e-3 only (F to 1e-5)
    for method, key, df_tol in [
        ("satterthwaite", "lmer.ri.anova_satterthwaite", 1e-4),
        ("kenward-roger-linear", "lmer.ri.anova_kenward_roger", 5e-3),
    ]:
        want = pd.DataFrame(ref[key]["output"]).set_index("term")
        got = fit.anova(df_method=method).set_index("term").loc[want.index]
        assert_allclose(got["num_df"], want["num_df"], rtol=1e-12)
        assert_allclose(got["F"], want["F"], rtol=1e-5)
        assert_allclose(got["den_df"], want["den_df"], rtol=df_tol)
        # p follows the df: 1e-4 relative for Satterthwaite, 2e-2 for KR (tiny p values)
        assert_allclose(got["p"], want["p"], rtol=1e-4 if df_tol < 1e-3 else 2e-2)


def test_one_row_md_equals_1d(validation_dir: Path) -> None:
    fit = _fit(_rct(validation_dir, "als_n60_7v_dropout"), covariance="us")
    L = np.zeros(len(fit.beta))
    L[-1] = 1.0
    for method in ("satterthwaite", "kenward-roger", "residual", "asymptotic"):
        est, se, df = fit._contrast_1d(L, method)
        F, q, den = fit._contrast_md(L[None, :], method)
        if method != "kenward-roger":  # KR scales F by lambda; for q = 1 lambda is ~1
            assert_allclose(F, (est / se) ** 2, rtol=1e-10)
        assert q == 1.0
        assert_allclose(den, df, rtol=1e-10)
    assert fit._contrast_1d(L, "residual")[2] == fit.nobs - len(fit.beta)
    assert math.isinf(fit._contrast_1d(L, "asymptotic")[2])


# ---------------------------------------------------------------- API and invariances
def test_result_attributes_and_effect_sizes(validation_dir: Path) -> None:
    data = _rct(validation_dir, "cimt_n20_3v")
    fit = _fit(data, covariance="us")
    assert fit.converged
    assert fit.optimizer_info.converged
    assert fit.optimizer_info.max_abs_gradient < 1e-6
    assert list(fit.covariance_matrix.index) == ["pre", "post", "followup"]
    corr = fit.correlation_matrix.to_numpy()
    assert_allclose(np.diag(corr), 1.0, rtol=1e-12)
    sd = np.sqrt(np.diag(fit.covariance_matrix.to_numpy()))
    # baseline_sd: pooled within-arm SD of the observed outcome at the first visit
    pre = fit.frame[fit.frame["visit"] == "pre"]
    sd0 = np.sqrt(pre.groupby("arm", observed=True)["outcome"].var().mean())
    assert_allclose(fit._standardizer("baseline_sd"), sd0, rtol=1e-12)
    assert_allclose(fit._standardizer("residual_sd"), sd.mean(), rtol=1e-12)
    es = fit.effect_sizes("baseline_sd")
    con = fit.contrasts("arm", by="visit", method="trt.vs.ctrl")
    assert_allclose(es["estimate"], con["estimate"] / sd0, rtol=1e-12)
    assert es["standardizer_source"].iloc[0].startswith("pooled within-arm SD of 'outcome'")
    assert fit.arm_name == "arm"
    assert "MMRMResult" in repr(fit)
    assert "Type III" in fit.summary()
    assert fit.vcov().shape == (len(fit.beta), len(fit.beta))


def test_row_order_and_input_untouched(validation_dir: Path) -> None:
    data = _rct(validation_dir, "rct_n40_4v_missing")
    before = data.copy()
    fit = _fit(data, covariance="us")
    pd.testing.assert_frame_equal(data, before)
    shuffled = data.sample(frac=1.0, random_state=np.random.RandomState(3))
    fit2 = _fit(shuffled, covariance="us")
    # visit is a Categorical, so the row order does not change the visit order
    assert_allclose(fit2.beta, fit.beta, rtol=1e-7, atol=1e-9)
    assert_allclose(fit2.loglik, fit.loglik, rtol=1e-10)
    a = fit.contrasts("arm", by="visit", method="revpairwise", adjust="none")
    b = fit2.contrasts("arm", by="visit", method="revpairwise", adjust="none")
    assert_allclose(b["df"], a["df"], rtol=1e-6)


def test_visit_order_from_within_subject_sequence() -> None:
    data = _toy()
    data["visit"] = data["visit"].map({"t0": "pre", "t1": "post", "t2": "followup"})
    fit = mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit")
    # not alphabetical (followup < post < pre): every subject's rows agree on one order
    assert list(fit.covariance_matrix.index) == ["pre", "post", "followup"]
    assert "visitpost" in fit.coef_names
    assert "visitfollowup" in fit.coef_names


def test_ml_fit_and_kr_not_offered(validation_dir: Path) -> None:
    data = _rct(validation_dir, "cimt_n20_3v")
    reml = _fit(data, covariance="cs")
    ml = _fit(data, covariance="cs", reml=False)
    assert ml.loglik > reml.loglik  # ML has no log|X'V^-1X| penalty
    assert "kenward-roger" not in ml.df_methods
    assert_allclose(ml.aic, -2 * ml.loglik + 2 * (2 + len(ml.beta)), rtol=1e-12)
    with pytest.raises(DataError, match="df_method"):
        ml.coef(df_method="kenward-roger")


def test_us_300_by_7_is_fast() -> None:
    rng = np.random.default_rng(1)
    n, k = 300, 7
    t = np.arange(k)
    cov = 4 * 0.8 ** np.abs(np.subtract.outer(t, t))
    y = 40 - t + rng.standard_normal((n, k)) @ np.linalg.cholesky(cov).T
    data = pd.DataFrame(
        {
            "subject": np.repeat(np.arange(n), k),
            "arm": np.repeat(np.where(np.arange(n) < 150, "a", "b"), k),
            "visit": np.tile(t, n),
            "outcome": y.ravel(),
        }
    )
    start = time.perf_counter()
    fit = mmrm("outcome ~ arm * C(visit)", data, subject="subject", visit="visit")
    fit.contrasts("arm", by="visit", method="revpairwise", adjust="none")
    elapsed = time.perf_counter() - start
    assert fit.converged
    assert elapsed < 5.0  # ~0.15 s on the reference machine; generous bound for shared CI


# ---------------------------------------------------------------- bad input
def test_duplicate_visit_rejected() -> None:
    data = _toy()
    data.loc[1, "visit"] = "t0"
    with pytest.raises(DataError, match=r"'s00'.*'t0'.*listed 2 times"):
        mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit")


def test_visit_with_single_observation_rejected() -> None:
    data = _toy()
    data.loc[2, "visit"] = "t9"
    with pytest.raises(DesignError, match=r"'t9'.*single observation"):
        mmrm("outcome ~ arm + visit", data, subject="subject", visit="visit")


def test_non_numeric_outcome_rejected() -> None:
    data = _toy()
    data["outcome"] = data["outcome"].astype(object)
    data.loc[4, "outcome"] = "n/a"
    with pytest.raises(DataError, match=r"'outcome'.*numeric.*'n/a'"):
        mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit")


def test_arm_with_one_subject_rejected() -> None:
    data = _toy()
    data.loc[data["subject"] == "s00", "arm"] = "solo"
    with pytest.raises(DesignError, match=r"'solo'.*'arm'.*single subject"):
        mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit")


def test_formula_with_missing_column_rejected() -> None:
    with pytest.raises(DataError, match=r"'age'.*not in the data.*Available"):
        mmrm("outcome ~ arm * visit + age", _toy(), subject="subject", visit="visit")
    with pytest.raises(DataError, match=r"outcome 'score'"):
        mmrm("score ~ arm * visit", _toy(), subject="subject", visit="visit")
    with pytest.raises(DataError, match=r"'subject' names column 'id'"):
        mmrm("outcome ~ arm * visit", _toy(), subject="id", visit="visit")


def test_unknown_covariance_lists_valid_ones() -> None:
    with pytest.raises(
        DataError,
        match=r"'covariance'.*'us', 'cs', 'csh', 'ar1', 'ar1h', "
        r"'toep', 'toeph'.*'unstructured'",
    ):
        mmrm(
            "outcome ~ arm * visit",
            _toy(),
            subject="subject",
            visit="visit",
            covariance="unstructured",
        )
    assert set(COVARIANCE_STRUCTURES) == {
        "us",
        "cs",
        "csh",
        "ar1",
        "ar1h",
        "toep",
        "toeph",
        "ad",
        "adh",
        "sp_exp",
        "sp_gau",
    }


def test_more_parameters_than_data_rejected() -> None:
    data = _toy(n_per_arm=2, k=6)  # 24 observations, 12 fixed + 21 covariance parameters
    with pytest.raises(DesignError, match=r"12 fixed effects and 21 covariance parameters"):
        mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit")


def test_kenward_roger_with_ml_rejected_before_fitting() -> None:
    data = _toy()
    data["outcome"] = data["outcome"].astype(object)
    data.loc[0, "outcome"] = "bad"  # would fail later: the KR/ML check comes first
    with pytest.raises(DesignError, match=r"kenward-roger.*REML"):
        mmrm(
            "outcome ~ arm * visit",
            data,
            subject="subject",
            visit="visit",
            reml=False,
            df_method="kenward-roger",
        )


def test_rank_deficient_design_drops_aliased_cell() -> None:
    data = _toy()
    data = data[~((data["arm"] == "trt") & (data["visit"] == "t2"))]
    with pytest.warns(RehabStatsWarning, match=r"rank deficient.*'armtrt:visitt2'"):
        fit = mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit")
    assert fit.aliased == ("armtrt:visitt2",)
    assert "armtrt:visitt2" not in fit.coef()["term"].tolist()


def test_missing_outcomes_announced_or_raised() -> None:
    data = _toy()
    data.loc[[5, 8], "outcome"] = np.nan
    with pytest.warns(RehabStatsWarning, match=r"2 row\(s\) with a missing value"):
        fit = mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit")
    assert fit.n_omitted == 2
    assert fit.nobs == len(data) - 2
    with pytest.raises(DataError, match="nan_policy='raise'"):
        mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit", nan_policy="raise")


def test_bad_option_values_rejected() -> None:
    with pytest.raises(DataError, match="'reml'"):
        mmrm("outcome ~ arm * visit", _toy(), subject="subject", visit="visit", reml="yes")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="'df_method'"):
        mmrm("outcome ~ arm * visit", _toy(), subject="subject", visit="visit", df_method="KR")
    with pytest.raises(DataError, match="'formula'"):
        mmrm("outcome arm", _toy(), subject="subject", visit="visit")
    with pytest.raises(DataError, match="'data'"):
        mmrm("outcome ~ arm", [1, 2], subject="subject", visit="visit")  # type: ignore[arg-type]


def test_degenerate_fit_warns_and_flags_not_converged() -> None:
    # the outcome at t1 is an exact copy of t0 for every subject: the unstructured
    # covariance is singular at the optimum, so no stationary point with a PD Hessian
    data = _toy(n_per_arm=10)
    t0 = data["visit"] == "t0"
    data.loc[data["visit"] == "t1", "outcome"] = data.loc[t0, "outcome"].to_numpy() + 1.0
    with pytest.warns(ConvergenceWarning, match="did not converge.*gradient"):
        fit = mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit")
    assert fit.converged is False
    assert fit.optimizer_info.converged is False


def test_benchmark_script_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_mmrm.py"
    spec = importlib.util.spec_from_file_location("bench_mmrm", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    times = module.main(["--n", "60", "--repeats", "1", "--no-r"])
    out = capsys.readouterr().out
    assert "ratio" in out
    assert times["rehabstats"] > 0
    assert times["gls"] is None


def test_bundled_als_decline_dataset_is_reproducible(tmp_path: Path) -> None:
    import importlib.util

    import rehabstats as rs

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location(
        "make_als", root / "data" / "sample" / "make_als_decline.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.simulate()
    bundled = rs.datasets.load("als_decline")
    assert "SIMULATED" in rs.datasets.codebook("als_decline")
    assert_allclose(
        bundled["alsfrs"].to_numpy(float), fresh["alsfrs"].to_numpy(float), rtol=0, atol=0
    )
    assert list(bundled["visit"].cat.categories) == [f"month{m}" for m in range(7)]
    assert list(bundled["arm"].cat.categories) == ["placebo", "active"]


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    cov=st.sampled_from(["us", "cs", "ar1h", "toep"]),
)
def test_invariant_to_subject_relabelling_and_row_order(seed: int, cov: str) -> None:
    data = _toy(n_per_arm=7, k=4, seed=seed)
    drop = np.random.default_rng(seed).random(len(data)) < 0.15
    drop &= data["visit"].to_numpy() != "t0"
    # a Categorical fixes the visit order (strings would take the order of first appearance)
    data = data[~drop].assign(
        visit=lambda d: pd.Categorical(d["visit"], categories=["t0", "t1", "t2", "t3"])
    )
    rng = np.random.default_rng(seed + 1)
    relabelled = data.assign(subject="x" + data["subject"].str[::-1]).iloc[
        rng.permutation(len(data))
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # compared only when both converge
        a = mmrm("outcome ~ arm * visit", data, subject="subject", visit="visit", covariance=cov)
        b = mmrm(
            "outcome ~ arm * visit", relabelled, subject="subject", visit="visit", covariance=cov
        )
    if a.converged and b.converged:
        assert_allclose(b.loglik, a.loglik, rtol=1e-9)
        assert_allclose(b.beta, a.beta, rtol=1e-6, atol=1e-8)
        ca, cb = (
            a.contrasts("arm", by="visit", method="revpairwise", adjust="none"),
            b.contrasts("arm", by="visit", method="revpairwise", adjust="none"),
        )
        assert_allclose(cb["se"], ca["se"], rtol=1e-6)
        assert_allclose(cb["df"], ca["df"], rtol=1e-5)
