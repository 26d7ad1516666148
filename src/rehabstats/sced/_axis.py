"""Batch (``axis=``) form of the single-case index functions.

``pnd, pem, pand, ird, nap, tau, tau_u, tau_bc, smd, lrrd, lrri, lor, lrm, pogo``
accept ``baseline`` and ``treatment`` arrays with two or more dimensions, e.g. of
shape ``(n_series, n_A)`` and ``(n_series, n_B)`` with ``axis=1`` (scipy's rule:
the observations lie along ``axis``, the other axes broadcast). Series with the
same phase lengths are computed together by the vectorised cores of the index
registry (:mod:`rehabstats.sced._registry`, shared with
:func:`rehabstats.sced.effect_sizes`); option
combinations without a vectorised core, and every series whose estimate,
standard error or interval is not finite, are computed by the one-series call
itself, so series ``i`` equals the one-series call on series ``i`` (bit for bit,
except the NAP/Tau score interval, which is found by bisection instead of Brent's
method: ~1e-15). Missing values are dropped per series, in order, as the
one-series call drops them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._axis import RowMessages, prepare_batch, row_groups
from .._batch_results import BatchEffectSizeResult
from .._validate import check_improvement
from ._common import check_optional_ci, zcrit

__all__ = ["BatchCore", "BatchCoreResult", "no_interval", "normal_interval", "sced_batch"]

_NAMES = ("baseline", "treatment")


#: (estimate, se, ci_low, ci_high, ci_method) of a block of series, one value per row
BatchCoreResult = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]
#: ``core(baseline, treatment, improvement, options)``: the index for a block of series of equal
#: phase lengths (rows), or None when these options have no vectorised form
BatchCore = Callable[[np.ndarray, np.ndarray, str, dict[str, Any]], "BatchCoreResult | None"]


def no_interval(est: np.ndarray) -> BatchCoreResult:
    """A batch core's result for an index without a standard error or interval."""
    nan = np.full(est.shape[0], np.nan)
    return est, nan, nan, nan, "none"


def normal_interval(d: np.ndarray, se: np.ndarray, level: float | None) -> BatchCoreResult:
    """``d -/+ z se`` (NaN without a level): the interval of the parametric batch cores."""
    if level is not None:
        z = zcrit(level)
        lo, hi = d - z * se, d + z * se
    else:
        lo = hi = np.full(d.shape[0], np.nan)
    return d, se, lo, hi, "normal"


def sced_batch(
    name: str, baseline: Any, treatment: Any, *, axis: int, **kw: Any
) -> BatchEffectSizeResult:
    """Index ``name`` of the registry for every series of a batch.

    ``kw`` are the keyword arguments of the index's one-series function (its
    ``improvement`` and options); the registry row gives the function, the
    vectorised core and the check that turns ``kw`` into the core's options.
    """
    from ._registry import REGISTRY  # the registry imports the index modules, which import this

    spec = REGISTRY[name]
    func = spec.function
    improvement = check_improvement(kw["improvement"])
    level = check_optional_ci(kw.get("ci"))
    opts: dict[str, Any] | None = {"ci": level}
    if spec.axis_options is not None:
        opts = spec.axis_options(kw, {"ci": level})
    core = spec.axis_core if spec.axis_core is not None else spec.core
    inp = prepare_batch([baseline, treatment], _NAMES, axis)
    groups, omitted = row_groups(inp, _NAMES, paired=False, nan_policy="omit", stacklevel=4)
    size = int(np.prod(inp.shape, dtype=np.int64))
    fields = {k: np.full(size, np.nan) for k in ("estimate", "se", "ci_low", "ci_high")}
    n_a = np.zeros(size, dtype=np.int64)
    n_b = np.zeros(size, dtype=np.int64)
    methods: list[str] = []
    has_se = opts is not None and spec.reports_se(opts)
    msgs = RowMessages(name, inp.shape)
    chunked = []
    for rows, (a, b) in groups:  # the pairwise cores use (k, n_A, n_B) arrays: bound k
        step = max(1, (1 << 22) // max(1, a.shape[1] * b.shape[1]))
        chunked += [
            (rows[s : s + step], (a[s : s + step], b[s : s + step]))
            for s in range(0, rows.size, step)
        ]
    for rows, (a, b) in chunked:
        n_a[rows], n_b[rows] = a.shape[1], b.shape[1]
        out: tuple[Any, ...] | None = None
        if opts is not None and core is not None and a.shape[1] >= 1 and b.shape[1] >= 1:
            with np.errstate(all="ignore"):
                out = core(a, b, improvement, opts)
        if out is None:
            bad = np.ones(rows.size, dtype=bool)
        else:
            est, se, lo, hi, method = out
            methods.append(method)
            bad = ~np.isfinite(est)
            if has_se:
                bad |= ~np.isfinite(se)
            if method != "none":
                bad |= ~(np.isfinite(lo) & np.isfinite(hi))
            good = rows[~bad]
            for k, v in zip(
                ("estimate", "se", "ci_low", "ci_high"), (est, se, lo, hi), strict=True
            ):
                fields[k][good] = np.broadcast_to(v, rows.shape)[~bad]
        for i in np.flatnonzero(bad):
            r = int(rows[i])
            ai, bi = a[i], b[i]
            res = msgs.call(r, functools.partial(func, ai, bi, **kw))
            if res is None:
                continue
            methods.append(res.ci_method)
            for k in fields:
                fields[k][r] = getattr(res, k)
    msgs.announce(stacklevel=4)
    shape = inp.shape
    method = next((m for m in methods if m != "none"), methods[0] if methods else "none")
    return BatchEffectSizeResult(
        measure=name,
        estimate=fields["estimate"].reshape(shape),
        se=fields["se"].reshape(shape),
        ci_low=fields["ci_low"].reshape(shape),
        ci_high=fields["ci_high"].reshape(shape),
        ci_level=level if (level is not None and method != "none") else math.nan,
        ci_method=method,
        n_x=n_b.reshape(shape),
        n_y=n_a.reshape(shape),
        n_omitted=omitted.reshape(shape),
        details={},
        axis=axis,
    )
