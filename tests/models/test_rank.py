"""Rank-deficient fixed effects: aliased columns dropped as R does (models/_rank.py).

References (tests/reference/models/rank/rank_reference.R -> rank_reference.json):
lmerTest 3.1-3 on its carrots data (28 estimable of 40 columns, tight optimiser), the
SAS-checked values hard-coded in lmerTest's tests/test_compare_sas.R, lm with an aliased
covariate, and nlme::gls (unstructured) on the columns lm keeps for an MMRM with an empty
arm x visit cell and an aliased covariate.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import load_json
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import rehabstats.models as rsm
from rehabstats.errors import RehabStatsWarning
from rehabstats.models._rank import pivoted_rank

REF_DIR = Path(__file__).resolve().parent.parent / "reference" / "models" / "rank"
REF = load_json(REF_DIR / "rank_reference.json")
_CARROTS: dict[str, rsm.LMMResult] = {}


def _carrots(validation_dir: Path) -> rsm.LMMResult:
    if "fit" not in _CARROTS:
        peer = validation_dir / "peer_data"
        d = pd.read_csv(
            peer / "lmerTest__carrots.csv", dtype={"Consumer": str, "Frequency": str, "Income": str}
        )
        levels = json.loads((peer / "lmerTest__carrots.levels.json").read_text())
        for c in ("Frequency", "Income"):
            d[c] = pd.Categorical(d[c], categories=[str(v) for v in levels[c]])
        # contr.SAS = treatment coding with the last level as reference
        with pytest.warns(RehabStatsWarning) as rec:
            _CARROTS["fit"] = rsm.lmm(
                "Preference ~ sens2 * C(Frequency, Treatment('5')) * C(Income, Treatment('4'))",
                d,
                subject="Consumer",
                random="1 + sens2",
            )
        msgs = [str(w.message) for w in rec]
        assert any("missing value" in m for m in msgs)
        assert any(
            "rank deficient (rank 28 < 40 columns)" in m and "'sens2:Frequency4:Income3'" in m
            for m in msgs
        )
    return _CARROTS["fit"]


def test_carrots_aliased_columns_as_lme4(validation_dir: Path) -> None:
    m = _carrots(validation_dir)
    ref = REF["carrots.tight"]
    assert ref["n_columns"] == 40
    assert len(m.coef_names) == 28
    # patsy orders terms by the number of factors (not as written): compare as sets
    assert sorted(m.coef_names) == sorted(ref["kept"])
    assert sorted(m.aliased) == sorted(ref["dropped"])
    assert_allclose(m.loglik, ref["reml_loglik"], rtol=1e-10)


def test_carrots_type3_and_coefficients_match_lmertest(validation_dir: Path) -> None:
    m = _carrots(validation_dir)
    ref = REF["carrots.tight"]
    an = m.anova().set_index("term")
    ra = pd.DataFrame(ref["anova"]).set_index("term")
    an = an.loc[ra.index]
    assert_allclose(an["num_df"], ra["num_df"], rtol=0)
    # random-slope REML fit (1e-5 rule); observed max rel. difference ~8e-8
    for c in ("den_df", "F", "p"):
        assert_allclose(an[c], ra[c], rtol=1e-6, err_msg=c)
    co = m.coef().set_index("term")
    rc = pd.DataFrame(ref["coefficients"]).set_index("term").loc[co.index]
    for c in ("estimate", "se", "df"):
        assert_allclose(co[c], rc[c], rtol=1e-6, err_msg=c)
    # p on the log scale (p = 1e-10 amplifies the 1e-8 differences of t and df)
    assert_allclose(np.log(co["p"]), np.log(rc["p"]), rtol=1e-6)


def _all_equal(x: np.ndarray, y: np.ndarray) -> float:
    """R's all.equal: mean relative difference."""
    return float(np.mean(np.abs(x - y)) / np.mean(np.abs(y)))


def test_carrots_sas_values(validation_dir: Path) -> None:
    """The SAS PROC MIXED values of lmerTest's tests/test_compare_sas.R (its TOL 1e-4)."""
    m = _carrots(validation_dir)
    sas = REF["carrots.sas"]
    an = m.anova().set_index("term").loc[[r["term"] for r in REF["carrots.tight"]["anova"]]]
    assert _all_equal(an["p"].to_numpy(), np.array(sas["anova_p"])) < sas["tol"]
    assert (np.round(an["den_df"]) == sas["anova_den_df_rounded"]).all()
    order = [r["term"] for r in REF["carrots.tight"]["coefficients"]]
    p = m.coef().set_index("term").loc[order, "p"].to_numpy()
    assert _all_equal(p, np.array(sas["coef_p"])) < sas["tol"]


def test_lm_ancova_aliased_covariate() -> None:
    ref = REF["lm.ancova"]
    d = pd.read_csv(REF_DIR / "ancova_aliased.csv")
    with pytest.warns(RehabStatsWarning, match=r"dropping 1 aliased column \('baseline_pct'\)"):
        a = rsm.ancova(
            d,
            outcome="y",
            arm="arm",
            baseline="baseline",
            covariates=["baseline_pct", "age"],
            reference="control",
        )
    assert list(a.aliased) == ref["aliased"]
    r = pd.DataFrame(ref["coefficients"])
    co = a.coef()
    assert co["term"].tolist() == r["term"].tolist()
    for c in ("estimate", "se", "t", "p"):  # closed form: 1e-8
        assert_allclose(co[c], r[c], rtol=1e-8, err_msg=c)
    assert_allclose(co["df"], ref["df_residual"], rtol=0)


def test_mmrm_empty_cell_and_aliased_covariate() -> None:
    ref = REF["mmrm.us"]
    d = pd.read_csv(REF_DIR / "mmrm_aliased.csv")
    d["arm"] = pd.Categorical(d["arm"], ["control", "active"])
    d["visit"] = pd.Categorical(d["visit"], ["v0", "v1", "v2", "v3"])
    with pytest.warns(RehabStatsWarning, match="rank deficient"):
        m = rsm.mmrm(
            "outcome ~ arm * visit + age + age_months", d, subject="subject", visit="visit"
        )
    assert sorted(m.aliased) == sorted(ref["aliased"])
    assert_allclose(m.loglik, ref["reml_loglik"], rtol=1e-8)
    co = m.coef().set_index("term")
    r = pd.DataFrame(ref["coefficients"]).set_index("term").loc[co.index]
    # gls stops at its own tolerance (1e-10 on the objective): rtol 1e-5
    assert_allclose(co["estimate"], r["estimate"], rtol=1e-5)
    assert_allclose(co["se"], r["se"], rtol=1e-5)
    # the non-estimable cell is NaN (emmeans' "nonEst"), the others are finite
    em = m.emmeans("arm", by="visit")
    bad = (em["visit"] == "v3") & (em["arm"] == "active")
    assert em.loc[bad, ["estimate", "se", "df"]].isna().all().all()
    assert np.isfinite(em.loc[~bad, ["estimate", "se", "df"]].to_numpy()).all()
    for method in ("satterthwaite", "kenward-roger", "kenward-roger-linear"):
        an = m.anova(df_method=method).set_index("term")
        assert np.isfinite(an.loc[["arm", "visit", "arm:visit", "age"], "F"]).all()
        assert an.loc["age_months", "num_df"] == 0


@given(st.integers(0, 2**31 - 1), st.integers(3, 7), st.integers(1, 3))
def test_pivoted_rank_keeps_first_independent_columns(seed: int, p: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(20, p))
    combos = base @ rng.normal(size=(p, k))  # dependent columns appended
    X = np.hstack([base, combos])
    info = pivoted_rank(X)
    assert info.keep.tolist() == list(range(p))
    assert_allclose(X @ info.nullspace, 0, atol=1e-8 * np.abs(X).max())
    L = rng.normal(size=20) @ X  # in the row space: estimable
    assert info.estimable(L).all()
    assert not info.estimable(np.eye(p + k)[-1]).any()
