"""Tau-U for single-case designs: Parker's index, scan's variants and their combination.

Conventions of every index function (phases, ``n_x`` / ``n_y``, SingleCaseES
defaults and scan options): :mod:`rehabstats.sced._common`.

The Kendall-S helpers (``_kendall_s_within``, ``_s_between``) and the
vectorised Parker core work on 2-D arrays, one series per row; Tau-BC reuses them.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._axis import batch_axis
from .._batch_results import BatchEffectSizeResult
from .._results import EffectSizeResult, format_number
from .._validate import check_option, check_table_column
from ..errors import DataError, RehabStatsWarning
from ._axis import BatchCoreResult, no_interval, sced_batch
from ._common import as_phase_arrays, check_optional_ci, make_result, orient, zcrit

__all__ = ["combine_tau_u", "tau_u", "tau_u_table"]


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
    """Scan's Fisher-z interval for Tau: se_z = 1/sqrt(n-3) ("z") or sqrt(0.437/(n-4)) ("tau").

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
    continuity_correction = check_option(
        continuity_correction, "continuity_correction", (True, False)
    )
    level = check_optional_ci(ci)
    a, b, _, _ = as_phase_arrays(baseline, treatment, "increase", min_size=1)
    tab = _tau_u_table_arrays(
        a, b, method, tau_method, bool(continuity_correction), level, ci_method
    )
    cols = ["Tau", "Z", "p", "SE_Tau"] + (["ci_low", "ci_high"] if level is not None else [])
    bad = ~np.isfinite(tab[cols].to_numpy(dtype=float))
    if bad.any():
        rows = [
            f"{tab['model'].iat[i]!r} ({', '.join(dict.fromkeys(c for c, x in zip(cols, bad[i], strict=True) if x))})"
            for i in np.flatnonzero(bad.any(axis=1))
        ]
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
    pos = np.array(
        [ab_pos, aa_pos, bb_pos, ab_pos + aa_neg, ab_pos + bb_pos, ab_pos + bb_pos + aa_neg]
    )
    neg = np.array(
        [ab_neg, aa_neg, bb_neg, ab_neg + aa_pos, ab_neg + bb_neg, ab_neg + bb_neg + aa_pos]
    )
    ties = np.array(
        [ab_tie, aa_tie, bb_tie, ab_tie + aa_tie, ab_tie + bb_tie, ab_tie + bb_tie + aa_tie]
    )
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

        sd_s = np.array(
            [
                math.sqrt(m * n * (m + n + 1) / 12) * 2,
                trend_sd(m),
                trend_sd(n),
                ks[3]["sdS"],
                ks[4]["sdS"],
                ks[5]["sdS"],
            ]
        )
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
    return pd.DataFrame(
        {
            "model": list(_TAU_U_MODELS),
            "pairs": pairs,
            "pos": pos,
            "neg": neg,
            "ties": ties,
            "S": s,
            "D": d,
            "Tau": tau_v,
            "ci_low": lo,
            "ci_high": hi,
            "SD_S": sd_s,
            "VAR_S": sd_s**2,
            "SE_Tau": se_tau,
            "Z": z,
            "p": p,
            "n": nn,
        }
    )


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
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on series
        ``i`` (the rule in full under :func:`~rehabstats.sced.nap`). ``None`` ravels
        each input.

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
    (baseline, treatment), batch = batch_axis([baseline, treatment], axis)
    if batch is not None:
        return sced_batch(
            "tau_u",
            baseline,
            treatment,
            axis=batch,
            improvement=improvement,
            method=method,
            tau_method=tau_method,
            continuity_correction=continuity_correction,
            model=model,
            ci=ci,
            ci_method=ci_method,
        )
    key = check_option(model, "model", tuple(_TAU_U_MODEL_KEYS))
    method = check_option(method, "method", ("parker", "complete", "tarlow"))
    tau_method = check_option(tau_method, "tau_method", ("a", "b"))
    ci_method = check_option(ci_method, "ci_method", ("z", "tau", "s"))
    continuity_correction = check_option(
        continuity_correction, "continuity_correction", (True, False)
    )
    level = check_optional_ci(ci)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    a2, b2 = orient(a, b, improvement)
    if a.size < 2 and key in ("trend_a",):
        raise DataError("Tau-U 'trend_a' needs at least 2 baseline observations.")
    with np.errstate(divide="ignore", invalid="ignore"):
        tab = _tau_u_table_arrays(
            a2, b2, method, tau_method, bool(continuity_correction), level, ci_method
        )
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
                se_z = (
                    math.sqrt(0.437 / (n_row - 4))
                    if ci_method == "tau" and n_row > 4
                    else (1 / math.sqrt(n_row - 3) if ci_method == "z" and n_row > 3 else math.nan)
                )
            se = (1 - est**2) * se_z if abs(est) < 1 else math.nan
            reason = (
                f"the Fisher-z interval needs |Tau-U| < 1 (here {format_number(est)}) "
                f"and enough observations (N = {int(n_row)}); ci_method='s' gives an "
                "interval on the scale of S"
            )
        interval = (float(row["ci_low"]), float(row["ci_high"]))
        if not (math.isfinite(interval[0]) and math.isfinite(interval[1])):
            se = math.nan
    return make_result(
        "tau_u",
        est,
        se=se,
        ci=interval,
        ci_level=level,
        ci_method=f"fisher_{ci_method}" if ci_method != "s" else "s",
        n_baseline=a.size,
        n_treatment=b.size,
        n_omitted=omitted,
        details={
            "S": float(row["S"]),
            "D": float(row["D"]),
            "pairs": float(row["pairs"]),
            "Z": float(row["Z"]),
            "p": float(row["p"]),
            "model": _TAU_U_MODEL_KEYS[key],
            "method": method,
            "tau_method": "a" if method != "complete" else tau_method,
            "se_null": float(row["SE_Tau"]),
        },
        reason=reason if level is not None else "no pairs to compare for this model",
    )


def _check_tau_u_tables(tables: Any, models: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The Tau and n of every table (rows) and model (columns), checked: a list of
    :func:`tau_u_table` outputs whose ``Tau`` and ``n`` columns are numbers.
    """
    if isinstance(tables, pd.DataFrame) or not isinstance(tables, (list, tuple)):
        raise DataError(
            "'tables' must be a list of Tau-U tables (outputs of tau_u_table), "
            f"one per case; got {type(tables).__name__}."
        )
    if not tables:
        raise DataError("'tables' must hold at least one Tau-U table.")
    tau = np.empty((len(tables), len(models)))
    n = np.empty_like(tau)
    for i, t in enumerate(tables):
        what = f"tables[{i}]"
        if not isinstance(t, pd.DataFrame) or not {"model", "Tau", "n"} <= set(t.columns):
            raise DataError(
                f"{what} must be a DataFrame returned by tau_u_table (with columns "
                f"'model', 'Tau' and 'n'); got {type(t).__name__}."
            )
        labels = t["model"].astype(object).to_numpy()
        tv = check_table_column(t, "Tau", what, allow_inf=False)
        nv = check_table_column(t, "n", what, allow_inf=False)
        for j, model in enumerate(models):
            hit = np.flatnonzero(labels == model)
            if hit.size == 0:
                raise DataError(
                    f"{what} has no row for model {model!r} (column 'model'); "
                    "pass the complete tables returned by tau_u_table."
                )
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
            problems.append(
                f"tables[{i}] {model!r}: n = {n_all[i, j]:g} < {n_min}, so its "
                f"weight is undefined (left out)"
            )
        for i in np.flatnonzero(np.abs(tau_all[:, j]) >= 1):
            problems.append(
                f"tables[{i}] {model!r}: |Tau| = {abs(tau_all[i, j]):g} >= 1 has no finite Fisher z"
            )
    if problems:
        warnings.warn(
            "combine_tau_u: "
            + "; ".join(problems[:12])
            + (" and more" if len(problems) > 12 else "")
            + ". A model whose cases are all left out is NaN; a case with |Tau| = 1 makes the "
            "pooled Tau-U +/-1 with an infinite z, one with |Tau| > 1 makes it NaN.",
            RehabStatsWarning,
            stacklevel=2,
        )
    zc = zcrit(level)
    rows = []
    for j, model in enumerate(models):
        keep = ~np.isnan(tau_all[:, j]) & (n_all[:, j] >= n_min)
        tv, nv = tau_all[keep, j], n_all[keep, j]
        if not keep.any():
            rows.append(
                {
                    "model": model,
                    "tau_u": math.nan,
                    "se": math.nan,
                    "ci_low": math.nan,
                    "ci_high": math.nan,
                    "z": math.nan,
                    "p": math.nan,
                }
            )
            continue
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            tz = 0.5 * np.log((1 + tv) / (1 - tv))
            se_z = np.sqrt(0.437 / (nv - 4)) if weights == "tau" else 1 / np.sqrt(nv - 3)
            w = 1 / se_z**2
            te = np.sum(tz * w) / np.sum(w)
            se = math.sqrt(1 / np.sum(w))

            def inv(u: float) -> float:
                return float(np.tanh(u))  # +/-1 at +/-inf, no overflow for large u

            rows.append(
                {
                    "model": model,
                    "tau_u": inv(te),
                    "se": se,
                    "ci_low": inv(te - zc * se),
                    "ci_high": inv(te + zc * se),
                    "z": te / se,
                    "p": float(2 * stats.norm.sf(abs(te / se))),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- batch core
# (registry row: rehabstats.sced._registry; options as in effect_sizes)


def _tau_u_batch(
    a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> BatchCoreResult | None:
    """Parker's Tau-U without an interval; the other variants go series by series."""
    if opts["tau_u_method"] != "parker" or opts["tau_u_ci"] != "none":
        return None
    return no_interval(_tau_u_parker_core(*orient(a, b, improvement)))


def _tau_u_axis_options(kw: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any] | None:
    model = check_option(
        kw["model"],
        "model",
        (
            "ab",
            "trend_a",
            "trend_b",
            "ab_minus_trend_a",
            "ab_plus_trend_b",
            "ab_plus_trend_b_minus_trend_a",
        ),
    )
    method = check_option(kw["method"], "method", ("parker", "complete", "tarlow"))
    check_option(kw["tau_method"], "tau_method", ("a", "b"))
    check_option(kw["ci_method"], "ci_method", ("z", "tau", "s"))
    cc = check_option(kw["continuity_correction"], "continuity_correction", (True, False))
    if method != "parker" or model != "ab_minus_trend_a" or opts["ci"] is not None or cc:
        return None
    opts.update(tau_u_method="parker", tau_u_ci="none")
    return opts
