"""Helpers of the batch (``axis=``) tests: element i of a batch equals the one-sample call.

Shared by ``tests/effect_sizes/test_axis.py`` and ``tests/sced/test_axis.py``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

from rehabstats.errors import DataError, RehabStatsWarning

#: relative tolerance (to ``1 + |value|``) of batch vs one-sample values
TOL = 1e-12
FIELDS = ("estimate", "se", "ci_low", "ci_high")


def close(a: float, b: float, tol: float = TOL) -> bool:
    """Equal within ``tol * (1 + |a|)``; NaN equals NaN and an infinity itself."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * (1.0 + abs(a))


def one_call(f: Callable[..., Any], a: Any, b: Any, kw: dict[str, Any]) -> Any:
    """The one-sample call ``f(a, b, **kw)`` with its warnings silenced, or None if it raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        try:
            return f(a, b, **kw)
        except DataError:
            return None
