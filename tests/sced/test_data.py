"""Tests of the lead's single-case data model (rehabstats.sced._data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rehabstats.errors import DataError, DesignError, RehabStatsWarning
from rehabstats.sced._data import COLUMNS, phase_pairs, prepare_sced


def _df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case": ["p", "p", "p", "p", "p", "p", "q", "q", "q", "q"],
            "t": [1, 2, 3, 5, 6, 7, 1, 2, 3, 4],
            "ph": ["A", "A", "B", "B", "A", "B", "A", "A", "B", "B"],
            "y": [1.0, 2, 5, 6, 2, 7, 3, 3, 4, 5],
        }
    )


def test_prepare_standardizes_and_numbers_runs() -> None:
    df = _df()
    before = df.copy()
    frame = prepare_sced(df, outcome="y", phase="ph", session="t", case="case")
    pd.testing.assert_frame_equal(df, before)  # input untouched
    assert tuple(frame.columns) == COLUMNS
    assert frame["run"].tolist() == [1, 1, 2, 2, 3, 4, 1, 1, 2, 2]
    assert frame.attrs["n_omitted"] == 0
    single = prepare_sced(df[df["case"] == "q"], outcome="y", phase="ph", session="t")
    assert set(single["case"]) == {"1"}


def test_phase_pairs_every_a_followed_by_b() -> None:
    frame = prepare_sced(_df(), outcome="y", phase="ph", session="t", case="case")
    pairs = phase_pairs(frame)
    assert [(p.case, p.pair) for p in pairs] == [("p", 1), ("p", 2), ("q", 1)]
    np.testing.assert_array_equal(pairs[1].baseline, [2.0])
    np.testing.assert_array_equal(pairs[0].treatment_sessions, [3.0, 5.0])
    # a case without the requested transition is a design error, not silently skipped
    with pytest.raises(DesignError, match="Case 'q' has no 'B' phase followed directly"):
        phase_pairs(frame, baseline_phase="B", treatment_phase="A")


def test_missing_outcome_keeps_runs_and_warns() -> None:
    df = _df()
    df.loc[2, "y"] = np.nan
    with pytest.warns(RehabStatsWarning, match="1 missing"):
        frame = prepare_sced(df, outcome="y", phase="ph", session="t", case="case")
    assert frame.attrs["n_omitted"] == 1
    assert len(frame) == 9
    with pytest.raises(DataError, match="nan_policy='raise'"):
        prepare_sced(df, outcome="y", phase="ph", session="t", case="case", nan_policy="raise")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.assign(t=[1, 1, 3, 5, 6, 7, 1, 2, 3, 4]), "listed more than once"),
        (lambda d: d.assign(t=[2, 1, 3, 5, 6, 7, 1, 2, 3, 4]), "not in increasing order"),
        (lambda d: d.assign(y=["a"] + [1] * 9), "numeric"),
        (lambda d: d.assign(ph=[None] + ["A"] * 9), "missing label"),
        (lambda d: d.assign(t=[np.nan] + [1.0] * 9), "session"),
        (lambda d: d.drop(columns="ph"), "ph"),
    ],
)
def test_prepare_rejects_bad_data(change, match: str) -> None:
    with pytest.raises(DataError, match=match):
        prepare_sced(change(_df()), outcome="y", phase="ph", session="t", case="case")


def test_phase_pairs_design_errors() -> None:
    frame = prepare_sced(_df(), outcome="y", phase="ph", session="t", case="case")
    with pytest.raises(DesignError, match="phase labels present"):
        phase_pairs(frame, treatment_phase="C")
    only_b = prepare_sced(
        pd.DataFrame({"t": [1, 2, 3], "ph": ["B", "B", "A"], "y": [1, 2, 3]}),
        outcome="y",
        phase="ph",
        session="t",
    )
    with pytest.raises(DesignError, match="no 'A' phase followed directly"):
        phase_pairs(only_b)
    with pytest.raises(DataError):
        prepare_sced("not a frame", outcome="y", phase="ph", session="t")  # type: ignore[arg-type]


def test_rows_interleaved_across_cases_are_grouped_by_case() -> None:
    # Multiple-baseline data are often stored session by session across cases.
    df = pd.DataFrame(
        {
            "c": ["x", "y"] * 6,
            "t": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6],
            "ph": list("AAAAAABBBBBB"),
            "y": np.arange(12.0),
        }
    )
    frame = prepare_sced(df, outcome="y", phase="ph", session="t", case="c")
    assert frame["case"].tolist() == ["x"] * 6 + ["y"] * 6
    assert frame["run"].tolist() == [1, 1, 1, 2, 2, 2] * 2
    pairs = phase_pairs(frame)
    assert [p.baseline.tolist() for p in pairs] == [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]
    dup = df.copy()
    dup.loc[2, "t"] = 1  # case x now lists session 1 twice, though not on adjacent rows
    with pytest.raises(DataError, match="Case 'x': session 1 is listed more than once"):
        prepare_sced(dup, outcome="y", phase="ph", session="t", case="c")
