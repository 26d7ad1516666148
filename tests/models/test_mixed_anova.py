"""rs.models.mixed_anova against afex::aov_ez (../shared/validation/rct/*.json, afex 1.2-1).

Closed form: rtol 1e-10. Own sets (unbalanced arms, 2 / 5 visits, 3 arms) are in
test_lmm_own.py::test_mixed_anova_matches_afex.
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
COLS = ["num_df", "den_df", "MSE", "F", "ges", "p"]


@pytest.mark.parametrize("name", SETS)
def test_matches_afex(validation_dir, name):
    ref = load_json(validation_dir / "rct" / f"{name}.json")
    d = pd.read_csv(validation_dir / "rct" / f"{name}.csv")
    d["arm"] = pd.Categorical(d["arm"], categories=ref["design"]["arm_levels"])
    d["visit"] = pd.Categorical(d["visit"], categories=ref["design"]["visit_levels"])
    out = ref["results"]["afex.aov_ez"]["output"]
    n_subj = d["subject"].nunique()
    kwargs = dict(outcome="outcome", arm="arm", visit="visit", subject="subject")
    if out["n_subjects"] < n_subj:
        with pytest.warns(RehabStatsWarning, match=f"{n_subj - out['n_subjects']} subject"):
            res = rsm.mixed_anova(d, **kwargs)
    else:
        res = rsm.mixed_anova(d, **kwargs)
    assert res.n_subjects == out["n_subjects"]
    assert res.n_dropped == n_subj - out["n_subjects"]
    for table, key in [(res.table, "anova_GG"), (res.uncorrected, "anova_uncorrected")]:
        assert list(table["term"]) == [r["term"] for r in out[key]]
        for c in COLS:
            assert_allclose(table[c], [r[c] for r in out[key]], rtol=1e-10, err_msg=c)
    none = rsm.mixed_anova(
        d.dropna(subset=["outcome"])
        .groupby("subject")
        .filter(lambda g: len(g) == d["visit"].nunique()),
        correction="none",
        **kwargs,
    )
    pd.testing.assert_frame_equal(none.table, res.uncorrected)


def _long(n_per_arm=4, visits=3, seed=0):
    rng = np.random.default_rng(seed)
    n = 2 * n_per_arm
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), visits),
            "arm": np.repeat(["a"] * n_per_arm + ["b"] * n_per_arm, visits),
            "visit": np.tile([f"v{k}" for k in range(visits)], n),
            "y": rng.normal(size=n * visits),
        }
    )


KW = dict(outcome="y", arm="arm", visit="visit", subject="id")


def test_visit_listed_twice():
    d = _long()
    d.loc[1, "visit"] = "v0"
    with pytest.raises(DataError, match="Subject 0 has visit 'v0' listed more than once"):
        rsm.mixed_anova(d, **KW)


def test_subject_in_two_arms():
    d = _long()
    d.loc[0, "arm"] = "b"
    with pytest.raises(DataError, match="more than one arm"):
        rsm.mixed_anova(d, **KW)


def test_non_numeric_outcome():
    d = _long().astype({"y": object})
    d.loc[4, "y"] = "high"
    with pytest.raises(DataError, match="'high'"):
        rsm.mixed_anova(d, **KW)


def test_arm_with_one_subject():
    d = _long()
    d.loc[d["id"] == 0, "arm"] = "c"
    with pytest.raises(
        DesignError, match=r"at least two complete subjects; arm\(s\) 'c' in column 'arm'"
    ):
        rsm.mixed_anova(d, **KW)


def test_visit_with_single_observation():
    d = _long()
    extra = d.iloc[[0]].assign(visit="v9")
    with pytest.raises(DesignError, match="'v9'"):
        rsm.mixed_anova(pd.concat([d, extra], ignore_index=True), **KW)


def test_subjects_not_more_than_visits():
    with pytest.raises(DesignError, match="more subjects than visits"):
        rsm.mixed_anova(_long(n_per_arm=2, visits=4), **KW)


def test_unknown_correction():
    with pytest.raises(DataError, match="'correction'"):
        rsm.mixed_anova(_long(), correction="hf", **KW)


def test_balanced_equals_lmm_random_intercept_F():
    """With complete balanced data and compound symmetry, the uncorrected F tests equal
    the random-intercept LMM's type III F tests (REML; when the RI variance is positive)."""
    rng = np.random.default_rng(5)
    d = _long(n_per_arm=6, visits=3, seed=5)
    d["y"] = d["y"] + np.repeat(rng.normal(scale=2, size=12), 3)
    a = rsm.mixed_anova(d, correction="none", **KW)
    m = rsm.lmm("y ~ arm * visit", d, subject="id")
    assert_allclose(a.table["F"], m.anova()["F"], rtol=1e-6, atol=1e-8)
    assert_allclose(a.table["den_df"], m.anova()["den_df"], rtol=1e-5)
