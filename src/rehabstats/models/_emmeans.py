"""Reference grids, estimated marginal means and their contrasts (emmeans' defaults).

The reference grid crosses every level of every factor in the fixed-effects
formula; numeric covariates are held at their mean over the rows used in the
fit. An estimated marginal mean is the equally weighted average of the grid
predictions over the factors not named in ``specs`` (emmeans' default
``weights = "equal"``), so it is a linear function ``L beta`` of the fixed
effects. Contrasts of marginal means are again rows ``C L``.

Reference: Searle, Speed & Milliken (1980), Population marginal means in the
linear model, *The American Statistician* 34(4), 216-221,
doi:10.1080/00031305.1980.10483031; Lenth, R. emmeans (R package).
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import patsy

from ..errors import DataError

__all__ = [
    "CONTRAST_METHODS",
    "ContrastTable",
    "ReferenceGrid",
    "contrast_matrix",
    "emm_rows",
    "factor_variables",
    "reference_grid",
]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9.]*")


def _columns_in_code(code: str, columns: pd.Index) -> list[str]:
    names = set(_IDENT.findall(code))
    return [c for c in columns if isinstance(c, str) and c in names]


def factor_variables(
    design_info: patsy.DesignInfo, frame: pd.DataFrame
) -> tuple[dict[str, list[Any]], list[str]]:
    """Data columns behind the formula: categorical ones with their levels, numeric ones.

    Returns ``(categorical, numeric)``: ``categorical`` maps a column name to
    its levels in model order (patsy's categories), ``numeric`` lists columns
    entering only numerically.
    """
    categorical: dict[str, list[Any]] = {}
    numeric: list[str] = []
    for factor, info in design_info.factor_infos.items():
        cols = _columns_in_code(
            factor.code if hasattr(factor, "code") else factor.name(), frame.columns
        )
        if info.type == "categorical":
            if len(cols) != 1:
                raise DataError(
                    f"Cannot build a reference grid: the categorical term {factor.name()!r} "
                    f"must refer to exactly one data column; it refers to {cols}."
                )
            categorical.setdefault(cols[0], list(info.categories))
        else:
            numeric.extend(c for c in cols if c not in numeric)
    numeric = [c for c in numeric if c not in categorical]
    return categorical, numeric


@dataclass(frozen=True)
class ReferenceGrid:
    """The reference grid: one row per combination of factor levels."""

    grid: pd.DataFrame  # factor columns (levels) + numeric columns (means)
    X: np.ndarray  # fixed-effects design rows of the grid, (n_grid, p)
    levels: dict[str, list[Any]]


def reference_grid(design_info: patsy.DesignInfo, frame: pd.DataFrame) -> ReferenceGrid:
    """Build the reference grid and its design rows.

    Factors are crossed with the first factor varying slowest; numeric
    covariates are set to their mean over ``frame``.
    """
    categorical, numeric = factor_variables(design_info, frame)
    names = list(categorical)
    combos = list(itertools.product(*(categorical[n] for n in names))) if names else [()]
    grid = pd.DataFrame(combos, columns=names) if names else pd.DataFrame(index=[0])
    for n in names:
        col = frame[n]
        if isinstance(col.dtype, pd.CategoricalDtype):
            grid[n] = pd.Categorical(
                grid[n], categories=col.cat.categories, ordered=col.cat.ordered
            )
    for n in numeric:
        grid[n] = float(pd.to_numeric(frame[n]).mean())
    X = np.asarray(patsy.build_design_matrices([design_info], grid)[0], dtype=float)
    return ReferenceGrid(grid=grid, X=X, levels=categorical)


def emm_rows(
    rg: ReferenceGrid,
    specs: list[str],
    by: list[str],
    weights: str = "equal",
    frame: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Linear functions of the fixed effects giving the marginal means.

    Returns a DataFrame of the ``by`` then ``specs`` levels and the matching
    rows of ``L``: the average of the grid rows over the other factors, with
    equal weights (``weights="equal"``, emmeans' default) or, for
    ``weights="proportional"``, each combination of the other factors
    weighted by its frequency among the rows of ``frame`` (the data used in
    the fit; emmeans' ``weights = "proportional"``: the marginal frequencies
    of the factors averaged over, the same for every ``specs`` level).
    Rows are in emmeans' order: grouped by ``by`` (the first ``by`` factor
    varying fastest), and within a group the combinations of the ``specs``
    levels with the first factor varying fastest (``control pre, low pre, ...,
    control post``), each factor's levels in model order.
    """
    for name in [*specs, *by]:
        if name not in rg.levels:
            raise DataError(
                f"'{name}' is not a factor of the model; the model's factors are {list(rg.levels)}."
            )
    if len(set(specs) | set(by)) != len(specs) + len(by):
        raise DataError(f"'specs' {specs} and 'by' {by} must name different factors.")
    keys = [*by, *specs]
    # slowest first: the by factors from last to first, then the specs from last to first
    slow_to_fast = [*reversed(by), *reversed(specs)]
    combos = [
        dict(zip(slow_to_fast, c, strict=True))
        for c in itertools.product(*(rg.levels[k] for k in slow_to_fast))
    ]
    labels = pd.DataFrame([[c[k] for k in keys] for c in combos], columns=keys)
    L = np.empty((len(combos), rg.X.shape[1]))
    grid_vals = {k: rg.grid[k].astype(object).to_numpy() for k in keys}
    w = np.ones(len(rg.grid))
    if weights == "proportional":
        others = [k for k in rg.levels if k not in keys]
        if others:
            if frame is None:
                raise ValueError("weights='proportional' needs the data frame")
            counts = frame[others].astype(object).value_counts()
            cells = [tuple(r) for r in rg.grid[others].astype(object).itertuples(index=False)]
            w = np.array([float(counts.get(c, 0)) for c in cells])
    elif weights != "equal":
        raise DataError(
            f"The 'weights' argument must be 'equal' or 'proportional'; got {weights!r}."
        )
    for i, combo in enumerate(combos):
        mask = np.ones(len(rg.grid), dtype=bool)
        for k in keys:
            mask &= grid_vals[k] == combo[k]
        wm = w[mask]
        L[i] = wm @ rg.X[mask] / wm.sum()
    return labels, L


CONTRAST_METHODS = ("pairwise", "revpairwise", "trt.vs.ctrl")


def contrast_matrix(levels: list[str], method: str, ref: int = 0) -> tuple[np.ndarray, list[str]]:
    """Emmeans' ``pairwise``, ``revpairwise`` and ``trt.vs.ctrl`` contrast coefficients.

    With levels ``a, b, c`` in model order:

    * ``pairwise`` (emmeans' ``pairs()``): earlier minus later, ``a - b, a - c, b - c``;
    * ``revpairwise`` (``pairs(reverse = TRUE)``): later minus earlier, ordered
      ``b - a, c - a, c - b`` (for each later level, every earlier one);
    * ``trt.vs.ctrl``: every other level minus the reference ``levels[ref]``
      (0-based), in level order: ``b - a, c - a``.

    Returns the ``(n_contrasts, k)`` coefficient matrix and the labels.
    """
    k = len(levels)
    if method == "pairwise":
        pairs = [(i, j) for i in range(k - 1) for j in range(i + 1, k)]
    elif method == "revpairwise":
        pairs = [(j, i) for j in range(1, k) for i in range(j)]
    elif method == "trt.vs.ctrl":
        pairs = [(j, ref) for j in range(k) if j != ref]
    else:
        raise DataError(f"'method' must be one of {list(CONTRAST_METHODS)}; got {method!r}.")
    C = np.zeros((len(pairs), k))
    names: list[str] = []
    for r, (plus, minus) in enumerate(pairs):
        C[r, plus], C[r, minus] = 1.0, -1.0
        names.append(f"{levels[plus]} - {levels[minus]}")
    return C, names


class ContrastTable(pd.DataFrame):
    """A table of contrasts (a :class:`pandas.DataFrame`) that states its multiplicity adjustment.

    ``attrs`` holds ``method``, ``ref`` (the control level of ``trt.vs.ctrl``,
    else None), ``adjust`` (the p-value adjustment applied), ``ci_adjust``
    (that of the confidence limits), ``family_size`` (contrasts per ``by``
    group), ``n_means`` (means compared per group), ``level``, ``df_method``,
    ``by`` and ``note`` (the statement printed under the table, as emmeans'
    footnotes).
    """

    @property
    def _constructor(self) -> type[ContrastTable]:
        return ContrastTable

    def _note(self) -> str:
        note = self.attrs.get("note")
        return note if isinstance(note, str) else ""

    def __repr__(self) -> str:
        # whole, however wide (pandas would print "[6 rows x 9 columns]" with "..." columns);
        # very long tables keep pandas' truncation
        base = self.to_string() if len(self) <= 200 else super().__repr__()
        note = self._note()
        return f"{base}\n\n{note}" if note else base

    def _repr_html_(self) -> str | None:
        base = super()._repr_html_()
        note = self._note()
        if base is None or not note:
            return base
        lines = "<br>".join(html.escape(n) for n in note.splitlines())
        return f"{base}<p><small>{lines}</small></p>"
