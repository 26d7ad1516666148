"""Batch (``axis=``) single-case indices: series i equals the one-series call on series i.

Tolerance 1e-12 relative to ``1 + |value|``: estimates and SEs agree bit for bit
(same cores); the NAP/Tau score limits are found by bisection in a batch and by
Brent's method for one series (~1e-15).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from _batch_checks import FIELDS, close, one_call
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rehabstats import sced
from rehabstats._batch_results import BatchEffectSizeResult
from rehabstats._results import EffectSizeResult
from rehabstats.errors import DataError, RehabStatsWarning

CALLS = [
    ("pnd", {}),
    ("pem", {}),
    ("pand", {}),
    ("pand", {"method": "sort"}),
    ("ird", {}),
    ("nap", {}),
    ("nap", {"ci_method": "score", "se_method": "hanley"}),
    ("tau", {}),
    ("tau_u", {}),
    ("tau_u", {"method": "complete", "ci": 0.9}),
    ("tau_bc", {}),
    ("tau_bc", {"kendall": True}),
    ("smd", {}),
    ("smd", {"standardizer": "pooled"}),
    ("lrrd", {}),
    ("lrri", {"bias_correct": False}),
    ("lrm", {}),
    ("lrm", {"delta_method": True}),
    ("pogo", {"goal": 12.0}),
    ("lor", {"intervals": 10}),
]
IDS = [f"{n}{kw}" for n, kw in CALLS]


_close = close


def _one(f, a, b, kw):
    return one_call(f, a[~np.isnan(a)], b[~np.isnan(b)], kw)


def _check(name, kw, a, b, axis=1):
    f = getattr(sced, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        res = f(a, b, axis=axis, **kw)
    assert isinstance(res, BatchEffectSizeResult)
    ar, br = np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1)
    for i in range(res.shape[0]):
        one = _one(f, ar[i], br[i], kw)
        if one is None:
            assert math.isnan(res.estimate[i])
            continue
        for k in FIELDS:
            assert _close(getattr(one, k), float(getattr(res, k)[i])), (name, i, k)
        assert (one.n_x, one.n_y) == (res.n_x[i], res.n_y[i])
        if one.ci_method != "none":
            assert one.ci_method == res.ci_method
    return res


@st.composite
def series(draw, percent: bool):
    k = draw(st.integers(1, 5))
    m = draw(st.integers(1, 7))
    n = draw(st.integers(1, 7))
    top = 10 if percent else 12
    el = st.integers(0, top).map(lambda v: float(v) * (10.0 if percent else 1.0))
    a = draw(hnp.arrays(float, (k, m), elements=el))
    b = draw(hnp.arrays(float, (k, n), elements=el))
    return a, b


@pytest.mark.parametrize(("name", "kw"), CALLS, ids=IDS)
@given(data=st.data())
def test_series_i_equals_the_one_series_call(name, kw, data):
    a, b = data.draw(series(name == "lor"))
    _check(name, kw, a, b)


@pytest.mark.parametrize(("name", "kw"), CALLS, ids=IDS)
def test_axis0_transpose_and_nan_series(name, kw):
    rng = np.random.default_rng(4)
    top = 100.0 if name == "lor" else 1.0
    a = np.minimum(rng.poisson(4, size=(9, 6)).astype(float) * (8 if top > 1 else 1), 100)
    b = np.minimum(rng.poisson(7, size=(9, 8)).astype(float) * (8 if top > 1 else 1), 100)
    f = getattr(sced, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        r1 = f(a, b, axis=1, **kw)
        r0 = f(a.T, b.T, **kw)
    for k in FIELDS:
        np.testing.assert_array_equal(getattr(r1, k), getattr(r0, k))
    a[2, 1] = np.nan
    b[5, [0, 3]] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RehabStatsWarning)
        res = f(a, b, axis=1, **kw)
    assert any("3 missing value(s)" in str(w.message) for w in caught)
    assert (res.n_omitted[2], res.n_omitted[5], res.n_y[2], res.n_x[5]) == (1, 2, 5, 6)
    _check(name, kw, a, b)


def test_degenerate_series_warn_once_and_name_the_series():
    a = np.array([[2.0, 3, 5, 3], [4.0, 4, 4, 4], [1.0, 2, 2, 1]])
    b = np.array([[5.0, 6, 7, 6], [6.0, 7, 5, 8], [4.0, 3, 5, 4]])
    with pytest.warns(RehabStatsWarning, match=r"element\(s\) 1 of the batch"):
        res = sced.smd(a, b, axis=1)
    assert math.isinf(res.estimate[1])
    assert np.isfinite(res.estimate[[0, 2]]).all()
    with pytest.warns(RehabStatsWarning, match="goal"):
        pg = sced.pogo(a, b, axis=1, goal=4.0)  # series 1: goal = baseline mean
    assert math.isnan(pg.estimate[1])
    assert np.isfinite(pg.estimate[0])


def test_mismatched_shapes_and_bad_options_raise():
    with pytest.raises(DataError, match=r"'baseline' \(3, 4\), 'treatment' \(2, 5\)"):
        sced.nap(np.ones((3, 4)), np.ones((2, 5)), axis=1)
    with pytest.raises(DataError, match="'se_method'"):
        sced.nap(np.ones((3, 4)), np.ones((3, 5)), axis=1, se_method="exact")
    with pytest.raises(DataError, match="'goal'"):
        sced.pogo(np.ones((3, 4)), np.ones((3, 5)), axis=1, goal=None)
    with pytest.raises(DataError, match="'improvement'"):
        sced.pnd(np.ones((3, 4)), np.ones((3, 5)), axis=1, improvement="up")
    with pytest.raises(DataError, match="'axis' argument is 3"):
        sced.tau(np.ones((3, 4)), np.ones((3, 5)), axis=3)


def test_one_series_calls_unchanged():
    base, trt = [2.0, 3, 5, 3], [4.0, 5, 5, 7, 6]
    for name, kw in CALLS:
        f = getattr(sced, name)
        if name == "lor":
            base_, trt_ = [20.0, 30, 50, 30], [40.0, 50, 50, 70, 60]
        else:
            base_, trt_ = base, trt
        a = f(base_, trt_, **kw)
        assert isinstance(a, EffectSizeResult)
        for other in (f(base_, trt_, axis=0, **kw), f(np.array(base_), trt_, axis=-1, **kw)):
            assert isinstance(other, EffectSizeResult)
            assert other.to_frame().equals(a.to_frame())
