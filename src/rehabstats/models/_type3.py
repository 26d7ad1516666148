"""Type III hypothesis matrices that do not depend on the factor coding.

With treatment coding the columns of a main effect (``armcimt``) measure the
arm difference *at the reference visit*, so testing them is not a type III
test. The type III hypothesis for a term is "the term's coefficients are zero
when every factor is coded with sum-to-zero contrasts" (marginal effects
averaged with equal weights over the other factors, SAS and lmerTest's
``anova(type = "III")`` for factorial designs). We rebuild the design with
``C(factor, Sum)`` coding, ``X_sum``, which spans the same column space as the
user's design ``X``: ``X = X_sum T`` for an invertible ``T``. The sum-coded
coefficients are then ``beta_sum = T beta`` and the term's hypothesis matrix in
the user's coding is the term's rows of ``T = X_sum^+ X``.

Reference: Goodnight (1980), Tests of hypotheses in fixed effects linear
models, *Communications in Statistics A* 9(2), 167-180,
doi:10.1080/03610928008827869; Kuznetsova, Brockhoff & Christensen (2017),
lmerTest, *J. Stat. Softw.* 82(13), doi:10.18637/jss.v082.i13.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import patsy

from ..errors import DesignError, RehabStatsWarning
from ._emmeans import _columns_in_code
from ._rank import pivoted_rank

__all__ = ["term_label", "type3_hypotheses"]


def term_label(term: patsy.desc.Term, frame: pd.DataFrame) -> str:
    """R-style label of a term: data column names joined by ``:`` (``arm:visit``)."""
    parts = []
    for factor in term.factors:
        code = getattr(factor, "code", factor.name())
        cols = _columns_in_code(code, frame.columns)
        parts.append(cols[0] if len(cols) == 1 and code.startswith("C(") else code)
    return ":".join(parts)


def _zapsmall(x: np.ndarray, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall``: round to ``digits`` significant digits of the largest entry."""
    mx = float(np.max(np.abs(x))) if x.size else 0.0
    if mx == 0 or not np.isfinite(mx):
        return x
    return np.round(x, max(0, digits - int(np.ceil(np.log10(mx)))))


def _recode(
    design_info: patsy.DesignInfo, frame: pd.DataFrame, coding: str
) -> tuple[np.ndarray, patsy.DesignInfo, list[patsy.Term]]:
    """The same terms with every categorical factor coded by ``coding`` (Treatment/Sum)."""
    new_terms = []
    for term in design_info.terms:
        factors = []
        for factor in term.factors:
            if design_info.factor_infos[factor].type == "categorical":
                factors.append(patsy.EvalFactor(f"C({factor.code}, {coding})"))
            else:
                factors.append(factor)
        new_terms.append(patsy.Term(factors))
    mat = patsy.dmatrix(
        patsy.ModelDesc([], new_terms), frame, NA_action="raise", return_type="matrix"
    )
    return np.asarray(mat, dtype=float), mat.design_info, new_terms


def _term_vars(
    term: patsy.Term, design_info: patsy.DesignInfo, frame: pd.DataFrame
) -> tuple[set[str], set[str], list[np.ndarray]]:
    """(variables, numeric variables, full-dummy column block) of a term (lmerTest's rdX)."""
    variables: set[str] = set()
    numerics: set[str] = set()
    blocks: list[np.ndarray] = [np.ones((len(frame), 1))]
    for factor in term.factors:
        info = design_info.factor_infos[factor]
        label = term_label(patsy.Term([factor]), frame)
        variables.add(label)
        if info.type == "categorical":
            # no intercept in the description: patsy codes every level; Treatment's
            # full-rank coding is the indicator of each level (Sum's would not be)
            ind = patsy.EvalFactor(f"C({factor.code}, Treatment)")
            cols = np.asarray(
                patsy.dmatrix(patsy.ModelDesc([], [patsy.Term([ind])]), frame, NA_action="raise"),
                dtype=float,
            )
        else:
            numerics.add(label)
            cols = np.asarray(
                patsy.dmatrix(
                    patsy.ModelDesc([], [patsy.Term([factor])]), frame, NA_action="raise"
                ),
                dtype=float,
            )
        blocks = [b[:, :, None] * cols[:, None, :] for b in blocks]
        blocks = [b.reshape(len(frame), -1) for b in blocks]
    return variables, numerics, blocks


def _distinct_rows(
    design_info: patsy.DesignInfo, frame: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct rows of the design's data columns and ``sqrt(count)`` weights.

    Every matrix below enters through ``X^+ Y = (X'X)^+ X'Y`` (and column
    comparisons), i.e. through sums over rows: with each distinct row weighted by
    the square root of its multiplicity the results are those of the full frame,
    at the cost of the number of design cells instead of the number of rows (a
    trial with 10,000 subjects x 7 visits has 14 cells). Returned unchanged (unit
    weights) when fewer than half the rows repeat.
    """
    cols: list[str] = []
    for factor in design_info.factor_infos:
        code = factor.code if hasattr(factor, "code") else factor.name()
        cols += [c for c in _columns_in_code(code, frame.columns) if c not in cols]
    if not cols or len(frame) < 8:
        return frame, np.ones(len(frame))
    codes = np.column_stack([pd.factorize(frame[c], use_na_sentinel=True)[0] for c in cols])
    _, first, counts = np.unique(codes, axis=0, return_index=True, return_counts=True)
    if 2 * len(first) > len(frame):
        return frame, np.ones(len(frame))
    return frame.iloc[first].reset_index(drop=True), np.sqrt(counts.astype(float))


def type3_hypotheses(design_info: patsy.DesignInfo, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Hypothesis matrices ``L`` (one per non-intercept term) for type III tests.

    Follows lmerTest's ``get_contrasts_type3``: with treatment coding ``X``
    and the over-parametrised indicator design ``rdX`` (every level of every
    factor in every term), ``L0 = (X^+ rdX)^T``; the columns of a term are
    orthogonalised against those of the terms that contain it (higher-order
    terms first); the term's hypothesis is the transposed column block,
    restricted to the rows of the model's coefficients, and mapped to the
    user's coding by ``X_treat^+ X``. The rows matter beyond their span: the
    Satterthwaite F-test df depends on them through the eigen-decomposition.

    A rank-deficient design is handled as lmerTest does: the model's design and
    the treatment-coded design are both reduced to the columns kept by R's
    pivoted QR (:func:`rehabstats.models._rank.pivoted_rank`), the hypotheses
    are built on the reduced treatment-coded design (so each term is tested on
    its estimable part; a term with no estimable direction gets an empty ``L``)
    and mapped to the model's reduced coefficients.

    Parameters
    ----------
    design_info : patsy.DesignInfo
        Design of the fitted fixed effects (any contrast coding).
    frame : pandas.DataFrame
        The rows used in the fit.

    Returns
    -------
    dict
        ``{term label: L}`` with ``L`` of shape ``(q, rank)`` in the user's coding
        (the coefficients the model estimated).
    """
    frame, wts = _distinct_rows(design_info, frame)
    w = wts[:, None]
    X_user = w * np.asarray(patsy.build_design_matrices([design_info], frame)[0], dtype=float)
    X_full, tinfo, tterms = _recode(design_info, frame, "Treatment")
    X_full = w * X_full
    if X_full.shape[1] != X_user.shape[1]:
        raise DesignError(
            "Type III tests need the treatment-coded design to have as many columns as "
            f"the model's: {X_full.shape[1]} vs {X_user.shape[1]}."
        )
    # rank-deficient designs: the model was fitted on the columns kept by R's
    # pivoted QR (models._rank); the hypotheses are built on the estimable part
    # (lmerTest: ensure_full_rank of the treatment-coded design, then mapped to
    # the fitted, reduced design by ginv(X) %*% Xorig)
    user_rank = pivoted_rank(X_user)
    X_user = X_user[:, user_rank.keep]
    treat_rank = pivoted_rank(X_full)
    X = X_full[:, treat_rank.keep]
    if treat_rank.rank != user_rank.rank:
        raise DesignError(
            "Cannot map the design to type III contrasts: the treatment-coded design has "
            f"rank {treat_rank.rank}, the model's {user_rank.rank}."
        )
    p = X.shape[1]
    col_term = np.empty(X_full.shape[1], dtype=int)
    for t, tt in enumerate(tterms):
        col_term[tinfo.term_slices[tt]] = t
    col_term = col_term[treat_rank.keep]
    term_cols: list[np.ndarray] = []  # X columns of each term
    rd_blocks: list[np.ndarray] = []
    info: list[tuple[set[str], set[str]]] = []
    for t, term in enumerate(design_info.terms):
        term_cols.append(np.flatnonzero(col_term == t))
        if not term.factors:
            rd_blocks.append(w * np.ones((len(frame), 1)))
            info.append((set(), set()))
            continue
        variables, numerics, blocks = _term_vars(term, design_info, frame)
        rd_blocks.append(w * blocks[0])
        info.append((variables, numerics))
    rdX = np.hstack(rd_blocks)
    Xpinv = np.linalg.pinv(X)  # X has full column rank
    L0 = _zapsmall((Xpinv @ rdX).T)  # rows: rdX columns; columns: X columns
    # rows of L0 that correspond to the model's coefficients (same column vectors)
    offsets = np.cumsum([0] + [b.shape[1] for b in rd_blocks])
    rows = np.empty(p, dtype=int)
    for t, cols in enumerate(term_cols):
        block = rd_blocks[t]
        for j in cols:
            hit = np.flatnonzero(np.all(np.isclose(block, X[:, [j]], rtol=0, atol=1e-10), axis=0))
            if hit.size == 0:
                raise DesignError("Cannot map the design columns to type III contrasts.")
            rows[j] = offsets[t] + hit[0]
    # containment: A in B if vars(A) strictly within vars(B) and same numeric variables
    labels = [term_label(t, frame) for t in design_info.terms]
    order = sorted(range(len(labels)), key=lambda i: -len(design_info.terms[i].factors))
    for a in order:
        va, na = info[a]
        if not design_info.terms[a].factors:
            continue
        contains = [
            b
            for b in range(len(labels))
            if b != a
            and design_info.terms[b].factors
            and va <= info[b][0]
            and info[b][0] - va
            and na == info[b][1]
        ]
        if contains and term_cols[a].size:
            Z = L0[:, np.concatenate([term_cols[b] for b in contains])]
            Y = L0[:, term_cols[a]]
            if Z.shape[1]:
                coef, *_ = np.linalg.lstsq(Z, Y, rcond=None)
                L0[:, term_cols[a]] = _zapsmall(Y - Z @ coef)
    L = L0[rows, :]
    mapping = _zapsmall(Xpinv @ X_user)
    empty = [
        labels[t]
        for t, tt in enumerate(tterms)
        if design_info.terms[t].factors and X_full[:, tinfo.term_slices[tt]].shape[1] == 0
    ]
    if empty:
        warnings.warn(
            f"Term(s) {', '.join(repr(e) for e in empty)} have no column in the design "
            "(a factor with a single level in the data, e.g. one arm): nothing to test, so "
            "their type III rows are NaN with num_df 0.",
            RehabStatsWarning,
            stacklevel=3,
        )
    out: dict[str, np.ndarray] = {}
    for t, term in enumerate(design_info.terms):
        if not term.factors:
            continue
        Lt = L[:, term_cols[t]].T
        Lt = Lt[np.abs(Lt).sum(axis=1) > 1e-8]
        out[labels[t]] = Lt @ mapping
    return out
