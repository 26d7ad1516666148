"""MMRM Kenward-Roger without the (k, k, p, p) arrays Q and R (issue 12).

The adjusted covariance needs only ``sum_ij W_ij Q_ij`` and ``sum_ij W_ij R_ij``;
``MMRMResult._pqr`` accumulates them per missingness pattern. Checked here against
the textbook definitions (Kenward & Roger 1997, eq. 4) built from the dense
``N x N`` marginal covariance of a small data set, and the peak memory of a fit +
Kenward-Roger contrasts at 14 visits (105 covariance parameters) is bounded.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

import rehabstats as rs
from rehabstats.models.df import kr_adjusted_vcov, kr_adjusted_vcov_sums


def _trial(n: int, k: int, seed: int, drop: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(k)
    cov = 0.4 + 0.6 * 0.7 ** np.abs(np.subtract.outer(t, t))
    y = rng.standard_normal((n, k)) @ np.linalg.cholesky(cov).T + 0.3 * t
    arm = np.where(np.arange(n) % 2 == 0, "ctl", "trt")
    last = np.minimum(rng.geometric(drop, n), k)  # monotone dropout
    keep = t[None, :] < last[:, None]
    keep[:, 0] = True
    frame = pd.DataFrame(
        {
            "subject": np.repeat([f"s{i:03d}" for i in range(n)], k),
            "arm": np.repeat(arm, k),
            "visit": np.tile([f"v{j}" for j in t], n),
            "y": y.ravel(),
        }
    )[keep.ravel()].reset_index(drop=True)
    frame["visit"] = pd.Categorical(frame["visit"], categories=[f"v{j}" for j in t])
    return frame


def _dense_q_r(fit: rs.models.MMRMResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P_i, Q_ij, R_ij from the dense marginal covariance (tolerance 1e-10 relative)."""
    eng = fit._engine
    X = fit._fit_design()
    subj = fit.frame["subject"].to_numpy()
    vis = fit.frame["visit"].cat.codes.to_numpy()
    dS = eng.jacobian(fit.theta)
    d2S = eng.sigma_hessian(fit.theta)
    same = subj[:, None] == subj[None, :]

    def block(M: np.ndarray) -> np.ndarray:
        return np.where(same, M[np.ix_(vis, vis)], 0.0)

    Vinv = np.linalg.inv(block(fit._sigma))
    k = dS.shape[0]
    A = [Vinv @ block(dS[i]) @ Vinv for i in range(k)]  # V^-1 V_i V^-1
    P = np.stack([-X.T @ A[i] @ X for i in range(k)])
    Q = np.empty((k, k, X.shape[1], X.shape[1]))
    R = np.empty_like(Q)
    for i in range(k):
        left = X.T @ Vinv @ block(dS[i])
        for j in range(k):
            Q[i, j] = left @ A[j] @ X
            R[i, j] = X.T @ Vinv @ block(d2S[i, j]) @ Vinv @ X
    return P, Q, R


def test_kr_sums_equal_dense_definitions() -> None:
    d = _trial(14, 4, seed=3, drop=0.15)
    fit = rs.mmrm("y ~ arm * visit", d, subject="subject", visit="visit", covariance="us")
    P, Q, R = _dense_q_r(fit)
    P_fast, WQ = fit._pqr("pq")
    (WR,) = fit._pqr("r")
    W = fit.theta_vcov
    k = W.shape[0]
    assert k == 10
    assert len(fit.frame) < 14 * 4
    # (absolute tolerance relative to the largest entry: structural zeros carry rounding)
    assert_allclose(P_fast, P, rtol=1e-10, atol=1e-12 * np.abs(P).max())
    scale = np.abs(WQ).max()
    assert_allclose(WQ, np.einsum("ij,ijpq->pq", W, Q), rtol=1e-10, atol=1e-12 * scale)
    assert_allclose(WR, np.einsum("ij,ijpq->pq", W, R), rtol=1e-10, atol=1e-12 * np.abs(WR).max())
    # the public pieces: the full and the linear adjusted covariance
    for method, RR in (("kenward-roger", R), ("kenward-roger-linear", None)):
        want = kr_adjusted_vcov(fit._V, W, P, Q, RR)
        assert_allclose(fit.vcov(method).to_numpy(), want, rtol=1e-10)
        assert_allclose(
            kr_adjusted_vcov_sums(
                fit._V,
                W,
                P,
                np.einsum("ij,ijpq->pq", W, Q),
                None if RR is None else np.einsum("ij,ijpq->pq", W, RR),
            ),
            want,
            rtol=1e-12,
        )


def test_kr_peak_memory_at_14_visits() -> None:
    """14 visits, us: Q and R alone would be 2 x 105^2 x 28^2 x 8 B = 138 MB."""
    d = _trial(80, 14, seed=5, drop=0.08)
    fit = rs.mmrm("y ~ arm * visit", d, subject="subject", visit="visit", covariance="us")
    k, p = fit.theta.size, len(fit.beta)
    assert (k, p) == (105, 28)
    tracemalloc.start()
    try:
        tab = fit.contrasts("arm", by="visit", method="trt.vs.ctrl", df_method="kenward-roger")
        fit.vcov("kenward-roger-linear")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.isfinite(tab["df"]).all()
    assert peak / 2**20 < 40  # MiB; the (k, k, p, p) arrays took 267 MiB at 300 x 14
