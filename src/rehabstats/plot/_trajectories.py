"""Trajectory plot: mean outcome per arm at each visit with confidence intervals."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from .._entry import (
    arm_levels,
    check_finite,
    check_labels,
    default_reference,
    model_frame,
    resolve_visit_order,
    show,
)
from .._validate import (
    NanPolicy,
    check_ci,
    check_columns,
    check_nan_policy,
    check_numeric_column,
    drop_missing_rows,
)
from ..errors import DataError, RehabStatsWarning

__all__ = ["trajectories", "trajectory_summary"]


def _prepare(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    visit: str,
    subject: str | None,
    visit_order: Sequence[Any] | None,
    reference: Any,
    nan_policy: NanPolicy,
) -> tuple[pd.DataFrame, list[Any], list[Any], int]:
    """Checked copy of the columns, the visit and arm orders, and the rows dropped."""
    nan_policy = check_nan_policy(nan_policy)
    check_columns(data, {"outcome": outcome, "arm": arm, "visit": visit, "subject": subject})
    cols = [c for c in (subject, arm, visit, outcome) if c is not None]
    frame = model_frame(data, cols)
    frame[outcome] = check_numeric_column(frame, outcome, "outcome")
    check_finite(frame, [outcome], {outcome: "outcome"})
    check_labels(frame[arm], arm)
    visits = resolve_visit_order(frame, visit, subject, visit_order)
    arm_lv = arm_levels(frame[arm])
    ref = default_reference(arm_lv, reference, name=arm, stacklevel=4)
    arms = [ref, *[a for a in arm_lv if a != ref]] if arm_lv else []
    labels_missing = frame[[arm, visit]].isna().any(axis=1)
    if labels_missing.any():
        raise DataError(
            f"Columns {arm!r} ('arm') and {visit!r} ('visit') must not contain "
            f"missing values; {int(labels_missing.sum())} row(s) do."
        )
    _, n_dropped = drop_missing_rows(frame, [outcome], nan_policy=nan_policy, stacklevel=4)
    return frame, visits, arms, n_dropped


def trajectory_summary(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    visit: str,
    ci: float = 0.95,
    subject: str | None = None,
    visit_order: Sequence[Any] | None = None,
    reference: Any = None,
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    r"""Per arm and visit: n, mean, SD and the t interval :math:`\bar y \pm t_{n-1} s/\sqrt n`.

    Missing outcomes are left out of each cell (observed cases; ``n`` says how
    many remain) and announced with a ``RehabStatsWarning``
    (``nan_policy="raise"`` makes them a ``DataError``). Visits follow the
    library's visit rule (:func:`rehabstats._entry.resolve_visit_order`;
    string visits without numbers need ``subject`` or ``visit_order``); the
    reference arm (``reference``, else a recognised control label, else the
    first level) comes first. Columns: ``arm, visit, n, mean, sd, ci_low, ci_high``.
    Cells with fewer than two observed values have a NaN SD and interval,
    announced with a ``RehabStatsWarning``.
    """
    ci = check_ci(ci)
    frame, visits, arms, _ = _prepare(
        data,
        outcome=outcome,
        arm=arm,
        visit=visit,
        subject=subject,
        visit_order=visit_order,
        reference=reference,
        nan_policy=nan_policy,
    )
    y = frame[outcome]
    rows = []
    for a in arms:
        in_arm = (frame[arm] == a).to_numpy()
        for v in visits:
            vals = y[in_arm & (frame[visit] == v).to_numpy()].dropna()
            n = len(vals)
            mean = float(vals.mean()) if n else np.nan
            sd = float(vals.std(ddof=1)) if n > 1 else np.nan
            half = float(stats.t.ppf(0.5 + ci / 2, n - 1) * sd / np.sqrt(n)) if n > 1 else np.nan
            rows.append(
                {
                    "arm": a,
                    "visit": v,
                    "n": n,
                    "mean": mean,
                    "sd": sd,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                }
            )
    table = pd.DataFrame(rows, columns=["arm", "visit", "n", "mean", "sd", "ci_low", "ci_high"])
    _warn_thin_cells(table, arm=arm, visit=visit, outcome=outcome)
    return table


def _warn_thin_cells(table: pd.DataFrame, *, arm: str, visit: str, outcome: str) -> None:
    """Warn once about arm-visit cells with fewer than two observed outcomes (their SD and
    CI are NaN, their mean too when empty).
    """
    thin = table[table["n"] < 2]
    if len(thin) == 0:
        return
    cells = ", ".join(
        f"{show(a)} at {show(v)} (n = {int(n)})"
        for a, v, n in thin[["arm", "visit", "n"]].itertuples(index=False)
    )
    warnings.warn(
        f"{len(thin)} cell(s) of {arm!r} by {visit!r} have fewer than two observed "
        f"{outcome!r} values: {cells}; their SD and confidence interval are NaN (and the "
        "mean too when no value is observed).",
        RehabStatsWarning,
        stacklevel=4,
    )


def trajectories(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    visit: str,
    subject: str | None = None,
    ci: float = 0.95,
    visit_order: Sequence[Any] | None = None,
    reference: Any = None,
    nan_policy: NanPolicy = "omit",
) -> Figure:
    """Plot mean ± CI of the outcome per arm across visits (optionally each subject's line).

    Parameters
    ----------
    data : pandas.DataFrame
        Long data, one row per subject and visit.
    outcome, arm, visit : str
        Column names. Visit order: the library's one rule
        (:func:`rehabstats._entry.resolve_visit_order`): ``visit_order``, a
        Categorical's categories, numbers sorted, numbered labels in natural
        order (``"week4" < "week12"``), else the within-subject sequence of
        rows when every subject agrees (needs ``subject``), else a
        ``DesignError``. Arms: the reference arm first, then the others.
    subject : str, optional
        If given, each subject's observed trajectory is drawn as a thin line.
    ci : float
        Confidence level of the t interval of each mean (observed cases).
    visit_order : sequence, optional
        The visit labels in order.
    reference : optional
        The reference arm (drawn first); default a recognised control label,
        else the first level.
    nan_policy : {"omit", "raise"}, optional
        Missing outcomes are left out with a ``RehabStatsWarning``, or raise.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from rehabstats.plot._trajectories import trajectories
    >>> d = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                   "arm": ["a"] * 4 + ["b"] * 4, "visit": ["pre", "post"] * 4,
    ...                   "y": [1.0, 2, 1.5, 2.5, 1, 1.2, 1.1, 1.0]})
    >>> fig = trajectories(d, outcome="y", arm="arm", visit="visit", subject="id")
    >>> len(fig.axes)
    1
    """
    frame, visits, arms, _ = _prepare(
        data,
        outcome=outcome,
        arm=arm,
        visit=visit,
        subject=subject,
        visit_order=visit_order,
        reference=reference,
        nan_policy=nan_policy,
    )
    with warnings.catch_warnings():  # the drop was announced once by _prepare
        warnings.simplefilter("ignore", RehabStatsWarning)
        summary = trajectory_summary(
            frame,
            outcome=outcome,
            arm=arm,
            visit=visit,
            ci=ci,
            subject=subject,
            visit_order=visits,
            reference=arms[0] if arms else None,
        )
    _warn_thin_cells(summary, arm=arm, visit=visit, outcome=outcome)
    if not visits or not arms:
        raise DataError("The data have no visits or arms to plot.")
    pos = {v: i for i, v in enumerate(visits)}
    fig = Figure(figsize=(6.0, 4.0))
    ax = fig.add_subplot()
    colors = [f"C{i}" for i in range(len(arms))]
    width = 0.08 * (len(arms) - 1)
    for i, (a, color) in enumerate(zip(arms, colors, strict=True)):
        offset = (i - (len(arms) - 1) / 2) * (width / max(len(arms) - 1, 1))
        if subject is not None:
            sub = frame[(frame[arm] == a).to_numpy() & frame[outcome].notna().to_numpy()]
            for _, g in sub.groupby(subject, sort=False, observed=True):
                g = g.assign(_pos=g[visit].map(pos).astype(float)).sort_values("_pos")
                ax.plot(
                    g["_pos"].to_numpy() + offset,
                    g[outcome].to_numpy(),
                    color=color,
                    alpha=0.25,
                    linewidth=0.8,
                )
        s = summary[summary["arm"] == a]
        x = s["visit"].map(pos).to_numpy(dtype=float) + offset
        err = np.vstack([s["mean"] - s["ci_low"], s["ci_high"] - s["mean"]])
        ax.errorbar(
            x,
            s["mean"],
            yerr=err,
            color=color,
            marker="o",
            capsize=4,
            linewidth=2,
            label=f"{a} (n = {int(s['n'].max())})",
        )
    ax.set_xticks(range(len(visits)), [str(v) for v in visits])
    ax.set_xlabel(visit)
    ax.set_ylabel(outcome)
    pct = f"{100 * ci:g}%"
    ax.set_title(f"{outcome}: mean and {pct} CI by {arm}")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
