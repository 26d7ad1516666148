"""Issue 7 section 1: one visit-order rule for mmrm, lmm, mixed_anova, plots and the report.

Reference: tests/reference/models/visit_order/visit_order_reference.json, written by
visit_order_reference.R (R 4.2.2, nlme 3.1-162: ``gls(y ~ arm * visit, corAR1(form = ~ pos |
pid), REML)`` on the issue's 30-person repro, with the right order baseline < week4 < week12
and with the wrong order first appearance gave). REML fits: rtol 1e-5 (stated per assert).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from numpy.testing import assert_allclose

import rehabstats as rs
from rehabstats.errors import DataError, DesignError, RehabStatsWarning
from rehabstats.models import lmm, mixed_anova, mmrm
from rehabstats.plot._trajectories import trajectories, trajectory_summary

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "models" / "visit_order"
COVARIANCES = ["us", "cs", "csh", "ar1", "ar1h", "toep", "toeph"]
RIGHT = ["baseline", "week4", "week12"]


def repro() -> pd.DataFrame:
    """The issue's repro: p00 misses week4, so first appearance says week12 < week4."""
    rng = np.random.default_rng(11)
    rows = []
    for i in range(30):
        arm = "ex" if i % 2 else "usual"
        u = rng.normal(0, 1)
        e = 0.0
        for v, t in [("baseline", 0), ("week4", 4), ("week12", 12)]:
            e = 0.7 * e + rng.normal(0, 0.7)
            rows.append(
                dict(
                    pid=f"p{i:02d}",
                    arm=arm,
                    visit=v,
                    y=round(30 + u + (0.25 if arm == "ex" else 0.05) * t + e, 2),
                )
            )
    df = pd.DataFrame(rows)
    return df[~((df.pid == "p00") & (df.visit == "week4"))].reset_index(drop=True)


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((REF_DIR / "visit_order_reference.json").read_text())


def test_fixture_csv_is_the_repro() -> None:
    csv = pd.read_csv(REF_DIR / "repro_issue7.csv")
    pd.testing.assert_frame_equal(csv, repro(), check_exact=False, rtol=1e-12)


def test_issue_repro_matches_nlme_right_order(ref: dict) -> None:
    fit = mmrm("y ~ arm * visit", repro(), subject="pid", visit="visit", covariance="ar1")
    assert fit.visit_levels == RIGHT
    r = ref["right"]
    assert_allclose(fit.loglik, r["loglik"], rtol=1e-8)  # -109.4925
    assert round(fit.loglik, 4) == -109.4925
    coef = fit.coef().set_index("term")
    names = list(r["coef"])
    assert_allclose(
        coef.loc[names, "estimate"], [r["coef"][k] for k in names], rtol=1e-5, atol=1e-8
    )
    assert_allclose(coef.loc[names, "se"], [r["se"][k] for k in names], rtol=1e-5)
    sigma = fit.covariance_matrix.to_numpy()
    lag = np.abs(np.subtract.outer(np.arange(3), np.arange(3)))
    assert_allclose(sigma, r["sigma"] ** 2 * r["rho"] ** lag, rtol=1e-5)
    # the reference arm is the recognised control label "usual"
    assert fit.reference_arm == "usual"
    assert "armex" in fit.coef_names
    text = fit.summary()
    assert "visit order ('visit'): baseline < week4 < week12" in text
    assert "reference arm: usual" in text
    assert "baseline" in repr(fit)


def test_wrong_order_is_the_failure_mode_nlme_reproduces(ref: dict) -> None:
    # what first appearance used to give: -115.56, as nlme with that order
    fit = mmrm(
        "y ~ arm * visit",
        repro(),
        subject="pid",
        visit="visit",
        covariance="ar1",
        visit_order=["baseline", "week12", "week4"],
    )
    assert_allclose(fit.loglik, ref["wrong"]["loglik"], rtol=1e-8)
    assert round(fit.loglik, 2) == -115.56


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_shuffled_rows_give_identical_fits_for_every_structure(seed: int) -> None:
    d = repro()
    d["visit"] = d["visit"].replace({"baseline": "week0"})  # numbered labels: natural order
    shuffled = d.sample(frac=1.0, random_state=np.random.default_rng(seed))
    for cov in COVARIANCES:
        a = mmrm("y ~ arm * visit", d, subject="pid", visit="visit", covariance=cov)
        b = mmrm("y ~ arm * visit", shuffled, subject="pid", visit="visit", covariance=cov)
        assert a.visit_levels == b.visit_levels == ["week0", "week4", "week12"], cov
        assert a.coef_names == b.coef_names, cov
        assert_allclose(b.loglik, a.loglik, rtol=1e-9, err_msg=cov)
        ca, cb = a.coef(), b.coef()
        assert_allclose(cb["estimate"], ca["estimate"], rtol=1e-6, atol=1e-8, err_msg=cov)
        assert_allclose(cb["se"], ca["se"], rtol=1e-5, err_msg=cov)


def test_shuffled_rows_with_unnumbered_labels_raise_not_reorder() -> None:
    shuffled = repro().sample(frac=1.0, random_state=np.random.default_rng(4))
    with pytest.raises(DesignError, match="visit_order"):
        mmrm("y ~ arm * visit", shuffled, subject="pid", visit="visit", covariance="ar1")
    fit = mmrm(
        "y ~ arm * visit",
        shuffled,
        subject="pid",
        visit="visit",
        covariance="ar1",
        visit_order=RIGHT,
    )
    assert round(fit.loglik, 4) == -109.4925


@settings(max_examples=5, deadline=None)
@given(
    labels=st.lists(
        st.text(alphabet="abcdefghxyz_", min_size=1, max_size=6),
        min_size=3,
        max_size=3,
        unique_by=lambda s: s.casefold(),
    ),
    seed=st.integers(0, 2**31 - 1),
)
def test_relabelling_visits_with_visit_order_changes_nothing(labels: list[str], seed: int) -> None:
    d = repro()
    base = mmrm("y ~ arm * visit", d, subject="pid", visit="visit", covariance="toep")
    mapping = dict(zip(RIGHT, labels, strict=True))
    d2 = d.assign(visit=d["visit"].map(mapping)).sample(
        frac=1.0, random_state=np.random.default_rng(seed)
    )
    fit = mmrm(
        "y ~ arm * visit", d2, subject="pid", visit="visit", covariance="toep", visit_order=labels
    )
    assert fit.visit_levels == labels
    assert_allclose(fit.loglik, base.loglik, rtol=1e-9)
    assert_allclose(fit.coef()["estimate"], base.coef()["estimate"], rtol=1e-6, atol=1e-8)


def test_lmm_and_mmrm_agree_on_pre_post_6m() -> None:
    rng = np.random.default_rng(3)
    d = pd.DataFrame(
        {
            "subject": np.repeat(np.arange(12), 3),
            "arm": np.repeat(["cimt", "control"], 18),
            "visit": np.tile(["pre", "post", "6m"], 12),
        }
    )
    d["y"] = rng.normal(size=36) + np.repeat(rng.normal(size=12), 3)
    a = lmm("y ~ arm * visit", d, subject="subject")
    b = mmrm("y ~ arm * visit", d, subject="subject", visit="visit", covariance="cs")
    assert a.visit_levels == b.visit_levels == ["pre", "post", "6m"]
    assert "visitpost" in a.coef_names
    assert "visit6m" in a.coef_names
    assert a.coef_names == b.coef_names
    assert a.reference_arm == b.reference_arm == "control"
    # the same rule in the mixed ANOVA, the plot, the summary table
    assert mixed_anova(
        d, outcome="y", arm="arm", visit="visit", subject="subject"
    ).visit_levels == ("pre", "post", "6m")
    s = trajectory_summary(d, outcome="y", arm="arm", visit="visit", subject="subject")
    assert list(s["visit"][:3]) == ["pre", "post", "6m"]
    assert list(s["arm"].unique()) == ["control", "cimt"]
    # lmm: an explicit visit= column, whatever its name
    e = lmm("y ~ arm * time", d.rename(columns={"visit": "time"}), subject="subject", visit="time")
    assert e.visit_levels == ["pre", "post", "6m"]


def test_trajectories_draw_week4_before_week12() -> None:
    fig = trajectories(repro(), outcome="y", arm="arm", visit="visit", subject="pid")
    assert isinstance(fig, Figure)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == RIGHT
    with pytest.raises(DesignError, match="visit_order"):  # no subject: rows cannot tell
        trajectories(repro(), outcome="y", arm="arm", visit="visit")
    fig = trajectories(repro(), outcome="y", arm="arm", visit="visit", visit_order=RIGHT)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == RIGHT


def test_all_missing_visit_is_dropped_with_a_warning_naming_it() -> None:
    d = repro()
    extra = d[d["visit"] == "week12"].assign(visit="6m", y=np.nan)
    d = pd.concat([d, extra], ignore_index=True)
    order = [*RIGHT, "6m"]
    with pytest.warns(RehabStatsWarning) as rec:
        fit = mmrm(
            "y ~ arm * visit", d, subject="pid", visit="visit", covariance="ar1", visit_order=order
        )
    msgs = [str(w.message) for w in rec]
    assert any("visit '6m'" in m and "no observed outcome and was dropped" in m for m in msgs)
    assert fit.visit_levels == RIGHT
    with pytest.warns(RehabStatsWarning) as rec:
        assert lmm("y ~ arm * visit", d, subject="pid", visit_order=order).visit_levels == RIGHT
    assert any("visit '6m' has no observed outcome" in str(w.message) for w in rec)


def test_visit_order_validation() -> None:
    d = repro()
    with pytest.raises(DataError, match=r"'week12'.*does not list"):
        mmrm("y ~ arm * visit", d, subject="pid", visit="visit", visit_order=["baseline", "week4"])
    with pytest.raises(DataError, match="list of visit labels"):
        mmrm("y ~ arm * visit", d, subject="pid", visit="visit", visit_order="baseline")
    with pytest.raises(DataError, match="twice"):
        mmrm(
            "y ~ arm * visit",
            d,
            subject="pid",
            visit="visit",
            visit_order=["baseline", "week4", "week4", "week12"],
        )
    # labels listed but absent from the data are left out
    fit = mmrm(
        "y ~ arm * visit",
        d,
        subject="pid",
        visit="visit",
        covariance="cs",
        visit_order=["screening", *RIGHT],
    )
    assert fit.visit_levels == RIGHT


def test_categorical_numeric_and_natural_orders() -> None:
    d = repro()
    cat = d.assign(visit=pd.Categorical(d["visit"], categories=["x", *RIGHT]))
    assert (
        mmrm("y ~ arm * visit", cat, subject="pid", visit="visit", covariance="cs").visit_levels
        == RIGHT
    )  # unused category ignored
    num = d.assign(visit=d["visit"].map({"baseline": 0, "week4": 4, "week12": 12}))
    assert mmrm(
        "y ~ arm * C(visit)", num, subject="pid", visit="visit", covariance="cs"
    ).visit_levels == [0, 4, 12]
    text = d.assign(visit=d["visit"].map({"baseline": "1", "week4": "2", "week12": "10"}))
    assert mmrm(
        "y ~ arm * visit",
        text.sample(frac=1.0, random_state=1),
        subject="pid",
        visit="visit",
        covariance="cs",
    ).visit_levels == ["1", "2", "10"]


def test_report_and_cli_use_the_rule(tmp_path: Path) -> None:
    from rehabstats.cli import main

    path = tmp_path / "trial.csv"
    repro().rename(columns={"arm": "group"}).to_csv(path, index=False)
    kw = dict(
        design="rct", outcome="y", arm="group", visit="visit", subject="pid", log=lambda s: None
    )
    rs._report.run_report(path, out_dir=tmp_path / "a", **kw)
    desc = pd.read_csv(tmp_path / "a" / "descriptives.csv")
    assert list(dict.fromkeys(desc["visit"])) == RIGHT
    con = pd.read_csv(tmp_path / "a" / "mmrm_contrasts.csv")
    assert list(con["visit"]) == RIGHT
    assert set(con["contrast"]) == {"ex - usual"}
    # shuffled rows: the order cannot be read from the rows -> ask for --visit-order
    shuffled = tmp_path / "shuffled.csv"
    pd.read_csv(path).sample(frac=1.0, random_state=2).to_csv(shuffled, index=False)
    with pytest.raises(DesignError, match="visit_order"):
        rs._report.run_report(shuffled, out_dir=tmp_path / "b", **kw)
    code = main(
        [
            "report",
            str(shuffled),
            "--design",
            "rct",
            "--outcome",
            "y",
            "--arm",
            "group",
            "--visit",
            "visit",
            "--subject",
            "pid",
            "--visit-order",
            "baseline,week4,week12",
            "--out",
            str(tmp_path / "c"),
        ]
    )
    assert code == 0
    desc = pd.read_csv(tmp_path / "c" / "descriptives.csv")
    assert list(dict.fromkeys(desc["visit"])) == RIGHT
