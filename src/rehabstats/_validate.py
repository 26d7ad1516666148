"""Shared input checks. They raise :mod:`rehabstats.errors` exceptions only.

Every function here returns new objects and never modifies its input.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import DataError, RehabStatsWarning

__all__ = [
    "NanPolicy",
    "as_float_array",
    "as_paired_arrays",
    "check_ci",
    "check_columns",
    "check_improvement",
    "check_magnitude",
    "check_nan_policy",
    "check_numeric_column",
    "check_option",
    "check_positive",
    "check_table_column",
    "drop_missing_rows",
    "normalize_rng",
    "show_value",
]

NanPolicy = Literal["omit", "raise"]
_NAN_POLICIES = ("omit", "raise")


def show_value(value: Any, *, limit: int = 80) -> str:
    """A value as a user wrote it, for error messages: ``32`` not ``np.int64(32)``.

    numpy scalars and 0-d arrays become Python scalars, ``pd.NA``/``NaT`` print
    as ``<NA>``/``NaT``, lists, tuples and arrays are shown element by element
    (shortened past ``limit`` characters); everything else is ``repr``.

    Examples
    --------
    >>> import numpy as np
    >>> from rehabstats._validate import show_value
    >>> show_value(np.int64(32)), show_value(np.str_("A")), show_value([np.float64(1.5), 2])
    ('32', "'A'", '[1.5, 2]')
    """
    if isinstance(value, np.ndarray):
        value = value.item() if value.ndim == 0 else value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA:
        return "<NA>"
    if value is pd.NaT:
        return "NaT"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(show_value(v, limit=limit) for v in value)
        text = (
            f"[{inner}]"
            if isinstance(value, list)
            else f"({inner}{',' if len(value) == 1 else ''})"
        )
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_option(value: Any, name: str, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``; otherwise raise a DataError naming ``name``."""
    allowed = tuple(allowed)
    if not isinstance(value, (str, numbers.Number, type(None))) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise DataError(f"The '{name}' argument must be one of {choices}; got {show_value(value)}.")
    return value


def check_ci(ci: Any, name: str = "ci") -> float:
    """Check a confidence level strictly between 0 and 1."""
    if isinstance(ci, bool) or not isinstance(ci, numbers.Real) or not 0 < float(ci) < 1:
        raise DataError(
            f"The '{name}' argument is the confidence level and must be a number strictly "
            f"between 0 and 1 (e.g. 0.95); got {show_value(ci)}."
        )
    return float(ci)


def check_improvement(improvement: Any) -> Literal["increase", "decrease"]:
    """Check the direction of therapeutic change."""
    return check_option(improvement, "improvement", ("increase", "decrease"))


def check_nan_policy(nan_policy: Any) -> NanPolicy:
    """Check a ``nan_policy`` argument (``"omit"`` or ``"raise"``)."""
    return check_option(nan_policy, "nan_policy", _NAN_POLICIES)


def check_positive(
    value: Any, name: str, *, allow_zero: bool = False, integer: bool = False
) -> float:
    """Check a finite positive (or non-negative) scalar such as an SD or a sample size."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
        raise DataError(f"The '{name}' argument must be a number; got {show_value(value)}.")
    v = float(value)
    if not np.isfinite(v):
        raise DataError(f"The '{name}' argument must be finite; got {show_value(value)}.")
    if integer and not float(v).is_integer():
        raise DataError(f"The '{name}' argument must be a whole number; got {show_value(value)}.")
    if v < 0 or (v == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "greater than zero"
        raise DataError(f"The '{name}' argument must be {bound}; got {show_value(value)}.")
    return v


#: the largest magnitude accepted where values are squared (1e150 ** 2 = 1e300 < 1.8e308)
MAX_MAGNITUDE = 1e150


def check_not_tiny(
    values: Any,
    name: str,
    *,
    limit: float = 1 / MAX_MAGNITUDE,
    unit: str = "position",
    offset: int = 0,
    what: str = "values",
) -> None:
    """Raise a DataError when a non-zero value is smaller in magnitude than ``limit``.

    The counterpart of :func:`check_magnitude` for values that are inverted and
    then squared: a sampling variance below 1e-150 gives an inverse-variance
    weight above 1e150, whose square overflows. The message names the argument,
    the position (``unit`` and ``offset``) and the value.

    >>> check_not_tiny([0.1, 0.0, 2e-3], "vi")
    >>> check_not_tiny([0.1, 1e-160], "vi", unit="study", offset=1, what="sampling variances")
    Traceback (most recent call last):
    ...
    rehabstats.errors.DataError: 'vi' holds a value of magnitude 1e-160 (study 2); sampling variances below 1e-150 overflow when inverted and squared in floating point: rescale them (e.g. other units).
    """
    arr = np.asarray(values, dtype=float).reshape(-1)
    with np.errstate(invalid="ignore"):
        tiny = (arr != 0) & (np.abs(arr) < limit)
    if tiny.any():
        pos = int(np.flatnonzero(tiny)[0])
        raise DataError(
            f"'{name}' holds a value of magnitude {abs(arr[pos]):.3g} ({unit} {pos + offset}); "
            f"{what} below {limit:.0e} overflow when inverted and squared in floating point: "
            "rescale them (e.g. other units)."
        )


def check_magnitude(
    values: Any, name: str, *, limit: float = MAX_MAGNITUDE, unit: str = "position", offset: int = 0
) -> None:
    """Raise a DataError when a value is larger in magnitude than ``limit``.

    Sums of squares of values above 1e150 overflow (or lose every digit), so a
    variance, an SD or a sample-size formula would give ``inf``/``nan`` or a wrong
    finite number. The message names the argument, the position (``unit`` and
    ``offset``, e.g. ``"study"`` counted from 1) and the value.

    >>> check_magnitude([1.0, 2e3], "yi")
    >>> check_magnitude([1.0, 2e200], "yi", unit="study", offset=1)
    Traceback (most recent call last):
    ...
    rehabstats.errors.DataError: 'yi' holds a value of magnitude 2e+200 (study 2); values above 1e+150 cannot be squared in floating point: rescale them (e.g. other units).
    """
    arr = np.asarray(values, dtype=float).reshape(-1)
    with np.errstate(invalid="ignore"):
        big = np.abs(arr) > limit
    if big.any():
        pos = int(np.flatnonzero(big)[0])
        raise DataError(
            f"'{name}' holds a value of magnitude {abs(arr[pos]):.3g} ({unit} {pos + offset}); "
            f"values above {limit:.0e} cannot be squared in floating point: rescale them "
            "(e.g. other units)."
        )


def _to_numeric_1d(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (str, bytes)):
        raise DataError(
            f"'{name}' must be a sequence of numbers; got a string {show_value(values)}."
        )
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise DataError(
                f"'{name}' must be one-dimensional; got a DataFrame with {values.shape[1]} columns."
            )
        values = values.iloc[:, 0]
    if not isinstance(values, pd.Series):
        raw = np.asarray(values)
        if raw.ndim > 1:
            raise DataError(f"'{name}' must be one-dimensional; got an array of shape {raw.shape}.")
        if raw.dtype.kind in "fiub":
            arr = raw.astype(float).reshape(-1)
            return _check_finite(arr, name)
        values = pd.Series(raw.reshape(-1), dtype=object)
    series = values
    if not (
        pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)
    ):
        # object, string or categorical: accept numbers (and numeric strings), name the first bad value
        converted = pd.to_numeric(series.astype(object), errors="coerce")
        bad = series[converted.isna() & series.notna()]
        if len(bad):
            pos = int(np.flatnonzero((converted.isna() & series.notna()).to_numpy())[0])
            raise DataError(
                f"'{name}' must be numeric; found non-numeric value {show_value(bad.iloc[0])} "
                f"at position {pos}."
            )
        series = converted
    arr = series.to_numpy(dtype=float, na_value=np.nan)
    return _check_finite(arr, name)


def _check_finite(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise DataError(f"'{name}' must be one-dimensional; got an array of shape {arr.shape}.")
    if np.isinf(arr).any():
        pos = int(np.flatnonzero(np.isinf(arr))[0])
        raise DataError(f"'{name}' contains an infinite value at position {pos}.")
    return arr


def _announce_dropped(
    n_dropped: int, what: str, nan_policy: NanPolicy, stacklevel: int, rows: bool = False
) -> None:
    """Warn of (or, with nan_policy='raise', refuse) ``n_dropped`` missing values, or rows
    with a missing value in one of several columns (``rows``).
    """
    if n_dropped == 0:
        return
    if rows:
        count = f"{n_dropped} row(s) with a missing value in {what}"
        if nan_policy == "raise":
            raise DataError(
                f"{count}, and nan_policy='raise': drop or fill those rows first, or pass "
                "nan_policy='omit'."
            )
        message = f"{count} were omitted."
    else:
        if nan_policy == "raise":
            raise DataError(f"{what} contains {n_dropped} missing value(s) and nan_policy='raise'.")
        message = f"{n_dropped} missing value(s) in {what} were omitted."
    warnings.warn(message, RehabStatsWarning, stacklevel=stacklevel + 1)


def as_float_array(
    values: Any,
    name: str,
    *,
    nan_policy: NanPolicy = "omit",
    min_size: int = 1,
    stacklevel: int = 3,
) -> tuple[np.ndarray, int]:
    """Convert to a 1-D float array, dropping (and announcing) missing values.

    Returns the array (a new object) and the number of values omitted. Raises
    :class:`DataError` for non-numeric, multi-dimensional or infinite input,
    or when fewer than ``min_size`` values remain.
    """
    nan_policy = check_nan_policy(nan_policy)
    arr = _to_numeric_1d(values, name)
    missing = np.isnan(arr)
    n_dropped = int(missing.sum())
    _announce_dropped(n_dropped, f"'{name}'", nan_policy, stacklevel)
    arr = arr[~missing]
    if arr.size < min_size:
        raise DataError(
            f"'{name}' needs at least {min_size} non-missing observation(s); got {arr.size}."
        )
    return arr, n_dropped


def as_paired_arrays(
    x: Any,
    y: Any,
    names: tuple[str, str],
    *,
    nan_policy: NanPolicy = "omit",
    min_size: int = 2,
    stacklevel: int = 3,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Convert paired observations; a pair with either value missing is dropped whole."""
    nan_policy = check_nan_policy(nan_policy)
    a = _to_numeric_1d(x, names[0])
    b = _to_numeric_1d(y, names[1])
    if a.size != b.size:
        raise DataError(
            f"'{names[0]}' and '{names[1]}' are paired and must have the same length; "
            f"got {a.size} and {b.size}."
        )
    keep = ~(np.isnan(a) | np.isnan(b))
    n_dropped = int((~keep).sum())
    _announce_dropped(n_dropped, f"the pairs ('{names[0]}', '{names[1]}')", nan_policy, stacklevel)
    a, b = a[keep], b[keep]
    if a.size < min_size:
        raise DataError(
            f"'{names[0]}'/'{names[1]}' need at least {min_size} complete pairs; got {a.size}."
        )
    return a, b, n_dropped


def check_columns(data: Any, columns: dict[str, str | None]) -> pd.DataFrame:
    """Check ``data`` is a DataFrame holding every named column.

    ``columns`` maps the argument name (``"outcome"``) to the column name given
    by the user; ``None`` entries are skipped. All missing columns are reported
    together.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"'data' must be a pandas DataFrame; got {type(data).__name__}.")
    problems = []
    for arg, col in columns.items():
        if col is None:
            continue
        if not isinstance(col, str) and not isinstance(col, numbers.Integral):
            problems.append(f"'{arg}' must be a column name; got {show_value(col)}")
        elif col not in data.columns:
            problems.append(f"'{arg}' names column {show_value(col)}, which is not in the data")
    if problems:
        available = ", ".join(repr(c) for c in data.columns)
        raise DataError("; ".join(problems) + f". Available columns: {available}.")
    if len(data) == 0:
        raise DataError("'data' has no rows.")
    return data


def check_numeric_column(data: pd.DataFrame, column: str, arg: str = "outcome") -> pd.Series:
    """Return the column as float, raising a DataError that names a non-numeric value."""
    series = data[column]
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(float)
    converted = pd.to_numeric(series, errors="coerce")
    bad = series[converted.isna() & series.notna()]
    if len(bad):
        raise DataError(
            f"Column {show_value(column)} ('{arg}') must be numeric; found {show_value(bad.iloc[0])} "
            f"in row {show_value(bad.index[0])}."
        )
    return converted.astype(float)


def check_table_column(
    table: pd.DataFrame,
    column: str,
    what: str = "'table'",
    *,
    allow_nan: bool = True,
    allow_inf: bool = True,
    minimum: float | None = None,
) -> np.ndarray:
    """A numeric column of a result table (an input such as an ``effect_sizes`` table)
    as a new float array, ``pd.NA`` as NaN.

    Raises a :class:`DataError` naming the column, ``what`` (the table) and the
    row for booleans, non-numeric values, and -- as asked -- missing values,
    infinite values or values below ``minimum``.

    Examples
    --------
    >>> import pandas as pd
    >>> check_table_column(pd.DataFrame({"se": [0.1, None]}), "se").tolist()
    [0.1, nan]
    >>> check_table_column(pd.DataFrame({"se": [0.1, "x"]}), "se")
    Traceback (most recent call last):
    ...
    rehabstats.errors.DataError: Column 'se' of 'table' must hold numbers; found 'x' in row 1.
    """
    series = table[column]
    if isinstance(series, pd.DataFrame):
        raise DataError(f"{what} has several columns named {column!r}.")
    if pd.api.types.is_bool_dtype(series.dtype) or (
        series.dtype == object and series.map(lambda v: isinstance(v, (bool, np.bool_))).any()
    ):
        raise DataError(
            f"Column {column!r} of {what} holds booleans (True/False); it must hold numbers."
        )
    if isinstance(series.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
        series.dtype
    ):
        converted = pd.to_numeric(series.astype(object), errors="coerce")
        bad = converted.isna() & series.notna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"Column {column!r} of {what} must hold numbers; found "
                f"{show_value(series.iloc[pos])} in row {show_value(series.index[pos])}."
            )
        series = converted
    arr = series.to_numpy(dtype=float, na_value=np.nan).copy()
    checks = []
    if not allow_nan:
        checks.append((np.isnan(arr), "a missing value"))
    if not allow_inf:
        checks.append((np.isinf(arr), "an infinite value"))
    if minimum is not None:
        checks.append((arr < minimum, f"a value below {minimum:g}"))
    for mask, label in checks:
        if mask.any():
            pos = int(np.flatnonzero(mask)[0])
            raise DataError(
                f"Column {column!r} of {what} holds {label} "
                f"({show_value(arr[pos])}) in row {show_value(series.index[pos])}."
            )
    return arr


def drop_missing_rows(
    data: pd.DataFrame,
    columns: Sequence[str],
    *,
    nan_policy: NanPolicy = "omit",
    stacklevel: int = 3,
) -> tuple[pd.DataFrame, int]:
    """Drop rows with a missing value in any of ``columns`` (a copy), announcing them."""
    nan_policy = check_nan_policy(nan_policy)
    missing = data[list(columns)].isna().any(axis=1)
    n_dropped = int(missing.sum())
    cols = ", ".join(repr(c) for c in columns)
    what = f"column {cols}" if len(columns) == 1 else f"one of the columns {cols}"
    _announce_dropped(n_dropped, what, nan_policy, stacklevel, rows=True)
    return data.loc[~missing].copy(), n_dropped


def normalize_rng(rng: Any) -> np.random.Generator:
    """Turn ``rng`` (None, an int seed or a Generator) into a :class:`numpy.random.Generator`."""
    if isinstance(rng, bool):
        raise DataError(
            f"'rng' must be None, an int seed or a numpy Generator; got {show_value(rng)}."
        )
    if rng is None or isinstance(rng, (np.random.Generator, np.random.SeedSequence)):
        return np.random.default_rng(rng)
    if isinstance(rng, numbers.Integral):
        if int(rng) < 0:
            raise DataError(
                f"'rng' must be None, a non-negative int seed or a numpy Generator; "
                f"got {show_value(rng)}."
            )
        return np.random.default_rng(int(rng))
    raise DataError(f"'rng' must be None, an int seed or a numpy Generator; got {show_value(rng)}.")
