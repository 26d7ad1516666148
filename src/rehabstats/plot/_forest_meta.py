"""Forest plot of a meta-analysis: studies sized by weight, pooled diamond, prediction interval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from .._results import format_number
from ..errors import DataError

if TYPE_CHECKING:
    from ..meta._result import MetaAnalysisResult

__all__ = ["forest_meta"]


def forest_meta(
    result: MetaAnalysisResult,
    *,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    xlabel: str | None = None,
    exp: bool | None = None,
    title: str | None = None,
    digits: int = 2,
    prediction_interval: bool = True,
    null_value: float | None = None,
) -> Figure:
    """Draw the forest plot of a :class:`~rehabstats.meta.MetaAnalysisResult`.

    One row per study (square area proportional to its weight, CI bar), then
    the pooled estimate as a diamond spanning its CI and, for random-effects
    models, the prediction interval as a bar through the diamond. The right
    column prints ``estimate [low, high]`` and the percent weight. Reached
    through :func:`rehabstats.plot.forest` or ``result.forest()``.

    Parameters
    ----------
    result : MetaAnalysisResult
        The fitted meta-analysis.
    labels : sequence of str, optional
        Study labels (default: the result's labels).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    xlabel, title : str, optional
        Axis label (default: the measure) and title.
    exp : bool, optional
        Draw ``exp`` of the values on a log axis; default True for ROM, RR, OR.
    digits : int, optional
        Decimals of the printed numbers.
    prediction_interval : bool, optional
        Draw the prediction interval (random-effects models with k >= 2).
    null_value : float, optional
        No-effect line; default 0 (1 on the exp scale).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import rehabstats as rs
    >>> res = rs.meta.meta_analysis([0.2, 0.5, 0.35], [0.04, 0.09, 0.05], method="DL")
    >>> fig = rs.plot.forest(res)
    >>> len(fig.axes[0].get_yticklabels())
    4
    """
    k = result.k
    names = list(result.labels) if labels is None else [str(x) for x in labels]
    if len(names) != k:
        raise DataError(f"'labels' must give one label per study ({k}); got {len(names)}.")
    use_exp = result.is_log_scale if exp is None else bool(exp)
    tr = np.exp if use_exp else (lambda x: np.asarray(x, dtype=float))
    studies = result.studies()
    est = tr(studies["yi"].to_numpy())
    low = tr(studies["ci_low"].to_numpy())
    high = tr(studies["ci_high"].to_numpy())
    weights = studies["weight"].to_numpy()
    pooled = float(tr(result.estimate))
    p_low, p_high = float(tr(result.ci_low)), float(tr(result.ci_high))
    show_pi = (
        prediction_interval and result.method != "EE" and k >= 2 and np.isfinite(result.pi_low)
    )
    pi_low, pi_high = float(tr(result.pi_low)), float(tr(result.pi_high))

    n_rows = k + 1
    y = np.arange(n_rows)[::-1].astype(float) + 1.0  # studies from the top; pooled row at y = 1
    y_study, y_pool = y[:k], 1.0
    if ax is None:
        fig = Figure(figsize=(7.5, 1.3 + 0.34 * n_rows), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = cast(Figure, ax.get_figure())

    ax.hlines(y_study, low, high, color="0.15", linewidth=1.3, zorder=2)
    sizes = 20 + 180 * weights / max(float(weights.max()), 1e-12)
    ax.scatter(est, y_study, s=sizes, marker="s", color="0.25", zorder=3)
    diamond = Polygon(
        [(p_low, y_pool), (pooled, y_pool + 0.3), (p_high, y_pool), (pooled, y_pool - 0.3)],
        closed=True,
        facecolor="0.35",
        edgecolor="0.1",
        zorder=4,
    )
    ax.add_patch(diamond)
    if show_pi:
        ax.hlines(
            [y_pool],
            [pi_low],
            [pi_high],
            color="tab:red",
            linewidth=2.0,
            zorder=3,
            label="prediction interval",
        )
    null = (1.0 if use_exp else 0.0) if null_value is None else float(null_value)
    ax.axvline(null, color="0.5", linestyle="--", linewidth=0.9, zorder=1)
    if use_exp:
        ax.set_xscale("log")
    pooled_label = (
        "Common effect"
        if result.method == "EE"
        else f"Random effects ({result.method}{', HKSJ' if result.test == 'hksj' else ''})"
    )
    ax.set_yticks([*y_study, y_pool], [*names, pooled_label])
    ax.get_yticklabels()[-1].set_fontweight("bold")
    ax.set_ylim(0.3, n_rows + 0.8)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    measure = result.measure or "Effect size"
    ax.set_xlabel(
        xlabel
        if xlabel is not None
        else (f"{measure} (exp scale)" if use_exp and result.measure else measure)
    )
    ax.grid(axis="x", color="0.92", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)

    def f(v: float) -> str:
        return format_number(v, digits)

    pct = format_number(100 * result.ci_level, 0)
    texts = [
        f"{f(e)} [{f(lo)}, {f(hi)}]  {w:.1f}%"
        for e, lo, hi, w in zip(est, low, high, weights, strict=True)
    ]
    texts.append(f"{f(pooled)} [{f(p_low)}, {f(p_high)}]  100%")
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    right.set_yticks([*y_study, y_pool, n_rows + 0.45], [*texts, f"Estimate [{pct}% CI]  Weight"])
    right.get_yticklabels()[-1].set_fontweight("bold")
    right.get_yticklabels()[-2].set_fontweight("bold")
    right.tick_params(axis="y", length=0)
    for side in ("top", "right", "left", "bottom"):
        right.spines[side].set_visible(False)
    het = (
        f"Heterogeneity: tau² = {format_number(result.tau2, 3)}, I² = {result.i2:.0f}%, "
        f"Q({result.q_df}) = {format_number(result.q, 2)}, p = {format_number(result.q_p, 3)}"
    )
    if show_pi:
        het += f"\n{pct}% prediction interval [{f(pi_low)}, {f(pi_high)}] (red bar)"
    ax.set_title(het if title is None else f"{title}\n{het}", loc="left", fontsize=8.5)
    return fig
