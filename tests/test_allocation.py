"""rs.allocation: permuted blocks within strata, Pocock–Simon minimisation, balance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rehabstats as rs
from rehabstats import allocation as al
from rehabstats.errors import DataError, DesignError

GMFCS = ["I", "II", "III", "IV", "V"]


@given(
    n=st.integers(1, 60),
    sizes=st.sampled_from([(2,), (4,), (4, 6), (2, 4, 8)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_block_is_balanced_and_whole(n: int, sizes: tuple[int, ...], seed: int) -> None:
    alloc = al.permuted_blocks(
        n,
        arms=["control", "cimt"],
        block_sizes=sizes,
        strata={"gmfcs": ["I-II", "III-V"]},
        rng=seed,
    )
    for _, stratum in alloc.groupby("stratum"):
        assert len(stratum) >= n
        assert stratum["sequence"].tolist() == list(range(1, len(stratum) + 1))
        assert len(stratum) - n < max(sizes)  # completed to a whole block only
        for _, block in stratum.groupby("block"):
            assert len(block) == block["block_size"].iloc[0]
            assert set(block["block_size"]) <= set(sizes)
            counts = block["arm"].value_counts()
            assert counts["control"] == counts["cimt"]


def test_unequal_ratio_and_three_arms() -> None:
    alloc = al.permuted_blocks(
        30, arms=["sham", "low", "high"], block_sizes=(4, 8), ratio=(1, 1, 2), rng=5
    )
    for _, block in alloc.groupby("block"):
        c = block["arm"].value_counts()
        assert c["high"] == 2 * c["sham"] == 2 * c["low"]
    assert list(alloc["arm"].cat.categories) == ["sham", "low", "high"]


def test_strata_are_crossed_and_named() -> None:
    alloc = al.permuted_blocks(
        4,
        arms=["a", "b"],
        block_sizes=[4],
        strata={"gmfcs": ["I", "II"], "site": ["X", "Y"]},
        rng=0,
    )
    assert alloc["stratum"].unique().tolist() == [
        "gmfcs=I, site=X",
        "gmfcs=I, site=Y",
        "gmfcs=II, site=X",
        "gmfcs=II, site=Y",
    ]
    assert {"gmfcs", "site"} <= set(alloc.columns)
    assert (alloc.groupby("stratum").size() == 4).all()


def test_reproducible_with_a_seed_and_random_without() -> None:
    a = al.permuted_blocks(40, arms=["a", "b"], rng=11)
    b = al.permuted_blocks(40, arms=["a", "b"], rng=11)
    c = al.permuted_blocks(40, arms=["a", "b"], rng=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a["arm"].equals(c["arm"])


def test_both_block_sizes_occur_and_orders_vary() -> None:
    alloc = al.permuted_blocks(400, arms=["a", "b"], block_sizes=(4, 6), rng=2)
    assert set(alloc["block_size"]) == {4, 6}
    first = alloc[alloc["block_size"] == 4].groupby("block")["arm"].apply(tuple)
    assert first.nunique() > 1  # not one fixed pattern


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(n=0, arms=["a", "b"]), "'n'"),
        (dict(n=True, arms=["a", "b"]), "'n'"),
        (dict(n=10, arms=["a"]), "at least two"),
        (dict(n=10, arms="ab"), "'arms'"),
        (dict(n=10, arms=["CIMT", "cimt "]), "differ only in case"),
        (dict(n=10, arms=["a", "a"]), "repeated"),
        (dict(n=10, arms=["a", "b"], block_sizes=()), "'block_sizes'"),
        (dict(n=10, arms=["a", "b"], block_sizes=(2.5,)), "'block_sizes'"),
        (dict(n=10, arms=["a", "b"], ratio=(1, 0)), "'ratio'"),
        (dict(n=10, arms=["a", "b"], strata={"g": []}), "'strata'"),
        (dict(n=10, arms=["a", "b"], strata=["g"]), "'strata'"),
    ],
)
def test_bad_block_input(kwargs: dict, match: str) -> None:
    with pytest.raises(DataError, match=match):
        al.permuted_blocks(**kwargs)


def test_block_size_not_a_multiple_is_a_design_error() -> None:
    with pytest.raises(DesignError, match=r"multiple of 3.*\[4\]"):
        al.permuted_blocks(12, arms=["a", "b", "c"], block_sizes=(3, 4))


def _simple_imbalance(levels: np.ndarray, gen: np.random.Generator) -> int:
    arms = gen.integers(0, 2, size=levels.size)
    return sum(
        abs(int((arms[levels == g] == 0).sum()) - int((arms[levels == g] == 1).sum()))
        for g in np.unique(levels)
    )


def test_minimisation_beats_simple_randomisation_on_gmfcs() -> None:
    """Seeded simulation, n = 20: mean total GMFCS imbalance under each method."""
    gen = np.random.default_rng(2026)
    mins, simple = [], []
    for trial in range(200):
        levels = gen.choice(len(GMFCS), size=20, p=[0.3, 0.3, 0.2, 0.1, 0.1])
        m = al.minimisation(factors={"gmfcs": GMFCS}, arms=["control", "cimt"], rng=trial)
        for lv in levels:
            m.assign({"gmfcs": GMFCS[lv]})
        mins.append(al.balance(m.allocations, ["gmfcs"]).attrs["total_imbalance"])
        simple.append(_simple_imbalance(levels, gen))
    assert np.mean(mins) < 0.6 * np.mean(simple)


def test_deterministic_minimisation_follows_the_range_rule() -> None:
    m = al.minimisation(
        factors={"gmfcs": ["I", "II"], "sex": ["F", "M"]}, arms=["a", "b"], p_best=1.0, rng=0
    )
    first = m.assign({"gmfcs": "I", "sex": "F"})
    second = m.assign({"gmfcs": "I", "sex": "F"})
    assert first != second  # the second must balance the first on both factors
    log = m.log
    assert log.loc[1, f"score_{first}"] == 4
    assert log.loc[1, f"score_{second}"] == 0
    assert log.loc[0, "best"] == "a, b"
    assert log.loc[0, "p_best_used"] == 0.5


def test_minimisation_log_and_reproducibility() -> None:
    people = [{"gmfcs": g, "sex": s} for g, s in zip(GMFCS * 4, ["F", "M"] * 10, strict=True)]

    def run(seed: int) -> list[str]:
        m = al.minimisation(
            factors={"gmfcs": GMFCS, "sex": ["F", "M"]},
            arms=["a", "b", "c"],
            weights={"gmfcs": 2},
            rng=seed,
        )
        return [m.assign(p, id=f"P{i}") for i, p in enumerate(people)]

    assert run(4) == run(4)
    m = al.minimisation(factors={"gmfcs": GMFCS}, arms=["a", "b"], rng=1)
    m.assign({"gmfcs": "II"}, id="P1")
    assert m.log.columns.tolist() == [
        "participant",
        "gmfcs",
        "score_a",
        "score_b",
        "best",
        "p_best_used",
        "draw",
        "arm",
    ]
    assert m.allocations["participant"].tolist() == ["P1"]
    assert "assigned=1" in repr(m)


@pytest.mark.parametrize(
    ("participant", "match"),
    [
        ({"gmfcs": "VI"}, "no level 'VI'"),
        ({}, "no value for the factor"),
        ("II", "mapping"),
    ],
)
def test_minimisation_bad_participant(participant: object, match: str) -> None:
    m = al.minimisation(factors={"gmfcs": GMFCS}, arms=["a", "b"], rng=1)
    with pytest.raises(DataError, match=match):
        m.assign(participant)  # type: ignore[arg-type]
    assert len(m.allocations) == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(p_best=0.3), "'p_best'"),
        (dict(p_best=1.2), "'p_best'"),
        (dict(weights={"age": 1}), "not in 'factors'"),
        (dict(weights={"gmfcs": -1}), "positive"),
        (dict(imbalance="sd"), "'imbalance'"),
    ],
)
def test_minimisation_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(DataError, match=match):
        al.minimisation(factors={"gmfcs": GMFCS}, arms=["a", "b"], **kwargs)


def test_balance_counts_equal_crosstab() -> None:
    gen = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "gmfcs": gen.choice(GMFCS, 30),
            "sex": gen.choice(["F", "M"], 30),
            "arm": gen.choice(["a", "b"], 30),
        }
    )
    before = df.copy()
    out = al.balance(df, ["gmfcs", "sex"])
    pd.testing.assert_frame_equal(df, before)
    ref = pd.crosstab(df["gmfcs"], df["arm"])
    got = out[out.factor == "gmfcs"].set_index("level")[["a", "b"]]
    assert (got.loc[ref.index].to_numpy() == ref.to_numpy()).all()
    assert out.attrs["total_imbalance"] == int(
        (ref["a"] - ref["b"]).abs().sum()
        + pd.crosstab(df["sex"], df["arm"]).diff(axis=1)["b"].abs().sum()
    )
    with pytest.raises(DataError, match="'height'"):
        al.balance(df, ["height"])


def test_export_concealed(tmp_path: object) -> None:
    alloc = al.permuted_blocks(
        6, arms=["a", "b"], block_sizes=[2], strata={"site": ["X", "Y"]}, rng=3
    )
    before = alloc.copy()
    path = tmp_path / "key.csv"  # type: ignore[operator]
    public = al.export_concealed(alloc, path)
    pd.testing.assert_frame_equal(alloc, before)
    key = pd.read_csv(path)
    assert key["arm"].tolist() == alloc["arm"].astype(str).tolist()
    assert "arm" not in public.columns
    assert "block" not in public.columns
    assert public["code"].is_unique
    assert public["code"].tolist() == key["code"].tolist()
    assert public["code"].iloc[6] == "R-s2-001"
    with pytest.raises(DataError, match="'arm'"):
        al.export_concealed(alloc.drop(columns="arm"), path)


def test_top_level_module() -> None:
    assert rs.allocation.permuted_blocks is al.permuted_blocks


def test_balance_and_export_check_labels(tmp_path: Path) -> None:
    a = pd.DataFrame({"gmfcs": ["I", "I ", "II", "II"], "arm": ["a", "b", "a", "a"]})
    with pytest.raises(rs.DataError, match="'gmfcs' has labels that differ only"):
        rs.allocation.balance(a, ["gmfcs"])
    with pytest.raises(rs.DataError, match="'arm' of 'allocations' has missing labels"):
        rs.allocation.balance(a.assign(gmfcs="I", arm=["a", None, "b", "a"]), ["gmfcs"])
    alloc = rs.allocation.permuted_blocks(8, arms=["a", "b"], block_sizes=[4], rng=2)
    alloc = alloc.astype({"arm": str})
    path = tmp_path / "key.csv"
    with pytest.raises(rs.DataError, match="'arm' has labels that differ only"):
        rs.allocation.export_concealed(
            alloc.assign(arm=alloc["arm"].where(alloc.index != 0, "A")), path
        )
    with pytest.raises(rs.DataError, match="'prefix'"):
        rs.allocation.export_concealed(alloc, path, prefix=3)  # type: ignore[arg-type]
    assert not path.exists()  # nothing written before the checks pass
    with pytest.raises(rs.DataError, match="'rng'.*non-negative"):
        rs.allocation.permuted_blocks(8, arms=["a", "b"], rng=-1)
