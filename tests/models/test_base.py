"""The shared inference layer (LinearModelResult): type III, emmeans, contrasts, effect sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import rehabstats.models as rsm
from rehabstats.errors import DataError
from rehabstats.models._base import r_coef_names
from rehabstats.models._emmeans import contrast_matrix


def trial(seed=1, arms=("control", "low", "high"), n=6, visits=("pre", "post", "fu")):
    rng = np.random.default_rng(seed)
    k = len(arms) * n
    d = pd.DataFrame(
        {
            "subject": np.repeat(np.arange(k), len(visits)),
            "arm": pd.Categorical(np.repeat(np.repeat(arms, n), len(visits)), categories=arms),
            "visit": pd.Categorical(np.tile(visits, k), categories=visits),
            "age": np.repeat(rng.integers(30, 70, size=k), len(visits)).astype(float),
        }
    )
    d["y"] = rng.normal(size=len(d)) + np.repeat(rng.normal(size=k), len(visits)) + 0.02 * d["age"]
    return d


def test_type3_anova_invariant_to_coding():
    """Type III F and Satterthwaite df must not depend on the factor coding."""
    d = trial().iloc[:-1]  # unbalanced
    a = rsm.lmm("y ~ arm * visit + age", d, subject="subject").anova()
    b = rsm.lmm("y ~ C(arm, Sum) * C(visit, Sum) + age", d, subject="subject").anova()
    c = rsm.lmm("y ~ C(arm, Treatment('high')) * visit + age", d, subject="subject").anova()
    assert list(a["term"]) == ["arm", "visit", "age", "arm:visit"]
    for other in (b, c):
        assert list(other["term"]) == list(a["term"])
        assert_allclose(other["F"], a["F"], rtol=1e-6)
        assert_allclose(other["num_df"], a["num_df"], rtol=1e-12)
        assert_allclose(other["den_df"], a["den_df"], rtol=1e-5)


def test_naive_treatment_columns_are_not_type3():
    d = trial()
    m = rsm.lmm("y ~ arm * visit", d, subject="subject")
    cols = [i for i, n in enumerate(m.coef_names) if n in ("armlow", "armhigh")]
    L = np.eye(len(m.beta))[cols]
    naive_F, _, _ = m._contrast_md(L, "satterthwaite")
    assert not np.isclose(naive_F, m.anova()["F"].iloc[0], rtol=1e-3)


def test_emmeans_equal_weights_and_covariate_mean():
    d = trial()
    m = rsm.lmm("y ~ arm * visit + age", d, subject="subject")
    grid = m.emmeans(["arm", "visit"])
    b = dict(zip(m.coef_names, m.beta, strict=True))
    age = d["age"].mean()
    first = b["(Intercept)"] + b["age"] * age
    assert_allclose(grid["estimate"].iloc[0], first, rtol=1e-12)
    by_arm = m.emmeans("arm")
    avg = grid.groupby("arm", observed=True, sort=False)["estimate"].mean().to_numpy()
    assert_allclose(by_arm["estimate"], avg, rtol=1e-12)


def test_contrast_order_and_labels_match_emmeans():
    C, names = contrast_matrix(["control", "low", "high"], "pairwise")
    assert names == ["control - low", "control - high", "low - high"]
    assert_allclose(C, [[1, -1, 0], [1, 0, -1], [0, 1, -1]])
    C, names = contrast_matrix(["control", "low", "high"], "revpairwise")
    assert names == ["low - control", "high - control", "high - low"]
    assert_allclose(C, [[-1, 1, 0], [-1, 0, 1], [0, -1, 1]])
    _, names = contrast_matrix(["a", "b", "c", "d"], "trt.vs.ctrl")
    assert names == ["b - a", "c - a", "d - a"]
    _, names = contrast_matrix(["a", "b", "c", "d"], "trt.vs.ctrl", ref=2)
    assert names == ["a - c", "b - c", "d - c"]
    d = trial()
    m = rsm.lmm("y ~ arm * visit", d, subject="subject")
    con = m.contrasts("arm", by="visit", method="trt.vs.ctrl")
    emm = m.emmeans("arm", by="visit")
    assert list(con.columns) == [
        "contrast",
        "visit",
        "estimate",
        "se",
        "df",
        "t",
        "p",
        "ci_low",
        "ci_high",
    ]
    pre = emm[emm["visit"] == "pre"].set_index("arm")["estimate"]
    assert_allclose(con["estimate"].iloc[0], pre["low"] - pre["control"], rtol=1e-12)


def test_ci_and_p_consistent_with_t():
    m = rsm.lmm("y ~ arm * visit", trial(), subject="subject")
    for method in m.df_methods:
        tab = m.coef(df_method=method, ci=0.9)
        from scipy import stats

        q = stats.t.ppf(0.95, tab["df"])
        assert_allclose(tab["ci_high"] - tab["estimate"], q * tab["se"], rtol=1e-12)
        assert_allclose(tab["p"], 2 * stats.t.sf(np.abs(tab["t"]), tab["df"]), rtol=1e-12)


def test_effect_sizes_per_visit():
    d = trial(arms=("control", "cimt"))
    m = rsm.lmm("y ~ arm * visit", d, subject="subject")
    es = m.effect_sizes("baseline_sd")
    con = m.contrasts("arm", by="visit", method="trt.vs.ctrl")
    pre = d[d["visit"] == "pre"]
    sd = np.sqrt(pre.groupby("arm", observed=True)["y"].var().mean())
    assert list(es["visit"]) == ["pre", "post", "fu"]
    assert_allclose(es["sd"], sd, rtol=1e-12)
    assert_allclose(es["estimate"], con["estimate"] / sd, rtol=1e-12)
    assert_allclose(es["ci_high"], con["ci_high"] / sd, rtol=1e-12)
    tot = m.effect_sizes("residual_sd")
    assert_allclose(tot["sd"], np.sqrt(m.G[0, 0] + m.sigma2), rtol=1e-12)
    with pytest.raises(DataError, match="'standardizer'"):
        m.effect_sizes("pooled")


def test_bad_specs_and_options():
    m = rsm.lmm("y ~ arm * visit", trial(), subject="subject")
    with pytest.raises(DataError, match="'dose' is not a factor"):
        m.emmeans("dose")
    with pytest.raises(DataError, match="different factors"):
        m.emmeans("arm", by="arm")
    with pytest.raises(DataError, match="'method'"):
        m.contrasts("arm", method="tukey")
    with pytest.raises(DataError, match="'adjust'"):
        m.contrasts("arm", adjust="dunnett")
    with pytest.raises(DataError, match="'ci'"):
        m.coef(ci=95)
    with pytest.raises(DataError, match="df_method"):
        m.emmeans("arm", df_method="Satterthwaite")


def test_r_coef_names_and_summary():
    m = rsm.lmm("y ~ C(arm, Treatment('control')) * visit + age", trial(), subject="subject")
    assert r_coef_names(m.design_info) == m.coef_names
    assert m.coef_names[:3] == ("(Intercept)", "armlow", "armhigh")
    assert "armlow:visitpost" in m.coef_names
    text = m.summary()
    assert "Type III tests" in text
    assert "armlow:visitpost" in text
    pd.testing.assert_frame_equal(m.to_frame(), m.coef())
    assert "<table" in m._repr_html_()
