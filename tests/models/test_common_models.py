"""Common contract of every model result: table columns, summary/HTML, inputs untouched."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rehabstats.errors import RehabStatsWarning
from rehabstats.models import LinearModelResult, ancova, lmm, mixed_anova, mmrm

NUM = ["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]
COVARIANCES = ["us", "cs", "csh", "ar1", "ar1h", "toep", "toeph"]
VISITS = ["base", "w4", "w8"]


def long_trial(categorical: bool = True, seed: int = 11, n_per_arm: int = 8) -> pd.DataFrame:
    """Two arms x n subjects x 3 visits with a random intercept and a numeric time column."""
    rng = np.random.default_rng(seed)
    m = 2 * n_per_arm
    arm = np.repeat(["control", "cimt"], n_per_arm)
    y = (
        20
        + rng.normal(0, 2, m)[:, None]
        + np.array([0.0, 1.0, 2.0])
        + (arm == "cimt")[:, None] * np.array([0.0, 1.0, 2.5])
        + rng.normal(size=(m, 3))
    )
    # per-subject slopes so the random-slope model is not singular
    y = y + rng.normal(0, 0.8, m)[:, None] * np.array([0.0, 1.0, 2.0])
    d = pd.DataFrame(
        {
            "subject": np.repeat([f"p{i}" for i in range(m)], 3),
            "arm": np.repeat(arm, 3),
            "visit": np.tile(["base", "w4", "w8"], m),
            "time": np.tile([0.0, 4.0, 8.0], m),
            "y": y.ravel(),
        }
    )
    if categorical:
        d["arm"] = pd.Categorical(d["arm"], categories=["control", "cimt"])
        d["visit"] = pd.Categorical(d["visit"], categories=["base", "w4", "w8"])
    return d


def wide_trial(seed: int = 12, n_per_arm: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    m = 2 * n_per_arm
    base = rng.normal(30, 5, m)
    arm = np.repeat(["control", "cimt"], n_per_arm)
    return pd.DataFrame(
        {
            "id": np.arange(m),
            "arm": arm,
            "baseline": base,
            "age": rng.normal(60, 8, m),
            "y": 5 + 0.8 * base + 2.0 * (arm == "cimt") + rng.normal(0, 3, m),
        }
    )


FITS: dict[str, Callable[[], Any]] = {
    "ancova": lambda: ancova(
        wide_trial(), outcome="y", arm="arm", baseline="baseline", covariates=["age"]
    ),
    "ancova_long": lambda: ancova(
        long_trial()
        .pivot(index="subject", columns="visit", values="y")
        .reset_index()
        .melt(
            id_vars=["subject", "base"], value_vars=["w4", "w8"], var_name="visit", value_name="y"
        )
        .merge(long_trial()[["subject", "arm"]].drop_duplicates(), on="subject"),
        outcome="y",
        arm="arm",
        baseline="base",
        visit="visit",
        at="w8",
    ),
    "lmm_ri": lambda: lmm("y ~ arm * visit", long_trial(), subject="subject"),
    "lmm_ri_ml": lambda: lmm("y ~ arm * visit", long_trial(), subject="subject", reml=False),
    "lmm_rs": lambda: lmm("y ~ arm * visit", long_trial(), subject="subject", random="1 + time"),
    **{
        f"mmrm_{c}": (
            lambda c=c: mmrm(
                "y ~ arm * visit", long_trial(), subject="subject", visit="visit", covariance=c
            )
        )
        for c in COVARIANCES
    },
}


@pytest.fixture(scope="module")
def fitted() -> dict[str, Any]:
    return {name: make() for name, make in FITS.items()}


def _specs(res: Any) -> tuple[str, str | None]:
    return "arm", ("visit" if "visit" in res._grid().levels else None)


@pytest.mark.parametrize("name", list(FITS))
def test_tables_have_fixed_columns(fitted: dict[str, Any], name: str) -> None:
    res = fitted[name]
    assert isinstance(res, LinearModelResult)
    spec, by = _specs(res)
    for method in res.df_methods:
        coef = res.coef(df_method=method)
        assert list(coef.columns) == ["term", *NUM]
        assert len(coef) == len(res.beta)
        con = res.contrasts(spec, by=by, df_method=method)
        assert list(con.columns) == ["contrast", *([by] if by else []), *NUM]
        emm = res.emmeans(spec, by=by, df_method=method)
        assert list(emm.columns) == [*([by] if by else []), spec, *NUM]
        n_by = 3 if by else 1
        assert len(con) == n_by
        assert len(emm) == 2 * n_by
        for tab in (coef, con, emm):
            vals = tab[NUM].to_numpy(float)
            assert np.isfinite(vals[:, [0, 1, 3, 4, 5, 6]]).all(), (name, method)
            assert (tab["se"] > 0).all()
            assert (tab["df"] > 0).all()
            assert ((tab["p"] >= 0) & (tab["p"] <= 1)).all()
            assert (tab["ci_low"] < tab["estimate"]).all()
            assert (tab["estimate"] < tab["ci_high"]).all()
    eff = res.effect_sizes()
    assert {"estimate", "se", "ci_low", "ci_high", "df"} <= set(eff.columns)


@pytest.mark.parametrize("name", list(FITS))
def test_summary_and_html(fitted: dict[str, Any], name: str) -> None:
    res = fitted[name]
    text = res.summary()
    assert isinstance(text, str)
    assert text.strip()
    assert "<table" in res._repr_html_()
    assert isinstance(res.loglik, float)
    assert np.isfinite(res.loglik)


def test_mixed_anova_summary_and_html() -> None:
    res = mixed_anova(long_trial(), outcome="y", arm="arm", visit="visit", subject="subject")
    assert res.summary().strip()
    assert "<table" in res._repr_html_()
    assert list(res.table["term"]) == ["arm", "visit", "arm:visit"]


# ------------------------------------------------------------------ inputs not modified
def _with_missing(d: pd.DataFrame, col: str, rows: list[int]) -> pd.DataFrame:
    d = d.copy()
    d.loc[rows, col] = np.nan
    return d


CALLS: dict[str, tuple[Callable[[pd.DataFrame], Any], Callable[[], pd.DataFrame]]] = {
    "ancova": (
        lambda d: ancova(d, outcome="y", arm="arm", baseline="baseline", covariates=["age"]),
        lambda: _with_missing(wide_trial(), "y", [3]),
    ),
    # shuffled string visits: only visit_order= fixes their order (the rows cannot)
    "lmm": (
        lambda d: lmm("y ~ arm * visit", d, subject="subject", visit_order=VISITS),
        lambda: _with_missing(long_trial(categorical=False), "y", [4, 11]),
    ),
    "lmm_slope": (
        lambda d: lmm("y ~ arm * visit", d, subject="subject", random="1 + time"),
        lambda: _with_missing(long_trial(categorical=True), "y", [5]),
    ),
    "mmrm": (
        lambda d: mmrm("y ~ arm * visit", d, subject="subject", visit="visit", visit_order=VISITS),
        lambda: _with_missing(long_trial(categorical=False), "y", [4, 11]),
    ),
    "mmrm_cat": (
        lambda d: mmrm("y ~ arm * visit", d, subject="subject", visit="visit", covariance="cs"),
        lambda: _with_missing(long_trial(categorical=True), "y", [7]),
    ),
    "mixed_anova": (
        lambda d: mixed_anova(
            d, outcome="y", arm="arm", visit="visit", subject="subject", visit_order=VISITS
        ),
        lambda: _with_missing(long_trial(categorical=False), "y", [4]),
    ),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_input_dataframe_not_modified(name: str) -> None:
    call, make = CALLS[name]
    # shuffled rows and a non-default index catch in-place sorting / reindexing
    data = make().sample(frac=1.0, random_state=np.random.default_rng(3))
    data.index = data.index * 10 + 7
    before = copy.deepcopy(data)
    with pytest.warns(RehabStatsWarning, match="missing|dropped|omitted"):
        res = call(data)
    pd.testing.assert_frame_equal(data, before, check_exact=True)
    # the result does not share the caller's frame either (mutating it later is safe)
    frame = getattr(res, "frame", None)
    if frame is not None:
        assert frame is not data
