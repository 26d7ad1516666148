"""`rehabstats report FILE --design rct|sced`: run_report and main_report on small CSVs.

References: the R outputs stored with the CIMT validation data set
(/work/shared/validation/rct/cimt_n20_3v.json): effectsize 0.8.3 ``hedges_g`` at the
final visit (estimate rtol 1e-10, a closed form; CI limits rtol 1e-5, effectsize's own
root finder), the arm x visit means and SDs (rtol 1e-12), and emmeans 1.8.4 on an nlme
``gls`` unstructured MMRM (contrast estimates and SEs rtol 1e-4, as tests/models: gls
stops at a looser tolerance than our fit).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import load_json
from numpy.testing import assert_allclose

from rehabstats import effect_sizes as es
from rehabstats import sced
from rehabstats._report import add_report_parser, main_report, run_report
from rehabstats.errors import DataError, DesignError, RehabStatsError


def _quiet(_: str) -> None:
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rehabstats")
    add_report_parser(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture
def rct_csv(tmp_path: Path, validation_dir: Path) -> Path:
    data = pd.read_csv(validation_dir / "rct" / "cimt_n20_3v.csv")
    # user-style column names (with a space) to check nothing relies on the names
    data = data.rename(columns={"outcome": "MAL amount", "arm": "group", "subject": "id"})
    path = tmp_path / "trial.csv"
    data.to_csv(path, index=False)
    return path


def _sced_frame() -> pd.DataFrame:
    rng = np.random.default_rng(20261122)
    parts = []
    for case, (na, nb) in {"P1": (4, 8), "P2": (6, 6), "P3": (8, 5)}.items():
        y = np.r_[rng.normal(3, 1, na), rng.normal(6, 1, nb)].round(1)
        parts.append(
            pd.DataFrame(
                {
                    "participant": case,
                    "session": np.arange(1, na + nb + 1),
                    "phase": ["A"] * na + ["B"] * nb,
                    "steps": y,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def sced_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sced.csv"
    _sced_frame().to_csv(path, index=False)
    return path


RCT_KW = {"outcome": "MAL amount", "arm": "group", "visit": "visit", "subject": "id"}


def test_rct_report_matches_r(rct_csv: Path, tmp_path: Path, validation_dir: Path) -> None:
    out = tmp_path / "out"
    index = run_report(
        rct_csv, design="rct", out_dir=out, reference="control", log=_quiet, **RCT_KW
    )
    ref = load_json(validation_dir / "rct" / "cimt_n20_3v.json")["results"]
    page = index.read_text(encoding="utf-8")
    for name in ("descriptives.csv", "effect_sizes.csv", "trajectories.png", "forest_hedges_g.png"):
        assert (out / name).is_file()
        assert name in page
    assert "<table" in page
    assert "trial.csv" in page

    desc = pd.read_csv(out / "descriptives.csv")
    assert list(desc["visit"]) == ["pre", "pre", "post", "post", "followup", "followup"]
    assert list(desc["arm"]) == ["control", "cimt"] * 3
    g_ref = ref["effect_size.hedges_g"]["output"][0]
    last = desc[desc["visit"] == "followup"].set_index("arm")
    for arm, key in (("cimt", "trt_desc"), ("control", "ctl_desc")):
        assert last.loc[arm, "n"] == g_ref[key]["n"]
        assert_allclose(
            last.loc[arm, ["mean", "sd"]].astype(float),
            [g_ref[key]["mean"], g_ref[key]["sd"]],
            rtol=1e-12,
        )

    g = pd.read_csv(out / "effect_sizes.csv")
    assert list(g["visit"]) == ["post", "followup"]  # baseline visit excluded
    assert set(g["contrast"]) == {"cimt - control"}
    assert set(g["measure"]) == {"hedges_g"}
    fu = g[g["visit"] == "followup"].iloc[0]
    assert_allclose(fu["estimate"], g_ref["estimate"], rtol=1e-10)
    assert_allclose([fu["ci_low"], fu["ci_high"]], [g_ref["ci_low"], g_ref["ci_high"]], rtol=1e-5)

    # MMRM (unstructured, REML, Satterthwaite) against emmeans on nlme::gls
    con = pd.read_csv(out / "mmrm_contrasts.csv")
    r_con = pd.DataFrame(ref["mmrm_gls.us.emmeans_satterthwaite_hiacc"]["output"]["contrasts"])
    merged = con.merge(r_con, on=["contrast", "visit"], suffixes=("", "_r"), validate="1:1")
    assert len(merged) == 3
    assert_allclose(merged["estimate"], merged["estimate_r"], rtol=1e-4, atol=1e-6)
    assert_allclose(merged["se"], merged["se_r"], rtol=1e-4)
    assert_allclose(merged["df"], merged["df_r"], rtol=1e-3)  # gls df: README tolerance
    assert "forest_mmrm.png" in page


def test_rct_default_reference_is_the_control_arm(rct_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    run_report(rct_csv, design="rct", out_dir=out, baseline_visit="pre", log=_quiet, **RCT_KW)
    g = pd.read_csv(out / "effect_sizes.csv")
    # "control" is recognised although "cimt" sorts first (issue 7 section 4)
    assert set(g["contrast"]) == {"cimt - control"}
    assert (g["estimate"] > 0).all()
    # without a recognised control label: the first arm in sorted order
    data = pd.read_csv(rct_csv)
    data["group"] = data["group"].map({"cimt": "b_cimt", "control": "a_cmt"})
    data.to_csv(tmp_path / "ab.csv", index=False)
    run_report(
        tmp_path / "ab.csv",
        design="rct",
        out_dir=tmp_path / "o2",
        baseline_visit="pre",
        log=_quiet,
        **RCT_KW,
    )
    g2 = pd.read_csv(tmp_path / "o2" / "effect_sizes.csv")
    assert set(g2["contrast"]) == {"b_cimt - a_cmt"}


def test_rct_missing_outcomes_are_counted(rct_csv: Path, tmp_path: Path) -> None:
    data = pd.read_csv(rct_csv)
    gone = (data["visit"] == "post") & data["id"].isin(["S003", "S001"])  # one per arm
    data.loc[gone, "MAL amount"] = np.nan
    path = tmp_path / "missing.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "o"
    run_report(path, design="rct", out_dir=out, reference="control", log=_quiet, **RCT_KW)
    desc = pd.read_csv(out / "descriptives.csv").set_index(["visit", "arm"])
    assert desc.loc[("post", "cimt"), "n"] == 9
    assert desc.loc[("post", "cimt"), "n_missing"] == 1
    g = pd.read_csv(out / "effect_sizes.csv").set_index("visit")
    assert g.loc["post", "n_omitted"] == 2
    assert g.loc["post", "n"] == 18
    post = data[(data["visit"] == "post")].dropna(subset=["MAL amount"])
    direct = es.hedges_g(
        post.loc[post["group"] == "cimt", "MAL amount"],
        post.loc[post["group"] == "control", "MAL amount"],
    )
    assert_allclose(
        g.loc["post", ["estimate", "ci_low", "ci_high"]].astype(float),
        [direct.estimate, direct.ci_low, direct.ci_high],
        rtol=1e-12,
    )


def test_sced_report_equals_library_calls(sced_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    index = run_report(
        sced_csv,
        design="sced",
        out_dir=out,
        outcome="steps",
        phase="phase",
        session="session",
        case="participant",
        log=_quiet,
    )
    page = index.read_text(encoding="utf-8")
    table = pd.read_csv(out / "sced_effect_sizes.csv")
    assert len(table) == 3 * 4
    assert set(table["index"]) == {"nap", "tau_u", "tau_bc", "smd"}
    direct = sced.effect_sizes(
        _sced_frame(),
        outcome="steps",
        phase="phase",
        session="session",
        case="participant",
        indices=["nap", "tau_u", "tau_bc", "smd"],
        tau_u_ci="s",
    )
    assert_allclose(table["estimate"], direct["estimate"], rtol=1e-12)
    assert_allclose(table["ci_low"], direct["ci_low"], rtol=1e-12)
    for name in ("sced_effect_sizes.csv", "sced_describe.csv", "forest_sced.png", "sced_plot.png"):
        assert (out / name).is_file()
        assert name in page


def test_sced_improvement_decrease_flips_nap(sced_csv: Path, tmp_path: Path) -> None:
    up, down = tmp_path / "up", tmp_path / "down"
    kw = {"outcome": "steps", "phase": "phase", "session": "session", "case": "participant"}
    run_report(sced_csv, design="sced", out_dir=up, log=_quiet, **kw)
    run_report(sced_csv, design="sced", out_dir=down, improvement="decrease", log=_quiet, **kw)
    a = pd.read_csv(up / "sced_effect_sizes.csv")
    b = pd.read_csv(down / "sced_effect_sizes.csv")
    nap = a["index"] == "nap"
    assert_allclose(a.loc[nap, "estimate"] + b.loc[nap, "estimate"], 1.0, rtol=1e-12)


def test_main_report_from_parsed_namespace(sced_csv: Path, rct_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    args = _parser().parse_args(
        [
            "report",
            str(sced_csv),
            "--design",
            "sced",
            "--outcome",
            "steps",
            "--phase",
            "phase",
            "--session",
            "session",
            "--case",
            "participant",
            "--out",
            str(out),
        ]
    )
    assert main_report(args) == 0
    assert (out / "index.html").is_file()
    out2 = tmp_path / "cli2"
    args = _parser().parse_args(
        [
            "report",
            str(rct_csv),
            "--design",
            "rct",
            "--outcome",
            "MAL amount",
            "--arm",
            "group",
            "--visit",
            "visit",
            "--subject",
            "id",
            "--reference",
            "control",
            "--baseline-visit",
            "pre",
            "--out",
            str(out2),
        ]
    )
    assert main_report(args) == 0
    assert (out2 / "effect_sizes.csv").is_file()


def test_parser_rejects_unknown_design() -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["report", "x.csv", "--design", "crossover", "--outcome", "y"])


@pytest.mark.parametrize(
    ("edit", "kwargs", "match"),
    [
        (None, {"path": "nope.csv"}, "does not exist"),
        ("empty", {}, "is empty"),
        ("header", {}, "no rows"),
        ("text_outcome", {}, "'MAL amount'.*not numbers.*'lots'"),
        (None, {"outcome": "MAL"}, "'outcome' names column 'MAL'.*Available columns"),
        (None, {"arm": None}, "--arm"),
        (None, {"reference": "placebo"}, "'reference' arm 'placebo'"),
        (None, {"baseline_visit": "week 0"}, "'baseline_visit' 'week 0'"),
        ("duplicate", {}, "more than one row"),
        ("one_arm", {}, "at least two arms"),
        (None, {"design": "crossover"}, "'design'"),
        (None, {"ci": 95}, "'ci'"),
    ],
)
def test_rct_bad_input(
    rct_csv: Path, tmp_path: Path, edit: str | None, kwargs: dict[str, object], match: str
) -> None:
    path = rct_csv
    data = pd.read_csv(rct_csv)
    if edit is not None:
        path = tmp_path / f"{edit}.csv"
        if edit == "empty":
            path.write_text("", encoding="utf-8")
        elif edit == "header":
            data.iloc[:0].to_csv(path, index=False)
        else:
            if edit == "text_outcome":
                data["MAL amount"] = data["MAL amount"].astype(object)
                data.loc[4, "MAL amount"] = "lots"
            elif edit == "duplicate":
                data = pd.concat([data, data.iloc[[0]]])
            elif edit == "one_arm":
                data = data[data["group"] == "cimt"]
            data.to_csv(path, index=False)
    call: dict[str, object] = {"design": "rct", "out_dir": tmp_path / "o", **RCT_KW}
    call.update({k: v for k, v in kwargs.items() if k != "path"})
    if "path" in kwargs:
        path = tmp_path / str(kwargs["path"])
    with pytest.raises(DataError, match=match):
        run_report(path, log=_quiet, **call)  # type: ignore[arg-type]


def test_sced_bad_input(sced_csv: Path, tmp_path: Path) -> None:
    kw = {"outcome": "steps", "phase": "phase", "session": "session", "case": "participant"}
    with pytest.raises(DataError, match="--session"):
        run_report(
            sced_csv, design="sced", out_dir=tmp_path, log=_quiet, outcome="steps", phase="phase"
        )
    with pytest.raises(DataError, match="'case' names column 'who'"):
        run_report(sced_csv, design="sced", out_dir=tmp_path, log=_quiet, **{**kw, "case": "who"})
    with pytest.raises(DesignError, match="'C'"):
        run_report(sced_csv, design="sced", out_dir=tmp_path, log=_quiet, treatment_phase="C", **kw)
    data = _sced_frame()
    data["steps"] = data["steps"].astype(object)
    data.loc[3, "steps"] = "n/a?"
    bad = tmp_path / "bad.csv"
    data.to_csv(bad, index=False)
    with pytest.raises(DataError, match="not numbers: P1"):
        run_report(bad, design="sced", out_dir=tmp_path, log=_quiet, **kw)


def test_errors_are_rehabstats_errors_one_line(tmp_path: Path) -> None:
    with pytest.raises(RehabStatsError) as info:
        run_report(
            tmp_path / "missing.csv",
            design="sced",
            out_dir=tmp_path,
            outcome="y",
            phase="p",
            session="s",
            log=_quiet,
        )
    assert "\n" not in str(info.value)


def _cli_has_report() -> bool:
    from rehabstats import cli

    parser = cli._build_parser()
    return any("report" in (getattr(a, "choices", None) or {}) for a in parser._actions)


@pytest.mark.skipif(not _cli_has_report(), reason="cli.py does not register 'report' yet")
def test_console_command_exit_status(
    sced_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rehabstats import cli

    base = [
        "report",
        "--design",
        "sced",
        "--outcome",
        "steps",
        "--phase",
        "phase",
        "--session",
        "session",
        "--out",
        str(tmp_path / "o"),
    ]
    assert cli.main([base[0], str(sced_csv), *base[1:], "--case", "participant"]) == 0
    assert cli.main([base[0], str(tmp_path / "absent.csv"), *base[1:]]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rehabstats: error:")
    assert "does not exist" in err
    assert len(err.splitlines()) == 1


def test_rct_three_arms_and_mmrm_failure_is_reported(tmp_path: Path, validation_dir: Path) -> None:
    data = pd.read_csv(validation_dir / "rct" / "threearm_n45_4v.csv")
    path = tmp_path / "three.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "o"
    run_report(
        path,
        design="rct",
        out_dir=out,
        outcome="outcome",
        arm="arm",
        visit="visit",
        subject="subject",
        reference="control",
        log=_quiet,
    )
    g = pd.read_csv(out / "effect_sizes.csv")
    arms = sorted(set(data["arm"]) - {"control"})
    assert sorted(set(g["contrast"])) == [f"{a} - control" for a in arms]
    assert len(g) == len(arms) * (data["visit"].nunique() - 1)
    con = pd.read_csv(out / "mmrm_contrasts.csv")
    assert len(con) == len(arms) * data["visit"].nunique()
    # two subjects cannot estimate an unstructured covariance: the report says so and goes on
    small = data[
        data["subject"].isin(
            data["subject"].unique()[:1].tolist()
            + data.loc[data["arm"] == "control", "subject"].unique()[:1].tolist()
        )
    ]
    small_path = tmp_path / "small.csv"
    small.to_csv(small_path, index=False)
    page = run_report(
        small_path,
        design="rct",
        out_dir=tmp_path / "s",
        outcome="outcome",
        arm="arm",
        visit="visit",
        subject="subject",
        reference="control",
        log=_quiet,
    ).read_text(encoding="utf-8")
    assert "could not be fitted" in page
    g_small = pd.read_csv(tmp_path / "s" / "effect_sizes.csv")  # one subject per arm: no g
    assert g_small["estimate"].isna().all()
    assert (g_small["n_x"] == 1).all()
    assert g_small["note"].str.contains("at least 2").all()
