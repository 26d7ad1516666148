"""Shared by the mmrm13 tests: mmrm's fev_data from the vendored validation sets."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def fev_data(vdir: Path) -> pd.DataFrame:
    """mmrm's ``fev_data`` (peer_data) with its factor level orders."""
    d = pd.read_csv(vdir / "peer_data" / "mmrm__fev_data.csv")
    levels = json.loads((vdir / "peer_data" / "mmrm__fev_data.levels.json").read_text())
    for col, lv in levels.items():
        d[col] = pd.Categorical(d[col], categories=lv)
    return d
