"""Parametric single-case indices: SMD, LRRd/LRRi, LOR, LRM and PoGO.

Formulas follow SingleCaseES 0.7.4 (Pustejovsky et al.); every function takes
the baseline (A) and treatment (B) observations and returns an
:class:`~rehabstats._results.EffectSizeResult` with ``n_x`` = treatment n and
``n_y`` = baseline n. Cores (``_*_core``) accept 2-D arrays of many series with
equal phase lengths (one series per row).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal

import numpy as np
from scipy import stats

from .._axis import batch_axis
from .._batch_results import BatchEffectSizeResult
from .._results import EffectSizeResult
from .._validate import check_option
from ..errors import DataError, RehabStatsWarning
from ._axis import BatchCore, BatchCoreResult, normal_interval, sced_batch
from ._common import as_phase_arrays, check_optional_ci, make_result, zcrit
from ._common import sd as _sd

__all__ = ["lor", "lrm", "lrrd", "lrri", "pogo", "smd"]

Scale = Literal["count", "rate", "proportion", "percentage", "other"]
_SCALES = ("count", "rate", "proportion", "percentage", "other")


def _mean_var(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row means and sample variances (NaN variance for a single observation, as R's var)."""
    k = x.shape[1]
    mean = x.mean(axis=1)
    if k < 2:
        return mean, np.full(x.shape[0], np.nan)
    return mean, x.var(axis=1, ddof=1)


def _warn_short(a: np.ndarray, b: np.ndarray, measure: str, stacklevel: int = 3) -> bool:
    """Warn (as SingleCaseES does) when a phase has fewer than 2 observations.

    ``stacklevel`` 3 names the caller of the index function that calls this one.
    """
    short = [name for name, x in (("baseline", a), ("treatment", b)) if x.size < 2]
    if short:
        warnings.warn(
            f"The {' and '.join(short)} phase has fewer than 2 observations: the {measure} "
            "variance cannot be estimated (standard error and possibly estimate are NaN).",
            RehabStatsWarning,
            stacklevel=stacklevel,
        )
    return bool(short)


def _pow2_scale(*blocks: np.ndarray) -> np.ndarray:
    """Per-row power of two near the largest |value| (1 when all are 0).

    Dividing by a power of two is exact, so standardising by it changes no digit
    at ordinary scales, while data of magnitude 1e300 (or 1e-300) no longer
    overflow (underflow) when squared.
    """
    big = np.max(np.concatenate([np.abs(x) for x in blocks], axis=1), axis=1)
    _, expo = np.frexp(np.where(big > 0, big, 1.0))
    return np.ldexp(1.0, expo)


def _check_range(a: np.ndarray, b: np.ndarray, measure: str, scale: str) -> None:
    """Values outside the range of the measurement scale raise a DataError naming the phase
    ('baseline' or 'treatment'), the position and the value.
    """
    upper = {"percentage": 100.0, "proportion": 1.0}.get(scale, math.inf)
    for name, values in (("baseline", a), ("treatment", b)):
        bad = (values < 0) | (values > upper)
        if bad.any():
            rng = f"between 0 and {upper:g}" if math.isfinite(upper) else "0 or more"
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{measure} with scale={scale!r} needs values {rng} (a ratio scale); "
                f"'{name}' has {float(values[pos])!r} at position {pos}."
            )


def _normal_ci(
    est: np.ndarray, se: np.ndarray, level: float | None
) -> tuple[np.ndarray, np.ndarray]:
    if level is None:
        nan = np.full_like(est, np.nan)
        return nan, nan
    z = zcrit(level)
    with np.errstate(invalid="ignore"):
        return est - z * se, est + z * se


def _normal_result(
    measure: str,
    est: np.ndarray,
    se: np.ndarray,
    level: float | None,
    a: np.ndarray,
    b: np.ndarray,
    omitted: int,
    *,
    details: dict[str, Any],
    reason: str,
    warn: bool,
    stacklevel: int = 4,
) -> EffectSizeResult:
    """The one-series result of SMD, LRR, LOR, LRM and PoGO: the estimate ``est[0]``, its
    standard error and normal interval ``est -/+ z se`` (none when ``level`` is None).

    One assembly for the five indices, so that they report intervals and warn alike.
    ``stacklevel`` 4 (make_result, this helper, the index function) names the caller of
    the index function that calls this one.
    """
    lo, hi = _normal_ci(est, se, level)
    return make_result(
        measure,
        est[0],
        se=se[0],
        ci=(lo[0], hi[0]) if level is not None else None,
        ci_level=level,
        ci_method="normal",
        n_baseline=a.size,
        n_treatment=b.size,
        n_omitted=omitted,
        details=details,
        reason=reason,
        warn=warn,
        stacklevel=stacklevel,
    )


# --------------------------------------------------------------------------- SMD


def _smd_core(
    a: np.ndarray, b: np.ndarray, improvement: str, standardizer: str, bias_correct: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = a.shape[1], b.shape[1]
    # The SMD is scale free: standardise by a power of two first, so that squaring
    # data of magnitude 1e300 does not overflow (nor 1e-300 underflow).
    unit = _pow2_scale(a, b)
    ma = _mean_var(a / unit[:, None])[0]
    mb = _mean_var(b / unit[:, None])[0]
    # each phase's SD in its own power-of-two unit, then in the common one: a phase far
    # smaller than the other (baseline ~1, treatment ~1e300) keeps its SD instead of a
    # variance that underflows to 0; no variance or squared ratio is formed below
    ua, ub = _pow2_scale(a), _pow2_scale(b)
    sa = np.sqrt(_mean_var(a / ua[:, None])[1]) * (ua / unit)
    sb = np.sqrt(_mean_var(b / ub[:, None])[1]) * (ub / unit)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if standardizer == "baseline":
            df = m - 1
            s = sa
            sv1 = np.hypot(1 / math.sqrt(m), sb / sa / math.sqrt(n))  # sqrt(1/m + sB^2/(n sA^2))
        else:
            df = m + n - 2
            s = np.hypot(
                np.nan_to_num(math.sqrt(m - 1) * sa), np.nan_to_num(math.sqrt(n - 1) * sb)
            ) / math.sqrt(df)
            sv1 = np.full_like(ma, math.sqrt(1 / m + 1 / n))
        j = 1 - 3 / (4 * df - 1) if bias_correct else 1.0
        d = j * (mb - ma) / s
        if improvement == "decrease":
            d = -d
        se = j * np.hypot(sv1, d / math.sqrt(2 * df))
    return d, se, s * unit


def smd(
    baseline: Any,
    treatment: Any,
    *,
    improvement: str = "increase",
    standardizer: Literal["baseline", "pooled"] = "baseline",
    bias_correct: bool = True,
    ci: float | None = 0.95,
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    """Within-case standardized mean difference (Busk & Serlin 1992; Pustejovsky 2015).

    ``d = J (mean_B - mean_A) / s`` with ``s`` the baseline SD
    (``standardizer="baseline"``, SingleCaseES ``std_dev = "baseline"``,
    ``df = n_A - 1``) or the pooled SD (``"pooled"``, ``df = n_A + n_B - 2``),
    and Hedges' correction ``J = 1 - 3 / (4 df - 1)`` when ``bias_correct``.
    ``SE = J sqrt(V1 + d^2 / (2 df))`` with ``V1 = 1/n_A + s_B^2/(n_B s_A^2)``
    (baseline) or ``1/n_A + 1/n_B`` (pooled); normal interval ``d -/+ z SE``.

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases in session order.
    improvement : {"increase", "decrease"}
        ``"decrease"`` reverses the sign.
    standardizer : {"baseline", "pooled"}
        Which SD scales the difference.
    bias_correct : bool
        Apply Hedges' small-sample correction.
    ci : float or None
        Confidence level; ``None`` for none.

    axis : int or None, optional
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

    Returns
    -------
    EffectSizeResult
        ``measure="smd"``, ``ci_method="normal"``; ``details["sd"]`` is the
        standardizer. A zero SD gives an infinite or NaN estimate (as
        SingleCaseES) and a :class:`~rehabstats.errors.RehabStatsWarning`.

    Notes
    -----
    The data are divided by a power of two near their largest magnitude before
    the variances are formed (exact, and the SMD does not depend on the unit),
    so outcomes of any magnitude (1e300, 1e-300) give the same SMD as at unit
    scale.

    References
    ----------
    Pustejovsky, J. E. (2015). Measurement-comparable effect sizes for
    single-case studies of free-operant behavior. *Psychological Methods*,
    20(3), 342-359. doi:10.1037/met0000019

    Examples
    --------
    >>> from rehabstats.sced import smd
    >>> round(smd([20, 20, 26, 25, 22, 23], [28, 25, 24, 27, 30, 30, 29]).estimate, 4)
    1.6499
    >>> import numpy as np
    >>> batch = smd(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == smd([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch(
            "smd",
            baseline,
            treatment,
            axis=batch,
            improvement=improvement,
            standardizer=standardizer,
            bias_correct=bias_correct,
            ci=ci,
        )
    standardizer = check_option(standardizer, "standardizer", ("baseline", "pooled"))
    bias_correct = check_option(bias_correct, "bias_correct", (True, False))
    level = check_optional_ci(ci)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    short = _warn_short(a, b, "SMD")
    d, se, sd = _smd_core(a[None, :], b[None, :], improvement, standardizer, bias_correct)
    return _normal_result(
        "smd",
        d,
        se,
        level,
        a,
        b,
        omitted,
        details={"sd": float(sd[0]), "standardizer": standardizer, "bias_correct": bias_correct},
        reason=f"the {standardizer} standard deviation is 0: the outcome does not vary, so "
        "the SMD is not defined",
        warn=not short or sd[0] == 0,
    )


# --------------------------------------------------------------------------- LRR / LOR


def _trunc_constant(scale: str, observation_length: float | None, intervals: float | None) -> float:
    """Truncation constant D of Pustejovsky (2018): count 1, rate = session length,
    proportion = intervals, percentage = intervals / 100; Inf (no truncation) when the
    needed information is missing or the scale is "other".
    """
    if scale == "count":
        return 1.0
    if scale == "rate":
        return math.inf if observation_length is None else float(observation_length)
    if scale == "proportion":
        return math.inf if intervals is None else float(intervals)
    if scale == "percentage":
        return math.inf if intervals is None else float(intervals) / 100
    return math.inf


def _check_lrr_args(
    scale: Any, intervals: Any, observation_length: Any, d_const: Any, bias_correct: Any
) -> tuple[str, float | None, float | None, float | None]:
    scale = check_option(scale, "scale", _SCALES)
    check_option(bias_correct, "bias_correct", (True, False))
    out: list[float | None] = []
    for name, val in (
        ("intervals", intervals),
        ("observation_length", observation_length),
        ("d_const", d_const),
    ):
        if val is None or (isinstance(val, float) and math.isnan(val)):
            out.append(None)
            continue
        if (
            isinstance(val, bool)
            or not isinstance(val, (int, float, np.integer, np.floating))
            or not float(val) > 0
        ):
            raise DataError(
                f"The '{name}' argument must be a positive number or None; got {val!r}."
            )
        out.append(float(val))
    return scale, out[0], out[1], out[2]


def _lrr_core(
    a: np.ndarray,
    b: np.ndarray,
    *,
    version: str,
    improvement: str,
    scale: str,
    d_const: float,
    bias_correct: bool,
) -> tuple[np.ndarray, np.ndarray]:
    m, n = a.shape[1], b.shape[1]
    dc: float | np.ndarray = d_const
    if scale not in ("percentage", "proportion"):
        # The LRR is scale free: work in units of a power of two near the largest
        # value (exact), with the truncation constant rescaled to match, so that
        # counts of magnitude 1e300 do not overflow when squared.
        unit = _pow2_scale(a, b)
        a, b = a / unit[:, None], b / unit[:, None]
        dc = d_const * unit
    ma, va = _mean_var(a)
    mb, vb = _mean_var(b)
    mean = np.stack([ma, mb])
    var = np.stack([va, vb])
    nn = np.array([[m], [n]], float)
    flip_scale = "increase" if version == "d" else "decrease"
    if improvement == flip_scale:
        if scale == "percentage":
            mean = 100 - mean
        elif scale == "proportion":
            mean = 1 - mean
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if d_const > 0:
            mean = np.maximum(1 / (2 * dc * nn), mean)
            var = np.maximum(1 / (dc**2 * nn**3), var)
        if bias_correct:
            bc = np.log(mean) + var / (2 * nn * mean**2)
        else:
            bc = np.log(mean)
        lrr = bc[1] - bc[0]
        if improvement == flip_scale and scale not in ("percentage", "proportion"):
            lrr = -lrr
        se = np.sqrt(np.sum(var / (nn * mean**2), axis=0))
    return lrr, se


def _lrr(
    version: str,
    baseline: Any,
    treatment: Any,
    *,
    improvement: str,
    scale: Any,
    intervals: Any,
    observation_length: Any,
    d_const: Any,
    bias_correct: Any,
    ci: Any,
) -> EffectSizeResult:
    """The one-series LRRd (``version="d"``) or LRRi (``"i"``): the body of :func:`lrrd` and
    :func:`lrri`, which differ only in the version and the default improvement.
    """
    scale, intervals, observation_length, d_user = _check_lrr_args(
        scale, intervals, observation_length, d_const, bias_correct
    )
    level = check_optional_ci(ci)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement, stacklevel=5)
    _check_range(a, b, f"LRR{version}", scale)
    short = _warn_short(a, b, "LRR", stacklevel=4)  # lrrd/lrri -> _lrr -> _warn_short
    dc = d_user if d_user is not None else _trunc_constant(scale, observation_length, intervals)
    est, se = _lrr_core(
        a[None, :],
        b[None, :],
        version=version,
        improvement=improvement,
        scale=scale,
        d_const=dc,
        bias_correct=bool(bias_correct),
    )
    lo, hi = _normal_ci(est, se, level)  # for the interval of pct_change
    pct = {"pct_change": float(100 * np.expm1(est[0]))}
    if level is not None:
        pct.update(
            {
                "pct_change_ci_low": float(100 * np.expm1(lo[0])),
                "pct_change_ci_high": float(100 * np.expm1(hi[0])),
            }
        )
    return _normal_result(
        f"lrr{version}",
        est,
        se,
        level,
        a,
        b,
        omitted,
        details={"scale": scale, "d_const": dc, "bias_correct": bool(bias_correct), **pct},
        reason="a phase mean is 0 and no truncation constant applies (scale='other', or the "
        "intervals / observation_length are missing); give d_const or the scale "
        "information to truncate the means",
        warn=not short,
        stacklevel=5,  # one frame deeper than the other indices: lrrd/lrri -> _lrr
    )


_LRR_DOC = """
    The log response ratio compares phase means on the log scale,
    ``LRR = log(mean_B) - log(mean_A)``, with the delta-method bias correction
    ``log(M) + V / (2 n M^2)`` per phase when ``bias_correct`` (Pustejovsky,
    2018). Means are truncated below at ``1 / (2 D n)`` and variances at
    ``1 / (D^2 n^3)``, with ``D`` = 1 for counts, the session length for
    rates, the number of intervals for proportions and intervals / 100 for
    percentages (Inf: no truncation, for "other" or when the information is
    missing), unless ``d_const`` is given. The outcome must be on a ratio scale:
    negative values (and percentages above 100, proportions above 1) raise a
    :class:`~rehabstats.errors.DataError`; a zero phase mean without truncation
    gives an infinite LRR with a :class:`~rehabstats.errors.RehabStatsWarning`.
    Count, rate and "other" data are handled in units of a power of two near
    their largest value (exact), so magnitudes such as 1e300 do not overflow. ``SE = sqrt(sum V / (n M^2))``,
    normal interval. LRRi is oriented so that positive values are
    improvements, LRRd so that negative values are; for percentages and
    proportions the complement ``100 - M`` (``1 - M``) is used when the
    direction does not match (so LRRd and LRRi differ in magnitude too).

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases in session order.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.
    scale : {"count", "rate", "proportion", "percentage", "other"}
        Measurement scale of the outcome.
    intervals : float, optional
        Intervals per session (interval recording; percentages/proportions).
    observation_length : float, optional
        Session length in minutes (rates).
    d_const : float, optional
        Truncation constant overriding the one derived from the scale.
    bias_correct : bool
        Apply the bias correction.
    ci : float or None
        Confidence level; ``None`` for none.

    axis : int or None, optional
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

    Returns
    -------
    EffectSizeResult
        ``details`` holds ``pct_change = 100 (exp(LRR) - 1)`` and its interval
        (SingleCaseES ``pct_change = TRUE``) and the truncation constant.

    References
    ----------
    Pustejovsky, J. E. (2018). Using response ratios for meta-analyzing
    single-case designs with behavioral outcomes. *Journal of School
    Psychology*, 68, 99-112. doi:10.1016/j.jsp.2018.02.003
"""


def lrrd(
    baseline: Any,
    treatment: Any,
    *,
    improvement: str = "decrease",
    scale: Scale = "count",
    intervals: float | None = None,
    observation_length: float | None = None,
    d_const: float | None = None,
    bias_correct: bool = True,
    ci: float | None = 0.95,
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    options: dict[str, Any] = {  # the same options go to the batch driver and to _lrr
        "improvement": improvement,
        "scale": scale,
        "intervals": intervals,
        "observation_length": observation_length,
        "d_const": d_const,
        "bias_correct": bias_correct,
        "ci": ci,
    }
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch("lrrd", baseline, treatment, axis=batch, **options)
    return _lrr("d", baseline, treatment, **options)


def lrri(
    baseline: Any,
    treatment: Any,
    *,
    improvement: str = "increase",
    scale: Scale = "count",
    intervals: float | None = None,
    observation_length: float | None = None,
    d_const: float | None = None,
    bias_correct: bool = True,
    ci: float | None = 0.95,
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    options: dict[str, Any] = {  # the same options go to the batch driver and to _lrr
        "improvement": improvement,
        "scale": scale,
        "intervals": intervals,
        "observation_length": observation_length,
        "d_const": d_const,
        "bias_correct": bias_correct,
        "ci": ci,
    }
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch("lrri", baseline, treatment, axis=batch, **options)
    return _lrr("i", baseline, treatment, **options)


lrrd.__doc__ = (
    'Log response ratio, decreasing version (LRRd; default ``improvement="decrease"`` '
    "as SingleCaseES).\n"
    + _LRR_DOC
    + """
    Examples
    --------
    >>> from rehabstats.sced import lrrd
    >>> round(lrrd([20, 20, 26, 25, 22, 23], [28, 25, 24, 27, 30, 30, 29]).estimate, 4)
    0.1954

    >>> import numpy as np
    >>> batch = lrrd(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == lrrd([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
)
lrri.__doc__ = (
    "Log response ratio, increasing version (LRRi).\n"
    + _LRR_DOC
    + """
    Examples
    --------
    >>> from rehabstats.sced import lrri
    >>> round(lrri([20, 20, 26, 25, 22, 23], [28, 25, 24, 27, 30, 30, 29]).estimate, 4)
    0.1954

    >>> import numpy as np
    >>> batch = lrri(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == lrri([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
)


def lor(
    baseline: Any,
    treatment: Any,
    *,
    improvement: str = "increase",
    scale: Literal["percentage", "proportion"] = "percentage",
    intervals: float | None = None,
    d_const: float | None = None,
    bias_correct: bool = True,
    ci: float | None = 0.95,
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    """Log odds ratio for percentage or proportion outcomes (Pustejovsky, 2015).

    ``LOR = logit(M_B) - logit(M_A)`` with means truncated to
    ``[1/(2 D n), 1 - 1/(2 D n)]`` and variances below at ``1/(D^2 n^3)``
    (``D`` = intervals, Inf without them; percentages are first divided by
    100), bias correction ``(2M - 1) V / (2 n M^2 (1 - M)^2)`` subtracted per
    phase, ``SE = sqrt(sum V / (n M^2 (1 - M)^2))``, normal interval;
    ``improvement="decrease"`` reverses the sign.

    Parameters
    ----------
    baseline, treatment : array_like
        Observations (percentages 0-100 or proportions 0-1).
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.
    scale : {"percentage", "proportion"}
        Scale of the outcome; values outside its range raise a DataError.
    intervals : float, optional
        Number of intervals (items) per session.
    d_const : float, optional
        Truncation constant overriding ``intervals``.
    bias_correct : bool
        Apply the bias correction.
    ci : float or None
        Confidence level.

    axis : int or None, optional
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

    Returns
    -------
    EffectSizeResult
        ``measure="lor"``.

    References
    ----------
    Pustejovsky, J. E. (2015). Measurement-comparable effect sizes for
    single-case studies of free-operant behavior. *Psychological Methods*,
    20(3), 342-359. doi:10.1037/met0000019

    Examples
    --------
    >>> from rehabstats.sced import lor
    >>> res = lor([20, 20, 25, 25, 20, 25], [30, 25, 25, 25, 35, 30, 25], intervals=20)
    >>> round(res.estimate, 4)
    0.2853
    >>> import numpy as np
    >>> batch = lor(np.array([[20, 30, 50, 30], [10, 20, 30, 20]]),
    ...     np.array([[40, 50, 50, 70, 60], [50, 60, 70, 60, 50]]), axis=1, intervals=10)
    >>> batch.shape, bool(batch[1].estimate == lor([10, 20, 30, 20], [50, 60, 70, 60, 50], intervals=10).estimate)
    ((2,), True)
    """
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch(
            "lor",
            baseline,
            treatment,
            axis=batch,
            improvement=improvement,
            scale=scale,
            intervals=intervals,
            d_const=d_const,
            bias_correct=bias_correct,
            ci=ci,
        )
    check_option(scale, "scale", ("percentage", "proportion"))
    sc, intervals, _, d_user = _check_lrr_args(scale, intervals, None, d_const, bias_correct)
    level = check_optional_ci(ci)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    _check_range(a, b, "LOR", sc)
    short = _warn_short(a, b, "LOR")
    dc = d_user if d_user is not None else _trunc_constant(sc, None, intervals)
    est, se = _lor_core(a[None, :], b[None, :], improvement, sc, dc, bool(bias_correct))
    return _normal_result(
        "lor",
        est,
        se,
        level,
        a,
        b,
        omitted,
        details={"scale": sc, "d_const": dc},
        reason="a phase mean is 0 or 100% and no truncation constant applies; give "
        "intervals or d_const to truncate the means",
        warn=not short,
    )


def _lor_core(
    a: np.ndarray, b: np.ndarray, improvement: str, scale: str, d_const: float, bias_correct: bool
) -> tuple[np.ndarray, np.ndarray]:
    if scale == "percentage":
        a, b, d_const = a / 100, b / 100, 100 * d_const
    m, n = a.shape[1], b.shape[1]
    ma, va = _mean_var(a)
    mb, vb = _mean_var(b)
    mean = np.stack([ma, mb])
    var = np.stack([va, vb])
    nn = np.array([[m], [n]], float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tl = 1 / (2 * d_const * nn)
        if d_const > 0:
            mean = np.minimum(1 - tl, np.maximum(tl, mean))
            var = np.maximum(1 / (d_const**2 * nn**3), var)
        log_odds = np.log(mean) - np.log(1 - mean)
        if bias_correct:
            bc = (2 * mean - 1) * var / (2 * nn * mean**2 * (1 - mean) ** 2)
            est = (log_odds - bc)[1] - (log_odds - bc)[0]
        else:
            est = log_odds[1] - log_odds[0]
        if improvement == "decrease":
            est = -est
        se = np.sqrt(np.sum(var / (nn * mean**2 * (1 - mean) ** 2), axis=0))
    return est, se


# --------------------------------------------------------------------------- LRM


def _log_median_stats(x: np.ndarray, delta_method: bool) -> tuple[float, float]:
    n = x.size
    med = float(np.median(x))
    o1 = max(int(np.round(n / 2 - math.sqrt(n))), 1)
    o2 = n - o1 + 1
    p = stats.binom.cdf(o1 - 1, n, 0.5)
    z0 = stats.norm.ppf(1 - p)
    y = np.sort(x)
    lo, hi = y[o1 - 1], y[o2 - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        if delta_method:
            var = ((hi - lo) / (2 * z0 * med)) ** 2  # one ratio: no overflow at 1e300
        else:
            var = ((np.log(hi) - np.log(lo)) / (2 * z0)) ** 2
        return float(np.log(med)), float(var)


def lrm(
    baseline: Any,
    treatment: Any,
    *,
    improvement: str = "increase",
    delta_method: bool = False,
    ci: float | None = 0.95,
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    """Log ratio of medians (Bonett & Price, 2020), as SingleCaseES ``LRM``.

    ``LRM = log(median_B) - log(median_A)``. Each log median's variance uses
    the order statistics ``L = y_(o1)`` and ``U = y_(n - o1 + 1)`` with
    ``o1 = max(round(n/2 - sqrt(n)), 1)`` and ``z0 = Phi^-1(1 - P(Bin(n, 1/2) <= o1 - 1))``:
    ``((log U - log L) / (2 z0))^2``, or with ``delta_method=True``
    ``((U - L) / (2 z0))^2 / median^2``. Normal interval;
    ``improvement="decrease"`` reverses the sign.

    Parameters
    ----------
    baseline, treatment : array_like
        Positive observations of the two phases (negative values raise a
        DataError; a zero median gives an infinite LRM with a warning).
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.
    delta_method : bool
        Use the delta-method variance.
    ci : float or None
        Confidence level.

    axis : int or None, optional
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

    Returns
    -------
    EffectSizeResult
        ``measure="lrm"``.

    References
    ----------
    Bonett, D. G., & Price, R. M. (2020). Confidence intervals for ratios of
    means and medians. *Journal of Educational and Behavioral Statistics*,
    45(6), 750-770. doi:10.3102/1076998620934125

    Examples
    --------
    >>> from rehabstats.sced import lrm
    >>> round(lrm([20, 20, 26, 25, 22, 23], [28, 25, 24, 27, 30, 30, 29]).estimate, 4)
    0.2187
    >>> import numpy as np
    >>> batch = lrm(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == lrm([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch(
            "lrm",
            baseline,
            treatment,
            axis=batch,
            improvement=improvement,
            delta_method=delta_method,
            ci=ci,
        )
    delta_method = check_option(delta_method, "delta_method", (True, False))
    level = check_optional_ci(ci)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    _check_range(a, b, "LRM", "count")
    short = _warn_short(a, b, "LRM")
    la, va = _log_median_stats(a, bool(delta_method))
    lb, vb = _log_median_stats(b, bool(delta_method))
    with np.errstate(invalid="ignore"):
        est = lb - la
        if improvement == "decrease":
            est = -est
        se = math.sqrt(va + vb) if va + vb >= 0 else math.nan
    return _normal_result(
        "lrm",
        np.array([est]),
        np.array([se]),
        level,
        a,
        b,
        omitted,
        details={"delta_method": bool(delta_method)},
        reason="a phase median (or an order statistic of its interval) is 0, so its log is "
        "-Inf; the LRM needs positive values",
        warn=not short,
    )


# --------------------------------------------------------------------------- PoGO


def _check_goal(goal: Any) -> float:
    """The PoGO goal as a float; one check for :func:`pogo` and its ``axis=`` options, so
    that a batch rejects a goal with the same error as the one-series call.
    """
    if (
        goal is None
        or isinstance(goal, bool)
        or not isinstance(goal, (int, float, np.integer, np.floating))
        or not math.isfinite(float(goal))
    ):
        raise DataError(
            f"The 'goal' argument must be a finite number (the goal level); got {goal!r}."
        )
    return float(goal)


def pogo(
    baseline: Any,
    treatment: Any,
    *,
    goal: float,
    improvement: str = "increase",
    ci: float | None = 0.95,
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    """Percent of goal obtained (Ferron et al., 2020), as SingleCaseES ``PoGO``.

    ``PoGO = 100 (mean_B - mean_A) / (goal - mean_A)``, with the Dunlap &
    Silver (1986) ratio variance
    ``(V_A/n_A + V_B/n_B + (PoGO/100)^2 V_A/n_A) / (goal - mean_A)^2``
    (times 100^2) and a normal interval. The direction is carried by the goal
    (a goal below the baseline mean is a decrease); ``improvement`` is
    recorded only, as in SingleCaseES.

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases.
    goal : float
        Goal level of the behaviour.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change (checked, not used in the formula).
    ci : float or None
        Confidence level.

    axis : int or None, optional
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

    Returns
    -------
    EffectSizeResult
        ``measure="pogo"`` in percent.

    Raises
    ------
    DataError
        The goal equals the baseline mean (PoGO divides by ``goal - mean_A``).

    References
    ----------
    Ferron, J., Goldstein, H., Olszewski, A., & Rohrer, L. (2020). Indexing
    effects in single-case experimental designs by estimating the percent of
    goal obtained. *Evidence-Based Communication Assessment and Intervention*,
    14(1-2), 6-27. doi:10.1080/17489539.2020.1732024

    Examples
    --------
    >>> from rehabstats.sced import pogo
    >>> round(pogo([20, 20, 26, 25, 22, 23], [28, 25, 24, 27, 30, 30, 29], goal=30).estimate, 2)
    66.88
    >>> import numpy as np
    >>> batch = pogo(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1, goal=9)
    >>> batch.shape, bool(batch[1].estimate == pogo([1, 2, 3, 2], [5, 6, 7, 6, 5], goal=9).estimate)
    ((2,), True)
    """
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch(
            "pogo", baseline, treatment, axis=batch, goal=goal, improvement=improvement, ci=ci
        )
    g = _check_goal(goal)
    level = check_optional_ci(ci)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    short = _warn_short(a, b, "PoGO")
    # PoGO is a ratio: work in units of a power of two (exact) so 1e300 data do not overflow
    unit = float(_pow2_scale(a[None, :], b[None, :], np.array([[g]]))[0])
    ma = _mean_var(a[None, :] / unit)[0]
    mb = _mean_var(b[None, :] / unit)[0]
    gap = g / unit - ma
    if float(gap[0]) == 0:
        raise DataError(
            f"PoGO divides by goal - baseline mean, and the goal {g:g} equals the baseline "
            "mean: the percent of goal obtained is undefined. Give the goal the intervention "
            "aims at (different from the baseline level)."
        )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        est = 100 * (mb - ma) / gap
        # se = 100 sqrt(V_A/n_A + V_B/n_B + (PoGO/100)^2 V_A/n_A) / |gap| from the SDs
        # (overflow-safe, in the same unit) as a hypot of three terms: neither a variance
        # of data far below the unit (which underflows) nor a square of PoGO (which
        # overflows) is formed, so only an SE beyond double precision is infinite
        ea = _sd(a) / unit / math.sqrt(a.size) / np.abs(gap)
        eb = _sd(b) / unit / math.sqrt(b.size) / np.abs(gap)
        se = 100 * np.hypot(np.hypot(ea, eb), np.abs(est / 100) * ea)
    return _normal_result(
        "pogo",
        est,
        se,
        level,
        a,
        b,
        omitted,
        details={"goal": g},
        warn=not short,
        reason="the goal is so close to the baseline mean, relative to the spread of the "
        "data, that PoGO or its standard error exceeds double precision",
    )


# --------------------------------------------------------------------------- batch cores
# (registry rows: rehabstats.sced._registry; options as in effect_sizes)


def _smd_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult:
    d, se, _ = _smd_core(a, b, improvement, opts["standardizer"], opts["bias_correct"])
    return normal_interval(d, se, opts["ci"])


def _smd_axis_options(kw: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    opts["standardizer"] = check_option(kw["standardizer"], "standardizer", ("baseline", "pooled"))
    opts["bias_correct"] = check_option(kw["bias_correct"], "bias_correct", (True, False))
    return opts


def _lrr_batch(version: str) -> BatchCore:
    """The batch core of LRRd (``version="d"``) or LRRi (``"i"``)."""

    def core(
        a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
    ) -> BatchCoreResult | None:
        upper = {"percentage": 100.0, "proportion": 1.0}.get(opts["scale"], math.inf)
        if np.any((a < 0) | (a > upper)) or np.any((b < 0) | (b > upper)):
            return None  # the per-series call raises the informative error
        dc = (
            opts["d_const"]
            if opts["d_const"] is not None
            else _trunc_constant(opts["scale"], opts["observation_length"], opts["intervals"])
        )
        d, se = _lrr_core(
            a,
            b,
            version=version,
            improvement=improvement,
            scale=opts["scale"],
            d_const=dc,
            bias_correct=opts["bias_correct"],
        )
        return normal_interval(d, se, opts["ci"])

    core.__name__ = core.__qualname__ = f"_lrr{version}_batch"
    return core


def _lrr_axis_options(kw: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    sc, iv, ol, dc = _check_lrr_args(
        kw["scale"],
        kw.get("intervals"),
        kw.get("observation_length"),
        kw.get("d_const"),
        kw["bias_correct"],
    )
    opts.update(
        scale=sc,
        intervals=iv,
        observation_length=ol,
        d_const=dc,
        bias_correct=bool(kw["bias_correct"]),
    )
    return opts


def _lor_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult | None:
    if opts["scale"] not in ("percentage", "proportion"):
        return None
    upper = 100.0 if opts["scale"] == "percentage" else 1.0
    if np.any((a < 0) | (a > upper)) or np.any((b < 0) | (b > upper)):
        return None  # the per-series call raises the informative error
    dc = (
        opts["d_const"]
        if opts["d_const"] is not None
        else _trunc_constant(opts["scale"], None, opts["intervals"])
    )
    d, se = _lor_core(a, b, improvement, opts["scale"], dc, opts["bias_correct"])
    return normal_interval(d, se, opts["ci"])


def _lor_axis_options(kw: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    check_option(kw["scale"], "scale", ("percentage", "proportion"))
    return _lrr_axis_options(kw, opts)


def _lrm_axis_options(kw: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    opts["delta_method"] = bool(check_option(kw["delta_method"], "delta_method", (True, False)))
    return opts


def _pogo_axis_options(kw: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    opts["goal"] = _check_goal(kw["goal"])
    return opts


def _pogo_axis_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult:
    """PoGO of a block of series (the arithmetic of ``pogo`` per row); ``axis=`` batches only."""
    g = opts["goal"]
    unit = _pow2_scale(a, b, np.full((a.shape[0], 1), g))
    ma, va = _mean_var(a / unit[:, None])
    mb, vb = _mean_var(b / unit[:, None])
    gap = g / unit - ma
    est = 100 * (mb - ma) / gap
    var = (va / a.shape[1] + vb / b.shape[1] + (est / 100) ** 2 * va / a.shape[1]) / gap**2
    se = 100 * np.sqrt(var)
    lo, hi = _normal_ci(est, se, opts["ci"])
    est = np.where(gap == 0, np.nan, est)  # recomputed (and announced) by the one-series call
    return est, se, lo, hi, "normal"


def _lrm_axis_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult:
    """LRM of a block of series (the arithmetic of ``lrm`` per row); ``axis=`` batches only."""
    parts = [_log_median_rows(x, opts["delta_method"]) for x in (a, b)]
    est = parts[1][0] - parts[0][0]
    if improvement == "decrease":
        est = -est
    total = parts[0][1] + parts[1][1]
    se = np.where(total >= 0, np.sqrt(np.where(total >= 0, total, 0.0)), np.nan)
    bad = (a < 0).any(axis=1) | (b < 0).any(axis=1) | (a.shape[1] < 2) | (b.shape[1] < 2)
    lo, hi = _normal_ci(est, se, opts["ci"])
    est = np.where(bad, np.nan, est)  # recomputed (and announced) by the one-series call
    return est, se, lo, hi, "normal"


def _log_median_rows(x: np.ndarray, delta_method: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise :func:`_log_median_stats`."""
    n = x.shape[1]
    med = np.median(x, axis=1)
    o1 = max(int(np.round(n / 2 - math.sqrt(n))), 1)
    o2 = n - o1 + 1
    z0 = stats.norm.ppf(1 - stats.binom.cdf(o1 - 1, n, 0.5))
    y = np.sort(x, axis=1)
    lo, hi = y[:, o1 - 1], y[:, o2 - 1]
    if delta_method:
        var = ((hi - lo) / (2 * z0 * med)) ** 2
    else:
        var = ((np.log(hi) - np.log(lo)) / (2 * z0)) ** 2
    return np.log(med), var
