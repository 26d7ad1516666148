r"""Satterthwaite df for a sandwich (empirical) covariance: Bell & McCaffrey (2002).

With the whitened design :math:`\tilde X_i = W_i X_i` (:math:`W_i'W_i =
\Sigma_i^{-1}`), the model-based covariance :math:`V = (\tilde X'\tilde X)^{-1}`,
the hat matrix :math:`H = \tilde X V \tilde X'` and the adjustment :math:`A_i`
of the sandwich (:math:`I`, :math:`(I - H_{ii})^{-1/2}` or :math:`(I -
H_{ii})^{-1}`), a contrast :math:`c` has the sandwich variance
:math:`\hat v = \sum_i (c'V\tilde X_i'A_i\tilde r_i)^2`, a quadratic form in the
residuals. Under the working model it is distributed as
:math:`\sum_k \lambda_k \chi^2_1` with :math:`\lambda` the eigenvalues of the
``N x N`` matrix

.. math:: G_{ij} = g_i' g_j,\qquad g_i = (I - H)_{\cdot i}\, A_i \tilde X_i V c,

and the Satterthwaite df are :math:`\nu = (\sum\lambda)^2/\sum\lambda^2 =
\operatorname{tr}(G)^2 / \lVert G\rVert_F^2` (Bell & McCaffrey 2002,
Survey Methodology 28:169-181, section 3; R mmrm's ``h_df_1d_sat_empirical``
with the ``g_mat`` of its ``src/empirical.cpp``; clubSandwich's ``df_Satt`` with
the working model as target).

Computation: with :math:`u_i = A_i\tilde X_i V c` (subject ``i``'s rows) and
:math:`q_i = \tilde X_i' u_i`, :math:`(I - H)` idempotent gives :math:`G = D -
Q'VQ` with :math:`D = \mathrm{diag}(u_i'u_i)`, so ``tr(G)`` and
:math:`\lVert G\rVert_F^2 = \sum_i d_i^2 - 2\sum_i d_i (Q'VQ)_{ii} +
\operatorname{tr}(VK VK)`, :math:`K = QQ'`, cost ``O(n p + N p^2)`` per contrast
instead of mmrm's ``n x (N p)`` matrix. For several rows mmrm's rule is used:
the eigenvectors of :math:`LCL'` (``C`` the sandwich) with positive eigenvalue,
``F`` the mean of their ``t^2``, each direction's df as above, combined by
:func:`~rehabstats.models.df.satterthwaite.fstat_ddf`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .satterthwaite import fstat_ddf

__all__ = ["EmpiricalDF"]

_EPS = float(np.sqrt(np.finfo(float).eps))


@dataclass(frozen=True)
class EmpiricalDF:
    r"""Bell-McCaffrey Satterthwaite df of contrasts of a sandwich covariance.

    Parameters
    ----------
    Xt : (n, p) whitened design rows :math:`\\tilde X`.
    AX : (n, p) rows of :math:`A_i\\tilde X_i`.
    subject : (n,) subject index 0..N-1 of each row.
    V : (p, p) model-based covariance :math:`(\\tilde X'\\tilde X)^{-1}`.

    Examples
    --------
    Ordinary least squares with one observation per "subject" and ``A = I``
    (HC0): the df of a mean of ``N`` observations is ``N - 1``.

    >>> import numpy as np
    >>> N = 8
    >>> X = np.ones((N, 1))
    >>> emp = EmpiricalDF(X, X, np.arange(N), np.array([[1.0 / N]]))
    >>> round(emp.df_1d(np.array([1.0])), 10)
    7.0
    """

    Xt: np.ndarray
    AX: np.ndarray
    subject: np.ndarray
    V: np.ndarray

    def df_1d(self, c: np.ndarray) -> float:
        """Satterthwaite df of the contrast ``c`` (length ``p``)."""
        c = np.asarray(c, dtype=float)
        n_sub = int(self.subject.max()) + 1
        u = self.AX @ (self.V @ c)  # (n,)
        d = np.bincount(self.subject, weights=u * u, minlength=n_sub)  # u_i'u_i
        p = self.Xt.shape[1]
        Q = np.empty((p, n_sub))  # q_i = Xt_i' u_i
        for j in range(p):
            Q[j] = np.bincount(self.subject, weights=self.Xt[:, j] * u, minlength=n_sub)
        VQ = self.V @ Q
        qvq = np.einsum("ji,ji->i", Q, VQ)  # diag(Q'VQ)
        tr = float(d.sum() - qvq.sum())
        K = Q @ Q.T
        VK = self.V @ K
        fro2 = float(d @ d - 2.0 * d @ qvq + np.sum(VK * VK.T))
        if not (fro2 > 0 and math.isfinite(fro2)):
            return math.nan
        return tr * tr / fro2

    def test_md(
        self, L: np.ndarray, beta: np.ndarray, C: np.ndarray, eps: float = _EPS
    ) -> tuple[float, float, float]:
        """``(F, num_df, den_df)`` of ``L beta = 0`` with the sandwich ``C`` (mmrm's rule)."""
        L = np.atleast_2d(np.asarray(L, dtype=float))
        if L.shape[0] == 0:
            return math.nan, 0.0, math.nan
        if L.shape[0] == 1:
            v = float(L[0] @ C @ L[0])
            if not v > 0:
                return math.nan, 0.0, math.nan
            return float((L[0] @ beta) ** 2 / v), 1.0, self.df_1d(L[0])
        w, P = np.linalg.eigh(L @ C @ L.T)
        order = np.argsort(w)[::-1]
        w, P = w[order], P[:, order]
        q = int(np.sum(w > max(eps * w[0], 0)))
        if q == 0:
            return math.nan, 0.0, math.nan
        PtL = (P.T @ L)[:q]
        t2 = (PtL @ beta) ** 2 / w[:q]
        nu = np.array([self.df_1d(row) for row in PtL])
        return float(t2.sum() / q), float(q), fstat_ddf(nu)
