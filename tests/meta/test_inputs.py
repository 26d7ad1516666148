"""Hostile input and degenerate cases for rs.meta."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import rehabstats as rs
from rehabstats.errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning

YI = [0.2, 0.5, 0.35, -0.1]
VI = [0.04, 0.09, 0.05, 0.12]


def _trials() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "study": ["A", "B", "C"],
            "mean_t": [10.0, 12.0, 9.0],
            "sd_t": [3.0, 4.0, 3.5],
            "n_t": [20, 25, 18],
            "mean_c": [8.0, 11.0, 9.5],
            "sd_c": [3.2, 4.1, 3.0],
            "n_c": [20, 24, 19],
        }
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "DerSimonian"}, "'method'"),
        ({"test": "knha"}, "hksj"),
        ({"test": "t"}, "'test'"),
        ({"ci": 1.5}, "'ci'"),
        ({"prediction": "cochrane"}, "'prediction'"),
        ({"control": {"threshold": -1}}, "threshold"),
        ({"control": {"iterations": 5}}, "unknown key"),
        ({"labels": ["a", "b"]}, "one label per study"),
    ],
)
def test_bad_options(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(DataError, match=match):
        rs.meta.meta_analysis(YI, VI, **kwargs)  # type: ignore[arg-type]


def test_bad_values_name_the_study() -> None:
    with pytest.raises(DataError, match="study 'C'"):
        rs.meta.meta_analysis(YI, [0.04, 0.09, 0.0, 0.1], labels=["A", "B", "C", "D"])
    with pytest.raises(DataError, match="missing or infinite"):
        rs.meta.meta_analysis([0.1, np.nan], [0.1, 0.1])
    with pytest.raises(DataError, match="numeric"):
        rs.meta.meta_analysis(["a", "b"], [0.1, 0.1])
    with pytest.raises(DataError, match="exactly one"):
        rs.meta.meta_analysis(YI)
    with pytest.raises(DataError, match="exactly one"):
        rs.meta.meta_analysis(YI, VI, se=VI)
    with pytest.raises(DataError, match="4 values"):
        rs.meta.meta_analysis(YI, VI[:3])
    with pytest.raises(DataError, match="empty"):
        rs.meta.meta_analysis([], [])
    with pytest.raises(DataError, match="meta_analysis_batch"):
        rs.meta.meta_analysis(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(DataError, match="columns"):
        rs.meta.meta_analysis(pd.DataFrame({"x": [1.0]}))


def test_se_and_vi_give_the_same_fit() -> None:
    a = rs.meta.meta_analysis(YI, VI)
    b = rs.meta.meta_analysis(YI, se=np.sqrt(VI))
    assert_allclose(a.estimate, b.estimate, rtol=1e-14)
    assert_allclose(a.tau2, b.tau2, rtol=1e-12, atol=1e-15)


def test_data_columns_and_frames() -> None:
    es = rs.meta.study_effects(
        _trials(),
        "MD",
        study="study",
        mean_t="mean_t",
        sd_t="sd_t",
        n_t="n_t",
        mean_c="mean_c",
        sd_c="sd_c",
        n_c="n_c",
    )
    a = rs.meta.meta_analysis(es, method="DL")
    b = rs.meta.meta_analysis("yi", "vi", data=es, labels="study", method="DL")
    c = rs.meta.meta_analysis(
        es.rename(columns={"yi": "estimate"})[["study", "estimate", "se"]], method="DL"
    )
    assert a.labels == b.labels == c.labels == ("A", "B", "C")
    assert a.measure == "MD"
    assert_allclose([a.estimate, c.estimate], b.estimate, rtol=1e-14)
    with pytest.raises(DataError, match="not in 'data'"):
        rs.meta.meta_analysis("effect", "vi", data=es)


def test_inputs_not_modified() -> None:
    frame = _trials()
    before = frame.copy()
    yi, vi = np.array(YI), np.array(VI)
    rs.meta.study_effects(
        frame,
        "SMD",
        mean_t="mean_t",
        sd_t="sd_t",
        n_t="n_t",
        mean_c="mean_c",
        sd_c="sd_c",
        n_c="n_c",
    )
    rs.meta.meta_analysis(yi, vi)
    pd.testing.assert_frame_equal(frame, before)
    assert yi.tolist() == YI
    assert vi.tolist() == VI


def test_k1_warns_and_hksj_k1_errors() -> None:
    with pytest.warns(RehabStatsWarning, match="Only one study"):
        res = rs.meta.meta_analysis([0.4], [0.01], method="DL")
    assert res.estimate == 0.4
    assert res.tau2 == 0
    assert res.q == 0
    assert res.q_p == 1
    assert np.isnan(res.tau2_ci_low)
    with pytest.raises(DesignError, match="at least 2 studies"):
        rs.meta.meta_analysis([0.4], [0.01], test="hksj")


def test_k2_hksj_warns_and_weights_are_positive() -> None:
    """The ALS case: statsmodels' combine_effects gives negative weights here; we never do."""
    with pytest.warns(RehabStatsWarning, match="k = 2"):
        res = rs.meta.meta_analysis([5.09, 0.06], [2.4233, 3.2211], method="DL", test="hksj")
    assert (res.weights > 0).all()
    assert np.isfinite(res.se)
    assert_allclose(res.weights.sum(), 100.0, rtol=1e-14)
    assert res.df == 1
    assert res.ci_high - res.ci_low > 20
    for method in ("EE", "DL", "REML", "ML", "PM", "HE", "SJ"):
        r = rs.meta.meta_analysis([5.09, 0.06], [2.4233, 3.2211], method=method)
        assert r.tau2 >= 0
        assert (r.weights > 0).all()
        assert np.isfinite(r.se)


def test_identical_studies() -> None:
    with pytest.warns(RehabStatsWarning, match="HKSJ scale factor is 0"):
        res = rs.meta.meta_analysis([0.3, 0.3, 0.3], [0.1, 0.2, 0.1], test="hksj")
    assert res.tau2 == 0
    assert res.q == 0
    assert res.se == 0  # metafor sets the HKSJ factor to 0 when all yi are equal


def test_nonconvergence_warns() -> None:
    yi = [0.1, 1.5, -0.8, 0.9, 2.2]
    vi = [0.01, 0.02, 0.015, 0.03, 0.01]
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = rs.meta.meta_analysis(yi, vi, method="REML", control={"maxiter": 1})
    assert not res.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rs.meta.meta_analysis(yi, vi, method="REML").converged


def test_batch_input_checks() -> None:
    with pytest.raises(DataError, match="two-dimensional"):
        rs.meta.meta_analysis_batch([0.1, 0.2], [0.1, 0.1])
    with pytest.raises(DataError, match="at least 2 studies"):
        rs.meta.meta_analysis_batch([[0.1]], [[0.1]])
    with pytest.raises(DataError, match="row 1, study 0"):
        rs.meta.meta_analysis_batch([[0.1, 0.2], [0.3, 0.1]], [[0.1, 0.1], [0.0, 0.1]])
    with pytest.raises(DataError, match="shape"):
        rs.meta.meta_analysis_batch(np.zeros((2, 3)), np.ones((2, 4)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"measure": "SMDX"}, "'measure'"),
        ({"measure": "MD", "vtype": "HO"}, "'vtype'"),
        ({"measure": "MD", "to": "some"}, "'to'"),
        ({"measure": "MD", "add": -1}, "'add'"),
        ({"measure": "MD", "sd_t": "nope"}, "column 'nope'"),
    ],
)
def test_study_effects_options(kwargs: dict[str, object], match: str) -> None:
    cols = dict(mean_t="mean_t", sd_t="sd_t", n_t="n_t", mean_c="mean_c", sd_c="sd_c", n_c="n_c")
    cols.update({k: v for k, v in kwargs.items() if k in cols})  # type: ignore[misc]
    other = {k: v for k, v in kwargs.items() if k not in cols}
    with pytest.raises(DataError, match=match):
        rs.meta.study_effects(_trials(), **cols, **other)  # type: ignore[arg-type]


def test_study_effects_bad_values() -> None:
    t = _trials()
    cols = dict(mean_t="mean_t", sd_t="sd_t", n_t="n_t", mean_c="mean_c", sd_c="sd_c", n_c="n_c")
    bad = t.assign(sd_t=[3.0, -1.0, 3.5])
    with pytest.raises(DataError, match="study 2"):
        rs.meta.study_effects(bad, "MD", **cols)
    with pytest.raises(DataError, match="missing for study 3"):
        rs.meta.study_effects(t.assign(mean_c=[8.0, 11.0, np.nan]), "MD", **cols)
    with pytest.raises(DataError, match="sample size"):
        rs.meta.study_effects(t.assign(n_t=[20.5, 25, 18]), "SMD", **cols)
    with pytest.raises(DataError, match="positive means"):
        rs.meta.study_effects(t.assign(mean_c=[8.0, 0.0, 9.5]), "ROM", **cols)
    with pytest.raises(DataError, match="needs"):
        rs.meta.study_effects(t, "RR", n_t="n_t", n_c="n_c")
    with pytest.raises(DataError, match="more events than participants"):
        rs.meta.study_effects(None, "OR", events_t=[5], n_t=[4], events_c=[1], n_c=[4])
    with pytest.raises(DataError, match="correlation"):
        rs.meta.study_effects(
            None, "SMCR", mean_pre=[1.0], mean_post=[2.0], sd_pre=[1.0], n=[10], r=[1.5]
        )
    with pytest.raises(DataError, match="'yi'"):
        rs.meta.study_effects(None, "GEN")


def test_continuity_correction_rules() -> None:
    """metafor's defaults: add 1/2 to every cell of a study with a zero cell, keep 0/0 studies."""
    kw = dict(events_t=[0, 5, 0], n_t=[20, 20, 15], events_c=[4, 6, 0], n_c=[20, 20, 15])
    es = rs.meta.study_effects(None, "OR", **kw)
    assert_allclose(es["yi"].iloc[0], np.log((0.5 * 16.5) / (20.5 * 4.5)), rtol=1e-14)
    assert_allclose(es["vi"].iloc[1], 1 / 5 + 1 / 15 + 1 / 6 + 1 / 14, rtol=1e-14)
    assert_allclose(es["yi"].iloc[2], 0.0, atol=1e-15)  # double zero kept (drop00=False)
    dropped = rs.meta.study_effects(None, "OR", **kw, drop00=True)
    assert np.isnan(dropped["yi"].iloc[2])
    every = rs.meta.study_effects(None, "OR", **kw, to="all")
    assert_allclose(every["vi"].iloc[1], 1 / 5.5 + 1 / 15.5 + 1 / 6.5 + 1 / 14.5, rtol=1e-14)
    none = rs.meta.study_effects(None, "RD", **kw, to="none")
    assert_allclose(none["yi"].iloc[0], -0.2, rtol=1e-14)


def test_ppc_matches_ppc_smd_from_summary() -> None:
    es = rs.meta.study_effects(
        None,
        "PPC",
        mean_pre_t=[30.6],
        mean_post_t=[38.5],
        sd_pre_t=[15.0],
        n_t=[20],
        mean_pre_c=[23.1],
        mean_post_c=[19.7],
        sd_pre_c=[13.8],
        n_c=[20],
        r=[0.47],
    )
    ref = rs.ppc_smd_from_summary(30.6, 38.5, 15.0, 20, 23.1, 19.7, 13.8, 20, r=0.47)
    assert_allclose(es["yi"].iloc[0], ref.estimate, rtol=1e-13)
    assert_allclose(es["se"].iloc[0], ref.se, rtol=1e-13)
    no_r = rs.meta.study_effects(
        None,
        "PPC",
        mean_pre_t=[30.6],
        mean_post_t=[38.5],
        sd_pre_t=[15.0],
        n_t=[20],
        mean_pre_c=[23.1],
        mean_post_c=[19.7],
        sd_pre_c=[13.8],
        n_c=[20],
    )
    assert np.isnan(no_r["vi"].iloc[0])


def test_mantel_haenszel_degenerate() -> None:
    with pytest.raises(DesignError, match="undefined"):
        rs.meta.mantel_haenszel(
            None, "OR", events_t=[0, 0], n_t=[10, 10], events_c=[0, 0], n_c=[10, 10]
        )
    with pytest.raises(DataError, match="'measure'"):
        rs.meta.mantel_haenszel(None, "HR", events_t=[1], n_t=[10], events_c=[2], n_c=[10])


def test_hksj_with_common_effect_warns() -> None:
    with pytest.warns(RehabStatsWarning, match="random-effects"):
        res = rs.meta.meta_analysis(YI, VI, method="EE", test="hksj")
    w = 1 / np.array(VI)
    mu = (w * YI).sum() / w.sum()
    s2w = (w * (np.array(YI) - mu) ** 2).sum() / 3
    assert_allclose(res.se, np.sqrt(s2w / w.sum()), rtol=1e-13)


def test_ppc_variance_at_r_one_and_scaled_inputs() -> None:
    kw = {
        "mean_pre_t": [20.1, 18.4],
        "mean_post_t": [24.3, 21.9],
        "sd_pre_t": [4.1, 3.8],
        "n_t": [15, 12],
        "mean_pre_c": [19.8, 18.9],
        "mean_post_c": [21.0, 19.2],
        "sd_pre_c": [4.3, 3.5],
        "n_c": [14, 12],
    }
    at_one = rs.meta.study_effects(None, "PPC", **kw, r=[1.0, 1.0])
    near = rs.meta.study_effects(None, "PPC", **kw, r=[1 - 1e-9, 1 - 1e-9])
    assert np.isfinite(at_one["vi"]).all()  # no 0/0 at r = 1: the formula multiplied out
    assert_allclose(at_one["vi"], near["vi"], rtol=1e-6)
    with pytest.raises(DataError, match="'mean_t' holds a value of magnitude"):
        rs.meta.study_effects(
            None,
            "MD",
            mean_t=[1e200, 2.0],
            sd_t=[1.0, 1.0],
            n_t=[5, 5],
            mean_c=[1.0, 1.0],
            sd_c=[1.0, 1.0],
            n_c=[5, 5],
        )
    with pytest.raises(DataError, match="'sd_t' has 1 values but 'mean_t' has 2"):
        rs.meta.study_effects(
            None,
            "MD",
            mean_t=[1.0, 2.0],
            sd_t=[1.0],
            n_t=[5, 5],
            mean_c=[1.0, 1.0],
            sd_c=[1.0, 1.0],
            n_c=[5, 5],
        )
    with pytest.raises(DataError, match="'se' .the variances. has 1"):
        rs.meta.meta_analysis([0.1, 0.2], se=[0.1])


def test_tiny_variances_name_the_study() -> None:
    """Variances below 1e-150: inverse-variance weights would overflow when squared."""
    with pytest.raises(DataError, match=r"study 'B' is 1e-160 \(vi = 1e-160\).*1e-150"):
        rs.meta.meta_analysis([0.1, 0.3, 0.2], [0.1, 1e-160, 0.2], labels=["A", "B", "C"])
    with pytest.raises(DataError, match=r"Study 2.*se = 1e-80"):
        rs.meta.meta_analysis([0.1, 0.3, 0.2], se=[0.1, 1e-80, 0.2])
    table = pd.DataFrame({"study": ["a", "b"], "yi": [0.1, 0.2], "vi": [0.1, 1e-200]})
    with pytest.raises(DataError, match="study 'b'"):
        rs.meta.meta_analysis(table)
    with pytest.raises(DataError, match=r"row 1, study 2 has variance 1e-155"):
        rs.meta.meta_analysis_batch(
            np.array([[0.1, 0.3, 0.2], [0.1, 0.2, 0.3]]),
            np.array([[0.1, 0.1, 0.2], [0.1, 0.1, 1e-155]]),
        )
    with pytest.raises(DataError, match=r"'vi' holds a value of magnitude 1e-155 \(study 2\)"):
        rs.meta.study_effects(None, "GEN", yi=[0.1, 0.3], vi=[0.1, 1e-155])
    with pytest.raises(DataError, match=r"'se \(squared\)'.*study 2"):
        rs.meta.study_effects(None, "GEN", yi=[0.1, 0.3], se=[0.1, 1e-80])
    # just above the bound: a finite fit, no overflow warning (warnings are errors here)
    small = rs.meta.meta_analysis([0.1, 0.3, 0.2], [1e-140, 2e-140, 3e-140])
    assert np.isfinite(small.estimate)
    assert np.isfinite(small.se)
    # zero variances stay allowed in study_effects (a table), refused when pooling
    assert rs.meta.study_effects(None, "GEN", yi=[0.1, 0.3], vi=[0.1, 0.0])["vi"].iloc[1] == 0
