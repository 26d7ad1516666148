"""two_sd_band, celeration_line and c_statistic against base-R fixtures
(tests/reference/sced/classic.R -> classic.json, rtol 1e-10) and against scan's
cdc (bisplit baseline trend line) and outlier (mean +/- 2 SD) records."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import VALIDATION_DIR, load_json
from hypothesis import given
from hypothesis import strategies as st

from rehabstats.errors import DataError, RehabStatsWarning
from rehabstats.sced._classic import (
    CelerationLineResult,
    CStatisticResult,
    TwoSDBandResult,
    c_statistic,
    celeration_line,
    two_sd_band,
)

FIXTURE = json.loads(
    (Path(__file__).parents[1] / "reference" / "sced" / "classic.json").read_text()
)
SERIES = FIXTURE["series"]
IDS = [s["id"] for s in SERIES]
RTOL = 1e-10  # R values are written with 15 significant digits


@pytest.mark.parametrize("s", SERIES, ids=IDS)
def test_two_sd_band_matches_r(s):
    res = two_sd_band(s["baseline"], s["treatment"], improvement=s["improvement"])
    ref = s["band"]
    assert isinstance(res, TwoSDBandResult)
    np.testing.assert_allclose(
        [res.mean, res.sd, res.lower, res.upper],
        [ref["mean"], ref["sd"], ref["lower"], ref["upper"]],
        rtol=RTOL,
    )
    assert res.n_outside == ref["n_outside"]
    assert res.max_consecutive_outside == ref["max_consecutive_outside"]
    assert res.significant == (ref["max_consecutive_outside"] >= 2)
    assert two_sd_band(
        s["baseline"], s["treatment"], improvement=s["improvement"], consecutive=4
    ).significant == (ref["max_consecutive_outside"] >= 4)


@pytest.mark.parametrize("s", SERIES, ids=IDS)
def test_celeration_line_matches_r(s):
    ref = s["celeration"]
    for null, alternative, key in [
        (0.5, "greater", "p_half_greater"),
        (0.5, "two-sided", "p_half_two_sided"),
        ("baseline", "greater", "p_baseline_greater"),
        ("baseline", "two-sided", "p_baseline_two_sided"),
    ]:
        if null == "baseline" and ref["p0_baseline"] in (0, 1):
            with pytest.warns(RehabStatsWarning, match="degenerate"):
                res = celeration_line(
                    s["baseline"],
                    s["treatment"],
                    improvement=s["improvement"],
                    null=null,
                    alternative=alternative,
                )
        else:
            res = celeration_line(
                s["baseline"],
                s["treatment"],
                improvement=s["improvement"],
                null=null,
                alternative=alternative,
            )
        assert isinstance(res, CelerationLineResult)
        np.testing.assert_allclose(
            [res.slope, res.intercept], [ref["slope"], ref["intercept"]], rtol=RTOL, atol=1e-12
        )
        assert (res.n_improved, res.n) == (ref["n_improved"], ref["n"])
        if null == "baseline":
            np.testing.assert_allclose(res.p0, ref["p0_baseline"], rtol=RTOL)
        np.testing.assert_allclose(res.p_value, ref[key], rtol=RTOL, err_msg=key)


@pytest.mark.parametrize("s", SERIES, ids=IDS)
def test_c_statistic_matches_r(s):
    for values, ref in [
        (s["baseline"], s["c_baseline"]),
        (s["baseline"] + s["treatment"], s["c_all"]),
    ]:
        res = c_statistic(values)
        assert isinstance(res, CStatisticResult)
        np.testing.assert_allclose(
            [res.estimate, res.se, res.z, res.p_value],
            [ref["estimate"], ref["se"], ref["z"], ref["p_greater"]],
            rtol=RTOL,
        )
        two = c_statistic(values, alternative="two-sided")
        np.testing.assert_allclose(two.p_value, ref["p_two_sided"], rtol=RTOL)


@functools.lru_cache(maxsize=1)
def _all_scan_records():
    ref = VALIDATION_DIR / "sced" / "reference"
    out = []
    for path in sorted(ref.glob("*.json")):
        out += [
            r for r in load_json(path) if r["function"] in ("cdc", "outlier") and r["error"] is None
        ]
    return tuple(out)


def _scan_records(function):
    return [r for r in _all_scan_records() if r["function"] == function]


def test_celeration_line_equals_scan_cdc_bisplit_trend(validation_dir):
    """scan::cdc(trend_method = "bisplit") fits lm() through the two half-medians:
    the same line as the split-middle line (slope, intercept, fitted B values)."""
    recs = [
        r
        for r in _scan_records("cdc")
        if r["arguments"]["trend_method"] == "bisplit"
        and isinstance(r["output"].get("baseline_trend_line"), dict)
    ]
    assert len(recs) > 100
    for r in recs:
        inp = r["input"]
        df = pd.DataFrame(
            {
                "t": inp["session"],
                "ph": inp["phase_passed_to_scan"],
                "y": [np.nan if v is None else v for v in inp["outcome"]],
            }
        ).dropna()
        a, b = df[df.ph == "A"], df[df.ph == "B"]
        res = celeration_line(a.y, b.y, baseline_sessions=a.t, treatment_sessions=b.t, null=0.5)
        line = r["output"]["baseline_trend_line"]
        np.testing.assert_allclose(
            [res.slope, res.intercept],
            [line["slope"], line["intercept"]],
            rtol=1e-9,
            atol=1e-9,
            err_msg=r["record_id"],
        )
        np.testing.assert_allclose(
            res.treatment_fit,
            r["output"]["trend_fit_B"],
            rtol=1e-9,
            atol=1e-9,
            err_msg=r["record_id"],
        )


def test_band_equals_scan_outlier_sd_band(validation_dir):
    """scan::outlier(method = "SD", criteria = 2): phase-A mean +/- 2 SD."""
    recs = _scan_records("outlier")
    n = 0
    for r in recs:
        inp = r["input"]
        y = np.array([np.nan if v is None else v for v in inp["outcome"]], float)
        ph = np.array(inp["phase_passed_to_scan"])
        band = next(b for b in r["output"]["band"] if b["phase"] == "A")
        a, b = y[(ph == "A") & ~np.isnan(y)], y[(ph == "B") & ~np.isnan(y)]
        if a.size < 2 or b.size < 1 or band["sd"] is None or band["sd"] == 0:
            continue
        res = two_sd_band(a, b)
        np.testing.assert_allclose(
            [res.mean, res.sd, res.lower, res.upper],
            [band["m"], band["sd"], band["lower"], band["upper"]],
            rtol=1e-10,
            err_msg=r["record_id"],
        )
        n += 1
    assert n > 250


def _assert_mirrored(a, b):
    """Negated data with improvement="decrease" give the same band and line counts."""
    up = two_sd_band(a, b)
    down = two_sd_band(-a, -b, improvement="decrease")
    assert (up.n_outside, up.max_consecutive_outside) == (
        down.n_outside,
        down.max_consecutive_outside,
    )
    cu = celeration_line(a, b, null=0.5)
    cd = celeration_line(-a, -b, improvement="decrease", null=0.5)
    assert cu.n_improved == cd.n_improved
    return cu, cd


def test_decrease_mirrors_increase():
    cu, cd = _assert_mirrored(np.array([5.0, 6, 5, 7, 6, 5]), np.array([8.0, 9, 7, 10, 9, 11]))
    assert cu.p_value == cd.p_value
    np.testing.assert_allclose(cu.slope, -cd.slope, rtol=1e-12)


def test_c_statistic_invariant_to_location_and_scale():
    x = np.array([3.0, 5, 4, 6, 8, 7, 9, 12, 10, 13])
    np.testing.assert_allclose(c_statistic(x).estimate, c_statistic(3 * x - 7).estimate, rtol=1e-12)


def test_degenerate_cases():
    with pytest.warns(RehabStatsWarning, match="zero variance"):
        res = two_sd_band([4, 4, 4], [4, 5, 6])
    assert (res.lower, res.upper, res.n_outside, res.max_consecutive_outside) == (4, 4, 2, 2)
    with pytest.warns(RehabStatsWarning, match="constant"):
        res = c_statistic([2, 2, 2, 2])
    assert np.isnan(res.estimate)
    assert np.isnan(res.p_value)
    # one treatment observation is allowed
    assert two_sd_band([1, 2, 3], [9]).max_consecutive_outside == 1
    res = celeration_line([1, 2], [5], null=0.5)  # two baseline points: one per half
    assert res.slope == 1
    assert res.n_improved == 1
    with pytest.warns(RehabStatsWarning, match="missing"):
        assert two_sd_band([1, 2, np.nan, 3], [9]).n_baseline == 3


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: two_sd_band([1], [2, 3]), "baseline"),
        (lambda: two_sd_band([1, 2], []), "treatment"),
        (lambda: two_sd_band([1, 2], [3], improvement="up"), "improvement"),
        (lambda: two_sd_band([1, 2], [3], consecutive=0), "consecutive"),
        (lambda: two_sd_band([1, 2], [3], n_sd=-1), "n_sd"),
        (lambda: two_sd_band(["a", "b"], [3]), "baseline"),
        (lambda: celeration_line([1], [2]), "baseline"),
        (lambda: celeration_line([1, 2], [3], null=1.5), "null"),
        (lambda: celeration_line([1, 2], [3], null="classic"), "null"),
        (lambda: celeration_line([1, 2], [3], alternative="less"), "alternative"),
        (lambda: celeration_line([1, 2], [3], baseline_sessions=[1, 2, 3]), "baseline_sessions"),
        (lambda: celeration_line([1, 2], [3], baseline_sessions=[2, 1]), "increasing"),
        (lambda: celeration_line([1, np.nan], [3]), "baseline"),
        (lambda: c_statistic([1, 2]), "values"),
        (lambda: c_statistic([1, 2, 3], alternative="less"), "alternative"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(DataError, match=match):
        call()


def test_frames_and_summaries():
    band = two_sd_band([1, 2, 3, 2], [5, 6, 7])
    line = celeration_line([1, 2, 3, 2], [5, 6, 7], null=0.5)
    cst = c_statistic([1, 2, 3, 2, 5, 6, 7])
    assert band.to_frame().shape == (1, 10)
    assert "significant" in band.summary()
    assert set(line.to_frame().columns) >= {"slope", "intercept", "n_improved", "n", "p_value"}
    assert list(cst.to_frame().columns)[:5] == ["measure", "estimate", "se", "z", "p_value"]
    assert "binomial" in line.summary()
    assert "C =" in cst.summary()


@given(
    st.lists(st.floats(-50, 50, allow_nan=False), min_size=3, max_size=12),
    st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=12),
)
def test_band_and_line_mirror_under_negation(a, b):
    a, b = np.round(a, 3), np.round(b, 3)
    if np.ptp(a) == 0:
        return
    cu, _ = _assert_mirrored(a, b)
    assert 0 <= cu.p_value <= 1
