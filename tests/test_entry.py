"""The shared data-entry layer (rehabstats._entry) and the classes of issue 7 it fixes:
visit order (section 1), standardisers (3), reference arm and messy labels (4), and the
model / plot / report part of hostile input (5). Each test failed on the code before it."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from rehabstats._entry import (
    check_labels,
    default_reference,
    is_control_label,
    model_frame,
    resolve_visit_order,
    show,
)
from rehabstats._report import run_report
from rehabstats.errors import DataError, DesignError, RehabStatsWarning
from rehabstats.models import ancova, lmm, mixed_anova, mmrm
from rehabstats.plot._trajectories import trajectories, trajectory_summary


def trial(
    seed: int = 1,
    n_per_arm: int = 8,
    arms: tuple[str, str] = ("CIMT", "Control"),
    visits: tuple[str, ...] = ("pre", "post", "fu"),
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    m, k = 2 * n_per_arm, len(visits)
    arm = np.repeat(arms, n_per_arm)
    y = (
        20
        + rng.normal(0, 2, m)[:, None]
        + np.arange(k)
        + (arm == arms[0])[:, None] * np.linspace(0, 2, k)
        + rng.normal(size=(m, k))
    )
    return pd.DataFrame(
        {
            "subject": np.repeat([f"s{i:02d}" for i in range(m)], k),
            "arm": np.repeat(arm, k),
            "visit": np.tile(visits, m),
            "y": y.ravel(),
        }
    )


# ------------------------------------------------------------------ visit-order rule
def test_rule_precedence() -> None:
    d = pd.DataFrame(
        {
            "id": [1, 1, 1, 2, 2, 3, 3],
            "v": ["week12", "week4", "week1", "week1", "week12", "week4", "week12"],
        }
    )
    assert resolve_visit_order(d, "v", "id") == ["week1", "week4", "week12"]  # natural wins
    assert resolve_visit_order(pd.DataFrame({"v": ["month6", "month0", "month12"]}), "v") == [
        "month0",
        "month6",
        "month12",
    ]
    assert resolve_visit_order(pd.DataFrame({"v": [3.0, 1.0, 2.0]}), "v") == [1.0, 2.0, 3.0]
    # mixed patterns (day1 / week2) are not compared as numbers
    with pytest.raises(DesignError, match="visit_order"):
        resolve_visit_order(pd.DataFrame({"v": ["day1", "week2"]}), "v")


def test_within_subject_sequence_merges_subjects_missing_visits() -> None:
    # nobody has all four visits in one run; together the rows fix one order
    d = pd.DataFrame(
        {
            "id": [1, 1, 1, 2, 2, 3, 3],
            "v": ["screening", "baseline", "post", "baseline", "post", "post", "fu"],
        }
    )
    assert resolve_visit_order(d, "v", "id") == ["screening", "baseline", "post", "fu"]


def test_disagreeing_or_undetermined_sequences_raise() -> None:
    d = pd.DataFrame({"id": [1, 1, 2, 2], "v": ["pre", "post", "post", "pre"]})
    with pytest.raises(DesignError, match="subjects disagree.*visit_order"):
        resolve_visit_order(d, "v", "id")
    d = pd.DataFrame({"id": [1, 1, 2, 2], "v": ["pre", "post", "pre", "fu"]})
    with pytest.raises(DesignError, match="'post', 'fu' come first"):
        resolve_visit_order(d, "v", "id")
    d = pd.DataFrame({"id": [1, 1, 1, 2, 2, 2], "v": ["a", "b", "c", "c", "a", "b"]})
    with pytest.raises(DesignError, match="cycle"):
        resolve_visit_order(d, "v", "id")


def test_cli_strings_match_numeric_visits() -> None:
    d = pd.DataFrame({"v": [1, 2, 10]})
    assert resolve_visit_order(d, "v", visit_order=["10", "2", "1"]) == [10, 2, 1]


# ------------------------------------------------------------------ labels
@pytest.mark.parametrize("bad", [["CIMT", "cimt"], ["CIMT", "CIMT "], [" Sham", "sham"]])
def test_labels_differing_in_case_or_whitespace_are_an_error(bad: list[str]) -> None:
    with pytest.raises(DataError, match="differ only in case"):
        check_labels(pd.Series([*bad, "control"]), "arm")


def test_messy_labels_are_refused_everywhere(tmp_path: Path) -> None:
    d = trial()
    d.loc[d.index[:3], "arm"] = "cimt"
    d.loc[d.index[3:6], "arm"] = "CIMT "
    match = "Column 'arm' has labels that differ only in case"
    with pytest.raises(DataError, match=match):
        mmrm("y ~ arm * visit", d, subject="subject", visit="visit")
    with pytest.raises(DataError, match=match):
        lmm("y ~ arm * visit", d, subject="subject")
    with pytest.raises(DataError, match=match):
        mixed_anova(d, outcome="y", arm="arm", visit="visit", subject="subject")
    with pytest.raises(DataError, match=match):
        trajectories(d, outcome="y", arm="arm", visit="visit", subject="subject")
    wide = d[d["visit"] == "post"].assign(base=d.loc[d["visit"] == "pre", "y"].to_numpy())
    with pytest.raises(DataError, match=match):
        ancova(wide, outcome="y", arm="arm", baseline="base")
    # the report names the user's column ('group'), not its internal name
    d.rename(columns={"arm": "group"}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match="Column 'group' has labels"):
        run_report(
            tmp_path / "t.csv",
            design="rct",
            out_dir=tmp_path / "o",
            outcome="y",
            arm="group",
            visit="visit",
            subject="subject",
            log=lambda s: None,
        )
    v = trial()
    v.loc[v.index[:2], "visit"] = "Post"
    with pytest.raises(DataError, match="Column 'visit' has labels"):
        mmrm("y ~ arm * visit", v, subject="subject", visit="visit")


@settings(max_examples=6, deadline=None)
@given(
    names=st.lists(
        st.text(alphabet="abcdefgmnpq", min_size=1, max_size=5), min_size=2, max_size=2, unique=True
    )
)
def test_relabelling_arms_with_reference_changes_nothing(names: list[str]) -> None:
    d = trial(arms=("CIMT", "Control"))
    a = mmrm("y ~ arm * visit", d, subject="subject", visit="visit", covariance="cs")
    d2 = d.assign(arm=d["arm"].map({"CIMT": names[0], "Control": names[1]}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)  # names may both look like controls
        b = mmrm(
            "y ~ arm * visit",
            d2,
            subject="subject",
            visit="visit",
            covariance="cs",
            reference=names[1],
        )
    assert_allclose(b.loglik, a.loglik, rtol=1e-10)
    ea, eb = a.effect_sizes("residual_sd"), b.effect_sizes("residual_sd")
    assert_allclose(eb["estimate"], ea["estimate"], rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------ reference arm
@pytest.mark.parametrize(
    "label",
    [
        "control",
        "Usual care",
        "usual_care",
        "treatment as usual",
        "TAU",
        "sham",
        "Placebo",
        "wait-list",
        "Waitlist",
    ],
)
def test_control_labels_recognised(label: str) -> None:
    assert is_control_label(label)
    assert default_reference(["AAA", label]) == label


def test_reference_arm_in_every_model_and_summary() -> None:
    d = trial(arms=("CIMT", "Control"))
    fits = [
        mmrm("y ~ arm * visit", d, subject="subject", visit="visit", covariance="cs"),
        lmm("y ~ arm * visit", d, subject="subject"),
    ]
    wide = d[d["visit"] == "post"].assign(base=d.loc[d["visit"] == "pre", "y"].to_numpy())
    fits.append(ancova(wide, outcome="y", arm="arm", baseline="base"))
    for fit in fits:
        assert fit.reference_arm == "Control"
        assert "reference arm: Control" in fit.summary()
        con = fit.contrasts(
            "arm",
            method="trt.vs.ctrl",
            **({"by": "visit"} if "visit" in fit._grid().levels else {}),
        )
        assert set(con["contrast"]) == {"CIMT - Control"}
    # an explicit reference wins; an unknown one is an error naming the column
    f = lmm("y ~ arm * visit", d, subject="subject", reference="CIMT")
    assert f.reference_arm == "CIMT"
    assert "armControl" in f.coef_names
    with pytest.raises(DataError, match="'reference' arm 'sham' is not a level of column 'arm'"):
        mmrm("y ~ arm * visit", d, subject="subject", visit="visit", reference="sham")
    with pytest.warns(RehabStatsWarning, match="look like control arms"):
        assert default_reference(["placebo", "sham", "x"]) == "placebo"


# ------------------------------------------------------------------ standardisers
def _ich_e9(seed: int = 5) -> pd.DataFrame:
    """Post-baseline visits with the baseline as a covariate (change from baseline)."""
    rng = np.random.default_rng(seed)
    m = 24
    arm = np.repeat(["control", "active"], m // 2)
    base = rng.normal(30, 6, m)
    rows = []
    for i in range(m):
        for j, v in enumerate(["week4", "week8"]):
            chg = 0.3 * (base[i] - 30) + (arm[i] == "active") * (1 + j) + rng.normal(0, 2)
            rows.append(
                {"subject": f"s{i}", "arm": arm[i], "visit": v, "base": base[i], "chg": chg}
            )
    return pd.DataFrame(rows)


def test_mmrm_baseline_sd_is_pooled_within_arm_sd_of_the_baseline() -> None:
    d = _ich_e9()
    fit = mmrm("chg ~ base + arm * visit", d, subject="subject", visit="visit", baseline="base")
    es = fit.effect_sizes("baseline_sd")
    per = d.drop_duplicates("subject")
    sd = np.sqrt(per.groupby("arm")["base"].var(ddof=1).mean())  # equal arms: mean of vars
    assert_allclose(es["sd"], sd, rtol=1e-12)
    assert (
        es["standardizer_source"]
        .iloc[0]
        .startswith("pooled within-arm SD of the baseline covariate 'base'")
    )
    con = fit.contrasts("arm", by="visit", method="trt.vs.ctrl")
    assert_allclose(es["estimate"], con["estimate"] / sd, rtol=1e-12)
    # the old value, the model SD at the first modelled visit, is a different number
    assert not np.isclose(sd, np.sqrt(fit.covariance_matrix.iloc[0, 0]), rtol=1e-3)
    # without baseline= the first modelled visit (week4) is not a baseline
    fit2 = mmrm("chg ~ base + arm * visit", d, subject="subject", visit="visit")
    with pytest.raises(DesignError, match="identifiable baseline.*baseline="):
        fit2.effect_sizes("baseline_sd")
    assert (
        "mean of the model's SDs" in fit2.effect_sizes("residual_sd")["standardizer_source"].iloc[0]
    )
    fit3 = lmm("chg ~ base + arm * visit", d, subject="subject")
    with pytest.raises(DesignError, match="identifiable baseline"):
        fit3.effect_sizes("baseline_sd")
    fit4 = lmm("chg ~ base + arm * visit", d, subject="subject", baseline="base")
    assert_allclose(fit4.effect_sizes("baseline_sd")["sd"], sd, rtol=1e-12)
    with pytest.raises(DataError, match="one value per subject"):
        mmrm("chg ~ arm * visit", d, subject="subject", visit="visit", baseline="chg")


def test_ancova_standardizer_sources() -> None:
    d = _ich_e9().query("visit == 'week8'")
    fit = ancova(d, outcome="chg", arm="arm", baseline="base")
    assert (
        "baseline column 'base'" in fit.effect_sizes("baseline_sd")["standardizer_source"].iloc[0]
    )
    assert "residual SD" in fit.effect_sizes("residual_sd")["standardizer_source"].iloc[0]


# ------------------------------------------------------------------ hostile input
def test_infinite_outcome_is_a_data_error_naming_the_column() -> None:
    d = trial()
    d.loc[5, "y"] = np.inf
    for call in (
        lambda: mmrm("y ~ arm * visit", d, subject="subject", visit="visit"),
        lambda: lmm("y ~ arm * visit", d, subject="subject"),
        lambda: mixed_anova(d, outcome="y", arm="arm", visit="visit", subject="subject"),
        lambda: trajectory_summary(d, outcome="y", arm="arm", visit="visit", subject="subject"),
    ):
        with pytest.raises(DataError, match=r"Column 'y' \('outcome'\) holds an infinite"):
            call()
    wide = d[d["visit"] == "post"].assign(base=np.r_[np.inf, np.zeros(15)])
    with pytest.raises(DataError, match="Column 'base' .*infinite"):
        ancova(wide, outcome="y", arm="arm", baseline="base")


def test_all_missing_or_empty_outcome() -> None:
    d = trial().assign(y=np.nan)
    with (
        pytest.raises(DataError, match="No complete rows remain"),
        pytest.warns(RehabStatsWarning, match="missing"),
    ):
        lmm("y ~ arm * visit", d, subject="subject")
    wide = d[d["visit"] == "post"].assign(base=1.0)
    with pytest.raises(DataError, match=r"'y' \(outcome\) have no observed values"):
        ancova(wide, outcome="y", arm="arm", baseline="base")


def test_mixed_anova_constant_outcome_is_deliberate() -> None:
    d = trial().assign(y=3.0)
    with pytest.raises(DataError, match="constant"):
        mixed_anova(d, outcome="y", arm="arm", visit="visit", subject="subject")
    # no within-subject noise: each subject = its arm's profile + a subject shift
    d = trial()
    d["y"] = d["subject"].str[1:].astype(int) + d["visit"].map({"pre": 0, "post": 1, "fu": 3})
    with pytest.raises(DesignError, match="within-subject error sum of squares"):
        mixed_anova(d, outcome="y", arm="arm", visit="visit", subject="subject")


def test_index_named_like_the_subject_column() -> None:
    d = trial().set_index("subject", drop=False)
    assert d.index.name == "subject"
    mmrm("y ~ arm * visit", d, subject="subject", visit="visit", covariance="cs")
    lmm("y ~ arm * visit", d, subject="subject")
    mixed_anova(d, outcome="y", arm="arm", visit="visit", subject="subject")
    trajectory_summary(d, outcome="y", arm="arm", visit="visit", subject="subject")
    assert model_frame(d, ["subject", "y"]).index.name is None
    assert d.index.name == "subject"  # input untouched


def test_lmm_options_and_replicates() -> None:
    d = trial()
    with pytest.raises(DataError, match="'reml' argument must be True or False"):
        lmm("y ~ arm * visit", d, subject="subject", reml="yes")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="'nan_policy'"):
        lmm("y ~ arm * visit", d, subject="subject", nan_policy="drop")  # type: ignore[arg-type]
    miss = d.copy()
    miss.loc[3, "y"] = np.nan
    with pytest.raises(DataError, match="nan_policy='raise'"):
        lmm("y ~ arm * visit", miss, subject="subject", nan_policy="raise")
    dup = pd.concat([d, d.iloc[[0, 4]]], ignore_index=True)
    with pytest.warns(RehabStatsWarning, match="2 row.*replicate measurements"):
        fit = lmm("y ~ arm * visit", dup, subject="subject")
    assert fit.nobs == len(dup)
    with pytest.raises(DataError, match="at most one row per visit"):
        mmrm("y ~ arm * visit", dup, subject="subject", visit="visit")


def test_trajectories_announce_dropped_outcomes() -> None:
    d = trial()
    d.loc[[2, 7], "y"] = np.nan
    with pytest.warns(RehabStatsWarning, match=r"2 row\(s\) with a missing value"):
        trajectories(d, outcome="y", arm="arm", visit="visit", subject="subject")
    with pytest.raises(DataError, match="nan_policy='raise'"):
        trajectory_summary(
            d, outcome="y", arm="arm", visit="visit", subject="subject", nan_policy="raise"
        )


def test_messages_show_plain_values() -> None:
    assert show(np.int64(32)) == "32"
    d = trial()
    d["subject"] = np.repeat(np.arange(16), 3).astype(np.int64)
    d = pd.concat([d, d.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError) as err:
        mixed_anova(d, outcome="y", arm="arm", visit="visit", subject="subject")
    assert "np." not in str(err.value)
    assert "Subject 0 " in str(err.value)
    with pytest.raises(DataError) as err:
        mmrm("y ~ arm * visit", d, subject="subject", visit="visit")
    assert "np." not in str(err.value)


def test_report_mmrm_failure_names_the_users_columns(tmp_path: Path) -> None:
    d = trial().rename(columns={"arm": "group", "visit": "time"})
    d.loc[d["subject"] == "s00", "group"] = "third"  # an arm with a single subject
    d.to_csv(tmp_path / "t.csv", index=False)
    run_report(
        tmp_path / "t.csv",
        design="rct",
        out_dir=tmp_path / "o",
        outcome="y",
        arm="group",
        visit="time",
        subject="subject",
        reference="Control",
        log=lambda s: None,
    )
    page = (tmp_path / "o" / "index.html").read_text()
    assert "MMRM could not be fitted" in page
    assert "&#x27;group&#x27;" in page
    assert "&#x27;arm&#x27;" not in page


def test_no_pandas4_or_future_warnings() -> None:
    d = trial()
    d["visit"] = pd.Categorical(d["visit"], categories=["screen", "pre", "post", "fu"])
    d["arm"] = pd.Categorical(d["arm"], categories=["CIMT", "Control", "other"])
    wide = d[d["visit"] == "post"].assign(base=d.loc[d["visit"] == "pre", "y"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("error", DeprecationWarning)
        if hasattr(pd.errors, "Pandas4Warning"):
            warnings.simplefilter("error", pd.errors.Pandas4Warning)
        for cov in ("us", "ar1"):
            fit = mmrm("y ~ arm * visit", d, subject="subject", visit="visit", covariance=cov)
            fit.contrasts("arm", by="visit")
            fit.effect_sizes()
            fit.summary()
        f = lmm("y ~ arm * visit", d, subject="subject")
        f.anova()
        f.effect_sizes()
        ancova(wide, outcome="y", arm="arm", baseline="base").summary()
        mixed_anova(d, outcome="y", arm="arm", visit="visit", subject="subject")
        trajectories(d, outcome="y", arm="arm", visit="visit", subject="subject")


def test_report_sced_refuses_messy_phase_labels(tmp_path: Path) -> None:
    d = pd.DataFrame(
        {
            "t": range(1, 11),
            "ph": ["A"] * 4 + ["B", "b"] + ["B"] * 4,
            "y": [2, 3, 2, 3, 5, 6, 5, 7, 6, 7],
        }
    )
    d.to_csv(tmp_path / "ab.csv", index=False)
    with pytest.raises(DataError, match="Column 'ph' has labels"):
        run_report(
            tmp_path / "ab.csv",
            design="sced",
            out_dir=tmp_path / "o",
            outcome="y",
            phase="ph",
            session="t",
            log=lambda s: None,
        )
