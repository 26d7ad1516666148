"""Linear mixed models with a per-subject random intercept (and slope), as lme4/lmerTest."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import patsy

from .._entry import (
    arm_levels,
    as_categorical,
    baseline_sd,
    check_exact_fit,
    check_finite,
    check_labels,
    default_reference,
    drop_unobserved_visits,
    model_frame,
    resolve_visit_order,
    show,
)
from .._validate import (
    NanPolicy,
    check_columns,
    check_nan_policy,
    check_numeric_column,
    drop_missing_rows,
)
from ..errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning
from ._base import LinearModelResult, r_coef_names
from ._emmeans import factor_variables
from ._rank import RankInfo, drop_aliased, pivoted_rank
from .df import DFEngine, KRPieces, expected_information_w, kr_adjusted_vcov

__all__ = ["LMMResult", "lmm"]

_LOG2PI = float(np.log(2 * np.pi))


# --------------------------------------------------------------------------- deviance
def _blocks_from_theta(theta: np.ndarray, q: int) -> np.ndarray:
    """Relative Cholesky factor Lambda (q x q, lower) from lme4's theta (column-wise)."""
    Lam = np.zeros((q, q))
    idx = [(i, j) for j in range(q) for i in range(j, q)]
    for value, (i, j) in zip(theta, idx, strict=True):
        Lam[i, j] = value
    return Lam


def _theta_lower_bounds(q: int) -> list[float | None]:
    return [0.0 if i == j else None for j in range(q) for i in range(j, q)]


@dataclass(frozen=True)
class _Moments:
    """Derivatives of the deviance in phi = (vech(G), sigma^2) and KR pieces (per block).

    ``K[a] = X'V^-1 V_a V^-1 X`` (so ``dC/dphi_a = C K[a] C`` and KR's ``P_a = -K[a]``),
    ``Q[a, b] = X'V^-1 V_a V^-1 V_b V^-1 X`` (only when asked for: Kenward-Roger),
    ``T1[a, b] = tr(V^-1 V_a V^-1 V_b)``.
    """

    beta: np.ndarray
    C: np.ndarray
    K: np.ndarray
    Q: np.ndarray | None
    T1: np.ndarray
    trPVPV: np.ndarray
    grad: np.ndarray
    H: np.ndarray


def _vech_basis(q: int) -> np.ndarray:
    """``S_a = dG/dphi_a`` for the vech elements of G (column-wise lower triangle)."""
    out = np.zeros((q * (q + 1) // 2, q, q))
    a = 0
    for j in range(q):
        for i in range(j, q):
            out[a, i, j] = out[a, j, i] = 1.0
            a += 1
    return out


def _bsum(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``sum_m A_m' B_m`` for ``A`` (m, r, a), ``B`` (m, r, b): one BLAS product, (a, b)."""
    out: np.ndarray = A.reshape(-1, A.shape[-1]).T @ B.reshape(-1, B.shape[-1])
    return out


def _pair4(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``P[j, k, l, i] = sum_m A_m[j, k] B_m[l, i]`` for per-subject q x q matrices."""
    m, q, _ = A.shape
    out: np.ndarray = (A.reshape(m, q * q).T @ B.reshape(m, q * q)).reshape(q, q, q, q)
    return out


def _sandwich(S: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``sum_m A_m' S_a B_m`` for every ``S_a``: ``A`` (m, q, a), ``B`` (m, q, b) -> (nS, a, b)."""
    m, q, a = A.shape
    b = B.shape[2]
    pair = (A.transpose(1, 2, 0).reshape(q * a, m) @ B.reshape(m, q * b)).reshape(q, a, q, b)
    out: np.ndarray = np.einsum("kij,iajb->kab", S, pair)
    return out


class _Problem:
    """y = X b + Z u + e with u_i ~ N(0, G) per subject, held as per-subject statistics.

    Each subject's rows split into the span of its random-effect columns Z_i and
    the orthogonal complement. With ``Z_i'Z_i = T_i'T_i`` (eigen-decomposition,
    a rank-deficient Z_i allowed) the marginal covariance acts on the span as
    the q x q matrix ``T_i G T_i' + sigma^2 I`` and on the complement as
    ``sigma^2 I``. So every quantity of the fit and of its derivatives is a sum
    of (i) cross-products of the within-subject residuals ``X_d, y_d`` (formed
    once) and (ii) per-subject q-dimensional terms in the coordinates
    ``x~_i = Lambda_i^-1/2 E_i' Z_i'X_i``: the cost is O(n p^2) once and
    O(m q^2 p^2) per evaluation, with no subtraction of large terms (stable at
    high intra-class correlation) and no N x N (or n_i x n_i) matrix.
    """

    def __init__(self, y: np.ndarray, X: np.ndarray, Zs: np.ndarray, groups: np.ndarray,
                 reml: bool) -> None:
        self.y = y = np.asarray(y, dtype=float)
        self.X = X = np.asarray(X, dtype=float)
        self.Zs = Zs = np.asarray(Zs, dtype=float)
        self.reml = reml
        self.n, self.p = X.shape
        self.q = q = Zs.shape[1]
        codes, inverse = np.unique(groups, return_inverse=True)
        self.group_index = G = np.asarray(inverse).reshape(-1)
        self.m = len(codes)
        order = np.argsort(G, kind="stable")
        self.counts = np.bincount(G, minlength=self.m)
        starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])

        def gsum(v: np.ndarray) -> np.ndarray:
            out: np.ndarray = np.add.reduceat(v[order], starts, axis=0)
            return out

        # per-subject cross-products
        self.ZtZ = gsum(Zs[:, :, None] * Zs[:, None, :])          # (m, q, q)
        self.ZtX = gsum(Zs[:, :, None] * X[:, None, :])           # (m, q, p)
        self.Zty = gsum(Zs * y[:, None])                           # (m, q)
        self.XtX, self.Xty, self.yty = X.T @ X, X.T @ y, float(y @ y)
        # Z_i'Z_i = T_i'T_i; coordinates of X and y on span(Z_i); within residuals
        if q == 1:
            lam = self.ZtZ[:, :, 0]
            Et = np.ones((self.m, 1, 1))
        else:
            lam, E = np.linalg.eigh(self.ZtZ)
            Et = E.transpose(0, 2, 1)
        pos = lam > 1e-12 * np.max(lam, axis=1, keepdims=True)
        safe = np.where(pos, lam, 1.0)
        self.T = np.where(pos, np.sqrt(safe), 0.0)[:, :, None] * Et       # (m, q, q)
        Pz = np.where(pos, 1.0 / np.sqrt(safe), 0.0)[:, :, None] * Et     # Lambda^-1/2 E'
        self.Xt = Pz @ self.ZtX                                          # (m, q, p)
        self.yt = (Pz @ self.Zty[:, :, None])[:, :, 0]                   # (m, q)
        bX = (Pz.transpose(0, 2, 1) @ self.Xt)[G]                        # (Z'Z)^+ Z'X per row
        by = (Pz.transpose(0, 2, 1) @ self.yt[:, :, None])[G, :, 0]
        self.Xd = X - np.einsum("nj,njp->np", Zs, bX)
        self.yd = y - np.einsum("nj,nj->n", Zs, by)
        self.XdXd = self.Xd.T @ self.Xd
        self.Xdyd = self.Xd.T @ self.yd
        self.ydyd = float(self.yd @ self.yd)
        self._S = _vech_basis(q)
        self._last: tuple[bytes, Any] | None = None

    def _solve(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float] | None:
        """log|V0|, X'V0^-1 X, beta and the weighted RSS (V0 = I + Z Lam Lam' Z')."""
        theta = np.asarray(theta, dtype=float)
        key = theta.tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        out = self._solve_uncached(theta)
        self._last = (key, out)
        return out

    def _solve_uncached(self, theta: np.ndarray
                        ) -> tuple[float, np.ndarray, np.ndarray, float] | None:
        if self.q == 1:
            d = theta[0] ** 2 * self.ZtZ[:, 0, 0]                 # eigenvalue of T Lam Lam' T'
            w = 1.0 / (1.0 + d)
            logdet = float(np.sum(np.log1p(d)))
            xt, yt = self.Xt[:, 0, :], self.yt[:, 0]
            xw = xt * w[:, None]
            XVX = self.XdXd + xw.T @ xt
            XVy = self.Xdyd + xw.T @ yt
            yVy = self.ydyd + float(w @ (yt * yt))
        else:
            TL = self.T @ _blocks_from_theta(theta, self.q)      # (m, q, q)
            M = np.eye(self.q) + TL @ TL.transpose(0, 2, 1)
            try:
                Mc = np.linalg.cholesky(M)
            except np.linalg.LinAlgError:
                return None
            logdet = 2 * float(np.sum(np.log(np.diagonal(Mc, axis1=1, axis2=2))))
            A = np.linalg.solve(Mc, np.concatenate([self.Xt, self.yt[:, :, None]], axis=2))
            AX, Ay = A[:, :, :-1], A[:, :, -1:]
            XVX = self.XdXd + _bsum(AX, AX)
            XVy = self.Xdyd + _bsum(AX, Ay)[:, 0]
            yVy = self.ydyd + float(np.sum(Ay * Ay))
        try:
            beta = np.linalg.solve(XVX, XVy)
        except np.linalg.LinAlgError:
            return None
        return logdet, XVX, beta, yVy - float(beta @ XVy)

    def deviance(self, theta: np.ndarray) -> float:
        """Profiled REML (or ML) deviance, lme4's criterion."""
        out = self._solve(theta)
        if out is None:
            return np.inf
        logdetV, XVX, _, rss = out
        if not rss > 0:
            return np.inf
        if self.reml:
            dof = self.n - self.p
            sign, logdetX = np.linalg.slogdet(XVX)
            if not sign > 0:
                return np.inf
            return float(logdetV + logdetX + dof * (1 + _LOG2PI + np.log(rss / dof)))
        return float(logdetV + self.n * (1 + _LOG2PI + np.log(rss / self.n)))

    def sigma2(self, theta: np.ndarray) -> float:
        out = self._solve(theta)
        assert out is not None
        return out[3] / (self.n - self.p if self.reml else self.n)

    # ---------------------------------------------------------------- derivatives
    def moments(self, G: np.ndarray, sigma2: float, full: bool = False) -> _Moments:
        """REML/ML derivatives in phi = (vech(G), sigma^2), from per-subject statistics.

        ``V_i = Z_i G Z_i' + sigma^2 I`` is linear in phi, ``V = sum_a phi_a V_a``;
        with ``P = V^-1 - V^-1 X C X' V^-1`` and ``C = (X' V^-1 X)^-1`` the deviance
        (``-2 log L``) has gradient ``tr(P V_a) - y' P V_a P y`` and Hessian
        ``-tr(P V_a P V_b) + 2 y' P V_a P V_b P y`` (ML: ``V^-1`` for ``P`` in the
        traces). On each subject's span of Z the inverse is diagonal after the
        rotation ``U_i`` with ``T_i G T_i' = U_i D_i U_i'`` (``V^-k`` acts as
        ``(D_i + sigma^2)^-k``), on its complement as ``sigma^-2k``; every term is
        then a sum of q x p per-subject products (``full`` adds the Kenward-Roger
        ``Q``), so no N x N or n_i x n_i matrix is formed.
        """
        q, p, m, s = self.q, self.p, self.m, float(sigma2)
        S = self._S
        nG = len(S)
        k = nG + 1
        B = self.T @ G @ self.T.transpose(0, 2, 1)                 # (m, q, q)
        if q == 1:
            d = B[:, :, 0]
            xh, th, yh = self.Xt, self.T, self.yt
        else:
            d, U = np.linalg.eigh(B)
            Ut = U.transpose(0, 2, 1)
            xh, th = Ut @ self.Xt, Ut @ self.T
            yh = (Ut @ self.yt[:, :, None])[:, :, 0]
        # batched products of per-subject q x q by q x r matrices (q = 1: a broadcast)
        mm: Any = (lambda A_, B_: A_ * B_) if q == 1 else np.matmul
        e1 = 1.0 / (d + s)
        e2 = e1 * e1
        e3 = e2 * e1
        XWX = self.XdXd / s + _bsum(xh * e1[:, :, None], xh)
        XWy = self.Xdyd / s + _bsum(xh * e1[:, :, None], yh[:, :, None])[:, 0]
        C = np.linalg.inv(XWX)
        C = (C + C.T) / 2
        beta = C @ XWy
        rd = self.yd - self.Xd @ beta                              # within residuals
        rh = yh - (xh.reshape(-1, p) @ beta).reshape(m, q)          # (m, q)
        rdrd = float(rd @ rd)
        thT = th.transpose(0, 2, 1)
        ZWX = mm(thT, (e1[:, :, None] * xh))  # Z'V^-1 X   (m, q, p)
        ZW2X = mm(thT, (e2[:, :, None] * xh))  # Z'V^-2 X
        ZWZ = mm(thT, (e1[:, :, None] * th))  # Z'V^-1 Z   (m, q, q)
        ZW2Z = mm(thT, (e2[:, :, None] * th))
        z = mm(thT, (e1 * rh)[:, :, None])[:, :, 0]                 # Z'P y
        ZWPy = mm(thT, (e2 * rh)[:, :, None])[:, :, 0]              # Z'V^-1 P y
        XW2X = self.XdXd / s**2 + _bsum(xh * e2[:, :, None], xh)
        XW3X = self.XdXd / s**3 + _bsum(xh * e3[:, :, None], xh)
        nq = self.n - m * q
        trW = nq / s + float(e1.sum())
        trW2 = nq / s**2 + float(e2.sum())
        PyPy = rdrd / s**2 + float(np.sum(e2 * rh * rh))
        PyWPy = rdrd / s**3 + float(np.sum(e3 * rh * rh))
        XWPy = self.Xd.T @ rd / s**2 + _bsum(xh * e2[:, :, None], rh[:, :, None])[:, 0]

        K = np.empty((k, p, p))
        K[:nG] = _sandwich(S, ZWX, ZWX)
        K[nG] = XW2X
        T1 = np.empty((k, k))
        T1[:nG, :nG] = np.einsum("aij,bkl,jkli->ab", S, S, _pair4(ZWZ, ZWZ))
        T1[:nG, nG] = T1[nG, :nG] = np.einsum("aij,ji->a", S, ZW2Z.sum(0))
        T1[nG, nG] = trW2
        Q: np.ndarray | None = None
        trCQ = np.empty((k, k))
        if full:
            Us = S[:, None] @ ZWX[None]                            # S_a Z'V^-1 X
            BU = mm(ZWZ[None], Us)
            Q = np.empty((k, k, p, p))
            Q[:nG, :nG] = np.tensordot(Us, BU, axes=([1, 2], [1, 2])).transpose(0, 2, 1, 3)
            QGs = _sandwich(S, ZWX, ZW2X)
            Q[:nG, nG] = QGs
            Q[nG, :nG] = QGs.transpose(0, 2, 1)
            Q[nG, nG] = XW3X
            trCQ[:] = np.einsum("pq,abqp->ab", C, Q)
        else:
            ZWXC = (ZWX.reshape(-1, p) @ C).reshape(m, q, p)
            Y = (np.sum(ZWXC * ZWX, axis=2)[:, :, None] if q == 1
                 else ZWXC @ ZWX.transpose(0, 2, 1))    # Z'V^-1 X C X'V^-1 Z
            trCQ[:nG, :nG] = np.einsum("aij,bkl,jkli->ab", S, S, _pair4(ZWZ, Y))
            Y2 = np.einsum("mip,mjp->ij", (ZW2X.reshape(-1, p) @ C).reshape(m, q, p), ZWX)
            trCQ[:nG, nG] = trCQ[nG, :nG] = np.einsum("aij,ji->a", S, Y2)
            trCQ[nG, nG] = float(np.sum(C * XW3X))
        CK = C @ K
        trPVPV = T1 - 2 * trCQ + np.einsum("apq,bqp->ab", CK, CK)
        sz = mm(S[:, None], z[None, :, :, None])[..., 0]           # S_a Z'P y  (nG, m, q)
        Xu = np.empty((k, p))
        Xu[:nG] = np.tensordot(sz, ZWX, axes=([1, 2], [0, 1]))
        Xu[nG] = XWPy
        uWu = np.empty((k, k))
        Bsz = mm(ZWZ[None], sz[..., None])[..., 0]
        uWu[:nG, :nG] = np.tensordot(sz, Bsz, axes=([1, 2], [1, 2]))
        uWu[:nG, nG] = uWu[nG, :nG] = np.tensordot(sz, ZWPy, axes=([1, 2], [0, 1]))
        uWu[nG, nG] = PyWPy
        quad = uWu - Xu @ C @ Xu.T
        trWV = np.append(np.einsum("aij,ji->a", S, ZWZ.sum(0)), trW)
        yPVPy = np.append(np.tensordot(sz, z, axes=([1, 2], [0, 1])), PyPy)
        if self.reml:
            grad = trWV - np.trace(CK, axis1=1, axis2=2) - yPVPy
            H = -trPVPV + 2 * quad
        else:
            grad = trWV - yPVPy
            H = -T1 + 2 * quad
        return _Moments(beta=beta, C=C, K=K, Q=Q, T1=T1, trPVPV=trPVPV, grad=grad,
                        H=(H + H.T) / 2)

    def varpar_derivatives(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian of the *profiled* deviance with respect to theta.

        At sigma = sigma_hat(theta) the deviance is stationary in sigma, so the
        gradient is the theta part of the full gradient and the Hessian the Schur
        complement ``H_tt - H_ts H_ss^-1 H_st`` of the full Hessian in (theta, sigma).
        """
        sigma2 = self.sigma2(theta)
        Lam = _blocks_from_theta(theta, self.q)
        mom = self.moments(sigma2 * Lam @ Lam.T, sigma2)
        v = np.concatenate([theta, [np.sqrt(sigma2)]])
        J, D2 = _phi_derivatives(v, self.q)
        g = J.T @ mom.grad
        Hv = J.T @ mom.H @ J + np.einsum("a,aij->ij", mom.grad, D2)
        t = len(theta)
        Hs = Hv[:t, :t] - np.outer(Hv[:t, t], Hv[t, :t]) / Hv[t, t]
        return g[:t], (Hs + Hs.T) / 2


def _num_grad(f: Any, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _num_hess(f: Any, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    k = x.size
    H = np.empty((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h**2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = h
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4 * h * h)
    return H


def _fold_theta(theta: np.ndarray, q: int) -> np.ndarray:
    """Make every diagonal element of Lambda non-negative by flipping its column.

    ``G = sigma^2 Lambda Lambda'`` does not change when a whole column of Lambda
    changes sign, so the deviance is the same at the folded point.
    """
    out = np.array(theta, dtype=float)
    pos = 0
    for j in range(q):
        if out[pos] < 0:
            out[pos:pos + q - j] *= -1
        pos += q - j
    return out


def _tr_step(g: np.ndarray, H: np.ndarray, delta: float) -> np.ndarray:
    """Minimiser of ``g's + s'Hs/2`` over ``|s| <= delta`` (eigen-decomposition of H).

    The Newton step when H is positive definite and the step fits; otherwise
    ``s(lam) = -(H + lam I)^-1 g`` with ``|s(lam)| = delta`` (bisection on the
    secular equation), and in the "hard case" (g orthogonal to the eigenvector
    of the smallest eigenvalue) that eigenvector fills the step to the boundary.
    """
    ev, V = np.linalg.eigh(H)
    gv = V.T @ g
    if ev[0] > 1e-12 * max(1.0, float(np.max(np.abs(ev)))):
        s = -V @ (gv / ev)
        if float(np.linalg.norm(s)) <= delta:
            return s
    lam_lo = max(0.0, -float(ev[0]))

    def norm_at(lam: float) -> float:
        with np.errstate(divide="ignore"):
            return float(np.linalg.norm(gv / (ev + lam)))

    if norm_at(lam_lo + 1e-12 * max(1.0, lam_lo)) < delta:   # hard case
        shifted = ev + lam_lo
        keep = shifted > 1e-12 * max(1.0, lam_lo)
        s_v = np.where(keep, -gv / np.where(keep, shifted, 1.0), 0.0)
        tau = np.sqrt(max(delta**2 - float(s_v @ s_v), 0.0))
        s_v[int(np.argmin(ev))] += tau
        return V @ s_v
    lam_hi = lam_lo + float(np.linalg.norm(g)) / delta + 1.0
    while norm_at(lam_hi) > delta:
        lam_hi = 2 * lam_hi + 1.0
    a, b = lam_lo, lam_hi
    for _ in range(100):
        mid = 0.5 * (a + b)
        if norm_at(mid) > delta:
            a = mid
        else:
            b = mid
        if b - a <= 1e-14 * max(1.0, b):
            break
    return -V @ (gv / (ev + b))


def _newton(prob: _Problem, theta: np.ndarray, max_iter: int = 200) -> tuple[np.ndarray, float]:
    """Trust-region Newton on the profiled deviance with its analytic gradient and Hessian.

    Exact trust-region steps (:func:`_tr_step`, so an indefinite Hessian far
    from the optimum is handled), radius updated by the ratio of actual to
    predicted reduction; Lambda's columns are folded to a non-negative
    diagonal (``_fold_theta``), so the search is unconstrained and a variance
    at zero is approached as an ordinary stationary point. Stops when the
    gradient is below 1e-10, or the predicted reduction is at rounding level.
    """
    q = prob.q
    theta = _fold_theta(theta, q)
    f = prob.deviance(theta)
    if not np.isfinite(f):
        return theta, f
    delta = max(1.0, float(np.linalg.norm(theta)))
    gbest = np.inf
    for _ in range(max_iter):
        g, H = prob.varpar_derivatives(theta)
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
            break
        gmax = float(np.max(np.abs(g)))
        if gmax < 1e-10:
            break
        step = _tr_step(g, H, delta)
        pred = -float(g @ step + 0.5 * step @ H @ step)
        noise = 1e-13 * max(1.0, abs(f))
        cand = _fold_theta(theta + step, q)
        fc = prob.deviance(cand)
        if not pred > noise:
            # at rounding level of the deviance: Newton polish while the gradient falls
            if not (gmax < gbest and fc <= f + noise):
                break
            gbest = gmax
            theta, f = cand, min(f, fc)
            continue
        rho = (f - fc) / pred if np.isfinite(fc) else -np.inf
        snorm = float(np.linalg.norm(step))
        if rho < 0.25:
            delta = 0.25 * snorm
        elif rho > 0.75 and snorm >= 0.99 * delta:
            delta = 2.0 * delta
        if fc < f or (rho > 0 and fc <= f + noise):
            theta, f = cand, fc
        if delta < 1e-12 * max(1.0, float(np.linalg.norm(theta))):
            break
    return theta, f


def _optimize(prob: _Problem, start: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Minimise the profiled deviance over theta (lme4's relative Cholesky factor).

    Newton's method on the analytic gradient and Hessian (``_newton``) from
    ``start``; the deviance is even in each diagonal theta, so theta = 0 is always
    a stationary point, and a solution with a variance at (or next to) zero is
    therefore confirmed from other starts, keeping the best. A diagonal element
    below 1e-7 is set to 0 (the boundary) when that does not raise the deviance.
    Returns theta, deviance and the final gradient norm (free coordinates).
    """
    q = prob.q
    diag = np.array([i == j for j in range(q) for i in range(j, q)])
    theta, f = _newton(prob, np.asarray(start, dtype=float))
    if np.any(np.abs(theta[diag]) < 1e-4) or not np.isfinite(f):
        for x0 in (start * 0.3, start * 3.0, start * 10.0):
            cand, fc = _newton(prob, np.asarray(x0, dtype=float))
            if fc < f - 1e-10 * max(1.0, abs(f)):
                theta, f = cand, fc
    small = diag & (np.abs(theta) < 1e-7) & (theta != 0)
    if small.any():
        snapped = theta.copy()
        snapped[small] = 0.0
        fs = prob.deviance(snapped)
        if fs <= f + 1e-12 * max(1.0, abs(f)):
            theta, f = snapped, fs
    lo = np.where(diag, 0.0, -np.inf)
    g, _ = prob.varpar_derivatives(theta)
    free = theta > lo + 1e-6
    gnorm = float(np.max(np.abs(g[free]))) if free.any() else 0.0
    return theta, float(prob.deviance(theta)), gnorm


def _phi_of_varpar(v: np.ndarray, q: int) -> np.ndarray:
    """phi = (vech(G) column-wise, sigma^2) from lmerTest's varpar = (theta, sigma)."""
    Lam = _blocks_from_theta(v[:-1], q)
    G = v[-1] ** 2 * Lam @ Lam.T
    return np.array([G[i, j] for j in range(q) for i in range(j, q)] + [v[-1] ** 2])


def _phi_derivatives(v: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Jacobian (k x k) and Hessians (k x k x k) of phi(varpar), analytically.

    ``G = sigma^2 Lam Lam'`` with ``Lam`` linear in theta (``dLam/dtheta_t = E_t``):
    ``dG/dtheta_t = sigma^2 (E_t Lam' + Lam E_t')``, ``dG/dsigma = 2 sigma Lam Lam'``,
    ``d2G/dtheta_t dtheta_u = sigma^2 (E_t E_u' + E_u E_t')``,
    ``d2G/dtheta_t dsigma = 2 sigma (E_t Lam' + Lam E_t')``, ``d2G/dsigma^2 = 2 Lam Lam'``;
    ``d sigma^2 / d sigma = 2 sigma``, second derivative 2.
    """
    theta, sigma = v[:-1], float(v[-1])
    t = theta.size
    k = t + 1
    Lam = _blocks_from_theta(theta, q)
    idx = [(i, j) for j in range(q) for i in range(j, q)]
    E = np.zeros((t, q, q))
    for n_, (i, j) in enumerate(idx):
        E[n_, i, j] = 1.0

    def vech(M: np.ndarray) -> np.ndarray:
        return np.array([M[..., i, j] for (i, j) in idx]).T if M.ndim > 2 else np.array(
            [M[i, j] for (i, j) in idx])

    EL = E @ Lam.T + Lam @ E.transpose(0, 2, 1)              # (t, q, q)
    J = np.zeros((k, k))
    D2 = np.zeros((k, k, k))
    J[:t, :t] = sigma**2 * vech(EL).reshape(t, t).T if t > 1 else sigma**2 * vech(EL[0])[:, None]
    J[:t, t] = 2 * sigma * vech(Lam @ Lam.T)
    J[t, t] = 2 * sigma
    EE = np.einsum("aij,bkj->abik", E, E)                    # E_a E_b'
    for a_ in range(t):
        for b_ in range(t):
            D2[:t, a_, b_] = sigma**2 * vech(EE[a_, b_] + EE[b_, a_])
        D2[:t, a_, t] = D2[:t, t, a_] = 2 * sigma * vech(EL[a_])
    D2[:t, t, t] = 2 * vech(Lam @ Lam.T)
    D2[t, t, t] = 2.0
    return J, D2


# --------------------------------------------------------------------------- result
class LMMResult(LinearModelResult):
    """Result of :func:`lmm`.

    Attributes
    ----------
    formula, random, subject : str
        The model specification.
    reml : bool
        Whether the variance parameters are REML estimates.
    variance_components : pandas.DataFrame
        ``group, var1, var2, variance_or_cov, sd_or_cor`` as ``lme4::VarCorr``.
    G : numpy.ndarray
        Covariance matrix of the random effects (q x q).
    sigma : float
        Residual standard deviation.
    theta : numpy.ndarray
        lme4's relative Cholesky parameters.
    deviance : float
        The REML criterion (or ML deviance), ``-2 * loglik``.
    singular, converged : bool
        Boundary fit (a variance at zero / perfect correlation); optimiser success.
    n_omitted : int
        Rows dropped for missing values.
    aliased : tuple of str
        Fixed-effect columns dropped because the design is rank deficient (as
        lme4 drops them); ``coef_names`` and ``coef()`` hold the estimated ones.
    """

    def __init__(self, *, prob: _Problem, theta: np.ndarray, deviance: float,
                 design_info: patsy.DesignInfo, frame: pd.DataFrame, formula: str,
                 random: str, re_names: list[str], subject: str, reml: bool,
                 gradient: float, n_omitted: int, outcome: str,
                 rank_info: RankInfo | None = None) -> None:
        self._prob = prob
        self.outcome_name = outcome
        self.formula, self.random, self.subject, self.reml = formula, random, subject, reml
        self.design_info = design_info
        self.frame = frame
        names = r_coef_names(design_info)
        self._rank_info = rank_info if rank_info is not None else pivoted_rank(
            prob.X, names)
        self.coef_names = self._rank_info.kept_names
        self.aliased = self._rank_info.aliased
        self.theta = theta
        self.deviance = deviance
        self.nobs = prob.n
        self.n_subjects = prob.m
        self.n_omitted = n_omitted
        self.gradient_norm = gradient
        q = prob.q
        self.sigma2 = prob.sigma2(theta)
        self.sigma = float(np.sqrt(self.sigma2))
        Lam = _blocks_from_theta(theta, q)
        self.G = self.sigma2 * Lam @ Lam.T
        self.re_names = re_names
        self.singular = bool(np.any(np.abs(np.diag(Lam)) < 1e-4))
        self.converged = gradient < 1e-3
        npar = prob.p + q * (q + 1) // 2 + 1
        self.loglik = -deviance / 2
        self.aic = deviance + 2 * npar
        self.bic = deviance + np.log(prob.n) * npar
        categorical, _ = factor_variables(design_info, frame)
        self.arm_name = next(iter(categorical), None)
        self.df_methods = (("satterthwaite", "kenward-roger", "residual", "asymptotic") if reml
                           else ("satterthwaite", "residual", "asymptotic"))
        self._inference()

    # the linear parametrisation phi = (vech(G), sigma^2): V = sum phi_k V_k
    def _inference(self) -> None:
        """Fixed effects, their covariance and the Satterthwaite / KR ingredients.

        All from per-subject blocks (:meth:`_Problem.moments`): no N x N matrix.
        lmerTest differentiates in varpar = (theta, sigma); with the analytic
        Jacobian J and second derivatives D2 of phi(varpar), the deviance Hessian
        is ``H_v = J' H_phi J + sum_a grad_a D2_a`` (the last term vanishes at an
        interior optimum, so the df are then parametrisation-free) and
        ``A = 2 H_v^-1``; ``dC/dvarpar = sum_a (C K_a C) J[a, .]``.
        """
        prob, q = self._prob, self._prob.q
        mom = prob.moments(self.G, self.sigma2)
        self._moments = mom
        self.beta = mom.beta
        self.vcov = mom.C
        dC_phi = np.einsum("pq,aqr,rs->aps", mom.C, mom.K, mom.C)
        varpar = np.concatenate([self.theta, [self.sigma]])
        J, D2 = _phi_derivatives(varpar, q)
        Hv = J.T @ mom.H @ J + np.einsum("a,aij->ij", mom.grad, D2)
        # covariance of the variance parameters: 2 H^-1 (H = Hessian of the deviance)
        self._A = 2 * np.linalg.pinv((Hv + Hv.T) / 2)
        self._dC = np.einsum("aij,ab->bij", dC_phi, J)
        self._rank = int(prob.p)
        self._df = DFEngine(beta=self.beta, C=self.vcov, dC=self._dC, A=self._A,
                            resid_df=float(self.nobs - self._rank), kr=self._kr_pieces)

    def _kr_pieces(self, method: str) -> KRPieces:
        """pbkrtest's vcovAdj: expected-information W, V linear in phi (R = 0)."""
        mom = self._prob.moments(self.G, self.sigma2, full=True)
        assert mom.Q is not None
        P = -mom.K
        W = expected_information_w(mom.C, P, mom.Q, mom.T1)
        return KRPieces(PhiA=kr_adjusted_vcov(mom.C, W, P, mom.Q), P=P, W=W)

    @property
    def variance_components(self) -> pd.DataFrame:
        """Random-effect variances, covariances and correlations, then the residual."""
        rows = []
        sd = np.sqrt(np.diag(self.G))
        for i, name in enumerate(self.re_names):
            rows.append({"group": self.subject, "var1": name, "var2": None,
                         "variance_or_cov": self.G[i, i], "sd_or_cor": sd[i]})
        for j in range(len(self.re_names)):
            for i in range(j + 1, len(self.re_names)):
                cor = self.G[i, j] / (sd[i] * sd[j]) if sd[i] * sd[j] > 0 else np.nan
                rows.append({"group": self.subject, "var1": self.re_names[j],
                             "var2": self.re_names[i], "variance_or_cov": self.G[i, j],
                             "sd_or_cor": cor})
        rows.append({"group": "Residual", "var1": None, "var2": None,
                     "variance_or_cov": self.sigma2, "sd_or_cor": self.sigma})
        return pd.DataFrame(rows)

    def _contrast_1d(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        Lr = self._rank_info.reduce(L)
        if not np.all(np.isfinite(Lr)):  # not estimable (an aliased combination)
            return np.nan, np.nan, np.nan
        return self._df.contrast_1d(Lr, df_method)

    def _contrast_md(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        Lr = self._rank_info.reduce(np.atleast_2d(L))
        if not np.all(np.isfinite(Lr)):
            return np.nan, np.nan, np.nan
        return self._df.contrast_md(Lr, df_method)

    def _standardizer(self, kind: str) -> float:
        return self._standardizer_info(kind)[0]

    def _standardizer_info(self, kind: str) -> tuple[float, str]:
        """(SD, which SD it is) for :meth:`effect_sizes`; see :func:`lmm` Notes."""
        if kind == "residual_sd":
            # total within-arm SD implied by the model: random intercept + residual
            sd = float(np.sqrt(self.G[0, 0] + self.sigma2))
            where = f" (at {self.re_names[1]} = 0)" if len(self.re_names) > 1 else ""
            return sd, ("model SD sqrt(var(random intercept) + var(residual))" + where)
        levels = getattr(self, "visit_levels", None)
        return baseline_sd(self.frame, outcome=self.outcome_name, subject=self.subject,
                           visit=getattr(self, "visit_name", None),
                           first_visit=levels[0] if levels else None, arm=self.arm_name,
                           baseline=getattr(self, "baseline_name", None),
                           candidates=getattr(self, "_baseline_candidates", ()))


# --------------------------------------------------------------------------- front end
def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a column's distinct values (missing values get -1)."""
    codes: np.ndarray = pd.factorize(values, use_na_sentinel=True)[0]
    return codes


def _constant_within(subject_codes: np.ndarray, values: pd.Series) -> bool:
    """Whether ``values`` takes at most one (non-missing) value within every subject
    (``groupby(subject)[col].nunique() <= 1`` for all subjects, without pandas)."""
    codes = _codes(values)
    ok = codes >= 0
    pairs = np.unique(subject_codes[ok].astype(np.int64) * (int(codes.max()) + 2) + codes[ok])
    return len(pairs) == len(np.unique(subject_codes[ok]))


def _check_levels(design_info: patsy.DesignInfo, work: pd.DataFrame, subject: str) -> None:
    """Every factor level needs two observations; a between-subject level two subjects."""
    categorical, _ = factor_variables(design_info, work)
    subj = _codes(work[subject])
    for col, levels in categorical.items():
        values = work[col]
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        keys = list(uniques)
        ok = codes >= 0
        n_obs = np.bincount(codes[ok], minlength=len(keys))
        counts = dict(zip(keys, n_obs.tolist(), strict=True))
        single = [lv for lv in levels if counts.get(lv, 0) == 1]
        if single:
            raise DesignError(
                f"Level {single[0]!r} of {col!r} has a single observation; each level needs "
                "at least two (merge or drop it)."
            )
        if _constant_within(subj, values):
            pairs = np.unique(np.column_stack([codes[ok], subj[ok]]), axis=0)
            n_s = np.bincount(pairs[:, 0], minlength=len(keys))
            n_subj = dict(zip(keys, n_s.tolist(), strict=True))
            lonely = [lv for lv in levels if n_subj.get(lv, 0) == 1]
            if lonely:
                raise DesignError(
                    f"Level {lonely[0]!r} of the between-subject factor {col!r} has a single "
                    f"subject; each level needs at least two subjects."
                )


_RANDOM_RE = re.compile(r"^\s*1\s*(?:\+\s*[A-Za-z_][A-Za-z_0-9.]*\s*)?$")


def _parse_random(random: Any, data: pd.DataFrame) -> list[str]:
    """Validate ``random`` ("1", "1 + time"); return the slope columns."""
    if not isinstance(random, str) or not _RANDOM_RE.match(random):
        raise DataError(
            "The 'random' argument must be \"1\" (random intercept) or \"1 + <column>\" "
            f"(random intercept and slope); got {random!r}."
        )
    cols = [t.strip() for t in random.split("+")[1:]]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataError(
            f"'random' names column(s) {missing} not in the data. Available columns: "
            f"{', '.join(map(repr, data.columns))}."
        )
    return cols


def lmm(formula: str, data: pd.DataFrame, *, subject: str, random: str = "1",
        reml: bool = True, nan_policy: NanPolicy = "omit", visit: str | None = None,
        visit_order: Sequence[Any] | None = None, arm: str | None = None,
        reference: Any = None, baseline: str | None = None) -> LMMResult:
    r"""Linear mixed model with per-subject random effects, with lmerTest-style inference.

    Fits :math:`y = X\beta + Z u + \varepsilon`, :math:`u_i \sim N(0, G)` per
    subject (random intercept, or intercept and slope on one numeric column),
    :math:`\varepsilon \sim N(0, \sigma^2 I)`, by REML (default) or ML. The fit
    minimises lme4's profiled deviance in lme4's relative-Cholesky
    parametrisation (L-BFGS-B, then Newton steps to a gradient of about 1e-8),
    so estimates agree with ``lme4::lmer`` (to lme4's own optimiser tolerance;
    statsmodels' ``MixedLM`` is not used: it was 5x slower and stopped short of
    the optimum for random slopes).

    Inference (``coef``, ``anova``, ``emmeans``, ``contrasts``) offers
    ``df_method="satterthwaite"`` (default; lmerTest), ``"kenward-roger"``
    (pbkrtest; REML only), ``"residual"`` (N - rank(X)) and ``"asymptotic"``
    (z tests).

    Parameters
    ----------
    formula : str
        Fixed effects, e.g. ``"outcome ~ arm * visit"``. Factor level order: a
        pandas Categorical's categories, otherwise sorted (as R); the first is
        the reference level.
    data : pandas.DataFrame
        Long data, one row per subject and visit.
    subject : str
        Subject identifier column.
    random : {"1", "1 + <column>"}
        Random intercept, or intercept and slope on a numeric column
        (unstructured 2 x 2 covariance, as ``(1 + time | subject)``).
    reml : bool
        REML (default) or maximum likelihood.
    nan_policy : {"omit", "raise"}, optional
        Rows with a missing value in a model column are dropped and announced
        with a ``RehabStatsWarning`` (``"omit"``), or raise a ``DataError``.
    visit : str, optional
        The visit column. Default: the formula's column named ``"visit"``, if
        any. Its labels are ordered by the library's one visit rule (as
        :func:`mmrm`: ``visit_order``, a Categorical's order, numbers sorted,
        natural order of numbered labels, else the agreed within-subject
        sequence, else a ``DesignError``), so the first visit is the reference
        level of the visit factor. Other string factors are sorted, as R.
        Rows repeating a subject-visit pair are kept as replicates (a
        ``RehabStatsWarning`` says so).
    visit_order : sequence, optional
        The visit labels in order.
    arm : str, optional
        The arm factor (default: the first formula factor constant within
        subjects, other than the visit).
    reference : optional
        The reference arm; default a recognised control label (control, usual
        care, sham, placebo, TAU, waitlist, ...), else the first level.
    baseline : str, optional
        A baseline covariate (one value per subject) defining the
        ``"baseline_sd"`` standardiser.

    Returns
    -------
    LMMResult
        Also ``visit_levels`` (the visit order used, or None), ``reference_arm``.

    Raises
    ------
    DataError
        Missing columns, a non-numeric or infinite outcome, no complete rows,
        a bad ``random`` or ``reml``, labels differing only in case/whitespace;
        a numeric column of magnitude above 1e150 (its squares overflow); an
        outcome that is constant or fitted exactly by the fixed effects (no
        residual variation: the variance parameters are not identifiable).
    DesignError
        More parameters than observations, or as many random effects as
        observations (lme4's refusal).

    Warns
    -----
    RehabStatsWarning
        Rows with missing values dropped; aliased fixed-effect columns of a
        rank-deficient design dropped (named; see ``aliased`` and
        :mod:`rehabstats.models._rank`), as lme4 does.
    ConvergenceWarning
        A singular fit (a variance at zero) or an optimiser that did not converge.

    Notes
    -----
    ``effect_sizes("baseline_sd")`` divides by the pooled within-arm SD of the
    baseline: the ``baseline`` covariate (one value per subject) or, without
    it, the observed outcome at the first visit (a ``DesignError`` when the
    model adjusts for a numeric subject-level covariate, since the first
    visit is then not a baseline); ``"residual_sd"`` by the model SD
    :math:`\sqrt{G_{11} + \sigma^2}`. The table's ``standardizer_source``
    column says which.

    Satterthwaite: :math:`\nu = 2 (L C L^\top)^2 / (g^\top A g)` with
    :math:`A = 2 H^{-1}`, :math:`H` the Hessian of the REML deviance in
    lmerTest's parametrisation (theta, sigma), obtained analytically in the
    linear parametrisation (vech(G), sigma^2) and carried over by the chain rule
    with the analytic Jacobian and second derivatives of that map (including the
    gradient term, which matters at a boundary fit); no finite differences, so
    e.g. the paired t test written as an LMM gives its n - 1 df to ~1e-11.
    Kenward-Roger: pbkrtest's ``vcovAdj`` (expected information, linear
    covariance structure, so the "linear" and the full KR coincide) and
    ``Lb_ddf``/``KRmodcomp`` for the df and the F scaling (see
    :mod:`rehabstats.models.df.kenward_roger`). Everything (fit, derivatives,
    Satterthwaite and KR pieces) is computed per subject block (the marginal
    covariance is block diagonal), never as an ``N x N`` matrix.

    Rank-deficient fixed effects (an empty cell, collinear covariates) are
    handled as lme4: the aliased columns are dropped (pivoted QR, tolerance
    1e-7) with a warning naming them, ``aliased`` lists them, and type III
    tests use the estimable part (as lmerTest).

    References
    ----------
    Bates et al. (2015), *J. Stat. Softw.* 67(1), doi:10.18637/jss.v067.i01.
    Kuznetsova et al. (2017), *J. Stat. Softw.* 82(13), doi:10.18637/jss.v082.i13.
    Kenward & Roger (1997), *Biometrics* 53, 983-997, doi:10.2307/2533558.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from rehabstats.models import lmm
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"subject": np.repeat(np.arange(12), 3),
    ...                   "visit": np.tile(["pre", "post", "fu"], 12),
    ...                   "arm": np.repeat(["control", "cimt"], 18)})
    >>> d["y"] = rng.normal(size=36) + np.repeat(rng.normal(size=12), 3)
    >>> fit = lmm("y ~ arm * visit", d, subject="subject")
    >>> list(fit.anova()["term"])
    ['arm', 'visit', 'arm:visit']
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise DataError(f"'formula' must be a string like 'outcome ~ arm * visit'; got {formula!r}.")
    if not isinstance(reml, (bool, np.bool_)):
        raise DataError(f"The 'reml' argument must be True or False; got {reml!r}.")
    nan_policy = check_nan_policy(nan_policy)
    check_columns(data, {"subject": subject, "visit": visit, "arm": arm, "baseline": baseline})
    slope_cols = _parse_random(random, data)
    lhs, rhs = formula.split("~", 1)
    outcome = lhs.strip()
    check_columns(data, {"outcome (formula left-hand side)": outcome})
    try:
        rhs_desc = patsy.ModelDesc.from_formula(rhs)
    except patsy.PatsyError as exc:
        raise DataError(f"Cannot parse the formula {formula!r}: {exc}") from exc
    used = {outcome, subject, *slope_cols}
    in_formula: set[str] = set()
    for term in rhs_desc.rhs_termlist:
        for factor in term.factors:
            names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9.]*", factor.code))
            missing_here = [n for n in names if n in data.columns]
            in_formula.update(missing_here)
            bare = factor.code.strip()
            if bare.isidentifier() and bare not in data.columns:
                raise DataError(
                    f"The formula names column {bare!r}, which is not in the data. "
                    f"Available columns: {', '.join(map(repr, data.columns))}."
                )
    used |= in_formula
    if visit is None and "visit" in in_formula:
        visit = "visit"  # a formula factor named "visit" is the visit (documented)
    if arm is not None and arm not in in_formula:
        raise DataError(f"'arm' is {arm!r}, which is not a term of the formula {formula!r}.")
    used_cols = [c for c in data.columns if c in used]
    extra = [c for c in (visit, baseline) if c is not None and c not in used]
    frame = model_frame(data, [*used_cols, *extra])
    frame[outcome] = check_numeric_column(frame, outcome, "outcome")
    check_finite(frame, [c for c in frame.columns if c != subject], {outcome: "outcome"})
    for c in frame.columns:
        if c not in (outcome, subject):
            check_labels(frame[c], c)
    visit_levels: list[Any] | None = None
    all_visits: list[Any] | None = None
    if visit is not None:
        all_visits = resolve_visit_order(frame, visit, subject, visit_order)
    elif visit_order is not None:
        raise DataError("'visit_order' was given without a visit column: pass visit=... "
                        "(the column whose labels it orders).")
    work, n_omitted = drop_missing_rows(frame, used_cols, nan_policy=nan_policy, stacklevel=3)
    if len(work) == 0:
        raise DataError(
            f"No complete rows remain: every row misses {outcome!r} or another column of the "
            f"model ({', '.join(map(repr, used_cols))})."
        )
    for c in slope_cols:
        work[c] = check_numeric_column(work, c, "random")
    if visit is not None and all_visits is not None:
        visit_levels = drop_unobserved_visits(all_visits, work[visit], visit=visit,
                                              outcome=outcome, stacklevel=3)
        numeric_visit = (pd.api.types.is_numeric_dtype(work[visit].dtype)
                         and not isinstance(work[visit].dtype, pd.CategoricalDtype))
        if not numeric_visit:
            work[visit] = as_categorical(work[visit], visit_levels)
        dup = work.duplicated([subject, visit])
        if dup.any():
            warnings.warn(
                f"{int(dup.sum())} row(s) repeat a subject-visit combination (column "
                f"{visit!r}); they are kept as replicate measurements, which a linear mixed "
                "model allows (mmrm() refuses them).", RehabStatsWarning, stacklevel=2)
    for c in work.columns:
        if c not in (outcome, subject, *slope_cols) and not pd.api.types.is_numeric_dtype(
                work[c].dtype) and not isinstance(work[c].dtype, pd.CategoricalDtype):
            work[c] = as_categorical(work[c], arm_levels(work[c]))
    subject_codes = _codes(work[subject])
    subject_factors = [
        c for c in work.columns
        if c in in_formula and c not in (outcome, subject, visit)
        and isinstance(work[c].dtype, pd.CategoricalDtype)
        and _constant_within(subject_codes, work[c])
    ]
    if arm is None:
        arm = subject_factors[0] if subject_factors else None
    elif not isinstance(work[arm].dtype, pd.CategoricalDtype):
        raise DataError(f"The 'arm' column {arm!r} is numeric; code the arms as labels "
                        "(strings or a Categorical) so that they form a factor.")
    ref_arm = None
    if arm is not None:
        lv = arm_levels(work[arm])
        ref_arm = default_reference(lv, reference, name=arm, stacklevel=3)
        work[arm] = as_categorical(work[arm], [ref_arm, *[v for v in lv if v != ref_arm]])
    elif reference is not None:
        raise DataError("'reference' was given but the formula has no arm factor (a "
                        "subject-level factor); name it with arm=....")
    if baseline is not None:
        work[baseline] = check_numeric_column(work, baseline, "baseline")
        varies = work.groupby(subject, observed=True)[baseline].nunique() > 1
        if varies.any():
            raise DataError(
                f"The baseline column {baseline!r} must hold one value per subject; subject "
                f"{show(varies.index[varies.to_numpy()][0])} has several."
            )
    candidates = tuple(
        c for c in work.columns
        if c in in_formula and c not in (subject, visit, baseline, arm, *slope_cols)
        and pd.api.types.is_numeric_dtype(work[c].dtype)
        and not isinstance(work[c].dtype, pd.CategoricalDtype)
        and _constant_within(subject_codes, work[c])
    )
    work = work.reset_index(drop=True)
    try:
        X_mat = patsy.dmatrix(rhs_desc, work, NA_action="raise", return_type="matrix")
    except patsy.PatsyError as exc:
        raise DataError(f"Cannot build the design of {formula!r}: {exc}") from exc
    design_info = X_mat.design_info
    _check_levels(design_info, work, subject)
    X = np.asarray(X_mat, dtype=float)
    y = work[outcome].to_numpy(dtype=float)
    n, p = X.shape
    X, rank_info = drop_aliased(X, r_coef_names(design_info), stacklevel=2)
    check_exact_fit(y, X, outcome, model="lmm()")
    p = X.shape[1]
    Zs = np.column_stack([np.ones(n), *(work[c].to_numpy(float) for c in slope_cols)])
    q = Zs.shape[1]
    groups = work[subject].to_numpy()
    m = len(pd.unique(groups))
    if n <= q * m and q > 1:
        raise DesignError(
            f"number of observations (={n}) <= number of random effects (={q * m}) for "
            f"({random} | {subject}): the random-effects parameters and the residual "
            "variance are unidentifiable (lme4 refuses this model)."
        )
    n_var = q * (q + 1) // 2 + 1
    if n <= p + n_var - 1 or n <= m:
        raise DesignError(
            f"The model has {p} fixed effects and {n_var} variance parameters but only "
            f"{n} observations from {m} subjects; it needs more observations."
        )
    prob = _Problem(y, X, Zs, groups, reml)
    re_names = ["(Intercept)", *slope_cols]
    # lme4's default start: Lambda = identity
    start = np.array([1.0 if i == j else 0.0 for j in range(q) for i in range(j, q)])
    theta, dev, gnorm = _optimize(prob, start)
    res = LMMResult(prob=prob, theta=theta, deviance=dev, design_info=design_info,
                    frame=work, formula=formula, random=random, re_names=re_names,
                    subject=subject, reml=reml, gradient=gnorm,
                    n_omitted=n_omitted, outcome=outcome, rank_info=rank_info)
    res.arm_name = arm
    res.reference_arm = ref_arm
    res.visit_name = visit
    res.visit_levels = visit_levels
    res.baseline_name = baseline
    res._baseline_candidates = candidates
    if res.singular:
        warnings.warn(
            f"Singular fit: a random-effect variance of ({random} | {subject}) is estimated "
            "at (or next to) zero, or the random effects are perfectly correlated. "
            "Inference treats the variance parameters as interior; check `variance_components`.",
            ConvergenceWarning, stacklevel=2)
    if not res.converged:
        warnings.warn(
            f"The REML/ML optimiser did not converge (max |gradient| = {gnorm:.2g}).",
            ConvergenceWarning, stacklevel=2)
    return res
