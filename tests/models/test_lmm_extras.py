"""Trajectory plot, the models demo section and a benchmark smoke run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from numpy.testing import assert_allclose
from scipy import stats

from rehabstats.errors import DataError, RehabStatsWarning
from rehabstats.plot._trajectories import trajectories, trajectory_summary

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_lmm.py"


def _long():
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(6), 3),
            "arm": np.repeat(["ctl", "trt"], 9),
            "visit": np.tile(["pre", "post", "fu"], 6),
            "y": [1.0, 2, 3, 2, 2, 4, 3, 3, np.nan, 1, 4, 5, 2, 5, 6, 1, 3, 6],
        }
    )


def test_trajectory_summary_is_mean_and_t_interval():
    d = _long()
    with pytest.warns(RehabStatsWarning, match=r"1 row\(s\) with a missing value"):
        s = trajectory_summary(d, outcome="y", arm="arm", visit="visit", ci=0.9, subject="id")
    assert list(s["visit"][:3]) == ["pre", "post", "fu"]  # every subject's row sequence
    cell = np.array([3.0, 4.0])  # ctl at fu, one missing
    row = s[(s["arm"] == "ctl") & (s["visit"] == "fu")].iloc[0]
    assert row["n"] == 2
    half = stats.t.ppf(0.95, 1) * cell.std(ddof=1) / np.sqrt(2)
    assert_allclose(
        [row["mean"], row["ci_low"], row["ci_high"]], [3.5, 3.5 - half, 3.5 + half], rtol=1e-12
    )


def test_trajectories_returns_figure_with_one_line_per_arm():
    with pytest.warns(RehabStatsWarning, match=r"1 row\(s\) with a missing value"):
        fig = trajectories(_long(), outcome="y", arm="arm", visit="visit", subject="id")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["pre", "post", "fu"]
    assert len(ax.get_legend().get_texts()) == 2
    with pytest.raises(DataError, match="'outcome'"):
        trajectories(_long(), outcome="score", arm="arm", visit="visit")


def test_demo_section_writes_tables(tmp_path):
    from rehabstats._demo import models as demo

    section = demo.run(tmp_path)
    assert "models_trajectories.png" in section.files
    for name in section.files:
        assert (tmp_path / name).stat().st_size > 0
    anc = pd.read_csv(tmp_path / "models_ancova.csv")
    assert list(anc["visit"]) == ["post", "followup"]
    lmm_tab = pd.read_csv(tmp_path / "models_lmm_arm_differences.csv")
    assert set(lmm_tab["df_method"]) == {"satterthwaite", "kenward-roger", "asymptotic"}


def test_benchmark_runs(capsys):
    spec = importlib.util.spec_from_file_location("bench_lmm", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(repeats=1, with_r=False)
    assert out["rehabstats"] > 0
    assert out["ratio_statsmodels"] > 0
    assert "ratio statsmodels / rehabstats" in capsys.readouterr().out
