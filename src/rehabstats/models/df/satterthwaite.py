r"""Satterthwaite degrees of freedom for linear contrasts of fixed effects.

For a contrast :math:`L\beta` with variance :math:`v(\theta) = L C(\theta) L^\top`
(:math:`C = (X^\top V^{-1} X)^{-1}`, :math:`\theta` the variance parameters),

.. math:: \nu = \frac{2\, v^2}{g^\top A\, g}, \qquad g_i = L\,\frac{\partial C}{\partial\theta_i}\,L^\top,

with :math:`A` the asymptotic covariance of :math:`\hat\theta` (twice the inverse
Hessian of the deviance :math:`-2\log L`; the inverse Hessian of :math:`-\log L`).
At an interior optimum :math:`\nu` does not depend on how :math:`\theta` is
parametrised. A q-row hypothesis is rotated by the eigen-decomposition of
:math:`L C L^\top` into q independent 1-d contrasts (directions with an
eigenvalue below ``sqrt(eps)`` times the largest are dropped, so a
rank-deficient ``L`` is tested on its rank) with dfs :math:`\nu_m`; then
:math:`F = \sum t_m^2 / q` and the denominator df is :math:`2E/(E - q)`,
:math:`E = \sum \nu_m / (\nu_m - 2)`, or 2 when any :math:`\nu_m \le 2`, or the
common value when all :math:`\nu_m` agree to 1e-8 (lmerTest's ``contestMD`` and
``get_Fstat_ddf``; mmrm's ``h_df_md_sat`` is the same computation).

Used by both :func:`rehabstats.models.lmm` (lmerTest's parametrisation
:math:`(\theta, \sigma)`) and :func:`rehabstats.models.mmrm` (mmrm's).

References
----------
Kuznetsova, Brockhoff & Christensen (2017), lmerTest package, *J. Stat. Softw.*
82(13), doi:10.18637/jss.v082.i13; Fai & Cornelius (1996),
doi:10.1080/00949659608811740.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fstat_ddf", "satterthwaite_1d", "satterthwaite_md", "satterthwaite_rows"]

_EPS = float(np.sqrt(np.finfo(float).eps))


def satterthwaite_1d(
    L: np.ndarray, C: np.ndarray, dC: np.ndarray, A: np.ndarray
) -> tuple[float, float]:
    """Variance of ``L beta`` and its Satterthwaite df.

    Parameters
    ----------
    L : numpy.ndarray
        Contrast, shape ``(p,)``.
    C : numpy.ndarray
        Covariance of beta, ``(p, p)``.
    dC : numpy.ndarray
        Derivatives of ``C`` with respect to the k variance parameters, ``(k, p, p)``.
    A : numpy.ndarray
        Covariance of the variance parameters, ``(k, k)``.

    Returns
    -------
    tuple of float
        ``(variance, df)``; ``df = inf`` when ``g' A g`` is not positive and finite.

    Examples
    --------
    >>> import numpy as np
    >>> v, df = satterthwaite_1d(np.array([1.0]), np.array([[2.0]]),
    ...                          np.array([[[1.0]]]), np.array([[0.5]]))
    >>> v, df
    (2.0, 16.0)
    """
    v, df = satterthwaite_rows(np.asarray(L, dtype=float)[None, :], C, dC, A)
    return float(v[0]), float(df[0])


def satterthwaite_rows(
    L: np.ndarray, C: np.ndarray, dC: np.ndarray, A: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`satterthwaite_1d` for every row of ``L`` (``(r, p)``) at once.

    Returns ``(variances, dfs)``, each of shape ``(r,)``: the coefficient table
    of a model with 28 coefficients is one set of array products, not 28 calls.

    Examples
    --------
    >>> import numpy as np
    >>> v, df = satterthwaite_rows(np.eye(2), np.diag([2.0, 1.0]),
    ...                            np.array([np.diag([1.0, 0.5])]), np.array([[0.5]]))
    >>> v.tolist(), df.tolist()
    ([2.0, 1.0], [16.0, 16.0])
    """
    L = np.atleast_2d(np.asarray(L, dtype=float))
    v = np.einsum("ri,ij,rj->r", L, C, L)
    g = np.einsum("ri,kij,rj->rk", L, dC, L)
    denom = np.einsum("rk,kl,rl->r", g, A, g)
    ok = (denom > 0) & np.isfinite(denom)
    df = np.full(len(L), math.inf)
    df[ok] = 2.0 * v[ok] ** 2 / denom[ok]
    return v, df


def fstat_ddf(nu: np.ndarray, tol: float = 1e-8) -> float:
    """Denominator df of the F statistic from the component dfs (lmerTest's rule).

    Examples
    --------
    >>> import numpy as np
    >>> fstat_ddf(np.array([10.0, 10.0])), round(fstat_ddf(np.array([5.0, 20.0])), 6)
    (10.0, 7.142857)

    A component df of ``inf`` (a direction whose variance does not depend on
    the variance parameters) enters ``E`` with its limit ``nu / (nu - 2) = 1``;
    all ``inf`` give ``inf`` and any NaN gives NaN (R's ``get_Fstat_ddf`` stops
    with an error on ``Inf``).

    >>> fstat_ddf(np.array([np.inf, np.inf])), round(fstat_ddf(np.array([10.0, np.inf])), 6)
    (inf, 18.0)
    """
    nu = np.asarray(nu, dtype=float)
    if nu.size == 1:
        return float(nu[0])
    if np.isnan(nu).any():
        return math.nan
    finite = np.isfinite(nu)
    if not finite.any():
        return math.inf
    if finite.all() and np.all(np.abs(np.diff(nu)) < tol):
        return float(nu.mean())
    if np.any(nu <= 2):
        return 2.0
    terms = np.ones_like(nu)
    terms[finite] = nu[finite] / (nu[finite] - 2)
    E = float(np.sum(terms))
    return 2 * E / (E - nu.size)


def satterthwaite_md(
    L: np.ndarray, beta: np.ndarray, C: np.ndarray, dC: np.ndarray, A: np.ndarray, eps: float = _EPS
) -> tuple[float, float, float]:
    """F statistic, numerator df and Satterthwaite denominator df for ``L beta = 0``.

    Returns ``(nan, 0, nan)`` when ``L`` has no estimable direction.

    Examples
    --------
    >>> import numpy as np
    >>> C, dC, A = np.eye(2), np.stack([np.eye(2)]), np.array([[0.1]])
    >>> satterthwaite_md(np.eye(2), np.array([1.0, 1.0]), C, dC, A)
    (1.0, 2.0, 20.0)
    """
    L = np.atleast_2d(np.asarray(L, dtype=float))
    if L.shape[0] == 0:
        return math.nan, 0.0, math.nan
    if L.shape[0] == 1:
        v, df = satterthwaite_1d(L[0], C, dC, A)
        if not v > 0:
            return math.nan, 0.0, math.nan
        return float((L[0] @ beta) ** 2 / v), 1.0, df
    d, P = np.linalg.eigh(L @ C @ L.T)
    order = np.argsort(d)[::-1]
    d, P = d[order], P[:, order]
    pos = d > max(eps * d[0], 0)
    q = int(pos.sum())
    if q == 0:
        return math.nan, 0.0, math.nan
    PtL = (P.T @ L)[:q]
    t2 = (PtL @ beta) ** 2 / d[:q]
    nu = np.array([satterthwaite_1d(row, C, dC, A)[1] for row in PtL])
    return float(t2.sum() / q), float(q), fstat_ddf(nu)
