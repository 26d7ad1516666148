"""MMRM fits of many simulated trials at once (the fast path of ``analysis="mmrm"``).

Every simulated trial of a :class:`~rehabstats.design.ParallelTrial` has the
same fixed-effects design (cell means of arm x visit, plus the baseline when
the design has one), so the design matrix is built once, and the trials differ
only in their outcomes and missingness patterns. The REML objective, its exact
gradient and exact Hessian are those of :class:`rehabstats.models._mmrm_fit.MMRMEngine`
(same per-pattern sufficient statistics, same covariance parametrisation from
:mod:`rehabstats.models._covariance`), evaluated for a whole batch of trials
with array operations and no pandas or patsy: a damped Newton iteration per
trial, started at the true covariance, with a trial-by-trial convergence
test (Newton decrement); trials that do not converge are refitted by
``rs.mmrm`` itself. Satterthwaite df are computed as in
:func:`rehabstats.models.df.satterthwaite.satterthwaite_1d`; Kenward-Roger
(full and linear) from the same per-pattern statistics: Kenward & Roger's ``P``,
``Q``, ``R`` (the terms :meth:`rehabstats.models._mmrm.MMRMResult._pqr` accumulates)
batched, then
:func:`~rehabstats.models.df.kenward_roger.kr_adjusted_vcov` and
:func:`~rehabstats.models.df.kenward_roger.kr_df`. The numbers equal
``rs.mmrm(...)`` on the same data (tested to 1e-6).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..models._covariance import CovarianceStructure
from ..models.df.kenward_roger import kr_adjusted_vcov, kr_df
from ..models.df.satterthwaite import satterthwaite_1d

__all__ = ["BatchStats", "fit_batch"]

_LOG2PI = math.log(2.0 * math.pi)


@dataclass
class BatchStats:
    """Per-pattern sufficient statistics of a batch of trials."""

    patterns: list[np.ndarray]
    c: np.ndarray  # (S, K) subjects per pattern
    XX: np.ndarray  # (S, K, m, p, m, p)
    Xy: np.ndarray  # (S, K, m, p, m)
    yy: np.ndarray  # (S, K, m, m)
    nobs: np.ndarray  # (S,)

    def take(self, sel: np.ndarray) -> BatchStats:
        return BatchStats(
            self.patterns, self.c[sel], self.XX[sel], self.Xy[sel], self.yy[sel], self.nobs[sel]
        )


def design_matrix(arm: np.ndarray, m: int, n_arms: int, baseline: np.ndarray | None) -> np.ndarray:
    """Cell-means design ``(S, N, m, p)`` (or ``(1, N, m, p)`` without a baseline)."""
    n = arm.size
    p0 = n_arms * m
    p = p0 + (baseline is not None)
    S = 1 if baseline is None else baseline.shape[0]
    X = np.zeros((S, n, m, p))
    cols = arm[:, None] * m + np.arange(m)[None, :]
    X[:, np.arange(n)[:, None], np.arange(m)[None, :], cols] = 1.0
    if baseline is not None:
        X[..., p0] = baseline[:, :, None]
    return X


def batch_stats(Y: np.ndarray, O: np.ndarray, X: np.ndarray) -> BatchStats:
    """Sufficient statistics from outcomes/masks ``(S, N, m)`` and designs ``(S|1, N, m, p)``."""
    S, _, m = Y.shape
    keys = O.astype(np.int64) @ (np.int64(1) << np.arange(m, dtype=np.int64))
    uniq = np.unique(keys)
    uniq = uniq[uniq > 0]
    onehot = (keys[..., None] == uniq[None, None, :]).astype(float)  # (S, N, K)
    patterns = [np.flatnonzero((int(u) >> np.arange(m)) & 1) for u in uniq]
    Of = O.astype(float)
    Xm = np.broadcast_to(X, (S, *X.shape[1:])) * Of[..., None]
    Ym = np.where(O, Y, 0.0)
    c = onehot.sum(axis=1)
    # per-subject outer products summed into their pattern, as one product over subjects:
    # [k, (a, p)] x [(b, q)] with the subject's pattern indicator folded into the left
    # factor (no (S, N, m, p, m, p) temporary: 13 GB for 1,000 subjects x 8 visits)
    K, N, p = len(uniq), Y.shape[1], X.shape[-1]
    Xf = Xm.reshape(S, N, m * p)
    left = (onehot[:, :, :, None] * Xf[:, :, None, :]).reshape(S, N, K * m * p)
    left = np.swapaxes(left, 1, 2)
    XX = np.matmul(left, Xf).reshape(S, K, m, p, m, p)
    Xy = np.matmul(left, Ym).reshape(S, K, m, p, m)
    lefty = np.swapaxes((onehot[:, :, :, None] * Ym[:, :, None, :]).reshape(S, N, K * m), 1, 2)
    yy = np.matmul(lefty, Ym).reshape(S, K, m, m)
    return BatchStats(patterns, c, XX, Xy, yy, Of.sum(axis=(1, 2)))


class _Batch:
    """Objective pieces for a batch at ``theta`` (S, k)."""

    def __init__(self, st: CovarianceStructure, m: int, reml: bool) -> None:
        self.st, self.m, self.reml = st, m, reml

    def evaluate(self, theta: np.ndarray, bs: BatchStats) -> dict[str, np.ndarray]:
        st, m = self.st, self.m
        S = theta.shape[0]
        p = bs.XX.shape[3]
        sigma = st.sigma(theta, m)
        if sigma.ndim == 2:
            sigma = np.broadcast_to(sigma, (S, m, m)).copy()
        ok = np.isfinite(sigma).all(axis=(1, 2))
        sigma = np.where(ok[:, None, None], sigma, np.eye(m))
        K = len(bs.patterns)
        Omega = np.zeros((S, K, m, m))
        logdet = np.zeros(S)
        for k, idx in enumerate(bs.patterns):
            sub = sigma[:, idx[:, None], idx[None, :]]
            L, good = _chol(sub)
            ok &= good
            Linv = np.linalg.inv(L)
            Omega[:, k, idx[:, None], idx[None, :]] = np.swapaxes(Linv, -1, -2) @ Linv
            logdet += bs.c[:, k] * 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(-1)
        A = np.einsum("skab,skapbq->spq", Omega, bs.XX, optimize=True)
        b = np.einsum("skab,skapb->sp", Omega, bs.Xy, optimize=True)
        cA, good = _chol(A)
        ok &= good
        Ainv = np.linalg.inv(np.where(ok[:, None, None], A, np.eye(p)))
        Ainv = 0.5 * (Ainv + np.swapaxes(Ainv, -1, -2))
        beta = np.linalg.solve(np.where(ok[:, None, None], A, np.eye(p)), b[..., None])[..., 0]
        XyB = np.einsum("skapb,sp->skab", bs.Xy, beta)
        XXb = np.einsum("skapbq,sq->skapb", bs.XX, beta)
        RR = bs.yy - XyB - np.swapaxes(XyB, -1, -2) + np.einsum("skapb,sp->skab", XXb, beta)
        quad = np.einsum("skab,skab->s", Omega, RR)
        f = logdet + quad
        if self.reml:
            f = (
                f
                + 2.0 * np.log(np.diagonal(cA, axis1=-2, axis2=-1)).sum(-1)
                + (bs.nobs - p) * _LOG2PI
            )
        else:
            f = f + bs.nobs * _LOG2PI
        f = np.where(ok & np.isfinite(f), f, np.inf)
        M = np.einsum("skapbq,spq->skab", bs.XX, Ainv, optimize=True)
        OmO = Omega @ RR @ Omega
        OMO = Omega @ M @ Omega
        G = np.einsum("sk,skab->sab", bs.c, Omega) - OmO.sum(axis=1)
        if self.reml:
            G = G - OMO.sum(axis=1)
        return {
            "f": f,
            "ok": ok,
            "Omega": Omega,
            "A": A,
            "Ainv": Ainv,
            "beta": beta,
            "OmO": OmO,
            "OMO": OMO,
            "G": G,
            "XXb": XXb,
        }

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """``dSigma/dtheta`` (S, k, m, m): analytic for ``us``, else the structure's."""
        if self.st.name == "us":
            return _us_derivatives(theta, self.m)[0]
        return np.asarray(self.st.jacobian(theta, self.m))

    def gradient(self, theta: np.ndarray, ev: dict[str, np.ndarray]) -> np.ndarray:
        dS = self.jacobian(theta)
        return np.asarray(np.einsum("sab,siab->si", ev["G"], dS))

    def d2sigma(self, theta: np.ndarray) -> np.ndarray:
        """Batched version of ``CovarianceStructure.hessian`` (same steps; analytic for us)."""
        if self.st.name == "us":
            return _us_derivatives(theta, self.m)[1]
        k = theta.shape[1]
        steps = 1e-5 * np.maximum(1.0, np.abs(theta))
        shift = np.eye(k)[None] * steps[:, :, None]
        both = np.concatenate([theta[:, None, :] + shift, theta[:, None, :] - shift], axis=1)
        jac = self.st.jacobian(both, self.m)  # (S, 2k, k, m, m)
        out = (jac[:, :k] - jac[:, k:]) / (2 * steps[:, :, None, None, None])
        out = np.swapaxes(out, 1, 2)
        return 0.5 * (out + np.swapaxes(out, 1, 2))

    def hessian(
        self, theta: np.ndarray, ev: dict[str, np.ndarray], bs: BatchStats
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact Hessian of ``-2 log L`` (engine formulas), plus dS and the B matrices."""
        if self.st.name == "us":
            dS, d2S = _us_derivatives(theta, self.m)
        else:
            dS = self.st.jacobian(theta, self.m)
            d2S = self.d2sigma(theta)
        Omega = ev["Omega"]
        H = np.einsum("sab,sijab->sij", ev["G"], d2S)
        E = -bs.c[:, :, None, None] * Omega + 2.0 * ev["OmO"]
        if self.reml:
            E = E + 2.0 * ev["OMO"]
        U = dS[:, None] @ Omega[:, :, None]  # (S, K, k, m, m)
        W2 = dS[:, None] @ E[:, :, None]
        H = H + np.einsum("skiac,skjca->sij", U, W2, optimize=True)
        T = np.einsum("skac,skcpdq->skapdq", Omega, bs.XX, optimize=True)
        ZZ = np.einsum("skapdq,skbd->sapbq", T, Omega, optimize=True)
        XR = bs.Xy - ev["XXb"]
        ZR = np.einsum("skac,skcpd->skapd", Omega, XR, optimize=True)
        ZR = np.einsum("skapd,skbd->sapb", ZR, Omega, optimize=True)
        e = np.einsum("siab,sapb->sip", dS, ZR)
        H = H - 2.0 * np.einsum("sip,spq,sjq->sij", e, ev["Ainv"], e, optimize=True)
        B = np.einsum("siab,sapbq->sipq", dS, ZZ, optimize=True)
        if self.reml:
            AB = ev["Ainv"][:, None] @ B
            H = H - np.einsum("sipq,sjqp->sij", AB, AB)
        return 0.5 * (H + np.swapaxes(H, 1, 2)), dS, B


def _us_derivatives(theta: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """First and second derivatives of the unstructured ``Sigma = C C'`` (mmrm's
    log-Cholesky parametrisation, :func:`rehabstats.models._covariance._us`), exact.

    ``C = diag(exp(theta[:m])) Lw`` with ``Lw`` unit lower triangular holding
    ``theta[m:]`` row by row: ``dC/dtheta_i = E_ii C`` (``i < m``) and
    ``dC/dtheta_{m+k} = exp(theta_r) e_r e_c'`` for the ``k``-th ``(r, c)``.
    """
    S, k = theta.shape
    sd = np.exp(theta[:, :m])
    rows, cols = np.tril_indices(m, -1)
    low = np.zeros((S, m, m))
    low[:, np.arange(m), np.arange(m)] = 1.0
    low[:, rows, cols] = theta[:, m:]
    C = sd[:, :, None] * low
    dC = np.zeros((S, k, m, m))
    ar = np.arange(m)
    dC[:, ar, ar, :] = C[:, ar, :]
    off = np.arange(m, k)
    dC[:, off, rows, cols] = sd[:, rows]
    Ct = np.swapaxes(C, -1, -2)
    dS = dC @ Ct[:, None]
    dS = dS + np.swapaxes(dS, -1, -2)
    d2C = np.zeros((S, k, k, m, m))
    d2C[:, ar, ar] = dC[:, ar]
    d2C[:, rows, off, rows, cols] = sd[:, rows]
    d2C[:, off, rows, rows, cols] = sd[:, rows]
    T = d2C @ Ct[:, None, None]
    cross = dC[:, :, None] @ np.swapaxes(dC, -1, -2)[:, None, :]
    d2S = T + np.swapaxes(T, -1, -2) + cross + np.swapaxes(cross, -1, -2)
    return dS, d2S


def _chol(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched Cholesky; failing members get the identity and ``good = False``."""
    try:
        return np.linalg.cholesky(A), np.ones(A.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        eye = np.broadcast_to(np.eye(A.shape[-1]), A.shape)
        finite = np.isfinite(A).all(axis=(1, 2))
        good = finite & (np.linalg.eigvalsh(np.where(finite[:, None, None], A, eye))[:, 0] > 0)
        safe = np.where(good[:, None, None], A, eye)
        try:
            return np.linalg.cholesky(safe), good
        except np.linalg.LinAlgError:  # pragma: no cover - eigenvalues > 0 but not Cholesky-able
            return np.linalg.cholesky(eye), np.zeros(A.shape[0], dtype=bool)


def _newton(
    batch: _Batch, theta0: np.ndarray, bs: BatchStats, max_iter: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton per trial; returns theta (S, k) and a converged flag (S,)."""
    S = theta0.shape[0]
    theta = theta0.copy()
    done = np.zeros(S, dtype=bool)
    conv = np.zeros(S, dtype=bool)
    for _ in range(max_iter):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        sub = bs.take(act)
        th = theta[act]
        ev = batch.evaluate(th, sub)
        bad = ~ev["ok"]
        g = batch.gradient(th, ev)
        H, _, _ = batch.hessian(th, ev, sub)
        k = th.shape[1]
        finite = np.isfinite(H).all(axis=(1, 2))
        Hf = np.where(finite[:, None, None], H, np.eye(k))
        w = np.linalg.eigvalsh(Hf)  # (S, k), batched
        pd = finite & (w[:, 0] > 1e-10 * np.maximum(1.0, np.abs(w).max(axis=1)))
        shift = np.where(pd, 0.0, np.abs(w[:, 0]) + 1e-3 * np.maximum(1.0, np.abs(w).max(axis=1)))
        Hs = Hf + shift[:, None, None] * np.eye(k)
        step = np.linalg.solve(Hs, g[..., None])[..., 0]
        dec = np.einsum("si,si->s", g, step)
        gmax = np.abs(g).max(axis=1)
        finished = pd & ~bad & (dec < 1e-15)
        conv[act[finished]] = True
        done[act[finished]] = True
        done[act[bad]] = True
        move = ~finished & ~bad
        if not move.any():
            continue
        # close to the optimum (small Newton decrement, positive definite Hessian) the
        # full Newton step is taken directly; elsewhere a backtracking line search
        near = move & pd & (dec < 1e-4)
        ni = np.flatnonzero(near)
        theta[act[ni]] = th[ni] - step[ni]
        mi = np.flatnonzero(move & ~near)
        if mi.size == 0:
            continue
        f0 = ev["f"][mi]
        t = np.ones(mi.size)
        accepted = np.zeros(mi.size, dtype=bool)
        new = th[mi].copy()
        for _ls in range(30):
            pend = np.flatnonzero(~accepted)
            if pend.size == 0:
                break
            cand = th[mi[pend]] - t[pend, None] * step[mi[pend]]
            fn = batch.evaluate(cand, sub.take(mi[pend]))["f"]
            okk = fn <= f0[pend] + 1e-12 * np.abs(f0[pend])
            new[pend[okk]] = cand[okk]
            accepted[pend[okk]] = True
            t[pend[~okk]] *= 0.5
        # no decrease possible: at the optimum up to rounding when the decrement is tiny
        stuck = ~accepted
        if stuck.any():
            s_idx = mi[stuck]
            near = pd[s_idx] & (dec[s_idx] < 1e-8) & (gmax[s_idx] < 1e-3)
            conv[act[s_idx[near]]] = True
            done[act[s_idx]] = True
        theta[act[mi[accepted]]] = new[accepted]
    return theta, conv


_KR = ("kenward-roger", "kenward-roger-linear")


def _kr_pieces(
    batch: _Batch, theta: np.ndarray, ev: dict[str, np.ndarray], bs: BatchStats, linear: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Kenward-Roger ``P`` (S, k, p, p), ``Q`` and ``R`` (S, k, k, p, p) of every trial.

    As :meth:`rehabstats.models._mmrm.MMRMResult._kr_pieces`, per pattern ``s``:
    ``ZZ_s = Omega_s X_s' X_s Omega_s`` (summed over subjects), ``P_i = -dSigma_i : ZZ``,
    ``Q_ij = sum_s (dSigma_i Omega_s dSigma_j) : ZZ_s``, ``R_ij = d2Sigma_ij : ZZ``
    (``R`` None for the linear variant).
    """
    if batch.st.name == "us":
        dS, d2S = _us_derivatives(theta, batch.m)
    else:
        dS = np.asarray(batch.st.jacobian(theta, batch.m))
        d2S = batch.d2sigma(theta)
    Omega = ev["Omega"]
    ZZk = np.einsum("skac,skcpdq,skbd->skapbq", Omega, bs.XX, Omega, optimize=True)
    ZZ = ZZk.sum(axis=1)
    P = -np.einsum("siab,sapbq->sipq", dS, ZZ, optimize=True)
    T = np.einsum("siab,skbc,sjcd->skijad", dS, Omega, dS, optimize=True)
    Q = np.einsum("skijad,skapdq->sijpq", T, ZZk, optimize=True)
    R = None if linear else np.einsum("sijab,sapbq->sijpq", d2S, ZZ, optimize=True)
    return ev["Ainv"], P, Q, R


def fit_batch(
    Y: np.ndarray,
    O: np.ndarray,
    arm: np.ndarray,
    n_arms: int,
    baseline: np.ndarray | None,
    st: CovarianceStructure,
    theta0: np.ndarray,
    *,
    reml: bool = True,
    df_method: str = "satterthwaite",
    refit: Callable[[int], tuple[float, float, float, bool]] | None = None,
) -> dict[str, np.ndarray]:
    """Fit ``outcome ~ arm * visit (+ baseline)`` MMRMs to a batch of trials.

    Parameters
    ----------
    Y, O : (S, N, m) outcomes and observed masks.
    arm : (N,) arm codes (0 = reference); the contrast is arm 1 - arm 0 at the last visit.
    baseline : (S, N) baseline covariate or None.
    theta0 : start (the true covariance's theta).
    refit : ``s -> (estimate, se, df, converged)`` by ``rs.mmrm`` for trial ``s``, for
        the trials the batch iteration does not settle (without it they stay
        not converged, with the batch's values).

    Returns
    -------
    dict with ``estimate, se, df, p, converged, failed`` arrays of length S.
    """
    S, _, m = Y.shape
    X = design_matrix(arm, m, n_arms, baseline)
    p = X.shape[-1]
    l = np.zeros(p)
    l[1 * m + m - 1] = 1.0
    l[m - 1] = -1.0
    out = {k: np.full(S, np.nan) for k in ("estimate", "se", "df", "p")}
    out["converged"] = np.zeros(S, dtype=bool)
    out["failed"] = np.zeros(S, dtype=bool)
    # designs that rs.mmrm rejects: an empty arm x visit cell, a visit seen once,
    # more parameters than observations
    cells = np.stack([O[:, arm == a, :].sum(axis=1) for a in range(n_arms)], axis=1)
    k = st.n_theta(m)
    invalid = (
        (cells == 0).any(axis=(1, 2))
        | (O.sum(axis=1) < 2).any(axis=1)
        | (O.sum(axis=(1, 2)) < p + k)
    )
    if baseline is not None:
        invalid |= np.array(
            [np.linalg.matrix_rank(X[s][O[s]]) < p if not invalid[s] else True for s in range(S)]
        )
    out["failed"] = invalid.copy()
    good = np.flatnonzero(~invalid)
    if good.size == 0:
        return out
    bs = batch_stats(Y[good], O[good], X if baseline is None else X[good])
    batch = _Batch(st, m, reml)
    with np.errstate(all="ignore"):  # trial steps may overflow; such points are rejected
        theta, conv = _newton(batch, np.broadcast_to(theta0, (good.size, theta0.size)).copy(), bs)
        ev = batch.evaluate(theta, bs)
        H, _dS, B = batch.hessian(theta, ev, bs)
    V = ev["Ainv"]
    est = ev["beta"] @ l
    se = np.sqrt(np.einsum("p,spq,q->s", l, V, l))
    df = np.full(good.size, np.inf)
    if df_method in _KR:
        _, P, Q, R = _kr_pieces(batch, theta, ev, bs, df_method == "kenward-roger-linear")
        for i in range(good.size):  # small k x k algebra per trial, as rs.mmrm
            W = _theta_vcov(H[i])
            if W is None:
                conv[i] = False  # refitted by rs.mmrm below
                continue
            adj = kr_adjusted_vcov(V[i], W, P[i], Q[i], None if R is None else R[i])
            se[i] = math.sqrt(l @ adj @ l)
            df[i] = kr_df(l[None, :], V[i], W, P[i])[0]
    elif df_method == "satterthwaite":
        for i in range(good.size):  # small k x k algebra per trial, as rs.mmrm
            try:
                W = 2.0 * np.linalg.inv(H[i])
                if not np.all(np.isfinite(W)) or np.linalg.eigvalsh(H[i]).min() <= 0:
                    raise np.linalg.LinAlgError
            except np.linalg.LinAlgError:
                W = 2.0 * np.linalg.pinv(H[i])
                conv[i] = False
            jac = np.einsum("ab,ibc,cd->iad", V[i], B[i], V[i])
            df[i] = satterthwaite_1d(l, V[i], jac, W)[1]
    elif df_method == "residual":
        df = bs.nobs - p
    res = {"estimate": est, "se": se, "df": df}
    # trials the batch iteration did not settle: refit by rs.mmrm itself
    if refit is not None:
        for j in np.flatnonzero(~conv).tolist():
            res["estimate"][j], res["se"][j], res["df"][j], conv[j] = refit(int(good[j]))
    for key in ("estimate", "se", "df"):
        out[key][good] = res[key]
    tval = out["estimate"] / out["se"]
    with np.errstate(invalid="ignore"):
        out["p"] = np.where(
            np.isinf(out["df"]),
            2 * stats.norm.sf(np.abs(tval)),
            2 * stats.t.sf(np.abs(tval), out["df"]),
        )
    out["converged"][good] = conv
    return out


def _theta_vcov(H: np.ndarray) -> np.ndarray | None:
    """``W = 2 H^-1`` as rs.mmrm takes it; None when ``H`` is not positive definite."""
    try:
        W = 2.0 * np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(W)) or np.linalg.eigvalsh(H).min() <= 0:
        return None
    return W
