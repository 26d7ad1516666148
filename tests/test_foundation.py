"""Tests of the shared foundation: errors, results, input checks, CLI."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import rehabstats as rs
from rehabstats import _validate as v
from rehabstats._results import EffectSizeResult, format_number
from rehabstats.errors import DataError, DesignError, RehabStatsError, RehabStatsWarning


def test_error_hierarchy() -> None:
    assert issubclass(RehabStatsError, ValueError)
    assert issubclass(DataError, RehabStatsError)
    assert issubclass(DesignError, RehabStatsError)
    assert issubclass(rs.ConvergenceWarning, RehabStatsWarning)


def test_effect_size_result_frame_and_summary() -> None:
    res = EffectSizeResult("hedges_g", 0.5, 0.2, 0.1, 0.9, 0.95, "ncp", 10, 12)
    frame = res.to_frame()
    assert list(frame.columns) == [
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
    assert res.n == 22
    assert "hedges_g = 0.500" in res.summary()
    assert "95% CI 0.100, 0.900" in res.summary()
    assert "<table" in res._repr_html_()
    nan_res = EffectSizeResult("pnd", 0.8, n_x=5, n_y=8)
    assert "no CI" in nan_res.summary()
    assert math.isnan(nan_res.se)


def test_format_number() -> None:
    assert format_number(float("nan")) == "NA"
    assert format_number(3) == "3"
    assert format_number(0.12345) == "0.123"
    assert format_number(1e-7) == "1e-07"
    assert format_number(float("inf")) == "Inf"


def test_as_float_array_drops_and_warns() -> None:
    x = [1.0, np.nan, 3.0]
    with pytest.warns(RehabStatsWarning, match="1 missing"):
        arr, n = v.as_float_array(x, "x")
    assert n == 1
    assert arr.tolist() == [1.0, 3.0]
    assert np.isnan(x[1])  # input untouched
    with pytest.raises(DataError, match="nan_policy='raise'"):
        v.as_float_array(x, "x", nan_policy="raise")


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (["a", 1.0], "non-numeric value 'a'"),
        ([], "at least 1"),
        ([[1.0, 2.0], [3.0, 4.0]], "one-dimensional"),
        ([1.0, np.inf], "infinite"),
        ("abc", "string"),
        (pd.Series(["1", "x"]), "non-numeric value 'x'"),
    ],
)
def test_as_float_array_bad_input(values: object, match: str) -> None:
    with pytest.raises(DataError, match=match):
        v.as_float_array(values, "x")


def test_as_paired_arrays() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        a, b, n = v.as_paired_arrays([1, 2, np.nan, 4], [1, np.nan, 3, 5], ("pre", "post"))
    assert n == 2
    assert a.tolist() == [1, 4]
    assert b.tolist() == [1, 5]
    with pytest.raises(DataError, match="same length"):
        v.as_paired_arrays([1, 2], [1, 2, 3], ("pre", "post"))


def test_check_helpers() -> None:
    with pytest.raises(DataError, match="'ci'"):
        v.check_ci(95)
    with pytest.raises(DataError, match="'improvement'"):
        v.check_improvement("up")
    with pytest.raises(DataError, match="'sd_x'.*greater than zero"):
        v.check_positive(-1.0, "sd_x")
    with pytest.raises(DataError, match="whole number"):
        v.check_positive(2.5, "n_x", integer=True)
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    with pytest.raises(DataError, match="'outcome' names column 'zz'.*Available columns: 'a', 'b'"):
        v.check_columns(frame, {"outcome": "zz"})
    with pytest.raises(DataError, match="'b'.*numeric.*'x'"):
        v.check_numeric_column(frame, "b", "outcome")
    assert isinstance(v.normalize_rng(1), np.random.Generator)
    with pytest.raises(DataError, match="rng"):
        v.normalize_rng("seed")


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    from rehabstats.cli import main

    with pytest.raises(SystemExit):
        main(["--version"])
    assert "0.1.0" in capsys.readouterr().out


def test_import_is_lazy_and_the_public_names_resolve() -> None:
    """`import rehabstats` loads no heavy dependency; every public name still resolves."""
    import subprocess
    import sys

    code = (
        "import sys, rehabstats; print(sorted(m for m in ('matplotlib', 'scipy.stats', "
        "'statsmodels', 'patsy', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"
    import rehabstats as rs

    assert set(rs.__all__) == {
        *rs._SUBMODULES,
        *rs._FUNCTIONS,
        "ConvergenceWarning",
        "DataError",
        "DesignError",
        "RehabStatsError",
        "RehabStatsWarning",
        "__version__",
        "errors",
    }
    for name in rs.__all__:
        assert getattr(rs, name) is not None, name
    assert rs.hedges_g is rs.effect_sizes.hedges_g
    assert rs.mmrm is rs.models.mmrm
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        rs.nope  # noqa: B018


def test_results_module_holds_every_result_class() -> None:
    """``rs.results`` is the one public home of the result classes: each resolves to the
    class its module defines, and no ``*Result`` class of the package is missing."""
    import importlib
    import inspect
    import pkgutil

    import rehabstats
    from rehabstats import results

    for name in results.__all__:
        assert inspect.isclass(getattr(results, name)), name
    defined = set()
    for info in pkgutil.walk_packages(rehabstats.__path__, "rehabstats."):
        if info.name.startswith("rehabstats._demo"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and name.endswith("Result") and obj.__module__ == info.name:
                defined.add(name)
    assert defined <= set(results.__all__), sorted(defined - set(results.__all__))
