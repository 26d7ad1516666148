"""Measurement studies: rs.change.icc against R psych::ICC, rs.change.bland_altman.

References: tests/reference/change/icc_reference.R -> icc_reference.json (psych 2.2.9,
R 4.2.2): Shrout & Fleiss (1979) 6 x 4 data plus two simulated test-retest sets, at
alpha 0.05 and 0.10. Bland & Altman (1986, Lancet) PEFR data, printed values.
"""

from __future__ import annotations

import json
import math
import statistics
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rehabstats as rs
from rehabstats.errors import DataError, DesignError, RehabStatsWarning

REF = json.loads(
    (Path(__file__).parent / "reference" / "change" / "icc_reference.json").read_text(
        encoding="utf-8"
    )
)
ICC_CASES = sorted(k for k, v in REF.items() if isinstance(v, dict))
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def _long(matrix: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        [(f"s{i}", f"r{j}", v) for i, row in enumerate(matrix) for j, v in enumerate(row)],
        columns=["subject", "rater", "score"],
    )


@pytest.mark.parametrize("case", ICC_CASES)
def test_icc_equals_psych(case: str) -> None:
    ref = REF[case]
    res = rs.change.icc(
        _long(np.array(ref["data"], float)),
        subject="subject",
        rater="rater",
        score="score",
        ci=1 - ref["alpha"],
    )
    table = res.to_frame()
    assert table["type"].tolist() == ref["type"]
    for col in ("icc", "f", "df1", "df2", "p", "ci_low", "ci_high"):
        # closed forms: 1e-8 relative
        np.testing.assert_allclose(table[col].to_numpy(float), ref[col], rtol=1e-8, err_msg=col)
    assert res.mean_squares["rows"] == pytest.approx(ref["ms_rows"], rel=1e-10)


def test_icc_point_values_equal_pingouin() -> None:
    long = _long(np.array(REF["retest_15x3_alpha0.05"]["data"], float))
    ours = rs.change.icc(long, subject="subject", rater="rater", score="score").to_frame()
    theirs = pg.intraclass_corr(long, targets="subject", raters="rater", ratings="score")
    np.testing.assert_allclose(ours["icc"], theirs["ICC"], rtol=1e-10)
    np.testing.assert_allclose(ours["p"], theirs["pval"], rtol=1e-8)


def test_icc_sem_and_mdc_follow_from_the_icc() -> None:
    long = _long(np.array(REF["retest_15x3_alpha0.05"]["data"], float))
    res = rs.change.icc(long, subject="subject", rater="rater", score="score")
    icc2 = res.reliability("ICC2")
    sd = long["score"].std(ddof=1)
    assert res.sem() == pytest.approx(sd * math.sqrt(1 - icc2), rel=1e-12)
    assert res.mdc() == pytest.approx(
        1.959963984540054 * math.sqrt(2) * sd * math.sqrt(1 - icc2), rel=1e-9
    )
    assert res.sem("ICC3", sd=5.0) == pytest.approx(5 * math.sqrt(1 - res.reliability("ICC3")))
    assert "6" not in res.summary().split("\n")[0][:0]  # summary renders
    assert "15 subjects x 3 raters" in res.summary()


def test_icc_negative_reliability_gives_no_sem() -> None:
    m = np.array([[1, 5], [5, 1], [2, 4], [4, 2.5]])  # raters disagree systematically
    res = rs.change.icc(_long(m), subject="subject", rater="rater", score="score")
    assert res.reliability("ICC1") < 0
    with pytest.raises(DesignError, match="outside"):
        res.sem("ICC1")


@given(seed=st.integers(0, 2**32 - 1), shift=st.floats(-1e3, 1e3), scale=st.floats(0.01, 100))
def test_icc_invariant_to_linear_rescaling_and_row_order(
    seed: int, shift: float, scale: float
) -> None:
    gen = np.random.default_rng(seed)
    m = gen.normal(10, 2, size=(8, 1)) + gen.normal(0, 1, size=(8, 3))
    base = rs.change.icc(_long(m), subject="subject", rater="rater", score="score").to_frame()
    moved = _long(m * scale + shift).sample(frac=1.0, random_state=seed % 1000)
    other = rs.change.icc(moved, subject="subject", rater="rater", score="score").to_frame()
    np.testing.assert_allclose(other["icc"], base["icc"], rtol=1e-7, atol=1e-10)
    assert (
        (base["icc"] <= 1 + 1e-12)
        & (base["ci_low"] <= base["icc"] + 1e-12)
        & (base["icc"] <= base["ci_high"] + 1e-12)
    ).all()


def test_icc_incomplete_subjects_are_dropped_and_named() -> None:
    long = _long(np.array(REF["shrout_fleiss_alpha0.05"]["data"], float))
    before = long.copy()
    partial = long.drop(index=[0]).reset_index(drop=True)
    with pytest.warns(RehabStatsWarning, match=r"\['s0'\]"):
        res = rs.change.icc(partial, subject="subject", rater="rater", score="score")
    assert res.n_subjects == 5
    assert res.n_omitted == 1
    with pytest.raises(DataError, match="s0"):
        rs.change.icc(partial, subject="subject", rater="rater", score="score", nan_policy="raise")
    pd.testing.assert_frame_equal(long, before)


@pytest.mark.parametrize(
    ("mutate", "err", "match"),
    [
        (
            lambda d: d.assign(score=d["score"].astype(object).where(d.index != 3, "x")),
            DataError,
            "score",
        ),
        (
            lambda d: d.assign(score=np.where(d.index == 2, np.inf, d["score"])),
            DataError,
            "infinite",
        ),
        (lambda d: pd.concat([d, d.iloc[[0]]]), DataError, "more than once"),
        (lambda d: d[d["rater"] == "r0"], DesignError, "two raters"),
        (lambda d: d[d["subject"] == "s0"], DesignError, "two subjects"),
        (
            lambda d: d.assign(score=d["subject"].str[1:].astype(float)),
            DesignError,
            "no residual variation",
        ),
        (lambda d: d.drop(columns="rater"), DataError, "rater"),
        (lambda d: d.assign(score=d["rater"].str[1:].astype(float)), DesignError, "all equal"),
    ],
)
def test_icc_bad_input(mutate, err, match) -> None:  # type: ignore[no-untyped-def]
    long = _long(np.array(REF["shrout_fleiss_alpha0.05"]["data"], float))
    with pytest.raises(err, match=match):
        rs.change.icc(mutate(long), subject="subject", rater="rater", score="score")


def test_icc_accepts_nullable_and_categorical_columns() -> None:
    long = _long(np.array(REF["shrout_fleiss_alpha0.05"]["data"], float))
    base = rs.change.icc(long, subject="subject", rater="rater", score="score").to_frame()
    odd = long.assign(score=long["score"].astype("Int64"), rater=long["rater"].astype("category"))
    pd.testing.assert_frame_equal(
        rs.change.icc(odd, subject="subject", rater="rater", score="score").to_frame(), base
    )


def test_bland_altman_reproduces_bland_altman_1986() -> None:
    """The Lancet paper: bias -2.1, SD 38.8; limits (bias ± 2 SD) -79.7 to 75.5,
    95% CIs of the lower limit -114.3 to -45.1 and of the upper 40.9 to 110.1 (computed
    there from the rounded bias and SD, hence the 0.25 tolerance)."""
    ba = rs.change.bland_altman(WRIGHT, MINI, multiplier=2)
    printed = {
        "bias": -2.1,
        "sd": 38.8,
        "loa_low": -79.7,
        "loa_high": 75.5,
        "loa_low_ci_low": -114.3,
        "loa_low_ci_high": -45.1,
        "loa_high_ci_low": 40.9,
        "loa_high_ci_high": 110.1,
    }
    for name, value in printed.items():
        assert getattr(ba, name) == pytest.approx(value, abs=0.25), name


def test_bland_altman_exact_formulas() -> None:
    d = [a - b for a, b in zip(WRIGHT, MINI, strict=True)]
    n, mean, sd = len(d), statistics.fmean(d), statistics.stdev(d)
    t = 2.119905299221011  # qt(0.975, 16) in R
    ba = rs.change.bland_altman(WRIGHT, MINI)
    assert ba.bias == pytest.approx(mean, rel=1e-12)
    assert ba.sd == pytest.approx(sd, rel=1e-12)
    assert ba.loa_low == pytest.approx(mean - 1.96 * sd, rel=1e-12)
    assert ba.bias_ci_high == pytest.approx(mean + t * sd / math.sqrt(n), rel=1e-10)
    assert ba.loa_high_ci_low == pytest.approx(
        mean + 1.96 * sd - t * math.sqrt(3 * sd**2 / n), rel=1e-10
    )
    frame = ba.to_frame()
    assert frame["quantity"].tolist() == ["bias", "loa_low", "loa_high"]
    assert "limits of agreement" in ba.summary()


def test_bland_altman_sign_scale_and_extremes() -> None:
    ba = rs.change.bland_altman(WRIGHT, MINI)
    swapped = rs.change.bland_altman(MINI, WRIGHT)
    assert swapped.bias == pytest.approx(-ba.bias)
    assert swapped.sd == pytest.approx(ba.sd)
    huge = rs.change.bland_altman(np.array(WRIGHT) * 1e300, np.array(MINI) * 1e300)
    assert huge.bias == pytest.approx(ba.bias * 1e300, rel=1e-9)
    assert math.isfinite(huge.loa_high)


def test_bland_altman_bad_input_and_missing() -> None:
    with pytest.raises(DataError, match="same length"):
        rs.change.bland_altman([1, 2, 3], [1, 2])
    with pytest.raises(DataError, match="infinite"):
        rs.change.bland_altman([1, 2, np.inf], [1, 2, 3])
    with pytest.raises(DataError, match="multiplier"):
        rs.change.bland_altman([1, 2, 3], [1, 2, 4], multiplier=-1)
    with pytest.raises(DataError, match="at least 2"):
        rs.change.bland_altman([1.0], [2.0])
    with pytest.warns(RehabStatsWarning, match="1"):
        ba = rs.change.bland_altman([1, 2, np.nan, 4], [1, 3, 3, 5])
    assert ba.n == 3
    assert ba.n_omitted == 1


def test_bland_altman_plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = rs.change.bland_altman(WRIGHT, MINI).plot()
    ax = fig.axes[0]
    assert len(ax.collections[0].get_offsets()) == 17
    assert len(ax.lines) == 3
