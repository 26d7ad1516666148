"""MMRM on mmrm's ``fev_data`` against the SAS PROC MIXED values in mmrm's own tests.

Fixture: ``tests/reference/mmrm13/sas_fev.json`` (written by
``make_sas_fixture.py`` from openpharma/mmrm 0.3.18 ``tests/testthat``; every
value carries its source file and line). Each check uses mmrm's tolerance and
mmrm's (testthat 3e / waldo) rule: ``mean(|x - y|) / mean(|y|) < tol``.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import load_json

from models._mmrm13_helpers import fev_data
from rehabstats.errors import RehabStatsWarning
from rehabstats.models._mmrm import MMRMResult, mmrm

HERE = Path(__file__).resolve().parent
FIXTURE = load_json(HERE.parent / "reference" / "mmrm13" / "sas_fev.json")
CASES = [c for c in FIXTURE["cases"] if "_pred_" not in c["id"]]
_FITS: dict[tuple[Any, ...], MMRMResult] = {}


def fit_case(vdir: Path, case: dict[str, Any]) -> MMRMResult:
    key = (case["rhs"], case["cov"], case["reml"], case.get("time"))
    if key not in _FITS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RehabStatsWarning)  # rows with missing FEV1
            kw = {"time": case["time"]} if case.get("time") else {}
            _FITS[key] = mmrm(f"FEV1 ~ {case['rhs']}", fev_data(vdir), subject="USUBJID",
                              visit="AVISIT", covariance=case["cov"], reml=case["reml"], **kw)
    return _FITS[key]


def mean_rel_diff(x: np.ndarray, y: np.ndarray, tol: float) -> float:
    """testthat 3e / waldo ``num_equal``: mean |x - y| over mean |y| (if above tol)."""
    diff = float(np.mean(np.abs(x - y)))
    scale = float(np.mean(np.abs(y)))
    return diff / scale if math.isfinite(scale) and scale > tol else diff


def _map_to_cor(t: np.ndarray) -> np.ndarray:
    return t / np.sqrt(1 + t * t)


def quantity(fit: MMRMResult, name: str) -> np.ndarray:
    th = np.asarray(fit.theta)
    sigma = fit.covariance_matrix.to_numpy()
    m = sigma.shape[0]
    if name == "deviance":
        return np.array([-2 * fit.loglik])
    if name == "se_beta1":
        return np.array([math.sqrt(fit.vcov().to_numpy()[0, 0])])
    if name == "beta":
        return np.asarray(fit.beta)
    if name == "beta1":
        return np.asarray(fit.beta[:1])
    if name == "theta":
        return th
    if name == "cov_lower_tri":  # R's column-major lower.tri order
        cols, rows = np.triu_indices(m, 1)
        return sigma[rows, cols]
    if name == "cov_diag":
        return np.diag(sigma)
    if name == "cov_diag1":
        return np.diag(sigma)[:1]
    if name == "adh_theta_sas":  # SAS variances and lag-1 correlations, mapped to mmrm's theta
        return th
    if name == "plogis_theta2_pow2":
        return np.array([(1 / (1 + math.exp(-th[1]))) ** 2])
    if name == "sp_gau_range":
        return np.array([math.sqrt(-1 / math.log(1 / (1 + math.exp(-th[1]))))])
    mt = re.fullmatch(r"(exp_theta|map_to_cor_theta|map_to_cs_cor_theta)\[(\d+)(?:\.\.(\d+))?\]",
                      name)
    if mt:
        lo, hi = int(mt.group(2)), int(mt.group(3) or mt.group(2))
        t = th[lo - 1:hi]
        if mt.group(1) == "exp_theta":
            return np.exp(t)
        if mt.group(1) == "map_to_cor_theta":
            return _map_to_cor(t)
        return 1 / (1 + np.exp(-t)) * (m / (m - 1)) - 1 / (m - 1)
    mk = re.fullmatch(r"(krl?)_(se|df)", name)
    if mk:
        method = "kenward-roger-linear" if mk.group(1) == "krl" else "kenward-roger"
        row = fit.coef(df_method=method).set_index("term").loc["ARMCDTRT"]
        return np.array([row[mk.group(2)]])
    raise KeyError(name)


def expected(check: dict[str, Any]) -> np.ndarray:
    exp = np.asarray(check["expected"], dtype=float)
    if check["quantity"] == "adh_theta_sas":  # mmrm's test maps SAS values the same way
        var, rho = exp[:4], exp[4:]
        return np.concatenate([np.log(np.sqrt(var)), rho / np.sqrt(1 - rho * rho)])
    return exp


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_against_sas_values_in_mmrm_tests(validation_dir: Path, case: dict[str, Any]) -> None:
    fit = fit_case(validation_dir, case)
    assert fit.converged
    for check in case["checks"]:
        ours = quantity(fit, check["quantity"])
        ref = expected(check)
        assert ours.shape == ref.shape, check
        d = mean_rel_diff(ours, ref, check["tolerance"])
        # mmrm's own tolerance, stated per value in the fixture (source: check["source"])
        assert d < check["tolerance"], (case["id"], check["quantity"], check["source"], ours, ref, d)


def test_fixture_covers_the_new_structures() -> None:
    covs = {c["cov"] for c in CASES}
    assert {"ad", "adh", "sp_exp", "sp_gau"} <= covs
    assert sum(len(c["checks"]) for c in CASES) >= 100


NLME = load_json(HERE.parent / "reference" / "mmrm13" / "nlme_spatial.json")["fits"]


@pytest.mark.parametrize("ref", NLME, ids=[f"{r['cov']}-{r['time']}-{'reml' if r['reml'] else 'ml'}"
                                           for r in NLME])
def test_spatial_against_nlme_gls(validation_dir: Path, ref: dict[str, Any]) -> None:
    """sp_exp = nlme corExp, sp_gau = corGaus (nlme_spatial.R), incl. subject-specific times."""
    d = fev_data(validation_dir)
    num = d["USUBJID"].astype(str).str.replace("PT", "").astype(int)
    d["TSHIFT"] = d["VISITN"] + (num % 3 - 1) * 0.25
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        fit = mmrm("FEV1 ~ ARMCD", d, subject="USUBJID", visit="AVISIT", covariance=ref["cov"],
                   reml=ref["reml"], time=ref["time"])
    assert fit.converged
    assert fit.nobs == ref["nobs"]
    assert len(fit.covariance_matrix) == (4 if ref["time"] == "VISITN" else 12)
    # REML/ML fits: 1e-5 relative on the parameters, 1e-8 on the log-likelihood
    np.testing.assert_allclose(fit.loglik, ref["loglik"], rtol=1e-8)
    np.testing.assert_allclose(fit.beta, ref["coef"], rtol=1e-5)
    se = np.sqrt(np.diag(fit.vcov().to_numpy()))
    if not ref["reml"]:  # nlme's ML vcov(gls) is scaled by N / (N - p); mmrm's (and ours) is not
        se = se * math.sqrt(fit.nobs / (fit.nobs - len(fit.beta)))
    np.testing.assert_allclose(se, ref["se"], rtol=1e-5)
    np.testing.assert_allclose(math.exp(fit.theta[0]), ref["sigma2"], rtol=1e-5)
    np.testing.assert_allclose(1 / (1 + math.exp(-fit.theta[1])), ref["rho"], rtol=1e-5)
