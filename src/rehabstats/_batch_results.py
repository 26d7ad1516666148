"""The result of an effect size computed for many samples at once (``axis=`` input).

:class:`BatchEffectSizeResult` holds one array per field of
:class:`~rehabstats._results.EffectSizeResult` (``estimate``, ``se``, ``ci_low``,
``ci_high``, ``n_x``, ``n_y``, ``n_omitted`` and the ``details``), all of the batch
shape (the input shape without ``axis``, broadcast). Indexing one element gives the
:class:`~rehabstats._results.EffectSizeResult` the one-sample call would give for it;
``to_frame()`` gives one tidy row per element.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._results import EffectSizeResult, Result, format_number

__all__ = ["BatchEffectSizeResult"]


def _item(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True, eq=False)
class BatchEffectSizeResult(Result):
    """Effect sizes of a batch of samples (the ``axis=`` form of an effect-size function).

    Attributes
    ----------
    measure : str
        Name of the index, e.g. ``"hedges_g"``.
    estimate, se, ci_low, ci_high : numpy.ndarray
        One value per element of the batch (shape :attr:`shape`); NaN where the
        one-sample call has none, or where it would raise for that element's data
        (announced by a ``RehabStatsWarning`` naming the elements).
    ci_level : float
        Confidence level (NaN when no interval was requested).
    ci_method : str
        How the intervals were computed (as the one-sample result).
    n_x, n_y : numpy.ndarray of int, or None for ``n_y``
        Observations used per element (``n_y`` is None for paired measures).
    n_omitted : numpy.ndarray of int
        Missing values (or pairs) dropped per element.
    details : Mapping[str, numpy.ndarray]
        Measure-specific extras, one array per key.
    axis : int
        The axis of the input that held the observations.
    """

    measure: str
    estimate: NDArray[np.float64]
    se: NDArray[np.float64]
    ci_low: NDArray[np.float64]
    ci_high: NDArray[np.float64]
    ci_level: float = 0.95
    ci_method: str = "none"
    n_x: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_y: NDArray[np.int64] | None = None
    n_omitted: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    details: Mapping[str, Any] = field(default_factory=dict)
    axis: int = 0

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the batch (the input shape without ``axis``, broadcast)."""
        return tuple(self.estimate.shape)

    @property
    def size(self) -> int:
        """Number of elements of the batch."""
        return int(self.estimate.size)

    @property
    def n(self) -> NDArray[np.int64]:
        """Total number of observations used, per element."""
        return self.n_x + (self.n_y if self.n_y is not None else 0)

    @property
    def ci(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The confidence limits as ``(low, high)`` arrays."""
        return (self.ci_low, self.ci_high)

    def __len__(self) -> int:
        return int(self.estimate.shape[0]) if self.estimate.ndim else 1

    def __getitem__(self, index: Any) -> EffectSizeResult:
        """The :class:`EffectSizeResult` of one element (an int, or a tuple for N-D batches)."""
        pos = index if isinstance(index, tuple) else (index,)
        if len(pos) != self.estimate.ndim or not all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pos
        ):
            raise IndexError(
                f"index one element of the batch of shape {self.shape} with "
                f"{self.estimate.ndim} integer(s); got {index!r}."
            )
        details = {
            k: _item(np.asarray(v)[pos]) if np.ndim(v) == self.estimate.ndim else v
            for k, v in self.details.items()
        }
        return EffectSizeResult(
            measure=self.measure,
            estimate=float(self.estimate[pos]),
            se=float(self.se[pos]),
            ci_low=float(self.ci_low[pos]),
            ci_high=float(self.ci_high[pos]),
            ci_level=self.ci_level,
            ci_method=self.ci_method,
            n_x=int(self.n_x[pos]),
            n_y=None if self.n_y is None else int(self.n_y[pos]),
            n_omitted=int(self.n_omitted[pos]),
            details=details,
        )

    def __iter__(self) -> Iterator[EffectSizeResult]:
        for pos in np.ndindex(*self.shape):
            yield self[pos]

    def to_frame(self) -> pd.DataFrame:
        """One row per element, in C order.

        Columns: ``index`` (the element's position: an int for a 1-D batch, a tuple
        otherwise), then those of :meth:`EffectSizeResult.to_frame` -- ``measure,
        estimate, se, ci_low, ci_high, ci_level, ci_method, n_x, n_y, n, n_omitted``.
        """
        size = self.size
        if self.estimate.ndim == 1:
            index: Any = np.arange(size)
        else:
            index = list(np.ndindex(*self.shape))
        n_y: Any = np.full(size, None, dtype=object) if self.n_y is None else self.n_y.reshape(-1)
        return pd.DataFrame(
            {
                "index": index,
                "measure": self.measure,
                "estimate": self.estimate.reshape(-1),
                "se": self.se.reshape(-1),
                "ci_low": self.ci_low.reshape(-1),
                "ci_high": self.ci_high.reshape(-1),
                "ci_level": self.ci_level,
                "ci_method": self.ci_method,
                "n_x": self.n_x.reshape(-1),
                "n_y": n_y,
                "n": self.n.reshape(-1) if self.n_y is not None else self.n_x.reshape(-1),
                "n_omitted": self.n_omitted.reshape(-1),
            }
        )

    def summary(self) -> str:
        """A header line and the first (at most 10) elements as a table."""
        pct = (
            format_number(100 * self.ci_level, 0 if (100 * self.ci_level).is_integer() else 1)
            if not math.isnan(self.ci_level)
            else "NA"
        )
        head = (
            f"{self.measure} for a batch of shape {self.shape} "
            f"({self.size} element(s); {pct}% CI, {self.ci_method})"
        )
        frame = self.to_frame()
        shown = frame.head(10)[
            ["index", "estimate", "se", "ci_low", "ci_high", "n_x", "n_y", "n_omitted"]
        ]
        text = shown.to_string(index=False, float_format=lambda v: format_number(v, 3), na_rep="NA")
        more = f"\n... and {self.size - 10} more" if self.size > 10 else ""
        return f"{head}\n{text}{more}"

    def _repr_html_(self) -> str:
        frame = self.to_frame().head(10)
        return str(frame.to_html(index=False, na_rep="NA", float_format=format_number))

    def __repr__(self) -> str:
        return f"<BatchEffectSizeResult {self.measure}: shape {self.shape}, {self.ci_method}>"
