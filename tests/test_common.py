"""Checks common to every public effect-size function, run over one registry.

For each function in :mod:`rehabstats.effect_sizes` and each single-case index in
:mod:`rehabstats.sced`:

(a) array-like inputs (lists, numpy arrays, pandas Series) are never modified,
    also when missing values are dropped;
(b) ``to_frame()`` has the fixed column schema of ``EffectSizeResult``;
(c) a bad confidence level (0, 1, 95, "x") raises a DataError naming 'ci';
(d) list, array and Series inputs (a Series with a shuffled, non-default index
    included) give bit-identical results;
(e) ``summary()`` is a non-empty string and ``_repr_html_()`` holds a ``<table``;
plus, for functions with ``nan_policy``: ``"raise"`` turns a NaN into a DataError
and an unknown policy is rejected naming 'nan_policy'; and the registry covers
every public effect-size function.

Adding a function = adding one ``Case`` to ``REGISTRY``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rehabstats import effect_sizes as es
from rehabstats import sced
from rehabstats._results import EffectSizeResult
from rehabstats.errors import DataError, RehabStatsWarning

#: the fixed columns of EffectSizeResult.to_frame()
SCHEMA = [
    "measure",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "ci_level",
    "ci_method",
    "n_x",
    "n_y",
    "n",
    "n_omitted",
]

X = [5.1, 6.3, 7.0, 6.2, 8.4, 7.7, 6.9]
Y = [4.0, 5.2, 4.9, 5.8, 4.5, 5.3, 6.1]
PRE_Y = [3.9, 5.0, 5.1, 5.2, 4.4, 4.9, 5.5]
BASE = [2.0, 3.0, 5.0, 3.0, 4.0]  # single-case baseline (counts, all positive)
TRT = [5.0, 5.0, 7.0, 6.0, 8.0, 6.0, 9.0]
PCT_BASE = [20.0, 30.0, 25.0, 35.0, 30.0]  # percentage of intervals, for LOR
PCT_TRT = [50.0, 60.0, 55.0, 70.0, 65.0, 80.0, 75.0]


@dataclass(frozen=True)
class Case:
    """One public function with valid arguments.

    ``arrays`` are the positions in ``args`` of array-like arguments (the
    others are scalars); ``has_ci`` says whether the function takes ``ci``.
    """

    name: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    arrays: tuple[int, ...] = ()
    has_ci: bool = True


def _two(f: Callable[..., Any], name: str, **kw: Any) -> Case:
    return Case(name, f, (X, Y), kw, arrays=(0, 1))


def _sced(f: Callable[..., Any], name: str, *, has_ci: bool = True, **kw: Any) -> Case:
    return Case(f"sced.{name}", f, (BASE, TRT), kw, arrays=(0, 1), has_ci=has_ci)


REGISTRY: list[Case] = [
    _two(es.cohens_d, "cohens_d"),
    _two(es.cohens_d, "cohens_d_paired", paired=True),
    _two(es.hedges_g, "hedges_g"),
    _two(es.hedges_g, "hedges_g_paired", paired=True),
    _two(es.glass_delta, "glass_delta"),
    _two(es.cliffs_delta, "cliffs_delta"),
    _two(es.rank_biserial, "rank_biserial"),
    _two(es.rank_biserial, "rank_biserial_paired", paired=True),
    _two(es.prob_superiority, "prob_superiority"),
    *[
        Case(
            f"standardized_mean_change_{s}",
            es.standardized_mean_change,
            (PRE_Y, X),
            {"standardizer": s},
            arrays=(0, 1),
        )
        for s in ("pre", "change", "average", "rm")
    ],
    Case("ppc_smd", es.ppc_smd, (PRE_Y, X, PRE_Y[::-1], Y), arrays=(0, 1, 2, 3)),
    Case("smd_from_summary", es.smd_from_summary, (6.8, 1.1, 7, 5.1, 0.7, 7)),
    Case("smd_from_t", es.smd_from_t, (3.2, 7, 7)),
    Case("smd_from_t_one_sample", es.smd_from_t, (3.2, 10)),
    Case(
        "ppc_smd_from_summary",
        es.ppc_smd_from_summary,
        (4.9, 6.8, 0.8, 7, 5.0, 5.1, 0.7, 7),
        {"r": 0.5},
    ),
    Case("risk_difference", es.risk_difference, (12, 20, 5, 20)),
    Case("risk_ratio", es.risk_ratio, (12, 20, 5, 20)),
    Case("odds_ratio", es.odds_ratio, (12, 20, 5, 20)),
    Case("nnt", es.nnt, (12, 20, 5, 20)),
    # single-case indices (SingleCaseES argument conventions)
    _sced(sced.nap, "nap"),
    _sced(sced.tau, "tau"),
    _sced(sced.tau_u, "tau_u", ci=0.95),
    _sced(sced.tau_bc, "tau_bc"),
    _sced(sced.pnd, "pnd", has_ci=False),
    _sced(sced.pem, "pem", has_ci=False),
    _sced(sced.pand, "pand", has_ci=False),
    _sced(sced.ird, "ird", has_ci=False),
    _sced(sced.smd, "smd"),
    _sced(sced.lrrd, "lrrd"),
    _sced(sced.lrri, "lrri"),
    Case("sced.lor", sced.lor, (PCT_BASE, PCT_TRT), {"scale": "percentage"}, arrays=(0, 1)),
    _sced(sced.lrm, "lrm"),
    _sced(sced.pogo, "pogo", goal=12.0),
]

IDS = [c.name for c in REGISTRY]
NAN_POLICY_CASES = [c for c in REGISTRY if "nan_policy" in inspect.signature(c.func).parameters]
ARRAY_CASES = [c for c in REGISTRY if c.arrays]
CI_CASES = [c for c in REGISTRY if c.has_ci]


def _as(kind: str, values: list[float]) -> Any:
    if kind == "list":
        return list(values)
    if kind == "array":
        return np.array(values, dtype=float)
    if kind == "series":
        return pd.Series(values, dtype=float, name="v")
    # a Series whose labels are neither 0..n-1 nor sorted: positional code must not use them
    return pd.Series(values, index=np.arange(len(values))[::-1] * 7 + 3, dtype=float)


def _with(case: Case, kind: str) -> tuple[Any, ...]:
    return tuple(_as(kind, a) if i in case.arrays else a for i, a in enumerate(case.args))


def _call(case: Case, args: tuple[Any, ...], **extra: Any) -> Any:
    return case.func(*args, **{**case.kwargs, **extra})


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, pd.Series):
        return isinstance(b, pd.Series) and a.equals(b) and a.index.equals(b.index)
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=True)
        )
    return (
        bool(a == b)
        if not isinstance(a, list)
        else (
            len(a) == len(b)
            and all(u == v or (math.isnan(u) and math.isnan(v)) for u, v in zip(a, b, strict=True))
        )
    )


def _copy(value: Any) -> Any:
    return value.copy() if hasattr(value, "copy") else value


# (a) ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["list", "array", "series", "shuffled"])
@pytest.mark.parametrize("case", ARRAY_CASES, ids=[c.name for c in ARRAY_CASES])
def test_inputs_not_modified(case: Case, kind: str) -> None:
    args = _with(case, kind)
    before = [_copy(a) for a in args]
    _call(case, args)
    for a, b in zip(args, before, strict=True):
        assert _same(a, b), f"{case.name} modified a {kind} input"


@pytest.mark.parametrize("kind", ["list", "array", "series"])
@pytest.mark.parametrize("case", ARRAY_CASES, ids=[c.name for c in ARRAY_CASES])
def test_inputs_not_modified_when_missing_values_are_dropped(case: Case, kind: str) -> None:
    raw = [list(a) if i in case.arrays else a for i, a in enumerate(case.args)]
    raw[case.arrays[0]][1] = math.nan
    args = tuple(_as(kind, a) if i in case.arrays else a for i, a in enumerate(raw))
    before = [_copy(a) for a in args]
    with pytest.warns(RehabStatsWarning, match="missing"):
        res = _call(case, args)
    assert res.n_omitted >= 1
    for a, b in zip(args, before, strict=True):
        assert _same(a, b), f"{case.name} modified a {kind} input holding NaN"


@pytest.mark.parametrize("case", NAN_POLICY_CASES, ids=[c.name for c in NAN_POLICY_CASES])
def test_nan_policy_raise_and_bad_value(case: Case) -> None:
    raw = [list(a) if i in case.arrays else a for i, a in enumerate(case.args)]
    raw[case.arrays[-1]][0] = math.nan
    with pytest.raises(DataError, match="nan_policy"):
        _call(case, tuple(raw), nan_policy="raise")
    with pytest.raises(DataError, match="'nan_policy'"):
        _call(case, case.args, nan_policy="drop")


# (b) ------------------------------------------------------------------------------
@pytest.mark.parametrize("case", REGISTRY, ids=IDS)
def test_to_frame_schema(case: Case) -> None:
    res = _call(case, case.args)
    assert isinstance(res, EffectSizeResult)
    frame = res.to_frame()
    assert list(frame.columns) == SCHEMA
    assert len(frame) == 1
    row = frame.iloc[0]
    assert isinstance(row["measure"], str)
    assert row["measure"]
    assert isinstance(row["ci_method"], str)
    for col in ("estimate", "se", "ci_low", "ci_high", "ci_level"):
        assert pd.api.types.is_float_dtype(frame[col].dtype) or frame[col].isna().all(), col
    assert row["n"] == (row["n_x"] or 0) + (0 if pd.isna(row["n_y"]) else row["n_y"])


# (c) ------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, 1, 95, "x"])
@pytest.mark.parametrize("case", CI_CASES, ids=[c.name for c in CI_CASES])
def test_bad_ci_raises_naming_ci(case: Case, bad: Any) -> None:
    with pytest.raises(DataError, match="'ci'"):
        _call(case, case.args, ci=bad)


@pytest.mark.parametrize("case", CI_CASES, ids=[c.name for c in CI_CASES])
def test_ci_level_is_recorded(case: Case) -> None:
    res = _call(case, case.args, ci=0.9)
    if not (math.isnan(res.ci_low) and math.isnan(res.ci_high)):
        assert res.ci_level == 0.9
        assert res.ci_low <= res.ci_high


# (d) ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["array", "series", "shuffled"])
@pytest.mark.parametrize("case", ARRAY_CASES, ids=[c.name for c in ARRAY_CASES])
def test_list_array_series_identical(case: Case, kind: str) -> None:
    ref = _call(case, _with(case, "list")).to_frame()
    other = _call(case, _with(case, kind)).to_frame()
    pd.testing.assert_frame_equal(ref, other, check_exact=True)


# (e) ------------------------------------------------------------------------------
@pytest.mark.parametrize("case", REGISTRY, ids=IDS)
def test_summary_and_html(case: Case) -> None:
    res = _call(case, case.args)
    text = res.summary()
    assert isinstance(text, str)
    assert text.strip()
    assert str(res) == text
    html = res._repr_html_()
    assert isinstance(html, str)
    assert "<table" in html


def test_registry_covers_the_public_effect_size_functions() -> None:
    """Every EffectSizeResult-returning public function is in the registry."""
    names = {c.func.__name__ for c in REGISTRY}
    conversions = {"d_to_r", "r_to_d", "d_to_odds_ratio", "odds_ratio_to_d", "ncp_limits"}
    # from what papers print (rs.effect_sizes._from_paper): numbers, not EffectSizeResult
    conversions |= {"se_from_ci", "sd_from_ci", "se_from_p", "mean_sd_from_median", "check_ci"}
    public = {n for n in es.__all__ if callable(getattr(es, n)) and n[0].islower()}
    assert public - conversions - names == set()
    sced_required = {
        "nap",
        "tau",
        "tau_u",
        "tau_bc",
        "pnd",
        "pem",
        "pand",
        "ird",
        "smd",
        "lrrd",
        "lrri",
    }
    assert sced_required <= names
