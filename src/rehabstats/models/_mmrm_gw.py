"""Grouped covariance (``group=``) and observation weights (``weights=``) of :func:`mmrm`.

Validation of the two columns and the helpers that the result's methods use
to apply them; the likelihood itself is in :mod:`._mmrm_fit` (weights) and
:func:`._covariance.grouped_structure` (a block-diagonal ``Sigma`` over
``groups x visits`` points).

Conventions (R mmrm 0.3.18, ``src/mmrm.cpp``; SAS PROC MIXED ``GROUP=`` and
``WEIGHT``):

* ``us(visit | group / subject)``: one ``Sigma_g`` per level of ``group``
  (the same structure), ``theta = (theta_g1, theta_g2, ...)`` in the order of
  the group levels; a subject's rows use its group's ``Sigma``.
* ``weights = w``: ``Cov(y_i) = W_i^{-1/2} Sigma W_i^{-1/2}``,
  ``W_i = diag(w_i)``; the likelihood constant is unchanged, so
  ``-2 log L = (unweighted -2 log L of sqrt(w) y on sqrt(w) X) - sum(log w)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._entry import show, show_list
from ..errors import DataError, DesignError

__all__ = ["check_group", "check_weights", "group_codes", "weights_of"]


def check_weights(frame: pd.DataFrame, weights: str) -> np.ndarray:
    """The weights column as a float array; raises DataError unless all are positive and finite."""
    s = frame[weights]
    if isinstance(s.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    ):
        raise DataError(f"The weights column {weights!r} must be numeric; it has dtype {s.dtype}.")
    w = s.to_numpy(dtype=float)
    bad = ~(np.isfinite(w) & (w > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"The weights column {weights!r} must hold positive finite values; row "
            f"{show(frame.index[i])} has {show(w[i])}."
        )
    return w


def check_group(
    frame: pd.DataFrame,
    group: str,
    *,
    subject: str,
    visit: str,
    subj_codes: np.ndarray,
    visit_codes: np.ndarray,
    n_visits: int,
    visit_levels: list[Any],
    levels: list[Any],
    spatial: bool,
) -> np.ndarray:
    """Validate the ``group`` column; return each row's group index into ``levels``.

    The group must be constant within subject and (non-spatial structures)
    every group must have at least two observations at every visit, so that
    each group's visit variances are estimable.
    """
    codes = group_codes(frame[group], levels, group)
    n_sub = int(subj_codes.max()) + 1
    first = np.full(n_sub, -1)
    first[subj_codes[::-1]] = codes[::-1]
    varies = first[subj_codes] != codes
    if varies.any():
        sid = frame[subject].to_numpy()[np.flatnonzero(varies)[0]]
        raise DataError(
            f"The group column {group!r} must be constant within subject; subject "
            f"{show(sid)} has several values."
        )
    if len(levels) < 2:
        raise DesignError(
            f"The group column {group!r} has a single level "
            f"({show_list(levels)}); leave group= out for one covariance matrix."
        )
    n_per = np.bincount(first[first >= 0], minlength=len(levels))
    lonely = [lv for lv, c in zip(levels, n_per, strict=True) if c < 2]
    if lonely:
        raise DesignError(
            f"Level(s) {show_list(lonely)} of the group column {group!r} have "
            "fewer than two subjects; each group's covariance matrix needs several."
        )
    if not spatial:
        cnt = np.bincount(codes * n_visits + visit_codes, minlength=len(levels) * n_visits).reshape(
            len(levels), n_visits
        )
        g, v = np.nonzero(cnt < 2)
        if g.size:
            raise DesignError(
                f"Group {show(levels[g[0]])} of column {group!r} has "
                f"{int(cnt[g[0], v[0]])} observation(s) at visit {show(visit_levels[v[0]])} "
                f"(column {visit!r}); each group needs at least two at every visit to estimate "
                "its own covariance matrix. Merge groups or drop group=."
            )
    return codes


def group_codes(series: pd.Series, levels: list[Any], group: str) -> np.ndarray:
    """Index of each value of ``series`` in ``levels`` (DataError for a value not in them)."""
    values = series.to_numpy()
    known = pd.Series(values).isin(list(levels)).to_numpy()
    if not known.all():
        raise DataError(
            f"Column {group!r} has value {show(values[~known][0])}, not one of the "
            f"group levels {show_list(levels)}."
        )
    return np.asarray(pd.Categorical(values, categories=list(levels)).codes, dtype=np.int64)


def weights_of(frame: pd.DataFrame, name: str | None) -> np.ndarray | None:
    """Weights of ``newdata`` rows: its ``name`` column if present (checked), else None (1)."""
    if name is None or name not in frame.columns:
        return None
    return check_weights(frame, name)
