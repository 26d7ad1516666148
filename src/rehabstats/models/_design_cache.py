"""A cache of parsed formulas and patsy designs, with a numpy builder for plain terms.

Small model fits spend most of their time in patsy: parsing the formula,
inferring factor levels and evaluating every factor. The design of a formula
depends on the data only through the column *schema* (which columns are
categorical and their levels), so :func:`design_matrix` keeps patsy's
``DesignInfo`` per ``(rhs, schema)`` and, when every factor of the formula is a
plain column name (no function calls, no stateful transforms such as
``center()``), builds the matrix directly with numpy from patsy's own contrast
matrices and column order (left-most factor varying fastest, as patsy and R).
The numpy matrix is checked against patsy's once, when the entry is created;
any formula it does not cover is built by patsy from the cached ``DesignInfo``.
Formulas with stateful transforms (``center(x)``, ``standardize(x)``, splines) are
never cached: their state (a mean, knots) belongs to the data they were built on.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Hashable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import patsy

__all__ = ["design_matrix", "formula_factor_codes"]

_MAX = 64
_CACHE: OrderedDict[Hashable, tuple[Any, bool]] = OrderedDict()
_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9.]*")


@lru_cache(maxsize=256)
def formula_factor_codes(rhs: str) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """``(code, quoted names, identifiers)`` of every factor of ``rhs`` (parsed once).

    Raises ``patsy.PatsyError`` when ``rhs`` does not parse.
    """
    desc = patsy.ModelDesc.from_formula(rhs)
    out = []
    for term in desc.rhs_termlist:
        for factor in term.factors:
            code = factor.code
            quoted = tuple(re.findall(r"Q\(\s*['\"](.+?)['\"]\s*\)", code))
            names = tuple(_IDENT.findall(re.sub(r"['\"].*?['\"]", "", code)))
            out.append((code, quoted, names))
    return tuple(out)


def _schema(frame: pd.DataFrame, cols: list[str]) -> tuple[Any, ...] | None:
    out: list[Any] = []
    for c in cols:
        s = frame[c]
        dt = s.dtype
        if isinstance(dt, pd.CategoricalDtype):
            out.append((c, "cat", tuple(dt.categories), bool(dt.ordered)))
        elif pd.api.types.is_bool_dtype(dt):
            return None
        elif pd.api.types.is_numeric_dtype(dt):
            out.append((c, "num", str(dt)))
        else:
            try:
                levels = tuple(sorted(pd.unique(s.to_numpy())))
            except TypeError:
                return None
            out.append((c, "obj", levels))
    return tuple(out)


def _codes(series: pd.Series, categories: tuple[Any, ...]) -> np.ndarray | None:
    arr = series.array
    if (
        isinstance(arr, pd.Categorical)
        and len(arr.categories) == len(categories)
        and all(a == b for a, b in zip(arr.categories, categories, strict=True))
    ):
        codes = arr.codes
    else:
        codes = pd.Categorical(series.to_numpy(), categories=list(categories)).codes
    if codes.size and codes.min() < 0:
        return None
    return np.asarray(codes, dtype=np.intp)


def _numpy_build(design_info: Any, frame: pd.DataFrame) -> np.ndarray | None:
    """The design matrix by numpy, or None when a factor is not a plain column."""
    n = len(frame)
    blocks: list[np.ndarray] = []
    columns = frame.columns
    codes_of: dict[str, np.ndarray | None] = {}
    for subterms in design_info.term_codings.values():
        for sub in subterms:
            block = np.ones((n, 1))
            for f in sub.factors:
                fi = design_info.factor_infos[f]
                code = f.code
                if code not in columns:
                    return None
                if fi.type == "categorical":
                    if code not in codes_of:
                        codes_of[code] = _codes(frame[code], fi.categories)
                    codes = codes_of[code]
                    if codes is None:
                        return None
                    M = np.asarray(sub.contrast_matrices[f].matrix, dtype=float)[codes]
                else:
                    if fi.num_columns != 1:
                        return None
                    M = frame[code].to_numpy(dtype=float)[:, None]
                block = (M[:, :, None] * block[:, None, :]).reshape(n, -1)
            blocks.append(block)
    X = np.concatenate(blocks, axis=1) if blocks else np.ones((n, 0))
    if X.shape[1] != len(design_info.column_names):
        return None
    return X


def _stateful(design_info: Any) -> bool:
    """Whether a factor holds a stateful transform (``center``, ``standardize``, ``bs``,
    ...): its state (a mean, knots) comes from the data, so its DesignInfo must not be
    reused for other data with the same schema.
    """
    return any(
        isinstance(fi.state, dict) and fi.state.get("transforms")
        for fi in design_info.factor_infos.values()
    )


def design_matrix(rhs: str, frame: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, Any]:
    """``(X, design_info)`` for the right-hand side ``rhs`` on ``frame``.

    ``cols`` are the data columns the formula uses (their schema is the cache
    key). Raises ``patsy.PatsyError`` as ``patsy.dmatrix`` does.
    """
    schema = _schema(frame, cols)
    key = None if schema is None else (rhs, schema)
    hit = _CACHE.get(key) if key is not None else None
    if hit is not None:
        _CACHE.move_to_end(key)
        design_info, fast = hit
        if fast:
            X = _numpy_build(design_info, frame)
            if X is not None:
                return X, design_info
        (dm,) = patsy.build_design_matrices([design_info], frame, NA_action="raise")
        return np.asarray(dm, dtype=float), design_info
    dm = patsy.dmatrix(rhs, frame, NA_action="raise")
    design_info = dm.design_info
    X = np.asarray(dm, dtype=float)
    if key is not None and not _stateful(design_info):
        Xf = _numpy_build(design_info, frame)
        fast = Xf is not None and Xf.shape == X.shape and bool(np.array_equal(Xf, X))
        _CACHE[key] = (design_info, fast)
        if len(_CACHE) > _MAX:
            _CACHE.popitem(last=False)
    return X, design_info
