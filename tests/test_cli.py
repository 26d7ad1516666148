"""The `rehabstats demo` command writes the effect-size tables and the HTML report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rehabstats import cli, datasets
from rehabstats import effect_sizes as es

EXPECTED = [
    "effect_sizes_between_arm.csv",
    "effect_sizes_within_arm.csv",
    "individual_change.csv",
    "responders.csv",
]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert cli.main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_writes_report_and_tables(demo_dir: Path) -> None:
    index = (demo_dir / "index.html").read_text(encoding="utf-8")
    assert "Effect sizes and individual change" in index
    for name in EXPECTED:
        assert (demo_dir / name).is_file()
        assert name in index
    assert "<table" in index
    assert "simulated" in index


def test_between_arm_table_is_sane(demo_dir: Path) -> None:
    table = pd.read_csv(demo_dir / "effect_sizes_between_arm.csv")
    assert len(table) == 16
    assert set(table["measure"]) == {"hedges_g", "cohens_d", "glass_delta", "d_ppc2"}
    assert (table["ci_low"] <= table["estimate"]).all()
    assert (table["estimate"] <= table["ci_high"]).all()
    assert (table["se"] > 0).all()
    mal = table[table["outcome"] == "mal_aou"]
    assert (mal["estimate"] > 0).all()  # CIMT improves MAL more (2.7 vs 0.5 points)
    wmft = table[(table["outcome"] == "wmft_time") & (table["visit"] == "post")]
    assert (wmft["estimate"] < 0).all()  # shorter times with CIMT
    follow = table[table["visit"] == "followup"]
    assert (follow["n_omitted"] == 1).all()
    assert (follow["n_y"] == 9).all()
    # |g| < |d| (small-sample correction) and the table equals a direct call
    post = mal[mal["visit"] == "post"].set_index("measure")
    assert abs(post.loc["hedges_g", "estimate"]) < abs(post.loc["cohens_d", "estimate"])
    trial = datasets.load("cimt_ms")
    at_post = trial[trial["visit"] == "post"]
    direct = es.hedges_g(
        at_post.loc[at_post["arm"] == "cimt", "mal_aou"],
        at_post.loc[at_post["arm"] == "control", "mal_aou"],
    )
    np.testing.assert_allclose(
        post.loc["hedges_g", ["estimate", "ci_low", "ci_high"]].astype(float),
        [direct.estimate, direct.ci_low, direct.ci_high],
        rtol=1e-12,
    )


def test_within_arm_and_individual_tables_are_sane(demo_dir: Path) -> None:
    within = pd.read_csv(demo_dir / "effect_sizes_within_arm.csv")
    assert len(within) == 16
    mal_post = within[(within["outcome"] == "mal_aou") & (within["visit"] == "post")]
    cimt = mal_post[mal_post["arm"] == "cimt"]["estimate"]
    control = mal_post[mal_post["arm"] == "control"]["estimate"]
    assert cimt.min() > control.max() > 0
    ind = pd.read_csv(demo_dir / "individual_change.csv")
    assert len(ind) == 20
    assert ind["subject"].is_unique
    np.testing.assert_allclose(ind["change"], ind["post"] - ind["pre"], atol=1e-12)
    assert set(ind["category"]) <= {"improved", "unchanged", "deteriorated"}
    assert ((ind["category"] != "unchanged") == ind["reliable"]).all()
    resp = pd.read_csv(demo_dir / "responders.csv")
    assert len(resp) == 6
    assert resp["proportion"].between(0, 1).all()
    assert (resp["ci_low"] <= resp["proportion"]).all()
    assert (resp["proportion"] <= resp["ci_high"]).all()
    by_arm = resp.groupby("arm")["proportion"].mean()
    assert by_arm["cimt"] > by_arm["control"]


def test_cli_rejects_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["frobnicate"])
    assert "invalid choice" in capsys.readouterr().err
