"""rs.models.ancova against R's lm (../shared/validation/rct/*.json: ancova.lm, ancova.lm_age).

Closed form (OLS): every reported number at rtol 1e-8.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load_json
from numpy.testing import assert_allclose

import rehabstats.models as rsm
from rehabstats.errors import DataError, DesignError, RehabStatsWarning

SETS = ["cimt_n20_3v", "rct_n40_4v_missing", "als_n60_7v_dropout", "threearm_n45_4v"]


def final_visit(validation_dir, name):
    ref = load_json(validation_dir / "rct" / f"{name}.json")
    d = pd.read_csv(validation_dir / "rct" / f"{name}.csv")
    d["arm"] = pd.Categorical(d["arm"], categories=ref["design"]["arm_levels"])
    d["visit"] = pd.Categorical(d["visit"], categories=ref["design"]["visit_levels"])
    return d, ref


@pytest.mark.parametrize("covs", [(), ("age",)])
@pytest.mark.parametrize("name", SETS)
def test_ancova_matches_lm(validation_dir, name, covs):
    d, ref = final_visit(validation_dir, name)
    key = "ancova.lm" if not covs else "ancova.lm_age"
    out = ref["results"][key]["output"]
    n_missing = int(d.loc[d["visit"] == ref["design"]["final_visit"], "outcome"].isna().sum())
    if n_missing:
        with pytest.warns(RehabStatsWarning, match=rf"{n_missing} row\(s\) with a missing value"):
            res = rsm.ancova(
                d, outcome="outcome", arm="arm", baseline="baseline", covariates=covs, visit="visit"
            )
    else:
        res = rsm.ancova(
            d, outcome="outcome", arm="arm", baseline="baseline", covariates=covs, visit="visit"
        )
    assert res.nobs == out["n"]
    assert res.n_omitted == n_missing
    coef = res.coef()
    assert list(coef["term"]) == [c["term"] for c in out["coefficients"]]
    for col in ["estimate", "se", "t", "p", "df", "ci_low", "ci_high"]:
        assert_allclose(coef[col], [c[col] for c in out["coefficients"]], rtol=1e-8, err_msg=col)
    assert_allclose(res.sigma, out["sigma"], rtol=1e-8)
    diffs = res.differences
    arm_terms = out["arm_terms"]
    assert list(diffs["contrast"]) == [f"{t['term'][3:]} - control" for t in arm_terms]
    for col in ["estimate", "se", "t", "p", "df", "ci_low", "ci_high"]:
        assert_allclose(diffs[col], [t[col] for t in arm_terms], rtol=1e-8, err_msg=col)
    # adjusted means differ by exactly the adjusted difference
    means = res.adjusted_means
    assert_allclose(
        means["estimate"].iloc[1:] - means["estimate"].iloc[0], diffs["estimate"], rtol=1e-10
    )


def test_adjusted_means_are_predictions_at_covariate_means(validation_dir):
    d, _ = final_visit(validation_dir, "cimt_n20_3v")
    res = rsm.ancova(
        d, outcome="outcome", arm="arm", baseline="baseline", visit="visit", at="followup"
    )
    rows = d[d["visit"] == "followup"]
    b = res.beta
    expect = [b[0] + b[2] * rows["baseline"].mean(), b[0] + b[1] + b[2] * rows["baseline"].mean()]
    assert_allclose(res.adjusted_means["estimate"], expect, rtol=1e-12)
    # type III F of the arm (1 df) equals t^2
    an = res.anova()
    assert_allclose(
        an.loc[an["term"] == "arm", "F"].iloc[0], res.differences["t"].iloc[0] ** 2, rtol=1e-10
    )


def test_reference_changes_sign(validation_dir):
    d, _ = final_visit(validation_dir, "cimt_n20_3v")
    a = rsm.ancova(d, outcome="outcome", arm="arm", baseline="baseline", visit="visit")
    b = rsm.ancova(
        d, outcome="outcome", arm="arm", baseline="baseline", visit="visit", reference="cimt"
    )
    assert b.differences["contrast"].iloc[0] == "control - cimt"
    assert_allclose(b.differences["estimate"], -a.differences["estimate"], rtol=1e-12)


def test_effect_size_is_difference_over_sd(validation_dir):
    d, _ = final_visit(validation_dir, "cimt_n20_3v")
    res = rsm.ancova(d, outcome="outcome", arm="arm", baseline="baseline", visit="visit")
    es = res.effect_sizes("residual_sd")
    assert_allclose(es["estimate"], res.differences["estimate"] / res.sigma, rtol=1e-12)
    assert_allclose(es["ci_low"], res.differences["ci_low"] / res.sigma, rtol=1e-12)
    base = d[d["visit"] == "followup"]
    pooled = np.sqrt(base.groupby("arm", observed=True)["baseline"].var().mean())  # equal n
    assert_allclose(res.effect_sizes()["sd"].iloc[0], pooled, rtol=1e-12)


def _wide(n=5):
    rng = np.random.default_rng(4)
    return pd.DataFrame(
        {"y": rng.normal(size=2 * n), "b": rng.normal(size=2 * n), "arm": ["a"] * n + ["b"] * n}
    )


def test_bad_inputs():
    d = _wide()
    with pytest.raises(DataError, match="'baseline' names column 'pre'"):
        rsm.ancova(d, outcome="y", arm="arm", baseline="pre")
    bad = d.assign(y=d["y"].astype(object))
    bad.loc[2, "y"] = "x"
    with pytest.raises(DataError, match="numeric"):
        rsm.ancova(bad, outcome="y", arm="arm", baseline="b")
    with pytest.raises(DesignError, match="at least two subjects"):
        rsm.ancova(d.assign(arm=["a"] * 9 + ["c"]), outcome="y", arm="arm", baseline="b")
    with pytest.raises(DesignError, match="at least two arms"):
        rsm.ancova(d.assign(arm="a"), outcome="y", arm="arm", baseline="b")
    with pytest.raises(DataError, match="'reference'"):
        rsm.ancova(d, outcome="y", arm="arm", baseline="b", reference="z")
    with pytest.raises(DesignError, match="parameters"):  # 5 parameters, 4 rows
        rsm.ancova(
            _wide(2).assign(c1=[1.0, 2, 3, 4], c2=[2.0, 1, 0, 5]),
            outcome="y",
            arm="arm",
            baseline="b",
            covariates=["c1", "c2"],
        )
    res = rsm.ancova(d, outcome="y", arm="arm", baseline="b")
    with pytest.raises(DataError, match="'residual'"):
        res.coef(df_method="satterthwaite")
