"""The index registry is the single source of the single-case indices.

Each row names the function, its batch core and its option names; ``effect_sizes``
(tidy data) and the ``axis=`` batches dispatch through it, so an index added as one
module plus one row is computed by both. Tolerances: 1e-12 relative (same arithmetic).
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from rehabstats import sced
from rehabstats.sced import _registry
from rehabstats.sced._axis import no_interval, sced_batch
from rehabstats.sced._batch import effect_sizes
from rehabstats.sced._common import as_phase_arrays, make_result

#: option keys effect_sizes builds from its arguments besides its parameter names
_DERIVED = {"tau_u_level", "tau_u_ci_method"}


def test_rows_name_the_public_functions_and_groups() -> None:
    assert list(_registry.REGISTRY) == sced.index_names()
    for name, row in _registry.REGISTRY.items():
        assert getattr(sced, name) is row.function
        assert name in _registry.GROUPS[row.group]
    assert sced.INDICES == {n: r.function for n, r in _registry.REGISTRY.items()}
    assert _registry.GROUPS["nonoverlap"] == (
        "pnd",
        "pem",
        "pand",
        "ird",
        "nap",
        "tau",
        "tau_u",
        "tau_bc",
    )


def test_option_names_are_arguments_of_the_function_and_of_effect_sizes() -> None:
    table = set(inspect.signature(effect_sizes).parameters) | _DERIVED
    for name, row in _registry.REGISTRY.items():
        params = inspect.signature(row.function).parameters
        for kw, opt in row.options.items():
            assert kw in params, (name, kw)
            assert opt in table, (name, opt)


def _mean_shift(baseline, treatment, *, improvement="increase", axis=0):
    """A toy index: mean(B) - mean(A), in the direction of improvement."""
    if np.ndim(baseline) > 1:
        return sced_batch("mean_shift", baseline, treatment, axis=axis, improvement=improvement)
    a, b, improvement, omitted = as_phase_arrays(baseline, treatment, improvement)
    est = (b.mean() - a.mean()) * (1 if improvement == "increase" else -1)
    return make_result("mean_shift", est, n_baseline=a.size, n_treatment=b.size, n_omitted=omitted)


CORE_CALLS: list[int] = []


def _mean_shift_batch(a, b, improvement, opts):
    CORE_CALLS.append(a.shape[0])
    sign = 1 if improvement == "increase" else -1
    return no_interval(sign * (b.mean(axis=1) - a.mean(axis=1)))


def test_a_new_index_is_one_row(monkeypatch: pytest.MonkeyPatch) -> None:
    row = _registry.SCEDIndex(_mean_shift, "parametric", _mean_shift_batch)
    monkeypatch.setitem(_registry.REGISTRY, "mean_shift", row)
    monkeypatch.setitem(_registry.INDICES, "mean_shift", _mean_shift)
    df = pd.DataFrame(
        {
            "t": list(range(1, 10)) * 2,
            "c": ["x"] * 9 + ["y"] * 9,
            "ph": list("AAAABBBBB") * 2,
            "y": [2, 3, 5, 3, 4, 5, 5, 7, 6, 1, 1, 2, 2, 6, 7, 7, 8, 9],
        }
    )
    out = effect_sizes(
        df, outcome="y", phase="ph", session="t", case="c", indices=["mean_shift", "nap"]
    )
    assert CORE_CALLS == [2]  # both series (equal phase lengths) in one call of the core
    got = out[out["index"] == "mean_shift"]["estimate"].to_numpy()
    np.testing.assert_allclose(got, [5.4 - 3.25, 7.4 - 1.5], rtol=1e-12)
    a = np.array([[2.0, 3, 5, 3], [1, 1, 2, 2]])
    b = np.array([[4.0, 5, 5, 7, 6], [6, 7, 7, 8, 9]])
    batch = _mean_shift(a, b, axis=1, improvement="decrease")
    np.testing.assert_allclose(batch.estimate, -(b.mean(axis=1) - a.mean(axis=1)), rtol=1e-12)
    assert CORE_CALLS == [2, 2]
