"""Bad input, missing values and degenerate data: each a clear rehabstats error."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import rehabstats.effect_sizes as es
from rehabstats.errors import DataError, RehabStatsWarning

X = [5.1, 6.3, 7.2, 4.8, 6.6]
Y = [4.2, 5.0, 3.8, 5.9, 4.4, 4.9]
TWO_SAMPLE = [
    es.cohens_d,
    es.hedges_g,
    es.glass_delta,
    es.cliffs_delta,
    es.rank_biserial,
    es.prob_superiority,
]
SMD = [es.cohens_d, es.hedges_g, es.glass_delta]


@pytest.mark.parametrize("fn", TWO_SAMPLE)
def test_empty_input(fn):
    with pytest.raises(DataError, match="'x' needs at least"):
        fn([], Y)


@pytest.mark.parametrize("fn", SMD)
def test_one_observation(fn):
    with pytest.raises(DataError, match="'y' needs at least 2"):
        fn(X, [3.0])


@pytest.mark.parametrize("fn", TWO_SAMPLE)
def test_non_numeric(fn):
    with pytest.raises(DataError, match="non-numeric value 'a'"):
        fn([1.0, "a", 3.0], Y)


@pytest.mark.parametrize("fn", TWO_SAMPLE)
def test_ci_outside_unit_interval(fn):
    for bad in (0, 1, 1.5, -0.2, "0.95", True):
        with pytest.raises(DataError, match="'ci'"):
            fn(X, Y, ci=bad)


def test_zero_variance_is_explained():
    with pytest.raises(DataError, match="zero variance"):
        es.cohens_d([2, 2, 2], [2, 2, 2])
    with pytest.raises(DataError, match="control group"):
        es.glass_delta(X, [3, 3, 3])
    with pytest.raises(DataError, match="paired differences"):
        es.cohens_d([3, 4, 5], [1, 2, 3], paired=True)
    with pytest.raises(DataError, match="'pre' has zero variance"):
        es.standardized_mean_change([1, 1, 1], [2, 3, 4])
    with pytest.raises(DataError, match="zero variance"):
        es.standardized_mean_change([1, 2, 3], [2, 3, 4], standardizer="change")
    with pytest.raises(DataError, match="pooled pre-test SD is zero"):
        es.ppc_smd([1, 1], [2, 3], [1, 1], [4, 2])
    with pytest.raises(DataError, match="every difference"):
        es.rank_biserial([1, 2, 3], [1, 2, 3], paired=True)
    with pytest.raises(DataError, match="both zero"):
        es.smd_from_summary(1, 0, 5, 0, 0, 5)


def test_one_constant_group_is_fine():
    # pooled SD still defined when only one group is constant
    res = es.cohens_d([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    assert res.estimate == 0.0


def test_nan_omitted_counted_and_warned():
    with pytest.warns(RehabStatsWarning, match="1 missing value"):
        res = es.hedges_g([*X, np.nan], Y)
    assert res.n_omitted == 1
    assert res.n_x == 5
    with pytest.warns(RehabStatsWarning):
        same = es.hedges_g(pd.Series([*X, None]), Y)
    assert same.estimate == res.estimate
    with pytest.warns(RehabStatsWarning):
        paired = es.cohens_d([1, 2, np.nan, 4, 6], [0.5, 1, 2, np.nan, 3], paired=True)
    assert paired.n_omitted == 2
    assert paired.n_x == 3
    with pytest.warns(RehabStatsWarning):
        smc = es.standardized_mean_change([1, 2, np.nan, 4, 5], [2, 2, 3, 5, 7])
    assert smc.n_omitted == 1
    with pytest.warns(RehabStatsWarning):
        ppc = es.ppc_smd([1, 2, 3, np.nan], [2, 4, 5, 6], [1, 3, 2], [2, 3, 3])
    assert ppc.n_omitted == 1
    with pytest.warns(RehabStatsWarning):
        cd = es.cliffs_delta([1, np.nan, 3], [np.nan, 2, 0])
    assert cd.n_omitted == 2


@pytest.mark.parametrize("fn", TWO_SAMPLE)
def test_nan_policy_raise(fn):
    with pytest.raises(DataError, match="nan_policy='raise'"):
        fn([*X, np.nan], Y, nan_policy="raise")


def test_bad_nan_policy():
    with pytest.raises(DataError, match="'nan_policy'"):
        es.cohens_d(X, Y, nan_policy="drop")


def test_infinite_values():
    with pytest.raises(DataError, match="infinite"):
        es.cohens_d([1.0, np.inf, 2.0], Y)


def test_mismatched_pairs():
    with pytest.raises(DataError, match="same length"):
        es.standardized_mean_change([1, 2, 3], [1, 2])
    with pytest.raises(DataError, match="same length"):
        es.cohens_d([1, 2, 3], [1, 2], paired=True)
    with pytest.raises(DataError, match="same length"):
        es.rank_biserial([1, 2, 3], [1, 2], paired=True)
    with pytest.raises(DataError, match="same length"):
        es.ppc_smd([1, 2, 3], [1, 2], [1, 2], [3, 4])


def test_two_dimensional_input():
    # 2-D input is a batch (axis=0, scipy's rule); shapes that do not broadcast outside
    # the axis raise a DataError naming both arguments
    with pytest.raises(DataError, match="'x' \\(3, 2\\), 'y' \\(6,\\)"):
        es.cohens_d(np.ones((3, 2)), Y)


def test_bad_options():
    with pytest.raises(DataError, match="'standardizer'"):
        es.standardized_mean_change([1, 2, 3], [2, 3, 5], standardizer="post")
    with pytest.raises(DataError, match="'correction'"):
        es.standardized_mean_change([1, 2, 3], [2, 3, 5], correction="yes")
    with pytest.raises(DataError, match="'correction'"):
        es.smd_from_summary(1, 1, 5, 0, 1, 5, correction="glass")
    with pytest.raises(DataError, match="'method'"):
        es.risk_difference(3, 10, 2, 10, method="exact")
    with pytest.raises(DataError, match="'improvement'"):
        es.nnt(3, 10, 2, 10, improvement="better")
    with pytest.raises(DataError, match="'pooled_sd'"):
        es.cohens_d(X, Y, pooled_sd="no")
    with pytest.raises(DataError, match="'paired'"):
        es.rank_biserial(X, Y, paired=1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sd_x": -1.0}, "'sd_x'.*cannot be negative"),
        ({"sd_y": -0.5}, "'sd_y'.*cannot be negative"),
        ({"n_x": -3}, "'n_x'.*at least 2"),
        ({"n_y": 1}, "'n_y'.*at least 2"),
        ({"n_x": 4.5}, "'n_x'.*whole number"),
        ({"mean_x": math.nan}, "'mean_x'.*finite"),
        ({"mean_y": "3"}, "'mean_y' argument must be a number"),
    ],
)
def test_smd_from_summary_bad(kwargs, match):
    args = {"mean_x": 10.0, "sd_x": 2.0, "n_x": 10, "mean_y": 8.0, "sd_y": 2.5, "n_y": 12}
    args.update(kwargs)
    with pytest.raises(DataError, match=match):
        es.smd_from_summary(**args)


def test_smd_from_t_bad():
    with pytest.raises(DataError, match="'n_x'.*at least 2"):
        es.smd_from_t(2.0, 1)
    with pytest.raises(DataError, match="'t'.*finite"):
        es.smd_from_t(math.inf, 10, 10)


def test_ppc_from_summary_bad():
    base = (35.6, 36.0, 4.7, 14, 34.8, 33.4, 3.1, 14)
    with pytest.raises(DataError, match="'r'"):
        es.ppc_smd_from_summary(*base, r=1.2)
    with pytest.raises(DataError, match="'sd_pre_y'"):
        es.ppc_smd_from_summary(35.6, 36.0, 4.7, 14, 34.8, 33.4, -3.1, 14, r=0.4)
    with pytest.raises(DataError, match="'n_x'"):
        es.ppc_smd_from_summary(35.6, 36.0, 4.7, 1, 34.8, 33.4, 3.1, 14, r=0.4)


@pytest.mark.parametrize("fn", [es.risk_difference, es.risk_ratio, es.odds_ratio, es.nnt])
def test_binary_bad_counts(fn):
    with pytest.raises(DataError, match="'events_x' \\(12\\) cannot exceed"):
        fn(12, 10, 3, 10)
    with pytest.raises(DataError, match="'events_y'.*at least 0"):
        fn(2, 10, -1, 10)
    with pytest.raises(DataError, match="'n_y'.*at least 1"):
        fn(2, 10, 0, 0)
    with pytest.raises(DataError, match="'n_x'.*whole number"):
        fn(2, 10.5, 3, 10)
    with pytest.raises(DataError, match="'ci'"):
        fn(2, 10, 3, 10, ci=95)


def test_zero_cell_haldane_warning():
    with pytest.warns(RehabStatsWarning, match="Haldane"):
        res = es.odds_ratio(0, 10, 3, 12)
    assert res.details["haldane_corrected"]
    assert np.isfinite(res.estimate)
    assert res.estimate > 0
    # the risk difference needs no correction
    rd = es.risk_difference(0, 10, 3, 12)
    assert rd.estimate == -0.25


def test_conversion_bad_input():
    with pytest.raises(DataError, match="'r' must lie in"):
        es.r_to_d(1.5)
    with pytest.raises(DataError, match="'odds_ratio' must be positive"):
        es.odds_ratio_to_d(-1.0)
    with pytest.raises(DataError, match="'n1'"):
        es.d_to_r(0.5, n1=0, n2=10)
    with pytest.raises(DataError, match="'d' must be numeric"):
        es.d_to_r("big")


def test_inputs_not_modified():
    x = np.array([1.0, np.nan, 3.0, 4.0])
    s = pd.Series([2.0, 1.0, np.nan])
    before_x, before_s = x.copy(), s.copy()
    with pytest.warns(RehabStatsWarning):
        es.hedges_g(x, s)
    np.testing.assert_array_equal(x, before_x)
    pd.testing.assert_series_equal(s, before_s)


@pytest.mark.parametrize(
    "call",
    [
        lambda: es.cohens_d([1.0, 2.0, np.nan, 4.0], [1.0, 3.0, 2.0]),
        lambda: es.hedges_g([1.0, 2.0, np.nan, 4.0], [1.0, 3.0, 2.0], paired=False),
        lambda: es.cohens_d([1.0, 2.0, np.nan, 4.0], [1.0, 3.0, 2.0, 2.0], paired=True),
        lambda: es.cliffs_delta([1.0, np.nan], [1.0, 3.0]),
        lambda: es.rank_biserial([1.0, np.nan, 3.0], [2.0, 1.0, 1.0], paired=True),
        lambda: es.standardized_mean_change([1.0, 2.0, np.nan, 4.0], [2.0, 2.0, 5.0, 6.0]),
        lambda: es.ppc_smd([1.0, 2.0, 3.0, np.nan], [2.0, 4.0, 5.0, 6.0], [1, 3, 2], [2, 3, 3]),
        lambda: es.odds_ratio(0, 10, 3, 10),
    ],
)
def test_warnings_point_at_the_caller(call):
    with pytest.warns(RehabStatsWarning) as record:
        call()
    assert record[0].filename == __file__
