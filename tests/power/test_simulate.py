"""rs.power.simulate / sample_size: agreement with analytic power, fast = general paths,
reproducibility across workers, failure accounting, validation."""

from __future__ import annotations

import itertools
import math
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import rehabstats as rs
from rehabstats.design import ParallelTrial, SingleCaseDesign
from rehabstats.design._seeds import SIMS_PER_BLOCK, to_seed_sequence
from rehabstats.errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning
from rehabstats.power._analyses import run_chunk


def two_visit(n: int = 15, delta: float = 0.8, r: float = 0.6, **kw: object) -> ParallelTrial:
    return ParallelTrial(
        n_per_arm=n,
        visits=["pre", "post"],
        mean={"control": [0.0, 0.0], "active": [0.0, delta]},
        sd=1.0,
        correlation=("cs", r),
        **kw,
    )  # type: ignore[arg-type]


def three_visit(n: int = 10, **kw: object) -> ParallelTrial:
    args: dict[str, object] = dict(
        n_per_arm=n,
        visits=["pre", "post", "followup"],
        mean={"control": [2.0, 2.3, 2.3], "cimt": [2.0, 3.3, 3.1]},
        sd=[0.8, 1.0, 1.1],
        correlation=("ar1", 0.6),
        retention=[1, 0.9, 0.8],
    )
    args.update(kw)
    return ParallelTrial(**args)  # type: ignore[arg-type]


# ----------------------------------------------------------------- analytic agreement
def test_ttest_power_within_4_mc_se_of_noncentral_t() -> None:
    res = rs.power.simulate(two_visit(), "ttest", n_sims=4000, rng=20261201)
    exact = rs.power.ttest_power(n_per_arm=15, delta=0.8, sd=1.0)
    assert abs(res.power - exact) < 4 * math.sqrt(exact * (1 - exact) / 4000)
    # Clopper-Pearson interval of the simulated power (a 95% interval: whether it covers the
    # exact power is a 95% event for any one seed, so it is checked against scipy instead)
    from scipy import stats

    cp = stats.binomtest(round(res.power * 4000), 4000).proportion_ci(method="exact")
    assert (res.ci_low, res.ci_high) == pytest.approx((cp.low, cp.high), rel=1e-10)
    assert res.coverage == pytest.approx(0.95, abs=4 * math.sqrt(0.95 * 0.05 / 4000))
    assert abs(res.bias) < 4 * res.empirical_se / math.sqrt(4000)
    assert res.empirical_se == pytest.approx(math.sqrt(2 / 15), rel=0.05)


def test_ancova_power_within_4_mc_se_of_analytic() -> None:
    res = rs.power.simulate(two_visit(n=12, delta=0.9), "ancova", n_sims=4000, rng=7)
    exact = rs.power.ancova_power(n_per_arm=12, delta=0.9, sd=1.0, rho=0.6)
    assert abs(res.power - exact) < 4 * math.sqrt(exact * (1 - exact) / 4000)
    assert res.truth == pytest.approx(0.9, rel=1e-12)


def test_null_power_is_alpha() -> None:
    res = rs.power.simulate(two_visit(delta=0.0), "change_ttest", n_sims=4000, rng=3)
    assert abs(res.power - 0.05) < 4 * math.sqrt(0.05 * 0.95 / 4000)


@pytest.mark.slow
def test_mmrm_power_with_mcar_dropout_near_lu_luo_chen() -> None:
    retention = [1.0, 0.9, 0.8]
    t = ParallelTrial(
        n_per_arm=60,
        visits=["v1", "v2", "v3"],
        mean={"control": [0, 0, 0], "active": [0, 0.25, 0.5]},
        sd=1.0,
        correlation=("cs", 0.5),
        retention=retention,
    )
    res = rs.power.simulate(t, "mmrm", n_sims=600, rng=11)
    exact = rs.power.mmrm_power(
        n_per_arm=60, correlation=("cs", 0.5), retention=retention, sd=1.0, delta=0.5
    )
    assert abs(res.power - exact) < 0.05
    assert res.n_failed == 0


# ----------------------------------------------------------------- fast == general == rs.*
@pytest.mark.parametrize("analysis", ["ttest", "ancova", "change_ttest"])
@pytest.mark.parametrize("baseline", [False, True])
def test_closed_form_fast_paths_equal_general_path(analysis: str, baseline: bool) -> None:
    t = three_visit(baseline_covariate=baseline)
    root = to_seed_sequence(5)
    fast = run_chunk(t, analysis, {}, root, 0, 6, True)
    slow = run_chunk(t, analysis, {}, root, 0, 6, False)
    for key in ("estimate", "se", "df", "p"):
        np.testing.assert_allclose(fast[key], slow[key], rtol=1e-10, err_msg=key)


@pytest.mark.parametrize(
    ("kw", "options"),
    [
        ({}, {}),
        ({"baseline_covariate": True}, {}),
        ({}, {"covariance": "cs"}),
        ({"correlation": ("cs", 0.5), "retention": [1, 0.7, 0.5]}, {"covariance": "ar1"}),
        ({}, {"df_method": "residual"}),
        ({}, {"df_method": "kenward-roger"}),
        (
            {"baseline_covariate": True, "retention": [1, 0.8, 0.6]},
            {"df_method": "kenward-roger-linear"},
        ),
        ({"retention": [1, 0.7, 0.5]}, {"covariance": "cs", "df_method": "kenward-roger"}),
        ({"correlation": ("cs", 0.5)}, {"covariance": "ar1", "df_method": "kenward-roger"}),
    ],
)
def test_mmrm_fast_path_equals_rs_mmrm(kw: dict[str, object], options: dict[str, object]) -> None:
    t = three_visit(**kw)
    root = to_seed_sequence(8)
    fast = run_chunk(t, "mmrm", options, root, 0, 6, True)
    formula = (
        "outcome ~ baseline + arm * visit" if t.baseline_covariate else "outcome ~ arm * visit"
    )
    Y, O = t._draw_range(root, 0, 6)
    for i in range(6):
        data = t._frame(Y[i], O[i])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = rs.mmrm(
                formula,
                data,
                subject="subject",
                visit="visit",
                covariance=str(options.get("covariance", "us")),
            )
        tab = fit.contrasts(
            "arm",
            by="visit",
            method="trt.vs.ctrl",
            df_method=str(options.get("df_method", "satterthwaite")),
        )
        row = tab.iloc[-1]
        assert row["contrast"] == "cimt - control"
        for key in ("estimate", "se", "df", "p"):
            assert fast[key][i] == pytest.approx(float(row[key]), rel=1e-6, abs=1e-9), key


def test_mmrm_kenward_roger_fast_path() -> None:
    t = three_visit()
    res = rs.power.simulate(
        t, "mmrm", n_sims=20, rng=1, analysis_options={"df_method": "kenward-roger"}
    )
    assert res.method == "vectorised"
    assert res.n_failed == 0
    sat = rs.power.simulate(t, "mmrm", n_sims=20, rng=1)
    # the same fits: same estimates; for one contrast KR's df (computed with the unadjusted
    # covariance, K&R eq. A1-A3) equal Satterthwaite's; the SEs are KR-adjusted: R mmrm's
    # full variant with the log-Cholesky "us" can fall below the unadjusted SE (documented in
    # rehabstats.models.df.kenward_roger), the linear (SAS) variant does not here
    np.testing.assert_allclose(res.estimates["estimate"], sat.estimates["estimate"], rtol=1e-12)
    np.testing.assert_allclose(res.estimates["df"], sat.estimates["df"], rtol=1e-8)
    assert (abs(res.estimates["se"] / sat.estimates["se"] - 1) > 1e-4).all()
    lin = rs.power.simulate(
        t, "mmrm", n_sims=20, rng=1, analysis_options={"df_method": "kenward-roger-linear"}
    )
    assert (lin.estimates["se"] > sat.estimates["se"] * (1 + 1e-4)).all()
    # ML fits have no Kenward-Roger df in rs.mmrm: the general path, every fit failed
    with pytest.warns(RehabStatsWarning, match="failed"):
        ml = rs.power.simulate(
            t,
            "mmrm",
            n_sims=3,
            rng=1,
            analysis_options={"df_method": "kenward-roger", "reml": False},
        )
    assert ml.method == "general"
    assert ml.n_failed == 3


def test_lmm_and_mixed_anova_general_path() -> None:
    t = three_visit(retention=None)
    lm = rs.power.simulate(t, "lmm", n_sims=10, rng=2)
    assert lm.method == "general"
    assert lm.estimates["p"].notna().all()
    ma = rs.power.simulate(t, "mixed_anova", n_sims=10, rng=2)
    assert ma.estimates["p"].between(0, 1).all()
    assert math.isnan(ma.truth)


# ----------------------------------------------------------------- reproducibility
def test_same_rng_same_result_any_n_jobs() -> None:
    t = three_visit()
    a = rs.power.simulate(t, "mmrm", n_sims=150, rng=42)
    b = rs.power.simulate(t, "mmrm", n_sims=150, rng=42, n_jobs=2)
    pd.testing.assert_frame_equal(a.estimates, b.estimates)
    g1 = rs.power.simulate(t, "lmm", n_sims=25, rng=np.random.default_rng(3))
    g2 = rs.power.simulate(
        t, "lmm", n_sims=25, rng=np.random.default_rng(3), n_jobs=2, backend="threading"
    )
    pd.testing.assert_frame_equal(g1.estimates, g2.estimates)


def test_seeding_rule_blocks_of_simulations() -> None:
    """Data set i depends only on the seed and i: not on n_sims, the task split or n_jobs."""
    t = three_visit()
    root = to_seed_sequence(17)
    n = 2 * SIMS_PER_BLOCK + 30
    whole = run_chunk(t, "ancova", {}, root, 0, n, True)
    cuts = [0, 37, SIMS_PER_BLOCK + 1, 2 * SIMS_PER_BLOCK, n]
    parts = [run_chunk(t, "ancova", {}, root, a, b, True) for a, b in itertools.pairwise(cuts)]
    for key in ("estimate", "p"):
        np.testing.assert_array_equal(whole[key], np.concatenate([p[key] for p in parts]))
    short = rs.power.simulate(t, "ancova", n_sims=150, rng=17)
    pd.testing.assert_frame_equal(
        short.estimates, rs.power.simulate(t, "ancova", n_sims=n, rng=17).estimates.iloc[:150]
    )
    # block b is drawn from the b-th child of the root seed
    Y, O = t._draw_range(root, SIMS_PER_BLOCK, SIMS_PER_BLOCK + 3)
    Yb, Ob = t._draw_block(np.random.SeedSequence(17, spawn_key=(1,)), SIMS_PER_BLOCK)
    np.testing.assert_array_equal(Y, Yb[:3])
    np.testing.assert_array_equal(O, Ob[:3])
    # single-case designs: the same under joblib workers
    d = SingleCaseDesign(design="MBD", n_sessions=12, n_cases=2, level_effect=1.0, ar=0.3)
    a = rs.power.simulate(d, "randomization_test", n_sims=250, rng=4)
    b = rs.power.simulate(d, "randomization_test", n_sims=250, rng=4, n_jobs=2)
    pd.testing.assert_frame_equal(a.estimates, b.estimates)


def test_single_case_common_random_numbers_are_nested() -> None:
    root = to_seed_sequence(6)
    kw = {"sd": 1.0, "ar": 0.5, "level_effect": 0.0}
    y2, _, c2 = SingleCaseDesign(design="MBD", n_sessions=14, n_cases=2, **kw)._draw_range(
        root, 0, 150
    )
    y3, _, c3 = SingleCaseDesign(design="MBD", n_sessions=14, n_cases=3, **kw)._draw_range(
        root, 0, 150
    )
    np.testing.assert_array_equal(y2, y3[:, :2])  # the first cases whatever n_cases
    np.testing.assert_array_equal(c2, c3[:, :2])
    y20, _, _ = SingleCaseDesign(design="AB", n_sessions=20, **kw)._draw_range(root, 0, 150)
    y30, _, _ = SingleCaseDesign(design="AB", n_sessions=30, **kw)._draw_range(root, 0, 150)
    # no effect: the series is the AR(1) error, whose first 20 sessions are shared
    np.testing.assert_allclose(y20, y30[:, :, :20], rtol=1e-13, atol=1e-13)
    assert abs(np.corrcoef(y30[:, 0, 1:].ravel(), y30[:, 0, :-1].ravel())[0, 1] - 0.5) < 0.05


def test_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    rs.power.simulate(two_visit(), "ttest", n_sims=250, rng=1, progress=True)
    assert "simulating" in capsys.readouterr().err


@pytest.mark.slow
def test_dask_local_cluster_equals_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("dask.distributed")
    from rehabstats.power import _simulate

    t = three_visit()
    ref = rs.power.simulate(t, "mmrm", n_sims=200, rng=9)
    sc = SingleCaseDesign(design="AB", n_sessions=20, level_effect=1.0)
    sc_ref = rs.power.simulate(sc, "randomization_test", n_sims=150, rng=9)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        res = rs.power.simulate(t, "mmrm", n_sims=200, rng=9, backend="dask", progress=True)
        monkeypatch.setattr(_simulate, "_SCATTER_BYTES", 0)  # the scatter-once path
        sc_res = rs.power.simulate(sc, "randomization_test", n_sims=150, rng=9, backend="dask")
    pd.testing.assert_frame_equal(ref.estimates, res.estimates, check_exact=True)
    assert res.power == ref.power
    pd.testing.assert_frame_equal(sc_ref.estimates, sc_res.estimates, check_exact=True)


def test_dask_without_client_is_a_clear_error() -> None:
    pytest.importorskip("dask.distributed")
    with pytest.raises(DataError, match="Client"):
        rs.power.simulate(two_visit(), "ttest", n_sims=10, rng=1, backend="dask")


# ----------------------------------------------------------------- single-case designs
@pytest.mark.parametrize(
    ("design", "stat"),
    [
        (SingleCaseDesign(design="AB", n_sessions=20, level_effect=1.0), "mean_difference"),
        (SingleCaseDesign(design="AB", n_sessions=16, level_effect=1.0, ar=0.3), "nap"),
        (
            SingleCaseDesign(
                design="AB", n_sessions=20, start_points=[6, 8, 10, 12], level_effect=1.0
            ),
            "smd",
        ),
        (SingleCaseDesign(design="AB", n_sessions=18, slope_effect=0.3), "slope_difference"),
        (SingleCaseDesign(design="ABAB", n_sessions=16, level_effect=1.0), "mean_difference"),
        (
            SingleCaseDesign(design="MBD", n_sessions=14, n_cases=3, level_effect=1.0),
            "median_difference",
        ),
        (
            SingleCaseDesign(
                design="MBD",
                n_sessions=14,
                n_cases=2,
                start_points={0: [4, 5, 6], 1: [7, 8, 9]},
                level_effect=1.0,
            ),
            "smd_rms",
        ),
    ],
)
def test_randomization_fast_path_equals_randomization_test(
    design: SingleCaseDesign, stat: str
) -> None:
    root = to_seed_sequence(4)
    opts = {"statistic": stat}
    fast = run_chunk(design, "randomization_test", opts, root, 95, 105, True)  # two blocks
    slow = run_chunk(design, "randomization_test", opts, root, 95, 105, False)
    np.testing.assert_allclose(fast["p"], slow["p"], rtol=1e-12)
    np.testing.assert_allclose(fast["estimate"], slow["estimate"], rtol=1e-10)


def test_randomization_power_and_decrease() -> None:
    d = SingleCaseDesign(design="AB", n_sessions=30, level_effect=-2.0)
    up = rs.power.simulate(d, "randomization_test", n_sims=300, rng=1)
    down = rs.power.simulate(
        d, "randomization_test", n_sims=300, rng=1, analysis_options={"improvement": "decrease"}
    )
    # 25 admissible start points: p = 1/25 needs the largest of all 25 differences
    assert down.power > up.power + 0.2
    assert up.power < 0.05
    assert up.method == "vectorised"


def test_too_few_assignments_power_zero_and_says_so() -> None:
    d = SingleCaseDesign(design="AB", n_sessions=16, min_phase_length=3, level_effect=5.0)
    assert d.n_assignments == 11
    res = rs.power.simulate(d, "randomization_test", n_sims=200, rng=1)
    assert res.power == 0.0
    assert res.min_attainable_p == pytest.approx(1 / 11)
    assert "11 admissible" in res.note
    assert "Power is 0" in res.summary()


def test_callable_statistic_uses_general_path() -> None:
    d = SingleCaseDesign(design="AB", n_sessions=20, level_effect=1.0)

    def diff(a: np.ndarray, b: np.ndarray) -> float:
        return float(b.mean() - a.mean())

    res = rs.power.simulate(
        d, "randomization_test", n_sims=30, rng=2, analysis_options={"statistic": diff}
    )
    ref = rs.power.simulate(d, "randomization_test", n_sims=30, rng=2)
    assert res.method == "general"
    np.testing.assert_allclose(res.estimates["p"], ref.estimates["p"], rtol=1e-12)


def test_sample_size_single_case_cases() -> None:
    d = SingleCaseDesign(design="MBD", n_sessions=10, n_cases=2, level_effect=1.5)
    res = rs.power.sample_size(
        d, "randomization_test", target=0.8, n_range=(2, 6), n_sims=200, rng=5
    )
    assert res.parameter == "n_cases"
    assert res.n is not None
    assert 2 < res.n <= 6
    assert all(r.method == "vectorised" for r in res.results.values())
    assert res.curve["power"].iloc[-1] >= 0.8


# ----------------------------------------------------------------- callables and failures
def test_callable_analysis_forms() -> None:
    t = two_visit()

    def p_only(data: pd.DataFrame) -> float:
        return 0.01

    def est_p(data: pd.DataFrame, shift: float = 0.0) -> tuple[float, float]:
        post = data[data["visit"] == "post"]
        return float(post["outcome"].mean() + shift), 0.5

    a = rs.power.simulate(t, p_only, n_sims=20, rng=1)
    assert a.power == 1.0
    assert a.analysis == "p_only"
    b = rs.power.simulate(t, est_p, n_sims=20, rng=1, analysis_options={"shift": 1.0})
    assert b.power == 0.0
    assert (b.estimates["estimate"] > 0).mean() > 0.8
    assert math.isnan(b.bias)


def test_failures_are_counted_not_dropped() -> None:
    calls = {"n": 0}

    def flaky(data: pd.DataFrame) -> float:
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise rs.DataError("boom")
        if calls["n"] % 3 == 1:
            warnings.warn("did not converge", ConvergenceWarning, stacklevel=1)
        return 0.001

    with pytest.warns(RehabStatsWarning, match="failed or did not converge"):
        res = rs.power.simulate(two_visit(), flaky, n_sims=30, rng=1)
    assert res.n_failed == 20
    assert res.estimates["p"].isna().sum() == 10
    assert (~res.estimates["converged"]).sum() == 20
    # failed fits count as not significant; non-converged ones keep their p
    assert res.power == pytest.approx(20 / 30)


def test_arm_without_observations_is_a_counted_failure() -> None:
    t = ParallelTrial(
        n_per_arm=2,
        visits=["pre", "post"],
        mean={"c": [0, 0], "t": [0, 1]},
        sd=1.0,
        correlation=("cs", 0.5),
        retention=[1, 0.1],
    )
    for analysis in ("ttest", "ancova", "mmrm"):
        with pytest.warns(RehabStatsWarning, match="failed"):
            res = rs.power.simulate(t, analysis, n_sims=50, rng=1)
        assert res.n_failed > 25, analysis
        assert res.estimates.loc[~res.estimates["converged"], "p"].isna().all()


def test_mmrm_non_convergence_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from rehabstats.power import _mmrm_batch

    def never(batch: object, theta0: np.ndarray, bs: object, max_iter: int = 60) -> object:
        return theta0, np.zeros(theta0.shape[0], dtype=bool)

    monkeypatch.setattr(_mmrm_batch, "_newton", never)
    t = three_visit()
    # the batch iteration "fails": every trial is refitted by rs.mmrm, same numbers
    res = rs.power.simulate(t, "mmrm", n_sims=5, rng=3)
    kr_opts = {"df_method": "kenward-roger"}
    kr = rs.power.simulate(t, "mmrm", n_sims=5, rng=3, analysis_options=kr_opts)
    monkeypatch.undo()
    ref = rs.power.simulate(t, "mmrm", n_sims=5, rng=3)
    np.testing.assert_allclose(res.estimates["estimate"], ref.estimates["estimate"], rtol=1e-6)
    np.testing.assert_allclose(res.estimates["p"], ref.estimates["p"], rtol=1e-5)
    kr_ref = rs.power.simulate(t, "mmrm", n_sims=5, rng=3, analysis_options=kr_opts)
    for key in ("se", "df", "p"):  # rs.mmrm's Kenward-Roger = the batch's
        np.testing.assert_allclose(kr.estimates[key], kr_ref.estimates[key], rtol=1e-5)


# ----------------------------------------------------------------- sample size and results
def test_sample_size_ttest_near_analytic() -> None:
    t = two_visit(n=10, delta=0.8)
    res = rs.power.sample_size(t, "ttest", target=0.8, n_range=(5, 80), n_sims=1000, rng=3)
    # power.t.test(delta = 0.8, power = 0.8) gives n = 25.52 per arm
    assert res.n is not None
    assert 22 <= res.n <= 29
    assert res.power >= 0.8
    prev = res.curve[res.curve["n"] == res.n - 1]
    if len(prev):
        assert float(prev["power"].iloc[0]) < 0.8
    assert list(res.to_frame().columns) == ["n", "power", "mc_se", "ci_low", "ci_high", "n_failed"]
    fig = res.plot(analytic=lambda n: rs.power.ttest_power(n_per_arm=n, delta=0.8))
    assert isinstance(fig, plt.Figure)
    plt.close(fig)
    assert "Smallest n_per_arm" in res.summary()


def test_sample_size_not_reached_warns() -> None:
    t = two_visit(delta=0.1)
    with pytest.warns(RehabStatsWarning, match="not reached"):
        res = rs.power.sample_size(t, "ttest", n_range=(5, 20), n_sims=200, rng=1)
    assert res.n is None
    assert "not reached" in res.summary()


def test_power_curve_and_result_api() -> None:
    t = two_visit()
    curve = rs.power.power_curve(t, "ancova", n_values=[8, 16, 24], n_sims=300, rng=1)
    assert curve.curve["power"].is_monotonic_increasing
    res = curve.results[16]
    frame = res.to_frame()
    assert list(frame.columns) == [
        "analysis",
        "power",
        "mc_se",
        "ci_low",
        "ci_high",
        "n_sims",
        "n_failed",
        "alpha",
        "truth",
        "bias",
        "empirical_se",
        "mean_se",
        "coverage",
    ]
    assert list(res.estimates.columns) == ["estimate", "se", "df", "p", "converged"]
    assert "Power by simulation (ancova" in res.summary()
    fig = res.plot()
    assert isinstance(fig, plt.Figure)
    plt.close(fig)
    assert "<table" in res._repr_html_()


# ----------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kw", "err", "match"),
    [
        ({"analysis": "anova"}, DataError, "'analysis'"),
        ({"n_sims": 0}, DataError, "n_sims"),
        ({"alpha": 0.0}, DataError, "alpha"),
        ({"n_jobs": 0}, DataError, "n_jobs"),
        ({"backend": 3}, DataError, "backend"),
        ({"progress": "yes"}, DataError, "progress"),
        ({"analysis": "mmrm", "analysis_options": {"covariance": "xx"}}, DataError, "covariance"),
        ({"analysis": "mmrm", "analysis_options": {"df_method": "z"}}, DataError, "df_method"),
        (
            {"analysis": "ttest", "analysis_options": {"covariance": "us"}},
            DataError,
            "does not apply",
        ),
        ({"analysis_options": [1]}, DataError, "analysis_options"),
        ({"rng": -1}, DataError, "rng"),
        ({"rng": "seed"}, DataError, "rng"),
    ],
)
def test_simulate_validation(kw: dict[str, object], err: type[Exception], match: str) -> None:
    args: dict[str, object] = {"analysis": "ttest", "n_sims": 10}
    args.update(kw)
    analysis = args.pop("analysis")
    with pytest.raises(err, match=match):
        rs.power.simulate(two_visit(), analysis, **args)  # type: ignore[arg-type]


def test_design_analysis_mismatches() -> None:
    with pytest.raises(DataError, match="design"):
        rs.power.simulate("trial", "ttest")  # type: ignore[arg-type]
    three_arm = ParallelTrial(
        n_per_arm=5,
        visits=["a", "b"],
        sd=1.0,
        correlation=("cs", 0.5),
        mean={"c": [0, 0], "t1": [0, 1], "t2": [0, 2]},
    )
    with pytest.raises(DesignError, match="two arms"):
        rs.power.simulate(three_arm, "ttest")
    sc = SingleCaseDesign(design="ABAB", n_sessions=16)
    with pytest.raises(DataError, match="randomization_test"):
        rs.power.simulate(sc, "mmrm")
    with pytest.raises(DesignError, match="A-B"):
        rs.power.simulate(
            sc, "randomization_test", analysis_options={"statistic": "slope_difference"}
        )
    with pytest.raises(DataError, match="statistic"):
        rs.power.simulate(sc, "randomization_test", analysis_options={"statistic": "max"})
    with pytest.raises(DataError, match="n_range"):
        rs.power.sample_size(two_visit(), "ttest", n_range=(10, 5))
    with pytest.raises(DataError, match="target"):
        rs.power.sample_size(two_visit(), "ttest", target=1.5)
    with pytest.raises(DataError, match="parameter"):
        rs.power.sample_size(two_visit(), "ttest", parameter="n_cases")
    with pytest.raises(DesignError, match="n_range"):
        rs.power.sample_size(
            SingleCaseDesign(design="AB", n_sessions=20),
            "randomization_test",
            n_range=(2, 30),
            n_sims=20,
            rng=1,
        )


def test_single_case_index_analysis() -> None:
    d = SingleCaseDesign(design="AB", n_sessions=20, level_effect=1.5)
    res = rs.power.simulate(d, "nap", n_sims=40, rng=3)
    assert res.method == "general"
    # the same numbers by hand: NAP of the simulated series, Wald z against 0.5
    Y, T, _ = d._draw_range(to_seed_sequence(3), 0, 1)
    y, treat = Y[0], T[0]
    r = rs.sced.nap(y[0][~treat[0]], y[0][treat[0]])
    p = 2 * (1 - __import__("scipy").stats.norm.cdf(abs((r.estimate - 0.5) / r.se)))
    assert res.estimates["estimate"].iloc[0] == pytest.approx(r.estimate, rel=1e-12)
    assert res.estimates["p"].iloc[0] == pytest.approx(p, rel=1e-9)
    assert res.power > 0.5
    null = rs.power.simulate(
        SingleCaseDesign(design="MBD", n_sessions=15, n_cases=2), "smd", n_sims=20, rng=1
    )
    assert null.estimates["p"].between(0, 1).all()


def test_sample_size_default_range_for_sessions() -> None:
    d = SingleCaseDesign(design="AB", n_sessions=20, min_phase_length=3, level_effect=2.5)
    res = rs.power.sample_size(d, "randomization_test", target=0.5, n_sims=100, rng=1)
    assert res.parameter == "n_sessions"
    assert res.curve["n"].min() == 6
    assert res.n is not None
    assert res.n > 6
