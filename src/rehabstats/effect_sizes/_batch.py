"""Batch (``axis=``) forms of the two-sample effect sizes.

Each public two-sample function (``cohens_d``, ``hedges_g``, ``glass_delta``,
``cliffs_delta``, ``rank_biserial``, ``prob_superiority``,
``standardized_mean_change``) hands input with two or more dimensions to
:func:`run_batch` here. The samples of all elements of the batch are reduced with
the same arithmetic as the one-sample call (row-wise means and SDs in exact
power-of-two units, the same vectorised cores, the same interval engines), so
element ``i`` equals the one-sample call on element ``i``: bit for bit for the
estimates, and to about 1e-14 for noncentral-t limits of large batches (which
are interpolated, see :func:`~rehabstats.effect_sizes._intervals._ncp_limits`).
Elements whose numbers are not finite -- where the one-sample call raises
(constant data, too few observations) or warns -- are recomputed by the
one-sample call itself: a raise gives NaN for that element, and one
``RehabStatsWarning`` per reason names the elements.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._axis import RowMessages, prepare_batch, row_groups
from .._batch_results import BatchEffectSizeResult
from ._common import hedges_j, pow2, scalar
from ._intervals import _ncp_limits, normal_limits
from ._nonparametric import _fisher_limits
from ._standardized import _paired_smd_core, _smd_core

__all__ = ["mean_sd_rows", "run_batch"]

_Float = NDArray[np.float64]
_Kernel = Callable[..., "dict[str, Any] | None"]


def mean_sd_rows(values: _Float) -> tuple[_Float, _Float]:
    """Row-wise :func:`~rehabstats.effect_sizes._common.mean_sd` (same arithmetic per row).

    The operations are those of ``numpy.mean`` and ``numpy.std(ddof=1)`` (sum along
    the row, divide; centre, square, sum, divide, root), with the row sum formed once.
    """
    n = values.shape[1]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        c = pow2(np.max(np.abs(values), axis=1))
        scaled = values / c[:, None]
        mean = np.add.reduce(scaled, axis=1) / n
        if n < 2:
            return c * mean, np.full(values.shape[0], np.nan)
        dev = scaled - mean[:, None]
        np.multiply(dev, dev, out=dev)
        sd = np.sqrt(np.add.reduce(dev, axis=1) / (n - 1))
        return c * mean, c * sd


def run_batch(
    measure: str,
    values: Sequence[Any],
    names: Sequence[str],
    *,
    axis: int,
    paired: bool,
    nan_policy: str,
    kernel: _Kernel,
    one_sample: Callable[..., Any],
    check: Sequence[str] = ("estimate", "se", "ci_low", "ci_high"),
    ci_level: float,
    ci_method: str,
    constants: dict[str, Any] | None = None,
    stacklevel: int = 5,
) -> BatchEffectSizeResult:
    """Run ``kernel`` on each group of equally long samples; fall back to ``one_sample``.

    ``kernel(A, B)`` returns a dict with ``estimate, se, ci_low, ci_high`` and
    per-element detail arrays (or None when it cannot compute the group);
    elements where a key of ``check`` is not finite are recomputed by
    ``one_sample(a, b)``. ``stacklevel`` counts the frames from the warning call in
    :func:`rehabstats._axis.row_groups` to the user's call (5: public function ->
    helper -> ``run_batch``).
    """
    inp = prepare_batch(values, names, axis, paired=paired)
    groups, omitted = row_groups(
        inp, names, paired=paired, nan_policy=nan_policy, stacklevel=stacklevel
    )
    size = int(np.prod(inp.shape, dtype=np.int64))
    fields = {k: np.full(size, np.nan) for k in ("estimate", "se", "ci_low", "ci_high")}
    details: dict[str, _Float] = {}
    n_x = np.zeros(size, dtype=np.int64)
    n_y = np.zeros(size, dtype=np.int64)
    msgs = RowMessages(measure, inp.shape)
    for rows, subs in groups:
        n_x[rows] = subs[0].shape[1]
        n_y[rows] = subs[1].shape[1]
        with np.errstate(all="ignore"):
            out = kernel(*subs)
        if out is None:
            bad = np.ones(rows.size, dtype=bool)
        else:
            bad = np.zeros(rows.size, dtype=bool)
            for k in check:
                bad |= ~np.isfinite(out[k])
            if "_bad" in out:
                bad |= out["_bad"]
            good = rows[~bad]
            for k, v in out.items():
                if k == "_bad":
                    continue
                target = fields[k] if k in fields else details.setdefault(k, np.full(size, np.nan))
                target[good] = np.broadcast_to(v, rows.shape)[~bad]
        for i in np.flatnonzero(bad):
            r = int(rows[i])
            args = [s[i] for s in subs]
            res = msgs.call(r, functools.partial(one_sample, *args))
            if res is None:
                continue
            for k in fields:
                fields[k][r] = getattr(res, k)
            for k, v in res.details.items():
                if (
                    isinstance(v, (int, float, np.number))
                    and not isinstance(v, bool)
                    and (constants is None or k not in constants)
                ):
                    details.setdefault(k, np.full(size, np.nan))[r] = float(v)
    msgs.announce(stacklevel=stacklevel)
    shape = inp.shape
    det: dict[str, Any] = {k: v.reshape(shape) for k, v in details.items()}
    det.update(constants or {})
    return BatchEffectSizeResult(
        measure=measure,
        estimate=fields["estimate"].reshape(shape),
        se=fields["se"].reshape(shape),
        ci_low=fields["ci_low"].reshape(shape),
        ci_high=fields["ci_high"].reshape(shape),
        ci_level=ci_level,
        ci_method=ci_method,
        n_x=n_x.reshape(shape),
        n_y=None if paired else n_y.reshape(shape),
        n_omitted=omitted.reshape(shape),
        details=det,
        axis=axis,
    )


# --------------------------------------------------------------------------- kernels


def standardized_kernel(kind: str, pooled: bool, paired: bool, ci: float) -> _Kernel:
    """Kernel of cohens_d / hedges_g / glass_delta (the arithmetic of ``_standardized``)."""

    def kernel(a: _Float, b: _Float) -> dict[str, Any] | None:
        if a.shape[1] < 2 or b.shape[1] < 2:
            return None
        if paired:
            diff = a - b
            md, sd = mean_sd_rows(diff)
            out = _paired_smd_core(md, sd, diff.shape[1], correction=kind == "g", ci=ci)
            keys: tuple[str, ...] = ("df", "t", "J", "sd", "mean_diff")
        else:
            mx, sx = mean_sd_rows(a)
            my, sy = mean_sd_rows(b)
            out = _smd_core(mx, sx, a.shape[1], my, sy, b.shape[1], kind=kind, pooled=pooled, ci=ci)
            keys = ("df", "t", "J", "hn", "sd", "mean_diff")
        res: dict[str, Any] = {k: out[k] for k in ("estimate", "se", "ci_low", "ci_high")}
        res.update({k: out[k] for k in keys})
        if kind == "g" and pooled and not paired:
            m, j, g = out["df"], out["J"], out["estimate"]
            res["var_unbiased"] = out["hn"] + (1.0 - (m - 2.0) / (m * j**2)) * np.square(g)
        return res

    return kernel


def _sign_sum(a: _Float, b: _Float) -> _Float:
    """Sum over all pairs of sign(a_i - b_j), per row, in chunks of bounded memory."""
    k, nx = a.shape
    ny = b.shape[1]
    step = max(1, (1 << 22) // max(1, nx * ny))
    out = np.empty(k)
    for s in range(0, k, step):
        out[s : s + step] = np.sign(a[s : s + step, :, None] - b[s : s + step, None, :]).sum(
            axis=(1, 2)
        )
    return out


def rank_kernel(measure: str, ci: float) -> _Kernel:
    """Kernel of cliffs_delta / rank_biserial / prob_superiority (independent samples)."""

    def kernel(a: _Float, b: _Float) -> dict[str, Any] | None:
        nx, ny = a.shape[1], b.shape[1]
        if nx < 1 or ny < 1:
            return None
        # (U1 - U2) of the mid-ranks is the integer sum of signs: exact either way
        r = _sign_sum(a, b) / (nx * ny)
        se_z = math.sqrt((nx + ny + 1.0) / (3.0 * nx * ny))
        lo, hi = _fisher_limits(r, se_z, ci)
        nan = np.full(r.shape, np.nan)
        if measure == "prob_superiority":
            return {
                "estimate": (r + 1.0) / 2.0,
                "se": nan,
                "ci_low": (lo + 1.0) / 2.0,
                "ci_high": (hi + 1.0) / 2.0,
                "cliffs_delta": r,
                "se_z": se_z,
            }
        return {"estimate": r, "se": nan, "ci_low": lo, "ci_high": hi, "se_z": se_z}

    return kernel


def paired_rank_kernel(ci: float) -> _Kernel:
    """Kernel of the matched-pairs rank-biserial correlation."""

    def kernel(a: _Float, b: _Float) -> dict[str, Any] | None:
        if a.shape[1] < 1:
            return None
        diff = a - b
        nz = diff != 0
        absd = np.abs(diff)
        n = nz.sum(axis=1)
        k, m = diff.shape
        w_pos = np.zeros(k)
        w_neg = np.zeros(k)
        step = max(1, (1 << 22) // max(1, m * m))
        for s in range(0, k, step):
            d, z, ad = diff[s : s + step], nz[s : s + step], absd[s : s + step]
            less = ((ad[:, None, :] < ad[:, :, None]) & z[:, None, :]).sum(axis=2)
            eq = ((ad[:, None, :] == ad[:, :, None]) & z[:, None, :]).sum(axis=2)
            rank = less + (eq + 1) / 2.0  # mid-ranks of |d| among the non-zero differences
            w_pos[s : s + step] = np.where(z & (d > 0), rank, 0.0).sum(axis=1)
            w_neg[s : s + step] = np.where(z & (d < 0), rank, 0.0).sum(axis=1)
        s_tot = n * (n + 1) / 2.0
        r = (w_pos - w_neg) / s_tot
        se_z = np.sqrt((2.0 * n**3 + 3.0 * n**2 + n) / 6.0) / s_tot
        lo, hi = _fisher_limits(r, se_z, ci)
        return {
            "estimate": r,
            "se": np.full(k, np.nan),
            "ci_low": lo,
            "ci_high": hi,
            "se_z": se_z,
            "n_zero": (m - n).astype(float),
            "n_nonzero": n.astype(float),
        }

    return kernel


def smc_kernel(standardizer: str, correction: bool, ci: float) -> _Kernel:
    """Kernel of standardized_mean_change (the arithmetic of ``_within``)."""

    def kernel(a: _Float, b: _Float) -> dict[str, Any] | None:
        n = a.shape[1]
        if n < 2:
            return None
        m_pre, s_pre = mean_sd_rows(a)
        m_post, s_post = mean_sd_rows(b)
        diff = b - a
        mean_diff, s_diff = mean_sd_rows(diff)
        bad = ~np.isfinite(diff).all(axis=1)
        # np.corrcoef of the rows in power-of-two units
        xa = a / pow2(np.abs(a).max(axis=1))[:, None]
        xb = b / pow2(np.abs(b).max(axis=1))[:, None]
        xa = xa - xa.mean(axis=1, keepdims=True)
        xb = xb - xb.mean(axis=1, keepdims=True)
        c_ab = np.einsum("ij,ij->i", xa, xb) / (n - 1)
        c_aa = np.einsum("ij,ij->i", xa, xa) / (n - 1)
        c_bb = np.einsum("ij,ij->i", xb, xb) / (n - 1)
        r = np.clip(c_ab / np.sqrt(c_aa) / np.sqrt(c_bb), -1.0, 1.0)
        r = np.where((s_pre > 0) & (s_post > 0), r, np.nan)
        # sqrt(1 - r) magnifies the last-bit difference from np.corrcoef near |r| = 1:
        # those elements are recomputed by the one-sample call
        near_one = np.abs(np.abs(r) - 1.0) < 1e-6
        df = n - 1.0
        j = scalar(hedges_j(df)) if correction else 1.0
        out: dict[str, Any] = {
            "df": df,
            "J": j,
            "r": r,
            "mean_pre": m_pre,
            "mean_post": m_post,
            "sd_pre": s_pre,
            "sd_post": s_post,
            "sd_change": s_diff,
            "mean_change": mean_diff,
        }
        if standardizer == "pre":
            y = j * mean_diff / s_pre
            se = np.hypot(np.sqrt(2.0 * (1.0 - r) / n), y / math.sqrt(2.0 * n))
            lo, hi = normal_limits(y, se, ci)
            out.update(estimate=y, se=se, ci_low=lo, ci_high=hi, _bad=bad | np.isnan(r) | near_one)
            return out
        bad |= s_diff == 0
        if standardizer == "average_var":
            s_a = np.hypot(s_pre, s_post) / math.sqrt(2.0)
            y = j * mean_diff / s_a
            se = j * s_diff / (math.sqrt(n) * s_a)
            lo, hi = normal_limits(y, se, ci)
            out.update(estimate=y, se=se, ci_low=lo, ci_high=hi, sd_average_var=s_a, _bad=bad)
            return out
        if standardizer == "change":
            scale: Any = 1.0
        elif standardizer == "average":
            s_av = (s_pre + s_post) / 2.0
            bad |= s_av == 0
            scale = s_diff / s_av
            out["sd_average"] = s_av
        else:  # "rm"
            bad |= np.isnan(r) | near_one
            scale = np.sqrt(2.0 * (1.0 - r))
        d_z = mean_diff / s_diff
        t = d_z * math.sqrt(n)
        lo_ncp, hi_ncp = _ncp_limits(t, df, ci)
        yz = j * d_z
        out.update(
            estimate=j * d_z * scale,
            se=np.hypot(1.0, yz / math.sqrt(2.0)) / math.sqrt(n) * scale,
            ci_low=lo_ncp / math.sqrt(n) * j * scale,
            ci_high=hi_ncp / math.sqrt(n) * j * scale,
            t=t,
            scale=np.broadcast_to(scale, t.shape),
            _bad=bad,
        )
        return out

    return kernel
