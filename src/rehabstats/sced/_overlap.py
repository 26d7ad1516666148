"""Overlap indices for single-case designs: PND, PEM, PAND and IRD.

Conventions of every index function (phases, ``n_x`` / ``n_y``, SingleCaseES
defaults and scan options): :mod:`rehabstats.sced._common`.

The vectorised cores (``_*_core``, and ``*_batch`` in the index registry
:mod:`rehabstats.sced._registry`) work on 2-D arrays holding many series of
equal phase lengths (one series per row).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from scipy import stats

from .._axis import batch_axis
from .._batch_results import BatchEffectSizeResult
from .._results import EffectSizeResult
from .._validate import check_option
from ._axis import BatchCoreResult, no_interval, sced_batch
from ._common import as_phase_arrays, make_result, orient

__all__ = ["ird", "pand", "pem", "pnd"]


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


def _pand_sorted_phases(a: np.ndarray, b: np.ndarray, decrease: bool) -> np.ndarray:
    """Scan's ``pand(method = "sort")`` ranking: per row, True where the value at that rank
    (lowest first) is a treatment point.

    ``a`` and ``b`` are already oriented (negated for a decrease). Ties keep the
    session order (baseline first) for an increase; for a decrease scan sorts
    the original values in decreasing order, which puts tied treatment points
    first. Shared by the PAND estimate and its 2 x 2 table, so both rank alike.
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
    return np.take_along_axis(is_b, order, axis=1)


def _pand_sort_core(a: np.ndarray, b: np.ndarray, decrease: bool = False) -> np.ndarray:
    """Scan's default PAND: sort all values, count A points in the upper n_B ranks and vice versa.

    ``a`` and ``b`` are already oriented (ties: :func:`_pand_sorted_phases`).
    """
    m, n = a.shape[1], b.shape[1]
    sorted_b = _pand_sorted_phases(a, b, decrease)
    a_high = np.sum(~sorted_b[:, m:], axis=1)  # A points among the top n ranks
    b_low = np.sum(sorted_b[:, :m], axis=1)  # B points among the bottom m ranks
    return 1 - (a_high + b_low) / (m + n)


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
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

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
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch("pnd", baseline, treatment, axis=batch, improvement=improvement)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    a2, b2 = orient(a[None, :], b[None, :], improvement)
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
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

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
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch("pem", baseline, treatment, axis=batch, improvement=improvement)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    a2, b2 = orient(a[None, :], b[None, :], improvement)
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
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

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
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch(
            "pand", baseline, treatment, axis=batch, improvement=improvement, method=method
        )
    method = check_option(method, "method", ("minimum", "sort"))
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    a2, b2 = orient(a[None, :], b[None, :], improvement)
    if method == "minimum":
        est = _pand_minimum_core(a2, b2)[0]
        details: dict[str, Any] = {
            "method": method,
            "overlaps": round((1 - est) * (a.size + b.size)),
        }
    else:
        counts = _pand_sort_counts(a2, b2, improvement == "decrease")
        est = (counts[0, 0] + counts[1, 1]) / counts.sum()
        details = {"method": method, **_pand_phi(counts)}
    return make_result(
        "pand",
        est,
        n_baseline=a.size,
        n_treatment=b.size,
        n_omitted=omitted,
        details=details,
    )


def _pand_sort_counts(a: np.ndarray, b: np.ndarray, decrease: bool) -> np.ndarray:
    """Scan's 2 x 2 table of ``pand(method = "sort")``, summed over the rows (series).

    Rows: the phase of each position in the data (A, B); columns: the phase found
    at that position once the values are sorted. ``[A, B]`` counts treatment
    points among the lowest ``n_A`` ranks, ``[B, A]`` baseline points among the
    highest ``n_B`` ranks (the overlaps).
    """
    k, m = a.shape
    n = b.shape[1]
    sorted_b = _pand_sorted_phases(a, b, decrease)
    b_low = int(np.sum(sorted_b[:, :m]))
    a_high = int(np.sum(~sorted_b[:, m:]))
    return np.array([[k * m - b_low, b_low], [a_high, k * n - a_high]], dtype=float)


def _pand_phi(counts: np.ndarray) -> dict[str, Any]:
    """phi, Pearson's chi-square (no continuity correction) and Fisher's exact test of the
    PAND 2 x 2 table, as scan's ``pand()`` (``chisq.test(correct = FALSE)``,
    ``fisher.test``).
    """
    total = counts.sum()
    rows = counts.sum(axis=1)
    cols = counts.sum(axis=0)
    det = counts[0, 0] * counts[1, 1] - counts[0, 1] * counts[1, 0]
    chi2 = float(total * det**2 / (rows[0] * rows[1] * cols[0] * cols[1]))
    table = counts.astype(np.int64)
    fisher_p = float(stats.fisher_exact(table).pvalue)
    odds = float(stats.contingency.odds_ratio(table, kind="conditional").statistic)
    return {
        "phi": math.sqrt(chi2 / total),
        "chi_square": chi2,
        "chi_p": float(stats.chi2.sf(chi2, 1)),
        "fisher_p": fisher_p,
        "fisher_odds_ratio": odds,
        "overlaps": int(counts[0, 1] + counts[1, 0]),
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
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

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
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch("ird", baseline, treatment, axis=batch, improvement=improvement)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    a2, b2 = orient(a[None, :], b[None, :], improvement)
    est = _ird_from_pand(_pand_minimum_core(a2, b2), a.size, b.size)[0]
    return make_result("ird", est, n_baseline=a.size, n_treatment=b.size, n_omitted=omitted)


def _ird_from_pand(p: np.ndarray, m: int, n: int) -> np.ndarray:
    return ((m + n) ** 2 * p - m**2 - n**2) / (2 * m * n)


# --------------------------------------------------------------------------- batch cores
# (registry rows: rehabstats.sced._registry; options as in effect_sizes)


def _pnd_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult:
    return no_interval(_pnd_core(*orient(a, b, improvement)))


def _pem_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult:
    return no_interval(_pem_core(*orient(a, b, improvement)))


def _pand_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult:
    oa, ob = orient(a, b, improvement)
    if opts["pand_method"] == "minimum":
        return no_interval(_pand_minimum_core(oa, ob))
    return no_interval(_pand_sort_core(oa, ob, improvement == "decrease"))


def _pand_axis_options(kw: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    opts["pand_method"] = check_option(kw["method"], "method", ("minimum", "sort"))
    return opts


def _ird_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult:
    pand_ = _pand_minimum_core(*orient(a, b, improvement))
    return no_interval(_ird_from_pand(pand_, a.shape[1], b.shape[1]))
