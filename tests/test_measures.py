"""Tests of rehabstats.measures, the outcome-measure registry.

Every stored threshold must come from /work/shared/DOMAIN.md section 5 (the
project's literature notes): the expected records below are a second,
independent transcription of that section, and a test checks each stored
number appears in the section's text.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest
from conftest import REPO_DIR

from rehabstats import measures
from rehabstats.errors import DataError

DOMAIN = REPO_DIR / "docs" / "domain.md"

REQUIRED = [
    "6mwt",
    "tug",
    "mal_aou",
    "mal_qom",
    "wmft_time",
    "wmft_fas",
    "bbs",
    "gmfm66",
    "alsfrs_r",
    "gas",
]

# (measure, population, statistic, value, value_upper, level, unverified), from DOMAIN.md 5
EXPECTED = {
    ("6mwt", "stroke, 2-6 months post", "mcid", 71.0, None, None, False),
    ("6mwt", "stroke, 2-6 months post", "mcid", 65.0, None, None, False),
    ("6mwt", "stroke, 2-6 months post, gait speed < 0.40 m/s", "mcid", 44.0, None, None, False),
    ("6mwt", "stroke, 2-6 months post, gait speed < 0.40 m/s", "mcid", 34.0, None, None, False),
    ("6mwt", "stroke, 2-6 months post, gait speed >= 0.40 m/s", "mcid", 71.0, None, None, False),
    ("6mwt", "stroke, 2-6 months post, gait speed >= 0.40 m/s", "mcid", 130.0, None, None, False),
    ("tug", "chronic stroke", "sem", 1.16, None, None, False),
    ("tug", "chronic stroke", "mdc", 3.2, None, None, False),
    ("tug", "knee osteoarthritis", "mdc", 1.10, None, None, False),
    ("bbs", "stroke inpatients", "mdc", 6.0, None, 0.90, False),
    ("bbs", "chronic stroke", "sem", 0.98, None, None, False),
    ("bbs", "chronic stroke", "mdc", 2.7, None, None, False),
    ("bbs", "acute stroke", "mcid", 6.5, 12.5, None, False),
    ("bbs", "acute stroke", "mcid", 2.3, 4.9, None, False),
    ("mal_aou", "chronic stroke", "loa", -0.70, 0.85, None, False),
    ("mal_aou", "stroke (EXCITE control group)", "mdc", 0.84, None, 0.90, False),
    ("mal_aou", "chronic stroke", "mcid", 0.5, None, None, True),
    ("mal_aou", "early after stroke", "mcid", 1.0, 1.1, None, True),
    ("mal_qom", "chronic stroke", "loa", -0.61, 0.71, None, False),
    ("mal_qom", "stroke (EXCITE control group)", "mdc", 0.77, None, 0.90, False),
    ("mal_qom", "chronic stroke", "mcid", 0.5, None, None, True),
    ("mal_qom", "early after stroke", "mcid", 1.0, 1.1, None, True),
    ("wmft_time", "stroke", "mdc", 4.36, None, 0.90, False),
    ("wmft_time", "stroke", "mcid", 1.5, 2.0, None, False),
    ("wmft_time", "chronic stroke, streamlined WMFT-C", "mdc", 2.26, None, 0.95, False),
    ("wmft_fas", "stroke", "mdc", 0.37, None, 0.90, False),
    ("wmft_fas", "stroke", "mcid", 0.2, 0.4, None, False),
    ("wmft_fas", "chronic stroke, streamlined WMFT-C", "mdc", 0.34, None, 0.95, False),
    ("alsfrs_r", "ALS (clinician survey)", "mcid", 20.0, None, None, False),
    ("alsfrs_r", "ALS (patient survey)", "mcid", 20.0, None, None, False),
    ("gait_speed", "stroke, first 60 days", "mcid", 0.16, None, None, False),
    ("fma_ue", "stroke, 1-6 weeks post", "mcid", 13.0, None, None, False),
    ("fma_ue", "stroke, 1-6 weeks post", "mcid", 12.0, None, None, False),
    ("fma_ue", "stroke, 1-6 weeks post", "mcid", 9.0, None, None, False),
    ("fma_ue", "stroke, 1-6 weeks post", "sem", 2.46, None, None, False),
    ("fma_ue", "stroke, 1-6 weeks post", "mdc", 6.82, None, None, False),
}


def _all_records() -> pd.DataFrame:
    return pd.concat(
        [measures.thresholds(n, statistic=None) for n in measures.names()], ignore_index=True
    )


def test_required_measures_registered() -> None:
    assert set(REQUIRED) <= set(measures.names())
    assert measures.names() == sorted(measures.names())


def test_records_equal_domain_transcription() -> None:
    recs = _all_records()
    stored = {
        (
            r.measure,
            r.population,
            r.statistic,
            r.value,
            None if pd.isna(r.value_upper) else r.value_upper,
            None if pd.isna(r.level) else r.level,
            bool(r.unverified),
        )
        for r in recs.itertuples()
    }
    assert len(recs) == len(EXPECTED)
    assert stored == EXPECTED


def test_every_stored_number_appears_in_domain_notes() -> None:
    text = DOMAIN.read_text(encoding="utf-8")
    section = text[text.index("## 5. MCID / MDC") : text.index("## 6.")]
    for r in _all_records().itertuples():
        for v in (r.value, r.value_upper):
            if v is None or pd.isna(v):
                continue
            forms = {f"{abs(v):g}", f"{abs(v):.2f}"}
            assert any(re.search(rf"(?<![\d.]){re.escape(f)}(?!\d)", section) for f in forms), (
                r.measure,
                r.population,
                v,
            )


def test_no_values_for_not_found_entries() -> None:
    assert measures.thresholds("gmfm66", statistic=None).empty
    assert list(measures.thresholds("gmfm66").columns) == [
        "measure",
        "population",
        "statistic",
        "value",
        "unit",
        "method",
        "source",
        "value_upper",
        "level",
        "unverified",
        "note",
    ]
    assert "not found" in measures.get("gmfm66").note
    # 6MWT in MS was not found: no MS record anywhere
    recs = _all_records()
    assert not recs["population"].str.contains("MS|multiple sclerosis").any()


def test_get_aliases_case_and_frozen() -> None:
    assert measures.get("TUG") is measures.get("timed up and go")
    assert measures.get("Berg").name == "bbs"
    assert measures.get("MAL-AOU").name == "mal_aou"
    assert measures.get("6MW").name == "6mwt"
    m = measures.get("6mwt")
    assert (m.lower, m.upper, m.unit) == (0.0, None, "m")
    assert measures.get("mal_qom").upper == 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.unit = "ft"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.thresholds[0].value = 1.0  # type: ignore[misc]


def test_unknown_measure_lists_names() -> None:
    with pytest.raises(DataError, match=r"Unknown measure 'walk'.*6mwt.*tug"):
        measures.get("walk")
    with pytest.raises(DataError, match="string"):
        measures.get(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("tug", "decrease"),
        ("wmft_time", "decrease"),
        ("6mwt", "increase"),
        ("mal_aou", "increase"),
        ("wmft_fas", "increase"),
        ("bbs", "increase"),
        ("alsfrs_r", "increase"),
        ("gas", "increase"),
        ("gmfm66", "increase"),
    ],
)
def test_improvement_direction(name: str, direction: str) -> None:
    assert measures.improvement(name) == direction


def test_threshold_requires_unambiguous_choice() -> None:
    with pytest.raises(DataError, match=r"6 'mcid' thresholds.*gait speed < 0.40"):
        measures.threshold("6mwt")
    with pytest.raises(DataError, match=r"2 'mcid'.*Rankin.*Stroke Impact"):
        measures.threshold("6mwt", population="stroke, 2-6 months post")
    rec = measures.threshold("6mwt", population="Stroke, 2-6 months post", method="rankin")
    assert rec.value == 71.0
    assert "Fulk" in rec.source
    assert measures.threshold("wmft_time", statistic="mdc", population="stroke").level == 0.90
    assert measures.threshold("bbs", statistic="mdc", level=0.90).value == 6.0


def test_threshold_no_match_lists_populations() -> None:
    with pytest.raises(
        DataError,
        match=r"Populations with a 'mcid' record: chronic stroke; "
        r"early after stroke",
    ):
        measures.threshold("mal_aou", population="multiple sclerosis")
    with pytest.raises(DataError, match="no 'mcid' record"):
        measures.threshold("gmfm66")


def test_thresholds_filters() -> None:
    mdc = measures.thresholds("mal_aou", statistic="mdc")
    assert mdc["value"].tolist() == [0.84]
    assert mdc["level"].tolist() == [0.90]
    assert len(measures.thresholds("bbs", statistic="mdc", level=0.95)) == 0
    assert len(measures.thresholds("bbs", statistic=None)) == 5
    unverified = measures.thresholds("mal_aou")
    assert unverified["unverified"].all()
    with pytest.raises(DataError, match="statistic"):
        measures.thresholds("bbs", statistic="mid")
    with pytest.raises(DataError, match="population"):
        measures.thresholds("bbs", population=3)  # type: ignore[arg-type]
