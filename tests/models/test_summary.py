"""summary() tells what R's summary() tells: sample, fit, AIC convention, variance parameters.

The printed k of the AIC line is checked against the fit's own AIC (so the stated
convention is the one used), and the LMM's random-effects table against lme4 1.1-31's
``VarCorr`` on the bundled cimt_ms data (random intercept and slope on visit_index;
values printed by R: 0.189221, 0.136453, -0.184, residual 0.093294).
"""

from __future__ import annotations

import re
import warnings

import pandas as pd
import pytest

import rehabstats as rs
from rehabstats.errors import RehabStatsWarning


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return rs.datasets.load("cimt_ms").dropna(subset=["mal_aou"])


def _k(text: str) -> int:
    match = re.search(r"AIC/BIC as [^:]+: k = (\d+)", text)
    assert match, text
    return int(match.group(1))


def test_mmrm_summary(trial: pd.DataFrame) -> None:
    fit = rs.mmrm("mal_aou ~ arm * visit", trial, subject="subject", visit="visit")
    text = fit.summary()
    assert "subjects = 20; observations = 59" in text
    assert "covariance: us, 6 parameters; REML; converged" in text
    assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * _k(text), rel=1e-12)
    assert "Estimated covariance matrix" in text
    assert fit.covariance_matrix.round(3).to_string(float_format="{:.3f}".format) in text


def test_mmrm_ml_counts_fixed_effects(trial: pd.DataFrame) -> None:
    fit = rs.mmrm(
        "mal_aou ~ arm * visit",
        trial,
        subject="subject",
        visit="visit",
        covariance="cs",
        reml=False,
    )
    text = fit.summary()
    assert "ML;" in text
    assert _k(text) == 2 + 6
    assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * _k(text), rel=1e-12)


def test_lmm_summary_random_effects_as_lme4() -> None:
    data = rs.datasets.load("cimt_ms")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)  # the one missing outcome
        fit = rs.lmm("mal_aou ~ arm * visit", data, subject="subject", random="1 + visit_index")
    text = fit.summary()
    assert "(1 row(s) with a missing value omitted)" in text
    assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * _k(text), rel=1e-12)
    assert re.search(r"subject\s+\(Intercept\)\s+0\.189\s+0\.435", text), text
    assert re.search(r"subject\s+visit_index\s+0\.136\s+0\.369", text), text
    assert re.search(r"cor\(\(Intercept\), visit_index\)\s+-0\.184", text), text
    assert re.search(r"Residual\s+0\.093\s+0\.305", text), text


def test_ancova_summary(trial: pd.DataFrame) -> None:
    wide = rs.data.to_wide(trial, id="subject", visit="visit", values="mal_aou", keep=["arm"])
    fit = rs.ancova(wide, outcome="mal_aou_post", arm="arm", baseline="mal_aou_pre")
    text = fit.summary()
    assert "residual SD = 0.793 on 17 df" in text
    assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * _k(text), rel=1e-12)  # R lm: 52.25284


def test_emmeans_and_contrast_tables_print_whole(trial: pd.DataFrame) -> None:
    fit = rs.mmrm("mal_aou ~ arm * visit", trial, subject="subject", visit="visit")
    for table in (
        fit.emmeans("arm", by="visit"),
        fit.contrasts("arm", by="visit", method="trt.vs.ctrl"),
    ):
        text = repr(table)
        assert "..." not in text
        assert "rows x" not in text
        assert "ci_high" in text
        assert "Confidence level used: 0.95" in text


def test_report_is_the_results_sentence(trial: pd.DataFrame) -> None:
    fit = rs.mmrm("mal_aou ~ arm * visit", trial, subject="subject", visit="visit")
    assert fit.report(visit="post") == rs.tables.results_sentence(fit, visit="post")
    assert fit.report().startswith("The adjusted difference (cimt - control) at followup")
