"""Keep benchmarks/bench_effect_sizes.py working (tiny run, no timing claims)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_effect_sizes.py"


def test_benchmark_runs(capsys):
    spec = importlib.util.spec_from_file_location("bench_effect_sizes", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(n_pairs=200, n_loop=50)
    assert out["n_pairs"] == 200
    assert out["ratio"] > 0
    assert "ratio pingouin / rehabstats" in capsys.readouterr().out
