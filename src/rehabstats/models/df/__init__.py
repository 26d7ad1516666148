"""Small-sample degrees of freedom for fixed-effect contrasts: one place for LMM and MMRM.

:class:`DFEngine` holds what a fitted model knows (``beta``, its covariance
``C``, the derivatives of ``C`` with respect to the variance parameters, their
covariance, and — lazily — the Kenward-Roger pieces) and answers
``contrast_1d`` / ``contrast_md`` for every ``df_method``:

* ``"satterthwaite"`` — :mod:`.satterthwaite` (lmerTest / mmrm);
* ``"kenward-roger"``, ``"kenward-roger-linear"`` — :mod:`.kenward_roger`
  (pbkrtest for the LMM; mmrm / SAS for the MMRM, see that module for which
  variant equals which);
* ``"residual"`` — t / F with ``n - rank(X)`` df;
* ``"asymptotic"`` — z / chi-square-over-q (infinite df).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .kenward_roger import (
    expected_information_w,
    kr_adjusted_vcov,
    kr_adjusted_vcov_sums,
    kr_df,
    kr_test,
)
from .satterthwaite import fstat_ddf, satterthwaite_1d, satterthwaite_md, satterthwaite_rows

__all__ = [
    "DFEngine",
    "KRPieces",
    "expected_information_w",
    "fstat_ddf",
    "kr_adjusted_vcov",
    "kr_adjusted_vcov_sums",
    "kr_df",
    "kr_test",
    "satterthwaite_1d",
    "satterthwaite_md",
    "satterthwaite_rows",
]

_EPS = float(np.sqrt(np.finfo(float).eps))


@dataclass(frozen=True)
class KRPieces:
    """Kenward-Roger ingredients: adjusted covariance, ``P_i`` and ``W``."""

    PhiA: np.ndarray
    P: np.ndarray
    W: np.ndarray


@dataclass
class DFEngine:
    """Contrast tests of one fitted model for every df method.

    Parameters
    ----------
    beta, C : fixed effects and their (model-based) covariance.
    dC : ``(k, p, p)`` derivatives of ``C`` in the variance parameters.
    A : ``(k, k)`` covariance of the variance parameters (for Satterthwaite).
    resid_df : ``n - rank(X)``.
    kr : callable ``variant -> KRPieces`` (``variant`` is the df method name),
        or None when Kenward-Roger is not available.
    """

    beta: np.ndarray
    C: np.ndarray
    dC: np.ndarray
    A: np.ndarray
    resid_df: float
    kr: Callable[[str], KRPieces] | None = None
    _kr_cache: dict[str, KRPieces] = field(default_factory=dict, repr=False)

    def kr_pieces(self, method: str) -> KRPieces:
        """Kenward-Roger pieces of ``method``, computed once."""
        if self.kr is None:
            raise ValueError(f"{method!r} is not available for this model")
        if method not in self._kr_cache:
            self._kr_cache[method] = self.kr(method)
        return self._kr_cache[method]

    def contrast_1d(self, L: np.ndarray, method: str) -> tuple[float, float, float]:
        """``(estimate, se, df)`` of ``L beta`` (one row ``L``)."""
        L = np.asarray(L, dtype=float)
        est = float(L @ self.beta)
        if method.startswith("kenward-roger"):
            kr = self.kr_pieces(method)
            m, _ = kr_df(L[None, :], self.C, kr.W, kr.P)
            return est, float(np.sqrt(L @ kr.PhiA @ L)), m
        if method == "satterthwaite":
            v, df = satterthwaite_1d(L, self.C, self.dC, self.A)
            return est, float(np.sqrt(v)), df
        se = float(np.sqrt(L @ self.C @ L))
        return est, se, float(self.resid_df) if method == "residual" else math.inf

    def contrast_rows_satterthwaite(self, L: np.ndarray) -> np.ndarray:
        """``(estimate, se, df)`` of every row of ``L`` with Satterthwaite df, ``(r, 3)``."""
        L = np.atleast_2d(np.asarray(L, dtype=float))
        v, df = satterthwaite_rows(L, self.C, self.dC, self.A)
        return np.column_stack([L @ self.beta, np.sqrt(v), df])

    def contrast_md(self, L: np.ndarray, method: str) -> tuple[float, float, float]:
        """``(F, num_df, den_df)`` for ``L beta = 0``.

        Rows of ``L`` that are linearly dependent given ``C`` are reduced to the
        hypothesis' rank first (eigen-decomposition of ``L C L'``, as lmerTest);
        an empty hypothesis gives ``(nan, 0, nan)``.
        """
        L = np.atleast_2d(np.asarray(L, dtype=float))
        if method == "satterthwaite":
            return satterthwaite_md(L, self.beta, self.C, self.dC, self.A)
        Lr = _full_rank_rows(L, self.C)
        if Lr.shape[0] == 0:
            return math.nan, 0.0, math.nan
        q = Lr.shape[0]
        if method.startswith("kenward-roger"):
            kr = self.kr_pieces(method)
            F, qq, m, _ = kr_test(Lr, self.beta, self.C, kr.PhiA, kr.W, kr.P)
            return F, qq, m
        Lb = Lr @ self.beta
        F = float(Lb @ np.linalg.solve(Lr @ self.C @ Lr.T, Lb)) / q
        return F, float(q), float(self.resid_df) if method == "residual" else math.inf


def _full_rank_rows(L: np.ndarray, C: np.ndarray, eps: float = _EPS) -> np.ndarray:
    """Rotate ``L`` onto the eigenvectors of ``L C L'`` with a positive eigenvalue."""
    if L.shape[0] <= 1:
        keep = L if L.shape[0] == 0 or float(L[0] @ C @ L[0]) > 0 else L[:0]
        return keep
    d, P = np.linalg.eigh(L @ C @ L.T)
    order = np.argsort(d)[::-1]
    d, P = d[order], P[:, order]
    q = int(np.sum(d > max(eps * d[0], 0)))
    if q == L.shape[0]:
        return L
    out: np.ndarray = (P.T @ L)[:q]
    return out
