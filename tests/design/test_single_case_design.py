"""SingleCaseDesign: validation, assignments, simulation."""

from __future__ import annotations

import numpy as np
import pytest

import rehabstats as rs
from rehabstats.design import SingleCaseDesign
from rehabstats.errors import DesignError


def test_ab_windows_match_randomization_test() -> None:
    d = SingleCaseDesign(design="AB", n_sessions=20, min_phase_length=3, level_effect=1.0)
    data = d.simulate(rng=4)
    res = rs.sced.randomization_test(data, outcome="outcome", phase="phase", session="session")
    assert res.n_possible == d.n_assignments == 15
    assert list(data.columns) == ["case", "session", "phase", "outcome"]


def test_abab_and_mbd_counts() -> None:
    d = SingleCaseDesign(design="ABAB", n_sessions=16, min_phase_length=3)
    data = d.simulate(rng=1)
    runs = (data["phase"] != data["phase"].shift()).sum()
    assert runs == 4
    res = rs.sced.randomization_test(data, outcome="outcome", phase="phase", session="session")
    assert res.n_possible == d.n_assignments
    m = SingleCaseDesign(design="MBD", n_sessions=15, n_cases=3, start_points=[5, 6, 7, 8])
    assert m.n_assignments == 64
    data = m.simulate(rng=2)
    starts = data[data["phase"] == "B"].groupby("case")["session"].min()
    assert set(starts) <= {5, 6, 7, 8}


def test_start_points_per_case() -> None:
    m = SingleCaseDesign(
        design="MBD", n_sessions=15, n_cases=2, start_points={0: [4, 5], 1: [8, 9, 10]}
    )
    assert m.n_assignments == 6
    data = m.simulate(rng=1)
    starts = data[data["phase"] == "B"].groupby("case")["session"].min()
    assert starts["case1"] in (4, 5)
    assert starts["case2"] in (8, 9, 10)


def test_effects_ar_and_distributions() -> None:
    d = SingleCaseDesign(
        design="AB",
        n_sessions=4000,
        min_phase_length=1000,
        level_effect=2.0,
        slope_effect=0.0,
        sd=1.5,
        ar=0.6,
    )
    y, treat, _ = d._draw(np.random.SeedSequence(3))
    a, b = y[0][~treat[0]], y[0][treat[0]]
    assert b.mean() - a.mean() == pytest.approx(2.0, abs=0.3)
    assert a.std() == pytest.approx(1.5, rel=0.1)
    assert np.corrcoef(a[:-1], a[1:])[0, 1] == pytest.approx(0.6, abs=0.06)
    s = SingleCaseDesign(design="AB", n_sessions=30, slope_effect=1.0, sd=1e-9)
    y, treat, _ = s._draw(np.random.SeedSequence(1))
    np.testing.assert_allclose(np.diff(y[0][treat[0]]), 1.0, atol=1e-6)
    p = SingleCaseDesign(
        design="AB", n_sessions=20, distribution="poisson", baseline_level=4, level_effect=3, sd=0.0
    )
    y, _, _ = p._draw(np.random.SeedSequence(1))
    assert np.all(y == np.round(y))
    assert y.min() >= 0
    b = SingleCaseDesign(design="AB", n_sessions=20, distribution="binomial", trials=10)
    y, _, _ = b._draw(np.random.SeedSequence(1))
    assert y.min() >= 0
    assert y.max() <= 10


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"design": "ABC"}, "'design'"),
        ({"distribution": "gamma"}, "'distribution'"),
        ({"n_sessions": 5}, "n_sessions"),
        ({"design": "ABAB", "n_sessions": 10}, "too short"),
        ({"min_phase_length": 0}, "min_phase_length"),
        ({"design": "MBD", "n_cases": 1}, "n_cases"),
        ({"n_cases": 3}, "n_cases"),
        ({"sd": -1.0}, "'sd'"),
        ({"sd": 0.0}, "'sd'"),
        ({"ar": 1.0}, "'ar'"),
        ({"level_effect": float("nan")}, "level_effect"),
        ({"start_points": [2, 3]}, "do not fit"),
        ({"start_points": [30]}, "do not fit"),
        ({"start_points": [4.5]}, "whole"),
        ({"design": "ABAB", "start_points": [5]}, "ABAB"),
        ({"design": "MBD", "n_cases": 2, "start_points": {0: [5]}}, "one window per case"),
        ({"distribution": "binomial"}, "trials"),
        ({"trials": 5}, "binomial' only"),
        ({"distribution": "binomial", "trials": 5, "baseline_level": 2.0}, "probability"),
    ],
)
def test_every_parameter_is_validated(kw: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"design": "AB", "n_sessions": 20}
    args.update(kw)
    with pytest.raises(DesignError, match=match):
        SingleCaseDesign(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"n_sessions": 10**9}, r"'n_sessions' must be at most 10,000"),
        ({"design": "MBD", "n_cases": 10**6}, r"'n_cases' must be at most 1,000"),
        ({"design": "ABAB", "n_sessions": 400}, r"'n_sessions' = 400 .* 9,886,435 admissible"),
        (
            {"design": "ABAB", "n_sessions": 400, "start_points": [10]},
            r"'n_sessions' = 400 .* admissible",
        ),
    ],
)
def test_sizes_have_upper_bounds(kw: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"design": "AB", "n_sessions": 20}
    args.update(kw)
    with pytest.raises(DesignError, match=match):
        SingleCaseDesign(**args)  # type: ignore[arg-type]


def test_largest_admissible_abab_is_enumerated() -> None:
    d = SingleCaseDesign(design="ABAB", n_sessions=100, min_phase_length=3)
    from math import comb

    assert d.n_assignments == comb(100 - 12 + 3, 3) == 121485
