"""The root fixes behind the formerly known-open hostile-input cases (issue 7, class 5).

One test per root: the shared data-entry checks (magnitudes, exact fits, result-table
columns), the F-test denominator df with infinite components, and the single-case
combiners. Numbers are checked against closed forms (1e-12 relative) or against the
same call at ordinary scale.
"""

from __future__ import annotations

import decimal
import math
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _hostile_data import BASE, TRT, sced_frame, trial

import rehabstats as rs
from rehabstats._entry import MAX_MAGNITUDE, check_exact_fit, check_finite
from rehabstats._validate import check_table_column
from rehabstats.errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning
from rehabstats.models.df.satterthwaite import fstat_ddf


# ----------------------------------------------------------------------- shared entry layer
@pytest.mark.parametrize("value", [1e300, -3e200, 1e-200])
def test_check_finite_refuses_unsquarable_magnitudes(value: float) -> None:
    frame = pd.DataFrame({"y": [value, value / 2, -value]}, index=[10, 11, 12])
    with pytest.raises(DataError, match=r"Column 'y' \('outcome'\) holds values of magnitude"):
        check_finite(frame, ["y"], {"y": "outcome"})


def test_check_finite_accepts_the_bounds() -> None:
    check_finite(pd.DataFrame({"y": [MAX_MAGNITUDE, -MAX_MAGNITUDE, 0.0]}), ["y"])
    check_finite(pd.DataFrame({"y": [1 / MAX_MAGNITUDE, 0.0]}), ["y"])
    check_finite(pd.DataFrame({"y": [0.0, 0.0]}), ["y"])  # zeros are not "tiny"


@pytest.mark.parametrize("call", ["ancova", "lmm", "mmrm", "mixed_anova", "trajectories"])
def test_models_and_plots_name_a_huge_outcome(call: str) -> None:
    d = trial()
    d["score"] = d["score"] * 1e300
    calls = {
        "ancova": lambda: rs.ancova(
            d[d["visit"] == "week12"], outcome="score", arm="group", baseline="base"
        ),
        "lmm": lambda: rs.lmm("score ~ group * visit", d, subject="pid"),
        "mmrm": lambda: rs.mmrm("score ~ group * visit", d, subject="pid", visit="visit"),
        "mixed_anova": lambda: rs.mixed_anova(
            d, outcome="score", arm="group", visit="visit", subject="pid"
        ),
        "trajectories": lambda: rs.plot.trajectories(
            d, outcome="score", arm="group", visit="visit"
        ),
    }
    with pytest.raises(DataError, match="'score' .* magnitude"):
        calls[call]()


def test_check_exact_fit() -> None:
    X = np.column_stack([np.ones(6), [0, 1, 0, 1, 0, 1]])
    check_exact_fit(np.array([1.0, 2.0, 1.1, 2.0, 0.9, 2.2]), X, "y")
    with pytest.raises(DataError, match=r"'y' is constant \(3\.0 in all 6"):
        check_exact_fit(np.full(6, 3.0), X, "y")
    with pytest.raises(DataError, match="'y' is fitted exactly by the fixed effects of lmm"):
        check_exact_fit(np.array([1.0, 2.0, 1.0, 2.0, 1.0, 2.0]), X, "y", model="lmm()")


def _fit(fit: str, d: pd.DataFrame) -> Any:
    if fit == "lmm":
        return rs.lmm("score ~ group * visit", d, subject="pid")
    return rs.mmrm("score ~ group * visit", d, subject="pid", visit="visit")


def _exact_fit_outcome() -> pd.DataFrame:
    """A 0/1 outcome that group x visit reproduces exactly (the hostile 'bool' case)."""
    d = trial()
    d["score"] = [bool(i % 2) for i in range(len(d))]
    return d


@pytest.mark.parametrize("fit", ["lmm", "mmrm"])
def test_exact_fit_is_a_quick_clear_error(fit: str) -> None:
    d = _exact_fit_outcome()
    start = time.perf_counter()
    with pytest.raises(DataError, match="'score' is fitted exactly by the fixed effects"):
        _fit(fit, d)
    assert time.perf_counter() - start < 2.0  # before any optimiser runs (was ~3 s for mmrm)


@pytest.mark.parametrize("fit", ["lmm", "mmrm"])
def test_constant_outcome_is_refused(fit: str) -> None:
    d = trial().assign(score=29.81)
    with pytest.raises(DataError, match=r"'score' is constant \(29\.81"):
        _fit(fit, d)


def test_near_exact_fit_leaves_only_convergence_warnings() -> None:
    """A nearly degenerate outcome may not converge; no numpy RuntimeWarning may escape."""
    d = _exact_fit_outcome()
    d["score"] = d["score"].astype(float) + np.random.default_rng(1).normal(0, 1e-6, len(d))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rs.mmrm("score ~ group * visit", d, subject="pid", visit="visit").summary()
        rs.lmm("score ~ group * visit", d, subject="pid").summary()
    foreign = [w for w in caught if not issubclass(w.category, RehabStatsWarning)]
    assert not foreign, [str(w.message) for w in foreign]
    assert all(issubclass(w.category, ConvergenceWarning) for w in caught)


# ----------------------------------------------------------------------- F-test ddf
def test_fstat_ddf_with_infinite_components() -> None:
    assert fstat_ddf(np.array([np.inf, np.inf])) == math.inf
    # E = 10/8 + 1 (the limit of nu/(nu - 2)); ddf = 2E / (E - 2)
    e = 10 / 8 + 1
    assert fstat_ddf(np.array([10.0, np.inf])) == pytest.approx(2 * e / (e - 2), rel=1e-12)
    assert math.isnan(fstat_ddf(np.array([10.0, np.nan])))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fstat_ddf(np.array([np.inf, 5.0, np.inf]))
    assert fstat_ddf(np.array([5.0, 20.0])) == pytest.approx(7.142857142857143, rel=1e-12)


# ----------------------------------------------------------------------- ANCOVA baseline
def test_ancova_refuses_a_baseline_it_cannot_estimate() -> None:
    wide = trial()
    wide = wide[wide["visit"] == "week12"].reset_index(drop=True)
    with pytest.raises(DataError, match=r"Column 'base' \('baseline'\) is constant"):
        rs.ancova(wide.assign(base=3.0), outcome="score", arm="group", baseline="base")
    aliased = wide.assign(base=(wide["group"] == "exercise").astype(float))
    with pytest.raises(
        DataError,
        match=r"'base' \('baseline'\) is a linear combination of "
        r"the arm column 'group'",
    ):
        rs.ancova(aliased, outcome="score", arm="group", baseline="base")


# ----------------------------------------------------------------------- mixed ANOVA
def test_mixed_anova_messages_name_the_columns() -> None:
    d = trial()
    with pytest.raises(DataError, match=r"Column 'score' \('outcome'\) has no observed values"):
        rs.mixed_anova(
            d.assign(score=np.nan), outcome="score", arm="group", visit="visit", subject="pid"
        )
    with pytest.raises(DesignError, match="two visits in column 'visit'; got 'week0'"):
        rs.mixed_anova(
            d[d["visit"] == "week0"], outcome="score", arm="group", visit="visit", subject="pid"
        )


# ----------------------------------------------------------------------- trajectories
def test_trajectory_summary_warns_for_thin_cells() -> None:
    d = trial()
    with pytest.warns(
        RehabStatsWarning,
        match=r"1 cell\(s\) of 'group' by 'visit' .* "
        r"'usual' at 'week0' \(n = 1\)",
    ):
        tab = rs.plot.trajectory_summary(d.iloc[:1], outcome="score", arm="group", visit="visit")
    assert tab["n"].tolist() == [1]
    assert np.isnan(tab["sd"]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # full cells: no warning
        rs.plot.trajectory_summary(d, outcome="score", arm="group", visit="visit")


# ----------------------------------------------------------------------- result tables
def test_check_table_column() -> None:
    t = pd.DataFrame({"se": [0.1, 0.2, 0.3]}, index=[4, 5, 6])
    assert check_table_column(t, "se").tolist() == [0.1, 0.2, 0.3]
    with pytest.raises(DataError, match="Column 'se' of 'table' holds booleans"):
        check_table_column(pd.DataFrame({"se": [True, False]}), "se")
    with pytest.raises(DataError, match=r"holds a value below 0 \(-1.0\) in row 5"):
        check_table_column(t.assign(se=[0.1, -1.0, 0.3]), "se", minimum=0)
    with pytest.raises(DataError, match="holds a missing value"):
        check_table_column(
            t.assign(se=pd.array([0.1, None, 0.3], dtype="Float64")), "se", allow_nan=False
        )


def _es_table() -> pd.DataFrame:
    return rs.sced.effect_sizes(
        sced_frame(),
        outcome="y",
        phase="stage",
        session="sess",
        case="unit",
        indices=("nap", "smd"),
    )


@pytest.mark.parametrize("weighting", ["equal", "1/V", "nA*nB"])
def test_combine_phase_pairs_is_scale_safe(weighting: str) -> None:
    tab = _es_table()
    ref = rs.sced.combine_phase_pairs(tab, weighting=weighting)
    big = rs.sced.combine_phase_pairs(
        tab.assign(se=tab["se"] * 1e300, estimate=tab["estimate"] * 1e300), weighting=weighting
    )
    np.testing.assert_allclose(big["estimate"] / 1e300, ref["estimate"], rtol=1e-12)
    np.testing.assert_allclose(big["se"] / 1e300, ref["se"], rtol=1e-12)


def test_combine_phase_pairs_equals_the_formula() -> None:
    """Two pairs of one case: se = sqrt(sum w^2 SE^2) / sum w (closed form, 1e-12)."""
    df = pd.DataFrame(
        {"t": range(1, 13), "ph": list("AAABBBAAABBB"), "y": [1, 2, 1, 5, 6, 5, 2, 2, 3, 6, 7, 8]}
    )
    tab = rs.sced.effect_sizes(df, outcome="y", phase="ph", session="t", indices="smd")
    got = rs.sced.combine_phase_pairs(tab, weighting="1/V")
    se, est = tab["se"].to_numpy(), tab["estimate"].to_numpy()
    w = 1 / se**2
    assert got["estimate"].iloc[0] == pytest.approx(np.sum(w * est) / w.sum(), rel=1e-12)
    assert got["se"].iloc[0] == pytest.approx(1 / math.sqrt(w.sum()), rel=1e-12)


def test_combine_phase_pairs_missing_or_bad_se() -> None:
    tab = _es_table()
    with pytest.warns(
        RehabStatsWarning,
        match=r"1 phase pair\(s\) have a missing or infinite "
        r"'se': case 'c1' index 'nap' \(row 0",
    ):
        out = rs.sced.combine_phase_pairs(tab.assign(se=[np.nan, *tab["se"].iloc[1:]]))
    assert np.isnan(out["se"].iloc[0])
    assert np.isfinite(out["estimate"]).all()
    assert np.isfinite(out["se"].iloc[1:]).all()
    with pytest.raises(DataError, match=r"Column 'se' of 'table' holds a value below 0"):
        rs.sced.combine_phase_pairs(tab.assign(se=[-np.inf, *tab["se"].iloc[1:]]))
    with pytest.raises(
        DataError,
        match=r"Column 'estimate' of 'table' must hold numbers; "
        r"found 's0' in row 0",
    ):
        rs.sced.combine_phase_pairs(tab.assign(estimate=[f"s{i}" for i in range(len(tab))]))
    # an index without a standard error (PND) stays silent, as documented
    pnd = rs.sced.effect_sizes(
        sced_frame(), outcome="y", phase="stage", session="sess", case="unit", indices="pnd"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rs.sced.combine_phase_pairs(pnd)


def test_combine_tau_u_checks_and_leaves_out() -> None:
    t1 = rs.sced.tau_u_table(BASE, TRT)
    t2 = rs.sced.tau_u_table([1, 2, 1, 3, 2], [4, 4, 6, 5, 6, 2])
    t3 = rs.sced.tau_u_table([3, 2, 4, 3, 3], [4, 5, 3, 6, 5, 7])
    with pytest.raises(DataError, match="list of Tau-U tables"):
        rs.sced.combine_tau_u(t1)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"tables\[0\] must be a DataFrame"):
        rs.sced.combine_tau_u([t1.to_dict(orient="list"), t2])  # type: ignore[list-item]
    with pytest.raises(DataError, match=r"tables\[0\] has no row for model 'A vs. B'"):
        rs.sced.combine_tau_u([t1.iloc[:0], t2])
    with pytest.raises(DataError, match=r"Column 'Tau' of tables\[1\] holds booleans"):
        rs.sced.combine_tau_u([t1, t2.assign(Tau=[bool(i % 2) for i in range(len(t2))])])
    with pytest.raises(DataError, match=r"Column 'Tau' of tables\[0\] must hold numbers"):
        rs.sced.combine_tau_u([t1.assign(Tau=[f"s{i}" for i in range(len(t1))]), t2])
    # a case without Tau is left out: the result equals combining the other cases
    with pytest.warns(RehabStatsWarning, match=r"tables\[0\] 'A vs. B': Tau is missing"):
        got = rs.sced.combine_tau_u([t1.assign(Tau=np.nan), t2, t3])
    pd.testing.assert_frame_equal(got, rs.sced.combine_tau_u([t2, t3]), rtol=1e-12)
    with pytest.warns(RehabStatsWarning, match="Tau is missing"):
        alone = rs.sced.combine_tau_u([t1.assign(Tau=np.nan)])
    assert alone[["tau_u", "se", "z", "p"]].isna().all().all()
    with pytest.warns(RehabStatsWarning, match=r"\|Tau\| = 1 >= 1"):
        one = rs.sced.combine_tau_u([t1.assign(Tau=1.0), t2])
    assert (one["tau_u"] == 1.0).all()
    assert np.isinf(one["z"]).all()


def test_combine_tau_u_large_fisher_z_does_not_overflow() -> None:
    t = rs.sced.tau_u_table(BASE, TRT)
    with pytest.warns(RehabStatsWarning, match=r"\|Tau\| = 1 >= 1"):
        out = rs.sced.combine_tau_u([t.assign(Tau=1 - 1e-300), t.assign(Tau=1.0)])
    assert (out["tau_u"] == 1.0).all()


# ----------------------------------------------------------------------- single indices
def test_tau_u_table_warns_for_se_tau_zero_over_zero() -> None:
    with pytest.warns(RehabStatsWarning, match="SE_Tau"):
        tab = rs.sced.tau_u_table(BASE, [bool(i % 2) for i in range(len(TRT))])
    assert tab["SE_Tau"].isna().any()


@pytest.mark.parametrize(("which", "name"), [(0, "baseline"), (1, "treatment")])
def test_ratio_scale_range_errors_name_the_phase(which: int, name: str) -> None:
    a, b = [20.0, 30, 25, 35, 30], [50.0, 60, 55, 70, 65, 80, 75]
    args = [a, b]
    args[which] = [v * 1e300 for v in args[which]]
    with pytest.raises(
        DataError,
        match=rf"'{name}' has 2e\+301 at position 0|'{name}' has "
        r"5e\+301 at position 0",
    ):
        rs.sced.lor(*args, scale="percentage")
    with pytest.raises(DataError, match="'treatment' has -1.0 at position 2"):
        rs.sced.lrrd([1.0, 2, 3], [1.0, 2, -1])


def _pogo_formula(a: np.ndarray, b: np.ndarray, goal: float) -> tuple[float, float]:
    """PoGO and its SE in 40-digit decimal arithmetic (no overflow at any magnitude)."""
    ctx = decimal.Context(prec=40)
    A = [ctx.create_decimal(float(v)) for v in a]
    B = [ctx.create_decimal(float(v)) for v in b]

    def mean(x: list[decimal.Decimal]) -> decimal.Decimal:
        return ctx.divide(sum(x, decimal.Decimal(0)), len(x))

    def var_n(x: list[decimal.Decimal]) -> decimal.Decimal:  # var / n
        m = mean(x)
        return ctx.divide(sum(((v - m) ** 2 for v in x), decimal.Decimal(0)), (len(x) - 1) * len(x))

    gap = ctx.create_decimal(goal) - mean(A)
    r = ctx.divide(mean(B) - mean(A), gap)
    se = 100 * ctx.sqrt(var_n(A) + var_n(B) + r * r * var_n(A)) / abs(gap)
    return float(100 * r), float(se)


def test_pogo_se_is_the_formula_at_any_scale() -> None:
    a, b, goal = np.array(BASE), np.array(TRT), 12.0
    res = rs.sced.pogo(a, b, goal=goal)
    est, se = _pogo_formula(a, b, goal)
    assert res.estimate == pytest.approx(est, rel=1e-12)
    assert res.se == pytest.approx(se, rel=1e-12)
    # treatment x 1e300: PoGO is a ratio, so the formula in units of 1e300 gives the answer
    # (its (PoGO/100)^2 V_A term overflowed before and warned from numpy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = rs.sced.pogo(a, b * 1e300, goal=goal)
    est_u, se_u = _pogo_formula(a, b * 1e300, goal)
    assert big.estimate == pytest.approx(est_u, rel=1e-12)
    assert big.se == pytest.approx(se_u, rel=1e-12)


def test_describe_warns_for_one_observation_runs() -> None:
    d = sced_frame()
    with pytest.warns(
        RehabStatsWarning,
        match=r"1 phase run\(s\) have a single observation: "
        r"case 'c1' run 1 \(phase 'A'\)",
    ):
        out = rs.sced.describe(
            d.iloc[[0, 5, 6, 7]], outcome="y", phase="stage", session="sess", case="unit"
        )
    assert math.isnan(out.phases["sd"].iloc[0])


def test_regression_messages_name_the_columns() -> None:
    d = sced_frame()
    with pytest.raises(DesignError, match="only phase 'A'.*phase column 'stage'"):
        rs.sced.piecewise_regression(d.iloc[:3], outcome="y", phase="stage", session="sess")
    with pytest.raises(DesignError, match=r"two cases \(column 'unit'\)"):
        rs.sced.multilevel(
            d[d["unit"] == "c1"], outcome="y", phase="stage", session="sess", case="unit"
        )


@pytest.mark.parametrize("values", [[[]], [[3.0]]])
def test_randomization_batch_names_values_for_short_series(values: list[list[float]]) -> None:
    with pytest.raises(DataError, match="'values' must hold series of at least two sessions"):
        rs.sced.randomization_test_batch(values, 1)


def test_smd_with_phases_of_very_different_magnitude() -> None:
    """Baseline ~1, treatment ~1e300: the baseline SD must not underflow to 0 (it gave an
    infinite SMD blamed on a constant baseline). Reference: 40-digit decimal formula."""
    ctx = decimal.Context(prec=40)
    a = [ctx.create_decimal(v) for v in BASE]
    b = [ctx.create_decimal(v * 1e300) for v in TRT]
    m, n = len(a), len(b)
    ma, mb = sum(a) / m, sum(b) / n
    va = sum((v - ma) ** 2 for v in a) / (m - 1)
    vb = sum((v - mb) ** 2 for v in b) / (n - 1)
    j = 1 - ctx.create_decimal(3) / (4 * (m - 1) - 1)
    d = j * (mb - ma) / ctx.sqrt(va)
    se = j * ctx.sqrt(ctx.create_decimal(1) / m + vb / (n * va) + d * d / (2 * (m - 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = rs.sced.smd(BASE, [v * 1e300 for v in TRT])
    assert res.estimate == pytest.approx(float(d), rel=1e-12)
    assert res.se == pytest.approx(float(se), rel=1e-12)
