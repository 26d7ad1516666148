"""rs.models.lmm / mixed_anova against R on the simulated sets of tests/reference/models/lmm.

lmm_reference.R fits lmer with tight optimiser tolerances (lme4 1.1-31, lmerTest 3.1-3,
pbkrtest 0.5.2, emmeans 1.8.4-1, afex 1.2-1): unbalanced arms (7 vs 13), intermittent
missingness, 2 and 5 visits, a small random-intercept variance, one estimated at zero
(singular fit), and 3 arms. Tolerance: rtol 1e-5 for estimates, SEs, dfs, F and
confidence limits (atol 1e-5 where a limit is near zero); afex closed form 1e-10.
"""

from __future__ import annotations

import json

import pytest
from conftest import load_json
from numpy.testing import assert_allclose

import rehabstats.models as rsm
from models._lmm_helpers import OWN_DIR, assert_table, load_trial, pvalue_close
from rehabstats.errors import ConvergenceWarning, DesignError, RehabStatsWarning

SPECS = json.loads((OWN_DIR / "datasets.json").read_text(encoding="utf-8"))
SETS = list(SPECS)
RANDOM = {"ri": "1", "rs": "1 + visit_index"}
DF = {"satterthwaite": "satterthwaite", "kenward_roger": "kenward-roger"}


def data(name, observed_only=True):
    sp = SPECS[name]
    return load_trial(OWN_DIR / f"{name}.csv", sp["arm_levels"], sp["visit_levels"], observed_only)


def fit(name, kind, ref):
    d = data(name)
    if ref["fit"]["singular"]:
        with pytest.warns(ConvergenceWarning, match="Singular fit"):
            m = rsm.lmm("outcome ~ arm * visit", d, subject="subject", random=RANDOM[kind])
        assert m.singular
        return m
    m = rsm.lmm("outcome ~ arm * visit", d, subject="subject", random=RANDOM[kind])
    assert not m.singular
    assert m.converged
    return m


@pytest.mark.parametrize("kind", ["ri", "rs"])
@pytest.mark.parametrize("name", SETS)
def test_lmm_matches_r(name, kind):
    ref_all = load_json(OWN_DIR / f"{name}.json")
    ref = ref_all[kind]
    if "error" in ref:  # lme4 refuses: as many random effects as observations
        assert "number of random effects" in ref["error"]
        with pytest.raises(DesignError, match="number of random effects"):
            rsm.lmm("outcome ~ arm * visit", data(name), subject="subject", random=RANDOM[kind])
        return
    m = fit(name, kind, ref)
    assert_allclose(m.loglik, ref["fit"]["reml_loglik"], rtol=1e-9)
    assert_allclose(m.aic, ref["fit"]["AIC"], rtol=1e-9)
    assert_allclose(m.bic, ref["fit"]["BIC"], rtol=1e-9)
    assert_allclose(m.beta, list(ref["fit"]["fixef"].values()), rtol=1e-6, atol=1e-9)
    assert_allclose(
        m.variance_components["variance_or_cov"],
        [v["vcov"] for v in ref["fit"]["variance_components"]],
        rtol=1e-5,
        atol=1e-8,
    )
    for key, method in DF.items():
        coef = m.coef(df_method=method)
        assert_table(
            coef, ref[f"summary_{key}"], ["estimate", "se", "df", "t"], rtol=1e-5, atol=1e-9
        )
        pvalue_close(coef["p"], [r["p"] for r in ref[f"summary_{key}"]], rtol=1e-4)
        an = m.anova(df_method=method)
        assert list(an["term"]) == [r["term"] for r in ref[f"anova_{key}"]]
        assert_table(an, ref[f"anova_{key}"], ["num_df", "den_df", "F"], rtol=1e-5)
        emm_ref = ref[f"emmeans_{key}"]
        assert_table(
            m.emmeans("arm", by="visit", df_method=method),
            emm_ref["emmeans"],
            ["estimate", "se", "df", "ci_low", "ci_high"],
            rtol=1e-5,
            atol=1e-5,
        )
        # the fixture holds emmeans' pairs(reverse = TRUE) and trt.vs.ctrl, unadjusted
        for meth, ref_key in [("revpairwise", "pairs"), ("trt.vs.ctrl", "trt_vs_ctrl")]:
            con = m.contrasts("arm", by="visit", method=meth, adjust="none", df_method=method)
            assert list(con["contrast"]) == [r["contrast"] for r in emm_ref[ref_key]]
            assert_table(
                con,
                emm_ref[ref_key],
                ["estimate", "se", "df", "ci_low", "ci_high"],
                rtol=1e-5,
                atol=1e-5,
            )


@pytest.mark.parametrize("name", ["unbalanced_3v", "intermittent_4v", "three_arms_3v"])
def test_ml_fit_matches_r(name):
    ref = load_json(OWN_DIR / f"{name}.json")["ri_ml"]
    m = rsm.lmm("outcome ~ arm * visit", data(name), subject="subject", reml=False)
    assert "kenward-roger" not in m.df_methods
    assert_allclose(m.loglik, ref["fit"]["reml_loglik"], rtol=1e-9)
    assert_allclose(m.beta, list(ref["fit"]["fixef"].values()), rtol=1e-6, atol=1e-9)
    assert_table(m.coef(), ref["summary_satterthwaite"], ["se", "df"], rtol=1e-5)
    assert_table(m.anova(), ref["anova_satterthwaite"], ["F", "den_df"], rtol=1e-5)


@pytest.mark.parametrize("name", SETS)
def test_mixed_anova_matches_afex(name):
    ref = load_json(OWN_DIR / f"{name}.json")["afex"]
    d = data(name, observed_only=False)
    if d["outcome"].isna().any():
        with pytest.warns(RehabStatsWarning, match="complete cases"):
            res = rsm.mixed_anova(d, outcome="outcome", arm="arm", visit="visit", subject="subject")
    else:
        res = rsm.mixed_anova(d, outcome="outcome", arm="arm", visit="visit", subject="subject")
    assert res.n_subjects == ref["n_subjects"]
    assert_table(
        res.table, ref["anova_GG"], ["num_df", "den_df", "MSE", "F", "ges", "p"], rtol=1e-10
    )
    assert_table(
        res.uncorrected,
        ref["anova_uncorrected"],
        ["num_df", "den_df", "MSE", "F", "ges", "p"],
        rtol=1e-10,
    )
    eps = ref.get("gg_epsilon")
    if isinstance(eps, list) and eps and eps[0] is not None:
        assert_allclose(res.gg_epsilon, eps[0], rtol=1e-10)
    else:  # two visits: sphericity holds trivially (afex reports no epsilon)
        assert len(SPECS[name]["visit_levels"]) == 2
        assert_allclose(res.gg_epsilon, 1.0, rtol=1e-12)
