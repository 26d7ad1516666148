"""Mantel-Haenszel pooling of 2x2 tables (metafor ``rma.mh``; RevMan's default)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._results import Result, format_number
from .._validate import check_ci, check_option
from ..errors import DesignError
from ._effects import _column, study_effects

__all__ = ["MantelHaenszelResult", "mantel_haenszel"]


@dataclass(frozen=True)
class MantelHaenszelResult(Result):
    """Mantel-Haenszel pooled RR, OR or RD with heterogeneity statistics.

    Attributes
    ----------
    measure : str
        ``"RR"``, ``"OR"`` (``estimate`` on the log scale) or ``"RD"``.
    k : int
        Number of tables used for the pooled estimate.
    estimate, se, ci_low, ci_high, statistic, p_value : float
        Pooled effect, SE (Robins-Breslow-Greenland for OR, Greenland-Robins
        for RR, Sato-Greenland-Robins for RD), normal CI, z and p.
    q, q_df, q_p, i2, h2 : float
        Cochran's Q of the study effects around the MH estimate, df, p, I² (%)
        and H² (as metafor ``rma.mh``).
    k_q : int
        Studies entering Q (double-zero studies are left out, as metafor).
    """

    measure: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float
    k_q: int
    ci_level: float = 0.95

    def _exp(self, v: float) -> float:
        return math.exp(v) if math.isfinite(v) else v

    @property
    def estimate_exp(self) -> float:
        """Pooled ratio ``exp(estimate)`` (RR, OR)."""
        return self._exp(self.estimate)

    @property
    def ci_low_exp(self) -> float:
        """``exp(ci_low)``."""
        return self._exp(self.ci_low)

    @property
    def ci_high_exp(self) -> float:
        """``exp(ci_high)``."""
        return self._exp(self.ci_high)

    def to_frame(self) -> pd.DataFrame:
        """One row: ``measure, k, estimate, se, ci_low, ci_high, statistic, p_value, q, q_df,
        q_p, i2, h2, ci_level``.
        """
        return pd.DataFrame(
            [
                {
                    "measure": self.measure,
                    "k": self.k,
                    "estimate": self.estimate,
                    "se": self.se,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "statistic": self.statistic,
                    "p_value": self.p_value,
                    "q": self.q,
                    "q_df": self.q_df,
                    "q_p": self.q_p,
                    "i2": self.i2,
                    "h2": self.h2,
                    "ci_level": self.ci_level,
                }
            ]
        )

    def summary(self) -> str:
        """Text report in the layout of metafor's ``print.rma.mh``."""
        f = format_number
        lines = [
            f"Fixed-Effects Model, Mantel-Haenszel method (k = {self.k}; {self.measure})",
            "",
            f"I^2 (total heterogeneity / total variability):  {self.i2:.2f}%",
            f"H^2 (total variability / sampling variability): {self.h2:.2f}",
            "",
            "Test for Heterogeneity:",
            f"Q(df = {self.q_df}) = {f(self.q, 4)}, p-val = {f(self.q_p, 4)}",
            "",
            f"estimate {f(self.estimate, 4)}  se {f(self.se, 4)}  zval "
            f"{f(self.statistic, 4)}  pval {f(self.p_value, 4)}  ci [{f(self.ci_low, 4)}, "
            f"{f(self.ci_high, 4)}]",
        ]
        if self.measure in ("RR", "OR"):
            lines.append(
                f"{self.measure} = {f(self.estimate_exp, 4)} [{f(self.ci_low_exp, 4)}, "
                f"{f(self.ci_high_exp, 4)}]"
            )
        return "\n".join(lines)


def mantel_haenszel(
    data: pd.DataFrame | None,
    measure: str,
    *,
    events_t: object,
    n_t: object,
    events_c: object,
    n_c: object,
    ci: float = 0.95,
) -> MantelHaenszelResult:
    r"""Pool 2x2 tables by the Mantel-Haenszel method, as metafor's ``rma.mh``.

    Parameters
    ----------
    data : pandas.DataFrame or None
        One row per study (not modified); None to pass the counts directly.
    measure : {"RR", "OR", "RD"}
        Risk ratio, odds ratio (both pooled on the log scale) or risk difference.
    events_t, n_t, events_c, n_c : str or array_like
        Events and participants per arm (column names of ``data``, or values).
    ci : float, optional
        Confidence level.

    Returns
    -------
    MantelHaenszelResult

    Raises
    ------
    DataError
        Bad counts or options.
    DesignError
        No events in either arm across all studies (the pooled ratio is
        undefined).

    Notes
    -----
    The pooled estimate uses the raw counts (no continuity correction); tables
    with a zero cell contribute as they are. OR: :math:`\sum a_i d_i/N_i / \sum
    b_i c_i/N_i` with the Robins, Breslow & Greenland (1986) variance; RR:
    :math:`\sum a_i n_{2i}/N_i / \sum c_i n_{1i}/N_i` (Greenland & Robins 1985);
    RD with the Sato, Greenland & Robins (1989) variance. Q uses the study
    effects from :func:`study_effects` with metafor's ``rma.mh`` defaults:
    ``add=0.5`` to studies with a zero cell, double-zero studies dropped;
    :math:`I^2 = 100\max(0, (Q - (k-1))/Q)`, :math:`H^2 = Q/(k-1)`.

    Examples
    --------
    >>> import rehabstats as rs
    >>> res = rs.meta.mantel_haenszel(None, "OR", events_t=[0, 22, 8], n_t=[22, 58, 37],
    ...                               events_c=[10, 30, 16], n_c=[25, 59, 41])
    >>> round(res.estimate_exp, 3)
    0.404
    """
    measure = str(check_option(measure, "measure", ("RR", "OR", "RD")))
    level = check_ci(ci)
    # study effects with rma.mh's escalc settings (add 1/2 to the cells of studies with a zero
    # cell, double-zero studies dropped) give Q; this also validates the counts
    eff = study_effects(
        data,
        measure,
        events_t=events_t,
        n_t=n_t,
        events_c=events_c,
        n_c=n_c,
        add=0.5,
        to="only0",
        drop00=True,
    )
    k = len(eff)
    a = _column(data, "events_t", events_t, k)
    n1 = _column(data, "n_t", n_t, k)
    c = _column(data, "events_c", events_c, k)
    n2 = _column(data, "n_c", n_c, k)
    b, d = n1 - a, n2 - c
    nn = n1 + n2
    z = float(stats.norm.isf((1 - level) / 2))
    if measure == "OR":
        r_i, s_i = a * d / nn, b * c / nn
        r_, s_ = r_i.sum(), s_i.sum()
        if r_ == 0 or s_ == 0:
            raise DesignError(
                "The Mantel-Haenszel odds ratio is undefined: sum(a d / N) or "
                "sum(b c / N) is 0 (no discordant information)."
            )
        p_i, q_i = (a + d) / nn, (b + c) / nn
        est = math.log(r_ / s_)
        se = math.sqrt(
            0.5
            * (
                (p_i * r_i).sum() / r_**2
                + (p_i * s_i + q_i * r_i).sum() / (r_ * s_)
                + (q_i * s_i).sum() / s_**2
            )
        )
    elif measure == "RR":
        r_, s_ = (a * n2 / nn).sum(), (c * n1 / nn).sum()
        if a.sum() == 0 or c.sum() == 0:
            raise DesignError(
                "The Mantel-Haenszel risk ratio is undefined: an arm has no events in any study."
            )
        est = math.log(r_ / s_)
        se = math.sqrt((n1 * n2 * (a + c) / nn**2 - a * c / nn).sum() / (r_ * s_))
    else:
        wsum = (n1 * n2 / nn).sum()
        est = float((a * n2 / nn - c * n1 / nn).sum() / wsum)
        num = (
            est
            * (
                c * (n1 / nn) ** 2 - a * (n2 / nn) ** 2 + (n1 / nn) * (n2 / nn) * (n2 - n1) / 2
            ).sum()
            + (a * (n2 - c) / nn + c * (n1 - a) / nn).sum() / 2
        )
        se = math.sqrt(num / wsum**2)
    stat = est / se
    p = float(2 * stats.norm.sf(abs(stat)))
    ok = np.isfinite(eff["yi"].to_numpy()) & np.isfinite(eff["vi"].to_numpy())
    yi, vi = eff["yi"].to_numpy()[ok], eff["vi"].to_numpy()[ok]
    k_q = int(ok.sum())
    if k_q > 1:
        q = max(0.0, float(((yi - est) ** 2 / vi).sum()))
        q_p = float(stats.chi2.sf(q, k_q - 1))
        i2 = max(0.0, 100.0 * (q - (k_q - 1)) / q) if q > 0 else 0.0
        h2 = q / (k_q - 1)
    else:
        q, q_p, i2, h2 = 0.0, 1.0, 0.0, 1.0
    return MantelHaenszelResult(
        measure=measure,
        k=k,
        estimate=est,
        se=se,
        ci_low=est - z * se,
        ci_high=est + z * se,
        statistic=stat,
        p_value=p,
        q=q,
        q_df=max(k_q - 1, 0),
        q_p=q_p,
        i2=i2,
        h2=h2,
        k_q=k_q,
        ci_level=level,
    )
