"""LinearModelResult.contrasts(): emmeans' signs, order, ``ref=`` and ``adjust=``.

Reference: tests/reference/models/contrasts/contrasts_reference.R (emmeans 1.8.4-1, lme4
1.1-31, lmerTest 3.1-3, pbkrtest 0.5.2, nlme 3.1-162) on ../shared/validation/rct/
threearm_n45_4v.csv (control / low / high, 15 each, 4 visits):

* ANCOVA (lm at week 24), LMM (lmer random intercept, Satterthwaite and Kenward-Roger df)
  and MMRM (gls unstructured, asymptotic df) against emmeans' ``contrast()`` for every
  method x adjust: rtol 1e-8 for the ANCOVA (closed form), 1e-5 for the fitted models;
  Dunnett limits (emmeans' loose quantile) 1e-6 relative;
* the adjustment given the model (R's estimate, SE, df in, p and limits out) for every
  table of the fixture, including the MMRM with emmeans' ``df.error`` df: rtol 1e-8
  (Tukey and Dunnett p: R's ptukey quadrature agrees with scipy to ~1e-10 at these df;
  Dunnett limits 1e-6).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, load_json
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

import rehabstats as rs
from rehabstats.errors import DataError, RehabStatsWarning
from rehabstats.models._adjust import (
    ADJUST_METHODS,
    _p_adjust,
    _zapsmall,
    adjust_family,
    pdunnx,
    qdunnx,
    qtukey,
)

REF = load_json(REFERENCE_DIR / "models" / "contrasts" / "contrasts_reference.json")
ARMS = ["control", "low", "high"]
VISITS = ["baseline", "week6", "week12", "week24"]
METHODS = {
    "pairwise": ("pairwise", None),
    "revpairwise": ("revpairwise", None),
    "trt.vs.ctrl": ("trt.vs.ctrl", None),
    "trt.vs.ctrl_ref3": ("trt.vs.ctrl", "high"),
}
CELLS = [(m, a) for m in METHODS for a in ["default", *[x for x in ADJUST_METHODS]]]


def num(v: Any) -> np.ndarray:
    """A fixture vector (R's length-1 vectors are scalars; "Inf" strings) as floats."""
    vals = v if isinstance(v, list) else [v]
    return np.array(
        [float(x) if not isinstance(x, str) else float(x.replace("NA", "nan")) for x in vals]
    )


def strs(v: Any) -> list[str]:
    return list(v) if isinstance(v, list) else [v]


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    from conftest import VALIDATION_DIR

    path = VALIDATION_DIR / "rct" / "threearm_n45_4v.csv"
    if not path.is_file():
        pytest.skip("../shared/validation is not beside the repository")
    d = pd.read_csv(path)
    d["arm"] = pd.Categorical(d["arm"], categories=ARMS)
    d["visit"] = pd.Categorical(d["visit"], categories=VISITS)
    return d.dropna(subset=["outcome"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def fits(trial: pd.DataFrame) -> dict[str, Any]:
    final = trial[trial["visit"] == "week24"].copy()
    two = final[final["arm"] != "low"].copy()
    two["arm"] = pd.Categorical(two["arm"].astype(str), categories=["control", "high"])
    return {
        "ancova": rs.ancova(final, outcome="outcome", arm="arm", baseline="baseline"),
        "ancova_two": rs.ancova(two, outcome="outcome", arm="arm", baseline="baseline"),
        "lmm": rs.lmm("outcome ~ arm * visit", trial, subject="subject"),
        "mmrm": rs.mmrm(
            "outcome ~ arm * visit", trial, subject="subject", visit="visit", covariance="us"
        ),
    }


def call(fit: Any, method_key: str, adjust: str, **kw: Any) -> pd.DataFrame:
    method, ref = METHODS[method_key]
    args: dict[str, Any] = {"method": method, **kw}
    if ref is not None:
        args["ref"] = ref
    if adjust != "default":
        args["adjust"] = adjust
    if adjust == "tukey" and method == "trt.vs.ctrl":  # three arms: a family of two
        with pytest.warns(RehabStatsWarning, match='changed to "sidak"'):
            return fit.contrasts(**args)
    return fit.contrasts(**args)


def compare(
    ours: pd.DataFrame,
    ref: dict[str, Any],
    rtol: float,
    by: str | None = None,
    ci_rtol: float | None = None,
) -> int:
    assert list(ours["contrast"]) == strs(ref["contrast"])
    if by is not None:
        assert list(ours[by].astype(str)) == strs(ref[by])
    assert ours.attrs["adjust"] == ref["adjust_used"]
    for col in ("estimate", "se", "df", "t"):
        assert_allclose(ours[col], num(ref[col]), rtol=rtol, atol=1e-300, err_msg=col)
    # p: R's ptukey quadrature is accurate to about 1e-14 absolute, not relative
    assert_allclose(ours["p"], num(ref["p"]), rtol=rtol, atol=1e-12, err_msg="p")
    crit_rtol = ci_rtol if ci_rtol is not None and ref["adjust_used"] == "dunnettx" else rtol
    for col in ("ci_low", "ci_high"):
        # relative to the half-width, so a limit near zero is not held to a meaningless rtol
        hw = num(ref["ci_high"]) - num(ref["estimate"])
        assert_allclose((ours[col] - num(ref[col])) / hw, 0, atol=crit_rtol, err_msg=col)
    for line in strs(ref["mesg"]):
        if line.startswith(("P value adjustment", "Conf-level adjustment")):
            assert line in ours.attrs["note"]
    return 7 * len(ours)


@pytest.mark.parametrize(("method_key", "adjust"), CELLS)
def test_ancova_matches_emmeans(fits, method_key, adjust):
    ref = REF["ancova"]["tables"][method_key][adjust]
    ours = call(fits["ancova"], method_key, adjust, specs="arm")
    compare(ours, ref, rtol=1e-8, ci_rtol=1e-6)


def test_ancova_level_90(fits):
    m = fits["ancova"]
    compare(m.contrasts("arm", ci=0.9), REF["ancova"]["level90_tukey"], rtol=1e-8)
    compare(
        m.contrasts("arm", method="trt.vs.ctrl", ci=0.9),
        REF["ancova"]["level90_dunnettx"],
        rtol=1e-8,
        ci_rtol=1e-6,
    )


@pytest.mark.parametrize("method_key", ["pairwise", "revpairwise", "trt.vs.ctrl"])
@pytest.mark.parametrize("adjust", ["default", "tukey", "dunnettx", "holm"])
def test_one_contrast_family_is_not_adjusted(fits, method_key, adjust):
    m = fits["ancova_two"]
    method, _ = METHODS[method_key]
    kw = {} if adjust == "default" else {"adjust": adjust}
    ours = m.contrasts("arm", method=method, **kw)  # no tukey -> sidak warning: family of 1
    ref = REF["ancova_two_arms"]["tables"][method_key][adjust]
    compare(ours, ref, rtol=1e-8)
    assert ours.attrs["adjust"] == "none"
    assert ours.attrs["family_size"] == 1
    unadj = 2 * stats.t.sf(np.abs(ours["t"]), ours["df"])
    assert_allclose(ours["p"], unadj, rtol=1e-14)


@pytest.mark.parametrize("ddf", ["satterthwaite", "kenward-roger"])
@pytest.mark.parametrize(("method_key", "adjust"), CELLS)
def test_lmm_matches_emmeans(fits, ddf, method_key, adjust):
    ref = REF["lmm"][ddf][method_key][adjust]
    ours = call(fits["lmm"], method_key, adjust, specs="arm", by="visit", df_method=ddf)
    compare(ours, ref, rtol=1e-5, by="visit", ci_rtol=1e-5)


@pytest.mark.parametrize("adjust", ["default", "tukey", "holm", "dunnettx", "scheffe"])
@pytest.mark.parametrize("method_key", ["pairwise", "trt.vs.ctrl"])
def test_lmm_visits_within_arm(fits, method_key, adjust):
    """Four visits per arm: families of 6 (pairwise) and 3 (trt.vs.ctrl) contrasts."""
    ref = REF["lmm"]["visit_by_arm"][method_key][adjust]
    ours = call(fits["lmm"], method_key, adjust, specs="visit", by="arm")
    compare(ours, ref, rtol=1e-5, by="arm", ci_rtol=1e-5)
    assert ours.attrs["n_means"] == 4


@pytest.mark.parametrize("adjust", ["none", "tukey"])
def test_lmm_two_factor_specs_order(fits, adjust):
    """12 arm x visit means, 66 pairs: emmeans orders the cells with the first factor fastest."""
    ref = REF["lmm"]["arm_x_visit"]["pairwise"][adjust]
    ours = fits["lmm"].contrasts(["arm", "visit"], adjust=adjust)
    assert len(ours) == 66
    compare(ours, ref, rtol=1e-5, ci_rtol=1e-5)


@pytest.mark.parametrize(("method_key", "adjust"), CELLS)
def test_mmrm_matches_emmeans(fits, method_key, adjust):
    ref = REF["mmrm"]["asymptotic"][method_key][adjust]
    ours = call(fits["mmrm"], method_key, adjust, specs="arm", by="visit", df_method="asymptotic")
    assert np.isinf(ours["df"]).all()
    compare(ours, ref, rtol=1e-5, by="visit", ci_rtol=1e-5)


def _all_fixture_tables() -> list[tuple[str, dict[str, Any], int, bool]]:
    out = []
    groups = {
        "ancova": REF["ancova"]["tables"],
        "lmm_sat": REF["lmm"]["satterthwaite"],
        "lmm_kr": REF["lmm"]["kenward-roger"],
        "mmrm_dferror": REF["mmrm"]["df.error"],
        "mmrm_asy": REF["mmrm"]["asymptotic"],
        "visit_by_arm": REF["lmm"]["visit_by_arm"],
    }
    for gname, tabs in groups.items():
        n_means = 4 if gname == "visit_by_arm" else 3
        for mk, by_adj in tabs.items():
            for ak, tab in by_adj.items():
                out.append((f"{gname}-{mk}-{ak}", tab, n_means, mk in ("pairwise", "revpairwise")))
    return out


@pytest.mark.parametrize(
    ("name", "tab", "n_means", "pairs"),
    _all_fixture_tables(),
    ids=[x[0] for x in _all_fixture_tables()],
)
def test_adjustment_given_the_model(name, tab, n_means, pairs):
    """emmeans' p values and limits from R's own estimate, SE and df: closed forms, 1e-8."""
    t, df = num(tab["t"]), num(tab["df"])
    by = tab.get("visit", tab.get("arm"))
    groups = np.array(strs(by)) if by is not None else np.zeros(len(t))
    requested = name.rsplit("-", 1)[1]
    adjust = {"default": "dunnettx" if not pairs else "tukey"}.get(requested, requested)
    ranks = None
    if adjust == "scheffe":
        ranks = np.full(len(t), n_means - 1)
    adj, changed = adjust_family(
        t, df, groups, adjust=adjust, n_means=n_means, pairs=pairs, level=0.95, ranks=ranks
    )
    assert adj.adjust == tab["adjust_used"]
    assert (changed is not None) == (adjust == "tukey" and not pairs)
    assert_allclose(adj.p, num(tab["p"]), rtol=1e-8, atol=1e-12)  # ptukey: ~1e-14 absolute
    crit = (num(tab["ci_high"]) - num(tab["estimate"])) / num(tab["se"])
    assert_allclose(adj.crit, crit, rtol=1e-6 if adj.ci_adjust == "dunnettx" else 1e-8)


def test_dunnett_approximation_matches_emmeans():
    d = REF["dunnx"]
    for k, df, q, p23 in zip(
        num(d["k"]), num(d["df"]), num(d["q"]), num(d["pdunnx_at_2.3"]), strict=True
    ):
        assert_allclose(pdunnx(np.array(2.3), k, np.array(df)), p23, rtol=1e-9)
        # emmeans' own root (uniroot, tol = 5e-4) reproduced step for step
        assert_allclose(qdunnx(0.95, k, df), q, rtol=1e-8)
        # and it is within uniroot's tolerance of the exact root of pdunnx = 0.95
        assert abs(float(pdunnx(np.array(q), k, np.array(df))) - 0.95) < 1e-3


def test_qtukey_is_the_studentized_range_quantile():
    for k, df in [(3, 41.0), (4, 12.77), (6, math.inf)]:
        q = qtukey(0.95, k, df)
        assert_allclose(stats.studentized_range.cdf(q, k, df), 0.95, rtol=1e-10)


def test_zapsmall_and_p_adjust_are_r():
    assert_allclose(_zapsmall(np.array([49.2070338433406, 12.5])), [49.20703, 12.5], rtol=0)
    assert_allclose(_zapsmall(np.array([np.inf, 40.3])), [np.inf, 40.0], rtol=0)
    p = np.array([0.01, 0.04, 0.03, 0.2])
    # R: p.adjust(c(.01,.04,.03,.2), m) for m in holm, hochberg, BH, BY
    assert_allclose(_p_adjust(p, "holm"), [0.04, 0.09, 0.09, 0.2], rtol=1e-12)
    assert_allclose(_p_adjust(p, "hochberg"), [0.04, 0.08, 0.08, 0.2], rtol=1e-12)
    assert_allclose(
        _p_adjust(p, "BH"), [0.04, 0.05333333333333333, 0.05333333333333333, 0.2], rtol=1e-12
    )
    assert_allclose(
        _p_adjust(p, "BY"),
        np.minimum(1, _p_adjust(p, "BH") * (1 + 1 / 2 + 1 / 3 + 1 / 4)),
        rtol=1e-12,
    )


def test_nan_t_gives_nan_p_for_every_adjustment():
    t = np.array([np.nan, 1.0, 2.5])
    for adjust in ADJUST_METHODS:
        adj, _ = adjust_family(
            t,
            np.full(3, 30.0),
            np.zeros(3),
            adjust=adjust,
            n_means=3,
            pairs=True,
            level=0.95,
            ranks=np.full(3, 2),
        )
        assert np.isnan(adj.p[0]), adjust
        assert np.isfinite(adj.p[1:]).all(), adjust
    # R: p.adjust(c(NA, .01, .04), "holm") -> NA, 0.02, 0.04 (n = 2 non-missing)
    assert_allclose(_p_adjust(np.array([np.nan, 0.01, 0.04]), "holm")[1:], [0.02, 0.04])


# ----------------------------------------------------------------------------- behaviour
def test_signs_labels_and_defaults(fits):
    m = fits["lmm"]
    pw = m.contrasts("arm", by="visit")
    assert list(pw["contrast"].iloc[:3]) == ["control - low", "control - high", "low - high"]
    assert pw.attrs["adjust"] == "tukey"
    assert pw.attrs["family_size"] == 3
    assert pw.attrs["n_means"] == 3
    assert pw.attrs["by"] == ("visit",)
    tc = m.contrasts("arm", by="visit", method="trt.vs.ctrl")
    assert list(tc["contrast"].iloc[:2]) == ["low - control", "high - control"]
    assert tc.attrs["adjust"] == "dunnettx"
    assert tc.attrs["ref"] == "control"
    assert "P value adjustment: dunnettx method for 2 tests" in repr(tc)
    assert "dunnettx" in tc._repr_html_()
    # ref by name or 0-based position
    a = m.contrasts("arm", by="visit", method="trt.vs.ctrl", ref="low")
    b = m.contrasts("arm", by="visit", method="trt.vs.ctrl", ref=1)
    assert list(a["contrast"].iloc[:2]) == ["control - low", "high - low"]
    pd.testing.assert_frame_equal(a, b)


def test_revpairwise_is_minus_pairwise_and_adjusted_p_at_least_unadjusted(fits):
    for key in ("lmm", "mmrm", "ancova"):
        m = fits[key]
        by = None if key == "ancova" else "visit"
        pw = m.contrasts("arm", by=by, adjust="none")
        rv = m.contrasts("arm", by=by, method="revpairwise", adjust="none")
        # revpairwise lists (j, i) for j > i by later level; map to pairwise order
        lab = {c: i for i, c in enumerate(pw["contrast"].iloc[:3])}
        order = [lab[" - ".join(reversed(c.split(" - ")))] for c in rv["contrast"].iloc[:3]]
        for g in range(len(pw) // 3):
            sl = slice(3 * g, 3 * g + 3)
            p_rows = pw.iloc[sl].iloc[order]
            assert_allclose(rv["estimate"].iloc[sl], -p_rows["estimate"], rtol=1e-12)
            assert_allclose(rv["p"].iloc[sl], p_rows["p"], rtol=1e-12)
            assert_allclose(rv["ci_low"].iloc[sl], -p_rows["ci_high"], rtol=1e-12)
    m = fits["ancova"]
    for method in ("pairwise", "trt.vs.ctrl"):
        un = m.contrasts("arm", method=method, adjust="none")
        for adjust in ADJUST_METHODS:
            if adjust == "tukey" and method == "trt.vs.ctrl":
                continue
            ad = m.contrasts("arm", method=method, adjust=adjust)
            assert (ad["p"].to_numpy() >= un["p"].to_numpy() * (1 - 1e-12)).all(), adjust
            assert (
                ad["ci_high"] - ad["ci_low"] >= (un["ci_high"] - un["ci_low"]) * (1 - 1e-12)
            ).all(), adjust


@settings(max_examples=25)
@given(
    t=st.lists(st.floats(-6, 6), min_size=3, max_size=3),
    df=st.floats(3, 500),
    adjust=st.sampled_from(["sidak", "bonferroni", "holm", "hochberg", "BH", "BY", "dunnettx"]),
)
def test_adjusted_p_bounds_property(t, df, adjust):
    t = np.array(t)
    adj, _ = adjust_family(
        t, np.full(3, df), np.zeros(3), adjust=adjust, n_means=3, pairs=False, level=0.95
    )
    unadj = 2 * stats.t.sf(np.abs(t), df)
    assert (adj.p >= unadj * (1 - 1e-9)).all()
    assert (adj.p <= 1).all()
    assert (adj.p <= np.minimum(1, 3 * unadj) * (1 + 1e-9) + 1e-12).all() or adjust == "BY"


def test_bad_adjust_and_ref(fits):
    m = fits["lmm"]
    with pytest.raises(DataError, match=r"'adjust'.*tukey.*dunnettx.*holm.*none"):
        m.contrasts("arm", adjust="tukeyhsd")
    with pytest.raises(DataError, match=r"'ref' is 'sham'.*\['control', 'low', 'high'\]"):
        m.contrasts("arm", method="trt.vs.ctrl", ref="sham")
    with pytest.raises(DataError, match=r"'ref' is position 3, outside 0\.\.2"):
        m.contrasts("arm", method="trt.vs.ctrl", ref=3)
    with pytest.raises(DataError, match="'ref' applies only to method='trt.vs.ctrl'"):
        m.contrasts("arm", ref="low")
    with pytest.raises(DataError, match="'method'.*revpairwise"):
        m.contrasts("arm", method="dunnett")
    # the case of emmeans' names is not significant
    a = m.contrasts("arm", adjust="bh")
    assert a.attrs["adjust"] == "BH"


def test_tukey_on_treatment_vs_control_becomes_sidak(fits):
    m = fits["lmm"]
    with pytest.warns(RehabStatsWarning, match='changed to "sidak"'):
        tab = m.contrasts("arm", by="visit", method="trt.vs.ctrl", adjust="tukey")
    sid = m.contrasts("arm", by="visit", method="trt.vs.ctrl", adjust="sidak")
    pd.testing.assert_frame_equal(tab, sid)


def test_numeric_levels_ref_is_not_ambiguous():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"arm": np.repeat([1, 2, 3], 8), "b": rng.normal(0, 1, 24)})
    d["y"] = d["b"] + rng.normal(0, 1, 24)
    m = rs.ancova(d, outcome="y", arm="arm", baseline="b")
    with pytest.raises(DataError, match="ambiguous with numeric levels"):
        m.contrasts("arm", method="trt.vs.ctrl", ref=2)
    tab = m.contrasts("arm", method="trt.vs.ctrl", ref="2")
    assert list(tab["contrast"]) == ["1 - 2", "3 - 2"]


def test_effect_sizes_are_unadjusted(fits):
    m = fits["lmm"]
    es = m.effect_sizes("baseline_sd")
    con = m.contrasts("arm", by="visit", method="trt.vs.ctrl", adjust="none")
    assert_allclose(es["ci_high"], con["ci_high"] / es["sd"], rtol=1e-12)
    assert type(es) is pd.DataFrame
