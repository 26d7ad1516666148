"""Shared access to the SingleCaseES / scan reference records in ../shared/validation/sced."""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from typing import Any

from conftest import VALIDATION_DIR, load_json

REF_DIR = VALIDATION_DIR / "sced" / "reference"


def cases(package: str, functions: tuple[str, ...]) -> list[tuple[str, str]]:
    """(dataset, function) pairs of ``package`` that have reference records."""
    summary = REF_DIR / "_summary.csv"
    if not summary.is_file():
        return []
    out = []
    with summary.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            pkg, _, fn = row["package_function"].partition("::")
            if pkg == package and fn in functions:
                out.append((row["dataset"], fn))
    return out


@lru_cache(maxsize=4)
def records(dataset: str) -> list[dict[str, Any]]:
    """All reference records of one data set (cached: the files are large)."""
    result: list[dict[str, Any]] = load_json(REF_DIR / f"{dataset}.json")
    return result


def split_phases(inp: dict[str, Any]) -> tuple[list[float], list[float]]:
    """Baseline = first run of the record's input, treatment = the second; drop R's NA."""
    ph, y = inp["phase"], inp["outcome"]
    k = 1
    while k < len(ph) and ph[k] == ph[0]:
        k += 1
    return [v for v in y[:k] if v is not None], [v for v in y[k:] if v is not None]


def close(got: Any, want: Any, rtol: float, atol: float = 0.0) -> bool:
    """``got`` equals the reference ``want`` (None or NaN: NaN; inf: the same inf)."""
    got = float(got)
    if want is None:
        return math.isnan(got)
    want = float(want)
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want):
        return got == want
    return abs(got - want) <= atol + rtol * abs(want)
