"""Covariance structures for MMRM: a registry of parametrisations.

Each structure maps an unconstrained parameter vector ``theta`` to the
``m x m`` within-subject covariance matrix over the visit levels, with the
same parametrisation as R's mmrm 0.3.18 (so ``theta``, its covariance and the
Kenward-Roger adjustment, which is not invariant to the parametrisation,
agree with mmrm):

``us``
    ``Sigma = L L'``, ``L[i, i] = exp(theta[i])``, ``L[i, j] = exp(theta[i]) *
    theta[m + k]`` for ``j < i`` (row by row, ``k = 0, 1, ...``).
``cs`` / ``csh``
    ``rho = plogis(t) * m / (m - 1) - 1 / (m - 1)`` (so ``rho > -1 / (m - 1)``
    and Sigma is positive definite), ``t`` the last parameter.
``ar1`` / ``ar1h``
    ``rho = t / sqrt(1 + t^2)``, ``corr[i, j] = rho^|i - j|``.
``toep`` / ``toeph``
    one ``rho_d = t_d / sqrt(1 + t_d^2)`` per lag ``d = 1..m-1``.
``ad`` / ``adh`` (first-order ante-dependence)
    ``rho_k = t_k / sqrt(1 + t_k^2)`` between visits ``k`` and ``k + 1``
    (``k = 1..m-1``), ``corr[i, j] = prod_{k=j}^{i-1} rho_k`` for ``j < i``
    (mmrm's ``corr_fun_ante_dependence``; covariance vignette, Gabriel 1962).
``sp_exp`` / ``sp_gau`` (spatial exponential / Gaussian)
    ``Sigma[i, j] = exp(theta[0]) * rho^d_ij`` (``sp_gau``: ``rho^(d_ij^2)``),
    ``rho = plogis(theta[1])`` in (0, 1), ``d_ij`` the Euclidean distance
    between the time coordinates of the two observations. Note that
    ``theta[0]`` is the log *variance*: mmrm's ``get_spatial_exponential``
    multiplies the correlation matrix by ``exp(theta[0])`` before taking its
    Cholesky factor (its covariance vignette writes ``log(sigma)``; the code
    is what fixes ``theta`` and hence Kenward-Roger). A spatial structure is
    bound to the coordinates of the covariance grid with
    :meth:`CovarianceStructure.bind`.

Homogeneous structures start with ``log(sd)`` (spatial ones with the log variance); heterogeneous ones with the
``m`` visit log-SDs. The distance between visits is the position of the visit
level (0, 1, ..., m - 1), as in mmrm.

Derivatives of Sigma with respect to theta are computed by the complex-step
method (exact to rounding error) for first derivatives; second derivatives
(needed only by Kenward-Roger) by central differences of those.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "COVARIANCE_STRUCTURES",
    "SPATIAL_STRUCTURES",
    "CovarianceStructure",
    "get_structure",
    "grouped_structure",
]


def _map_to_cor(t: np.ndarray) -> np.ndarray:
    return t / np.sqrt(1.0 + t * t)


def _cor_to_map(r: np.ndarray) -> np.ndarray:
    r = np.clip(r, -0.95, 0.95)
    return r / np.sqrt(1.0 - r * r)


def _cs_rho(t: np.ndarray, m: int) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-t)) * (m / (m - 1.0)) - 1.0 / (m - 1.0)


def _cs_inverse(rho: float, m: int) -> float:
    lo = -1.0 / (m - 1.0)
    rho = float(np.clip(rho, lo + 0.05 * (1 - lo), 0.95))
    q = (rho - lo) * (m - 1.0) / m
    return float(np.log(q / (1.0 - q)))


@functools.lru_cache(maxsize=64)
def _strict_lower(m: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.tril_indices(m, -1)``, once per size (the objective builds Sigma every step)."""
    rows, cols = np.tril_indices(m, -1)
    rows.flags.writeable = False
    cols.flags.writeable = False
    return rows, cols


def _us(theta: np.ndarray, m: int) -> np.ndarray:
    sd = np.exp(theta[..., :m])
    low = np.zeros((*theta.shape[:-1], m, m), dtype=theta.dtype)
    low[..., np.arange(m), np.arange(m)] = 1.0
    rows, cols = _strict_lower(m)  # row by row, as mmrm fills L
    low[..., rows, cols] = theta[..., m:]
    chol = sd[..., :, None] * low
    return chol @ np.swapaxes(chol, -1, -2)


def _corr_from_lags(rho_lag: np.ndarray, m: int) -> np.ndarray:
    """Correlation matrices with entry rho_lag[..., |i - j| - 1] off the diagonal."""
    idx = np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
    full = np.concatenate([np.ones((*rho_lag.shape[:-1], 1), dtype=rho_lag.dtype), rho_lag], -1)
    return full[..., idx]


def _scale(corr: np.ndarray, theta: np.ndarray, m: int, hetero: bool) -> np.ndarray:
    sd = np.exp(theta[..., :m]) if hetero else np.exp(theta[..., :1]) * np.ones(m)
    return sd[..., :, None] * corr * sd[..., None, :]


def _cs(theta: np.ndarray, m: int, hetero: bool) -> np.ndarray:
    rho = _cs_rho(theta[..., -1:], m)
    lags = rho * np.ones(m - 1)
    return _scale(_corr_from_lags(lags, m), theta, m, hetero)


def _ar1(theta: np.ndarray, m: int, hetero: bool) -> np.ndarray:
    rho = _map_to_cor(theta[..., -1:])
    lags = rho ** np.arange(1, m)
    return _scale(_corr_from_lags(lags, m), theta, m, hetero)


def _toep(theta: np.ndarray, m: int, hetero: bool) -> np.ndarray:
    nsd = m if hetero else 1
    return _scale(_corr_from_lags(_map_to_cor(theta[..., nsd:]), m), theta, m, hetero)


def _ad(theta: np.ndarray, m: int, hetero: bool) -> np.ndarray:
    nsd = m if hetero else 1
    rho = _map_to_cor(theta[..., nsd:])  # (..., m - 1): visit k to k + 1
    corr = np.ones((*theta.shape[:-1], m, m), dtype=theta.dtype)
    for i in range(1, m):
        for j in range(i):
            corr[..., i, j] = corr[..., j, i] = np.prod(rho[..., j:i], axis=-1)
    return _scale(corr, theta, m, hetero)


def _spatial(theta: np.ndarray, dist: np.ndarray, power: int) -> np.ndarray:
    # log(plogis(t)) = -log(1 + exp(-t)), written so complex steps pass through
    log_rho = -np.log(1.0 + np.exp(-theta[..., 1:2]))
    var = np.exp(theta[..., 0:1])
    return var[..., None] * np.exp(dist**power * log_rho[..., None])


def _distances(coords: np.ndarray) -> np.ndarray:
    c = np.asarray(coords, dtype=float).reshape(len(coords), -1)
    diff = c[:, None, :] - c[None, :, :]
    out: np.ndarray = np.sqrt(np.sum(diff * diff, axis=-1))
    return out


def _start_sd(s: np.ndarray, hetero: bool) -> np.ndarray:
    sd = np.sqrt(np.maximum(np.diag(s), 1e-8 * max(float(np.mean(np.diag(s))), 1e-300)))
    return np.log(sd) if hetero else np.array([np.log(np.sqrt(np.mean(sd**2)))])


def _empirical_corr(s: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.maximum(np.diag(s), 1e-300))
    return s / np.outer(d, d)


def _start_us(s: np.ndarray, m: int) -> np.ndarray:
    try:
        chol = np.linalg.cholesky(s)
    except np.linalg.LinAlgError:
        chol = np.diag(np.sqrt(np.maximum(np.diag(s), 1e-8)))
    diag = np.diag(chol)
    rows, cols = np.tril_indices(m, -1)
    return np.concatenate([np.log(diag), chol[rows, cols] / diag[rows]])


def _lag_means(corr: np.ndarray, m: int) -> np.ndarray:
    return np.array([np.mean(np.diag(corr, -d)) for d in range(1, m)])


def _start_cs(s: np.ndarray, m: int, hetero: bool) -> np.ndarray:
    corr = _empirical_corr(s)
    rho = float(np.mean(corr[np.tril_indices(m, -1)]))
    return np.concatenate([_start_sd(s, hetero), [_cs_inverse(rho, m)]])


def _start_ar1(s: np.ndarray, m: int, hetero: bool) -> np.ndarray:
    rho = float(_lag_means(_empirical_corr(s), m)[0])
    return np.concatenate([_start_sd(s, hetero), _cor_to_map(np.array([rho]))])


def _start_toep(s: np.ndarray, m: int, hetero: bool) -> np.ndarray:
    lags = _lag_means(_empirical_corr(s), m)
    # shrink the lag correlations towards an AR(1) decay so the start is PD
    rho1 = float(np.clip(lags[0], -0.9, 0.9))
    ar = rho1 ** np.arange(1, m)
    return np.concatenate([_start_sd(s, hetero), _cor_to_map(0.5 * lags + 0.5 * ar)])


def _start_ad(s: np.ndarray, m: int, hetero: bool) -> np.ndarray:
    corr = _empirical_corr(s)
    lag1 = np.clip(np.diag(corr, -1), -0.9, 0.9)
    return np.concatenate([_start_sd(s, hetero), _cor_to_map(lag1)])


def _start_spatial(s: np.ndarray, dist: np.ndarray, power: int) -> np.ndarray:
    var = float(np.mean(np.diag(s)))
    corr = np.clip(_empirical_corr(s), 0.05, 0.95)
    rows, cols = np.tril_indices(len(s), -1)
    d = dist[rows, cols] ** power
    keep = d > 0
    rho = float(np.exp(np.mean(np.log(corr[rows, cols][keep]) / d[keep]))) if keep.any() else 0.5
    rho = min(max(rho, 0.05), 0.95)
    return np.array([np.log(max(var, 1e-300)), np.log(rho / (1.0 - rho))])


def _unbound(theta: np.ndarray, m: int) -> np.ndarray:
    raise ValueError("a spatial covariance structure needs coordinates: use .bind(coords)")


@dataclass(frozen=True)
class CovarianceStructure:
    """One entry of the registry.

    Attributes
    ----------
    name : str
        mmrm's abbreviation (``"us"``, ``"cs"``, ...).
    description : str
        Human-readable name.
    heterogeneous : bool
        Whether each visit has its own variance.
    n_theta : callable
        ``n_theta(m)``: number of variance parameters for ``m`` visits.
    build : callable
        ``build(theta, m)``: the ``m x m`` covariance matrix (accepts complex theta).
    start : callable
        ``start(S, m)``: starting ``theta`` from an empirical covariance ``S``.
    min_visits : int
        Smallest number of visit levels for which the structure is identified.
    spatial : int
        0 for structures over visit levels; for spatial structures the power
        of the distance in ``rho^(d^power)`` (1 exponential, 2 Gaussian).
    coordinates : numpy.ndarray or None
        Spatial structures: the ``(m, dims)`` coordinates of the covariance
        grid, set by :meth:`bind`.
    groups : int
        1, or the number of groups of a grouped structure (see
        :func:`grouped_structure`).
    base : CovarianceStructure or None
        A grouped structure's per-group structure.
    """

    name: str
    description: str
    heterogeneous: bool
    n_theta: Callable[[int], int]
    build: Callable[[np.ndarray, int], np.ndarray]
    start: Callable[[np.ndarray, int], np.ndarray]
    min_visits: int
    spatial: int = 0
    coordinates: np.ndarray | None = None
    groups: int = 1
    base: CovarianceStructure | None = None

    def bind(self, coordinates: np.ndarray) -> CovarianceStructure:
        """A spatial structure over the points ``coordinates`` (shape ``(m,)`` or ``(m, dims)``).

        ``build(theta, m)`` of the result gives the covariance between those
        ``m`` points (their Euclidean distances); non-spatial structures are
        returned unchanged.
        """
        if not self.spatial:
            return self
        coords = np.asarray(coordinates, dtype=float)
        dist = _distances(coords)
        power = self.spatial
        return replace(
            self,
            build=lambda t, m: _spatial(t, dist, power),
            start=lambda s, m: _start_spatial(s, dist, power),
            coordinates=coords,
        )

    def sigma(self, theta: np.ndarray, m: int) -> np.ndarray:
        """The covariance matrix at ``theta``."""
        return np.real(self.build(np.asarray(theta, dtype=float), m))

    def jacobian(self, theta: np.ndarray, m: int) -> np.ndarray:
        """``dSigma/dtheta_i`` for every ``i``, shape ``(..., k, m, m)``, by complex step.

        ``theta`` may carry leading batch dimensions.
        """
        theta = np.asarray(theta, dtype=float)
        k = theta.shape[-1]
        h = 1e-30
        tc = theta[..., None, :] + 1j * h * np.eye(k)
        return np.imag(self.build(tc, m)) / h

    def hessian(self, theta: np.ndarray, m: int) -> np.ndarray:
        """``d2Sigma/dtheta_i dtheta_j``, shape ``(k, k, m, m)``.

        Central differences of the complex-step first derivatives (relative
        error about 1e-10).
        """
        theta = np.asarray(theta, dtype=float)
        k = theta.size
        steps = 1e-5 * np.maximum(1.0, np.abs(theta))
        shift = np.eye(k) * steps[:, None]
        both = np.concatenate([theta + shift, theta - shift])  # (2k, k)
        jac = self.jacobian(both, m)  # (2k, k, m, m)
        out = (jac[:k] - jac[k:]) / (2 * steps[:, None, None, None])  # [j, i]
        out = np.swapaxes(out, 0, 1)
        return 0.5 * (out + np.swapaxes(out, 0, 1))


COVARIANCE_STRUCTURES: dict[str, CovarianceStructure] = {
    "us": CovarianceStructure(
        "us", "unstructured", True, lambda m: m * (m + 1) // 2, _us, _start_us, 1
    ),
    "cs": CovarianceStructure(
        "cs",
        "compound symmetry",
        False,
        lambda m: 2,
        lambda t, m: _cs(t, m, False),
        lambda s, m: _start_cs(s, m, False),
        2,
    ),
    "csh": CovarianceStructure(
        "csh",
        "heterogeneous compound symmetry",
        True,
        lambda m: m + 1,
        lambda t, m: _cs(t, m, True),
        lambda s, m: _start_cs(s, m, True),
        2,
    ),
    "ar1": CovarianceStructure(
        "ar1",
        "first-order autoregressive",
        False,
        lambda m: 2,
        lambda t, m: _ar1(t, m, False),
        lambda s, m: _start_ar1(s, m, False),
        2,
    ),
    "ar1h": CovarianceStructure(
        "ar1h",
        "heterogeneous first-order autoregressive",
        True,
        lambda m: m + 1,
        lambda t, m: _ar1(t, m, True),
        lambda s, m: _start_ar1(s, m, True),
        2,
    ),
    "toep": CovarianceStructure(
        "toep",
        "Toeplitz",
        False,
        lambda m: m,
        lambda t, m: _toep(t, m, False),
        lambda s, m: _start_toep(s, m, False),
        2,
    ),
    "toeph": CovarianceStructure(
        "toeph",
        "heterogeneous Toeplitz",
        True,
        lambda m: 2 * m - 1,
        lambda t, m: _toep(t, m, True),
        lambda s, m: _start_toep(s, m, True),
        2,
    ),
    "ad": CovarianceStructure(
        "ad",
        "ante-dependence",
        False,
        lambda m: m,
        lambda t, m: _ad(t, m, False),
        lambda s, m: _start_ad(s, m, False),
        2,
    ),
    "adh": CovarianceStructure(
        "adh",
        "heterogeneous ante-dependence",
        True,
        lambda m: 2 * m - 1,
        lambda t, m: _ad(t, m, True),
        lambda s, m: _start_ad(s, m, True),
        2,
    ),
    "sp_exp": CovarianceStructure(
        "sp_exp",
        "spatial exponential",
        False,
        lambda m: 2,
        _unbound,
        _unbound,
        2,
        spatial=1,
    ),
    "sp_gau": CovarianceStructure(
        "sp_gau",
        "spatial Gaussian",
        False,
        lambda m: 2,
        _unbound,
        _unbound,
        2,
        spatial=2,
    ),
}

SPATIAL_STRUCTURES = tuple(k for k, v in COVARIANCE_STRUCTURES.items() if v.spatial)


def _block_diag(blocks: list[np.ndarray]) -> np.ndarray:
    lead = blocks[0].shape[:-2]
    m = blocks[0].shape[-1]
    g = len(blocks)
    out = np.zeros((*lead, g * m, g * m), dtype=np.result_type(*blocks))
    for i, b in enumerate(blocks):
        out[..., i * m : (i + 1) * m, i * m : (i + 1) * m] = b
    return out


def grouped_structure(base: CovarianceStructure, n_groups: int) -> CovarianceStructure:
    """A separate ``base`` covariance per group: mmrm's ``us(visit | group / subject)``.

    The result lives on the grid of ``n_groups * m`` points (group ``g``'s
    visit ``j`` is point ``g * m + j``) with the block-diagonal covariance
    ``diag(Sigma_1, ..., Sigma_G)``; ``theta`` is the concatenation of the
    groups' parameter vectors in group-level order (mmrm's order; SAS
    ``GROUP=``). A subject only has points of its own group, so its
    likelihood uses its group's ``Sigma``.

    Examples
    --------
    >>> import numpy as np
    >>> st = grouped_structure(get_structure("cs"), 2)
    >>> st.n_theta(8), np.diag(st.sigma(np.array([0.0, 0.0, np.log(2.0), 0.0]), 8))
    (4, array([1., 1., 1., 1., 4., 4., 4., 4.]))
    """
    G = int(n_groups)
    if G < 2:
        return base

    def per_group(M: int) -> int:
        if M % G:
            raise ValueError(f"a grouped structure over {M} points needs a multiple of {G}")
        return M // G

    def build(theta: np.ndarray, M: int) -> np.ndarray:
        m = per_group(M)
        k = base.n_theta(m)
        return _block_diag([base.build(theta[..., g * k : (g + 1) * k], m) for g in range(G)])

    def start(S: np.ndarray, M: int) -> np.ndarray:
        m = per_group(M)
        return np.concatenate(
            [
                np.asarray(base.start(S[g * m : (g + 1) * m, g * m : (g + 1) * m], m), dtype=float)
                for g in range(G)
            ]
        )

    return replace(
        base,
        n_theta=lambda M: G * base.n_theta(per_group(M)),
        build=build,
        start=start,
        groups=G,
        base=base,
    )


def get_structure(name: str) -> CovarianceStructure:
    """Look up a structure by mmrm's abbreviation (raises KeyError when unknown)."""
    return COVARIANCE_STRUCTURES[name]
