"""``describe``: descriptive statistics and visual-analysis features of single-case data."""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import check_improvement, show_value
from ..errors import RehabStatsWarning
from ._common import orient, pow2_unit
from ._common import sd as _sd
from ._data import prepare_sced
from ._nap_tau import _nap_core
from ._overlap import _pnd_core

__all__ = ["SCEDDescription", "describe"]


@dataclass(frozen=True)
class SCEDDescription(Result):
    """Output of :func:`describe`.

    Attributes
    ----------
    phases : pandas.DataFrame
        One row per case and phase run: ``case, run, phase, n, mean, median,
        sd, mad, min, max, trend`` (OLS slope of the outcome on session).
    transitions : pandas.DataFrame
        One row per adjacent pair of runs: ``case, from_run, to_run,
        from_phase, to_phase, level_change`` (difference of means),
        ``median_change, trend_change`` (slope difference), ``variability_ratio``
        (SD later / SD earlier), ``immediacy`` (mean of the first 3 points of
        the later run minus mean of the last 3 of the earlier run), ``pnd``
        and ``nap`` (overlap of the later run with the earlier one in the
        direction of ``improvement``).
    consistency : pandas.DataFrame
        One row per case and phase label that occurs in two or more runs
        (A-B-A-B): ``case, phase, n_runs, mean_of_means, sd_of_means,
        range_of_means, sd_of_trends``.
    """

    phases: pd.DataFrame
    transitions: pd.DataFrame
    consistency: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self) -> pd.DataFrame:
        """The per-phase table."""
        return self.phases.copy()


def _slope(t: np.ndarray, y: np.ndarray) -> float:
    if y.size < 2:
        return float("nan")
    unit = pow2_unit(y)
    tc = t - t.mean()
    return float(np.sum(tc * (y / unit - y.mean() / unit)) / np.sum(tc**2)) * unit


def describe(
    data: pd.DataFrame,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str | None = None,
    improvement: str = "increase",
) -> SCEDDescription:
    """Describe each phase run of each case and the change between adjacent runs.

    Per run: n, mean, median, SD (n - 1), MAD (R's ``mad``: 1.4826 x median
    absolute deviation), minimum, maximum and the OLS trend slope of the
    outcome on the session number -- the statistics of scan's ``describe``.
    Per adjacent pair of runs, the visual-analysis features of What Works
    Clearinghouse-style inspection: level change, trend change, variability
    ratio, immediacy (last 3 vs first 3 points) and overlap (PND and NAP of
    the later run against the earlier). Across runs of the same phase
    (A-B-A-B), consistency of the run means and trends.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy long data, one row per session. Not modified.
    outcome, phase, session, case : str
        Column names (``case`` optional).
    improvement : {"increase", "decrease"}
        Direction used for PND and NAP.

    Returns
    -------
    SCEDDescription
        ``.phases``, ``.transitions`` and ``.consistency`` tables. A statistic
        that is undefined for a run is NaN by definition (as in scan): the SD,
        trend and trend change of a one-observation run, and the
        variability ratio when the earlier run has SD 0; runs with a single
        observation are announced with a ``RehabStatsWarning``. SDs and trends are
        computed in units of a power of two near the largest value, so outcomes
        of magnitude 1e300 do not overflow.

    Examples
    --------
    >>> import pandas as pd
    >>> from rehabstats.sced import describe
    >>> df = pd.DataFrame({"t": range(1, 10), "ph": list("AAAABBBBB"),
    ...                    "y": [2, 3, 5, 3, 4, 5, 5, 7, 6]})
    >>> d = describe(df, outcome="y", phase="ph", session="t")
    >>> d.phases[["phase", "n", "mean", "trend"]].round(2).to_dict("records")
    [{'phase': 'A', 'n': 4, 'mean': 3.25, 'trend': 0.5}, {'phase': 'B', 'n': 5, 'mean': 5.4, 'trend': 0.6}]
    """
    improvement = check_improvement(improvement)
    frame = prepare_sced(data, outcome=outcome, phase=phase, session=session, case=case)
    phase_rows = []
    trans_rows = []
    cons_rows = []
    for label, grp in frame.groupby("case", sort=False):
        runs = []
        for run, g in grp.groupby("run", sort=True):
            y = g["outcome"].to_numpy()
            t = g["session"].to_numpy()
            ph = str(g["phase"].iat[0])
            runs.append((int(run), ph, t, y))
            sd = _sd(y)
            phase_rows.append(
                {
                    "case": label,
                    "run": int(run),
                    "phase": ph,
                    "n": int(y.size),
                    "mean": float(y.mean()),
                    "median": float(np.median(y)),
                    "sd": sd,
                    "mad": float(1.4826 * np.median(np.abs(y - np.median(y)))),
                    "min": float(y.min()),
                    "max": float(y.max()),
                    "trend": _slope(t, y),
                }
            )
        for (r1, p1, t1, y1), (r2, p2, t2, y2) in itertools.pairwise(runs):
            oa, ob = orient(y1[None, :], y2[None, :], improvement)
            with np.errstate(all="ignore"):
                nap_v = float(_nap_core(oa, ob, "null")[0][0])
                ratio = float(np.float64(_sd(y2)) / _sd(y1))
            trans_rows.append(
                {
                    "case": label,
                    "from_run": r1,
                    "to_run": r2,
                    "from_phase": p1,
                    "to_phase": p2,
                    "level_change": float(y2.mean() - y1.mean()),
                    "median_change": float(np.median(y2) - np.median(y1)),
                    "trend_change": _slope(t2, y2) - _slope(t1, y1),
                    "variability_ratio": ratio,
                    "immediacy": float(y2[:3].mean() - y1[-3:].mean()),
                    "pnd": float(_pnd_core(oa, ob)[0]),
                    "nap": nap_v,
                }
            )
        by_phase: dict[str, list[tuple[float, float]]] = {}
        for _, ph, t, y in runs:
            by_phase.setdefault(ph, []).append((float(y.mean()), _slope(t, y)))
        for ph, vals in by_phase.items():
            if len(vals) < 2:
                continue
            means = np.array([v[0] for v in vals])
            trends = np.array([v[1] for v in vals])
            cons_rows.append(
                {
                    "case": label,
                    "phase": ph,
                    "n_runs": len(vals),
                    "mean_of_means": float(means.mean()),
                    "sd_of_means": float(np.std(means, ddof=1)),
                    "range_of_means": float(means.max() - means.min()),
                    "sd_of_trends": float(np.std(trends, ddof=1)),
                }
            )
    single = [r for r in phase_rows if r["n"] < 2]
    if single:
        where = ", ".join(
            (f"case {show_value(r['case'])} " if case is not None else "")
            + f"run {r['run']} (phase {r['phase']!r})"
            for r in single[:10]
        )
        warnings.warn(
            f"describe: {len(single)} phase run(s) have a single observation: {where}"
            f"{' and more' if len(single) > 10 else ''}. Their SD and trend (and the trend "
            "change and variability ratio of the transitions they take part in) are NaN by "
            "definition, as in scan.",
            RehabStatsWarning,
            stacklevel=2,
        )
    trans_cols = [
        "case",
        "from_run",
        "to_run",
        "from_phase",
        "to_phase",
        "level_change",
        "median_change",
        "trend_change",
        "variability_ratio",
        "immediacy",
        "pnd",
        "nap",
    ]
    cons_cols = [
        "case",
        "phase",
        "n_runs",
        "mean_of_means",
        "sd_of_means",
        "range_of_means",
        "sd_of_trends",
    ]
    return SCEDDescription(
        phases=pd.DataFrame(phase_rows),
        transitions=pd.DataFrame(trans_rows, columns=trans_cols),
        consistency=pd.DataFrame(cons_rows, columns=cons_cols),
    )
