"""REML engine for the hierarchical models behind the design-comparable SMD.

The model (Pustejovsky, Hedges & Shadish, 2014) for one top-level block ``g``
(a case, or a cluster/case of a nested design) is

    y_g = X_g beta + Z2_g u2 + Z1_g u1 + e_g,
    V_g = Z2 T2 Z2' + (Z1 T1 Z1') o S + sigma^2 (lambda lambda') o R(phi),

where ``T2`` is the covariance of the outer-level random effects (absent for
two-level designs), ``T1`` that of the random effects of the innermost unit
(``S`` marks pairs of rows of the same unit), ``R(phi)`` the AR(1)
(``phi^|t_i - t_j|``), MA(1) or identity correlation of the errors of one
unit (zero across units) and ``lambda_i = delta`` for treatment-phase rows
under a phase-specific error variance (``varIdent`` in nlme), 1 otherwise.

The restricted log-likelihood is maximised by Fisher scoring on an
unconstrained parameterisation (log-Cholesky for each ``T``, ``tanh`` for the
correlation, logs for ``delta`` and ``sigma^2``), with BFGS as a fallback. The
gradient ``-1/2 tr(P dV_i) + 1/2 r'V^-1 dV_i V^-1 r`` and the expected
information ``1/2 tr(P dV_i P dV_j)`` (``P = V^-1 - V^-1 X M X' V^-1``,
``M = (X'V^-1 X)^-1``) are exact. The information in the natural parameters
(the unique elements of each ``T``, ``phi``, ``delta``, ``sigma^2``) is what
lmeInfo's ``Fisher_info(type = "expected")`` returns for REML fits. Blocks are
padded to a common size so every matrix operation is batched over blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize

CorStruct = Literal["AR1", "MA1", "IID"]

_LOG_2PI = math.log(2.0 * math.pi)


def _exp(v: float) -> float:
    """exp() that saturates instead of overflowing."""
    return math.exp(min(max(v, -700.0), 700.0))


def upper_pairs(q: int) -> list[tuple[int, int]]:
    """Column-major upper-triangle index pairs (nlme's ``coef(pdSymm)`` order)."""
    return [(i, j) for j in range(q) for i in range(j + 1)]


@dataclass
class REMLFit:
    """Estimates of one REML fit (natural parameterisation)."""

    beta: np.ndarray
    vcov_beta: np.ndarray
    taus: list[np.ndarray]  # one covariance matrix per random level, outer first
    phi: float
    delta: float
    sigma_sq: float
    theta: np.ndarray  # natural parameters in lmeInfo order
    info: np.ndarray  # expected REML information for theta
    loglik: float
    converged: bool
    iterations: int
    message: str


class REMLModel:
    """Batched REML likelihood of the block model described in the module docstring.

    Parameters
    ----------
    y, x : arrays (n,), (n, p)
    top : int array (n,)
        Top-level block of each row (0..G-1), rows of a block contiguous.
    unit : int array (n,)
        Innermost unit (case, or series of a case) of each row.
    time : int array (n,)
        Integer session used for the correlation lags.
    trt : float array (n,)
        1 for treatment-phase rows.
    z_levels : list of (n, q) arrays
        Random-effect design of each level, outer first; the last level is the
        innermost unit (``unit``), an earlier one the top block.
    """

    def __init__(
        self,
        y: np.ndarray,
        x: np.ndarray,
        top: np.ndarray,
        unit: np.ndarray,
        time: np.ndarray,
        trt: np.ndarray,
        z_levels: list[np.ndarray],
        cor_struct: CorStruct,
        het: bool,
    ) -> None:
        self.cor_struct = cor_struct
        self.het = het
        n, p = x.shape
        self.n, self.p = n, p
        starts = np.flatnonzero(np.r_[True, top[1:] != top[:-1]])
        sizes = np.diff(np.r_[starts, n])
        g, m = len(starts), int(sizes.max())
        self.g, self.m = g, m
        pos = np.arange(n) - np.repeat(starts, sizes)
        blk = np.repeat(np.arange(g), sizes)
        self.mask = np.zeros((g, m), dtype=bool)
        self.mask[blk, pos] = True

        def pad(a: np.ndarray) -> np.ndarray:
            out = np.zeros((g, m, *a.shape[1:]), dtype=float)
            out[blk, pos] = a
            return out

        self.y = pad(y)
        self.x = pad(x)
        self.pad_eye = np.zeros((g, m, m))
        idx = np.arange(m)
        self.pad_eye[:, idx, idx] = (~self.mask).astype(float)
        u = np.full((g, m), -1, dtype=np.int64)
        u[blk, pos] = unit
        same_unit = (u[:, :, None] == u[:, None, :]) & self.mask[:, :, None] & self.mask[:, None, :]
        self.same_unit = same_unit.astype(float)
        both = (self.mask[:, :, None] & self.mask[:, None, :]).astype(float)
        t = np.zeros((g, m), dtype=np.int64)
        t[blk, pos] = time
        self.lag = np.abs(t[:, :, None] - t[:, None, :]) * same_unit.astype(np.int64)
        self.max_lag = int(self.lag.max())
        tr = pad(trt.astype(float))
        self.trt_sum = tr[:, :, None] + tr[:, None, :]
        # random-effect "dV" templates for every unique element of each T
        self.tau_dims = [z.shape[1] for z in z_levels]
        templates = []
        for li, z in enumerate(z_levels):
            zp = pad(z)
            inner = li == len(z_levels) - 1
            scope = self.same_unit if inner else both
            for i, j in upper_pairs(z.shape[1]):
                zz = zp[:, :, i, None] * zp[:, None, :, j]
                if i != j:
                    zz = zz + np.swapaxes(zz, 1, 2)
                templates.append(zz * scope)
        self.re_templates = np.array(templates).reshape((-1, g, m, m))
        self.n_tau = self.re_templates.shape[0]
        self.n_cor = 0 if cor_struct == "IID" else 1
        self.n_theta = self.n_tau + self.n_cor + int(het) + 1

    # ------------------------------------------------------------------
    # parameterisations
    # ------------------------------------------------------------------
    def theta_from_u(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Natural parameters and the Jacobian d theta / d u."""
        theta = np.empty(self.n_theta)
        jac = np.zeros((self.n_theta, self.n_theta))
        k = 0
        for q in self.tau_dims:
            nl = q * (q + 1) // 2
            lvec = u[k : k + nl]
            low = np.zeros((q, q))
            lower = [(j, i) for (i, j) in upper_pairs(q)]  # (row, col) with row >= col
            for e, (r, c) in enumerate(lower):
                low[r, c] = _exp(lvec[e]) if r == c else lvec[e]
            tau = low @ low.T
            pairs = upper_pairs(q)
            theta[k : k + nl] = [tau[i, j] for i, j in pairs]
            for e, (r, c) in enumerate(lower):
                dl = np.zeros((q, q))
                dl[r, c] = low[r, c] if r == c else 1.0
                dtau = dl @ low.T + low @ dl.T
                jac[k : k + nl, k + e] = [dtau[i, j] for i, j in pairs]
            k += nl
        if self.n_cor:
            phi = math.tanh(u[k] / 2.0)
            theta[k] = phi
            jac[k, k] = (1.0 - phi * phi) / 2.0
            k += 1
        if self.het:
            theta[k] = _exp(u[k])
            jac[k, k] = theta[k]
            k += 1
        theta[k] = _exp(u[k])
        jac[k, k] = theta[k]
        return theta, jac

    def u_from_theta(self, theta: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`theta_from_u` (for starting values)."""
        u = np.empty(self.n_theta)
        k = 0
        for q in self.tau_dims:
            nl = q * (q + 1) // 2
            tau = np.zeros((q, q))
            for e, (i, j) in enumerate(upper_pairs(q)):
                tau[i, j] = tau[j, i] = theta[k + e]
            low = np.linalg.cholesky(tau)
            for e, (i, j) in enumerate(upper_pairs(q)):
                r, c = j, i
                u[k + e] = math.log(low[r, c]) if r == c else low[r, c]
            k += nl
        if self.n_cor:
            u[k] = 2.0 * math.atanh(theta[k])
            k += 1
        if self.het:
            u[k] = math.log(theta[k])
            k += 1
        u[k] = math.log(theta[k])
        return u

    # ------------------------------------------------------------------
    # covariance and its derivatives
    # ------------------------------------------------------------------
    def _cor(self, phi: float) -> tuple[np.ndarray, np.ndarray]:
        lag = self.lag
        su = self.same_unit
        if self.cor_struct == "AR1":
            ks = np.arange(self.max_lag + 1)
            pw = np.power(phi, ks)
            dpw = np.r_[0.0, ks[1:] * np.power(phi, ks[1:] - 1)]
            r = pw[lag] * su
            dr = dpw[lag] * su
        elif self.cor_struct == "MA1":
            c1 = phi / (1.0 + phi * phi)
            d1 = (1.0 - phi * phi) / (1.0 + phi * phi) ** 2
            r = np.where(lag == 0, 1.0, np.where(lag == 1, c1, 0.0)) * su
            dr = np.where(lag == 1, d1, 0.0) * su
        else:
            r = np.where(lag == 0, 1.0, 0.0) * su
            dr = np.zeros_like(r)
        return r, dr

    def cov_and_derivs(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """V (G, m, m), padded with identity, and dV/dtheta (K, G, m, m)."""
        nt = self.n_tau
        tau_part = np.tensordot(theta[:nt], self.re_templates, axes=1) if nt else 0.0
        k = nt
        phi = theta[k] if self.n_cor else 0.0
        k += self.n_cor
        delta = theta[k] if self.het else 1.0
        sigma_sq = theta[-1]
        r, dr = self._cor(phi)
        if self.het:
            lam = np.power(delta, self.trt_sum)
            dlam = self.trt_sum * np.power(delta, np.maximum(self.trt_sum - 1.0, 0.0))
        else:
            lam = np.ones_like(r)
            dlam = None
        resid = lam * r
        v = tau_part + sigma_sq * resid + self.pad_eye
        dv = np.empty((self.n_theta, *v.shape))
        if nt:
            dv[:nt] = self.re_templates
        k = nt
        if self.n_cor:
            dv[k] = sigma_sq * lam * dr
            k += 1
        if self.het:
            dv[k] = sigma_sq * dlam * r
            k += 1
        dv[k] = resid
        return v, dv

    # ------------------------------------------------------------------
    # likelihood, gradient, information
    # ------------------------------------------------------------------
    def evaluate(
        self, theta: np.ndarray, need: int = 2
    ) -> tuple[float, np.ndarray | None, np.ndarray | None, dict[str, np.ndarray]]:
        """REML log-likelihood, gradient and expected information at ``theta``.

        ``need`` = 0 (likelihood only), 1 (+ gradient), 2 (+ information).
        Returns ``-inf`` when V is not positive definite.
        """
        v, dv = self.cov_and_derivs(theta)
        try:
            chol = np.linalg.cholesky(v)
        except np.linalg.LinAlgError:
            return -math.inf, None, None, {}
        logdet_v = 2.0 * float(np.log(np.diagonal(chol, axis1=1, axis2=2)).sum())
        vinv = np.linalg.inv(v)
        vinv = (vinv + np.swapaxes(vinv, 1, 2)) / 2.0
        w = vinv @ self.x  # (G, m, p)
        xtvx = np.einsum("gmp,gmq->pq", self.x, w)
        try:
            cx = np.linalg.cholesky(xtvx)
        except np.linalg.LinAlgError:
            return -math.inf, None, None, {}
        mmat = np.linalg.inv(xtvx)
        mmat = (mmat + mmat.T) / 2.0
        beta = mmat @ np.einsum("gmp,gm->p", w, self.y)
        resid = self.y - self.x @ beta
        a = np.einsum("gij,gj->gi", vinv, resid)
        quad = float(np.einsum("gi,gi->", resid, a))
        logdet_x = 2.0 * float(np.log(np.diag(cx)).sum())
        ll = -0.5 * (logdet_v + logdet_x + quad + (self.n - self.p) * _LOG_2PI)
        extra = {"beta": beta, "vcov": mmat}
        if need == 0:
            return ll, None, None, extra
        kk = dv.shape[0]
        av = vinv[None] @ dv  # V^-1 dV_i, (K, G, m, m)
        c = dv @ w[None]  # dV_i V^-1 X, (K, G, m, p)
        bmat = (np.swapaxes(w, 1, 2)[None] @ c).sum(axis=1)  # X'V^-1 dV_i V^-1 X
        tr_vdv = np.einsum("kgii->k", av)
        tr_mb = np.einsum("pq,kqp->k", mmat, bmat)
        quad_d = ((dv @ a[None, :, :, None])[..., 0] * a[None]).sum(axis=(1, 2))
        grad = -0.5 * (tr_vdv - tr_mb) + 0.5 * quad_d
        if need == 1:
            return ll, grad, None, extra
        term1 = av.reshape(kk, -1) @ np.swapaxes(av, 2, 3).reshape(kk, -1).T
        d = av @ w[None]  # V^-1 dV_j V^-1 X
        term2 = -2.0 * ((c @ mmat).reshape(kk, -1) @ d.reshape(kk, -1).T)
        mb = mmat[None] @ bmat  # M B_i
        term3 = np.einsum("kab,lba->kl", mb, mb)
        info = 0.5 * (term1 + term2 + term3)
        info = (info + info.T) / 2.0
        return ll, grad, info, extra

    # ------------------------------------------------------------------
    # optimisation
    # ------------------------------------------------------------------
    def start(self) -> np.ndarray:
        """Starting values: OLS residual variance split between levels, phi = 0.01."""
        xf = self.x[self.mask]
        yf = self.y[self.mask]
        coef, *_ = np.linalg.lstsq(xf, yf, rcond=None)
        res = yf - xf @ coef
        s2 = max(
            float(res @ res) / max(self.n - self.p, 1), 1e-8 * max(float(yf @ yf) / self.n, 1.0)
        )
        s2 = s2 if s2 > 0 else 1.0
        theta = np.empty(self.n_theta)
        k = 0
        n_levels = len(self.tau_dims)
        for q in self.tau_dims:
            diag_scale = np.array(
                [
                    float(
                        np.mean(
                            np.diagonal(self.re_templates[k + e][:, :, :], axis1=1, axis2=2)[
                                self.mask
                            ]
                        )
                    )
                    for e, (i, j) in enumerate(upper_pairs(q))
                    if i == j
                ]
            )
            tau = np.diag(0.5 * s2 / n_levels / np.maximum(diag_scale, 1e-12))
            theta[k : k + q * (q + 1) // 2] = [tau[i, j] for i, j in upper_pairs(q)]
            k += q * (q + 1) // 2
        if self.n_cor:
            theta[k] = 0.01
            k += 1
        if self.het:
            theta[k] = 1.0
            k += 1
        theta[k] = 0.5 * s2
        return self.u_from_theta(theta)

    def _diag_positions(self) -> list[int]:
        """Positions in u of the log-Cholesky diagonal entries."""
        out, k = [], 0
        for q in self.tau_dims:
            for e, (i, j) in enumerate(upper_pairs(q)):
                if i == j:
                    out.append(k + e)
            k += q * (q + 1) // 2
        return out

    def fit(self, max_iter: int = 200) -> REMLFit:
        """Maximise the restricted likelihood.

        When a random-effect variance ends at (numerically) zero, the fit is
        restarted with that variance reset to its starting value (the other
        parameters kept), and the better of the two fits is returned: the
        log-Cholesky path can run into a boundary that is not the maximum.
        """
        u_start = self.start()
        best, u_best = self._fit_from(u_start, max_iter)
        for _ in range(2):
            low = [k for k in self._diag_positions() if u_best[k] < u_start[k] - 12.0]
            if not low:
                break
            u2 = u_best.copy()
            for k in low:
                u2[k] = u_start[k]
            alt, u_alt = self._fit_from(u2, 60, polish=False)
            if alt.loglik > best.loglik + 1e-9 * max(1.0, abs(best.loglik)):
                if not alt.converged:
                    alt, u_alt = self._fit_from(u_alt, max_iter)
                best, u_best = alt, u_alt
            else:
                break
        return best

    def _fit_from(
        self,
        u0: np.ndarray,
        max_iter: int = 200,
        tol: float = 1e-10,
        max_step: float = 2.0,
        polish: bool = True,
    ) -> tuple[REMLFit, np.ndarray]:
        """Fisher scoring (BFGS fallback) from ``u0``; returns the fit and final u."""
        u = u0.copy()
        theta, jac = self.theta_from_u(u)
        ll, grad, info, _ = self.evaluate(theta)
        if not math.isfinite(ll) or grad is None or info is None:
            raise np.linalg.LinAlgError("singular covariance at the starting values")
        converged = False
        it = 0
        message = ""
        lam = 0.0
        stalled = 0
        diag_pos = self._diag_positions()
        floor = {k: u0[k] - 12.0 for k in diag_pos}
        active = np.ones(len(u), dtype=bool)
        for it in range(1, max_iter + 1):  # noqa: B007
            # a random-effect SD heading to zero is frozen there (the boundary)
            for k in diag_pos:
                if active[k] and u[k] < floor[k] and (jac.T @ grad)[k] < 0:
                    active[k] = False
            gu = (jac.T @ grad)[active]
            iu = (jac.T @ info @ jac)[np.ix_(active, active)]
            scale = np.sqrt(np.maximum(np.diag(iu), 1e-300))
            iu_s = iu / np.outer(scale, scale)
            gu_s = gu / scale
            step0 = np.linalg.lstsq(iu_s, gu_s, rcond=1e-12)[0]
            decrement = float(gu_s @ step0)
            if abs(decrement) < tol and (
                np.max(np.abs(gu_s)) < 1e-4 or abs(decrement) < tol * 1e-3
            ):
                converged = True
                break
            try:
                step_a = np.linalg.solve(iu_s + lam * np.eye(len(gu)), gu_s) / scale
            except np.linalg.LinAlgError:
                lam = max(lam * 10.0, 1e-6)
                continue
            step = np.zeros(len(u))
            step[active] = step_a
            biggest = float(np.max(np.abs(step)))
            if biggest > max_step:
                step = step * (max_step / biggest)
            t = 1.0
            accepted = False
            for _ in range(30):
                u_new = u + t * step
                th_new, jac_new = self.theta_from_u(u_new)
                ll_new = self.evaluate(th_new, need=0)[0]
                if math.isfinite(ll_new) and ll_new >= ll - 1e-13 * max(1.0, abs(ll)):
                    accepted = True
                    break
                t /= 2.0
            if not accepted:
                lam = max(lam * 10.0, 1e-4)
                if lam > 1e8:
                    message = "line search failed"
                    break
                continue
            lam = lam / 10.0 if lam > 1e-8 else 0.0
            ll_new, g_new, i_new, _ = self.evaluate(th_new)
            assert g_new is not None
            assert i_new is not None
            stalled = (
                stalled + 1
                if (t == 1.0 and lam == 0.0 and ll_new - ll < 1e-12 * max(1.0, abs(ll)))
                else 0
            )
            u, theta, jac, ll, grad, info = u_new, th_new, jac_new, ll_new, g_new, i_new
            if stalled >= 4:
                converged = True
                break
        if not converged and polish:
            # fall back to quasi-Newton polishing from the best point so far
            def negll(uu: np.ndarray) -> tuple[float, np.ndarray]:
                th, jj = self.theta_from_u(uu)
                val, gr, _, _ = self.evaluate(th, need=1)
                if not math.isfinite(val) or gr is None:
                    return 1e300, np.zeros_like(uu)
                return -val, -(jj.T @ gr)

            res = optimize.minimize(
                negll, u, jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": 2000}
            )
            if -res.fun >= ll:
                u = res.x
                theta, jac = self.theta_from_u(u)
                ll, grad, info, _ = self.evaluate(theta)
                assert grad is not None
                assert info is not None
            gu = jac.T @ grad
            iu = jac.T @ info @ jac
            scale = np.sqrt(np.maximum(np.diag(iu), 1e-300))
            converged = bool(res.success) and bool(np.max(np.abs(gu / scale)) < 1e-4)
            message = "" if converged else (message or str(res.message))
        ll, grad, info, extra = self.evaluate(theta)
        assert info is not None
        taus = []
        k = 0
        for q in self.tau_dims:
            tau = np.zeros((q, q))
            for e, (i, j) in enumerate(upper_pairs(q)):
                tau[i, j] = tau[j, i] = theta[k + e]
            taus.append(tau)
            k += q * (q + 1) // 2
        phi = float(theta[k]) if self.n_cor else math.nan
        k += self.n_cor
        delta = float(theta[k]) if self.het else math.nan
        return REMLFit(
            beta=extra["beta"],
            vcov_beta=extra["vcov"],
            taus=taus,
            phi=phi,
            delta=delta,
            sigma_sq=float(theta[-1]),
            theta=theta,
            info=info,
            loglik=ll,
            converged=converged,
            iterations=it,
            message=message,
        ), u
