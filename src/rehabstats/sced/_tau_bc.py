"""Baseline-corrected Tau: Tarlow's Tau-BC (SingleCaseES) and scan's ``corrected_tau``.

Conventions of every index function (phases, ``n_x`` / ``n_y``, SingleCaseES
defaults and scan options): :mod:`rehabstats.sced._common`.

Tau-BC detrends both phases with the baseline Theil-Sen line and computes
Tau on the residuals with the NAP/Tau machinery of :mod:`._nap_tau`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._axis import batch_axis
from .._batch_results import BatchEffectSizeResult
from .._results import EffectSizeResult
from .._validate import check_option
from ..errors import DataError
from ._axis import BatchCoreResult, sced_batch
from ._common import as_phase_arrays, check_optional_ci, make_result, orient, zcrit
from ._nap_tau import _SE_METHODS, SEMethod, _as_tau, _nap, _nap_block, _nap_to_tau
from ._tau_u import _kendall_full, _kendall_s_within, _s_between

__all__ = ["corrected_tau", "tau_bc"]


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
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

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
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch(
            "tau_bc",
            baseline,
            treatment,
            axis=batch,
            improvement=improvement,
            pretest_trend=pretest_trend,
            kendall=kendall,
            ci=ci,
            se_method=se_method,
        )
    se_method = check_option(se_method, "se_method", _SE_METHODS)
    kendall = check_option(kendall, "kendall", (True, False))
    level = check_optional_ci(ci)
    if pretest_trend is not False and not (
        isinstance(pretest_trend, (int, float))
        and not isinstance(pretest_trend, bool)
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
        oa, ob = orient(
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
            "tau_bc",
            est,
            se=se,
            ci=interval,
            ci_level=level,
            ci_method="normal",
            n_baseline=m,
            n_treatment=n,
            n_omitted=omitted,
            details={**details, "kendall": True},
        )
    # _nap (not nap): called from here, its warnings name the caller of tau_bc
    out = _nap_to_tau(_nap(ra, rb, improvement, level, se_method, "newcombe"), "tau_bc")
    return make_result(
        "tau_bc",
        out.estimate,
        se=out.se,
        ci=out.ci if level is not None else None,
        ci_level=level,
        ci_method=out.ci_method,
        n_baseline=m,
        n_treatment=n,
        n_omitted=omitted,
        details={**details, "kendall": False, "se_method": se_method},
        warn=False,  # nap() has already warned
    )


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
    continuity_correction = check_option(
        continuity_correction, "continuity_correction", (True, False)
    )
    repeated = check_option(repeated, "repeated", (True, False))
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise DataError(f"The 'alpha' argument must be strictly between 0 and 1; got {alpha!r}.")
    a, b, _, omitted = as_phase_arrays(baseline, treatment, "increase")
    m, n = a.size, b.size
    ta = (
        np.arange(1, m + 1, dtype=float)
        if baseline_sessions is None
        else np.asarray(baseline_sessions, dtype=float)
    )
    tb = (
        np.arange(m + 1, m + n + 1, dtype=float)
        if treatment_sessions is None
        else np.asarray(treatment_sessions, dtype=float)
    )
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
    table = pd.DataFrame(
        {
            "model": ["Baseline autocorrelation", "Uncorrected tau", "Baseline corrected tau"],
            "tau": [auto[0], uncorrected[0], corrected[0]],
            "z": [auto[1], uncorrected[1], corrected[1]],
            "p": [auto[2], uncorrected[2], corrected[2]],
        }
    )
    return make_result(
        "corrected_tau",
        chosen[0],
        n_baseline=m,
        n_treatment=n,
        n_omitted=omitted,
        details={
            "p": chosen[2],
            "z": chosen[1],
            "correction_applied": applied,
            "slope": slope,
            "intercept": icpt,
            "table": table,
            "tau_method": tau_method,
            "repeated": bool(repeated),
        },
        reason="all (corrected) values are tied, so Kendall's tau and its z test are 0/0; "
        "scan reports NaN too",
    )


# --------------------------------------------------------------------------- batch core
# (registry row: rehabstats.sced._registry; options as in effect_sizes)


def _tau_bc_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult | None:
    """Tau-BC with the baseline trend always removed (no pretest, Tau-A scale)."""
    m, n = a.shape[1], b.shape[1]
    if opts["pretest_trend"] is not False or opts["kendall"] or m < 2:
        return None
    t_a = np.arange(1, m + 1, dtype=float)
    t_b = np.arange(m + 1, m + n + 1, dtype=float)
    slope, icpt = _theil_sen_core(a, t_a)
    ra = a - icpt[:, None] - slope[:, None] * t_a[None, :]
    rb = b - icpt[:, None] - slope[:, None] * t_b[None, :]
    # tau_bc() has no interval choice: effect_sizes' nap_ci_method applies to NAP and Tau only
    return _as_tau(_nap_block(*orient(ra, rb, improvement), {**opts, "nap_ci_method": "newcombe"}))


def _tau_bc_axis_options(kw: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    opts["se_method"] = check_option(kw["se_method"], "se_method", _SE_METHODS)
    opts["kendall"] = check_option(kw["kendall"], "kendall", (True, False))
    opts["pretest_trend"] = kw["pretest_trend"]
    opts["nap_ci_method"] = "newcombe"
    pt = kw["pretest_trend"]
    if pt is not False and not (
        isinstance(pt, (int, float)) and not isinstance(pt, bool) and 0 < float(pt) < 1
    ):
        raise DataError(
            f"The 'pretest_trend' argument must be False or a significance "
            f"level strictly between 0 and 1; got {pt!r}."
        )
    return opts
