"""Batch (``axis=``) effect sizes: element i equals the one-sample call on element i.

Tolerance: 1e-12 relative to ``1 + |value|`` (the one-sample and batch paths use the
same arithmetic; small batches agree bit for bit, large batches interpolate the
noncentral-t limits to ~1e-14, see ``_intervals._interpolated_limits``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from _batch_checks import FIELDS, close, one_call
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rehabstats.effect_sizes as es
from rehabstats._batch_results import BatchEffectSizeResult
from rehabstats._results import EffectSizeResult
from rehabstats.effect_sizes import _intervals
from rehabstats.errors import DataError, RehabStatsWarning

#: (function, options) for every two-sample effect size with an axis= form
CALLS = [
    (es.cohens_d, {}),
    (es.cohens_d, {"pooled_sd": False}),
    (es.cohens_d, {"paired": True}),
    (es.hedges_g, {}),
    (es.hedges_g, {"paired": True}),
    (es.hedges_g, {"ci": 0.9, "pooled_sd": False}),
    (es.glass_delta, {}),
    (es.cliffs_delta, {}),
    (es.rank_biserial, {}),
    (es.rank_biserial, {"paired": True}),
    (es.prob_superiority, {"ci": 0.8}),
    *[
        (es.standardized_mean_change, {"standardizer": s})
        for s in ("pre", "change", "average", "average_var", "rm")
    ],
    (es.standardized_mean_change, {"standardizer": "change", "correction": False}),
]
IDS = [f"{f.__name__}{kw}" for f, kw in CALLS]


_close = close
_one = one_call  # the one-sample call drops NaN values as the batch does


def _assert_rows_equal(f, x, y, kw, res, axis=1):
    xr = np.moveaxis(x, axis, -1)
    yr = np.moveaxis(y, axis, -1)
    assert isinstance(res, BatchEffectSizeResult)
    assert res.shape == xr.shape[:-1]
    for i in range(res.shape[0]):
        one = _one(f, xr[i], yr[i], kw)
        row = res[i]
        if one is None:
            assert math.isnan(row.estimate), i
            continue
        for k in FIELDS:
            assert _close(getattr(one, k), getattr(row, k)), (
                i,
                k,
                getattr(one, k),
                getattr(row, k),
            )
        assert (one.n_x, one.n_y, one.n_omitted) == (row.n_x, row.n_y, row.n_omitted)
        assert one.measure == row.measure
        assert one.ci_method == row.ci_method
        for k, v in one.details.items():
            if isinstance(v, float):
                assert _close(v, row.details[k]), (i, k)


rows = st.integers(1, 6)
length = st.integers(2, 9)
values = st.integers(-20, 20).map(float)


@st.composite
def batches(draw, paired: bool):
    k = draw(rows)
    nx = draw(length)
    ny = nx if paired else draw(length)
    x = draw(hnp.arrays(float, (k, nx), elements=values))
    y = draw(hnp.arrays(float, (k, ny), elements=values))
    scale = draw(st.sampled_from([1.0, 0.37, 1e5]))
    return x * scale, y


@pytest.mark.parametrize(("f", "kw"), CALLS, ids=IDS)
@given(data=st.data())
def test_row_i_equals_the_one_sample_call(f, kw, data):
    paired = kw.get("paired", False) or f is es.standardized_mean_change
    x, y = data.draw(batches(paired))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)  # constant rows: NaN + warning
        res = f(x, y, axis=1, **kw)
    _assert_rows_equal(f, x, y, kw, res)


@pytest.mark.parametrize(("f", "kw"), CALLS, ids=IDS)
def test_axis0_is_the_transpose_of_axis1(f, kw):
    rng = np.random.default_rng(5)
    x = rng.normal(0.4, 1.0, size=(7, 9))
    y = x * 0.5 + rng.normal(0.0, 1.0, size=(7, 9))
    r1 = f(x, y, axis=1, **kw)
    r0 = f(x.T, y.T, **kw)  # default axis=0
    rm = f(x, y, axis=-1, **kw)
    for k in FIELDS:
        np.testing.assert_array_equal(getattr(r1, k), getattr(r0, k))
        np.testing.assert_array_equal(getattr(r1, k), getattr(rm, k))
    assert r0.axis == 0
    assert r1.axis == 1


@pytest.mark.parametrize(("f", "kw"), CALLS, ids=IDS)
def test_nan_rows_follow_nan_policy(f, kw):
    rng = np.random.default_rng(6)
    x = rng.normal(0.4, 1.0, size=(6, 8))
    y = rng.normal(0.0, 1.0, size=(6, 8))
    x[1, 3] = np.nan
    y[4, 0] = np.nan
    y[4, 5] = np.nan
    with pytest.warns(RehabStatsWarning, match="missing value"):
        res = f(x, y, axis=1, **kw)
    _assert_rows_equal(f, x, y, kw, res)
    assert res.n_omitted[0] == 0
    assert res.n_omitted[1] == 1
    with pytest.raises(DataError, match="nan_policy='raise'"):
        f(x, y, axis=1, nan_policy="raise", **kw)


def test_degenerate_rows_are_nan_with_one_warning():
    x = np.array([[1.0, 2, 3, 4], [5.0, 5, 5, 5], [2.0, 3, 1, 5]])
    y = np.array([[0.0, 1, 1, 2], [5.0, 5, 5, 5], [0.0, 0, 1, 3]])
    with pytest.warns(RehabStatsWarning, match=r"Element\(s\): 1\."):
        res = es.hedges_g(x, y, axis=1)
    assert math.isnan(res.estimate[1])
    assert np.isfinite(res.estimate[[0, 2]]).all()
    assert res[0].estimate == es.hedges_g(x[0], y[0]).estimate


def test_broadcasting_and_nd_batches():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(3, 4, 10))
    control = rng.normal(size=12)
    res = es.hedges_g(x, control, axis=-1)  # each sample against one control group
    assert res.shape == (3, 4)
    one = es.hedges_g(x[2, 1], control)
    assert _close(one.ci_high, res[2, 1].ci_high)
    assert _close(one.estimate, float(res.estimate[2, 1]))
    frame = res.to_frame()
    assert len(frame) == 12
    assert frame["index"].iloc[5] == (1, 1)
    assert [r.estimate for r in res][5] == res.estimate[1, 1]


def test_mismatched_shapes_name_the_argument():
    with pytest.raises(DataError, match=r"'x' \(4, 10\), 'y' \(3, 10\)"):
        es.cohens_d(np.ones((4, 10)), np.ones((3, 10)), axis=1)
    with pytest.raises(DataError, match=r"paired.*same length along axis 1.*'x' 10 and 'y' 9"):
        es.cohens_d(np.ones((4, 10)), np.ones((4, 9)), axis=1, paired=True)
    with pytest.raises(DataError, match=r"'pre'.*'post'.*same length"):
        es.standardized_mean_change(np.ones((4, 10)), np.ones((4, 9)), axis=1)
    with pytest.raises(DataError, match="'axis' argument is 2"):
        es.cliffs_delta(np.ones((4, 10)), np.ones((4, 9)), axis=2)
    with pytest.raises(DataError, match="'axis' argument must be an integer"):
        es.cliffs_delta(np.ones((4, 10)), np.ones((4, 9)), axis="1")
    with pytest.raises(DataError, match="'axis' argument is 1, but the inputs are one-dim"):
        es.hedges_g([1.0, 2, 3], [2.0, 3, 5], axis=1)
    with pytest.raises(DataError, match=r"'y' contains an infinite value at position \(1, 2\)"):
        es.hedges_g(np.ones((2, 4)), np.array([[1.0, 2, 3, 4], [1, 2, np.inf, 4]]), axis=1)
    with pytest.raises(DataError, match="'x' must be numeric; found non-numeric value 'a'"):
        es.hedges_g(np.array([["1", "a"], ["2", "3"]]), np.ones((2, 2)), axis=1)


def test_one_dimensional_calls_unchanged():
    x, y = [5.0, 6, 7, 8, 9], [3.0, 4.5, 5, 6.2, 7]
    for f, kw in CALLS:
        a = f(x, y, **kw)
        b = f(x, y, axis=0, **kw)
        c = f(np.array(x), pd.Series(y), axis=-1, **kw)
        assert isinstance(a, EffectSizeResult)
        assert a == b == c
        assert float(a.estimate) == a.estimate
    # axis=None ravels a 2-D input into one sample (scipy's rule)
    grid = np.array([[5.0, 6, 7], [8, 9, 10]])
    assert es.hedges_g(grid, y, axis=None) == es.hedges_g(grid.reshape(-1), y)
    # a one-column DataFrame stays one sample
    assert es.cliffs_delta(pd.DataFrame({"v": x}), y) == es.cliffs_delta(x, y)


def test_input_not_modified():
    x = np.arange(20.0).reshape(2, 10)
    y = x[::-1].copy()
    y[0, 1] = np.nan
    x0, y0 = x.copy(), y.copy()
    with pytest.warns(RehabStatsWarning):
        es.hedges_g(x, y, axis=1)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


def test_large_batch_interpolated_limits_equal_one_sample_calls():
    """Above _INTERP_MIN elements sharing a df the limits are interpolated: still 1e-12."""
    rng = np.random.default_rng(11)
    n = _intervals._INTERP_MIN + 500
    x = rng.normal(0.8, 1.0, size=(n, 6))
    y = rng.normal(0.0, 1.7, size=(n, 6))
    x[:50] += 25.0  # far tail of t as well
    for f, kw in (
        (es.hedges_g, {}),
        (es.glass_delta, {}),
        (es.cohens_d, {"paired": True}),
        (es.standardized_mean_change, {"standardizer": "rm"}),
    ):
        res = f(x, y, axis=1, **kw)
        for i in list(range(0, n, 97)) + list(range(50)):
            one = f(x[i], y[i], **kw)
            for k in FIELDS:
                assert _close(getattr(one, k), getattr(res, k)[i]), (f.__name__, i, k)


def test_batch_result_renders():
    rng = np.random.default_rng(3)
    res = es.hedges_g(rng.normal(size=(12, 5)), rng.normal(size=(12, 5)), axis=1)
    text = res.summary()
    assert "hedges_g for a batch of shape (12,)" in text
    assert "and 2 more" in text
    assert "<table" in res._repr_html_()
    assert list(res.to_frame().columns) == [
        "index",
        *es.hedges_g([1, 2, 3], [2, 3, 5]).to_frame().columns,
    ]
    assert len(res) == 12
    assert res.size == 12
    with pytest.raises(IndexError):
        res[1:3]
