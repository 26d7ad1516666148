"""Shared helpers of the single-case effect-size indices (input checks, result building).

Every index function (``_overlap``, ``_nap_tau``, ``_tau_u``, ``_tau_bc``,
``_parametric``) takes the baseline (phase A) and treatment (phase B)
observations in session order and returns an
:class:`~rehabstats._results.EffectSizeResult` with ``n_x`` = number of
treatment observations and ``n_y`` = number of baseline observations (the
treatment/control convention of the whole library). Defaults reproduce the
numbers of the R package SingleCaseES 0.7.4 (Pustejovsky, Chen, Swan & Grekov);
options reproduce the variants of scan 0.67.1 (Wilbert & Lueke).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import stats

from .._results import EffectSizeResult
from .._validate import as_float_array, check_ci, check_improvement
from ..errors import DataError, RehabStatsWarning

__all__ = [
    "as_phase_arrays",
    "check_optional_ci",
    "make_result",
    "orient",
    "pow2_unit",
    "sd",
    "zcrit",
]


def as_phase_arrays(
    baseline: Any, treatment: Any, improvement: Any, *, min_size: int = 1, stacklevel: int = 4
) -> tuple[np.ndarray, np.ndarray, str, int]:
    """Validate the two phases and the direction.

    Returns new float arrays with missing values dropped (each dropped value is
    announced by a :class:`~rehabstats.errors.RehabStatsWarning`), the checked
    improvement and the number of values omitted.
    """
    improvement = check_improvement(improvement)
    a, na = as_float_array(baseline, "baseline", min_size=0, stacklevel=stacklevel)
    b, nb = as_float_array(treatment, "treatment", min_size=0, stacklevel=stacklevel)
    for name, arr in (("baseline", a), ("treatment", b)):
        if arr.size < min_size:
            raise DataError(
                f"The {name} phase needs at least {min_size} non-missing observation(s); "
                f"got {arr.size}."
            )
    return a, b, improvement, na + nb


def orient(a: np.ndarray, b: np.ndarray, improvement: str) -> tuple[np.ndarray, np.ndarray]:
    """Negate both phases when a decrease is the improvement (SingleCaseES convention)."""
    if improvement == "decrease":
        return -a, -b
    return a, b


def pow2_unit(*arrays: np.ndarray) -> float:
    """A power of two near the largest |value| of the arrays (1.0 when all are 0).

    Dividing by it is exact, so scale-free statistics computed in these units
    change no digit at ordinary magnitudes while data of magnitude 1e300 (1e-300)
    no longer overflow (underflow) when squared.
    """
    big = max((float(np.max(np.abs(x))) for x in arrays if np.size(x)), default=0.0)
    if not big > 0 or not math.isfinite(big):
        return 1.0
    return float(np.ldexp(1.0, int(np.frexp(big)[1])))


def sd(x: np.ndarray) -> float:
    """Sample SD (n - 1), overflow-safe for data of any magnitude; NaN below 2 values."""
    if x.size < 2:
        return math.nan
    unit = pow2_unit(x)
    return float(np.std(x / unit, ddof=1)) * unit


def check_optional_ci(ci: Any) -> float | None:
    """``None`` (no interval) or a confidence level strictly between 0 and 1."""
    if ci is None:
        return None
    return check_ci(ci)


def zcrit(level: float) -> float:
    """Two-sided standard-normal critical value for a confidence level."""
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def make_result(
    measure: str,
    estimate: float,
    *,
    se: float | None = None,
    ci: tuple[float, float] | None = None,
    ci_level: float | None = None,
    ci_method: str = "none",
    n_baseline: int,
    n_treatment: int,
    n_omitted: int = 0,
    details: Mapping[str, Any] | None = None,
    reason: str | None = None,
    warn: bool = True,
    stacklevel: int = 3,
) -> EffectSizeResult:
    """Build an :class:`EffectSizeResult` (``n_x`` = treatment n, ``n_y`` = baseline n).

    ``se=None`` means the index has no standard error (stored as NaN). When the
    estimate, a standard error that the index has, or a requested interval is not
    finite, a :class:`~rehabstats.errors.RehabStatsWarning` says which and why
    (``reason``), unless ``warn=False`` (the caller has already warned).
    """
    low, high = ci if ci is not None else (math.nan, math.nan)
    bad = [
        name
        for name, value, wanted in (
            ("estimate", estimate, True),
            ("standard error", se, se is not None),
            ("confidence interval", low, ci is not None),
            ("confidence interval", high, ci is not None),
        )
        if wanted and not math.isfinite(float(value if value is not None else math.nan))
    ]
    if bad and warn:
        shown = ", ".join(dict.fromkeys(bad))
        why = reason or "the data are degenerate for this index"
        warnings.warn(
            f"{measure}: the {shown} is not finite ({why}).",
            RehabStatsWarning,
            stacklevel=stacklevel,
        )
    return EffectSizeResult(
        measure=measure,
        estimate=float(estimate),
        se=float(se) if se is not None else math.nan,
        ci_low=float(low),
        ci_high=float(high),
        ci_level=float(ci_level) if ci_level is not None else math.nan,
        ci_method=ci_method if ci is not None else "none",
        n_x=int(n_treatment),
        n_y=int(n_baseline),
        n_omitted=int(n_omitted),
        details=dict(details or {}),
    )
