"""Batch (``axis=``) input for the two-sample effect sizes and the single-case indices.

The rule is scipy's (``scipy.stats.ttest_ind``): the samples lie along ``axis``
(default 0); the arrays are given the same number of dimensions by prepending
length-1 axes, and every other axis broadcasts. ``axis=None`` ravels each input
into one sample. One-dimensional input (and a one-column DataFrame) keeps the
one-sample behaviour exactly: only input with two or more dimensions is a batch.

Missing values are handled per element of the batch: its sample is the
non-missing values in their original order (pairs dropped whole for paired
measures), exactly what the one-sample call on that element would use, so each
element equals the one-sample call. Elements with the same numbers of
non-missing values are computed together.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._validate import check_nan_policy, show_value
from .errors import DataError, RehabStatsWarning

__all__ = [
    "BatchInput",
    "RowMessages",
    "batch_axis",
    "check_axis",
    "element_label",
    "is_batch",
    "prepare_batch",
    "ravel_inputs",
    "row_groups",
]

_Float = NDArray[np.float64]


def _ndim(value: Any) -> int:
    if isinstance(value, pd.DataFrame):
        return 1 if value.shape[1] == 1 else 2
    if isinstance(value, (pd.Series, pd.Index, pd.Categorical, str, bytes)):
        return 1
    try:
        return int(np.ndim(value))
    except (ValueError, TypeError):  # ragged nested lists: left to the 1-D checks
        return 1


def check_axis(axis: Any) -> int | None:
    """``None`` or a whole number; anything else raises a DataError naming 'axis'."""
    if axis is None:
        return None
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise DataError(f"The 'axis' argument must be an integer or None; got {show_value(axis)}.")
    return int(axis)


def is_batch(values: Sequence[Any], axis: Any) -> bool:
    """True when any input has two or more dimensions (and ``axis`` is not None)."""
    ax = check_axis(axis)
    if ax is None:
        return False
    nd = max(_ndim(v) for v in values)
    if nd < 2 and ax not in (0, -1):
        raise DataError(
            f"The 'axis' argument is {ax}, but the inputs are one-dimensional (axis 0 or -1)."
        )
    return nd >= 2


def batch_axis(values: Sequence[Any], axis: Any) -> tuple[list[Any], int | None]:
    """The ``axis=`` hook of every batch-capable function, in one place.

    Returns the inputs and the batch axis: ``axis=None`` ravels every input into
    one sample (not a batch); input with two or more dimensions is a batch along
    ``axis``; anything else is the one-sample call. A function starts with
    ``(x, y), batch = batch_axis([x, y], axis)`` and hands a batch (``batch`` not
    None) to its batch driver.
    """
    if axis is None:
        return ravel_inputs(values), None
    if is_batch(values, axis):
        return list(values), int(axis)
    return list(values), None


def ravel_inputs(values: Sequence[Any]) -> list[Any]:
    """``axis=None``: every multi-dimensional input becomes one flat sample (C order)."""
    out = []
    for v in values:
        if _ndim(v) >= 2:
            arr = v.to_numpy() if isinstance(v, pd.DataFrame) else np.asarray(v)
            out.append(arr.reshape(-1))
        else:
            out.append(v)
    return out


def _as_float_nd(value: Any, name: str) -> _Float:
    if isinstance(value, pd.DataFrame):
        raw = value.to_numpy(dtype=object)
    else:
        try:
            raw = np.asarray(value)
        except ValueError:
            raise DataError(
                f"'{name}' must be a rectangular array (every row the same length)."
            ) from None
    if raw.dtype.kind in "fiub":
        arr = np.asarray(raw, dtype=float)  # no copy of a float array (never modified)
    else:
        flat = pd.Series(raw.reshape(-1), dtype=object)
        conv = pd.to_numeric(flat, errors="coerce")
        bad = conv.isna().to_numpy() & flat.notna().to_numpy()
        if bad.any():
            pos = tuple(int(i) for i in np.unravel_index(int(np.flatnonzero(bad)[0]), raw.shape))
            raise DataError(
                f"'{name}' must be numeric; found non-numeric value "
                f"{show_value(flat[bad].iloc[0])} at position {pos}."
            )
        arr = conv.to_numpy(dtype=float, na_value=np.nan).reshape(raw.shape)
    if np.isinf(arr).any():
        pos = tuple(int(i) for i in np.argwhere(np.isinf(arr))[0])
        raise DataError(f"'{name}' contains an infinite value at position {pos}.")
    return arr


@dataclass(frozen=True)
class BatchInput:
    """Samples as rows: ``arrays[i]`` has shape ``(size, n_i)``; ``shape`` is the batch shape."""

    arrays: tuple[_Float, ...]
    shape: tuple[int, ...]
    axis: int


def prepare_batch(
    values: Sequence[Any], names: Sequence[str], axis: int, *, paired: bool = False
) -> BatchInput:
    """Convert, align (scipy's broadcasting outside ``axis``) and flatten the samples."""
    arrays = [_as_float_nd(v, n) for v, n in zip(values, names, strict=True)]
    nd = max(a.ndim for a in arrays)
    if not -nd <= axis < nd:
        raise DataError(
            f"The 'axis' argument is {axis}, but the inputs have {nd} dimensions "
            f"(axis from {-nd} to {nd - 1})."
        )
    ax = axis % nd
    moved = []
    for a in arrays:
        a = a.reshape((1,) * (nd - a.ndim) + a.shape)
        moved.append(np.moveaxis(a, ax, -1))
    try:
        lead = np.broadcast_shapes(*(a.shape[:-1] for a in moved))
    except ValueError:
        shapes = ", ".join(f"'{n}' {a.shape}" for n, a in zip(names, arrays, strict=True))
        raise DataError(
            f"The shapes {shapes} do not broadcast against each other outside "
            f"axis {axis} (the axis holding the observations)."
        ) from None
    for a, n in zip(moved, names, strict=True):
        if a.shape[-1] == 0:
            raise DataError(f"'{n}' has no observations along axis {axis}.")
    if paired:
        lengths = {a.shape[-1] for a in moved}
        if len(lengths) > 1:
            shown = " and ".join(f"'{n}' {a.shape[-1]}" for n, a in zip(names, moved, strict=True))
            raise DataError(
                f"{'/'.join(repr(n) for n in names)} are paired and must have the "
                f"same length along axis {axis}; got {shown}."
            )
    size = int(np.prod(lead, dtype=np.int64))
    if size == 0:
        raise DataError(f"The batch is empty: the inputs have shape {lead} outside axis {axis}.")
    flat = tuple(
        np.ascontiguousarray(np.broadcast_to(a, lead + a.shape[-1:])).reshape(size, a.shape[-1])
        for a in moved
    )
    return BatchInput(arrays=flat, shape=tuple(int(s) for s in lead), axis=axis)


def element_label(shape: tuple[int, ...], row: int) -> str:
    """Position of flat element ``row`` in a batch of ``shape``: ``3`` or ``(1, 2)``."""
    if len(shape) == 1:
        return str(row)
    return str(tuple(int(i) for i in np.unravel_index(row, shape)))


def _labels(shape: tuple[int, ...], rows: Any, limit: int = 10) -> str:
    shown = ", ".join(element_label(shape, int(r)) for r in list(rows)[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def row_groups(
    inp: BatchInput, names: Sequence[str], *, paired: bool, nan_policy: str, stacklevel: int = 4
) -> tuple[list[tuple[NDArray[np.intp], list[_Float]]], NDArray[np.int64]]:
    """Rows grouped by their numbers of non-missing values, missing values removed.

    Returns ``[(rows, [A_sub, B_sub, ...]), ...]`` and the number omitted per row
    (values, or pairs when ``paired``). ``nan_policy="raise"`` raises a DataError
    naming the first element with a missing value; ``"omit"`` announces the
    omissions with one RehabStatsWarning.
    """
    nan_policy = check_nan_policy(nan_policy)
    masks = [np.isnan(a) for a in inp.arrays]
    if paired:
        joint = np.logical_or.reduce(masks)
        masks = [joint] * len(masks)
    size = inp.arrays[0].shape[0]
    any_nan = np.zeros(size, dtype=bool)
    for m in masks:
        any_nan |= m.any(axis=1)
    omitted = masks[0].sum(axis=1) if paired else sum(m.sum(axis=1) for m in masks)
    omitted = np.asarray(omitted, dtype=np.int64)
    if not any_nan.any():
        return [(np.arange(size), list(inp.arrays))], omitted
    rows_nan = np.flatnonzero(any_nan)
    what = (
        f"the pairs ({', '.join(repr(n) for n in names)})"
        if paired
        else "/".join(repr(n) for n in names)
    )
    if nan_policy == "raise":
        raise DataError(
            f"{what} contain(s) {int(omitted.sum())} missing value(s) (first in "
            f"element {element_label(inp.shape, int(rows_nan[0]))} of the batch) "
            "and nan_policy='raise'."
        )
    warnings.warn(
        f"{int(omitted.sum())} missing value(s) in {what} were omitted, in "
        f"{rows_nan.size} element(s) of the batch ({_labels(inp.shape, rows_nan)}).",
        RehabStatsWarning,
        stacklevel=stacklevel,
    )
    counts = [a.shape[1] - m.sum(axis=1) for a, m in zip(inp.arrays, masks, strict=True)]
    key = np.zeros(size, dtype=np.int64)
    for c, a in zip(counts, inp.arrays, strict=True):
        key = key * (a.shape[1] + 1) + c
    out: list[tuple[NDArray[np.intp], list[_Float]]] = []
    clean = ~any_nan
    if clean.any():
        rows = np.flatnonzero(clean)
        out.append((rows, [a[rows] for a in inp.arrays]))
    for k in np.unique(key[any_nan]):
        rows = np.flatnonzero(any_nan & (key == k))
        subs = []
        for a, m, c in zip(inp.arrays, masks, counts, strict=True):
            order = np.argsort(m[rows], axis=1, kind="stable")  # non-missing first, in order
            subs.append(np.take_along_axis(a[rows], order, axis=1)[:, : int(c[rows[0]])])
        out.append((rows, subs))
    return out, omitted


class RowMessages:
    """Warnings and errors of individual elements, announced once per message."""

    def __init__(self, measure: str, shape: tuple[int, ...]) -> None:
        self.measure = measure
        self.shape = shape
        self.errors: dict[str, list[int]] = {}
        self.warns: dict[str, list[int]] = {}

    def call(self, row: int, func: Callable[[], Any]) -> Any:
        """Run the one-sample call of element ``row``; a DataError gives None (recorded)."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RehabStatsWarning)
            try:
                res = func()
            except DataError as exc:
                self.errors.setdefault(str(exc), []).append(row)
                res = None
        for w in caught:
            if issubclass(w.category, RehabStatsWarning):
                self.warns.setdefault(str(w.message), []).append(row)
            else:  # pragma: no cover - foreign warnings pass through
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return res

    def announce(self, stacklevel: int = 4) -> None:
        for msg, rows in self.errors.items():
            warnings.warn(
                f"{self.measure}: {len(rows)} element(s) of the batch have no value "
                f"(NaN), because the one-sample call raises: {msg} Element(s): "
                f"{_labels(self.shape, rows)}.",
                RehabStatsWarning,
                stacklevel=stacklevel,
            )
        for msg, rows in self.warns.items():
            warnings.warn(
                f"{self.measure}, element(s) {_labels(self.shape, rows)} of the batch: {msg}",
                RehabStatsWarning,
                stacklevel=stacklevel,
            )
