"""Batch (``axis=``) form of the single-case index functions.

``pnd, pem, pand, ird, nap, tau, tau_u, tau_bc, smd, lrrd, lrri, lor, lrm, pogo``
accept ``baseline`` and ``treatment`` arrays with two or more dimensions, e.g. of
shape ``(n_series, n_A)`` and ``(n_series, n_B)`` with ``axis=1`` (scipy's rule:
the observations lie along ``axis``, the other axes broadcast). Series with the
same phase lengths are computed together by the vectorised cores of
:func:`rehabstats.sced.effect_sizes` (``_batch._vectorised``); option
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
from .._validate import check_improvement, check_option
from ..errors import DataError
from ._common import check_optional_ci

__all__ = ["sced_batch"]

_NAMES = ("baseline", "treatment")


def _opts(name: str, kw: dict[str, Any]) -> dict[str, Any] | None:
    """Options in the form of ``effect_sizes``'s ``_vectorised`` (None: no vectorised core)."""
    from ._nonoverlap import _SE_METHODS
    from ._parametric import _check_lrr_args

    level = check_optional_ci(kw.get("ci"))
    opts: dict[str, Any] = {"ci": level}
    if name == "pand":
        opts["pand_method"] = check_option(kw["method"], "method", ("minimum", "sort"))
    elif name in ("nap", "tau"):
        opts["se_method"] = check_option(kw["se_method"], "se_method", _SE_METHODS)
        opts["nap_ci_method"] = check_option(kw["ci_method"], "ci_method", ("newcombe", "score"))
    elif name == "tau_bc":
        opts["se_method"] = check_option(kw["se_method"], "se_method", _SE_METHODS)
        opts["kendall"] = check_option(kw["kendall"], "kendall", (True, False))
        opts["pretest_trend"] = kw["pretest_trend"]
        opts["nap_ci_method"] = "newcombe"
        pt = kw["pretest_trend"]
        if pt is not False and not (isinstance(pt, (int, float)) and not isinstance(pt, bool)
                                    and 0 < float(pt) < 1):
            raise DataError(f"The 'pretest_trend' argument must be False or a significance "
                            f"level strictly between 0 and 1; got {pt!r}.")
    elif name == "tau_u":
        model = check_option(kw["model"], "model", ("ab", "trend_a", "trend_b",
                                                    "ab_minus_trend_a", "ab_plus_trend_b",
                                                    "ab_plus_trend_b_minus_trend_a"))
        method = check_option(kw["method"], "method", ("parker", "complete", "tarlow"))
        check_option(kw["tau_method"], "tau_method", ("a", "b"))
        check_option(kw["ci_method"], "ci_method", ("z", "tau", "s"))
        cc = check_option(kw["continuity_correction"], "continuity_correction", (True, False))
        if method != "parker" or model != "ab_minus_trend_a" or level is not None or cc:
            return None
        opts.update(tau_u_method="parker", tau_u_ci="none")
    elif name == "smd":
        opts["standardizer"] = check_option(kw["standardizer"], "standardizer",
                                            ("baseline", "pooled"))
        opts["bias_correct"] = check_option(kw["bias_correct"], "bias_correct", (True, False))
    elif name in ("lrrd", "lrri", "lor"):
        if name == "lor":
            check_option(kw["scale"], "scale", ("percentage", "proportion"))
        sc, iv, ol, dc = _check_lrr_args(kw["scale"], kw.get("intervals"),
                                         kw.get("observation_length"), kw.get("d_const"),
                                         kw["bias_correct"])
        opts.update(scale=sc, intervals=iv, observation_length=ol, d_const=dc,
                    bias_correct=bool(kw["bias_correct"]))
    elif name == "lrm":
        opts["delta_method"] = bool(check_option(kw["delta_method"], "delta_method",
                                                 (True, False)))
    elif name == "pogo":
        goal = kw["goal"]
        if goal is None or isinstance(goal, bool) or not isinstance(
                goal, (int, float, np.integer, np.floating)) or not math.isfinite(float(goal)):
            raise DataError(f"The 'goal' argument must be a finite number (the goal level); "
                            f"got {goal!r}.")
        opts["goal"] = float(goal)
    return opts


def _lrm_pogo(name: str, a: np.ndarray, b: np.ndarray, improvement: str,
              opts: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """LRM and PoGO of a block of series (the arithmetic of ``lrm`` / ``pogo`` per row)."""
    from ._parametric import _mean_var, _normal_ci, _pow2_scale

    level = opts["ci"]
    if name == "pogo":
        g = opts["goal"]
        unit = _pow2_scale(a, b, np.full((a.shape[0], 1), g))
        ma, va = _mean_var(a / unit[:, None])
        mb, vb = _mean_var(b / unit[:, None])
        gap = g / unit - ma
        est = 100 * (mb - ma) / gap
        var = (va / a.shape[1] + vb / b.shape[1] + (est / 100) ** 2 * va / a.shape[1]) / gap**2
        se = 100 * np.sqrt(var)
        bad = gap == 0
    else:
        parts = [_log_median_rows(x, opts["delta_method"]) for x in (a, b)]
        est = parts[1][0] - parts[0][0]
        if improvement == "decrease":
            est = -est
        total = parts[0][1] + parts[1][1]
        se = np.where(total >= 0, np.sqrt(np.where(total >= 0, total, 0.0)), np.nan)
        bad = ((a < 0).any(axis=1) | (b < 0).any(axis=1) | (a.shape[1] < 2)
               | (b.shape[1] < 2))
    lo, hi = _normal_ci(est, se, level)
    est = np.where(bad, np.nan, est)  # recomputed (and announced) by the one-series call
    return est, se, lo, hi


def _log_median_rows(x: np.ndarray, delta_method: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise ``_parametric._log_median_stats``."""
    from scipy import stats

    n = x.shape[1]
    med = np.median(x, axis=1)
    o1 = max(int(np.round(n / 2 - math.sqrt(n))), 1)
    o2 = n - o1 + 1
    z0 = stats.norm.ppf(1 - stats.binom.cdf(o1 - 1, n, 0.5))
    y = np.sort(x, axis=1)
    lo, hi = y[:, o1 - 1], y[:, o2 - 1]
    if delta_method:
        var = ((hi - lo) / (2 * z0 * med)) ** 2
    else:
        var = ((np.log(hi) - np.log(lo)) / (2 * z0)) ** 2
    return np.log(med), var


def sced_batch(name: str, func: Callable[..., Any], baseline: Any, treatment: Any, *,
               axis: int, **kw: Any) -> BatchEffectSizeResult:
    """Index ``name`` for every series of a batch; ``func`` is the one-series function."""
    from ._batch import _HAS_SE, _vectorised

    improvement = check_improvement(kw["improvement"])
    opts = _opts(name, kw)
    level = check_optional_ci(kw.get("ci"))
    inp = prepare_batch([baseline, treatment], _NAMES, axis)
    groups, omitted = row_groups(inp, _NAMES, paired=False, nan_policy="omit", stacklevel=4)
    size = int(np.prod(inp.shape, dtype=np.int64))
    fields = {k: np.full(size, np.nan) for k in ("estimate", "se", "ci_low", "ci_high")}
    n_a = np.zeros(size, dtype=np.int64)
    n_b = np.zeros(size, dtype=np.int64)
    methods: list[str] = []
    has_se = name in _HAS_SE and (name != "tau_u" or level is not None)
    msgs = RowMessages(name, inp.shape)
    chunked = []
    for rows, (a, b) in groups:  # the pairwise cores use (k, n_A, n_B) arrays: bound k
        step = max(1, (1 << 22) // max(1, a.shape[1] * b.shape[1]))
        chunked += [(rows[s:s + step], (a[s:s + step], b[s:s + step]))
                    for s in range(0, rows.size, step)]
    for rows, (a, b) in chunked:
        n_a[rows], n_b[rows] = a.shape[1], b.shape[1]
        out: tuple[Any, ...] | None = None
        if opts is not None and a.shape[1] >= 1 and b.shape[1] >= 1:
            with np.errstate(all="ignore"):
                if name in ("lrm", "pogo"):
                    out = (*_lrm_pogo(name, a, b, improvement, opts), "normal")
                else:
                    out = _vectorised(name, a, b, improvement, opts)
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
            for k, v in zip(("estimate", "se", "ci_low", "ci_high"), (est, se, lo, hi),
                            strict=True):
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
