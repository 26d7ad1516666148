"""From what papers print to what a meta-analysis needs: SEs, SDs, means from medians.

Every function accepts numbers or equal-length arrays (vectorised over studies)
and returns a float, or an array for array input.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from .._validate import check_ci as _check_level
from .._validate import check_option
from ..errors import DataError, RehabStatsWarning

__all__ = ["MeanSD", "check_ci", "mean_sd_from_median", "sd_from_ci", "se_from_ci", "se_from_p"]


def _arr(value: Any, name: str, *, positive: bool = False) -> NDArray[np.float64]:
    if value is None or isinstance(value, (str, bytes, bool)):
        raise DataError(f"'{name}' must be a number or an array of numbers; got {value!r}.")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            f"'{name}' must be a number or an array of numbers; got {value!r}."
        ) from None
    if not np.isfinite(arr).all():
        raise DataError(f"'{name}' must be finite (no NaN or infinity); got {value!r}.")
    if positive and (arr <= 0).any():
        raise DataError(f"'{name}' must be greater than 0; got {value!r}.")
    return arr


def _out(arr: NDArray[np.float64]) -> Any:
    return float(arr) if arr.ndim == 0 else arr


def _crit(ci: float, df: Any) -> NDArray[np.float64] | float:
    alpha = 1.0 - _check_level(ci)
    if df is None:
        return float(stats.norm.isf(alpha / 2))
    d = _arr(df, "df", positive=True)
    return np.asarray(stats.t.isf(alpha / 2, d), dtype=float)


def se_from_ci(low: Any, high: Any, *, ci: float = 0.95, df: Any = None, log: bool = False) -> Any:
    r"""Standard error from a printed confidence interval.

    :math:`SE = (U - L) / (2 c)`, with c the normal quantile (or the t quantile
    with ``df``); for a ratio (``log=True``) the limits are logged first, giving
    the SE of the log ratio (Cochrane Handbook §6.3.1, §6.5.2.3).

    Parameters
    ----------
    low, high : float or array_like
        Printed limits (ratios on their natural scale when ``log=True``).
    ci : float, optional
        Level of the printed interval.
    df : float or array_like, optional
        Degrees of freedom of a t-based interval (e.g. n − 1 for a mean).
    log : bool, optional
        The interval is for a ratio (OR, RR, HR, ROM).

    Returns
    -------
    float or numpy.ndarray

    Raises
    ------
    DataError
        Non-numeric limits, ``high < low``, non-positive ratio limits with
        ``log=True``, a bad level or df.

    Examples
    --------
    >>> import rehabstats as rs
    >>> round(rs.se_from_ci(2.2, 3.2, df=9), 5)
    0.22103
    >>> round(rs.se_from_ci(0.45, 0.92, log=True), 4)
    0.1824
    """
    lo, hi = _arr(low, "low"), _arr(high, "high")
    if log:
        if (lo <= 0).any() or (hi <= 0).any():
            raise DataError(
                "With log=True the limits are ratios and must be > 0; got "
                f"low={low!r}, high={high!r}."
            )
        lo, hi = np.log(lo), np.log(hi)
    if (hi < lo).any():
        raise DataError(f"'high' must not be below 'low'; got low={low!r}, high={high!r}.")
    return _out(np.asarray((hi - lo) / (2.0 * np.asarray(_crit(ci, df))), dtype=float))


def sd_from_ci(low: Any, high: Any, n: Any, *, ci: float = 0.95, distribution: str = "t") -> Any:
    r"""Standard deviation from the CI of a mean (or of a mean change) and its n.

    :math:`SD = \sqrt{n}\,(U - L) / (2 c)` with c from t(n − 1) (the default:
    small trials print t intervals) or the normal distribution (Cochrane
    Handbook §6.5.2.2). For a within-arm change this is the SD of the change.

    Parameters
    ----------
    low, high : float or array_like
        Printed limits of the mean.
    n : int or array_like
        Number of participants behind the mean.
    ci : float, optional
        Level of the printed interval.
    distribution : {"t", "normal"}, optional
        How the interval was computed.

    Returns
    -------
    float or numpy.ndarray

    Raises
    ------
    DataError
        ``high < low``, n < 2, bad options.

    Examples
    --------
    CIMT in progressive MS (Mark et al. 2018): MAL gain 2.7 (95% CI 2.2 to 3.2), n = 10.

    >>> import rehabstats as rs
    >>> round(rs.sd_from_ci(2.2, 3.2, 10), 3)
    0.699
    """
    distribution = check_option(distribution, "distribution", ("t", "normal"))
    nn = _arr(n, "n")
    if (nn < 2).any() or (nn != np.round(nn)).any():
        raise DataError(f"'n' must be a whole number >= 2; got {n!r}.")
    se = np.asarray(
        se_from_ci(low, high, ci=ci, df=nn - 1 if distribution == "t" else None), dtype=float
    )
    return _out(np.asarray(se * np.sqrt(nn), dtype=float))


def se_from_p(estimate: Any, p: Any, *, df: Any = None) -> Any:
    r"""Standard error from an estimate and its two-sided p-value.

    :math:`SE = |\hat\theta| / c`, with :math:`c = \Phi^{-1}(1 - p/2)` (or the t
    quantile with ``df``) (Cochrane Handbook §6.3.2). Use the log of a ratio.
    Printed p-values are rounded, so the SE is approximate ("p < 0.001" cannot
    be used).

    Parameters
    ----------
    estimate : float or array_like
        The effect (a difference, or a log ratio).
    p : float or array_like
        Two-sided p-value, strictly between 0 and 1.
    df : float or array_like, optional
        Degrees of freedom of a t test.

    Returns
    -------
    float or numpy.ndarray

    Raises
    ------
    DataError
        p outside (0, 1), an estimate of 0 (no information), bad df.

    Examples
    --------
    >>> import rehabstats as rs
    >>> round(rs.se_from_p(2.2, 0.05), 4)
    1.1225
    """
    est = _arr(estimate, "estimate")
    pp = _arr(p, "p")
    if ((pp <= 0) | (pp >= 1)).any():
        raise DataError(f"'p' must be strictly between 0 and 1; got {p!r}.")
    if (est == 0).any():
        raise DataError(
            "'estimate' is 0: its p-value says nothing about the SE (the "
            "statistic is 0 whatever the SE)."
        )
    if df is None:
        c = stats.norm.isf(pp / 2)
    else:
        c = stats.t.isf(pp / 2, _arr(df, "df", positive=True))
    return _out(np.asarray(np.abs(est) / c, dtype=float))


class MeanSD(NamedTuple):
    """Estimated mean and SD from a median-based summary."""

    mean: Any
    sd: Any
    scenario: str
    sd_method: str


def mean_sd_from_median(
    median: Any,
    *,
    q1: Any = None,
    q3: Any = None,
    minimum: Any = None,
    maximum: Any = None,
    n: Any,
    sd_method: str = "wan",
) -> MeanSD:
    r"""Estimate a sample mean and SD from the median with quartiles and/or range.

    Scenarios (Wan et al. 2014): S1 = {min, median, max}, S2 = {q1, median,
    q3}, S3 = all five numbers. Means by Luo et al. (2018):

    - S1: :math:`w(a+b)/2 + (1-w)m`, :math:`w = 4/(4 + n^{0.75})`;
    - S2: :math:`w(q_1+q_3)/2 + (1-w)m`, :math:`w = 0.7 + 0.39/n`;
    - S3: :math:`w_1(a+b)/2 + w_2(q_1+q_3)/2 + (1-w_1-w_2)m`,
      :math:`w_1 = 2.2/(2.2 + n^{0.75})`, :math:`w_2 = 0.7 - 0.72/n^{0.55}`.

    SDs by Wan et al. (2014), with :math:`\xi = 2\Phi^{-1}((n-0.375)/(n+0.25))`
    and :math:`\eta = 2\Phi^{-1}((0.75n-0.125)/(n+0.25))`: S1 :math:`(b-a)/\xi`,
    S2 :math:`(q_3-q_1)/\eta`, S3 :math:`\tfrac12[(b-a)/\xi + (q_3-q_1)/\eta]`;
    ``sd_method="shi"`` (Shi et al. 2020) replaces the S3 average by the
    weights :math:`w = 1/(1 + 0.07 n^{0.6})` and 1 − w (S1 and S2 are Wan's).

    Parameters
    ----------
    median : float or array_like
        Sample median(s).
    q1, q3 : float or array_like, optional
        First and third quartiles (together).
    minimum, maximum : float or array_like, optional
        Range (together).
    n : int or array_like
        Sample size(s).
    sd_method : {"wan", "shi"}, optional
        SD estimator for scenario S3.

    Returns
    -------
    MeanSD
        ``mean``, ``sd``, ``scenario`` ("S1", "S2" or "S3") and ``sd_method``.

    Raises
    ------
    DataError
        Neither the quartiles nor the range, only one of a pair, values out of
        order (min <= q1 <= median <= q3 <= max), n < 2.

    Notes
    -----
    The estimators assume roughly normal data; for skewed outcomes (length of
    stay, time since onset) the estimated mean is still pulled toward the
    median and should be labelled as an estimate in a review.

    References
    ----------
    Wan X et al. (2014). *BMC Med Res Methodol* 14:135. Luo D et al. (2018).
    *Stat Methods Med Res* 27:1785-1805. Shi J et al. (2020). *Res Synth Methods*
    11:641-654.

    Examples
    --------
    >>> import rehabstats as rs
    >>> est = rs.mean_sd_from_median(30.0, q1=25.0, q3=38.0, n=40)
    >>> round(est.mean, 3), round(est.sd, 3), est.scenario
    (31.065, 9.996, 'S2')
    """
    sd_method = check_option(sd_method, "sd_method", ("wan", "shi"))
    m = _arr(median, "median")
    nn = _arr(n, "n")
    if (nn < 2).any() or (nn != np.round(nn)).any():
        raise DataError(f"'n' must be a whole number >= 2; got {n!r}.")
    has_q = q1 is not None or q3 is not None
    has_r = minimum is not None or maximum is not None
    if has_q and (q1 is None or q3 is None):
        raise DataError("Give both quartiles 'q1' and 'q3' (or neither).")
    if has_r and (minimum is None or maximum is None):
        raise DataError("Give both 'minimum' and 'maximum' (or neither).")
    if not (has_q or has_r):
        raise DataError(
            "mean_sd_from_median needs the quartiles ('q1', 'q3'), the range "
            "('minimum', 'maximum'), or both."
        )
    order = [("minimum", minimum)] if has_r else []
    order += [("q1", q1)] if has_q else []
    order += [("median", median)]
    order += [("q3", q3)] if has_q else []
    order += [("maximum", maximum)] if has_r else []
    vals = [_arr(v, name) for name, v in order]
    for (n1, _), (n2, _), a1, a2 in zip(order, order[1:], vals, vals[1:], strict=False):
        if (a2 < a1).any():
            raise DataError(
                f"The summary is out of order: '{n2}' is below '{n1}' "
                "(expected minimum <= q1 <= median <= q3 <= maximum)."
            )
    xi = 2 * stats.norm.ppf((nn - 0.375) / (nn + 0.25))
    eta = 2 * stats.norm.ppf((0.75 * nn - 0.125) / (nn + 0.25))
    if has_q and has_r:
        a, b = _arr(minimum, "minimum"), _arr(maximum, "maximum")
        lo, hi = _arr(q1, "q1"), _arr(q3, "q3")
        w1 = 2.2 / (2.2 + nn**0.75)
        w2 = 0.7 - 0.72 / nn**0.55
        mean = w1 * (a + b) / 2 + w2 * (lo + hi) / 2 + (1 - w1 - w2) * m
        if sd_method == "shi":
            w = 1 / (1 + 0.07 * nn**0.6)
            sd = w * (b - a) / xi + (1 - w) * (hi - lo) / eta
        else:
            sd = 0.5 * ((b - a) / xi + (hi - lo) / eta)
        scenario = "S3"
    elif has_q:
        lo, hi = _arr(q1, "q1"), _arr(q3, "q3")
        w = 0.7 + 0.39 / nn
        mean = w * (lo + hi) / 2 + (1 - w) * m
        sd = (hi - lo) / eta
        scenario = "S2"
    else:
        a, b = _arr(minimum, "minimum"), _arr(maximum, "maximum")
        w = 4 / (4 + nn**0.75)
        mean = w * (a + b) / 2 + (1 - w) * m
        sd = (b - a) / xi
        scenario = "S1"
    return MeanSD(
        mean=_out(np.asarray(mean, dtype=float)),
        sd=_out(np.asarray(sd, dtype=float)),
        scenario=scenario,
        sd_method=sd_method,
    )


def check_ci(
    estimate: Any, low: Any, high: Any, *, log: bool = False, tolerance: float = 0.1
) -> Any:
    r"""Check that a printed interval is centred on the estimate printed with it.

    Symmetric intervals (means, differences; ratios on the log scale) have the
    estimate at their midpoint. A printed triple that is not — "difference
    2.2, 95% CI 2.2 to 3.2", whose midpoint is 2.7 — is a typo or a different
    estimate, and an SE taken from that interval would be wrong. Warns when
    :math:`|\text{midpoint} - \text{estimate}|` exceeds ``tolerance`` times the
    half-width (the default 0.1 allows for rounding of printed digits), or
    when the estimate lies outside the interval.

    Parameters
    ----------
    estimate, low, high : float or array_like
        The printed numbers (ratios on their natural scale with ``log=True``).
    log : bool, optional
        The interval is for a ratio: the midpoint is taken on the log scale.
    tolerance : float, optional
        Allowed offset as a fraction of the half-width.

    Returns
    -------
    float or numpy.ndarray
        The midpoint minus the estimate (log scale with ``log=True``); 0 for a
        centred interval.

    Raises
    ------
    DataError
        ``high < low``, non-positive ratios with ``log=True``.

    Warns
    -----
    RehabStatsWarning
        The interval is not centred on the estimate (each offending position
        is named).

    Examples
    --------
    >>> import rehabstats as rs
    >>> rs.check_ci(2.7, 2.2, 3.2)
    0.0
    """
    est, lo, hi = _arr(estimate, "estimate"), _arr(low, "low"), _arr(high, "high")
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, (int, float))
        or not math.isfinite(tolerance)
        or tolerance < 0
    ):
        raise DataError(f"'tolerance' must be a number >= 0; got {tolerance!r}.")
    if log:
        if (est <= 0).any() or (lo <= 0).any() or (hi <= 0).any():
            raise DataError("With log=True the estimate and limits are ratios and must be > 0.")
        est, lo, hi = np.log(est), np.log(lo), np.log(hi)
    if (hi < lo).any():
        raise DataError(f"'high' must not be below 'low'; got low={low!r}, high={high!r}.")
    mid = (lo + hi) / 2
    offset = mid - est
    half = (hi - lo) / 2
    bad = (
        (np.abs(offset) > tolerance * half + 1e-12 * np.maximum(1.0, np.abs(mid)))
        | (est < lo)
        | (est > hi)
    )
    if bad.any():
        where = np.flatnonzero(np.atleast_1d(bad))
        e, lo1, hi1 = (np.atleast_1d(x) for x in (estimate, low, high))
        e_b = np.broadcast_to(e, np.atleast_1d(bad).shape)
        l_b = np.broadcast_to(lo1, e_b.shape)
        h_b = np.broadcast_to(hi1, e_b.shape)
        mids = np.atleast_1d(np.exp(mid) if log else mid)
        mids = np.broadcast_to(mids, e_b.shape)
        parts = [
            f"estimate {e_b[i]:g} with CI {l_b[i]:g} to {h_b[i]:g} (midpoint "
            f"{mids[i]:.4g})" + ("" if e_b.size == 1 else f" at position {i}")
            for i in where[:5]
        ]
        warnings.warn(
            "Interval not centred on its estimate: " + "; ".join(parts) + ". Check "
            "the numbers against the paper before deriving an SE from the interval.",
            RehabStatsWarning,
            stacklevel=2,
        )
    return _out(np.asarray(offset, dtype=float))
