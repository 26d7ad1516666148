"""Before the merge into models/df: the two Satterthwaite and the two Kenward-Roger copies
agree with each other and with the merged package on reference data (rct validation sets).
Tolerance 1e-10 relative (same formulas; only the safety checks differ)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import load_json
from numpy.testing import assert_allclose

import rehabstats.models as rsm
from rehabstats.errors import RehabStatsWarning
from rehabstats.models import _kenward_roger as old_kr_lmm
from rehabstats.models import _mmrm_df as old_mmrm
from rehabstats.models import _satterthwaite as old_sat_lmm
from rehabstats.models import df as new
from rehabstats.models._type3 import type3_hypotheses


def _data(vdir: Path, name: str) -> pd.DataFrame:
    ref = load_json(vdir / "rct" / "mmrm" / f"{name}.json")
    d = pd.read_csv(vdir / "rct" / f"{name}.csv")
    d["arm"] = pd.Categorical(d["arm"], categories=ref["design"]["arm_levels"])
    d["visit"] = pd.Categorical(d["visit"], categories=ref["design"]["visit_levels"])
    return d.dropna(subset=["outcome"])


@pytest.mark.parametrize("name", ["cimt_n20_3v", "rct_n40_4v_missing"])
def test_satterthwaite_and_kr_copies_agree(validation_dir: Path, name: str) -> None:
    d = _data(validation_dir, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        mm = rsm.mmrm("outcome ~ arm * visit", d, subject="subject", visit="visit")
        lm = rsm.lmm("outcome ~ arm * visit", d, subject="subject")
    hyps = list(type3_hypotheses(mm.design_info, mm.frame).values())
    rows = list(np.eye(len(mm.beta))) + [h for h in hyps]
    n = 0
    for L in rows:
        L2 = np.atleast_2d(L)
        # MMRM quantities through the three Satterthwaite implementations
        a = old_mmrm.satterthwaite_md(L2, mm.beta, mm._V, mm._jac, mm.theta_vcov)
        b = old_sat_lmm.satterthwaite_md(L2, mm.beta, mm._V, mm._jac, mm.theta_vcov)
        c = new.satterthwaite_md(L2, mm.beta, mm._V, mm._jac, mm.theta_vcov)
        assert_allclose(a, b, rtol=1e-10)
        assert_allclose(a, c, rtol=1e-10)
        # LMM quantities
        a = old_sat_lmm.satterthwaite_md(L2, lm.beta, lm.vcov, lm._dC, lm._A)
        b = old_mmrm.satterthwaite_md(L2, lm.beta, lm.vcov, lm._dC, lm._A)
        c = new.satterthwaite_md(L2, lm.beta, lm.vcov, lm._dC, lm._A)
        assert_allclose(a, b, rtol=1e-10)
        assert_allclose(a, c, rtol=1e-10)
        n += 6
    # Kenward-Roger: MMRM copy (mmrm) vs merged package, both variants
    P, Q, R = mm._kr_cache["PQR"] if "PQR" in mm._kr_cache else (None, None, None)
    if P is None:
        mm._kr("kenward-roger")
        P, Q, R = mm._kr_cache["PQR"]
    for linear in (False, True):
        old_adj = old_mmrm.kr_adjusted_vcov(mm._V, mm.theta_vcov, P, Q, R, linear=linear)
        new_adj = new.kr_adjusted_vcov(mm._V, mm.theta_vcov, P, Q, None if linear else R)
        assert_allclose(new_adj, old_adj, rtol=1e-10, atol=1e-14)
        for L in hyps:
            assert_allclose(new.kr_df(L, mm._V, mm.theta_vcov, P),
                            old_mmrm.kr_df(L, mm._V, mm.theta_vcov, P), rtol=1e-10)
            # the LMM copy's test (pbkrtest's formulas) on the same pieces
            comp = old_kr_lmm.KRComponents(Phi=mm._V, PhiA=new_adj, P=P, W=mm.theta_vcov)
            old = old_kr_lmm.kr_test(L, mm.beta, comp)
            ours = new.kr_test(L, mm.beta, mm._V, new_adj, mm.theta_vcov, P)
            assert_allclose(ours, old, rtol=1e-10)
            n += 3
    # LMM Kenward-Roger: dense n x n copy vs the per-subject-block pieces
    X, y = lm._prob.X, lm._prob.y
    same = lm._prob.group_index[:, None] == lm._prob.group_index[None, :]
    Vk = [same * 1.0, np.eye(len(y))]
    V = lm.G[0, 0] * Vk[0] + lm.sigma2 * Vk[1]
    dense = old_kr_lmm.kr_components(X, np.linalg.inv(V), Vk)
    pieces = lm._df.kr_pieces("kenward-roger")
    assert_allclose(pieces.PhiA, dense.PhiA, rtol=1e-8)
    assert_allclose(pieces.W, dense.W, rtol=1e-8)
    for L in hyps:
        assert_allclose(old_kr_lmm.kr_test(L, lm.beta, dense)[:3],
                        new.kr_test(L, lm.beta, lm.vcov, pieces.PhiA, pieces.W, pieces.P)[:3],
                        rtol=1e-8)
        n += 1
    assert n > 50
