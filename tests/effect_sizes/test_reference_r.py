"""rehabstats.effect_sizes against fixtures written by R.

Fixture: tests/reference/effect_sizes/effect_size_fixtures.json, produced by
``make_effect_size_fixtures.R`` beside it (R 4.2.2, effectsize 0.8.3, metafor
3.8-1; numbers written with 15 significant digits).

Tolerances: rtol 1e-8 for closed forms and for noncentral-t limits solved
tightly in R (``uniroot``, tol 1e-14); rtol 1e-5 against effectsize's own
noncentral-t limits, which it finds with ``optim`` (Nelder-Mead, abstol 1e-9).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import load_json
from numpy.testing import assert_allclose

import rehabstats.effect_sizes as es
from rehabstats.errors import RehabStatsWarning

FIXTURE = (
    Path(__file__).resolve().parents[1] / "reference" / "effect_sizes" / "effect_size_fixtures.json"
)
REF = load_json(FIXTURE)
CLOSED = 1e-8
OPTIM = 1e-5

TWO = sorted(REF["two_sample"])
PAIRED = sorted(REF["paired"])


def _est_ci(res: Any) -> list[float]:
    return [res.estimate, res.ci_low, res.ci_high]


def _check_effectsize_row(res: Any, row: dict[str, float]) -> None:
    assert_allclose(res.estimate, row["estimate"], rtol=CLOSED)
    assert_allclose(
        [res.ci_low, res.ci_high], [row["ci_low"], row["ci_high"]], rtol=OPTIM, atol=1e-7
    )


@pytest.mark.parametrize("name", TWO)
def test_two_sample_effectsize(name: str) -> None:
    s = REF["two_sample"][name]
    x, y, ci = s["x"], s["y"], s["ci"]
    _check_effectsize_row(es.cohens_d(x, y, ci=ci), s["cohens_d"])
    _check_effectsize_row(es.hedges_g(x, y, ci=ci), s["hedges_g"])
    _check_effectsize_row(es.glass_delta(x, y, ci=ci), s["glass_delta"])
    _check_effectsize_row(es.cohens_d(x, y, ci=ci, pooled_sd=False), s["cohens_d_unpooled"])
    _check_effectsize_row(es.hedges_g(x, y, ci=ci, pooled_sd=False), s["hedges_g_unpooled"])


@pytest.mark.parametrize("name", TWO)
def test_unpooled_d_welch_df_and_exact_limits(name: str) -> None:
    s = REF["two_sample"][name]
    res = es.cohens_d(s["x"], s["y"], ci=s["ci"], pooled_sd=False)
    ex = s["unpooled_exact"]
    assert_allclose(
        [res.details["df"], res.details["hn"], res.details["t"]],
        [ex["df"], ex["hn"], ex["t"]],
        rtol=CLOSED,
    )
    assert_allclose([res.ci_low, res.ci_high], [ex["ci_low"], ex["ci_high"]], rtol=CLOSED)
    g = es.hedges_g(s["x"], s["y"], ci=s["ci"], pooled_sd=False)
    assert_allclose(g.details["J"], ex["J"], rtol=CLOSED)


@pytest.mark.parametrize("name", TWO)
def test_rank_based_match_effectsize(name: str) -> None:
    s = REF["two_sample"][name]
    x, y, ci = s["x"], s["y"], s["ci"]
    rb = s["rank_biserial"]
    want = [rb["estimate"], rb["ci_low"], rb["ci_high"]]
    assert_allclose(_est_ci(es.rank_biserial(x, y, ci=ci)), want, rtol=CLOSED)
    cd = s["cliffs_delta"]
    assert_allclose(
        _est_ci(es.cliffs_delta(x, y, ci=ci)),
        [cd["estimate"], cd["ci_low"], cd["ci_high"]],
        rtol=CLOSED,
    )
    ps = es.prob_superiority(x, y, ci=ci)
    assert_allclose(_est_ci(ps), [(v + 1) / 2 for v in want], rtol=CLOSED)


@pytest.mark.parametrize("name", TWO)
def test_summary_and_t_routes_match(name: str) -> None:
    s = REF["two_sample"][name]
    sm = s["summary"]
    g = es.smd_from_summary(
        sm["mean_x"], sm["sd_x"], sm["n_x"], sm["mean_y"], sm["sd_y"], sm["n_y"], ci=s["ci"]
    )
    # metafor escalc("SMD") from the same summaries
    assert_allclose(
        [g.estimate, g.se**2], [s["escalc_smd"]["yi"], s["escalc_smd"]["vi"]], rtol=CLOSED
    )
    _check_effectsize_row(g, s["hedges_g"])
    d = es.smd_from_summary(
        sm["mean_x"],
        sm["sd_x"],
        sm["n_x"],
        sm["mean_y"],
        sm["sd_y"],
        sm["n_y"],
        ci=s["ci"],
        correction="none",
    )
    _check_effectsize_row(d, s["cohens_d"])
    dt = es.smd_from_t(s["t_test"], sm["n_x"], sm["n_y"], ci=s["ci"])
    _check_effectsize_row(dt, s["cohens_d"])
    assert_allclose(d.details["sd"], sm["sd_pooled"], rtol=CLOSED)


@pytest.mark.parametrize("name", PAIRED)
def test_paired_d_and_g(name: str) -> None:
    s = REF["paired"][name]
    pre, post = s["pre"], s["post"]
    d = es.cohens_d(post, pre, paired=True)
    g = es.hedges_g(post, pre, paired=True)
    _check_effectsize_row(d, s["cohens_d_paired"])
    _check_effectsize_row(g, s["hedges_g_paired"])
    ex = s["paired_exact"]
    assert_allclose(
        [d.details["t"], d.details["df"], d.ci_low, d.ci_high],
        [ex["t"], ex["df"], ex["ci_low"], ex["ci_high"]],
        rtol=CLOSED,
    )
    assert_allclose(g.details["J"], ex["J"], rtol=CLOSED)
    # smd_from_t with one sample size is the paired d_z
    dt = es.smd_from_t(ex["t"], len(pre))
    assert_allclose(_est_ci(dt), _est_ci(d), rtol=CLOSED)


@pytest.mark.parametrize("name", PAIRED)
def test_paired_rank_biserial(name: str) -> None:
    s = REF["paired"][name]
    rb = s["rank_biserial_paired"]
    res = es.rank_biserial(s["post"], s["pre"], paired=True)
    assert_allclose(res.estimate, rb["estimate"], rtol=CLOSED)
    hand = s["rank_biserial_paired_nonzero_ci"]
    assert res.details["n_nonzero"] == hand["nd"]
    assert_allclose([res.ci_low, res.ci_high], hand["ci"], rtol=CLOSED)
    n_zero = sum(a == b for a, b in zip(s["post"], s["pre"], strict=True))
    if n_zero == 0:
        # without zero differences effectsize's SE uses the same n: identical intervals
        assert_allclose([res.ci_low, res.ci_high], [rb["ci_low"], rb["ci_high"]], rtol=CLOSED)
    else:
        # documented deviation: effectsize 0.8.3 uses n = all pairs in the SE
        assert res.details["n_zero"] == n_zero
        assert not np.allclose([res.ci_low, res.ci_high], [rb["ci_low"], rb["ci_high"]])


@pytest.mark.parametrize("name", PAIRED)
def test_standardized_mean_change_variants(name: str) -> None:
    s = REF["paired"][name]
    pre, post = s["pre"], s["post"]
    smcr = es.standardized_mean_change(pre, post, standardizer="pre")
    assert_allclose([smcr.estimate, smcr.se**2], [s["smcr"]["yi"], s["smcr"]["vi"]], rtol=CLOSED)
    smcc = es.standardized_mean_change(pre, post, standardizer="change")
    assert_allclose([smcc.estimate, smcc.se**2], [s["smcc"]["yi"], s["smcc"]["vi"]], rtol=CLOSED)
    # d_z with J equals effectsize's paired Hedges' g (same ncp interval)
    _check_effectsize_row(smcc, s["hedges_g_paired"])
    for key in ("d_av", "d_rm"):
        res = es.standardized_mean_change(
            pre, post, standardizer="average" if key == "d_av" else "rm"
        )
        want = s[key]
        assert_allclose(
            [res.estimate, res.ci_low, res.ci_high, res.se],
            [want["estimate"], want["ci_low"], want["ci_high"], want["se"]],
            rtol=CLOSED,
        )
    raw = es.standardized_mean_change(pre, post, standardizer="average", correction=False)
    assert_allclose(raw.estimate, s["d_av_uncorrected"], rtol=CLOSED)


def _table_id(tb: dict[str, Any]) -> str:
    return f"{tb['events_x']}of{tb['n_x']}-{tb['events_y']}of{tb['n_y']}"


BINARY = REF["binary"]


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``, expecting the Haldane warning exactly when the table has a zero cell."""
    ex, nx, ey, ny = args
    if min(ex, nx - ex, ey, ny - ey) == 0:
        with pytest.warns(RehabStatsWarning, match="Haldane"):
            return fn(*args, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kwargs)


@pytest.mark.parametrize("tb", BINARY, ids=[_table_id(t) for t in BINARY])
def test_binary_against_escalc_and_newcombe(tb: dict[str, Any]) -> None:
    args = (tb["events_x"], tb["n_x"], tb["events_y"], tb["n_y"])
    rr = _quiet(es.risk_ratio, *args)
    assert_allclose(
        [math.log(rr.estimate), rr.se**2, rr.ci_low, rr.ci_high],
        [tb["rr"]["yi"], tb["rr"]["vi"], *tb["rr"]["ci"]],
        rtol=CLOSED,
    )
    odds = _quiet(es.odds_ratio, *args)
    assert_allclose(
        [odds.details["log_estimate"], odds.se**2, odds.ci_low, odds.ci_high],
        [tb["or"]["yi"], tb["or"]["vi"], *tb["or"]["ci"]],
        rtol=CLOSED,
    )
    rd = es.risk_difference(*args)
    assert_allclose(
        [rd.estimate, rd.se**2, rd.ci_low, rd.ci_high],
        [tb["rd"]["yi"], tb["rd"]["vi"], *tb["rd"]["newcombe"]],
        rtol=CLOSED,
        atol=1e-15,
    )
    wald = es.risk_difference(*args, method="wald")
    assert_allclose([wald.ci_low, wald.ci_high], tb["rd"]["wald"], rtol=CLOSED)
    if rd.estimate == 0:  # equal rates: NNT is infinite, announced
        with pytest.warns(RehabStatsWarning, match="risk difference is 0"):
            n = es.nnt(*args)
    else:
        n = es.nnt(*args)
    nn = tb["nnt"]
    assert_allclose(n.details["rd_ci_low"], tb["rd"]["newcombe"][0], rtol=CLOSED)
    if rd.ci_low > 0 or rd.ci_high < 0:
        assert not n.details["ci_through_infinity"]
        assert_allclose(
            sorted([n.ci_low, n.ci_high]), sorted([nn["inv_low"], nn["inv_high"]]), rtol=CLOSED
        )
    else:
        assert n.details["ci_through_infinity"]
        assert_allclose([n.ci_low, n.ci_high], [nn["inv_low"], nn["inv_high"]], rtol=CLOSED)
        assert "to ∞ to" in n.details["ci_text"]
    if math.isfinite(nn["estimate"]):
        assert_allclose(n.estimate, nn["estimate"], rtol=CLOSED)
    else:
        assert math.isinf(n.estimate)


def test_conversions_match_effectsize() -> None:
    c = REF["conversions"]
    assert_allclose(es.d_to_r(np.array(c["d"])), c["d_to_r"], rtol=CLOSED)
    assert_allclose(es.d_to_r(np.array(c["d"]), 12, 20), c["d_to_r_n"], rtol=CLOSED)
    assert_allclose(es.r_to_d(np.array(c["r"])), c["r_to_d"], rtol=CLOSED, atol=1e-15)
    assert_allclose(es.r_to_d(np.array(c["r"]), 12, 20), c["r_to_d_n"], rtol=CLOSED, atol=1e-15)
    assert_allclose(es.d_to_odds_ratio(np.array(c["d"])), c["d_to_oddsratio"], rtol=CLOSED)
    assert_allclose(
        es.d_to_odds_ratio(np.array(c["d"]), log=True),
        c["d_to_logoddsratio"],
        rtol=CLOSED,
        atol=1e-15,
    )
    assert_allclose(
        es.odds_ratio_to_d(np.array(c["or"])), c["oddsratio_to_d"], rtol=CLOSED, atol=1e-15
    )
    assert_allclose(
        es.odds_ratio_to_d(np.log(c["or"]), log=True),
        c["logoddsratio_to_d"],
        rtol=CLOSED,
        atol=1e-15,
    )
    assert isinstance(es.d_to_r(0.5), float)
