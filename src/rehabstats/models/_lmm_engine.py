"""The LMM engine: lme4's profiled deviance from per-subject blocks, its exact
derivatives and the Newton optimiser over the relative Cholesky factor.

Used by :func:`rehabstats.models.lmm` and by the single-case multilevel models
(:mod:`rehabstats.sced._multilevel`); nothing here knows about data frames.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "LMMProblem",
    "Moments",
    "blocks_from_theta",
    "fold_theta",
    "newton",
    "num_grad",
    "num_hess",
    "optimize_theta",
    "phi_derivatives",
    "phi_of_varpar",
    "theta_lower_bounds",
]

_LOG2PI = float(np.log(2 * np.pi))


# --------------------------------------------------------------------------- deviance
@functools.lru_cache(maxsize=16)
def _tri(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the lower triangle, column-wise (lme4's theta order)."""
    idx = [(i, j) for j in range(q) for i in range(j, q)]
    return np.array([i for i, _ in idx], dtype=int), np.array([j for _, j in idx], dtype=int)


def blocks_from_theta(theta: np.ndarray, q: int) -> np.ndarray:
    """Relative Cholesky factor Lambda (q x q, lower) from lme4's theta (column-wise)."""
    rows, cols = _tri(q)
    theta = np.asarray(theta, dtype=float).reshape(-1)
    if theta.size != rows.size:
        raise ValueError(f"theta has {theta.size} elements; q = {q} needs {rows.size}")
    Lam = np.zeros((q, q))
    Lam[rows, cols] = theta
    return Lam


def theta_lower_bounds(q: int) -> list[float | None]:
    return [0.0 if i == j else None for j in range(q) for i in range(j, q)]


@dataclass(frozen=True)
class Moments:
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


def vech_basis(q: int) -> np.ndarray:
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


_MAX_GROUPS = 64  # distinct cluster sizes up to which q = 1 works on per-size sums
_GROUP_FRACTION = 0.25  # q > 1: per-pattern sums also while #patterns <= this x subjects


class _Q1Stats:
    """Random intercept (q = 1): per-cluster-size sufficient statistics.

    With one random effect the marginal covariance of subject i is
    ``sigma^2 I + g z_i z_i'``: on ``span(z_i)`` it is the scalar
    ``sigma^2 + g lam_i`` (``lam_i = z_i'z_i``, the cluster size for an
    intercept), on the complement ``sigma^2``. Every weight of the fit and of its
    derivatives is therefore a function of ``lam_i`` only, and the p x p sums
    ``sum_i w(lam_i) x~_i x~_i'`` reduce to ``sum_s w(lam_s) S_s`` over the few
    distinct sizes ``s`` (``S_s`` formed once): O(#sizes p^2) per evaluation
    instead of O(m p^2). Residual terms stay per subject (O(m p), exact). With
    many distinct ``lam`` (a non-constant z) every subject is its own group.
    """

    def __init__(self, prob: LMMProblem) -> None:
        lam = prob.ZtZ[:, 0, 0]
        self.xt = xt = prob.Xt[:, 0, :]
        self.yt = yt = prob.yt[:, 0]
        keys, gidx, cnt = np.unique(lam, return_inverse=True, return_counts=True)
        self.grouped = len(keys) <= _MAX_GROUPS
        if self.grouped:
            self.lam, self.cnt = keys, cnt.astype(float)
            self.gidx = gidx = np.asarray(gidx).reshape(-1)
            ng, p = len(keys), xt.shape[1]
            self.Sxx = np.empty((ng, p, p))
            self.Sxy = np.empty((ng, p))
            self.Syy = np.empty(ng)
            for g in range(ng):
                sel = gidx == g
                xg, yg = xt[sel], yt[sel]
                self.Sxx[g] = xg.T @ xg
                self.Sxy[g] = xg.T @ yg
                self.Syy[g] = float(yg @ yg)
        else:
            self.lam, self.cnt = lam, np.ones(len(lam))
            self.gidx = np.arange(len(lam))
        self.within = _Within(prob)
        self.nq = float(prob.n - prob.m)

    def wxx(self, w: np.ndarray) -> np.ndarray:
        """``sum_i w_i x~_i x~_i'`` for group weights ``w``."""
        if self.grouped:
            p = self.Sxx.shape[1]
            out: np.ndarray = (w @ self.Sxx.reshape(len(w), p * p)).reshape(p, p)
            return out
        out = (self.xt * w[:, None]).T @ self.xt
        return out

    def wxy(self, w: np.ndarray) -> np.ndarray:
        if self.grouped:
            out: np.ndarray = w @ self.Sxy
            return out
        out = self.xt.T @ (w * self.yt)
        return out

    def wyy(self, w: np.ndarray) -> float:
        return float(w @ self.Syy) if self.grouped else float(w @ (self.yt * self.yt))

    def resid(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-subject span residuals ``y~_i - x~_i'b`` and their squares summed per group."""
        rh = self.yt - self.xt @ beta
        r2 = rh * rh
        if self.grouped:
            r2 = np.bincount(self.gidx, weights=r2, minlength=len(self.lam))
        return rh, r2

    def xr(self, W: np.ndarray, rh: np.ndarray) -> np.ndarray:
        """``sum_i W[k, g(i)] rh_i x~_i`` for each row k of ``W``: (k, p)."""
        Wi = W[:, self.gidx] if self.grouped else W
        out: np.ndarray = (Wi * rh) @ self.xt
        return out


class _PatternStats:
    """q > 1: sufficient statistics per pattern of ``Z_i'Z_i`` (subjects sharing it).

    Subjects with the same ``Z_i'Z_i`` share ``T_i`` and hence every q x q weight
    matrix of the fit (``(T G T' + sigma^2 I)^-k``); a p x p sum
    ``sum_i x~_i' B x~_i`` is then ``sum_g <B_g, S_g>`` with
    ``S_g[c, d] = sum_{i in g} x~_i[c] x~_i[d]'`` formed once. Balanced designs
    have one pattern, so a moments evaluation costs O(m q p) (residuals only).
    Used when there are at most ``max(_MAX_GROUPS, _GROUP_FRACTION * m)`` patterns.
    """

    def __init__(
        self, prob: LMMProblem, first: np.ndarray, gidx: np.ndarray, cnt: np.ndarray
    ) -> None:
        m, q, p = prob.m, prob.q, prob.p
        self.ng = ng = len(first)
        self.gidx = gidx = np.asarray(gidx).reshape(-1)
        self.cnt = cnt.astype(float)
        self.T = prob.T[first]  # (ng, q, q)
        self.xt, self.yt = prob.Xt, prob.yt  # (m, q, p), (m, q)
        self.members = (
            np.split(np.argsort(gidx, kind="stable"), np.cumsum(cnt)[:-1]) if ng > 1 else None
        )
        self.Sxx = np.empty((ng, q, q, p, p))
        self.Sxy = np.empty((ng, q, q, p))
        self.Syy = np.empty((ng, q, q))
        for g in range(ng):
            sel = self.members[g] if self.members is not None else slice(None)
            xg, yg = prob.Xt[sel], prob.yt[sel]
            self.Sxx[g] = np.einsum("icp,idr->cdpr", xg, xg)
            self.Sxy[g] = np.einsum("icp,id->cdp", xg, yg)
            self.Syy[g] = yg.T @ yg
        self.within = _Within(prob)
        self.nq = float(prob.n - m * q)

    def xx(self, B: np.ndarray) -> np.ndarray:
        """``sum_i x~_i' B_g(i) x~_i`` for ``B`` (..., ng, q, q): (..., p, p)."""
        ng, q, _, p, _ = self.Sxx.shape
        lead = B.shape[:-3]
        out: np.ndarray = (B.reshape(-1, ng * q * q) @ self.Sxx.reshape(ng * q * q, p * p)).reshape(
            (*lead, p, p)
        )
        return out

    def xy(self, B: np.ndarray) -> np.ndarray:
        ng, q, _, p = self.Sxy.shape
        lead = B.shape[:-3]
        out: np.ndarray = (B.reshape(-1, ng * q * q) @ self.Sxy.reshape(ng * q * q, p)).reshape(
            (*lead, p)
        )
        return out

    def resid(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Span residuals ``r~_i`` (m, q) and ``R_g = sum_{i in g} r~_i r~_i'`` (ng, q, q)."""
        m, q, p = self.xt.shape
        rh = self.yt - (self.xt.reshape(-1, p) @ beta).reshape(m, q)
        outer = (rh[:, :, None] * rh[:, None, :]).reshape(m, q * q)
        R = np.stack(
            [np.bincount(self.gidx, weights=outer[:, j], minlength=self.ng) for j in range(q * q)],
            axis=1,
        ).reshape(self.ng, q, q)
        return rh, R

    def xr(self, B: np.ndarray, rh: np.ndarray) -> np.ndarray:
        """``sum_i x~_i' B_g(i) r~_i`` for ``B`` (k, ng, q, q): (k, p), as
        ``sum_g <B_g, XR_g>`` with ``XR_g[c, d] = sum_{i in g} x~_i[c] r~_i[d]``.
        """
        _, q, p = self.xt.shape
        if self.ng > 8:  # many patterns: B gathered per subject
            v = np.einsum("kmcd,md->kmc", B[:, self.gidx], rh)
            many: np.ndarray = np.einsum("kmc,mcp->kp", v, self.xt)
            return many
        XR = np.empty((self.ng, q, q, p))
        for g in range(self.ng):
            sel = self.members[g] if self.members is not None else slice(None)
            XR[g] = np.einsum("icp,id->cdp", self.xt[sel], rh[sel])
        out: np.ndarray = B.reshape(len(B), -1) @ XR.reshape(-1, p)
        return out


class _Within:
    """``|y_d - X_d b|^2`` and ``X_d'(y_d - X_d b)`` of the within-subject residuals,
    as exact corrections around one least-squares point ``b_d`` (formed once).
    """

    def __init__(self, prob: LMMProblem) -> None:
        self.XdXd = prob.XdXd
        self.bd = bd = np.linalg.pinv(prob.XdXd) @ prob.Xdyd
        rdd = prob.yd - prob.Xd @ bd
        self.rdd2 = float(rdd @ rdd)
        self.gd = prob.Xd.T @ rdd

    def __call__(self, beta: np.ndarray) -> tuple[float, np.ndarray]:
        e = beta - self.bd
        XXe = self.XdXd @ e
        return self.rdd2 - 2 * float(e @ self.gd) + float(e @ XXe), self.gd - XXe


class LMMProblem:
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

    Subjects that share ``Z_i'Z_i`` (the cluster size for a random intercept;
    the visit pattern for a slope on time) share every q x q weight, so the
    p x p sums are taken once per pattern (:class:`_Q1Stats`,
    :class:`_PatternStats`) and an evaluation costs O(#patterns q^2 p^2) plus
    O(m q p) for the residuals; with more than ``_MAX_GROUPS`` patterns the
    per-subject form is used. For q = 1 the gradient and Hessian of the
    profiled deviance in theta are in closed form (:meth:`_profiled_q1`).
    """

    def __init__(
        self, y: np.ndarray, X: np.ndarray, Zs: np.ndarray, groups: np.ndarray, reml: bool
    ) -> None:
        self.y = y = np.asarray(y, dtype=float)
        self.X = X = np.asarray(X, dtype=float)
        self.Zs = Zs = np.asarray(Zs, dtype=float)
        self.reml = reml
        self.n, self.p = X.shape
        self.q = q = Zs.shape[1]
        codes, inverse = np.unique(groups, return_inverse=True)
        self.group_index = G = np.asarray(inverse).reshape(-1)
        self.m = len(codes)
        self.counts = np.bincount(G, minlength=self.m)
        m = self.m

        def gsum(v: np.ndarray) -> np.ndarray:
            # per-subject sums, column by column (bincount: O(n), in row order)
            flat = v.reshape(len(v), -1)
            out = np.empty((m, flat.shape[1]))
            for j in range(flat.shape[1]):
                out[:, j] = np.bincount(G, weights=flat[:, j], minlength=m)
            return out.reshape((m, *v.shape[1:]))

        # per-subject cross-products
        self.ZtZ = gsum(Zs[:, :, None] * Zs[:, None, :])  # (m, q, q)
        self.ZtX = gsum(Zs[:, :, None] * X[:, None, :])  # (m, q, p)
        self.XtX, self.Xty, self.yty = X.T @ X, X.T @ y, float(y @ y)
        # every y-statistic is taken of y - X b0 (b0 the least-squares fit): the fit is
        # equivariant, beta gains b0 back, and no sum of squares carries y's offset
        self._b0 = np.linalg.pinv(self.XtX) @ self.Xty
        y = y - X @ self._b0
        self.Zty = gsum(Zs * y[:, None])  # (m, q)
        # Z_i'Z_i = T_i'T_i; coordinates of X and y on span(Z_i); within residuals
        if q == 1:
            # scalars per subject: broadcasting instead of batched 1 x 1 products
            lam1 = self.ZtZ[:, 0, 0]
            pos1 = lam1 > 0
            safe1 = np.where(pos1, lam1, 1.0)
            self.T = np.where(pos1, np.sqrt(safe1), 0.0)[:, None, None]
            pz = np.where(pos1, 1.0 / np.sqrt(safe1), 0.0)
            self.Xt = pz[:, None, None] * self.ZtX
            self.yt = pz[:, None] * self.Zty
            z0 = Zs[:, 0]
            self.Xd = X - z0[:, None] * (pz[:, None] * self.Xt[:, 0, :])[G]
            self.yd = y - z0 * (pz * self.yt[:, 0])[G]
        else:
            lam, E = np.linalg.eigh(self.ZtZ)
            Et = E.transpose(0, 2, 1)
            pos = lam > 1e-12 * np.max(lam, axis=1, keepdims=True)
            safe = np.where(pos, lam, 1.0)
            self.T = np.where(pos, np.sqrt(safe), 0.0)[:, :, None] * Et  # (m, q, q)
            Pz = np.where(pos, 1.0 / np.sqrt(safe), 0.0)[:, :, None] * Et  # Lambda^-1/2 E'
            self.Xt = Pz @ self.ZtX  # (m, q, p)
            self.yt = (Pz @ self.Zty[:, :, None])[:, :, 0]  # (m, q)
            bX = (Pz.transpose(0, 2, 1) @ self.Xt)[G]  # (Z'Z)^+ Z'X per row
            by = (Pz.transpose(0, 2, 1) @ self.yt[:, :, None])[G, :, 0]
            self.Xd = X - np.einsum("nj,njp->np", Zs, bX)
            self.yd = y - np.einsum("nj,nj->n", Zs, by)
        self.XdXd = self.Xd.T @ self.Xd
        self.Xdyd = self.Xd.T @ self.yd
        self.ydyd = float(self.yd @ self.yd)
        self._S = vech_basis(q)
        self._last: tuple[bytes, Any] | None = None
        self._q1: _Q1Stats | None = _Q1Stats(self) if q == 1 else None
        self._pat: _PatternStats | None = None
        if q > 1:
            # distinct rows of Z_i'Z_i: a 1-D unique of the rows' bytes
            rows = np.ascontiguousarray(self.ZtZ.reshape(self.m, q * q))
            _, first, gidx, cnt = np.unique(
                rows.view(np.dtype((np.void, rows.itemsize * q * q))).reshape(-1),
                return_index=True,
                return_inverse=True,
                return_counts=True,
            )
            if len(first) <= max(_MAX_GROUPS, _GROUP_FRACTION * self.m):
                self._pat = _PatternStats(self, first, gidx, cnt)

    def solve(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float] | None:
        """log|V0|, X'V0^-1 X, beta and the weighted RSS (V0 = I + Z Lam Lam' Z')."""
        out = self._solve_w(theta)
        if out is None:
            return None
        return out[0], out[1], out[2] + self._b0, out[3]

    def _solve_w(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float] | None:
        """:meth:`solve` with beta of the working outcome ``y - X b0`` (cached)."""
        theta = np.asarray(theta, dtype=float)
        key = theta.tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        out = self._solve_uncached(theta)
        self._last = (key, out)
        return out

    def _solve_uncached(
        self, theta: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, float] | None:
        if self._q1 is not None:
            st = self._q1
            d = theta[0] ** 2 * st.lam  # eigenvalue of T Lam Lam' T' per size
            w = 1.0 / (1.0 + d)
            logdet = float(st.cnt @ np.log1p(d))
            XVX = self.XdXd + st.wxx(w)
            XVy = self.Xdyd + st.wxy(w)
            yVy = self.ydyd + st.wyy(w)
        elif self._pat is not None:
            pt = self._pat
            TL = pt.T @ blocks_from_theta(theta, self.q)
            M = np.eye(self.q) + TL @ TL.transpose(0, 2, 1)
            try:
                Mc = np.linalg.cholesky(M)
            except np.linalg.LinAlgError:
                return None
            logdet = 2 * float(pt.cnt @ np.sum(np.log(np.diagonal(Mc, axis1=1, axis2=2)), axis=1))
            Minv = np.linalg.inv(M)
            XVX = self.XdXd + pt.xx(Minv)
            XVy = self.Xdyd + pt.xy(Minv)
            yVy = self.ydyd + float(np.sum(Minv * pt.Syy))
        else:
            TL = self.T @ blocks_from_theta(theta, self.q)  # (m, q, q)
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
        out = self._solve_w(theta)
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
        out = self._solve_w(theta)
        assert out is not None
        return out[3] / (self.n - self.p if self.reml else self.n)

    # ---------------------------------------------------------------- derivatives
    def moments(self, G: np.ndarray, sigma2: float, full: bool = False) -> Moments:
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
        if self._q1 is not None:
            return self._moments_q1(float(np.asarray(G).reshape(-1)[0]), float(sigma2), full)
        if self._pat is not None:
            return self._moments_pattern(np.asarray(G, dtype=float), float(sigma2), full)
        q, p, m, s = self.q, self.p, self.m, float(sigma2)
        S = self._S
        nG = len(S)
        k = nG + 1
        B = self.T @ G @ self.T.transpose(0, 2, 1)  # (m, q, q)
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
        rd = self.yd - self.Xd @ beta  # within residuals
        rh = yh - (xh.reshape(-1, p) @ beta).reshape(m, q)  # (m, q)
        rdrd = float(rd @ rd)
        thT = th.transpose(0, 2, 1)
        ZWX = mm(thT, (e1[:, :, None] * xh))  # Z'V^-1 X   (m, q, p)
        ZW2X = mm(thT, (e2[:, :, None] * xh))  # Z'V^-2 X
        ZWZ = mm(thT, (e1[:, :, None] * th))  # Z'V^-1 Z   (m, q, q)
        ZW2Z = mm(thT, (e2[:, :, None] * th))
        z = mm(thT, (e1 * rh)[:, :, None])[:, :, 0]  # Z'P y
        ZWPy = mm(thT, (e2 * rh)[:, :, None])[:, :, 0]  # Z'V^-1 P y
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
            Us = S[:, None] @ ZWX[None]  # S_a Z'V^-1 X
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
            Y = (
                np.sum(ZWXC * ZWX, axis=2)[:, :, None] if q == 1 else ZWXC @ ZWX.transpose(0, 2, 1)
            )  # Z'V^-1 X C X'V^-1 Z
            trCQ[:nG, :nG] = np.einsum("aij,bkl,jkli->ab", S, S, _pair4(ZWZ, Y))
            Y2 = np.einsum("mip,mjp->ij", (ZW2X.reshape(-1, p) @ C).reshape(m, q, p), ZWX)
            trCQ[:nG, nG] = trCQ[nG, :nG] = np.einsum("aij,ji->a", S, Y2)
            trCQ[nG, nG] = float(np.sum(C * XW3X))
        CK = C @ K
        trPVPV = T1 - 2 * trCQ + np.einsum("apq,bqp->ab", CK, CK)
        sz = mm(S[:, None], z[None, :, :, None])[..., 0]  # S_a Z'P y  (nG, m, q)
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
        return Moments(
            beta=beta + self._b0, C=C, K=K, Q=Q, T1=T1, trPVPV=trPVPV, grad=grad, H=(H + H.T) / 2
        )

    def _moments_q1(self, g: float, s: float, full: bool) -> Moments:
        """:meth:`moments` for a random intercept, from the per-size sums (:class:`_Q1Stats`).

        On subject i's span the weights are ``e_k = (lam_i g + s)^-k``; with
        ``S_g = sum x~ x~'`` per size, ``K_G = sum lam e1^2 S``, ``K_s = X_d'X_d/s^2
        + sum e2 S``, ``Q_GG = sum lam^2 e1^3 S``, ``Q_Gs = sum lam e1^3 S``,
        ``Q_ss = X_d'X_d/s^3 + sum e3 S``; the traces and the residual
        quadratic forms follow the same pattern (the general formulas with q = 1).
        """
        st = self._q1
        assert st is not None
        lam, cnt = st.lam, st.cnt
        e1 = 1.0 / (lam * g + s)
        e2 = e1 * e1
        e3 = e2 * e1
        XdXd = self.XdXd
        XWX = XdXd / s + st.wxx(e1)
        C = np.linalg.inv(XWX)
        C = (C + C.T) / 2
        beta = C @ (self.Xdyd / s + st.wxy(e1))
        rh, r2 = st.resid(beta)
        rdrd, Xdrd = st.within(beta)
        K = np.empty((2, self.p, self.p))
        K[0] = st.wxx(lam * e2)
        K[1] = XdXd / s**2 + st.wxx(e2)
        QGG, QGs = st.wxx(lam * lam * e3), st.wxx(lam * e3)
        XW3X = XdXd / s**3 + st.wxx(e3)
        T1 = np.empty((2, 2))
        T1[0, 0] = float(cnt @ (lam * lam * e2))
        T1[0, 1] = T1[1, 0] = float(cnt @ (lam * e2))
        T1[1, 1] = st.nq / s**2 + float(cnt @ e2)
        trCQ = np.empty((2, 2))
        trCQ[0, 0] = float(np.sum(C * QGG))
        trCQ[0, 1] = trCQ[1, 0] = float(np.sum(C * QGs))
        trCQ[1, 1] = float(np.sum(C * XW3X))
        Q: np.ndarray | None = None
        if full:
            Q = np.empty((2, 2, self.p, self.p))
            Q[0, 0], Q[0, 1], Q[1, 0], Q[1, 1] = QGG, QGs, QGs.T, XW3X
        CK = C @ K
        trPVPV = T1 - 2 * trCQ + np.einsum("apq,bqp->ab", CK, CK)
        Xu = st.xr(np.stack([lam * e2, e2]), rh)
        Xu[1] += Xdrd / s**2
        uWu = np.empty((2, 2))
        uWu[0, 0] = float(r2 @ (lam * lam * e3))
        uWu[0, 1] = uWu[1, 0] = float(r2 @ (lam * e3))
        uWu[1, 1] = rdrd / s**3 + float(r2 @ e3)
        quad = uWu - Xu @ C @ Xu.T
        trWV = np.array([float(cnt @ (lam * e1)), st.nq / s + float(cnt @ e1)])
        yPVPy = np.array([float(r2 @ (lam * e2)), rdrd / s**2 + float(r2 @ e2)])
        if self.reml:
            grad = trWV - np.trace(CK, axis1=1, axis2=2) - yPVPy
            H = -trPVPV + 2 * quad
        else:
            grad = trWV - yPVPy
            H = -T1 + 2 * quad
        return Moments(
            beta=beta + self._b0, C=C, K=K, Q=Q, T1=T1, trPVPV=trPVPV, grad=grad, H=(H + H.T) / 2
        )

    def _moments_pattern(self, G: np.ndarray, s: float, full: bool) -> Moments:
        """:meth:`moments` for q > 1 from the per-pattern sums (:class:`_PatternStats`).

        With ``W_k = (T G T' + s I)^-k`` and ``A_k = T' W_k`` per pattern,
        ``Z'V^-1 X = A_1 x~``, ``Z'V^-1 Z = A_1 T``; each term of the general
        formulas is ``sum_g <B_g, S_g>`` (p x p) or ``<B_g, R_g>`` (residuals).
        """
        pt = self._pat
        assert pt is not None
        S, q, p = self._S, self.q, self.p
        nG = len(S)
        k = nG + 1
        T, cnt, XdXd = pt.T, pt.cnt, self.XdXd
        W1 = np.linalg.inv(T @ G @ T.transpose(0, 2, 1) + s * np.eye(q))
        W1 = (W1 + W1.transpose(0, 2, 1)) / 2
        W2 = W1 @ W1
        W3 = W2 @ W1
        Tt = T.transpose(0, 2, 1)
        A1, A2 = Tt @ W1, Tt @ W2
        ZWZ, ZW2Z = A1 @ T, A2 @ T
        C = np.linalg.inv(XdXd / s + pt.xx(W1))
        C = (C + C.T) / 2
        beta = C @ (self.Xdyd / s + pt.xy(W1))
        rh, R = pt.resid(beta)
        rdrd, Xdrd = pt.within(beta)
        BA = np.einsum("gji,ajk,gkl->agil", A1, S, A1)  # A1' S_a A1
        BAs = np.einsum("gji,ajk,gkl->agil", A1, S, A2)  # A1' S_a A2
        BAA = np.einsum("gji,ajk,gkl,blm,gmn->abgin", A1, S, ZWZ, S, A1)
        K = np.empty((k, p, p))
        K[:nG] = pt.xx(BA)
        K[nG] = XdXd / s**2 + pt.xx(W2)
        Q = np.empty((k, k, p, p))
        Q[:nG, :nG] = pt.xx(BAA)
        QGs = pt.xx(BAs)
        Q[:nG, nG] = QGs
        Q[nG, :nG] = QGs.transpose(0, 2, 1)
        Q[nG, nG] = XdXd / s**3 + pt.xx(W3)
        T1 = np.empty((k, k))
        SZ = np.einsum("aij,gjk->agik", S, ZWZ)  # S_a Z'V^-1 Z
        T1[:nG, :nG] = np.einsum("g,agij,bgji->ab", cnt, SZ, SZ)
        T1[:nG, nG] = T1[nG, :nG] = np.einsum("g,aij,gji->a", cnt, S, ZW2Z)
        T1[nG, nG] = pt.nq / s**2 + float(cnt @ np.trace(W2, axis1=1, axis2=2))
        trCQ = np.einsum("pq,abqp->ab", C, Q)
        CK = C @ K
        trPVPV = T1 - 2 * trCQ + np.einsum("apq,bqp->ab", CK, CK)
        Xu = pt.xr(np.concatenate([BA, W2[None]]), rh)
        Xu[nG] += Xdrd / s**2
        uWu = np.empty((k, k))
        uWu[:nG, :nG] = np.einsum("abgij,gij->ab", BAA, R)
        uWu[:nG, nG] = uWu[nG, :nG] = np.einsum("agij,gij->a", BAs, R)
        uWu[nG, nG] = rdrd / s**3 + float(np.sum(W3 * R))
        quad = uWu - Xu @ C @ Xu.T
        trWV = np.append(
            np.einsum("g,aij,gji->a", cnt, S, ZWZ),
            pt.nq / s + float(cnt @ np.trace(W1, axis1=1, axis2=2)),
        )
        yPVPy = np.append(np.einsum("agij,gij->a", BA, R), rdrd / s**2 + float(np.sum(W2 * R)))
        if self.reml:
            grad = trWV - np.trace(CK, axis1=1, axis2=2) - yPVPy
            H = -trPVPV + 2 * quad
        else:
            grad = trWV - yPVPy
            H = -T1 + 2 * quad
        return Moments(
            beta=beta + self._b0,
            C=C,
            K=K,
            Q=Q if full else None,
            T1=T1,
            trPVPV=trPVPV,
            grad=grad,
            H=(H + H.T) / 2,
        )

    def _profiled_q1(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian of the profiled deviance in theta (q = 1), in closed form.

        With ``u = theta^2``, ``w_s = 1 / (1 + u lam_s)`` and ``M = X'V0^-1 X``:
        ``d log|V0| = sum lam w``, ``dM = -sum lam w^2 S``, ``d^2M = 2 sum lam^2 w^3 S``,
        and for the profiled residual sum of squares (envelope theorem)
        ``rss' = -sum lam w^2 r~^2``, ``rss'' = 2 sum lam^2 w^3 r~^2 - 2 v'M^-1 v``
        with ``v = X'V0' r = -sum lam w^2 r~ x~``; then the chain rule to theta.
        """
        st = self._q1
        assert st is not None
        out = self._solve_w(theta)
        if out is None:
            return np.full(1, np.nan), np.full((1, 1), np.nan)
        _, M, beta, rss = out
        t = float(theta[0])
        lam, cnt = st.lam, st.cnt
        w = 1.0 / (1.0 + t * t * lam)
        lw2, l2w3 = lam * w * w, lam * lam * w**3
        L1 = float(cnt @ (lam * w))
        L2 = -float(cnt @ (lam * lw2))
        rh, r2 = st.resid(beta)
        v = -st.xr(lw2[None, :], rh)[0]
        Minv = np.linalg.inv(M)
        r1 = -float(r2 @ lw2)
        rr2 = 2 * float(r2 @ l2w3) - 2 * float(v @ Minv @ v)
        dof = self.n - self.p if self.reml else self.n
        fu = L1 + dof * r1 / rss
        fuu = L2 + dof * (rr2 / rss - (r1 / rss) ** 2)
        if self.reml:
            MiM1 = Minv @ st.wxx(-lw2)
            fu += float(np.trace(MiM1))
            fuu += float(np.sum(Minv * st.wxx(2 * l2w3))) - float(np.sum(MiM1 * MiM1.T))
        g = np.array([2 * t * fu])
        H = np.array([[4 * t * t * fuu + 2 * fu]])
        return g, H

    def varpar_derivatives(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian of the *profiled* deviance with respect to theta.

        At sigma = sigma_hat(theta) the deviance is stationary in sigma, so the
        gradient is the theta part of the full gradient and the Hessian the Schur
        complement ``H_tt - H_ts H_ss^-1 H_st`` of the full Hessian in (theta, sigma).
        (q = 1: the same derivatives in closed form, :meth:`_profiled_q1`.)
        """
        if self._q1 is not None:
            return self._profiled_q1(np.asarray(theta, dtype=float))
        sigma2 = self.sigma2(theta)
        Lam = blocks_from_theta(theta, self.q)
        mom = self.moments(sigma2 * Lam @ Lam.T, sigma2)
        v = np.concatenate([theta, [np.sqrt(sigma2)]])
        J, D2 = phi_derivatives(v, self.q)
        g = J.T @ mom.grad
        Hv = J.T @ mom.H @ J + np.einsum("a,aij->ij", mom.grad, D2)
        t = len(theta)
        Hs = Hv[:t, :t] - np.outer(Hv[:t, t], Hv[t, :t]) / Hv[t, t]
        return g[:t], (Hs + Hs.T) / 2


def num_grad(f: Any, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def num_hess(f: Any, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
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
            H[i, j] = H[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * h * h)
    return H


def fold_theta(theta: np.ndarray, q: int) -> np.ndarray:
    """Make every diagonal element of Lambda non-negative by flipping its column.

    ``G = sigma^2 Lambda Lambda'`` does not change when a whole column of Lambda
    changes sign, so the deviance is the same at the folded point.
    """
    out = np.array(theta, dtype=float)
    pos = 0
    for j in range(q):
        if out[pos] < 0:
            out[pos : pos + q - j] *= -1
        pos += q - j
    return out


def tr_step(g: np.ndarray, H: np.ndarray, delta: float) -> np.ndarray:
    """Minimiser of ``g's + s'Hs/2`` over ``|s| <= delta`` (eigen-decomposition of H).

    The Newton step when H is positive definite and the step fits; otherwise
    ``s(lam) = -(H + lam I)^-1 g`` with ``|s(lam)| = delta`` (bisection on the
    secular equation), and in the "hard case" (g orthogonal to the eigenvector
    of the smallest eigenvalue) that eigenvector fills the step to the boundary.
    One dimension (a random intercept): the same minimiser in closed form.
    """
    if g.size == 1:
        g0, h0 = float(g[0]), float(H[0, 0])
        if h0 > 1e-12 * max(1.0, abs(h0)):
            s0 = -g0 / h0
            if abs(s0) <= delta:
                return np.array([s0])
        return np.array([-delta if g0 > 0 else delta])
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

    if norm_at(lam_lo + 1e-12 * max(1.0, lam_lo)) < delta:  # hard case
        shifted = ev + lam_lo
        keep = shifted > 1e-12 * max(1.0, lam_lo)
        s_v = np.where(keep, -gv / np.where(keep, shifted, 1.0), 0.0)
        tau = np.sqrt(max(delta**2 - float(s_v @ s_v), 0.0))
        s_v[int(np.argmin(ev))] += tau
        return V @ s_v
    lam_hi = lam_lo + float(np.linalg.norm(g)) / delta + 1.0
    while norm_at(lam_hi) > delta:
        lam_hi = 2 * lam_hi + 1.0
    # the secular equation 1/|s(lam)| = 1/delta (nearly linear in lam): Newton steps,
    # safeguarded by bisection of the bracket [a, b]
    a, b = lam_lo, lam_hi
    lam = b
    for _ in range(100):
        w = gv / (ev + lam)
        nrm = float(np.linalg.norm(w))
        if abs(nrm - delta) <= 1e-13 * delta:
            break
        if nrm > delta:
            a = lam
        else:
            b = lam
        if b - a <= 1e-14 * max(1.0, b):
            lam = b
            break
        dphi = float(np.sum(w * w / (ev + lam))) / nrm**3
        new = lam - (1.0 / nrm - 1.0 / delta) / dphi if dphi > 0 else 0.5 * (a + b)
        lam = new if a < new < b else 0.5 * (a + b)
    return -V @ (gv / (ev + lam))


def newton(prob: LMMProblem, theta: np.ndarray, max_iter: int = 200) -> tuple[np.ndarray, float]:
    """Trust-region Newton on the profiled deviance with its analytic gradient and Hessian.

    Exact trust-region steps (:func:`tr_step`, so an indefinite Hessian far
    from the optimum is handled), radius updated by the ratio of actual to
    predicted reduction; Lambda's columns are folded to a non-negative
    diagonal (``fold_theta``), so the search is unconstrained and a variance
    at zero is approached as an ordinary stationary point. Stops when the
    gradient is below 1e-10, or the predicted reduction is at rounding level.
    """
    q = prob.q
    theta = fold_theta(theta, q)
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
        step = tr_step(g, H, delta)
        pred = -float(g @ step + 0.5 * step @ H @ step)
        noise = 1e-13 * max(1.0, abs(f))
        cand = fold_theta(theta + step, q)
        fc = prob.deviance(cand)
        if not pred > noise:
            # at rounding level of the deviance: Newton polish while the gradient falls
            # (until the gradient is at the rounding level of a large deviance)
            if not (gmax < gbest and fc <= f + noise) or gmax < 1e-14 * abs(f):
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


def optimize_theta(prob: LMMProblem, start: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Minimise the profiled deviance over theta (lme4's relative Cholesky factor).

    Newton's method on the analytic gradient and Hessian (``newton``) from
    ``start``; the deviance is even in each diagonal theta, so theta = 0 is always
    a stationary point, and a solution with a variance at (or next to) zero is
    therefore confirmed from other starts, keeping the best. A diagonal element
    below 1e-7 is set to 0 (the boundary) when that does not raise the deviance.
    Returns theta, deviance and the final gradient norm (free coordinates).
    """
    q = prob.q
    diag = np.array([i == j for j in range(q) for i in range(j, q)])
    theta, f = newton(prob, np.asarray(start, dtype=float))
    if np.any(np.abs(theta[diag]) < 1e-4) or not np.isfinite(f):
        for x0 in (start * 0.3, start * 3.0, start * 10.0):
            cand, fc = newton(prob, np.asarray(x0, dtype=float))
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


def phi_of_varpar(v: np.ndarray, q: int) -> np.ndarray:
    """Phi = (vech(G) column-wise, sigma^2) from lmerTest's varpar = (theta, sigma)."""
    Lam = blocks_from_theta(v[:-1], q)
    G = v[-1] ** 2 * Lam @ Lam.T
    return np.array([G[i, j] for j in range(q) for i in range(j, q)] + [v[-1] ** 2])


def phi_derivatives(v: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
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
    Lam = blocks_from_theta(theta, q)
    rows, cols = _tri(q)
    E = np.zeros((t, q, q))
    E[np.arange(t), rows, cols] = 1.0
    EL = E @ Lam.T + Lam @ E.transpose(0, 2, 1)  # (t, q, q)
    vEL = EL[:, rows, cols]  # vech(EL_a), (t, t)
    vLL = (Lam @ Lam.T)[rows, cols]
    J = np.zeros((k, k))
    D2 = np.zeros((k, k, k))
    J[:t, :t] = sigma**2 * vEL.T
    J[:t, t] = 2 * sigma * vLL
    J[t, t] = 2 * sigma
    EE = np.einsum("aij,bkj->abik", E, E)  # E_a E_b'
    EEs = EE + EE.transpose(1, 0, 2, 3)
    D2[:t, :t, :t] = sigma**2 * EEs[:, :, rows, cols].transpose(2, 0, 1)
    D2[:t, :t, t] = D2[:t, t, :t] = 2 * sigma * vEL.T
    D2[:t, t, t] = 2 * vLL
    D2[t, t, t] = 2.0
    return J, D2
