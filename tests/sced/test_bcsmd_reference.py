"""rs.sced.bc_smd / bc_smd_hps against R's scdhlm 0.7.4 (lmeInfo 0.3.2, nlme 3.1-162).

Targets: ../shared/validation/bcsmd/reference/*.json (read through the
``validation_dir`` fixture; 23 published data sets, 179 records) and
tests/reference/bcsmd/lme_extra.json (MA(1), varIdent and explicit A/B fits,
written by make_lme_extra.R beside it).

* Moment estimators (``effect_size_MB``/``effect_size_ABk``): every output at
  1e-8 relative (closed forms).
* REML (``calc_BCSMD``, ``g_mlm``): where nlme converged and reached the REML
  maximum we reach too, g_AB and its SE to 1e-4 absolute, the CI limits to 1e-4
  (relative when |limit| > 1: with nu near 2 the t quantile amplifies), nu to 1e-3
  relative and phi, rho to 1e-3 (nu is a ratio of information-matrix terms; on flat likelihoods
  nlme's own tolerance moves it in the 4th digit), the default A/B exactly.
  Where our optimiser reaches a higher REML likelihood than nlme (nlme stopped
  early, or a non-converged fit), we assert the higher likelihood instead;
  we never end below nlme's optimum (1e-6).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, VALIDATION_DIR, load_json

import rehabstats as rs
from rehabstats.sced import _bcsmd

REF = "bcsmd/reference"
EXTRA = REFERENCE_DIR / "bcsmd" / "lme_extra.json"

# scdhlm's published checks (tests/testthat/test-HPS-effect-sizes.R and
# test-calc_BCSMD.R of jepusto/scdhlm, printed to 7 significant digits)
PUBLISHED_HPS = {
    "Lambert__disruptive_behavior__effect_size_ABk": (-2.513073, 0.04054616),
    "Anglesea__effect_size_ABk": (1.149507, None),
    "Saddler__writing_quality__effect_size_MB": (1.963073, None),
    "Laski__effect_size_MB": (1.388385, None),
}


def _records(function: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    ref_dir = VALIDATION_DIR / REF
    if not ref_dir.is_dir():
        return out
    for path in sorted(ref_dir.glob("*.json")):
        for rec in load_json(path):
            if rec["function"] == function:
                out.append((path.stem, rec["record_id"]))
    return out


_CACHE: dict[str, list[dict[str, Any]]] = {}


def _get(validation_dir: Path, dataset: str, record_id: str) -> dict[str, Any]:
    if dataset not in _CACHE:
        _CACHE[dataset] = load_json(validation_dir / REF / f"{dataset}.json")
    return next(r for r in _CACHE[dataset] if r["record_id"] == record_id)


# ---------------------------------------------------------------------------
# moment estimators
# ---------------------------------------------------------------------------

HPS_FIELDS = {
    "estimate": "delta_hat",
    "variance": "V_delta_hat",
    "df": "nu",
    "rho": "rho",
    "phi": "phi",
    "delta_unadjusted": "delta_hat_unadj",
    "d_bar": "D_bar",
    "s_sq": "S_sq",
    "sigma_sq_w": "sigma_sq_w",
    "kappa": "theta",
}


@pytest.mark.parametrize(
    ("dataset", "record_id"), _records("effect_size_MB") + _records("effect_size_ABk")
)
def test_hps_matches_scdhlm(validation_dir: Path, dataset: str, record_id: str) -> None:
    rec = _get(validation_dir, dataset, record_id)
    design = "MB" if rec["function"] == "effect_size_MB" else "ABk"
    data = pd.DataFrame(rec["input"])
    kwargs: dict[str, Any] = {
        "outcome": "outcome",
        "phase": "condition",
        "session": "session",
        "case": "case",
        "design": design,
        "treatment_phase": rec["arguments"]["treatment_level"],
    }
    if design == "ABk":
        kwargs["phase_pair"] = "phase_pair"
    if rec["error"]:
        # scdhlm fails (Musser: a never-treated control case makes the system singular);
        # we refuse with a message naming the case
        with pytest.raises(rs.errors.DesignError, match="Female Control"):
            rs.sced.bc_smd_hps(data, **kwargs)
        return
    res = rs.sced.bc_smd_hps(data, **kwargs)
    out = rec["output"]
    for ours, theirs in HPS_FIELDS.items():
        assert getattr(res, ours) == pytest.approx(out[theirs], rel=1e-8, abs=1e-12), ours
    assert res.n_obs == out.get("g_dotdot", res.n_obs)
    assert res.k == out.get("K", out.get("M_dot"))
    if record_id in PUBLISHED_HPS:
        est, var = PUBLISHED_HPS[record_id]
        assert res.estimate == pytest.approx(est, abs=5e-7)
        if var is not None:
            assert res.variance == pytest.approx(var, abs=5e-9)


def test_published_hps_checks_are_present(validation_dir: Path) -> None:
    ids = {rid for _, rid in _records("effect_size_MB") + _records("effect_size_ABk")}
    assert set(PUBLISHED_HPS) <= ids


def test_abk_default_pairs_equal_given_pairs(validation_dir: Path) -> None:
    rec = _get(validation_dir, "Lambert", "Lambert__disruptive_behavior__effect_size_ABk")
    data = pd.DataFrame(rec["input"])
    kw: dict[str, Any] = dict(
        outcome="outcome",
        phase="condition",
        session="session",
        case="case",
        design="ABk",
        treatment_phase="RC",
    )
    a = rs.sced.bc_smd_hps(data, phase_pair="phase_pair", **kw)
    b = rs.sced.bc_smd_hps(data, **kw)
    assert b.estimate == pytest.approx(a.estimate, rel=1e-12)
    assert b.variance == pytest.approx(a.variance, rel=1e-12)


# ---------------------------------------------------------------------------
# REML
# ---------------------------------------------------------------------------


def _bcsmd_kwargs(rec: dict[str, Any]) -> dict[str, Any]:
    a = rec["arguments"]
    kw: dict[str, Any] = {
        "outcome": "outcome",
        "phase": "condition",
        "session": "session",
        "case": "case",
        "design": a["design"],
        "fe_base": a.get("FE_base", 0),
        "re_base": a.get("RE_base", 0),
        "fe_trt": a.get("FE_trt", 0),
        "re_trt": a.get("RE_trt"),
        "center": a.get("center", 0),
        "cor_struct": a.get("corStruct", "AR1"),
        "treatment_phase": a["treatment_level"],
    }
    if a["design"] == "RMBB":
        kw.update(series="series", re_base_2=a.get("RE_base_2", 0))
    if a["design"] == "CMB":
        kw.update(cluster="cluster", re_base_2=a.get("RE_base_2", 0))
    return kw


def _fit(data: pd.DataFrame, kw: dict[str, Any]) -> rs.sced.BCSMDResult:
    with warnings.catch_warnings():
        # missing outcomes (Bryant2018) are announced with a RehabStatsWarning
        warnings.simplefilter("ignore", rs.errors.RehabStatsWarning)
        return rs.sced.bc_smd(data, **kw)


def _compare(
    res: rs.sced.BCSMDResult, out: dict[str, Any], loglik_r: float, converged_r: bool
) -> None:
    assert res.converged
    # never below nlme's optimum
    assert res.loglik >= loglik_r - 1e-6
    if converged_r and res.loglik <= loglik_r + 1e-6:
        assert res.estimate == pytest.approx(out["g_AB"], abs=1e-4)
        assert res.se == pytest.approx(out["SE_g_AB"], abs=1e-4)
        assert res.df == pytest.approx(out["nu"], rel=1e-3)
        if "CI_L" in out:
            assert res.ci_low == pytest.approx(out["CI_L"], rel=1e-4, abs=1e-4)
            assert res.ci_high == pytest.approx(out["CI_U"], rel=1e-4, abs=1e-4)
        if out.get("phi") is not None:
            assert res.phi == pytest.approx(out["phi"], abs=1e-3)
        if isinstance(out.get("rho"), float):
            assert res.rho == pytest.approx(out["rho"], abs=1e-3)
    else:
        # nlme stopped before the maximum: ours is strictly higher
        assert res.loglik > loglik_r


@pytest.mark.parametrize(("dataset", "record_id"), _records("calc_BCSMD"))
def test_calc_bcsmd_matches_scdhlm(validation_dir: Path, dataset: str, record_id: str) -> None:
    rec = _get(validation_dir, dataset, record_id)
    res = _fit(pd.DataFrame(rec["input"]), _bcsmd_kwargs(rec))
    out = rec["output"]
    if out["A"] is not None:
        assert (res.a, res.b) == (out["A"], out["B"])
    else:
        assert math.isnan(res.a)
        assert math.isnan(res.b)
    _compare(res, out, rec["fitted_model"]["REML_logLik"], bool(out["converged"]))


G_MLM_CALLS: dict[str, dict[str, Any]] = {
    "AlberMorgan__g_mlm__centering": dict(
        design="MBP",
        center=2,
        fe_base=(0, 1),
        re_base=(0, 1),
        fe_trt=(0, 1),
        a=5,
        b=31,
        phase="condition",
        treatment_phase="treatment",
    ),
    "Anglesea__g_mlm__Ang1": dict(design="TR", phase="condition", treatment_phase="treatment"),
    "Anglesea__g_mlm__Ang2": dict(
        design="TR", re_trt=0, phase="condition", treatment_phase="treatment"
    ),
    "Bryant2018__g_mlm__RML1": dict(
        design="CMB", cluster="group", phase="treatment", treatment_phase="treatment"
    ),
    "Laski__g_mlm__RML1": dict(
        design="MBP", phase="treatment", session="time", treatment_phase="treatment"
    ),
    "Laski__g_mlm__RML2": dict(
        design="MBP",
        center=4,
        fe_base=(0, 1),
        re_base=(0, 1),
        fe_trt=(0, 1),
        phase="treatment",
        session="time",
        treatment_phase="treatment",
    ),
    "Peltier__g_mlm__centering": dict(
        design="MBP",
        center=13,
        fe_base=(0, 1),
        re_base=(0, 1),
        fe_trt=(0, 1, 2),
        cor_struct="IID",
        a=10,
        b=16,
        phase="condition",
        treatment_phase="treatment",
    ),
}


@pytest.mark.parametrize(("dataset", "record_id"), _records("g_mlm"))
def test_g_mlm_test_suite_fits(validation_dir: Path, dataset: str, record_id: str) -> None:
    rec = _get(validation_dir, dataset, record_id)
    kw = {"outcome": "outcome", "session": "session", "case": "case"}
    kw.update(G_MLM_CALLS[record_id])
    data = pd.DataFrame(rec["input"])
    # these inputs are preprocess_SCD() output: sessions already centred; restore them
    data[kw["session"]] = data[kw["session"]] + kw.get("center", 0)
    res = _fit(data, kw)
    out = rec["output"]
    _compare(res, out, out["logLik"], not rec["warnings"])
    if not rec["warnings"] and res.loglik <= out["logLik"] + 1e-6:
        assert res.delta_unadjusted == pytest.approx(out["delta_AB"], abs=1e-4)
        assert res.kappa == pytest.approx(out["kappa"], rel=1e-3)


def test_g_mlm_records_all_mapped(validation_dir: Path) -> None:
    assert {rid for _, rid in _records("g_mlm")} == set(G_MLM_CALLS)


def test_laski_information_matrix_matches_lmeinfo(validation_dir: Path) -> None:
    rec = _get(validation_dir, "Laski", "Laski__calc_BCSMD__M1_RI")
    res = _fit(pd.DataFrame(rec["input"]), _bcsmd_kwargs(rec))
    ref = rec["g_mlm_detail"]["info_inv"]
    ours = res.info_inv.to_numpy()
    for i, row in enumerate(ref["values"]):
        for j, v in enumerate(row):
            assert ours[i, j] == pytest.approx(v, rel=1e-4, abs=1e-8)
    assert list(res.info_inv.index) == ref["rownames"]
    assert res.loglik == pytest.approx(rec["fitted_model"]["REML_logLik"], abs=1e-8)
    for name, value in rec["fitted_model"]["fixef"].items():
        assert res.fixed_effects[name] == pytest.approx(value, rel=1e-6)


# ---------------------------------------------------------------------------
# options the shared records do not cover (own R script, lme + lmeInfo::g_mlm)
# ---------------------------------------------------------------------------

_EXTRA = load_json(EXTRA)["records"] if EXTRA.is_file() else {}


@pytest.mark.parametrize("key", sorted(_EXTRA))
def test_lme_extra(key: str) -> None:
    rec = _EXTRA[key]
    kw: dict[str, Any] = {
        "outcome": "outcome",
        "phase": "condition",
        "session": "session",
        "case": "case",
        "treatment_phase": "treatment",
    }
    for k, v in rec["arguments"].items():
        kw[k] = tuple(v) if isinstance(v, list) else v
    res = _fit(pd.DataFrame(rec["input"]), kw)
    out = rec["output"]
    _compare(res, out, out["logLik"], bool(rec["converged"]))
    if rec["converged"]:
        theta = out["theta"]
        theta = list(theta.values()) if isinstance(theta, dict) else theta
        assert res.variance_components.to_numpy() == pytest.approx(theta, rel=1e-4)


def _theta_vector(theta: dict[str, Any]) -> list[float]:
    vals: list[float] = []
    for level in theta["Tau"].values():
        vals.extend(level.values())
    for key in ("cor_params", "var_params"):
        if theta.get(key) is not None:
            vals.append(theta[key])
    vals.append(theta["sigma_sq"])
    return vals


LIKELIHOOD_CHECKS = [
    # nlme reported convergence, our optimiser went higher
    ("CaseHarrisGraham", "CaseHarrisGraham__calc_BCSMD__M3_RI_Rtrt"),
    ("Saddler", "Saddler__writing_quality__calc_BCSMD__M3_RI_Rtrt"),
    ("Salazar", "Salazar__AFQ_Y__calc_BCSMD__M2_RI_RT_trends"),
    ("Musser", "Musser__calc_BCSMD__M2_RI_RT_trends"),
    # nlme's iteration limit
    ("Laski", "Laski__calc_BCSMD__M2_RI_RT_trends"),
    ("Lambert", "Lambert__academic_response__calc_BCSMD__T2_RI_Rtrt"),
    # nested designs
    ("Bryant2018", "Bryant2018__calc_BCSMD__C2_trends"),
    ("Thiemann2004", "Thiemann2004__calc_BCSMD__R2_trends"),
]


@pytest.mark.parametrize(("dataset", "record_id"), LIKELIHOOD_CHECKS)
def test_loglik_at_nlme_estimates_equals_nlme(
    validation_dir: Path, dataset: str, record_id: str
) -> None:
    """Our restricted likelihood, evaluated at nlme's estimates, is nlme's logLik (so a
    higher maximum is a genuinely better fit, not a different objective)."""
    rec = _get(validation_dir, dataset, record_id)
    kw = _bcsmd_kwargs(rec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.errors.RehabStatsWarning)
        spec = _bcsmd._build(
            pd.DataFrame(rec["input"]),
            a=None,
            b=None,
            var_struct="hom",
            ci=0.95,
            re_base_2=kw.pop("re_base_2", 0),
            re_trt_2=None,
            series=kw.pop("series", None),
            cluster=kw.pop("cluster", None),
            **kw,
        )
    theta = _theta_vector(rec["g_mlm_detail"]["theta"])
    ll = spec["model"].evaluate(np.array(theta), need=0)[0]
    assert ll == pytest.approx(rec["fitted_model"]["REML_logLik"], abs=1e-6)
