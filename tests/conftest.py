"""Shared test configuration: deterministic hypothesis, fixture paths, RNG hygiene."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parent / "reference"))
from validation_data import unpack_validation

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")

TESTS_DIR = Path(__file__).resolve().parent
REFERENCE_DIR = TESTS_DIR / "reference"
REPO_DIR = TESTS_DIR.parent
#: The vendored validation sets, unpacked from tests/reference/validation.tar.xz.
VALIDATION_DIR = unpack_validation()


def load_json(path: Path) -> Any:
    """Read a JSON fixture, turning R's "Inf"/"-Inf" strings into floats."""

    def hook(obj: dict[str, Any]) -> dict[str, Any]:
        return {
            k: (float(v) if isinstance(v, str) and v in ("Inf", "-Inf", "NaN") else v)
            for k, v in obj.items()
        }

    return json.loads(path.read_text(encoding="utf-8"), object_hook=hook)


@pytest.fixture
def validation_dir() -> Path:
    """Path of the unpacked validation sets (always present: they are vendored)."""
    assert VALIDATION_DIR.is_dir(), f"validation sets missing: {VALIDATION_DIR}"
    return VALIDATION_DIR


@pytest.fixture(autouse=True)
def _global_rng_untouched() -> Any:
    """Fail any test that changes numpy's global random state."""
    before = np.random.get_state()[1].copy()
    yield
    after = np.random.get_state()[1]
    assert np.array_equal(before, after), "test changed numpy's global RNG state"
