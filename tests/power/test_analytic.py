"""Analytic power: longpower::power.mmrm (Lu, Luo & Chen 2008), noncentral t."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import load_json
from statsmodels.stats.power import TTestIndPower

from rehabstats.errors import DesignError
from rehabstats.power import (
    ancova_power,
    mmrm_phi,
    mmrm_power,
    mmrm_sample_size,
    ttest_power,
)


@pytest.fixture
def scenarios(validation_dir: Path) -> dict[str, dict[str, object]]:
    data = load_json(validation_dir / "power" / "longpower_mmrm.json")
    assert len(data["scenarios"]) == 6
    return data["scenarios"]  # type: ignore[no-any-return]


def test_mmrm_power_equals_longpower(scenarios: dict[str, dict[str, object]]) -> None:
    checked = 0
    for name, s in scenarios.items():
        common = dict(
            correlation=np.array(s["correlation"]),
            retention=s["retention"],
            sd=s["sd"],
            delta=s["delta"],
            alpha=s["alpha"],
        )
        if "n_per_arm" in s:
            got = mmrm_power(n_per_arm=s["n_per_arm"], **common)  # type: ignore[arg-type]
            assert got == pytest.approx(s["power"], rel=1e-6, abs=1e-6), name
            checked += 1
        for key, value in s.items():
            if key.startswith("n_per_arm_for_power_"):
                target = float(key.rsplit("_", 1)[1])
                n = mmrm_sample_size(power=target, **common)  # type: ignore[arg-type]
                assert n == pytest.approx(value, rel=1e-6), name
                # and the inverse is consistent
                back = mmrm_power(n_per_arm=n, **common)  # type: ignore[arg-type]
                assert back == pytest.approx(target, rel=1e-10)
                checked += 1
    assert checked == 11


def test_mmrm_power_structured_correlation_forms() -> None:
    full = [[1, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 1]]
    a = mmrm_power(
        n_per_arm=30, correlation=("ar1", 0.5), retention=[1, 0.9, 0.85], sd=1, delta=0.8
    )
    b = mmrm_power(n_per_arm=30, correlation=full, retention=[1, 0.9, 0.85], sd=1, delta=0.8)
    assert a == pytest.approx(b, rel=1e-12)


def test_mmrm_phi_no_dropout_is_one_and_grows_with_dropout() -> None:
    assert mmrm_phi(("cs", 0.3), [1, 1, 1]) == pytest.approx(1.0, rel=1e-12)
    # only the last visit lost: phi = 1 / r_J when visits are uncorrelated
    assert mmrm_phi(("cs", 0.0), [1, 1, 0.8]) == pytest.approx(1 / 0.8, rel=1e-12)
    assert mmrm_phi(("cs", 0.6), [1, 0.9, 0.8]) < 1 / 0.8


def test_ttest_power_matches_statsmodels() -> None:
    for n, d in ((10, 0.8), (25, 0.5), (60, 0.3)):
        ref = TTestIndPower().power(effect_size=d, nobs1=n, alpha=0.05, ratio=1.0)
        assert ttest_power(n_per_arm=n, delta=d * 2.0, sd=2.0) == pytest.approx(ref, rel=1e-8)


def test_ancova_power_reduces_to_t_with_rho_zero_and_less_df() -> None:
    # rho = 0: the t test with one df fewer; larger rho, more power
    p0 = ancova_power(n_per_arm=20, delta=0.8, sd=1.0, rho=0.0)
    pt = ttest_power(n_per_arm=20, delta=0.8, sd=1.0)
    assert p0 < pt
    assert p0 == pytest.approx(pt, abs=2e-3)
    assert ancova_power(n_per_arm=20, delta=0.8, sd=1.0, rho=0.7) > p0


@pytest.mark.parametrize(
    ("fn", "kw", "match"),
    [
        (ttest_power, {"n_per_arm": 1, "delta": 1.0}, "n_per_arm"),
        (ttest_power, {"n_per_arm": 10, "delta": 1.0, "sd": -1.0}, "'sd'"),
        (ttest_power, {"n_per_arm": 10, "delta": 1.0, "alpha": 1.5}, "alpha"),
        (ancova_power, {"n_per_arm": 10, "delta": 1.0, "rho": 1.0}, "rho"),
        (
            mmrm_power,
            {
                "n_per_arm": 10,
                "correlation": ("cs", 0.5),
                "retention": [1, 1.2, 0.8],
                "sd": 1.0,
                "delta": 1.0,
            },
            "retention",
        ),
        (
            mmrm_power,
            {
                "n_per_arm": 10,
                "correlation": ("cs", 0.5),
                "retention": [1, 0.7, 0.8],
                "sd": 1.0,
                "delta": 1.0,
            },
            "non-increasing",
        ),
        (
            mmrm_power,
            {
                "n_per_arm": 10,
                "correlation": [[1, 2], [2, 1]],
                "retention": [1, 0.8],
                "sd": 1.0,
                "delta": 1.0,
            },
            "positive definite",
        ),
        (
            mmrm_power,
            {
                "n_per_arm": 10,
                "correlation": ("cs", 0.5),
                "retention": [1, 0.8],
                "sd": [1.0, 2.0],
                "delta": 1.0,
            },
            "'sd'",
        ),
        (
            mmrm_sample_size,
            {
                "power": 1.2,
                "correlation": ("cs", 0.5),
                "retention": [1, 0.8],
                "sd": 1.0,
                "delta": 1.0,
            },
            "power",
        ),
        (
            mmrm_sample_size,
            {
                "power": 0.8,
                "correlation": ("cs", 0.5),
                "retention": [1, 0.8],
                "sd": 1.0,
                "delta": 0.0,
            },
            "delta",
        ),
    ],
)
def test_bad_arguments(fn: object, kw: dict[str, object], match: str) -> None:
    with pytest.raises(DesignError, match=match):
        fn(**kw)  # type: ignore[operator]
