r"""Type II hypothesis matrices (as R's mmrm ``car::Anova(type = "II")``).

For a term ``E`` with design columns ``X1`` the type II hypothesis tests
``E`` after every term that does not contain it: the rows are the unit
vectors of ``E``'s coefficients, and for every term ``C`` that contains
``E`` (all of ``E``'s factors, the extra ones categorical, order at least
``E``'s) the columns of those terms get

.. math:: (X_1' M X_1)^{-1} X_1' M X_2,\qquad M = I - X_0 (X_0'X_0)^{-} X_0',

with ``X_2`` the columns of all the terms containing ``E`` and ``X_0`` the
columns of the terms that do not contain ``E`` (``E`` excluded): the
hypothesis that ``E`` has no effect in the model without the terms
containing it, i.e. type II sums of squares (for a linear model exactly
``car::Anova(type = 2)``). mmrm's ``h_type2_contrast`` builds the same
matrix one containing term at a time, with ``X_0`` including the other
containing terms; the two agree whenever a term is contained in at most one
other term (e.g. ``arm * visit`` plus covariates) and differ for terms inside
a three-way interaction, where this module follows car. The hypothesis is
then restricted to the estimated (non-aliased) columns. The matrices depend
only on the design, not on the covariance.

Reference: Fox, J. & Weisberg, S. (2019). *An R Companion to Applied
Regression*, 3rd ed., Sage, sec. 5.3.4; mmrm 0.3.18 ``R/interop-car.R``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import patsy

from ..errors import DesignError
from ._rank import pivoted_rank
from ._type3 import term_label

__all__ = ["type2_hypotheses"]

_TOL = float(np.sqrt(np.finfo(float).eps))


def _residualize(x0: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``M x`` with ``M`` the projection orthogonal to the columns of ``x0``."""
    if x0.shape[1] == 0:
        return x
    coef, *_ = np.linalg.lstsq(x0, x, rcond=None)
    out: np.ndarray = x - x0 @ coef
    return out


def type2_hypotheses(design_info: patsy.DesignInfo, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """``{term label: L}`` type II hypothesis matrices, in the estimated coefficients.

    ``L`` has one row per design column of the term (rows on aliased columns
    are zero and removed by the contrast's rank reduction) and one column per
    coefficient kept by R's pivoted QR.

    Raises
    ------
    DesignError
        For a model without an intercept (the first categorical term then
        absorbs the intercept; not supported).
    """
    terms = design_info.terms
    if not any(not t.factors for t in terms):
        raise DesignError(
            "Type II tests need a model with an intercept; the formula has none "
            "(remove '- 1' / '0 +', or use anova(type=3))."
        )
    X = np.asarray(patsy.build_design_matrices([design_info], frame)[0], dtype=float)
    keep = pivoted_rank(X).keep
    p = X.shape[1]
    cols = [np.arange(p)[design_info.term_slices[t]] for t in terms]
    fsets = [set(t.factors) for t in terms]
    out: dict[str, np.ndarray] = {}
    for idx, term in enumerate(terms):
        if not term.factors:
            continue
        c1 = cols[idx]
        L = np.zeros((c1.size, p))
        L[:, c1] = np.eye(c1.size)
        x1 = X[:, c1]
        containing = []
        for i, other in enumerate(terms):
            if i == idx or len(other.factors) < len(term.factors) or not fsets[idx] <= fsets[i]:
                continue
            extra = fsets[i] - fsets[idx]
            if any(design_info.factor_infos[f].type != "categorical" for f in extra):
                continue
            containing.append(cols[i])
        if containing:
            c2 = np.concatenate(containing)
            rest = np.setdiff1d(np.arange(p), np.concatenate([c1, c2]))
            x0 = X[:, rest]
            r1, r2 = _residualize(x0, x1), _residualize(x0, X[:, c2])
            # (X1' M X1)^- X1' M X2, a generalised inverse when the term has aliased columns
            L[:, c2] = np.linalg.pinv(r1.T @ r1) @ (r1.T @ r2)
        L = L[:, keep]
        L[np.abs(L) < _TOL] = 0.0
        out[term_label(term, frame)] = L
    return out
