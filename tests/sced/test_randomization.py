"""Unit tests of randomization_test / randomization_test_batch (enumeration,
Monte Carlo, multiple baseline, A-B-A-B, bad input, degenerate cases)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rehabstats.errors import DataError, DesignError, RehabStatsWarning
from rehabstats.sced._randomization import (
    RandomizationResult,
    randomization_test,
    randomization_test_batch,
)

Y = [3.0, 4, 3, 5, 4, 7, 8, 7, 9, 8, 9, 10, 9, 11, 10, 12, 11, 12, 13, 12]


def ab(y=Y, n_a=6):
    return pd.DataFrame(
        {"t": np.arange(1, len(y) + 1), "ph": ["A"] * n_a + ["B"] * (len(y) - n_a), "y": y}
    )


def mbd():
    rng = np.random.default_rng(7)
    rows = []
    for c, start in zip("PQR", (6, 9, 12), strict=True):
        for t in range(1, 21):
            rows.append((c, t, "A" if t < start else "B", rng.normal(10 + 3 * (t >= start))))
    return pd.DataFrame(rows, columns=["case", "t", "ph", "y"])


def brute_force_ab(y, n_a, stat, min_len):
    y = np.asarray(y, float)
    dist = np.array([stat(y[:s], y[s:]) for s in range(min_len, len(y) - min_len + 1)])
    obs = stat(y[:n_a], y[n_a:])
    return obs, dist, np.mean(dist >= obs - 1e-12)


def test_ab_exhaustive_equals_brute_force():
    def mean_diff(a, b):
        return b.mean() - a.mean()

    res = randomization_test(ab(), outcome="y", phase="ph", session="t")
    obs, dist, p = brute_force_ab(Y, 6, mean_diff, 3)
    assert isinstance(res, RandomizationResult)
    assert res.method == "exhaustive"
    assert res.n_assignments == res.n_possible == len(Y) - 2 * 3 + 1
    np.testing.assert_allclose(res.statistic, obs, rtol=1e-12)
    np.testing.assert_allclose(res.distribution, dist, rtol=1e-12)
    assert res.p_value == p
    assert res.design == "AB"
    frame = res.to_frame()
    assert list(frame.columns)[:3] == ["statistic_name", "statistic", "p_value"]
    assert "p =" in res.summary()


@pytest.mark.parametrize(
    "stat", ["mean_difference", "median_difference", "nap", "smd", "smd_rms", "slope_difference"]
)
def test_improvement_flips_sign(stat):
    up = randomization_test(ab(), outcome="y", phase="ph", session="t", statistic=stat)
    down = randomization_test(
        ab(), outcome="y", phase="ph", session="t", statistic=stat, improvement="decrease"
    )
    if stat == "nap":
        np.testing.assert_allclose(up.statistic + down.statistic, 1.0, rtol=1e-12)
    elif stat == "smd_rms":
        np.testing.assert_allclose(up.statistic, down.statistic, rtol=1e-12)
    else:
        np.testing.assert_allclose(up.statistic, -down.statistic, rtol=1e-12)


def test_callable_equals_builtin():
    builtin = randomization_test(ab(), outcome="y", phase="ph", session="t")
    custom = randomization_test(
        ab(), outcome="y", phase="ph", session="t", statistic=lambda a, b: b.mean() - a.mean()
    )
    np.testing.assert_allclose(custom.distribution, builtin.distribution, rtol=1e-12)
    assert custom.p_value == builtin.p_value


def test_abab_enumeration_matches_itertools():
    y = np.r_[np.arange(5.0), np.arange(5.0) + 6, np.arange(5.0) + 1, np.arange(5.0) + 8]
    df = pd.DataFrame({"t": np.arange(20), "ph": list("AAAAABBBBBAAAAABBBBB"), "y": y})
    res = randomization_test(df, outcome="y", phase="ph", session="t", min_phase_length=3)
    dist = []
    for c1, c2, c3 in itertools.combinations(range(1, 20), 3):
        if c1 >= 3 and c2 - c1 >= 3 and c3 - c2 >= 3 and 20 - c3 >= 3:
            b = np.zeros(20, bool)
            b[c1:c2] = True
            b[c3:] = True
            dist.append(y[b].mean() - y[~b].mean())
    assert res.design == "ABAB"
    assert res.n_assignments == len(dist)
    np.testing.assert_allclose(np.sort(res.distribution), np.sort(dist), rtol=1e-12)
    np.testing.assert_allclose(
        res.statistic, y[np.r_[5:10, 15:20]].mean() - y[np.r_[0:5, 10:15]].mean(), rtol=1e-12
    )


def test_multiple_baseline_exhaustive_and_monte_carlo():
    df = mbd()
    ex = randomization_test(
        df, outcome="y", phase="ph", session="t", case="case", min_phase_length=3
    )
    assert ex.design == "multiple baseline"
    assert ex.n_cases == 3
    assert ex.n_possible == 15**3
    assert ex.method == "exhaustive"
    # observed = mean of the cases' mean differences
    per_case = [
        g.loc[g.ph == "B", "y"].mean() - g.loc[g.ph == "A", "y"].mean()
        for _, g in df.groupby("case")
    ]
    np.testing.assert_allclose(ex.statistic, np.mean(per_case), rtol=1e-12)
    mc1 = randomization_test(
        df, outcome="y", phase="ph", session="t", case="case", n_samples=2000, rng=3
    )
    mc2 = randomization_test(
        df,
        outcome="y",
        phase="ph",
        session="t",
        case="case",
        n_samples=2000,
        rng=np.random.default_rng(3),
        n_jobs=2,
    )
    assert mc1.method == "monte carlo"
    assert mc1.n_assignments == 2000
    np.testing.assert_array_equal(mc1.distribution, mc2.distribution)  # seeded, n_jobs-free
    assert mc1.p_value == mc2.p_value
    # Monte Carlo p within 4 binomial SEs of the exact p
    assert abs(mc1.p_value - ex.p_value) <= 4 * np.sqrt(max(ex.p_value, 0.01) / 2000)


def test_n_samples_above_possible_switches_to_enumeration():
    res = randomization_test(ab(), outcome="y", phase="ph", session="t", n_samples=500, rng=1)
    assert res.method == "exhaustive"
    assert res.n_assignments == 15


def test_input_not_modified():
    df = mbd()
    before = df.copy()
    randomization_test(df, outcome="y", phase="ph", session="t", case="case")
    pd.testing.assert_frame_equal(df, before)


def test_batch_equals_single():
    rng = np.random.default_rng(11)
    vals = rng.poisson(5, size=(25, 18)).astype(float)
    vals[:, 8:] += rng.poisson(2, size=(25, 10))
    nb = rng.integers(4, 12, size=25)
    for stat in [
        "mean_difference",
        "median_difference",
        "nap",
        "smd",
        "smd_rms",
        "slope_difference",
    ]:
        batch = randomization_test_batch(
            vals, nb, statistic=stat, improvement="decrease", min_phase_length=4
        )
        for i in range(0, 25, 6):
            single = randomization_test(
                ab(vals[i], int(nb[i])),
                outcome="y",
                phase="ph",
                session="t",
                statistic=stat,
                improvement="decrease",
                min_phase_length=4,
            )
            np.testing.assert_allclose(batch["statistic"][i], single.statistic, rtol=1e-12)
            assert batch["p_value"][i] == single.p_value
            assert batch["n_assignments"][i] == single.n_assignments


def test_degenerate_constant_series_gives_nan_p():
    with pytest.warns(RehabStatsWarning, match="p-value is undefined"):
        res = randomization_test(
            ab([5.0] * 12), outcome="y", phase="ph", session="t", statistic="smd"
        )
    assert np.isnan(res.statistic)
    assert np.isnan(res.p_value)
    # mean difference of a constant series is 0 everywhere: every assignment ties
    res = randomization_test(ab([5.0] * 12), outcome="y", phase="ph", session="t")
    assert res.p_value == 1.0


def test_one_observation_phases_allowed_with_min_length_one():
    res = randomization_test(
        ab([1.0, 2, 3, 9], n_a=1), outcome="y", phase="ph", session="t", min_phase_length=1
    )
    assert res.n_assignments == 3
    # slope of a one-observation phase is undefined: p is NaN, not an error
    with pytest.warns(RehabStatsWarning, match="p-value is undefined"):
        res = randomization_test(
            ab([1.0, 2, 3, 9], n_a=1),
            outcome="y",
            phase="ph",
            session="t",
            min_phase_length=1,
            statistic="slope_difference",
        )
    assert np.isnan(res.p_value)


def test_warnings():
    with pytest.warns(RehabStatsWarning, match="not among the admissible"):
        randomization_test(ab(n_a=2), outcome="y", phase="ph", session="t")


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"statistic": "mean"}, DataError, "statistic"),
        ({"improvement": "up"}, DataError, "improvement"),
        ({"min_phase_length": 0}, DataError, "min_phase_length"),
        ({"min_phase_length": 2.5}, DataError, "min_phase_length"),
        ({"n_samples": 0}, DataError, "n_samples"),
        ({"n_jobs": 0}, DataError, "n_jobs"),
        ({"rng": "x", "n_samples": 3}, DataError, "rng"),
        ({"min_phase_length": 11}, DesignError, "min_phase_length=11"),
        ({"treatment_phase": "C"}, DesignError, "treatment_phase"),
    ],
)
def test_bad_options(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        randomization_test(ab(), outcome="y", phase="ph", session="t", **kwargs)


def test_bad_designs():
    df = ab()
    df.loc[15:, "ph"] = "C"
    with pytest.raises(DesignError, match="phase 'C'"):
        randomization_test(df, outcome="y", phase="ph", session="t")
    only_a = mbd()
    only_a.loc[only_a.case == "Q", "ph"] = "A"
    with pytest.raises(DesignError, match="Case 'Q' has only phase 'A'"):
        randomization_test(only_a, outcome="y", phase="ph", session="t", case="case")
    abab = pd.DataFrame({"t": range(16), "ph": list("AAAABBBBAAAABBBB"), "y": range(16)})
    with pytest.raises(DesignError, match="slope_difference"):
        randomization_test(abab, outcome="y", phase="ph", session="t", statistic="slope_difference")
    with pytest.raises(DataError, match="outcome"):
        randomization_test(ab(), outcome="nope", phase="ph", session="t")


def test_batch_bad_input():
    with pytest.raises(DataError, match="2-D"):
        randomization_test_batch(np.arange(10.0), 5)
    with pytest.raises(DataError, match="row 0"):
        randomization_test_batch(np.array([[1.0, np.nan, 3, 4, 5, 6]]), 3)
    with pytest.raises(DataError, match="n_baseline"):
        randomization_test_batch(np.ones((2, 8)), 8)
    with pytest.raises(DataError, match="n_baseline"):
        randomization_test_batch(np.ones((2, 8)), 2.5)
    with pytest.raises(DesignError, match="min_phase_length"):
        randomization_test_batch(np.ones((2, 8)), 4, min_phase_length=5)
    with pytest.raises(DataError, match="statistic"):
        randomization_test_batch(np.ones((2, 8)), 4, statistic="t")


@given(st.lists(st.integers(0, 20), min_size=8, max_size=16), st.integers(3, 5))
def test_p_value_bounds(values, n_a):
    y = np.asarray(values, float)
    res = randomization_test_batch(y[None, :], n_a, min_phase_length=3)
    p = res["p_value"][0]
    assert 1 / res["n_assignments"][0] <= p <= 1.0


def test_benchmark_smoke():
    """benchmarks/bench_sced_randomization.py runs with small sizes and beats scan."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_sced_randomization.py"
    spec = importlib.util.spec_from_file_location("bench_sced_randomization", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(smoke=True)
    assert out["ab30_batch_ratio"] > 1
    assert out["mbd_mc_ratio"] > 1


def test_start_windows_per_case():
    df = mbd()
    # scan's startpoints = positions 6..10 for every case equals sessions 6..10 here
    win = randomization_test(
        df,
        outcome="y",
        phase="ph",
        session="t",
        case="case",
        start_sessions={"P": range(4, 9), "Q": range(7, 12), "R": range(10, 15)},
    )
    assert win.n_possible == 125
    lim = randomization_test(
        df, outcome="y", phase="ph", session="t", case="case", min_phase_length=3
    )
    np.testing.assert_allclose(win.statistic, lim.statistic, rtol=1e-12)
    # brute force over the 5 x 5 x 5 windows
    tabs = []
    for c, lo in zip("PQR", (4, 7, 10), strict=True):
        g = df[df.case == c]
        tabs.append([g.y[g.t >= s].mean() - g.y[g.t < s].mean() for s in range(lo, lo + 5)])
    grid = np.add.outer(np.add.outer(tabs[0], tabs[1]), tabs[2]).ravel() / 3
    np.testing.assert_allclose(np.sort(win.distribution), np.sort(grid), rtol=1e-12)
    same = randomization_test(
        ab(), outcome="y", phase="ph", session="t", start_sessions=[5, 6, 7, 8]
    )
    assert same.n_possible == 4
    with pytest.raises(DataError, match="case 'Z'"):
        randomization_test(
            df, outcome="y", phase="ph", session="t", case="case", start_sessions={"Z": [5]}
        )
    with pytest.raises(DesignError, match="not sessions"):
        randomization_test(ab(), outcome="y", phase="ph", session="t", start_sessions=[1, 99])
    with pytest.raises(DataError, match="session numbers"):
        randomization_test(ab(), outcome="y", phase="ph", session="t", start_sessions=["x"])


def test_progress_bar_runs(capsys):
    res = randomization_test(
        mbd(),
        outcome="y",
        phase="ph",
        session="t",
        case="case",
        n_samples=1000,
        rng=2,
        progress=True,
    )
    assert res.n_assignments == 1000
