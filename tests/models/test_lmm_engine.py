"""The LMM engine's fast paths (issue 12): per-size / per-pattern sums and the closed-form
random-intercept derivatives agree with the per-subject formulas and with finite
differences."""

from __future__ import annotations

import numpy as np
import pytest

from rehabstats.models import _lmm_engine as eng


def _problem(
    seed: int,
    q: int,
    balanced: bool | str,
    reml: bool,
    monkeypatch: pytest.MonkeyPatch,
    grouped: bool,
    offset: float = 100.0,
) -> eng.LMMProblem:
    """``balanced``: True (one pattern), False (a few cluster sizes), "continuous" (every
    subject its own pattern of times)."""
    rng = np.random.default_rng(seed)
    m = 40
    sizes = np.full(m, 4) if balanced is True else rng.integers(1, 6, m)
    g = np.repeat(np.arange(m), sizes)
    n = len(g)
    time = np.concatenate([np.arange(k, dtype=float) for k in sizes])
    if balanced == "continuous":
        time = time + rng.uniform(-0.3, 0.3, n)
    X = np.column_stack(
        [np.ones(n), time, np.repeat(rng.integers(0, 2, m), sizes), rng.normal(size=n)]
    )
    y = (
        offset
        + X @ np.array([1.0, 0.5, -0.3, 0.2])
        + np.repeat(rng.normal(size=m), sizes)
        + 0.3 * np.repeat(rng.normal(size=m), sizes) * time
        + rng.normal(size=n)
    )
    Z = np.ones((n, 1)) if q == 1 else np.column_stack([np.ones(n), time])
    monkeypatch.setattr(eng, "_MAX_GROUPS", 64 if grouped else 0)
    monkeypatch.setattr(eng, "_GROUP_FRACTION", 1.0 if grouped else 0.0)
    return eng.LMMProblem(y, X, Z, g, reml)


@pytest.mark.parametrize("q", [1, 2])
@pytest.mark.parametrize("balanced", [True, False, "continuous"])
@pytest.mark.parametrize("reml", [True, False])
def test_pattern_sums_equal_per_subject_formulas(q, balanced, reml, monkeypatch):
    fast = _problem(1, q, balanced, reml, monkeypatch, grouped=True)
    slow = _problem(1, q, balanced, reml, monkeypatch, grouped=False)
    assert (fast._q1 is not None and fast._q1.grouped) if q == 1 else fast._pat is not None
    assert (slow._q1 is not None and not slow._q1.grouped) if q == 1 else slow._pat is None
    theta = np.array([0.8]) if q == 1 else np.array([0.8, -0.1, 0.3])
    for a, b in zip(fast.solve(theta), slow.solve(theta), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11)
    G = np.array([[0.7]]) if q == 1 else np.array([[0.7, -0.05], [-0.05, 0.1]])
    mf, ms = fast.moments(G, 1.1, full=True), slow.moments(G, 1.1, full=True)
    for field in ("beta", "C", "K", "Q", "T1", "trPVPV", "grad", "H"):
        np.testing.assert_allclose(
            getattr(mf, field), getattr(ms, field), rtol=1e-10, atol=1e-12, err_msg=field
        )
    gf, Hf = fast.varpar_derivatives(theta)
    gs, Hs = slow.varpar_derivatives(theta)
    np.testing.assert_allclose(gf, gs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(Hf, Hs, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("theta0", [0.05, 0.6, 2.5])
def test_random_intercept_derivatives_match_finite_differences(reml, theta0, monkeypatch):
    # (outcome centred: finite differences of a deviance with y ~ 100 are too noisy)
    prob = _problem(2, 1, False, reml, monkeypatch, grouped=True, offset=0.0)
    theta = np.array([theta0])
    g, H = prob.varpar_derivatives(theta)
    np.testing.assert_allclose(g, eng.num_grad(prob.deviance, theta, h=1e-5), rtol=1e-6, atol=1e-6)
    # the Hessian against central differences of the (just checked) analytic gradient: second
    # differences of the deviance itself lose ~1e-5 to rounding, more than the tolerance
    h = 1e-5
    fd = (prob.varpar_derivatives(theta + h)[0] - prob.varpar_derivatives(theta - h)[0]) / (2 * h)
    np.testing.assert_allclose(H, fd[None, :], rtol=1e-7, atol=1e-8)


def test_one_dimensional_trust_region_step_is_the_minimiser():
    grid = np.linspace(-1.0, 1.0, 200001)
    for g, h, delta in [
        (2.0, 1.0, 1.0),
        (2.0, 5.0, 1.0),
        (-0.3, 4.0, 1.0),
        (0.5, -2.0, 0.7),
        (-0.5, 0.0, 0.4),
        (0.0, -1.0, 0.3),
    ]:
        s = eng.tr_step(np.array([g]), np.array([[h]]), delta)
        pts = grid * delta
        model = g * pts + 0.5 * h * pts**2
        assert abs(s[0]) <= delta * (1 + 1e-12)
        assert g * s[0] + 0.5 * h * s[0] ** 2 <= model.min() + 1e-9


def test_fit_invariant_to_a_large_outcome_offset(monkeypatch):
    # the per-pattern sums keep residual terms exact: shifting y by 1e6 moves only
    # the intercept
    prob = _problem(3, 1, False, True, monkeypatch, grouped=True)
    shifted = eng.LMMProblem(prob.y + 1e6, prob.X, prob.Zs, prob.group_index, True)
    t1 = eng.optimize_theta(prob, np.ones(1))[0]
    t2 = eng.optimize_theta(shifted, np.ones(1))[0]
    np.testing.assert_allclose(t2, t1, rtol=1e-6)
    s2 = prob.sigma2(t1)
    m1 = prob.moments(s2 * t1[:, None] ** 2, s2)
    m2 = shifted.moments(s2 * t1[:, None] ** 2, s2)
    np.testing.assert_allclose(m2.beta[1:], m1.beta[1:], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(m2.beta[0] - 1e6, m1.beta[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(m2.H, m1.H, rtol=1e-5)
