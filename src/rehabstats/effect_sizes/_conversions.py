"""Conversions between effect-size metrics (as R's effectsize 0.8.3)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .._validate import show_value
from ..errors import DataError, RehabStatsWarning

__all__ = ["d_to_odds_ratio", "d_to_r", "odds_ratio_to_d", "r_to_d"]


def _as_values(value: Any, name: str) -> np.ndarray:
    """Numbers as a float array; NaN/pd.NA pass through (announced), inf and bools raise."""
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise DataError(
            f"'{name}' must be numeric (a number or an array of numbers); got {show_value(value)}."
        )
    if isinstance(value, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)):
        if pd.api.types.is_bool_dtype(value.dtype):
            raise DataError(f"'{name}' must be numeric; got booleans.")
        try:
            value = pd.to_numeric(pd.Series(value), errors="raise").to_numpy(
                dtype=float, na_value=np.nan
            )
        except (TypeError, ValueError) as exc:
            raise DataError(f"'{name}' must be numeric; got {show_value(value)}.") from exc
    raw = np.asarray(value)
    if raw.dtype.kind == "b" or (
        raw.dtype == object and any(isinstance(v, (bool, np.bool_)) for v in raw.reshape(-1))
    ):
        raise DataError(f"'{name}' must be numeric; got booleans.")
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"'{name}' must be numeric; got {show_value(value)}.") from exc
    if np.isinf(arr).any():
        raise DataError(f"'{name}' must be finite; got {show_value(arr[np.isinf(arr)].flat[0])}.")
    n_nan = int(np.isnan(arr).sum())
    if n_nan:
        warnings.warn(
            f"'{name}' has {n_nan} missing value(s); the converted value is NaN there.",
            RehabStatsWarning,
            stacklevel=3,
        )
    return arr


def _warn_infinite(out: np.ndarray, what: str) -> None:
    if np.isinf(out).any():
        warnings.warn(
            f"{what}; the converted value is infinite there.", RehabStatsWarning, stacklevel=3
        )


def _check_log(log: Any) -> bool:
    if not isinstance(log, (bool, np.bool_)):
        raise DataError(f"The 'log' argument must be True or False; got {show_value(log)}.")
    return bool(log)


def _out(arr: np.ndarray) -> Any:
    return float(arr) if arr.ndim == 0 else arr


def _h(n1: float | None, n2: float | None) -> float:
    """Effectsize's h: 4 without sizes, else m/n1 + m/n2 with m = n1 + n2 - 2."""
    if n1 is None and n2 is None:
        return 4.0
    n1 = n2 if n1 is None else n1
    n2 = n1 if n2 is None else n2
    assert n1 is not None
    assert n2 is not None
    for name, v in (("n1", n1), ("n2", n2)):
        if (
            not isinstance(v, (int, float, np.integer, np.floating))
            or isinstance(v, bool)
            or not math.isfinite(v)
            or v < 1
        ):
            raise DataError(
                f"The '{name}' argument must be a sample size >= 1; got {show_value(v)}."
            )
    m = n1 + n2 - 2.0
    if m <= 0:
        raise DataError(f"'n1' + 'n2' must exceed 2; got {show_value(n1)} + {show_value(n2)}.")
    return m / n1 + m / n2


def d_to_r(d: ArrayLike, n1: float | None = None, n2: float | None = None) -> Any:
    r"""Convert Cohen's d to a point-biserial r: :math:`r = d / \sqrt{d^2 + h}`.

    ``h = 4`` (equal groups, large samples) unless ``n1``/``n2`` are given, then
    :math:`h = m/n_1 + m/n_2` with :math:`m = n_1 + n_2 - 2` (as effectsize).

    Examples
    --------
    >>> import rehabstats as rs
    >>> round(rs.effect_sizes.d_to_r(0.5), 4)
    0.2425
    """
    arr = _as_values(d, "d")
    h = _h(n1, n2)
    # d / sqrt(d^2 + h) = sign(d) / sqrt(1 + h / d^2), formed without squaring a huge d
    with np.errstate(divide="ignore", invalid="ignore"):
        big = np.abs(arr) > 1e150
        safe = np.where(big, arr, 1.0)
        out = np.where(
            big,
            np.sign(arr) / np.sqrt(1.0 + h / safe / safe),
            arr / np.sqrt(np.where(big, 0.0, arr) ** 2 + h),
        )
    return _out(out)


def r_to_d(r: ArrayLike, n1: float | None = None, n2: float | None = None) -> Any:
    r"""Convert r to Cohen's d: :math:`d = \sqrt{h}\, r / \sqrt{1 - r^2}` (inverse of :func:`d_to_r`).

    Examples
    --------
    >>> import rehabstats as rs
    >>> round(rs.effect_sizes.r_to_d(0.2425356), 4)
    0.5
    """
    arr = _as_values(r, "r")
    if np.any(np.abs(arr[~np.isnan(arr)]) > 1):
        raise DataError(f"'r' must lie in [-1, 1]; got {show_value(r)}.")
    h = _h(n1, n2)
    with np.errstate(divide="ignore"):
        out = math.sqrt(h) * arr / np.sqrt(1.0 - arr**2)
    _warn_infinite(out, "'r' = +/-1 gives an infinite d")
    return _out(out)


def d_to_odds_ratio(d: ArrayLike, *, log: bool = False) -> Any:
    r"""Convert d to an odds ratio with the logistic scaling :math:`\log OR = d\pi/\sqrt{3}`.

    Hasselblad & Hedges (1995). ``log=True`` returns the log odds ratio.

    Examples
    --------
    >>> import rehabstats as rs
    >>> round(rs.effect_sizes.d_to_odds_ratio(0.5), 4)
    2.4766
    """
    log = _check_log(log)
    log_or = _as_values(d, "d") * math.pi / math.sqrt(3.0)
    if log:
        return _out(log_or)
    with np.errstate(over="ignore"):
        out = np.exp(log_or)
    _warn_infinite(out, "the odds ratio exp(d pi / sqrt(3)) overflows double precision")
    return _out(out)


def odds_ratio_to_d(odds_ratio: ArrayLike, *, log: bool = False) -> Any:
    r"""Convert an odds ratio (or log OR with ``log=True``) to d: :math:`d = \log OR\,\sqrt{3}/\pi`.

    Examples
    --------
    >>> import rehabstats as rs
    >>> round(rs.effect_sizes.odds_ratio_to_d(2.4766), 3)
    0.5
    """
    log = _check_log(log)
    arr = _as_values(odds_ratio, "odds_ratio")
    if not log and np.any(arr[~np.isnan(arr)] <= 0):
        raise DataError(
            f"'odds_ratio' must be positive (use log=True for log odds ratios); "
            f"got {show_value(odds_ratio)}."
        )
    with np.errstate(divide="ignore"):
        log_or = arr if log else np.log(arr)
    return _out(log_or * math.sqrt(3.0) / math.pi)
