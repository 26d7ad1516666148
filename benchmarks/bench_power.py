"""Benchmark: power by simulation (``rs.power.simulate``) against its peers, as ratios.

All ratios come from one run on one machine:

1. 1,000 simulated 20-person, 3-visit trials (10 per arm) analysed by ANCOVA
   (follow-up on pre): ``simulate(..., "ancova")`` vs a loop of statsmodels
   ``smf.ols`` fits on the same 1,000 data sets. Goal >= 20x.
2. The same 1,000 trials by MMRM (unstructured, REML, Satterthwaite):
   ``simulate(..., "mmrm")`` on one core vs a loop of statsmodels ``MixedLM``
   (random intercept, REML) fits, goal >= 10x; and vs ``mixedlm.powerSim``
   (PyPI ``mixedlm``, an lme4 port: simulates and refits a random-intercept LMM
   on the same design), goal >= 2x. The peer loops are timed on a subset and
   scaled to 1,000 (stated in the output).
3. Power of 1,000 single-case A-B series (30 sessions, min. phase 5, 21
   admissible starts, mean difference) vs 1,000 calls of scan's ``rand_test``
   at 2.25 ms a call (../shared/validation/sced/TIMINGS.md). Goal >= 30x.
4. 400 MMRM trials on a dask ``LocalCluster`` with 2 worker processes
   (``threads_per_worker=1``, BLAS limited to one thread per task) vs one
   process (results identical to the last digit, checked). Goal >= 1.6x. Also
   joblib's loky backend with ``n_jobs=2``, and the machine's own ceiling: the
   same MMRM batches in two bare processes (``ProcessPoolExecutor``) vs one
   after the other. On a shared machine the ceiling is what the other users
   leave (1.0 when one core's worth is free), so it and ``uptime`` are printed
   with the ratios. The cluster's start-up and its first run on fresh workers
   (imports, first fits) are timed and printed separately; the ratios are
   medians of ``--repeats`` rounds that run one process, dask, loky and the
   bare pool one after the other (interleaved). Then a cluster with dask's
   worker profiler switched off, in rounds of its own against one process,
   shows what the profiler costs (printed only).

Run: ``python benchmarks/bench_power.py`` (``--smoke`` for a quick check).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
import warnings
from typing import Any

import pandas as pd

import rehabstats as rs
from rehabstats.design._seeds import to_seed_sequence

SCAN_RAND_TEST_PER_CALL = 0.00225


def _trial() -> rs.design.ParallelTrial:
    return rs.design.ParallelTrial(
        n_per_arm=10,
        visits=["pre", "post", "followup"],
        mean={"control": [2.0, 2.3, 2.3], "cimt": [2.0, 3.3, 3.1]},
        sd=[0.6, 1.0, 1.05],
        correlation=("cs", 0.6),
        retention=[1, 1, 1],
    )


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _warm() -> None:
    import rehabstats as rs_

    rs_.power.simulate(_trial(), "mmrm", n_sims=20, rng=0)


def _bare_chunk(lo: int, hi: int) -> None:
    """MMRM simulations lo..hi-1 as a bare process-pool task (the ceiling): the blocks of
    100 that simulate() analyses, so the ceiling does the same work as one process."""
    from rehabstats.power._analyses import run_chunk
    from rehabstats.power._simulate import SIMS_PER_BLOCK

    for a in range(lo, hi, SIMS_PER_BLOCK):
        b = min(a + SIMS_PER_BLOCK, hi)
        run_chunk(_trial(), "mmrm", {}, to_seed_sequence(5), a, b, True)


def _best(fn: Any, repeats: int) -> tuple[float, Any]:  # section 3
    best, out = float("inf"), None
    for _ in range(repeats):
        t, out = _timed(fn)
        best = min(best, t)
    return best, out


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def _median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def _parallel_rows(trial: rs.design.ParallelTrial, n_dask: int, repeats: int) -> list[Any]:
    """Section 4: dask LocalCluster(2) and loky(2) vs one process, with the machine ceiling.

    Cluster start-up and the first (cold) run on fresh workers are timed and
    printed separately; the compared timings are medians over ``repeats``
    rounds in which one process, dask, loky and the bare two-process pool run
    one after the other (interleaved, so a change of load hits all of them).
    Then a second cluster (only one runs at a time: an idle cluster takes ~2%
    of a core per process), whose workers run without dask's statistical
    profiler (``distributed.worker.profile.enabled: false``), in rounds of its
    own against one process: what the profiler costs (printed, not a goal row:
    the goal is for default workers).
    """
    from concurrent.futures import ProcessPoolExecutor

    rows: list[Any] = []
    print(f"parallel section starts: {_load()}")

    def one() -> Any:
        return rs.power.simulate(trial, "mmrm", n_sims=n_dask, rng=5)

    def loky() -> Any:
        return rs.power.simulate(trial, "mmrm", n_sims=n_dask, rng=5, n_jobs=2)

    def dask_run(client: Any) -> Any:  # client.as_current(): get_client() finds it
        with client.as_current():
            return rs.power.simulate(trial, "mmrm", n_sims=n_dask, rng=5, backend="dask")

    half = [(0, n_dask // 2), (n_dask // 2, n_dask)]
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:
        Client = LocalCluster = None
        print("dask.distributed is not installed; the cluster comparison is skipped")
    times: dict[str, list[float]] = {
        "one": [],
        "loky": [],
        "dask": [],
        "dask_noprof": [],
        "one_noprof_rounds": [],
        "serial": [],
        "pool": [],
    }
    ref = one()
    for _ in range(2):  # start both loky workers (imports, first fits), not timed; one
        loky()  # run of 100 trials is one task, and loky starts its second worker later

    def start_cluster(stack: contextlib.ExitStack, profile: bool) -> Any:
        # an idle cluster costs ~2% of a core per process: one cluster at a time
        with dask.config.set({"distributed.worker.profile.enabled": profile}):
            t_start, cluster = _timed(
                lambda: stack.enter_context(
                    LocalCluster(
                        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
                    )
                )
            )
        client = stack.enter_context(Client(cluster, set_as_default=False))
        t_cold, got = _timed(lambda: dask_run(client))  # fresh workers: imports, first fits
        client.run(_warm)  # make sure every worker has imported and fitted once
        pd.testing.assert_frame_equal(ref.estimates, got.estimates, check_exact=True)
        print(
            f"LocalCluster(2 workers, 1 thread each, profiler {'on' if profile else 'off'}): "
            f"start {t_start:.2f} s; first run on fresh workers (imports, first fits) "
            f"{t_cold:.3f} s (not in the ratio)"
        )
        return client

    def timed_dask(client: Any) -> float:
        t, got = _timed(lambda: dask_run(client))
        pd.testing.assert_frame_equal(ref.estimates, got.estimates, check_exact=True)
        return t

    with ProcessPoolExecutor(2) as pool, contextlib.ExitStack() as stack:
        list(pool.map(_bare_chunk, [0, 0], [10, 10]))  # imports in both processes
        client = start_cluster(stack, True) if LocalCluster is not None else None
        for _ in range(repeats):
            times["one"].append(_timed(one)[0])
            if client is not None:
                times["dask"].append(timed_dask(client))
            t, got = _timed(loky)
            pd.testing.assert_frame_equal(ref.estimates, got.estimates, check_exact=True)
            times["loky"].append(t)
            times["serial"].append(_timed(lambda: [_bare_chunk(a, b) for a, b in half])[0])
            times["pool"].append(
                _timed(lambda: list(pool.map(_bare_chunk, *zip(*half, strict=True))))[0]
            )
    if LocalCluster is not None:  # what the workers' profiler costs: its own rounds
        with contextlib.ExitStack() as stack:
            client = start_cluster(stack, False)
            for _ in range(repeats):
                times["one_noprof_rounds"].append(_timed(one)[0])
                times["dask_noprof"].append(timed_dask(client))
    med = {k: _median(v) for k, v in times.items() if v}
    print(
        f"median of {repeats} interleaved rounds (s): "
        + ", ".join(f"{k} {v:.3f}" for k, v in med.items())
        + f"; one process / loky {med['one'] / med['loky']:.2f}x"
        + f"; ceiling (serial / pool) {med['serial'] / med['pool']:.2f}x"
        + (
            f", one process / dask {med['one'] / med['dask']:.2f}x, loky / dask "
            f"{med['loky'] / med['dask']:.2f}x, dask reaches "
            f"{(med['one'] / med['dask']) / (med['serial'] / med['pool']):.0%} of the ceiling"
            f"; in rounds of their own, one process / dask "
            f"with the workers' profiler off {med['one_noprof_rounds'] / med['dask_noprof']:.2f}x"
            if "dask" in med
            else ""
        )
    )
    rows.append(
        (
            f"mmrm, {n_dask} trials, 2 bare processes (machine ceiling)",
            "one process",
            med["pool"],
            med["serial"],
            1.6,
        )
    )
    rows.append(
        (
            f"mmrm, {n_dask} trials, joblib loky n_jobs=2",
            "one process",
            med["loky"],
            med["one"],
            1.6,
        )
    )
    if "dask" in med:
        rows.append(
            (
                f"mmrm, {n_dask} trials, dask LocalCluster(2 processes)",
                "one process",
                med["dask"],
                med["one"],
                1.6,
            )
        )
    print(f"parallel section ends: {_load()}")
    return rows


def main(smoke: bool = False, repeats: int = 3) -> None:
    n_sims = 100 if smoke else 1000
    n_peer = 10 if smoke else 100
    trial = _trial()
    Y, O = trial._draw_range(to_seed_sequence(1), 0, n_peer)  # the data sets simulate() analyses
    frames = [trial._frame(Y[i], O[i]) for i in range(n_peer)]
    rows = []

    # 1. ANCOVA
    import statsmodels.formula.api as smf

    t_ours, _ = _timed(lambda: rs.power.simulate(trial, "ancova", n_sims=n_sims, rng=1))

    def ols_loop() -> None:
        for d in frames:
            wide = d.pivot(index="subject", columns="visit", values="outcome")
            wide["arm"] = d.groupby("subject")["arm"].first()
            wide.columns = [str(c) for c in wide.columns]
            smf.ols("followup ~ arm + pre", wide).fit()

    t_peer, _ = _timed(ols_loop)
    t_peer *= n_sims / n_peer
    rows.append(("ancova, 1,000 trials", "statsmodels ols loop", t_ours, t_peer, 20))

    # 2. MMRM
    t_mmrm, res = _timed(lambda: rs.power.simulate(trial, "mmrm", n_sims=n_sims, rng=1))

    def mixedlm_loop() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for d in frames:
                d = d.assign(visit=d["visit"].astype(str), arm=d["arm"].astype(str))
                smf.mixedlm("outcome ~ arm * visit", d, groups=d["subject"]).fit(reml=True)

    t_peer, _ = _timed(mixedlm_loop)
    t_peer *= n_sims / n_peer
    rows.append(
        ("mmrm (us, Satterthwaite), 1,000 trials", "statsmodels MixedLM loop", t_mmrm, t_peer, 10)
    )
    try:
        import mixedlm

        d0 = frames[0].assign(
            visit=frames[0]["visit"].astype(str), arm=frames[0]["arm"].astype(str)
        )
        fit = mixedlm.lmer("outcome ~ arm * visit + (1|subject)", d0)
        t_ps, _ = _timed(lambda: mixedlm.powerSim(fit, nsim=n_peer, seed=1))
        t_ps *= n_sims / n_peer
        rows.append(
            (
                "mmrm (us, Satterthwaite), 1,000 trials",
                f"mixedlm {mixedlm.__version__} powerSim",
                t_mmrm,
                t_ps,
                2,
            )
        )
    except ImportError:
        print("mixedlm is not installed (pip install mixedlm); powerSim not compared")

    # 3. single-case A-B power
    ab = rs.design.SingleCaseDesign(
        design="AB", n_sessions=30, min_phase_length=5, level_effect=1.0
    )
    # best of `repeats` (the peer figure is a recorded clean measurement)
    t_sc, sres = _best(
        lambda: rs.power.simulate(ab, "randomization_test", n_sims=n_sims, rng=1), repeats
    )
    assert sres.min_attainable_p == 1 / 21
    rows.append(
        (
            "A-B randomization-test power, 1,000 series",
            "scan rand_test x 1,000",
            t_sc,
            SCAN_RAND_TEST_PER_CALL * n_sims,
            30,
        )
    )

    # 4. two processes: dask LocalCluster, joblib loky, bare process pool (ceiling)
    rows += _parallel_rows(trial, 100 if smoke else 400, repeats)

    table = pd.DataFrame(rows, columns=["task", "peer", "rehabstats_s", "peer_s", "goal_x"])
    table["ratio_x"] = table["peer_s"] / table["rehabstats_s"]
    table["meets_goal"] = table["ratio_x"] >= table["goal_x"]
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"(peer loops timed on {n_peer} data sets and scaled to {n_sims}; "
        f"simulated MMRM power {res.power:.3f}, n_failed {res.n_failed})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small sizes, quick check")
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="runs per timing (section 3: best; section 4: median of rounds)",
    )
    parser.add_argument(
        "--parallel-only",
        action="store_true",
        help="only section 4 (dask / loky / bare processes vs one process)",
    )
    args = parser.parse_args()
    if args.parallel_only:
        rows = _parallel_rows(_trial(), 100 if args.smoke else 400, args.repeats)
        table = pd.DataFrame(rows, columns=["task", "peer", "rehabstats_s", "peer_s", "goal_x"])
        table["ratio_x"] = table["peer_s"] / table["rehabstats_s"]
        with pd.option_context("display.width", 200, "display.max_colwidth", 60):
            print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    else:
        main(smoke=args.smoke, repeats=args.repeats)
