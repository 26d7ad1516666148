r"""Closed-form derivatives of ``Sigma(theta)`` for the MMRM engine.

The covariance structures of :mod:`rehabstats.models._covariance` give their
first derivatives by complex step and their second derivatives by central
differences of those; both are exact enough but cost ``O(k^2 m^3)`` builds for
``k`` parameters, which dominates the unstructured (``us``) fit at many visits
(``k = 105`` at 14 visits). This module gives exact closed forms for ``us``
and a generic fallback for every other structure.

``us`` (mmrm's log-Cholesky parametrisation): ``Sigma = L L'`` with
``L = diag(exp(l)) T``, ``T`` unit lower triangular holding the ``t``
parameters row by row. The derivative of ``L`` in any one parameter ``a`` is
non-zero in a single row ``r_a`` only: ``dL_a = e_{r_a} v_a'`` with
``v_a = L[r_a, :]`` for ``l_{r_a}`` and ``v_a = exp(l_i) e_j`` for ``t_{ij}``.
Hence, with ``w_a = L v_a``,

``Sigma_a = e_{r_a} w_a' + w_a e_{r_a}'``  (rank two),

``Sigma_ab = dL_ab L' + L dL_ab' + (v_a' v_b) (e_{r_a} e_{r_b}' + e_{r_b} e_{r_a}')``

where ``dL_ab`` is non-zero only for ``a, b`` in the same row:
``dL_{l_i l_i} = e_i L[i, :]`` and ``dL_{l_i t_ij} = exp(l_i) e_i e_j'``.
For a symmetric ``G`` the contraction needed by the Newton Hessian is then

``<G, Sigma_ab> = 2 <G L, dL_ab> + 2 G[r_a, r_b] v_a' v_b``,

``O(k^2 m)`` without forming any ``(k, k, m, m)`` array.
"""

from __future__ import annotations

import numpy as np

from ._covariance import CovarianceStructure

__all__ = ["SigmaDerivatives", "derivatives_for"]


class SigmaDerivatives:
    """Derivatives of ``Sigma`` for one structure and visit count (generic fallback).

    Methods take the parameter vector ``theta`` (shape ``(k,)``).
    """

    def __init__(self, structure: CovarianceStructure, m: int) -> None:
        self.structure = structure
        self.m = int(m)

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """``dSigma/dtheta_a``, shape ``(k, m, m)``."""
        return np.asarray(self.structure.jacobian(theta, self.m))

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """``d2Sigma/dtheta_a dtheta_b``, shape ``(k, k, m, m)``."""
        return np.asarray(self.structure.hessian(theta, self.m))

    def contract_hessian(self, G: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """``<G, Sigma_ab>`` for a symmetric ``(m, m)`` matrix ``G``, shape ``(k, k)``."""
        out: np.ndarray = np.einsum("ab,ijab->ij", G, self.hessian(theta))
        return out

    def hessian_blocks(self, theta: np.ndarray) -> list[tuple[slice, slice, np.ndarray]]:
        """The non-zero blocks of :meth:`hessian`: ``(theta slice, visit slice,
        d2Sigma of that block)``; here one block, everything.
        """
        return [(slice(None), slice(None), self.hessian(theta))]


class _UnstructuredDerivatives(SigmaDerivatives):
    """Closed forms for ``us`` (see the module docstring)."""

    def __init__(self, structure: CovarianceStructure, m: int) -> None:
        super().__init__(structure, m)
        m = self.m
        rows, cols = np.tril_indices(m, -1)  # row by row, as mmrm fills L
        self._rows, self._cols = rows, cols
        self.k = m + rows.size
        # the row each parameter acts on
        self._r = np.concatenate([np.arange(m), rows])
        # pairs (a, b) in the same row with a non-zero dL_ab: (l_i, t_ij)
        self._lt_a = rows  # index of l_i
        self._lt_b = m + np.arange(rows.size)
        self._last: tuple[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def _pieces(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        theta = np.asarray(theta, dtype=float)
        key = theta.tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        out = self._compute_pieces(theta)
        self._last = (key, out)
        return out

    def _compute_pieces(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = self.m
        sd = np.exp(theta[:m])
        L = np.eye(m)
        L[self._rows, self._cols] = theta[m:]
        L *= sd[:, None]
        V = np.zeros((self.k, m))
        V[:m] = L
        V[m + np.arange(self._rows.size), self._cols] = sd[self._rows]
        return L, V, sd

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        L, V, _ = self._pieces(theta)
        W = V @ L.T  # w_a = L v_a
        k, m = self.k, self.m
        J = np.zeros((k, m, m))
        ar = np.arange(k)
        J[ar, self._r, :] = W
        J[ar, :, self._r] += W
        return J

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        L, V, sd = self._pieces(theta)
        k, m, r = self.k, self.m, self._r
        H = np.zeros((k, k, m, m))
        # (v_a' v_b) (e_ra e_rb' + e_rb e_ra')
        VV = V @ V.T
        ia, ib = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
        H[ia, ib, r[:, None], r[None, :]] += VV
        H[ia, ib, r[None, :], r[:, None]] += VV
        # dL_ab L' + L dL_ab'
        for i in range(m):  # (l_i, l_i): dL = e_i L[i, :]
            x = L @ L[i]  # (L dL')[:, i] = L L[i]' ... column i
            H[i, i, i, :] += x
            H[i, i, :, i] += x
        a, b = self._lt_a, self._lt_b
        # (l_i, t_ij): dL = exp(l_i) e_i e_j'; dL L' = exp(l_i) e_i L[:, j]'
        x = sd[self._rows, None] * L[:, self._cols].T  # (n_t, m)
        for aa, bb in ((a, b), (b, a)):
            H[aa, bb, self._rows, :] += x
            H[aa, bb, :, self._rows] += x
        return H

    def contract_hessian(self, G: np.ndarray, theta: np.ndarray) -> np.ndarray:
        L, V, sd = self._pieces(theta)
        m, r = self.m, self._r
        out = 2.0 * G[np.ix_(r, r)] * (V @ V.T)
        GL = G @ L
        idx = np.arange(m)
        out[idx, idx] += 2.0 * np.einsum("ij,ij->i", GL, L)
        val = 2.0 * sd[self._rows] * GL[self._rows, self._cols]
        out[self._lt_a, self._lt_b] += val
        out[self._lt_b, self._lt_a] += val
        return out


class _GroupedDerivatives(SigmaDerivatives):
    """A grouped structure (:func:`~rehabstats.models._covariance.grouped_structure`):
    each group's parameters act on its own diagonal block only, so the Jacobian
    is block-sparse and the second derivatives are block-diagonal in both the
    parameters and the visits; each group uses its base structure's provider
    (closed forms for ``us``).
    """

    def __init__(self, structure: CovarianceStructure, m: int) -> None:
        super().__init__(structure, m)
        assert structure.base is not None
        G = structure.groups
        self.G, self.mg = G, self.m // G
        self.kg = structure.base.n_theta(self.mg)
        self._parts = [derivatives_for(structure.base, self.mg) for _ in range(G)]

    def _blocks(self) -> list[tuple[slice, slice, SigmaDerivatives]]:
        kg, mg = self.kg, self.mg
        return [
            (slice(g * kg, (g + 1) * kg), slice(g * mg, (g + 1) * mg), d)
            for g, d in enumerate(self._parts)
        ]

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        J = np.zeros((self.G * self.kg, self.m, self.m))
        for ts, vs, d in self._blocks():
            J[ts, vs, vs] = d.jacobian(theta[ts])
        return J

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        K = self.G * self.kg
        H = np.zeros((K, K, self.m, self.m))
        for ts, vs, d in self._blocks():
            H[ts, ts, vs, vs] = d.hessian(theta[ts])
        return H

    def hessian_blocks(self, theta: np.ndarray) -> list[tuple[slice, slice, np.ndarray]]:
        theta = np.asarray(theta, dtype=float)
        return [(ts, vs, d.hessian(theta[ts])) for ts, vs, d in self._blocks()]

    def contract_hessian(self, G: np.ndarray, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        K = self.G * self.kg
        out = np.zeros((K, K))
        for ts, vs, d in self._blocks():
            out[ts, ts] = d.contract_hessian(G[vs, vs], theta[ts])
        return out


def derivatives_for(structure: CovarianceStructure, m: int) -> SigmaDerivatives:
    """The derivative provider for ``structure`` (closed forms where available)."""
    if structure.groups > 1 and structure.base is not None:
        return _GroupedDerivatives(structure, m)
    if structure.name == "us" and structure.n_theta(m) == m * (m + 1) // 2:
        return _UnstructuredDerivatives(structure, m)
    return SigmaDerivatives(structure, m)
