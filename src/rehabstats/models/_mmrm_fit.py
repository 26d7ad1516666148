"""MMRM engine: REML/ML objective, exact gradient and Hessian, optimiser chain.

Subjects are grouped by missingness pattern (the set of visits observed).
Everything the likelihood needs is a sufficient statistic per pattern, kept
zero-padded in the full ``m``-visit space, so one evaluation costs
``O(patterns * m^2 p^2)`` independent of the number of subjects:

- ``XX[s, a, p, b, q] = sum_n X[n, a, p] X[n, b, q]``
- ``Xy[s, a, p, b] = sum_n X[n, a, p] y[n, b]``, ``yy[s, a, b] = sum_n y[n, a] y[n, b]``

With ``Omega_s`` the inverse of ``Sigma`` restricted to pattern ``s`` (zero
padded), ``A = X' Omega X`` and the REML projection ``P``, the objective is
``f = -2 log L = sum log|Sigma_i| + log|A| + r' Omega r + (n - p) log(2 pi)``
(ML: without ``log|A|`` and with ``n log(2 pi)``). Its exact derivatives are

``df/dtheta_i = tr(P Sigma_i) - y' P Sigma_i P y``

``d2f/dtheta_i dtheta_j = tr(P Sigma_ij) - tr(P Sigma_i P Sigma_j)
+ 2 y' P Sigma_i P Sigma_j P y - y' P Sigma_ij P y``

(the ML versions replace ``P`` by ``Omega`` in the trace terms), evaluated from
the pattern statistics. See Kenward & Roger (1997), doi:10.2307/2533558, and
mmrm's algorithm vignette.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from ._covariance import CovarianceStructure

__all__ = ["MMRMEngine", "OptimizerInfo"]

_LOG2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class OptimizerInfo:
    """What the optimiser did."""

    method: str
    converged: bool
    n_iterations: int
    max_abs_gradient: float
    hessian_pd: bool
    message: str
    attempts: tuple[str, ...] = field(default_factory=tuple)


class _Eval:
    """Quantities at one theta (internal)."""

    __slots__ = ("A", "Ainv", "G", "M", "Omega", "RR", "S", "beta", "f", "ok", "sigma", "theta")
    A: np.ndarray
    Ainv: np.ndarray
    G: np.ndarray
    M: np.ndarray
    Omega: np.ndarray
    RR: np.ndarray
    S: np.ndarray
    beta: np.ndarray
    f: float
    ok: bool
    sigma: np.ndarray
    theta: np.ndarray


class MMRMEngine:
    """Pattern-grouped GLS for one data set (arrays only, no pandas).

    Parameters
    ----------
    y : (n,) outcome of the observed rows.
    X : (n, p) fixed-effects design.
    subject_codes : (n,) integer subject index 0..N-1.
    visit_codes : (n,) integer visit index 0..m-1 (unique within subject).
    m : number of visit levels.
    structure : covariance structure.
    reml : REML (True) or ML.
    """

    def __init__(
        self,
        y: np.ndarray,
        X: np.ndarray,
        subject_codes: np.ndarray,
        visit_codes: np.ndarray,
        m: int,
        structure: CovarianceStructure,
        reml: bool = True,
    ) -> None:
        self.m = int(m)
        self.structure = structure
        self.reml = bool(reml)
        self.n_obs, self.p = X.shape
        n_sub = int(subject_codes.max()) + 1
        self.n_subjects = n_sub
        # full (subject x visit) padded arrays
        yf = np.zeros((n_sub, self.m))
        Xf = np.zeros((n_sub, self.m, self.p))
        mask = np.zeros((n_sub, self.m), dtype=bool)
        yf[subject_codes, visit_codes] = y
        Xf[subject_codes, visit_codes] = X
        mask[subject_codes, visit_codes] = True
        keys = mask.astype(np.int64) @ (np.int64(1) << np.arange(self.m, dtype=np.int64))
        uniq, inverse = np.unique(keys, return_inverse=True)
        self.patterns = [np.flatnonzero((int(u) >> np.arange(self.m)) & 1) for u in uniq]
        order = np.argsort(inverse, kind="stable")
        counts = np.bincount(inverse, minlength=len(uniq))
        self.n_per_pattern = counts.astype(float)
        starts = np.concatenate([[0], np.cumsum(counts)])
        S = len(uniq)
        XX = np.empty((S, self.m, self.p, self.m, self.p))
        Xy = np.empty((S, self.m, self.p, self.m))
        yy = np.empty((S, self.m, self.m))
        for s in range(S):
            rows = order[starts[s] : starts[s + 1]]
            Xs, ys = Xf[rows], yf[rows]
            XX[s] = np.einsum("nap,nbq->apbq", Xs, Xs, optimize=True)
            Xy[s] = np.einsum("nap,nb->apb", Xs, ys, optimize=True)
            yy[s] = ys.T @ ys
        self.XX, self.Xy, self.yy = XX, Xy, yy
        self._cache: dict[bytes, _Eval] = {}
        self._hess_cache: dict[bytes, np.ndarray] = {}

    # ------------------------------------------------------------------ objective
    def evaluate(self, theta: np.ndarray) -> _Eval:
        """Objective pieces at ``theta`` (cached for the last few thetas)."""
        theta = np.asarray(theta, dtype=float)
        key = theta.tobytes()
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        ev = _Eval()
        ev.theta = theta
        ev.ok = False
        ev.f = math.inf
        sigma = self.structure.sigma(theta, self.m)
        ev.sigma = sigma
        if not np.all(np.isfinite(sigma)):
            return self._store(key, ev)
        S = len(self.patterns)
        Omega = np.zeros((S, self.m, self.m))
        logdet = 0.0
        for s, idx in enumerate(self.patterns):
            sub = sigma[np.ix_(idx, idx)]
            try:
                chol = np.linalg.cholesky(sub)
            except np.linalg.LinAlgError:
                return self._store(key, ev)
            inv_chol = np.linalg.inv(chol)
            Omega[s][np.ix_(idx, idx)] = inv_chol.T @ inv_chol
            logdet += self.n_per_pattern[s] * 2.0 * float(np.sum(np.log(np.diag(chol))))
        A = np.einsum("sab,sapbq->pq", Omega, self.XX, optimize=True)
        b = np.einsum("sab,sapb->p", Omega, self.Xy, optimize=True)
        try:
            cA = np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            return self._store(key, ev)
        Ainv = np.linalg.inv(A)
        Ainv = 0.5 * (Ainv + Ainv.T)
        beta = np.linalg.solve(A, b)
        # residual cross-products per pattern: sum_n r_n r_n'
        XyB = np.einsum("sapb,p->sab", self.Xy, beta)
        RR = self.yy - XyB - XyB.transpose(0, 2, 1) + np.einsum(
            "sapbq,p,q->sab", self.XX, beta, beta, optimize=True
        )
        quad = float(np.einsum("sab,sab->", Omega, RR))
        f = logdet + quad
        if self.reml:
            f += 2.0 * float(np.sum(np.log(np.diag(cA)))) + (self.n_obs - self.p) * _LOG2PI
        else:
            f += self.n_obs * _LOG2PI
        if not math.isfinite(f):
            return self._store(key, ev)
        M = np.einsum("sapbq,pq->sab", self.XX, Ainv, optimize=True)
        OmO = Omega @ RR @ Omega
        G = np.einsum("s,sab->ab", self.n_per_pattern, Omega) - OmO.sum(axis=0)
        if self.reml:
            G -= (Omega @ M @ Omega).sum(axis=0)
        ev.f, ev.ok, ev.A, ev.Ainv, ev.beta = f, True, A, Ainv, beta
        ev.Omega, ev.RR, ev.M, ev.G, ev.S = Omega, RR, M, G, OmO
        return self._store(key, ev)

    def _store(self, key: bytes, ev: _Eval) -> _Eval:
        if len(self._cache) > 8:
            self._cache.clear()
        self._cache[key] = ev
        return ev

    def objective(self, theta: np.ndarray) -> float:
        """``-2 log L`` (REML or ML); ``inf`` where Sigma is not positive definite."""
        return self.evaluate(theta).f

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """Exact gradient of :meth:`objective`."""
        ev = self.evaluate(theta)
        if not ev.ok:
            return np.full(np.size(theta), np.nan)
        dS = self.structure.jacobian(ev.theta, self.m)
        return np.einsum("ab,iab->i", ev.G, dS)

    def zz(self, ev: _Eval) -> np.ndarray:
        """``sum_n (Omega X_n)[a, p] (Omega X_n)[b, q]`` per pattern."""
        return np.einsum("sac,scpdq,sbd->sapbq", ev.Omega, self.XX, ev.Omega, optimize=True)

    def b_matrices(self, ev: _Eval, dS: np.ndarray, ZZ: np.ndarray | None = None) -> np.ndarray:
        """``B_i = X' Omega Sigma_i Omega X``, shape ``(k, p, p)``."""
        if ZZ is None:
            ZZ = self.zz(ev)
        return np.einsum("iab,apbq->ipq", dS, ZZ.sum(axis=0), optimize=True)

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Exact Hessian of :meth:`objective` (see the module docstring)."""
        key = np.asarray(theta, dtype=float).tobytes()
        cached = self._hess_cache.get(key)
        if cached is None:
            if len(self._hess_cache) > 8:
                self._hess_cache.clear()
            cached = self._hess_cache[key] = self._hessian(theta)
        return cached.copy()

    def _hessian(self, theta: np.ndarray) -> np.ndarray:
        ev = self.evaluate(theta)
        if not ev.ok:
            k = np.size(theta)
            return np.full((k, k), np.nan)
        st, m = self.structure, self.m
        dS = st.jacobian(ev.theta, m)
        d2S = st.hessian(ev.theta, m)
        H = np.einsum("ab,ijab->ij", ev.G, d2S)
        E = -self.n_per_pattern[:, None, None] * ev.Omega + 2.0 * ev.S
        if self.reml:
            E = E + 2.0 * (ev.Omega @ ev.M @ ev.Omega)
        for s in range(len(self.patterns)):
            U = dS @ ev.Omega[s]
            W2 = dS @ E[s]
            H += np.einsum("iac,jca->ij", U, W2)
        ZZ = self.zz(ev)
        # e_i = X' Omega Sigma_i Omega r
        XR = self.Xy - np.einsum("sapbq,q->sapb", self.XX, ev.beta, optimize=True)
        ZR = np.einsum("sac,scpd,sbd->sapb", ev.Omega, XR, ev.Omega, optimize=True).sum(axis=0)
        e = np.einsum("iab,apb->ip", dS, ZR)
        H -= 2.0 * e @ ev.Ainv @ e.T
        if self.reml:
            B = self.b_matrices(ev, dS, ZZ)
            AB = ev.Ainv @ B  # (k, p, p)
            H -= np.einsum("ipq,jqp->ij", AB, AB)
        return 0.5 * (H + H.T)

    # ------------------------------------------------------------------ fitting
    def start(self) -> np.ndarray:
        """Starting theta from the covariance of OLS residuals (pairwise complete)."""
        XX = self.XX.sum(axis=(0,))
        A = np.einsum("apaq->pq", XX)
        b = np.einsum("apa->p", self.Xy.sum(axis=0))
        beta = np.linalg.lstsq(A, b, rcond=None)[0]
        XyB = np.einsum("sapb,p->sab", self.Xy, beta)
        RR = (
            self.yy - XyB - XyB.transpose(0, 2, 1)
            + np.einsum("sapbq,p,q->sab", self.XX, beta, beta, optimize=True)
        ).sum(axis=0)
        cnt = np.zeros((self.m, self.m))
        for s, idx in enumerate(self.patterns):
            cnt[np.ix_(idx, idx)] += self.n_per_pattern[s]
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = RR / cnt
        dof = max(1.0 - self.p / max(self.n_obs, 1), 0.1)
        cov = np.where(cnt > 1, cov, 0.0) / dof
        diag = np.diag(cov).copy()
        good = diag > 0
        fill = float(np.mean(diag[good])) if good.any() else 1.0
        diag[~good] = fill
        cov[np.diag_indices(self.m)] = diag
        # shrink off-diagonals until positive definite
        d = np.sqrt(diag)
        corr = cov / np.outer(d, d)
        np.fill_diagonal(corr, 1.0)
        corr = np.clip(corr, -0.95, 0.95)
        np.fill_diagonal(corr, 1.0)
        for shrink in (1.0, 0.8, 0.5, 0.2, 0.0):
            c = shrink * corr + (1 - shrink) * np.eye(self.m)
            if np.linalg.eigvalsh(c).min() > 1e-6:
                break
        cov = c * np.outer(d, d)
        return np.asarray(self.structure.start(cov, self.m), dtype=float)

    def fit(self, theta0: np.ndarray | None = None) -> tuple[np.ndarray, OptimizerInfo]:
        """Minimise the objective; try a chain of optimisers until one converges."""
        x0 = self.start() if theta0 is None else np.asarray(theta0, dtype=float)
        if not math.isfinite(self.objective(x0)):
            x0 = np.zeros_like(x0)
            x0[: (self.m if self.structure.heterogeneous else 1)] = math.log(
                max(float(np.std(self.yy.sum(axis=0).diagonal())) ** 0.25, 1e-3)
            )
        attempts: list[str] = []
        best_x, best_f, best_method, best_nit = x0, self.objective(x0), "start", 0
        chain: list[tuple[str, dict[str, Any]]] = [
            ("trust-exact", {"jac": self.gradient, "hess": self.hessian,
                             "options": {"gtol": 1e-9, "maxiter": 150}}),
            ("L-BFGS-B", {"jac": self.gradient,
                          "options": {"gtol": 1e-10, "ftol": 1e-15, "maxiter": 2000}}),
            ("BFGS", {"jac": self.gradient, "options": {"gtol": 1e-8, "maxiter": 2000}}),
            ("Nelder-Mead", {"options": {"xatol": 1e-10, "fatol": 1e-12, "maxfev": 3000}}),
        ]
        for method, kwargs in chain:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    res = optimize.minimize(self.objective, best_x, method=method, **kwargs)
                # UnboundLocalError: scipy's trust-exact subproblem solver on a non-finite
                # Hessian (scipy/optimize/_trustregion_exact.py, 'p' never assigned)
                except (ValueError, np.linalg.LinAlgError, FloatingPointError,
                        UnboundLocalError) as exc:
                    attempts.append(f"{method}: failed ({exc})")
                    continue
            if math.isfinite(res.fun) and res.fun <= best_f:
                best_x, best_f, best_method, best_nit = res.x, float(res.fun), method, int(res.nit)
            ok, gmax, pd = self._check(best_x)
            attempts.append(f"{method}: {res.message} (max|grad| = {gmax:.2g})")
            if ok:
                # polish with Newton steps using the exact Hessian
                best_x = self._newton_polish(best_x)
                ok, gmax, pd = self._check(best_x)
                return best_x, OptimizerInfo(best_method, True, best_nit, gmax, pd,
                                             str(res.message), tuple(attempts))
        ok, gmax, pd = self._check(best_x)
        return best_x, OptimizerInfo(best_method, False, best_nit, gmax, pd,
                                     "; ".join(attempts), tuple(attempts))

    def _check(self, theta: np.ndarray) -> tuple[bool, float, bool]:
        ev = self.evaluate(theta)
        if not ev.ok:
            return False, math.inf, False
        g = self.gradient(theta)
        gmax = float(np.max(np.abs(g))) if g.size else 0.0
        H = self.hessian(theta)
        try:
            eig = np.linalg.eigvalsh(H)
            pd = bool(np.all(np.isfinite(eig)) and eig.min() > 1e-10 * max(1.0, eig.max()))
        except np.linalg.LinAlgError:
            pd = False
        # scale-free criterion: Newton decrement, plus a loose absolute bound
        if pd:
            dec = float(g @ np.linalg.solve(H, g))
            ok = dec < 1e-8 and gmax < 1e-3
        else:
            ok = False
        return ok, gmax, pd

    def _newton_polish(self, theta: np.ndarray) -> np.ndarray:
        x = np.asarray(theta, dtype=float)
        for _ in range(5):
            g = self.gradient(x)
            H = self.hessian(x)
            try:
                step = np.linalg.solve(H, g)
            except np.linalg.LinAlgError:
                break
            if float(g @ step) < 1e-14:  # Newton decrement: already at the optimum
                break
            f0 = self.objective(x)
            t = 1.0
            while t > 1e-4:
                xn = x - t * step
                if self.objective(xn) <= f0 + 1e-12 * abs(f0):
                    break
                t *= 0.5
            else:
                break
            x = xn
            if float(g @ step) < 1e-20:
                break
        return x
