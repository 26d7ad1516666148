"""Named repros of issue 7 for the effect sizes, change, measures and the forest plot.

Each test failed before its fix: extreme scale (overflow to wrong finite answers or
OverflowError), the unchecked public ``ncp_limits`` (zero-width intervals for large t),
``nnt`` of equal rates, ``measures.thresholds(level="high")``, ``forest(digits=-1)``,
numpy reprs in messages, and the two "average" standardisers of a mean change
(effectsize's ``rm_d(method = "av")`` versus Lakens' d_av).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import load_json
from numpy.testing import assert_allclose
from scipy import special

import rehabstats as rs
from rehabstats import effect_sizes as es
from rehabstats._validate import check_numeric_column, show_value
from rehabstats.errors import DataError, RehabStatsWarning

FIXTURE = (
    Path(__file__).resolve().parents[1] / "reference" / "effect_sizes" / "rm_d_av_fixture.json"
)
CLOSED = 1e-8  # relative tolerance for closed forms

X = [5.1, 6.3, 7.0, 6.2, 8.4, 7.7, 6.9]
Y = [4.0, 5.2, 4.9, 5.8, 4.5, 5.3, 6.1]
PRE = [3.9, 5.0, 5.1, 5.2, 4.4, 4.9, 5.5]


# ------------------------------------------------------------------ standardizer="average_var"
@pytest.mark.parametrize("case", ["sleep", "rehab_unequal_sd", "small"])
def test_average_var_equals_effectsize_rm_d_av(case: str) -> None:
    ref = load_json(FIXTURE)[case]
    for row in ref["average_var"]:  # 4 settings x 4 values per case
        res = es.standardized_mean_change(
            ref["pre"],
            ref["post"],
            standardizer="average_var",
            correction=row["adjust"],
            ci=row["level"],
        )
        assert res.ci_method == "normal"
        assert_allclose(
            [res.estimate, res.se, res.ci_low, res.ci_high],
            [row["estimate"], row["se"], row["ci_low"], row["ci_high"]],
            rtol=CLOSED,
        )


@pytest.mark.parametrize("case", ["sleep", "rehab_unequal_sd", "small"])
def test_average_is_lakens_d_av_and_differs_from_average_var(case: str) -> None:
    ref = load_json(FIXTURE)[case]
    lakens = es.standardized_mean_change(
        ref["pre"], ref["post"], standardizer="average", correction=False
    )
    assert_allclose(lakens.estimate, ref["lakens_d_av"], rtol=CLOSED)
    g = es.standardized_mean_change(ref["pre"], ref["post"], standardizer="average")
    assert_allclose(g.estimate, ref["lakens_g_av"], rtol=CLOSED)
    westfall = es.standardized_mean_change(
        ref["pre"], ref["post"], standardizer="average_var", correction=False
    )
    # the root mean variance is at least the mean SD, so |d_a| <= |d_av| (equal iff SDs equal)
    assert abs(westfall.estimate) < abs(lakens.estimate)
    assert westfall.measure == "smc_average_var"
    assert lakens.measure == "smc_average"


def test_average_var_equals_average_when_sds_are_equal() -> None:
    pre = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    post = pre[[1, 0, 3, 4, 2]] + 2.0  # same values (same SD), shuffled, shifted
    a = es.standardized_mean_change(pre, post, standardizer="average")
    b = es.standardized_mean_change(pre, post, standardizer="average_var")
    assert_allclose(a.estimate, b.estimate, rtol=1e-12)


# ------------------------------------------------------------------ extreme scale
@pytest.mark.parametrize("factor", [1e300, 1e-300, 2.0**900])
@pytest.mark.parametrize(
    ("func", "kw"),
    [
        (es.cohens_d, {}),
        (es.cohens_d, {"paired": True}),
        (es.cohens_d, {"pooled_sd": False}),
        (es.hedges_g, {}),
        (es.glass_delta, {}),
    ],
)
def test_two_sample_smd_is_scale_free(func, kw, factor: float) -> None:
    unit = func(X, Y, **kw)
    big = func(np.array(X) * factor, np.array(Y) * factor, **kw)
    # before the fix cohens_d at 1e300 was -0.0 (squares overflowed); 1e-300 underflowed
    assert_allclose(
        [big.estimate, big.se, big.ci_low, big.ci_high],
        [unit.estimate, unit.se, unit.ci_low, unit.ci_high],
        rtol=1e-12,
    )
    assert_allclose(big.details["sd"], unit.details["sd"] * factor, rtol=1e-12)
    if factor == 2.0**900:  # exact scaling: bit-identical
        assert big.estimate == unit.estimate
        assert big.ci_low == unit.ci_low


@pytest.mark.parametrize("standardizer", ["pre", "change", "average", "average_var", "rm"])
def test_mean_change_is_scale_free(standardizer: str) -> None:
    unit = es.standardized_mean_change(PRE, X, standardizer=standardizer)
    big = es.standardized_mean_change(
        np.array(PRE) * 1e300, np.array(X) * 1e300, standardizer=standardizer
    )
    assert_allclose(
        [big.estimate, big.se, big.ci_low, big.ci_high],
        [unit.estimate, unit.se, unit.ci_low, unit.ci_high],
        rtol=1e-12,
    )


def test_mean_change_extreme_ratio_is_clean() -> None:
    # post 1e300 times pre: an OverflowError (y**2) before; now a finite, correct estimate
    res = es.standardized_mean_change(PRE, np.array(X) * 1e300, standardizer="pre")
    assert math.isfinite(res.estimate)
    assert math.isfinite(res.se)
    assert res.estimate > 1e299


def test_ppc_smd_is_scale_free_and_summary_route_does_not_overflow() -> None:
    args = (PRE, X, PRE[::-1], Y)
    unit = es.ppc_smd(*args)
    big = es.ppc_smd(*(np.array(a) * 1e300 for a in args))
    assert_allclose([big.estimate, big.se], [unit.estimate, unit.se], rtol=1e-12)
    res = es.ppc_smd_from_summary(
        4.9e300, 6.8e300, 0.8e300, 7, 5.0e300, 5.1e300, 0.7e300, 7, r=0.5
    )  # OverflowError (sd**2) before
    ref = es.ppc_smd_from_summary(4.9, 6.8, 0.8, 7, 5.0, 5.1, 0.7, 7, r=0.5)
    assert_allclose([res.estimate, res.se], [ref.estimate, ref.se], rtol=1e-12)


def test_smd_from_t_huge_t() -> None:
    res = es.smd_from_t(1e300, 7, 7)  # OverflowError (d**2) before
    assert all(math.isfinite(v) for v in (res.estimate, res.se, res.ci_low, res.ci_high))
    assert res.ci_low < res.estimate < res.ci_high


def test_smd_from_summary_unrepresentable_is_an_error() -> None:
    with pytest.raises(DataError, match="'mean_x'/'mean_y' and 'sd_x'/'sd_y'"):
        es.smd_from_summary(1e300, 1.1, 7, 5.0, 0.7, 7)


# ------------------------------------------------------------------ ncp_limits
def test_ncp_limits_large_t_not_zero_width() -> None:
    # before: t = 1e6 gave the zero-width interval [1e6, 1e6] without a word
    for df in (1.0, 3.0, 12.0, 200.0):
        lo, hi = es.ncp_limits(1e6, df, 0.95)
        assert lo < 0.99e6
        assert hi > 1.01e6
        # continuity across the switch to the large-t limit (relative error ~10/t^2)
        a = np.array(es.ncp_limits(2.99e4, df, 0.95)) / 2.99e4
        b = np.array(es.ncp_limits(3.01e4, df, 0.95)) / 3.01e4
        assert_allclose(a, b, rtol=1e-6)
        # below the switch the limits still solve the defining equations
        lo, hi = es.ncp_limits(2.0e4, df, 0.95)
        assert abs(special.nctdtr(df, lo, 2.0e4) - 0.975) < 1e-8
        assert abs(special.nctdtr(df, hi, 2.0e4) - 0.025) < 1e-8
    lo, hi = es.ncp_limits(-1e6, 12.0, 0.95)
    lo2, hi2 = es.ncp_limits(1e6, 12.0, 0.95)
    assert_allclose([lo, hi], [-hi2, -lo2], rtol=1e-14)


@pytest.mark.parametrize(
    ("t", "df", "ci", "match"),
    [
        (math.nan, 10, 0.95, "'t'"),
        (math.inf, 10, 0.95, "'t'"),
        ("2", 10, 0.95, "'t'"),
        ([], 10, 0.95, "'t'"),
        (2.0, 0, 0.95, "'df'"),
        (2.0, -3, 0.95, "'df'"),
        (2.0, math.nan, 0.95, "'df'"),
        (2.0, 10, 95, "'ci'"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], 0.95, "broadcast"),
        (True, 10, 0.95, "'t'"),
    ],
)
def test_ncp_limits_validates(t, df, ci, match) -> None:
    with pytest.raises(DataError, match=match):
        es.ncp_limits(t, df, ci)


# ------------------------------------------------------------------ binary, conversions
def test_nnt_equal_rates_is_announced() -> None:
    with pytest.warns(RehabStatsWarning, match="risk difference is 0"):
        res = es.nnt(0, 10, 0, 10)
    assert math.isinf(res.estimate)


def test_counts_beyond_exact_integers_are_refused() -> None:
    with pytest.raises(DataError, match="'n_x'"):
        es.risk_difference(3, 1e300, 2, 10)


def test_conversions_announce_missing_and_refuse_infinite() -> None:
    with pytest.warns(RehabStatsWarning, match="'d' has 1 missing"):
        out = es.d_to_r([0.5, math.nan])
    assert math.isnan(out[1])
    assert math.isfinite(out[0])
    with pytest.raises(DataError, match="'d' must be finite"):
        es.d_to_r(math.inf)
    with pytest.raises(DataError, match="'r'"):
        es.r_to_d(True)
    with pytest.warns(RehabStatsWarning, match="infinite d"):
        assert math.isinf(es.r_to_d(1.0))
    assert_allclose(es.d_to_r(1e300), 1.0)  # overflowed (d**2) before
    with pytest.raises(DataError, match="'n1'"):
        es.d_to_r(0.5, n1=math.nan, n2=10)


# ------------------------------------------------------------------ measures, forest, messages
def test_thresholds_bad_level_lists_choices() -> None:
    with pytest.raises(DataError, match=r"'level'.*0\.9, 0\.95"):
        rs.measures.thresholds("wmft_time", "mdc", level="high")
    with pytest.raises(DataError, match="'level'"):
        rs.measures.threshold("wmft_time", statistic="mdc", level=95)
    with pytest.raises(DataError, match="'statistic'"):
        rs.measures.threshold("tug", statistic=None)


@pytest.mark.parametrize("digits", [-1, 2.5, "2", None, True, 99])
def test_forest_digits_is_validated(digits) -> None:
    res = [es.hedges_g(X, Y)]
    with pytest.raises(DataError, match="'digits'"):
        rs.plot.forest(res, digits=digits)


def test_forest_missing_label_is_shown_as_na() -> None:
    table = pd.DataFrame(
        {
            "study": [None, "s2"],
            "estimate": [0.4, 0.1],
            "ci_low": [0.1, -0.3],
            "ci_high": [0.7, 0.5],
        }
    )
    fig = rs.plot.forest(table, label="study")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["NA", "s2"]


def test_show_value_and_messages_without_numpy_reprs() -> None:
    assert show_value(np.int64(32)) == "32"
    assert show_value(np.float64(1.5)) == "1.5"
    assert show_value(np.array(3)) == "3"
    assert show_value(pd.NA) == "<NA>"
    frame = pd.DataFrame({"y": [1.0, 2.0, "x"]}, index=pd.Index(np.array([5, 32, 7])))
    with pytest.raises(DataError) as err:
        check_numeric_column(frame, "y")
    assert "np." not in str(err.value)
    assert "row 7" in str(err.value)
    with pytest.raises(DataError) as err:
        es.smd_from_summary(1.0, 1.0, np.int64(1), 2.0, 1.0, 5)
    assert "np." not in str(err.value)
    assert "got 1." in str(err.value)


def test_option_arguments_are_checked() -> None:
    with pytest.raises(DataError, match="'log'"):
        es.d_to_odds_ratio(0.5, log="yes")
    with pytest.raises(DataError, match="'log'"):
        es.odds_ratio_to_d(2.0, log="yes")
    res = [es.hedges_g(X, Y)]
    with pytest.raises(DataError, match="'ax'"):
        rs.plot.forest(res, ax="left")
    with pytest.raises(DataError, match="'labels'"):
        rs.plot.forest(res, labels=3)
    with pytest.raises(DataError, match="'estimate'"):
        rs.plot.forest(
            pd.DataFrame({"estimate": [0.1], "ci_low": [0.0], "ci_high": [0.2]}), estimate=None
        )
    with pytest.raises(DataError, match="'null_value'"):
        rs.plot.forest(res, null_value=math.nan)
