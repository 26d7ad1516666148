"""Effect sizes for binary outcomes from event counts: RD, RR, OR and NNT.

Direction: ``x`` is treatment, ``y`` control; ``p_x = events_x / n_x``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._results import EffectSizeResult, format_number
from .._validate import check_ci, check_improvement, check_option
from ..errors import DataError, RehabStatsWarning
from ._common import check_count
from ._intervals import z_quantile

__all__ = [
    "NNTResult",
    "_newcombe_core",
    "_wilson_core",
    "nnt",
    "odds_ratio",
    "risk_difference",
    "risk_ratio",
]


def _counts(events_x: Any, n_x: Any, events_y: Any, n_y: Any) -> tuple[int, int, int, int]:
    ex = check_count(events_x, "events_x")
    nx = check_count(n_x, "n_x", minimum=1)
    ey = check_count(events_y, "events_y")
    ny = check_count(n_y, "n_y", minimum=1)
    for ev, n, en, nn in ((ex, nx, "events_x", "n_x"), (ey, ny, "events_y", "n_y")):
        if ev > n:
            raise DataError(f"'{en}' ({ev}) cannot exceed the group size '{nn}' ({n}).")
    return ex, nx, ey, ny


def _wilson_core(
    events: ArrayLike, n: ArrayLike, z: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score limits for a proportion (no continuity correction)."""
    e = np.asarray(events, dtype=float)
    nn = np.asarray(n, dtype=float)
    p = e / nn
    denom = 1.0 + z**2 / nn
    centre = (p + z**2 / (2.0 * nn)) / denom
    half = z / denom * np.sqrt(p * (1.0 - p) / nn + z**2 / (4.0 * nn**2))
    return centre - half, centre + half


def _newcombe_core(
    events_x: ArrayLike, n_x: ArrayLike, events_y: ArrayLike, n_y: ArrayLike, *, ci: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Risk difference and Newcombe's hybrid score interval (method 10), vectorised."""
    z = z_quantile(ci)
    p1 = np.asarray(events_x, dtype=float) / np.asarray(n_x, dtype=float)
    p2 = np.asarray(events_y, dtype=float) / np.asarray(n_y, dtype=float)
    l1, u1 = _wilson_core(events_x, n_x, z)
    l2, u2 = _wilson_core(events_y, n_y, z)
    rd = p1 - p2
    low = rd - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = rd + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return rd, low, high


def _haldane(
    ex: int, nx: int, ey: int, ny: int, measure: str
) -> tuple[float, float, float, float, bool]:
    """Add 0.5 to every cell when any cell of the 2x2 table is zero (Haldane 1956)."""
    cells = (ex, nx - ex, ey, ny - ey)
    if min(cells) > 0:
        return float(ex), float(nx), float(ey), float(ny), False
    warnings.warn(
        f"{measure}: the 2x2 table has a zero cell (events_x={ex}, n_x={nx}, events_y={ey}, "
        f"n_y={ny}); 0.5 was added to every cell (Haldane correction) as metafor's escalc does.",
        RehabStatsWarning,
        stacklevel=4,
    )
    return ex + 0.5, nx + 1.0, ey + 0.5, ny + 1.0, True


def risk_difference(
    events_x: int,
    n_x: int,
    events_y: int,
    n_y: int,
    *,
    ci: float = 0.95,
    method: str = "newcombe",
) -> EffectSizeResult:
    r"""Risk difference :math:`p_x - p_y` with Newcombe's score interval.

    Parameters
    ----------
    events_x, n_x : int
        Events and group size, treatment.
    events_y, n_y : int
        Events and group size, control.
    ci : float, optional
        Confidence level.
    method : {"newcombe", "wald"}, optional
        ``"newcombe"`` (default): hybrid Wilson score interval, Newcombe (1998)
        method 10, with :math:`L = RD - \sqrt{(p_x - l_x)^2 + (u_y - p_y)^2}`,
        :math:`U = RD + \sqrt{(u_x - p_x)^2 + (p_y - l_y)^2}` from the Wilson
        limits :math:`(l, u)` of each proportion; it behaves well with zero cells.
        ``"wald"``: :math:`RD \pm z\sqrt{p_x q_x/n_x + p_y q_y/n_y}`.

    Returns
    -------
    EffectSizeResult
        ``se`` is the Wald SE (metafor's ``escalc("RD")`` with ``add = 0``).

    Notes
    -----
    No zero-cell correction is applied to the risk difference (metafor's
    escalc adds 1/2 to all cells by default here too; its ``add = 0`` result
    matches this one).

    References
    ----------
    Newcombe RG (1998). Interval estimation for the difference between
    independent proportions. Stat Med 17(8):873-890.
    doi:10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I

    Examples
    --------
    >>> import rehabstats as rs
    >>> res = rs.effect_sizes.risk_difference(12, 20, 5, 20)
    >>> round(res.estimate, 2)
    0.35
    """
    ci = check_ci(ci)
    check_option(method, "method", ("newcombe", "wald"))
    ex, nx, ey, ny = _counts(events_x, n_x, events_y, n_y)
    p1, p2 = ex / nx, ey / ny
    rd = p1 - p2
    se = math.sqrt(p1 * (1 - p1) / nx + p2 * (1 - p2) / ny)
    if method == "newcombe":
        _, lo_a, hi_a = _newcombe_core(ex, nx, ey, ny, ci=ci)
        lo, hi = float(lo_a), float(hi_a)
        ci_method = "newcombe (hybrid score, method 10)"
    else:
        z = z_quantile(ci)
        lo, hi = rd - z * se, rd + z * se
        ci_method = "wald"
    return EffectSizeResult(
        measure="risk_difference",
        estimate=rd,
        se=se,
        ci_low=lo,
        ci_high=hi,
        ci_level=ci,
        ci_method=ci_method,
        n_x=nx,
        n_y=ny,
        details={"p_x": p1, "p_y": p2, "events_x": ex, "events_y": ey},
    )


def _log_ratio(
    measure: str, events_x: Any, n_x: Any, events_y: Any, n_y: Any, ci: float
) -> EffectSizeResult:
    ci = check_ci(ci)
    ex, nx, ey, ny = _counts(events_x, n_x, events_y, n_y)
    a, n1, c, n2, corrected = _haldane(ex, nx, ey, ny, measure)
    b, d = n1 - a, n2 - c
    if measure == "risk_ratio":
        log_est = math.log((a / n1) / (c / n2))
        se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    else:
        log_est = math.log((a * d) / (b * c))
        se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    z = z_quantile(ci)
    return EffectSizeResult(
        measure=measure,
        estimate=math.exp(log_est),
        se=se,
        ci_low=math.exp(log_est - z * se),
        ci_high=math.exp(log_est + z * se),
        ci_level=ci,
        ci_method="wald (log scale)",
        n_x=nx,
        n_y=ny,
        details={
            "log_estimate": log_est,
            "se_scale": "log",
            "haldane_corrected": corrected,
            "events_x": ex,
            "events_y": ey,
        },
    )


def risk_ratio(
    events_x: int, n_x: int, events_y: int, n_y: int, *, ci: float = 0.95
) -> EffectSizeResult:
    r"""Risk ratio :math:`p_x / p_y` with a Wald interval on the log scale.

    :math:`\mathrm{SE}(\log RR) = \sqrt{1/a - 1/n_x + 1/c - 1/n_y}` (``a, c`` the
    events); ``se`` is this log-scale SE (``details["log_estimate"]`` holds
    :math:`\log RR`), as metafor's ``escalc("RR")``. A table with a zero cell
    gets 0.5 added to every cell (Haldane correction, escalc's default) and a
    ``RehabStatsWarning``.

    Examples
    --------
    >>> import rehabstats as rs
    >>> round(rs.effect_sizes.risk_ratio(12, 20, 5, 20).estimate, 2)
    2.4
    """
    return _log_ratio("risk_ratio", events_x, n_x, events_y, n_y, ci)


def odds_ratio(
    events_x: int, n_x: int, events_y: int, n_y: int, *, ci: float = 0.95
) -> EffectSizeResult:
    r"""Odds ratio with a Wald (Woolf) interval on the log scale.

    :math:`\mathrm{SE}(\log OR) = \sqrt{1/a + 1/b + 1/c + 1/d}`; ``se`` is on the
    log scale, as metafor's ``escalc("OR")``. Zero cells: Haldane correction
    (0.5 added to every cell) with a ``RehabStatsWarning``.

    References
    ----------
    Woolf B (1955). On estimating the relation between blood group and disease.
    Ann Hum Genet 19(4):251-253. doi:10.1111/j.1469-1809.1955.tb01348.x

    Examples
    --------
    >>> import rehabstats as rs
    >>> round(rs.effect_sizes.odds_ratio(12, 20, 5, 20).estimate, 2)
    4.5
    """
    return _log_ratio("odds_ratio", events_x, n_x, events_y, n_y, ci)


@dataclass(frozen=True)
class NNTResult(EffectSizeResult):
    """Number needed to treat, signed: positive = benefit (NNTB), negative = harm (NNTH).

    When ``details["ci_through_infinity"]`` is True the confidence set is
    ``(-inf, ci_low] U [ci_high, inf)`` on the signed scale, i.e. "NNTH ``|ci_low|``
    to infinity to NNTB ``ci_high``" (Altman 1998).
    """

    def summary(self) -> str:
        """One line with the NNTB/NNTH wording of Altman (1998)."""
        pct = format_number(100 * self.ci_level, 0)
        label = "NNTB" if self.estimate > 0 else "NNTH"
        text = f"nnt = {label} {format_number(abs(self.estimate))}"
        text += f" [{pct}% CI {self.details['ci_text']}] ({self.ci_method}; n = {self.n_x} + {self.n_y})"
        return text


def _nnt_label(v: float) -> str:
    if math.isinf(v):
        return "∞"
    return f"{'NNTB' if v > 0 else 'NNTH'} {format_number(abs(v))}"


def nnt(
    events_x: int,
    n_x: int,
    events_y: int,
    n_y: int,
    *,
    improvement: str = "increase",
    ci: float = 0.95,
    method: str = "newcombe",
) -> NNTResult:
    r"""Number needed to treat, :math:`1/\mathrm{RD}`, with Altman's (1998) interval.

    Parameters
    ----------
    events_x, n_x, events_y, n_y : int
        Event counts and group sizes (treatment x, control y).
    improvement : {"increase", "decrease"}, optional
        ``"increase"``: events are good outcomes (responders), so a higher
        treatment rate is a benefit. ``"decrease"``: events are adverse.
    ci : float, optional
        Confidence level.
    method : {"newcombe", "wald"}, optional
        Interval of the risk difference that is inverted.

    Returns
    -------
    NNTResult
        Signed: ``estimate > 0`` is an NNT for benefit (NNTB), ``< 0`` for harm
        (NNTH). When the RD interval excludes 0 the limits are
        ``1/RD_high, 1/RD_low`` (same sign). When it includes 0 the confidence
        set passes through infinity: ``details["ci_through_infinity"]`` is True,
        ``ci_low`` (negative) is the NNTH limit and ``ci_high`` the NNTB limit,
        and ``details["ci_text"]`` reads e.g. "NNTH 9.5 to ∞ to NNTB 2.1".
        A zero risk difference gives ``estimate = inf`` with a
        ``RehabStatsWarning`` (treatment and control rates are equal).

    References
    ----------
    Altman DG (1998). Confidence intervals for the number needed to treat.
    BMJ 317:1309-1312. doi:10.1136/bmj.317.7168.1309

    Examples
    --------
    >>> import rehabstats as rs
    >>> res = rs.effect_sizes.nnt(12, 20, 5, 20)
    >>> round(res.estimate, 2)
    2.86
    """
    improvement = check_improvement(improvement)
    rd_res = risk_difference(events_x, n_x, events_y, n_y, ci=ci, method=method)
    sign = 1.0 if improvement == "increase" else -1.0
    rd = sign * rd_res.estimate
    lo_rd, hi_rd = sorted((sign * rd_res.ci_low, sign * rd_res.ci_high))
    if rd == 0:
        warnings.warn(
            f"nnt: the risk difference is 0 (events_x/n_x = events_y/n_y = "
            f"{format_number(rd_res.details['p_x'])}), so the number needed to treat is "
            "infinite (estimate = inf): neither arm benefits.",
            RehabStatsWarning,
            stacklevel=2,
        )
    est = math.inf if rd == 0 else 1.0 / rd
    through = lo_rd <= 0.0 <= hi_rd
    with np.errstate(divide="ignore"):
        inv_lo = float(np.divide(1.0, lo_rd)) if lo_rd != 0 else -math.inf
        inv_hi = float(np.divide(1.0, hi_rd)) if hi_rd != 0 else math.inf
    if through:
        ci_low, ci_high = inv_lo, inv_hi
        ci_text = f"{_nnt_label(ci_low)} to ∞ to {_nnt_label(ci_high)}"
    else:
        ci_low, ci_high = sorted((inv_lo, inv_hi))
        ci_text = f"{_nnt_label(ci_low)} to {_nnt_label(ci_high)}"
    return NNTResult(
        measure="nnt",
        estimate=est,
        se=math.nan,
        ci_low=ci_low,
        ci_high=ci_high,
        ci_level=rd_res.ci_level,
        ci_method=f"inverted {rd_res.ci_method} interval of the risk difference",
        n_x=rd_res.n_x,
        n_y=rd_res.n_y,
        details={
            "risk_difference": rd,
            "rd_ci_low": lo_rd,
            "rd_ci_high": hi_rd,
            "ci_through_infinity": through,
            "ci_text": ci_text,
            "label": "NNTB" if est > 0 else "NNTH",
            "improvement": improvement,
        },
    )
