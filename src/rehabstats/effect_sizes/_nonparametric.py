"""Rank-based effect sizes: rank-biserial correlation, Cliff's delta, P(X > Y).

Definitions follow R's effectsize 0.8.3 (``rank_biserial``, ``cliffs_delta``):
the estimate is ``(U1 - U2) / (n_x n_y)`` from mid-ranks (ties count half), which
equals Cliff's delta ``P(X > Y) - P(X < Y)``; its interval is
``tanh(atanh(r) -/+ z * SE)`` with ``SE = sqrt((n_x + n_y + 1) / (3 n_x n_y))``
(paired: ``SE = sqrt((2n^3 + 3n^2 + n) / 6) / (n(n + 1)/2)`` over the ``n``
non-zero differences).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from .._axis import batch_axis
from .._batch_results import BatchEffectSizeResult
from .._results import EffectSizeResult
from .._validate import (
    NanPolicy,
    as_float_array,
    as_paired_arrays,
    check_ci,
    check_nan_policy,
    show_value,
)
from ..errors import DataError
from ._common import scalar
from ._intervals import z_quantile

__all__ = ["_cliffs_delta_core", "cliffs_delta", "prob_superiority", "rank_biserial"]

_Arrays = dict[str, NDArray[np.float64]]
#: the interval of prob_superiority: Cliff's delta's, mapped by (v + 1) / 2
_PS_CI_METHOD = "normal (Fisher z of Cliff's delta, transformed)"


def _fisher_limits(
    r: ArrayLike, se_z: ArrayLike, ci: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """tanh(atanh(r) -/+ z se): an estimate of +/-1 gives the degenerate interval [r, r]."""
    z = z_quantile(ci)
    with np.errstate(divide="ignore"):
        rf = np.arctanh(np.asarray(r, dtype=float))
    return np.tanh(rf - z * np.asarray(se_z)), np.tanh(rf + z * np.asarray(se_z))


def _cliffs_delta_core(x: ArrayLike, y: ArrayLike, *, ci: float = 0.95) -> _Arrays:
    """Vectorised Cliff's delta for a batch of samples.

    ``x`` has shape ``(..., n_x)`` and ``y`` ``(..., n_y)`` (leading axes
    broadcast); every pair counts ``sign(x_i - y_j)`` so ties count zero. Returns
    ``estimate, se_z, ci_low, ci_high``.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    n_x, n_y = xa.shape[-1], ya.shape[-1]
    delta = np.sign(xa[..., :, None] - ya[..., None, :]).mean(axis=(-2, -1))
    se_z = math.sqrt((n_x + n_y + 1.0) / (3.0 * n_x * n_y))
    lo, hi = _fisher_limits(delta, se_z, ci)
    return {"estimate": delta, "se_z": np.full_like(delta, se_z), "ci_low": lo, "ci_high": hi}


def _rank_batch(
    measure: str,
    x: Any,
    y: Any,
    *,
    paired: bool,
    ci: float,
    nan_policy: NanPolicy,
    axis: int,
    one_sample: Any,
) -> BatchEffectSizeResult:
    from ._batch import paired_rank_kernel, rank_kernel, run_batch

    check_nan_policy(nan_policy)
    constants: dict[str, Any] = {"paired": paired} if measure == "rank_biserial" else {}
    ci_method = _PS_CI_METHOD if measure == "prob_superiority" else "normal (Fisher z)"
    return run_batch(
        measure,
        [x, y],
        ("x", "y"),
        axis=axis,
        paired=paired,
        nan_policy=nan_policy,
        kernel=paired_rank_kernel(ci) if paired else rank_kernel(measure, ci),
        one_sample=one_sample,
        check=("estimate", "ci_low", "ci_high"),
        ci_level=ci,
        ci_method=ci_method,
        constants=constants,
    )


def _independent(
    measure: str, x: Any, y: Any, ci: float, nan_policy: NanPolicy, **extra: Any
) -> EffectSizeResult:
    """The two-sample result of ``measure``: the rank-biserial r (= Cliff's delta) and its
    Fisher-z interval, or for ``prob_superiority`` their map ``(v + 1) / 2``.

    The one computation behind :func:`rank_biserial` (independent), :func:`cliffs_delta`
    and :func:`prob_superiority`, so that the three always agree; ``extra`` details follow
    ``se_z``. Called directly by the public functions: the warnings' ``stacklevel`` counts
    on that.
    """
    a, na = as_float_array(x, "x", nan_policy=nan_policy, min_size=1, stacklevel=4)
    b, nb = as_float_array(y, "y", nan_policy=nan_policy, min_size=1, stacklevel=4)
    n_x, n_y = a.size, b.size
    ranks = stats.rankdata(np.concatenate([a, b]))  # mid-ranks for ties
    u1 = ranks[:n_x].sum() - n_x * (n_x + 1) / 2.0
    u2 = ranks[n_x:].sum() - n_y * (n_y + 1) / 2.0
    r = float((u1 - u2) / (n_x * n_y))
    se_z = math.sqrt((n_x + n_y + 1.0) / (3.0 * n_x * n_y))
    lo_r, hi_r = _fisher_limits(r, se_z, ci)
    est, lo, hi = r, scalar(lo_r), scalar(hi_r)
    ci_method = "normal (Fisher z)"
    details = {"se_z": se_z, **extra}
    if measure == "prob_superiority":  # an increasing map: the limits map to the limits
        est, lo, hi = (r + 1.0) / 2.0, (lo + 1.0) / 2.0, (hi + 1.0) / 2.0
        ci_method = _PS_CI_METHOD
        details = {"cliffs_delta": r, "se_z": se_z}
    return EffectSizeResult(
        measure=measure,
        estimate=est,
        se=math.nan,
        ci_low=lo,
        ci_high=hi,
        ci_level=ci,
        ci_method=ci_method,
        n_x=int(n_x),
        n_y=int(n_y),
        n_omitted=na + nb,
        details=details,
    )


def rank_biserial(
    x: ArrayLike,
    y: ArrayLike,
    *,
    paired: bool = False,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    r"""Rank-biserial correlation (independent or paired samples).

    Independent: :math:`r = (U_1 - U_2)/(n_x n_y)` from mid-ranks of the pooled
    sample, equal to Cliff's delta. Paired: the matched-pairs rank-biserial
    :math:`(W_+ - W_-)/S` of the signed ranks of the non-zero differences
    ``x - y`` (zeros dropped as in the Wilcoxon test; their count is in
    ``details["n_zero"]``), :math:`S = n(n+1)/2`.

    The interval is effectsize's: Fisher z of r with the SEs given in the
    module notes, back-transformed (an estimate of exactly +/-1 gives [r, r]).

    Parameters
    ----------
    x, y : array_like
        Treatment and control (or post and pre when ``paired``).
    paired : bool, optional
        Matched-pairs version.
    ci : float, optional
        Confidence level.
    nan_policy : {"omit", "raise"}, optional
        Missing values dropped, counted and announced.
    axis : int or None, optional
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on element
        ``i`` (the rule in full under :func:`~rehabstats.effect_sizes.cohens_d`).
        ``None`` ravels each input into one sample.

    Raises
    ------
    DataError
        Empty input, non-numeric values, mismatched lengths when paired, or all
        paired differences zero (r undefined).

    Notes
    -----
    Two deliberate differences from effectsize 0.8.3, both only for paired data:

    * with zero differences, effectsize's SE counts ``sum(x != 0)`` (the first
      vector, not the differences), i.e. usually all pairs; here the SE uses the
      ``n`` non-zero differences that the estimate itself is built from. Without
      zero differences the two intervals are identical.
    * when every non-zero difference has the same value, effectsize's rank
      transform drops the signs and reports +1 even for negative differences;
      here the sign is kept (-1).

    References
    ----------
    Kerby DS (2014). The simple difference formula. Compr Psychol 3:11.IT.3.1.
    doi:10.2466/11.IT.3.1

    Examples
    --------
    >>> import rehabstats as rs
    >>> rs.effect_sizes.rank_biserial([3, 4, 5], [1, 2, 3]).estimate
    0.8888888888888888
    >>> import numpy as np
    >>> batch = rs.effect_sizes.rank_biserial(np.array([[3, 4, 5], [1, 2, 6]]),
    ...                                       np.array([[1, 2, 3], [2, 3, 4]]), axis=1)
    >>> batch.estimate.round(4).tolist()
    [0.8889, -0.2222]
    """
    ci = check_ci(ci)
    if not isinstance(paired, (bool, np.bool_)):
        raise DataError(f"The 'paired' argument must be True or False; got {show_value(paired)}.")
    (x, y), batch = batch_axis([x, y], axis)
    if batch is not None:
        return _rank_batch(
            "rank_biserial",
            x,
            y,
            paired=bool(paired),
            ci=ci,
            nan_policy=nan_policy,
            axis=batch,
            one_sample=lambda a, b: rank_biserial(
                a, b, paired=paired, ci=ci, nan_policy=nan_policy
            ),
        )
    if not paired:
        return _independent("rank_biserial", x, y, ci, nan_policy, paired=False)
    a, b, om = as_paired_arrays(x, y, ("x", "y"), nan_policy=nan_policy, min_size=1)
    diff = a - b
    nonzero = diff[diff != 0]
    n_zero = int(diff.size - nonzero.size)
    if nonzero.size == 0:
        raise DataError(
            "The paired rank-biserial correlation is undefined: every difference x - y is zero."
        )
    ranks = stats.rankdata(np.abs(nonzero))
    n = nonzero.size
    s = n * (n + 1) / 2.0
    r = float((ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()) / s)
    se_z = math.sqrt((2.0 * n**3 + 3.0 * n**2 + n) / 6.0) / s
    lo_p, hi_p = _fisher_limits(r, se_z, ci)
    return EffectSizeResult(
        measure="rank_biserial",
        estimate=r,
        se=math.nan,
        ci_low=scalar(lo_p),
        ci_high=scalar(hi_p),
        ci_level=ci,
        ci_method="normal (Fisher z)",
        n_x=int(diff.size),
        n_y=None,
        n_omitted=om,
        details={"se_z": se_z, "paired": True, "n_zero": n_zero, "n_nonzero": int(n)},
    )


def cliffs_delta(
    x: ArrayLike,
    y: ArrayLike,
    *,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    r"""Cliff's delta :math:`P(X > Y) - P(X < Y)` for two independent samples.

    Identical to the independent :func:`rank_biserial` (as in effectsize, whose
    ``cliffs_delta`` calls ``rank_biserial``), including the Fisher-z interval.
    Values lie in [-1, 1]; ties count zero.

    ``nan_policy`` and ``axis`` (batches of samples, one result per element) are
    as in :func:`rank_biserial` and :func:`~rehabstats.effect_sizes.cohens_d`.

    References
    ----------
    Cliff N (1993). Dominance statistics. Psychol Bull 114(3):494-509.
    doi:10.1037/0033-2909.114.3.494

    Examples
    --------
    >>> import rehabstats as rs
    >>> rs.effect_sizes.cliffs_delta([3, 4, 5], [1, 2, 3]).estimate
    0.8888888888888888
    >>> import numpy as np
    >>> rs.effect_sizes.cliffs_delta(np.array([[3, 4, 5], [1, 2, 6]]),
    ...                              np.array([[1, 2, 3], [2, 3, 4]]), axis=1).shape
    (2,)
    """
    ci = check_ci(ci)
    (x, y), batch = batch_axis([x, y], axis)
    if batch is not None:
        return _rank_batch(
            "cliffs_delta",
            x,
            y,
            paired=False,
            ci=ci,
            nan_policy=nan_policy,
            axis=batch,
            one_sample=lambda a, b: cliffs_delta(a, b, ci=ci, nan_policy=nan_policy),
        )
    return _independent("cliffs_delta", x, y, ci, nan_policy)


def prob_superiority(
    x: ArrayLike,
    y: ArrayLike,
    *,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    r"""Probability of superiority :math:`P(X > Y) + P(X = Y)/2` (common-language ES, AUC).

    Equals ``(cliffs_delta + 1) / 2``. The interval is Cliff's delta's
    Fisher-z interval mapped through the same increasing transformation, so
    the two always agree and the limits stay in [0, 1] (a transformation of
    the effectsize rank-biserial interval; Vargha & Delaney 2000 call this
    statistic A).

    ``nan_policy`` and ``axis`` (batches of samples, one result per element) are
    as in :func:`rank_biserial` and :func:`~rehabstats.effect_sizes.cohens_d`.

    References
    ----------
    Vargha A, Delaney HD (2000). A critique and improvement of the CL common
    language effect size statistics. J Educ Behav Stat 25(2):101-132.
    doi:10.3102/10769986025002101

    Examples
    --------
    >>> import rehabstats as rs
    >>> round(rs.effect_sizes.prob_superiority([3, 4, 5], [1, 2, 3]).estimate, 4)
    0.9444
    >>> import numpy as np
    >>> batch = rs.effect_sizes.prob_superiority(np.array([[3, 4, 5], [1, 2, 6]]),
    ...                                          np.array([[1, 2, 3], [2, 3, 4]]), axis=1)
    >>> batch.estimate.round(4).tolist()
    [0.9444, 0.3889]
    """
    ci = check_ci(ci)
    (x, y), batch = batch_axis([x, y], axis)
    if batch is not None:
        return _rank_batch(
            "prob_superiority",
            x,
            y,
            paired=False,
            ci=ci,
            nan_policy=nan_policy,
            axis=batch,
            one_sample=lambda a, b: prob_superiority(a, b, ci=ci, nan_policy=nan_policy),
        )
    return _independent("prob_superiority", x, y, ci, nan_policy)
