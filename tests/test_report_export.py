"""`rehabstats report` from a messy export: wide / Excel input, label variants, missing-data
codes, the measure registry (range, direction, MCID responders), ANCOVA next to the MMRM,
the MMRM's covariance / df options, and the classic single-case additions.

References: the report's numbers must equal the library's own functions on the clean
long data (``rs.datasets.load("cimt_ms")``, whose MAL values the export holds, with P04's
6-month value missing as the export's −99 code says; codebook ``cimt_ms_export.md``).
Same code on the same numbers: rtol 1e-10 for closed forms (descriptives, Hedges' g,
ANCOVA, responders), 1e-6 for the REML MMRM (the fits start from differently ordered
rows). The R agreement of the functions themselves is tested in their own test files.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import rehabstats as rs
from rehabstats import _report, cli, sced
from rehabstats._report import resolve_improvement, run_report
from rehabstats.errors import DataError
from rehabstats.models._covariance import COVARIANCE_STRUCTURES

EXPORT = [
    "--design",
    "rct",
    "--wide",
    "--outcome",
    "mal",
    "--measure",
    "mal_aou",
    "--visits",
    "pre,post,6m",
    "--arm",
    "group",
    "--subject",
    "record_id",
]
VISITS = {"pre": "pre", "post": "post", "6m": "followup"}  # export label -> clean label


def _quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def export_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "cimt_ms_export.csv"
    rs.datasets.load("cimt_ms_export").to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    """The clean long data with the export's problems applied (P04's 6-month MAL missing)."""
    data = rs.datasets.load("cimt_ms").copy()
    data.loc[(data["subject"] == "P04") & (data["visit"] == "followup"), "mal_aou"] = np.nan
    data["arm"] = data["arm"].map({"cimt": "CIMT", "control": "Control"})
    data["visit"] = data["visit"].map({v: k for k, v in VISITS.items()})
    return data


@pytest.fixture(scope="module")
def export_run(export_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export_out")
    rc = cli.main(
        [
            "report",
            str(export_csv),
            *EXPORT,
            "--normalize-labels",
            "--invalid",
            "missing",
            "--mcid",
            "0.5",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    return out


def test_export_is_refused_with_the_problems_listed(
    export_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ["--out", str(tmp_path / "o")]
    assert cli.main(["report", str(export_csv), *EXPORT, *out]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("rehabstats: error:")
    for label in ("'CIMT'", "'cimt '", "'Cimt'", "'control'", "'Control '"):
        assert label in err
    assert "--normalize-labels" in err
    # labels merged: the -99 code is the next refusal, naming the participant
    assert cli.main(["report", str(export_csv), *EXPORT, "--normalize-labels", *out]) == 2
    err = capsys.readouterr().err.strip()
    assert "P04 (-99" in err
    assert "--invalid missing" in err
    assert "missing-data codes" in err
    assert not (tmp_path / "o" / "index.html").exists()


def test_export_report_equals_the_clean_analysis(
    export_run: Path, export_csv: Path, clean: pd.DataFrame
) -> None:
    page = html.unescape((export_run / "index.html").read_text(encoding="utf-8"))
    # the input file is not modified
    assert export_csv.read_text(encoding="utf-8") == rs.datasets.load("cimt_ms_export").to_csv(
        index=False
    )
    assert "'CIMT' / 'cimt ' / 'Cimt' -> 'CIMT'" in page  # the merge is reported
    assert "P04 (-99.0)" in page
    assert "reference arm: Control" in page
    assert "pre < post < 6m" in page
    assert "responders at 6m, arm CIMT: 1 missing" in page
    analysed = pd.read_csv(export_run / "analysed_data.csv")
    assert len(analysed) == 60
    assert set(analysed["group"]) == {"CIMT", "Control"}
    missing = analysed.loc[analysed["mal"].isna(), ["record_id", "visit"]]
    assert sorted(map(tuple, missing.to_numpy())) == [("P04", "6m"), ("P07", "6m")]

    # descriptives (rtol 1e-10)
    desc = pd.read_csv(export_run / "descriptives.csv").set_index(["visit", "arm"])
    direct = clean.groupby(["visit", "arm"])["mal_aou"].agg(["count", "mean", "std"])
    for (v, a), row in direct.iterrows():
        assert desc.loc[(v, a), "n"] == row["count"]
        assert_allclose(
            desc.loc[(v, a), ["mean", "sd"]].astype(float), [row["mean"], row["std"]], rtol=1e-10
        )

    # Hedges' g at each follow-up visit (rtol 1e-10)
    g = pd.read_csv(export_run / "effect_sizes.csv").set_index("visit")
    for v in ("post", "6m"):
        at = clean[clean["visit"] == v].dropna(subset=["mal_aou"])
        ref = rs.effect_sizes.hedges_g(
            at.loc[at["arm"] == "CIMT", "mal_aou"], at.loc[at["arm"] == "Control", "mal_aou"]
        )
        assert_allclose(
            g.loc[v, ["estimate", "ci_low", "ci_high"]].astype(float),
            [ref.estimate, ref.ci_low, ref.ci_high],
            rtol=1e-10,
        )

    # MMRM (unstructured, Satterthwaite): rtol 1e-6
    fit = rs.mmrm(
        "mal_aou ~ arm * visit",
        clean.dropna(subset=["mal_aou"]),
        subject="subject",
        visit="visit",
        visit_order=["pre", "post", "6m"],
        arm="arm",
        reference="Control",
    )
    ref_con = fit.contrasts("arm", by="visit", method="trt.vs.ctrl")
    con = pd.read_csv(export_run / "mmrm_contrasts.csv")
    assert list(con["visit"]) == ["pre", "post", "6m"]
    for col in ("estimate", "se", "df", "p", "ci_low", "ci_high"):
        assert_allclose(con[col], ref_con[col].astype(float), rtol=1e-6)

    # ANCOVA at each follow-up visit, baseline as covariate (rtol 1e-10)
    post = rs.data.baseline_as_covariate(
        clean, outcome="mal_aou", visit="visit", subject="subject", baseline_visit="pre"
    )
    anc = pd.read_csv(export_run / "ancova.csv").set_index("visit")
    assert list(anc.index) == ["post", "6m"]
    for v in ("post", "6m"):
        at = post[post["visit"] == v]
        with pytest.warns(rs.RehabStatsWarning) if at["mal_aou"].isna().any() else _nothing():
            res = rs.ancova(
                at, outcome="mal_aou", arm="arm", baseline="baseline", reference="Control"
            )
        c = res.differences.iloc[0]
        assert_allclose(
            anc.loc[v, ["estimate", "se", "df", "p", "ci_low", "ci_high"]].astype(float),
            [c["estimate"], c["se"], c["df"], c["p"], c["ci_low"], c["ci_high"]],
            rtol=1e-10,
        )
        assert anc.loc[v, "n"] == len(res.frame)
    assert anc.loc["6m", "n"] == 18
    assert anc.loc["6m", "n_omitted"] == 2

    # MCID responders (--mcid 0.5) per arm and visit (rtol 1e-10)
    ch = rs.data.change_scores(
        clean, outcome="mal_aou", visit="visit", subject="subject", baseline_visit="pre"
    )
    resp = pd.read_csv(export_run / "responders.csv").set_index(["visit", "arm"])
    assert len(resp) == 4
    for (v, a), row in resp.iterrows():
        sel = ch.loc[(ch["visit"] == v) & (ch["arm"] == a), "change"].dropna()
        r = rs.change.responders(sel, mcid=0.5)
        assert row["n_responders"] == r.n_responders
        assert row["n"] == r.n
        assert_allclose(
            row[["proportion", "ci_low", "ci_high"]].astype(float),
            [r.proportion, r.ci_low, r.ci_high],
            rtol=1e-10,
        )
    assert resp.loc[("6m", "CIMT"), "n_omitted"] == 1

    # report.md: the same sections, tables and numbers as the HTML page
    md = (export_run / "report.md").read_text(encoding="utf-8")
    titles = [
        t
        for t in (
            "Data",
            "Descriptive statistics",
            "Between-arm effect sizes",
            "Mixed model for repeated measures",
            "ANCOVA at each follow-up visit",
            "MCID responders",
        )
        if f"\n## {t}\n" in md
    ]
    assert len(titles) == 6
    assert "<" not in md.replace("pre < post < 6m", "")
    for v in ("post", "6m"):
        cells = (
            f"| {v} " + "| CIMT - Control | " + rs._results.format_number(anc.loc[v, "estimate"])
        )
        assert cells.replace(" ", "") in md.replace(" ", "")
    assert "P04 (-99.0)" in md
    assert "![ANCOVA differences](forest_ancova.png)" in md


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def test_covariance_and_df_method_reach_the_mmrm(
    export_csv: Path, tmp_path: Path, clean: pd.DataFrame
) -> None:
    out = tmp_path / "kr"
    assert (
        cli.main(
            [
                "report",
                str(export_csv),
                *EXPORT,
                "--normalize-labels",
                "--invalid",
                "missing",
                "--covariance",
                "cs",
                "--df-method",
                "kenward-roger",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    con = pd.read_csv(out / "mmrm_contrasts.csv")
    fit = rs.mmrm(
        "mal_aou ~ arm * visit",
        clean.dropna(subset=["mal_aou"]),
        subject="subject",
        visit="visit",
        visit_order=["pre", "post", "6m"],
        arm="arm",
        reference="Control",
        covariance="cs",
        df_method="kenward-roger",
    )
    ref_con = fit.contrasts("arm", by="visit", method="trt.vs.ctrl")
    for col in ("estimate", "se", "df", "p"):
        assert_allclose(con[col], ref_con[col].astype(float), rtol=1e-6)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "cs covariance" in page
    assert "Kenward-Roger df" in page
    # the default differs (unstructured, Satterthwaite): the option changed the numbers
    us = rs.mmrm(
        "mal_aou ~ arm * visit",
        clean.dropna(subset=["mal_aou"]),
        subject="subject",
        visit="visit",
        visit_order=["pre", "post", "6m"],
        arm="arm",
        reference="Control",
    ).contrasts("arm", by="visit", method="trt.vs.ctrl")
    assert not np.allclose(con["se"], us["se"].astype(float), rtol=1e-4)


def test_covariance_choices_are_the_models() -> None:
    # the spatial structures need a time column, which the command line does not take
    assert list(_report.COVARIANCES) == [
        k for k, v in COVARIANCE_STRUCTURES.items() if not v.spatial
    ]


def test_lower_is_better_measure_sets_the_responder_direction(
    export_csv: Path, tmp_path: Path
) -> None:
    # WMFT time: lower is better; the registry holds one MCID (stroke, 1.5 s)
    out = tmp_path / "wmft"
    args = [
        "report",
        str(export_csv),
        "--design",
        "rct",
        "--wide",
        "--outcome",
        "wmft",
        "--measure",
        "wmft_time",
        "--visits",
        "pre,post,6m",
        "--arm",
        "group",
        "--subject",
        "record_id",
        "--normalize-labels",
        "--out",
        str(out),
    ]
    assert cli.main(args) == 0
    mcid = rs.measures.threshold("wmft_time", statistic="mcid").value
    long = rs.data.to_long(
        rs.datasets.load("cimt_ms_export").assign(
            group=lambda d: d["group"].str.strip().str.lower()
        ),
        id="record_id",
        measures={"wmft": "wmft"},
        visits=["pre", "post", "6m"],
        arm="group",
    )
    ch = rs.data.change_scores(
        long, outcome="wmft", visit="visit", subject="record_id", baseline_visit="pre"
    )
    resp = pd.read_csv(out / "responders.csv").set_index(["visit", "arm"])
    for (v, a), row in resp.iterrows():
        sel = ch.loc[(ch["visit"] == v) & (ch["group"] == a.lower()), "change"].dropna()
        r = rs.change.responders(sel, mcid=mcid, improvement="decrease")
        assert row["n_responders"] == r.n_responders
        assert row["n"] == r.n
        assert_allclose(row["proportion"], r.proportion, rtol=1e-10)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "lower wmft is better" in page
    assert "MCID 1.5" in page
    # the responder count is not the "increase" count
    r_up = rs.change.responders(
        ch.loc[(ch["visit"] == "post") & (ch["group"] == "cimt"), "change"],
        mcid=mcid,
        improvement="increase",
    )
    assert resp.loc[("post", "CIMT"), "n_responders"] != r_up.n_responders
    # contradicting the registry is an error
    assert cli.main([*args, "--improvement", "higher"]) == 2


def test_resolve_improvement() -> None:
    assert resolve_improvement(None, None) == "increase"
    assert resolve_improvement("lower", None) == "decrease"
    assert resolve_improvement("higher", None) == "increase"
    assert resolve_improvement(None, "tug") == "decrease"
    assert resolve_improvement("decrease", "TUG") == "decrease"
    with pytest.raises(DataError, match="contradicts --measure tug"):
        resolve_improvement("increase", "tug")
    with pytest.raises(DataError, match="'improvement'"):
        resolve_improvement("better", None)


def test_mcid_from_the_registry() -> None:
    value, source = _report._mcid_value("wmft_time", None, None)
    assert value == rs.measures.threshold("wmft_time", statistic="mcid").value
    assert "stroke" in source
    value, source = _report._mcid_value("mal_aou", None, None)
    assert value is None
    assert "chronic stroke" in source
    assert "--mcid" in source
    value, _ = _report._mcid_value("mal_aou", None, "chronic stroke")
    assert value == 0.5
    value, source = _report._mcid_value("tug", None, None)
    assert value is None
    assert "no MCID" in source
    assert _report._mcid_value("tug", 3.2, None)[0] == 3.2


def _long_trial(tmp_path: Path, edit: dict[tuple[str, str], object] | None = None) -> Path:
    data = rs.datasets.load("cimt_ms")[["subject", "arm", "visit", "mal_aou"]].copy()
    data["mal_aou"] = data["mal_aou"].astype(object)
    for (subj, visit), value in (edit or {}).items():
        data.loc[(data["subject"] == subj) & (data["visit"] == visit), "mal_aou"] = value
    path = tmp_path / "long.csv"
    data.to_csv(path, index=False)
    return path


LONG = {
    "design": "rct",
    "arm": "arm",
    "visit": "visit",
    "subject": "subject",
    "visit_order": ["pre", "post", "followup"],
    "log": _quiet,
}


def test_measure_range_is_checked_in_long_data(tmp_path: Path) -> None:
    path = _long_trial(tmp_path, {("P05", "post"): 6.5, ("P09", "pre"): "."})
    with pytest.raises(DataError, match=r"outside the Motor Activity Log.*P05 \(6.5\)"):
        run_report(path, out_dir=tmp_path / "o", measure="mal_aou", **LONG)
    # without --measure the range is unknown, but the "." code is still caught
    with pytest.raises(DataError, match=r"missing-data codes: P09"):
        run_report(path, out_dir=tmp_path / "o", outcome="mal_aou", **LONG)
    out = tmp_path / "ok"
    run_report(path, out_dir=out, measure="mal_aou", invalid="missing", **LONG)
    desc = pd.read_csv(out / "descriptives.csv").set_index(["visit", "arm"])
    assert desc.loc[("post", "cimt"), "n_missing"] == 1
    assert desc.loc[("pre", "control"), "n_missing"] == 1
    page = html.unescape((out / "index.html").read_text(encoding="utf-8"))
    assert "P05 (6.5)" in page
    assert "P09 (.)" in page
    # the MAL has two MCIDs in the registry: no responder table, and the page says why
    assert not (out / "responders.csv").exists()
    assert "several MCIDs" in page


def test_long_data_labels_normalised(tmp_path: Path) -> None:
    data = rs.datasets.load("cimt_ms")[["subject", "arm", "visit", "mal_aou"]].copy()
    data["arm"] = data["arm"].astype(str)
    data.loc[data["subject"] == "P01", "arm"] = "CIMT "
    path = tmp_path / "labels.csv"
    data.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"'CIMT '.*--normalize-labels"):
        run_report(path, out_dir=tmp_path / "o", outcome="mal_aou", **LONG)
    out = tmp_path / "n"
    run_report(path, out_dir=out, outcome="mal_aou", normalize_labels=True, **LONG)
    desc = pd.read_csv(out / "descriptives.csv")
    assert set(desc["arm"]) == {"cimt", "control"}
    assert "'CIMT '" in html.unescape((out / "index.html").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"wide": True}, "--wide needs --visits"),
        ({"visits": ["pre", "post"]}, "--visits names the visit columns"),
        (
            {"wide": True, "visits": ["pre", "post", "6m"], "visit_order": ["post", "pre", "6m"]},
            "differs from --visits",
        ),
        ({"wide": True, "visits": ["pre", "post", "12m"]}, r"mal_12m"),
        ({"measure": "MAL"}, "Unknown measure 'MAL'.*mal_aou"),
        ({"covariance": "unstructured"}, "'covariance'"),
        ({"df_method": "kr"}, "'df_method'"),
        ({"invalid": "drop"}, "'invalid'"),
        ({"mcid": -1.0}, "'mcid'"),
    ],
)
def test_option_errors(
    export_csv: Path, tmp_path: Path, kwargs: dict[str, object], match: str
) -> None:
    call: dict[str, object] = {
        "design": "rct",
        "outcome": "mal",
        "arm": "group",
        "subject": "record_id",
        "visit": "visit",
        "normalize_labels": True,
        "log": _quiet,
        **kwargs,
    }
    with pytest.raises(DataError, match=match):
        run_report(export_csv, out_dir=tmp_path / "o", **call)  # type: ignore[arg-type]


def test_wide_is_for_rct_and_outcome_defaults_to_measure(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="--wide is for --design rct"):
        run_report(
            tmp_path / "x.csv",
            design="sced",
            out_dir=tmp_path,
            outcome="y",
            phase="p",
            session="s",
            wide=True,
            log=_quiet,
        )
    with pytest.raises(DataError, match=r"--outcome \(or --measure"):
        run_report(
            tmp_path / "x.csv", design="sced", out_dir=tmp_path, phase="p", session="s", log=_quiet
        )
    # --measure names the outcome column when --outcome is not given
    path = _long_trial(tmp_path)
    out = tmp_path / "m"
    run_report(path, out_dir=out, measure="mal_aou", mcid=0.5, **LONG)
    assert (out / "responders.csv").is_file()


def test_excel_without_openpyxl_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xlsx = tmp_path / "export.xlsx"
    xlsx.write_bytes(b"PK")  # never opened: the missing engine is found first
    monkeypatch.setattr(_report, "_excel_engine_available", lambda: False)
    with pytest.raises(DataError, match=r"openpyxl.*rehabstats\[excel\]"):
        _report.read_data(xlsx)
    with pytest.raises(DataError, match="openpyxl"):
        run_report(
            xlsx,
            design="sced",
            out_dir=tmp_path / "o",
            outcome="y",
            phase="p",
            session="s",
            log=_quiet,
        )


def test_excel_input(export_csv: Path, export_run: Path, tmp_path: Path) -> None:
    pytest.importorskip("openpyxl", reason="the optional 'excel' extra (CI installs it)")
    xlsx = tmp_path / "export.xlsx"
    with pd.ExcelWriter(xlsx) as writer:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(writer, sheet_name="about", index=False)
        pd.read_csv(export_csv).to_excel(writer, sheet_name="data", index=False)
    out = tmp_path / "x"
    args = [*EXPORT, "--normalize-labels", "--invalid", "missing", "--mcid", "0.5"]
    assert cli.main(["report", str(xlsx), *args, "--sheet", "data", "--out", str(out)]) == 0
    for name in ("descriptives.csv", "ancova.csv", "responders.csv", "effect_sizes.csv"):
        a, b = pd.read_csv(out / name), pd.read_csv(export_run / name)
        pd.testing.assert_frame_equal(a, b, rtol=1e-12)
    with pytest.raises(DataError, match="not a readable Excel workbook.*'nope'"):
        _report.read_data(xlsx, sheet="nope")
    assert list(_report.read_data(xlsx).columns) == ["note"]  # default: the first sheet
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(DataError, match="not a readable Excel workbook"):
        _report.read_data(bad)
    with pytest.raises(DataError, match=r"\.xls workbook"):
        _report.read_data(tmp_path / "old.xls")
    with pytest.raises(DataError, match="--sheet is for Excel"):
        _report.read_data(export_csv, sheet="data")


def _sced_frame() -> pd.DataFrame:
    rng = np.random.default_rng(20261202)
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


def test_sced_classic_methods_equal_library_calls(tmp_path: Path) -> None:
    data = _sced_frame()
    path = tmp_path / "sced.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "s"
    kw = {"outcome": "steps", "phase": "phase", "session": "session", "case": "participant"}
    page = run_report(path, design="sced", out_dir=out, log=_quiet, **kw).read_text(
        encoding="utf-8"
    )
    classic = pd.read_csv(out / "sced_classic.csv").set_index("case")
    rand = pd.read_csv(out / "sced_randomization.csv").set_index("case")
    for c, grp in data.groupby("participant"):
        a = grp.loc[grp["phase"] == "A"]
        b = grp.loc[grp["phase"] == "B"]
        band = sced.two_sd_band(a["steps"], b["steps"])
        cel = sced.celeration_line(
            a["steps"], b["steps"], baseline_sessions=a["session"], treatment_sessions=b["session"]
        )
        row = classic.loc[c]
        assert_allclose(
            row[["band_mean", "band_sd", "band_lower", "band_upper"]].astype(float),
            [band.mean, band.sd, band.lower, band.upper],
            rtol=1e-12,
        )
        assert row["n_outside"] == band.n_outside
        assert bool(row["band_effect"]) == band.significant
        assert_allclose(
            row[["celeration_slope", "celeration_intercept", "p0", "binomial_p"]].astype(float),
            [cel.slope, cel.intercept, cel.p0, cel.p_value],
            rtol=1e-12,
        )
        assert row["n_improved"] == cel.n_improved
        r = sced.randomization_test(grp, **kw)
        assert_allclose(
            rand.loc[c, ["observed", "p", "smallest_attainable_p"]].astype(float),
            [r.statistic, r.p_value, r.min_p],
            rtol=1e-12,
        )
        assert rand.loc[c, "n_assignments"] == r.n_possible
        assert math.isclose(r.min_p, 1 / r.n_possible)
    mb = sced.randomization_test(data, **kw)
    row = rand.loc["all cases (multiple baseline)"]
    assert_allclose([row["p"], row["smallest_attainable_p"]], [mb.p_value, mb.min_p], rtol=1e-12)
    # NAP and Tau-U with CIs
    es = pd.read_csv(out / "sced_effect_sizes.csv")
    tau = es[es["index"] == "tau_u"]
    assert tau["ci_low"].notna().all()
    assert (tau["ci_low"] < tau["estimate"]).all()
    direct = sced.tau_u(
        data.loc[(data["participant"] == "P2") & (data["phase"] == "A"), "steps"],
        data.loc[(data["participant"] == "P2") & (data["phase"] == "B"), "steps"],
        ci=0.95,
        ci_method="s",
    )
    p2 = tau[tau["case"] == "P2"].iloc[0]
    assert_allclose(
        [p2["estimate"], p2["ci_low"], p2["ci_high"]],
        [direct.estimate, direct.ci_low, direct.ci_high],
        rtol=1e-12,
    )
    assert es.loc[es["index"] == "nap", "ci_low"].notna().all()
    for name in (
        "sced_classic.csv",
        "sced_randomization.csv",
        "smallest attainable p",
        "two-SD band",
    ):
        assert name in page


def test_sced_lower_is_better_measure_and_range(tmp_path: Path) -> None:
    data = _sced_frame()
    data["steps"] = 20 - data["steps"]  # now a time: lower is better
    data.loc[2, "steps"] = -99
    path = tmp_path / "tug.csv"
    data.to_csv(path, index=False)
    kw = {
        "outcome": "steps",
        "phase": "phase",
        "session": "session",
        "case": "participant",
        "measure": "tug",
        "log": _quiet,
    }
    with pytest.raises(DataError, match=r"P1 \(-99"):
        run_report(path, design="sced", out_dir=tmp_path / "o", **kw)
    out = tmp_path / "d"
    run_report(path, design="sced", out_dir=out, invalid="missing", **kw)
    es = pd.read_csv(out / "sced_effect_sizes.csv")
    clean = data.drop(index=2)
    direct = sced.effect_sizes(
        clean,
        outcome="steps",
        phase="phase",
        session="session",
        case="participant",
        indices=["nap"],
        improvement="decrease",
    )
    assert_allclose(es.loc[es["index"] == "nap", "estimate"], direct["estimate"], rtol=1e-12)
    assert (es.loc[es["index"] == "nap", "estimate"] > 0.5).all()
