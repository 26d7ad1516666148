"""Degrees of freedom (models/df): analytic Satterthwaite for the LMM, Kenward-Roger
variants for the MMRM, degenerate hypotheses, R names of non-treatment codings.

References: tests/reference/models/df/shoes_reference.R (lmerTest 3.1-3 with tight
optimiser tolerances, pbkrtest) on MASS::shoes; exact values of the paired t test
(df = n - 1 = 9 under REML, n = 10 under ML).
"""

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
from rehabstats.models._lmm_engine import phi_derivatives as _phi_derivatives
from rehabstats.models._lmm_engine import phi_of_varpar as _phi_of_varpar
from rehabstats.models._type3 import type3_hypotheses
from rehabstats.models.df import kr_test

REF = Path(__file__).resolve().parent.parent / "reference" / "models" / "df"


def _shoes(validation_dir: Path) -> pd.DataFrame:
    s = pd.read_csv(validation_dir / "peer_data" / "MASS__shoes.csv")
    return pd.DataFrame(
        {
            "boy": np.tile(s["boy"].to_numpy(), 2),
            "material": ["A"] * len(s) + ["B"] * len(s),
            "y": np.concatenate([s["A"], s["B"]]),
        }
    )


@pytest.mark.parametrize("reml", [True, False])
def test_shoes_paired_t_df_exact(validation_dir: Path, reml: bool) -> None:
    """lmerTest's finite differences give 9.0000017-ish; the analytic df are exact."""
    ref = load_json(REF / "shoes_reference.json")["reml" if reml else "ml"]
    m = rsm.lmm("y ~ material", _shoes(validation_dir), subject="boy", reml=reml)
    co = m.coef()
    exact = 9.0 if reml else 10.0
    assert abs(co["df"].iloc[1] - exact) < 1e-8 * exact  # 1e-8 relative
    # theta: the closed-form REML/ML solution of the balanced paired design
    assert_allclose(m.theta, ref["theta"], rtol=1e-8)
    r = pd.DataFrame(ref["satterthwaite"])
    assert_allclose(co["estimate"], r["estimate"], rtol=1e-10)
    assert_allclose(co["se"], r["se"], rtol=1e-8)
    assert_allclose(co["df"], r["df"], rtol=1e-8)  # R: numerical Hessian, ~2e-9
    if reml:
        kr = m.coef("kenward-roger")
        rk = pd.DataFrame(ref["kenward_roger"])
        assert_allclose(kr["se"], rk["se"], rtol=1e-8)
        assert_allclose(kr["df"], rk["df"], rtol=1e-8)
        se_t = load_json(REF / "shoes_reference.json")["paired_t"]["se"]
        assert_allclose(co["se"].iloc[1], se_t, rtol=1e-8)  # = the paired t test's SE


@pytest.mark.parametrize("q", [1, 2, 3])
def test_phi_derivatives_against_finite_differences(q: int) -> None:
    rng = np.random.default_rng(q)
    v = rng.normal(size=q * (q + 1) // 2 + 1)
    J, D2 = _phi_derivatives(v, q)
    k = v.size
    h = 1e-6
    E = np.eye(k) * h
    Jn = np.array([(_phi_of_varpar(v + e, q) - _phi_of_varpar(v - e, q)) / (2 * h) for e in E]).T
    assert_allclose(J, Jn, rtol=1e-7, atol=1e-8)
    # J is exact for a polynomial map: its finite difference is D2
    D2n = np.array(
        [(_phi_derivatives(v + e, q)[0] - _phi_derivatives(v - e, q)[0]) / (2 * h) for e in E]
    ).transpose(1, 2, 0)
    assert_allclose(D2, D2n, rtol=1e-7, atol=1e-7)


def _trial(seed: int = 4, n: int = 14, k: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame(
        {
            "subject": np.repeat(np.arange(n), k),
            "visit": pd.Categorical(np.tile([f"v{j}" for j in range(k)], n)),
            "arm": np.repeat(rng.permutation(["c", "t"] * (n // 2)), k),
            "time": np.tile(np.arange(k, dtype=float), n),
        }
    )
    d["y"] = (
        rng.normal(size=n * k)
        + np.repeat(rng.normal(size=n), k)
        + np.repeat(rng.normal(scale=0.4, size=n), k) * d["time"]
    )
    return d.drop(index=rng.choice(n * k, 6, replace=False)).reset_index(drop=True)


@pytest.mark.parametrize("random", ["1", "1 + time"])
def test_block_algebra_equals_dense_formulas(random: str) -> None:
    """Per-subject pieces equal the textbook n x n formulas (rtol 1e-9)."""
    m = rsm.lmm("y ~ arm * visit", _trial(), subject="subject", random=random)
    prob = m._prob
    X, y, Z = prob.X, prob.y, prob.Zs
    same = prob.group_index[:, None] == prob.group_index[None, :]
    q = prob.q
    Vk = []
    for j in range(q):
        for i in range(j, q):
            zz = np.outer(Z[:, i], Z[:, j])
            Vk.append(same * (zz + zz.T) if i != j else same * zz)
    Vk.append(np.eye(len(y)))
    phi = [m.G[i, j] for j in range(q) for i in range(j, q)] + [m.sigma2]
    Vinv = np.linalg.inv(sum(p * v for p, v in zip(phi, Vk, strict=True)))
    C = np.linalg.inv(X.T @ Vinv @ X)
    P = Vinv - Vinv @ X @ C @ X.T @ Vinv
    Py = P @ y
    k = len(Vk)
    H = np.array(
        [
            [-np.trace(P @ Vk[a] @ P @ Vk[b]) + 2 * Py @ Vk[a] @ P @ Vk[b] @ Py for b in range(k)]
            for a in range(k)
        ]
    )
    g = np.array([np.trace(P @ v) - Py @ v @ Py for v in Vk])
    mom = m._moments
    assert_allclose(mom.C, C, rtol=1e-9)
    assert_allclose(mom.H, H, rtol=1e-9, atol=1e-9 * np.abs(H).max())
    assert_allclose(mom.grad, g, atol=1e-7 * np.abs(H).max())  # ~0 at the optimum
    # Kenward-Roger (pbkrtest's expected information) from dense matrices
    Pk = np.array([-(X.T @ Vinv @ v @ Vinv @ X) for v in Vk])
    Q = np.array([[X.T @ Vinv @ a @ Vinv @ b @ Vinv @ X for b in Vk] for a in Vk])
    IE2 = np.array([[np.trace(Vinv @ a @ Vinv @ b) for b in Vk] for a in Vk])
    IE2 = IE2 - 2 * np.einsum("pq,ijqp->ij", C, Q) + np.einsum("ipq,jqp->ij", C @ Pk, C @ Pk)
    W = 2 * np.linalg.inv(IE2)
    U = sum(W[r, s] * (Q[r, s] - Pk[r] @ C @ Pk[s]) for r in range(k) for s in range(k))
    PhiA = C + 2 * C @ U @ C
    pieces = m._df.kr_pieces("kenward-roger")
    assert_allclose(pieces.PhiA, PhiA, rtol=1e-8)
    for L in type3_hypotheses(m.design_info, m.frame).values():
        assert_allclose(
            m._contrast_md(L, "kenward-roger"), kr_test(L, m.beta, C, PhiA, W, Pk)[:3], rtol=1e-8
        )


def _intermittent(seed: int = 7, n: int = 16, k: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(k)
    S = 0.6 ** np.abs(t[:, None] - t[None, :]) * np.outer(1 + 0.1 * t, 1 + 0.1 * t)
    rows = []
    for i in range(n):
        arm = "ctl" if i < n // 2 else "trt"
        y = rng.multivariate_normal(0.3 * t + (0.2 * t if arm == "trt" else 0), S)
        obs = rng.random(k) > 0.12
        obs[0] = True
        rows += [
            {"subject": f"s{i:02d}", "arm": arm, "visit": f"w{j}", "y": y[j]}
            for j in range(k)
            if obs[j]
        ]
    d = pd.DataFrame(rows)
    d["arm"] = pd.Categorical(d["arm"], ["ctl", "trt"])
    return d


def test_mmrm_kr_us_anticonservative_and_order_dependent() -> None:
    """16 subjects, 8 visits, intermittent missingness, unstructured Sigma.

    mmrm's default KR ("kenward-roger": full adjustment in the log-Cholesky
    parametrisation) gives SEs far *below* the unadjusted ones and changes with the
    visit order; KR-linear (SAS TYPE=UN) never falls below them and does not depend
    on the order. The likelihood and Satterthwaite do not depend on the order either.
    """
    d = _intermittent()
    levels = [f"w{j}" for j in range(8)]
    fits = {}
    for name, order in [("forward", levels), ("reversed", levels[::-1])]:
        dd = d.assign(visit=pd.Categorical(d["visit"], order))
        fits[name] = rsm.mmrm("y ~ arm * visit", dd, subject="subject", visit="visit")
        assert fits[name].converged
    f = fits["forward"]
    se0 = f.contrasts("arm", by="visit", df_method="satterthwaite").set_index("visit")
    kr = f.contrasts("arm", by="visit", df_method="kenward-roger").set_index("visit")
    krl = f.contrasts("arm", by="visit", df_method="kenward-roger-linear").set_index("visit")
    ratio = kr["se"] / se0["se"]
    assert ratio.min() < 0.9  # anti-conservative "adjustment"
    assert (krl["se"] >= se0["se"] * (1 - 1e-12)).all()
    r = fits["reversed"]
    assert_allclose(r.loglik, f.loglik, rtol=1e-9)
    for method, same in [
        ("satterthwaite", True),
        ("kenward-roger-linear", True),
        ("kenward-roger", False),
    ]:
        a = f.contrasts("arm", by="visit", df_method=method).set_index("visit")
        b = r.contrasts("arm", by="visit", df_method=method).set_index("visit").loc[a.index]
        if same:
            assert_allclose(b["se"], a["se"], rtol=1e-5)
            assert_allclose(b["df"], a["df"], rtol=1e-4)
        else:
            assert np.max(np.abs(b["se"] / a["se"] - 1)) > 1e-3


def test_sum_coded_arm_named_as_r() -> None:
    d = _trial()
    m = rsm.lmm("y ~ C(arm, Sum) * visit", d, subject="subject")
    names = m.coef()["term"].tolist()
    assert names[:2] == ["(Intercept)", "arm1"]
    assert "arm1:visitv1" in names
    assert not any("armc" in n or "armt" in n for n in names)
    # coding-invariant results: same fit and type III table as treatment coding
    t = rsm.lmm("y ~ arm * visit", d, subject="subject")
    # (the REML log-likelihood itself shifts by log|det T|^2 with the coding, as in R)
    assert_allclose(m.theta, t.theta, rtol=1e-6)
    assert_allclose(m.anova()[["F", "den_df"]], t.anova()[["F", "den_df"]], rtol=1e-6)
    # R's contr.sum (visit treatment-coded): arm1 = level 'c' minus the mean over arms at v0
    em = t.emmeans("arm", by="visit")
    em = em[em["visit"] == "v0"]["estimate"].to_numpy()
    assert_allclose(
        m.coef().set_index("term").loc["arm1", "estimate"], em[0] - em.mean(), rtol=1e-7
    )


@pytest.mark.parametrize("model", ["mmrm", "lmm"])
def test_one_arm_anova_is_a_clear_result(model: str) -> None:
    d = _trial().assign(arm="only")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = (
            rsm.mmrm("y ~ arm * visit", d, subject="subject", visit="visit")
            if model == "mmrm"
            else rsm.lmm("y ~ arm * visit", d, subject="subject")
        )
    with pytest.warns(RehabStatsWarning, match="'arm', 'arm:visit' have no column"):
        an = fit.anova()
    an = an.set_index("term")
    assert an.loc["arm", "num_df"] == 0
    assert np.isnan(an.loc["arm", "F"])
    assert an.loc["visit", "num_df"] == 3
    assert np.isfinite(an.loc["visit", "p"])
