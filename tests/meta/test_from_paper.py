"""Effect sizes from what papers print: SEs and SDs from CIs and p-values, means from medians.

The CIMT-in-progressive-MS report (Mark et al. 2018, abstract): MAL amount-of-use gains
2.7 (95% CI 2.2 to 3.2, n = 10) with CIMT and 0.5 (-0.1 to 1.1, n = 10) without.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import rehabstats as rs
from rehabstats.errors import DataError, RehabStatsWarning


def test_cimt_ms_change_sds_and_standardized_changes() -> None:
    sd_cimt = rs.sd_from_ci(2.2, 3.2, 10)
    sd_ctrl = rs.sd_from_ci(-0.1, 1.1, 10)
    # the issue's values, printed to 3 decimals (half a unit in the last digit)
    assert_allclose([sd_cimt, sd_ctrl], [0.699, 0.839], atol=5e-4, rtol=0)
    # closed form: sqrt(n) (U - L) / (2 t_{0.975, 9}), 1e-12
    t9 = stats.t.ppf(0.975, 9)
    assert_allclose(sd_cimt, math.sqrt(10) * 1.0 / (2 * t9), rtol=1e-12)
    # within-arm standardized change d' = gain / SD of change: 3.86 (paper prints 3.9) and 0.60
    d_cimt, d_ctrl = 2.7 / sd_cimt, 0.5 / sd_ctrl
    assert_allclose([d_cimt, d_ctrl], [3.86, 0.60], atol=5e-3, rtol=0)
    assert round(d_cimt, 1) == 3.9


def test_cimt_ms_between_arm_smd_of_gains() -> None:
    sd_cimt = rs.sd_from_ci(2.2, 3.2, 10)
    sd_ctrl = rs.sd_from_ci(-0.1, 1.1, 10)
    es = rs.meta.study_effects(
        None,
        "SMD",
        study="Mark 2018",
        mean_t=2.7,
        sd_t=sd_cimt,
        n_t=10,
        mean_c=0.5,
        sd_c=sd_ctrl,
        n_c=10,
    )
    sp = math.sqrt((9 * sd_cimt**2 + 9 * sd_ctrl**2) / 18)
    j = math.exp(math.lgamma(9) - 0.5 * math.log(9) - math.lgamma(8.5))
    g = j * 2.2 / sp
    v = 0.2 + g**2 / 40
    assert_allclose(es["yi"].iloc[0], g, rtol=1e-12)
    assert_allclose(es["vi"].iloc[0], v, rtol=1e-12)
    assert_allclose(
        [es["ci_low"].iloc[0], es["ci_high"].iloc[0]],
        [g - 1.959963984540054 * math.sqrt(v), g + 1.959963984540054 * math.sqrt(v)],
        rtol=1e-12,
    )
    # the same g as rs.smd_from_summary (Hedges' g, exact J), whose CI is noncentral-t
    ref = rs.smd_from_summary(2.7, sd_cimt, 10, 0.5, sd_ctrl, 10)
    assert_allclose(ref.estimate, g, rtol=1e-10)
    assert 2.5 < g < 3.0
    assert es["ci_low"].iloc[0] > 1.0


def test_se_from_ci_normal_t_and_log() -> None:
    assert_allclose(rs.se_from_ci(0.0, 3.92), 3.92 / (2 * stats.norm.ppf(0.975)), rtol=1e-12)
    assert_allclose(rs.se_from_ci(1, 2, df=5, ci=0.9), 1 / (2 * stats.t.ppf(0.95, 5)), rtol=1e-12)
    assert_allclose(
        rs.se_from_ci(0.5, 2.0, log=True),
        (math.log(2) - math.log(0.5)) / (2 * stats.norm.ppf(0.975)),
        rtol=1e-12,
    )
    arr = rs.se_from_ci([0, 1], [2, 4])
    assert isinstance(arr, np.ndarray)
    assert arr.shape == (2,)


def test_se_from_p_inverts_the_test() -> None:
    se = rs.se_from_p(1.5, 0.03)
    assert_allclose(2 * stats.norm.sf(1.5 / se), 0.03, rtol=1e-12)
    se_t = rs.se_from_p(-1.5, 0.03, df=12)
    assert_allclose(2 * stats.t.sf(1.5 / se_t, 12), 0.03, rtol=1e-12)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.2, -0.1])
def test_se_from_p_bad_p(bad: float) -> None:
    with pytest.raises(DataError, match="'p'"):
        rs.se_from_p(1.0, bad)


def test_se_from_p_zero_estimate() -> None:
    with pytest.raises(DataError, match="estimate"):
        rs.se_from_p(0.0, 0.5)


def test_mean_sd_from_median_scenarios_formulas() -> None:
    n = 50
    # S1 (range): Luo mean, Wan SD
    s1 = rs.mean_sd_from_median(20.0, minimum=5.0, maximum=41.0, n=n)
    w = 4 / (4 + n**0.75)
    assert_allclose(s1.mean, w * 23.0 + (1 - w) * 20.0, rtol=1e-12)
    xi = 2 * stats.norm.ppf((n - 0.375) / (n + 0.25))
    assert_allclose(s1.sd, 36.0 / xi, rtol=1e-12)
    assert s1.scenario == "S1"
    # S2 (quartiles)
    s2 = rs.mean_sd_from_median(20.0, q1=15.0, q3=27.0, n=n)
    w = 0.7 + 0.39 / n
    assert_allclose(s2.mean, w * 21.0 + (1 - w) * 20.0, rtol=1e-12)
    eta = 2 * stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25))
    assert_allclose(s2.sd, 12.0 / eta, rtol=1e-12)
    # S3 (both): Wan average, Shi weights
    s3 = rs.mean_sd_from_median(20.0, q1=15.0, q3=27.0, minimum=5.0, maximum=41.0, n=n)
    w1, w2 = 2.2 / (2.2 + n**0.75), 0.7 - 0.72 / n**0.55
    assert_allclose(s3.mean, w1 * 23 + w2 * 21 + (1 - w1 - w2) * 20, rtol=1e-12)
    assert_allclose(s3.sd, 0.5 * (36 / xi + 12 / eta), rtol=1e-12)
    s3s = rs.mean_sd_from_median(
        20.0, q1=15.0, q3=27.0, minimum=5.0, maximum=41.0, n=n, sd_method="shi"
    )
    ws = 1 / (1 + 0.07 * n**0.6)
    assert_allclose(s3s.sd, ws * 36 / xi + (1 - ws) * 12 / eta, rtol=1e-12)
    assert s3s.sd_method == "shi"


def test_mean_sd_from_median_normal_sample_is_close() -> None:
    """For normal data the estimators recover the mean and SD (large n, loose check)."""
    n = 400
    q = stats.norm.ppf([0.25, 0.5, 0.75])  # population quartiles of N(0, 1) * 10 + 50
    est = rs.mean_sd_from_median(50.0, q1=50 + 10 * q[0], q3=50 + 10 * q[2], n=n)
    assert_allclose(est.mean, 50.0, atol=1e-9)
    assert_allclose(est.sd, 10.0, rtol=0.01)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"q1": 10.0},
        {"minimum": 1.0},
        {},
        {"q1": 25.0, "q3": 30.0},
        {"minimum": 30.0, "maximum": 40.0},
    ],
)
def test_mean_sd_from_median_bad_input(kwargs: dict[str, float]) -> None:
    with pytest.raises(DataError):
        rs.mean_sd_from_median(20.0, n=30, **kwargs)


def test_mean_sd_from_median_vectorised() -> None:
    est = rs.mean_sd_from_median([20.0, 30.0], q1=[15.0, 25.0], q3=[27.0, 38.0], n=[50, 40])
    one = rs.mean_sd_from_median(30.0, q1=25.0, q3=38.0, n=40)
    assert_allclose(est.mean[1], one.mean, rtol=1e-15)
    assert_allclose(est.sd[1], one.sd, rtol=1e-15)


def test_check_ci_warns_on_the_issue_example() -> None:
    with pytest.warns(RehabStatsWarning, match=r"midpoint 2\.7"):
        offset = rs.check_ci(2.2, 2.2, 3.2)
    assert_allclose(offset, 0.5, rtol=1e-12)


def test_check_ci_centred_and_rounded_is_quiet() -> None:
    assert rs.check_ci(2.7, 2.2, 3.2) == 0.0
    assert abs(rs.check_ci(0.5, -0.1, 1.1)) < 1e-12
    # a ratio printed 0.64 (0.45 to 0.92) is centred on the log scale within rounding
    rs.check_ci(0.64, 0.45, 0.92, log=True)


def test_check_ci_ratio_on_natural_scale_warns() -> None:
    with pytest.warns(RehabStatsWarning, match="not centred"):
        rs.check_ci(0.9, 0.45, 0.92, log=True)


def test_check_ci_estimate_outside() -> None:
    with pytest.warns(RehabStatsWarning, match="position 1"):
        rs.check_ci([1.0, 5.0], [0.0, 0.0], [2.0, 2.0])


def test_inputs_are_checked() -> None:
    with pytest.raises(DataError, match="'high'"):
        rs.se_from_ci(3.0, 2.0)
    with pytest.raises(DataError, match="ratios"):
        rs.se_from_ci(-1.0, 2.0, log=True)
    with pytest.raises(DataError, match="'n'"):
        rs.sd_from_ci(1.0, 2.0, 1)
    with pytest.raises(DataError, match="distribution"):
        rs.sd_from_ci(1.0, 2.0, 10, distribution="z")
    with pytest.raises(DataError, match="'ci'"):
        rs.se_from_ci(1.0, 2.0, ci=95)
    with pytest.raises(DataError, match="'low'"):
        rs.se_from_ci("1.0", 2.0)
    with pytest.raises(DataError, match="finite"):
        rs.se_from_ci(float("nan"), 2.0)
