"""Classic rehabilitation methods for A-B data: the two-standard-deviation band,
the split-middle celeration line with its binomial test, and Tryon's C statistic.

These are the visual-analysis aids of the rehabilitation single-case literature
(Ottenbacher, 1986; Nourbakhsh & Ottenbacher, 1994). They are simple and
well known; their error rates are poor when the data are autocorrelated, so
they complement, not replace, effect sizes and randomization tests.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._results import Result, format_number
from .._validate import as_float_array, check_improvement, check_option
from ..errors import DataError, RehabStatsWarning
from ._common import pow2_unit
from ._common import sd as _sd

__all__ = [
    "CStatisticResult",
    "CelerationLineResult",
    "TwoSDBandResult",
    "c_statistic",
    "celeration_line",
    "two_sd_band",
]


def _longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of True values (vectorised)."""
    if not flags.any():
        return 0
    padded = np.concatenate([[0], flags.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max())


@dataclass(frozen=True)
class TwoSDBandResult(Result):
    """Result of :func:`two_sd_band`.

    Attributes
    ----------
    lower, upper : float
        Band limits: baseline mean ∓ ``n_sd`` baseline SDs.
    mean, sd : float
        Baseline mean and SD (n − 1 denominator).
    n_outside : int
        Treatment observations beyond the band on the improvement side.
    max_consecutive_outside : int
        Longest run of consecutive treatment observations beyond the band on the
        improvement side.
    significant : bool
        ``max_consecutive_outside >= consecutive``.
    n_baseline, n_treatment, consecutive : int
    n_sd : float
    improvement : str
    outside : numpy.ndarray
        Boolean flag per treatment observation.
    """

    lower: float
    upper: float
    mean: float
    sd: float
    n_outside: int
    max_consecutive_outside: int
    significant: bool
    n_baseline: int
    n_treatment: int
    consecutive: int
    n_sd: float
    improvement: str
    outside: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """One row: ``method, mean, sd, lower, upper, n_outside, max_consecutive_outside, significant, n_baseline, n_treatment``."""
        return pd.DataFrame(
            [
                {
                    "method": "two_sd_band",
                    "mean": self.mean,
                    "sd": self.sd,
                    "lower": self.lower,
                    "upper": self.upper,
                    "n_outside": self.n_outside,
                    "max_consecutive_outside": self.max_consecutive_outside,
                    "significant": self.significant,
                    "n_baseline": self.n_baseline,
                    "n_treatment": self.n_treatment,
                }
            ]
        )

    def summary(self) -> str:
        """One line of text."""
        verdict = "significant" if self.significant else "not significant"
        return (
            f"{format_number(self.n_sd, 1)}-SD band [{format_number(self.lower)}, "
            f"{format_number(self.upper)}]: {self.n_outside} of {self.n_treatment} treatment "
            f"points outside ({self.improvement} side), longest run {self.max_consecutive_outside}"
            f" -> {verdict} (rule: >= {self.consecutive} consecutive)"
        )


def two_sd_band(
    baseline: Any,
    treatment: Any,
    *,
    improvement: Literal["increase", "decrease"] = "increase",
    consecutive: int = 2,
    n_sd: float = 2.0,
) -> TwoSDBandResult:
    r"""Two-standard-deviation band method (Shewhart chart) for A-B data.

    The band is the baseline mean plus and minus two baseline standard
    deviations (n − 1 denominator), extended into the treatment phase:

    .. math:: \bar a \pm 2\, s_A, \qquad s_A^2 = \frac{1}{n_A-1}\sum (a_i - \bar a)^2 .

    The change is called significant when at least ``consecutive`` successive
    treatment observations fall outside the band on the improvement side
    (above it for ``improvement="increase"``, below it for ``"decrease"``).

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the A and B phase in session order (NaN dropped with a
        warning).
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.
    consecutive : int, default 2
        Decision rule: the number of successive points beyond the band needed.
        Two consecutive points is the rule taught in the rehabilitation
        literature (Ottenbacher 1986; Nourbakhsh & Ottenbacher 1994); it is a
        convention whose error rate has not been verified for autocorrelated
        data, so report the counts as well.
    n_sd : float, default 2
        Width of the band in baseline SDs.

    Returns
    -------
    TwoSDBandResult

    Raises
    ------
    DataError
        Fewer than two baseline or one treatment observation; bad options.

    Warns
    -----
    RehabStatsWarning
        The baseline has zero variance (the band has zero width).

    References
    ----------
    Nourbakhsh, M. R., & Ottenbacher, K. J. (1994). The statistical analysis of
    single-subject data: a comparative examination. *Physical Therapy*, 74(8),
    768-776. https://doi.org/10.1093/ptj/74.8.768

    Ottenbacher, K. J. (1986). *Evaluating clinical change: Strategies for
    occupational and physical therapists.* Williams & Wilkins.

    Examples
    --------
    >>> from rehabstats.sced._classic import two_sd_band
    >>> res = two_sd_band([10, 12, 11, 13, 12], [15, 16, 14, 17, 18])
    >>> round(res.upper, 3), res.n_outside, res.significant
    (13.88, 5, True)
    """
    improvement = check_improvement(improvement)
    if (
        isinstance(consecutive, bool)
        or not isinstance(consecutive, (int, np.integer))
        or consecutive < 1
    ):
        raise DataError(f"'consecutive' must be a whole number >= 1; got {consecutive!r}.")
    if isinstance(n_sd, bool) or not isinstance(n_sd, (int, float)) or not n_sd > 0:
        raise DataError(f"'n_sd' must be a positive number; got {n_sd!r}.")
    a, _ = as_float_array(baseline, "baseline", min_size=2)
    b, _ = as_float_array(treatment, "treatment", min_size=1)
    mean = float(a.mean())
    sd = _sd(a)
    if sd == 0:
        warnings.warn(
            "The baseline has zero variance: the band has zero width, so any treatment value "
            "different from the baseline level is 'outside'.",
            RehabStatsWarning,
            stacklevel=2,
        )
    lower, upper = mean - n_sd * sd, mean + n_sd * sd
    outside = b > upper if improvement == "increase" else b < lower
    run = _longest_run(outside)
    return TwoSDBandResult(
        lower=lower,
        upper=upper,
        mean=mean,
        sd=sd,
        n_outside=int(outside.sum()),
        max_consecutive_outside=run,
        significant=run >= consecutive,
        n_baseline=a.size,
        n_treatment=b.size,
        consecutive=int(consecutive),
        n_sd=float(n_sd),
        improvement=improvement,
        outside=outside,
    )


@dataclass(frozen=True)
class CelerationLineResult(Result):
    """Result of :func:`celeration_line`.

    Attributes
    ----------
    slope, intercept : float
        The split-middle line ``intercept + slope * session`` fitted to the baseline.
    n_improved : int
        Treatment observations strictly on the improvement side of the line.
    n : int
        Number of treatment observations.
    p_value : float
        Binomial test of ``n_improved`` out of ``n`` against ``p0``.
    p0 : float
        Null proportion: the baseline share on the improvement side
        (``null="baseline"``) or 0.5.
    n_baseline_improved, n_baseline : int
        Baseline observations on the improvement side of the line, and in total.
    null, alternative, improvement : str
    treatment_fit : numpy.ndarray
        The line evaluated at the treatment sessions.
    """

    slope: float
    intercept: float
    n_improved: int
    n: int
    p_value: float
    p0: float
    n_baseline_improved: int
    n_baseline: int
    null: str
    alternative: str
    improvement: str
    treatment_fit: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """One row: ``method, slope, intercept, n_improved, n, p0, p_value, null, alternative``."""
        return pd.DataFrame(
            [
                {
                    "method": "celeration_line",
                    "slope": self.slope,
                    "intercept": self.intercept,
                    "n_improved": self.n_improved,
                    "n": self.n,
                    "p0": self.p0,
                    "p_value": self.p_value,
                    "null": self.null,
                    "alternative": self.alternative,
                }
            ]
        )

    def summary(self) -> str:
        """One line of text."""
        return (
            f"celeration line y = {format_number(self.intercept)} + {format_number(self.slope)} "
            f"x session: {self.n_improved} of {self.n} treatment points on the "
            f"{self.improvement} side (p0 = {format_number(self.p0)}, binomial "
            f"{self.alternative} p = {format_number(self.p_value)})"
        )


def _split_middle(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """White's split-middle line through the (session, value) medians of each half.

    With an odd number of points the middle one belongs to neither half.
    """
    n = y.size
    h1 = slice(0, n // 2)
    h2 = slice(n - n // 2, n)
    x1, x2 = float(np.median(x[h1])), float(np.median(x[h2]))
    y1, y2 = float(np.median(y[h1])), float(np.median(y[h2]))
    slope = (y2 - y1) / (x2 - x1)
    return slope, y1 - slope * x1


def celeration_line(
    baseline: Any,
    treatment: Any,
    *,
    improvement: Literal["increase", "decrease"] = "increase",
    null: Literal["baseline"] | float = "baseline",
    alternative: Literal["greater", "two-sided"] = "greater",
    baseline_sessions: Any = None,
    treatment_sessions: Any = None,
) -> CelerationLineResult:
    r"""Split-middle celeration line of the baseline, extended into phase B, with a binomial test.

    The baseline is split into a first and a second half by session (with an
    odd number of sessions the middle one is left out, White's rule). The line
    passes through the two points (median session, median value) of the halves
    (no vertical "split-middle" shift, as scan's ``cdc(trend_method =
    "bisplit")``). Treatment observations strictly on the improvement side of
    the extended line are counted, and the count is tested with a binomial test:

    .. math:: X \sim \mathrm{Bin}(n_B, p_0), \quad p = P(X \ge n_{improved})

    (``alternative="greater"``; ``"two-sided"`` as R's ``binom.test``).

    Parameters
    ----------
    baseline, treatment : array_like
        Observations in session order.
    improvement : {"increase", "decrease"}
        Improvement side: above (increase) or below (decrease) the line.
    null : "baseline" or float, default "baseline"
        ``"baseline"``: p0 = share of baseline observations on the improvement
        side of the line (Bloom, Fischer & Orme; SSDforR's ``ABbinomial``
        tests the B count against this proportion). A number, e.g. 0.5: that p0
        (the classic test of the celeration line, and scan's ``cdc``).
    alternative : {"greater", "two-sided"}
        One-sided test for more treatment points on the improvement side than
        expected, or the two-sided test (SSDforR's ``ABbinomial`` default).
    baseline_sessions, treatment_sessions : array_like, optional
        Session numbers (default 1..n_A and n_A+1..n_A+n_B).

    Returns
    -------
    CelerationLineResult

    Raises
    ------
    DataError
        Fewer than two baseline observations, sessions not matching the
        observations or not increasing, bad options.

    Warns
    -----
    RehabStatsWarning
        p0 is 0 or 1 (no or all baseline points on the improvement side), so the
        binomial test is degenerate.

    References
    ----------
    White, O. R. (1974). *The "split middle": a "quickie" method of trend
    estimation.* University of Washington, Experimental Education Unit.

    Bloom, M., Fischer, J., & Orme, J. G. (2009). *Evaluating practice:
    Guidelines for the accountable professional* (6th ed.). Pearson.

    Nourbakhsh, M. R., & Ottenbacher, K. J. (1994). *Physical Therapy*, 74(8),
    768-776. https://doi.org/10.1093/ptj/74.8.768

    Examples
    --------
    >>> from rehabstats.sced._classic import celeration_line
    >>> res = celeration_line([10, 12, 11, 13, 12, 13], [15, 16, 14, 17, 18, 18], null=0.5)
    >>> round(res.slope, 3), res.n_improved, round(res.p_value, 4)
    (0.667, 5, 0.1094)
    """
    improvement = check_improvement(improvement)
    alternative = check_option(alternative, "alternative", ("greater", "two-sided"))
    if isinstance(null, str):
        check_option(null, "null", ("baseline",))
    elif isinstance(null, bool) or not isinstance(null, (int, float)) or not 0 < null < 1:
        raise DataError(
            f"'null' must be 'baseline' or a proportion strictly between 0 and 1; got {null!r}."
        )
    a, _ = as_float_array(baseline, "baseline", min_size=2, nan_policy="raise")
    b, _ = as_float_array(treatment, "treatment", min_size=1, nan_policy="raise")
    xa = _sessions(
        baseline_sessions, np.arange(1, a.size + 1, dtype=float), a.size, "baseline_sessions"
    )
    xb = _sessions(
        treatment_sessions,
        np.arange(a.size + 1, a.size + b.size + 1, dtype=float),
        b.size,
        "treatment_sessions",
    )
    slope, intercept = _split_middle(xa, a)
    fit_a = intercept + slope * xa
    fit_b = intercept + slope * xb
    sign = 1.0 if improvement == "increase" else -1.0
    improved_b = sign * (b - fit_b) > 0
    improved_a = sign * (a - fit_a) > 0
    k, n = int(improved_b.sum()), b.size
    if null == "baseline":
        p0 = float(improved_a.mean())
        if p0 in (0.0, 1.0):
            warnings.warn(
                f"{int(improved_a.sum())} of {a.size} baseline points lie on the improvement side "
                f"of the celeration line, so p0 = {p0:g} and the binomial test is degenerate; "
                "consider null=0.5.",
                RehabStatsWarning,
                stacklevel=2,
            )
        null_label = "baseline"
    else:
        p0 = float(null)
        null_label = format_number(p0)
    alt = "greater" if alternative == "greater" else "two-sided"
    p_value = float(stats.binomtest(k, n, p0, alternative=alt).pvalue)
    return CelerationLineResult(
        slope=float(slope),
        intercept=float(intercept),
        n_improved=k,
        n=n,
        p_value=p_value,
        p0=p0,
        n_baseline_improved=int(improved_a.sum()),
        n_baseline=a.size,
        null=null_label,
        alternative=alternative,
        improvement=improvement,
        treatment_fit=fit_b,
    )


def _sessions(values: Any, default: np.ndarray, size: int, name: str) -> np.ndarray:
    if values is None:
        return default
    x, _ = as_float_array(values, name, nan_policy="raise")
    if x.size != size:
        raise DataError(f"'{name}' has {x.size} values but its phase has {size} observations.")
    if (np.diff(x) <= 0).any():
        raise DataError(f"'{name}' must be strictly increasing.")
    return x


@dataclass(frozen=True)
class CStatisticResult(Result):
    """Result of :func:`c_statistic`: ``estimate`` (C), ``se``, ``z``, ``p_value``, ``n``, ``alternative``."""

    estimate: float
    se: float
    z: float
    p_value: float
    n: int
    alternative: str

    def to_frame(self) -> pd.DataFrame:
        """One row: ``measure, estimate, se, z, p_value, n, alternative``."""
        return pd.DataFrame(
            [
                {
                    "measure": "c_statistic",
                    "estimate": self.estimate,
                    "se": self.se,
                    "z": self.z,
                    "p_value": self.p_value,
                    "n": self.n,
                    "alternative": self.alternative,
                }
            ]
        )

    def summary(self) -> str:
        """One line of text."""
        return (
            f"C = {format_number(self.estimate)} (SE {format_number(self.se)}), z = "
            f"{format_number(self.z)}, p = {format_number(self.p_value)} ({self.alternative}; "
            f"n = {self.n})"
        )


def c_statistic(
    values: Any, *, alternative: Literal["greater", "two-sided"] = "greater"
) -> CStatisticResult:
    r"""Tryon's C statistic (Young's test of randomness) for a time series.

    .. math::

        C = 1 - \frac{\sum_{i=1}^{n-1} (x_i - x_{i+1})^2}{2 \sum_{i=1}^{n} (x_i - \bar x)^2},
        \qquad SE_C = \sqrt{\frac{n-2}{(n-1)(n+1)}}, \qquad z = C / SE_C .

    Use it on the baseline alone (a significant C means a trend or serial
    dependency, so a stable baseline cannot be assumed) and on the baseline and
    treatment together (a significant C that was absent in the baseline points
    to a change). Tryon advises at least 8 observations.

    Parameters
    ----------
    values : array_like
        Observations in session order (at least 3; NaN dropped with a warning).
    alternative : {"greater", "two-sided"}
        ``"greater"`` (the usual one-sided test: P(Z ≥ z)) or two-sided.

    Returns
    -------
    CStatisticResult

    Raises
    ------
    DataError
        Fewer than 3 observations, bad option.

    Warns
    -----
    RehabStatsWarning
        Constant series (C undefined; NaN returned).

    References
    ----------
    Tryon, W. W. (1982). A simplified time-series analysis for evaluating
    treatment interventions. *Journal of Applied Behavior Analysis*, 15(3),
    423-429. https://doi.org/10.1901/jaba.1982.15-423

    Young, L. C. (1941). On randomness in ordered sequences. *Annals of
    Mathematical Statistics*, 12(3), 293-300. https://doi.org/10.1214/aoms/1177731711

    Examples
    --------
    >>> from rehabstats.sced._classic import c_statistic
    >>> res = c_statistic([3, 4, 3, 5, 4, 7, 8, 7, 9, 8])
    >>> round(res.estimate, 4), round(res.se, 4)
    (0.7478, 0.2843)
    """
    alternative = check_option(alternative, "alternative", ("greater", "two-sided"))
    x, _ = as_float_array(values, "values", min_size=3)
    n = x.size
    se = math.sqrt((n - 2) / ((n - 1) * (n + 1)))
    x = x / pow2_unit(x)  # C is scale free: exact rescaling keeps 1e300 data finite
    ss = float(((x - x.mean()) ** 2).sum())
    if ss == 0:
        warnings.warn(
            "The series is constant: the C statistic is undefined (NaN).",
            RehabStatsWarning,
            stacklevel=2,
        )
        return CStatisticResult(math.nan, se, math.nan, math.nan, n, alternative)
    c = 1.0 - float((np.diff(x) ** 2).sum()) / (2.0 * ss)
    z = c / se
    p = float(stats.norm.sf(z)) if alternative == "greater" else float(2 * stats.norm.sf(abs(z)))
    return CStatisticResult(estimate=c, se=se, z=z, p_value=p, n=n, alternative=alternative)
