"""Analyses of simulated data sets: vectorised fast paths and the general path.

A *chunk* is a range ``lo .. hi - 1`` of simulations of one root
SeedSequence; every function here maps a chunk to arrays ``estimate, se, df,
p, converged, failed`` (one entry per simulation). The data of simulation ``i``
depend only on the root seed and ``i`` (blocks of simulations drawn together
from one child seed each, :mod:`rehabstats.design._seeds`), so results do not
depend on how the simulations are split into chunks, ``n_jobs`` or the backend.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..design._parallel import ParallelTrial
from ..design._single_case import SingleCaseDesign
from ..errors import ConvergenceWarning

__all__ = ["PARALLEL_ANALYSES", "SCED_ANALYSES", "run_chunk"]

PARALLEL_ANALYSES = ("ttest", "ancova", "change_ttest", "mmrm", "lmm", "mixed_anova")
#: Single-case indices usable as analyses (Wald test of the index against its null value).
SCED_INDEX_NULL = {
    "nap": 0.5,
    "tau": 0.0,
    "tau_u": 0.0,
    "tau_bc": 0.0,
    "smd": 0.0,
    "lrrd": 0.0,
    "lrri": 0.0,
}
SCED_ANALYSES = ("randomization_test", *SCED_INDEX_NULL)

Chunk = dict[str, np.ndarray]


def _empty(S: int) -> Chunk:
    out = {k: np.full(S, np.nan) for k in ("estimate", "se", "df", "p")}
    out["converged"] = np.ones(S, dtype=bool)
    out["failed"] = np.zeros(S, dtype=bool)
    return out


# --------------------------------------------------------------------------- parallel trials
def _two_sample(v: np.ndarray, ok: np.ndarray, arm: np.ndarray) -> Chunk:
    """Student t of arm 1 - arm 0 for every row of ``v`` (S, N) with masks ``ok``."""
    S = v.shape[0]
    out = _empty(S)
    w1 = ok & (arm == 1)[None, :]
    w0 = ok & (arm == 0)[None, :]
    n1, n0 = w1.sum(1).astype(float), w0.sum(1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        m1 = np.where(w1, v, 0).sum(1) / n1
        m0 = np.where(w0, v, 0).sum(1) / n0
        ss = (np.where(w1, v - m1[:, None], 0) ** 2).sum(1) + (
            np.where(w0, v - m0[:, None], 0) ** 2
        ).sum(1)
        df = n1 + n0 - 2
        se = np.sqrt(ss / df * (1 / n1 + 1 / n0))
        est = m1 - m0
        bad = (n1 < 1) | (n0 < 1) | (df < 1) | ~(se > 0)
        p = 2 * stats.t.sf(np.abs(est / se), df)
    out["estimate"], out["se"], out["df"] = (
        est,
        np.where(bad, np.nan, se),
        np.where(bad, np.nan, df),
    )
    out["p"] = np.where(bad, np.nan, p)
    out["failed"] = bad
    out["converged"] = ~bad
    return out


def _ancova(y: np.ndarray, base: np.ndarray, ok: np.ndarray, arm: np.ndarray) -> Chunk:
    """OLS ``y ~ arm + baseline`` on the observed rows of every simulation at once."""
    S, N = y.shape
    out = _empty(S)
    w = ok.astype(float)
    X = np.stack([np.ones((S, N)), np.broadcast_to((arm == 1).astype(float), (S, N)), base], -1)
    XtX = np.einsum("sn,sni,snj->sij", w, X, X)
    Xty = np.einsum("sn,sni,sn->si", w, X, np.where(ok, y, 0.0))
    n = w.sum(1)
    det = np.linalg.det(XtX)
    scale = np.einsum("sii->s", XtX) ** 3
    bad = (
        (n - 3 < 1)
        | ~(np.abs(det) > 1e-12 * np.maximum(scale, 1e-300))
        | ((ok & (arm == 1)).sum(1) < 1)
        | ((ok & (arm == 0)).sum(1) < 1)
    )
    XtX = np.where(bad[:, None, None], np.eye(3), XtX)
    inv = np.linalg.inv(XtX)
    beta = np.einsum("sij,sj->si", inv, Xty)
    resid = np.where(ok, y - np.einsum("sni,si->sn", X, beta), 0.0)
    df = n - 3
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = (resid**2).sum(1) / df
        se = np.sqrt(s2 * inv[:, 1, 1])
        bad |= ~(se > 0)
        p = 2 * stats.t.sf(np.abs(beta[:, 1] / se), df)
    out["estimate"] = np.where(bad, np.nan, beta[:, 1])
    out["se"] = np.where(bad, np.nan, se)
    out["df"] = np.where(bad, np.nan, df)
    out["p"] = np.where(bad, np.nan, p)
    out["failed"], out["converged"] = bad, ~bad
    return out


def _fast_parallel(
    design: ParallelTrial,
    analysis: str,
    options: dict[str, Any],
    root: np.random.SeedSequence,
    lo: int,
    hi: int,
) -> Chunk:
    Y, O = design._draw_range(root, lo, hi)
    arm = design.arm_codes()
    if analysis == "ttest":
        return _two_sample(Y[:, :, -1], O[:, :, -1], arm)
    if analysis == "change_ttest":
        return _two_sample(Y[:, :, -1] - Y[:, :, 0], O[:, :, -1], arm)
    if analysis == "ancova":
        return _ancova(Y[:, :, -1], Y[:, :, 0], O[:, :, -1], arm)
    # mmrm
    from ..models._covariance import get_structure
    from ._mmrm_batch import fit_batch

    cov = options.get("covariance", "us")
    st = get_structure(cov)
    if design.baseline_covariate:
        Yv, Ov, base = Y[:, :, 1:], O[:, :, 1:], Y[:, :, 0]
        Sigma = design.covariance_matrix
        # conditional covariance of the later visits given the baseline
        S12 = Sigma[1:, :1]
        start_cov = Sigma[1:, 1:] - S12 @ S12.T / Sigma[0, 0]
    else:
        Yv, Ov, base = Y, O, None
        start_cov = design.covariance_matrix
    m = Yv.shape[2]
    theta0 = np.asarray(st.start(start_cov, m), dtype=float)

    def refit(s: int) -> tuple[float, float, float, bool]:
        """Trial ``s`` by rs.mmrm itself (for the trials the batch does not settle)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                est, se, df, _ = _named_parallel(design, "mmrm", options, design._frame(Y[s], O[s]))
            except _NotConverged as exc:
                return exc.values[0], exc.values[1], exc.values[2], False
            except (ValueError, ArithmeticError, np.linalg.LinAlgError):
                return math.nan, math.nan, math.nan, False
        return est, se, df, True

    res = fit_batch(
        Yv,
        Ov,
        arm,
        len(design.arm_labels),
        base,
        st,
        theta0,
        reml=bool(options.get("reml", True)),
        df_method=options.get("df_method", "satterthwaite"),
        refit=refit,
    )
    return res


def _general_parallel(
    design: ParallelTrial,
    analysis: str | Callable[..., Any],
    options: dict[str, Any],
    root: np.random.SeedSequence,
    lo: int,
    hi: int,
) -> Chunk:
    out = _empty(hi - lo)
    Y, O = design._draw_range(root, lo, hi)
    for i in range(hi - lo):
        data = design._frame(Y[i], O[i])

        def fn(d: pd.DataFrame = data) -> tuple[float, float, float, float]:
            if isinstance(analysis, str):
                return _named_parallel(design, analysis, options, d)
            return _call(analysis, d, options)

        _record(out, i, fn)
    return out


def _named_parallel(
    design: ParallelTrial, analysis: str, options: dict[str, Any], data: pd.DataFrame
) -> tuple[float, float, float, float]:
    from ..models import ancova, lmm, mixed_anova, mmrm

    last = design.arm_labels
    ref, trt = last[0], last[1]
    label = f"{trt} - {ref}"
    if analysis == "mmrm":
        formula = (
            "outcome ~ baseline + arm * visit"
            if design.baseline_covariate
            else "outcome ~ arm * visit"
        )
        fit = mmrm(
            formula,
            data,
            subject="subject",
            visit="visit",
            covariance=options.get("covariance", "us"),
            reml=bool(options.get("reml", True)),
        )
        tab = fit.contrasts(
            "arm",
            by="visit",
            method="trt.vs.ctrl",
            df_method=options.get("df_method", "satterthwaite"),
        )
        if not fit.converged:
            raise _NotConverged(_row(tab, label))
        return _row(tab, label)
    if analysis == "lmm":
        formula = (
            "outcome ~ baseline + arm * visit"
            if design.baseline_covariate
            else "outcome ~ arm * visit"
        )
        lfit = lmm(formula, data, subject="subject")
        tab = lfit.contrasts(
            "arm",
            by="visit",
            method="trt.vs.ctrl",
            df_method=options.get("df_method", "satterthwaite"),
        )
        return _row(tab, label)
    if analysis == "mixed_anova":
        res = mixed_anova(
            data,
            outcome="outcome",
            arm="arm",
            visit="visit",
            subject="subject",
            correction=options.get("correction", "gg"),
        )
        tab = res.to_frame()
        row = tab[tab["term"].astype(str) == "arm:visit"].iloc[0]
        return math.nan, math.nan, math.nan, float(row["p"])
    if analysis in ("ttest", "ancova", "change_ttest"):
        wide = data.pivot(index="subject", columns="visit", values="outcome")
        arms = data.groupby("subject", observed=True)["arm"].first().reindex(wide.index)
        visits = list(data["visit"].cat.categories)
        if design.baseline_covariate:
            base = data.groupby("subject", observed=True)["baseline"].first().reindex(wide.index)
        else:
            base = wide[visits[0]]
        frame = pd.DataFrame({"y": wide[visits[-1]], "b": base, "arm": arms}).dropna()
        if analysis == "ancova":
            afit = ancova(frame, outcome="y", arm="arm", baseline="b", reference=ref)
            row = afit.differences.iloc[0]
            return (float(row["estimate"]), float(row["se"]), float(row["df"]), float(row["p"]))
        v = frame["y"] - frame["b"] if analysis == "change_ttest" else frame["y"]
        x, y = v[frame["arm"] == trt].to_numpy(), v[frame["arm"] == ref].to_numpy()
        t = stats.ttest_ind(x, y)
        est = float(x.mean() - y.mean())
        return est, est / float(t.statistic), float(x.size + y.size - 2), float(t.pvalue)
    raise AssertionError(analysis)  # pragma: no cover - validated before


def _row(tab: pd.DataFrame, label: str) -> tuple[float, float, float, float]:
    rows = tab[tab["contrast"].astype(str) == label]
    r = rows.iloc[-1]
    return float(r["estimate"]), float(r["se"]), float(r["df"]), float(r["p"])


class _NotConverged(Exception):
    def __init__(self, values: tuple[float, float, float, float]) -> None:
        super().__init__("not converged")
        self.values = values


def _call(
    fn: Callable[..., Any], data: pd.DataFrame, options: dict[str, Any]
) -> tuple[float, float, float, float]:
    value = fn(data, **options)
    if isinstance(value, tuple):
        if len(value) == 2:
            return float(value[0]), math.nan, math.nan, float(value[1])
        if len(value) == 3:
            return float(value[0]), float(value[1]), math.nan, float(value[2])
        raise TypeError(
            f"the analysis callable returned a tuple of {len(value)} values; "
            "expected p, (estimate, p) or (estimate, se, p)"
        )
    return math.nan, math.nan, math.nan, float(value)


def _record(out: Chunk, i: int, fn: Callable[[], tuple[float, float, float, float]]) -> None:
    """Run one analysis; errors count as failed fits, ConvergenceWarning as not converged."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est, se, df, p = fn()
        except _NotConverged as exc:
            est, se, df, p = exc.values
            out["converged"][i] = False
        except (
            ValueError,
            ArithmeticError,
            np.linalg.LinAlgError,
            KeyError,
            IndexError,
            TypeError,
        ) as exc:
            if isinstance(exc, TypeError) and "analysis callable" in str(exc):
                raise
            out["failed"][i] = True
            out["converged"][i] = False
            return
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        out["converged"][i] = False
    if not (0 <= p <= 1):
        out["failed"][i] = True
        out["converged"][i] = False
        p = math.nan
    out["estimate"][i], out["se"][i], out["df"][i], out["p"][i] = est, se, df, p


# --------------------------------------------------------------------------- single-case
def _fast_sced(
    design: SingleCaseDesign,
    options: dict[str, Any],
    root: np.random.SeedSequence,
    lo: int,
    hi: int,
) -> Chunk:
    from ..sced._randomization import _AGGREGATE, _REPORT_SCALE, _STAT_FUNCS, _masks

    stat = options.get("statistic", "mean_difference")
    sign = 1.0 if options.get("improvement", "increase") == "increase" else -1.0
    Y, _, idx = design._draw_range(root, lo, hi)  # (S, cases, n); (S, cases) assignment
    S, C, n = Y.shape
    tables = []
    for c in range(C):
        cps = design._cps[c]
        masks = _masks(n, cps, False)
        tables.append(_STAT_FUNCS[stat](Y[:, c, :], masks, sign))  # (S, K_c)
    obs_cases = np.stack([t[np.arange(S), idx[:, c]] for c, t in enumerate(tables)], axis=1)
    how = _AGGREGATE[stat]
    if C == 1:
        dist = tables[0]
        obs = obs_cases[:, 0]
        if how == "rms":
            dist, obs = np.abs(dist), np.abs(obs)
        finite = np.isfinite(obs) & np.isfinite(dist).all(axis=1)
        spread = np.maximum(np.abs(obs), np.abs(dist).max(axis=1))
        count = (dist >= (obs - 1e-10 * spread)[:, None]).sum(axis=1)
        total = dist.shape[1]
    else:
        sizes = [t.shape[1] for t in tables]
        grids = [g.ravel() for g in np.meshgrid(*[np.arange(k) for k in sizes], indexing="ij")]
        total = grids[0].size
        obs = _agg(obs_cases[:, None, :], how)[:, 0]
        count = np.zeros(S)
        finite = np.isfinite(obs)
        block = max(1, 4_000_000 // total)  # bounded memory for large designs
        for a in range(0, S, block):
            sl = slice(a, min(a + block, S))
            combo = np.stack([t[sl][:, g] for t, g in zip(tables, grids, strict=True)], -1)
            dist = _agg(combo, how)
            finite[sl] &= np.isfinite(dist).all(axis=1)
            spread = np.maximum(np.abs(obs[sl]), np.abs(dist).max(axis=1))
            count[sl] = (dist >= (obs[sl] - 1e-10 * spread)[:, None]).sum(axis=1)
    out = _empty(S)
    out["p"] = np.where(finite, count / total, np.nan)
    out["estimate"] = obs * _REPORT_SCALE.get(stat, 1.0)
    out["failed"] = ~finite
    out["converged"] = finite
    return out


def _agg(values: np.ndarray, how: str) -> np.ndarray:
    c = values.shape[-1]
    if how == "median":
        return np.median(values, axis=-1)
    if how == "rms":
        return np.sqrt((values**2).sum(axis=-1) / c)
    return values.sum(axis=-1) / c


def _general_sced(
    design: SingleCaseDesign,
    analysis: str | Callable[..., Any],
    options: dict[str, Any],
    root: np.random.SeedSequence,
    lo: int,
    hi: int,
) -> Chunk:
    from ..sced import randomization_test

    out = _empty(hi - lo)
    Y, T, _ = design._draw_range(root, lo, hi)
    for i in range(hi - lo):
        data = design._frame(Y[i], T[i])
        if isinstance(analysis, str) and analysis in SCED_INDEX_NULL:

            def fn(d: pd.DataFrame = data) -> tuple[float, float, float, float]:
                return _index_test(str(analysis), d, options)
        elif isinstance(analysis, str):

            def fn(d: pd.DataFrame = data) -> tuple[float, float, float, float]:
                kw = dict(options)
                kw.setdefault("min_phase_length", design.min_phase_length)
                if design.start_points is not None:
                    wins = {
                        f"case{c + 1}": (cp[:, 0] + 1).tolist() for c, cp in enumerate(design._cps)
                    }
                    kw["start_sessions"] = wins if design.n_cases > 1 else wins["case1"]
                res = randomization_test(
                    d,
                    outcome="outcome",
                    phase="phase",
                    session="session",
                    case="case" if design.n_cases > 1 else None,
                    **kw,
                )
                return float(res.statistic), math.nan, math.nan, float(res.p_value)
        else:

            def fn(d: pd.DataFrame = data) -> tuple[float, float, float, float]:
                return _call(analysis, d, options)

        _record(out, i, fn)
    return out


def _index_test(
    name: str, data: pd.DataFrame, options: dict[str, Any]
) -> tuple[float, float, float, float]:
    """Index per case (A = baseline, B = treatment), averaged over cases; Wald z test."""
    from .. import sced

    fn = getattr(sced, name)
    ests, ses = [], []
    for _, grp in data.groupby("case", sort=False):
        yc = grp["outcome"].to_numpy()
        tc = (grp["phase"] == "B").to_numpy()
        r = fn(yc[~tc], yc[tc], **options)
        ests.append(float(r.estimate))
        ses.append(float(r.se))
    est = float(np.mean(ests))
    se = float(np.sqrt(np.sum(np.square(ses))) / len(ses))
    z = (est - SCED_INDEX_NULL[name]) / se
    return est, se, math.inf, float(2 * stats.norm.sf(abs(z)))


def run_chunk(
    design: Any,
    analysis: str | Callable[..., Any],
    options: dict[str, Any],
    root: np.random.SeedSequence,
    lo: int,
    hi: int,
    fast: bool,
) -> Chunk:
    """Analyse simulations ``lo .. hi - 1`` of ``root`` (module-level, so it pickles)."""
    if isinstance(design, ParallelTrial):
        if fast and isinstance(analysis, str):
            return _fast_parallel(design, analysis, options, root, lo, hi)
        return _general_parallel(design, analysis, options, root, lo, hi)
    if fast and isinstance(analysis, str):
        return _fast_sced(design, options, root, lo, hi)
    return _general_sced(design, analysis, options, root, lo, hi)
