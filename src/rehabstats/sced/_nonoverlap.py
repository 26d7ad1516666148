"""Non-overlap indices for single-case designs: PND, PEM, PAND, IRD, NAP, Tau, Tau-U, Tau-BC.

Every public function takes the baseline (phase A) and treatment (phase B)
observations in session order and returns an
:class:`~rehabstats._results.EffectSizeResult` with ``n_x`` = number of
treatment observations and ``n_y`` = number of baseline observations (the
treatment/control convention of the whole library). Defaults reproduce the
numbers of the R package SingleCaseES 0.7.4 (Pustejovsky, Chen, Swan & Grekov);
options reproduce the variants of scan 0.67.1 (Wilbert & Lueke).

The computational cores (``_*_core``) work on 2-D arrays holding many series of
equal phase lengths (one series per row), which is how
:func:`rehabstats.sced.effect_sizes` stays fast on thousands of series.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .._axis import is_batch, ravel_inputs
from .._batch_results import BatchEffectSizeResult
from .._results import EffectSizeResult, format_number
from .._validate import check_option, check_table_column
from ..errors import DataError, RehabStatsWarning
from ._axis import sced_batch
from ._common import as_phase_arrays, check_optional_ci, make_result, zcrit

__all__ = [
    "combine_tau_u",
    "corrected_tau",
    "ird",
    "nap",
    "pand",
    "pem",
    "pnd",
    "tau",
    "tau_bc",
    "tau_u",
    "tau_u_table",
]

SEMethod = Literal["unbiased", "hanley", "null"]
_SE_METHODS = ("unbiased", "hanley", "null")

# ---------------------------------------------------------------------------
# vectorised cores: A has shape (k, m), B has shape (k, n); rows are series
# ---------------------------------------------------------------------------


def _orient(a: np.ndarray, b: np.ndarray, improvement: str) -> tuple[np.ndarray, np.ndarray]:
    """Negate both phases when a decrease is the improvement (SingleCaseES convention)."""
    if improvement == "decrease":
        return -a, -b
    return a, b


def _pnd_core(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.mean(b > a.max(axis=1, keepdims=True), axis=1)


def _pem_core(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    med = np.median(a, axis=1, keepdims=True)
    return np.mean((b > med) + 0.5 * (b == med), axis=1)


def _pand_minimum_core(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Largest number of points kept so that every kept A point lies below every kept B point."""
    k, m = a.shape
    n = b.shape[1]
    x = np.concatenate([np.full((k, 1), -np.inf), np.sort(a, axis=1)], axis=1)  # i kept A points
    y = np.concatenate([np.sort(b, axis=1), np.full((k, 1), np.inf)], axis=1)  # B from j on
    ok = x[:, :, None] < y[:, None, :]
    kept = np.arange(m + 1)[:, None] + (n - np.arange(n + 1))[None, :]
    return np.max(np.where(ok, kept[None, :, :], 0), axis=(1, 2)) / (m + n)


def _pand_sort_core(a: np.ndarray, b: np.ndarray, decrease: bool = False) -> np.ndarray:
    """scan's default PAND: sort all values, count A points in the upper n_B ranks and vice versa.

    ``a`` and ``b`` are already oriented (negated for a decrease). Ties keep the
    session order (baseline first) for an increase; for a decrease scan sorts
    the original values in decreasing order, which puts tied treatment points
    first.
    """
    k, m = a.shape
    n = b.shape[1]
    values = np.concatenate([a, b], axis=1)
    is_b = np.concatenate([np.zeros((k, m), bool), np.ones((k, n), bool)], axis=1)
    if decrease:
        pos = np.broadcast_to(-np.arange(m + n), values.shape)
        order = np.lexsort((pos, values), axis=1)
    else:
        order = np.argsort(values, axis=1, kind="stable")
    sorted_b = np.take_along_axis(is_b, order, axis=1)
    a_high = np.sum(~sorted_b[:, m:], axis=1)  # A points among the top n ranks
    b_low = np.sum(sorted_b[:, :m], axis=1)  # B points among the bottom m ranks
    return 1 - (a_high + b_low) / (m + n)


def _q_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Q[s, i, j] = 1 if B_j > A_i, 0.5 if tied, 0 otherwise."""
    ai = a[:, :, None]
    bj = b[:, None, :]
    return (bj > ai) + 0.5 * (bj == ai)


def _nap_core(
    a: np.ndarray, b: np.ndarray, se_method: str
) -> tuple[np.ndarray, np.ndarray]:
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


def _kendall_s_within(a: np.ndarray) -> np.ndarray:
    """Kendall's S of the values against time within each row: sum over i<j of sign(a_j - a_i)."""
    m = a.shape[1]
    iu, ju = np.triu_indices(m, k=1)
    return np.sum(np.sign(a[:, ju] - a[:, iu]), axis=1)


def _s_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum over all (A_i, B_j) pairs of sign(B_j - A_i)."""
    return np.sum(np.sign(b[:, None, :] - a[:, :, None]), axis=(1, 2))


def _tau_u_parker_core(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    m, n = a.shape[1], b.shape[1]
    return (_s_between(a, b) - _kendall_s_within(a)) / (m * n)


def _theil_sen_core(a: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Theil-Sen slope (median pairwise slope) and intercept (median of y - slope t) per row."""
    m = a.shape[1]
    if m < 2:
        nan = np.full(a.shape[0], np.nan)
        return nan, nan
    iu, ju = np.triu_indices(m, k=1)
    slopes = (a[:, ju] - a[:, iu]) / (t[ju] - t[iu])
    slope = np.median(slopes, axis=1)
    intercept = np.median(a - t[None, :] * slope[:, None], axis=1)
    return slope, intercept


def _tau_b_two_groups(res_a: np.ndarray, res_b: np.ndarray) -> np.ndarray:
    """Kendall's tau-b between the values and a 0/1 phase dummy (ties adjusted)."""
    m, n = res_a.shape[1], res_b.shape[1]
    s = _s_between(res_a, res_b)
    values = np.concatenate([res_a, res_b], axis=1)
    big_n = m + n
    n0 = big_n * (big_n - 1) / 2
    srt = np.sort(values, axis=1)
    # tied pairs among values: sum over tie groups t(t-1)/2 = number of equal pairs
    eq = srt[:, :, None] == srt[:, None, :]
    ties_x = (eq.sum(axis=(1, 2)) - big_n) / 2
    ties_y = m * (m - 1) / 2 + n * (n - 1) / 2
    den = np.sqrt((n0 - ties_x) * (n0 - ties_y))
    with np.errstate(divide="ignore", invalid="ignore"):
        tau_b = np.where(den > 0, s / den, 0.0)
    return tau_b


def _mann_kendall_p(a: np.ndarray) -> float:
    """Two-sided p-value of Kendall's test of trend of ``a`` against time.

    As ``Kendall::Kendall(...)$sl`` (used by SingleCaseES): normal approximation
    with continuity correction, ``z = (|S| - 1) / sqrt(Var S)``, with the
    tie-adjusted variance ``(n(n-1)(2n+5) - sum t(t-1)(2t+5)) / 18``. (The
    Kendall package computes in single precision, so its p-values agree to
    about 1e-7 relative.) With three observations the Kendall package reports
    p = 1, and so does this function.
    """
    n = a.size
    if n <= 3:  # the Kendall package reports sl = 1 for three observations
        return 1.0
    s = float(_kendall_s_within(a[None, :])[0])
    _, counts = np.unique(a, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(counts * (counts - 1) * (2 * counts + 5))) / 18
    if var <= 0:
        return 1.0
    z = max(abs(s) - 1, 0.0) / math.sqrt(var)
    return float(min(1.0, 2 * stats.norm.sf(z)))


# ---------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------

def pnd(
    baseline: Any, treatment: Any, *, improvement: str = "increase", axis: int | None = 0
) -> EffectSizeResult | BatchEffectSizeResult:
    """Percentage of non-overlapping data (Scruggs, Mastropieri & Casto, 1987).

    PND is the proportion of treatment observations that exceed the highest
    baseline observation (fall below the lowest one when ``improvement =
    "decrease"``): ``PND = mean(B_j > max(A))``. Range [0, 1]; there is no
    standard error. Identical to SingleCaseES ``PND``; scan ``pnd`` reports
    ``100 * PND``.

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the baseline (A) and treatment (B) phase in session
        order; missing values are dropped with a warning.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.

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
        ``measure="pnd"``; ``n_x`` = treatment n, ``n_y`` = baseline n.

    References
    ----------
    Scruggs, T. E., Mastropieri, M. A., & Casto, G. (1987). The quantitative
    synthesis of single-subject research. *Remedial and Special Education*,
    8(2), 24-33. doi:10.1177/074193258700800206

    Examples
    --------
    >>> from rehabstats.sced import pnd
    >>> pnd([20, 20, 26, 25, 22, 23], [28, 25, 24, 27, 30, 30, 29]).estimate
    0.7142857142857143
    >>> import numpy as np
    >>> batch = pnd(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == pnd([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
    if axis is None:
        baseline, treatment = ravel_inputs([baseline, treatment])
    elif is_batch([baseline, treatment], axis):
        return sced_batch("pnd", pnd, baseline, treatment, axis=int(axis),
                          improvement=improvement)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    a2, b2 = _orient(a[None, :], b[None, :], improvement)
    est = _pnd_core(a2, b2)[0]
    return make_result("pnd", est, n_baseline=a.size, n_treatment=b.size, n_omitted=omitted)


def pem(
    baseline: Any, treatment: Any, *, improvement: str = "increase", axis: int | None = 0
) -> EffectSizeResult | BatchEffectSizeResult:
    """Percentage of treatment observations exceeding the baseline median (Ma, 2006).

    ``PEM = mean(1[B_j > median(A)] + 0.5 * 1[B_j = median(A)])``: ties with the
    median count one half, as SingleCaseES ``PEM`` does. (scan ``pem`` counts
    ties as 0 -- "strict" -- and reports percent; see Notes.) Range [0, 1].

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases in session order.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.

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
        ``measure="pem"``; ``details["ties"]`` is the number of treatment
        observations equal to the baseline median and ``details["pem_strict"]``
        the value that counts them as 0 (scan's convention / 100).

    Notes
    -----
    Tie handling: SingleCaseES weights a tie with the baseline median 0.5
    (``estimate``); scan counts only strict exceedances
    (``details["pem_strict"]``).

    References
    ----------
    Ma, H.-H. (2006). An alternative method for quantitative synthesis of
    single-subject researches: Percentage of data points exceeding the median.
    *Behavior Modification*, 30(5), 598-617. doi:10.1177/0145445504272974

    Examples
    --------
    >>> from rehabstats.sced import pem
    >>> pem([20, 20, 26, 25, 22, 23], [28, 25, 24, 27, 30, 30, 29]).estimate
    1.0
    >>> import numpy as np
    >>> batch = pem(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == pem([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
    if axis is None:
        baseline, treatment = ravel_inputs([baseline, treatment])
    elif is_batch([baseline, treatment], axis):
        return sced_batch("pem", pem, baseline, treatment, axis=int(axis),
                          improvement=improvement)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    a2, b2 = _orient(a[None, :], b[None, :], improvement)
    est = _pem_core(a2, b2)[0]
    med = np.median(a2)
    return make_result(
        "pem",
        est,
        n_baseline=a.size,
        n_treatment=b.size,
        n_omitted=omitted,
        details={"ties": int(np.sum(b2 == med)), "pem_strict": float(np.mean(b2 > med))},
    )


def pand(
    baseline: Any,
    treatment: Any,
    *,
    improvement: str = "increase",
    method: Literal["minimum", "sort"] = "minimum",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    """Percentage of all non-overlapping data (Parker, Hagan-Burke & Vannest, 2007).

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases in session order.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.
    method : {"minimum", "sort"}
        ``"minimum"`` (default, SingleCaseES ``PAND`` and scan ``pand(method =
        "minimum")``): the proportion of all observations left after removing
        the fewest observations from either phase so that every remaining
        baseline point lies below every remaining treatment point,
        ``max_{i,j} (i + n_B - j) 1[A_(i) < B_(j+1)] / (n_A + n_B)`` over the
        sorted phases. ``"sort"`` (scan's default ``pand``): all values are
        ranked together (ties by session order), and PAND is one minus the
        share of baseline points among the top ``n_B`` ranks plus treatment
        points among the bottom ``n_A`` ranks.

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
        ``measure="pand"`` as a proportion (scan reports percent);
        ``details["method"]`` and ``details["overlaps"]`` (observations
        removed). With ``method="sort"`` also scan's ``pand()$phi`` and its tests:
        ``details["phi"]`` (``sqrt(chi^2 / N)`` of the 2 x 2 table of data
        phase by sorted phase, ``matrix_counts``), ``chi_square`` and ``chi_p``
        (Pearson, no continuity correction, 1 df), ``fisher_p`` and
        ``fisher_odds_ratio`` (Fisher's exact test, conditional MLE odds ratio,
        as R's ``fisher.test``). phi is unsigned, as in scan.

    References
    ----------
    Parker, R. I., Hagan-Burke, S., & Vannest, K. (2007). Percentage of all
    non-overlapping data (PAND): An alternative to PND. *The Journal of Special
    Education*, 40(4), 194-204. doi:10.1177/00224669070400040101

    Examples
    --------
    >>> from rehabstats.sced import pand
    >>> round(pand([2, 3, 5, 3], [4, 5, 5, 7, 6]).estimate, 4)
    0.8889
    >>> res = pand([20, 20, 26, 25, 22, 23], [28, 25, 24, 27, 30, 30, 29], method="sort")
    >>> round(100 * res.estimate, 5), round(res.details["phi"], 4)  # scan's tests: 84.61538, 0.6905
    (84.61538, 0.6905)
    >>> import numpy as np
    >>> batch = pand(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == pand([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
    if axis is None:
        baseline, treatment = ravel_inputs([baseline, treatment])
    elif is_batch([baseline, treatment], axis):
        return sced_batch("pand", pand, baseline, treatment, axis=int(axis),
                          improvement=improvement, method=method)
    method = check_option(method, "method", ("minimum", "sort"))
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    a2, b2 = _orient(a[None, :], b[None, :], improvement)
    if method == "minimum":
        est = _pand_minimum_core(a2, b2)[0]
        details: dict[str, Any] = {
            "method": method, "overlaps": round((1 - est) * (a.size + b.size))}
    else:
        counts = _pand_sort_counts(a2, b2, improvement == "decrease")
        est = (counts[0, 0] + counts[1, 1]) / counts.sum()
        details = {"method": method, **_pand_phi(counts)}
    return make_result(
        "pand", est, n_baseline=a.size, n_treatment=b.size, n_omitted=omitted,
        details=details,
    )


def _pand_sort_counts(a: np.ndarray, b: np.ndarray, decrease: bool) -> np.ndarray:
    """scan's 2 x 2 table of ``pand(method = "sort")``, summed over the rows (series).

    Rows: the phase of each position in the data (A, B); columns: the phase found
    at that position once the values are sorted. ``[A, B]`` counts treatment
    points among the lowest ``n_A`` ranks, ``[B, A]`` baseline points among the
    highest ``n_B`` ranks (the overlaps).
    """
    m = a.shape[1]
    n = b.shape[1]
    k = a.shape[0]
    values = np.concatenate([a, b], axis=1)
    is_b = np.concatenate([np.zeros((k, m), bool), np.ones((k, n), bool)], axis=1)
    if decrease:
        pos = np.broadcast_to(-np.arange(m + n), values.shape)
        order = np.lexsort((pos, values), axis=1)
    else:
        order = np.argsort(values, axis=1, kind="stable")
    sorted_b = np.take_along_axis(is_b, order, axis=1)
    b_low = int(np.sum(sorted_b[:, :m]))
    a_high = int(np.sum(~sorted_b[:, m:]))
    return np.array([[k * m - b_low, b_low], [a_high, k * n - a_high]], dtype=float)


def _pand_phi(counts: np.ndarray) -> dict[str, Any]:
    """phi, Pearson's chi-square (no continuity correction) and Fisher's exact test of the
    PAND 2 x 2 table, as scan's ``pand()`` (``chisq.test(correct = FALSE)``,
    ``fisher.test``)."""
    total = counts.sum()
    rows = counts.sum(axis=1)
    cols = counts.sum(axis=0)
    det = counts[0, 0] * counts[1, 1] - counts[0, 1] * counts[1, 0]
    chi2 = float(total * det**2 / (rows[0] * rows[1] * cols[0] * cols[1]))
    table = counts.astype(np.int64)
    fisher_p = float(stats.fisher_exact(table).pvalue)
    odds = float(stats.contingency.odds_ratio(table, kind="conditional").statistic)
    return {
        "phi": math.sqrt(chi2 / total), "chi_square": chi2,
        "chi_p": float(stats.chi2.sf(chi2, 1)), "fisher_p": fisher_p,
        "fisher_odds_ratio": odds, "overlaps": int(counts[0, 1] + counts[1, 0]),
        "matrix_counts": table,
    }


def ird(
    baseline: Any, treatment: Any, *, improvement: str = "increase", axis: int | None = 0
) -> EffectSizeResult | BatchEffectSizeResult:
    """Robust improvement rate difference (Parker, Vannest & Brown, 2009).

    Computed from PAND ("minimum") as in SingleCaseES and scan:
    ``IRD = ((n_A + n_B)^2 PAND - n_A^2 - n_B^2) / (2 n_A n_B)``.

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases in session order.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.

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
        ``measure="ird"``.

    References
    ----------
    Parker, R. I., Vannest, K. J., & Brown, L. (2009). The improvement rate
    difference for single-case research. *Exceptional Children*, 75(2),
    135-150. doi:10.1177/001440290907500201

    Examples
    --------
    >>> from rehabstats.sced import ird
    >>> round(ird([2, 3, 5, 3], [4, 5, 5, 7, 6]).estimate, 4)
    0.775
    >>> import numpy as np
    >>> batch = ird(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == ird([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
    if axis is None:
        baseline, treatment = ravel_inputs([baseline, treatment])
    elif is_batch([baseline, treatment], axis):
        return sced_batch("ird", ird, baseline, treatment, axis=int(axis),
                          improvement=improvement)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    a2, b2 = _orient(a[None, :], b[None, :], improvement)
    est = _ird_from_pand(_pand_minimum_core(a2, b2), a.size, b.size)[0]
    return make_result("ird", est, n_baseline=a.size, n_treatment=b.size, n_omitted=omitted)


def _ird_from_pand(p: np.ndarray, m: int, n: int) -> np.ndarray:
    return ((m + n) ** 2 * p - m**2 - n**2) / (2 * m * n)


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
    if axis is None:
        baseline, treatment = ravel_inputs([baseline, treatment])
    elif is_batch([baseline, treatment], axis):
        return sced_batch("nap", nap, baseline, treatment, axis=int(axis),
                          improvement=improvement, ci=ci, se_method=se_method, ci_method=ci_method)
    se_method = check_option(se_method, "se_method", _SE_METHODS)
    ci_method = check_option(ci_method, "ci_method", ("newcombe", "score"))
    level = check_optional_ci(ci)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    a2, b2 = _orient(a[None, :], b[None, :], improvement)
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
        reason = ("a phase has one observation, so the unbiased variance divides by "
                  "(m - 1)(n - 1) = 0 (SingleCaseES reports the same value); use "
                  "se_method='hanley' or 'null' for a finite standard error")
    return make_result(
        "nap", est[0], se=se[0], ci=interval, ci_level=level, ci_method=ci_method,
        n_baseline=a.size, n_treatment=b.size, n_omitted=omitted, details=details,
        reason=reason,
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
    if axis is None:
        baseline, treatment = ravel_inputs([baseline, treatment])
    elif is_batch([baseline, treatment], axis):
        return sced_batch("tau", tau, baseline, treatment, axis=int(axis),
                          improvement=improvement, ci=ci, se_method=se_method, ci_method=ci_method)
    res = nap(baseline, treatment, improvement=improvement, ci=ci, se_method=se_method,
              ci_method=ci_method)
    assert isinstance(res, EffectSizeResult)  # one series here (batches returned above)
    return _nap_to_tau(res, "tau")


def _nap_to_tau(res: EffectSizeResult, measure: str) -> EffectSizeResult:
    has_ci = res.ci_method != "none"
    return make_result(
        measure, 2 * res.estimate - 1, se=2 * res.se,
        ci=(2 * res.ci_low - 1, 2 * res.ci_high - 1) if has_ci else None,
        ci_level=res.ci_level if has_ci else None, ci_method=res.ci_method,
        n_baseline=res.n_y or 0, n_treatment=res.n_x or 0, n_omitted=res.n_omitted,
        details={**res.details, "trunc": 2 * res.details.get("trunc", math.nan)},
        warn=False,  # nap() has already warned
    )


# --------------------------------------------------------------------------- Tau-U


_TAU_U_MODELS = (
    "A vs. B",
    "Trend A",
    "Trend B",
    "A vs. B - Trend A",
    "A vs. B + Trend B",
    "A vs. B + Trend B - Trend A",
)
_TAU_U_MODEL_KEYS = {
    "ab": "A vs. B",
    "trend_a": "Trend A",
    "trend_b": "Trend B",
    "ab_minus_trend_a": "A vs. B - Trend A",
    "ab_plus_trend_b": "A vs. B + Trend B",
    "ab_plus_trend_b_minus_trend_a": "A vs. B + Trend B - Trend A",
}


@functools.lru_cache(maxsize=256)
def _triu(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, k=1)


def _tie_counts(x: np.ndarray) -> np.ndarray:
    """Sizes of the groups of equal values (singletons included)."""
    srt = np.sort(x)
    edges = np.flatnonzero(np.r_[True, srt[1:] != srt[:-1], True])
    return np.diff(edges).astype(float)


def _kendall_full(x: np.ndarray, y: np.ndarray, tau_method: str, cc: bool) -> dict[str, float]:
    """Kendall's S, SD of S, denominator and z for two variables (scan's ``kendall_tau``).

    tau-b: tie-adjusted variance of S and ``D = sqrt((n0 - t_x)(n0 - t_y))``;
    tau-a: ``Var S = N(N-1)(2N+5)/18`` and ``D = N(N-1)/2``. ``z = S / SD_S``, or
    ``sign(S)(|S| - 1) / SD_S`` with continuity correction.
    """
    big_n = x.size
    iu, ju = _triu(big_n)
    s = float(np.sum(np.sign(x[ju] - x[iu]) * np.sign(y[ju] - y[iu])))
    n0 = big_n * (big_n - 1) / 2
    tx = _tie_counts(x)
    ty = _tie_counts(y)
    ti = float(np.sum(tx * (tx - 1) / 2))
    ui = float(np.sum(ty * (ty - 1) / 2))
    v0 = big_n * (big_n - 1) * (2 * big_n + 5)
    vt = float(np.sum(tx * (tx - 1) * (2 * tx + 5)))
    vu = float(np.sum(ty * (ty - 1) * (2 * ty + 5)))
    v1 = float(np.sum(tx * (tx - 1)) * np.sum(ty * (ty - 1)))
    v2 = float(np.sum(tx * (tx - 1) * (tx - 2)) * np.sum(ty * (ty - 1) * (ty - 2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        var_s = (
            (v0 - vt - vu) / 18
            + np.float64(v1) / (2 * big_n * (big_n - 1))
            + np.float64(v2) / (9 * big_n * (big_n - 1) * (big_n - 2))
        )
        num = float(np.sign(s) * (abs(s) - 1)) if cc else s
        if tau_method == "a":
            # scan's tau-a: untied variance; SD_S is computed as S / z, hence NaN at S = 0
            root = np.sqrt(np.float64(v0) / 2)
            z = float(3 * np.float64(num) / root)
            sd_s = float(np.float64(s) / (3 * np.float64(s) / root))
        else:
            sd_s = float(np.sqrt(var_s))
            z = float(np.float64(num) / np.float64(sd_s))
    den = n0 if tau_method == "a" else math.sqrt((n0 - ti) * (n0 - ui))
    return {"N": big_n, "S": s, "D": den, "sdS": sd_s, "z": z}


def _fisher_ci(tau_v: np.ndarray, n: np.ndarray, level: float, how: str) -> tuple[np.ndarray, ...]:
    """scan's Fisher-z interval for Tau: se_z = 1/sqrt(n-3) ("z") or sqrt(0.437/(n-4)) ("tau").

    The back-transformation ``(exp(2u) - 1)/(exp(2u) + 1)`` is evaluated literally, so an
    infinite upper limit gives NaN exactly as in scan (its vector case).
    """
    z = zcrit(level)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        se_z = np.sqrt(0.437 / (n - 4)) if how == "tau" else 1 / np.sqrt(n - 3)
        tz = 0.5 * np.log((1 + tau_v) / (1 - tau_v))

        def inv(u: np.ndarray) -> np.ndarray:
            e = np.exp(2 * u)
            return (e - 1) / (e + 1)

        return inv(tz - z * se_z), inv(tz + z * se_z)


def tau_u_table(
    baseline: Any,
    treatment: Any,
    *,
    method: Literal["complete", "parker", "tarlow"] = "complete",
    tau_method: Literal["a", "b"] = "b",
    continuity_correction: bool = False,
    ci: float | None = 0.95,
    ci_method: Literal["z", "tau", "s"] = "z",
) -> pd.DataFrame:
    """The full Tau-U family table of scan's ``tau_u`` for one A-B comparison.

    Rows (``model``): ``"A vs. B"``, ``"Trend A"``, ``"Trend B"``,
    ``"A vs. B - Trend A"``, ``"A vs. B + Trend B"``,
    ``"A vs. B + Trend B - Trend A"``. For each, Kendall's S is computed on the
    concatenated series ``AB`` against a ranking variable: the phase dummy
    (A vs. B), session within phase (trends), reversed baseline sessions
    followed by a constant (A vs. B - Trend A), and so on. Columns:
    ``pairs, pos, neg, ties, S, D, Tau, ci_low, ci_high, SD_S, VAR_S, SE_Tau, Z, p, n``.

    Variants (all as in scan 0.67.1):

    * ``method="complete"`` -- pairs of a combined model are all pairs it
      compares (``n_A n_B + n_A(n_A-1)/2`` for A vs. B - Trend A);
      ``tau_method="b"`` uses Kendall's tau-b denominator
      ``D = sqrt((n0 - t_x)(n0 - t_y))`` (A vs. B: ``pairs - ties/2``),
      ``"a"`` uses ``D = pairs``.
    * ``method="parker"`` -- Parker et al. (2011): tau-a, no continuity
      correction, and the A vs. B - Trend A denominator is ``n_A n_B`` only
      (so Tau-U can exceed 1); A vs. B + Trend B - Trend A uses
      ``N(N-1)/2``.
    * ``method="tarlow"`` -- Tarlow's calculator: tau-a, continuity correction,
      and ``SD_S`` the tie-adjusted SD of S for every row.

    ``Z = S / SD`` (``(sign(S)(|S| - 1)) / SD`` with continuity correction)
    with the tie-adjusted variance of S -- except ``method="complete",
    tau_method="a"``, which uses the untied ``N(N-1)(2N+5)/18`` (and reports
    ``SD_S`` as ``S / Z``, NaN when S = 0, as scan) -- ``p`` two-sided
    normal, ``SE_Tau = Tau / Z``. ``SD_S`` shown is ``2 sqrt(n_A n_B (N+1)/12)`` for
    A vs. B and the untied formula for the trends, except with "tarlow".
    Intervals: ``ci_method="z"`` Fisher z with ``se = 1/sqrt(n - 3)``,
    ``"tau"`` with ``se = sqrt(0.437/(n - 4))``, ``"s"``
    ``(S -/+ z SD_S)/D`` (``S - 1`` with continuity correction).

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases in session order (no direction
        argument: scan's Tau-U ignores ``decreasing``; negate the data for a
        decreasing outcome).
    method, tau_method, continuity_correction, ci, ci_method
        See above. "parker" and "tarlow" override ``tau_method`` and
        ``continuity_correction`` as scan does.

    Returns
    -------
    pandas.DataFrame
        One row per model.

    Warns
    -----
    RehabStatsWarning
        Some ``Tau``, ``Z``, ``p``, ``SE_Tau`` or interval values are undefined
        (listed by model): no within-phase pairs (a phase with one observation),
        a zero denominator or SD of S (ties), ``S = 0`` (``SE_Tau = 0/0``), or
        ``|Tau| >= 1`` for a Fisher-z interval.
        The values are kept as scan computes them (NaN).

    References
    ----------
    Parker, R. I., Vannest, K. J., Davis, J. L., & Sauber, S. B. (2011).
    Combining nonoverlap and trend for single-case research: Tau-U. *Behavior
    Therapy*, 42(2), 284-299. doi:10.1016/j.beth.2010.08.006

    Examples
    --------
    >>> from rehabstats.sced import tau_u_table
    >>> tab = tau_u_table([2, 3, 5, 3], [4, 5, 5, 7, 6], method="parker")
    >>> float(tab.loc[3, "Tau"])
    0.65
    """
    method = check_option(method, "method", ("complete", "parker", "tarlow"))
    tau_method = check_option(tau_method, "tau_method", ("a", "b"))
    ci_method = check_option(ci_method, "ci_method", ("z", "tau", "s"))
    continuity_correction = check_option(continuity_correction, "continuity_correction", (True, False))
    level = check_optional_ci(ci)
    a, b, _, _ = as_phase_arrays(baseline, treatment, "increase", min_size=1)
    tab = _tau_u_table_arrays(a, b, method, tau_method, bool(continuity_correction), level,
                              ci_method)
    cols = ["Tau", "Z", "p", "SE_Tau"] + (["ci_low", "ci_high"] if level is not None else [])
    bad = ~np.isfinite(tab[cols].to_numpy(dtype=float))
    if bad.any():
        rows = [f"{tab['model'].iat[i]!r} ({', '.join(dict.fromkeys(c for c, x in zip(cols, bad[i], strict=True) if x))})"
                for i in np.flatnonzero(bad.any(axis=1))]
        warnings.warn(
            "Tau-U table: undefined (NaN or infinite) values in " + "; ".join(rows) + ". A phase "
            "with fewer than 2 observations has no within-phase pairs (its trend rows are 0/0), "
            "tied values can make the tau-b denominator or the SD of S zero, SE_Tau = Tau / Z is "
            "0/0 when S = 0, and the Fisher-z limits are undefined at |Tau| >= 1; scan "
            "reports the same values.",
            RehabStatsWarning,
            stacklevel=2,
        )
    return tab


def _tau_u_table_arrays(
    a: np.ndarray,
    b: np.ndarray,
    method: str,
    tau_method: str,
    cc: bool,
    level: float | None,
    ci_method: str,
) -> pd.DataFrame:
    if method == "parker":
        tau_method, cc = "a", False
    elif method == "tarlow":
        tau_method, cc = "a", True
    m, n = a.size, b.size
    big_n = m + n
    ab = np.concatenate([a, b])
    kt = "a" if (method == "complete" and tau_method == "a") else "b"
    rank_vars = [
        np.r_[np.zeros(m), np.ones(n)],
        None,
        None,
        np.r_[np.arange(m, 0, -1), np.full(n, m + 1)],
        np.r_[np.zeros(m), np.arange(m + 1, big_n + 1)],
        np.r_[np.arange(m, 0, -1), np.arange(m + 1, big_n + 1)],
    ]
    ks = []
    for i, yv in enumerate(rank_vars):
        if i == 1:
            ks.append(_kendall_full(a, np.arange(1, m + 1, dtype=float), kt, cc))
        elif i == 2:
            ks.append(_kendall_full(b, np.arange(1, n + 1, dtype=float), kt, cc))
        else:
            assert yv is not None
            ks.append(_kendall_full(ab, yv.astype(float), kt, cc))

    def counts(x: np.ndarray) -> tuple[int, int, int]:
        iu, ju = np.triu_indices(x.size, k=1)
        d = x[ju] - x[iu]
        return int(np.sum(d > 0)), int(np.sum(d < 0)), int(np.sum(d == 0))

    aa_pos, aa_neg, aa_tie = counts(a)
    bb_pos, bb_neg, bb_tie = counts(b)
    diff = b[None, :] - a[:, None]
    ab_pos, ab_neg, ab_tie = int(np.sum(diff > 0)), int(np.sum(diff < 0)), int(np.sum(diff == 0))
    p_ab, p_aa, p_bb = m * n, m * (m - 1) / 2, n * (n - 1) / 2
    pairs = np.array([p_ab, p_aa, p_bb, p_ab + p_aa, p_ab + p_bb, p_ab + p_aa + p_bb], float)
    if method == "parker":
        pairs[3] = p_ab
        pairs[5] = big_n * (big_n - 1) / 2
    pos = np.array([ab_pos, aa_pos, bb_pos, ab_pos + aa_neg, ab_pos + bb_pos, ab_pos + bb_pos + aa_neg])
    neg = np.array([ab_neg, aa_neg, bb_neg, ab_neg + aa_pos, ab_neg + bb_neg, ab_neg + bb_neg + aa_pos])
    ties = np.array([ab_tie, aa_tie, bb_tie, ab_tie + aa_tie, ab_tie + bb_tie, ab_tie + bb_tie + aa_tie])
    s = np.array([k["S"] for k in ks])
    if method == "complete" and tau_method == "b":
        d = np.array([k["D"] for k in ks])
        d[0] = pairs[0] - ties[0] / 2
    else:
        d = pairs.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        tau_v = s / d
    if method == "tarlow":
        sd_s = np.array([k["sdS"] for k in ks])
    else:

        def trend_sd(k: int) -> float:
            # _kendall_full(1:k, 1:k)$sdS: NaN for k = 1, and for k = 2 with tau-b (0/0 term)
            if k < 2 or (k == 2 and tau_method == "b"):
                return math.nan
            return math.sqrt(k * (k - 1) * (2 * k + 5) / 18)

        sd_s = np.array([
            math.sqrt(m * n * (m + n + 1) / 12) * 2, trend_sd(m), trend_sd(n),
            ks[3]["sdS"], ks[4]["sdS"], ks[5]["sdS"],
        ])
    z = np.array([k["z"] for k in ks])
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.norm.sf(np.abs(z))
        se_tau = tau_v / z
    nn = np.array([k["N"] for k in ks], float)
    if level is None:
        lo = hi = np.full(6, np.nan)
    elif ci_method == "s":
        zc = zcrit(level)
        s_adj = s - 1 if cc else s
        with np.errstate(divide="ignore", invalid="ignore"):
            lo, hi = (s_adj - sd_s * zc) / d, (s_adj + sd_s * zc) / d
    else:
        lo, hi = _fisher_ci(tau_v, nn, level, ci_method)
    return pd.DataFrame({
        "model": list(_TAU_U_MODELS), "pairs": pairs, "pos": pos, "neg": neg, "ties": ties,
        "S": s, "D": d, "Tau": tau_v, "ci_low": lo, "ci_high": hi, "SD_S": sd_s,
        "VAR_S": sd_s**2, "SE_Tau": se_tau, "Z": z, "p": p, "n": nn,
    })


def tau_u(
    baseline: Any,
    treatment: Any,
    *,
    improvement: str = "increase",
    method: Literal["parker", "complete", "tarlow"] = "parker",
    tau_method: Literal["a", "b"] = "b",
    continuity_correction: bool = False,
    model: str = "ab_minus_trend_a",
    ci: float | None = None,
    ci_method: Literal["z", "tau", "s"] = "z",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    """Tau-U: A vs. B non-overlap corrected for baseline trend (Parker et al., 2011).

    Default (``method="parker"``, ``model="ab_minus_trend_a"``) is SingleCaseES
    ``Tau_U``::

        Tau-U = (S_AB - S_A) / (n_A n_B),
        S_AB = sum_{i,j} sign(B_j - A_i),  S_A = sum_{i<k} sign(A_k - A_i),

    which can exceed 1 in absolute value. The other scan variants are chosen
    with ``method`` (see :func:`tau_u_table` for every formula):

    * ``"complete"`` -- denominator counts all compared pairs; ``tau_method``
      ``"b"`` (Kendall tau-b, tie adjusted; scan's default) or ``"a"``.
    * ``"tarlow"`` -- Tarlow (2017) calculator: tau-a with continuity correction.

    ``model`` picks the row of the Tau-U family: ``"ab"`` (A vs. B),
    ``"ab_minus_trend_a"`` (default), ``"ab_plus_trend_b"``,
    ``"ab_plus_trend_b_minus_trend_a"``, ``"trend_a"``, ``"trend_b"``.

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases in session order.
    improvement : {"increase", "decrease"}
        Direction; ``"decrease"`` negates the data (SingleCaseES; scan's
        ``tau_u`` has no direction and equals ``improvement="increase"``).
    method, tau_method, continuity_correction, model
        See above.
    ci : float or None
        Confidence level; ``None`` (default, as SingleCaseES, which reports
        the estimate only) gives no standard error and no interval.
    ci_method : {"z", "tau", "s"}
        scan's interval methods: Fisher z with ``se_z = 1/sqrt(N-3)`` (``"z"``),
        Fisher z with ``se_z = sqrt(0.437/(N-4))`` (``"tau"``), or
        ``(S -/+ z SD_S)/D`` (``"s"``). The limits are scan's.

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
        ``measure="tau_u"``; ``details`` holds ``S, D, pairs, Z, p, model,
        method, tau_method`` and ``se_null`` (scan's ``SE_Tau = Tau / Z``, the
        standard error under the null hypothesis that goes with the z test).

    Notes
    -----
    The standard error is the one that belongs to the reported interval, so
    ``se`` and ``ci`` are coherent: for the Fisher-z intervals the delta-method
    SE ``(1 - Tau^2) se_z`` (the interval is ``tanh(atanh(Tau) -/+ z se_z)``);
    for ``"s"`` the SE ``SD_S / D`` of Tau under the null variance of S (the
    interval is ``Tau -/+ z SE``, shifted by ``-1/D`` with continuity
    correction). scan prints its null-hypothesis ``SE_Tau`` beside the Fisher
    interval; that value is ``details["se_null"]``.

    The Fisher-z interval is undefined when ``|Tau-U| >= 1`` (possible for
    ``method="parker"``, whose A vs. B - Trend A can exceed 1, and at complete
    non-overlap) or when N is too small: the interval and SE are then NaN with
    a :class:`~rehabstats.errors.RehabStatsWarning`; ``ci_method="s"`` gives an
    interval in those cases.

    References
    ----------
    Parker, R. I., Vannest, K. J., Davis, J. L., & Sauber, S. B. (2011).
    Combining nonoverlap and trend for single-case research: Tau-U. *Behavior
    Therapy*, 42(2), 284-299. doi:10.1016/j.beth.2010.08.006

    Examples
    --------
    >>> from rehabstats.sced import tau_u
    >>> tau_u([2, 3, 5, 3], [4, 5, 5, 7, 6]).estimate
    0.65
    >>> import numpy as np
    >>> batch = tau_u(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == tau_u([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
    if axis is None:
        baseline, treatment = ravel_inputs([baseline, treatment])
    elif is_batch([baseline, treatment], axis):
        return sced_batch("tau_u", tau_u, baseline, treatment, axis=int(axis),
                          improvement=improvement, method=method, tau_method=tau_method,
                          continuity_correction=continuity_correction, model=model, ci=ci,
                          ci_method=ci_method)
    key = check_option(model, "model", tuple(_TAU_U_MODEL_KEYS))
    method = check_option(method, "method", ("parker", "complete", "tarlow"))
    tau_method = check_option(tau_method, "tau_method", ("a", "b"))
    ci_method = check_option(ci_method, "ci_method", ("z", "tau", "s"))
    continuity_correction = check_option(continuity_correction, "continuity_correction", (True, False))
    level = check_optional_ci(ci)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    a2, b2 = _orient(a, b, improvement)
    if a.size < 2 and key in ("trend_a",):
        raise DataError("Tau-U 'trend_a' needs at least 2 baseline observations.")
    with np.errstate(divide="ignore", invalid="ignore"):
        tab = _tau_u_table_arrays(a2, b2, method, tau_method, bool(continuity_correction), level, ci_method)
    row = tab.iloc[list(_TAU_U_MODELS).index(_TAU_U_MODEL_KEYS[key])]
    est = float(row["Tau"])
    se: float | None = None
    interval = None
    reason = None
    if level is not None:
        if ci_method == "s":
            se = float(row["SD_S"] / row["D"]) if row["D"] > 0 else math.nan
            reason = "the null SD of S or the denominator is 0 or undefined for these data"
        else:
            n_row = float(row["n"])
            with np.errstate(divide="ignore", invalid="ignore"):
                se_z = math.sqrt(0.437 / (n_row - 4)) if ci_method == "tau" and n_row > 4 else (
                    1 / math.sqrt(n_row - 3) if ci_method == "z" and n_row > 3 else math.nan)
            se = (1 - est**2) * se_z if abs(est) < 1 else math.nan
            reason = (f"the Fisher-z interval needs |Tau-U| < 1 (here {format_number(est)}) "
                      f"and enough observations (N = {int(n_row)}); ci_method='s' gives an "
                      "interval on the scale of S")
        interval = (float(row["ci_low"]), float(row["ci_high"]))
        if not (math.isfinite(interval[0]) and math.isfinite(interval[1])):
            se = math.nan
    return make_result(
        "tau_u", est, se=se, ci=interval,
        ci_level=level, ci_method=f"fisher_{ci_method}" if ci_method != "s" else "s",
        n_baseline=a.size, n_treatment=b.size, n_omitted=omitted,
        details={
            "S": float(row["S"]), "D": float(row["D"]), "pairs": float(row["pairs"]),
            "Z": float(row["Z"]), "p": float(row["p"]), "model": _TAU_U_MODEL_KEYS[key],
            "method": method,
            "tau_method": "a" if method != "complete" else tau_method,
            "se_null": float(row["SE_Tau"]),
        },
        reason=reason if level is not None else "no pairs to compare for this model",
    )


def _check_tau_u_tables(tables: Any, models: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The Tau and n of every table (rows) and model (columns), checked: a list of
    :func:`tau_u_table` outputs whose ``Tau`` and ``n`` columns are numbers."""
    if isinstance(tables, pd.DataFrame) or not isinstance(tables, (list, tuple)):
        raise DataError("'tables' must be a list of Tau-U tables (outputs of tau_u_table), "
                        f"one per case; got {type(tables).__name__}.")
    if not tables:
        raise DataError("'tables' must hold at least one Tau-U table.")
    tau = np.empty((len(tables), len(models)))
    n = np.empty_like(tau)
    for i, t in enumerate(tables):
        what = f"tables[{i}]"
        if not isinstance(t, pd.DataFrame) or not {"model", "Tau", "n"} <= set(t.columns):
            raise DataError(f"{what} must be a DataFrame returned by tau_u_table (with columns "
                            f"'model', 'Tau' and 'n'); got {type(t).__name__}.")
        labels = t["model"].astype(object).to_numpy()
        tv = check_table_column(t, "Tau", what, allow_inf=False)
        nv = check_table_column(t, "n", what, allow_inf=False)
        for j, model in enumerate(models):
            hit = np.flatnonzero(labels == model)
            if hit.size == 0:
                raise DataError(f"{what} has no row for model {model!r} (column 'model'); "
                                "pass the complete tables returned by tau_u_table.")
            tau[i, j], n[i, j] = tv[hit[0]], nv[hit[0]]
    return tau, np.where(np.isnan(n), 0.0, n)


def combine_tau_u(
    tables: list[pd.DataFrame], *, weights: Literal["z", "tau"] = "z", ci: float = 0.95
) -> pd.DataFrame:
    """Combine per-case Tau-U tables as scan's ``tau_u(meta_analyses = TRUE)`` does.

    For each model (A vs. B, A vs. B - Trend A, A vs. B + Trend B,
    A vs. B + Trend B - Trend A) the case Taus are Fisher-z transformed,
    ``u_i = atanh(Tau_i)``, with standard errors ``1/sqrt(N_i - 3)``
    (``weights="z"``) or ``sqrt(0.437/(N_i - 4))`` (``weights="tau"``), and
    pooled with inverse-variance weights (fixed/common effect):
    ``u = sum w_i u_i / sum w_i``, ``se = 1/sqrt(sum w_i)``; ``Tau_U = tanh(u)``,
    the interval is ``tanh(u -/+ z se)``, ``z = u / se``, ``p`` two-sided normal.

    Parameters
    ----------
    tables : list of pandas.DataFrame
        Outputs of :func:`tau_u_table`, one per case.
    weights : {"z", "tau"}
        Standard error of a Fisher-z transformed Tau (scan's
        ``meta_weight_method``).
    ci : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, tau_u, se, ci_low, ci_high, z, p``.

    Raises
    ------
    DataError
        ``tables`` is not a non-empty list of :func:`tau_u_table` outputs, a
        table lacks a model row, or its ``Tau``/``n`` column holds
        non-numbers, booleans or infinite values (named with the row).

    Warns
    -----
    RehabStatsWarning
        A case's Tau is missing or its ``n`` too small for the weight
        (``n <= 3`` with ``"z"``, ``n <= 4`` with ``"tau"``): the case is left
        out of that model (a model without cases is NaN); a case's
        ``|Tau| >= 1`` has no finite Fisher z (the pooled Tau-U is +/-1 with an
        infinite z at 1, NaN beyond).

    Examples
    --------
    >>> from rehabstats.sced import combine_tau_u, tau_u_table
    >>> t1 = tau_u_table([2, 3, 5, 3], [4, 5, 5, 7, 6])
    >>> t2 = tau_u_table([1, 2, 1, 3, 2], [4, 4, 6, 5, 6, 2])
    >>> list(combine_tau_u([t1, t2])["model"])[:2]
    ['A vs. B', 'A vs. B - Trend A']
    """
    weights = check_option(weights, "weights", ("z", "tau"))
    level = check_optional_ci(ci)
    assert level is not None
    models = ("A vs. B", "A vs. B - Trend A", "A vs. B + Trend B", "A vs. B + Trend B - Trend A")
    tau_all, n_all = _check_tau_u_tables(tables, models)
    n_min = 5 if weights == "tau" else 4
    problems: list[str] = []
    for j, model in enumerate(models):
        for i in np.flatnonzero(np.isnan(tau_all[:, j])):
            problems.append(f"tables[{i}] {model!r}: Tau is missing (left out)")
        for i in np.flatnonzero(n_all[:, j] < n_min):
            problems.append(f"tables[{i}] {model!r}: n = {n_all[i, j]:g} < {n_min}, so its "
                            f"weight is undefined (left out)")
        for i in np.flatnonzero(np.abs(tau_all[:, j]) >= 1):
            problems.append(f"tables[{i}] {model!r}: |Tau| = {abs(tau_all[i, j]):g} >= 1 has "
                            "no finite Fisher z")
    if problems:
        warnings.warn(
            "combine_tau_u: " + "; ".join(problems[:12]) + (" and more" if len(problems) > 12
                                                           else "")
            + ". A model whose cases are all left out is NaN; a case with |Tau| = 1 makes the "
            "pooled Tau-U +/-1 with an infinite z, one with |Tau| > 1 makes it NaN.",
            RehabStatsWarning, stacklevel=2)
    zc = zcrit(level)
    rows = []
    for j, model in enumerate(models):
        keep = ~np.isnan(tau_all[:, j]) & (n_all[:, j] >= n_min)
        tv, nv = tau_all[keep, j], n_all[keep, j]
        if not keep.any():
            rows.append({"model": model, "tau_u": math.nan, "se": math.nan,
                         "ci_low": math.nan, "ci_high": math.nan, "z": math.nan,
                         "p": math.nan})
            continue
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            tz = 0.5 * np.log((1 + tv) / (1 - tv))
            se_z = np.sqrt(0.437 / (nv - 4)) if weights == "tau" else 1 / np.sqrt(nv - 3)
            w = 1 / se_z**2
            te = np.sum(tz * w) / np.sum(w)
            se = math.sqrt(1 / np.sum(w))

            def inv(u: float) -> float:
                return float(np.tanh(u))  # +/-1 at +/-inf, no overflow for large u

            rows.append({
                "model": model, "tau_u": inv(te), "se": se, "ci_low": inv(te - zc * se),
                "ci_high": inv(te + zc * se), "z": te / se,
                "p": float(2 * stats.norm.sf(abs(te / se))),
            })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- Tau-BC


def tau_bc(
    baseline: Any,
    treatment: Any,
    *,
    improvement: str = "increase",
    pretest_trend: bool | float = False,
    kendall: bool = False,
    ci: float | None = 0.95,
    se_method: SEMethod = "unbiased",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    """Baseline-corrected Tau (Tarlow, 2017), as SingleCaseES ``Tau_BC``.

    1. Optionally test the baseline trend (``pretest_trend = alpha``): Kendall's
       test of the baseline values against time; without a significant trend
       (p > alpha) no correction is made and Tau-BC equals Tau.
    2. Fit the Theil-Sen line to the baseline with sessions numbered
       ``1, ..., n_A`` and treatment sessions ``n_A + 1, ..., n_A + n_B``
       ("phase-order" numbering of SingleCaseES, which ignores gaps between
       sessions): slope = median of pairwise slopes, intercept = median of
       ``A_t - slope t``. scan's variant, which numbers by the recorded
       measurement times, tests the trend with its own Kendall z test and can
       use repeated medians, is :func:`corrected_tau`.
    3. Subtract the line from both phases and compute Tau on the residuals:
       Tau (non-overlap, :func:`tau`) when ``kendall=False``, or Kendall's
       tau-b between residuals and the phase dummy (``kendall=True``, Tarlow's
       approach) with ``SE = sqrt(2 (1 - tau^2) / (n_A + n_B))`` and a normal
       interval.

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases in session order.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.
    pretest_trend : False or float in (0, 1)
        Significance level of the baseline-trend pretest, or False to always
        correct.
    kendall : bool
        Use Kendall's tau-b (True) or Tau non-overlap (False, default).
    ci : float or None
        Confidence level.
    se_method : {"unbiased", "hanley", "null"}
        Standard error when ``kendall=False`` (as :func:`nap`); the standard
        errors ignore the uncertainty of the trend correction.

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
        ``measure="tau_bc"``; ``details`` holds ``slope, intercept, corrected``
        and ``pval_slope_a`` (when pretested).

    References
    ----------
    Tarlow, K. R. (2017). An improved rank correlation effect size statistic
    for single-case designs: Baseline corrected Tau. *Behavior Modification*,
    41(4), 427-467. doi:10.1177/0145445516676750

    Examples
    --------
    >>> from rehabstats.sced import tau_bc
    >>> res = tau_bc([20, 20, 26, 25, 22, 23], [28, 25, 24, 27, 30, 30, 29])
    >>> round(res.details["slope"], 3)
    0.6
    >>> import numpy as np
    >>> batch = tau_bc(np.array([[2, 3, 5, 3], [1, 2, 3, 2]]),
    ...     np.array([[4, 5, 5, 7, 6], [5, 6, 7, 6, 5]]), axis=1)
    >>> batch.shape, bool(batch[1].estimate == tau_bc([1, 2, 3, 2], [5, 6, 7, 6, 5]).estimate)
    ((2,), True)
    """
    if axis is None:
        baseline, treatment = ravel_inputs([baseline, treatment])
    elif is_batch([baseline, treatment], axis):
        return sced_batch("tau_bc", tau_bc, baseline, treatment, axis=int(axis),
                          improvement=improvement, pretest_trend=pretest_trend,
                          kendall=kendall, ci=ci, se_method=se_method)
    se_method = check_option(se_method, "se_method", _SE_METHODS)
    kendall = check_option(kendall, "kendall", (True, False))
    level = check_optional_ci(ci)
    if pretest_trend is not False and not (
        isinstance(pretest_trend, (int, float)) and not isinstance(pretest_trend, bool)
        and 0 < float(pretest_trend) < 1
    ):
        raise DataError(
            f"The 'pretest_trend' argument must be False or a significance level strictly "
            f"between 0 and 1; got {pretest_trend!r}."
        )
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    m, n = a.size, b.size
    t_a = np.arange(1, m + 1, dtype=float)
    t_b = np.arange(m + 1, m + n + 1, dtype=float)
    details: dict[str, Any] = {}
    adjust = True
    if pretest_trend is not False:
        if m < 3:
            raise DataError(
                f"The baseline-trend pretest (pretest_trend={pretest_trend!r}) needs at least 3 "
                f"baseline observations; got {m}."
            )
        pval = _mann_kendall_p(a)
        details["pval_slope_a"] = pval
        adjust = pval <= float(pretest_trend)
    slope, intercept = _theil_sen_core(a[None, :], t_a)
    slope_v, icpt_v = float(slope[0]), float(intercept[0])
    details.update({"slope": slope_v, "intercept": icpt_v, "corrected": adjust})
    if adjust:
        if m < 2:
            raise DataError(
                "Tau-BC needs at least 2 baseline observations to estimate the baseline trend."
            )
        ra = a - icpt_v - slope_v * t_a
        rb = b - icpt_v - slope_v * t_b
    else:
        ra, rb = a, b
    if kendall:
        # The Kendall package computes in single precision: residuals that coincide
        # in float32 are ties (this decides tau-b's tie adjustment).
        oa, ob = _orient(
            ra.astype(np.float32)[None, :].astype(float),
            rb.astype(np.float32)[None, :].astype(float),
            improvement,
        )
        est = float(_tau_b_two_groups(oa, ob)[0]) if np.std(np.r_[ra, rb]) > 0 else 0.0
        se = math.sqrt(2 / (m + n) * (1 - est**2))
        interval = None
        if level is not None:
            zc = zcrit(level)
            interval = (est - zc * se, est + zc * se)
        return make_result(
            "tau_bc", est, se=se, ci=interval, ci_level=level, ci_method="normal",
            n_baseline=m, n_treatment=n, n_omitted=omitted,
            details={**details, "kendall": True},
        )
    res = nap(ra, rb, improvement=improvement, ci=level, se_method=se_method)
    assert isinstance(res, EffectSizeResult)  # one series here
    out = _nap_to_tau(res, "tau_bc")
    return make_result(
        "tau_bc", out.estimate, se=out.se,
        ci=out.ci if level is not None else None, ci_level=level, ci_method=out.ci_method,
        n_baseline=m, n_treatment=n, n_omitted=omitted,
        details={**details, "kendall": False, "se_method": se_method},
        warn=False,  # nap() has already warned
    )


# --------------------------------------------------------------------------- scan's corrected tau


def _siegel_repeated_medians(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Siegel (1982) repeated-medians line as ``mblm(repeated = TRUE)``.

    slope = median_i median_{j != i} (y_j - y_i)/(t_j - t_i);
    intercept = median_i median_{j != i} (t_j y_i - t_i y_j)/(t_j - t_i).
    """
    n = t.size
    slopes = np.empty(n)
    icpts = np.empty(n)
    for i in range(n):
        j = np.arange(n) != i
        dt = t[j] - t[i]
        keep = dt != 0
        slopes[i] = np.median((y[j][keep] - y[i]) / dt[keep])
        icpts[i] = np.median((t[j][keep] * y[i] - t[i] * y[j][keep]) / dt[keep])
    return float(np.median(slopes)), float(np.median(icpts))


def _theil_sen_pairs(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Theil-Sen line (pairs with equal times skipped), intercept = median(y - slope t)."""
    iu, ju = np.triu_indices(t.size, k=1)
    dt = t[ju] - t[iu]
    keep = dt != 0
    slope = float(np.median((y[ju] - y[iu])[keep] / dt[keep]))
    return slope, float(np.median(y - slope * t))


def corrected_tau(
    baseline: Any,
    treatment: Any,
    *,
    baseline_sessions: Any = None,
    treatment_sessions: Any = None,
    alpha: float = 0.05,
    continuity_correction: bool = False,
    tau_method: Literal["b", "a"] = "b",
    repeated: bool = False,
) -> EffectSizeResult:
    """Baseline-corrected tau as computed by scan's ``corrected_tau`` (Tarlow, 2017).

    The scan variant of :func:`tau_bc`. Differences from SingleCaseES's
    ``Tau_BC``: sessions are the measurement times given
    (``baseline_sessions``/``treatment_sessions``; default ``1..n_A`` and
    ``n_A+1..n_A+n_B``, the SingleCaseES numbering), the baseline trend test is
    Kendall's tau of the baseline values against their sessions with scan's
    normal approximation (``tau_method``, ``continuity_correction``), the line
    is Theil-Sen or, with ``repeated=True``, Siegel's repeated medians
    (``mblm``), and the effect is Kendall's tau-b (or tau-a,
    ``S / (N(N-1)/2)``) between the (corrected) values and the phase, with its
    z test. The correction is applied when the baseline trend has
    ``p <= alpha``; with constant baseline values (or an undefined p, e.g.
    tau-b with two baseline points) no correction is applied. There is no
    direction argument (scan has none): negate the data for a decreasing
    outcome.

    Parameters
    ----------
    baseline, treatment : array_like
        Observations of the two phases.
    baseline_sessions, treatment_sessions : array_like, optional
        Measurement times (scan's ``mt``) of the observations.
    alpha : float
        Significance level of the baseline-trend test.
    continuity_correction : bool
        Continuity correction of the z statistics.
    tau_method : {"b", "a"}
        Kendall tau-b (tie adjusted) or tau-a.
    repeated : bool
        Siegel repeated medians instead of Theil-Sen.

    Returns
    -------
    EffectSizeResult
        ``measure="corrected_tau"``; estimate = corrected tau when applied,
        else uncorrected tau; ``details`` holds ``table`` (rows "Baseline
        autocorrelation", "Uncorrected tau", "Baseline corrected tau" with
        ``tau, z, p``), ``p``, ``correction_applied``, ``slope``, ``intercept``.

    References
    ----------
    Tarlow, K. R. (2017). An improved rank correlation effect size statistic
    for single-case designs: Baseline corrected Tau. *Behavior Modification*,
    41(4), 427-467. doi:10.1177/0145445516676750

    Examples
    --------
    >>> from rehabstats.sced import corrected_tau
    >>> res = corrected_tau([2, 3, 5, 3], [4, 5, 5, 7, 6])
    >>> round(res.estimate, 4), res.details["correction_applied"]
    (0.6325, False)
    """
    tau_method = check_option(tau_method, "tau_method", ("b", "a"))
    continuity_correction = check_option(continuity_correction, "continuity_correction",
                                         (True, False))
    repeated = check_option(repeated, "repeated", (True, False))
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise DataError(f"The 'alpha' argument must be strictly between 0 and 1; got {alpha!r}.")
    a, b, _, omitted = as_phase_arrays(baseline, treatment, "increase")
    m, n = a.size, b.size
    ta = np.arange(1, m + 1, dtype=float) if baseline_sessions is None else np.asarray(
        baseline_sessions, dtype=float)
    tb = np.arange(m + 1, m + n + 1, dtype=float) if treatment_sessions is None else np.asarray(
        treatment_sessions, dtype=float)
    if ta.shape != (m,) or tb.shape != (n,):
        raise DataError(
            "'baseline_sessions' and 'treatment_sessions' must have one session per observation "
            f"({m} and {n}); got {ta.size} and {tb.size}."
        )
    if np.unique(ta).size < 2:
        raise DataError("corrected_tau needs at least two distinct baseline sessions.")
    cc = bool(continuity_correction)

    def ktau(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
        k = _kendall_full(x, y, tau_method, cc)
        with np.errstate(divide="ignore", invalid="ignore"):
            tau_v = float(np.float64(k["S"]) / np.float64(k["D"]))
        z = k["z"]
        if math.isinf(z):
            return math.nan, z, math.nan
        return tau_v, z, float(2 * stats.norm.sf(abs(z)))

    if np.unique(a).size == 1:
        auto = (math.nan, math.nan, math.nan)
    else:
        auto = ktau(a, ta)
    slope, icpt = _siegel_repeated_medians(ta, a) if repeated else _theil_sen_pairs(ta, a)
    values = np.r_[a, b]
    times = np.r_[ta, tb]
    group = np.r_[np.ones(m), 2 * np.ones(n)]
    corrected = ktau(values - (icpt + times * slope), group)
    uncorrected = ktau(values, group)
    applied = not math.isnan(auto[2]) and auto[2] <= alpha
    chosen = corrected if applied else uncorrected
    table = pd.DataFrame({
        "model": ["Baseline autocorrelation", "Uncorrected tau", "Baseline corrected tau"],
        "tau": [auto[0], uncorrected[0], corrected[0]],
        "z": [auto[1], uncorrected[1], corrected[1]],
        "p": [auto[2], uncorrected[2], corrected[2]],
    })
    return make_result(
        "corrected_tau", chosen[0], n_baseline=m, n_treatment=n, n_omitted=omitted,
        details={"p": chosen[2], "z": chosen[1], "correction_applied": applied,
                 "slope": slope, "intercept": icpt, "table": table, "tau_method": tau_method,
                 "repeated": bool(repeated)},
        reason="all (corrected) values are tied, so Kendall's tau and its z test are 0/0; "
               "scan reports NaN too",
    )
