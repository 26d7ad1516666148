"""The shared model front end (models/_design.py): lmm() and mmrm() check input alike.

The same bad input gets the same exception and message from both models; the
design both build from good input holds the same rows, outcome, design matrix and
codes; ``nan_policy`` works the same for both.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

import rehabstats.models as rsm
from rehabstats.errors import DataError, DesignError, RehabStatsWarning
from rehabstats.models._design import (
    ModelDesign,
    formula_parts,
    lmm_design,
    mmrm_design,
    rhs_columns,
)


def trial(
    n_per_arm: int = 6, visits: tuple[str, ...] = ("pre", "post", "fu"), seed: int = 11
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 2 * n_per_arm
    d = pd.DataFrame(
        {
            "subject": np.repeat([f"S{i:02d}" for i in range(n)], len(visits)),
            "arm": np.repeat(["control"] * n_per_arm + ["cimt"] * n_per_arm, len(visits)),
            "visit": np.tile(list(visits), n),
            "age": np.repeat(rng.uniform(40, 80, n), len(visits)),
        }
    )
    d["y"] = (
        rng.normal(size=len(d))
        + np.repeat(rng.normal(size=n), len(visits))
        + np.tile(np.arange(len(visits)), n) * 0.5
    )
    return d


def _fit_lmm(formula: str, d: pd.DataFrame, **kw: object) -> object:
    return rsm.lmm(formula, d, subject="subject", visit="visit", **kw)


def _fit_mmrm(formula: str, d: pd.DataFrame, **kw: object) -> object:
    return rsm.mmrm(formula, d, subject="subject", visit="visit", **kw)


FITS = [pytest.param(_fit_lmm, id="lmm"), pytest.param(_fit_mmrm, id="mmrm")]


def _error(fit: object, formula: str, d: pd.DataFrame, **kw: object) -> BaseException:
    before = d.copy()
    with pytest.raises((DataError, DesignError)) as info:
        fit(formula, d, **kw)  # type: ignore[operator]
    pd.testing.assert_frame_equal(d, before)  # input never modified
    return info.value


# ------------------------------------------------------------------ same errors
@pytest.mark.parametrize(
    ("formula", "column"),
    [
        ("y ~ arm * visit + dose", "'dose'"),
        ("score ~ arm * visit", "'score'"),
    ],
)
def test_missing_column_same_error(formula: str, column: str) -> None:
    d = trial()
    errs = [_error(f, formula, d) for f in (_fit_lmm, _fit_mmrm)]
    assert type(errs[0]) is type(errs[1]) is DataError
    assert str(errs[0]) == str(errs[1])
    assert column in str(errs[0])
    assert "Available columns" in str(errs[0])


def test_string_outcome_same_error() -> None:
    d = trial()
    d["y"] = d["y"].astype(object)
    d.loc[4, "y"] = "n/a"
    errs = [_error(f, "y ~ arm * visit", d) for f in (_fit_lmm, _fit_mmrm)]
    assert str(errs[0]) == str(errs[1])
    assert re.search(r"'y'.*\('outcome'\) must be numeric; found 'n/a' in row 4", str(errs[0]))


@pytest.mark.parametrize("column", ["arm", "visit"])
def test_labels_with_stray_spaces_same_error(column: str) -> None:
    d = trial()
    first = d.loc[0, column]
    d.loc[d["subject"] == "S00", column] = (
        f"{first} " if column == "arm" else d.loc[d["subject"] == "S00", column] + " "
    )
    errs = [_error(f, "y ~ arm * visit", d) for f in (_fit_lmm, _fit_mmrm)]
    assert type(errs[0]) is type(errs[1]) is DataError
    assert str(errs[0]) == str(errs[1])
    assert (
        f"Column {column!r} has labels that differ only in case or surrounding whitespace"
        in str(errs[0])
    )


def test_arm_level_with_one_subject_same_error() -> None:
    d = trial()
    d.loc[d["subject"] == "S00", "arm"] = "solo"
    errs = [_error(f, "y ~ arm * visit", d) for f in (_fit_lmm, _fit_mmrm)]
    assert type(errs[0]) is type(errs[1]) is DesignError
    assert str(errs[0]) == str(errs[1])
    assert "Level 'solo' of the between-subject factor 'arm' has a single subject" in str(errs[0])


def test_bad_formula_same_error() -> None:
    d = trial()
    errs = [_error(f, "y arm", d) for f in (_fit_lmm, _fit_mmrm)]
    assert str(errs[0]) == str(errs[1])
    assert "'formula'" in str(errs[0])


def test_baseline_varying_within_subject_same_error() -> None:
    d = trial()
    d.loc[1, "age"] += 1.0  # subject S00 gets two ages
    errs = [_error(f, "y ~ age + arm * visit", d, baseline="age") for f in (_fit_lmm, _fit_mmrm)]
    assert str(errs[0]) == str(errs[1])
    assert "must hold one value per subject; subject 'S00' has several" in str(errs[0])


def test_unknown_reference_same_error() -> None:
    d = trial()
    errs = [_error(f, "y ~ arm * visit", d, reference="sham") for f in (_fit_lmm, _fit_mmrm)]
    assert str(errs[0]) == str(errs[1])
    assert "'sham' is not a level of column 'arm'" in str(errs[0])


def test_subject_with_a_visit_twice() -> None:
    """mmrm() refuses a repeated subject-visit pair; lmm() keeps it as a replicate
    (documented) and says so."""
    d = trial()
    d = pd.concat([d, d.iloc[[1]]], ignore_index=True)
    err = _error(_fit_mmrm, "y ~ arm * visit", d)
    assert str(err) == (
        "Subject 'S00' has visit 'post' listed 2 times; each subject needs at "
        "most one row per visit (column 'visit')."
    )
    with pytest.warns(RehabStatsWarning, match=r"1 row\(s\) repeat a subject-visit"):
        fit = _fit_lmm("y ~ arm * visit", d)
    assert fit.nobs == len(d)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ nan_policy
@pytest.mark.parametrize("fit", FITS)
def test_nan_policy_omit_and_raise(fit: object) -> None:
    d = trial()
    d.loc[[2, 7], "y"] = np.nan
    d.loc[10, "age"] = np.nan
    with pytest.warns(RehabStatsWarning, match=r"3 row\(s\) with a missing value"):
        res = fit("y ~ age + arm * visit", d)  # type: ignore[operator]
    assert res.n_omitted == 3
    assert res.nobs == len(d) - 3
    complete = fit("y ~ age + arm * visit", d.drop(index=[2, 7, 10]))  # type: ignore[operator]
    np.testing.assert_allclose(res.beta, complete.beta, rtol=1e-8, atol=1e-10)
    err = _error(fit, "y ~ age + arm * visit", d, nan_policy="raise")
    assert "3 row(s) with a missing value" in str(err)
    assert "nan_policy='raise'" in str(err)
    err = _error(fit, "y ~ age + arm * visit", d, nan_policy="drop")
    assert "nan_policy" in str(err)


@pytest.mark.parametrize("fit", FITS)
def test_a_row_missing_two_values_is_one_row_omitted(fit: object) -> None:
    """The warning counts rows (a row missing the outcome and a covariate is one row)."""
    d = trial()
    d.loc[2, ["y", "age"]] = np.nan
    with pytest.warns(RehabStatsWarning, match=r"^1 row\(s\) with a missing value in one of"):
        res = fit("y ~ age + arm * visit", d)  # type: ignore[operator]
    assert res.n_omitted == 1


def test_lmm_nan_policy_same_message_as_mmrm_for_outcome() -> None:
    d = trial()
    d.loc[[2, 7], "y"] = np.nan
    for fit in (_fit_lmm, _fit_mmrm):
        with pytest.raises(
            DataError, match=r"2 row\(s\) with a missing value in .*nan_policy='raise'"
        ):
            fit("y ~ arm * visit", d, nan_policy="raise")


# ------------------------------------------------------------------ the design itself
def test_lmm_and_mmrm_designs_agree() -> None:
    d = trial()
    d.loc[[5], "y"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        a = mmrm_design("y ~ age + arm * visit", d, subject="subject", visit="visit")
        b = lmm_design("y ~ age + arm * visit", d, subject="subject", visit="visit")
    assert isinstance(a, ModelDesign)
    assert isinstance(b, ModelDesign)
    assert a.coef_names == b.coef_names
    assert {"(Intercept)", "age", "armcimt", "armcimt:visitfu"} <= set(a.coef_names)
    assert_array_equal(a.X, b.X)
    assert_array_equal(a.y, b.y)
    assert_array_equal(a.subject_codes, b.subject_codes)
    assert_array_equal(a.visit_codes, b.visit_codes)  # type: ignore[arg-type]
    assert a.visit_levels == b.visit_levels == ["pre", "post", "fu"]
    assert a.arm == b.arm == "arm"
    assert a.reference == b.reference == "control"
    assert a.n_omitted == b.n_omitted == 1
    assert a.nobs == len(d) - 1
    assert a.n_subjects == b.n_subjects == 12
    assert a.baseline_candidates == b.baseline_candidates == ("age",)
    # the visit is the ordered factor of the rows; the input is untouched
    assert list(a.frame["visit"].cat.categories) == ["pre", "post", "fu"]
    assert not isinstance(d["visit"].dtype, pd.CategoricalDtype)


def test_design_codes_follow_rows() -> None:
    d = trial().sample(frac=1.0, random_state=3)
    design = mmrm_design(
        "y ~ arm * visit", d, subject="subject", visit="visit", visit_order=["pre", "post", "fu"]
    )
    levels = design.visit_levels
    assert levels is not None
    assert design.visit_codes is not None
    assert [levels[c] for c in design.visit_codes] == list(design.frame["visit"].astype(str))
    subj = design.frame["subject"].to_numpy()
    for code in range(design.n_subjects):
        assert len(set(subj[design.subject_codes == code])) == 1


def test_formula_helpers() -> None:
    assert formula_parts(" y ~ a + b ") == ("y", "a + b")
    d = pd.DataFrame({"y": [1.0], "a": ["x"], "b c": [2.0], "t": [1.0]})
    assert rhs_columns("a + Q('b c') + bs(t, df=3)", d) == ["a", "b c", "t"]
    with pytest.raises(DataError, match=r"'zz', which are not in the data"):
        rhs_columns("a + zz", d)
    with pytest.raises(DataError, match="Cannot parse the formula terms"):
        rhs_columns("a + (", d)


def test_design_is_reused_by_the_fits() -> None:
    """The fits use exactly the design's matrix and rows (design -> fit -> assemble)."""
    d = trial()
    design = mmrm_design("y ~ arm * visit", d, subject="subject", visit="visit")
    fit = rsm.mmrm("y ~ arm * visit", d, subject="subject", visit="visit")
    assert fit.coef_names == design.coef_names
    assert_array_equal(fit._fit_design(), design.X)
    pd.testing.assert_frame_equal(fit.frame, design.frame)


@pytest.mark.parametrize("fit", FITS)
def test_stateful_transform_uses_the_rows_of_each_fit(fit: object) -> None:
    """center(age) centres on the rows of the fit, also after a fit on other data
    with the same columns (the design cache must not reuse the first fit's mean)."""
    d = trial()
    fit("y ~ arm + center(age) + visit", d)  # type: ignore[operator]
    sub = d[d["subject"] != "S03"].reset_index(drop=True)
    res = fit("y ~ arm + center(age) + visit", sub)  # type: ignore[operator]
    sub = sub.assign(agec=sub["age"] - sub["age"].mean())
    ref = fit("y ~ arm + agec + visit", sub)  # type: ignore[operator]
    np.testing.assert_allclose(res.beta, ref.beta, rtol=1e-8, atol=1e-10)
