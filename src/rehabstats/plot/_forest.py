"""Forest plot of effect sizes with confidence intervals."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._results import EffectSizeResult, format_number
from .._validate import check_ci, check_columns, check_numeric_column, show_value
from ..errors import DataError

__all__ = ["forest"]

#: Columns tried, in this order, to label the rows of a tidy table when ``label`` is not given.
#: ``rs.sced.effect_sizes`` gives case/pair/index, model tables contrast + by columns.
LABEL_COLUMNS: tuple[str, ...] = (
    "label",
    "case",
    "pair",
    "outcome",
    "contrast",
    "measure",
    "index",
    "term",
    "visit",
)


def _frame_from_results(results: Sequence[Any]) -> pd.DataFrame:
    rows = []
    for i, res in enumerate(results):
        if not isinstance(res, EffectSizeResult):
            raise DataError(
                "'results' must be a list of EffectSizeResult or a DataFrame with columns "
                f"estimate, ci_low, ci_high; element {i} is a {type(res).__name__}."
            )
        row = {
            "measure": res.measure,
            "estimate": res.estimate,
            "ci_low": res.ci_low,
            "ci_high": res.ci_high,
            "ci_level": res.ci_level,
            "text": None,
        }
        if res.details.get("ci_through_infinity"):
            # an NNT whose confidence set runs through infinity is not the bar [low, high]
            row.update(
                ci_low=math.nan,
                ci_high=math.nan,
                text=f"{format_number(res.estimate, 2)} [{res.details.get('ci_text')}]",
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Label columns as plain strings, a missing label as ``NA``."""
    return frame.astype(object).map(lambda v: "NA" if pd.isna(v) else str(v))


def _default_labels(frame: pd.DataFrame) -> list[str]:
    """Join the label columns that vary between rows (``"Case 1, nap"``)."""
    present = [c for c in LABEL_COLUMNS if c in frame.columns]
    varying = [c for c in present if frame[c].nunique(dropna=False) > 1]
    cols = varying or present[:1]
    if not cols:
        return [str(i + 1) for i in range(len(frame))]
    parts = _as_text(frame[cols])
    if "pair" in cols:  # a bare number says little on its own
        parts["pair"] = "pair " + parts["pair"]
    return [", ".join(row) for row in parts.itertuples(index=False)]


def _ci_text(est: float, low: float, high: float, digits: int) -> str:
    def f(v: float) -> str:
        return format_number(v, digits)

    if math.isnan(low) and math.isnan(high):
        return f"{f(est)}"
    return f"{f(est)} [{f(low)}, {f(high)}]"


def forest(
    results: Sequence[EffectSizeResult] | EffectSizeResult | pd.DataFrame,
    *,
    labels: Sequence[str] | None = None,
    label: str | Sequence[str] | None = None,
    ax: Axes | None = None,
    null_value: float | None = 0.0,
    estimate: str = "estimate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    xlabel: str = "Effect size",
    title: str | None = None,
    digits: int = 2,
    ci_level: float | None = None,
) -> Figure:
    """Draw a forest plot: one row per effect size, point estimate and CI bar.

    Each row shows the estimate as a square and its confidence interval as a
    horizontal bar. A dashed vertical line marks the null value, row labels are
    on the left and ``estimate [low, high]`` on the right. Rows without an
    interval (NaN limits, e.g. PND or Tau-U) or with an open-ended one (an
    infinite limit, an NNT whose confidence set runs through infinity) are
    drawn as points only, their interval given in the text; rows with a NaN
    estimate are left empty and labelled ``NA``. Rows appear top to
    bottom in input order.

    Parameters
    ----------
    results : list of EffectSizeResult, EffectSizeResult or pandas.DataFrame
        Effect-size results, or a tidy table with columns ``estimate``,
        ``ci_low``, ``ci_high`` (names changeable below), such as the output of
        :func:`rehabstats.sced.effect_sizes` or a model's ``contrasts()`` /
        ``effect_sizes()``. Not modified. A
        :class:`~rehabstats.meta.MetaAnalysisResult` is drawn as a meta-analysis
        forest plot (weights, pooled diamond, prediction interval; see
        :func:`rehabstats.plot._forest_meta.forest_meta`).
    labels : sequence of str, optional
        Row labels, one per row. Default: each result's ``measure``; for a
        table, the columns named by ``label``.
    label : str or sequence of str, optional
        Table column(s) joined into the row labels. Default: those of
        ``label, case, pair, outcome, contrast, measure, index, term, visit``
        present in the table whose values vary between rows.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure sized to the number of rows.
    null_value : float or None, optional
        Where to draw the no-effect line (0 for differences, 0.5 for NAP);
        None draws none.
    estimate, ci_low, ci_high : str, optional
        Column names of a table.
    xlabel, title : str, optional
        Axis label and title.
    digits : int, optional
        Decimals of the numbers printed on the right.
    ci_level : float, optional
        Confidence level shown in the column header (``Estimate [95% CI]``).
        Default: the results' ``ci_level`` when they share one, else ``CI``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the plot (``ax.figure`` when ``ax`` is given).

    Raises
    ------
    DataError
        Empty input, elements that are not effect-size results, missing or
        non-numeric columns, ``labels`` of the wrong length, ``digits`` that is not
        a whole number from 0 to 15, or a non-finite ``null_value``.

    Examples
    --------
    >>> import rehabstats as rs
    >>> from rehabstats.plot._forest import forest
    >>> x, y = [5.0, 6.5, 7.1, 6.0, 8.2], [4.1, 5.0, 4.8, 5.9, 4.4]
    >>> fig = forest([rs.hedges_g(x, y), rs.cliffs_delta(x, y)])
    >>> len(fig.axes[0].get_yticklabels())
    2
    """
    if (
        isinstance(digits, (bool, np.bool_))
        or not isinstance(digits, numbers.Integral)
        or not (0 <= int(digits) <= 15)
    ):
        raise DataError(
            "The 'digits' argument is the number of decimals printed and must be a "
            f"whole number from 0 to 15; got {show_value(digits)}."
        )
    digits = int(digits)
    if null_value is not None and (
        isinstance(null_value, (bool, np.bool_))
        or not isinstance(null_value, numbers.Real)
        or not math.isfinite(float(null_value))
    ):
        raise DataError(
            "The 'null_value' argument must be a finite number or None; got "
            f"{show_value(null_value)}."
        )
    if ax is not None and not isinstance(ax, Axes):
        raise DataError(f"'ax' must be a matplotlib Axes or None; got {type(ax).__name__}.")
    for arg, col in (("estimate", estimate), ("ci_low", ci_low), ("ci_high", ci_high)):
        if not isinstance(col, str):
            raise DataError(
                f"'{arg}' names a table column and must be a string; got {show_value(col)}."
            )
    if (
        label is not None
        and not isinstance(label, str)
        and not (isinstance(label, Sequence) and all(isinstance(c, str) for c in label))
    ):
        raise DataError(
            f"'label' must be a column name or a list of column names; got {show_value(label)}."
        )
    if (
        labels is not None
        and not isinstance(labels, str)
        and not (hasattr(labels, "__len__") and hasattr(labels, "__iter__"))
    ):
        raise DataError(f"'labels' must be a list of row labels; got {show_value(labels)}.")
    from ..meta._result import MetaAnalysisResult

    if isinstance(results, MetaAnalysisResult):  # studies, pooled diamond, prediction interval
        from ._forest_meta import forest_meta

        return forest_meta(
            results,
            labels=labels,
            ax=ax,
            xlabel=None if xlabel == "Effect size" else xlabel,
            title=title,
            digits=digits,
            null_value=null_value,
        )
    if isinstance(results, EffectSizeResult):
        results = [results]
    if isinstance(results, pd.DataFrame):
        if len(results) == 0:
            raise DataError("'results' is an empty table; there is nothing to plot.")
        check_columns(results, {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high})
        frame = pd.DataFrame(
            {
                "estimate": check_numeric_column(results, estimate, "estimate"),
                "ci_low": check_numeric_column(results, ci_low, "ci_low"),
                "ci_high": check_numeric_column(results, ci_high, "ci_high"),
            }
        ).reset_index(drop=True)
        source = results.reset_index(drop=True)
        if label is not None:
            cols = [label] if isinstance(label, str) else list(label)
            check_columns(results, {f"label[{i}]": c for i, c in enumerate(cols)})
            default = [", ".join(r) for r in _as_text(source[cols]).itertuples(index=False)]
        else:
            default = _default_labels(source)
        levels = results["ci_level"].dropna().unique() if "ci_level" in results else []
    elif isinstance(results, (str, bytes)) or not isinstance(results, Sequence):
        raise DataError(
            "'results' must be a list of EffectSizeResult or a DataFrame with columns "
            f"estimate, ci_low, ci_high; got {type(results).__name__}."
        )
    else:
        if len(results) == 0:
            raise DataError("'results' is empty; there is nothing to plot.")
        if label is not None:
            raise DataError("'label' names table columns; with a list of results use 'labels'.")
        frame = _frame_from_results(results)
        default = frame["measure"].astype(str).tolist()
        levels = frame["ci_level"].dropna().unique()
    if labels is not None:
        if isinstance(labels, str) or len(labels) != len(frame):
            got = "a string" if isinstance(labels, str) else f"{len(labels)} labels"
            raise DataError(f"'labels' must give one label per row ({len(frame)}); got {got}.")
        row_labels = [str(v) for v in labels]
    else:
        row_labels = default

    if ci_level is not None:
        levels = [check_ci(ci_level, "ci_level")]
    est = frame["estimate"].to_numpy(dtype=float)
    low = frame["ci_low"].to_numpy(dtype=float)
    high = frame["ci_high"].to_numpy(dtype=float)
    n = est.size
    y = np.arange(n)[::-1].astype(float)  # first row on top

    if ax is None:
        fig = Figure(figsize=(7.0, 0.9 + 0.32 * n), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = cast(Figure, ax.get_figure())

    # CI bars only where both limits are finite (an open-ended limit would distort the axis)
    has_ci = np.isfinite(low) & np.isfinite(high) & np.isfinite(est)
    ax.hlines(y[has_ci], low[has_ci], high[has_ci], color="0.15", linewidth=1.4, zorder=2)
    ok = np.isfinite(est)
    ax.plot(est[ok], y[ok], linestyle="none", marker="s", markersize=6, color="0.15", zorder=3)
    if null_value is not None:
        ax.axvline(float(null_value), color="0.5", linestyle="--", linewidth=0.9, zorder=1)

    ax.set_yticks(y, row_labels)
    ax.set_ylim(-0.7, n - 0.1)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="0.92", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)

    # estimate [low, high] as tick labels of a twin axis: laid out by matplotlib, never clipped;
    # the column header is one more tick label above the first row
    pct = f"{format_number(100 * float(levels[0]), 0)}% CI" if len(levels) == 1 else "CI"
    texts = [_ci_text(e, lo, hi, digits) for e, lo, hi in zip(est, low, high, strict=True)]
    if "text" in frame:  # results that describe their own interval (NNT through infinity)
        texts = [t if isinstance(t, str) else d for t, d in zip(frame["text"], texts, strict=True)]
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    right.set_yticks([*y, n - 0.35], [*texts, f"Estimate [{pct}]"])
    right.get_yticklabels()[-1].set_fontweight("bold")
    right.tick_params(axis="y", length=0)
    for side in ("top", "right", "left", "bottom"):
        right.spines[side].set_visible(False)
    if title is not None:
        ax.set_title(title, loc="left")
    return fig
