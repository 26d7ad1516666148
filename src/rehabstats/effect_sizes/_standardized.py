"""Standardized mean differences: Cohen's d, Hedges' g, Glass's delta.

Definitions and intervals follow R's effectsize 0.8.3 (``cohens_d``,
``hedges_g``, ``glass_delta``):

* pooled: ``d = (mean_x - mean_y) / s_p``, ``t = d / sqrt(hn)``,
  ``hn = 1/n_x + 1/n_y``, ``df = n_x + n_y - 2``;
* unpooled (``pooled_sd=False``): ``s = sqrt((s_x^2 + s_y^2) / 2)``,
  ``hn = 2 (n_y s_x^2 + n_x s_y^2) / (n_x n_y (s_x^2 + s_y^2))`` and the Welch df;
* Glass: ``s = s_y`` (control), ``hn = 1/n_y + s_x^2 / (n_x s_y^2)``, ``df = n_y - 1``;
* paired: ``d = mean(x - y) / sd(x - y)`` (d_z), ``hn = 1/n``, ``df = n - 1``;
* Hedges' g multiplies d and both limits by the exact J(df).

The interval is the noncentral-t interval on ``t`` rescaled by ``sqrt(hn)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._axis import batch_axis
from .._batch_results import BatchEffectSizeResult
from .._results import EffectSizeResult
from .._validate import (
    NanPolicy,
    as_float_array,
    as_paired_arrays,
    check_ci,
    check_nan_policy,
    check_option,
    show_value,
)
from ..errors import DataError
from ._common import check_summary, hedges_j, mean_sd, pow2, scalar
from ._intervals import _ncp_limits

__all__ = [
    "_hedges_g_core",
    "_paired_smd_core",
    "_smd_core",
    "cohens_d",
    "glass_delta",
    "hedges_g",
    "smd_from_summary",
    "smd_from_t",
]

_Arrays = dict[str, NDArray[np.float64]]


def _smd_core(
    mean_x: ArrayLike,
    sd_x: ArrayLike,
    n_x: ArrayLike,
    mean_y: ArrayLike,
    sd_y: ArrayLike,
    n_y: ArrayLike,
    *,
    kind: str = "d",
    pooled: bool = True,
    ci: float = 0.95,
) -> _Arrays:
    """Vectorised two-sample standardized mean difference from summaries.

    ``kind`` is ``"d"``, ``"g"`` or ``"delta"``. All inputs broadcast; returns a
    dict of arrays: ``estimate, se, ci_low, ci_high, t, df, hn, J, sd``. No
    input checks: callers validate (this is the batch layer).
    """
    mx, sx, nx = (np.asarray(a, dtype=float) for a in (mean_x, sd_x, n_x))
    my, sy, ny = (np.asarray(a, dtype=float) for a in (mean_y, sd_y, n_y))
    # Work in units of a power of two near the largest summary (exact, so ordinary data give
    # bit-identical results) so that no variance of data of size 1e300 overflows.
    unit = pow2(np.maximum.reduce([np.abs(mx), np.abs(my), sx, sy]))
    mx, my, sx, sy = mx / unit, my / unit, sx / unit, sy / unit
    diff = mx - my
    vx, vy = sx**2, sy**2
    if kind == "delta":
        s = sy
        with np.errstate(divide="ignore", invalid="ignore"):
            hn = 1.0 / ny + vx / (nx * vy)
        df = ny - 1.0
        var_const = 2.0 * df
    elif pooled:
        df = nx + ny - 2.0
        s = np.sqrt(((nx - 1.0) * vx + (ny - 1.0) * vy) / df)
        hn = 1.0 / nx + 1.0 / ny
        var_const = 2.0 * (nx + ny)
    else:
        s = np.sqrt((vx + vy) / 2.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            hn = 2.0 * (ny * vx + nx * vy) / (nx * ny * (vx + vy))
            se1, se2 = vx / nx, vy / ny
            df = (se1 + se2) ** 2 / (se1**2 / (nx - 1.0) + se2**2 / (ny - 1.0))
        var_const = 2.0 * df
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = diff / s
        t = d / np.sqrt(hn)
    lo, hi = _ncp_limits(t, df, ci)
    root_hn = np.sqrt(hn)
    lo, hi = lo * root_hn, hi * root_hn
    j = hedges_j(df) if kind == "g" else np.ones_like(d)
    est = d * j
    # Large-sample SE (Hedges & Olkin 1985; metafor's vtype "LS" for the pooled case).
    se = np.hypot(np.sqrt(hn), est / np.sqrt(var_const))  # no overflow for extreme est
    return {
        "estimate": est,
        "se": se,
        "ci_low": lo * j,
        "ci_high": hi * j,
        "t": t,
        "df": _like(np.asarray(df, dtype=float), d),
        "hn": _like(hn, d),
        "J": j,
        "sd": _like(s * unit, d),
        "mean_diff": diff * unit,
    }


def _like(values: ArrayLike, d: NDArray[np.float64]) -> NDArray[np.float64]:
    """``values`` broadcast to the shape of ``d`` (a float array)."""
    return np.array(np.broadcast_to(np.asarray(values, dtype=float), np.shape(d)))


def _hedges_g_core(
    mean_x: ArrayLike,
    sd_x: ArrayLike,
    n_x: ArrayLike,
    mean_y: ArrayLike,
    sd_y: ArrayLike,
    n_y: ArrayLike,
    *,
    ci: float = 0.95,
) -> _Arrays:
    """Vectorised Hedges' g (pooled SD, exact J) with its noncentral-t CI."""
    return _smd_core(mean_x, sd_x, n_x, mean_y, sd_y, n_y, kind="g", pooled=True, ci=ci)


def _paired_smd_core(
    mean_diff: ArrayLike, sd_diff: ArrayLike, n: ArrayLike, *, correction: bool, ci: float
) -> _Arrays:
    """Vectorised d_z = mean(diff) / sd(diff) (x J(n - 1) when ``correction``)."""
    md, sd, nn = (np.asarray(a, dtype=float) for a in (mean_diff, sd_diff, n))
    unit = pow2(np.maximum(np.abs(md), sd))  # exact; avoids overflow at extreme scale
    md, sd = md / unit, sd / unit
    df = nn - 1.0
    hn = 1.0 / nn
    with np.errstate(divide="ignore", invalid="ignore"):
        d = md / sd
        t = d / np.sqrt(hn)
    lo, hi = _ncp_limits(t, df, ci)
    j = hedges_j(df) if correction else np.ones_like(d)
    est = d * j
    root_hn = np.sqrt(hn)
    return {
        "estimate": est,
        # metafor SMCC, vtype "LS": 1/n + yi^2 / (2n)
        "se": np.hypot(np.sqrt(hn), est / np.sqrt(2.0 * nn)),
        "ci_low": lo * root_hn * j,
        "ci_high": hi * root_hn * j,
        "t": t,
        "df": _like(df, d),
        "hn": _like(hn, d),
        "J": j,
        "sd": _like(sd * unit, d),
        "mean_diff": md * unit,
    }


def _two_samples(
    x: Any, y: Any, nan_policy: NanPolicy, paired: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    if paired:
        return as_paired_arrays(x, y, ("x", "y"), nan_policy=nan_policy, min_size=2, stacklevel=5)
    a, na = as_float_array(x, "x", nan_policy=nan_policy, min_size=2, stacklevel=5)
    b, nb = as_float_array(y, "y", nan_policy=nan_policy, min_size=2, stacklevel=5)
    return a, b, na + nb


def _details(out: _Arrays, keys: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    det: dict[str, Any] = {k: scalar(out[k]) for k in keys}
    det.update(extra)
    return det


def _ncp_result(
    measure: str,
    out: _Arrays,
    ci: float,
    *,
    n_x: int,
    n_y: int | None,
    n_omitted: int = 0,
    details: dict[str, Any],
) -> EffectSizeResult:
    """The result of one SMD from a core's ``out`` (estimate, SE, noncentral-t limits):
    one assembly for d, g, Glass's delta, d_z and :func:`smd_from_summary`.
    """
    return EffectSizeResult(
        measure=measure,
        estimate=scalar(out["estimate"]),
        se=scalar(out["se"]),
        ci_low=scalar(out["ci_low"]),
        ci_high=scalar(out["ci_high"]),
        ci_level=ci,
        ci_method="ncp",
        n_x=n_x,
        n_y=n_y,
        n_omitted=n_omitted,
        details=details,
    )


def _standardized(
    x: Any,
    y: Any,
    *,
    kind: str,
    ci: float,
    pooled_sd: bool,
    paired: bool,
    nan_policy: NanPolicy,
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    ci = check_ci(ci)
    if not isinstance(pooled_sd, (bool, np.bool_)):
        raise DataError(
            f"The 'pooled_sd' argument must be True or False; got {show_value(pooled_sd)}."
        )
    if not isinstance(paired, (bool, np.bool_)):
        raise DataError(f"The 'paired' argument must be True or False; got {show_value(paired)}.")
    measure = {"d": "cohens_d", "g": "hedges_g", "delta": "glass_delta"}[kind]
    (x, y), batch = batch_axis([x, y], axis)
    if batch is not None:
        from ._batch import run_batch, standardized_kernel

        check_nan_policy(nan_policy)
        constants: dict[str, Any] = (
            {"paired": True, "standardizer": "sd of the differences (d_z)"}
            if paired
            else {
                "paired": False,
                "pooled_sd": bool(pooled_sd) if kind != "delta" else False,
                "standardizer": "sd of y (control)"
                if kind == "delta"
                else "pooled sd"
                if pooled_sd
                else "root mean of the two variances",
            }
        )
        return run_batch(
            measure,
            [x, y],
            ("x", "y"),
            axis=batch,
            paired=bool(paired),
            nan_policy=nan_policy,
            kernel=standardized_kernel(kind, bool(pooled_sd), bool(paired), ci),
            one_sample=lambda a, b: _standardized(
                a, b, kind=kind, ci=ci, pooled_sd=pooled_sd, paired=paired, nan_policy=nan_policy
            ),
            ci_level=ci,
            ci_method="ncp",
            constants=constants,
        )
    a, b, n_omitted = _two_samples(x, y, nan_policy, bool(paired))
    if paired:
        with np.errstate(over="ignore"):
            diff = a - b
        if not np.isfinite(diff).all():
            raise DataError(
                f"The paired differences 'x' - 'y' overflow double precision "
                f"(values up to {show_value(max(np.abs(a).max(), np.abs(b).max()))})."
            )
        m_diff, sd = mean_sd(diff)
        if sd == 0.0:
            raise DataError(
                f"{measure} is undefined: the paired differences x - y have zero variance "
                f"(all equal to {show_value(diff[0])}), so there is no SD to standardise by."
            )
        out = _paired_smd_core(m_diff, sd, diff.size, correction=kind == "g", ci=ci)
        _check_finite_out(out, measure)
        return _ncp_result(
            measure,
            out,
            ci,
            n_x=int(diff.size),
            n_y=None,
            n_omitted=n_omitted,
            details=_details(
                out,
                ("df", "t", "J", "sd", "mean_diff"),
                paired=True,
                standardizer="sd of the differences (d_z)",
            ),
        )
    (mx, sx), (my, sy) = mean_sd(a), mean_sd(b)  # no overflow at extreme scale
    if kind == "delta" and sy == 0.0:
        raise DataError(
            "glass_delta is undefined: 'y' (the control group) has zero variance, so its SD "
            "cannot standardise the difference."
        )
    if kind != "delta" and sx == 0.0 and sy == 0.0:
        raise DataError(
            f"{measure} is undefined: both 'x' and 'y' have zero variance (constant values), "
            "so the standardiser is zero."
        )
    out = _smd_core(mx, sx, a.size, my, sy, b.size, kind=kind, pooled=bool(pooled_sd), ci=ci)
    _check_finite_out(out, measure)
    standardizer = (
        "sd of y (control)"
        if kind == "delta"
        else "pooled sd"
        if pooled_sd
        else "root mean of the two variances"
    )
    extra: dict[str, Any] = {
        "paired": False,
        "pooled_sd": bool(pooled_sd) if kind != "delta" else False,
        "standardizer": standardizer,
    }
    if kind == "g" and pooled_sd:
        m = scalar(out["df"])
        j = scalar(out["J"])
        g = scalar(out["estimate"])
        # metafor escalc(SMD, vtype = "UB"): unbiased variance estimate (Hedges 1983).
        extra["var_unbiased"] = float(
            scalar(out["hn"]) + (1.0 - (m - 2.0) / (m * j**2)) * np.square(g)
        )
    return _ncp_result(
        measure,
        out,
        ci,
        n_x=int(a.size),
        n_y=int(b.size),
        n_omitted=n_omitted,
        details=_details(out, ("df", "t", "J", "hn", "sd", "mean_diff"), **extra),
    )


def _check_finite_out(out: _Arrays, measure: str, names: str = "'x' and 'y'") -> None:
    """Finite summaries must give finite results; say so when double precision cannot."""
    if not all(np.isfinite(out[k]).all() for k in ("estimate", "se", "ci_low", "ci_high")):
        raise DataError(
            f"{measure} cannot be computed in double precision for these data: the mean "
            f"difference ({show_value(scalar(out['mean_diff']))}) and the spread of {names} "
            "differ by too many orders of magnitude."
        )


def cohens_d(
    x: ArrayLike,
    y: ArrayLike,
    *,
    ci: float = 0.95,
    pooled_sd: bool = True,
    paired: bool = False,
    nan_policy: NanPolicy = "omit",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    r"""Cohen's d for two samples, with the noncentral-t confidence interval.

    Parameters
    ----------
    x, y : array_like
        Treatment and control observations (``y`` is subtracted from ``x``).
    ci : float, optional
        Confidence level, strictly between 0 and 1.
    pooled_sd : bool, optional
        Standardise by the pooled SD (default). ``False`` uses
        :math:`\sqrt{(s_x^2 + s_y^2)/2}` with a Welch-df interval, as effectsize.
    paired : bool, optional
        ``True`` gives :math:`d_z = \bar{D} / s_D` of the differences ``x - y``.
    nan_policy : {"omit", "raise"}, optional
        Missing values are dropped (pairs dropped whole when ``paired``),
        counted in ``n_omitted`` and announced with a ``RehabStatsWarning``.
    axis : int or None, optional
        Axis of the inputs that holds the observations when an input has two or
        more dimensions (scipy's rule, as ``scipy.stats.ttest_ind``: default 0,
        length-1 axes prepended so the inputs have the same number of dimensions,
        every other axis broadcast). The result is then a
        :class:`~rehabstats._batch_results.BatchEffectSizeResult` of arrays whose
        element ``i`` equals this function called on element ``i`` (missing values
        dropped per element under ``nan_policy``; an element whose one-sample call
        raises, e.g. constant data, is NaN and named in one ``RehabStatsWarning``).
        ``None`` ravels each input into one sample. One-dimensional input (or a
        one-column DataFrame) gives the same :class:`EffectSizeResult` as before.

    Returns
    -------
    EffectSizeResult or BatchEffectSizeResult
        ``details`` holds ``df``, ``t``, ``sd`` (the standardiser) and ``mean_diff``
        (one array per key for a batch).

    Raises
    ------
    DataError
        Fewer than two observations per group, non-numeric values, a zero
        standardiser (constant data), or ``ci`` outside (0, 1).

    Notes
    -----
    Pooled: :math:`d = (\bar{x} - \bar{y}) / s_p`, :math:`t = d / \sqrt{1/n_x + 1/n_y}`,
    :math:`df = n_x + n_y - 2`. The limits are the noncentrality parameters at
    which the observed t is the upper/lower :math:`\alpha/2` quantile of the
    noncentral t, times :math:`\sqrt{1/n_x + 1/n_y}` (Steiger & Fouladi 1997),
    the interval of R's ``effectsize::cohens_d`` solved to ~1e-12.
    The SE is the large-sample :math:`\sqrt{1/n_x + 1/n_y + d^2/(2(n_x+n_y))}`
    (Hedges & Olkin 1985); unpooled and Glass use ``2 df`` in the last term and
    paired uses :math:`\sqrt{1/n + d^2/(2n)}`.

    References
    ----------
    Cohen J (1988). *Statistical Power Analysis for the Behavioral Sciences*.
    Steiger JH, Fouladi RT (1997). Noncentrality interval estimation.
    Ben-Shachar MS, Lüdecke D, Makowski D (2020). effectsize. JOSS 5(56):2815.
    doi:10.21105/joss.02815

    Examples
    --------
    >>> import rehabstats as rs
    >>> res = rs.effect_sizes.cohens_d([5, 6, 7, 8, 9], [3, 4, 5, 6, 7])
    >>> round(res.estimate, 4)
    1.2649
    >>> import numpy as np
    >>> x = np.array([[5, 6, 7, 8, 9], [2, 4, 3, 6, 5]])  # two pairs of samples, one per row
    >>> y = np.array([[3, 4, 5, 6, 7], [1, 3, 2, 2, 4]])
    >>> batch = rs.effect_sizes.cohens_d(x, y, axis=1)
    >>> batch.shape, round(float(batch.estimate[0]), 4), round(batch[1].ci_low, 4)
    ((2,), 1.2649, -0.2286)
    """
    return _standardized(
        x, y, kind="d", ci=ci, pooled_sd=pooled_sd, paired=paired, nan_policy=nan_policy, axis=axis
    )


def hedges_g(
    x: ArrayLike,
    y: ArrayLike,
    *,
    ci: float = 0.95,
    paired: bool = False,
    pooled_sd: bool = True,
    nan_policy: NanPolicy = "omit",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    r"""Hedges' g: Cohen's d times the exact small-sample correction J(df).

    :math:`J(m) = \Gamma(m/2) / (\sqrt{m/2}\,\Gamma((m-1)/2))` with the df of
    the corresponding d (``n_x + n_y - 2``; ``n - 1`` when ``paired``; Welch df
    when ``pooled_sd=False``). Both confidence limits are multiplied by the same
    J, as in ``effectsize::hedges_g`` 0.8.3. The SE equals metafor's
    ``escalc(measure = "SMD", vtype = "LS")``; ``details["var_unbiased"]`` is
    its ``vtype = "UB"`` variance.

    Parameters (``axis=`` batches included) and errors are those of :func:`cohens_d`.

    References
    ----------
    Hedges LV (1981). Distribution theory for Glass's estimator of effect size.
    J Educ Stat 6(2):107-128. doi:10.3102/10769986006002107

    Examples
    --------
    >>> import rehabstats as rs
    >>> res = rs.effect_sizes.hedges_g([5, 6, 7, 8, 9], [3, 4, 5, 6, 7])
    >>> round(res.estimate, 4)
    1.1418
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> g = rs.effect_sizes.hedges_g(rng.normal(1, 1, (1000, 10)), rng.normal(0, 1, (1000, 10)),
    ...                              axis=1)  # 1,000 pairs of 10 vs 10, with CIs
    >>> g.shape, bool(np.all(g.ci_low < g.estimate))
    ((1000,), True)
    """
    return _standardized(
        x, y, kind="g", ci=ci, pooled_sd=pooled_sd, paired=paired, nan_policy=nan_policy, axis=axis
    )


def glass_delta(
    x: ArrayLike,
    y: ArrayLike,
    *,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    r"""Glass's delta: the mean difference standardised by the SD of ``y`` (control).

    :math:`\Delta = (\bar{x} - \bar{y}) / s_y`; the interval is effectsize's
    noncentral-t interval with :math:`t = (\bar x - \bar y) / (s_y \sqrt{h})`,
    :math:`h = 1/n_y + s_x^2 / (n_x s_y^2)` and :math:`df = n_y - 1`.

    Raises
    ------
    DataError
        When ``y`` is constant (zero SD), and for the input problems of
        :func:`cohens_d`.

    ``nan_policy`` and ``axis`` (batches of samples) are as in :func:`cohens_d`.

    References
    ----------
    Glass GV (1976). Primary, secondary, and meta-analysis of research.
    Educ Res 5(10):3-8. doi:10.3102/0013189X005010003

    Examples
    --------
    >>> import rehabstats as rs
    >>> res = rs.effect_sizes.glass_delta([5, 6, 7, 8, 9], [3, 4, 5, 6, 7])
    >>> round(res.estimate, 4)
    1.2649
    >>> import numpy as np
    >>> batch = rs.effect_sizes.glass_delta(np.array([[5, 6, 7, 8, 9]]).T,
    ...                                     np.array([[3, 4, 5, 6, 7]]).T)  # axis=0
    >>> round(float(batch.estimate[0]), 4)
    1.2649
    """
    return _standardized(
        x, y, kind="delta", ci=ci, pooled_sd=True, paired=False, nan_policy=nan_policy, axis=axis
    )


def smd_from_summary(
    mean_x: float,
    sd_x: float,
    n_x: int,
    mean_y: float,
    sd_y: float,
    n_y: int,
    *,
    correction: str = "hedges",
    ci: float = 0.95,
) -> EffectSizeResult:
    r"""Standardized mean difference (pooled SD) from group means, SDs and sizes.

    Parameters
    ----------
    mean_x, sd_x, n_x, mean_y, sd_y, n_y : float
        Summary statistics of treatment (x) and control (y); ``n >= 2``.
    correction : {"hedges", "none"}, optional
        ``"hedges"`` (default) returns Hedges' g with the exact J(n_x + n_y - 2);
        ``"none"`` returns Cohen's d.
    ci : float, optional
        Confidence level.

    Returns
    -------
    EffectSizeResult
        Identical to :func:`hedges_g` / :func:`cohens_d` on the raw data; the SE is
        metafor's ``escalc("SMD")`` large-sample SE.

    Examples
    --------
    >>> import rehabstats as rs
    >>> res = rs.effect_sizes.smd_from_summary(7, 1.5811, 5, 5, 1.5811, 5)
    >>> round(res.estimate, 3)
    1.142
    """
    ci = check_ci(ci)
    check_option(correction, "correction", ("hedges", "none"))
    mx = check_summary(mean_x, "mean_x", kind="mean")
    sx = check_summary(sd_x, "sd_x", kind="sd")
    nx = check_summary(n_x, "n_x", kind="n")
    my = check_summary(mean_y, "mean_y", kind="mean")
    sy = check_summary(sd_y, "sd_y", kind="sd")
    ny = check_summary(n_y, "n_y", kind="n")
    if sx == 0 and sy == 0:
        raise DataError(
            "The standardized mean difference is undefined: 'sd_x' and 'sd_y' are both zero."
        )
    kind = "g" if correction == "hedges" else "d"
    out = _smd_core(mx, sx, nx, my, sy, ny, kind=kind, pooled=True, ci=ci)
    _check_finite_out(
        out, "the standardized mean difference", "'mean_x'/'mean_y' and 'sd_x'/'sd_y'"
    )
    return _ncp_result(
        "hedges_g" if kind == "g" else "cohens_d",
        out,
        ci,
        n_x=int(nx),
        n_y=int(ny),
        details=_details(out, ("df", "t", "J", "hn", "sd", "mean_diff"), pooled_sd=True),
    )


def smd_from_t(t: float, n_x: int, n_y: int | None = None, *, ci: float = 0.95) -> EffectSizeResult:
    r"""Cohen's d from a t statistic (two-sample pooled, or one-sample/paired).

    Two samples: :math:`d = t\sqrt{1/n_x + 1/n_y}` with ``df = n_x + n_y - 2``;
    one sample or paired (``n_y=None``): :math:`d = t / \sqrt{n}` with
    ``df = n - 1`` (d_z). The CI is the noncentral-t interval on ``t``, so the
    result equals :func:`cohens_d` on the data that gave ``t``. (effectsize's
    ``t_to_d`` uses the approximation ``2t/sqrt(df)`` instead; this is exact.)

    Examples
    --------
    >>> import rehabstats as rs
    >>> round(rs.effect_sizes.smd_from_t(2.0, 5, 5).estimate, 4)
    1.2649
    """
    ci = check_ci(ci)
    tt = check_summary(t, "t", kind="mean")
    if n_y is None:
        n = check_summary(n_x, "n_x", kind="n")
        df, hn = n - 1.0, 1.0 / n
        nx_i, ny_i = int(n), None
    else:
        nx = check_summary(n_x, "n_x", kind="n")
        ny = check_summary(n_y, "n_y", kind="n")
        df, hn = nx + ny - 2.0, 1.0 / nx + 1.0 / ny
        nx_i, ny_i = int(nx), int(ny)
    lo, hi = _ncp_limits(tt, df, ci)
    d = tt * math.sqrt(hn)
    n_tot = 1.0 / hn if n_y is None else float(nx_i + (ny_i or 0))
    se = math.hypot(math.sqrt(hn), d / math.sqrt(2.0 * n_tot))  # no overflow for huge t
    return EffectSizeResult(
        measure="cohens_d",
        estimate=d,
        se=se,
        ci_low=scalar(lo) * math.sqrt(hn),
        ci_high=scalar(hi) * math.sqrt(hn),
        ci_level=ci,
        ci_method="ncp",
        n_x=nx_i,
        n_y=ny_i,
        details={"df": df, "t": tt, "hn": hn, "paired": n_y is None},
    )
