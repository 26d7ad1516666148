"""Base result types shared by every rehabstats computation.

Results are frozen dataclasses. Each has ``to_frame()`` (a tidy DataFrame whose
columns never depend on options), ``summary()`` (plain text a person can paste
into a paper) and ``_repr_html_()`` for notebooks. Values are never rounded;
rounding happens only when rendering.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["EffectSizeResult", "Result", "format_number"]


def format_number(value: Any, digits: int = 3) -> str:
    """Render a number for text output (NaN as ``NA``, integers without decimals)."""
    if value is None:
        return "NA"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "NA"
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    if v != 0 and (abs(v) < 10 ** (-digits) or abs(v) >= 1e6):
        return f"{v:.{digits}g}"
    return f"{v:.{digits}f}"


@dataclass(frozen=True)
class Result:
    """Base class: subclasses implement :meth:`to_frame` and may override :meth:`summary`."""

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - abstract
        """Return the result as a tidy :class:`pandas.DataFrame`."""
        raise NotImplementedError

    def summary(self) -> str:
        """Plain-text summary: the tidy table rendered with 3 significant decimals."""
        frame = self.to_frame()
        return frame.to_string(index=False, float_format=lambda v: format_number(v, 3), na_rep="NA")

    def _repr_html_(self) -> str:
        return str(self.to_frame().to_html(index=False, na_rep="NA", float_format=format_number))

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True)
class EffectSizeResult(Result):
    """An effect size with its standard error and confidence interval.

    Attributes
    ----------
    measure : str
        Name of the index, e.g. ``"hedges_g"``, ``"nap"``.
    estimate, se, ci_low, ci_high : float
        Point estimate, standard error (NaN when no sampling distribution is
        known) and confidence limits (NaN when no interval is available).
    ci_level : float
        Confidence level of the interval, e.g. 0.95.
    ci_method : str
        How the interval was computed (``"ncp"``, ``"normal"``, ``"newcombe"``, ...).
    n_x, n_y : int or None
        Sample sizes of ``x``/treatment and ``y``/control (or baseline). For
        one-sample and paired measures ``n_x`` is the number of pairs and
        ``n_y`` is None.
    n_omitted : int
        Observations dropped because they were missing.
    details : Mapping
        Measure-specific extras (df, t, the bias-correction factor, ...).
    """

    measure: str
    estimate: float
    se: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    ci_level: float = 0.95
    ci_method: str = "none"
    n_x: int | None = None
    n_y: int | None = None
    n_omitted: int = 0
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Total number of observations used."""
        return int((self.n_x or 0) + (self.n_y or 0))

    @property
    def ci(self) -> tuple[float, float]:
        """The confidence interval as ``(low, high)``."""
        return (self.ci_low, self.ci_high)

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame with fixed columns.

        Columns: ``measure, estimate, se, ci_low, ci_high, ci_level, ci_method,
        n_x, n_y, n, n_omitted``.
        """
        return pd.DataFrame(
            [
                {
                    "measure": self.measure,
                    "estimate": self.estimate,
                    "se": self.se,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "ci_level": self.ci_level,
                    "ci_method": self.ci_method,
                    "n_x": self.n_x,
                    "n_y": self.n_y,
                    "n": self.n,
                    "n_omitted": self.n_omitted,
                }
            ]
        )

    def summary(self) -> str:
        """One line, e.g. ``hedges_g = 3.029 [95% CI 1.720, 4.303] (ncp; n = 10 + 10)``."""
        pct = format_number(100 * self.ci_level, 0 if (100 * self.ci_level).is_integer() else 1)
        ns = f"{self.n_x}" if self.n_y is None else f"{self.n_x} + {self.n_y}"
        text = f"{self.measure} = {format_number(self.estimate)}"
        if not math.isnan(self.se):
            text += f" (SE {format_number(self.se)})"
        if not (math.isnan(self.ci_low) and math.isnan(self.ci_high)):
            text += (
                f" [{pct}% CI {format_number(self.ci_low)}, {format_number(self.ci_high)}]"
                f" ({self.ci_method}"
            )
        else:
            text += " (no CI"
        text += f"; n = {ns})"
        if self.n_omitted:
            text += f"; {self.n_omitted} missing omitted"
        return text

    def __repr__(self) -> str:
        return f"<EffectSizeResult {self.summary()}>"
