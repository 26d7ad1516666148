"""The one-BLAS-thread context (rehabstats._blas) and its use by the model functions."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.linalg  # noqa: F401  (both bundled OpenBLAS libraries loaded before counting)
from threadpoolctl import threadpool_info

import rehabstats as rs
from rehabstats import _blas
from rehabstats._blas import single_thread_blas


def _blas_threads() -> list[int]:
    return [int(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas"]


def test_limits_to_one_thread_and_restores() -> None:
    before = _blas_threads()
    with single_thread_blas():
        assert all(n == 1 for n in _blas_threads())
        with single_thread_blas():  # nested: no change, no error
            assert all(n == 1 for n in _blas_threads())
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before
    assert _blas._DEPTH[0] == 0


def test_restores_after_an_exception() -> None:
    before = _blas_threads()
    try:
        with single_thread_blas():
            raise ValueError("boom")
    except ValueError:
        pass
    assert _blas_threads() == before
    assert _blas._DEPTH[0] == 0


def test_model_fits_run_single_threaded_and_warn_at_the_callers_line(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seen: list[list[int]] = []
    real = rs.models._mmrm.mmrm_design

    def spy(*a, **k):  # type: ignore[no-untyped-def]
        seen.append(_blas_threads())
        return real(*a, **k)

    monkeypatch.setattr(rs.models._mmrm, "mmrm_design", spy)
    rng = np.random.default_rng(1)
    d = pd.DataFrame(
        {
            "s": np.repeat(np.arange(12), 3),
            "v": np.tile(["a", "b", "c"], 12),
            "g": np.repeat(["c", "t"], 18),
            "y": rng.normal(size=36),
        }
    )
    d.loc[0, "y"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rs.mmrm("y ~ g * v", d, subject="s", visit="v")
    assert seen
    assert all(n == 1 for n in seen[0])
    monkeypatch.setattr(rs.models._mmrm, "mmrm_design", real)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        rs.mmrm("y ~ g * v", d, subject="s", visit="v")
    dropped = [w for w in rec if "missing" in str(w.message).lower()]
    assert dropped
    assert dropped[0].filename == __file__
