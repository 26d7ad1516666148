"""Helpers shared by the lmm/ancova/mixed-ANOVA tests (data loading, table comparison)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

OWN_DIR = Path(__file__).resolve().parent.parent / "reference" / "models" / "lmm"


def load_trial(
    csv: Path, arm_levels: list[str], visit_levels: list[str], observed_only: bool = True
) -> pd.DataFrame:
    """Read a long trial CSV with ordered arm/visit factors (R's level order)."""
    d = pd.read_csv(csv)
    d["arm"] = pd.Categorical(d["arm"], categories=arm_levels)
    d["visit"] = pd.Categorical(d["visit"], categories=visit_levels)
    return d.dropna(subset=["outcome"]) if observed_only else d


def assert_table(
    ours: pd.DataFrame,
    ref: Any,
    cols: list[str],
    rtol: float,
    atol: float = 0.0,
    rename: dict[str, str] | None = None,
) -> int:
    """Compare columns of our table with R's rows (same order); return values compared."""
    ref_df = pd.DataFrame(ref).rename(columns=rename or {})
    assert len(ours) == len(ref_df)
    n = 0
    for c in cols:
        assert_allclose(
            ours[c].to_numpy(float), ref_df[c].to_numpy(float), rtol=rtol, atol=atol, err_msg=c
        )
        n += len(ref_df)
    return n


def pvalue_close(ours: pd.Series, ref: Any, rtol: float) -> None:
    """p-values: compare on the log scale (tiny p amplify df differences)."""
    r = np.asarray(ref, dtype=float)
    assert_allclose(np.log(ours.to_numpy(float)), np.log(r), rtol=rtol, atol=rtol)
