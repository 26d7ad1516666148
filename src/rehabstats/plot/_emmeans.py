"""Interaction plot of estimated marginal means with CIs (as emmeans' ``emmip``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError, DesignError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["emmeans"]


def emmeans(
    fit: Any,
    *,
    arm: str | None = None,
    visit: str | None = None,
    df_method: str | None = None,
    ci: float = 0.95,
    ax: Any = None,
    ylabel: str | None = None,
    dodge: float = 0.06,
    colors: Sequence[str] | None = None,
) -> Figure:
    """Estimated marginal means by arm and visit with their CIs (emmeans' ``emmip(..., CIs = TRUE)``).

    The points and intervals are ``fit.emmeans(arm, by=visit)`` (model-based means,
    averaged over other factors with equal weights, as emmeans does), joined per arm in
    the model's visit order; arms are offset slightly (``dodge``) so that the intervals
    do not overlap.

    Parameters
    ----------
    fit : model result
        A ``rs.mmrm``, ``rs.lmm`` or ``rs.ancova`` result.
    arm, visit : str, optional
        The model's arm and visit factors (default: those the model knows).
    df_method : str, optional
        Degrees of freedom of the intervals (the model's default otherwise).
    ci : float
        Confidence level.
    ax : matplotlib Axes, optional
        Draw into this Axes.
    ylabel : str, optional
        Axis label (default: the outcome's name and "(estimated marginal mean)").
    dodge : float
        Horizontal offset between arms, in visit units.
    colors : sequence of str, optional
        One colour per arm.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import rehabstats as rs
    >>> trial = rs.datasets.load("cimt_ms").dropna(subset=["mal_aou"])
    >>> fit = rs.mmrm("mal_aou ~ arm * visit", trial, subject="subject", visit="visit")
    >>> fig = rs.plot.emmeans(fit)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['pre', 'post', 'followup']
    """
    import matplotlib.pyplot as plt

    if not hasattr(fit, "emmeans"):
        raise DataError(
            f"'fit' must be a fitted model result (rs.mmrm, rs.lmm, rs.ancova); "
            f"got {type(fit).__name__}."
        )
    arm = arm if arm is not None else getattr(fit, "arm_name", None)
    if arm is None:
        raise DesignError("The model has no arm factor; pass arm=.")
    levels = fit._grid().levels
    visit = visit if visit is not None else getattr(fit, "visit_name", None)
    if visit is not None and visit not in levels:
        raise DesignError(
            f"'{visit}' is not a factor of the model; its factors are {list(levels)}."
        )
    table = fit.emmeans(arm, by=visit, df_method=df_method, ci=ci)
    arms = list(levels[arm])
    visits = list(levels[visit]) if visit is not None else [""]
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.3 * len(visits) + 3, 4))
    else:
        fig = ax.figure
    palette = list(colors) if colors is not None else [f"C{i}" for i in range(len(arms))]
    if len(palette) < len(arms):
        raise DataError(f"'colors' needs one colour per arm ({len(arms)}); got {len(palette)}.")
    offsets = (np.arange(len(arms)) - (len(arms) - 1) / 2) * dodge
    x = np.arange(len(visits), dtype=float)
    for i, a in enumerate(arms):
        rows = table[table[arm].astype(str) == str(a)]
        if visit is not None:
            order = {str(v): j for j, v in enumerate(visits)}
            rows = rows.assign(_x=rows[visit].astype(str).map(order)).sort_values("_x")
            xs = rows["_x"].to_numpy(dtype=float) + offsets[i]
        else:
            xs = x + offsets[i]
        est = rows["estimate"].to_numpy(dtype=float)
        err = np.vstack(
            [est - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - est]
        )
        ax.errorbar(xs, est, yerr=err, marker="o", capsize=3, color=palette[i], label=str(a))
    ax.set_xticks(x)
    ax.set_xticklabels([str(v) for v in visits])
    if visit is not None:
        ax.set_xlabel(visit)
    outcome = getattr(fit, "outcome_name", None) or "outcome"
    ax.set_ylabel(ylabel if ylabel is not None else f"{outcome} (estimated marginal mean)")
    ax.legend(title=arm, frameon=False)
    ax.set_title(f"Estimated marginal means, {round(100 * ci)}% CI", fontsize=10)
    return fig
