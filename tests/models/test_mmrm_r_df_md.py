"""Multi-row tests (df_md) against R mmrm 0.3.18 given the same contrast matrices.

``tests/reference/mmrm_r/df_md_fev.R`` ran R's mmrm (built from source) on fev_data with
the type III hypothesis matrices rehabstats builds (``type3_L_fev.json``), for
Satterthwaite, Kenward-Roger and Kenward-Roger-Linear. Given the same ``L`` the F
statistic and both df must agree; mmrm's fit (nlminb) and ours reach the same optimum to
about 1e-7 in the log-likelihood, so the fitted-value tolerance 1e-5 applies.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models._mmrm13_helpers import fev_data
from rehabstats.errors import RehabStatsWarning
from rehabstats.models._mmrm import MMRMResult, mmrm
from rehabstats.models._type3 import type3_hypotheses

REF = Path(__file__).resolve().parents[1] / "reference" / "mmrm_r"
FIXTURE = json.loads((REF / "df_md_fev.json").read_text())
L_ALL = json.loads((REF / "type3_L_fev.json").read_text())
METHODS = {
    "Satterthwaite": "satterthwaite",
    "Kenward-Roger": "kenward-roger",
    "Kenward-Roger-Linear": "kenward-roger-linear",
}
_FIT: dict[str, MMRMResult] = {}


def _fit(vdir: Path) -> MMRMResult:
    if "fit" not in _FIT:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RehabStatsWarning)  # rows with missing FEV1
            _FIT["fit"] = mmrm(
                "FEV1 ~ RACE + SEX + ARMCD * AVISIT",
                fev_data(vdir),
                subject="USUBJID",
                visit="AVISIT",
                arm="ARMCD",
            )
    return _FIT["fit"]


def test_log_likelihood_equals_r_mmrm(validation_dir: Path) -> None:
    # REML log-likelihood, 1e-8 relative (both at the optimum)
    assert _fit(validation_dir).loglik == pytest.approx(
        FIXTURE["loglik"]["Satterthwaite"], rel=1e-8
    )


def test_type3_hypotheses_are_the_ones_r_was_given(validation_dir: Path) -> None:
    fit = _fit(validation_dir)
    ours = type3_hypotheses(fit.design_info, fit.frame)
    assert set(ours) == set(L_ALL)
    for term, L in ours.items():  # the fixture's input: the same matrices (1e-12)
        np.testing.assert_allclose(np.atleast_2d(L), np.asarray(L_ALL[term]), atol=1e-12)


@pytest.mark.parametrize(
    "rec", FIXTURE["tests"], ids=[f"{t['method']}-{t['term']}" for t in FIXTURE["tests"]]
)
def test_df_md_equals_r_mmrm_for_the_same_L(validation_dir: Path, rec: dict[str, Any]) -> None:
    fit = _fit(validation_dir)
    L = np.asarray(L_ALL[rec["term"]], dtype=float)
    F, q, den = fit._contrast_md(L, METHODS[rec["method"]])
    assert q == rec["num_df"]
    # fitted (REML) values: 1e-5 relative for F and the denominator df
    assert F == pytest.approx(rec["f_stat"], rel=1e-5)
    assert den == pytest.approx(rec["denom_df"], rel=1e-5)
