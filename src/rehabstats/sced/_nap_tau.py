"""NAP and Tau (the Mann-Whitney family) for single-case designs.

Conventions of every index function (phases, ``n_x`` / ``n_y``, SingleCaseES
defaults and scan options): :mod:`rehabstats.sced._common`.

``_nap_core`` and the batch cores work on 2-D arrays holding many series of
equal phase lengths (one series per row); Tau-BC reuses them on detrended data.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from scipy import optimize

from .._axis import batch_axis
from .._batch_results import BatchEffectSizeResult
from .._results import EffectSizeResult
from .._validate import check_option
from ._axis import BatchCoreResult, sced_batch
from ._common import as_phase_arrays, check_optional_ci, make_result, orient, zcrit

__all__ = ["nap", "tau"]


SEMethod = Literal["unbiased", "hanley", "null"]


_SE_METHODS = ("unbiased", "hanley", "null")


def _q_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Q[s, i, j] = 1 if B_j > A_i, 0.5 if tied, 0 otherwise."""
    ai = a[:, :, None]
    bj = b[:, None, :]
    return (bj > ai) + 0.5 * (bj == ai)


def _nap_core(a: np.ndarray, b: np.ndarray, se_method: str) -> tuple[np.ndarray, np.ndarray]:
    """NAP and its standard error (SingleCaseES formulas, truncated NAP in the variance)."""
    m, n = a.shape[1], b.shape[1]
    q = _q_matrix(a, b)
    est = q.mean(axis=(1, 2))
    dev = q - est[:, None, None]
    q1 = np.sum(dev.sum(axis=2) ** 2, axis=1) / (m * n**2)
    q2 = np.sum(dev.sum(axis=1) ** 2, axis=1) / (m**2 * n)
    trunc = 0.5 / (m * n)
    nt = np.clip(est, trunc, 1 - trunc) if trunc <= 0.5 else est
    with np.errstate(divide="ignore", invalid="ignore"):
        if se_method == "unbiased":
            x = np.sum(dev**2, axis=(1, 2)) / (m * n)
            v = (nt * (1 - nt) + n * q1 + m * q2 - 2 * x) / ((m - 1) * (n - 1))
        elif se_method == "hanley":
            v = (nt * (1 - nt) + (n - 1) * q1 + (m - 1) * q2) / (m * n)
        else:
            v = np.full_like(est, (m + n + 1) / (12 * m * n))
        se = np.sqrt(v)
    return est, se


def _newcombe_ci(est: np.ndarray, m: int, n: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe (2006) method 5 score interval for NAP, solved by vectorised bisection.

    The limits are the roots in [0, NAP] and [NAP, 1] of
    ``m n (NAP - x)^2 (2 - x)(1 + x) - z^2 x (1 - x)(2 + h + (1 + 2h) x (1 - x))``
    with ``h = (m + n)/2 - 1``. SingleCaseES solves the same equation with R's
    ``uniroot`` (tolerance about 1.2e-4); bisection here runs to machine precision.
    """
    z2 = zcrit(level) ** 2
    h = (m + n) / 2 - 1

    def f(x: np.ndarray) -> np.ndarray:
        return m * n * (est - x) ** 2 * (2 - x) * (1 + x) - z2 * x * (1 - x) * (
            2 + h + (1 + 2 * h) * x * (1 - x)
        )

    def solve(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        flo = f(lo)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            fm = f(mid)
            same = np.sign(fm) == np.sign(flo)
            lo = np.where(same, mid, lo)
            flo = np.where(same, fm, flo)
            hi = np.where(same, hi, mid)
        return 0.5 * (lo + hi)

    if est.size == 1:  # one series: scalar Brent root finding is faster than bisection
        e = float(est[0])

        def f1(x: float) -> float:
            return float(f(np.array([x]))[0])

        lo1 = optimize.brentq(f1, 0.0, e, xtol=1e-14) if e > 0 else 0.0
        hi1 = optimize.brentq(f1, e, 1.0, xtol=1e-14) if e < 1 else 1.0
        lower, upper = np.array([lo1]), np.array([hi1])
    else:
        zero = np.zeros_like(est)
        one = np.ones_like(est)
        lower = np.where(est > 0, solve(zero.copy(), est.copy()), 0.0)
        upper = np.where(est < 1, solve(est.copy(), one.copy()), 1.0)
    # At NAP = 1 (0) the equation is exactly 0 at the end of the search interval,
    # where uniroot stops: SingleCaseES reports the degenerate interval [1, 1] ([0, 0]).
    lower = np.where(est == 1, 1.0, lower)
    upper = np.where(est == 0, 0.0, upper)
    return lower, upper


def _newcombe_interior(est: float, m: int, n: int, level: float) -> tuple[float, float]:
    """Newcombe limits at NAP = 0 or 1 found strictly inside (0, 1)."""
    z2 = zcrit(level) ** 2
    h = (m + n) / 2 - 1

    def f(x: float) -> float:
        return m * n * (est - x) ** 2 * (2 - x) * (1 + x) - z2 * x * (1 - x) * (
            2 + h + (1 + 2 * h) * x * (1 - x)
        )

    eps = 1e-12
    if est == 1.0:
        return float(optimize.brentq(f, 0.0, 1 - eps, xtol=1e-14)), 1.0
    return 0.0, float(optimize.brentq(f, eps, 1.0, xtol=1e-14))


def nap(
    baseline: Any,
    treatment: Any,
    *,
    improvement: str = "increase",
    ci: float | None = 0.95,
    se_method: SEMethod = "unbiased",
    ci_method: Literal["newcombe", "score"] = "newcombe",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    """Non-overlap of all pairs (Parker & Vannest, 2009).

    ``NAP = (1 / (m n)) sum_i sum_j [1(B_j > A_i) + 0.5 * 1(B_j = A_i)]`` with
    ``m = n_A`` and ``n = n_B``. Null value 0.5, range [0, 1].

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases in session order.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.
    ci : float or None
        Confidence level of the interval; ``None`` for no interval.
    se_method : {"unbiased", "hanley", "null"}
        Standard error: the exactly unbiased variance estimator (Sen, 1967;
        Mee, 1990), Hanley & McNeil (1982), or the null variance
        ``(m + n + 1) / (12 m n)``. The first two use NAP truncated to
        ``[0.5/(m n), 1 - 0.5/(m n)]`` in ``NAP (1 - NAP)`` (SingleCaseES 0.7).
    ci_method : {"newcombe", "score"}
        Both are the Newcombe (2006) method-5 score interval, the roots of
        ``m n (NAP - x)^2 (2 - x)(1 + x) = z^2 x (1 - x)(2 + h + (1 + 2h) x (1 - x))``,
        ``h = (m + n)/2 - 1``. ``"newcombe"`` (default) reproduces SingleCaseES
        exactly, including its degenerate interval at NAP = 1 (0), see Notes.
        ``"score"`` takes the root strictly inside (0, 1) there, Newcombe's own
        limit, so the interval never collapses (e.g. [0.643, 1] for NAP = 1 with
        5 + 5 observations); it equals ``"newcombe"`` whenever 0 < NAP < 1.

    axis : int or None, optional
        Axis holding the observations when ``baseline``/``treatment`` have two or
        more dimensions, e.g. ``axis=1`` for arrays of shape ``(n_series, n_A)`` and
        ``(n_series, n_B)`` (scipy's rule: default 0, the other axes broadcast). The
        result is then a :class:`~rehabstats._batch_results.BatchEffectSizeResult`
        whose element ``i`` equals this function on series ``i`` (missing values
        dropped per series; a series whose call warns or raises is named in one
        ``RehabStatsWarning``, NaN where it raises). ``None`` ravels each input.

    Returns
    -------
    EffectSizeResult
        ``measure="nap"``, ``ci_method`` as requested; ``details["trunc"]`` is
        the truncation constant ``0.5/(m n)``.

    Warns
    -----
    RehabStatsWarning
        The standard error is not finite: with one observation in a phase the
        unbiased variance divides by ``(m - 1)(n - 1) = 0``. The value is then
        what SingleCaseES reports (``Inf``, or NaN for 0/0); ``se_method="hanley"``
        or ``"null"`` give a finite standard error.

    Notes
    -----
    At NAP = 1 (or 0) the score equation is also zero at the end of the search
    interval, and SingleCaseES (R's ``uniroot`` on ``[0, NAP]``) reports the
    degenerate interval [1, 1] ([0, 0]); ``ci_method="newcombe"`` does the same so
    that results agree with SingleCaseES. That zero-width interval is an artefact
    of the root search, not a statement of certainty: report
    ``ci_method="score"`` (whose lower limit is also stored as
    ``details["ci_low_interior"]`` under the default).

    References
    ----------
    Parker, R. I., & Vannest, K. (2009). An improved effect size for
    single-case research: Nonoverlap of all pairs. *Behavior Therapy*, 40(4),
    357-367. doi:10.1016/j.beth.2008.10.006

    Newcombe, R. G. (2006). Confidence intervals for an effect size measure
    based on the Mann-Whitney statistic. Part 2. *Statistics in Medicine*,
    25(4), 559-573. doi:10.1002/sim.2324

    Examples
    --------
    >>> from rehabstats.sced import nap
    >>> res = nap([4, 3, 4, 3, 4, 7, 5, 2, 3, 2], [5, 9, 7, 9, 7, 5, 9, 11, 11, 10, 9])
    >>> round(res.estimate, 4)
    0.9636
    >>> full = nap([1, 2, 3, 2, 1], [5, 6, 7, 6, 5], ci_method="score")
    >>> full.estimate, round(full.ci_low, 3), full.ci_high
    (1.0, 0.643, 1.0)
    >>> import numpy as np
    >>> batch = nap(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == nap([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch(
            "nap",
            baseline,
            treatment,
            axis=batch,
            improvement=improvement,
            ci=ci,
            se_method=se_method,
            ci_method=ci_method,
        )
    return _nap(baseline, treatment, improvement, ci, se_method, ci_method)


def _nap(
    baseline: Any, treatment: Any, improvement: Any, ci: Any, se_method: Any, ci_method: Any
) -> EffectSizeResult:
    """The one-series NAP, called directly by :func:`nap`, :func:`tau` and ``tau_bc`` (one
    frame below each), so that its warnings name the caller of each.
    """
    se_method = check_option(se_method, "se_method", _SE_METHODS)
    ci_method = check_option(ci_method, "ci_method", ("newcombe", "score"))
    level = check_optional_ci(ci)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement, stacklevel=5)
    a2, b2 = orient(a[None, :], b[None, :], improvement)
    est, se = _nap_core(a2, b2, se_method)
    interval = None
    details: dict[str, Any] = {"se_method": se_method, "trunc": 0.5 / (a.size * b.size)}
    if level is not None:
        lo, hi = _newcombe_ci(est, a.size, b.size, level)
        interval = (float(lo[0]), float(hi[0]))
        if est[0] in (0.0, 1.0):
            lo_i, hi_i = _newcombe_interior(float(est[0]), a.size, b.size, level)
            details.update(ci_low_interior=lo_i, ci_high_interior=hi_i)
            if ci_method == "score":
                interval = (lo_i, hi_i)
    reason = None
    if min(a.size, b.size) < 2 and se_method == "unbiased":
        reason = (
            "a phase has one observation, so the unbiased variance divides by "
            "(m - 1)(n - 1) = 0 (SingleCaseES reports the same value); use "
            "se_method='hanley' or 'null' for a finite standard error"
        )
    return make_result(
        "nap",
        est[0],
        se=se[0],
        ci=interval,
        ci_level=level,
        ci_method=ci_method,
        n_baseline=a.size,
        n_treatment=b.size,
        n_omitted=omitted,
        details=details,
        reason=reason,
        stacklevel=4,  # make_result, _nap, nap or tau: their caller
    )


def tau(
    baseline: Any,
    treatment: Any,
    *,
    improvement: str = "increase",
    ci: float | None = 0.95,
    se_method: SEMethod = "unbiased",
    ci_method: Literal["newcombe", "score"] = "newcombe",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    """Tau (non-overlap), the linear rescaling ``Tau = 2 NAP - 1`` (Parker et al., 2011).

    Equals the sum over all pairs of ``sign(B_j - A_i)`` divided by ``m n``
    (Kendall's tau-a restricted to between-phase pairs, without tie
    adjustment). The standard error and interval are those of :func:`nap`
    transformed: ``SE = 2 SE_NAP``, limits ``2 L - 1``.

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases in session order.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.
    ci : float or None
        Confidence level (Newcombe method 5 via NAP); ``None`` for none.
    se_method : {"unbiased", "hanley", "null"}
        As in :func:`nap`.
    ci_method : {"newcombe", "score"}
        As in :func:`nap` (``"score"`` does not collapse at Tau = 1 or -1).

    axis : int or None, optional
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

    Returns
    -------
    EffectSizeResult
        ``measure="tau"``.

    References
    ----------
    Parker, R. I., Vannest, K. J., Davis, J. L., & Sauber, S. B. (2011).
    Combining nonoverlap and trend for single-case research: Tau-U. *Behavior
    Therapy*, 42(2), 284-299. doi:10.1016/j.beth.2010.08.006

    Examples
    --------
    >>> from rehabstats.sced import tau
    >>> round(tau([2, 3, 5, 3], [4, 5, 5, 7, 6]).estimate, 4)
    0.8
    >>> import numpy as np
    >>> batch = tau(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == tau([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch(
            "tau",
            baseline,
            treatment,
            axis=batch,
            improvement=improvement,
            ci=ci,
            se_method=se_method,
            ci_method=ci_method,
        )
    return _nap_to_tau(_nap(baseline, treatment, improvement, ci, se_method, ci_method), "tau")


def _nap_to_tau(res: EffectSizeResult, measure: str) -> EffectSizeResult:
    has_ci = res.ci_method != "none"
    return make_result(
        measure,
        2 * res.estimate - 1,
        se=2 * res.se,
        ci=(2 * res.ci_low - 1, 2 * res.ci_high - 1) if has_ci else None,
        ci_level=res.ci_level if has_ci else None,
        ci_method=res.ci_method,
        n_baseline=res.n_y or 0,
        n_treatment=res.n_x or 0,
        n_omitted=res.n_omitted,
        details={**res.details, "trunc": 2 * res.details.get("trunc", math.nan)},
        warn=False,  # nap() has already warned
    )


# --------------------------------------------------------------------------- batch cores
# (registry rows: rehabstats.sced._registry; options as in effect_sizes)


def _nap_block(oa: np.ndarray, ob: np.ndarray, opts: dict[str, Any]) -> BatchCoreResult:
    """NAP, SE and interval of oriented series (rows); Tau and Tau-BC transform it."""
    m, n = oa.shape[1], ob.shape[1]
    level = opts["ci"]
    est, se = _nap_core(oa, ob, opts["se_method"])
    if level is not None:
        lo, hi = _newcombe_ci(est, m, n, level)
        if opts["nap_ci_method"] == "score":
            for r in np.flatnonzero((est == 0) | (est == 1)):
                lo[r], hi[r] = _newcombe_interior(float(est[r]), m, n, level)
    else:
        lo = hi = np.full(est.shape[0], np.nan)
    return est, se, lo, hi, opts["nap_ci_method"]


def _as_tau(out: BatchCoreResult) -> BatchCoreResult:
    """Tau = 2 NAP - 1, applied to a NAP batch result."""
    est, se, lo, hi, method = out
    return 2 * est - 1, 2 * se, 2 * lo - 1, 2 * hi - 1, method


def _nap_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult:
    return _nap_block(*orient(a, b, improvement), opts)


def _tau_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult:
    return _as_tau(_nap_batch(a, b, improvement, opts))


def _nap_axis_options(kw: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    opts["se_method"] = check_option(kw["se_method"], "se_method", _SE_METHODS)
    opts["nap_ci_method"] = check_option(kw["ci_method"], "ci_method", ("newcombe", "score"))
    return opts
