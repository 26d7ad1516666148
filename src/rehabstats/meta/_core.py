"""Vectorised core of the random-effects model: every meta-analysis of a batch at once.

All functions take ``yi`` and ``vi`` of shape ``(B, k)`` (B meta-analyses of k
studies each, finite, ``vi > 0``) and return arrays of shape ``(B,)``. The
algorithms follow metafor 3.8-1 ``rma.uni`` / ``confint.rma.uni`` (Viechtbauer
2005, 2007; Viechtbauer 2010, *J Stat Softw* 36(3)); the code is written from
the formulas, not translated:

- heterogeneity (HE, DL, SJ) in closed form, truncated at 0;
- ML and REML by Fisher scoring from the truncated HE value, with step halving
  at the boundary, stopped when the change is below ``threshold`` (metafor's
  ``control=list(threshold=1e-5)``), then metafor's check that the likelihood
  at tau^2 = 0 is not higher;
- PM and the Q-profile interval as roots of the generalised Q statistic, which
  is strictly decreasing in tau^2, found by a vectorised Brent zeroin (the
  algorithm of R's ``uniroot``) on metafor's search ranges with metafor's
  tolerance (``.Machine$double.eps^0.25``), so the values are metafor's; a
  smaller ``tol`` gives the exact roots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from .._roots import zeroin

__all__ = ["FitArrays", "fit_batch", "q_gen", "root_decreasing"]

Array = NDArray[np.float64]

METHODS: tuple[str, ...] = ("EE", "DL", "REML", "ML", "PM", "HE", "SJ")
ITERATIVE: frozenset[str] = frozenset({"REML", "ML"})
_EPS = float(np.finfo(float).eps)
_UNIROOT_TOL = _EPS**0.25  # metafor's con$tol, used in its ll0 check


@dataclass(frozen=True)
class FitArrays:
    """Everything a fit produces, one entry per meta-analysis of the batch."""

    k: int
    estimate: Array
    se: Array
    statistic: Array
    df: Array
    p_value: Array
    ci_low: Array
    ci_high: Array
    tau2: Array
    se_tau2: Array
    tau2_ci_low: Array
    tau2_ci_high: Array
    tau2_ci_bounded: NDArray[np.bool_]
    i2: Array
    i2_ci_low: Array
    i2_ci_high: Array
    h2: Array
    h2_ci_low: Array
    h2_ci_high: Array
    q: Array
    q_df: int
    q_p: Array
    pi_low: Array
    pi_high: Array
    weights: Array  # (B, k), percent
    s2w: Array
    iterations: NDArray[np.int64]
    converged: NDArray[np.bool_]
    reset_to_zero: NDArray[np.bool_]


def _wmean(w: Array, y: Array) -> Array:
    return np.asarray((w * y).sum(axis=1) / w.sum(axis=1), dtype=float)


def q_gen(tau2: Array, yi: Array, vi: Array) -> Array:
    """Generalised Q statistic sum w (y - mu_w)^2 with w = 1 / (v + tau2); decreasing in tau2."""
    w = 1.0 / (vi + tau2[:, None])
    mu = _wmean(w, yi)
    return np.asarray((w * (yi - mu[:, None]) ** 2).sum(axis=1), dtype=float)


def root_decreasing(
    target: Array,
    yi: Array,
    vi: Array,
    lower: Array,
    upper: Array,
    tol: float = _UNIROOT_TOL,
    maxiter: int = 1000,
) -> Array:
    """Solve ``q_gen(tau2) = target`` on a bracketing ``[lower, upper]`` by Brent's method.

    Brent's (1973) zeroin, the algorithm behind R's ``uniroot``, run for all rows
    at once: each row keeps its own bracket ``[b, c]``, takes an inverse quadratic
    (or secant) step when it stays inside the bracket and shrinks fast enough,
    otherwise bisects, and stops when half the bracket is below
    ``2 eps |b| + tol / 2``. With metafor's ``tol`` (1.2e-4) this returns the value
    metafor reports; a small ``tol`` gives the root to machine precision.
    """

    def f(x: Array, rows: NDArray[np.intp]) -> Array:
        return q_gen(x, yi[rows], vi[rows]) - target[rows]

    n = target.shape[0]
    if n == 1:  # one meta-analysis: the same algorithm on Python floats (no array overhead)
        return np.array(
            [
                _zeroin_scalar(
                    yi[0], vi[0], float(target[0]), float(lower[0]), float(upper[0]), tol, maxiter
                )
            ]
        )
    rows_all = np.arange(n)
    a = lower.astype(float).copy()
    b = upper.astype(float).copy()
    fa = f(a, rows_all)
    fb = f(b, rows_all)
    c, fc = a.copy(), fa.copy()
    out = np.full(n, np.nan)
    active = np.ones(n, dtype=bool)
    hit = fa == 0
    out[hit] = a[hit]
    active &= ~hit
    hit = active & (fb == 0)
    out[hit] = b[hit]
    active &= ~hit
    for _ in range(maxiter + 1):
        if not active.any():
            break
        idx = np.flatnonzero(active)
        A, B, C = a[idx], b[idx], c[idx]
        FA, FB, FC = fa[idx], fb[idx], fc[idx]
        prev_step = B - A
        swap = np.abs(FC) < np.abs(FB)
        A = np.where(swap, B, A)
        B = np.where(swap, C, B)
        C = np.where(swap, A, C)
        FA = np.where(swap, FB, FA)
        FB = np.where(swap, FC, FB)
        FC = np.where(swap, FA, FC)
        tol_act = 2 * _EPS * np.abs(B) + tol / 2
        new_step = (C - B) / 2
        done = (np.abs(new_step) <= tol_act) | (FB == 0)
        out[idx[done]] = B[done]
        # interpolation where the previous step was large enough and |f| decreased
        interp = ~done & (np.abs(prev_step) >= tol_act) & (np.abs(FA) > np.abs(FB))
        with np.errstate(divide="ignore", invalid="ignore"):
            cb = C - B
            secant = A == C
            t1s = FB / FA
            p_sec, q_sec = cb * t1s, 1.0 - t1s
            qq, t1, t2 = FA / FC, FB / FC, FB / FA
            p_iq = t2 * (cb * qq * (qq - t1) - (B - A) * (t1 - 1.0))
            q_iq = (qq - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            p = np.where(secant, p_sec, p_iq)
            q = np.where(secant, q_sec, q_iq)
            q = np.where(p > 0, -q, q)
            p = np.abs(p)
            accept = (
                interp
                & (p < 0.75 * cb * q - np.abs(tol_act * q) / 2)
                & (p < np.abs(prev_step * q / 2))
            )
            new_step = np.where(accept, p / q, new_step)
        small = np.abs(new_step) < tol_act
        new_step = np.where(small, np.where(new_step > 0, tol_act, -tol_act), new_step)
        A, FA = B.copy(), FB.copy()
        B = B + new_step
        keep = ~done
        FB_new = FB.copy()
        if keep.any():
            FB_new[keep] = f(B[keep], idx[keep])
        FB = FB_new
        same = ((FB > 0) & (FC > 0)) | ((FB < 0) & (FC < 0))
        C = np.where(same, A, C)
        FC = np.where(same, FA, FC)
        a[idx], b[idx], c[idx], fa[idx], fb[idx], fc[idx] = A, B, C, FA, FB, FC
        active[idx[done]] = False
    # rows that ran out of iterations keep the current best point
    left = active & np.isnan(out)
    out[left] = b[left]
    return out


def _zeroin_scalar(
    y: Array, v: Array, target: float, ax: float, bx: float, tol: float, maxiter: int
) -> float:
    """Brent's zeroin for one root of ``q_gen - target`` (the scalar twin of the batch code)."""

    def f(t: float) -> float:
        w = 1.0 / (v + t)
        mu = float(w @ y) / float(w.sum())
        r = y - mu
        return float(w @ (r * r)) - target

    return zeroin(f, ax, bx, f(ax), f(bx), tol, maxiter)


def _p_matrix(w: Array) -> Array:
    """P = W - w w' / sum(w) of the intercept-only model, shape (B, k, k)."""
    sw = w.sum(axis=1)
    p = -w[:, :, None] * w[:, None, :] / sw[:, None, None]
    idx = np.arange(w.shape[1])
    p[:, idx, idx] += w
    return p


def _loglik(tau2: Array, yi: Array, vi: Array, reml: bool) -> Array:
    w = 1.0 / (vi + tau2[:, None])
    mu = _wmean(w, yi)
    rss = (w * (yi - mu[:, None]) ** 2).sum(axis=1)
    k = yi.shape[1]
    if reml:
        return np.asarray(
            -0.5 * (k - 1) * np.log(2 * np.pi)
            - 0.5 * np.log(vi + tau2[:, None]).sum(1)
            - 0.5 * np.log(w.sum(axis=1))
            - 0.5 * rss,
            dtype=float,
        )
    return np.asarray(
        -0.5 * k * np.log(2 * np.pi) - 0.5 * np.log(vi + tau2[:, None]).sum(1) - 0.5 * rss,
        dtype=float,
    )


def _he(yi: Array, vi: Array) -> tuple[Array, Array]:
    k = yi.shape[1]
    rss = ((yi - yi.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    tr_pv = vi.sum(axis=1) * (1.0 - 1.0 / k)
    return (rss - tr_pv) / (k - 1), tr_pv


def _halve_to_nonnegative(t: Array, adj: Array) -> Array:
    """Metafor's step halving ``while (tau2 + adj < 0) adj <- adj / 2``, without the loop.

    Halving is exact in binary floating point, so the fewest halvings m with
    ``t + adj / 2^m >= 0`` is found from log2 (then checked); at t = 0 the halving runs
    down to adj = 0.
    """
    neg = t + adj < 0
    if not neg.any():
        return adj
    pos = neg & (t > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(pos, np.ceil(np.log2(np.abs(adj)) - np.log2(np.where(t > 0, t, 1.0))), 1.0)
    m = np.maximum(np.nan_to_num(m, nan=1.0, posinf=1100.0), 1.0).astype(int)
    for _fix in range(4):  # guard the rounding of log2 either way
        lower = np.maximum(m - 1, 1)
        m = np.where(pos & (m > 1) & (t + np.ldexp(adj, -lower) >= 0), lower, m)
        m = np.where(pos & (t + np.ldexp(adj, -m) < 0), m + 1, m)
    return np.asarray(np.where(neg, np.where(t > 0, np.ldexp(adj, -m), 0.0), adj), dtype=float)


def _fisher_scoring(
    yi: Array,
    vi: Array,
    start: Array,
    reml: bool,
    threshold: float,
    maxiter: int,
    stepadj: float = 1.0,
) -> tuple[Array, NDArray[np.int64], NDArray[np.bool_]]:
    """ML/REML Fisher scoring as metafor: tau2 += score / information, halved at 0."""
    tau2 = start.copy()
    active = np.ones(tau2.shape, dtype=bool)
    iters = np.zeros(tau2.shape, dtype=np.int64)
    converged = np.zeros(tau2.shape, dtype=bool)
    for _ in range(maxiter + 1):
        if not active.any():
            break
        t = tau2[active]
        y, v = yi[active], vi[active]
        w = 1.0 / (v + t[:, None])
        sw = w.sum(axis=1)
        mu = (w * y).sum(axis=1) / sw
        r = y - mu[:, None]
        ypp = (w**2 * r**2).sum(axis=1)  # Y'PPY = sum (w_i r_i)^2
        if reml:
            p = _p_matrix(w)
            tr_p = sw - (w**2).sum(axis=1) / sw
            tr_pp = (p * p).sum(axis=(1, 2))
            adj = (ypp - tr_p) / tr_pp
        else:
            adj = (ypp - sw) / (w**2).sum(axis=1)
        adj = np.where(np.isfinite(adj), adj, 0.0) * stepadj
        adj = _halve_to_nonnegative(t, adj)
        new = t + adj
        idx = np.flatnonzero(active)
        iters[idx] += 1
        done = np.abs(new - t) <= threshold
        tau2[idx] = new
        converged[idx[done]] = True
        active[idx[done]] = False
        over = iters > maxiter
        active &= ~over
    return tau2, iters, converged


def fit_batch(
    yi: Array,
    vi: Array,
    *,
    method: str,
    test: str,
    ci: float,
    prediction: str = "metafor",
    threshold: float = 1e-5,
    maxiter: int = 100,
    stepadj: float = 1.0,
    tol: float = _UNIROOT_TOL,
    tau2_ci: bool = True,
) -> FitArrays:
    """Fit ``B`` intercept-only meta-analyses (rows of ``yi``/``vi``) with one method."""
    b, k = yi.shape
    alpha = 1.0 - ci
    nan = np.full(b, np.nan)
    iters = np.zeros(b, dtype=np.int64)
    converged = np.ones(b, dtype=bool)
    reset = np.zeros(b, dtype=bool)
    se_tau2 = nan.copy()

    # common-effect quantities: Q, its p-value, the typical within-study variance
    w_fe = 1.0 / vi
    sw_fe = w_fe.sum(axis=1)
    mu_fe = (w_fe * yi).sum(axis=1) / sw_fe
    if k > 1:
        q = np.maximum(0.0, (w_fe * (yi - mu_fe[:, None]) ** 2).sum(axis=1))
        q_p = special.chdtrc(k - 1, q)
        tr_p_fe = sw_fe - (w_fe**2).sum(axis=1) / sw_fe
        vt = (k - 1) / tr_p_fe
    else:
        q, q_p, vt = np.zeros(b), np.ones(b), np.zeros(b)

    if method == "EE" or k == 1:
        tau2 = np.zeros(b)
    elif method == "HE":
        tau2, tr_pv = _he(yi, vi)
        tau2 = np.maximum(tau2, 0.0)
        s_pvpv = (1.0 - 2.0 / k) * (vi**2).sum(axis=1) + vi.sum(axis=1) ** 2 / k**2
        se_tau2 = np.sqrt(2 * s_pvpv + 4 * tau2 * tr_pv + 2 * tau2**2 * (k - 1)) / (k - 1)
    elif method == "DL":
        tau2 = np.maximum((q - (k - 1)) / tr_p_fe, 0.0)
        p = _p_matrix(w_fe)
        s_pp = (p * p).sum(axis=(1, 2))
        se_tau2 = np.sqrt(2 * (k - 1) + 4 * tau2 * tr_p_fe + 2 * tau2**2 * s_pp) / tr_p_fe
    elif method == "SJ":
        tau0 = ((yi - yi.mean(axis=1, keepdims=True)) ** 2).sum(axis=1) / k
        w = 1.0 / (vi + tau0[:, None])
        mu = _wmean(w, yi)
        rss = (w * (yi - mu[:, None]) ** 2).sum(axis=1)
        tau2 = np.maximum(tau0 * rss / (k - 1), 0.0)
        p = _p_matrix(w)
        p2 = p * p
        s_pvpv = (p2 * vi[:, :, None] * vi[:, None, :]).sum(axis=(1, 2))
        s_pvp = (p2 * vi[:, None, :]).sum(axis=(1, 2))
        s_pp = p2.sum(axis=(1, 2))
        se_tau2 = np.sqrt(
            tau0**2 / (k - 1) ** 2 * (2 * s_pvpv + 4 * tau2 * s_pvp + 2 * tau2**2 * s_pp)
        )
    elif method == "PM":
        target = np.full(b, float(k - 1))
        q0 = q_gen(np.zeros(b), yi, vi)
        positive = q0 > target
        tau2 = np.zeros(b)
        if positive.any():
            y, v = yi[positive], vi[positive]
            # metafor's search range: [0, max(100, 10 mad(yi)^2)] (R's mad, constant 1.4826)
            med = np.median(y, axis=1, keepdims=True)
            mad = 1.4826 * np.median(np.abs(y - med), axis=1)
            upper = np.maximum(100.0, 10.0 * mad**2)
            for _ in range(200):  # expand until the bracket holds the root
                short = q_gen(upper, y, v) > k - 1
                if not short.any():
                    break
                upper = np.where(short, upper * 10.0, upper)
            tau2[positive] = root_decreasing(
                target[positive], y, v, np.zeros(len(y)), upper, tol=tol
            )
        w = 1.0 / (vi + tau2[:, None])
        se_tau2 = np.sqrt(2.0 * k**2 / (k - 1)) / w.sum(axis=1)
    elif method in ITERATIVE:
        reml = method == "REML"
        start = np.maximum(_he(yi, vi)[0], 0.0)
        tau2, iters, converged = _fisher_scoring(yi, vi, start, reml, threshold, maxiter, stepadj)
        # metafor's ll0 check: Fisher scoring stuck at a local maximum above tau2 = 0
        ll0 = _loglik(np.zeros(b), yi, vi, reml)
        ll = _loglik(tau2, yi, vi, reml)
        reset = converged & (ll0 - ll > _UNIROOT_TOL) & (tau2 > threshold)
        tau2 = np.where(reset, 0.0, tau2)
        tau2 = np.maximum(tau2, 0.0)
        w = 1.0 / (vi + tau2[:, None])
        if reml:
            se_tau2 = np.sqrt(2.0 / (_p_matrix(w) ** 2).sum(axis=(1, 2)))
        else:
            se_tau2 = np.sqrt(2.0 / (w**2).sum(axis=1))
    else:  # pragma: no cover - validated by the caller
        raise ValueError(method)

    # pooled estimate with weights 1 / (v + tau2)
    w = 1.0 / (vi + tau2[:, None])
    sw = w.sum(axis=1)
    est = (w * yi).sum(axis=1) / sw
    se = 1.0 / np.sqrt(sw)
    s2w = np.ones(b)
    if test == "hksj":
        rss = (w * (yi - est[:, None]) ** 2).sum(axis=1)
        s2w = np.where(rss <= _EPS, 0.0, rss / (k - 1)) if k > 1 else np.full(b, np.nan)
        se = se * np.sqrt(s2w)
        df = np.full(b, float(k - 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = est / se
        if k > 1:
            p_value = 2 * special.stdtr(k - 1, -np.abs(stat))
            crit = float(-special.stdtrit(k - 1, alpha / 2))
        else:
            p_value, crit = nan.copy(), np.nan
    else:
        df = nan.copy()
        stat = est / se
        p_value = 2 * special.ndtr(-np.abs(stat))
        crit = float(-special.ndtri(alpha / 2))
    ci_low, ci_high = est - crit * se, est + crit * se

    # heterogeneity summaries (metafor: I^2 from Q for the common-effect model)
    if k == 1:
        i2, h2 = np.zeros(b), np.ones(b)
    elif method == "EE":
        with np.errstate(divide="ignore", invalid="ignore"):
            i2 = np.where(
                q > 0, np.maximum(0.0, 100.0 * (q - (k - 1)) / np.where(q > 0, q, 1)), 0.0
            )
        h2 = q / (k - 1)
    else:
        i2 = 100.0 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1.0

    # Q-profile interval for tau2 (confint.rma.uni, type "QP")
    t_lo, t_hi = nan.copy(), nan.copy()
    bounded = np.zeros(b, dtype=bool)
    if tau2_ci and k > 1 and method != "EE":
        t_lo, t_hi, bounded = _q_profile(yi, vi, tau2, ci, q_df=k - 1, tol=tol)
    with np.errstate(divide="ignore", invalid="ignore"):
        i2_lo, i2_hi = 100.0 * t_lo / (vt + t_lo), 100.0 * t_hi / (vt + t_hi)
        h2_lo, h2_hi = t_lo / vt + 1.0, t_hi / vt + 1.0

    # prediction interval (predict.rma; Higgins et al. 2009 with t(k - 2) as an option)
    if prediction == "higgins":
        pcrit = float(-special.stdtrit(k - 2, alpha / 2)) if k > 2 else np.nan
    elif test == "hksj":
        pcrit = crit
    else:
        pcrit = float(-special.ndtri(alpha / 2))
    half = pcrit * np.sqrt(se**2 + tau2)
    weights = 100.0 * w / sw[:, None]
    return FitArrays(
        k=k,
        estimate=est,
        se=se,
        statistic=stat,
        df=df,
        p_value=p_value,
        ci_low=ci_low,
        ci_high=ci_high,
        tau2=tau2,
        se_tau2=se_tau2,
        tau2_ci_low=t_lo,
        tau2_ci_high=t_hi,
        tau2_ci_bounded=bounded,
        i2=i2,
        i2_ci_low=i2_lo,
        i2_ci_high=i2_hi,
        h2=h2,
        h2_ci_low=h2_lo,
        h2_ci_high=h2_hi,
        q=q,
        q_df=k - 1,
        q_p=q_p,
        pi_low=est - half,
        pi_high=est + half,
        weights=weights,
        s2w=s2w,
        iterations=iters,
        converged=converged,
        reset_to_zero=reset,
    )


def _q_profile(
    yi: Array, vi: Array, tau2: Array, ci: float, q_df: int, tol: float = _UNIROOT_TOL
) -> tuple[Array, Array, NDArray[np.bool_]]:
    """Q-profile limits (Viechtbauer 2007) with metafor's search range [0, max(100, 10 tau2)].

    Returns the limits and a flag for rows whose upper limit is the end of the
    search range (metafor prints it as ``>``: the true limit is larger).
    """
    b = yi.shape[0]
    alpha = 1.0 - ci
    crit_u = float(special.chdtri(q_df, alpha / 2))
    crit_l = float(special.chdtri(q_df, 1.0 - alpha / 2))
    t_max = np.maximum(100.0, 10.0 * tau2)
    zeros = np.zeros(b)
    q_min = q_gen(zeros, yi, vi)
    q_max = q_gen(t_max, yi, vi)
    lo, hi = np.zeros(b), np.zeros(b)
    bounded = np.zeros(b, dtype=bool)
    # upper limit: Q(tau2) = lower chi-square quantile
    empty = q_min < crit_l
    at_max = ~empty & (q_max > crit_l)
    solve = ~empty & ~at_max
    hi[at_max] = t_max[at_max]
    bounded |= at_max
    if solve.any():
        hi[solve] = root_decreasing(
            np.full(int(solve.sum()), crit_l),
            yi[solve],
            vi[solve],
            zeros[solve],
            t_max[solve],
            tol=tol,
        )
    # lower limit: Q(tau2) = upper chi-square quantile
    both_max = q_max > crit_u
    lo[both_max] = t_max[both_max]
    hi[both_max] = t_max[both_max]
    bounded |= both_max
    solve = ~both_max & ~(q_min < crit_u)
    if solve.any():
        lo[solve] = root_decreasing(
            np.full(int(solve.sum()), crit_u),
            yi[solve],
            vi[solve],
            zeros[solve],
            t_max[solve],
            tol=tol,
        )
    return lo, hi, bounded
