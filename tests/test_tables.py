"""rs.tables: Table 1, Table 2, CONSORT flow and the results sentence.

Table 1 / Table 2 cells are checked against hand computations (pandas group means, SDs,
quantiles); the model columns of Table 2 against the model's own contrast and effect-size
tables (those are checked against R elsewhere: lm, lmerTest, mmrm); the CONSORT counts
against counts made directly from the data.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import rehabstats as rs
from rehabstats.errors import DataError, RehabStatsError

VISITS = ["pre", "post", "followup"]


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return rs.datasets.load("cimt_ms")


def test_baseline_table_cells_equal_hand_computations(trial: pd.DataFrame) -> None:
    pre = trial[trial.visit == "pre"].assign(
        sex=lambda d: np.where(np.arange(len(d)) % 3 == 0, "F", "M"),
        walks=lambda d: pd.Series([True, False] * 10, index=d.index),
    )
    pre.loc[pre.index[:2], "age"] = np.nan
    before = pre.copy()
    t1 = rs.tables.baseline_table(
        pre,
        arm="arm",
        variables=["age", "wmft_time", "sex", "walks"],
        nonnormal=["wmft_time"],
        subject="subject",
        reference="control",
        labels={"age": "Age (years)"},
        digits=2,
    )
    pd.testing.assert_frame_equal(pre, before)
    frame = t1.to_frame().set_index("Characteristic")
    ctl = pre[pre.arm == "control"]
    col = "control (n = 10)"
    age = ctl["age"].dropna()
    assert frame.loc["Age (years), mean (SD)", col] == f"{age.mean():.2f} ({age.std():.2f})"
    assert frame.loc["  missing", col] == str(int(ctl["age"].isna().sum()))
    q = ctl["wmft_time"].quantile([0.25, 0.5, 0.75])  # type 7 = pandas' default
    assert (
        frame.loc["wmft_time, median [Q1, Q3]", col]
        == f"{q[0.5]:.2f} [{q[0.25]:.2f}, {q[0.75]:.2f}]"
    )
    k = int((ctl["sex"] == "F").sum())
    assert frame.loc["  F", col] == f"{k} ({100 * k / len(ctl):.2f})"
    assert "walks, n (%)" in frame.index
    overall = "Overall (n = 20)"
    assert frame.loc["  M", overall].startswith(str(int((pre["sex"] == "M").sum())))
    vals = t1.values
    got = vals[(vals.variable == "age") & (vals.statistic == "sd") & (vals.group == col)]
    assert got["value"].iloc[0] == pytest.approx(age.std(), rel=1e-12)
    assert "no significance tests" in t1.summary()


def test_baseline_table_refuses_repeated_participants_and_label_variants(
    trial: pd.DataFrame,
) -> None:
    with pytest.raises(DataError, match="one row per participant"):
        rs.tables.baseline_table(trial, arm="arm", variables=["age"], subject="subject")
    pre = trial[trial.visit == "pre"].assign(arm=lambda d: d["arm"].astype(str))
    pre.loc[pre.index[0], "arm"] = "CIMT "
    with pytest.raises(DataError, match="differ only in case"):
        rs.tables.baseline_table(pre, arm="arm", variables=["age"])
    with pytest.raises(DataError, match=r"\['height'\]"):
        rs.tables.baseline_table(pre, arm="arm", variables=["height"])
    with pytest.raises(DataError, match="'digits'"):
        rs.tables.baseline_table(
            trial[trial.visit == "pre"], arm="arm", variables=["age"], digits=-1
        )


def test_renderings(trial: pd.DataFrame) -> None:
    pre = trial[trial.visit == "pre"]
    t1 = rs.tables.baseline_table(pre, arm="arm", variables=["age"], reference="control")
    md = t1.to_markdown()
    assert md.startswith("**Table 1. Baseline characteristics**")
    assert "| control (n = 10)" in md
    html = t1.to_html()
    assert "<caption>Table 1. Baseline characteristics</caption>" in html
    assert html == t1._repr_html_()
    tex = t1.to_latex()
    assert "\\begin{table}" in tex
    assert "\\toprule" in tex
    assert "CONSORT 2010" in tex


def test_outcome_table_observed_and_model_columns(trial: pd.DataFrame) -> None:
    data = trial.dropna(subset=["mal_aou"])
    fit = rs.mmrm("mal_aou ~ arm * visit", data, subject="subject", visit="visit")
    t2 = rs.tables.outcome_table(
        data, outcome="mal_aou", arm="arm", visit="visit", fit=fit, visit_order=VISITS
    )
    frame = t2.to_frame().set_index("Visit")
    assert frame.index.tolist() == VISITS
    for v in VISITS:
        y = data[(data.visit == v) & (data.arm == "cimt")]["mal_aou"]
        assert frame.loc[v, "cimt: mean (SD)"] == f"{y.mean():.2f} ({y.std():.2f})"
        assert frame.loc[v, "cimt: n"] == str(len(y))
    con = fit.contrasts("arm", by="visit", method="trt.vs.ctrl").set_index("visit")
    post = con.loc["post"]
    assert (
        frame.loc["post", "Difference [95% CI]"]
        == f"{post.estimate:.2f} [{post.ci_low:.2f}, {post.ci_high:.2f}]"
    )
    es = fit.effect_sizes("baseline_sd", by="visit").set_index("visit")
    assert frame.loc["post", "Effect size"].startswith(f"{es.loc['post', 'estimate']:.2f} [")
    vals = t2.values
    est = vals[(vals.visit == "post") & (vals.statistic == "estimate")]["value"].iloc[0]
    assert est == pytest.approx(post.estimate, rel=1e-12)
    assert "Reference arm: control" in t2.summary()


def test_outcome_table_ancova_and_without_fit(trial: pd.DataFrame) -> None:
    post = rs.data.baseline_as_covariate(
        trial, outcome="mal_aou", visit="visit", subject="subject", baseline_visit="pre"
    )
    post = post[post.visit == "post"].dropna(subset=["mal_aou"])
    fit = rs.ancova(post, outcome="mal_aou", arm="arm", baseline="baseline", reference="control")
    t2 = rs.tables.outcome_table(post, outcome="mal_aou", arm="arm", fit=fit, effect_size=None)
    row = t2.to_frame().iloc[0]
    con = fit.contrasts("arm", method="trt.vs.ctrl").iloc[0]
    assert row["Difference [95% CI]"] == f"{con.estimate:.2f} [{con.ci_low:.2f}, {con.ci_high:.2f}]"
    plain = rs.tables.outcome_table(
        trial, outcome="mal_aou", arm="arm", visit="visit", visit_order=VISITS, reference="control"
    )
    assert list(plain.to_frame().columns) == [
        "Visit",
        "control: mean (SD)",
        "control: n",
        "cimt: mean (SD)",
        "cimt: n",
    ]
    with pytest.raises(RehabStatsError, match="visit_order"):
        rs.tables.outcome_table(
            trial.assign(visit=trial["visit"].astype(str)),
            outcome="mal_aou",
            arm="arm",
            visit="visit",
        )
    # with the participants, their row sequence fixes the order (the library's visit rule)
    by_rows = rs.tables.outcome_table(
        trial.assign(visit=trial["visit"].astype(str)),
        outcome="mal_aou",
        arm="arm",
        visit="visit",
        subject="subject",
    )
    assert by_rows.to_frame()["Visit"].tolist() == VISITS


def test_results_sentence(trial: pd.DataFrame) -> None:
    data = trial.dropna(subset=["mal_aou"])
    fit = rs.mmrm("mal_aou ~ arm * visit", data, subject="subject", visit="visit")
    text = rs.tables.results_sentence(fit, visit="post", digits=2)
    con = fit.contrasts("arm", by="visit", method="trt.vs.ctrl").set_index("visit").loc["post"]
    assert (
        f"was {con.estimate:.2f} points (95% CI {con.ci_low:.2f} to {con.ci_high:.2f}; "
        f"p < .001; d = " in text
    )
    with pytest.raises(DataError, match="not a visit"):
        rs.tables.results_sentence(fit, visit="6m")


def test_format_p() -> None:
    assert rs.tables.format_p(0.0213) == "p = .021"
    assert rs.tables.format_p(1e-9) == "p < .001"
    assert rs.tables.format_p(float("nan")) == "p = NA"


def _flow_by_hand(data: pd.DataFrame, visits: list) -> dict:
    out = {}
    for arm, d in data.groupby("arm"):
        subjects = d["subject"].unique()
        observed = d.dropna(subset=["mal_aou"])
        last = observed.groupby("subject")["visit"].apply(lambda v: max(visits.index(x) for x in v))
        for i, v in enumerate(visits):
            assessed = set(observed.loc[observed.visit == v, "subject"])
            lost = sum(1 for s in subjects if last.get(s, -1) < i)
            out[(v, arm)] = len(assessed)
            out[(f"{v}: lost", arm)] = lost
            out[(f"{v}: missed", arm)] = len(subjects) - len(assessed) - lost
        out[("analysed", arm)] = int(last.size)
        out[("allocated", arm)] = len(subjects)
    return out


def test_consort_counts_equal_the_data(trial: pd.DataFrame) -> None:
    data = trial.copy()
    # an intermittent miss (returns later) and a dropout
    data.loc[(data.subject == data.subject.iloc[0]) & (data.visit == "post"), "mal_aou"] = np.nan
    flow = rs.tables.consort_flow(
        data,
        subject="subject",
        arm="arm",
        visit="visit",
        outcome="mal_aou",
        visit_order=VISITS,
        reference="control",
    )
    got = flow.values.set_index(["stage", "arm"])["n"].to_dict()
    want = _flow_by_hand(data, VISITS)
    assert got == want
    assert got[("post: missed", "cimt")] + got[("post: missed", "control")] == 1
    assert flow.to_frame().columns.tolist() == ["Stage", "control", "cimt"]
    fig = flow.plot()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "Randomised (n = 20)" in texts
    assert re.search(r"followup: assessed n = \d+", texts)


def test_consort_refuses_two_arms_for_one_participant(trial: pd.DataFrame) -> None:
    data = trial.assign(arm=trial["arm"].astype(str))
    data.loc[data.index[1], "arm"] = "control" if data.arm.iloc[1] == "cimt" else "cimt"
    with pytest.raises(DataError, match="more than one arm"):
        rs.tables.consort_flow(
            data, subject="subject", arm="arm", visit="visit", outcome="mal_aou", visit_order=VISITS
        )


def _small_trial() -> pd.DataFrame:
    rows = [
        {
            "pid": f"p{i}",
            "arm": "usual" if i % 2 else "cimt",
            "visit": v,
            "y": 10.0 + i + 2 * t + (i % 2),
        }
        for i in range(6)
        for t, v in enumerate(["week0", "week4"])
    ]
    return pd.DataFrame(rows)


def test_tables_refuse_text_infinite_and_unlabelled_rows() -> None:
    d = _small_trial()
    with pytest.raises(DataError, match="'y'.*numeric.*'n/a'"):  # not silently "missing"
        rs.tables.outcome_table(
            d.assign(y=d["y"].astype(object).where(d.index != 3, "n/a")),
            outcome="y",
            arm="arm",
            visit="visit",
        )
    with pytest.raises(DataError, match="infinite"):
        rs.tables.outcome_table(
            d.assign(y=d["y"].where(d.index != 3, np.inf)), outcome="y", arm="arm", visit="visit"
        )
    with pytest.raises(DataError, match="'visit' has missing labels"):
        rs.tables.consort_flow(
            d.assign(visit=d["visit"].where(d.index != 0, None)),
            subject="pid",
            arm="arm",
            visit="visit",
            outcome="y",
        )
    with pytest.raises(DataError, match="numeric"):
        rs.tables.consort_flow(
            d.assign(y=d["y"].astype(object).where(d.index != 3, "x")),
            subject="pid",
            arm="arm",
            visit="visit",
            outcome="y",
        )


def test_tables_huge_values_and_na_statistics() -> None:
    d = _small_trial()
    # values whose squares overflow are refused at data entry, naming the column
    with pytest.raises(DataError, match="'y'.*magnitude"):
        rs.tables.outcome_table(d.assign(y=d["y"] * 1e300), outcome="y", arm="arm", visit="visit")
    big = rs.tables.outcome_table(
        d.assign(y=d["y"] * 1e100), outcome="y", arm="arm", visit="visit"
    ).values
    unit = rs.tables.outcome_table(d, outcome="y", arm="arm", visit="visit").values
    np.testing.assert_allclose(
        big["value"][unit["statistic"] != "n"] / 1e100,
        unit["value"][unit["statistic"] != "n"],
        rtol=1e-12,
    )
    one = d[(d["pid"] != "p1") & (d["pid"] != "p3")]  # one 'usual' participant left
    with pytest.warns(rs.RehabStatsWarning, match="cannot be computed.*usual/sd"):
        t = rs.tables.outcome_table(one, outcome="y", arm="arm", visit="visit")
    assert "NA" in t.to_frame().to_string()


def test_baseline_table_numbers_stored_as_objects_are_numbers() -> None:
    d = _small_trial()
    d = d[d["visit"] == "week0"]
    as_obj = rs.tables.baseline_table(d.assign(y=d["y"].astype(object)), arm="arm", variables=["y"])
    plain = rs.tables.baseline_table(d, arm="arm", variables=["y"])
    pd.testing.assert_frame_equal(as_obj.to_frame(), plain.to_frame())


@pytest.mark.parametrize("p", [-0.03, 1.5, "0.03", True, np.inf])
def test_format_p_refuses_what_is_not_a_p_value(p: object) -> None:
    with pytest.raises(DataError, match="'p' must be a p value"):
        rs.tables.format_p(p)  # type: ignore[arg-type]


@pytest.mark.parametrize("digits", [-1, 7, 1.5, True, None])
def test_results_sentence_digits(digits: object) -> None:
    d = _small_trial()
    post = d[d["visit"] == "week4"].merge(
        d.loc[d["visit"] == "week0", ["pid", "y"]].rename(columns={"y": "base"}), on="pid"
    )
    fit = rs.ancova(post, outcome="y", arm="arm", baseline="base")
    with pytest.raises(DataError, match="'digits'"):
        rs.tables.results_sentence(fit, digits=digits)  # type: ignore[arg-type]


def test_consort_flow_refuses_subject_variants_and_missing_arms() -> None:
    d = _small_trial()
    with pytest.raises(DataError, match="'pid' has labels that differ only"):  # not 2 people
        rs.tables.consort_flow(
            d.assign(pid=d["pid"].where(d.index != 1, "p0 ")),
            subject="pid",
            arm="arm",
            visit="visit",
            outcome="y",
        )
    with pytest.raises(DataError, match="'arm' has missing labels"):
        rs.tables.outcome_table(
            d.assign(arm=d["arm"].where(d.index != 1, None)), outcome="y", arm="arm", visit="visit"
        )
