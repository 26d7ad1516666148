"""Tests of rehabstats.datasets: discovery, loading, codebooks and the cimt_ms sample."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from conftest import REPO_DIR
from scipy import stats

from rehabstats import datasets
from rehabstats.errors import DataError

SAMPLE_DIR = REPO_DIR / "data" / "sample"
PACKAGE_DIR = REPO_DIR / "src" / "rehabstats" / "datasets" / "data"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_sample_data", SAMPLE_DIR / "make_sample_data.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_names_and_unknown_name() -> None:
    assert "cimt_ms" in datasets.names()
    with pytest.raises(DataError, match=r"Unknown data set 'nope'.*cimt_ms"):
        datasets.load("nope")
    with pytest.raises(DataError, match="Unknown data set"):
        datasets.codebook("nope")
    with pytest.raises(DataError, match="Unknown data set"):
        datasets.load(None)  # type: ignore[arg-type]


def test_load_returns_a_new_frame_each_call() -> None:
    a = datasets.load("cimt_ms")
    a.loc[0, "mal_aou"] = 99.0
    b = datasets.load("cimt_ms")
    assert b.loc[0, "mal_aou"] != 99.0
    assert a is not b


def test_codebook_says_simulated_and_documents_columns() -> None:
    text = datasets.codebook("cimt_ms")
    assert "SIMULATED" in text
    assert "2.7 points (2.2 to 3.2)" in text
    assert "0.5 points (-0.1 to 1.1)" in text
    for column in datasets.load("cimt_ms").columns:
        assert f"`{column}`" in text


def test_cimt_ms_structure() -> None:
    df = datasets.load("cimt_ms")
    assert list(df.columns) == [
        "subject",
        "arm",
        "visit",
        "visit_index",
        "mal_aou",
        "wmft_time",
        "age",
    ]
    assert len(df) == 60
    assert df["subject"].nunique() == 20
    assert df.groupby("arm", observed=True)["subject"].nunique().to_dict() == {
        "control": 10,
        "cimt": 10,
    }
    assert df["visit"].cat.ordered
    assert df["visit"].cat.categories.tolist() == ["pre", "post", "followup"]
    assert df["arm"].cat.categories.tolist() == ["control", "cimt"]
    assert (df["visit"].cat.codes + 1 == df["visit_index"]).all()
    assert (df.groupby("subject").size() == 3).all()
    missing = df[df["mal_aou"].isna()]
    assert len(missing) == 1
    assert missing["visit"].iloc[0] == "followup"
    assert missing["wmft_time"].isna().all()
    obs = df["mal_aou"].dropna()
    assert obs.between(0, 5).all()
    np.testing.assert_allclose(obs * 100, np.round(obs * 100), atol=1e-9)
    assert (df["wmft_time"].dropna() > 0).all()
    assert df["age"].between(18, 90).all()


def test_cimt_ms_matches_published_summary() -> None:
    # Mark et al. 2018: MAL change at post 2.7 (95% CI 2.2-3.2) CIMT, 0.5 (-0.1-1.1) CAM
    df = datasets.load("cimt_ms")
    wide = df.pivot(index="subject", columns="visit", values="mal_aou")
    arm = df.groupby("subject")["arm"].first()
    gain = (wide["post"] - wide["pre"]).groupby(arm, observed=True)
    published = {"cimt": (2.7, 2.2, 3.2), "control": (0.5, -0.1, 1.1)}
    for name, values in gain:
        m, sd, n = values.mean(), values.std(ddof=1), values.size
        half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
        mean_ref, low_ref, high_ref = published[str(name)]
        assert m == pytest.approx(mean_ref, abs=1e-9)  # set exactly by construction
        # published to 1 decimal: atol half a unit
        assert m - half == pytest.approx(low_ref, abs=0.05)
        assert m + half == pytest.approx(high_ref, abs=0.05)


@pytest.mark.parametrize("name", ["cimt_ms.csv", "cimt_ms.md"])
def test_sample_and_package_copies_identical(name: str) -> None:
    assert (SAMPLE_DIR / name).read_bytes() == (PACKAGE_DIR / name).read_bytes()


def test_script_reproduces_committed_files() -> None:
    script = _script()
    frame = script.build()
    assert script.csv_text(frame) == (PACKAGE_DIR / "cimt_ms.csv").read_text(encoding="utf-8")
    assert script.codebook_text(frame) == (PACKAGE_DIR / "cimt_ms.md").read_text(encoding="utf-8")
    assert json.loads((PACKAGE_DIR / "cimt_ms.json").read_text()) == script.CATEGORIES
    pd.testing.assert_frame_equal(
        frame.drop(columns=["arm", "visit"]),
        datasets.load("cimt_ms")
        .drop(columns=["arm", "visit"])
        .astype({"subject": frame["subject"].dtype}),
        check_dtype=False,
    )


def test_script_write_to_temporary_folders(tmp_path: Path) -> None:
    written = _script().write(tmp_path / "sample", tmp_path / "pkg")
    assert len(written) == 5
    assert (tmp_path / "pkg" / "cimt_ms.csv").read_bytes() == (
        PACKAGE_DIR / "cimt_ms.csv"
    ).read_bytes()


def test_discovery_by_dropping_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "alpha.csv").write_text("x,phase\n1,A\n2,B\n", encoding="utf-8")
    (tmp_path / "alpha.md").write_text("# alpha\n", encoding="utf-8")
    (tmp_path / "alpha.json").write_text(
        json.dumps({"categoricals": {"phase": {"levels": ["A", "B"], "ordered": True}}})
    )
    (tmp_path / "nocodebook.csv").write_text("x\n1\n", encoding="utf-8")
    (tmp_path / "beta.csv").write_text("y,phase\n1,A\n", encoding="utf-8")
    (tmp_path / "beta.md").write_text("# beta\n", encoding="utf-8")
    (tmp_path / "beta.json").write_text(json.dumps({"categoricals": {"phase": {"levels": ["B"]}}}))
    (tmp_path / "gamma.csv").write_text("y\n1\n", encoding="utf-8")
    (tmp_path / "gamma.md").write_text("# gamma\n", encoding="utf-8")
    (tmp_path / "gamma.json").write_text(json.dumps({"categoricals": {"phase": {"levels": ["A"]}}}))
    monkeypatch.setattr(datasets, "_data_dir", lambda: tmp_path)
    assert datasets.names() == ["alpha", "beta", "gamma"]
    alpha = datasets.load("alpha")
    assert alpha["phase"].cat.ordered
    assert alpha["phase"].tolist() == ["A", "B"]
    assert datasets.codebook("alpha") == "# alpha\n"
    with pytest.raises(DataError, match=r"not in the levels \['B'\]"):
        datasets.load("beta")
    with pytest.raises(DataError, match="lacks"):
        datasets.load("gamma")
    with pytest.raises(DataError, match="alpha, beta, gamma"):
        datasets.load("nocodebook")


def test_cimt_leg_mbd_script_reproduces_both_copies() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_cimt_leg_mbd", SAMPLE_DIR / "make_cimt_leg_mbd.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.make().to_csv(index=False, lineterminator="\n")
    for path in (SAMPLE_DIR / "cimt_leg_mbd.csv", PACKAGE_DIR / "cimt_leg_mbd.csv"):
        assert path.read_text(encoding="utf-8") == text, path
    assert "SIMULATED" in datasets.codebook("cimt_leg_mbd")


def test_cimt_ms_export_script_reproduces_both_copies_and_cleans_to_cimt_ms() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_cimt_ms_export", SAMPLE_DIR / "make_cimt_ms_export.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.csv_text(module.make())
    for path in (SAMPLE_DIR / "cimt_ms_export.csv", PACKAGE_DIR / "cimt_ms_export.csv"):
        assert path.read_text(encoding="utf-8") == text, path
    import warnings

    import rehabstats as rs

    wide = datasets.load("cimt_ms_export")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.RehabStatsWarning)
        long = rs.data.to_long(
            wide,
            id="record_id",
            arm="group",
            measures={"mal": "mal"},
            visits=["pre", "post", "6m"],
            normalize_labels=True,
        )
        long = rs.data.check_outcome(
            long, outcome="mal", subject="record_id", measure="mal_aou", action="missing"
        )
    ref = datasets.load("cimt_ms")
    got = long["mal"].to_numpy()
    want = ref.sort_values(["subject", "visit"])["mal_aou"].to_numpy().copy()
    p04_6m = 3 * 3 + 2
    assert np.isnan(got[p04_6m])
    assert not np.isnan(want[p04_6m])
    want[p04_6m] = np.nan
    np.testing.assert_array_equal(got, want)
    assert sorted(long["group"].unique()) == ["CIMT", "Control"]
