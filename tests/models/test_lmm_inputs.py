"""Bad input to rs.models.lmm: each raises a clear DataError/DesignError (and data untouched)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import rehabstats.models as rsm
from rehabstats.errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning


def trial(n_per_arm: int = 6, visits=("pre", "post", "fu"), seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 2 * n_per_arm
    d = pd.DataFrame(
        {
            "subject": np.repeat([f"S{i}" for i in range(n)], len(visits)),
            "arm": np.repeat(["control"] * n_per_arm + ["cimt"] * n_per_arm, len(visits)),
            "visit": np.tile(list(visits), n),
            "time": np.tile(np.arange(len(visits), dtype=float), n),
        }
    )
    d["y"] = rng.normal(size=len(d)) + np.repeat(rng.normal(size=n), len(visits))
    return d


def test_formula_names_missing_column():
    with pytest.raises(DataError, match="'dose'.*not in the data"):
        rsm.lmm("y ~ arm * dose", trial(), subject="subject")


def test_outcome_missing_column():
    with pytest.raises(DataError, match="'score'"):
        rsm.lmm("score ~ arm", trial(), subject="subject")


def test_non_numeric_outcome():
    d = trial()
    d["y"] = d["y"].astype(object)
    d.loc[3, "y"] = "n/a"
    with pytest.raises(DataError, match="numeric.*'n/a'"):
        rsm.lmm("y ~ arm * visit", d, subject="subject")


@pytest.mark.parametrize("spec", ["1 + time + arm", "(1 | subject)", "time |", "", 1, "2"])
def test_unknown_random_spec(spec):
    with pytest.raises(DataError, match="random"):
        rsm.lmm("y ~ arm * visit", trial(), subject="subject", random=spec)


def test_random_slope_column_missing():
    with pytest.raises(DataError, match="'week'"):
        rsm.lmm("y ~ arm * visit", trial(), subject="subject", random="1 + week")


def test_unknown_df_method_lists_supported():
    fit = rsm.lmm("y ~ arm * visit", trial(), subject="subject")
    with pytest.raises(DataError, match="'satterthwaite', 'kenward-roger', 'residual'"):
        fit.coef(df_method="containment")
    ml = rsm.lmm("y ~ arm * visit", trial(), subject="subject", reml=False)
    with pytest.raises(DataError, match="df_method"):
        ml.anova(df_method="kenward-roger")


def test_two_visit_random_slope_refused_like_lme4():
    with pytest.raises(DesignError, match=r"number of observations \(=24\) <= number of random"):
        rsm.lmm(
            "y ~ arm * visit", trial(visits=("pre", "post")), subject="subject", random="1 + time"
        )


def test_more_parameters_than_data():
    d = trial(n_per_arm=1, visits=("pre", "post"))
    d["subject"] = [f"S{i}" for i in range(len(d))]  # 4 rows, 4 fixed effects
    with pytest.raises(DesignError):
        rsm.lmm("y ~ arm * visit", d, subject="subject")


def test_rank_deficient_design_drops_aliased_column():
    d = trial()
    d["x2"] = d["time"] * 2
    with pytest.warns(RehabStatsWarning, match=r"rank deficient.*'x2'"):
        m = rsm.lmm("y ~ time + x2", d, subject="subject")
    assert m.aliased == ("x2",)
    assert m.coef_names == ("(Intercept)", "time")
    ref = rsm.lmm("y ~ time", d, subject="subject")
    # same fit as the model without the aliased column (exact same arithmetic path)
    assert_allclose(
        m.coef()[["estimate", "se", "df"]], ref.coef()[["estimate", "se", "df"]], rtol=1e-10
    )


def test_visit_with_single_observation():
    d = trial()
    d.loc[0, "visit"] = "extra"
    with pytest.raises(DesignError, match="'extra' of 'visit' has a single observation"):
        rsm.lmm("y ~ arm + visit", d, subject="subject", visit_order=["extra", "pre", "post", "fu"])


def test_arm_with_one_subject():
    d = trial()
    d.loc[d["subject"] == "S0", "arm"] = "sham"
    with pytest.raises(DesignError, match="'sham'.*single subject"):
        rsm.lmm("y ~ arm * visit", d, subject="subject", reference="control")


def test_missing_outcomes_dropped_with_warning_and_input_untouched():
    d = trial()
    d.loc[[1, 5], "y"] = np.nan
    before = d.copy()
    with pytest.warns(RehabStatsWarning, match=r"2 row\(s\) with a missing value"):
        fit = rsm.lmm("y ~ arm * visit", d, subject="subject")
    assert fit.n_omitted == 2
    assert fit.nobs == len(d) - 2
    pd.testing.assert_frame_equal(d, before)


def test_singular_fit_warns_and_flags():
    rng = np.random.default_rng(17)
    d = trial()
    d["y"] = rng.normal(size=len(d))  # no subject effect at all
    with pytest.warns(ConvergenceWarning, match="Singular fit"):
        fit = rsm.lmm("y ~ arm * visit", d, subject="subject")
    assert fit.singular
    assert fit.variance_components["variance_or_cov"].iloc[0] == pytest.approx(0, abs=1e-12)
    assert np.isfinite(fit.coef()["df"]).all()


def test_row_order_does_not_matter():
    d = trial(seed=8)
    order = ["pre", "post", "fu"]  # shuffled string visits need visit_order (rows cannot tell)
    a = rsm.lmm("y ~ arm * visit", d, subject="subject")
    perm = d.sample(frac=1.0, random_state=np.random.default_rng(1).integers(1 << 31))
    with pytest.raises(DesignError, match="visit_order"):
        rsm.lmm("y ~ arm * visit", perm, subject="subject")
    b = rsm.lmm("y ~ arm * visit", perm, subject="subject", visit_order=order)
    assert a.visit_levels == b.visit_levels == order
    np.testing.assert_allclose(b.loglik, a.loglik, rtol=1e-10)
    np.testing.assert_allclose(b.coef()["df"], a.coef()["df"], rtol=1e-5)
    np.testing.assert_allclose(b.coef()["se"], a.coef()["se"], rtol=1e-6)


def test_non_convergence_warns_and_flags(monkeypatch):
    import rehabstats.models._lmm as lmm_mod

    real = lmm_mod.optimize_theta

    def stalled(prob, start):
        theta, dev, _ = real(prob, start)
        return theta, dev, 0.5  # pretend the optimiser stopped with |gradient| 0.5

    monkeypatch.setattr(lmm_mod, "optimize_theta", stalled)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        fit = rsm.lmm("y ~ arm * visit", trial(), subject="subject")
    assert not fit.converged
    assert fit.gradient_norm == 0.5
