"""Classification systems in rs.measures: ordered levels, conversion, sources."""

from __future__ import annotations

import pandas as pd
import pytest

import rehabstats as rs
from rehabstats.errors import DataError


@pytest.mark.parametrize("name", ["gmfcs", "macs", "cfcs"])
def test_systems_have_five_ordered_levels_and_a_source(name: str) -> None:
    c = rs.measures.classification(name)
    assert c.levels == ("I", "II", "III", "IV", "V")
    assert len(c.descriptions) == 5
    assert all(c.descriptions)
    assert "Dev Med Child Neurol" in c.source
    assert c.dtype.ordered
    assert list(c.dtype.categories) == list(c.levels)
    assert c.to_frame().shape == (5, 2)


def test_as_levels_converts_common_spellings_and_orders() -> None:
    raw = pd.Series([3, "ii", "Level 1", "GMFCS IV", None, "V "], name="gmfcs")
    before = raw.copy()
    s = rs.measures.as_levels(raw, "gmfcs")
    pd.testing.assert_series_equal(raw, before)
    assert s.tolist()[:4] == ["III", "II", "I", "IV"]
    assert pd.isna(s.iloc[4])
    assert s.iloc[5] == "V"
    assert s.name == "gmfcs"
    assert (s.dropna().sort_values().tolist()) == ["I", "II", "III", "IV", "V"]
    assert s.iloc[0] > s.iloc[1]


def test_bad_levels_and_names() -> None:
    with pytest.raises(DataError, match=r"\['6', 'VI'\]"):
        rs.measures.as_levels([6, "VI", "II"], "macs")
    with pytest.raises(DataError, match="Unknown classification"):
        rs.measures.classification("edss")
    assert rs.measures.classification_names() == ["cfcs", "gmfcs", "macs"]


def test_levels_stratify_an_allocation_list() -> None:
    levels = list(rs.measures.classification("gmfcs").levels)
    alloc = rs.allocation.permuted_blocks(
        4, arms=["a", "b"], block_sizes=[4], strata={"gmfcs": levels}, rng=0
    )
    assert alloc["gmfcs"].unique().tolist() == levels
