"""Hypothesis property tests of the repeated-measures models (lmm, mmrm, ancova, mixed ANOVA).

Each example simulates a small two-arm trial (6-10 subjects per arm, 3 visits) from a
seeded numpy Generator, fits the model twice (original and transformed data) and checks
an invariant with an explicit tolerance. ``max_examples`` is small because every example
fits models. Examples whose fit warns (singular / non-converged) are skipped with
``assume`` so that only interior REML optima are compared.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from rehabstats.errors import ConvergenceWarning
from rehabstats.models import ancova, lmm, mixed_anova, mmrm

ARMS = ["control", "cimt"]
VISITS = ["v1", "v2", "v3"]
FORMULA = "y ~ arm * visit"
NUM = ["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]

seeds = st.integers(min_value=0, max_value=2**31 - 1)
sizes = st.integers(min_value=6, max_value=10)


def make_trial(
    seed: int, n_per_arm: int, missing: bool = False, arms: list[str] = ARMS, sd_u: float = 1.5
) -> pd.DataFrame:
    """Long trial: subject intercept (sd ``sd_u``) + visit trend + arm effect + noise (sd 1).

    ``missing`` drops post-baseline rows at random (MAR given the arm, about 15 %);
    dropped rows are absent, so the fitters see no missing outcomes.
    """
    rng = np.random.default_rng(seed)
    m = 2 * n_per_arm
    arm = np.repeat(np.array(ARMS), n_per_arm)
    u = rng.normal(0.0, sd_u, size=m)
    trend = np.array([0.0, 1.0, 1.5])
    effect = rng.normal(0.5, 0.5) * (arm == "cimt")[:, None] * np.array([0.0, 1.0, 2.0])
    y = 10.0 + u[:, None] + trend + effect + rng.normal(size=(m, 3))
    d = pd.DataFrame(
        {
            "subject": np.repeat([f"s{i:02d}" for i in range(m)], 3),
            "arm": np.repeat(arm, 3),
            "visit": np.tile(VISITS, m),
            "y": y.ravel(),
        }
    )
    if missing:
        keep = (d["visit"] == "v1") | (rng.random(len(d)) > 0.15)
        d = d[keep.to_numpy()].reset_index(drop=True)
    d["arm"] = pd.Categorical(d["arm"], categories=arms)
    d["visit"] = pd.Categorical(d["visit"], categories=VISITS)
    return d


def make_wide(seed: int, n_per_arm: int, arms: list[str] = ARMS) -> pd.DataFrame:
    """One row per subject: baseline (v1) and outcome (v3) for ANCOVA."""
    d = make_trial(seed, n_per_arm)
    w = d.pivot(index="subject", columns="visit", values="y")
    out = pd.DataFrame(
        {"subject": w.index, "baseline": w["v1"].to_numpy(), "y": w["v3"].to_numpy()}
    )
    out["arm"] = pd.Categorical(
        d.groupby("subject", observed=True)["arm"].first().astype(str).to_numpy(), categories=arms
    )
    return out


def quiet_fit(fun: Any, *args: Any, **kw: Any) -> Any:
    """Fit; skip the example (assume) if the fit warns of a singular/non-converged fit."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fun(*args, **kw)
    assume(not any(issubclass(w.category, ConvergenceWarning) for w in caught))
    assert not caught, [str(w.message) for w in caught]
    return res


def fit_lmm(d: pd.DataFrame, reml: bool = True, **kw: Any) -> Any:
    return quiet_fit(lmm, FORMULA, d, subject="subject", reml=reml, **kw)


def fit_mmrm(d: pd.DataFrame, cov: str, reml: bool = True, **kw: Any) -> Any:
    return quiet_fit(
        mmrm, FORMULA, d, subject="subject", visit="visit", covariance=cov, reml=reml, **kw
    )


def fit_ancova(w: pd.DataFrame) -> Any:
    return quiet_fit(ancova, w, outcome="y", arm="arm", baseline="baseline")


def df_methods(res: Any) -> list[str]:
    return [m for m in ("satterthwaite", "kenward-roger", "residual") if m in res.df_methods]


def arm_contrasts(res: Any, df_method: str) -> pd.DataFrame:
    by = "visit" if "visit" in res._grid().levels else None
    return res.contrasts("arm", by=by, method="trt.vs.ctrl", df_method=df_method)


def fit_kind(kind: str, d: pd.DataFrame, reml: bool = True, **kw: Any) -> Any:
    return fit_lmm(d, reml, **kw) if kind == "lmm" else fit_mmrm(d, kind.split("_")[1], reml, **kw)


LONG_KINDS = ["lmm", "mmrm_us", "mmrm_cs"]


# ------------------------------------------------------------------ 1. arm relabelling
@settings(max_examples=15)
@given(seed=seeds, n=sizes, missing=st.booleans(), kind=st.sampled_from(LONG_KINDS))
def test_swapping_reference_arm_flips_contrast_sign(
    seed: int, n: int, missing: bool, kind: str
) -> None:
    a = fit_kind(kind, make_trial(seed, n, missing))
    # "control" is recognised as the control arm whatever the category order, so the
    # other reference is asked for explicitly
    b = fit_kind(kind, make_trial(seed, n, missing, arms=ARMS[::-1]), reference="cimt")
    for m in df_methods(a):
        ca, cb = arm_contrasts(a, m), arm_contrasts(b, m)
        assert list(ca["contrast"]) == ["cimt - control"] * 3
        assert list(cb["contrast"]) == ["control - cimt"] * 3
        # same likelihood surface, reparametrised fixed effects: REML optimum tolerance
        scale = float(np.max(np.abs(ca["se"])))
        assert_allclose(cb["estimate"], -ca["estimate"], rtol=1e-6, atol=1e-6 * scale)
        assert_allclose(cb["se"], ca["se"], rtol=1e-5, err_msg=m)
        assert_allclose(cb["df"], ca["df"], rtol=1e-4, err_msg=m)
        assert_allclose(cb["p"], ca["p"], rtol=1e-4, atol=1e-10, err_msg=m)


@settings(max_examples=20)
@given(seed=seeds, n=sizes)
def test_ancova_swapping_reference_arm_flips_sign(seed: int, n: int) -> None:
    a = fit_ancova(make_wide(seed, n))
    # "control" is the recognised control arm whatever the category order: ask for the other
    b = quiet_fit(
        ancova,
        make_wide(seed, n, arms=ARMS[::-1]),
        outcome="y",
        arm="arm",
        baseline="baseline",
        reference="cimt",
    )
    ca, cb = arm_contrasts(a, "residual"), arm_contrasts(b, "residual")
    assert list(ca["contrast"]) == ["cimt - control"]
    assert list(cb["contrast"]) == ["control - cimt"]
    # closed form (OLS): rtol 1e-8
    assert_allclose(cb["estimate"], -ca["estimate"], rtol=1e-8, atol=1e-12)
    assert_allclose(cb[["se", "df", "p"]], ca[["se", "df", "p"]], rtol=1e-8)


# ------------------------------------------------------------------ 2. shift invariance
@settings(max_examples=15)
@given(
    seed=seeds,
    n=sizes,
    missing=st.booleans(),
    kind=st.sampled_from(LONG_KINDS),
    c=st.floats(min_value=-50.0, max_value=50.0, allow_nan=False),
)
def test_outcome_shift_invariance(seed: int, n: int, missing: bool, kind: str, c: float) -> None:
    d = make_trial(seed, n, missing)
    d2 = d.assign(y=d["y"] + c)
    a, b = fit_kind(kind, d), fit_kind(kind, d2)
    scale = float(d["y"].std())
    for m in df_methods(a):
        ca, cb = arm_contrasts(a, m), arm_contrasts(b, m)
        assert_allclose(cb["estimate"], ca["estimate"], rtol=1e-6, atol=1e-6 * scale, err_msg=m)
        assert_allclose(cb[["se", "df"]], ca[["se", "df"]], rtol=1e-5, err_msg=m)
        ea, eb = (
            a.emmeans("arm", by="visit", df_method=m),
            b.emmeans("arm", by="visit", df_method=m),
        )
        assert_allclose(
            eb["estimate"], ea["estimate"] + c, rtol=1e-6, atol=1e-6 * (scale + abs(c)), err_msg=m
        )
        assert_allclose(eb["se"], ea["se"], rtol=1e-5, err_msg=m)
    # loglik: REML optimum, absolute tolerance on the log scale
    assert abs(b.loglik - a.loglik) < 1e-6 * max(1.0, abs(a.loglik))


@settings(max_examples=15)
@given(seed=seeds, n=sizes, c=st.floats(min_value=-50.0, max_value=50.0, allow_nan=False))
def test_ancova_outcome_shift_invariance(seed: int, n: int, c: float) -> None:
    w = make_wide(seed, n)
    a, b = fit_ancova(w), fit_ancova(w.assign(y=w["y"] + c))
    ca, cb = (r.contrasts("arm", method="trt.vs.ctrl") for r in (a, b))
    assert_allclose(cb["estimate"], ca["estimate"], rtol=1e-8, atol=1e-9 * (1 + abs(c)))
    assert_allclose(cb[["se", "df"]], ca[["se", "df"]], rtol=1e-8)
    assert_allclose(
        b.emmeans("arm")["estimate"],
        a.emmeans("arm")["estimate"] + c,
        rtol=1e-8,
        atol=1e-9 * (1 + abs(c)),
    )
    assert_allclose(b.loglik, a.loglik, rtol=1e-8)


# ------------------------------------------------------------------ 3. scale equivariance
@settings(max_examples=15)
@given(
    seed=seeds,
    n=sizes,
    missing=st.booleans(),
    kind=st.sampled_from(LONG_KINDS),
    k=st.floats(min_value=0.05, max_value=20.0),
    reml=st.booleans(),
)
def test_outcome_scale_equivariance(
    seed: int, n: int, missing: bool, kind: str, k: float, reml: bool
) -> None:
    d = make_trial(seed, n, missing)
    a, b = fit_kind(kind, d, reml), fit_kind(kind, d.assign(y=d["y"] * k), reml)
    for m in df_methods(a):
        ca, cb = arm_contrasts(a, m), arm_contrasts(b, m)
        scale = float(np.max(ca["se"]))
        assert_allclose(
            cb["estimate"], k * ca["estimate"], rtol=1e-6, atol=1e-6 * k * scale, err_msg=m
        )
        assert_allclose(cb["se"], k * ca["se"], rtol=1e-5, err_msg=m)
        assert_allclose(cb["df"], ca["df"], rtol=1e-4, err_msg=m)
        assert_allclose(cb["t"], ca["t"], rtol=1e-5, atol=1e-6, err_msg=m)
        assert_allclose(cb["p"], ca["p"], rtol=1e-4, atol=1e-10, err_msg=m)
    ea, eb = a.effect_sizes(), b.effect_sizes()
    assert_allclose(eb["estimate"], ea["estimate"], rtol=1e-5, atol=1e-7)
    # y -> k y: ML loglik changes by -n log k; the REML likelihood is that of the
    # n - p error contrasts, so it changes by -(n - p) log k.
    n_eff = a.nobs - (len(a.beta) if reml else 0)
    assert_allclose(b.loglik, a.loglik - n_eff * np.log(k), rtol=0, atol=1e-5)


@settings(max_examples=15)
@given(seed=seeds, n=sizes, k=st.floats(min_value=0.05, max_value=20.0))
def test_ancova_scale_equivariance(seed: int, n: int, k: float) -> None:
    w = make_wide(seed, n)
    # outcome and baseline both rescaled (same instrument): the baseline SD scales too
    a, b = fit_ancova(w), fit_ancova(w.assign(y=w["y"] * k, baseline=w["baseline"] * k))
    ca, cb = (r.contrasts("arm", method="trt.vs.ctrl") for r in (a, b))
    assert_allclose(cb[["estimate", "se"]], k * ca[["estimate", "se"]], rtol=1e-8)
    assert_allclose(cb[["df", "t", "p"]], ca[["df", "t", "p"]], rtol=1e-8)
    assert_allclose(b.effect_sizes()["estimate"], a.effect_sizes()["estimate"], rtol=1e-8)
    assert_allclose(b.loglik, a.loglik - a.nobs * np.log(k), rtol=1e-10, atol=1e-8)


# ------------------------------------------------------------------ 4. rows and labels
@settings(max_examples=15)
@given(
    seed=seeds, n=sizes, missing=st.booleans(), kind=st.sampled_from(LONG_KINDS), perm_seed=seeds
)
def test_row_order_and_subject_labels_invariance(
    seed: int, n: int, missing: bool, kind: str, perm_seed: int
) -> None:
    d = make_trial(seed, n, missing)
    rng = np.random.default_rng(perm_seed)
    subjects = d["subject"].unique()
    new_names = dict(
        zip(subjects, [f"id{v}" for v in rng.permutation(1000)[: len(subjects)]], strict=True)
    )
    d2 = d.iloc[rng.permutation(len(d))].assign(subject=lambda x: x["subject"].map(new_names))
    a, b = fit_kind(kind, d), fit_kind(kind, d2.reset_index(drop=True))
    for m in df_methods(a):
        ca, cb = arm_contrasts(a, m), arm_contrasts(b, m)
        scale = float(np.max(ca["se"]))
        assert_allclose(cb["estimate"], ca["estimate"], rtol=1e-6, atol=1e-6 * scale, err_msg=m)
        assert_allclose(cb[["se", "df"]], ca[["se", "df"]], rtol=1e-5, err_msg=m)
    assert abs(b.loglik - a.loglik) < 1e-6 * max(1.0, abs(a.loglik))


# ------------------------------------------------------------------ 5. CI / p duality
@settings(max_examples=15)
@given(
    seed=seeds,
    n=sizes,
    kind=st.sampled_from(["ancova", *LONG_KINDS]),
    ci=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_ci_excludes_zero_iff_p_below_alpha(seed: int, n: int, kind: str, ci: float) -> None:
    res = (
        fit_ancova(make_wide(seed, n)) if kind == "ancova" else fit_kind(kind, make_trial(seed, n))
    )
    by = "visit" if kind != "ancova" else None
    for m in df_methods(res):
        for tab in (
            res.contrasts("arm", by=by, method="trt.vs.ctrl", df_method=m, ci=ci),
            res.coef(df_method=m, ci=ci),
        ):
            covers = (tab["ci_low"] < 0) & (tab["ci_high"] > 0)
            assert (covers == (tab["p"] > 1 - ci)).all(), tab
        # at level 1 - p the interval touches 0 (closed form given the df: rtol 1e-6)
        row = res.contrasts("arm", by=by, method="trt.vs.ctrl", df_method=m).iloc[-1]
        if 1e-6 < row["p"] < 1 - 1e-6:
            t2 = res.contrasts(
                "arm", by=by, method="trt.vs.ctrl", df_method=m, ci=1 - row["p"]
            ).iloc[-1]
            bound = t2["ci_low"] if row["estimate"] > 0 else t2["ci_high"]
            assert abs(bound) < 1e-6 * row["se"], (m, row.to_dict(), t2.to_dict())


# ------------------------------------------------------------------ 6. cs MMRM = random intercept
@settings(max_examples=15)
@given(seed=seeds, n=sizes, sd_u=st.sampled_from([1.5, 0.5, 0.2]))
def test_mmrm_cs_satterthwaite_equals_lmm_random_intercept(seed: int, n: int, sd_u: float) -> None:
    d = make_trial(seed, n, sd_u=sd_u)
    a = fit_lmm(d)  # assume() skips singular fits (variance at the boundary)
    b = fit_mmrm(d, "cs")
    # same model when the intercept variance is positive: same REML optimum
    assert_allclose(b.loglik, a.loglik, rtol=0, atol=1e-5)
    # Satterthwaite df are invariant to the variance parametrisation. KR is not: mmrm's
    # "kenward-roger" keeps the second-derivative term of its nonlinear cs parametrisation
    # (validated against R mmrm in test_mmrm_reference.py) and gives a smaller SE than
    # pbkrtest's linear random-intercept model; "kenward-roger-linear" drops that term
    # and matches lmm's (pbkrtest's) KR.
    for m, m_mmrm in (
        ("satterthwaite", "satterthwaite"),
        ("kenward-roger", "kenward-roger-linear"),
    ):
        ca, cb = arm_contrasts(a, m), arm_contrasts(b, m_mmrm)
        assert_allclose(cb["estimate"], ca["estimate"], rtol=1e-6, atol=1e-8)
        assert_allclose(cb["se"], ca["se"], rtol=1e-5, err_msg=m)
        assert_allclose(cb["df"], ca["df"], rtol=1e-4, err_msg=m)


# ------------------------------------------------------------------ 7. mixed ANOVA
def _manova(d: pd.DataFrame) -> Any:
    return quiet_fit(mixed_anova, d, outcome="y", arm="arm", visit="visit", subject="subject")


def make_trial_k(
    seed: int, n_per_arm: int, k: int, rho: float, arms: list[str] = ARMS
) -> pd.DataFrame:
    """Complete long data with k visits and AR(1) errors with growing SDs (non-spherical)."""
    rng = np.random.default_rng(seed)
    m = 2 * n_per_arm
    lag = np.abs(np.subtract.outer(np.arange(k), np.arange(k)))
    sd = 1.0 + 0.5 * np.arange(k)
    cov = rho**lag * np.outer(sd, sd)
    arm = np.repeat(np.array(ARMS), n_per_arm)
    y = rng.multivariate_normal(np.linspace(0, 2, k), cov, size=m, method="cholesky")
    y = y + 0.7 * (arm == "cimt")[:, None] * np.arange(k)
    visits = [f"t{j}" for j in range(k)]
    d = pd.DataFrame(
        {
            "subject": np.repeat(np.arange(m), k),
            "arm": np.repeat(arm, k),
            "visit": np.tile(visits, m),
            "y": y.ravel(),
        }
    )
    d["arm"] = pd.Categorical(d["arm"], categories=arms)
    d["visit"] = pd.Categorical(d["visit"], categories=visits)
    return d


@settings(max_examples=20)
@given(
    seed=seeds,
    n=sizes,
    k=st.integers(min_value=3, max_value=5),
    rho=st.sampled_from([0.0, 0.5, 0.9]),
    c=st.floats(min_value=-50.0, max_value=50.0, allow_nan=False),
)
def test_mixed_anova_shift_and_relabel(seed: int, n: int, k: int, rho: float, c: float) -> None:
    d = make_trial_k(seed, n, k, rho)
    a = _manova(d)
    b = _manova(d.assign(y=d["y"] + c))
    r = _manova(make_trial_k(seed, n, k, rho, arms=ARMS[::-1]))
    for other in (b, r):
        assert list(other.table["term"]) == list(a.table["term"])
        # closed form (SSCP traces): rtol 1e-8 (shift: cancellation grows with |c|)
        assert_allclose(other.table["F"], a.table["F"], rtol=1e-7)
        assert_allclose(other.table[["num_df", "den_df"]], a.table[["num_df", "den_df"]], rtol=1e-8)
        assert_allclose(other.gg_epsilon, a.gg_epsilon, rtol=1e-8)
    assert 1 / (k - 1) - 1e-12 <= a.gg_epsilon <= 1 + 1e-12
