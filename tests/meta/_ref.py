"""Shared helpers for the metafor reference tests (field names and tolerances)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: metafor output name -> MetaAnalysisResult attribute
FIELDS: dict[str, str] = {
    "estimate": "estimate",
    "se": "se",
    "ci_low": "ci_low",
    "ci_high": "ci_high",
    "stat": "statistic",
    "p": "p_value",
    "tau2": "tau2",
    "se_tau2": "se_tau2",
    "I2": "i2",
    "H2": "h2",
    "Q": "q",
    "Q_p": "q_p",
    "pi_low": "pi_low",
    "pi_high": "pi_high",
}
CI_FIELDS: dict[str, str] = {
    "tau2_ci_low": "tau2_ci_low",
    "tau2_ci_high": "tau2_ci_high",
    "I2_ci_low": "i2_ci_low",
    "I2_ci_high": "i2_ci_high",
    "H2_ci_low": "h2_ci_low",
    "H2_ci_high": "h2_ci_high",
}
#: R's uniroot(tol = .Machine$double.eps^0.25) stops within this distance of the root
UNIROOT_TOL = float(np.finfo(float).eps) ** 0.25


def close(ours: float, ref: Any, rtol: float, atol: float = 0.0) -> bool:
    """``ours`` equals the reference (None = NA) within the tolerances."""
    if ref is None:
        return bool(np.isnan(ours))
    return bool(abs(ours - float(ref)) <= atol + rtol * abs(float(ref)))
