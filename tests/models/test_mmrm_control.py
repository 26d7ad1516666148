"""MMRM fit control, Satterthwaite df with a sandwich covariance, marginal effects, broom tables.

References (``tests/reference/mmrm_ctl/``):

- ``mmrm_satterthwaite_empirical.json``: values of mmrm 0.3.18's
  ``tests/testthat/test-satterthwaite.R`` (source lines in the file), at mmrm's
  tolerances;
- ``clubsandwich_empirical.json`` (``clubsandwich_empirical.R``): nlme::gls +
  clubSandwich CR0/CR2/CR3 and their Satterthwaite df, the peer mmrm's own
  ``test-empirical.R`` uses (1e-4; 1e-3 for the CR2 covariance, as there);
- ``emmeans_marginal.json`` (``emmeans_marginal.R``): emmeans on nlme::gls for
  ``marginal_effect``.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import load_json
from hypothesis import given, settings
from hypothesis import strategies as st

from models._mmrm13_helpers import fev_data
from rehabstats.errors import DesignError, RehabStatsWarning
from rehabstats.models._mmrm import MMRMResult, mmrm

HERE = Path(__file__).resolve().parent
REF = HERE.parent / "reference" / "mmrm_ctl"
_FITS: dict[tuple[Any, ...], MMRMResult] = {}


def rel(x: Any, y: Any) -> float:
    """mmrm's testthat rule: mean |x - y| / mean |y|."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.mean(np.abs(x - y)) / np.mean(np.abs(y)))


def fev_fit(validation_dir: Path, rhs: str, data: str = "observed", **kw: Any) -> MMRMResult:
    key = (rhs, data, tuple(sorted(kw.items())))
    if key not in _FITS:
        d = fev_data(validation_dir)
        if data == "complete":
            d = d.dropna().reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RehabStatsWarning)
            _FITS[key] = mmrm(f"FEV1 ~ {rhs}", d, subject="USUBJID", visit="AVISIT", **kw)
    return _FITS[key]


# ---------------------------------------------------------------------- empirical Satterthwaite
def test_empirical_satterthwaite_matches_mmrm_tests(validation_dir: Path) -> None:
    ref = load_json(REF / "mmrm_satterthwaite_empirical.json")
    fit = fev_fit(validation_dir, ref["rhs"], covariance=ref["cov"], vcov=ref["vcov"])
    assert fit.df_methods[0] == "satterthwaite"
    one = fit.test(ref["one_d"]["contrast"])
    tol = ref["one_d"]["tolerance"]
    assert rel(one["estimate"], ref["one_d"]["est"]) < tol
    assert rel(one["se"], ref["one_d"]["se"]) < tol
    assert rel(one["t"], ref["one_d"]["t_stat"]) < tol
    assert round(float(one["df"].iloc[0])) == ref["one_d"]["df_rounded"]
    L = np.zeros((2, len(fit.beta)))
    for i, j in enumerate(ref["multi_d"]["contrast_unit_columns"]):
        L[i, j] = 1.0
    md = fit.test(L)
    assert float(md["num_df"].iloc[0]) == ref["multi_d"]["num_df"]
    assert round(float(md["den_df"].iloc[0])) == ref["multi_d"]["denom_df_rounded"]
    assert rel(md["F"], ref["multi_d"]["f_stat"]) < ref["multi_d"]["tolerance"]


CS = load_json(REF / "clubsandwich_empirical.json")["cases"]


@pytest.mark.parametrize("case", CS, ids=[c["id"] for c in CS])
@pytest.mark.parametrize("kind", ["empirical", "empirical-jackknife", "empirical-bias-reduced"])
def test_empirical_vs_clubsandwich(validation_dir: Path, case: dict[str, Any], kind: str) -> None:
    ref = case["results"][kind]
    fit = fev_fit(validation_dir, case["rhs"], case["rows"], covariance=case["cov"], vcov=kind)
    tab = fit.coef()
    assert list(tab["term"]) == ref["terms"]
    # mmrm's test-empirical.R: 1e-4 (CR2 covariance 1e-3: clubSandwich's CR2 adjusts with
    # the target's square root, mmrm with the pseudo-inverse square root of I - H_ii)
    assert rel(fit.vcov().to_numpy().ravel(order="F"), ref["vcov"]) < (
        1e-3 if kind == "empirical-bias-reduced" else 1e-4)
    assert rel(tab["df"], ref["df"]) < 1e-4
    assert rel(tab["estimate"], ref["estimate"]) < 1e-5


def test_empirical_satterthwaite_anova_and_contrasts(validation_dir: Path) -> None:
    fit = fev_fit(validation_dir, "RACE + SEX + ARMCD * AVISIT", covariance="us",
                  vcov="empirical")
    an = fit.anova()
    assert np.all(np.isfinite(an["den_df"])) and np.all(an["den_df"] > 2)
    con = fit.contrasts("ARMCD", by="AVISIT", method="trt.vs.ctrl")
    # a one-row contrast: its df equals the F test of the same row (1-d rule of the md test)
    row = fit._contrast_rows(np.eye(len(fit.beta))[3])
    assert math.isclose(fit.test(row)["df"].iloc[0], fit.coef()["df"].iloc[3], rel_tol=1e-12)
    assert np.all(con["df"] < fit.nobs)
    # the model-based Satterthwaite df differ (a different variance and distribution)
    mb = fev_fit(validation_dir, "RACE + SEX + ARMCD * AVISIT", covariance="us")
    assert not np.allclose(mb.coef()["df"], fit.coef()["df"], rtol=1e-3)


def test_empirical_kenward_roger_rejected(validation_dir: Path) -> None:
    d = fev_data(validation_dir)
    with pytest.raises(DesignError, match="Kenward-Roger"):
        mmrm("FEV1 ~ ARMCD", d, subject="USUBJID", visit="AVISIT", vcov="empirical",
             df_method="kenward-roger")


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1),
       kind=st.sampled_from(["empirical", "empirical-jackknife", "empirical-bias-reduced"]))
def test_empirical_df_invariant_to_subject_relabelling(seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    n_sub, visits = 24, ["v1", "v2", "v3"]
    d = pd.DataFrame({"subject": np.repeat([f"s{i}" for i in range(n_sub)], 3),
                      "visit": np.tile(visits, n_sub),
                      "arm": np.repeat(rng.permutation(["a", "b"] * (n_sub // 2)), 3),
                      "x": np.repeat(rng.normal(size=n_sub), 3)})
    d["y"] = d["x"] + rng.normal(size=n_sub).repeat(3) + rng.normal(size=len(d))
    d = d.drop(index=rng.choice(len(d), 6, replace=False)).reset_index(drop=True)
    fit = mmrm("y ~ x + arm * visit", d, subject="subject", visit="visit", covariance="cs",
               vcov=kind)
    perm = rng.permutation(n_sub)
    relab = d.assign(subject=d["subject"].map({f"s{i}": f"t{perm[i]}" for i in range(n_sub)}))
    relab = relab.sample(frac=1.0, random_state=seed % 1000).reset_index(drop=True)
    fit2 = mmrm("y ~ x + arm * visit", relab, subject="subject", visit="visit",
                covariance="cs", vcov=kind)
    np.testing.assert_allclose(fit2.coef()["df"], fit.coef()["df"], rtol=1e-6)
    np.testing.assert_allclose(fit2.anova()["den_df"], fit.anova()["den_df"], rtol=1e-6)
