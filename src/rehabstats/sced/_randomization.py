"""Randomization tests for single-case designs (A-B, A-B-A-B, multiple baseline).

The null hypothesis is that the treatment has no effect, so the phase-change
point(s) could have fallen on any admissible session. The test statistic is
computed for every admissible assignment (or a random sample of them) and the
p-value is the share of those assignments whose statistic is at least the
observed one, as in scan's ``rand_test`` (Bulte & Onghena, 2009).

Everything is vectorised: each case's admissible assignments are rows of a
boolean "is treatment" mask, every statistic is computed for all rows at once,
and multiple-baseline combinations index those per-case tables.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._results import Result, format_number
from .._validate import check_improvement, check_option, normalize_rng
from ..errors import DataError, DesignError, RehabStatsWarning
from ._common import pow2_unit
from ._data import prepare_sced

__all__ = ["RandomizationResult", "randomization_test", "randomization_test_batch"]

Statistic = Literal[
    "mean_difference", "median_difference", "nap", "smd", "smd_rms", "slope_difference"
]
STATISTICS: tuple[str, ...] = (
    "mean_difference",
    "median_difference",
    "nap",
    "smd",
    "smd_rms",
    "slope_difference",
)
#: How per-case statistics are combined across the cases of a multiple-baseline
#: design (scan: median for the median statistic, root mean square for SMD, mean otherwise).
_AGGREGATE = {
    "mean_difference": "mean",
    "median_difference": "median",
    "nap": "mean",
    "smd": "mean",
    "smd_rms": "rms",
    "slope_difference": "mean",
}
#: Enumerate every assignment when there are at most this many and n_samples is None.
MAX_EXHAUSTIVE = 1_000_000
#: Monte Carlo sample size used when enumeration is not feasible and n_samples is None.
DEFAULT_SAMPLES = 10_000


@dataclass(frozen=True)
class RandomizationResult(Result):
    """Result of :func:`randomization_test`.

    Attributes
    ----------
    statistic : float
        Observed value of the test statistic (oriented so that large = improvement).
    p_value : float
        Share of the randomization distribution at least as large as ``statistic``.
    n_assignments : int
        Number of assignments in ``distribution`` (all admissible ones when
        ``method == "exhaustive"``, the Monte Carlo sample size otherwise).
    n_possible : int
        Number of admissible assignments.
    distribution : numpy.ndarray
        The statistic under every enumerated or sampled assignment.
    method : {"exhaustive", "monte carlo"}
    statistic_name : str
    design : str
        ``"AB"``, ``"ABAB"``-like phase sequence, or ``"multiple baseline"``.
    n_cases : int
    min_phase_length : int
    improvement : str
    observed_admissible : bool
        Whether the observed assignment is one of the admissible ones.
    """

    statistic: float
    p_value: float
    n_assignments: int
    n_possible: int
    distribution: np.ndarray = field(repr=False)
    method: str
    statistic_name: str
    design: str
    n_cases: int
    min_phase_length: int
    improvement: str
    observed_admissible: bool = True

    def to_frame(self) -> pd.DataFrame:
        """One row: ``statistic_name, statistic, p_value, n_assignments, n_possible, method, design, n_cases, min_phase_length, improvement, min_p``."""
        return pd.DataFrame(
            [
                {
                    "statistic_name": self.statistic_name,
                    "statistic": self.statistic,
                    "p_value": self.p_value,
                    "n_assignments": self.n_assignments,
                    "n_possible": self.n_possible,
                    "method": self.method,
                    "design": self.design,
                    "n_cases": self.n_cases,
                    "min_phase_length": self.min_phase_length,
                    "improvement": self.improvement,
                    "min_p": self.min_p,
                }
            ]
        )

    @property
    def min_p(self) -> float:
        """Smallest attainable p-value, ``1 / n_possible`` (the observed assignment alone).

        With Monte Carlo sampling the sampled p can be as small as
        ``1 / n_assignments``, but the design itself cannot justify a p below
        ``1 / n_possible``.
        """
        return 1.0 / self.n_possible if self.n_possible else math.nan

    def summary(self, alpha: float = 0.05) -> str:
        """Text: the test, the observed statistic, p, and the smallest attainable p.

        When the smallest attainable p (``1 / n_possible``) exceeds ``alpha``, the
        summary says that the design cannot reach significance at that level.
        """
        text = (
            f"randomization test ({self.statistic_name}, {self.method}, {self.design}): "
            f"observed = {format_number(self.statistic)}, p = {format_number(self.p_value)} "
            f"({self.n_assignments} of {self.n_possible} admissible assignments); "
            f"smallest attainable p = 1/{self.n_possible} = {format_number(self.min_p)}"
        )
        if self.min_p > alpha:
            text += (
                f" > alpha = {format_number(alpha, 2)}: this design cannot reach "
                f"p <= {format_number(alpha, 2)} whatever the data"
            )
        return text

    def __repr__(self) -> str:
        return f"<RandomizationResult {self.summary()}>"


# ---------------------------------------------------------------------------
# vectorised statistics: y has shape (..., n), b (treatment mask) (..., k, n)
# ---------------------------------------------------------------------------


def _masked_sum(y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, y[..., None, :], 0.0).sum(axis=-1)


def _masked_mean(y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = mask.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _masked_sum(y, mask) / n, n


def _stat_mean(y: np.ndarray, b: np.ndarray, sign: float) -> np.ndarray:
    mb, _ = _masked_mean(y, b)
    ma, _ = _masked_mean(y, ~b)
    return mb - ma if sign > 0 else ma - mb


def _stat_median(y: np.ndarray, b: np.ndarray, sign: float) -> np.ndarray:
    yy, b = np.broadcast_arrays(y[..., None, :], b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mb = np.nanmedian(np.where(b, yy, np.nan), axis=-1)
        ma = np.nanmedian(np.where(~b, yy, np.nan), axis=-1)
    return mb - ma if sign > 0 else ma - mb


def _stat_nap(y: np.ndarray, b: np.ndarray, sign: float) -> np.ndarray:
    # pairs (i in A, j in B): "better" = y_j > y_i (increase) or y_j < y_i (decrease).
    # Counts are integers, so the sums are exact; scaled as scan does (percent).
    diff = y[..., None, :] - y[..., :, None]  # [i, j] = y_j - y_i
    better = (diff * sign > 0).astype(float)
    tie = (diff == 0).astype(float)
    a = (~b).astype(float)
    bf = b.astype(float)
    pos = np.einsum("...ki,...ij,...kj->...k", a, better, bf)
    ties = np.einsum("...ki,...ij,...kj->...k", a, tie, bf)
    pairs = a.sum(axis=-1) * bf.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos + 0.5 * ties) / pairs * 100


def _masked_sd(y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean, n = _masked_mean(y, mask)
    dev = np.where(mask, y[..., None, :] - mean[..., None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt((dev**2).sum(axis=-1) / (n - 1))
    return mean, sd, n


def _stat_smd(y: np.ndarray, b: np.ndarray, sign: float) -> np.ndarray:
    # Hedges' g with the small-sample factor scan uses (Durlak 2009):
    # (N - 3) / (N - 2.25) * sqrt((N - 2) / N).
    mb, sb, nb = _masked_sd(y, b)
    ma, sa, na = _masked_sd(y, ~b)
    big_n = na + nb
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = np.sqrt(((na - 1) * sa**2 + (nb - 1) * sb**2) / (big_n - 2))
        g = (mb - ma) / pooled * ((big_n - 3) / (big_n - 2.25) * np.sqrt((big_n - 2) / big_n))
    return g if sign > 0 else -g


def _slope(y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    n = y.shape[-1]
    x = np.arange(1, n + 1, dtype=float)
    my, _ = _masked_mean(y, mask)
    mx, _ = _masked_mean(x, mask)
    yc = np.where(mask, y[..., None, :] - my[..., None], 0.0)
    xc = np.where(mask, x - mx[..., None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc * yc).sum(axis=-1) / (xc * xc).sum(axis=-1)


def _stat_slope(y: np.ndarray, b: np.ndarray, sign: float) -> np.ndarray:
    sb = _slope(y, b)
    sa = _slope(y, ~b)
    return sb - sa if sign > 0 else sa - sb


_STAT_FUNCS: dict[str, Callable[[np.ndarray, np.ndarray, float], np.ndarray]] = {
    "mean_difference": _stat_mean,
    "median_difference": _stat_median,
    "nap": _stat_nap,
    "smd": _stat_smd,
    "smd_rms": _stat_smd,
    "slope_difference": _stat_slope,
}
#: Factor from the internal scale to the reported one (NAP is computed in percent, as scan).
_REPORT_SCALE = {"nap": 0.01}


def _aggregate(values: np.ndarray, how: str) -> np.ndarray:
    """Combine per-case statistics along the last axis (cases)."""
    c = values.shape[-1]
    if how == "median":
        return np.median(values, axis=-1)
    if how == "rms":
        return np.sqrt((values**2).sum(axis=-1) / c)
    return values.sum(axis=-1) / c


# ---------------------------------------------------------------------------
# admissible assignments
# ---------------------------------------------------------------------------


def _change_points(n: int, n_runs: int, min_len: int) -> np.ndarray:
    """All vectors of ``n_runs - 1`` change points (run starts, 0-based) with runs >= min_len.

    Built one change point at a time with array operations (no loop over assignments).
    """
    cps = np.zeros((1, 0), dtype=np.intp)
    last = np.zeros(1, dtype=np.intp)
    for j in range(1, n_runs):
        lo = last + min_len
        hi = n - (n_runs - j) * min_len  # leave room for the remaining runs
        counts = np.maximum(hi - lo + 1, 0)
        rep = np.repeat(np.arange(len(cps)), counts)
        offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        new = lo[rep] + offs
        cps = np.column_stack([cps[rep], new])
        last = new
    return cps


def _masks(n: int, cps: np.ndarray, first_is_treatment: bool) -> np.ndarray:
    """Treatment masks (k, n) from change points (k, r-1) of alternating runs."""
    idx = np.arange(n)
    run = (idx[None, :, None] >= cps[:, None, :]).sum(axis=-1)  # run index of each session
    treat = run % 2 == 1
    return ~treat if first_is_treatment else treat


@dataclass(frozen=True)
class _Case:
    label: str
    y: np.ndarray
    sessions: np.ndarray
    runs: tuple[str, ...]
    observed_cps: np.ndarray
    first_is_treatment: bool


def _cases_from_frame(
    frame: pd.DataFrame, baseline_phase: str, treatment_phase: str, unit: float = 1.0
) -> list[_Case]:
    """The cases of a :func:`prepare_sced` frame, outcomes divided by ``unit``."""
    case_col = frame["case"].to_numpy()
    phase_col = frame["phase"].to_numpy()
    y_col = frame["outcome"].to_numpy(dtype=float) / unit
    s_col = frame["session"].to_numpy(dtype=float)
    labels = set(phase_col.tolist())
    for arg, lab in (("baseline_phase", baseline_phase), ("treatment_phase", treatment_phase)):
        if lab not in labels:
            present = ", ".join(repr(v) for v in sorted(labels))
            raise DesignError(
                f"'{arg}' is {lab!r}, but the data have no phase with that label; "
                f"phase labels present: {present}."
            )
    cases = []
    # prepare_sced keeps each case's rows together, in order of first appearance
    edges = np.r_[0, np.flatnonzero(case_col[1:] != case_col[:-1]) + 1, case_col.size]
    for lo, hi in itertools.pairwise(edges.tolist()):
        label = case_col[lo]
        phases = phase_col[lo:hi]
        change = np.flatnonzero(phases[1:] != phases[:-1]) + 1
        runs = (str(phases[0]), *(str(p) for p in phases[change]))
        bad = [r for r in runs if r not in (baseline_phase, treatment_phase)]
        if bad:
            raise DesignError(
                f"Case {label!r} has phase {bad[0]!r}; the randomization test compares "
                f"{baseline_phase!r} with {treatment_phase!r} only (select those rows first)."
            )
        if len(runs) < 2:
            raise DesignError(
                f"Case {label!r} has only phase {runs[0]!r}; it needs both {baseline_phase!r} "
                f"and {treatment_phase!r}."
            )
        cases.append(
            _Case(
                label=str(label),
                y=y_col[lo:hi],
                sessions=s_col[lo:hi],
                runs=runs,
                observed_cps=change.astype(np.intp),
                first_is_treatment=runs[0] == treatment_phase,
            )
        )
    return cases


def _case_table(
    case: _Case,
    stat: str | Callable[[np.ndarray, np.ndarray], float],
    min_len: int,
    sign: float,
    window: np.ndarray | None = None,
) -> tuple[np.ndarray, float, bool]:
    """Statistic for every admissible assignment of one case, and the observed value."""
    n = case.y.size
    n_runs = len(case.runs)
    if window is not None:
        # an explicit start window: the B phase may start at these sessions
        if n_runs != 2:
            raise DesignError(
                f"Case {case.label!r}: 'start_sessions' applies to A-B series; "
                f"this case has {n_runs} phases."
            )
        pos = np.flatnonzero(np.isin(case.sessions, window))
        pos = pos[pos >= 1]
        missing = np.setdiff1d(window, case.sessions[1:])
        if missing.size or pos.size == 0:
            raise DesignError(
                f"Case {case.label!r}: start session(s) {missing.tolist() or window.tolist()} "
                "are not sessions of this case after its first one."
            )
        cps = pos[:, None].astype(np.intp)
    else:
        if n < n_runs * min_len:
            raise DesignError(
                f"Case {case.label!r} has {n} observations; {n_runs} phases of at least "
                f"min_phase_length={min_len} need {n_runs * min_len}."
            )
        cps = _change_points(n, n_runs, min_len)
    hit = np.flatnonzero((cps == case.observed_cps[None, :]).all(axis=1))
    admissible = hit.size > 0
    if not admissible:
        cps = np.vstack([cps, case.observed_cps[None, :]])
    masks = _masks(n, cps, case.first_is_treatment)
    if callable(stat):
        vals = np.array([float(stat(case.y[~m], case.y[m])) for m in masks], dtype=float)
    else:
        vals = _STAT_FUNCS[stat](case.y, masks, sign)
    obs_index = int(hit[0]) if admissible else len(cps) - 1
    observed = float(vals[obs_index])
    if not admissible:
        vals = vals[:-1]
    return vals, observed, admissible


def _check_statistic(statistic: Any) -> str | Callable[[np.ndarray, np.ndarray], float]:
    if callable(statistic):
        return statistic
    return str(check_option(statistic, "statistic", STATISTICS))


def _check_min_len(min_phase_length: Any) -> int:
    if (
        isinstance(min_phase_length, bool)
        or not isinstance(min_phase_length, numbers.Integral)
        or min_phase_length < 1
    ):
        raise DataError(
            f"'min_phase_length' must be a whole number >= 1; got {min_phase_length!r}."
        )
    return int(min_phase_length)


def _p_value(dist: np.ndarray, observed: float) -> float:
    """Share of ``dist`` >= ``observed``.

    Assignments whose statistic equals the observed one only up to floating-point
    rounding (a mathematical tie computed in a different order) count as ties,
    hence the relative tolerance of 1e-10.
    """
    if not math.isfinite(observed) or not np.isfinite(dist).all():
        return math.nan
    scale = max(abs(observed), float(np.max(np.abs(dist))) if dist.size else 0.0)
    tol = 1e-10 * scale
    return float(np.count_nonzero(dist >= observed - tol) / dist.size)


def randomization_test(
    data: pd.DataFrame,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str | None = None,
    statistic: Statistic | Callable[[np.ndarray, np.ndarray], float] = "mean_difference",
    improvement: Literal["increase", "decrease"] = "increase",
    min_phase_length: int = 3,
    n_samples: int | None = None,
    rng: Any = None,
    progress: bool = False,
    n_jobs: int = 1,
    baseline_phase: str = "A",
    treatment_phase: str = "B",
    start_sessions: Any = None,
) -> RandomizationResult:
    r"""Randomization (permutation) test of the phase-change point(s).

    For an A-B series every session from ``min_phase_length + 1`` to
    ``n - min_phase_length + 1`` could have started phase B; for A-B-A-B (and
    other alternating designs) every set of change points that leaves each phase
    ``min_phase_length`` sessions; for a multiple-baseline design (several
    cases) every combination of the cases' admissible start points (Bulte &
    Onghena, 2009). The test statistic is computed for each assignment, and

    .. math:: p = \frac{\#\{\text{assignments } j: T_j \ge T_{obs}\}}{\#\text{assignments}}

    as in scan's ``rand_test`` (observed assignment counted when admissible;
    equal values count as "at least as large").

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy long single-case data (not modified).
    outcome, phase, session : str
        Column names.
    case : str, optional
        Case column; several cases form a multiple-baseline design whose
        start points are randomised independently per case.
    statistic : str or callable
        ``"mean_difference"`` (scan ``"Mean B-A"``/``"Mean A-B"``),
        ``"median_difference"`` (``"Median B-A"``/``"Median A-B"``; cases
        combined by their median, as scan), ``"nap"`` (non-overlap of all pairs,
        0-1; scan ``"NAP"``/``"NAP decreasing"`` in percent), ``"smd"`` (Hedges'
        g with scan's small-sample factor, signed, cases averaged),
        ``"smd_rms"`` (scan's ``"SMD hedges"``: root mean square of the cases'
        g, hence unsigned), ``"slope_difference"`` (OLS slope of B minus slope of
        A on the within-phase session index, scan ``"Slope B-A"``; A-B designs
        only). A callable ``f(baseline, treatment) -> float`` is applied per case
        and averaged across cases. All statistics are oriented by ``improvement``.
    improvement : {"increase", "decrease"}
        ``"decrease"`` uses A − B (scan's ``"Mean A-B"``, ``"NAP decreasing"``).
        scan's ``"Slope A-B"`` returns the B − A slope difference; use
        ``improvement="increase"`` for that number.
    min_phase_length : int, default 3
        Minimum number of observations of every phase (scan's ``limit``).
    n_samples : int, optional
        Monte Carlo sample size. None: enumerate every assignment when there are
        at most 1,000,000, else draw 10,000. When the admissible assignments are
        no more than ``n_samples``, all are enumerated (as scan).
    rng : None, int or numpy.random.Generator
        Seed for Monte Carlo sampling (each case's start point is drawn
        independently with replacement, as scan).
    progress : bool
        Show a progress bar over Monte Carlo chunks.
    n_jobs : int
        Parallel joblib workers for Monte Carlo chunks (results do not depend on it).
    baseline_phase, treatment_phase : str
        Phase labels.
    start_sessions : sequence or mapping, optional
        Explicit start windows for A-B series: the session numbers at which
        phase B may start, for every case (a sequence) or per case (a mapping
        case label -> sequence), as in staggered multiple-baseline designs with
        pre-planned windows (scan's ``startpoints``, given as session numbers).
        Cases without an entry use ``min_phase_length``.

    Returns
    -------
    RandomizationResult

    Raises
    ------
    DataError
        Bad option or column.
    DesignError
        A case without both phases, with other phases, or too short for
        ``min_phase_length``; ``slope_difference`` with more than two phases.

    Warns
    -----
    RehabStatsWarning
        The observed assignment is not admissible (a phase shorter than
        ``min_phase_length``); or the statistic is not finite for the observed
        or some enumerated assignment (p is then NaN).

    Notes
    -----
    With Monte Carlo sampling p is the share of sampled assignments, as in scan
    (the observed assignment is not added). scan's ``exclude.equal`` is FALSE here.
    The smallest attainable p-value is ``1 / n_possible`` (``result.min_p``,
    stated by ``summary()``, which also says when it exceeds alpha): an A-B
    series with fewer than 20 admissible start points can never reach p < 0.05.

    References
    ----------
    Bulte, I., & Onghena, P. (2009). Randomization tests for multiple-baseline
    designs: An extension of the SCRT-R package. *Behavior Research Methods*, 41,
    477-485. https://doi.org/10.3758/BRM.41.2.477

    Edgington, E. S. (1975). Randomization tests for one-subject operant
    experiments. *Journal of Psychology*, 90, 57-68.
    https://doi.org/10.1080/00223980.1975.9923926

    Examples
    --------
    >>> import pandas as pd
    >>> from rehabstats.sced._randomization import randomization_test
    >>> df = pd.DataFrame({"t": range(1, 13), "ph": list("AAAAABBBBBBB"),
    ...                    "y": [3, 4, 3, 5, 4, 7, 8, 7, 9, 8, 9, 10]})
    >>> res = randomization_test(df, outcome="y", phase="ph", session="t")
    >>> res.n_assignments, round(res.p_value, 3)
    (7, 0.143)
    """
    stat = _check_statistic(statistic)
    improvement = check_improvement(improvement)
    min_len = _check_min_len(min_phase_length)
    if n_samples is not None and (
        isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1
    ):
        raise DataError(f"'n_samples' must be None or a whole number >= 1; got {n_samples!r}.")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise DataError(
            f"'n_jobs' must be a nonzero whole number (-1 = all cores); got {n_jobs!r}."
        )
    if not isinstance(progress, (bool, np.bool_)):
        raise DataError(f"'progress' must be True or False; got {progress!r}.")
    gen = normalize_rng(rng)  # checked now, also when enumeration makes it unused
    frame = prepare_sced(data, outcome=outcome, phase=phase, session=session, case=case)
    # Built-in statistics are scale free (nap, smd) or linear in the outcome: compute
    # them in units of a power of two near the largest |value| (exact), so outcomes of
    # magnitude 1e300 do not overflow when squared, and restore the unit afterwards.
    unit = 1.0 if callable(stat) else pow2_unit(frame["outcome"].to_numpy())
    cases = _cases_from_frame(frame, str(baseline_phase), str(treatment_phase), unit)
    if stat == "slope_difference" and any(len(c.runs) > 2 for c in cases):
        raise DesignError(
            "statistic='slope_difference' needs A-B series (two phases per case); "
            "this design has more phases."
        )
    sign = 1.0 if improvement == "increase" else -1.0
    windows = _start_windows(start_sessions, [c.label for c in cases])
    tables, observed_vals, admissible = [], [], []
    for c in cases:
        vals, obs, ok = _case_table(c, stat, min_len, sign, windows.get(c.label))
        tables.append(vals)
        observed_vals.append(obs)
        admissible.append(ok)
    how = "mean" if callable(stat) else _AGGREGATE[stat]
    sizes = [t.size for t in tables]
    n_possible = math.prod(sizes)
    exhaustive = (n_samples is None and n_possible <= MAX_EXHAUSTIVE) or (
        n_samples is not None and n_possible <= n_samples
    )
    if exhaustive:
        # Cartesian product of the per-case tables (first case varies slowest).
        grids = np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij")
        idx = [g.ravel() for g in grids]
        dist = _aggregate(np.column_stack([t[i] for t, i in zip(tables, idx, strict=True)]), how)
        method = "exhaustive"
    else:
        draws = DEFAULT_SAMPLES if n_samples is None else int(n_samples)
        idx = [gen.integers(0, s, size=draws) for s in sizes]
        dist = _monte_carlo(tables, idx, how, progress=progress, n_jobs=int(n_jobs))
        method = "monte carlo"
    observed = float(_aggregate(np.asarray(observed_vals)[None, :], how)[0])
    p = _p_value(dist, observed)
    if math.isnan(p):
        name = getattr(stat, "__name__", "callable") if callable(stat) else stat
        n_bad = int(np.count_nonzero(~np.isfinite(dist)))
        warnings.warn(
            f"randomization test: the statistic {name!r} is not finite for the observed "
            f"assignment ({format_number(observed)}) or for {n_bad} of {dist.size} assignments "
            "(e.g. 'smd' with a phase of constant values, whose SD is 0), so the p-value is "
            "undefined (NaN). Use a statistic that is defined for these data, such as "
            "'mean_difference'.",
            RehabStatsWarning,
            stacklevel=2,
        )
    if not all(admissible):
        bad = [c.label for c, ok in zip(cases, admissible, strict=True) if not ok]
        warnings.warn(
            f"Case(s) {', '.join(map(repr, bad))}: the observed assignment has a phase shorter "
            f"than min_phase_length={min_len}, so it is not among the admissible assignments.",
            RehabStatsWarning,
            stacklevel=2,
        )
    scale = 1.0 if callable(stat) else _REPORT_SCALE.get(stat, 1.0)
    if stat in ("mean_difference", "median_difference", "slope_difference"):
        scale *= unit
    if len(cases) > 1:
        design = "multiple baseline"
    else:
        design = "".join("A" if r == baseline_phase else "B" for r in cases[0].runs)
    return RandomizationResult(
        statistic=observed * scale,
        p_value=p,
        n_assignments=int(dist.size),
        n_possible=int(n_possible),
        distribution=dist * scale,
        method=method,
        statistic_name=getattr(stat, "__name__", "callable") if callable(stat) else stat,
        design=design,
        n_cases=len(cases),
        min_phase_length=min_len,
        improvement=improvement,
        observed_admissible=all(admissible),
    )


def _start_windows(start_sessions: Any, labels: list[str]) -> dict[str, np.ndarray]:
    """Normalise ``start_sessions`` to {case label: array of session numbers}."""
    if start_sessions is None:
        return {}
    if isinstance(start_sessions, dict):
        unknown = [k for k in start_sessions if str(k) not in labels]
        if unknown:
            raise DataError(
                f"'start_sessions' names case {unknown[0]!r}, which is not in the "
                f"data (cases: {', '.join(map(repr, labels))})."
            )
        items = {str(k): v for k, v in start_sessions.items()}
    else:
        items = dict.fromkeys(labels, start_sessions)
    out = {}
    for label, v in items.items():
        try:
            arr = np.unique(np.asarray(v, dtype=float).ravel())
        except (TypeError, ValueError):
            raise DataError(
                f"'start_sessions' for case {label!r} must be session numbers; got {v!r}."
            ) from None
        if arr.size == 0 or not np.isfinite(arr).all():
            raise DataError(
                f"'start_sessions' for case {label!r} must be a non-empty set of "
                f"session numbers; got {v!r}."
            )
        out[label] = arr
    return out


def _mc_chunk(tables: Sequence[np.ndarray], idx: Sequence[np.ndarray], how: str) -> np.ndarray:
    return _aggregate(np.column_stack([t[i] for t, i in zip(tables, idx, strict=True)]), how)


def _monte_carlo(
    tables: Sequence[np.ndarray],
    idx: Sequence[np.ndarray],
    how: str,
    *,
    progress: bool,
    n_jobs: int,
) -> np.ndarray:
    """Aggregate sampled assignments in chunks (draws are made up front, so the
    result does not depend on ``n_jobs``).
    """
    total = idx[0].size
    chunk = 200_000
    bounds = [(s, min(s + chunk, total)) for s in range(0, total, chunk)]
    if n_jobs == 1 and not progress:
        return _mc_chunk(tables, idx, how)
    parts_iter: Any = bounds
    if progress:
        from tqdm.auto import tqdm

        parts_iter = tqdm(bounds, desc="randomization", unit="chunk")
    if n_jobs == 1:
        parts = [_mc_chunk(tables, [i[a:b] for i in idx], how) for a, b in parts_iter]
    else:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=n_jobs)(
            delayed(_mc_chunk)(tables, [i[a:b] for i in idx], how) for a, b in parts_iter
        )
    return np.concatenate(parts)


def randomization_test_batch(
    values: Any,
    n_baseline: Any,
    *,
    statistic: Statistic = "mean_difference",
    improvement: Literal["increase", "decrease"] = "increase",
    min_phase_length: int = 3,
) -> pd.DataFrame:
    """Exhaustive A-B randomization tests for many series of equal length at once.

    Parameters
    ----------
    values : array_like, shape (m, n)
        One A-B series per row, in session order (no missing values).
    n_baseline : int or array_like of int, shape (m,)
        Number of baseline (A) observations of each series.
    statistic, improvement, min_phase_length
        As in :func:`randomization_test` (callables are not accepted here).

    Returns
    -------
    pandas.DataFrame
        One row per series: ``series`` (0-based row), ``n_baseline``,
        ``statistic``, ``p_value``, ``n_assignments``. Each row equals
        :func:`randomization_test` on that series (tested).

    Examples
    --------
    >>> import numpy as np
    >>> from rehabstats.sced._randomization import randomization_test_batch
    >>> y = np.array([[3, 4, 3, 5, 4, 7, 8, 7, 9, 8, 9, 10.0]])
    >>> randomization_test_batch(y, 5)["p_value"].round(3).tolist()
    [0.143]
    """
    stat = check_option(statistic, "statistic", STATISTICS)
    improvement = check_improvement(improvement)
    min_len = _check_min_len(min_phase_length)
    try:
        y = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"'values' must be a numeric 2-D array; {exc}.") from None
    if y.ndim != 2 or y.shape[0] == 0:
        raise DataError(f"'values' must be a 2-D array (series x sessions); got shape {y.shape}.")
    if not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y).all(axis=1))[0])
        raise DataError(f"'values' row {row} has a missing or infinite value.")
    m, n = y.shape
    if n < 2:
        raise DataError(
            f"'values' must hold series of at least two sessions (one baseline and "
            f"one treatment observation); got {n} session(s) per series."
        )
    raw_nb = np.asarray(n_baseline)
    if raw_nb.ndim > 1 or (raw_nb.ndim == 1 and raw_nb.size not in (1, m)):
        raise DataError(
            f"'n_baseline' must be one whole number or one per series ({m} values, one per row "
            f"of 'values'); got {raw_nb.size} values."
        )
    nb = np.broadcast_to(raw_nb.reshape(-1) if raw_nb.ndim else raw_nb, (m,))
    if (
        nb.dtype.kind == "b"
        or not np.issubdtype(nb.dtype, np.integer)
        or (nb < 1).any()
        or (nb > n - 1).any()
    ):
        shown = raw_nb.tolist() if raw_nb.size <= 10 else f"{raw_nb.size} values"
        raise DataError(
            f"'n_baseline' must be whole numbers between 1 and {n - 1} (series length {n}); "
            f"got {shown!r}."
        )
    if n < 2 * min_len:
        raise DesignError(
            f"Series of {n} observations cannot have two phases of min_phase_length={min_len}."
        )
    sign = 1.0 if improvement == "increase" else -1.0
    splits = np.arange(1, n)  # number of A observations
    masks = np.arange(n)[None, :] >= splits[:, None]
    table = _STAT_FUNCS[stat](y, masks, sign)  # (m, n - 1)
    adm = (splits >= min_len) & (splits <= n - min_len)
    dist = table[:, adm]
    obs = table[np.arange(m), nb - 1]
    scale = _REPORT_SCALE.get(stat, 1.0)
    if stat == "smd_rms":
        dist, obs = np.abs(dist), np.abs(obs)
    finite = np.isfinite(obs) & np.isfinite(dist).all(axis=1)
    spread = np.maximum(np.abs(obs), np.abs(dist).max(axis=1))
    count = (dist >= (obs - 1e-10 * spread)[:, None]).sum(axis=1)
    p = np.where(finite, count / dist.shape[1], np.nan)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        warnings.warn(
            f"randomization_test_batch: the statistic {stat!r} is not finite for series "
            f"{', '.join(str(int(r)) for r in rows[:10])}{' and more' if rows.size > 10 else ''}"
            " (e.g. 'smd' with a phase of constant values), so their p-values are NaN.",
            RehabStatsWarning,
            stacklevel=2,
        )
    off = (nb < min_len) | (nb > n - min_len)
    if off.any():
        rows = np.flatnonzero(off)
        warnings.warn(
            f"randomization_test_batch: series {', '.join(str(int(r)) for r in rows[:10])}"
            f"{' and more' if rows.size > 10 else ''}: the observed assignment has a phase "
            f"shorter than min_phase_length={min_len}, so it is not among the admissible "
            "assignments.",
            RehabStatsWarning,
            stacklevel=2,
        )
    return pd.DataFrame(
        {
            "series": np.arange(m),
            "n_baseline": nb.astype(int),
            "statistic": obs * scale,
            "p_value": p,
            "n_assignments": int(adm.sum()),
        }
    )
