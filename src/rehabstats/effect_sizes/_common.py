"""Small helpers shared by the effect-size modules (not public)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from .._validate import show_value
from ..errors import DataError

__all__ = ["check_count", "check_summary", "hedges_j", "mean_sd", "pow2", "scalar"]


def hedges_j(df: ArrayLike) -> NDArray[np.float64]:
    """Exact small-sample bias correction J(df) = Γ(df/2) / (√(df/2) Γ((df-1)/2)).

    Hedges (1981), as effectsize and metafor compute it (``gammaln`` keeps it
    finite for large ``df``). J(df) -> 1 as df grows; it is below 1 for df > 1.
    """
    m = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(
            np.exp(
                special.gammaln(m / 2.0) - 0.5 * np.log(m / 2.0) - special.gammaln((m - 1.0) / 2.0)
            ),
            dtype=float,
        )


def pow2(values: ArrayLike) -> NDArray[np.float64]:
    """Largest power of two not above ``|values|``, elementwise (1 where 0 or not finite).

    Dividing by it is exact in floating point, so a statistic computed on
    ``values / pow2(values)`` and multiplied back is bit-identical to the direct
    computation, but no square of a value near 1e300 overflows on the way (that gave
    ``cohens_d`` = -0.0 for data of size 1e300).
    """
    m = np.abs(np.asarray(values, dtype=float))
    ok = np.isfinite(m) & (m > 0)
    _, e = np.frexp(np.where(ok, m, 1.0))
    return np.asarray(np.where(ok, np.ldexp(1.0, e - 1), 1.0), dtype=float)


def mean_sd(values: NDArray[np.float64]) -> tuple[float, float]:
    """Mean and SD (``ddof=1``) of a finite sample without overflowing at extreme scale."""
    c = float(pow2(np.max(np.abs(values)))) if values.size else 1.0
    scaled = values / c
    return c * float(scaled.mean()), c * float(scaled.std(ddof=1))


def scalar(value: Any) -> float:
    """Convert a 0-d array (or 1-element array) to a Python float."""
    return float(np.asarray(value, dtype=float).reshape(-1)[0])


def check_summary(value: Any, name: str, *, kind: str) -> float:
    """Check one summary statistic.

    ``kind`` is ``"mean"`` (any finite number), ``"sd"`` (finite, >= 0) or
    ``"n"`` (a whole number >= 2, because an SD needs two observations).
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
        raise DataError(f"The '{name}' argument must be a number; got {show_value(value)}.")
    v = float(value)
    if not np.isfinite(v):
        raise DataError(f"The '{name}' argument must be a finite number; got {show_value(value)}.")
    if kind == "sd" and v < 0:
        raise DataError(
            f"The '{name}' argument is a standard deviation and cannot be "
            f"negative; got {show_value(value)}."
        )
    if kind == "n":
        if not v.is_integer():
            raise DataError(
                f"The '{name}' argument is a sample size and must be a whole "
                f"number; got {show_value(value)}."
            )
        if v < 2:
            raise DataError(
                f"The '{name}' argument is a sample size and must be at least 2 "
                f"(a standard deviation needs two observations); got {show_value(value)}."
            )
    return v


def check_count(value: Any, name: str, *, minimum: int = 0) -> int:
    """Check an event count or group size: a whole number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
        raise DataError(f"The '{name}' argument must be a whole number; got {show_value(value)}.")
    v = float(value)
    if not np.isfinite(v) or not v.is_integer():
        raise DataError(f"The '{name}' argument must be a whole number; got {show_value(value)}.")
    if v < minimum:
        raise DataError(
            f"The '{name}' argument must be at least {minimum}; got {show_value(value)}."
        )
    if v > 2.0**53:
        raise DataError(
            f"The '{name}' argument is a count and must be at most 2**53 (the "
            f"largest exactly representable whole number); got {show_value(value)}."
        )
    return int(v)
