"""The ``rehabstats report FILE --design rct|sced`` job: analyse a user's CSV.

Writes CSV tables, PNG figures and an ``index.html`` page styled like the
``rehabstats demo`` report into an output folder. The argparse wiring lives
here too (:func:`add_report_parser`, :func:`main_report`), so ``cli.py`` only
registers the sub-command.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import importlib.util
import keyword
import math
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from . import measures as measures_registry
from ._demo import _CSS, DemoSection, frame_to_html
from ._entry import (
    arm_levels,
    check_finite,
    check_labels,
    default_reference,
    model_frame,
    resolve_visit_order,
    show,
    show_list,
)
from ._results import EffectSizeResult, format_number
from ._validate import (
    check_ci,
    check_columns,
    check_improvement,
    check_numeric_column,
    check_option,
    check_positive,
)
from .effect_sizes import hedges_g
from .errors import DataError, RehabStatsError, RehabStatsWarning
from .plot._forest import forest
from .plot._sced import sced as sced_plot
from .plot._trajectories import trajectories

__all__ = ["add_report_parser", "main_report", "run_report"]

DESIGNS = ("rct", "sced")
#: SCED indices of the report (SingleCaseES defaults; Tau-U is Parker's A vs B - trend A)
SCED_INDICES = ("nap", "tau_u", "tau_bc", "smd")
#: where the no-effect line goes in the per-index forest plots
_SCED_NULL = {"nap": 0.5, "tau_u": 0.0, "tau_bc": 0.0, "smd": 0.0}
_SCED_TITLES = {
    "nap": "NAP (no effect = 0.5)",
    "tau_u": "Tau-U (Parker)",
    "tau_bc": "Tau-BC (baseline-trend corrected)",
    "smd": "SMD (baseline SD)",
}


# ----------------------------------------------------------------------------- helpers
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
#: the MMRM covariance structures that need no time column (the non-spatial entries of
#: ``rehabstats.models._covariance.COVARIANCE_STRUCTURES``; listed here so that the command
#: line does not import the model code to build its help)
COVARIANCES = ("us", "cs", "csh", "ar1", "ar1h", "toep", "toeph", "ad", "adh")
DF_METHODS = ("satterthwaite", "kenward-roger", "kenward-roger-linear")
INVALID_ACTIONS = ("refuse", "missing")
_IMPROVEMENT_WORDS = {
    "increase": "increase",
    "decrease": "decrease",
    "higher": "increase",
    "lower": "decrease",
}


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read the user's CSV, turning every way it can fail into a one-line DataError."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"The data file {str(p)!r} does not exist (or is not a file).")
    try:
        data = pd.read_csv(p)
    except pd.errors.EmptyDataError:
        raise DataError(f"The data file {str(p)!r} is empty.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"The data file {str(p)!r} is not a readable CSV: {first}") from None
    if len(data) == 0:
        raise DataError(f"The data file {str(p)!r} has a header but no rows.")
    return data


def _excel_engine_available() -> bool:
    """Whether :mod:`openpyxl` (the optional ``excel`` extra) is installed."""
    return importlib.util.find_spec("openpyxl") is not None


def read_data(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV or an Excel workbook (``.xlsx``/``.xlsm``, first sheet or ``sheet``).

    Excel files are read with :func:`pandas.read_excel`, which needs the optional
    package ``openpyxl`` (``pip install "rehabstats[excel]"``). Every failure is a
    one-line :class:`~rehabstats.errors.DataError`.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".xls":
        raise DataError(
            f"The data file {str(p)!r} is an old-style .xls workbook; save it as .xlsx or CSV."
        )
    if suffix not in EXCEL_SUFFIXES:
        if sheet is not None:
            raise DataError(f"--sheet is for Excel files; {str(p)!r} is read as a CSV.")
        return read_csv(p)
    if not p.is_file():
        raise DataError(f"The data file {str(p)!r} does not exist (or is not a file).")
    if not _excel_engine_available():
        raise DataError(
            "Reading Excel files needs the optional package openpyxl: "
            'pip install "rehabstats[excel]" (or pip install openpyxl), or save '
            "the sheet as CSV."
        )
    try:
        data = pd.read_excel(p, sheet_name=0 if sheet is None else sheet)
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"The data file {str(p)!r} is not a readable Excel workbook"
            + (f" (sheet {sheet!r})" if sheet is not None else "")
            + f": {first}"
        ) from None
    if len(data) == 0:
        raise DataError(
            f"The data file {str(p)!r} has a header but no rows"
            + (f" in sheet {sheet!r}." if sheet is not None else ".")
        )
    return data


def resolve_improvement(improvement: str | None, measure: str | None) -> str:
    """``--improvement`` (increase/decrease, or higher/lower) and ``--measure``'s direction.

    Without ``improvement`` the measure registry's direction is used (TUG, WMFT time:
    lower is better), else ``"increase"``; a contradiction is an error.
    """
    given = None
    if improvement is not None:
        key = str(improvement).strip().lower()
        if key not in _IMPROVEMENT_WORDS:
            raise DataError(
                f"'improvement' must be one of 'increase' ('higher'), 'decrease' "
                f"('lower'); got {show(improvement)}."
            )
        given = _IMPROVEMENT_WORDS[key]
    if measure is None:
        return given or "increase"
    implied = measures_registry.improvement(measure)
    if given is not None and given != implied:
        raise DataError(
            f"--improvement {improvement} contradicts --measure {measure}, for which "
            f"improvement is a {implied} ({measures_registry.get(measure).label})."
        )
    return implied


class _Notes:
    """Collects the library's RehabStatsWarnings (labels merged, values set to missing,
    rows dropped) so the report can print them instead of failing or hiding them.
    """

    def __init__(self) -> None:
        self.items: list[str] = []

    @contextlib.contextmanager
    def collect(self, keep: bool = True) -> Iterator[list[str]]:
        """Record the warnings raised inside; ``keep`` adds them to :attr:`items`."""
        got: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RehabStatsWarning)
            yield got
        for w in caught:
            if issubclass(w.category, RehabStatsWarning):
                got.append(str(w.message))
            else:  # pragma: no cover - not ours: pass it on
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if keep:
            self.items.extend(got)

    def add(self, got: list[str], lines: Sequence[str]) -> None:
        """Add ``lines`` to a section's list ``got`` and to :attr:`items`."""
        got.extend(lines)
        self.items.extend(lines)


@contextlib.contextmanager
def _cli_words() -> Iterator[None]:
    """The library's messages name its arguments; on the command line, name the options."""
    try:
        yield
    except DataError as exc:
        text = (
            str(exc)
            .replace("(action='missing')", "(--invalid missing)")
            .replace("normalize=True (normalize_labels=True)", "--normalize-labels")
        )
        raise DataError(text) from None


def _notes_html(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    return "<ul class='notes'>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"


def _save(fig: Figure, out: Path, name: str) -> str:
    fig.savefig(out / name, dpi=150)
    return name


def _img(name: str, alt: str) -> str:
    return f"<p><img src='{html.escape(name)}' alt='{html.escape(alt)}'></p>"


def _write_table(frame: pd.DataFrame, out: Path, name: str, caption: str) -> tuple[str, str]:
    frame.to_csv(out / name, index=False)
    return name, frame_to_html(frame, caption=f"{caption} ({name})")


# ----------------------------------------------------------------------------- RCT
def _to_long(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    visit: str,
    subject: str,
    visits: Sequence[Any] | None,
    visit_order: Sequence[Any] | None,
    normalize_labels: bool,
) -> tuple[pd.DataFrame, list[Any], str]:
    """``--wide``: one row per participant, columns ``{outcome}_{visit}`` (rs.data.to_long)."""
    from .data import to_long

    if not visits:
        raise DataError(
            "--wide needs --visits V1,V2,... : the visit labels in time order, "
            f"which name the columns {outcome}_V1, {outcome}_V2, ..."
        )
    if visit_order is not None and [str(v) for v in visit_order] != [str(v) for v in visits]:
        raise DataError(
            f"--visit-order {','.join(map(str, visit_order))} differs from --visits "
            f"{','.join(map(str, visits))}; with --wide, --visits is the visit order."
        )
    if visit in data.columns and visit not in (outcome, arm, subject):
        raise DataError(
            f"The wide data already have a column {visit!r}; choose another name "
            "for the visit column of the long data with --visit."
        )
    columns = [f"{outcome}_{v}" for v in visits]
    long = to_long(
        data,
        id=subject,
        measures={outcome: columns},
        visits=list(visits),
        arm=arm,
        normalize_labels=normalize_labels,
        visit=visit,
    )
    note = (
        f"Wide file reshaped to long data (rehabstats.data.to_long): {len(data)} "
        f"participants x {len(visits)} visits from columns {', '.join(columns)}."
    )
    return long, list(visits), note


def _rct_sections(
    data: pd.DataFrame,
    out: Path,
    *,
    outcome: str,
    arm: str,
    visit: str,
    subject: str,
    baseline_visit: Any,
    reference: Any,
    ci: float,
    visit_order: Sequence[Any] | None = None,
    wide: bool = False,
    visits: Sequence[Any] | None = None,
    normalize_labels: bool = False,
    measure: str | None = None,
    invalid: str = "refuse",
    improvement: str = "increase",
    mcid: float | None = None,
    mcid_population: str | None = None,
    covariance: str = "us",
    df_method: str = "satterthwaite",
    notes: _Notes | None = None,
) -> list[DemoSection]:
    from .data import check_outcome, clean_labels

    notes = _Notes() if notes is None else notes
    if len({outcome, arm, visit, subject}) < 4:
        raise DataError(
            "The --outcome, --arm, --visit and --subject options must name four "
            f"different columns; got {outcome!r}, {arm!r}, {visit!r}, {subject!r}."
        )
    check_option(invalid, "invalid", INVALID_ACTIONS)
    with _cli_words(), notes.collect():
        if wide:
            check_columns(data, {"arm": arm, "subject": subject})
            data, visit_order, note = _to_long(
                data,
                outcome=outcome,
                arm=arm,
                visit=visit,
                subject=subject,
                visits=visits,
                visit_order=visit_order,
                normalize_labels=normalize_labels,
            )
            notes.items.append(note)
        else:
            if visits is not None:
                raise DataError(
                    "--visits names the visit columns of a wide file (with --wide); "
                    "for long data give the time order with --visit-order."
                )
            check_columns(
                data, {"outcome": outcome, "arm": arm, "visit": visit, "subject": subject}
            )
            if normalize_labels:
                data = data.copy()
                data[arm] = clean_labels(data[arm], name=arm, normalize=True)
        check_columns(data, {"outcome": outcome, "arm": arm, "visit": visit, "subject": subject})
        # missing-data codes (-99, ...) and the measure's range: never analysed
        data = check_outcome(
            data,
            outcome=outcome,
            subject=subject,
            measure=measure,
            action="raise" if invalid == "refuse" else "missing",
        )
    raw = model_frame(data, [subject, arm, visit, outcome])
    raw[outcome] = check_numeric_column(raw, outcome, "outcome")
    check_finite(raw, [outcome], {outcome: "outcome"})
    for col, argname in ((arm, "arm"), (visit, "visit"), (subject, "subject")):
        if raw[col].isna().any():
            n_na = int(raw[col].isna().sum())
            raise DataError(
                f"Column {col!r} ('{argname}') has {n_na} missing value(s); every "
                "row needs an arm, a visit and a subject."
            )
    try:
        check_labels(raw[arm], arm)
    except DataError as exc:
        raise DataError(f"{exc} Or merge them with --normalize-labels.") from None
    # one visit rule (visit_order, Categorical, numbers, numbered labels, row sequences)
    visit_levels = resolve_visit_order(raw, visit, subject, visit_order)
    arm_lv = arm_levels(raw[arm])
    if len(arm_lv) < 2:
        raise DataError(
            f"Column {arm!r} ('arm') must hold at least two arms; found {show_list(arm_lv)}."
        )
    if len(visit_levels) < 2:
        raise DataError(
            f"Column {visit!r} ('visit') must hold at least two visits (a baseline "
            f"and a later one); found {show_list(visit_levels)}."
        )
    ref_level = default_reference(arm_lv, reference, name=arm, stacklevel=4)
    # levels are handled as text from here on ("--reference 1" matches an integer-coded arm)
    ref = str(ref_level)
    arms = [ref, *[str(a) for a in arm_lv if a != ref_level]]
    visits = [str(v) for v in visit_levels]
    base = visits[0] if baseline_visit is None else str(baseline_visit)
    if base not in visits:
        raise DataError(
            f"The 'baseline_visit' {show(baseline_visit)} is not in column "
            f"{visit!r}; visits present: {show_list(visits)}."
        )
    frame = pd.DataFrame(
        {
            "subject": raw[subject].astype(str),
            "arm": raw[arm].astype(str),
            "visit": raw[visit].astype(str),
            "outcome": raw[outcome],
        }
    )
    dup = frame.duplicated(["subject", "visit"])
    if dup.any():
        row = frame.loc[dup].iloc[0]
        raise DataError(
            f"Subject {row['subject']!r} (column {subject!r}) has more than one row "
            f"at visit {row['visit']!r} (column {visit!r}); the data must have one "
            "row per subject and visit."
        )
    order = list(visits)  # time order: the plot and the model
    visits = [base, *[v for v in visits if v != base]]  # tables: the baseline visit first
    names = {"subject": subject, "arm": arm, "visit": visit, "outcome": outcome}
    better = "higher" if improvement == "increase" else "lower"
    sections: list[DemoSection] = [
        _data_section(frame, out, names, arms, order, base, measure, better, notes)
    ]

    # 1. descriptives per arm x visit (observed cases; missing outcomes counted)
    grouped = frame.groupby(["arm", "visit"], sort=False)["outcome"]
    desc = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    desc["n_missing"] = grouped.size().to_numpy() - desc["n"].to_numpy()
    desc["arm"] = pd.Categorical(desc["arm"], categories=arms)
    desc["visit"] = pd.Categorical(desc["visit"], categories=visits)
    desc = desc.sort_values(["visit", "arm"]).reset_index(drop=True)
    desc["arm"] = desc["arm"].astype(str)
    desc["visit"] = desc["visit"].astype(str)
    desc = desc[["visit", "arm", "n", "n_missing", "mean", "sd"]]
    f_desc, h_desc = _write_table(
        desc,
        out,
        "descriptives.csv",
        f"{outcome}: n, mean and SD by visit and arm (observed cases)",
    )
    # trajectories of the observed outcomes (the missing ones are counted in the table);
    # the user's column names label the axes
    observed = frame.dropna(subset=["outcome"])
    plot_data = pd.DataFrame(
        {
            subject: observed["subject"],
            outcome: observed["outcome"],
            arm: observed["arm"],
            visit: observed["visit"],
        }
    )
    with warnings.catch_warnings():  # cells with n < 2: the descriptives table shows n, sd
        warnings.filterwarnings(
            "ignore", message=r"\d+ cell\(s\) of .* fewer than two", category=RehabStatsWarning
        )
        f_means = _save(
            trajectories(
                plot_data,
                outcome=outcome,
                arm=arm,
                visit=visit,
                subject=subject,
                ci=ci,
                visit_order=order,
                reference=ref,
            ),
            out,
            "trajectories.png",
        )
    sections.append(
        DemoSection(
            title="Descriptive statistics",
            html=h_desc + _img(f_means, "mean trajectories by arm"),
            files=(f_desc, f_means),
        )
    )

    # 2. Hedges' g of each arm against the reference at every post-baseline visit
    rows = []
    for v in visits[1:]:
        at = frame[frame["visit"] == v]
        ctl = at.loc[at["arm"] == ref, "outcome"]
        for a in arms[1:]:
            trt = at.loc[at["arm"] == a, "outcome"]
            n_missing = int(trt.isna().sum() + ctl.isna().sum())
            # missing outcomes are dropped here and reported in n_omitted
            try:
                row = hedges_g(trt.dropna(), ctl.dropna(), ci=ci).to_frame().iloc[0].to_dict()
                note = ""
            except RehabStatsError as exc:  # e.g. one observation in an arm: row kept, as NA
                row = (
                    EffectSizeResult(
                        measure="hedges_g",
                        estimate=math.nan,
                        ci_level=ci,
                        n_x=int(trt.notna().sum()),
                        n_y=int(ctl.notna().sum()),
                    )
                    .to_frame()
                    .iloc[0]
                    .to_dict()
                )
                note = str(exc)
            row["n_omitted"] = n_missing
            rows.append({"visit": v, "contrast": f"{a} - {ref}", **row, "note": note})
    g_table = pd.DataFrame(rows)
    f_g, h_g = _write_table(
        g_table,
        out,
        "effect_sizes.csv",
        "Hedges' g (treatment minus reference arm, observed cases, "
        f"noncentral-t CI) at each post-baseline visit; reference arm: "
        f"{ref}; {better} {outcome} is better",
    )
    g_fig = forest(g_table, title=f"Hedges' g, {outcome}", xlabel="Hedges' g")
    f_gfig = _save(g_fig, out, "forest_hedges_g.png")
    sections.append(
        DemoSection(
            title="Between-arm effect sizes", html=h_g + _img(f_gfig, "g"), files=(f_g, f_gfig)
        )
    )

    # 3. MMRM on every observed visit (covariance and df method as asked)
    try:
        with notes.collect() as got:
            sec = _mmrm_section(
                frame, out, arms, order, names, ci, covariance=covariance, df_method=df_method
            )
        sections.append(
            DemoSection(title=sec.title, html=sec.html + _notes_html(got), files=sec.files)
        )
    except RehabStatsError as exc:
        # the descriptive and effect-size results stand on their own: say why, go on
        sections.append(
            DemoSection(
                title="Mixed model for repeated measures",
                html=f"<p>The MMRM could not be fitted: {html.escape(str(exc))}</p>",
            )
        )

    # 4. ANCOVA at each follow-up visit, baseline as covariate
    sections.append(_ancova_section(frame, out, arms, visits, base, names, ci, notes))

    # 5. MCID responders (with --measure or --mcid)
    if measure is not None or mcid is not None:
        sections.append(
            _responder_section(
                frame,
                out,
                arms,
                visits,
                base,
                names,
                ci,
                notes,
                measure=measure,
                mcid=mcid,
                population=mcid_population,
                improvement=improvement,
            )
        )
    return sections


def _user_frame(frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The standardised frame with the user's column names (so messages name them)."""
    return frame.rename(columns=names)


def _data_section(
    frame: pd.DataFrame,
    out: Path,
    names: dict[str, str],
    arms: list[str],
    order: list[str],
    base: str,
    measure: str | None,
    better: str,
    notes: _Notes,
) -> DemoSection:
    """What was analysed: the long data as used, the arms, visits and the data checks."""
    data = _user_frame(frame, names)
    data.to_csv(out / "analysed_data.csv", index=False)
    facts = [
        f"reference arm: {arms[0]} (other arm(s): {', '.join(arms[1:])})",
        f"visit order: {' < '.join(order)} (baseline visit: {base})",
        f"{frame['subject'].nunique()} participants, {len(frame)} rows, "
        f"{int(frame['outcome'].isna().sum())} missing outcome value(s)",
        f"direction of improvement: {better} {names['outcome']} is better",
    ]
    if measure is not None:
        m = measures_registry.get(measure)
        low = "-inf" if m.lower is None else f"{m.lower:g}"
        high = "inf" if m.upper is None else f"{m.upper:g}"
        facts.append(
            f"measure: {m.label} ({m.name}), range {low} to {high} {m.unit}; "
            "values outside it and missing-data codes are never analysed"
        )
    body = (
        "<p>"
        + "<br>".join(html.escape(f) for f in facts)
        + "</p>"
        + (
            "<p>Data checks:</p>" + _notes_html(notes.items)
            if notes.items
            else "<p>Data checks: no label variants, missing-data codes or out-of-range "
            "values found.</p>"
        )
        + "<p>The data as analysed (long format): "
        + "<a href='analysed_data.csv'>analysed_data.csv</a></p>"
    )
    return DemoSection(title="Data", html=body, files=("analysed_data.csv",))


def _mmrm_section(
    frame: pd.DataFrame,
    out: Path,
    arms: list[str],
    visits: list[str],
    names: dict[str, str],
    ci: float,
    *,
    covariance: str = "us",
    df_method: str = "satterthwaite",
) -> DemoSection:
    from .models import mmrm  # imported here: fitting code is not needed for the sced report

    outcome = names["outcome"]
    # the model sees the user's column names, so its messages name them too
    cols = {
        k: (v if v.isidentifier() and not keyword.iskeyword(v) else k) for k, v in names.items()
    }
    model_data = frame.dropna(subset=["outcome"]).rename(columns=cols)
    model_data[cols["arm"]] = pd.Categorical(model_data[cols["arm"]], categories=arms)
    fit = mmrm(
        f"{cols['outcome']} ~ {cols['arm']} * {cols['visit']}",
        model_data,
        subject=cols["subject"],
        visit=cols["visit"],
        covariance=covariance,
        df_method=df_method,
        visit_order=visits,
        arm=cols["arm"],
        reference=arms[0],
    )
    con = fit.contrasts(cols["arm"], by=cols["visit"], method="trt.vs.ctrl", ci=ci)
    adjustment = (
        f"multiplicity adjustment: {con.attrs['adjust']} for "
        f"{con.attrs['family_size']} contrast(s) per visit"
    )
    con = con.rename(columns={cols["visit"]: "visit"})
    con["visit"] = con["visit"].astype(str)
    df_label = {
        "satterthwaite": "Satterthwaite",
        "kenward-roger": "Kenward-Roger",
        "kenward-roger-linear": "Kenward-Roger (linear)",
    }.get(df_method, df_method)
    f_con, h_con = _write_table(
        con,
        out,
        "mmrm_contrasts.csv",
        f"MMRM ({outcome} ~ {names['arm']} * {names['visit']}, {covariance} covariance, REML, "
        f"{df_label} df): arm differences at each visit; reference arm: {arms[0]}; "
        f"visit order: {' < '.join(map(str, fit.visit_levels))}; {adjustment}",
    )
    fig = forest(
        con, ci_level=ci, title=f"MMRM arm difference, {outcome}", xlabel=f"Difference in {outcome}"
    )
    f_fig = _save(fig, out, "forest_mmrm.png")
    note = (
        "<p>All observed visits are analysed (missing at random, no imputation); "
        "the first visit's difference checks baseline balance.</p>"
    )
    return DemoSection(
        title="Mixed model for repeated measures",
        html=note + h_con + _img(f_fig, "MMRM contrasts"),
        files=(f_con, f_fig),
    )


def _baseline_name(names: dict[str, str]) -> str:
    taken = set(names.values())
    name = "baseline"
    while name in taken:
        name = f"{name}_"
    return name


def _ancova_section(
    frame: pd.DataFrame,
    out: Path,
    arms: list[str],
    visits: list[str],
    base: str,
    names: dict[str, str],
    ci: float,
    notes: _Notes,
) -> DemoSection:
    """ANCOVA (rs.ancova) of every post-baseline visit with the baseline as covariate."""
    from .data import baseline_as_covariate
    from .models import ancova

    title = "ANCOVA at each follow-up visit"
    outcome, arm, visit = names["outcome"], names["arm"], names["visit"]
    bname = _baseline_name(names)
    rows: list[dict[str, Any]] = []
    with notes.collect() as got:
        try:
            post = baseline_as_covariate(
                _user_frame(frame, names),
                outcome=outcome,
                visit=visit,
                subject=names["subject"],
                baseline_visit=base,
                name=bname,
            )
        except RehabStatsError as exc:
            return DemoSection(
                title=title,
                html=f"<p>The ANCOVA could not be computed: {html.escape(str(exc))}</p>",
            )
    for v in visits[1:]:
        at = post[post[visit] == v]
        with notes.collect(keep=False) as at_v:
            try:
                fit = ancova(at, outcome=outcome, arm=arm, baseline=bname, reference=arms[0])
                con = fit.contrasts(arm, method="trt.vs.ctrl", ci=ci)
                for _, c in con.iterrows():
                    rows.append(
                        {
                            "visit": v,
                            "contrast": c["contrast"],
                            **{
                                k: c[k]
                                for k in ("estimate", "se", "df", "t", "p", "ci_low", "ci_high")
                                if k in c
                            },
                            "n": len(fit.frame),
                            "n_omitted": int(fit.n_omitted),
                            "adjust": con.attrs.get("adjust", ""),
                            "note": "",
                        }
                    )
            except RehabStatsError as exc:
                rows.extend(
                    {
                        "visit": v,
                        "contrast": f"{a} - {arms[0]}",
                        "estimate": math.nan,
                        "note": str(exc),
                    }
                    for a in arms[1:]
                )
        notes.add(got, [f"ANCOVA at {v}: {n}" for n in at_v])
    table = pd.DataFrame(rows)
    f_t, h_t = _write_table(
        table,
        out,
        "ancova.csv",
        f"ANCOVA ({outcome} at the visit ~ {arm} + {outcome} at {base}, OLS, residual df) at "
        f"each follow-up visit: adjusted difference from the reference arm {arms[0]}; "
        "complete cases at that visit",
    )
    files: tuple[str, ...] = (f_t,)
    html_out = h_t
    if table["estimate"].notna().any():
        fig = forest(
            table,
            ci_level=ci,
            title=f"ANCOVA adjusted difference, {outcome}",
            xlabel=f"Difference in {outcome}",
        )
        f_fig = _save(fig, out, "forest_ancova.png")
        files += (f_fig,)
        html_out += _img(f_fig, "ANCOVA differences")
    note = (
        "<p>The ICH E9 analysis of one visit: the outcome at that visit adjusted for the "
        "baseline value (Vickers &amp; Altman 2001), alongside the MMRM over all "
        "visits.</p>"
    )
    return DemoSection(title=title, html=note + html_out + _notes_html(got), files=files)


def _mcid_value(
    measure: str | None, mcid: float | None, population: str | None
) -> tuple[float | None, str]:
    """The MCID used (``--mcid``, else the measure registry's one record) and its source."""
    if mcid is not None:
        return float(mcid), f"MCID {format_number(float(mcid))} (--mcid)"
    assert measure is not None
    m = measures_registry.get(measure)
    recs = measures_registry.thresholds(measure, statistic="mcid", population=population)
    where = f" for population {population!r}" if population is not None else ""
    if len(recs) == 0:
        known = sorted({t.population for t in m.thresholds if t.statistic == "mcid"})
        return None, (
            f"The measure registry has no MCID of {m.label}{where}"
            + (f" (populations with one: {', '.join(known)})" if known else "")
            + "; give one with --mcid."
        )
    values = recs["value"].astype(float).unique()
    if len(values) > 1:
        listed = "; ".join(
            f"{r.population}: {format_number(r.value)} ({r.method})" for r in recs.itertuples()
        )
        return None, (
            f"The measure registry has several MCIDs of {m.label}{where} ({listed}); "
            "choose with --mcid VALUE or --mcid-population."
        )
    r = recs.iloc[0]
    flag = " (value not verified in the source)" if bool(r["unverified"]) else ""
    return float(values[0]), (
        f"MCID {format_number(float(values[0]))} {r['unit']} of "
        f"{m.label}, {r['population']}, {r['method']}: {r['source']}"
        f"{flag}"
    )


def _responder_section(
    frame: pd.DataFrame,
    out: Path,
    arms: list[str],
    visits: list[str],
    base: str,
    names: dict[str, str],
    ci: float,
    notes: _Notes,
    *,
    measure: str | None,
    mcid: float | None,
    population: str | None,
    improvement: str,
) -> DemoSection:
    """Responders per arm and follow-up visit: change from baseline reaching the MCID."""
    from .change import responders
    from .data import change_scores

    title = "MCID responders"
    value, source = _mcid_value(measure, mcid, population)
    if value is None:
        return DemoSection(title=title, html=f"<p>No responder analysis: {html.escape(source)}</p>")
    outcome, arm, visit = names["outcome"], names["arm"], names["visit"]
    rows: list[dict[str, Any]] = []
    with notes.collect() as got:
        ch = change_scores(
            _user_frame(frame, names),
            outcome=outcome,
            visit=visit,
            subject=names["subject"],
            baseline_visit=base,
            name="change" if "change" not in names.values() else "change_",
        )
        change_col = ch.columns[-1]
        for v in visits[1:]:
            for a in arms:
                sel = ch.loc[(ch[visit] == v) & (ch[arm] == a), change_col]
                with notes.collect(keep=False) as cell:
                    try:
                        r = responders(sel, mcid=value, ci=ci, improvement=improvement)  # type: ignore[arg-type]
                        rows.append(
                            {
                                "visit": v,
                                "arm": a,
                                "n_responders": r.n_responders,
                                "n": r.n,
                                "proportion": r.proportion,
                                "ci_low": r.ci_low,
                                "ci_high": r.ci_high,
                                "n_omitted": r.n_omitted,
                                "note": "",
                            }
                        )
                    except RehabStatsError as exc:
                        rows.append(
                            {
                                "visit": v,
                                "arm": a,
                                "n_responders": 0,
                                "n": 0,
                                "proportion": math.nan,
                                "note": str(exc),
                            }
                        )
                got.extend(f"responders at {v}, arm {a}: {n}" for n in cell)  # kept by got
    table = pd.DataFrame(rows)
    sign = ">= " if improvement == "increase" else "<= -"
    f_t, h_t = _write_table(
        table,
        out,
        "responders.csv",
        f"Responders: change in {outcome} from {base} {sign}{format_number(value)}, per arm "
        f"and visit (Wilson {format_level(ci)} CI); reference arm: {arms[0]}",
    )
    text = f"<p>{html.escape(source)}.</p>"
    return DemoSection(title=title, html=text + h_t + _notes_html(got), files=(f_t,))


# ----------------------------------------------------------------------------- SCED
def _sced_sections(
    data: pd.DataFrame,
    out: Path,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str | None,
    improvement: str,
    baseline_phase: str,
    treatment_phase: str,
    ci: float,
    measure: str | None = None,
    invalid: str = "refuse",
    normalize_labels: bool = False,
    seed: int = 1,
    notes: _Notes | None = None,
) -> list[DemoSection]:
    from .data import check_outcome, clean_labels
    from .sced import describe, effect_sizes

    notes = _Notes() if notes is None else notes
    improvement = check_improvement(improvement)
    check_option(invalid, "invalid", INVALID_ACTIONS)
    check_columns(data, {"outcome": outcome, "phase": phase, "session": session, "case": case})
    with _cli_words(), notes.collect():
        if normalize_labels:
            data = data.copy()
            for col in (phase, case):
                if col is not None:
                    data[col] = clean_labels(data[col], name=col, normalize=True)
        data = check_outcome(
            data,
            outcome=outcome,
            subject=case,
            measure=measure,
            action="raise" if invalid == "refuse" else "missing",
        )
    check_numeric_column(data, outcome, "outcome")
    for col in (phase, case):
        if col is not None:
            try:
                check_labels(data[col], col)
            except DataError as exc:
                raise DataError(f"{exc} Or merge them with --normalize-labels.") from None
    sections: list[DemoSection] = []
    kw: dict[str, Any] = {"outcome": outcome, "phase": phase, "session": session, "case": case}
    if notes.items:
        sections.append(DemoSection(title="Data checks", html=_notes_html(notes.items)))

    fig = sced_plot(
        data,
        overlays=("mean", "trend", "band", "celeration"),
        improvement=improvement,
        baseline_phase=baseline_phase,
        **kw,
    )
    f_plot = _save(fig, out, "sced_plot.png")
    sections.append(
        DemoSection(
            title="Single-case graph",
            html="<p>Phase means (horizontal lines), OLS trends within each phase, the baseline's "
            "two-standard-deviation band and the celeration line (named in the legend).</p>"
            + _img(f_plot, "single-case graph"),
            files=(f_plot,),
        )
    )

    phases = describe(data, improvement=improvement, **kw).phases
    f_d, h_d = _write_table(
        phases,
        out,
        "sced_describe.csv",
        "Per case and phase: n, mean, median, SD, MAD, range, trend",
    )
    sections.append(DemoSection(title="Descriptive statistics", html=h_d, files=(f_d,)))

    es = effect_sizes(
        data,
        indices=SCED_INDICES,
        improvement=improvement,
        baseline_phase=baseline_phase,
        treatment_phase=treatment_phase,
        ci=ci,
        tau_u_ci="s",
        **kw,
    )
    f_es, h_es = _write_table(
        es,
        out,
        "sced_effect_sizes.csv",
        f"Effect sizes of phase {treatment_phase} against {baseline_phase} (improvement = "
        f"{improvement}): NAP with Newcombe CI; Tau-U: Parker 2011 A vs B minus baseline "
        "trend, CI on the scale of Kendall's S; Tau-BC; SMD (baseline SD)",
    )
    # one panel per index: each has its own scale and no-effect value
    sizes = [int((es["index"] == index).sum()) for index in SCED_INDICES]
    fig = Figure(figsize=(7.0, sum(0.32 * n + 0.9 for n in sizes)), layout="constrained")
    axes = fig.subplots(
        len(SCED_INDICES), 1, squeeze=False, gridspec_kw={"height_ratios": [n + 2.5 for n in sizes]}
    )[:, 0]
    for ax, index in zip(axes, SCED_INDICES, strict=True):
        # rows labelled by the columns that vary: case, and pair for A-B-A-B designs
        forest(
            es[es["index"] == index],
            ax=ax,
            null_value=_SCED_NULL[index],
            title=_SCED_TITLES[index],
            xlabel=index,
            ci_level=ci,
        )
    f_fig = _save(fig, out, "forest_sced.png")
    sections.append(
        DemoSection(
            title="Single-case effect sizes",
            html=h_es + _img(f_fig, "effect sizes by case"),
            files=(f_es, f_fig),
        )
    )
    sections.append(
        _sced_classic_section(
            data,
            out,
            kw,
            improvement=improvement,
            baseline_phase=baseline_phase,
            treatment_phase=treatment_phase,
        )
    )
    sections.append(
        _sced_randomization_section(
            data,
            out,
            kw,
            improvement=improvement,
            baseline_phase=baseline_phase,
            treatment_phase=treatment_phase,
            seed=seed,
        )
    )
    return sections


def _sced_classic_section(
    data: pd.DataFrame,
    out: Path,
    kw: dict[str, Any],
    *,
    improvement: str,
    baseline_phase: str,
    treatment_phase: str,
) -> DemoSection:
    """Two-SD band and celeration line (with its binomial test) per case and phase pair."""
    from .sced import celeration_line, two_sd_band
    from .sced._data import phase_pairs, prepare_sced

    frame = prepare_sced(data, **kw)
    rows: list[dict[str, Any]] = []
    for pair in phase_pairs(frame, baseline_phase=baseline_phase, treatment_phase=treatment_phase):
        row: dict[str, Any] = {"case": pair.case, "pair": pair.pair}
        notes = []
        try:
            band = two_sd_band(pair.baseline, pair.treatment, improvement=improvement)  # type: ignore[arg-type]
            row.update(
                {
                    "band_mean": band.mean,
                    "band_sd": band.sd,
                    "band_lower": band.lower,
                    "band_upper": band.upper,
                    "n_outside": band.n_outside,
                    "max_consecutive_outside": band.max_consecutive_outside,
                    "band_effect": band.significant,
                }
            )
        except RehabStatsError as exc:
            notes.append(f"two-SD band: {exc}")
        try:
            cel = celeration_line(
                pair.baseline,
                pair.treatment,
                improvement=improvement,  # type: ignore[arg-type]
                baseline_sessions=pair.baseline_sessions,
                treatment_sessions=pair.treatment_sessions,
            )
            row.update(
                {
                    "celeration_intercept": cel.intercept,
                    "celeration_slope": cel.slope,
                    "n_improved": cel.n_improved,
                    "n_treatment": cel.n,
                    "p0": cel.p0,
                    "binomial_p": cel.p_value,
                }
            )
        except RehabStatsError as exc:
            notes.append(f"celeration line: {exc}")
        row["note"] = "; ".join(notes)
        rows.append(row)
    table = pd.DataFrame(rows)
    if frame["case"].nunique() == 1 and kw.get("case") is None:
        table = table.drop(columns="case")
    if (table["pair"] == 1).all():
        table = table.drop(columns="pair")
    side = "above" if improvement == "increase" else "below"
    f_t, h_t = _write_table(
        table,
        out,
        "sced_classic.csv",
        f"Classic visual-analysis aids, {treatment_phase} against {baseline_phase}: two-SD band "
        f"(baseline mean ± 2 SD; effect when at least 2 consecutive treatment points lie "
        f"{side} it) and the split-middle celeration line of the baseline extended into the "
        f"treatment phase (binomial test of the treatment points {side} it against the "
        "baseline's share p0)",
    )
    return DemoSection(title="Two-SD band and celeration line", html=h_t, files=(f_t,))


def _sced_randomization_section(
    data: pd.DataFrame,
    out: Path,
    kw: dict[str, Any],
    *,
    improvement: str,
    baseline_phase: str,
    treatment_phase: str,
    seed: int,
) -> DemoSection:
    """Randomization test per case (and of the multiple-baseline design), with min p."""
    from .sced import randomization_test

    case = kw.get("case")
    subsets: list[tuple[str, pd.DataFrame]] = []
    if case is not None:
        labels = pd.unique(data[case].dropna())
        subsets = [(str(c), data[data[case] == c]) for c in labels]
        if len(labels) > 1:
            subsets.append(("all cases (multiple baseline)", data))
    else:
        subsets = [("1", data)]
    rows: list[dict[str, Any]] = []
    for label, sub in subsets:
        try:
            r = randomization_test(
                sub,
                improvement=improvement,  # type: ignore[arg-type]
                baseline_phase=baseline_phase,
                treatment_phase=treatment_phase,
                rng=seed,
                **kw,
            )
            rows.append(
                {
                    "case": label,
                    "design": r.design,
                    "statistic": r.statistic_name,
                    "observed": r.statistic,
                    "p": r.p_value,
                    "n_assignments": r.n_possible,
                    "smallest_attainable_p": r.min_p,
                    "method": r.method,
                    "note": "",
                }
            )
        except RehabStatsError as exc:
            rows.append({"case": label, "p": math.nan, "note": str(exc)})
    table = pd.DataFrame(rows)
    f_t, h_t = _write_table(
        table,
        out,
        "sced_randomization.csv",
        f"Randomization test of the {treatment_phase}-phase start (mean difference "
        f"{treatment_phase} - {baseline_phase} in the direction of improvement, phases of at "
        "least 3 sessions; scan's rand_test)",
    )
    note = (
        "<p>Valid only when the start of the treatment phase was chosen at random among "
        "the admissible sessions. The smallest attainable p is 1 / (number of admissible "
        "assignments): when it exceeds 0.05 the design cannot reach significance "
        "whatever the data.</p>"
    )
    return DemoSection(title="Randomization test", html=note + h_t, files=(f_t,))


# ----------------------------------------------------------------------------- entry points
def run_report(
    path: str | Path,
    *,
    design: str,
    out_dir: str | Path,
    outcome: str | None = None,
    arm: str | None = None,
    visit: str | None = None,
    subject: str | None = None,
    baseline_visit: str | None = None,
    reference: str | None = None,
    phase: str | None = None,
    session: str | None = None,
    case: str | None = None,
    improvement: str | None = None,
    baseline_phase: str = "A",
    treatment_phase: str = "B",
    ci: float = 0.95,
    log: Callable[[str], None] = print,
    visit_order: Sequence[Any] | None = None,
    wide: bool = False,
    visits: Sequence[Any] | None = None,
    measure: str | None = None,
    normalize_labels: bool = False,
    invalid: str = "refuse",
    mcid: float | None = None,
    mcid_population: str | None = None,
    covariance: str = "us",
    df_method: str = "satterthwaite",
    sheet: str | None = None,
    seed: int = 1,
) -> Path:
    """Analyse a user's CSV or Excel file and write tables, figures and ``index.html``.

    The same page is written as Markdown (``report.md``, tables as pipe tables).

    Every number comes from the library's functions; the page lists what was checked
    and changed (labels merged, values set to missing) before the results.

    ``design="rct"`` (long data, one row per subject and visit, needs ``outcome, arm,
    visit, subject``; or ``wide=True``: one row per participant with the columns
    ``{outcome}_{visit}`` for each of ``visits``, reshaped by
    :func:`rehabstats.data.to_long`):

    - the data as analysed, the reference arm and the visit order;
    - n, mean and SD per arm and visit with a trajectory plot;
    - Hedges' g (each arm minus the reference arm, observed cases, noncentral-t CI)
      at every post-baseline visit with a forest plot;
    - an MMRM (:func:`rehabstats.models.mmrm`, ``outcome ~ arm * visit`` on every
      observed visit, ``covariance`` structure, REML, ``df_method`` df) with the arm
      difference at each visit;
    - an ANCOVA (:func:`rehabstats.models.ancova`) at each follow-up visit with the
      baseline value as covariate (:func:`rehabstats.data.baseline_as_covariate`);
    - with ``measure`` or ``mcid``: responders per arm and follow-up visit
      (:func:`rehabstats.change.responders` on
      :func:`rehabstats.data.change_scores`), with the MCID ``mcid`` or the measure
      registry's one MCID record (``mcid_population`` chooses among several).

    A comparison or model that cannot be computed (e.g. one subject in an arm) is
    reported as such in the page instead of stopping the report. The reference arm
    is ``reference``, else a recognised control label (control, usual care, sham,
    placebo, TAU, waitlist, ...), else the first arm in sorted order. Visits follow
    the library's one visit rule (:func:`rehabstats._entry.resolve_visit_order`:
    ``visit_order``, numbers sorted, numbered labels in natural order ``week4 <
    week12``, else the order every subject's rows agree on, else an error asking for
    ``--visit-order``); the baseline visit defaults to the first.

    Data checks (both designs): labels differing only in case or surrounding
    whitespace are an error listing them unless ``normalize_labels=True``
    (:func:`rehabstats.data.clean_labels`, merges reported); missing-data codes
    (−99, −999, 999, "." ...) and, with ``measure``, values outside the measure's
    range are an error listing the participants unless ``invalid="missing"``
    (:func:`rehabstats.data.check_outcome`; the values become missing and are
    listed). They are never analysed as scores.

    ``design="sced"`` (one row per session; needs ``outcome, phase, session``,
    optionally ``case``): the single-case graph (:func:`rehabstats.plot.sced`, with
    phase means, trends, the two-SD band and the celeration line), per-phase
    descriptives, NAP (Newcombe CI), Tau-U (Parker; CI on the scale of S), Tau-BC and
    SMD of every baseline-treatment phase pair (:func:`rehabstats.sced.effect_sizes`)
    with a forest plot, the two-SD band and celeration line with its binomial test
    per case (:func:`rehabstats.sced.two_sd_band`,
    :func:`rehabstats.sced.celeration_line`) and the randomization test per case and
    of the multiple-baseline design with its smallest attainable p
    (:func:`rehabstats.sced.randomization_test`).

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file (:func:`pandas.read_csv`) or Excel workbook ``.xlsx``/``.xlsm``
        (:func:`pandas.read_excel`, needs the optional ``openpyxl``); not modified.
    design : {"rct", "sced"}
        The study design.
    out_dir : str or pathlib.Path
        Output folder (created if needed; files in it are overwritten).
    outcome : str, optional
        The outcome column (with ``wide``: the column stub); default ``measure``.
    arm, visit, subject, phase, session, case : str
        Column names (see above for which design needs which). With ``wide``,
        ``visit`` names the visit column of the long data (default ``"visit"``).
    baseline_visit, reference : str, optional
        RCT: the baseline visit label and the reference (control) arm label.
    visit_order : sequence of str, optional
        RCT: the visit labels in time order (``--visit-order a,b,c``).
    improvement : {"increase", "decrease", "higher", "lower"}, optional
        Direction of therapeutic change; default the measure registry's direction
        of ``measure`` (TUG: decrease), else increase. Contradicting it is an error.
    baseline_phase, treatment_phase : str, optional
        SCED: phase labels compared (default ``"A"`` and ``"B"``).
    ci : float, optional
        Confidence level of every interval.
    log : callable, optional
        Receives one progress line per section (default :func:`print`).
    wide : bool, optional
        RCT: the file has one row per participant (see above).
    visits : sequence of str, optional
        With ``wide``: the visit labels in time order (``--visits pre,post,6m``).
    measure : str, optional
        A measure of :mod:`rehabstats.measures` (``"mal_aou"``, ``"tug"``, ``"bbs"``):
        range checks, direction of improvement, MCID responders.
    normalize_labels : bool, optional
        Merge label variants (arm; phase and case) instead of refusing them.
    invalid : {"refuse", "missing"}, optional
        Missing-data codes and out-of-range values: an error (default), or set to
        missing and listed.
    mcid, mcid_population : optional
        RCT responders: the MCID (a positive magnitude), or the population of the
        registry's record.
    covariance, df_method : str, optional
        RCT: the MMRM covariance structure (``"us"``, ``"cs"``, ``"ar1"``, ...) and df
        method (``"satterthwaite"``, ``"kenward-roger"``, ``"kenward-roger-linear"``).
    sheet : str, optional
        Excel: the sheet to read (default the first).
    seed : int, optional
        SCED: seed of the Monte Carlo randomization test (used only when the
        admissible assignments are too many to enumerate).

    Returns
    -------
    pathlib.Path
        The written ``index.html``.

    Raises
    ------
    DataError
        A missing or unreadable file, a missing column or option, a non-numeric
        outcome, label variants, missing-data codes or out-of-range values (unless
        asked otherwise), unknown arm / visit labels, duplicated subject-visit rows.
    DesignError
        SCED data without a baseline-treatment phase pair.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> from rehabstats._report import run_report
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"t": range(1, 11), "ph": list("AAAABBBBBB"),
    ...               "y": [2, 3, 2, 3, 5, 6, 5, 7, 6, 7]}).to_csv(tmp / "ab.csv", index=False)
    >>> index = run_report(tmp / "ab.csv", design="sced", out_dir=tmp / "out", outcome="y",
    ...                    phase="ph", session="t", log=lambda s: None)
    >>> index.name
    'index.html'
    """
    check_option(design, "design", DESIGNS)
    ci = check_ci(ci)
    check_option(covariance, "covariance", COVARIANCES)
    check_option(df_method, "df_method", DF_METHODS)
    if measure is not None:
        measures_registry.get(measure)  # an unknown name lists the known ones
    if outcome is None:
        outcome = measure
    if wide and visit is None:
        visit = "visit"
    if wide and design != "rct":
        raise DataError("--wide is for --design rct (single-case data have one row per session).")
    if mcid is not None:
        check_positive(mcid, "mcid")
    improvement = resolve_improvement(improvement, measure)
    needed = {
        "rct": {"outcome": outcome, "arm": arm, "visit": visit, "subject": subject},
        "sced": {"outcome": outcome, "phase": phase, "session": session},
    }[design]
    absent = [k for k, v in needed.items() if v is None]
    if absent:
        opts = ", ".join(f"--{k.replace('_', '-')}" for k in absent)
        raise DataError(
            f"design={design!r} needs the column option(s) {opts}"
            + (" (or --measure, which names the outcome)" if "outcome" in absent else "")
            + "."
        )
    assert outcome is not None  # checked above
    data = read_data(path, sheet=sheet)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    notes = _Notes()
    with notes.collect() as late:
        sections = _sections(
            data,
            out,
            design=design,
            outcome=outcome,
            arm=arm,
            visit=visit,
            subject=subject,
            baseline_visit=baseline_visit,
            reference=reference,
            ci=float(ci),
            visit_order=visit_order,
            wide=wide,
            visits=visits,
            normalize_labels=normalize_labels,
            measure=measure,
            invalid=invalid,
            improvement=improvement,
            mcid=mcid,
            mcid_population=mcid_population,
            covariance=covariance,
            df_method=df_method,
            phase=phase,
            session=session,
            case=case,
            baseline_phase=baseline_phase,
            treatment_phase=treatment_phase,
            seed=seed,
            notes=notes,
        )
    if late:  # anything the sections did not show themselves
        sections.append(DemoSection(title="Notes", html=_notes_html(late)))
    for s in sections:
        log(f"{s.title}: wrote {', '.join(s.files) or 'no files'}")
    for n in notes.items:
        log(f"note: {n}")
    body = "\n".join(
        f"<section><h2>{html.escape(s.title)}</h2>\n{s.html}</section>" for s in sections
    )
    label = "randomized controlled trial" if design == "rct" else "single-case design"
    layout = " (wide file reshaped to long)" if wide else ""
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>rehabstats report: {html.escape(Path(path).name)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>rehabstats report: {html.escape(Path(path).name)}</h1>"
        f"<p>Design: {label}; outcome column <code>{html.escape(outcome)}</code>; "
        f"{len(data)} rows{layout}; {format_level(ci)} confidence intervals.</p>"
        f"{body}</body></html>"
    )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    intro = (
        f"Design: {label}; outcome column `{outcome}`; {len(data)} rows{layout}; "
        f"{format_level(ci)} confidence intervals."
    )
    (out / "report.md").write_text(
        f"# rehabstats report: {Path(path).name}\n\n{intro}\n\n"
        + "\n".join(_section_markdown(s, out) for s in sections),
        encoding="utf-8",
    )
    log(f"report: {index}")
    return index


_TABLE = re.compile(r"<p class='caption'>(.*?) \(([^()]+\.csv)\)</p>\s*<table.*?</table>", re.S)


def _frame_to_markdown(frame: pd.DataFrame) -> str:
    """A table as Markdown, numbers rendered as in the HTML page (NaN as NA)."""
    shown = frame.astype(object).map(lambda v: v if isinstance(v, str) else format_number(v))
    return str(shown.to_markdown(index=False, disable_numparse=True))


def _section_markdown(section: DemoSection, out: Path) -> str:
    """One section of ``report.md``: the same text, tables and figures as the HTML."""
    tables: list[str] = []

    def table(m: re.Match[str]) -> str:
        caption, name = html.unescape(m.group(1)), m.group(2)
        frame = pd.read_csv(out / name)
        for col in frame.columns:  # text cells left empty in the HTML stay empty here
            if col == "note" or not pd.api.types.is_numeric_dtype(frame[col]):
                frame[col] = frame[col].astype(object).where(frame[col].notna(), "")
        tables.append(f"**{caption}** ({name})\n\n{_frame_to_markdown(frame)}")
        return f"\n\n\x00{len(tables) - 1}\x00\n\n"

    text = _TABLE.sub(table, section.html)
    text = re.sub(r"<img src='([^']*)' alt='([^']*)'>", r"\n\n![\2](\1)\n\n", text)
    text = re.sub(r"<a href='([^']*)'>([^<]*)</a>", r"[\2](\1)", text)
    text = re.sub(r"<li>", "\n- ", text)
    text = re.sub(r"<br>|</p>|</ul>", "\n", text)
    text = re.sub(r"<code>|</code>", "`", text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    text = re.sub(r"\x00(\d+)\x00", lambda m: tables[int(m.group(1))], text)
    body = re.sub(r"\n{3,}", "\n\n", text).strip()
    return f"## {section.title}\n\n{body}\n"


def _sections(
    data: pd.DataFrame,
    out: Path,
    *,
    design: str,
    outcome: str,
    arm: str | None,
    visit: str | None,
    subject: str | None,
    phase: str | None,
    session: str | None,
    case: str | None,
    baseline_phase: str,
    treatment_phase: str,
    seed: int,
    notes: _Notes,
    **kw: Any,
) -> list[DemoSection]:
    if design == "rct":
        assert arm is not None
        assert visit is not None
        assert subject is not None
        return _rct_sections(
            data, out, outcome=outcome, arm=arm, visit=visit, subject=subject, notes=notes, **kw
        )
    assert phase is not None
    assert session is not None
    return _sced_sections(
        data,
        out,
        outcome=outcome,
        phase=phase,
        session=session,
        case=case,
        improvement=kw["improvement"],
        baseline_phase=baseline_phase,
        treatment_phase=treatment_phase,
        ci=kw["ci"],
        measure=kw["measure"],
        invalid=kw["invalid"],
        normalize_labels=kw["normalize_labels"],
        seed=seed,
        notes=notes,
    )


def format_level(ci: float) -> str:
    """``0.95`` -> ``"95%"``."""
    pct = 100 * float(ci)
    return f"{pct:.0f}%" if math.isclose(pct, round(pct)) else f"{pct:g}%"


def _comma_list(text: str) -> list[str]:
    """``"pre, post,6m"`` -> ``["pre", "post", "6m"]`` (for ``--visit-order``)."""
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"expected comma-separated labels, got {text!r}")
    return items


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``report`` sub-command on an ``argparse`` subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help="analyse your own CSV or Excel file (RCT or single-case design) and "
        "write tables, figures and an HTML report",
        description="Analyse a CSV or Excel file (long: one row per subject x visit, or per "
        "session; or --wide: one row per participant) and write CSV tables, PNG figures and "
        "index.html.",
    )
    p.add_argument("file", help="the CSV or Excel (.xlsx) file")
    p.add_argument("--design", required=True, choices=DESIGNS, help="study design")
    p.add_argument(
        "--out", default="rehabstats-report", help="output folder (default: rehabstats-report)"
    )
    p.add_argument(
        "--outcome",
        help="outcome column (with --wide: the column stub, as in "
        "mal for mal_pre, mal_post; default: --measure)",
    )
    p.add_argument("--ci", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--sheet", help="Excel: the sheet to read (default: the first)")
    checks = p.add_argument_group("data checks")
    checks.add_argument(
        "--measure",
        metavar="NAME",
        help="the outcome's measure in the registry (rehabstats.measures, "
        "e.g. mal_aou, bbs, tug, 6mwt): range checks, direction of "
        "improvement, MCID responders",
    )
    checks.add_argument(
        "--normalize-labels",
        action="store_true",
        help='merge labels that differ only in case or spaces ("CIMT", '
        '"cimt ") into their most frequent spelling, and report it '
        "(default: refuse them)",
    )
    checks.add_argument(
        "--invalid",
        choices=INVALID_ACTIONS,
        default="refuse",
        help="missing-data codes (-99, -999, 999, '.') and values outside "
        "the --measure range: refuse (default, lists them) or set them to "
        "missing (listed in the report)",
    )
    checks.add_argument(
        "--improvement",
        choices=tuple(_IMPROVEMENT_WORDS),
        help="direction of therapeutic change: increase (higher) or "
        "decrease (lower, e.g. TUG times); default: the --measure's "
        "direction, else increase",
    )
    rct = p.add_argument_group("RCT columns and models (--design rct)")
    rct.add_argument("--arm", help="treatment-arm column")
    rct.add_argument(
        "--visit", help="visit column (with --wide: its name in the long data, default visit)"
    )
    rct.add_argument("--subject", help="subject column (with --wide: the participant id)")
    rct.add_argument(
        "--wide",
        action="store_true",
        help="one row per participant with the columns OUTCOME_V for each "
        "visit V of --visits (reshaped with rehabstats.data.to_long)",
    )
    rct.add_argument(
        "--visits",
        type=_comma_list,
        metavar="V1,V2,...",
        help="with --wide: the visit labels in time order, naming the columns "
        "OUTCOME_V1, OUTCOME_V2, ...",
    )
    rct.add_argument("--baseline-visit", help="baseline visit label (default: the first visit)")
    rct.add_argument(
        "--reference",
        help="reference (control) arm label (default: a "
        "recognised control label such as control, usual care, sham, placebo, "
        "TAU or waitlist, else the first arm in sorted order)",
    )
    rct.add_argument(
        "--visit-order",
        type=_comma_list,
        metavar="V1,V2,...",
        help="visit labels in time order, comma-separated (default: numbers "
        "sorted, numbered labels in natural order, else the order every "
        "subject's rows agree on)",
    )
    rct.add_argument(
        "--covariance",
        choices=COVARIANCES,
        default="us",
        help="MMRM covariance structure (default: us, unstructured)",
    )
    rct.add_argument(
        "--df-method",
        choices=DF_METHODS,
        default="satterthwaite",
        help="MMRM degrees of freedom (default: satterthwaite)",
    )
    rct.add_argument(
        "--mcid",
        type=_positive_float,
        help="MCID for the responder table (default: the --measure's MCID in "
        "the registry, when it has one)",
    )
    rct.add_argument(
        "--mcid-population", help="population of the registry's MCID record (when it has several)"
    )
    sced = p.add_argument_group("single-case columns (--design sced)")
    sced.add_argument("--phase", help="phase column")
    sced.add_argument("--session", help="session-number column")
    sced.add_argument("--case", help="case column (optional)")
    sced.add_argument("--baseline-phase", default="A", help="baseline phase label (default A)")
    sced.add_argument("--treatment-phase", default="B", help="treatment phase label (default B)")
    sced.add_argument(
        "--seed",
        type=int,
        default=1,
        help="seed of a Monte Carlo randomization test (used only when the "
        "assignments are too many to enumerate; default 1)",
    )
    return p


def main_report(args: argparse.Namespace) -> int:
    """Run the ``report`` sub-command from parsed arguments; returns the exit status.

    Errors (:class:`~rehabstats.errors.RehabStatsError`) propagate to
    ``rehabstats.cli.main``, which prints them on one line and exits with 2.
    """
    import matplotlib

    matplotlib.use("Agg")
    run_report(
        args.file,
        design=args.design,
        out_dir=args.out,
        outcome=args.outcome,
        arm=args.arm,
        visit=args.visit,
        subject=args.subject,
        baseline_visit=args.baseline_visit,
        reference=args.reference,
        phase=args.phase,
        session=args.session,
        case=args.case,
        improvement=args.improvement,
        baseline_phase=args.baseline_phase,
        treatment_phase=args.treatment_phase,
        ci=args.ci,
        visit_order=args.visit_order,
        wide=args.wide,
        visits=args.visits,
        measure=args.measure,
        normalize_labels=args.normalize_labels,
        invalid=args.invalid,
        mcid=args.mcid,
        mcid_population=args.mcid_population,
        covariance=args.covariance,
        df_method=args.df_method,
        sheet=args.sheet,
        seed=args.seed,
    )
    return 0
