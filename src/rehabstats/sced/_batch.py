"""``effect_sizes``: many single-case indices over every case and phase pair of tidy data."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._results import EffectSizeResult
from .._validate import check_improvement, check_option, check_table_column
from ..errors import DataError, DesignError, RehabStatsWarning
from ._common import check_optional_ci, make_result, orient, zcrit
from ._data import check_phase_labels, prepare_sced
from ._nap_tau import _SE_METHODS
from ._overlap import _ird_from_pand, _pand_minimum_core, _pand_phi, _pand_sort_counts
from ._parametric import _SCALES, _check_lrr_args
from ._registry import HAS_SE, REGISTRY, check_indices

__all__ = ["combine_phase_pairs", "effect_sizes", "ird_pooled", "pand_pooled"]

COLUMNS = [
    "case",
    "pair",
    "baseline_phase",
    "treatment_phase",
    "index",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "ci_level",
    "ci_method",
    "n_baseline",
    "n_treatment",
]


@dataclass(frozen=True)
class _Pairs:
    case: np.ndarray  # case label per pair
    pair: np.ndarray  # 1-based pair number within the case
    a_start: np.ndarray
    a_len: np.ndarray
    b_start: np.ndarray
    b_len: np.ndarray


def _fast_pairs(frame: pd.DataFrame, baseline_phase: str, treatment_phase: str) -> _Pairs:
    """Every baseline run directly followed by a treatment run (same rule as ``phase_pairs``)."""
    check_phase_labels(frame, baseline_phase, treatment_phase)
    case_codes, case_labels = pd.factorize(frame["case"])
    run = frame["run"].to_numpy()
    phase = frame["phase"].to_numpy()
    nrow = len(frame)
    new = np.ones(nrow, dtype=bool)
    new[1:] = (case_codes[1:] != case_codes[:-1]) | (run[1:] != run[:-1])
    starts = np.flatnonzero(new)
    lengths = np.diff(np.r_[starts, nrow])
    r_case = case_codes[starts]
    r_phase = phase[starts]
    ok = (
        (r_case[:-1] == r_case[1:])
        & (r_phase[:-1] == baseline_phase)
        & (r_phase[1:] == treatment_phase)
    )
    first = np.flatnonzero(ok)
    pair_case = r_case[first]
    has_pair = np.zeros(len(case_labels), dtype=bool)
    has_pair[pair_case] = True
    if not has_pair.all():
        missing = int(np.flatnonzero(~has_pair)[0])
        seq = "-".join(str(p) for p, c in zip(r_phase, r_case, strict=True) if c == missing)
        raise DesignError(
            f"Case {case_labels[missing]!r} has no {baseline_phase!r} phase followed directly by a "
            f"{treatment_phase!r} phase (its phases are {seq})."
        )
    # pair number within case: running count
    pair_no = np.ones(first.size, dtype=int)
    for k in range(1, first.size):
        if pair_case[k] == pair_case[k - 1]:
            pair_no[k] = pair_no[k - 1] + 1
    return _Pairs(
        case=np.asarray(case_labels)[pair_case],
        pair=pair_no,
        a_start=starts[first],
        a_len=lengths[first],
        b_start=starts[first + 1],
        b_len=lengths[first + 1],
    )


def _call_single(
    name: str, a: np.ndarray, b: np.ndarray, improvement: str, opts: dict[str, Any]
) -> tuple[float, float, float, float, str]:
    """One series by the index's own function, with the options its registry row names."""
    row = REGISTRY[name]
    res = row.function(a, b, improvement=improvement, **row.call_kwargs(opts))
    return res.estimate, res.se, res.ci_low, res.ci_high, res.ci_method


def effect_sizes(
    data: pd.DataFrame,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str | None = None,
    indices: Any = ("nap", "tau", "tau_u", "tau_bc", "smd", "lrri"),
    baseline_phase: str = "A",
    treatment_phase: str = "B",
    improvement: str = "increase",
    ci: float | None = 0.95,
    se_method: str = "unbiased",
    nap_ci_method: Literal["newcombe", "score"] = "newcombe",
    tau_u_method: Literal["parker", "complete", "tarlow"] = "parker",
    tau_u_ci: Literal["none", "s", "z", "tau"] | None = None,
    pand_method: Literal["minimum", "sort"] = "minimum",
    pretest_trend: bool | float = False,
    kendall: bool = False,
    standardizer: Literal["baseline", "pooled"] = "baseline",
    bias_correct: bool = True,
    scale: str = "count",
    intervals: float | None = None,
    observation_length: float | None = None,
    d_const: float | None = None,
    delta_method: bool = False,
    goal: float | None = None,
) -> pd.DataFrame:
    """Compute single-case effect sizes for every case and baseline-treatment phase pair.

    Each baseline run immediately followed by a treatment run of a case is one
    comparison (``pair`` 1, 2, ... within the case), the convention of
    SingleCaseES ``batch_calc_ES`` and scan. Series with the same phase
    lengths are computed together with vectorised cores, so thousands of
    series take well under a second.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy long data, one row per session. Not modified.
    outcome, phase, session, case : str
        Column names (``case`` optional: one case).
    indices : str or sequence of str
        Index names from :func:`rehabstats.sced.index_names` (``"nap", "tau",
        "tau_u", "tau_bc", "pnd", "pem", "pand", "ird", "smd", "lrrd", "lrri",
        "lor", "lrm", "pogo"``) or the groups ``"nonoverlap"`` and
        ``"parametric"``.
    baseline_phase, treatment_phase : str
        Phase labels compared.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change, used by every index (LRRd included,
        as in ``batch_calc_ES``).
    ci : float or None
        Confidence level of every interval.
    se_method : {"unbiased", "hanley", "null"}
        NAP / Tau / Tau-BC standard error.
    nap_ci_method : {"newcombe", "score"}
        NAP / Tau interval (:func:`rehabstats.sced.nap`): ``"newcombe"`` as
        SingleCaseES (degenerate [1, 1] at NAP = 1), ``"score"`` the same score
        interval with its interior limit there (never zero width). Tau-BC keeps
        the Newcombe interval of :func:`rehabstats.sced.tau_bc`.
    tau_u_method : {"parker", "complete", "tarlow"}
        Tau-U variant (:func:`rehabstats.sced.tau_u`).
    tau_u_ci : {"none", "s", "z", "tau"}, optional
        Tau-U interval (``ci_method`` of :func:`rehabstats.sced.tau_u`, with the
        standard error that belongs to it). Default: ``"none"`` for "parker"
        (SingleCaseES reports no Tau-U standard error) and ``"z"`` (scan's
        Fisher-z interval) for the scan variants. ``"s"`` is the interval on
        the scale of Kendall's S, defined also when Parker's Tau-U exceeds 1.
    pand_method : {"minimum", "sort"}
        PAND variant (:func:`rehabstats.sced.pand`).
    pretest_trend, kendall
        Tau-BC options (:func:`rehabstats.sced.tau_bc`).
    standardizer, bias_correct
        SMD options; ``bias_correct`` also applies to LRR and LOR.
    scale, intervals, observation_length, d_const
        LRR/LOR measurement options.
    delta_method : bool
        LRM option.
    goal : float, optional
        PoGO goal level (required when ``"pogo"`` is requested).

    Returns
    -------
    pandas.DataFrame
        One row per case x pair x index with columns ``case, pair,
        baseline_phase, treatment_phase, index, estimate, se, ci_low, ci_high,
        ci_level, ci_method, n_baseline, n_treatment``.

    Raises
    ------
    DataError
        Bad columns or values, unknown index or option.
    DesignError
        A phase label is absent or a case has no baseline-treatment pair.

    Warns
    -----
    RehabStatsWarning
        One warning per index (and reason) that names every case and pair whose
        estimate, standard error or interval is not finite -- a constant
        baseline for SMD, a one-observation phase for NAP's unbiased SE, and so
        on -- the same conditions the single-index functions warn about.

    Examples
    --------
    >>> import pandas as pd
    >>> from rehabstats.sced import effect_sizes
    >>> df = pd.DataFrame({"t": range(1, 10), "ph": list("AAAABBBBB"),
    ...                    "y": [2, 3, 5, 3, 4, 5, 5, 7, 6]})
    >>> res = effect_sizes(df, outcome="y", phase="ph", session="t", indices=["nap", "tau_u"])
    >>> res[["index", "estimate"]].round(3).to_dict("records")
    [{'index': 'nap', 'estimate': 0.9}, {'index': 'tau_u', 'estimate': 0.65}]
    """
    names = check_indices(indices)
    improvement = check_improvement(improvement)
    level = check_optional_ci(ci)
    opts: dict[str, Any] = {
        "ci": level,
        "se_method": check_option(se_method, "se_method", _SE_METHODS),
        "tau_u_method": check_option(
            tau_u_method, "tau_u_method", ("parker", "complete", "tarlow")
        ),
        "pand_method": check_option(pand_method, "pand_method", ("minimum", "sort")),
        "pretest_trend": pretest_trend,
        "kendall": check_option(kendall, "kendall", (True, False)),
        "standardizer": check_option(standardizer, "standardizer", ("baseline", "pooled")),
        "bias_correct": bool(check_option(bias_correct, "bias_correct", (True, False))),
        "delta_method": check_option(delta_method, "delta_method", (True, False)),
        "goal": goal,
        "nap_ci_method": check_option(nap_ci_method, "nap_ci_method", ("newcombe", "score")),
    }
    tau_u_ci = check_option(tau_u_ci, "tau_u_ci", (None, "none", "s", "z", "tau"))
    if tau_u_ci is None:
        tau_u_ci = "none" if opts["tau_u_method"] == "parker" else "z"
    opts["tau_u_ci"] = tau_u_ci
    # the arguments ci / ci_method of tau_u (ci_method is unused without an interval)
    opts["tau_u_level"] = level if tau_u_ci != "none" else None
    opts["tau_u_ci_method"] = tau_u_ci if tau_u_ci != "none" else "z"
    sc, iv, ol, dc = _check_lrr_args(
        check_option(scale, "scale", _SCALES), intervals, observation_length, d_const, bias_correct
    )
    opts.update(scale=sc, intervals=iv, observation_length=ol, d_const=dc)
    if "pogo" in names and goal is None:
        raise DataError("Index 'pogo' needs the goal level: pass goal=<number>.")
    frame = prepare_sced(data, outcome=outcome, phase=phase, session=session, case=case)
    pairs = _fast_pairs(frame, str(baseline_phase), str(treatment_phase))
    y = frame["outcome"].to_numpy()
    n_pairs = pairs.case.size
    n_idx = len(names)
    est = np.full((n_pairs, n_idx), np.nan)
    se = est.copy()
    lo = est.copy()
    hi = est.copy()
    method = np.full((n_pairs, n_idx), "none", dtype=object)
    # warnings of the per-series calls, collected to be announced once per index
    messages: dict[tuple[int, int], str] = {}
    keys = pairs.a_len * 100000 + pairs.b_len
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        m, n = int(pairs.a_len[rows[0]]), int(pairs.b_len[rows[0]])
        a = y[pairs.a_start[rows][:, None] + np.arange(m)[None, :]]
        b = y[pairs.b_start[rows][:, None] + np.arange(n)[None, :]]
        for j, name in enumerate(names):
            core = REGISTRY[name].core
            out = None
            if core is not None:
                with np.errstate(all="ignore"):
                    out = core(a, b, improvement, opts)
            if out is None:
                for r_i, r in enumerate(rows):
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always", RehabStatsWarning)
                        e, s, lw, hg, cm = _call_single(name, a[r_i], b[r_i], improvement, opts)
                    for w in caught:
                        if issubclass(w.category, RehabStatsWarning):
                            messages.setdefault((int(r), j), str(w.message))
                        else:  # pragma: no cover - foreign warnings pass through
                            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
                    est[r, j], se[r, j], lo[r, j], hi[r, j], method[r, j] = e, s, lw, hg, cm
            else:
                est[rows, j], se[rows, j], lo[rows, j], hi[rows, j] = out[:4]
                method[rows, j] = out[4]
    has_ci = method != "none"
    _announce(names, pairs, est, se, lo, hi, has_ci, messages, opts)
    result = pd.DataFrame(
        {
            "case": np.repeat(pairs.case, n_idx),
            "pair": np.repeat(pairs.pair, n_idx),
            "baseline_phase": str(baseline_phase),
            "treatment_phase": str(treatment_phase),
            "index": np.tile(np.array(names, dtype=object), n_pairs),
            "estimate": est.ravel(),
            "se": se.ravel(),
            "ci_low": lo.ravel(),
            "ci_high": hi.ravel(),
            "ci_level": np.where(
                has_ci.ravel(), level if level is not None else math.nan, math.nan
            ),
            "ci_method": method.ravel(),
            "n_baseline": np.repeat(pairs.a_len, n_idx),
            "n_treatment": np.repeat(pairs.b_len, n_idx),
        }
    )
    result.attrs["n_omitted"] = frame.attrs.get("n_omitted", 0)
    return result


def _announce(
    names: list[str],
    pairs: _Pairs,
    est: np.ndarray,
    se: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    has_ci: np.ndarray,
    messages: dict[tuple[int, int], str],
    opts: dict[str, Any],
) -> None:
    """One RehabStatsWarning per index and reason, naming every case/pair affected."""
    for j, name in enumerate(names):
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(est[:, j])
            if REGISTRY[name].reports_se(opts):
                bad |= ~np.isfinite(se[:, j])
            bad |= has_ci[:, j] & ~(np.isfinite(lo[:, j]) & np.isfinite(hi[:, j]))
        rows = {int(r) for r in np.flatnonzero(bad)} | {r for (r, jj) in messages if jj == j}
        if not rows:
            continue
        by_reason: dict[str, list[int]] = {}
        for r in sorted(rows):
            why = messages.get((r, j)) or f"{name}: not finite ({REGISTRY[name].reason})."
            by_reason.setdefault(why, []).append(r)
        for why, rs_ in by_reason.items():
            where = ", ".join(
                f"case {_plain(pairs.case[r])!r} pair {int(pairs.pair[r])}" for r in rs_[:10]
            )
            more = f" and {len(rs_) - 10} more" if len(rs_) > 10 else ""
            warnings.warn(
                f"effect_sizes: {why} Affected: {where}{more}.", RehabStatsWarning, stacklevel=3
            )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


_WEIGHTINGS = ("equal", "1/V", "nA", "nB", "nA*nB", "1/nA+1/nB")


def combine_phase_pairs(
    table: pd.DataFrame,
    *,
    weighting: Literal["equal", "1/V", "nA", "nB", "nA*nB", "1/nA+1/nB"] = "equal",
    ci: float | None = 0.95,
) -> pd.DataFrame:
    """Average the phase-pair effect sizes of each case, as SingleCaseES ``batch_calc_ES(aggregate = ...)``.

    For each case and index, ``estimate = sum w_k ES_k / sum w_k`` over the
    case's phase pairs, ``se = sqrt(sum w_k^2 SE_k^2) / sum w_k`` and a normal
    interval ``estimate -/+ z se``. Weights ``w_k``: ``"equal"`` (1), ``"1/V"``
    (inverse sampling variance ``1 / SE_k^2``), ``"nA"``, ``"nB"``,
    ``"nA*nB"`` (phase lengths) or ``"1/nA+1/nB"`` (literally
    ``1/n_A + 1/n_B``, as SingleCaseES 0.7.4 computes it).
    Indices without a standard error get ``se`` NaN (and with ``"1/V"`` a NaN
    estimate), as in SingleCaseES.

    The phase pairs are those of :func:`effect_sizes` (each baseline run
    directly followed by a treatment run). SingleCaseES's ``calc_phase_pairs``
    also forms a pair from a treatment run followed by a baseline run in
    treatment-first designs (B-A-B-A); such pairs are not comparisons here.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`effect_sizes`.
    weighting : str
        Weighting scheme (above).
    ci : float or None
        Confidence level of the combined interval.

    Returns
    -------
    pandas.DataFrame
        One row per case and index: ``case, index, estimate, se, ci_low,
        ci_high, ci_level, n_pairs``.

    Missing and infinite values: a phase pair's ``se`` that is NaN (``pd.NA``)
    or ``inf`` for an index that has a standard error (every index but PND,
    PEM, PAND, IRD and Tau-U) is kept, as SingleCaseES keeps it: the case's
    combined ``se`` and interval are then not finite (with ``"1/V"`` also the
    estimate), and a ``RehabStatsWarning`` names the case, index, row and
    value. Pairs are never dropped silently, since that would change the
    average the user asked for. The SEs are combined scale-safely (each case's
    SEs divided by their largest), so SEs of any magnitude give finite results.

    Raises
    ------
    DataError
        ``table`` is not an :func:`effect_sizes` table, or it has no rows; a
        column ``estimate``, ``se``, ``n_baseline`` or ``n_treatment`` holds
        non-numbers or booleans (named with the row), an ``se`` is negative, or
        a phase length is missing, infinite or below 1.

    Warns
    -----
    RehabStatsWarning
        A combined estimate is not finite (named by case and index); a phase
        pair's ``se`` is missing or infinite (above).

    Examples
    --------
    >>> import pandas as pd
    >>> from rehabstats.sced import combine_phase_pairs, effect_sizes
    >>> df = pd.DataFrame({"t": range(1, 13), "ph": list("AAABBBAAABBB"),
    ...                    "y": [1, 2, 1, 5, 6, 5, 2, 2, 3, 6, 7, 8]})
    >>> per_pair = effect_sizes(df, outcome="y", phase="ph", session="t", indices="smd")
    >>> combine_phase_pairs(per_pair)["n_pairs"].tolist()
    [2]
    """
    weighting = check_option(weighting, "weighting", _WEIGHTINGS)
    level = check_optional_ci(ci)
    if not isinstance(table, pd.DataFrame) or not {
        "case",
        "index",
        "estimate",
        "se",
        "n_baseline",
        "n_treatment",
    } <= set(table):
        raise DataError("'table' must be the DataFrame returned by rehabstats.sced.effect_sizes.")
    if len(table) == 0:
        raise DataError("'table' has no rows: there are no phase pairs to combine.")
    est_k = check_table_column(table, "estimate", "'table'")
    se = check_table_column(table, "se", "'table'", minimum=0)
    na = check_table_column(
        table, "n_baseline", "'table'", allow_nan=False, allow_inf=False, minimum=1
    )
    nb = check_table_column(
        table, "n_treatment", "'table'", allow_nan=False, allow_inf=False, minimum=1
    )
    index = table["index"].to_numpy()
    # a missing or infinite SE of an index that has one (not PND, PEM, PAND, IRD, Tau-U)
    # makes the case's combined SE and interval non-finite, as in SingleCaseES: announce it
    lost = ~np.isfinite(se) & np.isin(index.astype(str), sorted(HAS_SE))
    # scale-safe: each case-index group's SEs are divided by their largest finite value,
    # so SEs of any magnitude (1e300) neither overflow when squared nor underflow in 1/V
    finite_se = np.where(np.isfinite(se) & (se > 0), se, np.nan)
    unit = (
        pd.Series(finite_se)
        .groupby([table["case"].to_numpy(), index], sort=False)
        .transform("max")
        .to_numpy()
    )
    unit = np.where(np.isfinite(unit), unit, 1.0)
    se_r = se / unit
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = {
            "equal": np.ones_like(na),
            "1/V": 1 / se_r**2,
            "nA": na,
            "nB": nb,
            "nA*nB": na * nb,
            "1/nA+1/nB": 1 / na + 1 / nb,
        }[weighting]
    with np.errstate(invalid="ignore", over="ignore"):
        work = pd.DataFrame(
            {
                "case": table["case"].to_numpy(),
                "index": index,
                "w": w,
                "we": w * est_k,
                "w2v": (w * se_r) ** 2,
                "unit": unit,
            }
        )
    grouped = work.groupby(["case", "index"], sort=False)
    sums = grouped[["w", "we", "w2v"]].agg(lambda v: v.sum(skipna=False))
    units = grouped["unit"].first().to_numpy()
    counts = grouped.size()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        est = (sums["we"] / sums["w"]).to_numpy()
        se_c = (np.sqrt(sums["w2v"]) / sums["w"]).to_numpy() * units
    if level is not None:
        z = zcrit(level)
        with np.errstate(invalid="ignore"):
            lo, hi = est - z * se_c, est + z * se_c
    else:
        lo = hi = np.full_like(est, np.nan)
    if lost.any():
        rows = table.index[lost]
        where = ", ".join(
            f"case {_plain(c)!r} index {i!r} (row {_plain(r)!r}: se = {v!r})"
            for c, i, r, v in list(
                zip(table["case"][lost], index[lost], rows, se[lost].tolist(), strict=True)
            )[:10]
        )
        warnings.warn(
            f"combine_phase_pairs: {int(lost.sum())} phase pair(s) have a missing or infinite "
            f"'se': {where}{' and more' if lost.sum() > 10 else ''}. The combined se and "
            "confidence interval of those cases are not finite (as in SingleCaseES)"
            + (", nor is the 1/V-weighted estimate" if weighting == "1/V" else "")
            + ".",
            RehabStatsWarning,
            stacklevel=2,
        )
    out = sums.reset_index()[["case", "index"]]
    out["estimate"] = est
    out["se"] = se_c
    out["ci_low"] = lo
    out["ci_high"] = hi
    out["ci_level"] = np.where(
        np.isnan(se_c) | (level is None), np.nan, level if level is not None else np.nan
    )
    out["n_pairs"] = counts.to_numpy()
    bad = ~np.isfinite(est)
    if bad.any():
        where = ", ".join(
            f"case {_plain(c)!r} index {i!r}"
            for c, i in zip(out["case"][bad][:10], out["index"][bad][:10], strict=True)
        )
        warnings.warn(
            f"combine_phase_pairs: the combined estimate is not finite for {where}"
            f"{' and more' if bad.sum() > 10 else ''}: a phase pair's estimate is not finite"
            + (
                ", or an index without a standard error was weighted by 1/V"
                if weighting == "1/V"
                else ""
            )
            + ".",
            RehabStatsWarning,
            stacklevel=2,
        )
    return out


def _first_pairs(
    data: pd.DataFrame,
    outcome: str,
    phase: str,
    session: str,
    case: str | None,
    baseline_phase: str,
    treatment_phase: str,
) -> tuple[list[str], list[np.ndarray], list[np.ndarray], int]:
    frame = prepare_sced(data, outcome=outcome, phase=phase, session=session, case=case)
    pairs = _fast_pairs(frame, str(baseline_phase), str(treatment_phase))
    y = frame["outcome"].to_numpy()
    first = np.flatnonzero(pairs.pair == 1)
    labels = [str(_plain(pairs.case[r])) for r in first]
    a = [y[pairs.a_start[r] : pairs.a_start[r] + pairs.a_len[r]] for r in first]
    b = [y[pairs.b_start[r] : pairs.b_start[r] + pairs.b_len[r]] for r in first]
    return labels, a, b, int(frame.attrs.get("n_omitted", 0))


def pand_pooled(
    data: pd.DataFrame,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str | None = None,
    baseline_phase: str = "A",
    treatment_phase: str = "B",
    improvement: str = "increase",
    method: Literal["minimum", "sort"] = "minimum",
) -> EffectSizeResult:
    """PAND pooled over the cases of a multiple-baseline design, as scan's ``pand()``.

    Each case contributes its first baseline run followed directly by a
    treatment run (scan's default ``phases = c(1, 2)``). ``method="minimum"``:
    the cases' non-overlapping counts (:func:`rehabstats.sced.pand`) are summed
    and divided by the total number of observations,
    ``PAND = sum_i nonoverlap_i / sum_i (n_Ai + n_Bi)``. ``method="sort"``: the
    cases' 2 x 2 tables of data phase by sorted phase are summed, PAND is the
    share on the diagonal, and phi, the chi-square and Fisher tests are those of
    the pooled table (scan's ``pand()$phi``).

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy long data, one row per session. Not modified.
    outcome, phase, session, case : str
        Column names (``case`` optional: one case).
    baseline_phase, treatment_phase : str
        Phase labels compared.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change (scan's ``decreasing``).
    method : {"minimum", "sort"}
        As in :func:`rehabstats.sced.pand`.

    Returns
    -------
    EffectSizeResult
        ``measure="pand_pooled"`` (a proportion; scan prints percent), ``n_x`` /
        ``n_y`` the total treatment / baseline observations; ``details`` holds
        ``n_cases``, ``overlaps``, ``cases`` (per-case n and PAND) and, for
        "sort", ``phi, chi_square, chi_p, fisher_p, fisher_odds_ratio,
        matrix_counts``.

    References
    ----------
    Parker, R. I., Hagan-Burke, S., & Vannest, K. (2007). Percentage of all
    non-overlapping data (PAND): An alternative to PND. *The Journal of Special
    Education*, 40(4), 194-204. doi:10.1177/00224669070400040101

    Examples
    --------
    >>> import pandas as pd
    >>> from rehabstats.sced import pand_pooled
    >>> df = pd.DataFrame({"case": ["x"] * 6 + ["y"] * 6, "t": list(range(1, 7)) * 2,
    ...                    "ph": list("AAABBB") + list("AABBBB"),
    ...                    "y": [1, 2, 4, 3, 5, 6, 2, 3, 2, 5, 6, 7]})
    >>> round(pand_pooled(df, outcome="y", phase="ph", session="t", case="case").estimate, 4)
    0.8333
    """
    improvement = check_improvement(improvement)
    method = check_option(method, "method", ("minimum", "sort"))
    labels, a_list, b_list, omitted = _first_pairs(
        data, outcome, phase, session, case, baseline_phase, treatment_phase
    )
    na = np.array([x.size for x in a_list])
    nb = np.array([x.size for x in b_list])
    total = int(na.sum() + nb.sum())
    rows = []
    counts = np.zeros((2, 2))
    keep = 0.0
    for lab, a, b in zip(labels, a_list, b_list, strict=True):
        oa, ob = orient(a[None, :], b[None, :], improvement)
        if method == "minimum":
            p_i = float(_pand_minimum_core(oa, ob)[0])
            keep += round(p_i * (a.size + b.size))
        else:
            c_i = _pand_sort_counts(oa, ob, improvement == "decrease")
            counts += c_i
            p_i = float((c_i[0, 0] + c_i[1, 1]) / c_i.sum())
        rows.append({"case": lab, "n_baseline": a.size, "n_treatment": b.size, "pand": p_i})
    details: dict[str, Any] = {
        "method": method,
        "n_cases": len(labels),
        "cases": pd.DataFrame(rows),
    }
    if method == "minimum":
        est = keep / total
        details["overlaps"] = int(total - keep)
    else:
        est = float((counts[0, 0] + counts[1, 1]) / counts.sum())
        details.update(_pand_phi(counts))
    return make_result(
        "pand_pooled",
        est,
        n_baseline=int(na.sum()),
        n_treatment=int(nb.sum()),
        n_omitted=omitted,
        details=details,
    )


def ird_pooled(
    data: pd.DataFrame,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str | None = None,
    baseline_phase: str = "A",
    treatment_phase: str = "B",
    improvement: str = "increase",
) -> EffectSizeResult:
    """Robust IRD pooled over the cases of a multiple-baseline design, as scan's ``ird()``.

    From the pooled PAND (:func:`pand_pooled`, ``method="minimum"``) and the
    total phase lengths ``N_A = sum n_Ai``, ``N_B = sum n_Bi``, ``N = N_A + N_B``:

    ``IRD = 1 - N^2 / (2 N_A N_B) (1 - PAND)``

    (scan 0.67, ``R/ird.R``). With one case this equals
    :func:`rehabstats.sced.ird`. It is not the average of the case IRDs: cases
    weigh by their number of observations.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy long data, one row per session. Not modified.
    outcome, phase, session, case : str
        Column names (``case`` optional: one case).
    baseline_phase, treatment_phase : str
        Phase labels compared; each case contributes its first baseline run
        followed directly by a treatment run.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.

    Returns
    -------
    EffectSizeResult
        ``measure="ird_pooled"``; ``details`` holds ``pand`` (pooled),
        ``n_cases`` and ``cases`` (per-case n, PAND and IRD).

    References
    ----------
    Parker, R. I., Vannest, K. J., & Brown, L. (2009). The improvement rate
    difference for single-case research. *Exceptional Children*, 75(2),
    135-150. doi:10.1177/001440290907500201

    Pustejovsky, J. E. (2019). Procedural sensitivities of effect sizes for
    single-case designs with directly observed behavioral outcome measures.
    *Psychological Methods*, 24(2), 217-235. doi:10.1037/met0000179

    Examples
    --------
    >>> import pandas as pd
    >>> from rehabstats.sced import ird_pooled
    >>> df = pd.DataFrame({"case": ["x"] * 6 + ["y"] * 6, "t": list(range(1, 7)) * 2,
    ...                    "ph": list("AAABBB") + list("AABBBB"),
    ...                    "y": [1, 2, 4, 3, 5, 6, 2, 3, 2, 5, 6, 7]})
    >>> round(ird_pooled(df, outcome="y", phase="ph", session="t", case="case").estimate, 4)
    0.6571
    """
    pooled = pand_pooled(
        data,
        outcome=outcome,
        phase=phase,
        session=session,
        case=case,
        baseline_phase=baseline_phase,
        treatment_phase=treatment_phase,
        improvement=improvement,
        method="minimum",
    )
    n_a, n_b = int(pooled.n_y or 0), int(pooled.n_x or 0)
    total = n_a + n_b
    est = 1 - total**2 / (2 * n_a * n_b) * (1 - pooled.estimate)
    cases = pooled.details["cases"].copy()
    cases["ird"] = _ird_from_pand(
        cases["pand"].to_numpy(float),
        cases["n_baseline"].to_numpy(float),
        cases["n_treatment"].to_numpy(float),
    )
    return make_result(
        "ird_pooled",
        est,
        n_baseline=n_a,
        n_treatment=n_b,
        n_omitted=pooled.n_omitted,
        details={"pand": pooled.estimate, "n_cases": pooled.details["n_cases"], "cases": cases},
    )
