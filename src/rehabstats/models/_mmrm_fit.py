"""MMRM engine: REML/ML objective, exact gradient and Hessian, optimiser chain.

Subjects are grouped by missingness pattern (the set of visits observed).
Everything the likelihood needs is a sufficient statistic per pattern, kept
zero-padded in the full ``m``-visit space, so one evaluation costs
``O(patterns * m^2 p^2)`` independent of the number of subjects:

- ``XX[s, a, p, b, q] = sum_n X[n, a, p] X[n, b, q]``
- ``Xy[s, a, p, b] = sum_n X[n, a, p] y[n, b]``, ``yy[s, a, b] = sum_n y[n, a] y[n, b]``

(stored visit-pair first, ``[s, a, b, p, q]``, so that contractions with the
``m x m`` matrices are matrix products). With ``Omega_s`` the inverse of
``Sigma`` restricted to pattern ``s`` (zero padded), ``A = X' Omega X`` and the
REML projection ``P``, the objective is
``f = -2 log L = sum log|Sigma_i| + log|A| + r' Omega r + (n - p) log(2 pi)``
(ML: without ``log|A|`` and with ``n log(2 pi)``). Its exact derivatives are

``df/dtheta_i = tr(P Sigma_i) - y' P Sigma_i P y = <G, Sigma_i>``

``d2f/dtheta_i dtheta_j = tr(P Sigma_ij) - tr(P Sigma_i P Sigma_j)
+ 2 y' P Sigma_i P Sigma_j P y - y' P Sigma_ij P y``

(the ML versions replace ``P`` by ``Omega`` in the trace terms), evaluated from
the pattern statistics. See Kenward & Roger (1997), doi:10.2307/2533558, and
mmrm's algorithm vignette.

The Hessian is assembled without any array of size ``k x k x m x m`` (``k``
covariance parameters):

``H = <G, Sigma_ij> + vec(Sigma_i)' K vec(Sigma_j) - 2 e_i' A^-1 e_j
- tr(A^-1 B_i A^-1 B_j)``

with the ``m^2 x m^2`` matrix ``K[(a, b), (c, d)] = sum_s Omega_s[b, c] E_s[d, a]``
(``E_s = -n_s Omega_s + 2 Omega_s R_s Omega_s + 2 Omega_s M_s Omega_s``),
``e_i = X' Omega Sigma_i Omega r`` and ``B_i = X' Omega Sigma_i Omega X``; the
first term uses the closed forms of :mod:`rehabstats.models._cov_derivs` (for
``us``: ``O(k^2 m)``). One Newton step therefore costs
``O(patterns * m^3 p^2 + k m^4 + k^2 (m^2 + p^2))``.

The pattern statistics are built from the columns of each pattern's design that
are nonzero (a factor design such as ``arm * visit`` has a few per visit), and
``XX`` is kept as compressed sparse rows when mostly zero (2% nonzero for
``arm * visit`` over 14 visits), so the products of every step follow its nonzeros.

The optimiser is a damped Newton method with the exact Hessian (a
modified-Cholesky step where the Hessian is indefinite, backtracking line
search). With many covariance parameters (``_QUASI_NEWTON_MIN_PARAMS``) it starts
with BFGS updates of the expected information (:meth:`MMRMEngine.expected_information`)
run to a tight decrement, so that the Newton phase typically needs just the one
exact Hessian at the optimum that the inference reuses. Should it not converge,
scipy's trust-region Newton, L-BFGS-B, BFGS and Nelder-Mead are tried in turn.
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, sparse

from .._blas import single_thread_blas
from ._cov_derivs import SigmaDerivatives, derivatives_for
from ._covariance import CovarianceStructure

__all__ = ["OPTIMIZERS", "MMRMEngine", "OptimizerInfo", "resolve_optimizers", "single_thread_blas"]

#: Optimiser names accepted by ``mmrm(optimizer=...)`` and what each runs.
OPTIMIZERS: dict[str, str] = {
    "newton": "damped Newton with the exact Hessian and backtracking line search (rehabstats)",
    "trust-exact": "scipy trust-region Newton with the exact Hessian (closest to R's nlminb, "
    "a PORT trust-region method that mmrm runs with the Hessian)",
    "trust-ncg": "scipy trust-region Newton-CG with the exact Hessian",
    "L-BFGS-B": "scipy L-BFGS-B with the exact gradient (R optim's L-BFGS-B; mmrm's first)",
    "BFGS": "scipy BFGS with the exact gradient (R optim's BFGS)",
    "CG": "scipy nonlinear conjugate gradient with the exact gradient (R optim's CG)",
    "Nelder-Mead": "scipy Nelder-Mead simplex, no derivatives (R optim's default)",
}
#: Aliases: R's ``nlminb`` runs as ``trust-exact``.
_OPTIMIZER_ALIASES = {"nlminb": "trust-exact"}


def resolve_optimizers(optimizer: str | Sequence[str]) -> tuple[str, ...]:
    """Canonical names of ``optimizer`` (a name or a sequence of names); case-insensitive.

    Raises ``ValueError`` naming the unknown entry.

    Examples
    --------
    >>> resolve_optimizers(["l-bfgs-b", "nlminb"])
    ('L-BFGS-B', 'trust-exact')
    """
    names = [optimizer] if isinstance(optimizer, str) else list(optimizer)
    lower = {k.lower(): k for k in OPTIMIZERS} | _OPTIMIZER_ALIASES
    out: list[str] = []
    for nm in names:
        key = lower.get(nm.lower()) if isinstance(nm, str) else None
        if key is None:
            raise ValueError(nm)
        if key not in out:
            out.append(key)
    if not out:
        raise ValueError(optimizer)
    return tuple(out)


_LOG2PI = math.log(2.0 * math.pi)
#: from this many covariance parameters the Newton path starts with BFGS steps
#: (``us`` has 28 over 7 visits, 55 over 10, 105 over 14)
_QUASI_NEWTON_MIN_PARAMS = 30
#: the quasi-Newton phase runs until its decrement (under the BFGS matrix) is this
#: small, so that the exact Newton phase usually needs only the one Hessian that the
#: inference uses anyway
_QN_FINAL_DECREMENT = 1e-17
#: ``XX`` is kept as triplets when at most this share of its entries is nonzero
#: (arm * visit: 8% over 7 visits, 2% over 14)
_SPARSE_MAX_DENSITY = 0.3


@dataclass(frozen=True)
class OptimizerInfo:
    """What the optimiser did."""

    method: str
    converged: bool
    n_iterations: int
    max_abs_gradient: float
    hessian_pd: bool
    message: str
    attempts: tuple[str, ...] = field(default_factory=tuple)


class _Eval:
    """Quantities at one theta (internal); gradient pieces are filled in lazily."""

    __slots__ = (
        "A",
        "Ainv",
        "B",
        "G",
        "J",
        "M",
        "OMO",
        "Omega",
        "RR",
        "S",
        "ZZsum",
        "beta",
        "f",
        "ok",
        "sigma",
        "theta",
    )
    A: np.ndarray
    Ainv: np.ndarray
    B: np.ndarray | None
    G: np.ndarray | None
    J: np.ndarray | None
    M: np.ndarray | None
    OMO: np.ndarray | None
    Omega: np.ndarray
    RR: np.ndarray
    S: np.ndarray | None
    ZZsum: np.ndarray | None
    beta: np.ndarray
    f: float
    ok: bool
    sigma: np.ndarray
    theta: np.ndarray

    def __init__(self, theta: np.ndarray) -> None:
        self.theta = theta
        self.ok = False
        self.f = math.inf
        self.B = self.G = self.J = self.M = self.OMO = self.S = self.ZZsum = None


class MMRMEngine:
    """Pattern-grouped GLS for one data set (arrays only, no pandas).

    Parameters
    ----------
    y : (n,) outcome of the observed rows.
    X : (n, p) fixed-effects design.
    subject_codes : (n,) integer subject index 0..N-1.
    visit_codes : (n,) integer visit index 0..m-1 (unique within subject).
    m : number of visit levels.
    structure : covariance structure (a grouped one, see
        :func:`~rehabstats.models._covariance.grouped_structure`, for a separate
        Sigma per group: then ``visit_codes`` index the ``groups * m_visits``
        points, ``group * m_visits + visit``, and the patterns are keyed by
        group and visits).
    reml : REML (True) or ML.
    weights : (n,) positive observation weights, or None. As mmrm, the
        covariance of subject ``i`` is ``W_i^{-1/2} Sigma W_i^{-1/2}``: the
        engine fits ``sqrt(w) y`` on ``sqrt(w) X`` with covariance ``Sigma``
        and adds ``-sum(log w)`` (the log Jacobian) to ``-2 log L``.
    """

    def __init__(
        self,
        y: np.ndarray,
        X: np.ndarray,
        subject_codes: np.ndarray,
        visit_codes: np.ndarray,
        m: int,
        structure: CovarianceStructure,
        reml: bool = True,
        weights: np.ndarray | None = None,
    ) -> None:
        self.log_weight_sum = 0.0
        if weights is not None:
            w = np.asarray(weights, dtype=float)
            sw = np.sqrt(w)
            y = np.asarray(y, dtype=float) * sw
            X = np.asarray(X, dtype=float) * sw[:, None]
            self.log_weight_sum = float(np.sum(np.log(w)))
        self.m = m = int(m)
        self.structure = structure
        self.derivs: SigmaDerivatives = derivatives_for(structure, m)
        self.reml = bool(reml)
        self.n_obs, self.p = X.shape
        p = self.p
        subject_codes = np.asarray(subject_codes, dtype=np.int64)
        visit_codes = np.asarray(visit_codes, dtype=np.int64)
        n_sub = int(subject_codes.max()) + 1
        self.n_subjects = n_sub
        # subject-level visit masks -> missingness patterns
        mask = np.zeros((n_sub, m), dtype=bool)
        mask[subject_codes, visit_codes] = True
        keys = mask.astype(np.int64) @ (np.int64(1) << np.arange(m, dtype=np.int64))
        uniq, inverse = np.unique(keys, return_inverse=True)
        bits = ((uniq[:, None] >> np.arange(m)) & 1).astype(bool)  # (S, m)
        self.patterns = [np.flatnonzero(b) for b in bits]
        S = len(uniq)
        counts = np.bincount(inverse, minlength=S)
        self.n_per_pattern = counts.astype(float)
        # rows sorted by (pattern, subject, visit): each pattern a contiguous block
        # of whole subjects; padded (subject x visit) arrays per pattern
        order = np.argsort(inverse, kind="stable")
        rank = np.empty(n_sub, dtype=np.int64)
        rank[order] = np.arange(n_sub)
        yf = np.zeros((n_sub, m))
        r_sub = rank[subject_codes]
        yf[r_sub, visit_codes] = y
        starts = np.concatenate([[0], np.cumsum(counts)])
        sizes = bits.sum(axis=1)  # visits observed per pattern
        offs = np.concatenate([[0], np.cumsum(sizes**2)])
        Xf = np.zeros((n_sub, m, p))
        Xf[r_sub, visit_codes] = X
        yy = np.zeros((S, m, m))
        self._ix = [np.ix_(o, o) for o in self.patterns]
        cidx: list[np.ndarray] = []
        Xy = np.zeros((int(offs[-1]), p))
        xx_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for s, o in enumerate(self.patterns):
            ms = len(o)
            Xs = Xf[starts[s] : starts[s + 1]][:, o].reshape(-1, ms * p)  # [n, (a, p)]
            ys = yf[starts[s] : starts[s + 1]][:, o]
            yy[s][self._ix[s]] = ys.T @ ys
            cidx.append((s * m * m + o[:, None] * m + o[None, :]).ravel())
            # only the columns (visit, coefficient) that are nonzero for some subject of
            # the pattern: a factor design (arm * visit) has a few per visit, so the
            # products cost O(n (m_s q)^2) with q of them per visit, not O(n (m_s p)^2)
            nz = np.flatnonzero(np.any(Xs != 0.0, axis=0))
            Xn = Xs[:, nz]
            va, ca = np.divmod(nz, p)  # visit (within the pattern) and coefficient
            rows = offs[s] + va[:, None] * ms + va[None, :]
            cols = ca[:, None] * p + ca[None, :]
            xx_parts.append((rows.ravel(), cols.ravel(), (Xn.T @ Xn).ravel()))
            Xy[offs[s] + va[:, None] * ms + np.arange(ms)[None, :], ca[:, None]] = Xn.T @ ys
        self.yy = yy
        # the statistics of every pattern restricted to its observed visits (the rest is
        # zero), stacked: rows are the (s, a, b) in self._cidx of the padded S x m x m
        # space, columns (p, q); XX is kept as (row, column, value) triplets when
        # mostly zero (2% nonzero for arm * visit over 14 visits), else dense
        self._cidx = np.concatenate(cidx)
        self._offs = offs
        self._Xycat = Xy
        self._xx_shape = (int(offs[-1]), p * p)
        xr, xc, xv = (np.concatenate(t) for t in zip(*xx_parts, strict=True))
        self._XXdense: np.ndarray | None = None
        self._xx_coo: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        if xv.size <= _SPARSE_MAX_DENSITY * self._xx_shape[0] * self._xx_shape[1]:
            self._xx_coo = (xr, xc, xv)
            # compressed rows of XX and of its transpose for the products of every step
            self._xx_csr = sparse.csr_matrix((xv, (xr, xc)), shape=self._xx_shape)
            self._xx_csr_t = self._xx_csr.T.tocsr()
        else:
            self._XXdense = np.zeros(self._xx_shape)
            self._XXdense[xr, xc] = xv
        self._XXc_blocks: list[np.ndarray] | None = None
        self._mask2 = bits[:, :, None] & bits[:, None, :]  # (S, m, m) observed pairs
        self._pad = np.where(
            bits[:, :, None] | bits[:, None, :], 0.0, np.eye(m)[None]
        )  # identity on unobserved visits
        self._XXpad: np.ndarray | None = None
        self._cache: OrderedDict[bytes, _Eval] = OrderedDict()
        self._hess_cache: OrderedDict[bytes, np.ndarray] = OrderedDict()

    # ------------------------------------------------------------------ layouts
    @property
    def _XXcat(self) -> np.ndarray:
        """``XX`` in the stacked compact layout, dense (built once, on first use)."""
        if self._XXdense is None:
            assert self._xx_coo is not None
            r, c, v = self._xx_coo
            self._XXdense = np.zeros(self._xx_shape)
            self._XXdense[r, c] = v
        return self._XXdense

    def _xx_dot(self, w: np.ndarray) -> np.ndarray:
        """``XX @ w`` for ``w`` over the ``(p, q)`` columns: one value per stacked row."""
        if self._xx_coo is None:
            return self._XXcat @ w
        out: np.ndarray = self._xx_csr @ w
        return out

    def _xx_tdot(self, u: np.ndarray) -> np.ndarray:
        """``u @ XX`` for ``u`` over the stacked rows: a ``p * p`` vector."""
        if self._xx_coo is None:
            return u @ self._XXcat
        out: np.ndarray = self._xx_csr_t @ u
        return out

    @property
    def _XXc(self) -> list[np.ndarray]:
        """Per pattern, ``XX[a, (b, p, q)]`` on its observed visits (views of the dense form)."""
        if self._XXc_blocks is None:
            p, offs = self.p, self._offs
            self._XXc_blocks = [
                self._XXcat[offs[s] : offs[s + 1]].reshape(len(o), len(o) * p * p)
                for s, o in enumerate(self.patterns)
            ]
        return self._XXc_blocks

    def _xx_beta(self, beta: np.ndarray) -> np.ndarray:
        """``sum_q XX[(s, a, b), (p, q)] beta_q``, shape ``(rows, p)``."""
        p = self.p
        if self._xx_coo is None:
            return (self._XXcat.reshape(-1, p) @ beta).reshape(-1, p)
        r, c, v = self._xx_coo
        flat = np.bincount(r * p + c // p, weights=v * beta[c % p], minlength=self._xx_shape[0] * p)
        return flat.reshape(-1, p)

    def _padded(self, cat: np.ndarray) -> np.ndarray:
        S, m = len(self.patterns), self.m
        out = np.zeros((S * m * m, cat.shape[1]))
        out[self._cidx] = cat
        return out.reshape(S, m, m, *cat.shape[1:])

    @property
    def XXab(self) -> np.ndarray:
        """``XX[s, a, b, p, q]`` zero-padded (built on request; the engine uses the compact form)."""
        return self._padded(self._XXcat).reshape(len(self.patterns), self.m, self.m, self.p, self.p)

    @property
    def Xyab(self) -> np.ndarray:
        """``Xy[s, a, b, p]`` zero-padded (built on request)."""
        return self._padded(self._Xycat)

    @property
    def XX(self) -> np.ndarray:
        """``XX[s, a, p, b, q]`` (a view of the stored statistics)."""
        return self.XXab.transpose(0, 1, 3, 2, 4)

    @property
    def Xy(self) -> np.ndarray:
        """``Xy[s, a, p, b]`` (a view of the stored statistics)."""
        return self.Xyab.transpose(0, 1, 3, 2)

    # ------------------------------------------------------------------ objective
    def evaluate(self, theta: np.ndarray) -> _Eval:
        """Objective pieces at ``theta`` (cached for the last few thetas)."""
        theta = np.array(theta, dtype=float)
        key = theta.tobytes()
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        ev = _Eval(theta)
        m, p = self.m, self.p
        sigma = self.structure.sigma(theta, m)
        ev.sigma = sigma
        if not np.all(np.isfinite(sigma)):
            return self._store(key, ev)
        Sp = np.where(self._mask2, sigma[None], self._pad)
        try:
            chol = np.linalg.cholesky(Sp)
        except np.linalg.LinAlgError:
            return self._store(key, ev)
        diag = np.diagonal(chol, axis1=1, axis2=2)
        if not np.all(diag > 0):
            return self._store(key, ev)
        logdet = 2.0 * float(self.n_per_pattern @ np.log(diag).sum(axis=1))
        inv_chol = np.linalg.inv(chol)
        Omega = np.matmul(inv_chol.transpose(0, 2, 1), inv_chol)
        Omega *= self._mask2
        Of = Omega.reshape(-1)
        Oc = Of[self._cidx]
        A = self._xx_tdot(Oc).reshape(p, p)
        A = 0.5 * (A + A.T)
        b = Oc @ self._Xycat
        try:
            cA = np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            return self._store(key, ev)
        Ainv = np.linalg.inv(A)
        Ainv = 0.5 * (Ainv + Ainv.T)
        beta = np.linalg.solve(A, b)
        # residual cross-products per pattern: sum_n r_n r_n'
        RR = self._resid_cp(beta)
        quad = float(Of @ RR.reshape(-1))
        f = logdet + quad - self.log_weight_sum
        if self.reml:
            f += 2.0 * float(np.sum(np.log(np.diag(cA)))) + (self.n_obs - p) * _LOG2PI
        else:
            f += self.n_obs * _LOG2PI
        if not math.isfinite(f):
            return self._store(key, ev)
        ev.f, ev.ok, ev.A, ev.Ainv, ev.beta = f, True, A, Ainv, beta
        ev.Omega, ev.RR = Omega, RR
        return self._store(key, ev)

    def _resid_cp(self, beta: np.ndarray) -> np.ndarray:
        """``sum_n r_n r_n'`` per pattern (zero padded), ``r = y - X beta``."""
        S, m = len(self.patterns), self.m
        cp = np.zeros(S * m * m)
        cp[self._cidx] = self._Xycat @ beta
        XyB = cp.reshape(S, m, m)
        XXBB = np.zeros(S * m * m)
        XXBB[self._cidx] = self._xx_dot(np.outer(beta, beta).reshape(-1))
        out: np.ndarray = self.yy - XyB - XyB.transpose(0, 2, 1) + XXBB.reshape(S, m, m)
        return out

    def _gradient_pieces(self, ev: _Eval) -> np.ndarray:
        """``G = df/dSigma`` (symmetric ``m x m``), with ``M``, ``S`` filled in."""
        if ev.G is None:
            S, m = len(self.patterns), self.m
            Omega = ev.Omega
            OmO = np.matmul(np.matmul(Omega, ev.RR), Omega)
            G = np.einsum("s,sab->ab", self.n_per_pattern, Omega) - OmO.sum(axis=0)
            if self.reml:
                Mf = np.zeros(S * m * m)
                Mf[self._cidx] = self._xx_dot(ev.Ainv.reshape(-1))
                M = Mf.reshape(S, m, m)
                OMO = np.matmul(np.matmul(Omega, M), Omega)
                G -= OMO.sum(axis=0)
                ev.M, ev.OMO = M, OMO
            ev.S = OmO
            ev.G = 0.5 * (G + G.T)
        return ev.G

    def _jac(self, ev: _Eval) -> np.ndarray:
        if ev.J is None:
            ev.J = self.derivs.jacobian(ev.theta)
        return ev.J

    def _store(self, key: bytes, ev: _Eval) -> _Eval:
        self._cache[key] = ev
        if len(self._cache) > 6:  # least recently used out
            self._cache.popitem(last=False)
        return ev

    def objective(self, theta: np.ndarray) -> float:
        """``-2 log L`` (REML or ML); ``inf`` where Sigma is not positive definite."""
        return self.evaluate(theta).f

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """Exact gradient of :meth:`objective`."""
        ev = self.evaluate(theta)
        if not ev.ok:
            return np.full(np.size(theta), np.nan)
        G = self._gradient_pieces(ev)
        J = self._jac(ev)
        out: np.ndarray = J.reshape(J.shape[0], -1) @ G.reshape(-1)
        return out

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """``dSigma/dtheta_i``, shape ``(k, m, m)`` (closed form where available)."""
        return self.derivs.jacobian(np.asarray(theta, dtype=float))

    def sigma_hessian(self, theta: np.ndarray) -> np.ndarray:
        """``d2Sigma/dtheta_i dtheta_j``, shape ``(k, k, m, m)``."""
        return self.derivs.hessian(np.asarray(theta, dtype=float))

    def zz(self, ev: _Eval) -> np.ndarray:
        """``sum_n (Omega X_n)[a, p] (Omega X_n)[b, q]`` per pattern, ``[s, a, p, b, q]``."""
        return np.einsum("sac,scpdq,sbd->sapbq", ev.Omega, self.XX, ev.Omega, optimize=True)

    def zz_sum(self, ev: _Eval) -> np.ndarray:
        """``sum_n (Omega X_n)[a, p] (Omega X_n)[b, q]`` over all subjects, ``[a, b, p, q]``."""
        if ev.ZZsum is None:
            m, p = self.m, self.p
            S = len(self.patterns)
            if S * m**3 * p * p <= 4_000_000:  # small: one batched product on padded arrays
                if self._XXpad is None:
                    self._XXpad = self._padded(self._XXcat).reshape(S, m, m * p * p)
                Om = ev.Omega
                Y1 = np.matmul(Om, self._XXpad).reshape(S, m, m, p * p)
                ev.ZZsum = np.matmul(Om[:, None], Y1).sum(axis=0).reshape(m, m, p, p)
                return ev.ZZsum
            out = np.zeros((m, m, p * p))
            for s, o in enumerate(self.patterns):
                ix, ms = self._ix[s], len(o)
                Om = ev.Omega[s][ix]
                Y1 = (Om @ self._XXc[s]).reshape(ms, ms, p * p)
                out[ix] += np.matmul(Om, Y1)  # [a, b, x] (Omega symmetric)
            ev.ZZsum = out.reshape(m, m, p, p)
        return ev.ZZsum

    def zz_blocks(self, ev: _Eval) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Per pattern: (observed visits ``o``, ``sum_n (Omega X_n)[a, p] (Omega X_n)[b, q]``
        on ``o``, shape ``(m_s, m_s, p * p)``, ``[a, b, (p, q)]``).
        """
        p = self.p
        for s, o in enumerate(self.patterns):
            ms = len(o)
            Om = ev.Omega[s][self._ix[s]]
            Y1 = (Om @ self._XXc[s]).reshape(ms, ms, p * p)
            yield o, np.matmul(Om, Y1)

    def b_matrices(self, ev: _Eval, dS: np.ndarray, ZZ: np.ndarray | None = None) -> np.ndarray:
        """``B_i = X' Omega Sigma_i Omega X``, shape ``(k, p, p)``.

        ``ZZ`` is the per-pattern array of :meth:`zz` (optional).
        """
        k, p, m = dS.shape[0], self.p, self.m
        if ZZ is not None:
            out: np.ndarray = np.einsum("iab,apbq->ipq", dS, ZZ.sum(axis=0), optimize=True)
            return out
        Z = self.zz_sum(ev).reshape(m * m, p * p)
        return (dS.reshape(k, m * m) @ Z).reshape(k, p, p)

    def b_matrices_at(self, ev: _Eval) -> np.ndarray:
        """:meth:`b_matrices` for the Jacobian at ``ev``'s theta, computed once per theta
        (the REML Hessian, the Satterthwaite Jacobian and Kenward-Roger's ``P`` share it).
        """
        if ev.B is None:
            ev.B = self.b_matrices(ev, self._jac(ev))
        return ev.B

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Exact Hessian of :meth:`objective` (see the module docstring)."""
        key = np.asarray(theta, dtype=float).tobytes()
        cached = self._hess_cache.get(key)
        if cached is None:
            cached = self._hess_cache[key] = self._hessian(theta)
            if len(self._hess_cache) > 4:
                self._hess_cache.popitem(last=False)
        else:
            self._hess_cache.move_to_end(key)
        return cached.copy()

    def _hessian(self, theta: np.ndarray) -> np.ndarray:
        ev = self.evaluate(theta)
        if not ev.ok:
            k = np.size(theta)
            return np.full((k, k), np.nan)
        m, p = self.m, self.p
        G = self._gradient_pieces(ev)
        J = self._jac(ev)
        k = J.shape[0]
        Jf = J.reshape(k, m * m)
        H = self.derivs.contract_hessian(G, ev.theta)
        assert ev.S is not None
        E = -self.n_per_pattern[:, None, None] * ev.Omega + 2.0 * ev.S
        if self.reml:
            assert ev.OMO is not None
            E = E + 2.0 * ev.OMO
        S = len(self.patterns)
        # K[(a, b), (c, d)] = sum_s Omega_s[b, c] E_s[d, a]
        T = (ev.Omega.reshape(S, m * m).T @ E.reshape(S, m * m)).reshape(m, m, m, m)
        K = T.transpose(3, 0, 1, 2).reshape(m * m, m * m)
        H += Jf @ K @ Jf.T
        # e_i = X' Omega Sigma_i Omega r
        XR = np.zeros((S * m * m, p))  # sum_n X_n[a, p] r_n[b], zero padded
        XR[self._cidx] = self._Xycat - self._xx_beta(ev.beta)
        XRt = XR.reshape(S, m, m, p).transpose(0, 3, 1, 2)  # [s, p, a, b]
        Om = ev.Omega[:, None]
        ZR = np.matmul(np.matmul(Om, XRt), Om).sum(axis=0)  # [p, a, b]
        e = Jf @ ZR.reshape(p, m * m).T  # (k, p)
        H -= 2.0 * e @ ev.Ainv @ e.T
        if self.reml:
            B = self.b_matrices_at(ev)
            C = np.linalg.cholesky(ev.Ainv)
            CB = np.matmul(np.matmul(C.T, B), C).reshape(k, p * p)
            H -= CB @ CB.T
        return 0.5 * (H + H.T)

    def expected_information(self, theta: np.ndarray) -> np.ndarray:
        """Expected (Fisher) information of ``-2 log L`` under ML, ``(k, k)``.

        ``I_ij = sum_s n_s tr(Omega_s Sigma_i Omega_s Sigma_j)`` (Jennrich &
        Schluchter 1986, doi:10.2307/2530695): the exact Hessian's ``K`` term with
        ``E_s`` replaced by its expectation ``n_s Omega_s``, without the terms that
        need the fixed-effects statistics. Positive definite wherever ``Sigma`` is
        and its Jacobian has full rank; it costs ``O(patterns * m^4 + k m^4)``,
        a fraction of one exact Hessian, and serves as the quasi-Newton start.
        """
        ev = self.evaluate(theta)
        if not ev.ok:
            k = np.size(theta)
            return np.full((k, k), np.nan)
        m, S = self.m, len(self.patterns)
        Jf = self._jac(ev).reshape(-1, m * m)
        Om = ev.Omega.reshape(S, m * m)
        # K[(a, b), (c, d)] = sum_s n_s Omega_s[b, c] Omega_s[d, a]
        T = (Om.T @ (self.n_per_pattern[:, None] * Om)).reshape(m, m, m, m)
        K = T.transpose(3, 0, 1, 2).reshape(m * m, m * m)
        info: np.ndarray = Jf @ K @ Jf.T
        return 0.5 * (info + info.T)

    # ------------------------------------------------------------------ fitting
    def start(self) -> np.ndarray:
        """Starting theta from the covariance of OLS residuals (pairwise complete)."""
        m = self.m
        diag = (self._cidx % (m * m)) % (m + 1) == 0  # rows with a == b
        A = self._xx_tdot(diag.astype(float)).reshape(self.p, self.p)
        b = self._Xycat[diag].sum(axis=0)
        beta = np.linalg.lstsq(A, b, rcond=None)[0]
        RR = self._resid_cp(beta).sum(axis=0)
        cnt = np.einsum("s,sab->ab", self.n_per_pattern, self._mask2.astype(float))
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = RR / cnt
        dof = max(1.0 - self.p / max(self.n_obs, 1), 0.1)
        cov = np.where(cnt > 1, cov, 0.0) / dof
        diag = np.diag(cov).copy()
        good = diag > 0
        fill = float(np.mean(diag[good])) if good.any() else 1.0
        diag[~good] = fill
        cov[np.diag_indices(m)] = diag
        # shrink off-diagonals until positive definite
        d = np.sqrt(diag)
        corr = cov / np.outer(d, d)
        np.fill_diagonal(corr, 1.0)
        corr = np.clip(corr, -0.95, 0.95)
        np.fill_diagonal(corr, 1.0)
        for shrink in (1.0, 0.8, 0.5, 0.2, 0.0):
            c = shrink * corr + (1 - shrink) * np.eye(m)
            if np.linalg.eigvalsh(c).min() > 1e-6:
                break
        cov = c * np.outer(d, d)
        return np.asarray(self.structure.start(cov, m), dtype=float)

    def fit(
        self,
        theta0: np.ndarray | None = None,
        method: str = "newton",
        optimizers: Sequence[str] | None = None,
    ) -> tuple[np.ndarray, OptimizerInfo]:
        """Minimise the objective (with one BLAS thread, see :func:`single_thread_blas`).

        ``method="newton"`` (default): the engine's damped Newton iteration with
        the exact Hessian, then, should it fail, the scipy chain below.
        ``method="trust-exact"``: only the scipy chain (trust-region Newton,
        L-BFGS-B, BFGS, Nelder-Mead), each started where the previous stopped.

        ``optimizers`` (names of :data:`OPTIMIZERS`, see :func:`resolve_optimizers`)
        replaces the chain by mmrm's procedure: the first optimiser runs from
        ``theta0``; if it does not converge, every other one runs from where
        the first stopped (mmrm's ``refit_multiple_optimizers``) and the
        converged run with the smallest ``-2 log L`` is kept. Every run is
        reported in ``attempts``.
        """
        with single_thread_blas():
            if optimizers is not None:
                return self._fit_listed(theta0, tuple(optimizers))
            return self._fit(theta0, method)

    def _run_one(self, name: str, x0: np.ndarray) -> tuple[np.ndarray, float, int, str]:
        """One optimiser from ``x0``: (theta, objective, iterations, message)."""
        if name == "newton":
            x, nit, msg = self._newton(x0)
            return x, self.objective(x), nit, msg
        table: dict[str, dict[str, Any]] = {
            "trust-exact": {
                "jac": self.gradient,
                "hess": self.hessian,
                "options": {"gtol": 1e-9, "maxiter": 150},
            },
            "trust-ncg": {
                "jac": self.gradient,
                "hess": self.hessian,
                "options": {"gtol": 1e-9, "maxiter": 300},
            },
            "L-BFGS-B": {
                "jac": self.gradient,
                "options": {"gtol": 1e-10, "ftol": 1e-15, "maxiter": 2000},
            },
            "BFGS": {"jac": self.gradient, "options": {"gtol": 1e-8, "maxiter": 2000}},
            "CG": {"jac": self.gradient, "options": {"gtol": 1e-8, "maxiter": 5000}},
            "Nelder-Mead": {"options": {"xatol": 1e-10, "fatol": 1e-12, "maxfev": 3000}},
        }
        kwargs = table[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = optimize.minimize(self.objective, x0, method=name, **kwargs)
        return np.asarray(res.x, dtype=float), float(res.fun), int(res.nit), str(res.message)

    def _fit_listed(
        self, theta0: np.ndarray | None, names: tuple[str, ...]
    ) -> tuple[np.ndarray, OptimizerInfo]:
        x0 = self.start() if theta0 is None else np.asarray(theta0, dtype=float)
        if theta0 is None and not math.isfinite(self.objective(x0)):
            x0 = self._fallback_start(x0)
        attempts: list[str] = []
        # (converged, objective, theta, name, iterations, message) of each run
        runs: list[tuple[bool, float, np.ndarray, str, int, str]] = []

        def run(name: str, start: np.ndarray) -> bool:
            try:
                x, fx, nit, msg = self._run_one(name, start)
            except (
                ValueError,
                np.linalg.LinAlgError,
                FloatingPointError,
                UnboundLocalError,
            ) as exc:  # see _fit on scipy's trust-exact
                attempts.append(f"{name}: failed ({exc})")
                return False
            if not math.isfinite(fx):
                attempts.append(f"{name}: failed (non-finite objective; {msg})")
                return False
            ok, gmax, pd = self._check(x)
            if not ok and pd and gmax < 1e-2:  # close: polish with exact Newton steps
                x = self._newton_polish(x)
                fx = self.objective(x)
                ok, gmax, pd = self._check(x)
            attempts.append(
                f"{name}: {msg} (-2logL = {fx:.10g}, max|grad| = {gmax:.2g}, "
                f"{'converged' if ok else 'not converged'})"
            )
            runs.append((ok, fx, x, name, nit, msg))
            return ok

        if not math.isfinite(self.objective(x0)):
            attempts.append("start: Sigma is not positive definite at the start values")
        elif run(names[0], x0):
            _, _, x, name, nit, msg = runs[0]
            _, gmax, pd = self._check(x)
            return x, OptimizerInfo(name, True, nit, gmax, pd, msg, tuple(attempts))
        restart = runs[0][2] if runs else x0
        if math.isfinite(self.objective(restart)):
            for name in names[1:]:
                run(name, restart)
        good = [r for r in runs if r[0]]
        if good:
            _, _, x, name, nit, msg = min(good, key=lambda r: r[1])
            _, gmax, pd = self._check(x)
            return x, OptimizerInfo(name, True, nit, gmax, pd, msg, tuple(attempts))
        if runs:
            _, _, x, name, nit, _ = min(runs, key=lambda r: r[1])
        else:
            x, name, nit = x0, "start", 0
        _, gmax, pd = self._check(x)
        return x, OptimizerInfo(name, False, nit, gmax, pd, "; ".join(attempts), tuple(attempts))

    def _fallback_start(self, x0: np.ndarray) -> np.ndarray:
        """Unit correlations off, a common log-SD: used when ``x0`` gives no finite objective."""
        out = np.zeros_like(x0)
        out[: (self.m if self.structure.heterogeneous else 1)] = math.log(
            max(float(np.std(self.yy.sum(axis=0).diagonal())) ** 0.25, 1e-3)
        )
        return out

    def _fit(self, theta0: np.ndarray | None, method: str) -> tuple[np.ndarray, OptimizerInfo]:
        x0 = self.start() if theta0 is None else np.asarray(theta0, dtype=float)
        if not math.isfinite(self.objective(x0)):
            x0 = self._fallback_start(x0)
        attempts: list[str] = []
        best_x, best_f, best_method, best_nit = x0, self.objective(x0), "start", 0
        if method == "newton" and math.isfinite(best_f):
            x, nit, msg = self._newton(x0)
            fx = self.objective(x)
            if math.isfinite(fx) and fx <= best_f:
                best_x, best_f, best_method, best_nit = x, fx, "newton", nit
            ok, gmax, pd = self._check(best_x)
            attempts.append(f"newton: {msg} (max|grad| = {gmax:.2g})")
            if ok:
                return best_x, OptimizerInfo("newton", True, nit, gmax, pd, msg, tuple(attempts))
        chain: list[tuple[str, dict[str, Any]]] = [
            (
                "trust-exact",
                {
                    "jac": self.gradient,
                    "hess": self.hessian,
                    "options": {"gtol": 1e-9, "maxiter": 150},
                },
            ),
            (
                "L-BFGS-B",
                {"jac": self.gradient, "options": {"gtol": 1e-10, "ftol": 1e-15, "maxiter": 2000}},
            ),
            ("BFGS", {"jac": self.gradient, "options": {"gtol": 1e-8, "maxiter": 2000}}),
            ("Nelder-Mead", {"options": {"xatol": 1e-10, "fatol": 1e-12, "maxfev": 3000}}),
        ]
        for name, kwargs in chain:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    res = optimize.minimize(self.objective, best_x, method=name, **kwargs)
                # UnboundLocalError: scipy's trust-exact subproblem solver on a non-finite
                # Hessian (scipy/optimize/_trustregion_exact.py, 'p' never assigned)
                except (
                    ValueError,
                    np.linalg.LinAlgError,
                    FloatingPointError,
                    UnboundLocalError,
                ) as exc:
                    attempts.append(f"{name}: failed ({exc})")
                    continue
            if math.isfinite(res.fun) and res.fun <= best_f:
                best_x, best_f, best_method, best_nit = res.x, float(res.fun), name, int(res.nit)
            ok, gmax, pd = self._check(best_x)
            attempts.append(f"{name}: {res.message} (max|grad| = {gmax:.2g})")
            if ok:
                # polish with Newton steps using the exact Hessian
                best_x = self._newton_polish(best_x)
                ok, gmax, pd = self._check(best_x)
                return best_x, OptimizerInfo(
                    best_method, True, best_nit, gmax, pd, str(res.message), tuple(attempts)
                )
        ok, gmax, pd = self._check(best_x)
        return best_x, OptimizerInfo(
            best_method, False, best_nit, gmax, pd, "; ".join(attempts), tuple(attempts)
        )

    def _newton(self, x0: np.ndarray, maxiter: int = 200) -> tuple[np.ndarray, int, str]:
        """Damped Newton with the exact Hessian; returns (theta, iterations, message).

        Where the Hessian is not positive definite the step uses its absolute
        eigenvalues (floored); steps are capped at 5 units in any coordinate
        (theta is on log / Fisher-z-like scales) and backtracked until the
        objective decreases (Armijo). Stops when the Newton decrement falls
        below 1e-14 with a positive definite Hessian, or after 6 consecutive
        steps once it is below 1e-8.
        """
        x = np.asarray(x0, dtype=float)
        f = self.objective(x)
        close = 0
        it0 = 0
        if x.size >= _QUASI_NEWTON_MIN_PARAMS:
            x, f, it0 = self._quasi_newton(x, f)
        for it in range(it0 + 1, maxiter + 1):
            g = self.gradient(x)
            H = self.hessian(x)
            if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
                return x, it, "non-finite derivatives"
            pd = True
            try:
                c = np.linalg.cholesky(H)
                step = np.linalg.solve(c.T, np.linalg.solve(c, g))
            except np.linalg.LinAlgError:
                pd = False
                w, U = np.linalg.eigh(H)
                floor = 1e-8 * max(1.0, float(np.max(np.abs(w))))
                step = U @ ((U.T @ g) / np.maximum(np.abs(w), floor))
            dec = float(g @ step)
            if pd and dec < 1e-14:
                return x, it, "converged (Newton decrement < 1e-14)"
            if pd and dec < 1e-8:
                close += 1
                if close > 6:
                    return x, it, "converged (Newton decrement < 1e-8)"
                xn = x - step
                fn = self.objective(xn)
                if not fn <= f + 1e-12 * abs(f):
                    return x, it, "converged (no further decrease)"
                x, f = xn, fn
                continue
            big = float(np.max(np.abs(step)))
            if big > 5.0:
                step = step * (5.0 / big)
                dec = float(g @ step)
            if not dec > 0:
                return x, it, "no descent direction"
            t = 1.0
            while True:
                xn = x - t * step
                fn = self.objective(xn)
                if fn <= f - 1e-4 * t * dec:
                    break
                t *= 0.5
                if t < 1e-10:
                    return x, it, "line search failed"
            x, f = xn, fn
        return x, maxiter, "iteration limit"

    def _quasi_newton(
        self, x: np.ndarray, f: float, maxiter: int = 60
    ) -> tuple[np.ndarray, float, int]:
        """BFGS steps from the expected information at ``x`` until close to the optimum.

        With many covariance parameters (105 for ``us`` over 14 visits) one exact
        Hessian costs as much as a dozen objective evaluations; BFGS updates of the
        Fisher information (:meth:`expected_information`, cheap) reach the
        neighbourhood of the optimum (Newton decrement below 1e-8 under the
        approximation) for a few gradients each, and the exact Newton steps of
        :meth:`_newton` then finish (usually two Hessians, the last of which the
        inference reuses). Returns ``(theta, objective, iterations)``; the
        iterations count toward the limit.
        """
        H = self.expected_information(x)
        g = self.gradient(x)
        if not (np.all(np.isfinite(H)) and np.all(np.isfinite(g))):
            return x, f, 0
        try:
            np.linalg.cholesky(H)
        except np.linalg.LinAlgError:  # not positive definite: leave it to damped Newton
            return x, f, 0
        B = 0.5 * (H + H.T)
        for it in range(1, maxiter + 1):
            try:
                c = np.linalg.cholesky(B)
            except np.linalg.LinAlgError:
                return x, f, it
            step = np.linalg.solve(c.T, np.linalg.solve(c, g))
            dec = float(g @ step)
            if not dec > 0 or dec < _QN_FINAL_DECREMENT:
                return x, f, it
            big = float(np.max(np.abs(step)))
            if big > 5.0:
                step = step * (5.0 / big)
                dec = float(g @ step)
            if dec < 1e-8:
                # near the optimum the decrease is below the objective's rounding: take
                # the full step unless the objective clearly rises (as the Newton phase)
                xn = x - step
                fn = self.objective(xn)
                if not fn <= f + 1e-12 * abs(f):
                    return x, f, it
            else:
                t = 1.0
                while True:
                    xn = x - t * step
                    fn = self.objective(xn)
                    if fn <= f - 1e-4 * t * dec:
                        break
                    t *= 0.5
                    if t < 1e-6:
                        return x, f, it
            gn = self.gradient(xn)
            if not np.all(np.isfinite(gn)):
                return x, f, it
            sv, yv = xn - x, gn - g
            sy = float(sv @ yv)
            if sy > 1e-12 * float(np.linalg.norm(sv) * np.linalg.norm(yv)):  # keep B pd
                Bs = B @ sv
                B = B - np.outer(Bs, Bs) / float(sv @ Bs) + np.outer(yv, yv) / sy
            x, f, g = xn, fn, gn
        return x, f, maxiter

    def _check(self, theta: np.ndarray) -> tuple[bool, float, bool]:
        ev = self.evaluate(theta)
        if not ev.ok:
            return False, math.inf, False
        g = self.gradient(theta)
        gmax = float(np.max(np.abs(g))) if g.size else 0.0
        H = self.hessian(theta)
        try:
            eig = np.linalg.eigvalsh(H)
            pd = bool(np.all(np.isfinite(eig)) and eig.min() > 1e-10 * max(1.0, eig.max()))
        except np.linalg.LinAlgError:
            pd = False
        # scale-free criterion: Newton decrement, plus a loose absolute bound
        if pd:
            dec = float(g @ np.linalg.solve(H, g))
            ok = dec < 1e-8 and gmax < 1e-3
        else:
            ok = False
        return ok, gmax, pd

    def _newton_polish(self, theta: np.ndarray) -> np.ndarray:
        x = np.asarray(theta, dtype=float)
        for _ in range(5):
            g = self.gradient(x)
            H = self.hessian(x)
            try:
                step = np.linalg.solve(H, g)
            except np.linalg.LinAlgError:
                break
            if float(g @ step) < 1e-14:  # Newton decrement: already at the optimum
                break
            f0 = self.objective(x)
            t = 1.0
            while t > 1e-4:
                xn = x - t * step
                if self.objective(xn) <= f0 + 1e-12 * abs(f0):
                    break
                t *= 0.5
            else:
                break
            x = xn
            if float(g @ step) < 1e-20:
                break
        return x
