"""Individual change: measurement error, reliable change, responders and GAS T-scores.

A group effect size says whether a therapy works on average; rehabilitation
clinicians also ask whether *this* patient changed by more than measurement
error (SEM, MDC, reliable change index) and by more than a clinically important
amount (MCID responders). Goal Attainment Scaling turns a person's goal ratings
into one standardised T-score.

Functions
---------
sem, mdc
    Standard error of measurement and minimal detectable change.
reliable_change
    Jacobson-Truax / Christensen-Mendoza reliable change index per person.
responders
    MCID responder flags and the responder proportion with a Wilson or
    Clopper-Pearson interval.
gas_tscore
    Kiresuk-Sherman Goal Attainment Scaling T-score.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from . import _validate as _v
from ._results import Result, format_number
from .errors import DataError, RehabStatsWarning

__all__ = [
    "ResponderResult",
    "gas_tscore",
    "mdc",
    "reliable_change",
    "responders",
    "sem",
]

_FloatArray = NDArray[np.float64]
Improvement = Literal["increase", "decrease"]

#: Category labels of :func:`reliable_change`, in display order.
CATEGORIES: tuple[str, str, str] = ("improved", "unchanged", "deteriorated")


# --------------------------------------------------------------------------- checks
def _param_array(value: Any, name: str) -> tuple[_FloatArray, bool]:
    """Scalar or array-like parameter -> (float array, was_scalar); rejects NaN/inf/non-numbers."""
    if isinstance(value, bool) or isinstance(value, (str, bytes)):
        raise DataError(
            f"The '{name}' argument must be a number or an array of numbers; "
            f"got {_v.show_value(value)}."
        )
    scalar = isinstance(value, (numbers.Real, np.number))
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            f"The '{name}' argument must be a number or an array of numbers; "
            f"got {_v.show_value(value)}."
        ) from None
    if arr.dtype.kind == "b":  # pragma: no cover - asarray(dtype=float) never gives bool
        raise DataError(f"The '{name}' argument must be numeric; got booleans.")
    if arr.size == 0:
        raise DataError(f"The '{name}' argument is empty.")
    if not np.isfinite(arr).all():
        bad = arr[~np.isfinite(arr)].flat[0]
        raise DataError(
            f"The '{name}' argument must be finite (no NaN or infinity); got {_v.show_value(bad)}."
        )
    return arr, scalar or arr.ndim == 0


def _check_sd(sd: Any, name: str = "sd") -> tuple[_FloatArray, bool]:
    arr, scalar = _param_array(sd, name)
    if (arr < 0).any():
        bad = arr[arr < 0].flat[0]
        raise DataError(
            f"The '{name}' argument is a standard deviation and must be zero or "
            f"more; got {_v.show_value(bad)}."
        )
    return arr, scalar


def _check_reliability(reliability: Any) -> tuple[_FloatArray, bool]:
    arr, scalar = _param_array(reliability, "reliability")
    bad = (arr < 0) | (arr >= 1)
    if bad.any():
        raise DataError(
            "The 'reliability' argument (an ICC or test-retest correlation) must be in "
            f"[0, 1): a reliability of 1 means no measurement error; got {_v.show_value(arr[bad].flat[0])}."
        )
    return arr, scalar


def _out(arr: _FloatArray, scalar: bool) -> float | _FloatArray:
    return float(arr.reshape(-1)[0]) if scalar else arr


def _broadcast(*arrays: _FloatArray, names: tuple[str, ...]) -> list[_FloatArray]:
    try:
        return [np.asarray(a, dtype=float) for a in np.broadcast_arrays(*arrays)]
    except ValueError:
        shapes = ", ".join(f"'{n}' {a.shape}" for n, a in zip(names, arrays, strict=True))
        raise DataError(f"Arguments have incompatible shapes: {shapes}.") from None


# --------------------------------------------------------------------------- SEM / MDC
@overload
def sem(sd: float, reliability: float) -> float: ...
@overload
def sem(sd: ArrayLike, reliability: ArrayLike) -> float | _FloatArray: ...
def sem(sd: ArrayLike, reliability: ArrayLike) -> float | _FloatArray:
    r"""Standard error of measurement.

    .. math:: \mathrm{SEM} = SD \sqrt{1 - r_{xx}}

    Parameters
    ----------
    sd : float or array_like
        Between-person standard deviation of the measure (usually the baseline
        SD of the sample or of the reliability study), zero or more.
    reliability : float or array_like
        Reliability coefficient ``r_xx`` (ICC or test-retest correlation) in [0, 1).

    Returns
    -------
    float or numpy.ndarray
        A float when both inputs are scalars, otherwise an array (broadcast).

    Raises
    ------
    DataError
        Negative or non-finite ``sd``; ``reliability`` outside [0, 1).

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: a statistical
    approach to defining meaningful change in psychotherapy research. *J Consult
    Clin Psychol*, 59(1), 12-19. doi:10.1037/0022-006X.59.1.12

    Examples
    --------
    >>> from rehabstats import change
    >>> round(change.sem(8.2, 0.98), 3)   # TUG, chronic stroke (Alghadir 2018: SEM 1.16 s)
    1.16
    """
    s, s_scalar = _check_sd(sd)
    r, r_scalar = _check_reliability(reliability)
    s, r = _broadcast(s, r, names=("sd", "reliability"))
    return _out(s * np.sqrt(1.0 - r), s_scalar and r_scalar)


@overload
def mdc(sd: float, reliability: float, *, level: float = 0.95) -> float: ...
@overload
def mdc(sd: ArrayLike, reliability: ArrayLike, *, level: float = 0.95) -> float | _FloatArray: ...
def mdc(sd: ArrayLike, reliability: ArrayLike, *, level: float = 0.95) -> float | _FloatArray:
    r"""Minimal detectable change at confidence ``level`` (MDC95 by default).

    .. math:: \mathrm{MDC}_{level} = z_{(1+level)/2} \cdot \sqrt{2} \cdot \mathrm{SEM},
              \qquad \mathrm{SEM} = SD\sqrt{1 - r_{xx}}

    so MDC95 = 1.95996 x 1.41421 x SEM = 2.772 SEM and MDC90 = 2.326 SEM. Rehab
    papers report MDC90 and MDC95 interchangeably: always state the level.

    Parameters
    ----------
    sd : float or array_like
        Between-person SD of the measure, zero or more.
    reliability : float or array_like
        Reliability (ICC / test-retest) in [0, 1).
    level : float, optional
        Confidence level, strictly between 0 and 1 (0.95 gives MDC95, 0.90 MDC90).

    Returns
    -------
    float or numpy.ndarray
        A float when ``sd`` and ``reliability`` are scalars, otherwise an array.

    Notes
    -----
    The sqrt(2) is there because a change score carries the measurement error
    of two occasions. The MDC is the smallest change one person must show to be
    ``level`` confident it exceeds measurement error; compare it with an MCID,
    which is about importance, not detectability.

    References
    ----------
    Haley, S. M., & Fragala-Pinkham, M. A. (2006). Interpreting change scores of
    tests and measures used in physical therapy. *Phys Ther*, 86(5), 735-743.
    doi:10.1093/ptj/86.5.735

    Examples
    --------
    >>> from rehabstats import change
    >>> round(change.mdc(8.2, 0.98), 2)            # MDC95, TUG (Alghadir 2018: 3.2 s)
    3.21
    >>> round(change.mdc(8.2, 0.98, level=0.90), 2)
    2.7
    """
    level = _v.check_ci(level, "level")
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    s, s_scalar = _check_sd(sd)
    r, r_scalar = _check_reliability(reliability)
    s, r = _broadcast(s, r, names=("sd", "reliability"))
    return _out(z * math.sqrt(2.0) * s * np.sqrt(1.0 - r), s_scalar and r_scalar)


# --------------------------------------------------------------------------- helpers
def _numeric_vector(values: Any, name: str) -> tuple[_FloatArray, pd.Index]:
    """1-D float array (NaN kept) plus the index to report persons by."""
    arr = _v._to_numeric_1d(values, name)
    index = values.index if isinstance(values, pd.Series) else pd.RangeIndex(arr.size)
    return arr, index


def _announce(n_dropped: int, what: str, nan_policy: str) -> None:
    if n_dropped == 0:
        return
    if nan_policy == "raise":
        raise DataError(f"{what} contains {n_dropped} missing value(s) and nan_policy='raise'.")
    warnings.warn(
        f"{n_dropped} missing value(s) in {what} were omitted.", RehabStatsWarning, stacklevel=3
    )


def _scalar_param(value: Any, name: str, *, allow_zero: bool) -> float:
    return _v.check_positive(value, name, allow_zero=allow_zero)


# --------------------------------------------------------------------------- reliable change
def reliable_change(
    pre: ArrayLike,
    post: ArrayLike,
    *,
    sd: float | None,
    reliability: float | None,
    method: Literal["jacobson-truax", "christensen-mendoza"] = "jacobson-truax",
    improvement: Improvement = "increase",
    ci: float = 0.95,
    denominator: Literal["se_diff", "sd_diff"] = "se_diff",
    sd_post: float | None = None,
    sd_diff: float | None = None,
    nan_policy: _v.NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Reliable change index (RCI) and change category for each person.

    .. math:: \mathrm{RCI}_i = \frac{x_{post,i} - x_{pre,i}}{S_{diff}}

    ``method="jacobson-truax"`` (Jacobson & Truax 1991; default):

    .. math:: S_{diff} = \sqrt{2\,\mathrm{SEM}^2} = \sqrt{2}\, s_{pre} \sqrt{1 - r_{xx}}

    ``method="christensen-mendoza"`` (Christensen & Mendoza 1986, with the pre
    and post variability as in the R package ``rci``, method "CM"):

    .. math:: S_{diff} = \sqrt{s_{pre}^2 + s_{post}^2 - 2\, s_{pre}\, s_{post}\, r_{xx}}

    which equals the Jacobson-Truax value when ``sd_post == sd``.
    ``denominator="sd_diff"`` replaces :math:`S_{diff}` by an observed SD of
    difference scores supplied as ``sd_diff`` (Temkin 2004; the choice of
    denominator is contested, see Maassen 2004).

    A change is *reliable* when :math:`|RCI| > z_{(1+ci)/2}` (1.96 for
    ``ci=0.95``); a reliable change in the direction of ``improvement`` is
    "improved", in the other direction "deteriorated", otherwise "unchanged".

    Parameters
    ----------
    pre, post : array_like
        Paired scores, one per person (a pandas Series keeps its index).
    sd : float or None
        SD of the pre-treatment scores (normative / baseline sample), > 0.
        May be None only with ``denominator="sd_diff"``.
    reliability : float or None
        Test-retest reliability ``r_xx`` in [0, 1). May be None only with
        ``denominator="sd_diff"``.
    method : {"jacobson-truax", "christensen-mendoza"}, optional
        How :math:`S_{diff}` is built from ``sd`` (and ``sd_post``) and ``reliability``.
    improvement : {"increase", "decrease"}, optional
        Direction of therapeutic change (``"decrease"`` for times such as TUG).
    ci : float, optional
        Confidence level of the reliability criterion (0.95 -> ``|RCI| > 1.96``).
    denominator : {"se_diff", "sd_diff"}, optional
        ``"se_diff"`` (default): the standard error of the difference of ``method``;
        ``"sd_diff"``: the observed SD of difference scores given as ``sd_diff``.
    sd_post : float, optional
        SD of the post scores; required by ``method="christensen-mendoza"``.
    sd_diff : float, optional
        Observed SD of pre-post differences (e.g. in a retest or control
        sample); required by, and only allowed with, ``denominator="sd_diff"``.
    nan_policy : {"omit", "raise"}, optional
        Pairs with a missing value are omitted with a :class:`RehabStatsWarning`
        (``"omit"``) or raise a :class:`DataError` (``"raise"``).

    Returns
    -------
    pandas.DataFrame
        One row per complete pair (index from ``pre`` if it is a Series) with
        columns ``pre, post, change, rci, reliable, category``; ``category`` is
        categorical with levels improved / unchanged / deteriorated. ``.attrs``
        records ``method, denominator, s_diff, criterion, ci, improvement,
        n_omitted``.

    Raises
    ------
    DataError
        Unequal lengths, non-numeric values, ``reliability`` outside [0, 1),
        non-positive SDs, a missing ``sd_post``/``sd_diff``, a zero denominator.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). *J Consult Clin Psychol*, 59(1), 12-19.
    doi:10.1037/0022-006X.59.1.12

    Christensen, L., & Mendoza, J. L. (1986). A method of assessing change in a
    single subject: an alteration of the RC index. *Behav Ther*, 17, 305-308.

    Maassen, G. H. (2004) and Temkin, N. R. (2004), *J Int Neuropsychol Soc*: the
    SE_diff versus SD_diff debate (https://pubmed.ncbi.nlm.nih.gov/15637779/).

    Notes
    -----
    Christensen & Mendoza's original point was that Jacobson, Follette &
    Revenstorf (1984) divided by SEM instead of the SE of a *difference*; the
    sqrt(2) SEM denominator of Jacobson & Truax (1991) already includes that
    correction (scan's ``rci()`` labels it "Christensen and Mendoza"). The
    variant offered here additionally lets the post-test SD differ from the
    pre-test SD.

    Examples
    --------
    >>> from rehabstats import change
    >>> out = change.reliable_change([1.2, 2.0, 1.5], [3.1, 2.2, 0.4],
    ...                              sd=0.6, reliability=0.85)
    >>> out["category"].tolist()
    ['improved', 'unchanged', 'deteriorated']
    """
    method = _v.check_option(method, "method", ("jacobson-truax", "christensen-mendoza"))
    improvement = _v.check_improvement(improvement)
    ci = _v.check_ci(ci)
    denominator = _v.check_option(denominator, "denominator", ("se_diff", "sd_diff"))
    nan_policy = _v.check_nan_policy(nan_policy)

    # -- denominator
    if denominator == "sd_diff":
        if sd_diff is None:
            raise DataError(
                "denominator='sd_diff' needs the observed SD of difference scores "
                "as 'sd_diff' (e.g. from a test-retest or control sample)."
            )
        s_diff = _scalar_param(sd_diff, "sd_diff", allow_zero=False)
        for name, val in (("sd", sd), ("reliability", reliability)):
            if val is not None:  # still validate what was given
                (_check_sd if name == "sd" else _check_reliability)(val)
        method_label = "temkin-sd-diff"
    else:
        if sd_diff is not None:
            raise DataError(
                "'sd_diff' is only used with denominator='sd_diff'; "
                f"got sd_diff={_v.show_value(sd_diff)} with denominator='se_diff'."
            )
        if sd is None or reliability is None:
            raise DataError("'sd' and 'reliability' are required with denominator='se_diff'.")
        s_pre = _scalar_param(sd, "sd", allow_zero=False)
        rel = float(
            _check_reliability(_scalar_param(reliability, "reliability", allow_zero=True))[0]
        )
        if method == "jacobson-truax":
            if sd_post is not None:
                raise DataError("'sd_post' is only used by method='christensen-mendoza'.")
            s_diff = math.sqrt(2.0) * s_pre * math.sqrt(1.0 - rel)
        else:
            if sd_post is None:
                raise DataError(
                    "method='christensen-mendoza' needs the SD of the post scores as 'sd_post'."
                )
            s_post = _scalar_param(sd_post, "sd_post", allow_zero=False)
            var = s_pre**2 + s_post**2 - 2.0 * s_pre * s_post * rel
            s_diff = math.sqrt(max(var, 0.0))
        if s_diff <= 0:
            raise DataError(
                "The standard error of the difference is zero (reliability 0 "
                "cannot give this; check 'sd' and 'sd_post'), so the RCI is "
                "undefined."
            )
        method_label = method

    # -- data (paired by position; two Series must agree on who is who)
    if (
        isinstance(pre, pd.Series)
        and isinstance(post, pd.Series)
        and not pre.index.equals(post.index)
    ):
        raise DataError(
            "'pre' and 'post' are Series with different indexes; pairs are "
            "matched by position, so align them first (e.g. post.reindex(pre.index))."
        )
    a, index = _numeric_vector(pre, "pre")
    b, _ = _numeric_vector(post, "post")
    if a.size != b.size:
        raise DataError(
            f"'pre' and 'post' are paired and must have the same length; got {a.size} and {b.size}."
        )
    if a.size == 0:
        raise DataError("'pre' and 'post' are empty.")
    keep = ~(np.isnan(a) | np.isnan(b))
    n_omitted = int((~keep).sum())
    _announce(n_omitted, "the pairs ('pre', 'post')", nan_policy)
    if not keep.any():
        raise DataError("'pre'/'post' have no complete pair.")
    a, b, index = a[keep], b[keep], index[keep]

    change = b - a
    rci = change / s_diff
    criterion = float(stats.norm.ppf(0.5 + ci / 2.0))
    reliable = np.abs(rci) > criterion
    sign = 1.0 if improvement == "increase" else -1.0
    labels = np.where(~reliable, "unchanged", np.where(sign * rci > 0, "improved", "deteriorated"))
    out = pd.DataFrame(
        {
            "pre": a,
            "post": b,
            "change": change,
            "rci": rci,
            "reliable": reliable,
            "category": pd.Categorical(labels, categories=list(CATEGORIES)),
        },
        index=index,
    )
    out.attrs.update(
        method=method_label,
        denominator=denominator,
        s_diff=s_diff,
        criterion=criterion,
        ci=ci,
        improvement=improvement,
        n_omitted=n_omitted,
    )
    return out


# --------------------------------------------------------------------------- responders
def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval (= R prop.test(correct = FALSE))."""
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def _clopper_pearson(k: int, n: int, ci: float) -> tuple[float, float]:
    """Exact interval from beta quantiles (= R binom.test)."""
    alpha = 1.0 - ci
    low = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


@dataclass(frozen=True, eq=False)
class ResponderResult(Result):
    """MCID responders: per-person flags and the responder proportion.

    Attributes
    ----------
    proportion : float
        Share of persons whose change reached the MCID in the direction of improvement.
    ci_low, ci_high, ci_level, ci_method : float, float, float, str
        Confidence interval of the proportion (``"wilson"`` or ``"clopper-pearson"``).
    n_responders, n, n_omitted : int
        Responders, persons with a change score, and persons omitted as missing.
    mcid : float
        The threshold (a positive magnitude in the outcome's unit).
    improvement : str
        ``"increase"`` or ``"decrease"``.
    persons : pandas.DataFrame
        Columns ``change, responder`` (index from ``change`` if it was a Series).
    """

    proportion: float
    ci_low: float
    ci_high: float
    ci_level: float
    ci_method: str
    n_responders: int
    n: int
    n_omitted: int
    mcid: float
    improvement: str
    persons: pd.DataFrame = field(repr=False)

    @property
    def flags(self) -> pd.Series:
        """Boolean responder flag per person."""
        return self.persons["responder"].copy()

    @property
    def ci(self) -> tuple[float, float]:
        """The confidence interval as ``(low, high)``."""
        return (self.ci_low, self.ci_high)

    def to_frame(self) -> pd.DataFrame:
        """One row: ``measure, estimate, ci_low, ci_high, ci_level, ci_method, n_responders,
        n, n_omitted, mcid, improvement``.
        """
        return pd.DataFrame(
            [
                {
                    "measure": "responder_proportion",
                    "estimate": self.proportion,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "ci_level": self.ci_level,
                    "ci_method": self.ci_method,
                    "n_responders": self.n_responders,
                    "n": self.n,
                    "n_omitted": self.n_omitted,
                    "mcid": self.mcid,
                    "improvement": self.improvement,
                }
            ]
        )

    def summary(self) -> str:
        """One line, e.g. ``7/10 responders (70.0%) [95% CI 39.7%, 89.2%] (wilson) ...``."""
        pct = format_number(100 * self.ci_level, 0 if (100 * self.ci_level).is_integer() else 1)
        sign = ">= " if self.improvement == "increase" else "<= -"
        text = (
            f"{self.n_responders}/{self.n} responders ({100 * self.proportion:.1f}%) "
            f"[{pct}% CI {100 * self.ci_low:.1f}%, {100 * self.ci_high:.1f}%] "
            f"({self.ci_method}); responder: change {sign}{format_number(self.mcid)}"
        )
        if self.n_omitted:
            text += f"; {self.n_omitted} missing omitted"
        return text

    def __repr__(self) -> str:
        return f"<ResponderResult {self.summary()}>"


def responders(
    change: ArrayLike,
    *,
    mcid: float,
    improvement: Improvement | None = None,
    ci: float = 0.95,
    measure: str | None = None,
    ci_method: Literal["wilson", "clopper-pearson"] = "wilson",
    nan_policy: _v.NanPolicy = "omit",
) -> ResponderResult:
    r"""Flag MCID responders and estimate the responder proportion.

    A person responds when the change reaches the MCID in the direction of
    improvement: ``change >= mcid`` for ``improvement="increase"``,
    ``change <= -mcid`` for ``"decrease"``. (A relative tolerance of 1e-9 is
    allowed so that e.g. 2.3 - 1.8 counts as reaching 0.5 despite binary
    floating point.)

    The proportion :math:`\hat p = k/n` gets a Wilson score interval (equal to
    R's ``prop.test(k, n, correct = FALSE)$conf.int``),

    .. math:: \frac{\hat p + z^2/2n \pm z\sqrt{\hat p(1-\hat p)/n + z^2/4n^2}}{1 + z^2/n},

    or a Clopper-Pearson exact interval (R's ``binom.test(k, n)$conf.int``).

    Parameters
    ----------
    change : array_like
        Change scores (post - pre), one per person.
    mcid : float
        Minimal clinically important difference, a positive magnitude in the
        unit of the outcome (see :func:`rehabstats.measures.thresholds`).
    improvement : {"increase", "decrease"}, optional
        Direction of improvement. Default: taken from ``measure`` when given,
        otherwise ``"increase"``.
    ci : float, optional
        Confidence level of the interval.
    measure : str, optional
        A name known to :mod:`rehabstats.measures` (e.g. ``"tug"``); sets the
        direction of improvement. Giving a conflicting ``improvement`` is an error.
    ci_method : {"wilson", "clopper-pearson"}, optional
        Interval for the proportion.
    nan_policy : {"omit", "raise"}, optional
        Missing change scores are omitted with a warning, or raise.

    Returns
    -------
    ResponderResult

    References
    ----------
    Wilson, E. B. (1927). *J Am Stat Assoc*, 22, 209-212. doi:10.1080/01621459.1927.10502953

    Clopper, C. J., & Pearson, E. S. (1934). *Biometrika*, 26, 404-413.
    doi:10.1093/biomet/26.4.404

    Examples
    --------
    >>> from rehabstats import change
    >>> res = change.responders([-4.0, -1.0, -3.5, 0.5], mcid=3.2, measure="tug")
    >>> res.n_responders, res.improvement
    (2, 'decrease')
    """
    if measure is not None:
        from . import measures as _measures  # local import: measures imports nothing from here

        implied = _measures.improvement(measure)
        if improvement is not None and _v.check_improvement(improvement) != implied:
            raise DataError(
                f"improvement={_v.show_value(improvement)} contradicts measure={_v.show_value(measure)}, for which "
                f"improvement is a {implied}."
            )
        improvement = implied
    improvement = _v.check_improvement("increase" if improvement is None else improvement)
    ci = _v.check_ci(ci)
    ci_method = _v.check_option(ci_method, "ci_method", ("wilson", "clopper-pearson"))
    nan_policy = _v.check_nan_policy(nan_policy)
    if (
        isinstance(mcid, (numbers.Real, np.number))
        and not isinstance(mcid, bool)
        and float(mcid) <= 0
    ):
        raise DataError(
            f"The 'mcid' argument is a magnitude and must be greater than zero "
            f"(the direction comes from 'improvement'/'measure'); got {_v.show_value(mcid)}."
        )
    mcid_v = _v.check_positive(mcid, "mcid")

    values, index = _numeric_vector(change, "change")
    keep = ~np.isnan(values)
    n_omitted = int((~keep).sum())
    _announce(n_omitted, "'change'", nan_policy)
    values, index = values[keep], index[keep]
    if values.size == 0:
        raise DataError("'change' has no non-missing value.")

    tol = 1e-9 * max(1.0, mcid_v)
    if improvement == "increase":
        flags = values >= mcid_v - tol
    else:
        flags = values <= -mcid_v + tol
    k, n = int(flags.sum()), int(values.size)
    if ci_method == "wilson":
        low, high = _wilson(k, n, float(stats.norm.ppf(0.5 + ci / 2.0)))
    else:
        low, high = _clopper_pearson(k, n, ci)
    persons = pd.DataFrame({"change": values, "responder": flags}, index=index)
    return ResponderResult(
        proportion=k / n,
        ci_low=low,
        ci_high=high,
        ci_level=ci,
        ci_method=ci_method,
        n_responders=k,
        n=n,
        n_omitted=n_omitted,
        mcid=mcid_v,
        improvement=improvement,
        persons=persons,
    )


# --------------------------------------------------------------------------- GAS
_GAS_LEVELS = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])


def _gas_t(x: _FloatArray, w: _FloatArray, rho: float) -> _FloatArray:
    """Row-wise Kiresuk-Sherman T; NaN cells (unscored goals) are left out of a row."""
    present = ~np.isnan(x)
    wx = np.where(present, w * np.nan_to_num(x), 0.0).sum(axis=1)
    ww = np.where(present, w, 0.0)
    denom = np.sqrt((1.0 - rho) * (ww**2).sum(axis=1) + rho * ww.sum(axis=1) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = 50.0 + 10.0 * wx / denom
    return np.where(denom > 0, t, np.nan)


def gas_tscore(
    scores: Any,
    *,
    weights: ArrayLike | None = None,
    rho: float = 0.3,
    nan_policy: _v.NanPolicy = "omit",
) -> Any:
    r"""Goal Attainment Scaling T-score (Kiresuk & Sherman 1968).

    .. math:: T = 50 + \frac{10 \sum_i w_i x_i}
                         {\sqrt{(1-\rho)\sum_i w_i^2 + \rho\left(\sum_i w_i\right)^2}}

    with goal attainment levels :math:`x_i \in \{-2, -1, 0, +1, +2\}` (0 = the
    expected outcome), weights :math:`w_i` and the assumed inter-goal
    correlation :math:`\rho` (0.30 by convention). With equal weights this is
    :math:`50 + 10\sum x_i / \sqrt{0.7n + 0.3n^2}`. T = 50 means goals were met
    as expected on average; the SD of T is 10 if the assumptions hold.

    Parameters
    ----------
    scores : array_like or pandas.DataFrame
        One person's goal scores (1-D), or a persons x goals table (DataFrame or
        2-D array), values in {-2, -1, 0, 1, 2}. In a table a missing cell is a
        goal that person did not set or rate: the T-score uses that person's
        other goals (and their weights), with a :class:`RehabStatsWarning`.
    weights : array_like, optional
        Non-negative goal weights (importance x difficulty in Turner-Stokes
        2009), one per goal (column); default all 1.
    rho : float, optional
        Inter-goal correlation in [0, 1].
    nan_policy : {"omit", "raise"}, optional
        For tables: leave missing goals out (with a warning) or raise.

    Returns
    -------
    float, pandas.Series or numpy.ndarray
        A float for 1-D scores; a Series named ``gas_t`` indexed by person for
        a DataFrame; an array for a 2-D array. A person with no rated goal gets NaN.

    Raises
    ------
    DataError
        Scores outside {-2, ..., 2} or non-integer, wrong number of weights,
        negative or all-zero weights, ``rho`` outside [0, 1], missing values in
        1-D scores.

    References
    ----------
    Kiresuk, T. J., & Sherman, R. E. (1968). Goal attainment scaling: a general
    method for evaluating comprehensive community mental health programs.
    *Community Ment Health J*, 4(6), 443-453. doi:10.1007/BF01530764

    Turner-Stokes, L. (2009). Goal attainment scaling (GAS) in rehabilitation: a
    practical guide. *Clin Rehabil*, 23(4), 362-370 (formulas as corrected in
    the erratum). doi:10.1177/0269215508101742

    Examples
    --------
    >>> from rehabstats import change
    >>> round(change.gas_tscore([0, 1, -1, 2]), 3)
    57.255
    """
    rho_v = _v.check_positive(rho, "rho", allow_zero=True)
    if rho_v > 1:
        raise DataError(
            f"The 'rho' argument is a correlation and must be in [0, 1]; got {_v.show_value(rho)}."
        )
    nan_policy = _v.check_nan_policy(nan_policy)

    kind: str
    index: pd.Index | None = None
    if isinstance(scores, pd.DataFrame):
        kind, index = "frame", scores.index
        cols = [_v.check_numeric_column(scores, c, "scores") for c in scores.columns]
        if not cols:
            raise DataError("'scores' has no goal columns.")
        x = np.column_stack([c.to_numpy(dtype=float) for c in cols])
    else:
        if isinstance(scores, (str, bytes)):
            raise DataError(
                f"'scores' must be numbers in -2..2; got a string {_v.show_value(scores)}."
            )
        raw = np.asarray(scores.to_numpy() if isinstance(scores, pd.Series) else scores)
        if raw.ndim <= 1:
            kind = "vector"
            x = _v._to_numeric_1d(raw.reshape(-1), "scores").reshape(1, -1)
        elif raw.ndim == 2:
            kind = "array"
            try:
                x = raw.astype(float)
            except (TypeError, ValueError):
                raise DataError("'scores' must be numeric.") from None
        else:
            raise DataError(f"'scores' must be 1-D or 2-D; got shape {raw.shape}.")
    if x.size == 0:
        raise DataError("'scores' is empty.")
    if np.isinf(x).any():
        raise DataError("'scores' contains an infinite value; goal scores are -2..2.")

    finite = x[~np.isnan(x)]
    bad = ~np.isin(finite, _GAS_LEVELS)
    if bad.any():
        raise DataError(
            "Goal attainment scores must be one of -2, -1, 0, 1, 2; "
            f"got {_v.show_value(finite[bad][0])}."
        )
    n_missing = int(np.isnan(x).sum())
    if n_missing:
        if kind == "vector":
            raise DataError(
                f"'scores' contains {n_missing} missing value(s); drop unset goals "
                "(and their weights) or pass a persons x goals table."
            )
        _announce(n_missing, "goal scores", nan_policy)

    n_goals = x.shape[1]
    if weights is None:
        w = np.ones(n_goals)
    else:
        w = _v._to_numeric_1d(weights, "weights")
        if w.size != n_goals:
            raise DataError(
                f"'weights' needs one weight per goal: {n_goals} goal(s), got {w.size} weight(s)."
            )
        if np.isnan(w).any() or (w < 0).any():
            raise DataError("'weights' must be non-negative numbers without missing values.")
        if not (w > 0).any():
            raise DataError("'weights' are all zero.")

    t = _gas_t(x, w, rho_v)
    if kind == "vector":
        return float(t[0])
    if kind == "frame":
        return pd.Series(t, index=index, name="gas_t")
    return t


# Measurement studies (ICC, Bland-Altman) live in their own module and are part of rs.change.
from ._reliability import BlandAltmanResult, ICCResult, bland_altman, icc  # noqa: E402

__all__ += ["BlandAltmanResult", "ICCResult", "bland_altman", "icc"]
