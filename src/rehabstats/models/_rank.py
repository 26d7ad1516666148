"""Rank-deficient fixed effects: drop aliased columns as R does.

R's ``lm``, lme4's ``lmer`` (and so lmerTest) and mmrm do not refuse a
fixed-effects design whose columns are linearly dependent (an empty
arm x visit cell, a covariate that is a sum of others): they keep a maximal
set of linearly independent columns, chosen in column order by the pivoted
QR decomposition with R's *limited* pivoting (LINPACK ``dqrdc2``, tolerance
1e-7: a column whose norm, after removing its projection on the columns kept
before it, is below 1e-7 times its original norm is moved to the end and
dropped), fit the model on those, and report the others as aliased
(``coef(lm)`` shows ``NA``, ``summary`` says "not defined because of
singularities", lmer's message "fixed-effect model matrix is rank deficient so
dropping k columns / coefficients", mmrm's ``beta_aliased``).

rehabstats does the same, once, where each model builds ``X``
(:func:`drop_aliased`): a ``RehabStatsWarning`` names the dropped columns, the
fit uses the kept ones, and the result's ``aliased`` attribute lists the
dropped names. The coefficient table (``coef()``) has one row per *estimated*
coefficient, as ``summary(lm)``, ``summary(lmer)`` and ``summary(mmrm)`` print
them. A contrast written for the full design (a reference-grid row of
``emmeans``/``contrasts``) is reduced to the kept columns when it is estimable
— ``L N = 0`` for the null space ``N`` of ``X``, emmeans' rule
``|N' L|^2 < 1e-8 |L|^2`` (``estimability::is.estble``) — and gives NaN
otherwise (emmeans' "nonEst"). Type III tests are computed on the estimable
part, as lmerTest and SAS do (:mod:`rehabstats.models._type3`).

References
----------
R Core Team, ``?qr`` (``LAPACK = FALSE``: LINPACK ``dqrdc2`` with limited
column pivoting) and ``?lm`` (``singular.ok``); Bates et al. (2015), lme4,
*J. Stat. Softw.* 67(1), doi:10.18637/jss.v067.i01; Searle (1971), *Linear
Models*, ch. 5 (estimable functions).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DesignError, RehabStatsWarning

__all__ = ["RankInfo", "drop_aliased", "pivoted_rank"]

RANK_TOL = 1e-7
ESTIMABLE_TOL = 1e-8


@dataclass(frozen=True)
class RankInfo:
    """Which columns of a design were kept.

    Attributes
    ----------
    keep : numpy.ndarray
        Indices (in column order) of the kept columns.
    p : int
        Number of columns of the full design.
    names : tuple of str
        Names of all columns.
    nullspace : numpy.ndarray
        Orthonormal basis ``(p, p - rank)`` of the null space of ``X``.
    """

    keep: np.ndarray
    p: int
    names: tuple[str, ...]
    nullspace: np.ndarray

    @property
    def rank(self) -> int:
        """Number of kept columns."""
        return int(self.keep.size)

    @property
    def deficient(self) -> bool:
        """Whether any column was dropped."""
        return self.rank < self.p

    @property
    def aliased(self) -> tuple[str, ...]:
        """Names of the dropped (aliased) columns."""
        dropped = np.setdiff1d(np.arange(self.p), self.keep)
        return tuple(self.names[i] for i in dropped)

    @property
    def kept_names(self) -> tuple[str, ...]:
        """Names of the kept columns."""
        return tuple(self.names[i] for i in self.keep)

    def estimable(self, L: np.ndarray) -> np.ndarray:
        """Boolean per row of ``L`` (full-design coordinates): estimable or not."""
        L = np.atleast_2d(np.asarray(L, dtype=float))
        if not self.deficient:
            return np.ones(L.shape[0], dtype=bool)
        chk = L @ self.nullspace
        ssq = np.sum(L * L, axis=1)
        out: np.ndarray = (ssq == 0) | (np.sum(chk * chk, axis=1) < ESTIMABLE_TOL * ssq)
        return out

    def reduce(self, L: np.ndarray) -> np.ndarray:
        """Rows of ``L`` in the kept coordinates; full-design rows must be estimable.

        A row of length ``rank`` is returned as is (already reduced); a row of
        length ``p`` is mapped to its kept entries (the aliased coefficients are
        0, R's convention), or to NaN when it is not estimable.
        """
        L = np.asarray(L, dtype=float)
        if not self.deficient or L.shape[-1] == self.rank:
            return L
        if L.shape[-1] != self.p:
            raise DesignError(
                f"A contrast has {L.shape[-1]} entries; the design has {self.p} columns "
                f"({self.rank} estimable)."
            )
        L2 = np.atleast_2d(L)
        out = L2[:, self.keep].copy()
        out[~self.estimable(L2)] = np.nan
        return out.reshape(*L.shape[:-1], self.rank)


def pivoted_rank(
    X: np.ndarray, names: Sequence[str] | None = None, tol: float = RANK_TOL
) -> RankInfo:
    """Columns kept by R's limited-pivoting QR (``qr(X, tol = 1e-7, LAPACK = FALSE)``).

    Column ``j`` is kept when the norm of its residual after projection on the
    columns kept before it is at least ``tol`` times its own norm (a zero
    column is always dropped). Modified Gram-Schmidt with one
    re-orthogonalisation pass; cost ``O(n p^2)``.

    Parameters
    ----------
    X : numpy.ndarray
        Design matrix ``(n, p)``.
    names : sequence of str, optional
        Column names (default ``x0, x1, ...``).
    tol : float
        Relative tolerance (R's default 1e-7).

    Returns
    -------
    RankInfo

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0, 1, 2], [1, 1, 0, 2], [1, 0, 1, 2], [1, 1, 0, 2]])
    >>> info = pivoted_rank(X, ["(Intercept)", "a", "b", "c"])
    >>> info.kept_names, info.aliased
    (('(Intercept)', 'a'), ('b', 'c'))
    """
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    names = tuple(names) if names is not None else tuple(f"x{i}" for i in range(p))
    if len(names) != p:
        raise DesignError(f"{len(names)} column names for a design with {p} columns.")
    norms = np.sqrt(np.sum(X * X, axis=0))
    if n >= p and np.all(np.isfinite(norms)) and np.all(norms > 0):
        # clearly full rank (every Householder residual far above the tolerance):
        # Gram-Schmidt would keep every column, so skip its column loop
        diag = np.abs(np.diagonal(np.linalg.qr(X, mode="r")))
        if np.all(diag >= 100 * tol * norms):
            return RankInfo(keep=np.arange(p), p=p, names=names, nullspace=np.zeros((p, 0)))
    Q = np.empty((n, 0))
    keep: list[int] = []
    for j in range(p):
        if norms[j] == 0 or not np.isfinite(norms[j]):
            continue
        v = X[:, j].copy()
        for _ in range(2):
            v -= Q @ (Q.T @ v)
        nv = float(np.sqrt(v @ v))
        if nv >= tol * norms[j]:
            keep.append(j)
            Q = np.column_stack([Q, v / nv])
    keep_arr = np.array(keep, dtype=int)
    dropped = np.setdiff1d(np.arange(p), keep_arr)
    if dropped.size:
        # null space: x_d = X_keep c_d  ->  n_d = (c_d on keep, -1 on d)
        Xk = X[:, keep_arr]
        coefs = (
            np.linalg.lstsq(Xk, X[:, dropped], rcond=None)[0]
            if keep_arr.size
            else np.zeros((0, dropped.size))
        )
        N = np.zeros((p, dropped.size))
        N[keep_arr] = coefs
        N[dropped, np.arange(dropped.size)] = -1.0
        N = np.linalg.qr(N)[0]
    else:
        N = np.zeros((p, 0))
    return RankInfo(keep=keep_arr, p=p, names=names, nullspace=N)


def drop_aliased(
    X: np.ndarray, names: Sequence[str], *, what: str = "fixed-effects design", stacklevel: int = 3
) -> tuple[np.ndarray, RankInfo]:
    """Drop aliased columns of ``X`` (as R), warning with their names.

    Returns the reduced design and its :class:`RankInfo`. A design without any
    estimable column raises :class:`~rehabstats.errors.DesignError`.

    Examples
    --------
    >>> import numpy as np, warnings
    >>> X = np.array([[1.0, 1, 2], [1, 0, 2], [1, 1, 2]])
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     Xr, info = drop_aliased(X, ["(Intercept)", "a", "b"])
    >>> Xr.shape, info.aliased, "'b'" in str(w[0].message)
    ((3, 2), ('b',), True)
    """
    info = pivoted_rank(X, names)
    if info.rank == 0:
        raise DesignError(f"The {what} has no non-zero column.")
    if info.deficient:
        dropped = ", ".join(repr(a) for a in info.aliased)
        k = info.p - info.rank
        warnings.warn(
            f"The {what} is rank deficient (rank {info.rank} < {info.p} columns): "
            f"dropping {k} aliased column{'s' if k > 1 else ''} ({dropped}), as R's lm/lmer/mmrm "
            "do; their coefficients are not estimable (see the result's `aliased`).",
            RehabStatsWarning,
            stacklevel=stacklevel,
        )
        return X[:, info.keep], info
    return X, info
