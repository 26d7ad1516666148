"""Study-level effect sizes for meta-analysis (metafor ``escalc``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from .._validate import check_ci, check_magnitude, check_not_tiny, check_option, show_value
from ..effect_sizes._common import hedges_j
from ..errors import DataError, RehabStatsWarning

__all__ = ["LOG_MEASURES", "MEASURES", "study_effects"]

MEASURES: tuple[str, ...] = ("MD", "SMD", "ROM", "RR", "OR", "RD", "SMCR", "SMCC", "PPC", "GEN")
#: Measures analysed on the log scale (``exp`` gives the ratio).
LOG_MEASURES: frozenset[str] = frozenset({"ROM", "RR", "OR"})

_NEEDS: dict[str, tuple[str, ...]] = {
    "MD": ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c"),
    "SMD": ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c"),
    "ROM": ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c"),
    "RR": ("events_t", "n_t", "events_c", "n_c"),
    "OR": ("events_t", "n_t", "events_c", "n_c"),
    "RD": ("events_t", "n_t", "events_c", "n_c"),
    "SMCR": ("mean_pre", "mean_post", "sd_pre", "n", "r"),
    "SMCC": ("mean_pre", "mean_post", "sd_pre", "sd_post", "n", "r"),
    "PPC": (
        "mean_pre_t",
        "mean_post_t",
        "sd_pre_t",
        "n_t",
        "mean_pre_c",
        "mean_post_c",
        "sd_pre_c",
        "n_c",
        "r",
    ),
}
_SD = {"sd_t", "sd_c", "sd_pre", "sd_post", "sd_pre_t", "sd_pre_c"}
_N = {"n_t", "n_c", "n"}
_COUNTS = {"events_t", "events_c"}


def _column(
    data: pd.DataFrame | None, arg: str, spec: Any, k: int | None, k_from: str | None = None
) -> NDArray[np.float64]:
    """Values of one input: a column of ``data`` (``spec`` is its name) or an array.

    ``k`` is the number of studies so far, set by the input ``k_from`` (None: the rows of
    ``data``).
    """
    if data is not None:
        if not isinstance(spec, str):
            raise DataError(f"'{arg}' must name a column of 'data'; got {spec!r}.")
        if spec not in data.columns:
            raise DataError(
                f"'{arg}': column {spec!r} is not in 'data' (columns: "
                f"{', '.join(map(str, data.columns))})."
            )
        raw = data[spec]
    else:
        raw = spec
    if isinstance(raw, (str, bytes)):
        raise DataError(f"'{arg}' must be numbers (or, with 'data', a column name); got {raw!r}.")
    try:
        arr = np.atleast_1d(
            np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(raw)), errors="raise"), dtype=float)
        )
    except (TypeError, ValueError) as exc:
        raise DataError(f"'{arg}' must be numeric; {exc}.") from None
    if arr.ndim != 1:
        raise DataError(f"'{arg}' must be one-dimensional; got shape {arr.shape}.")
    if k is not None and arr.size != k:
        other = f"'{k_from}' has {k}" if k_from else f"'data' has {k} rows"
        raise DataError(f"'{arg}' has {arr.size} values but {other}; give one value per study.")
    if np.isnan(arr).any():
        pos = int(np.flatnonzero(np.isnan(arr))[0])
        raise DataError(
            f"'{arg}' is missing for study {pos + 1} (row {pos}); give every study "
            "a value or drop the study."
        )
    if np.isinf(arr).any():
        pos = int(np.flatnonzero(np.isinf(arr))[0])
        raise DataError(f"'{arg}' is infinite for study {pos + 1} (row {pos}).")
    if arg in _N | _COUNTS:
        check_magnitude(arr, arg, limit=2.0**53, unit="study", offset=1)
    else:
        check_magnitude(arr, arg, unit="study", offset=1)
    if arg in _SD and (arr < 0).any():
        pos = int(np.flatnonzero(arr < 0)[0])
        raise DataError(
            f"'{arg}' is a standard deviation and cannot be negative; study "
            f"{pos + 1} has {show_value(arr[pos])}."
        )
    if arg in _N | _COUNTS:
        bad = (arr != np.round(arr)) | (arr < (0 if arg in _COUNTS else 1))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            what = (
                "an event count (a whole number >= 0)"
                if arg in _COUNTS
                else "a sample size (a whole number >= 1)"
            )
            raise DataError(f"'{arg}' must be {what}; study {pos + 1} has {show_value(arr[pos])}.")
    if arg == "r" and ((arr < -1) | (arr > 1)).any():
        pos = int(np.flatnonzero((arr < -1) | (arr > 1))[0])
        raise DataError(
            f"'r' is a pre-post correlation and must lie in [-1, 1]; study "
            f"{pos + 1} has {show_value(arr[pos])}."
        )
    return arr


def _binary(
    measure: str,
    a: NDArray[np.float64],
    n1: NDArray[np.float64],
    c: NDArray[np.float64],
    n2: NDArray[np.float64],
    *,
    add: float,
    to: str,
    drop00: bool,
    vtype: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    b, d = n1 - a, n2 - c
    if (b < 0).any() or (d < 0).any():
        pos = int(np.flatnonzero((b < 0) | (d < 0))[0])
        raise DataError(
            f"Study {pos + 1} has more events than participants in an arm "
            f"(events_t={a[pos]:g}, n_t={n1[pos]:g}, events_c={c[pos]:g}, "
            f"n_c={n2[pos]:g})."
        )
    a, b, c, d = (x.astype(float).copy() for x in (a, b, c, d))
    if drop00:
        d00 = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
        for x in (a, b, c, d):
            x[d00] = np.nan
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if to == "all":
        a, b, c, d = a + add, b + add, c + add, d + add
    elif to == "only0" or (to == "if0all" and zero.any()):
        sel = zero if to == "only0" else np.ones_like(zero)
        a, b, c, d = (np.where(sel, x + add, x) for x in (a, b, c, d))
    m1, m2 = a + b, c + d
    p1, p2 = a / m1, c / m2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / a - 1 / m1 + 1 / c - 1 / m2
        elif measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        else:
            yi = p1 - p2
            if vtype == "UB":
                vi = p1 * (1 - p1) / (m1 - 1) + p2 * (1 - p2) / (m2 - 1)
            else:
                vi = p1 * (1 - p1) / m1 + p2 * (1 - p2) / m2
    return np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)


def study_effects(
    data: pd.DataFrame | None,
    measure: str,
    *,
    study: str | Sequence[Any] | None = None,
    mean_t: Any = None,
    sd_t: Any = None,
    n_t: Any = None,
    mean_c: Any = None,
    sd_c: Any = None,
    n_c: Any = None,
    events_t: Any = None,
    events_c: Any = None,
    mean_pre: Any = None,
    mean_post: Any = None,
    sd_pre: Any = None,
    sd_post: Any = None,
    n: Any = None,
    r: Any = None,
    mean_pre_t: Any = None,
    mean_post_t: Any = None,
    sd_pre_t: Any = None,
    mean_pre_c: Any = None,
    mean_post_c: Any = None,
    sd_pre_c: Any = None,
    yi: Any = None,
    vi: Any = None,
    se: Any = None,
    vtype: str = "LS",
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
    ci: float = 0.95,
) -> pd.DataFrame:
    r"""Compute one effect size per study, as metafor's ``escalc``.

    Each input is a column name of ``data`` or, with ``data=None``, the values
    themselves (numbers or sequences, one per study), so the summaries a paper
    prints can be typed in directly. Treatment (``_t``) minus control (``_c``).

    Parameters
    ----------
    data : pandas.DataFrame or None
        One row per study (not modified); None to pass values directly.
    measure : {"MD", "SMD", "ROM", "RR", "OR", "RD", "SMCR", "SMCC", "PPC", "GEN"}
        ``MD`` mean difference; ``SMD`` Hedges' g (exact correction
        :math:`J(m) = \Gamma(m/2) / (\sqrt{m/2}\,\Gamma((m-1)/2))`, m = n_t + n_c − 2);
        ``ROM`` log ratio of means; ``RR``/``OR`` log risk / odds ratio;
        ``RD`` risk difference; ``SMCR`` standardized mean change (raw-score
        standardization: SD of pre; needs ``r``); ``SMCC`` standardized mean
        change (change-score standardization); ``PPC`` Morris (2008)
        pretest-posttest-control d_ppc2 with its eq. 25 variance (``r``
        optional: without it the variance is NaN); ``GEN`` precomputed.
    study : str or sequence, optional
        Column (or values) with study labels; default ``"Study 1"``, ...
    mean_t, sd_t, n_t, mean_c, sd_c, n_c : str or array_like
        Arm summaries (MD, SMD, ROM; ``n_t``/``n_c`` also for RR, OR, RD, PPC).
    events_t, events_c : str or array_like
        Event counts per arm (RR, OR, RD).
    mean_pre, mean_post, sd_pre, sd_post, n, r : str or array_like
        One-group pre-post summaries and the pre-post correlation (SMCR, SMCC).
    mean_pre_t, mean_post_t, sd_pre_t, mean_pre_c, mean_post_c, sd_pre_c : str or array_like
        Two-arm pre-post summaries (PPC; ``r`` is the pre-post correlation).
    yi, vi, se : str or array_like, optional
        Precomputed effect sizes with their variances or standard errors (any
        ``measure``; its name labels the output). Per-case or per-study BC-SMD
        results enter this way (``yi`` = estimate, ``se`` = SE).
    vtype : {"LS", "UB"}, optional
        Sampling variance of SMD (and RD): large-sample (metafor's default)
        :math:`1/n_t + 1/n_c + g^2 / (2(n_t + n_c))`, or unbiased
        :math:`1/n_t + 1/n_c + (1 - (m-2)/(m J^2)) g^2`.
    add, to, drop00 : optional
        Continuity correction for RR, OR and RD, metafor's defaults: ``add=0.5``
        is added to every cell of the studies with a zero cell
        (``to="only0"``; also ``"all"``, ``"if0all"``, ``"none"``); studies
        with no events (or only events) in both arms are kept
        (``drop00=False``; True makes their effect NaN).
    ci : float, optional
        Level of the per-study normal confidence interval ``yi ± z se``.

    Returns
    -------
    pandas.DataFrame
        Columns ``study, measure, yi, vi, se, ci_low, ci_high`` (log scale for
        ROM, RR, OR), ready for :func:`meta_analysis`.

    Raises
    ------
    DataError
        Unknown measure, a missing input or column, a missing value, negative
        SDs, impossible counts, a correlation outside [-1, 1], non-positive
        means for ROM.

    Notes
    -----
    Formulas are metafor 3.8-1 ``escalc`` (Viechtbauer 2010), with ``addyi`` and
    ``addvi`` at their defaults (the corrected counts enter both ``yi`` and
    ``vi``). SMCR: :math:`y = J(n-1)(\bar x_{post} - \bar x_{pre})/s_{pre}`,
    :math:`v = 2(1-r)/n + y^2/(2n)`; SMCC standardizes by
    :math:`s_d = \sqrt{s_{pre}^2 + s_{post}^2 - 2 r s_{pre} s_{post}}`,
    :math:`v = 1/n + y^2/(2n)`. PPC as :func:`rehabstats.ppc_smd_from_summary`.

    Examples
    --------
    >>> import rehabstats as rs
    >>> es = rs.meta.study_effects(None, "MD", study=["A", "B"], mean_t=[42.6, 51.3],
    ...                            sd_t=[4.6, 4.8], n_t=[14, 12], mean_c=[37.5, 51.3],
    ...                            sd_c=[3.3, 3.6], n_c=[12, 10])
    >>> [round(v, 2) for v in es["yi"]]
    [5.1, 0.0]
    """
    measure = check_option(measure, "measure", MEASURES)
    vtype = check_option(vtype, "vtype", ("LS", "UB"))
    to = check_option(to, "to", ("only0", "all", "if0all", "none"))
    level = check_ci(ci)
    if (
        isinstance(add, bool)
        or not isinstance(add, (int, float))
        or not np.isfinite(add)
        or add < 0
    ):
        raise DataError(
            f"'add' is the continuity correction and must be a number >= 0; got {add!r}."
        )
    if not isinstance(drop00, (bool, np.bool_)):
        raise DataError(f"'drop00' must be True or False; got {drop00!r}.")
    if data is not None and not isinstance(data, pd.DataFrame):
        raise DataError(f"'data' must be a pandas DataFrame or None; got {type(data).__name__}.")
    given = dict(
        mean_t=mean_t,
        sd_t=sd_t,
        n_t=n_t,
        mean_c=mean_c,
        sd_c=sd_c,
        n_c=n_c,
        events_t=events_t,
        events_c=events_c,
        mean_pre=mean_pre,
        mean_post=mean_post,
        sd_pre=sd_pre,
        sd_post=sd_post,
        n=n,
        r=r,
        mean_pre_t=mean_pre_t,
        mean_post_t=mean_post_t,
        sd_pre_t=sd_pre_t,
        mean_pre_c=mean_pre_c,
        mean_post_c=mean_post_c,
        sd_pre_c=sd_pre_c,
    )
    k: int | None = len(data) if data is not None else None
    if data is not None and k == 0:
        raise DataError("'data' has no rows; there are no studies.")

    if yi is not None:
        y = _column(data, "yi", yi, k)
        k, k_from = y.size, "yi"
        if (vi is None) == (se is None):
            raise DataError("With precomputed 'yi' give exactly one of 'vi' or 'se'.")
        if vi is not None:
            v = _column(data, "vi", vi, k, k_from)
        else:
            s = _column(data, "se", se, k, k_from)
            v = s**2
            if (s < 0).any():
                raise DataError("'se' must be >= 0 for every study.")
        if (v < 0).any():
            pos = int(np.flatnonzero(v < 0)[0])
            raise DataError(f"'vi' must be >= 0; study {pos + 1} has {show_value(v[pos])}.")
        check_not_tiny(
            v,
            "vi" if vi is not None else "se (squared)",
            unit="study",
            offset=1,
            what="sampling variances",
        )
    else:
        if measure == "GEN":
            raise DataError("measure='GEN' means precomputed effects: give 'yi' with 'vi' or 'se'.")
        needs = _NEEDS[measure]
        optional = {"r"} if measure == "PPC" else set()
        missing = [a for a in needs if given[a] is None and a not in optional]
        if missing:
            raise DataError(
                f"measure={measure!r} needs {', '.join(repr(a) for a in needs)}; "
                f"missing {', '.join(repr(a) for a in missing)}."
            )
        vals: dict[str, NDArray[np.float64]] = {}
        k_from = None
        for a in needs:
            if given[a] is None:
                continue
            vals[a] = _column(data, a, given[a], k, k_from)
            if k_from is None and data is None:
                k_from = a
            k = vals[a].size
        y, v = _compute(measure, vals, vtype=vtype, add=float(add), to=to, drop00=bool(drop00))
    assert k is not None
    labels = _labels(data, study, k)
    z = float(stats.norm.isf((1 - level) / 2))
    with np.errstate(invalid="ignore"):
        s = np.sqrt(v)
        low, high = y - z * s, y + z * s
    return pd.DataFrame(
        {
            "study": labels,
            "measure": measure,
            "yi": y,
            "vi": v,
            "se": s,
            "ci_low": low,
            "ci_high": high,
        }
    )


def _labels(data: pd.DataFrame | None, study: Any, k: int) -> list[str]:
    if study is None:
        return [f"Study {i + 1}" for i in range(k)]
    if data is not None and isinstance(study, str):
        if study not in data.columns:
            raise DataError(f"'study': column {study!r} is not in 'data'.")
        values = data[study].tolist()
    elif isinstance(study, str):
        values = [study]
    else:
        values = list(study)
    if len(values) != k:
        raise DataError(f"'study' has {len(values)} labels for {k} studies.")
    return [str(x) for x in values]


def _compute(
    measure: str,
    x: dict[str, NDArray[np.float64]],
    *,
    vtype: str,
    add: float,
    to: str,
    drop00: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if measure in ("RR", "OR", "RD"):
        return _binary(
            measure,
            x["events_t"],
            x["n_t"],
            x["events_c"],
            x["n_c"],
            add=add,
            to=to,
            drop00=drop00,
            vtype=vtype,
        )
    if measure in ("MD", "SMD", "ROM"):
        m1, s1, n1, m2, s2, n2 = (x[a] for a in _NEEDS["MD"])
        if measure == "MD":
            return m1 - m2, s1**2 / n1 + s2**2 / n2
        if measure == "ROM":
            bad = (m1 <= 0) | (m2 <= 0)
            if bad.any():
                pos = int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"measure='ROM' needs positive means; study {pos + 1} has "
                    f"mean_t={m1[pos]:g}, mean_c={m2[pos]:g}."
                )
            return np.log(m1 / m2), s1**2 / (n1 * m1**2) + s2**2 / (n2 * m2**2)
        m = n1 + n2 - 2
        if (m < 2).any():
            raise DataError("measure='SMD' needs n_t + n_c >= 4 in every study.")
        sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / m)
        if (sp == 0).any():
            pos = int(np.flatnonzero(sp == 0)[0])
            raise DataError(f"measure='SMD' is undefined for study {pos + 1}: both SDs are 0.")
        j = hedges_j(m)
        g = j * (m1 - m2) / sp
        if vtype == "UB":
            return g, 1 / n1 + 1 / n2 + (1 - (m - 2) / (m * j**2)) * g**2
        return g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))
    if measure in ("SMCR", "SMCC"):
        pre, post, s_pre, nn, rr = (x[a] for a in ("mean_pre", "mean_post", "sd_pre", "n", "r"))
        if (nn < 3).any():
            raise DataError(f"measure={measure!r} needs n >= 3 in every study.")
        j = hedges_j(nn - 1)
        if measure == "SMCR":
            if (s_pre == 0).any():
                raise DataError("measure='SMCR' is undefined when 'sd_pre' is 0.")
            g = j * (post - pre) / s_pre
            return g, 2 * (1 - rr) / nn + g**2 / (2 * nn)
        s_post = x["sd_post"]
        sd_diff = np.sqrt(np.maximum(s_pre**2 + s_post**2 - 2 * rr * s_pre * s_post, 0.0))
        if (sd_diff == 0).any():
            raise DataError("measure='SMCC' is undefined when the SD of the change is 0.")
        g = j * (post - pre) / sd_diff
        return g, 1 / nn + g**2 / (2 * nn)
    # PPC: Morris (2008) d_ppc2, eq. 25 variance (as rehabstats.ppc_smd_from_summary)
    n1, n2 = x["n_t"], x["n_c"]
    m = n1 + n2 - 2
    if (n1 + n2 - 4 <= 0).any():
        raise DataError("measure='PPC' needs n_t + n_c >= 5 in every study.")
    sp = np.sqrt(((n1 - 1) * x["sd_pre_t"] ** 2 + (n2 - 1) * x["sd_pre_c"] ** 2) / m)
    if (sp == 0).any():
        raise DataError("measure='PPC' is undefined when the pooled pre-test SD is 0.")
    cp = 1 - 3 / (4 * m - 1)
    d = cp * ((x["mean_post_t"] - x["mean_pre_t"]) - (x["mean_post_c"] - x["mean_pre_c"])) / sp
    if "r" not in x:
        return d, np.full_like(d, np.nan)
    kk = (n1 + n2) / (n1 * n2)
    rr = x["r"]
    # 2 cp^2 (1 - r) k M (1 + d^2 / (2 (1 - r) k)) - d^2 with M = m / (n - 4), multiplied
    # out so that r = 1 is no division by zero
    var = cp**2 * (m / (n1 + n2 - 4)) * (2 * (1 - rr) * kk + d**2) - d**2
    if (var <= 0).any():
        studies = [int(i) + 1 for i in np.flatnonzero(var <= 0)]
        warnings.warn(
            f"measure='PPC': the sampling variance of study(ies) {studies} is not "
            "positive (Morris 2008, eq. 25, with this r); their vi is NaN.",
            RehabStatsWarning,
            stacklevel=3,
        )
    return d, np.where(var > 0, var, np.nan)
