"""Confidence-interval engines shared by the effect sizes.

The noncentral-t interval (Steiger & Fouladi 1997) inverts the noncentral t
distribution: for an observed statistic ``t`` with ``df`` degrees of freedom the
limits are the noncentrality parameters ``ncp`` at which ``t`` sits at the
upper and lower ``alpha/2`` quantiles, i.e. the roots of
``F(t; df, ncp) = 1 - alpha/2`` and ``F(t; df, ncp) = alpha/2``.

R's effectsize 0.8.3 finds them with ``optim`` (Nelder-Mead, ``abstol = 1e-9``),
so its limits are accurate to roughly 1e-6; here they are solved to ~1e-12 with a
vectorised secant iteration on :func:`scipy.special.nctdtr` (the CDF is strictly
decreasing in ``ncp``), and every element that does not converge falls back to
:func:`scipy.optimize.brentq` on an expanding bracket.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats

from .._validate import check_ci, show_value
from ..errors import DataError

__all__ = ["_ncp_limits", "ncp_limits", "normal_limits", "z_quantile"]

_FloatArray = NDArray[np.float64]


def z_quantile(ci: float) -> float:
    """Two-sided standard-normal critical value for confidence level ``ci``."""
    return float(stats.norm.ppf(0.5 + ci / 2.0))


def normal_limits(estimate: ArrayLike, se: ArrayLike, ci: float) -> tuple[_FloatArray, _FloatArray]:
    """Wald limits ``estimate -/+ z * se``."""
    est = np.asarray(estimate, dtype=float)
    half = z_quantile(ci) * np.asarray(se, dtype=float)
    return est - half, est + half


def _solve_ncp(t: _FloatArray, df: _FloatArray, p: float, guess: _FloatArray) -> _FloatArray:
    """Roots of nctdtr(df, ncp, t) = p, vectorised secant with a brentq fallback."""

    def f(ncp: _FloatArray, tt: _FloatArray, dd: _FloatArray) -> _FloatArray:
        return np.asarray(special.nctdtr(dd, ncp, tt), dtype=float) - p

    x0 = guess.copy()
    x1 = guess + 1e-3 * (1.0 + np.abs(guess))
    f0 = f(x0, t, df)
    f1 = f(x1, t, df)
    done = np.zeros(t.shape, dtype=bool)
    active = np.isfinite(f0) & np.isfinite(f1)
    for _ in range(40):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        denom = f1[idx] - f0[idx]
        ok = np.isfinite(denom) & (denom != 0)
        step = np.where(ok, f1[idx] * (x1[idx] - x0[idx]) / np.where(ok, denom, 1.0), np.nan)
        x0[idx], f0[idx] = x1[idx], f1[idx]
        x1[idx] = x1[idx] - step
        # converged: the step is at rounding level (the previous residual then is too)
        conv = ok & (np.abs(step) <= 4e-15 * (1.0 + np.abs(x1[idx])))
        done[idx[conv]] = True
        active[idx[conv | ~ok]] = False
        moving = idx[ok & ~conv]
        if moving.size:
            f1[moving] = f(x1[moving], t[moving], df[moving])
            active[moving[~np.isfinite(f1[moving])]] = False
    # Everything not converged goes to the bracketing solver (flat CDF tails, extreme t).
    for i in np.flatnonzero(~done | ~np.isfinite(x1)):
        x1[i] = _brent_ncp(float(t[i]), float(df[i]), p, float(guess[i]))
    return x1


def _brent_ncp(t: float, df: float, p: float, guess: float) -> float:
    """Bracketing fallback for one element (the CDF decreases in ncp)."""

    def g(ncp: float) -> float:
        value = float(special.nctdtr(df, ncp, t))
        if np.isnan(value):
            # The CDF routine can fail far in a tail: there it is ~1 (ncp << t) or ~0.
            value = 1.0 if ncp < t else 0.0
        return value - p

    if not np.isfinite(guess):
        guess = t
    width = 1.0 + abs(guess)
    lo, hi = guess - width, guess + width
    for _ in range(200):
        glo, ghi = g(lo), g(hi)
        if glo >= 0 >= ghi:
            return float(
                optimize.brentq(g, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
            )
        width *= 2.0
        if glo < 0:
            lo = guess - width
        if ghi > 0:
            hi = guess + width
    return float("nan")


#: Beyond this |t| scipy's noncentral-t CDF loses accuracy and the large-t limit is used.
_LARGE_T = 3e4


def _ncp_limits(t: ArrayLike, df: ArrayLike, ci: float) -> tuple[_FloatArray, _FloatArray]:
    """Unchecked :func:`ncp_limits` for the vectorised cores (NaN in, NaN out)."""
    t_arr, df_arr = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(df, dtype=float))
    shape = t_arr.shape
    t_flat = np.ascontiguousarray(t_arr, dtype=float).reshape(-1)
    df_flat = np.ascontiguousarray(df_arr, dtype=float).reshape(-1)
    alpha = 1.0 - ci
    low = np.full(t_flat.shape, np.nan)
    high = np.full(t_flat.shape, np.nan)
    large = np.abs(t_flat) > _LARGE_T
    if large.any():
        # T = (Z + ncp) / sqrt(V/df): for ncp -> inf the Z term vanishes, so the limits are
        # t * sqrt(chi2_q(df) / df) (relative error of order 10/t^2, below 1e-8 here).
        tl, dl = t_flat[large], df_flat[large]
        q_small = np.sqrt(stats.chi2.ppf(alpha / 2.0, dl) / dl)
        q_big = np.sqrt(stats.chi2.ppf(1.0 - alpha / 2.0, dl) / dl)
        pos = tl > 0
        low[large] = tl * np.where(pos, q_small, q_big)
        high[large] = tl * np.where(pos, q_big, q_small)
    small = ~large
    if small.any():
        ts, ds = t_flat[small], df_flat[small]
        lo_s = np.full(ts.shape, np.nan)
        hi_s = np.full(ts.shape, np.nan)
        exact = np.ones(ts.shape, dtype=bool)
        if ts.size >= _INTERP_MIN:
            # large batches: the limits of each df shared by many elements are
            # interpolated from exact solutions (see _interpolated_limits)
            finite = np.isfinite(ts) & np.isfinite(ds)
            where = np.flatnonzero(finite)
            if where.size and (ds[where] == ds[where[0]]).all():  # one df: no grouping
                groups: list[tuple[float, NDArray[np.intp]]] = [(float(ds[where[0]]), where)]
            else:
                values, inverse, counts = np.unique(
                    ds[finite], return_inverse=True, return_counts=True
                )
                groups = [
                    (float(values[k]), where[inverse.reshape(-1) == k])
                    for k in np.flatnonzero(counts >= _INTERP_MIN)
                ]
            for df_k, idx in groups:
                if idx.size >= _INTERP_MIN:
                    lo_s[idx], hi_s[idx] = _interpolated_limits(ts[idx], df_k, ci)
                    exact[idx] = False
        if exact.any():
            te, de = ts[exact], ds[exact]
            lo_s[exact], hi_s[exact] = _exact_limits(te, de, ci)
        low[small], high[small] = lo_s, hi_s
    return low.reshape(shape), high.reshape(shape)


def _exact_limits(ts: _FloatArray, ds: _FloatArray, ci: float) -> tuple[_FloatArray, _FloatArray]:
    """Both limits solved element by element (vectorised secant, brentq fallback)."""
    alpha = 1.0 - ci
    z = z_quantile(ci)
    # Start from the normal approximation to the noncentral t (Abramowitz & Stegun
    # 26.7.10): F(t; df, ncp) ~ Phi((t (1 - 1/(4 df)) - ncp) / sqrt(1 + t^2 / (2 df))).
    centre = ts * (1.0 - 1.0 / (4.0 * ds))
    spread = z * np.sqrt(1.0 + ts**2 / (2.0 * ds))
    return (
        _solve_ncp(ts, ds, 1.0 - alpha / 2.0, centre - spread),
        _solve_ncp(ts, ds, alpha / 2.0, centre + spread),
    )


#: elements sharing one df from which on their limits are interpolated
_INTERP_MIN = 2048
#: degree of the Chebyshev interpolant on each piece of the t axis
_CHEB_DEG = 24
#: piece edges of the t axis (|t| <= _LARGE_T): width 1 near 0, then doubling
_EDGES = np.concatenate([-(2.0 ** np.arange(15, -1, -1)), [0.0], 2.0 ** np.arange(0, 16)])
#: accepted interpolation error, relative to 1 + |limit|
_INTERP_TOL = 1e-13


def _interpolated_limits(t: _FloatArray, df: float, ci: float) -> tuple[_FloatArray, _FloatArray]:
    """Noncentral-t limits of many t with one df, by piecewise Chebyshev interpolation.

    For a fixed df and level each limit is an analytic, nearly linear function of
    t. It is solved exactly (:func:`_exact_limits`) at the Chebyshev nodes of the
    pieces of the t axis that hold data and interpolated in between. The result is
    accepted only where the interpolant's last coefficients are below
    ``_INTERP_TOL`` (1 + |limit|) and exact solutions at eight of the t values
    (the extremes and six spread through the batch) agree to 1e-12; so the
    limits equal the element-wise solution to about 1e-14 (the accuracy of the
    exact solution itself) at a cost nearly independent of the number of elements.
    Pieces that fail the first check (the far tails, |t| > 2000, where the
    noncentral-t CDF itself is noisy) and all elements when the second fails are
    solved element by element.
    """
    from numpy.polynomial import chebyshev

    piece = np.searchsorted(_EDGES, t, side="right") - 1
    piece = np.clip(piece, 0, _EDGES.size - 2)
    used = np.unique(piece)
    k = np.arange(_CHEB_DEG + 1)
    u = np.cos(np.pi * (k + 0.5) / (_CHEB_DEG + 1))
    lo_e, hi_e = _EDGES[used], _EDGES[used + 1]
    mid, half = (lo_e + hi_e) / 2.0, (hi_e - lo_e) / 2.0
    nodes = (mid[:, None] + half[:, None] * u[None, :]).reshape(-1)
    node_lo, node_hi = _exact_limits(nodes, np.full(nodes.shape, df), ci)
    out_lo = np.full(t.shape, np.nan)
    out_hi = np.full(t.shape, np.nan)
    ok = np.zeros(t.shape, dtype=bool)
    for j, p in enumerate(used):
        sel = piece == p
        block = slice(j * (_CHEB_DEG + 1), (j + 1) * (_CHEB_DEG + 1))
        coefs = []
        for vals in (node_lo[block], node_hi[block]):
            coef = chebyshev.chebfit(u, vals, _CHEB_DEG)
            if not np.isfinite(coef).all() or (
                np.abs(coef[-2:]).max() > _INTERP_TOL * (1.0 + np.abs(vals).max())
            ):
                break  # not smooth to the tolerance here (far tails): solve exactly
            coefs.append(coef)
        else:
            uu = (t[sel] - mid[j]) / half[j]
            out_lo[sel] = chebyshev.chebval(uu, coefs[0])
            out_hi[sel] = chebyshev.chebval(uu, coefs[1])
            ok[sel] = True
    idx = np.flatnonzero(ok)
    if idx.size:
        spread = idx[np.unique(np.linspace(0, idx.size - 1, 6).round().astype(int))]
        check = np.unique(np.r_[idx[np.argmin(t[idx])], idx[np.argmax(t[idx])], spread])
        ex_lo, ex_hi = _exact_limits(t[check], np.full(check.size, df), ci)
        for ex, got in ((ex_lo, out_lo[check]), (ex_hi, out_hi[check])):
            if not np.all(np.abs(ex - got) <= 1e-12 * (1.0 + np.abs(ex))):
                ok[:] = False
        out_lo[check], out_hi[check] = ex_lo, ex_hi
    rest = ~ok
    if rest.any():
        out_lo[rest], out_hi[rest] = _exact_limits(t[rest], np.full(int(rest.sum()), df), ci)
    return out_lo, out_hi


def _finite_array(value: Any, name: str) -> _FloatArray:
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise DataError(f"'{name}' must be a number or an array of numbers; got {value!r}.")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            f"'{name}' must be a number or an array of numbers; got {show_value(value)}."
        ) from None
    if arr.dtype.kind not in "f" or np.asarray(value).dtype.kind == "b":
        raise DataError(f"'{name}' must be numeric; got booleans.")
    if arr.size == 0:
        raise DataError(f"'{name}' is empty.")
    if not np.isfinite(arr).all():
        bad = arr[~np.isfinite(arr)].reshape(-1)[0]
        raise DataError(f"'{name}' must be finite (no NaN or infinity); got {show_value(bad)}.")
    return arr


def ncp_limits(t: ArrayLike, df: ArrayLike, ci: float) -> tuple[_FloatArray, _FloatArray]:
    r"""Noncentral-t confidence limits for the noncentrality parameter.

    Parameters
    ----------
    t : array_like
        Observed t statistics (finite).
    df : array_like
        Degrees of freedom, positive and finite (broadcast against ``t``; need
        not be integers).
    ci : float
        Two-sided confidence level, strictly between 0 and 1.

    Returns
    -------
    (low, high) : tuple of ndarray
        ``low`` solves ``F(t; df, low) = 1 - alpha/2`` and ``high`` solves
        ``F(t; df, high) = alpha/2``.

    Raises
    ------
    DataError
        Non-numeric, empty, NaN or infinite ``t`` or ``df``, ``df <= 0``,
        shapes that do not broadcast, or ``ci`` outside (0, 1).

    Notes
    -----
    For :math:`|t| > 3\times10^4`, where the noncentral-t CDF of scipy loses
    accuracy, the limits are the large-noncentrality limit
    :math:`t\sqrt{\chi^2_{df,q}/df}` (:math:`T \approx ncp / \sqrt{V/df}`), whose
    relative error there is below 1e-8.

    Examples
    --------
    >>> import rehabstats as rs
    >>> low, high = rs.effect_sizes.ncp_limits(2.0, 8, 0.95)
    >>> round(float(low), 4), round(float(high), 4)
    (-0.2331, 4.1349)
    """
    ci = check_ci(ci)
    t_arr = _finite_array(t, "t")
    df_arr = _finite_array(df, "df")
    if (df_arr <= 0).any():
        bad = df_arr[df_arr <= 0].reshape(-1)[0]
        raise DataError(
            f"'df' (degrees of freedom) must be greater than zero; got {show_value(bad)}."
        )
    try:
        np.broadcast_shapes(t_arr.shape, df_arr.shape)
    except ValueError:
        raise DataError(
            f"'t' (shape {t_arr.shape}) and 'df' (shape {df_arr.shape}) do not "
            "broadcast against each other."
        ) from None
    return _ncp_limits(t_arr, df_arr, ci)
