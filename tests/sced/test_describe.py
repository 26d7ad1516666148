"""rs.sced.describe: per-phase statistics and visual-analysis features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rehabstats import sced
from rehabstats.errors import DataError


def _abab() -> pd.DataFrame:
    y = [2, 3, 5, 3, 8, 9, 9, 10, 3, 4, 3, 9, 11, 10]
    ph = list("AAAA") + list("BBBB") + list("AAA") + list("BBB")
    return pd.DataFrame({"t": range(1, 15), "ph": ph, "y": y})


def test_phase_statistics_match_scan_parker2011() -> None:
    # scan describe() record Parker2011: m.A 3.25, md.A 3, sd.A 1.258..., mad.A 0.7413, trend.A 0.5
    df = pd.DataFrame(
        {"t": range(1, 10), "ph": list("AAAABBBBB"), "y": [2, 3, 5, 3, 4, 5, 5, 7, 6]}
    )
    d = sced.describe(df, outcome="y", phase="ph", session="t")
    a = d.phases.iloc[0]
    assert (a["n"], a["mean"], a["median"], a["min"], a["max"]) == (4, 3.25, 3.0, 2.0, 5.0)
    assert a["sd"] == pytest.approx(1.2583057392117916)
    assert a["mad"] == pytest.approx(0.7413)
    assert a["trend"] == pytest.approx(0.5)
    assert d.phases.iloc[1]["trend"] == pytest.approx(0.6)
    assert d.to_frame().equals(d.phases)


def test_transitions_and_consistency_abab() -> None:
    d = sced.describe(_abab(), outcome="y", phase="ph", session="t")
    assert len(d.phases) == 4
    assert list(d.transitions["from_phase"]) == ["A", "B", "A"]
    first = d.transitions.iloc[0]
    assert first["level_change"] == pytest.approx(9.0 - 3.25)
    assert first["immediacy"] == pytest.approx(np.mean([8, 9, 9]) - np.mean([3, 5, 3]))
    assert first["pnd"] == 1.0
    assert first["nap"] == 1.0
    assert first["variability_ratio"] == pytest.approx(
        np.std([8, 9, 9, 10], ddof=1) / np.std([2, 3, 5, 3], ddof=1)
    )
    assert set(d.consistency["phase"]) == {"A", "B"}
    row = d.consistency.set_index("phase").loc["A"]
    assert row["n_runs"] == 2
    assert row["mean_of_means"] == pytest.approx((3.25 + 10 / 3) / 2)


def test_decrease_direction_and_multiple_cases() -> None:
    df = _abab()
    two = pd.concat([df.assign(c="x"), df.assign(c="y", y=df["y"] * 2)])
    d = sced.describe(two, outcome="y", phase="ph", session="t", case="c", improvement="decrease")
    assert set(d.phases["case"]) == {"x", "y"}
    assert d.transitions.iloc[0]["nap"] == 0.0


def test_bad_input() -> None:
    df = _abab()
    with pytest.raises(DataError, match="improvement"):
        sced.describe(df, outcome="y", phase="ph", session="t", improvement="more")
    with pytest.raises(DataError):
        sced.describe(df, outcome="nope", phase="ph", session="t")
