"""The standard single-case graph: A-B series and multiple-baseline panels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validate import check_improvement
from ..errors import DataError
from ..sced._common import pow2_unit
from ..sced._common import sd as _sd
from ..sced._data import prepare_sced

__all__ = ["OVERLAYS", "sced"]

#: Overlays :func:`sced` can draw on each case's panel.
OVERLAYS = ("mean", "median", "trend", "band", "celeration")

Overlay = Literal["mean", "median", "trend", "band", "celeration"]


def sced(
    data: pd.DataFrame,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str | None = None,
    overlays: Sequence[Overlay] = (),
    improvement: Literal["increase", "decrease"] | None = None,
    ax: Any = None,
    baseline_phase: str = "A",
    ylabel: str | None = None,
    title: str | None = None,
    measure: str | None = None,
    legend: bool = True,
    sharey: bool = False,
) -> Any:
    """Plot single-case data the way single-case papers do.

    Points joined by lines within each phase (the line is broken at every phase
    change), a dashed vertical line between phases, phase labels above the
    series, and for several cases one panel per case stacked vertically with a
    shared session axis and the "staircase" connector linking the phase-change
    lines of the multiple-baseline design.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy long single-case data (not modified).
    outcome, phase, session : str
        Column names.
    case : str, optional
        Case column; one panel per case.
    overlays : sequence of {"mean", "median", "trend", "band", "celeration"}
        ``"mean"``/``"median"``: horizontal line at each phase's mean/median;
        ``"trend"``: each phase's OLS line; ``"band"``: the baseline mean ± 2
        SD band extended across the treatment phase (:func:`~rehabstats.sced._classic.two_sd_band`);
        ``"celeration"``: the baseline split-middle line extended across the
        series (:func:`~rehabstats.sced._classic.celeration_line`).
    improvement : {"increase", "decrease"}, optional
        Direction of improvement, noted above the first panel. Default: the
        direction of ``measure`` when given, otherwise ``"increase"``.
    ax : matplotlib Axes, optional
        Axes to draw on (single case only). A new figure is created otherwise.
    baseline_phase : str
        Label of the baseline phase (used by the band and celeration overlays).
    ylabel, title : str, optional
        Axis label and figure title. Default label: the measure's name and unit
        (``measure``), otherwise the outcome column.
    measure : str, optional
        A name known to :mod:`rehabstats.measures` (e.g. ``"tug"``, ``"6mwt"``):
        gives the y-axis label with its unit ("Timed Up and Go (s)") and the
        direction of improvement; a conflicting ``improvement`` is an error.
    legend : bool, optional
        A legend below the panels naming the baseline (filled) and intervention
        (open) points and every overlay drawn (phase means, trends, band,
        celeration line).
    sharey : bool, optional
        One y-axis scale for every case's panel (multiple-baseline designs are
        easier to compare on a common scale; the default scales each panel to its
        own data).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    DataError
        Unknown overlay, ``ax`` with several cases, bad columns, a
        ``baseline_phase`` that is not a phase label of the data (the message
        lists the labels present), and every data error of
        :func:`rehabstats.sced._data.prepare_sced` (infinite outcomes, labels that
        differ only in case or whitespace, ...).

    Examples
    --------
    >>> import pandas as pd
    >>> from rehabstats.plot._sced import sced
    >>> df = pd.DataFrame({"t": range(1, 11), "ph": list("AAAABBBBBB"),
    ...                    "y": [3, 4, 3, 4, 6, 7, 7, 8, 9, 9]})
    >>> fig = sced(df, outcome="y", phase="ph", session="t", overlays=("mean",))
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt

    improvement, measure_label = _from_measure(measure, improvement)
    if not isinstance(legend, bool) or not isinstance(sharey, bool):
        raise DataError(
            "'legend' and 'sharey' must be True or False; got "
            f"legend={legend!r}, sharey={sharey!r}."
        )
    chosen: tuple[str, ...] = (overlays,) if isinstance(overlays, str) else tuple(overlays)
    bad = [o for o in chosen if o not in OVERLAYS]
    if bad:
        raise DataError(
            f"'overlays' entries must be among {', '.join(map(repr, OVERLAYS))}; got {bad[0]!r}."
        )
    frame = prepare_sced(data, outcome=outcome, phase=phase, session=session, case=case)
    labels = [str(v) for v in pd.unique(frame["phase"])]
    if str(baseline_phase) not in labels:
        raise DataError(
            f"'baseline_phase' is {baseline_phase!r}, but the data have no phase with that "
            f"label; phase labels present: {', '.join(map(repr, labels))}."
        )
    baseline_phase = str(baseline_phase)
    cases = list(pd.unique(frame["case"]))
    if ax is not None and len(cases) > 1:
        raise DataError(
            f"'ax' can only be given for a single case; the data have {len(cases)} "
            "cases (one panel each)."
        )
    if ax is None:
        fig, axes = plt.subplots(
            len(cases),
            1,
            sharex=True,
            sharey=sharey,
            squeeze=False,
            figsize=(7.5, 1.0 + 2.1 * len(cases)),
        )
        axes = axes[:, 0]
    else:
        fig, axes = ax.figure, np.array([ax])
    change_x: list[list[float]] = []
    for k, (label, panel) in enumerate(zip(cases, axes, strict=True)):
        grp = frame[frame["case"] == label]
        change_x.append(
            _draw_case(panel, grp, chosen, improvement, baseline_phase, label_phases=True)
        )
        if len(cases) > 1:
            panel.text(
                1.01,
                0.5,
                str(label),
                transform=panel.transAxes,
                rotation=270,
                va="center",
                ha="left",
                fontsize=10,
            )
        panel.spines[["top", "right"]].set_visible(False)
        label_y = ylabel or measure_label or outcome
        panel.set_ylabel(label_y if k == len(cases) // 2 or len(cases) == 1 else "")
    from matplotlib.ticker import MaxNLocator

    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1].set_xlabel(session)
    if len(cases) > 1:
        _staircase(fig, axes, change_x)
    arrow = "higher" if improvement == "increase" else "lower"
    note = f"({arrow} = better)"
    axes[0].annotate(note, xy=(0, 1.14), xycoords="axes fraction", fontsize=8, color="0.35")
    if title:
        fig.suptitle(title)
    handles = _legend_handles(chosen, baseline_phase) if legend else []
    if ax is None:
        fig.tight_layout(rect=(0, 0.06 if handles else 0, 1, 1))
    if handles:
        if ax is None:
            fig.legend(
                handles=handles,
                loc="lower center",
                ncol=min(len(handles), 4),
                fontsize=8,
                frameon=False,
            )
        else:
            ax.legend(handles=handles, fontsize=8, frameon=False, loc="best")
    return fig


def _from_measure(measure: str | None, improvement: str | None) -> tuple[Any, str | None]:
    """The direction of improvement and the y-axis label ("name (unit)") of ``measure``."""
    if measure is None:
        return check_improvement("increase" if improvement is None else improvement), None
    from ..measures import get

    m = get(measure)
    if improvement is not None and check_improvement(improvement) != m.improvement:
        raise DataError(
            f"'improvement' is {improvement!r}, but {m.label} ({measure!r}) "
            f"improves by {m.improvement}; leave 'improvement' out or fix it."
        )
    label = f"{m.label} ({m.unit})" if m.unit else m.label
    return m.improvement, label


#: Legend entries of the overlays: (overlay, label, style) — the styles of _draw_case.
_LEGEND: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("mean", "phase mean", {"color": "tab:blue", "linewidth": 1.2}),
    ("median", "phase median", {"color": "tab:green", "linewidth": 1.2, "linestyle": "-."}),
    ("trend", "phase trend (OLS)", {"color": "tab:orange", "linewidth": 1.1}),
    (
        "celeration",
        "baseline celeration line",
        {"color": "tab:red", "linestyle": ":", "linewidth": 1.4},
    ),
)


def _legend_handles(overlays: Sequence[str], baseline_phase: str) -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    point: dict[str, Any] = {"color": "black", "marker": "o", "markersize": 4.5, "linewidth": 1.2}
    handles: list[Any] = [
        Line2D([], [], markerfacecolor="black", label=f"baseline ({baseline_phase})", **point),
        Line2D([], [], markerfacecolor="white", label="intervention", **point),
    ]
    handles += [
        Line2D([], [], label=label, **style) for name, label, style in _LEGEND if name in overlays
    ]
    if "band" in overlays:
        handles.append(Patch(color="tab:purple", alpha=0.12, label="baseline mean ± 2 SD"))
    return handles


def _draw_case(
    ax: Any,
    grp: pd.DataFrame,
    overlays: Sequence[str],
    improvement: Literal["increase", "decrease"],
    baseline_phase: str,
    *,
    label_phases: bool,
) -> list[float]:
    """Draw one case's series; return the x positions of its phase-change lines."""
    from ..sced._classic import celeration_line

    x_all = grp["session"].to_numpy(dtype=float)
    y_all = grp["outcome"].to_numpy(dtype=float)
    runs = grp["run"].to_numpy()
    run_ids = list(pd.unique(runs))
    changes: list[float] = []
    x_lo, x_hi = x_all.min(), x_all.max()
    ax.set_xlim(x_lo - 0.7, x_hi + 0.7)
    for i, r in enumerate(run_ids):
        sel = runs == r
        x, y = x_all[sel], y_all[sel]
        ph = grp["phase"].to_numpy()[sel][0]
        ax.plot(
            x,
            y,
            color="black",
            marker="o",
            markersize=4.5,
            linewidth=1.2,
            markerfacecolor="black" if ph == baseline_phase else "white",
            zorder=3,
            label="_series",
        )
        if i > 0:
            prev_last = x_all[runs == run_ids[i - 1]].max()
            cx = (prev_last + x.min()) / 2
            changes.append(cx)
            ax.axvline(cx, color="0.3", linestyle="--", linewidth=1.0, label="_phase_change")
        if label_phases:
            ax.text(
                (x.min() + x.max()) / 2,
                1.02,
                ph,
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=10,
            )
        if "mean" in overlays:
            ax.hlines(
                y.mean(), x.min(), x.max(), color="tab:blue", linewidth=1.2, label="_overlay_mean"
            )
        if "median" in overlays:
            ax.hlines(
                np.median(y),
                x.min(),
                x.max(),
                color="tab:green",
                linewidth=1.2,
                linestyle="-.",
                label="_overlay_median",
            )
        if "trend" in overlays and len(x) >= 2:
            unit = pow2_unit(y)  # exact rescaling: no overflow for huge outcomes
            b, a = np.polyfit(x, y / unit, 1) * unit
            ax.plot(x, a + b * x, color="tab:orange", linewidth=1.1, label="_overlay_trend")
    base = grp[grp["phase"] == baseline_phase]
    first_base = base[base["run"] == base["run"].min()] if len(base) else base
    rest = grp[grp["session"] > first_base["session"].max()] if len(first_base) else grp.iloc[:0]
    if "band" in overlays and len(first_base) >= 2:
        m = first_base["outcome"].mean()
        sd = _sd(first_base["outcome"].to_numpy(dtype=float))
        ax.axhspan(
            m - 2 * sd, m + 2 * sd, color="tab:purple", alpha=0.12, zorder=0, label="_overlay_band"
        )
        ax.axhline(m, color="tab:purple", linewidth=0.8, alpha=0.6, label="_overlay_band_mean")
    if "celeration" in overlays and len(first_base) >= 2 and len(rest):
        line = celeration_line(
            first_base["outcome"],
            rest["outcome"],
            improvement=improvement,
            null=0.5,
            baseline_sessions=first_base["session"],
            treatment_sessions=rest["session"],
        )
        xs = np.array([first_base["session"].min(), x_hi])
        ax.plot(
            xs,
            line.intercept + line.slope * xs,
            color="tab:red",
            linestyle=":",
            linewidth=1.4,
            label="_overlay_celeration",
        )
    return changes


def _staircase(fig: Any, axes: Any, change_x: list[list[float]]) -> None:
    """Join the first phase change of each panel to the next panel's (the staircase)."""
    from matplotlib.patches import ConnectionPatch

    for upper, lower, cu, cl in zip(axes[:-1], axes[1:], change_x[:-1], change_x[1:], strict=True):
        if not cu or not cl:
            continue
        # from the bottom of the upper panel's line, across, then down into the lower panel
        bottom = upper.get_ylim()[0]
        top = lower.get_ylim()[1]
        elbow = ConnectionPatch(
            xyA=(cu[0], bottom),
            coordsA=upper.transData,
            xyB=(cl[0], top),
            coordsB=lower.transData,
            connectionstyle="angle,angleA=0,angleB=90,rad=0",
            color="0.3",
            linestyle="--",
            linewidth=1.0,
            label="_staircase",
        )
        fig.add_artist(elbow)
