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
