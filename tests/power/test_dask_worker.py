"""The dask task wrapper: memory settings of dask's nanny, BLAS threads, results unchanged."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from rehabstats.design import ParallelTrial
from rehabstats.design._seeds import to_seed_sequence
from rehabstats.power import _simulate
from rehabstats.power._analyses import run_chunk

_CHILD = r"""
import contextlib, json, resource
from rehabstats.design import ParallelTrial
from rehabstats.design._seeds import to_seed_sequence
from rehabstats.power import _simulate
from rehabstats.power._analyses import run_chunk

t = ParallelTrial(n_per_arm=10, visits=["pre", "post", "followup"],
                  mean={"control": [2.0, 2.3, 2.3], "cimt": [2.0, 3.3, 3.1]},
                  sd=[0.6, 1.0, 1.05], correlation=("cs", 0.6))
root = to_seed_sequence(5)
run_chunk(t, "mmrm", {}, root, 0, 100, True)

def faults(ctx):
    r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for b in range(1, 5):
        with ctx():
            run_chunk(t, "mmrm", {}, root, 100 * b, 100 * b + 100, True)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0

print(json.dumps({"plain": faults(contextlib.nullcontext), "task": faults(_simulate._task_heap)}))
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or _simulate._libc() is None,
    reason="glibc malloc tuning only",
)
def test_task_heap_avoids_page_faults_under_the_nanny_trim_threshold() -> None:
    """dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536: without _task_heap every large
    temporary is a fresh mmap (tens of thousands of page faults per 400 MMRM trials)."""
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    rec = json.loads(out.stdout.strip().splitlines()[-1])
    # measured: plain 8,000-33,000 faults (it varies with the heap's history), task 2,500-3,200
    assert rec["plain"] > 2 * rec["task"], rec


def test_task_heap_is_a_no_op_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    calls: list[object] = []
    monkeypatch.setattr(_simulate, "_libc", lambda: calls.append(1))
    with _simulate._task_heap():
        pass
    assert calls == []  # the C library is not touched


def test_dask_task_equals_run_chunk_and_restores_blas(monkeypatch: pytest.MonkeyPatch) -> None:
    from threadpoolctl import threadpool_info

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.setattr(_simulate, "_blas_single", None)
    before = [p["num_threads"] for p in threadpool_info()]
    t = ParallelTrial(
        n_per_arm=8,
        visits=["a", "b", "c"],
        mean={"c": [0.0, 0.0, 0.0], "t": [0.0, 0.5, 1.0]},
        sd=1.0,
        correlation=("ar1", 0.5),
        retention=[1, 0.9, 0.8],
    )
    root = to_seed_sequence(3)
    want = run_chunk(t, "mmrm", {}, root, 50, 150, True)
    for _ in range(2):  # first call: threadpool_limits; then the cached check
        got = _simulate._dask_task((t, "mmrm", {}), root, 50, 150, True)
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    assert [p["num_threads"] for p in threadpool_info()] == before
    assert _simulate._blas_single == all(n == 1 for n in before)


def test_group_ranges_covers_in_order_and_balances() -> None:
    ranges = [(i * 100, min(i * 100 + 100, 950)) for i in range(10)]
    for threads in (1, 2, 3, 4, 32):
        got = _simulate._group_ranges(ranges, threads)
        assert got[0][0] == 0
        assert got[-1][1] == 950
        assert all(a[1] == b[0] for a, b in itertools.pairwise(got))
        assert len(got) == min(10, threads)
        sizes = [-(-(hi - lo) // 100) for lo, hi in got]  # blocks per task
        assert max(sizes) - min(sizes) <= 1
    many = [(i * 100, i * 100 + 100) for i in range(45)]
    assert (
        max(hi - lo for lo, hi in _simulate._group_ranges(many, 2))
        <= 100 * _simulate._DASK_MAX_BLOCKS
    )


@pytest.mark.slow
def test_dask_tasks_over_several_blocks_equal_one_process() -> None:
    """One worker thread: every fast-path simulation in one task of 3 seed blocks (2.5 used),
    analysed block by block."""
    distributed = pytest.importorskip("dask.distributed")
    import rehabstats as rs

    t = ParallelTrial(
        n_per_arm=10,
        visits=["pre", "post", "followup"],
        mean={"control": [2.0, 2.3, 2.3], "cimt": [2.0, 3.3, 3.1]},
        sd=[0.8, 1.0, 1.1],
        correlation=("ar1", 0.6),
        retention=[1, 0.9, 0.8],
    )
    opts = [None, {"df_method": "kenward-roger"}]
    refs = [rs.power.simulate(t, "mmrm", n_sims=250, rng=4, analysis_options=o) for o in opts]
    anc = rs.power.simulate(t, "ancova", n_sims=250, rng=4)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert _simulate._group_ranges(
            [(0, 100), (100, 200), (200, 250)], _simulate._cluster_threads(client)
        ) == [(0, 250)]
        for o, ref in zip(opts, refs, strict=True):
            got = rs.power.simulate(
                t, "mmrm", n_sims=250, rng=4, backend="dask", analysis_options=o
            )
            pd.testing.assert_frame_equal(ref.estimates, got.estimates, check_exact=True)
        got = rs.power.simulate(t, "ancova", n_sims=250, rng=4, backend="dask")
        pd.testing.assert_frame_equal(anc.estimates, got.estimates, check_exact=True)
