"""The `rehabstats demo` planning section writes its tables and the power-curve figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from rehabstats._demo import SECTIONS
from rehabstats._demo import planning as demo


def test_planning_section(tmp_path: Path) -> None:
    assert "planning" in SECTIONS
    section = demo.run(tmp_path)
    assert set(section.files) == {
        "planning_pilot_design.csv",
        "planning_power_curve.csv",
        "planning_power_curve.png",
    }
    for name in section.files:
        assert (tmp_path / name).stat().st_size > 0
    curve = pd.read_csv(tmp_path / "planning_power_curve.csv")
    assert curve["n"].tolist() == list(demo.N_VALUES)
    assert curve["power"].is_monotonic_increasing
    # simulated MMRM power near the analytic Lu-Luo-Chen value (4 Monte Carlo SEs + 0.05
    # for the small-sample df the analytic formula ignores)
    gap = np.abs(curve["power"] - curve["analytic_lu_luo_chen"])
    assert (gap < 4 * curve["mc_se"] + 0.05).all()
    assert "power curve" in section.html
