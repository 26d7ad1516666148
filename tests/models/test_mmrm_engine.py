"""MMRM engine internals: closed-form derivatives, the Newton path, the design cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import patsy
import pytest
from numpy.testing import assert_allclose

from rehabstats.models._cov_derivs import derivatives_for
from rehabstats.models._covariance import COVARIANCE_STRUCTURES, get_structure
from rehabstats.models._design_cache import design_matrix
from rehabstats.models._mmrm_fit import MMRMEngine


def _trial(n: int, k: int, seed: int) -> pd.DataFrame:
    """Two arms, k visits, exchangeable + AR correlation, monotone dropout."""
    rng = np.random.default_rng(seed)
    t = np.arange(k)
    sd = 4.0 * (1 + 0.05 * t)
    cov = (0.3 + 0.6 * 0.8 ** np.abs(np.subtract.outer(t, t))) * np.outer(sd, sd)
    np.fill_diagonal(cov, sd**2)
    arm = np.where(np.arange(n) < n // 2, "control", "active")
    y = 30 - t[None, :] + np.where(arm == "active", 0.5, 0.0)[:, None] * t[None, :]
    y = y + rng.standard_normal((n, k)) @ np.linalg.cholesky(cov).T
    last = np.minimum(rng.geometric(0.08, n) + 1, k)
    keep = (t[None, :] < last[:, None]).ravel()
    frame = pd.DataFrame(
        {
            "subject": np.repeat(np.arange(n), k),
            "arm": pd.Categorical(np.repeat(arm, k), categories=["control", "active"]),
            "visit": pd.Categorical(
                np.tile([f"v{j}" for j in t], n), categories=[f"v{j}" for j in t]
            ),
            "y": y.ravel(),
        }
    )
    return frame[keep].reset_index(drop=True)


def _engine(data: pd.DataFrame, cov: str = "us", reml: bool = True) -> MMRMEngine:
    X = np.asarray(patsy.dmatrix("arm * visit", data))
    m = len(data["visit"].cat.categories)
    # spatial structures (mmrm13) over unit-spaced visit times; others ignore bind()
    st = get_structure(cov).bind(np.arange(m, dtype=float))
    return MMRMEngine(
        data["y"].to_numpy(float),
        X,
        pd.factorize(data["subject"])[0],
        data["visit"].cat.codes.to_numpy(),
        m,
        st,
        reml,
    )


def test_us_closed_form_derivatives_equal_complex_step() -> None:
    st, m = get_structure("us"), 6
    theta = np.random.default_rng(4).normal(size=st.n_theta(m)) * 0.4
    d = derivatives_for(st, m)
    # first derivatives: complex step is exact to rounding
    assert_allclose(d.jacobian(theta), st.jacobian(theta, m), rtol=0, atol=1e-12)
    # second derivatives: the generic ones are central differences (error ~1e-9)
    H = d.hessian(theta)
    assert_allclose(H, st.hessian(theta, m), rtol=0, atol=1e-7 * np.abs(H).max())
    G = np.random.default_rng(5).normal(size=(m, m))
    G = G + G.T
    assert_allclose(
        d.contract_hessian(G, theta), np.einsum("ab,ijab->ij", G, H), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("cov", sorted(COVARIANCE_STRUCTURES))
@pytest.mark.parametrize("reml", [True, False])
def test_hessian_equals_finite_differences_of_gradient(cov: str, reml: bool) -> None:
    eng = _engine(_trial(30, 4, seed=11), cov, reml)
    theta = eng.start() + 0.03
    H = eng.hessian(theta)
    k, h = theta.size, 1e-6
    fd = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        fd[i] = (eng.gradient(theta + e) - eng.gradient(theta - e)) / (2 * h)
    assert_allclose(H, 0.5 * (fd + fd.T), rtol=1e-5, atol=1e-5 * np.abs(H).max())


def test_newton_path_at_14_visits_reaches_the_trust_region_optimum() -> None:
    # 105 covariance parameters: the engine's damped Newton and scipy's
    # trust-region Newton (the previous default) converge to the same optimum
    data = _trial(90, 14, seed=14)
    eng = _engine(data)
    theta_n, info_n = eng.fit()
    ref = _engine(data)
    theta_t, info_t = ref.fit(method="trust-exact")
    assert info_n.converged
    assert info_t.converged
    assert info_n.method == "newton"
    assert info_t.method != "newton"
    assert theta_n.size == 105
    assert_allclose(theta_n, theta_t, rtol=0, atol=1e-6)
    assert_allclose(eng.evaluate(theta_n).beta, ref.evaluate(theta_t).beta, rtol=0, atol=1e-6)
    assert eng.objective(theta_n) <= ref.objective(theta_t) + 1e-8


def test_design_cache_equals_patsy() -> None:
    data = _trial(12, 3, seed=2)
    data["base"] = np.linspace(-1, 1, len(data))
    data["site"] = np.where(data["subject"] % 2 == 0, "b", "a")  # object column
    for rhs in [
        "arm * visit",
        "base + arm * visit",
        "site + arm:visit",
        "C(site) + base",
        "arm * visit + I(base ** 2)",
    ]:
        cols = [c for c in ("arm", "visit", "base", "site") if c in rhs]
        for _ in range(2):  # creates the cache entry, then uses it
            X, info = design_matrix(rhs, data, cols)
            ref = patsy.dmatrix(rhs, data)
            assert info.column_names == ref.design_info.column_names
            assert_allclose(X, np.asarray(ref), rtol=0, atol=0)
    # a changed factor level set is a new schema, not a stale design
    sub = data[data["site"] == "a"]
    X, info = design_matrix("site + base", sub, ["site", "base"])
    assert info.column_names == patsy.dmatrix("site + base", sub).design_info.column_names


def _subject_visits(data: pd.DataFrame) -> list[np.ndarray]:
    """Per subject: the observed visit codes, for the brute-force formulas below."""
    subj = pd.factorize(data["subject"])[0]
    vis = data["visit"].cat.codes.to_numpy()
    return [vis[subj == i] for i in range(subj.max() + 1)]


def test_expected_information_equals_its_definition() -> None:
    # I_ij = sum_subjects tr(Omega_n Sigma_i Omega_n Sigma_j) on each subject's visits
    data = _trial(40, 5, seed=8)
    eng = _engine(data)
    theta = eng.start() + 0.05
    J = eng.jacobian(theta)
    sigma = eng.structure.sigma(theta, eng.m)
    k = J.shape[0]
    ref = np.zeros((k, k))
    for o in _subject_visits(data):
        Om = np.linalg.inv(sigma[np.ix_(o, o)])
        T = [Om @ J[i][np.ix_(o, o)] for i in range(k)]
        ref += np.array([[np.sum(T[i] * T[j].T) for j in range(k)] for i in range(k)])
    info = eng.expected_information(theta)
    assert_allclose(info, ref, rtol=1e-11, atol=1e-12 * np.abs(ref).max())
    assert np.linalg.eigvalsh(info).min() > 0


@pytest.mark.parametrize("reml", [True, False])
def test_triplet_and_dense_statistics_agree(reml: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # XX kept as (row, column, value) triplets (a factor design) or dense: same numbers
    from rehabstats.models import _mmrm_fit

    data = _trial(60, 6, seed=21)
    data["x"] = np.random.default_rng(2).normal(size=len(data))
    X = np.asarray(patsy.dmatrix("arm * visit + x", data))
    args = (
        data["y"].to_numpy(float),
        X,
        pd.factorize(data["subject"])[0],
        data["visit"].cat.codes.to_numpy(),
        6,
        get_structure("us"),
        reml,
    )
    monkeypatch.setattr(_mmrm_fit, "_SPARSE_MAX_DENSITY", 1.0)
    coo = MMRMEngine(*args)
    monkeypatch.setattr(_mmrm_fit, "_SPARSE_MAX_DENSITY", 0.0)
    dense = MMRMEngine(*args)
    assert coo._xx_coo is not None
    assert dense._xx_coo is None
    # the stored statistics equal their definition sum_n X_n[a, p] X_n[b, q]
    assert_allclose(coo._XXcat, dense._XXcat, rtol=0, atol=0)
    subj = pd.factorize(data["subject"])[0]
    vis = data["visit"].cat.codes.to_numpy()
    for s, o in enumerate(coo.patterns):
        members = [i for i in range(subj.max() + 1) if np.array_equal(np.sort(vis[subj == i]), o)]
        Xn = np.stack([X[subj == i][np.argsort(vis[subj == i])] for i in members])
        ref = np.einsum("nap,nbq->abpq", Xn, Xn).reshape(len(o) ** 2, -1)
        got = coo._XXcat[coo._offs[s] : coo._offs[s + 1]]
        assert_allclose(got, ref, rtol=1e-13, atol=1e-12)
    theta = coo.start() + 0.02
    assert coo.objective(theta) == pytest.approx(dense.objective(theta), rel=1e-13)
    assert_allclose(coo.gradient(theta), dense.gradient(theta), rtol=1e-10, atol=1e-10)
    assert_allclose(coo.hessian(theta), dense.hessian(theta), rtol=1e-10, atol=1e-9)


def test_quasi_newton_path_equals_newton_with_one_exact_hessian(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 55 covariance parameters (us over 10 visits): BFGS from the Fisher information, then
    # exact Newton, reaches the pure Newton optimum, and computes the exact Hessian only
    # at the optimum (which the inference reuses)
    from rehabstats.models import _mmrm_fit

    data = _trial(120, 10, seed=10)
    calls = {"n": 0}
    original = MMRMEngine._hessian

    def counting(self: MMRMEngine, theta: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        return original(self, theta)

    monkeypatch.setattr(MMRMEngine, "_hessian", counting)
    eng = _engine(data)
    theta_q, info_q = eng.fit()
    hessians_q = calls["n"]
    monkeypatch.setattr(_mmrm_fit, "_QUASI_NEWTON_MIN_PARAMS", 10**6)
    ref = _engine(data)
    theta_n, info_n = ref.fit()
    assert info_q.converged
    assert info_n.converged
    assert theta_q.size == 55
    assert hessians_q <= 2
    assert_allclose(theta_q, theta_n, rtol=0, atol=1e-6)
    assert eng.objective(theta_q) == pytest.approx(ref.objective(theta_n), rel=1e-12, abs=1e-9)
    assert np.max(np.abs(eng.gradient(theta_q))) < 1e-6
