"""Tests of rehabstats.change: SEM, MDC, reliable change, responders, GAS T-scores.

Reference values: tests/reference/change/change_reference.json, written by
tests/reference/change/change_reference.R (R 4.2.2, base R: qnorm, prop.test,
binom.test). Tolerance rtol 1e-8 for these closed forms (the JSON holds 15
significant digits).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import load_json
from hypothesis import given
from hypothesis import strategies as st

from rehabstats import change, datasets
from rehabstats.errors import DataError, RehabStatsWarning

REF = load_json(Path(__file__).parent / "reference" / "change" / "change_reference.json")
RTOL = 1e-8


# --------------------------------------------------------------------------- SEM / MDC
def test_sem_mdc_match_r_grid() -> None:
    grid = pd.DataFrame(REF["sem_mdc"])
    assert len(grid) == 64
    for row in grid.itertuples():
        assert change.sem(row.sd, row.reliability) == pytest.approx(row.sem, rel=RTOL)
        assert change.mdc(row.sd, row.reliability, level=row.level) == pytest.approx(
            row.mdc, rel=RTOL
        )


def test_sem_mdc_vectorised_match_r_grid() -> None:
    grid = pd.DataFrame(REF["sem_mdc"])
    for level, part in grid.groupby("level"):
        got = change.mdc(part["sd"].to_numpy(), part["reliability"].to_numpy(), level=float(level))
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, part["mdc"], rtol=RTOL)
    np.testing.assert_allclose(change.sem(grid["sd"], grid["reliability"]), grid["sem"], rtol=RTOL)


def test_mdc_multipliers_from_domain_notes() -> None:
    # DOMAIN.md 4a: MDC95 = 2.772 SEM, MDC90 = 2.326 SEM (3 decimals printed -> atol 5e-4)
    assert change.mdc(1.0, 0.0) == pytest.approx(2.772, abs=5e-4)
    assert change.mdc(1.0, 0.0, level=0.90) == pytest.approx(2.326, abs=5e-4)


@pytest.mark.parametrize(
    ("sem_published", "icc", "mdc_published"),
    [
        (1.16, 0.98, 3.2),  # TUG, chronic stroke, Alghadir et al. 2018
        (0.98, 0.90, 2.7),  # Berg, chronic stroke, Alghadir et al. 2018 (ICC immaterial)
    ],
)
def test_mdc95_reproduces_published_values(
    sem_published: float, icc: float, mdc_published: float
) -> None:
    sd = sem_published / math.sqrt(1 - icc)
    assert change.sem(sd, icc) == pytest.approx(sem_published, rel=1e-12)
    # published to one decimal: atol half a unit in the last digit
    assert change.mdc(sd, icc, level=0.95) == pytest.approx(mdc_published, abs=0.05)


def test_sem_mdc_return_types_and_broadcasting() -> None:
    assert isinstance(change.sem(2.0, 0.75), float)
    assert change.sem(2.0, 0.75) == pytest.approx(1.0, rel=1e-15)
    out = change.sem([2.0, 4.0], 0.75)
    np.testing.assert_allclose(out, [1.0, 2.0], rtol=1e-15)
    assert change.sem(np.float64(2.0), np.float64(0.75)) == pytest.approx(1.0, rel=1e-15)
    assert change.mdc(0.0, 0.5) == 0.0
    with pytest.raises(DataError, match="incompatible shapes"):
        change.sem([1.0, 2.0, 3.0], [0.5, 0.6])


@pytest.mark.parametrize("rel", [-0.1, 1.0, 1.5, float("nan"), float("inf")])
def test_reliability_outside_unit_interval_rejected(rel: float) -> None:
    with pytest.raises(DataError, match="reliability"):
        change.sem(1.0, rel)
    with pytest.raises(DataError, match="reliability"):
        change.mdc(1.0, rel)
    with pytest.raises(DataError):
        change.reliable_change([1, 2], [2, 3], sd=1.0, reliability=rel)


@pytest.mark.parametrize("sd", [-1.0, float("nan"), float("inf"), "a", True, [1.0, -0.5], []])
def test_bad_sd_rejected(sd: object) -> None:
    with pytest.raises(DataError, match="sd"):
        change.sem(sd, 0.8)  # type: ignore[arg-type]


@pytest.mark.parametrize("level", [0.0, 1.0, 95, -0.5, "0.95"])
def test_bad_mdc_level_rejected(level: object) -> None:
    with pytest.raises(DataError, match="level"):
        change.mdc(1.0, 0.8, level=level)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- reliable change
RC = REF["reliable_change"]


@pytest.mark.parametrize(
    "case", RC["cases"], ids=lambda c: f"{c['method']}-{c['improvement']}-{c['ci']}"
)
def test_reliable_change_matches_r(case: dict) -> None:
    kwargs: dict = {"improvement": case["improvement"], "ci": case["ci"]}
    if case["method"] == "sd_diff":
        kwargs.update(denominator="sd_diff", sd_diff=RC["sd_diff"])
    elif case["method"] == "christensen-mendoza":
        kwargs.update(method="christensen-mendoza", sd_post=RC["sd_post"])
    out = change.reliable_change(
        RC["pre"], RC["post"], sd=RC["sd"], reliability=RC["reliability"], **kwargs
    )
    np.testing.assert_allclose(out["rci"], case["rci"], rtol=RTOL)
    np.testing.assert_allclose(out["change"], np.subtract(RC["post"], RC["pre"]), rtol=1e-12)
    assert out["reliable"].tolist() == case["reliable"]
    assert out["category"].astype(str).tolist() == case["category"]
    assert out.attrs["s_diff"] == pytest.approx(case["s_diff"], rel=RTOL)
    assert out.attrs["criterion"] == pytest.approx(case["criterion"], rel=RTOL)
    assert list(out.columns) == ["pre", "post", "change", "rci", "reliable", "category"]


def test_reliable_change_on_bundled_trial_matches_r() -> None:
    ref = REF["cimt_ms"]
    trial = datasets.load("cimt_ms")
    wide = trial.pivot(index="subject", columns="visit", values="mal_aou")
    sd_pre = float(wide["pre"].std(ddof=1))
    assert sd_pre == pytest.approx(ref["sd"], rel=RTOL)
    out = change.reliable_change(
        wide["pre"], wide["post"], sd=sd_pre, reliability=ref["reliability"]
    )
    assert out.index.tolist() == ref["subject"]
    np.testing.assert_allclose(out["rci"], ref["rci"], rtol=RTOL)
    assert out["category"].astype(str).tolist() == ref["category"]
    res = change.responders(out["change"], mcid=ref["mcid"])
    assert (res.n_responders, res.n) == (ref["responders"], ref["n"])
    np.testing.assert_allclose(res.ci, ref["wilson"], rtol=RTOL)


def test_christensen_mendoza_equals_jacobson_truax_when_sds_equal() -> None:
    pre, post = [1.0, 2.0, 3.5], [2.5, 1.0, 3.6]
    jt = change.reliable_change(pre, post, sd=0.8, reliability=0.7)
    cm = change.reliable_change(
        pre, post, sd=0.8, reliability=0.7, method="christensen-mendoza", sd_post=0.8
    )
    np.testing.assert_allclose(cm["rci"], jt["rci"], rtol=1e-12)


def test_reliable_change_keeps_series_index_and_omits_missing() -> None:
    pre = pd.Series([1.0, np.nan, 2.0, 1.5], index=["a", "b", "c", "d"])
    post = pd.Series([3.0, 2.0, np.nan, 1.4], index=["a", "b", "c", "d"])
    with pytest.warns(RehabStatsWarning, match="2 missing"):
        out = change.reliable_change(pre, post, sd=0.5, reliability=0.8)
    assert out.index.tolist() == ["a", "d"]
    assert out.attrs["n_omitted"] == 2
    assert pre.isna().sum() == 1
    assert post.isna().sum() == 1
    with pytest.raises(DataError, match="nan_policy='raise'"):
        change.reliable_change(pre, post, sd=0.5, reliability=0.8, nan_policy="raise")
    with pytest.warns(RehabStatsWarning), pytest.raises(DataError, match="no complete pair"):
        change.reliable_change([np.nan], [1.0], sd=0.5, reliability=0.8)


def test_reliable_change_exact_criterion_is_not_reliable() -> None:
    # |RCI| equal to the criterion is not "greater than" it (sd_diff = 1 keeps RCI exact)
    crit = change.reliable_change([0.0], [1.0], sd=1.0, reliability=0.5).attrs["criterion"]
    out = change.reliable_change(
        [0.0, 0.0], [crit, -crit], sd=None, reliability=None, denominator="sd_diff", sd_diff=1.0
    )
    assert out["rci"].abs().tolist() == [crit, crit]
    assert not out["reliable"].any()
    assert (out["category"] == "unchanged").all()
    above = change.reliable_change(
        [0.0],
        [np.nextafter(crit, 10)],
        sd=None,
        reliability=None,
        denominator="sd_diff",
        sd_diff=1.0,
    )
    assert above["category"].iloc[0] == "improved"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pre": [1, 2, 3], "post": [1, 2]}, "same length"),
        ({"pre": [], "post": []}, "empty"),
        ({"pre": ["a", 2], "post": [1, 2]}, "non-numeric"),
        ({"pre": [1, np.inf], "post": [1, 2]}, "infinite"),
        ({"sd": -1.0}, "sd"),
        ({"sd": 0.0}, "sd"),
        ({"sd": None}, "required"),
        ({"reliability": None}, "required"),
        ({"method": "jt"}, "method"),
        ({"improvement": "up"}, "improvement"),
        ({"ci": 1.5}, "ci"),
        ({"denominator": "observed"}, "denominator"),
        ({"method": "christensen-mendoza"}, "sd_post"),
        ({"sd_post": 1.0}, "sd_post"),
        ({"denominator": "sd_diff"}, "sd_diff"),
        ({"sd_diff": 0.5}, "sd_diff"),
        ({"denominator": "sd_diff", "sd_diff": -0.5}, "sd_diff"),
        ({"nan_policy": "drop"}, "nan_policy"),
    ],
)
def test_reliable_change_bad_inputs(kwargs: dict, match: str) -> None:
    args = {"pre": [1.0, 2.0], "post": [2.0, 3.0], "sd": 1.0, "reliability": 0.8}
    args.update(kwargs)
    with pytest.raises(DataError, match=match):
        change.reliable_change(args.pop("pre"), args.pop("post"), **args)


def test_reliable_change_refuses_misaligned_series() -> None:
    pre = pd.Series([1.0, 2.0], index=["a", "b"])
    with pytest.raises(DataError, match="different indexes"):
        change.reliable_change(
            pre, pd.Series([2.0, 3.0], index=["b", "a"]), sd=1.0, reliability=0.8
        )
    out = change.reliable_change(pre, [2.0, 3.5], sd=1.0, reliability=0.8)
    assert out.index.tolist() == ["a", "b"]


def test_reliable_change_sd_diff_allows_missing_sd() -> None:
    out = change.reliable_change(
        [1.0], [2.4], sd=None, reliability=None, denominator="sd_diff", sd_diff=0.7
    )
    assert out["rci"].iloc[0] == pytest.approx(2.0, rel=1e-12)
    assert out.attrs["method"] == "temkin-sd-diff"


finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


@given(
    st.lists(st.tuples(finite, finite), min_size=1, max_size=15),
    st.floats(0.1, 10),
    st.floats(0.0, 0.99),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_rci_properties(pairs: list, sd: float, rel: float, ci: float) -> None:
    pre = [p for p, _ in pairs]
    post = [q for _, q in pairs]
    up = change.reliable_change(pre, post, sd=sd, reliability=rel, ci=ci)
    down = change.reliable_change(pre, post, sd=sd, reliability=rel, ci=ci, improvement="decrease")
    swapped = change.reliable_change(post, pre, sd=sd, reliability=rel, ci=ci)
    # same RCI whatever the direction; swapping occasions negates it
    np.testing.assert_array_equal(up["rci"], down["rci"])
    np.testing.assert_allclose(swapped["rci"], -up["rci"], rtol=1e-12, atol=1e-300)
    # flipping improvement swaps improved <-> deteriorated, leaves unchanged alone
    flip = {"improved": "deteriorated", "deteriorated": "improved", "unchanged": "unchanged"}
    assert down["category"].astype(str).tolist() == [flip[c] for c in up["category"].astype(str)]
    # categories are consistent with reliability and the sign of the RCI
    assert ((up["category"] != "unchanged") == up["reliable"]).all()
    assert (up.loc[up["category"] == "improved", "rci"] > 0).all()
    assert (up.loc[up["category"] == "deteriorated", "rci"] < 0).all()
    assert (up["reliable"] == (up["rci"].abs() > up.attrs["criterion"])).all()


# --------------------------------------------------------------------------- responders
@pytest.mark.parametrize(
    "case", REF["proportions"], ids=lambda c: f"{c['k']}of{c['n']}-{c['conf']}"
)
def test_responder_intervals_match_prop_test_and_binom_test(case: dict) -> None:
    k, n = int(case["k"]), int(case["n"])
    changes = np.r_[np.full(k, 2.0), np.full(n - k, 0.1)]
    wil = change.responders(changes, mcid=1.0, ci=case["conf"])
    cp = change.responders(changes, mcid=1.0, ci=case["conf"], ci_method="clopper-pearson")
    assert wil.n_responders == k
    assert wil.n == n
    assert wil.proportion == pytest.approx(k / n, rel=1e-15)
    np.testing.assert_allclose(wil.ci, case["wilson"], rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(cp.ci, case["clopper_pearson"], rtol=RTOL, atol=1e-14)
    assert wil.ci_method == "wilson"
    assert cp.ci_method == "clopper-pearson"


def test_responders_direction_flags_and_frame() -> None:
    res = change.responders(pd.Series([2.3 - 1.8, 0.49, 1.2, -0.7], index=list("wxyz")), mcid=0.5)
    # 2.3 - 1.8 is 0.49999999999999978 in binary; it still reaches the MCID
    assert res.flags.tolist() == [True, False, True, False]
    assert res.flags.index.tolist() == list("wxyz")
    frame = res.to_frame()
    assert frame.loc[0, "estimate"] == 0.5
    assert frame.loc[0, "n"] == 4
    assert "2/4 responders" in res.summary()
    assert "<table" in res._repr_html_()
    down = change.responders([-4.0, -3.2, 3.5, -1.0], mcid=3.2, improvement="decrease")
    assert down.flags.tolist() == [True, True, False, False]


def test_responders_measure_sets_direction() -> None:
    res = change.responders([-4.0, -1.0, -3.5, 0.5], mcid=3.2, measure="tug")
    assert res.improvement == "decrease"
    assert res.n_responders == 2
    assert change.responders([1.0], mcid=0.5, measure="mal_aou").improvement == "increase"
    same = change.responders([-4.0], mcid=3.2, measure="TUG", improvement="decrease")
    assert same.n_responders == 1
    with pytest.raises(DataError, match="contradicts"):
        change.responders([-4.0], mcid=3.2, measure="tug", improvement="increase")
    with pytest.raises(DataError, match="Unknown measure"):
        change.responders([1.0], mcid=1.0, measure="not-a-measure")


def test_responders_missing_values() -> None:
    with pytest.warns(RehabStatsWarning, match="1 missing"):
        res = change.responders([1.0, np.nan, 0.0], mcid=0.5)
    assert res.n == 2
    assert res.n_omitted == 1
    assert "1 missing omitted" in res.summary()
    with pytest.raises(DataError, match="nan_policy='raise'"):
        change.responders([1.0, np.nan], mcid=0.5, nan_policy="raise")
    with pytest.warns(RehabStatsWarning), pytest.raises(DataError, match="no non-missing"):
        change.responders([np.nan, np.nan], mcid=0.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mcid": 0.0}, "mcid"),
        ({"mcid": -1.0}, "magnitude"),
        ({"mcid": True}, "must be a number"),
        ({"mcid": float("nan")}, "mcid"),
        ({"ci": 0.0}, "ci"),
        ({"ci_method": "wald"}, "ci_method"),
        ({"improvement": "better"}, "improvement"),
        ({"change": "abc"}, "string"),
        ({"change": [[1, 2], [3, 4]]}, "one-dimensional"),
        ({"change": []}, "no non-missing"),
    ],
)
def test_responders_bad_inputs(kwargs: dict, match: str) -> None:
    args: dict = {"change": [1.0, 2.0], "mcid": 1.0}
    args.update(kwargs)
    with pytest.raises(DataError, match=match):
        change.responders(args.pop("change"), **args)


@given(
    st.lists(st.floats(-5, 5), min_size=1, max_size=40),
    st.floats(0.01, 3),
    st.sampled_from(["wilson", "clopper-pearson"]),
)
def test_responder_interval_contains_proportion(values: list, mcid: float, method: str) -> None:
    res = change.responders(values, mcid=mcid, ci_method=method)  # type: ignore[arg-type]
    assert 0.0 <= res.ci_low <= res.proportion <= res.ci_high <= 1.0
    flipped = change.responders(
        [-v for v in values], mcid=mcid, improvement="decrease", ci_method=method
    )  # type: ignore[arg-type]
    assert flipped.flags.tolist() == res.flags.tolist()


# --------------------------------------------------------------------------- GAS
@pytest.mark.parametrize("case", REF["gas"], ids=lambda c: str(c["x"]))
def test_gas_tscore_matches_r(case: dict) -> None:
    got = change.gas_tscore(case["x"], weights=case["w"], rho=case["rho"])
    assert isinstance(got, float)
    assert got == pytest.approx(case["t"], rel=RTOL)


@given(st.lists(st.integers(-2, 2), min_size=1, max_size=12))
def test_gas_equal_weight_reduction(scores: list) -> None:
    n = len(scores)
    expected = 50 + 10 * sum(scores) / math.sqrt(0.7 * n + 0.3 * n**2)
    assert change.gas_tscore(scores) == pytest.approx(expected, rel=1e-12)
    assert change.gas_tscore(scores, weights=[3.0] * n) == pytest.approx(expected, rel=1e-12)
    # mirror symmetry around 50
    assert change.gas_tscore([-s for s in scores]) == pytest.approx(100 - expected, rel=1e-12)


def test_gas_expected_outcome_is_50_and_table_input() -> None:
    assert change.gas_tscore([0, 0, 0]) == 50.0
    table = pd.DataFrame(
        {"g1": [0, 2, -1], "g2": [1, 2, np.nan], "g3": [-1, 2, 0]}, index=["P1", "P2", "P3"]
    )
    before = table.copy()
    with pytest.warns(RehabStatsWarning, match="1 missing"):
        t = change.gas_tscore(table, weights=[1, 2, 1])
    pd.testing.assert_frame_equal(table, before)  # input untouched
    assert isinstance(t, pd.Series)
    assert t.name == "gas_t"
    assert t.index.tolist() == ["P1", "P2", "P3"]
    assert t["P1"] == pytest.approx(change.gas_tscore([0, 1, -1], weights=[1, 2, 1]), rel=1e-14)
    assert t["P3"] == pytest.approx(change.gas_tscore([-1, 0], weights=[1, 1]), rel=1e-14)
    arr = change.gas_tscore(np.array([[0, 1], [2, 2]]))
    np.testing.assert_allclose(
        arr, [change.gas_tscore([0, 1]), change.gas_tscore([2, 2])], rtol=1e-14
    )
    with pytest.raises(DataError, match="nan_policy='raise'"):
        change.gas_tscore(table, nan_policy="raise")
    with pytest.warns(RehabStatsWarning):
        all_missing = change.gas_tscore(pd.DataFrame({"g": [np.nan, 1.0]}))
    assert math.isnan(all_missing.iloc[0])


@pytest.mark.parametrize(
    ("scores", "kwargs", "match"),
    [
        ([0, 3], {}, "one of -2, -1, 0, 1, 2"),
        ([0.5, 1], {}, "one of -2"),
        ([-3], {}, "one of -2"),
        ([0, np.nan], {}, "missing"),
        ([0, np.inf], {}, "infinite"),
        ([], {}, "empty"),
        ("12", {}, "string"),
        ([0, 1], {"weights": [1]}, "one weight per goal"),
        ([0, 1], {"weights": [1, -1]}, "non-negative"),
        ([0, 1], {"weights": [0, 0]}, "all zero"),
        ([0, 1], {"rho": 1.5}, "rho"),
        ([0, 1], {"rho": -0.1}, "rho"),
        (np.zeros((2, 2, 2)), {}, "1-D or 2-D"),
        (pd.DataFrame({"g": ["x", "y"]}), {}, "numeric"),
    ],
)
def test_gas_bad_inputs(scores: object, kwargs: dict, match: str) -> None:
    with pytest.raises(DataError, match=match):
        change.gas_tscore(scores, **kwargs)
