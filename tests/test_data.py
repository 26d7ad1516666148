"""rs.data: wide <-> long, label variants, missing-data codes, baseline as covariate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rehabstats as rs
from rehabstats.errors import DataError, DesignError, RehabStatsWarning


def _export() -> pd.DataFrame:
    """A REDCap-like wide export with the usual problems."""
    return pd.DataFrame(
        {
            "record_id": ["p01", "p02", "p03", "p04", "p05", "p06"],
            "group": ["CIMT", "Control", "cimt ", "control", "CIMT", "Control"],
            "age": [54, 61, 47, 58, 66, 50],
            "mal_pre": [1.2, 1.5, 0.9, -99, 1.1, 1.4],
            "mal_post": [3.1, 1.9, 2.8, 1.6, 3.4, 1.7],
            "mal_6m": [3.0, 1.8, np.nan, 1.5, 3.2, 6.2],
        }
    )


def test_to_long_orders_visits_and_refuses_label_variants() -> None:
    wide = _export()
    before = wide.copy()
    with pytest.raises(DataError, match=r"'CIMT', 'cimt '.*'Control', 'control'.*normalize"):
        rs.data.to_long(
            wide, id="record_id", measures={"mal": "mal"}, visits=["pre", "post", "6m"], arm="group"
        )
    with pytest.warns(RehabStatsWarning, match=r"'cimt ' -> 'CIMT'"):
        long = rs.data.to_long(
            wide,
            id="record_id",
            measures={"mal": "mal"},
            visits=["pre", "post", "6m"],
            arm="group",
            covariates=["age"],
            normalize_labels=True,
        )
    pd.testing.assert_frame_equal(wide, before)
    assert long.columns.tolist() == ["record_id", "group", "age", "visit", "mal"]
    assert long["visit"].cat.ordered
    assert long["visit"].cat.categories.tolist() == ["pre", "post", "6m"]
    assert sorted(long["group"].unique()) == ["CIMT", "Control"]
    p03 = long[long.record_id == "p03"]
    assert p03["mal"].tolist()[:2] == [0.9, 2.8]
    assert np.isnan(p03["mal"].iloc[2])
    assert (long.groupby("record_id").size() == 3).all()


def test_to_long_explicit_columns_and_round_trip() -> None:
    wide = _export().assign(group=lambda d: d["group"].str.strip().str.lower())
    long = rs.data.to_long(
        wide,
        id="record_id",
        arm="group",
        measures={"mal": ["mal_pre", "mal_post", "mal_6m"]},
        visits=["pre", "post", "6m"],
    )
    back = rs.data.to_wide(long, id="record_id", visit="visit", values="mal", keep=["group"])
    pd.testing.assert_frame_equal(
        back, wide[["record_id", "group", "mal_pre", "mal_post", "mal_6m"]], check_dtype=False
    )


@given(perm=st.permutations(list(range(6))))
def test_to_wide_does_not_depend_on_row_order(perm: list[int]) -> None:
    long = rs.data.to_long(
        _export().assign(group="x"),
        id="record_id",
        measures={"mal": "mal"},
        visits=["pre", "post", "6m"],
    )
    rows = np.concatenate([np.arange(3) + 3 * i for i in perm])
    shuffled = long.iloc[rows[::-1]]
    a = rs.data.to_wide(long, id="record_id", visit="visit", values="mal")
    b = rs.data.to_wide(shuffled, id="record_id", visit="visit", values="mal")
    pd.testing.assert_frame_equal(a, b)


def test_to_wide_needs_an_order_for_text_visits() -> None:
    long = pd.DataFrame({"id": ["a", "a"], "visit": ["week4", "baseline"], "y": [1.0, 2.0]})
    disagree = pd.DataFrame(
        {
            "id": ["a", "a", "b", "b"],
            "y": [1.0, 2.0, 3.0, 4.0],
            "visit": ["week4", "baseline", "baseline", "week4"],
        }
    )
    with pytest.raises(DesignError, match="visit_order"):
        rs.data.to_wide(disagree, id="id", visit="visit", values="y")
    wide = rs.data.to_wide(
        long, id="id", visit="visit", values="y", visit_order=["baseline", "week4"]
    )
    assert wide.columns.tolist() == ["id", "y_baseline", "y_week4"]
    with pytest.raises(DataError, match="week4"):
        rs.data.to_wide(long, id="id", visit="visit", values="y", visit_order=["baseline"])
    with pytest.raises(DataError, match="more than one row"):
        rs.data.to_wide(
            pd.concat([long, long]),
            id="id",
            visit="visit",
            values="y",
            visit_order=["baseline", "week4"],
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(measures={"mal": "mal"}, visits="pre"), "'visits'"),
        (dict(measures={"mal": "mal"}, visits=["pre", "pre"]), "repeated"),
        (dict(measures={"mal": "mal"}, visits=["pre", "post", "12m"]), r"mal_12m"),
        (dict(measures={"mal": ["mal_pre"]}, visits=["pre", "post"]), "one column per visit"),
        (dict(measures={}, visits=["pre"]), "'measures'"),
        (dict(measures={"mal": "mal"}, visits=["pre"], arm="arm"), r"\['arm'\]"),
    ],
)
def test_to_long_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(DataError, match=match):
        rs.data.to_long(_export(), id="record_id", **kwargs)


def test_to_long_repeated_or_missing_ids() -> None:
    wide = _export()
    with pytest.raises(DataError, match="repeated: p01"):
        rs.data.to_long(
            pd.concat([wide, wide.iloc[[0]]]),
            id="record_id",
            measures={"mal": "mal"},
            visits=["pre", "post", "6m"],
        )
    with pytest.raises(DataError, match="missing participant ids"):
        rs.data.to_long(
            wide.assign(record_id=[None, *wide.record_id[1:]]),
            id="record_id",
            measures={"mal": "mal"},
            visits=["pre", "post", "6m"],
        )


def test_clean_labels_keeps_missing_and_categorical() -> None:
    s = pd.Series(pd.Categorical(["a", None, "a"]))
    assert rs.data.clean_labels(s).isna().tolist() == [False, True, False]
    with pytest.warns(RehabStatsWarning, match="'sham' / 'Sham' -> 'Sham'"):
        out = rs.data.clean_labels(["sham", "Sham", "Sham", None], normalize=True)
    assert out.tolist()[:3] == ["Sham", "Sham", "Sham"]


def test_check_outcome_finds_codes_and_range_by_participant() -> None:
    long = rs.data.to_long(
        _export().assign(group="x"),
        id="record_id",
        measures={"mal": "mal"},
        visits=["pre", "post", "6m"],
    )
    before = long.copy()
    with pytest.raises(
        DataError,
        match=r"missing-data codes: p04 \(-99\.0\).*outside the "
        r"Motor Activity Log.*p06 \(6\.2\)",
    ):
        rs.data.check_outcome(long, outcome="mal", subject="record_id", measure="mal_aou")
    with pytest.warns(RehabStatsWarning, match="p04"):
        fixed = rs.data.check_outcome(
            long, outcome="mal", subject="record_id", measure="mal_aou", action="missing"
        )
    pd.testing.assert_frame_equal(long, before)
    assert fixed["mal"].isna().sum() == long["mal"].isna().sum() + 2
    # without a measure only the code is found
    with pytest.warns(RehabStatsWarning, match="missing-data codes: p04"):
        rs.data.check_outcome(long, outcome="mal", subject="record_id", action="missing")


def test_check_outcome_text_codes_and_bad_text() -> None:
    d = pd.DataFrame({"pid": ["a", "b", "c"], "y": ["1.5", ".", "2"]})
    with pytest.warns(RehabStatsWarning, match=r"b \(\.\)"):
        out = rs.data.check_outcome(d, outcome="y", subject="pid", action="missing")
    assert out["y"].tolist()[0] == 1.5
    assert np.isnan(out["y"].iloc[1])
    with pytest.raises(DataError, match=r"not numbers: c \('two'\)"):
        rs.data.check_outcome(d.assign(y=["1", "2", "two"]), outcome="y", subject="pid")
    clean = rs.data.check_outcome(d.assign(y=[1, 2, 3]), outcome="y", subject="pid")
    assert clean["y"].dtype == float
    with pytest.raises(DataError, match="'action'"):
        rs.data.check_outcome(d, outcome="y", action="drop")


def test_baseline_as_covariate_and_change_scores() -> None:
    trial = rs.datasets.load("cimt_ms")
    post = rs.data.baseline_as_covariate(
        trial, outcome="mal_aou", visit="visit", subject="subject", baseline_visit="pre"
    )
    assert len(post) == 2 * trial["subject"].nunique()
    pre = trial[trial.visit == "pre"].set_index("subject")["mal_aou"]
    np.testing.assert_array_equal(post["baseline"], post["subject"].map(pre))
    if isinstance(post["visit"].dtype, pd.CategoricalDtype):
        assert "pre" not in post["visit"].cat.categories
    ch = rs.data.change_scores(
        trial, outcome="mal_aou", visit="visit", subject="subject", baseline_visit="pre"
    )
    np.testing.assert_allclose(ch["change"], ch["mal_aou"] - ch["baseline"])
    # ANCOVA on the shaped data equals ANCOVA on the hand-made frame
    fu = post[post.visit == "post"].dropna(subset=["mal_aou"])
    fit = rs.ancova(fu, outcome="mal_aou", arm="arm", baseline="baseline", reference="control")
    assert fit.coef().shape[0] == 3


def test_baseline_missing_and_errors() -> None:
    long = pd.DataFrame(
        {"id": ["a", "a", "b"], "visit": ["pre", "post", "post"], "y": [1.0, 2.0, 3.0]}
    )
    with pytest.warns(RehabStatsWarning, match="participants b"):
        out = rs.data.baseline_as_covariate(
            long, outcome="y", visit="visit", subject="id", baseline_visit="pre"
        )
    assert np.isnan(out.loc[out.id == "b", "baseline"]).all()
    with pytest.raises(DataError, match="'week0' is not in"):
        rs.data.baseline_as_covariate(
            long, outcome="y", visit="visit", subject="id", baseline_visit="week0"
        )
    with pytest.raises(DataError, match="more than one baseline"):
        rs.data.baseline_as_covariate(
            pd.concat([long, long.iloc[[0]]]),
            outcome="y",
            visit="visit",
            subject="id",
            baseline_visit="pre",
        )
    with pytest.raises(DataError, match="already has a column 'y'"):
        rs.data.baseline_as_covariate(
            long, outcome="y", visit="visit", subject="id", baseline_visit="pre", name="y"
        )


def _long() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pid": ["p1", "p1", "p2", "p2", "p3", "p3"],
            "visit": ["pre", "post"] * 3,
            "y": [1.0, 2.0, 1.5, 2.5, 1.2, 3.0],
        }
    )


def test_reshaping_refuses_label_variants_missing_labels_text_and_inf() -> None:
    d = _long()
    with pytest.raises(DataError, match="differ only in case"):
        rs.data.to_wide(
            d.assign(pid=["p1", "p1 ", "p2", "p2", "p3", "p3"]),
            id="pid",
            visit="visit",
            values="y",
            visit_order=["pre", "post"],
        )
    with pytest.raises(DataError, match="'visit'.*missing labels"):
        rs.data.to_wide(
            d.assign(visit=["pre", None, "pre", "post", "pre", "post"]),
            id="pid",
            visit="visit",
            values="y",
            visit_order=["pre", "post"],
        )
    with pytest.raises(DataError, match="infinite"):
        rs.data.to_wide(
            d.assign(y=[1.0, np.inf, 1.5, 2.5, 1.2, 3.0]),
            id="pid",
            visit="visit",
            values="y",
            visit_order=["pre", "post"],
        )
    with pytest.raises(DataError, match="numeric.*'s0'"):  # not silently a missing baseline
        rs.data.baseline_as_covariate(
            d.assign(y=[f"s{i}" for i in range(6)]),
            outcome="y",
            visit="visit",
            subject="pid",
            baseline_visit="pre",
        )
    with pytest.raises(DataError, match="differ only in case"):
        rs.data.change_scores(
            d.assign(visit=["pre", "post", "Pre", "post", "pre", "post"]),
            outcome="y",
            visit="visit",
            subject="pid",
            baseline_visit="pre",
        )
    with pytest.raises(DataError, match="'baseline_visit'"):
        rs.data.change_scores(d, outcome="y", visit="visit", subject="pid", baseline_visit="week0")
    wide = pd.DataFrame({"pid": ["a", "b"], "y_pre": [1.0, -np.inf], "y_post": [2.0, 3.0]})
    with pytest.raises(DataError, match="infinite"):
        rs.data.to_long(wide, id="pid", measures={"y": "y"}, visits=["pre", "post"])


def test_check_outcome_infinite_values() -> None:
    d = pd.DataFrame({"pid": ["p1", "p2", "p3"], "y": [2.0, np.inf, 3.0]})
    with pytest.raises(DataError, match="infinite values: p2"):
        rs.data.check_outcome(d, outcome="y", subject="pid")
    with pytest.warns(RehabStatsWarning, match="infinite"):
        out = rs.data.check_outcome(d, outcome="y", subject="pid", action="missing")
    assert np.isnan(out["y"].iloc[1])
    assert np.isinf(d["y"].iloc[1])


def test_bool_outcome_change_scores() -> None:
    d = _long().assign(y=[False, True, True, True, False, False])
    out = rs.data.change_scores(d, outcome="y", visit="visit", subject="pid", baseline_visit="pre")
    assert out["change"].tolist() == [1.0, 0.0, 0.0]
