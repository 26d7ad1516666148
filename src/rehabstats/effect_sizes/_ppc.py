"""Pretest-posttest-control effect size d_ppc2 (Morris 2008)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._results import EffectSizeResult
from .._validate import NanPolicy, as_paired_arrays, check_ci, show_value
from ..errors import DataError, RehabStatsWarning
from ._common import check_summary, mean_sd, pow2, scalar
from ._intervals import normal_limits

__all__ = ["_ppc_core", "ppc_smd", "ppc_smd_from_summary"]


def _ppc_core(
    mean_pre_x: float,
    mean_post_x: float,
    sd_pre_x: float,
    n_x: float,
    mean_pre_y: float,
    mean_post_y: float,
    sd_pre_y: float,
    n_y: float,
    r: float | None,
    ci: float,
) -> tuple[float, float, float, float, dict[str, Any]]:
    """d_ppc2, its eq. 25 SE and normal limits (NaN SE/limits when ``r`` is None)."""
    m = n_x + n_y - 2.0
    top = max(sd_pre_x, sd_pre_y)
    # pooled SD without squaring an extreme SD (sd**2 overflowed for SDs near 1e300)
    sd_pool = (
        (
            top
            * math.sqrt(
                ((n_x - 1.0) * (sd_pre_x / top) ** 2 + (n_y - 1.0) * (sd_pre_y / top) ** 2) / m
            )
        )
        if top > 0
        else 0.0
    )
    if sd_pool == 0:
        raise DataError(
            "d_ppc2 is undefined: the pooled pre-test SD is zero (both groups "
            "constant at baseline)."
        )
    c_p = 1.0 - 3.0 / (4.0 * m - 1.0)
    diff = (mean_post_x - mean_pre_x) - (mean_post_y - mean_pre_y)
    d = c_p * diff / sd_pool
    if not math.isfinite(d):
        raise DataError(
            "d_ppc2 is not representable: the difference in mean change "
            f"({show_value(diff)}) over the pooled pre-test SD "
            f"({show_value(sd_pool)}) overflows."
        )
    details: dict[str, Any] = {
        "c_P": c_p,
        "sd_pre_pooled": sd_pool,
        "diff_in_change": diff,
        "df": m,
    }
    if r is None:
        return d, math.nan, math.nan, math.nan, details
    k = (n_x + n_y) / (n_x * n_y)
    # Morris (2008) eq. 25 with delta replaced by its estimate, written as A + B d^2
    # (A = 2 c^2 (1 - r) k m / (N - 4), B = c^2 m / (N - 4) - 1) so that no square overflows.
    n_tot = n_x + n_y
    if n_tot - 4.0 <= 0:
        se = math.nan
        why = f"needs n_x + n_y > 4 (got {show_value(n_x)} + {show_value(n_y)})"
    else:
        a_coef = 2.0 * c_p**2 * (1.0 - r) * k * m / (n_tot - 4.0)
        b_coef = c_p**2 * m / (n_tot - 4.0) - 1.0
        if b_coef >= 0:
            se = math.hypot(math.sqrt(a_coef), math.sqrt(b_coef) * abs(d))
        else:
            var = a_coef + b_coef * d * d
            se = math.sqrt(var) if var > 0 else math.nan
        why = "gives a non-positive variance for this estimate"
    if math.isnan(se):
        warnings.warn(
            f"d_ppc2: Morris's (2008) eq. 25 variance {why}; the SE and the "
            "confidence interval are NaN.",
            RehabStatsWarning,
            stacklevel=3,
        )
    lo, hi = normal_limits(d, se, ci)
    details["r"] = r
    details["var_large_sample"] = 2.0 * (1.0 - r) * k + d * d / (2.0 * n_tot)
    return d, se, scalar(lo), scalar(hi), details


def ppc_smd(
    pre_x: ArrayLike,
    post_x: ArrayLike,
    pre_y: ArrayLike,
    post_y: ArrayLike,
    *,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
) -> EffectSizeResult:
    r"""Morris (2008) :math:`d_{ppc2}` for a pretest-posttest-control design.

    .. math::

        d_{ppc2} = c_P \frac{(\bar{x}_{post,T} - \bar{x}_{pre,T}) -
        (\bar{x}_{post,C} - \bar{x}_{pre,C})}{s_{pre,pooled}},\qquad
        c_P = 1 - \frac{3}{4(n_T + n_C - 2) - 1}

    The variance is Morris's eq. 25,

    .. math::

        \sigma^2 = 2 c_P^2 (1-\rho) \frac{n_T+n_C}{n_T n_C}
        \frac{n_T+n_C-2}{n_T+n_C-4}
        \left(1 + \frac{d^2}{2(1-\rho)(n_T+n_C)/(n_T n_C)}\right) - d^2,

    with :math:`\rho` the pooled within-group pre-post correlation (pooled
    covariance over the root of the pooled pre and post variances, ``n - 1``
    weights); the interval is the Wald interval :math:`d \pm z\sigma`.

    Parameters
    ----------
    pre_x, post_x : array_like
        Treatment group, paired by position.
    pre_y, post_y : array_like
        Control group, paired by position.
    ci : float, optional
        Confidence level.
    nan_policy : {"omit", "raise"}, optional
        Incomplete pairs are dropped per group, counted and announced.

    Returns
    -------
    EffectSizeResult
        ``measure = "d_ppc2"``; ``details`` has ``c_P, sd_pre_pooled, r,
        diff_in_change, var_large_sample``.

    References
    ----------
    Morris SB (2008). Estimating effect sizes from pretest-posttest-control group
    designs. Organ Res Methods 11(2):364-386. doi:10.1177/1094428106291059

    Examples
    --------
    >>> import rehabstats as rs
    >>> res = rs.effect_sizes.ppc_smd([3, 4, 5, 4], [6, 7, 7, 6], [3, 5, 4, 4], [4, 5, 5, 4])
    >>> res.measure
    'd_ppc2'
    """
    ci = check_ci(ci)
    a_pre, a_post, om_x = as_paired_arrays(
        pre_x, post_x, ("pre_x", "post_x"), nan_policy=nan_policy, min_size=2
    )
    b_pre, b_post, om_y = as_paired_arrays(
        pre_y, post_y, ("pre_y", "post_y"), nan_policy=nan_policy, min_size=2
    )
    n_x, n_y = float(a_pre.size), float(b_pre.size)
    m = n_x + n_y - 2.0
    # means, SDs and the correlation without squaring values of size 1e300: each sample is
    # divided by its own power of two (exact) and the correlation is scale-free
    (mx_pre, sx_pre), (mx_post, _) = mean_sd(a_pre), mean_sd(a_post)
    (my_pre, sy_pre), (my_post, _) = mean_sd(b_pre), mean_sd(b_post)
    c_pre = pow2(max(np.abs(a_pre).max(), np.abs(b_pre).max()))
    c_post = pow2(max(np.abs(a_post).max(), np.abs(b_post).max()))
    ap, bp, aq, bq = a_pre / c_pre, b_pre / c_pre, a_post / c_post, b_post / c_post
    var_pre = ((n_x - 1) * ap.var(ddof=1) + (n_y - 1) * bp.var(ddof=1)) / m
    var_post = ((n_x - 1) * aq.var(ddof=1) + (n_y - 1) * bq.var(ddof=1)) / m
    cov = ((n_x - 1) * np.cov(ap, aq)[0, 1] + (n_y - 1) * np.cov(bp, bq)[0, 1]) / m
    r = float(cov / math.sqrt(var_pre * var_post)) if var_pre > 0 and var_post > 0 else None
    d, se, lo, hi, details = _ppc_core(
        mx_pre, mx_post, sx_pre, n_x, my_pre, my_post, sy_pre, n_y, r, ci
    )
    if r is None:
        warnings.warn(
            "d_ppc2: the pooled pre-post correlation is undefined because the "
            "post-test scores are constant in both groups ('post_x', 'post_y'); the "
            "SE and the confidence interval are NaN.",
            RehabStatsWarning,
            stacklevel=2,
        )
    return EffectSizeResult(
        measure="d_ppc2",
        estimate=d,
        se=se,
        ci_low=lo,
        ci_high=hi,
        ci_level=ci,
        ci_method="normal" if r is not None else "none",
        n_x=int(n_x),
        n_y=int(n_y),
        n_omitted=om_x + om_y,
        details=details,
    )


def ppc_smd_from_summary(
    mean_pre_x: float,
    mean_post_x: float,
    sd_pre_x: float,
    n_x: int,
    mean_pre_y: float,
    mean_post_y: float,
    sd_pre_y: float,
    n_y: int,
    *,
    r: float | None = None,
    ci: float = 0.95,
) -> EffectSizeResult:
    r"""Morris (2008) :math:`d_{ppc2}` from group summaries.

    Same estimate and eq. 25 interval as :func:`ppc_smd`; ``r`` is the
    (pooled) pre-post correlation. Without ``r`` the estimate is returned with
    NaN SE and no interval (``ci_method="none"``), because eq. 25 needs it, and a
    ``RehabStatsWarning`` says so.

    Examples
    --------
    Study 5 of Morris (2008), Table 5 (d_ppc2 = 0.44):

    >>> import rehabstats as rs
    >>> res = rs.effect_sizes.ppc_smd_from_summary(35.6, 36.0, 4.7, 14, 34.8, 33.4, 3.1, 14, r=0.44)
    >>> round(res.estimate, 2)
    0.44
    """
    ci = check_ci(ci)
    vals = {}
    for name, val, kind in (
        ("mean_pre_x", mean_pre_x, "mean"),
        ("mean_post_x", mean_post_x, "mean"),
        ("sd_pre_x", sd_pre_x, "sd"),
        ("n_x", n_x, "n"),
        ("mean_pre_y", mean_pre_y, "mean"),
        ("mean_post_y", mean_post_y, "mean"),
        ("sd_pre_y", sd_pre_y, "sd"),
        ("n_y", n_y, "n"),
    ):
        vals[name] = check_summary(val, name, kind=kind)
    if r is not None:
        rr = check_summary(r, "r", kind="mean")
        if not -1.0 <= rr < 1.0:
            raise DataError(
                f"The 'r' argument is a correlation and must be in [-1, 1); got {show_value(r)}."
            )
    d, se, lo, hi, details = _ppc_core(
        vals["mean_pre_x"],
        vals["mean_post_x"],
        vals["sd_pre_x"],
        vals["n_x"],
        vals["mean_pre_y"],
        vals["mean_post_y"],
        vals["sd_pre_y"],
        vals["n_y"],
        None if r is None else rr,
        ci,
    )
    if r is None:
        warnings.warn(
            "d_ppc2: no pre-post correlation 'r' was given, so the SE and the "
            "confidence interval (Morris 2008 eq. 25) are NaN.",
            RehabStatsWarning,
            stacklevel=2,
        )
    return EffectSizeResult(
        measure="d_ppc2",
        estimate=d,
        se=se,
        ci_low=lo,
        ci_high=hi,
        ci_level=ci,
        ci_method="normal" if r is not None else "none",
        n_x=int(vals["n_x"]),
        n_y=int(vals["n_y"]),
        details=details,
    )
