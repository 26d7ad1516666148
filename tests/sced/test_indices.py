"""rs.sced index functions: published examples, short phases and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rehabstats import sced
from rehabstats.errors import DataError, RehabStatsWarning

A = [20, 20, 26, 25, 22, 23]
B = [28, 25, 24, 27, 30, 30, 29]
ALL = sorted(sced.INDICES)


def _call(name: str, a, b, **kw):
    if name == "pogo":
        kw.setdefault("goal", 30.0)
    return sced.INDICES[name](a, b, **kw)


# ------------------------------------------------------------------ published examples


def test_parker_vannest_2009_nap() -> None:
    # Parker & Vannest (2009): NAP = 0.96 for this example (SingleCaseES documentation)
    res = sced.nap([4, 3, 4, 3, 4, 7, 5, 2, 3, 2], [5, 9, 7, 9, 7, 5, 9, 11, 11, 10, 9])
    assert res.estimate == pytest.approx(0.9636363636, abs=1e-9)
    assert res.measure == "nap"
    assert (res.n_x, res.n_y) == (11, 10)


def test_parker_2011_tau_u_bob() -> None:
    # Parker et al. (2011) worked example ("Bob"): A vs. B - Trend A = 0.65 with Parker's pairs
    assert sced.tau_u([2, 3, 5, 3], [4, 5, 5, 7, 6]).estimate == pytest.approx(0.65)
    tab = sced.tau_u_table([2, 3, 5, 3], [4, 5, 5, 7, 6], method="parker")
    assert tab["Tau"].tolist()[:4] == pytest.approx([0.8, 0.5, 0.7, 0.65])


def test_tau_u_variants_and_ci() -> None:
    res = sced.tau_u(A, B, method="complete", ci=0.95)
    assert -1 <= res.ci_low <= res.estimate <= res.ci_high <= 1
    assert res.details["tau_method"] == "b"
    tarlow = sced.tau_u(A, B, method="tarlow", ci=0.9, ci_method="s")
    assert tarlow.details["tau_method"] == "a"
    assert sced.tau_u(A, B, model="ab").estimate == pytest.approx(sced.tau(A, B).estimate)


def test_combine_tau_u_single_case_reproduces_case() -> None:
    tab = sced.tau_u_table(A, B)
    meta = sced.combine_tau_u([tab])
    assert meta.loc[0, "tau_u"] == pytest.approx(tab.loc[0, "Tau"])


def test_pem_ties_and_pand_methods() -> None:
    res = sced.pem([1, 2, 3], [2, 4, 5])
    assert res.estimate == pytest.approx(2.5 / 3)
    assert res.details["pem_strict"] == pytest.approx(2 / 3)
    assert sced.pand([20, 18, 20], [20, 21, 23]).estimate == pytest.approx(5 / 6)
    assert sced.pand([20, 18, 20], [20, 21, 23], method="sort").estimate == 1.0


def test_tau_bc_pretest_and_kendall() -> None:
    a = [1, 2, 3, 4, 5, 6]
    b = [8, 9, 10, 11, 12, 13]
    res = sced.tau_bc(a, b, pretest_trend=0.05)
    assert res.details["corrected"] is True
    assert res.details["slope"] == pytest.approx(1.0)
    assert 0 < res.details["pval_slope_a"] < 0.05
    k = sced.tau_bc(a, b, kendall=True)
    assert k.ci_method == "normal"
    assert k.se == pytest.approx(math.sqrt(2 / 12 * (1 - k.estimate**2)))


def test_lrr_pct_change_and_scales() -> None:
    res = sced.lrri(A, B, scale="count")
    assert res.details["pct_change"] == pytest.approx(100 * math.expm1(res.estimate))
    pct = sced.lrrd([20, 30, 25], [10, 5, 0], scale="percentage", intervals=20)
    assert pct.estimate < 0
    other = sced.lrri(A, B, scale="other")
    assert math.isinf(other.details["d_const"])


def test_result_frame_and_summary() -> None:
    res = sced.nap(A, B)
    frame = res.to_frame()
    assert frame.loc[0, "n_x"] == len(B)
    assert frame.loc[0, "n_y"] == len(A)
    assert "nap" in res.summary()
    assert "no CI" in sced.pnd(A, B).summary()


# ------------------------------------------------------------------ short phases (SingleCaseES)


def test_one_observation_in_baseline() -> None:
    # SingleCaseES test-short-phase-behavior.R: NAP/Tau SE infinite, PND = PEM = NAP,
    # Tau = Tau-U, parametric indices warn.
    a1, b3 = [40.0], [20.0, 13.3, 25.0]
    # the unbiased SE is Inf (as SingleCaseES) and announced (issue 7)
    with pytest.warns(RehabStatsWarning, match="unbiased variance divides"):
        nap = sced.nap(a1, b3, improvement="decrease", ci=None)
    assert math.isinf(nap.se)
    with pytest.warns(RehabStatsWarning, match="unbiased variance divides"):
        assert math.isinf(sced.tau(a1, b3, improvement="decrease", ci=None).se)
    assert math.isfinite(sced.nap(a1, b3, ci=None, se_method="hanley").se)
    assert sced.pnd(a1, b3, improvement="decrease").estimate == nap.estimate
    assert sced.pem(a1, b3, improvement="decrease").estimate == nap.estimate
    assert sced.tau_u(a1, b3, improvement="decrease").estimate == pytest.approx(
        sced.tau(a1, b3, improvement="decrease", se_method="null").estimate
    )
    for name in ("smd", "lrrd", "lrri", "lor"):
        with pytest.warns(RehabStatsWarning, match="fewer than 2 observations"):
            _call(
                name,
                a1,
                b3,
                improvement="decrease",
                **({"scale": "percentage"} if name != "smd" else {}),
            )


def test_one_observation_in_each_phase() -> None:
    with pytest.warns(RehabStatsWarning, match="baseline and treatment phase"):
        res = sced.lrri([40.0], [20.0], scale="percentage", improvement="decrease")
    assert math.isnan(res.estimate)
    assert math.isnan(res.se)
    with pytest.warns(RehabStatsWarning, match="unbiased variance divides"):
        assert math.isinf(sced.nap([40.0], [20.0], ci=None).se)
    with pytest.raises(DataError, match="at least 2 baseline observations"):
        sced.tau_bc([1.0], [2.0, 3.0])


def test_zero_variance_smd_warns() -> None:
    with pytest.warns(RehabStatsWarning, match="does not vary"):
        res = sced.smd([3, 3, 3], [4, 5, 6])
    assert math.isinf(res.estimate)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("name", ALL)
def test_empty_phase(name: str) -> None:
    with pytest.raises(DataError, match="baseline phase needs at least 1"):
        _call(name, [], B)
    with pytest.raises(DataError, match="treatment phase needs at least 1"):
        _call(name, A, [])


@pytest.mark.parametrize("name", ALL)
def test_non_numeric(name: str) -> None:
    with pytest.raises(DataError, match="non-numeric value 'x'"):
        _call(name, [1, "x", 3], B)
    with pytest.raises(DataError, match="string"):
        _call(name, A, "12345")


@pytest.mark.parametrize("name", ALL)
def test_nan_dropped_with_warning(name: str) -> None:
    with pytest.warns(RehabStatsWarning, match="missing value"):
        res = _call(name, [*A, float("nan")], B)
    assert res.n_omitted == 1
    assert res.n_y == len(A)


@pytest.mark.parametrize("name", ALL)
def test_bad_improvement(name: str) -> None:
    with pytest.raises(DataError, match="'improvement' argument must be one of"):
        _call(name, A, B, improvement="up")


@pytest.mark.parametrize("name", ALL)
def test_inputs_not_modified(name: str) -> None:
    a = np.array(A, dtype=float)
    b = pd.Series(B, dtype=float)
    a0, b0 = a.copy(), b.copy()
    _call(name, a, b, improvement="decrease")
    np.testing.assert_array_equal(a, a0)
    pd.testing.assert_series_equal(b, b0)


@pytest.mark.parametrize(
    ("func", "kw", "match"),
    [
        (sced.nap, {"se_method": "Hanley"}, "se_method"),
        (sced.tau, {"ci": 95}, "confidence level"),
        (sced.tau_u, {"method": "bossart"}, "method"),
        (sced.tau_u, {"model": "A vs. B"}, "model"),
        (sced.tau_u, {"ci_method": "t"}, "ci_method"),
        (sced.tau_u_table, {"tau_method": "c"}, "tau_method"),
        (sced.tau_bc, {"pretest_trend": 1.5}, "pretest_trend"),
        (sced.tau_bc, {"pretest_trend": True}, "pretest_trend"),
        (sced.tau_bc, {"kendall": "yes"}, "kendall"),
        (sced.pand, {"method": "max"}, "method"),
        (sced.smd, {"standardizer": "pool"}, "standardizer"),
        (sced.smd, {"bias_correct": 1.5}, "bias_correct"),
        (sced.lrri, {"scale": "counts"}, "scale"),
        (sced.lrrd, {"intervals": 0}, "intervals"),
        (sced.lrri, {"d_const": "a"}, "d_const"),
        (sced.lor, {"scale": "count"}, "scale"),
        (sced.lrm, {"delta_method": "no"}, "delta_method"),
    ],
)
def test_unknown_option_values(func, kw: dict, match: str) -> None:
    with pytest.raises(DataError, match=match):
        func(A, B, **kw)


def test_pogo_needs_goal_and_lor_range() -> None:
    with pytest.raises(DataError, match="'goal'"):
        sced.pogo(A, B, goal=None)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="between 0 and 1"):
        sced.lor([0.2, 1.4], [0.5, 0.6], scale="proportion")
    with pytest.raises(DataError, match="between 0 and 100"):
        sced.lor([20, 140], [50, 60])


def test_combine_tau_u_bad_input() -> None:
    with pytest.raises(DataError, match="at least one"):
        sced.combine_tau_u([])
    with pytest.raises(DataError, match="weights"):
        sced.combine_tau_u([sced.tau_u_table(A, B)], weights="n")


def test_two_dimensional_input_rejected() -> None:
    # 2-D input is a batch (axis=0); shapes that do not broadcast outside the axis raise
    with pytest.raises(DataError, match="'baseline' \\(2, 2\\), 'treatment'"):
        sced.nap([[1, 2], [3, 4]], B)
    with pytest.raises(DataError, match="infinite"):
        sced.nap([1, np.inf], B)


def test_corrected_tau_scan_variant() -> None:
    res = sced.corrected_tau([2, 3, 5, 3], [4, 5, 5, 7, 6])
    assert res.estimate == pytest.approx(0.6324555320336759)  # scan record Parker2011
    assert res.details["correction_applied"] is False
    gaps = sced.corrected_tau(
        [1, 2, 3, 4],
        [6, 7, 8],
        baseline_sessions=[1, 2, 5, 9],
        treatment_sessions=[10, 12, 13],
        repeated=True,
    )
    assert gaps.details["table"]["model"].iloc[0] == "Baseline autocorrelation"
    with pytest.raises(DataError, match="one session per observation"):
        sced.corrected_tau([1, 2, 3], [4, 5], baseline_sessions=[1, 2])
    with pytest.raises(DataError, match="alpha"):
        sced.corrected_tau([1, 2, 3], [4, 5], alpha=0)
    with pytest.raises(DataError, match="two distinct baseline sessions"):
        sced.corrected_tau([1, 2], [4, 5], baseline_sessions=[1, 1])
    with pytest.raises(DataError, match="tau_method"):
        sced.corrected_tau([1, 2, 3], [4, 5], tau_method="c")


def test_nap_complete_separation_interval() -> None:
    # SingleCaseES reports [1, 1] at NAP = 1 (uniroot stops at the interval end);
    # the interior solution of the Newcombe equation is kept in details.
    res = sced.nap([1, 2, 3], [4, 5, 6])
    assert res.ci == (1.0, 1.0)
    assert 0.5 < res.details["ci_low_interior"] < 1
    rev = sced.nap([1, 2, 3], [4, 5, 6], improvement="decrease")
    assert rev.ci == (0.0, 0.0)
    assert rev.details["ci_high_interior"] == pytest.approx(1 - res.details["ci_low_interior"])


# ------------------------------------------------------------------ warnings name the caller

_ONE_OBSERVATION_WARNS = ("lor", "lrm", "lrrd", "lrri", "nap", "pogo", "smd", "tau")
_CALLER_CASES = (
    [("missing", name, [1.0, np.nan, 2.0], [2.0, 3.0, 4.0], {}) for name in ALL]
    + [("one_observation", n, [1.0], [2.0, 3.0, 4.0], {}) for n in _ONE_OBSERVATION_WARNS]
    + [
        ("zero_mean", n, [0.0, 0.0, 0.0], [2.0, 3.0, 4.0], {"scale": "other"})
        for n in ("lrrd", "lrri")
    ]
    + [("one_treatment_observation", "tau_bc", [1.0, 3.0, 2.0, 4.0], [5.0], {})]
)


@pytest.mark.parametrize(
    ("case", "name", "a", "b", "kw"), _CALLER_CASES, ids=[f"{c[1]}-{c[0]}" for c in _CALLER_CASES]
)
def test_warnings_point_at_the_caller(case: str, name: str, a, b, kw) -> None:
    # every warning of a one-series index names the line that called it, also where the
    # index hands the series to a shared body (lrrd/lrri -> _lrr, nap/tau/tau_bc -> _nap)
    if name == "pogo":
        kw = {"goal": 30.0}
    with pytest.warns(RehabStatsWarning) as record:
        sced.INDICES[name](a, b, **kw)  # called here, not through _call: one frame counts
    assert [w.filename for w in record] == [__file__] * len(record), case
