"""Result of a meta-analysis: fields as metafor reports them, a metafor-like print."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .._results import Result, format_number

__all__ = ["MetaAnalysisResult"]

_METHOD_NAMES = {
    "EE": "common-effect (inverse variance)",
    "DL": "DerSimonian-Laird",
    "REML": "restricted maximum likelihood",
    "ML": "maximum likelihood",
    "PM": "Paule-Mandel",
    "HE": "Hedges",
    "SJ": "Sidik-Jonkman",
}


def _f(v: float, digits: int = 4) -> str:
    return format_number(v, digits)


@dataclass(frozen=True)
class MetaAnalysisResult(Result):
    """A pooled estimate with heterogeneity statistics (metafor ``rma.uni``).

    Attributes
    ----------
    k : int
        Number of studies.
    estimate, se, ci_low, ci_high : float
        Pooled effect (log scale for log measures), its standard error (scaled
        by the Hartung-Knapp factor under ``test="hksj"``) and CI.
    statistic, df, p_value : float
        z (or t with ``df = k - 1`` under HKSJ; ``df`` is NaN for z) and p.
    tau2, se_tau2, tau2_ci_low, tau2_ci_high : float
        Between-study variance (0 for ``EE``), its SE as metafor computes it for
        the estimator, and the Q-profile CI (NaN for EE and k = 1).
    i2, i2_ci_low, i2_ci_high, h2 : float
        I² (percent) and H², metafor's definitions; CIs from the tau² limits.
    q, q_df, q_p : float, int, float
        Cochran's Q (common-effect weights), its df and p.
    pi_low, pi_high : float
        Prediction interval for the effect in a new study.
    weights : numpy.ndarray
        Percent weight of each study in the pooled estimate.
    yi, vi, labels : study inputs; ``method``, ``test``, ``ci_level``,
        ``prediction``, ``measure`` describe the fit; ``converged``,
        ``iterations`` report the iterative estimators; ``notes`` lists what
        the user should know (bounded tau² limit, k = 1, ...).
    """

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    df: float
    p_value: float
    tau2: float
    se_tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    i2: float
    i2_ci_low: float
    i2_ci_high: float
    h2: float
    h2_ci_low: float
    h2_ci_high: float
    q: float
    q_df: int
    q_p: float
    pi_low: float
    pi_high: float
    weights: np.ndarray
    yi: np.ndarray
    vi: np.ndarray
    labels: tuple[str, ...]
    method: str
    test: str
    ci_level: float = 0.95
    prediction: str = "metafor"
    measure: str | None = None
    converged: bool = True
    iterations: int = 0
    tau2_ci_bounded: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    # ---- views ---------------------------------------------------------------------------
    @property
    def tau(self) -> float:
        """Square root of tau²."""
        return math.sqrt(self.tau2)

    @property
    def is_log_scale(self) -> bool:
        """True for ratio measures (ROM, RR, OR) analysed as logs."""
        return self.measure in ("ROM", "RR", "OR")

    def _exp(self, value: float) -> float:
        return math.exp(value) if math.isfinite(value) else value

    @property
    def estimate_exp(self) -> float:
        """``exp(estimate)``: the pooled ratio for a log measure."""
        return self._exp(self.estimate)

    @property
    def ci_low_exp(self) -> float:
        """``exp(ci_low)``."""
        return self._exp(self.ci_low)

    @property
    def ci_high_exp(self) -> float:
        """``exp(ci_high)``."""
        return self._exp(self.ci_high)

    @property
    def pi_low_exp(self) -> float:
        """``exp(pi_low)``."""
        return self._exp(self.pi_low)

    @property
    def pi_high_exp(self) -> float:
        """``exp(pi_high)``."""
        return self._exp(self.pi_high)

    @property
    def ci(self) -> tuple[float, float]:
        """The confidence interval of the pooled effect as ``(low, high)``."""
        return (self.ci_low, self.ci_high)

    def to_frame(self, *, exp: bool = False) -> pd.DataFrame:
        """One-row table of the pooled result (fixed columns).

        Columns: ``method, test, k, estimate, se, ci_low, ci_high, statistic, df,
        p_value, tau2, se_tau2, tau2_ci_low, tau2_ci_high, i2, i2_ci_low,
        i2_ci_high, h2, q, q_df, q_p, pi_low, pi_high, ci_level``. With
        ``exp=True`` the estimate and interval columns are exponentiated (for
        log measures) and ``se`` is NaN.
        """
        row: dict[str, Any] = {
            "method": self.method,
            "test": self.test,
            "k": self.k,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "tau2": self.tau2,
            "se_tau2": self.se_tau2,
            "tau2_ci_low": self.tau2_ci_low,
            "tau2_ci_high": self.tau2_ci_high,
            "i2": self.i2,
            "i2_ci_low": self.i2_ci_low,
            "i2_ci_high": self.i2_ci_high,
            "h2": self.h2,
            "q": self.q,
            "q_df": self.q_df,
            "q_p": self.q_p,
            "pi_low": self.pi_low,
            "pi_high": self.pi_high,
            "ci_level": self.ci_level,
        }
        if exp:
            for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
                row[key] = self._exp(row[key])
            row["se"] = math.nan
        return pd.DataFrame([row])

    def studies(self) -> pd.DataFrame:
        """Per-study table: ``study, yi, vi, se, ci_low, ci_high, weight`` (percent)."""
        from scipy import stats

        z = float(stats.norm.isf((1 - self.ci_level) / 2))
        se = np.sqrt(self.vi)
        return pd.DataFrame(
            {
                "study": list(self.labels),
                "yi": self.yi,
                "vi": self.vi,
                "se": se,
                "ci_low": self.yi - z * se,
                "ci_high": self.yi + z * se,
                "weight": self.weights,
            }
        )

    def summary(self) -> str:
        """A text report laid out like metafor's ``print.rma.uni``."""
        pct = format_number(100 * self.ci_level, 0)
        lines = []
        if self.method == "EE":
            lines.append(f"Common-Effect Model (k = {self.k})")
        else:
            lines.append(
                f"Random-Effects Model (k = {self.k}; tau^2 estimator: {self.method}, "
                f"{_METHOD_NAMES[self.method]})"
            )
        lines.append("")
        if self.method != "EE":
            se_t = f" (SE = {_f(self.se_tau2)})" if math.isfinite(self.se_tau2) else ""
            lines.append(f"tau^2 (estimated amount of total heterogeneity): {_f(self.tau2)}{se_t}")
            lines.append(f"tau (square root of estimated tau^2 value):      {_f(self.tau)}")
        lines.append(f"I^2 (total heterogeneity / total variability):   {self.i2:.2f}%")
        lines.append(f"H^2 (total variability / sampling variability):  {self.h2:.2f}")
        if math.isfinite(self.tau2_ci_low):
            hi = (">" if self.tau2_ci_bounded else "") + _f(self.tau2_ci_high)
            lines.append(
                f"tau^2 {pct}% CI (Q-profile): [{_f(self.tau2_ci_low)}, {hi}]; "
                f"I^2 [{self.i2_ci_low:.2f}%, {self.i2_ci_high:.2f}%]"
            )
        lines += [
            "",
            "Test for Heterogeneity:",
            f"Q(df = {self.q_df}) = {_f(self.q)}, p-val = {_f(self.q_p)}",
            "",
            "Model Results:",
            "",
        ]
        stat = "tval" if self.test == "hksj" else "zval"
        header = (
            ["estimate", "se", stat]
            + (["df"] if self.test == "hksj" else [])
            + ["pval", "ci.lb", "ci.ub"]
        )
        vals = (
            [_f(self.estimate), _f(self.se), _f(self.statistic)]
            + ([format_number(self.df, 0)] if self.test == "hksj" else [])
            + [_f(self.p_value), _f(self.ci_low), _f(self.ci_high)]
        )
        width = [max(len(h), len(v)) + 2 for h, v in zip(header, vals, strict=True)]
        lines.append("".join(h.rjust(w) for h, w in zip(header, width, strict=True)))
        lines.append("".join(v.rjust(w) for v, w in zip(vals, width, strict=True)))
        lines.append("")
        test = "Hartung-Knapp-Sidik-Jonkman t test" if self.test == "hksj" else "z test"
        lines.append(
            f"Test: {test}; {pct}% prediction interval "
            f"({'Higgins t(k-2)' if self.prediction == 'higgins' else 'metafor'}): "
            f"[{_f(self.pi_low)}, {_f(self.pi_high)}]"
        )
        if self.is_log_scale:
            lines.append(
                f"Exponentiated ({self.measure}): {_f(self.estimate_exp)} "
                f"[{_f(self.ci_low_exp)}, {_f(self.ci_high_exp)}]; prediction "
                f"[{_f(self.pi_low_exp)}, {_f(self.pi_high_exp)}]"
            )
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<MetaAnalysisResult {self.method}/{self.test} k={self.k}: "
            f"{_f(self.estimate)} [{_f(self.ci_low)}, {_f(self.ci_high)}], "
            f"tau2={_f(self.tau2)}, I2={self.i2:.1f}%>"
        )

    def forest(
        self,
        *,
        labels: Sequence[str] | None = None,
        xlabel: str | None = None,
        exp: bool | None = None,
        title: str | None = None,
        digits: int = 2,
        prediction_interval: bool = True,
    ) -> Figure:
        """Forest plot (:func:`rehabstats.plot.forest`): studies, diamond, weights, PI."""
        from ..plot._forest_meta import forest_meta

        return forest_meta(
            self,
            labels=labels,
            xlabel=xlabel,
            exp=exp,
            title=title,
            digits=digits,
            prediction_interval=prediction_interval,
        )
