"""rs.sced.bc_smd / bc_smd_hps: hostile inputs, warnings, result API and invariances."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rehabstats as rs
from rehabstats.errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning
from rehabstats.sced import _bcsmd_reml

KW: dict[str, Any] = {"outcome": "y", "phase": "ph", "session": "t", "case": "case"}


def mbd(
    seed: int = 1,
    starts: tuple[int, ...] = (4, 6, 8, 10),
    n: int = 16,
    effect: float = 4.0,
    sd_case: float = 1.5,
    phi: float = 0.3,
) -> pd.DataFrame:
    """A simulated multiple baseline with AR(1) errors and random case levels."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, start in enumerate(starts):
        level = 10 + sd_case * rng.standard_normal()
        e = 0.0
        for t in range(1, n + 1):
            e = phi * e + rng.standard_normal()
            trt = t > start
            rows.append(
                {
                    "case": f"P{i + 1}",
                    "t": t,
                    "ph": "B" if trt else "A",
                    "y": level + effect * trt + e,
                }
            )
    return pd.DataFrame(rows)


def abab(seed: int = 3, m: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(m):
        t = 0
        for ph, length in (("A", 4), ("B", 5), ("A", 4), ("B", 5)):
            for _ in range(length):
                t += 1
                rows.append(
                    {
                        "case": f"C{i}",
                        "t": t,
                        "ph": ph,
                        "y": 5 + 3 * (ph == "B") + rng.standard_normal() + 0.5 * i,
                    }
                )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# result API
# ---------------------------------------------------------------------------


def test_result_fields_and_frame() -> None:
    res = rs.sced.bc_smd(mbd(), **KW)
    assert res.converged
    assert (res.a, res.b) == (4.0, 16.0)
    frame = res.to_frame()
    for col in ("estimate", "se", "variance", "ci_low", "ci_high", "df"):
        assert col in frame.columns
    assert frame["variance"].iat[0] == pytest.approx(res.se**2, rel=1e-12)
    assert res.ci_low < res.estimate < res.ci_high
    assert res.estimate == pytest.approx(res.j_nu * res.delta_unadjusted, rel=1e-12)
    assert 0 < res.rho < 1
    assert -1 < res.phi < 1
    assert list(res.variance_components.index) == [
        "Tau.case.var((Intercept))",
        "cor_params",
        "sigma_sq",
    ]
    assert "BC-SMD" in res.summary()
    assert "BC-SMD" in repr(res)
    hps = rs.sced.bc_smd_hps(mbd(), **KW)
    assert {"estimate", "se", "variance"} <= set(hps.to_frame().columns)
    assert hps.se == pytest.approx(math.sqrt(hps.variance))
    assert "HPS" in hps.summary()


def test_ci_level_changes_only_the_interval() -> None:
    a = rs.sced.bc_smd(mbd(), **KW)
    b = rs.sced.bc_smd(mbd(), ci=0.8, **KW)
    assert b.estimate == pytest.approx(a.estimate, rel=1e-12)
    assert (b.ci_high - b.ci_low) < (a.ci_high - a.ci_low)
    assert b.ci_level == 0.8


def test_explicit_times_change_the_trend_effect() -> None:
    data = mbd(seed=5)
    kw = dict(KW, fe_base=(0, 1), re_base=0, fe_trt=(0, 1))
    default = rs.sced.bc_smd(data, **kw)
    later = rs.sced.bc_smd(data, a=4, b=20, **kw)
    assert later.p_const[-1] == 16.0
    assert default.p_const[-1] == 12.0
    assert later.estimate != pytest.approx(default.estimate, abs=1e-6)


def test_feeds_meta_analysis_inputs() -> None:
    """to_frame() rows stack into the yi/vi columns rs.meta.meta_analysis takes."""
    frames = [rs.sced.bc_smd(mbd(seed=s), **KW).to_frame() for s in (1, 2)]
    stacked = pd.concat(frames, ignore_index=True)
    yi, vi = stacked["estimate"].to_numpy(), stacked["variance"].to_numpy()
    assert np.all(np.isfinite(yi))
    assert np.all(vi > 0)
    w = 1 / vi
    assert np.isfinite((w * yi).sum() / w.sum())


# ---------------------------------------------------------------------------
# hostile input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [rs.sced.bc_smd, rs.sced.bc_smd_hps])
def test_bad_columns_and_labels(fn: Any) -> None:
    data = mbd()
    with pytest.raises(DataError, match="'outcome' names column 'nope'"):
        fn(data, **dict(KW, outcome="nope"))
    with pytest.raises(DataError, match="DataFrame"):
        fn(data.to_dict(), **KW)
    with pytest.raises(DesignError, match="'treatment_phase' is 'T'.*'A', 'B'"):
        fn(data, treatment_phase="T", **KW)
    three = data.copy()
    three.loc[three.index[-1], "ph"] = "C"
    with pytest.raises(DesignError, match="exactly two phase labels"):
        fn(three, **KW)
    one = data[data["case"] == "P1"]
    with pytest.raises(DesignError, match="at least 2 cases"):
        fn(one, **KW)
    dup = pd.concat([data, data.iloc[[0]]])
    with pytest.raises(DataError, match="Case 'P1': session 1 is listed more than once"):
        fn(dup, **KW)
    bad = data.astype({"y": object})
    bad.loc[bad.index[3], "y"] = "n/a"
    with pytest.raises(DataError, match="must be numeric; found 'n/a'"):
        fn(bad, **KW)
    nocase = data.copy()
    nocase.loc[nocase.index[2], "case"] = None
    with pytest.raises(DataError, match="'case'.*missing"):
        fn(nocase, **KW)


def test_case_without_baseline_is_named() -> None:
    data = mbd()
    data.loc[data["case"] == "P2", "ph"] = "B"
    with pytest.raises(DesignError, match="Case 'P2' has no 'A' phase"):
        rs.sced.bc_smd(data, **KW)
    with pytest.raises(DesignError, match="Case 'P2' has no 'A' phase"):
        rs.sced.bc_smd_hps(data, **KW)


def test_never_treated_control_case() -> None:
    """A never-treated case is a legitimate control in REML (as scdhlm), not in HPS."""
    data = mbd()
    data.loc[data["case"] == "P4", "ph"] = "A"
    res = rs.sced.bc_smd(data, **KW)
    assert math.isfinite(res.estimate)
    with pytest.raises(DesignError, match="Case 'P4' has no 'B' phase"):
        rs.sced.bc_smd_hps(data, **KW)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"design": "AB"}, DataError, "'design'"),
        ({"cor_struct": "AR2"}, DataError, "'cor_struct'"),
        ({"var_struct": "hetero"}, DataError, "'var_struct'"),
        ({"ci": 95}, DataError, "'ci'"),
        ({"fe_base": -1}, DataError, "'fe_base'"),
        ({"fe_trt": 0.5}, DataError, "'fe_trt'"),
        ({"re_base": "0"}, DataError, "'re_base'"),
        ({"center": math.nan}, DataError, "'center'"),
        ({"a": "four"}, DataError, "'a'"),
        ({"fe_trt": None}, DesignError, "'fe_trt'"),
        ({"re_base": None}, DesignError, "At least one random effect"),
        ({"design": "RMBB"}, DesignError, "'series'"),
        ({"design": "CMB"}, DesignError, "'cluster'"),
        ({"series": "case"}, DesignError, "only used with design='RMBB'"),
        ({"design": "TR", "fe_base": (0, 1)}, DesignError, "treatment reversal"),
    ],
)
def test_bad_options(kwargs: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        rs.sced.bc_smd(mbd(), **dict(KW, **kwargs))


def test_hps_bad_options() -> None:
    with pytest.raises(DataError, match="'design'"):
        rs.sced.bc_smd_hps(mbd(), design="TR", **KW)
    with pytest.raises(DataError, match="'phase_pair'"):
        rs.sced.bc_smd_hps(mbd(), phase_pair="t", **KW)


def test_collinear_fixed_effects() -> None:
    data = mbd(starts=(4, 4, 4, 4))
    # with every case starting together, the level-by-trend model still fits, but a
    # quadratic treatment trend with a 2-session treatment phase cannot
    short = data[data["t"] <= 6]
    with pytest.raises(DesignError, match="collinear"):
        rs.sced.bc_smd(short, fe_base=0, fe_trt=(0, 1, 2, 3), **KW)


@pytest.mark.parametrize("fn", [rs.sced.bc_smd, rs.sced.bc_smd_hps])
def test_constant_outcome(fn: Any) -> None:
    data = mbd().assign(y=5.0)
    with pytest.raises(DesignError, match="'y' \\('outcome'\\) is constant"):
        fn(data, **KW)


def test_hps_no_within_phase_variation() -> None:
    data = mbd()
    # each case-phase constant: no within-case variation left for phi / sigma_w
    data["y"] = data.groupby(["case", "ph"])["y"].transform("mean")
    with pytest.raises(DesignError, match="undefined"):
        rs.sced.bc_smd_hps(data, **KW)


def test_input_not_modified() -> None:
    data = mbd().sample(frac=1.0, random_state=0)
    before = data.copy()
    rs.sced.bc_smd(data, **KW)
    rs.sced.bc_smd_hps(data, **KW)
    pd.testing.assert_frame_equal(data, before)


# ---------------------------------------------------------------------------
# warnings
# ---------------------------------------------------------------------------


def test_missing_outcomes_are_announced() -> None:
    data = mbd()
    data.loc[data.index[[3, 20]], "y"] = np.nan
    with pytest.warns(RehabStatsWarning, match="2 missing value"):
        res = rs.sced.bc_smd(data, **KW)
    assert res.n_omitted == 2
    assert res.n_obs == len(data) - 2
    with pytest.warns(RehabStatsWarning, match="2 missing value"):
        rs.sced.bc_smd_hps(data, **KW)


def test_non_integer_sessions_are_rounded_with_warning() -> None:
    data = mbd()
    data["t"] = data["t"] + 0.2
    with pytest.warns(RehabStatsWarning, match="rounded"):
        res = rs.sced.bc_smd(data, **KW)
    ref = rs.sced.bc_smd(mbd(), **KW)
    assert res.estimate == pytest.approx(ref.estimate, abs=1e-6)


def test_non_convergence_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    original = _bcsmd_reml.REMLModel._fit_from

    def one_step(self: Any, u0: np.ndarray, max_iter: int = 200, **kw: Any) -> Any:
        fit, u = original(self, u0, 1, **kw)
        return fit, u

    monkeypatch.setattr(_bcsmd_reml.REMLModel, "_fit_from", one_step)
    monkeypatch.setattr(
        _bcsmd_reml.optimize,
        "minimize",
        lambda f, x, **kw: type(
            "R", (), {"x": x, "fun": f(x)[0], "success": False, "message": "stopped"}
        )(),
    )
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = rs.sced.bc_smd(mbd(), **KW)
    assert res.converged is False
    assert "did not converge" in res.summary()


def test_boundary_random_effect_converges() -> None:
    """No between-case variance at all: the fit ends at the boundary, converged."""
    data = mbd(sd_case=0.0, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = rs.sced.bc_smd(data, re_trt=0, **KW)
    assert res.converged
    assert math.isfinite(res.estimate)


# ---------------------------------------------------------------------------
# other designs and options
# ---------------------------------------------------------------------------


def test_treatment_reversal_and_abk() -> None:
    data = abab()
    res = rs.sced.bc_smd(data, design="TR", **KW)
    assert math.isnan(res.a)
    assert math.isnan(res.b)
    assert res.estimate > 1
    hps = rs.sced.bc_smd_hps(data, design="ABk", **KW)
    assert hps.estimate > 1
    assert hps.k == 18


def test_nested_designs_run() -> None:
    base = mbd(seed=2)
    other = mbd(seed=3)
    other["case"] = other["case"]
    base["series"], other["series"] = "s1", "s2"
    rmbb = pd.concat([base, other], ignore_index=True)
    res = rs.sced.bc_smd(rmbb, design="RMBB", series="series", **KW)
    assert res.converged
    assert 0 <= res.rho_level3 <= res.rho <= 1
    assert res.variance_components.index[0] == "Tau.case.var((Intercept))"
    assert res.variance_components.index[1] == "Tau.series.var((Intercept))"
    cmb = pd.concat(
        [mbd(seed=4).assign(cl="G1"), mbd(seed=5).assign(cl="G2"), mbd(seed=6).assign(cl="G3")],
        ignore_index=True,
    )
    res2 = rs.sced.bc_smd(cmb, design="CMB", cluster="cl", **KW)
    assert res2.variance_components.index[0] == "Tau.cluster.var((Intercept))"
    assert res2.n_cases == 12


@pytest.mark.parametrize(("cor", "var"), [("MA1", "hom"), ("IID", "het"), ("AR1", "het")])
def test_error_structures(cor: str, var: str) -> None:
    res = rs.sced.bc_smd(mbd(seed=7), cor_struct=cor, var_struct=var, **KW)
    assert res.converged
    assert math.isnan(res.phi) == (cor == "IID")
    assert math.isnan(res.var_param) == (var == "hom")


# ---------------------------------------------------------------------------
# invariances (hypothesis)
# ---------------------------------------------------------------------------

FIELDS = ("estimate", "se", "df", "rho", "phi")


def _close(a: Any, b: Any, fields: tuple[str, ...] = FIELDS, tol: float = 1e-5) -> None:
    for f in fields:
        assert getattr(a, f) == pytest.approx(getattr(b, f), rel=tol, abs=tol), f


@settings(max_examples=8)
@given(seed=st.integers(0, 10_000), shift=st.floats(-50, 50), scale=st.floats(0.2, 20))
def test_reml_location_scale_invariance(seed: int, shift: float, scale: float) -> None:
    data = mbd(seed=seed)
    ref = rs.sced.bc_smd(data, **KW)
    moved = data.assign(y=scale * data["y"] + shift)
    _close(rs.sced.bc_smd(moved, **KW), ref)
    flipped = data.assign(y=-data["y"])
    neg = rs.sced.bc_smd(flipped, **KW)
    assert neg.estimate == pytest.approx(-ref.estimate, rel=1e-5, abs=1e-6)
    assert neg.ci_low == pytest.approx(-ref.ci_high, rel=1e-5, abs=1e-6)


@settings(max_examples=8)
@given(seed=st.integers(0, 10_000), perm_seed=st.integers(0, 10_000))
def test_reml_row_order_and_labels(seed: int, perm_seed: int) -> None:
    data = mbd(seed=seed)
    ref = rs.sced.bc_smd(data, **KW)
    rng = np.random.default_rng(perm_seed)
    shuffled = data.iloc[rng.permutation(len(data))]
    # prepare sorts by case and session: any row order gives the same fit
    _close(rs.sced.bc_smd(shuffled, **KW), ref, tol=1e-7)
    names = {f"P{i}": f"Z{n}" for i, n in zip(range(1, 5), rng.permutation(4), strict=True)}
    relabelled = data.assign(
        case=data["case"].map(names), ph=data["ph"].map({"A": "base", "B": "trt"})
    )
    _close(rs.sced.bc_smd(relabelled, **dict(KW, treatment_phase="trt")), ref, tol=1e-7)


@given(
    seed=st.integers(0, 10_000),
    shift=st.floats(-50, 50),
    scale=st.floats(0.2, 20),
    perm_seed=st.integers(0, 10_000),
)
def test_hps_invariances(seed: int, shift: float, scale: float, perm_seed: int) -> None:
    data = mbd(seed=seed)
    ref = rs.sced.bc_smd_hps(data, **KW)
    fields = ("estimate", "variance", "df", "rho", "phi")
    _close(rs.sced.bc_smd_hps(data.assign(y=scale * data["y"] + shift), **KW), ref, fields, 1e-8)
    neg = rs.sced.bc_smd_hps(data.assign(y=-data["y"]), **KW)
    assert neg.estimate == pytest.approx(-ref.estimate, rel=1e-10)
    rng = np.random.default_rng(perm_seed)
    _close(rs.sced.bc_smd_hps(data.iloc[rng.permutation(len(data))], **KW), ref, fields, 1e-10)
    ab = abab(seed=seed)
    r1 = rs.sced.bc_smd_hps(ab, design="ABk", **KW)
    r2 = rs.sced.bc_smd_hps(ab.iloc[rng.permutation(len(ab))], design="ABk", **KW)
    _close(r2, r1, fields, 1e-10)


def test_hps_sign_flips_with_phase_roles() -> None:
    """Swapping which label is the treatment negates D-bar (same pooled variance)."""
    data = mbd(seed=9)
    a = rs.sced.bc_smd_hps(data, **KW)
    b = rs.sced.bc_smd_hps(data, treatment_phase="A", **KW)
    assert b.d_bar == pytest.approx(-a.d_bar, rel=1e-10)
    assert b.s_sq == pytest.approx(a.s_sq, rel=1e-10)
