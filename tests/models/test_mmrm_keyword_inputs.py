"""Regressions found by running ``mmrm``'s keywords and the fitted MMRM's methods through
the hostile-input catalogue (``tests/test_hostile.py``): each test fails on the code
before the fix (a bare pandas/patsy exception, a silent ``inf``/NaN, an error that
names the wrong argument, or a valid call refused).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rehabstats.errors import DataError, DesignError, RehabStatsWarning
from rehabstats.models._design import has_missing
from rehabstats.models._lmm import lmm
from rehabstats.models._mmrm import MMRMResult, mmrm

KW: dict[str, Any] = {"subject": "pid", "visit": "visit"}


def _trial(n: int = 12) -> pd.DataFrame:
    """``n`` participants x 3 visits, two arms, a baseline, weights and numeric times."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n):
        arm = "exercise" if i % 2 else "usual"
        u = rng.normal()
        base = round(30 + u + rng.normal(0, 0.5), 2)
        for j, (visit, t) in enumerate((("week0", 0.0), ("week4", 4.0), ("week12", 12.0))):
            slope = 0.3 if arm == "exercise" else 0.05
            rows.append(
                {
                    "pid": f"p{i:02d}",
                    "group": arm,
                    "visit": visit,
                    "weeks": t,
                    "base": base,
                    "w": 1.0 + 0.5 * ((3 * i + j) % 3),
                    "score": round(30 + u + slope * t + rng.normal(0, 0.7), 2),
                }
            )
    return pd.DataFrame(rows)


D = _trial()


@pytest.fixture(scope="module")
def gw_fit() -> MMRMResult:
    return mmrm("score ~ base + group * visit", D, **KW, group="group", weights="w")


# ------------------------------------------------------------------ mmrm() keywords
@pytest.mark.parametrize("fit", [mmrm, lmm])
def test_nullable_int_covariate_with_na_drops_the_row(fit: Any) -> None:
    """``has_missing`` took pandas' Int64 (dtype kind "i") for a numpy int that cannot be
    missing: the pd.NA row reached patsy ("boolean value of NA is ambiguous")."""
    d = D.assign(b=pd.array(np.round(D["base"]).astype(int), dtype="Int64"))
    d.loc[4, "b"] = pd.NA
    assert has_missing(d, ["b"])
    assert has_missing(pd.DataFrame({"x": pd.array([True, None], dtype="boolean")}), ["x"])
    assert not has_missing(pd.DataFrame({"x": [1, 2]}), ["x"])
    kw = KW if fit is mmrm else {"subject": "pid"}
    with pytest.warns(RehabStatsWarning, match=r"1 row\(s\) with a missing value"):
        got = fit("score ~ b + group * visit", d, **kw)
    plain = d.drop(index=4).astype({"b": float})
    want = fit("score ~ b + group * visit", plain, **kw)
    assert got.nobs == len(d) - 1
    np.testing.assert_allclose(got.beta, want.beta, rtol=1e-8)


@pytest.mark.parametrize(
    ("column", "kw"),
    [
        ("w", {"weights": "w"}),
        ("weeks", {"covariance": "sp_exp", "time": "weeks"}),
        ("base", {"baseline": "base", "formula": "score ~ base + group * visit"}),
    ],
)
def test_an_all_missing_column_is_named(column: str, kw: dict[str, Any]) -> None:
    """All rows dropped for a missing weight/time/baseline: the error blamed the outcome
    ("No rows with an observed 'score' remain")."""
    kw = dict(kw)
    formula = kw.pop("formula", "score ~ group * visit")
    d = D.assign(**{column: np.nan})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        with pytest.raises(DataError, match=rf"column\(s\) '{column}' hold no observed value"):
            mmrm(formula, d, **KW, **kw)


def test_all_missing_outcome_is_named() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        with pytest.raises(DataError, match=r"column\(s\) 'score' hold no observed value"):
            mmrm("score ~ group * visit", D.assign(score=np.nan), **KW)


def test_a_single_subject_is_named() -> None:
    one = D[D["pid"] == "p00"]
    for kw in ({}, {"group": "group"}):
        with pytest.raises(DesignError, match=r"single subject \('p00', column 'pid'\)"):
            mmrm("score ~ visit", one, **KW, **kw)


@pytest.mark.parametrize("name", ["accept_singular", "drop_visit_levels"])
def test_flag_errors_show_python_values(name: str) -> None:
    with pytest.raises(DataError, match=rf"'{name}' argument must be True or False; got 1\.$"):
        mmrm("score ~ group * visit", D, **KW, **{name: np.int64(1)})


def test_overflowing_start_values_raise_without_a_runtime_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(DataError, match="At the start values"):
            mmrm("score ~ group * visit", D, **KW, covariance="cs", start=[1e300, 1e300])


@pytest.mark.parametrize("cov", ["us", "cs", "ar1"])
def test_std_start_with_group(cov: str) -> None:
    """``start="std"`` with ``group=`` asked for the start values of one Sigma over
    groups x visits points (21 numbers for 2 x 3 'us' visits instead of 12)."""
    ref = mmrm("score ~ group * visit", D, **KW, group="group", covariance=cov)
    got = mmrm("score ~ group * visit", D, **KW, group="group", covariance=cov, start="std")
    assert got.converged
    assert got.loglik == pytest.approx(ref.loglik, abs=1e-6)


def test_callable_start_gets_visits_and_groups() -> None:
    """mmrm's keywords: ``n_visits`` per group and ``n_groups`` (was 6 and 1)."""
    seen: dict[str, Any] = {}

    def start(**kw: Any) -> np.ndarray:
        seen.update(kw)
        return np.zeros(12)

    fit = mmrm("score ~ group * visit", D, **KW, group="group", start=start)
    assert (seen["cov_type"], seen["n_visits"], seen["n_groups"]) == ("us", 3, 2)
    assert fit.converged
    with pytest.raises(DataError, match="12 finite numbers .* over 3 visits in each of 2 groups"):
        mmrm("score ~ group * visit", D, **KW, group="group", start=[0.0] * 6)


# ------------------------------------------------------------------ the fit's methods
def test_tidy_names_conf_level_and_shows_python_values(gw_fit: MMRMResult) -> None:
    with pytest.raises(DataError, match="'conf_level' argument is the confidence level"):
        gw_fit.tidy(conf_level=1.5)
    with pytest.raises(DataError, match=r"'conf_int' argument must be True or False; got 1\.$"):
        gw_fit.tidy(conf_int=np.int64(1))
    tab = gw_fit.tidy(conf_level=np.float64(0.9))
    np.testing.assert_allclose(tab["conf.low"], gw_fit.coef(ci=0.9)["ci_low"])


def _at_row0(column: str, value: Any) -> pd.DataFrame:
    out = D.copy()
    out[column] = out[column].astype(object)
    out.loc[0, column] = value
    return out.infer_objects()


NEWDATA_CASES = {
    "score=inf": (
        _at_row0("score", np.inf),
        r"Column 'score' \('newdata'\) holds an infinite value",
    ),
    "score=string": (
        _at_row0("score", "x"),
        r"Column 'score' \('outcome'\) must be numeric; found 'x'",
    ),
    "base=-inf": (
        _at_row0("base", -np.inf),
        r"Column 'base' \('newdata'\) holds an infinite value",
    ),
    "base=1e300": (
        D.assign(base=D["base"] * 1e300),
        r"Column 'base' \('newdata'\) holds values of magnitude",
    ),
    "base=string": (
        _at_row0("base", "x"),
        r"Column 'base' \('newdata'\) must be numeric; found 'x'",
    ),
    "base=bool": (
        D.assign(base=D["visit"] == "week0"),
        r"Column 'base' of 'newdata' must be numeric, as in the fit; .*bool",
    ),
    "base=categorical": (
        D.assign(base=pd.Categorical(D["base"])),
        r"Column 'base' of 'newdata' must be numeric, as in the fit; .*category",
    ),
    "base=Float64 NA": (
        _at_row0("base", pd.NA).astype({"base": "Float64"}),
        r"Column 'base' of 'newdata' has a missing value in row 0",
    ),
    "group=None": (
        _at_row0("group", None),
        r"Column 'group' of 'newdata' has a missing value in row 0",
    ),
}


@pytest.mark.parametrize("case", list(NEWDATA_CASES))
@pytest.mark.parametrize("method", ["augment", "predict", "simulate"])
def test_newdata_columns_are_checked(gw_fit: MMRMResult, method: str, case: str) -> None:
    """Before: an infinite outcome or covariate gave inf/NaN predictions and residuals
    silently, a string outcome became NaN, a boolean, string or Categorical covariate
    reached patsy (AttributeError, TypeError), a missing covariate gave patsy's message."""
    new, pattern = NEWDATA_CASES[case]
    new = new.copy()
    before = new.copy()
    kw = {"method": "conditional", "rng": 1} if method == "simulate" else {}
    with pytest.raises(DataError, match=pattern):
        getattr(gw_fit, method)(newdata=new, **kw)
    pd.testing.assert_frame_equal(new, before)


def test_newdata_nullable_and_object_numbers_equal_floats(gw_fit: MMRMResult) -> None:
    ref = gw_fit.augment(D, interval="prediction")
    for dtype in ("Float64", object):
        new = D.astype({"score": dtype, "base": dtype})
        got = gw_fit.augment(new, interval="prediction")
        for col in (".fitted", ".resid", ".pearson", ".se.fit"):
            np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float))
    gaps = D.astype({"score": "Float64"})
    gaps.loc[[0, 5], "score"] = pd.NA
    aug = gw_fit.augment(gaps)
    assert aug[".resid"].isna().sum() == 2
    assert np.isfinite(aug[".fitted"]).all()


def test_empty_newdata_is_named(gw_fit: MMRMResult) -> None:
    with pytest.raises(DataError, match="'newdata' has no rows"):
        gw_fit.augment(D.iloc[:0])


def test_marginal_effect_rejects_the_visit_as_arm(gw_fit: MMRMResult) -> None:
    """``arm=<visit column>`` returned a table of NaN without a warning."""
    with pytest.raises(DataError, match="'arm' must name the treatment factor.*'visit'"):
        gw_fit.marginal_effect(arm="visit")


def test_simulate_refuses_an_impossible_size(gw_fit: MMRMResult) -> None:
    """``n=10**9`` tried to allocate 268 GiB (MemoryError)."""
    with pytest.raises(DataError, match=re.escape("at most 1e+08 simulated values")):
        gw_fit.simulate(10**9)
    with pytest.raises(DataError, match=r"positive integer; got 2\.0\.$"):
        gw_fit.simulate(np.float64(2.0))


@pytest.mark.parametrize("fit", [mmrm, lmm])
def test_data_and_formula_swapped_is_named_not_printed(fit: Any) -> None:
    """ancova() takes the data first, mmrm() and lmm() the formula first (as R): a
    swapped call says so in one line instead of printing the whole frame."""
    df = _trial()
    before = df.copy()
    with pytest.raises(DataError, match=r"got a DataFrame\. The formula comes first") as err:
        fit(df, "y ~ arm * visit", subject="subject", visit="visit")
    assert f"{fit.__name__}('chg ~ arm * visit', data, ...)" in str(err.value)
    assert "\n" not in str(err.value)
    pd.testing.assert_frame_equal(df, before)
