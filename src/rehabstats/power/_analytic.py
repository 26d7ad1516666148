"""Analytic power: noncentral t (t test, ANCOVA) and Lu, Luo & Chen (2008) for MMRM."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from scipy import stats

from .._validate import show_value
from ..errors import DesignError

__all__ = ["ancova_power", "mmrm_phi", "mmrm_power", "mmrm_sample_size", "ttest_power"]


def _finite(value: Any, name: str) -> float:
    """A finite real number (not a bool, text or missing value)."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
    ):
        raise DesignError(f"'{name}' must be a finite number; got {show_value(value)}.")
    return float(value)


def _positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    v = _finite(value, name)
    if v < 0 or (v == 0 and not allow_zero):
        raise DesignError(
            f"'{name}' must be {'>= 0' if allow_zero else '> 0'}; got {show_value(value)}."
        )
    return v


def _alpha(alpha: Any) -> float:
    a = _positive(alpha, "alpha")
    if not 0 < a < 1:
        raise DesignError(f"'alpha' must be between 0 and 1; got {show_value(alpha)}.")
    return a


def _noncentral_t_power(ncp: float, df: float, alpha: float) -> float:
    """Two-sided power of the t test; ``|ncp| > 1e4`` is power 1 to double precision (for
    df >= 1 the miss probability is below 1e-300) and df > 1e7 uses the normal limit, where
    scipy's noncentral t returns NaN.
    """
    if not math.isfinite(ncp):  # pragma: no cover - inputs are checked finite and below 1e308
        raise DesignError("The standardised difference delta / (sd * sqrt(2 / n)) is not finite.")
    if abs(ncp) > 1e4:
        return 1.0
    if df > 1e7:
        z = float(stats.norm.isf(alpha / 2))
        return float(stats.norm.sf(z - ncp) + stats.norm.cdf(-z - ncp))
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, ncp) + stats.nct.cdf(-crit, df, ncp))


def ttest_power(*, n_per_arm: Any, delta: float, sd: float = 1.0, alpha: float = 0.05) -> float:
    r"""Power of the two-sided two-sample Student t test (equal arms).

    .. math:: \lambda = \frac{\delta}{\sigma\sqrt{2/n}},\quad \nu = 2n - 2,\quad
       \text{power} = P(T_{\nu,\lambda} > t_{1-\alpha/2,\nu}) + P(T_{\nu,\lambda} < -t_{1-\alpha/2,\nu})

    with :math:`T_{\nu,\lambda}` noncentral t (as R's ``power.t.test`` with
    ``strict = TRUE``).

    Parameters
    ----------
    n_per_arm : int or float
        Subjects per arm (>= 2).
    delta : float
        True difference of the means.
    sd : float, optional
        Common SD of the outcome.
    alpha : float, optional
        Two-sided significance level.

    Returns
    -------
    float

    Examples
    --------
    >>> from rehabstats.power import ttest_power
    >>> round(ttest_power(n_per_arm=20, delta=1.0, sd=1.0), 4)
    0.869
    """
    n = _positive(n_per_arm, "n_per_arm")
    if n < 2:
        raise DesignError(f"'n_per_arm' must be at least 2; got {show_value(n_per_arm)}.")
    d = _finite(delta, "delta")
    s = _positive(sd, "sd")
    a = _alpha(alpha)
    return _noncentral_t_power((d / s) * math.sqrt(n / 2.0), 2 * n - 2, a)


def ancova_power(
    *, n_per_arm: Any, delta: float, sd: float = 1.0, rho: float, alpha: float = 0.05
) -> float:
    r"""Power of the ANCOVA arm comparison adjusted for the baseline (equal arms).

    The residual variance of the outcome given the baseline is
    :math:`(1-\rho^2)\sigma^2`, so

    .. math:: \lambda = \frac{\delta}{\sigma\sqrt{1-\rho^2}\sqrt{2/n}},\quad
       \nu = 2n - 3

    and the power is that of the noncentral t as in :func:`ttest_power`
    (Borm, Fransen & Lemmens 2007, doi:10.1016/j.jclinepi.2007.02.006). It
    ignores the small loss from estimating the slope (chance imbalance of the
    baseline), so it slightly overstates power in very small trials.

    Parameters
    ----------
    n_per_arm : int or float
        Subjects per arm (>= 2).
    delta : float
        True adjusted difference.
    sd : float, optional
        SD of the outcome (the same at baseline and follow-up).
    rho : float
        Correlation of baseline and outcome, ``-1 < rho < 1``.
    alpha : float, optional
        Two-sided significance level.

    Examples
    --------
    >>> from rehabstats.power import ancova_power
    >>> round(ancova_power(n_per_arm=20, delta=1.0, sd=1.0, rho=0.6), 4)
    0.9705
    """
    n = _positive(n_per_arm, "n_per_arm")
    if n < 2:
        raise DesignError(f"'n_per_arm' must be at least 2; got {show_value(n_per_arm)}.")
    d = _finite(delta, "delta")
    if isinstance(rho, bool) or not isinstance(rho, numbers.Real) or not -1 < rho < 1:
        raise DesignError(
            f"'rho' must be a correlation between -1 and 1 (exclusive); got {show_value(rho)}."
        )
    s = _positive(sd, "sd") * math.sqrt(1.0 - float(rho) ** 2)
    return _noncentral_t_power((d / s) * math.sqrt(n / 2.0), 2 * n - 3, _alpha(alpha))


def _corr_retention(correlation: Any, retention: Any) -> tuple[np.ndarray, np.ndarray]:
    from ..design._parallel import _correlation_matrix

    try:
        ret = np.asarray(retention, dtype=float).ravel()
    except (TypeError, ValueError):
        raise DesignError(
            f"'retention' must be proportions; got {show_value(retention)}."
        ) from None
    m = ret.size
    if m < 1 or not np.isfinite(ret).all():
        raise DesignError(
            f"'retention' must be finite proportions per visit; got {show_value(retention)}."
        )
    if ret[0] != 1 or (ret > 1).any() or (ret <= 0).any():
        raise DesignError(
            f"'retention' must start at 1 and stay in (0, 1]; got {show_value(retention)}."
        )
    if (np.diff(ret) > 0).any():
        raise DesignError(
            f"'retention' must be non-increasing (monotone dropout); got {show_value(retention)}."
        )
    R = _correlation_matrix(correlation, m)
    return R, ret


def mmrm_phi(correlation: Any, retention: Any) -> float:
    r"""Variance inflation :math:`\phi` of Lu, Luo & Chen (2008) at the last visit.

    :math:`I = \sum_j (r_j - r_{j+1}) P_j` (:math:`r_{J+1} = 0`), with
    :math:`P_j` holding :math:`R_{[1:j,1:j]}^{-1}` in its leading block;
    :math:`\phi = [I^{-1}]_{JJ}`. Without dropout :math:`\phi = 1`.

    Examples
    --------
    >>> from rehabstats.power import mmrm_phi
    >>> mmrm_phi(("cs", 0.5), [1, 1, 1])
    1.0
    """
    R, ret = _corr_retention(correlation, retention)
    return _phi(R, ret)


def _phi(R: np.ndarray, ret: np.ndarray) -> float:
    m = ret.size
    r = np.append(ret, 0.0)
    info = np.zeros((m, m))
    for j in range(1, m + 1):  # one term per dropout pattern (m visits)
        block = np.zeros((m, m))
        block[:j, :j] = np.linalg.inv(R[:j, :j])
        info += (r[j - 1] - r[j]) * block
    return float(np.linalg.inv(info)[-1, -1])


def _sd_last(sd: Any, m: int) -> float:
    try:
        arr = np.asarray(sd, dtype=float).ravel()
    except (TypeError, ValueError):
        raise DesignError(f"'sd' must be a positive number; got {show_value(sd)}.") from None
    if arr.size == 1:
        return _positive(float(arr[0]), "sd")
    raise DesignError(
        f"'sd' must be one number (the SD at the last visit, as longpower's sigmaa); got {show_value(sd)}."
    )


def mmrm_power(
    *,
    n_per_arm: Any,
    correlation: Any,
    retention: Any,
    sd: float,
    delta: float,
    alpha: float = 0.05,
) -> float:
    r"""Power of the MMRM arm comparison at the last visit (Lu, Luo & Chen 2008).

    For two arms of ``n`` subjects with the same correlation ``R``, retention
    :math:`r_j` (monotone dropout, missing at random) and SD :math:`\sigma`,
    the variance of the last-visit difference is :math:`2\phi\sigma^2/n` with
    :math:`\phi` from :func:`mmrm_phi`, and (normal approximation, upper tail
    only, as R's ``longpower::power.mmrm``)

    .. math:: \text{power} = \Phi\left(\sqrt{\frac{n\,\delta^2}{2\phi\sigma^2}}
       - z_{1-\alpha/2}\right).

    Assumptions: 1:1 allocation, monotone dropout whose probabilities do not
    depend on unobserved outcomes, known covariance (no small-sample df),
    :math:`\sigma` the SD at the last visit.

    Parameters
    ----------
    n_per_arm : float
        Subjects per arm (> 0).
    correlation : tuple or array_like
        ``("cs", r)``, ``("ar1", rho)``, ``("toep", [...])`` or a full matrix.
    retention : sequence of float
        Share observed at each visit (first 1, non-increasing).
    sd : float
        SD at the last visit.
    delta : float
        Arm difference at the last visit.
    alpha : float, optional
        Two-sided significance level.

    Returns
    -------
    float

    References
    ----------
    Lu, K., Luo, X., & Chen, P.-Y. (2008). Sample size estimation for repeated
    measures analysis in randomized clinical trials with missing data.
    *Int J Biostat* 4(1), Article 9. doi:10.2202/1557-4679.1098

    Examples
    --------
    >>> from rehabstats.power import mmrm_power
    >>> round(mmrm_power(n_per_arm=30, correlation=("ar1", 0.5), retention=[1, 0.9, 0.85],
    ...                  sd=1.0, delta=0.8), 6)
    0.822596
    """
    n = _positive(n_per_arm, "n_per_arm")
    R, ret = _corr_retention(correlation, retention)
    s = _sd_last(sd, ret.size)
    a = _alpha(alpha)
    d = abs(_finite(delta, "delta"))
    phi = _phi(R, ret)
    # (d / s) sqrt(n / (2 phi)): the ratio first, so that no square can overflow
    return float(stats.norm.cdf((d / s) * math.sqrt(n / (2.0 * phi)) - stats.norm.ppf(1 - a / 2)))


def mmrm_sample_size(
    *, power: float, correlation: Any, retention: Any, sd: float, delta: float, alpha: float = 0.05
) -> float:
    r"""Subjects per arm for a target MMRM power (inverse of :func:`mmrm_power`).

    .. math:: n = \frac{2\phi\,(z_{1-\alpha/2} + z_{\text{power}})^2\sigma^2}{\delta^2}

    (not rounded; round up for a plan), as ``longpower::power.mmrm`` with
    ``N = NULL`` (its ``n1``).

    Examples
    --------
    >>> from rehabstats.power import mmrm_sample_size
    >>> round(mmrm_sample_size(power=0.8, correlation=("cs", 0.25),
    ...                        retention=[1, 0.9, 0.8, 0.7], sd=1, delta=0.5), 4)
    86.9918
    """
    p = _positive(power, "power")
    if not 0 < p < 1:
        raise DesignError(f"'power' must be between 0 and 1; got {show_value(power)}.")
    R, ret = _corr_retention(correlation, retention)
    s = _sd_last(sd, ret.size)
    a = _alpha(alpha)
    d = abs(_finite(delta, "delta"))
    if d == 0:
        raise DesignError("'delta' must be nonzero: no sample size detects a zero difference.")
    phi = _phi(R, ret)
    z = stats.norm.ppf(1 - a / 2) + stats.norm.ppf(p)
    ratio = s / d
    if ratio > 1e150:
        raise DesignError(
            f"'sd' / 'delta' = {ratio:.3g}: the sample size would exceed the "
            "floating-point range; check the units of sd and delta."
        )
    return float(2.0 * phi * z * z * ratio * ratio)
