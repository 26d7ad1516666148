"""Tables a rehab journal prints: Table 1, Table 2, the CONSORT flow, a results sentence.

- :func:`baseline_table` — Table 1: baseline characteristics by arm and overall
  (mean (SD), median [Q1, Q3], n (%)), with missing counts and no significance tests
  (CONSORT 2010 item 15: baseline differences in a randomised trial are chance).
- :func:`outcome_table` — Table 2: observed mean (SD) by arm and visit, and from a
  fitted model the adjusted difference with its CI and p, and a standardised effect.
- :func:`consort_flow` — randomised, assessed, lost to follow-up and analysed per arm
  and visit (CONSORT 2010 item 13, Figure 1), as a table and a diagram.
- :func:`results_sentence` — the sentence for the results section.

Every table is a :class:`Table`: ``.to_frame()`` (the printed cells), ``.values``
(the unrounded numbers behind them), ``.to_html()``, ``.to_markdown()``,
``.to_latex()`` and ``.summary()``.

References
----------
Schulz KF, Altman DG, Moher D, for the CONSORT Group (2010). CONSORT 2010 Statement.
*BMJ* 340:c332. American Psychological Association (2020). *Publication Manual*,
7th ed. (number formatting: p < .001, no leading zero for p).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._entry import (
    arm_levels,
    check_finite,
    check_labels,
    default_reference,
    resolve_visit_order,
)
from ._results import Result, format_number
from .data import clean_labels
from .errors import DataError, DesignError, RehabStatsWarning

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ConsortFlow",
    "Table",
    "baseline_table",
    "consort_flow",
    "format_p",
    "outcome_table",
    "results_sentence",
]


def format_p(p: float) -> str:
    """APA style: ``p < .001``, otherwise ``p = .023`` (three decimals, no leading zero).

    >>> format_p(0.0004), format_p(0.0213), format_p(0.5)
    ('p < .001', 'p = .021', 'p = .500')
    """
    if p is None or p is pd.NA:
        return "p = NA"
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise DataError(f"'p' must be a p value (a number from 0 to 1); got {p!r}.")
    if not math.isfinite(p):
        if math.isnan(p):
            return "p = NA"
        raise DataError(f"'p' must be a p value (a number from 0 to 1); got {float(p)!r}.")
    if not 0 <= p <= 1 + 1e-12:
        raise DataError(f"'p' must be a p value (a number from 0 to 1); got {float(p)!r}.")
    if p < 0.001:
        return "p < .001"
    return "p = " + f"{p:.3f}".lstrip("0")


@dataclass(frozen=True)
class Table(Result):
    """A publication table: printed cells plus the numbers behind them.

    Attributes
    ----------
    title : str
    frame : pandas.DataFrame
        The cells as printed (strings).
    values : pandas.DataFrame
        Tidy unrounded numbers (one row per statistic).
    notes : tuple of str
        Footnotes (what the statistics are, the reference arm, the model).
    """

    title: str
    frame: pd.DataFrame
    values: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame (a copy)."""
        return self.frame.copy()

    def summary(self) -> str:
        """Title, table and notes as plain text."""
        body = self.frame.to_string(index=False)
        return "\n".join([self.title, body, *self.notes])

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown (title, table, notes)."""
        table = self.frame.to_markdown(index=False)
        notes = "\n".join(f"*{n}*  " for n in self.notes)
        return f"**{self.title}**\n\n{table}\n\n{notes}".rstrip() + "\n"

    def to_html(self) -> str:
        """An HTML ``<table>`` with a caption and the notes as a footer."""
        html = self.frame.to_html(index=False, escape=True, border=0, classes="rehabstats-table")
        caption = f"<caption>{_escape(self.title)}</caption>"
        html = html.replace(">\n  <thead>", f">\n  {caption}\n  <thead>", 1)
        notes = "".join(f"<p class='note'>{_escape(n)}</p>" for n in self.notes)
        return html + notes

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_latex(self) -> str:
        """A LaTeX ``table`` environment (booktabs rules) with caption and notes."""
        body = self.frame.to_latex(index=False, escape=True)
        notes = "\n".join(r"\par\footnotesize " + _latex_escape(n) for n in self.notes)
        return (
            "\\begin{table}\n\\caption{"
            + _latex_escape(self.title)
            + "}\n"
            + body
            + notes
            + "\n\\end{table}\n"
        )

    def __repr__(self) -> str:
        return f"<Table {self.title!r}: {self.frame.shape[0]} rows>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _latex_escape(text: str) -> str:
    for a, b in [
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("$", r"\$"),
        ("#", r"\#"),
        ("_", r"\_"),
        ("{", r"\{"),
        ("}", r"\}"),
        ("<", r"$<$"),
        (">", r"$>$"),
    ]:
        text = text.replace(a, b)
    return text


def _need(data: Any, columns: Sequence[str | None]) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"'data' must be a pandas DataFrame; got {type(data).__name__}.")
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise DataError(
            f"Column(s) {missing} are not in the data; its columns are {list(data.columns)}."
        )
    return data


def _arm_levels(series: pd.Series, reference: Any) -> list[Any]:
    """Arm levels with the reference arm first (the library's one reference-arm rule)."""
    levels = arm_levels(series)
    if not levels:
        raise DataError(f"Column '{series.name}' has no arm labels.")
    ref = default_reference(levels, reference, name=str(series.name), stacklevel=4)
    return [ref, *[lv for lv in levels if lv != ref]]


def _visit_levels(
    frame: pd.DataFrame, visit: str, subject: str | None, visit_order: Sequence[Any] | None
) -> list[Any]:
    """Visit order by the library's one rule (``rehabstats._entry.resolve_visit_order``)."""
    return resolve_visit_order(frame, visit, subject, visit_order)


def _check_digits(digits: Any) -> int:
    from ._validate import show_value

    if (
        isinstance(digits, bool)
        or not isinstance(digits, (int, np.integer))
        or not 0 <= digits <= 6
    ):
        raise DataError(f"'digits' must be a whole number from 0 to 6; got {show_value(digits)}.")
    return int(digits)


def _outcome_values(frame: pd.DataFrame, column: str, arg: str) -> pd.Series:
    """A numeric column as float: text is an error naming the value, +/-inf naming the row."""
    from ._validate import check_numeric_column

    values = check_numeric_column(frame, column, arg)
    check_finite(values.to_frame(), [column], {column: arg})
    return values


def _labels_present(frame: pd.DataFrame, columns: Sequence[str | None]) -> None:
    """Subject, arm and visit labels: every row needs one, and no two may differ only in
    case or surrounding spaces ("p01" and "p01 " would count as two participants).
    """
    for col in columns:
        if col is None:
            continue
        if frame[col].isna().any():
            rows = [int(i) for i in np.flatnonzero(frame[col].isna().to_numpy())][:10]
            raise DataError(
                f"Column '{col}' has missing labels (rows {rows}); every row needs one."
            )
        check_labels(frame[col], str(col))


def _mean_sd(v: np.ndarray) -> tuple[float, float]:
    """Mean and SD (n - 1), scaled by the largest magnitude so that squares cannot overflow."""
    if not v.size:
        return math.nan, math.nan
    scale = float(np.max(np.abs(v)))
    if scale == 0:
        return 0.0, (0.0 if v.size > 1 else math.nan)
    u = v / scale
    return (scale * float(u.mean()), scale * float(u.std(ddof=1)) if v.size > 1 else math.nan)


def _values_frame(vals: list[dict[str, Any]], title: str, stacklevel: int = 3) -> pd.DataFrame:
    """The numbers behind a table; statistics that cannot be computed (a mean of no values,
    an SD of one) are NaN, printed "NA", and listed in one RehabStatsWarning.
    """
    frame = pd.DataFrame(vals)
    if "level" in frame.columns:
        frame["level"] = frame["level"].astype(object)  # labels, even when they are numbers
    if len(frame) and "value" in frame.columns:
        v = pd.to_numeric(frame["value"], errors="coerce")
        na = frame[v.isna().to_numpy()]
        if len(na):
            keys = [
                c
                for c in ("variable", "visit", "arm", "group", "level", "statistic")
                if c in na.columns
            ]
            shown = [
                "/".join(str(r[c]) for c in keys if r[c] is not None and r[c] == r[c])
                for _, r in na.head(6).iterrows()
            ]
            more = f" and {len(na) - 6} more" if len(na) > 6 else ""
            warnings.warn(
                f"{title}: {len(na)} statistic(s) cannot be computed (no values, or "
                f"an SD of fewer than two) and are shown as NA: {'; '.join(shown)}"
                f"{more}.",
                RehabStatsWarning,
                stacklevel=stacklevel,
            )
    return frame


def _is_number_column(col: pd.Series) -> bool:
    """An object column holding only real numbers (an export's numbers kept as objects)."""
    if col.dtype != object:
        return False
    present = col.dropna()
    return bool(len(present)) and all(
        isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)) for x in present
    )


def _fmt(v: float, digits: int) -> str:
    return "NA" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def baseline_table(
    data: pd.DataFrame,
    *,
    arm: str,
    variables: Sequence[str],
    categorical: Sequence[str] = (),
    nonnormal: Sequence[str] = (),
    labels: dict[str, str] | None = None,
    subject: str | None = None,
    overall: bool = True,
    reference: Any = None,
    digits: int = 1,
    normalize_labels: bool = False,
) -> Table:
    """Table 1: baseline characteristics by arm (and overall), with missing counts.

    Numeric variables print as mean (SD), or median [Q1, Q3] when listed in
    ``nonnormal`` (quartiles as R's default ``quantile`` type 7); text, boolean and
    Categorical variables (and those in ``categorical``) as n (%) of the participants
    with a value. A "missing" row follows any variable with missing values. No tests of
    baseline differences are given, as CONSORT advises.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant (filter long data to the baseline visit first; with
        ``subject=`` a repeated participant is an error).
    arm : str
        Arm column; labels are checked for case/space variants.
    variables : sequence of str
        Columns to describe, in order.
    categorical, nonnormal : sequence of str
        Columns to treat as categorical / to summarise by median [Q1, Q3].
    labels : dict, optional
        Display names, e.g. ``{"age": "Age (years)"}``.
    subject : str, optional
        Participant id column, checked for repeats.
    overall : bool
        Add an "Overall" column.
    reference : optional
        The reference arm, shown first; otherwise a recognised control label (control,
        usual care, sham, placebo, TAU, waitlist), else the first level.
    digits : int
        Decimals of means, SDs, medians and percentages.
    normalize_labels : bool
        Merge arm labels that differ only in case/spaces instead of raising.

    Returns
    -------
    Table

    Examples
    --------
    >>> import rehabstats as rs
    >>> trial = rs.datasets.load("cimt_ms")
    >>> pre = trial[trial["visit"] == "pre"]
    >>> t1 = rs.tables.baseline_table(pre, arm="arm", variables=["age", "mal_aou"],
    ...                               subject="subject", reference="control")
    >>> t1.to_frame().columns.tolist()
    ['Characteristic', 'control (n = 10)', 'cimt (n = 10)', 'Overall (n = 20)']
    """
    frame = _need(data, [arm, subject, *variables])
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 6:
        raise DataError(f"'digits' must be a whole number from 0 to 6; got {digits!r}.")
    if subject is not None:
        dup = frame[subject][frame[subject].duplicated()].unique().tolist()
        if dup:
            raise DataError(
                f"Table 1 needs one row per participant, but '{subject}' repeats {dup[:10]}: "
                "filter long data to the baseline visit first."
            )
    arms = clean_labels(frame[arm], name=arm, normalize=normalize_labels)
    arms.index = frame.index
    if arms.isna().any():
        raise DataError(
            f"Column '{arm}' has {int(arms.isna().sum())} participant(s) without an arm."
        )
    levels = _arm_levels(arms.rename(arm), reference)
    groups: list[tuple[str, pd.Series]] = [
        (f"{lv} (n = {int((arms == lv).sum())})", arms == lv) for lv in levels
    ]
    if overall:
        groups.append((f"Overall (n = {len(frame)})", pd.Series(True, index=frame.index)))
    names = labels or {}
    cat_set, nn_set = set(categorical), set(nonnormal)
    rows: list[dict[str, str]] = []
    vals: list[dict[str, Any]] = []

    def add(label: str, cells: list[str]) -> None:
        rows.append(
            {"Characteristic": label, **dict(zip([g for g, _ in groups], cells, strict=True))}
        )

    for var in variables:
        col = frame[var]
        shown = names.get(var, var)
        is_cat = (
            var in cat_set
            or isinstance(col.dtype, pd.CategoricalDtype)
            or (not pd.api.types.is_numeric_dtype(col) and not _is_number_column(col))
            or pd.api.types.is_bool_dtype(col)
        )
        if is_cat:
            cats = (
                list(col.cat.categories)
                if isinstance(col.dtype, pd.CategoricalDtype)
                else sorted(col.dropna().unique().tolist(), key=str)
            )
            add(f"{shown}, n (%)", [""] * len(groups))
            for c in cats:
                cells = []
                for gname, mask in groups:
                    present = col[mask].dropna()
                    k = int((present == c).sum())
                    pct = 100 * k / len(present) if len(present) else math.nan
                    cells.append(f"{k} ({_fmt(pct, digits)})")
                    vals.append(
                        {"variable": var, "level": c, "group": gname, "statistic": "n", "value": k}
                    )
                    vals.append(
                        {
                            "variable": var,
                            "level": c,
                            "group": gname,
                            "statistic": "percent",
                            "value": pct,
                        }
                    )
                add(f"  {c}", cells)
        else:
            x = _outcome_values(frame, var, "variables")
            cells = []
            for gname, mask in groups:
                v = x[mask].dropna().to_numpy()
                if var in nn_set:
                    q = np.percentile(v, [25, 50, 75]) if v.size else [math.nan] * 3
                    cells.append(
                        f"{_fmt(q[1], digits)} [{_fmt(q[0], digits)}, {_fmt(q[2], digits)}]"
                    )
                    stats_ = {"median": q[1], "q1": q[0], "q3": q[2]}
                else:
                    m, s = _mean_sd(v)
                    cells.append(f"{_fmt(m, digits)} ({_fmt(s, digits)})")
                    stats_ = {"mean": m, "sd": s}
                for k_, val in {**stats_, "n": int(v.size)}.items():
                    vals.append(
                        {
                            "variable": var,
                            "level": None,
                            "group": gname,
                            "statistic": k_,
                            "value": val,
                        }
                    )
            add(f"{shown}, {'median [Q1, Q3]' if var in nn_set else 'mean (SD)'}", cells)
        n_missing = [int(col[mask].isna().sum()) for _, mask in groups]
        if any(n_missing):
            add("  missing", [str(k) for k in n_missing])
            for (gname, _), k in zip(groups, n_missing, strict=True):
                vals.append(
                    {
                        "variable": var,
                        "level": None,
                        "group": gname,
                        "statistic": "missing",
                        "value": k,
                    }
                )
    notes = (
        "Percentages are of the participants with a value; no significance tests of "
        "baseline differences (CONSORT 2010).",
    )
    return Table(
        title="Table 1. Baseline characteristics",
        frame=pd.DataFrame(rows),
        values=_values_frame(vals, "Table 1"),
        notes=notes,
    )


def _contrasts(fit: Any, arm: str, by: str | None, adjust: str | None) -> pd.DataFrame:
    kwargs: dict[str, Any] = {"method": "trt.vs.ctrl"}
    if adjust is not None:
        kwargs["adjust"] = adjust
    return fit.contrasts(arm, by=by, **kwargs)


def outcome_table(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    visit: str | None = None,
    fit: Any = None,
    subject: str | None = None,
    visit_order: Sequence[Any] | None = None,
    reference: Any = None,
    effect_size: str | None = "baseline_sd",
    adjust: str | None = None,
    digits: int = 2,
    ci: float = 0.95,
) -> Table:
    """Table 2: observed outcome by arm and visit, and the model's adjusted differences.

    Observed columns give mean (SD) and n per arm (missing outcomes left out). With a
    fitted ``fit`` (``rs.ancova``, ``rs.mmrm`` or ``rs.lmm`` result), each visit the
    model estimates also gets the adjusted difference (each arm minus the reference
    arm, ``fit.contrasts(arm, by=visit, method="trt.vs.ctrl")``) with its CI and p, and,
    unless ``effect_size=None``, the standardised difference
    ``fit.effect_sizes(effect_size)``.

    Examples
    --------
    >>> import rehabstats as rs
    >>> trial = rs.datasets.load("cimt_ms").dropna(subset=["mal_aou"])
    >>> fit = rs.mmrm("mal_aou ~ arm * visit", trial, subject="subject", visit="visit")
    >>> t2 = rs.tables.outcome_table(trial, outcome="mal_aou", arm="arm", visit="visit",
    ...                              fit=fit, visit_order=["pre", "post", "followup"])
    >>> t2.to_frame()["Visit"].tolist()
    ['pre', 'post', 'followup']
    """
    frame = _need(data, [outcome, arm, visit, subject])
    digits = _check_digits(digits)
    from ._validate import check_ci

    ci = check_ci(ci)
    _labels_present(frame, [visit, subject, arm])
    y = _outcome_values(frame, outcome, "outcome")
    arms = clean_labels(frame[arm], name=arm)
    arms.index = frame.index
    if fit is not None and reference is None:
        reference = getattr(fit, "reference_arm", None)  # the model's reference arm
    levels = _arm_levels(arms.rename(arm), reference)
    visits: list[Any] = (
        [None] if visit is None else _visit_levels(frame, visit, subject, visit_order)
    )
    rows, vals = [], []
    con = es = None
    model_arm = getattr(fit, "arm_name", None) if fit is not None else None
    if fit is not None:
        if model_arm is None:
            raise DesignError("The fit has no arm factor to contrast (pass a model with arm).")
        model_by = visit if (visit is not None and visit in fit._grid().levels) else None
        con = _contrasts(fit, model_arm, model_by, adjust)
        if effect_size is not None:
            es = fit.effect_sizes(effect_size, by=model_by, ci=ci)
    for v in visits:
        vmask = pd.Series(True, index=frame.index) if v is None else frame[visit].map(str) == str(v)
        row: dict[str, str] = {} if v is None else {"Visit": str(v)}
        for lv in levels:
            yy = y[vmask & (arms == lv)].dropna().to_numpy()
            m, s = _mean_sd(yy)
            row[f"{lv}: mean (SD)"] = f"{_fmt(m, digits)} ({_fmt(s, digits)})"
            row[f"{lv}: n"] = str(yy.size)
            vals += [
                {"visit": v, "arm": lv, "statistic": k, "value": val}
                for k, val in (("mean", m), ("sd", s), ("n", yy.size))
            ]
        if con is not None:
            sel = (
                con
                if (v is None or visit not in con.columns)
                else con[con[visit].map(str) == str(v)]
            )
            es_sel = None
            if es is not None:
                es_sel = (
                    es
                    if (v is None or visit not in es.columns)
                    else es[es[visit].map(str) == str(v)]
                )
            for i, (_, c) in enumerate(sel.iterrows()):
                label = "" if len(sel) == 1 else f" ({c['contrast']})"
                row[f"Difference{label} [{round(100 * ci)}% CI]"] = (
                    f"{_fmt(c['estimate'], digits)} [{_fmt(c['ci_low'], digits)}, "
                    f"{_fmt(c['ci_high'], digits)}]"
                )
                row[f"p{label}"] = format_p(float(c["p"])).removeprefix("p = ").removeprefix("p ")
                vals += [
                    {"visit": v, "arm": c["contrast"], "statistic": k, "value": c[k]}
                    for k in ("estimate", "se", "df", "ci_low", "ci_high", "p")
                ]
                if es_sel is not None and i < len(es_sel):
                    e = es_sel.iloc[i]
                    row[f"Effect size{label}"] = (
                        f"{_fmt(e['estimate'], digits)} [{_fmt(e['ci_low'], digits)}, "
                        f"{_fmt(e['ci_high'], digits)}]"
                    )
                    vals.append(
                        {
                            "visit": v,
                            "arm": c["contrast"],
                            "statistic": "effect_size",
                            "value": e["estimate"],
                        }
                    )
        rows.append(row)
    notes = [
        f"Observed mean (SD) of {outcome}; n = participants with a value. "
        f"Reference arm: {levels[0]}."
    ]
    if con is not None:
        adj = con.attrs.get("adjust") if hasattr(con, "attrs") else None
        notes.append(
            f"Difference: model-adjusted ({type(fit).__name__}: {getattr(fit, 'formula', '')}), "
            f"each arm minus {levels[0]}, {round(100 * ci)}% CI"
            + (f"; p adjusted by {adj}" if adj and adj != "none" else "")
            + "."
        )
    if es is not None and effect_size is not None:
        notes.append(
            f"Effect size: adjusted difference / {effect_size.replace('_', ' ')} "
            f"(sd = {format_number(float(es['sd'].iloc[0]))})."
        )
    return Table(
        title=f"Table 2. {outcome} by arm and visit",
        frame=pd.DataFrame(rows),
        values=_values_frame(vals, f"Table 2 ({outcome})"),
        notes=tuple(notes),
    )


def results_sentence(
    fit: Any,
    *,
    visit: Any = None,
    unit: str = "points",
    effect_size: str | None = "baseline_sd",
    ci: float = 0.95,
    digits: int = 1,
) -> str:
    """The results sentence for one adjusted arm difference, APA style.

    E.g. "The adjusted difference (cimt − control) at post was 2.0 points (95% CI 1.1 to
    2.9; p < .001; d = 3.5)". ``visit`` selects the row of a model with a visit factor
    (default: the last visit); ``effect_size`` adds ``fit.effect_sizes(effect_size)``.

    Examples
    --------
    >>> import rehabstats as rs
    >>> trial = rs.datasets.load("cimt_ms").dropna(subset=["mal_aou"])
    >>> fit = rs.mmrm("mal_aou ~ arm * visit", trial, subject="subject", visit="visit")
    >>> rs.tables.results_sentence(fit, visit="post").startswith(
    ...     "The adjusted difference (cimt - control) at post was 2.0 points")
    True
    """
    from ._validate import check_ci

    digits = _check_digits(digits)
    ci = check_ci(ci)
    if not isinstance(unit, str):
        raise DataError(f"'unit' must be text (e.g. 'points'); got {unit!r}.")
    arm = getattr(fit, "arm_name", None)
    if arm is None:
        raise DesignError("The fit has no arm factor to describe.")
    visit_name = getattr(fit, "visit_name", None)
    grid = fit._grid().levels
    by = visit_name if visit_name in grid else None
    con = _contrasts(fit, arm, by, None)
    es = fit.effect_sizes(effect_size, by=by, ci=ci) if effect_size is not None else None
    if by is not None:
        target = visit if visit is not None else grid[by][-1]
        keep = con[by].map(str) == str(target)
        if not keep.any():
            raise DataError(
                f"visit={visit!r} is not a visit of the model; visits are {list(grid[by])}."
            )
        con = con[keep]
        es = es[es[by].map(str) == str(target)] if es is not None else None
        where = f" at {target}"
    else:
        where = ""
    if len(con) != 1:
        raise DesignError(
            f"The model has {len(con)} arm contrasts; results_sentence describes one (two arms)."
        )
    c = con.iloc[0]
    pct = round(100 * ci)
    f = lambda v: _fmt(float(v), digits)  # noqa: E731
    parts = [f"{pct}% CI {f(c['ci_low'])} to {f(c['ci_high'])}", format_p(float(c["p"]))]
    if es is not None:
        parts.append(f"d = {f(es.iloc[0]['estimate'])}")
    return (
        f"The adjusted difference ({c['contrast']}){where} was {f(c['estimate'])} {unit} "
        f"({'; '.join(parts)})"
    )


@dataclass(frozen=True, repr=False)
class ConsortFlow(Table):
    """The CONSORT participant flow (see :func:`consort_flow`); ``.plot()`` draws it."""

    arms: tuple[str, ...] = ()
    visits: tuple[str, ...] = ()

    def plot(self) -> Figure:
        """A CONSORT-style flow diagram: allocation, follow-up per visit, analysis."""
        import matplotlib.pyplot as plt

        counts = self.values.set_index(["stage", "arm"])["n"]
        n_arms, stages = len(self.arms), ["allocated", *self.visits, "analysed"]
        fig, ax = plt.subplots(figsize=(3.2 * n_arms + 0.6, 1.3 * (len(stages) + 1)))
        ax.set_axis_off()
        ax.set_xlim(0, n_arms)
        ax.set_ylim(-len(stages) - 0.6, 1)
        box = dict(boxstyle="round,pad=0.4", fc="white", ec="0.3")
        total = int(sum(counts[("allocated", a)] for a in self.arms))
        ax.text(
            n_arms / 2,
            0.4,
            f"Randomised (n = {total})",
            ha="center",
            va="center",
            bbox=box,
            fontsize=9,
        )
        for j, a in enumerate(self.arms):
            x = j + 0.5
            ax.annotate(
                "",
                xy=(x, -0.55),
                xytext=(n_arms / 2, 0.15),
                arrowprops=dict(arrowstyle="->", color="0.4"),
            )
            for i, stage in enumerate(stages):
                y = -(i + 1) + 0.25
                if stage == "allocated":
                    text = f"Allocated to {a} (n = {counts[(stage, a)]})"
                elif stage == "analysed":
                    text = f"Analysed (n = {counts[(stage, a)]})"
                else:
                    text = (
                        f"{stage}: assessed n = {counts[(stage, a)]}\n"
                        f"lost to follow-up {counts[(stage + ': lost', a)]}, "
                        f"missed visit {counts[(stage + ': missed', a)]}"
                    )
                ax.text(x, y, text, ha="center", va="center", bbox=box, fontsize=8)
                if i:
                    ax.annotate(
                        "",
                        xy=(x, y + 0.33),
                        xytext=(x, y + 0.67),
                        arrowprops=dict(arrowstyle="->", color="0.4"),
                    )
        return fig


def consort_flow(
    data: pd.DataFrame,
    *,
    subject: str,
    arm: str,
    visit: str,
    outcome: str,
    visit_order: Sequence[Any] | None = None,
    reference: Any = None,
) -> ConsortFlow:
    """Participant flow per arm and visit, counted from the data (CONSORT item 13).

    For each arm: participants allocated (distinct ``subject``); at each visit, those
    assessed (an observed ``outcome``), those *lost to follow-up* (no outcome at this or
    any later visit) and those who *missed* the visit but were assessed later; analysed
    = participants with at least one observed outcome (as an MMRM on all visits uses
    them). Every participant must have one arm.

    Examples
    --------
    >>> import rehabstats as rs
    >>> trial = rs.datasets.load("als_decline")
    >>> flow = rs.tables.consort_flow(trial, subject="subject", arm="arm", visit="month",
    ...                               outcome="alsfrs")
    >>> flow.to_frame().columns[0]
    'Stage'
    """
    frame = _need(data, [subject, arm, visit, outcome])
    _labels_present(frame, [subject, visit, arm])
    observed = _outcome_values(frame, outcome, "outcome").notna()
    arms = clean_labels(frame[arm], name=arm)
    arms.index = frame.index
    per_subject = pd.DataFrame({"s": frame[subject], "a": arms}).drop_duplicates()
    multi = per_subject["s"][per_subject["s"].duplicated()].unique().tolist()
    if multi:
        raise DataError(f"Participants {multi[:10]} appear under more than one arm in '{arm}'.")
    levels = _arm_levels(arms.rename(arm), reference)
    visits = _visit_levels(frame, visit, subject, visit_order)
    pos = {str(v): i for i, v in enumerate(visits)}
    obs = pd.DataFrame(
        {"s": frame[subject], "v": frame[visit].map(lambda v: pos[str(v)]), "o": observed}
    )
    seen = obs[obs["o"]].groupby("s")["v"].agg(["max"]).rename(columns={"max": "last"})
    arm_of = per_subject.set_index("s")["a"]
    rows: list[dict[str, str]] = []
    vals: list[dict[str, Any]] = []

    def add(stage: str, counts: dict[Any, int]) -> None:
        rows.append({"Stage": stage, **{str(a): str(counts[a]) for a in levels}})
        vals.extend({"stage": stage, "arm": str(a), "n": int(counts[a])} for a in levels)

    add("allocated", {a: int((arm_of == a).sum()) for a in levels})
    assessed_sets = obs[obs["o"]].groupby("v")["s"].apply(set)
    last = arm_of.index.to_series().map(seen["last"]).fillna(-1)
    for i, v in enumerate(visits):
        here = assessed_sets.get(i, set())
        counts = {a: sum(1 for s in arm_of.index[arm_of == a] if s in here) for a in levels}
        lost = {a: int(((arm_of == a) & (last < i)).sum()) for a in levels}
        missed = {a: int((arm_of == a).sum()) - counts[a] - lost[a] for a in levels}
        add(str(v), counts)
        add(f"{v}: lost", lost)
        add(f"{v}: missed", missed)
    add("analysed", {a: int(((arm_of == a) & (last >= 0)).sum()) for a in levels})
    notes = (
        "lost: no outcome at this or any later visit; missed: no outcome at this visit "
        "but one later; analysed: at least one observed outcome.",
        f"Reference arm: {levels[0]}.",
    )
    return ConsortFlow(
        title="Participant flow (CONSORT)",
        frame=pd.DataFrame(rows),
        values=pd.DataFrame(vals),
        notes=notes,
        arms=tuple(str(a) for a in levels),
        visits=tuple(str(v) for v in visits),
    )
