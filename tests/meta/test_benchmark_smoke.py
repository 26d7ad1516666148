"""Keep benchmarks/bench_meta.py working (tiny run, no timing claims)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_meta.py"


def test_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("statsmodels")
    spec = importlib.util.spec_from_file_location("bench_meta", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(n_meta=20, k=5, repeat=1)
    assert out["n_meta"] == 20
    assert out["ratio"] > 0
    assert "ratio statsmodels / rehabstats batch" in capsys.readouterr().out
