"""Power and sample size by simulation, from a laptop to a dask cluster."""

from __future__ import annotations

import itertools
import math
import numbers
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._results import Result, format_number
from .._validate import show_value
from ..design._parallel import ParallelTrial
from ..design._seeds import SIMS_PER_BLOCK, to_seed_sequence
from ..design._single_case import SingleCaseDesign
from ..errors import DataError, DesignError, RehabStatsWarning
from ._analyses import PARALLEL_ANALYSES, SCED_ANALYSES, run_chunk

__all__ = ["PowerResult", "SampleSizeResult", "sample_size", "simulate"]

#: Simulations per task: one seed block for the fast paths (drawing is most of the work of the
#: closed forms and the randomization test, and an MMRM batch of 100 fits ~1.2x faster per
#: trial than batches of 50 on this machine type), 20 for the general path. Fixed numbers:
#: the split never depends on ``n_jobs`` or the backend (and the results do not depend on it).
_CHUNK_FAST = SIMS_PER_BLOCK
_CHUNK_GENERAL = 20
#: Payloads (design, analysis, options) larger than this are scattered to the dask workers once.
_SCATTER_BYTES = 256 * 1024


def _clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    a = 1 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


@dataclass(frozen=True)
class PowerResult(Result):
    r"""Result of :func:`simulate`.

    Attributes
    ----------
    power : float
        Share of the ``n_sims`` simulated data sets with ``p < alpha``; a data
        set whose analysis failed (no p-value) counts as not significant.
    mc_se : float
        Monte Carlo SE, :math:`\\sqrt{\\hat p(1-\\hat p)/n_{sims}}`.
    ci_low, ci_high : float
        Clopper-Pearson 95% interval of the power.
    n_sims, n_failed : int
        Simulations, and those whose fit failed or did not converge (counted,
        never dropped silently; failed fits have ``p`` NaN).
    estimates : pandas.DataFrame
        One row per simulation: ``estimate, se, df, p, converged``.
    bias, empirical_se, mean_se, coverage : float
        Against :attr:`truth` where the design knows it (NaN otherwise):
        mean estimate minus truth, SD of the estimates, mean SE, and the share
        of ``1 - alpha`` t intervals (``estimate ± t(df) se``) that cover it.
    truth : float
        The true effect of the analysis under the design.
    alpha : float
    analysis : str
    method : str
        ``"vectorised"`` (a fast path over all simulations) or ``"general"``.
    min_attainable_p : float
        Smallest p the analysis can give (randomization tests: 1 / number of
        admissible assignments; 0 otherwise).
    note : str
        E.g. why the power is 0 by construction.
    design_size : dict or None
        Subjects per arm of a ParallelTrial (None for single-case designs).
    """

    power: float
    mc_se: float
    ci_low: float
    ci_high: float
    n_sims: int
    n_failed: int
    estimates: pd.DataFrame = field(repr=False)
    bias: float
    empirical_se: float
    mean_se: float
    coverage: float
    truth: float
    alpha: float
    analysis: str
    method: str
    min_attainable_p: float = 0.0
    note: str = ""
    design_size: Any = None

    def to_frame(self) -> pd.DataFrame:
        """One row: ``analysis, power, mc_se, ci_low, ci_high, n_sims, n_failed, alpha, truth, bias, empirical_se, mean_se, coverage``."""
        return pd.DataFrame(
            [
                {
                    "analysis": self.analysis,
                    "power": self.power,
                    "mc_se": self.mc_se,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "n_sims": self.n_sims,
                    "n_failed": self.n_failed,
                    "alpha": self.alpha,
                    "truth": self.truth,
                    "bias": self.bias,
                    "empirical_se": self.empirical_se,
                    "mean_se": self.mean_se,
                    "coverage": self.coverage,
                }
            ]
        )

    def summary(self) -> str:
        """Plain-text summary for a protocol or paper."""
        f = format_number
        text = (
            f"Power by simulation ({self.analysis}, {self.method} path): {f(self.power)} "
            f"(95% CI {f(self.ci_low)} to {f(self.ci_high)}; Monte Carlo SE {f(self.mc_se)}) "
            f"at two-sided alpha = {self.alpha:g}, from {self.n_sims} simulated data sets "
            f"({self.n_failed} failed or did not converge, counted as not significant)."
        )
        if math.isfinite(self.truth):
            text += (
                f"\nTrue effect {f(self.truth)}: bias {f(self.bias)}, empirical SE "
                f"{f(self.empirical_se)}, mean SE {f(self.mean_se)}, coverage of the "
                f"{100 * (1 - self.alpha):g}% intervals {f(self.coverage)}."
            )
        if self.note:
            text += "\n" + self.note
        return text

    def plot(self, ax: Any = None) -> Any:
        """Histogram of the simulated p-values with the alpha line; returns the Figure."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(5.5, 3.5))
        else:
            fig = ax.figure
        p = self.estimates["p"].dropna().to_numpy()
        ax.hist(p, bins=np.linspace(0, 1, 41), color="#4c72b0", edgecolor="white")
        ax.axvline(self.alpha, color="#c44e52", ls="--", label=f"alpha = {self.alpha:g}")
        ax.set_xlabel("p-value")
        ax.set_ylabel("simulated data sets")
        ax.set_title(f"{self.analysis}: power {self.power:.3f} ({self.n_sims} simulations)")
        ax.legend(frameon=False)
        fig.tight_layout()
        return fig


@dataclass(frozen=True)
class SampleSizeResult(Result):
    """Result of :func:`sample_size`.

    Attributes
    ----------
    n : int or None
        Smallest value of :attr:`parameter` in ``n_range`` whose simulated power
        reaches :attr:`target` (None when even the largest does not).
    power : float
        Simulated power at ``n``.
    parameter : str
        ``"n_per_arm"``, ``"n_sessions"`` or ``"n_cases"``.
    target, alpha : float
    curve : pandas.DataFrame
        Every value evaluated: ``n, power, mc_se, ci_low, ci_high, n_failed``.
    results : dict
        The :class:`PowerResult` of each evaluated value.
    """

    n: int | None
    power: float
    parameter: str
    target: float
    alpha: float
    analysis: str
    n_sims: int
    curve: pd.DataFrame = field(repr=False)
    results: dict[int, PowerResult] = field(repr=False, default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The power curve: ``n, power, mc_se, ci_low, ci_high, n_failed``."""
        return self.curve.copy()

    def summary(self) -> str:
        """Plain-text summary."""
        if self.n is None:
            top = int(self.curve["n"].max())
            return (
                f"Target power {self.target:g} not reached for {self.parameter} up to {top} "
                f"({self.analysis}, {self.n_sims} simulations per value; power there "
                f"{format_number(float(self.curve['power'].iloc[-1]))})."
            )
        return (
            f"Smallest {self.parameter} with simulated power >= {self.target:g}: {self.n} "
            f"(power {format_number(self.power)}; {self.analysis}, alpha {self.alpha:g}, "
            f"{self.n_sims} simulations per value on common random numbers)."
        )

    def plot(self, ax: Any = None, analytic: Callable[[float], float] | None = None) -> Any:
        """Power curve with Clopper-Pearson bands and the target; returns the Figure.

        ``analytic``: optionally a function ``n -> power`` drawn for comparison.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(5.5, 3.5))
        else:
            fig = ax.figure
        c = self.curve
        ax.fill_between(
            c["n"], c["ci_low"], c["ci_high"], color="#4c72b0", alpha=0.2, label="95% CI"
        )
        ax.plot(c["n"], c["power"], "o-", color="#4c72b0", label="simulated")
        if analytic is not None:
            grid = np.linspace(float(c["n"].min()), float(c["n"].max()), 100)
            ax.plot(grid, [analytic(g) for g in grid], color="#55a868", label="analytic")
        ax.axhline(self.target, color="#c44e52", ls="--", lw=1, label=f"target {self.target:g}")
        if self.n is not None:
            ax.axvline(self.n, color="grey", ls=":", lw=1)
        ax.set_xlabel(self.parameter)
        ax.set_ylabel("power")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{self.analysis}: power curve")
        ax.legend(frameon=False, loc="lower right")
        fig.tight_layout()
        return fig


# --------------------------------------------------------------------------- validation
def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise DataError(f"'{name}' must be a whole number >= {minimum}; got {value!r}.")
    return int(value)


#: the largest simulated sample size (per arm, or sessions): larger data sets do not fit in memory
_MAX_N = 10**6


def _check_target(target: Any) -> float:
    if (
        isinstance(target, bool)
        or not isinstance(target, numbers.Real)
        or not 0 < float(target) < 1
    ):
        raise DataError(f"'target' must be a power between 0 and 1; got {show_value(target)}.")
    return float(target)


def _check_n_values(n_values: Any) -> list[int]:
    """Distinct whole numbers from 1 to ``_MAX_N``, sorted."""
    if isinstance(n_values, (str, bytes)) or not hasattr(n_values, "__iter__"):
        raise DataError(f"'n_values' must be a list of whole numbers; got {show_value(n_values)}.")
    raw = list(n_values.tolist() if hasattr(n_values, "tolist") else n_values)
    for v in raw:
        ok = (
            not isinstance(v, (bool, np.bool_))
            and isinstance(v, numbers.Real)
            and math.isfinite(v)
            and float(v).is_integer()
            and 1 <= float(v) <= _MAX_N
        )
        if not ok:
            raise DataError(
                f"'n_values' must be whole numbers from 1 to {_MAX_N}; got "
                f"{show_value(v)} in {show_value(raw)}."
            )
    if not raw:
        raise DataError("'n_values' is empty.")
    return sorted({int(v) for v in raw})


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < float(alpha) < 1:
        raise DataError(f"'alpha' must be between 0 and 1; got {alpha!r}.")
    return float(alpha)


_MMRM_OPTIONS = ("covariance", "df_method", "reml")
_SCED_OPTIONS = ("statistic", "improvement")


def _normalise(
    design: Any, analysis: Any, options: Any
) -> tuple[str | Callable[..., Any], dict[str, Any], bool]:
    """Validate the analysis; return it, its options and whether a fast path applies."""
    if not isinstance(design, (ParallelTrial, SingleCaseDesign)):
        raise DataError(
            f"'design' must be a rehabstats.design.ParallelTrial or SingleCaseDesign; "
            f"got {type(design).__name__}."
        )
    if options is None:
        opts: dict[str, Any] = {}
    elif isinstance(options, Mapping):
        opts = dict(options)
    else:
        raise DataError(f"'analysis_options' must be a dict or None; got {options!r}.")
    if callable(analysis):
        return analysis, opts, False
    if isinstance(design, ParallelTrial):
        if analysis not in PARALLEL_ANALYSES:
            raise DataError(
                f"'analysis' for a ParallelTrial must be one of "
                f"{', '.join(map(repr, PARALLEL_ANALYSES))} or a callable; "
                f"got {analysis!r}."
            )
        if len(design.arm_labels) != 2:
            raise DesignError(
                f"The named analyses compare two arms; this design has "
                f"{len(design.arm_labels)}. Pass a callable analysis instead."
            )
        allowed = {
            "mmrm": _MMRM_OPTIONS,
            "lmm": ("df_method",),
            "mixed_anova": ("correction",),
        }.get(analysis, ())
        unknown = [k for k in opts if k not in allowed]
        if unknown:
            raise DataError(
                f"'analysis_options' {unknown[0]!r} does not apply to "
                f"analysis={analysis!r} (allowed: {', '.join(allowed) or 'none'})."
            )
        if analysis == "mmrm":
            from ..models._covariance import COVARIANCE_STRUCTURES

            cov = opts.get("covariance", "us")
            if cov not in COVARIANCE_STRUCTURES:
                raise DataError(
                    f"'covariance' must be one of "
                    f"{', '.join(map(repr, COVARIANCE_STRUCTURES))}; got {cov!r}."
                )
            dfm = opts.get("df_method", "satterthwaite")
            methods = (
                "satterthwaite",
                "kenward-roger",
                "kenward-roger-linear",
                "residual",
                "asymptotic",
            )
            if dfm not in methods:
                raise DataError(
                    f"'df_method' must be one of {', '.join(map(repr, methods))}; got {dfm!r}."
                )
            # Kenward-Roger needs REML (rs.mmrm refuses it for ML fits: the general path
            # then reports every fit as failed, as rs.mmrm would)
            fast = dfm in ("satterthwaite", "residual", "asymptotic") or bool(
                opts.get("reml", True)
            )
            return analysis, opts, fast
        return analysis, opts, analysis in ("ttest", "ancova", "change_ttest")
    if analysis not in SCED_ANALYSES:
        raise DataError(
            f"'analysis' for a SingleCaseDesign must be one of "
            f"{', '.join(map(repr, SCED_ANALYSES))} or a callable; got {analysis!r}."
        )
    if analysis != "randomization_test":
        return analysis, opts, False  # index options are passed to the index function
    from ..sced._randomization import MAX_EXHAUSTIVE, STATISTICS

    unknown = [k for k in opts if k not in _SCED_OPTIONS]
    if unknown:
        raise DataError(
            f"'analysis_options' {unknown[0]!r} does not apply to the randomization "
            f"test (allowed: {', '.join(_SCED_OPTIONS)})."
        )
    stat = opts.get("statistic", "mean_difference")
    if callable(stat):
        return analysis, opts, False
    if stat not in STATISTICS:
        raise DataError(
            f"'statistic' must be one of {', '.join(map(repr, STATISTICS))} or a "
            f"callable; got {stat!r}."
        )
    if stat == "slope_difference" and design.design == "ABAB":
        raise DesignError("statistic='slope_difference' needs A-B series; the design is 'ABAB'.")
    if opts.get("improvement", "increase") not in ("increase", "decrease"):
        raise DataError(
            f"'improvement' must be 'increase' or 'decrease'; got {opts.get('improvement')!r}."
        )
    fast = design.n_assignments <= MAX_EXHAUSTIVE  # beyond, rs.sced samples assignments
    return analysis, opts, fast


def _truth(design: Any, analysis: Any) -> float:
    if isinstance(design, ParallelTrial) and isinstance(analysis, str):
        return design.true_effect(analysis)
    return math.nan


# --------------------------------------------------------------------------- execution
#: Largest memory one task may need for a block of simulated trials (estimated up front).
_BLOCK_BYTES = 4 * 1024**3


def _block_bytes(design: Any, analysis: Any, fast: bool) -> float:
    """Rough peak memory of one task of a ParallelTrial (a block of ``SIMS_PER_BLOCK`` trials).

    Measured on the fast paths: the closed forms need ~40 bytes per observation
    and trial, the batched MMRM ~60 x visits bytes (its per-pattern statistics
    grow with the square of the visits); the general path holds one data set
    at a time.
    """
    obs = float(sum(design._ns)) * design.n_visits
    if not fast:
        return 200.0 * obs
    per = 40.0 + (80.0 * design.n_visits if analysis == "mmrm" else 0.0)
    return SIMS_PER_BLOCK * obs * per


def _check_block_memory(design: Any, analysis: Any, fast: bool) -> None:
    if not isinstance(design, ParallelTrial):
        return
    need = _block_bytes(design, analysis, fast)
    if need > _BLOCK_BYTES:
        name = analysis if isinstance(analysis, str) else "the callable"
        raise DesignError(
            f"'n_per_arm' = {show_value(dict(zip(design.arm_labels, design._ns, strict=True)))} "
            f"with {design.n_visits} visits is too large to simulate: {name} analyses "
            f"{SIMS_PER_BLOCK if fast else 1} trial(s) of {sum(design._ns) * design.n_visits:,} "
            f"observations at once, about {need / 2**30:.1f} GiB (limit "
            f"{_BLOCK_BYTES / 2**30:.0f} GiB). Use fewer subjects per arm or visits."
        )


def _execute(
    design: Any,
    analysis: Any,
    opts: dict[str, Any],
    root: np.random.SeedSequence,
    n_sims: int,
    fast: bool,
    n_jobs: int,
    backend: str | None,
    progress: bool,
) -> dict[str, np.ndarray]:
    """Run simulations ``0 .. n_sims - 1`` of ``root`` in tasks of fixed ranges.

    How the range is split into tasks changes nothing in the results (the data
    of simulation ``i`` depend only on ``root`` and ``i``); it only sets the
    granularity of the parallel work.
    """
    _check_block_memory(design, analysis, fast)
    size = _CHUNK_FAST if fast else _CHUNK_GENERAL
    ranges = [(lo, min(lo + size, n_sims)) for lo in range(0, n_sims, size)]
    bar: Any = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_sims, desc="simulating", unit="sim")
    results: list[Any] = [None] * len(ranges)
    try:
        if backend == "dask":
            results = _run_dask((design, analysis, opts), root, ranges, fast, bar)
        elif n_jobs == 1 and backend is None:
            for i, (lo, hi) in enumerate(ranges):
                results[i] = run_chunk(design, analysis, opts, root, lo, hi, fast)
                if bar is not None:
                    bar.update(hi - lo)
        else:
            from joblib import Parallel, delayed

            par = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator")
            jobs = (
                delayed(run_chunk)(design, analysis, opts, root, lo, hi, fast) for lo, hi in ranges
            )
            for i, res in enumerate(par(jobs)):
                results[i] = res
                if bar is not None:
                    bar.update(ranges[i][1] - ranges[i][0])
    finally:
        if bar is not None:
            bar.close()
    return {k: np.concatenate([r[k] for r in results]) for k in results[0]}


#: glibc ``mallopt`` parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: glibc's default mmap threshold (used while ``MALLOC_TRIM_THRESHOLD_`` pins it)
_GLIBC_MMAP_THRESHOLD = 128 * 1024
#: while a task runs: arrays up to this size come from (and return to) the heap; glibc's
#: largest mmap threshold on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX)
_TASK_HEAP_BYTES = 32 * 1024 * 1024
_heap_lock = threading.Lock()
_heap_users = 0
_blas_single: bool | None = None


def _libc() -> Any:
    import ctypes

    try:
        lib = ctypes.CDLL(None)
        lib.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):  # not glibc (or no dynamic symbols): nothing to tune
        return None
    return lib


def _env_bytes(name: str, default: int) -> int:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return default


@contextmanager
def _task_heap() -> Iterator[None]:
    """Keep freed memory in the heap while a task runs, when the worker's environment trims it.

    dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``
    (``distributed.nanny.pre-spawn-environ``). glibc then also pins the mmap
    threshold at 128 kB, so every array above that size is a fresh ``mmap``
    whose pages fault in one by one and go back to the kernel when freed: an
    MMRM batch of 100 trials takes ~120,000 page faults per 1,200 trials and
    ~25% more CPU than in a plain process. During a task, both thresholds are
    raised (so the memory is reused); afterwards the worker's own settings
    come back and the heap is trimmed, as the nanny intends. Nothing is done
    when the variable is unset (glibc's dynamic thresholds already reuse memory)
    or the C library is not glibc.
    """
    global _heap_users
    lib = (
        _libc()
        if sys.platform.startswith("linux") and "MALLOC_TRIM_THRESHOLD_" in os.environ
        else None
    )
    if lib is None:
        yield
        return
    with _heap_lock:
        _heap_users += 1
        if _heap_users == 1:
            lib.mallopt(_M_MMAP_THRESHOLD, _TASK_HEAP_BYTES)
            lib.mallopt(_M_TRIM_THRESHOLD, _TASK_HEAP_BYTES)
    try:
        yield
    finally:
        with _heap_lock:
            _heap_users -= 1
            if _heap_users == 0:
                lib.mallopt(
                    _M_MMAP_THRESHOLD, _env_bytes("MALLOC_MMAP_THRESHOLD_", _GLIBC_MMAP_THRESHOLD)
                )
                lib.mallopt(_M_TRIM_THRESHOLD, _env_bytes("MALLOC_TRIM_THRESHOLD_", 0))
                lib.malloc_trim(0)


def _blas_is_single() -> bool:
    """Whether every BLAS/OpenMP pool of this process runs one thread (known after one task)."""
    return bool(_blas_single)


def _note_blas() -> None:
    global _blas_single
    if _blas_single is None:
        from threadpoolctl import threadpool_info

        _blas_single = all(p.get("num_threads") == 1 for p in threadpool_info())


def _dask_task(
    payload: tuple[Any, Any, dict[str, Any]],
    root: np.random.SeedSequence,
    lo: int,
    hi: int,
    fast: bool,
    step: int | None = None,
) -> dict[str, np.ndarray]:
    """One dask task: simulations ``lo .. hi - 1``, ``step`` at a time, BLAS on one thread.

    With ``step`` the range is analysed in pieces of ``step`` simulations (the
    chunks of the one-process path), so a task grouping several seed blocks
    needs the memory of one block and returns exactly the concatenation of the
    blocks' results.

    A worker process runs one task per thread; letting BLAS start its own
    threads as well would oversubscribe the cores. dask's nanny already sets
    ``OMP_NUM_THREADS=1`` (etc.): after the first task of a worker has loaded
    every library, the limit (about 1 ms a task) is skipped when all pools
    already have one thread. Memory: see :func:`_task_heap`.
    """
    design, analysis, opts = payload
    size = hi - lo if step is None else int(step)

    def run() -> dict[str, np.ndarray]:
        parts = [
            run_chunk(design, analysis, opts, root, a, min(a + size, hi), fast)
            for a in range(lo, hi, size)
        ]
        if len(parts) == 1:
            return parts[0]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    with _task_heap():
        if _blas_is_single():
            return run()
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl comes with joblib's dependencies
            return run()
        with threadpool_limits(limits=1):
            out = run()
        _note_blas()
        return out


#: A dask task of the fast paths holds at most this many seed blocks (1,000 simulations).
_DASK_MAX_BLOCKS = 10


def _cluster_threads(client: Any) -> int:
    """Worker threads of the cluster (1 if the scheduler does not say)."""
    try:
        return max(1, int(sum(client.nthreads().values())))
    except Exception:  # an older or custom scheduler (or a lost connection): no grouping
        return 1


def _group_ranges(ranges: list[tuple[int, int]], threads: int) -> list[tuple[int, int]]:
    """Consecutive ranges merged so that each worker thread gets one task (if it can).

    Each dask task costs a few milliseconds of scheduling, sending and state
    changes beyond the work itself, and a seed block of the fast paths (100
    MMRM fits) takes only ~40 ms: 400 trials as 4 tasks on 2 workers were ~10 ms
    slower than as 2. At most :data:`_DASK_MAX_BLOCKS` blocks go into one task,
    so large runs still spread and report progress. The task analyses its
    blocks one after the other (:func:`_dask_task` with ``step``): the memory
    of one block, and exactly the numbers of the one-process path.
    """
    n = len(ranges)
    tasks = max(min(n, max(1, threads)), math.ceil(n / _DASK_MAX_BLOCKS))
    cuts = [n * t // tasks for t in range(tasks + 1)]  # near-equal groups, in order
    return [(ranges[a][0], ranges[b - 1][1]) for a, b in itertools.pairwise(cuts)]


def _run_dask(
    payload: tuple[Any, Any, dict[str, Any]],
    root: np.random.SeedSequence,
    ranges: list[tuple[int, int]],
    fast: bool,
    bar: Any,
) -> list[Any]:
    try:
        from dask.distributed import as_completed, get_client
    except ImportError:  # pragma: no cover - the dask extra is not installed
        raise DataError(
            "backend='dask' needs dask.distributed (pip install "
            "'rehabstats[dask]') and a running Client."
        ) from None
    try:
        client = get_client()
    except ValueError:
        raise DataError(
            "backend='dask' runs on the current dask.distributed Client; create "
            "one first, e.g. Client('scheduler:8786') or Client(LocalCluster())."
        ) from None
    # A large payload (e.g. a callable analysis holding data) goes to every worker once
    # instead of with every task; a small one (a design pickles to about 1 kB) travels with
    # the tasks, which saves the round trip of a scatter before the first task can start.
    import cloudpickle  # a dask dependency; pickles lambdas and closures as dask does

    shared: Any = payload
    if len(cloudpickle.dumps(payload)) > _SCATTER_BYTES:
        shared = client.scatter(payload, broadcast=True, hash=False)
    step = None
    if fast:  # tasks of whole seed blocks, each block analysed as in one process
        step = _CHUNK_FAST
        ranges = _group_ranges(ranges, _cluster_threads(client))
    # one map: the tasks reach the scheduler in one message (separate submits are
    # batched by the client's 10 ms send interval: ~6 ms more for 4 tasks)
    n = len(ranges)
    futures = client.map(
        _dask_task,
        [shared] * n,
        [root] * n,
        [lo for lo, _ in ranges],
        [hi for _, hi in ranges],
        [fast] * n,
        [step] * n,
        pure=False,
    )
    order = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(ranges)
    try:
        if bar is None:  # one gather: one round trip for all results
            results = list(client.gather(futures))
        else:
            for fut, res in as_completed(futures, with_results=True):
                i = order[fut.key]
                results[i] = res
                bar.update(ranges[i][1] - ranges[i][0])
    except BaseException:  # interrupted or failed: stop what is still queued on the cluster
        client.cancel([*futures, *([shared] if shared is not payload else [])])
        raise
    # done: dropping the futures releases their results on the workers (no round trip)
    del futures, order
    if shared is not payload:
        del shared
    return results


def _min_p(design: Any, analysis: Any) -> float:
    if isinstance(design, SingleCaseDesign) and analysis == "randomization_test":
        return design.min_p
    return 0.0


def _summarise(
    raw: dict[str, np.ndarray],
    design: Any,
    analysis: Any,
    alpha: float,
    fast: bool,
    stacklevel: int = 3,
) -> PowerResult:
    n = raw["p"].size
    p = raw["p"]
    sig = np.isfinite(p) & (p < alpha)
    k = int(sig.sum())
    power = k / n
    lo, hi = _clopper_pearson(k, n)
    failed = raw["failed"] | ~raw["converged"]
    n_failed = int(failed.sum())
    est = pd.DataFrame(
        {
            "estimate": raw["estimate"],
            "se": raw["se"],
            "df": raw["df"],
            "p": p,
            "converged": ~failed,
        }
    )
    truth = _truth(design, analysis)
    e = raw["estimate"][np.isfinite(raw["estimate"])]
    bias = emp = mean_se = cov = math.nan
    if math.isfinite(truth) and e.size:
        bias = float(e.mean() - truth)
        emp = float(e.std(ddof=1)) if e.size > 1 else math.nan
        se = raw["se"]
        ok = np.isfinite(raw["estimate"]) & np.isfinite(se)
        if ok.any():
            mean_se = float(se[ok].mean())
            df = raw["df"][ok]
            q = np.where(
                np.isfinite(df),
                stats.t.ppf(1 - alpha / 2, np.where(np.isfinite(df), df, 1)),
                stats.norm.ppf(1 - alpha / 2),
            )
            cov = float(np.mean(np.abs(raw["estimate"][ok] - truth) <= q * se[ok]))
    name = analysis if isinstance(analysis, str) else getattr(analysis, "__name__", "callable")
    min_p = _min_p(design, analysis)
    note = ""
    if min_p > alpha:
        note = (
            f"Power is 0 by construction: the design has only {design.n_assignments} "
            f"admissible assignments, so the smallest attainable p is {min_p:.4g} > alpha "
            f"= {alpha:g}. Lengthen the series, widen the start window or add cases."
        )
    if n_failed:
        warnings.warn(
            f"{n_failed} of {n} simulated analyses failed or did not converge; they are counted "
            "as not significant and flagged in estimates['converged'].",
            RehabStatsWarning,
            stacklevel=stacklevel,
        )
    size: Any = None
    if isinstance(design, ParallelTrial):
        size = dict(zip(design.arm_labels, design._ns, strict=True))
    return PowerResult(
        power=power,
        mc_se=math.sqrt(power * (1 - power) / n),
        ci_low=lo,
        ci_high=hi,
        n_sims=n,
        n_failed=n_failed,
        estimates=est,
        bias=bias,
        empirical_se=emp,
        mean_se=mean_se,
        coverage=cov,
        truth=truth,
        alpha=alpha,
        analysis=name,
        method="vectorised" if fast else "general",
        min_attainable_p=min_p,
        note=note,
        design_size=size,
    )


def simulate(
    design: ParallelTrial | SingleCaseDesign,
    analysis: str | Callable[..., Any],
    *,
    n_sims: int = 1000,
    alpha: float = 0.05,
    rng: Any = None,
    n_jobs: int = 1,
    backend: str | None = None,
    progress: bool = False,
    analysis_options: Mapping[str, Any] | None = None,
) -> PowerResult:
    r"""Power of an analysis under a design, by simulation.

    Parameters
    ----------
    design : ParallelTrial or SingleCaseDesign
    analysis : str or callable
        For a :class:`~rehabstats.design.ParallelTrial` (arm 2 vs the reference):

        - ``"ttest"``: Student t test at the last visit;
        - ``"ancova"``: last visit adjusted for the first visit (or ``baseline``);
        - ``"change_ttest"``: t test of last minus first visit;
        - ``"mmrm"``: ``outcome ~ arm * visit`` (``+ baseline``), unstructured,
          REML, Satterthwaite, arm difference at the last visit
          (``analysis_options``: ``covariance``, ``df_method``, ``reml``);
        - ``"lmm"``: random-intercept LMM, same contrast (``df_method``);
        - ``"mixed_anova"``: arm x visit interaction (``correction``).

        For a :class:`~rehabstats.design.SingleCaseDesign`:
        ``"randomization_test"`` (``analysis_options``: ``statistic``,
        ``improvement``), exhaustive over the design's admissible assignments;
        or a single-case index (``"nap", "tau", "tau_u", "tau_bc", "smd",
        "lrrd", "lrri"``) with its Wald test: the index per case (options go to
        the index function, e.g. ``improvement``), averaged over cases with
        SE :math:`\sqrt{\sum se_c^2}/C`, ``z`` against the index's null value
        (0.5 for NAP, 0 otherwise).
        Or any callable ``f(data, **analysis_options)`` returning ``p``,
        ``(estimate, p)`` or ``(estimate, se, p)``.
    n_sims : int, optional
        Simulated data sets.
    alpha : float, optional
        Two-sided significance level.
    rng : None, int, numpy.random.Generator or SeedSequence
        One :class:`~numpy.random.SeedSequence` is made from it. The data sets
        are drawn in blocks of 100 (``i // 100`` is the block of data set
        ``i``), block ``b`` by array operations from the ``b``-th child of
        that SeedSequence. Data set ``i`` thus depends only on the seed and
        ``i`` (not on ``n_sims``), and results are identical whatever
        ``n_jobs``, ``backend`` and the split of the work into tasks.
    n_jobs : int, optional
        joblib workers (``-1``: every core).
    backend : str, optional
        A joblib backend name (``"loky"``, ``"threading"``, ...), or ``"dask"``:
        run on the current ``dask.distributed`` Client (e.g.
        ``Client("scheduler:8786")``). On dask the vectorised paths send one
        task per worker thread (at most 1,000 simulations a task, analysed in
        blocks of 100 as in one process), with BLAS on one thread and freed
        memory kept in the heap while a task runs (dask's nanny sets
        ``MALLOC_TRIM_THRESHOLD_``, which otherwise makes every large array a
        fresh ``mmap``). A run of a few hundred MMRM fits takes a fraction of a
        second, so dask's fixed costs show: 10-15 ms of messages per run, and
        the workers' statistical profiler (sampling every 10 ms) about 5% of
        the work; workers started with the dask setting
        ``distributed.worker.profile.enabled: false`` save the latter.
    progress : bool, optional
        Show a tqdm progress bar (also under dask).
    analysis_options : dict, optional
        Options of the named analysis, or keyword arguments of the callable.

    Returns
    -------
    PowerResult
        ``power, mc_se, ci_low, ci_high, n_sims, n_failed, estimates, bias,
        empirical_se, mean_se, coverage``; ``.summary()``, ``.to_frame()``,
        ``.plot()``.

    Raises
    ------
    DataError
        Unknown analysis or option, bad ``n_sims``/``alpha``/``n_jobs``/``backend``.
    DesignError
        A named two-arm analysis on a design with another number of arms.

    Warns
    -----
    RehabStatsWarning
        When some simulated analyses failed or did not converge (counted in
        ``n_failed``, not significant).

    Notes
    -----
    Fast paths: the t tests and ANCOVA are computed in closed form for all
    simulations of a chunk at once; the MMRM (every ``df_method``;
    Kenward-Roger with REML) reuses one design matrix and the missingness-pattern
    statistics across simulations, starts at the true covariance, and equals
    ``rs.mmrm`` on the same data; the randomization test computes the
    statistic for every admissible assignment of every series at once. Other
    analyses and callables run on each simulated DataFrame. A randomization
    test whose smallest attainable p exceeds ``alpha`` has power 0, and the
    result's ``note`` says so.

    Examples
    --------
    >>> import rehabstats as rs
    >>> trial = rs.design.ParallelTrial(
    ...     n_per_arm=20, visits=["pre", "post"], mean={"control": [0, 0], "active": [0, 1]},
    ...     sd=1.0, correlation=("cs", 0.5))
    >>> res = rs.power.simulate(trial, "ttest", n_sims=400, rng=1)
    >>> abs(res.power - rs.power.ttest_power(n_per_arm=20, delta=1.0)) < 4 * res.mc_se
    True
    """
    n_sims = _check_int(n_sims, "n_sims", 1)
    alpha = _check_alpha(alpha)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise DataError(
            f"'n_jobs' must be a nonzero whole number (-1 = every core); got {n_jobs!r}."
        )
    if backend is not None and not isinstance(backend, str):
        raise DataError(
            f"'backend' must be None, a joblib backend name or 'dask'; got {backend!r}."
        )
    if not isinstance(progress, (bool, np.bool_)):
        raise DataError(f"'progress' must be True or False; got {progress!r}.")
    an, opts, fast = _normalise(design, analysis, analysis_options)
    root = to_seed_sequence(rng)
    raw = _execute(design, an, opts, root, n_sims, fast, int(n_jobs), backend, bool(progress))
    return _summarise(raw, design, an, alpha, fast)


def _parameter(design: Any, parameter: str | None) -> str:
    if isinstance(design, ParallelTrial):
        allowed: tuple[str, ...] = ("n_per_arm",)
        default = "n_per_arm"
    else:
        allowed = ("n_sessions", "n_cases") if design.design == "MBD" else ("n_sessions",)
        default = "n_cases" if design.design == "MBD" else "n_sessions"
    if parameter is None:
        return default
    if parameter not in allowed:
        raise DataError(
            f"'parameter' must be one of {', '.join(map(repr, allowed))} for this "
            f"design; got {parameter!r}."
        )
    return parameter


def sample_size(
    design: ParallelTrial | SingleCaseDesign,
    analysis: str | Callable[..., Any],
    *,
    target: float = 0.8,
    n_range: tuple[int, int] | None = None,
    n_sims: int = 1000,
    alpha: float = 0.05,
    rng: Any = None,
    parameter: str | None = None,
    n_jobs: int = 1,
    backend: str | None = None,
    progress: bool = False,
    analysis_options: Mapping[str, Any] | None = None,
) -> SampleSizeResult:
    """Smallest sample size reaching a target power, by simulation.

    Every candidate size is simulated with the same seeds (common random
    numbers: the first subjects of each arm, or the first cases, get the same
    draws whatever the size), which makes the simulated power curve smooth
    and nearly monotone, so a bisection over ``n_range`` finds the smallest
    size whose power is at least ``target`` after a few evaluations.

    Parameters
    ----------
    design, analysis, n_sims, alpha, rng, n_jobs, backend, progress, analysis_options
        As in :func:`simulate`.
    target : float, optional
        Power to reach.
    n_range : (int, int), optional
        Smallest and largest size to consider; default ``(4, 400)`` subjects per
        arm, ``(2, 20)`` cases, or from the shortest admissible series to 100
        sessions.
    parameter : str, optional
        What to vary: ``"n_per_arm"`` (ParallelTrial, equal arms), or
        ``"n_sessions"`` / ``"n_cases"`` (SingleCaseDesign; default
        ``n_cases`` for multiple-baseline designs, else ``n_sessions``).

    Returns
    -------
    SampleSizeResult
        ``n``, ``power``, the evaluated power ``curve`` and ``.plot()``.

    Warns
    -----
    RehabStatsWarning
        When the target is not reached within ``n_range`` (``n`` is None).

    Examples
    --------
    >>> import rehabstats as rs
    >>> trial = rs.design.ParallelTrial(
    ...     n_per_arm=10, visits=["pre", "post"], mean={"control": [0, 0], "active": [0, 1]},
    ...     sd=1.0, correlation=("cs", 0.5))
    >>> res = rs.power.sample_size(trial, "ttest", target=0.8, n_range=(5, 60), n_sims=500, rng=2)
    >>> 14 <= res.n <= 20
    True
    """
    param = _parameter(design, parameter)
    if n_range is None:
        if param == "n_per_arm":
            n_range = (4, 400)
        elif param == "n_cases":
            n_range = (2, 20)
        elif isinstance(design, SingleCaseDesign):
            shortest = design.n_runs * int(design.min_phase_length)
            n_range = (shortest, max(100, shortest + 1))
    if (
        not isinstance(n_range, (tuple, list))
        or len(n_range) != 2
        or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in n_range)
        or not 1 <= n_range[0] < n_range[1]
        or n_range[1] > _MAX_N
    ):
        raise DataError(
            f"'n_range' must be two whole numbers (low, high) with 1 <= low < high "
            f"<= {_MAX_N}; got {show_value(n_range)}."
        )
    target = _check_target(target)
    n_sims = _check_int(n_sims, "n_sims", 1)
    alpha = _check_alpha(alpha)
    an, opts, _ = _normalise(design, analysis, analysis_options)
    root = to_seed_sequence(rng)
    lo, hi = int(n_range[0]), int(n_range[1])
    results: dict[int, PowerResult] = {}

    def at(n: int) -> PowerResult:
        if n not in results:
            try:
                d = (
                    design.with_n(n)
                    if isinstance(design, ParallelTrial)
                    else design.with_n(**{param: n})
                )
            except DesignError as exc:
                raise DesignError(
                    f"{param} = {n} (from n_range) is not a valid design: {exc}"
                ) from None
            _, _, f = _normalise(d, an, opts)
            raw = _execute(d, an, opts, root, n_sims, f, int(n_jobs), backend, bool(progress))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RehabStatsWarning)
                results[n] = _summarise(raw, d, an, alpha, f)
        return results[n]

    found: int | None
    if at(lo).power >= target:
        found = lo
    elif at(hi).power < target:
        found = None
        warnings.warn(
            f"Target power {target:g} is not reached for {param} up to {hi} "
            f"(simulated power {results[hi].power:.3f}); widen n_range.",
            RehabStatsWarning,
            stacklevel=2,
        )
    else:
        a, b = lo, hi  # power(a) < target <= power(b)
        while b - a > 1:
            mid = (a + b) // 2
            if at(mid).power >= target:
                b = mid
            else:
                a = mid
        found = b
    keys = sorted(results)
    curve = pd.DataFrame(
        {
            "n": keys,
            "power": [results[k].power for k in keys],
            "mc_se": [results[k].mc_se for k in keys],
            "ci_low": [results[k].ci_low for k in keys],
            "ci_high": [results[k].ci_high for k in keys],
            "n_failed": [results[k].n_failed for k in keys],
        }
    )
    name = an if isinstance(an, str) else getattr(an, "__name__", "callable")
    return SampleSizeResult(
        n=found,
        power=results[found].power if found is not None else math.nan,
        parameter=param,
        target=float(target),
        alpha=alpha,
        analysis=name,
        n_sims=n_sims,
        curve=curve,
        results=results,
    )


def power_curve(
    design: ParallelTrial | SingleCaseDesign,
    analysis: str | Callable[..., Any],
    *,
    n_values: Any,
    n_sims: int = 1000,
    alpha: float = 0.05,
    rng: Any = None,
    parameter: str | None = None,
    target: float = 0.8,
    n_jobs: int = 1,
    backend: str | None = None,
    analysis_options: Mapping[str, Any] | None = None,
) -> SampleSizeResult:
    """Simulated power at each of ``n_values`` (common random numbers), as a curve.

    Returns a :class:`SampleSizeResult` whose ``n`` is the smallest of
    ``n_values`` reaching ``target`` (None if none does).

    Examples
    --------
    >>> import rehabstats as rs
    >>> trial = rs.design.ParallelTrial(
    ...     n_per_arm=10, visits=["pre", "post"], mean={"control": [0, 0], "active": [0, 1]},
    ...     sd=1.0, correlation=("cs", 0.5))
    >>> curve = rs.power.power_curve(trial, "ancova", n_values=[10, 20], n_sims=200, rng=1)
    >>> curve.curve["n"].tolist()
    [10, 20]
    """
    param = _parameter(design, parameter)
    values = _check_n_values(n_values)
    target = _check_target(target)
    n_sims = _check_int(n_sims, "n_sims", 1)
    alpha = _check_alpha(alpha)
    an, opts, _ = _normalise(design, analysis, analysis_options)
    root = to_seed_sequence(rng)
    results: dict[int, PowerResult] = {}
    for n in values:
        try:
            d = (
                design.with_n(n)
                if isinstance(design, ParallelTrial)
                else design.with_n(**{param: n})
            )
        except (DataError, DesignError) as exc:
            raise DesignError(
                f"{param} = {n} (from n_values) is not a valid design: {exc}"
            ) from None
        _, _, f = _normalise(d, an, opts)
        raw = _execute(d, an, opts, root, n_sims, f, int(n_jobs), backend, False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RehabStatsWarning)
            results[n] = _summarise(raw, d, an, alpha, f)
    curve = pd.DataFrame(
        {
            "n": values,
            "power": [results[k].power for k in values],
            "mc_se": [results[k].mc_se for k in values],
            "ci_low": [results[k].ci_low for k in values],
            "ci_high": [results[k].ci_high for k in values],
            "n_failed": [results[k].n_failed for k in values],
        }
    )
    hit = [n for n in values if results[n].power >= target]
    name = an if isinstance(an, str) else getattr(an, "__name__", "callable")
    return SampleSizeResult(
        n=hit[0] if hit else None,
        power=results[hit[0]].power if hit else math.nan,
        parameter=param,
        target=float(target),
        alpha=alpha,
        analysis=name,
        n_sims=n_sims,
        curve=curve,
        results=results,
    )
