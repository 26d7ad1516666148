"""The ``rehabstats report FILE --design rct|sced`` job: analyse a user's CSV.

Writes CSV tables, PNG figures and an ``index.html`` page styled like the
``rehabstats demo`` report into an output folder. The argparse wiring lives
here too (:func:`add_report_parser`, :func:`main_report`), so ``cli.py`` only
registers the sub-command.
"""

from __future__ import annotations

import argparse
import html
import keyword
import math
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

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
from ._results import EffectSizeResult
from ._validate import (
    check_ci,
    check_columns,
    check_improvement,
    check_numeric_column,
    check_option,
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
_SCED_TITLES = {"nap": "NAP (no effect = 0.5)", "tau_u": "Tau-U (Parker)",
                "tau_bc": "Tau-BC (baseline-trend corrected)", "smd": "SMD (baseline SD)"}


# ----------------------------------------------------------------------------- helpers
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


def _save(fig: Figure, out: Path, name: str) -> str:
    fig.savefig(out / name, dpi=150)
    return name


def _img(name: str, alt: str) -> str:
    return f"<p><img src='{html.escape(name)}' alt='{html.escape(alt)}'></p>"


def _write_table(frame: pd.DataFrame, out: Path, name: str, caption: str) -> tuple[str, str]:
    frame.to_csv(out / name, index=False)
    return name, frame_to_html(frame, caption=f"{caption} ({name})")


# ----------------------------------------------------------------------------- RCT
def _rct_sections(
    data: pd.DataFrame, out: Path, *, outcome: str, arm: str, visit: str, subject: str,
    baseline_visit: Any, reference: Any, ci: float, visit_order: Sequence[Any] | None = None,
) -> list[DemoSection]:
    check_columns(data, {"outcome": outcome, "arm": arm, "visit": visit, "subject": subject})
    if len({outcome, arm, visit, subject}) < 4:
        raise DataError("The --outcome, --arm, --visit and --subject options must name four "
                        f"different columns; got {outcome!r}, {arm!r}, {visit!r}, {subject!r}.")
    raw = model_frame(data, [subject, arm, visit, outcome])
    raw[outcome] = check_numeric_column(raw, outcome, "outcome")
    check_finite(raw, [outcome], {outcome: "outcome"})
    for col, argname in ((arm, "arm"), (visit, "visit"), (subject, "subject")):
        if raw[col].isna().any():
            n_na = int(raw[col].isna().sum())
            raise DataError(f"Column {col!r} ('{argname}') has {n_na} missing value(s); every "
                            "row needs an arm, a visit and a subject.")
    check_labels(raw[arm], arm)
    # one visit rule (visit_order, Categorical, numbers, numbered labels, row sequences)
    visit_levels = resolve_visit_order(raw, visit, subject, visit_order)
    arm_lv = arm_levels(raw[arm])
    if len(arm_lv) < 2:
        raise DataError(f"Column {arm!r} ('arm') must hold at least two arms; found "
                        f"{show_list(arm_lv)}.")
    if len(visit_levels) < 2:
        raise DataError(f"Column {visit!r} ('visit') must hold at least two visits (a baseline "
                        f"and a later one); found {show_list(visit_levels)}.")
    ref_level = default_reference(arm_lv, reference, name=arm, stacklevel=4)
    # levels are handled as text from here on ("--reference 1" matches an integer-coded arm)
    ref = str(ref_level)
    arms = [ref, *[str(a) for a in arm_lv if a != ref_level]]
    visits = [str(v) for v in visit_levels]
    base = visits[0] if baseline_visit is None else str(baseline_visit)
    if base not in visits:
        raise DataError(f"The 'baseline_visit' {show(baseline_visit)} is not in column "
                        f"{visit!r}; visits present: {show_list(visits)}.")
    frame = pd.DataFrame({"subject": raw[subject].astype(str), "arm": raw[arm].astype(str),
                          "visit": raw[visit].astype(str), "outcome": raw[outcome]})
    dup = frame.duplicated(["subject", "visit"])
    if dup.any():
        row = frame.loc[dup].iloc[0]
        raise DataError(f"Subject {row['subject']!r} (column {subject!r}) has more than one row "
                        f"at visit {row['visit']!r} (column {visit!r}); the data must have one "
                        "row per subject and visit.")
    order = list(visits)  # time order: the plot and the model
    visits = [base, *[v for v in visits if v != base]]  # tables: the baseline visit first
    names = {"subject": subject, "arm": arm, "visit": visit, "outcome": outcome}
    sections: list[DemoSection] = []

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
    f_desc, h_desc = _write_table(desc, out, "descriptives.csv",
                                  f"{outcome}: n, mean and SD by visit and arm (observed cases)")
    # trajectories of the observed outcomes (the missing ones are counted in the table);
    # the user's column names label the axes
    observed = frame.dropna(subset=["outcome"])
    plot_data = pd.DataFrame({subject: observed["subject"], outcome: observed["outcome"],
                              arm: observed["arm"], visit: observed["visit"]})
    with warnings.catch_warnings():  # cells with n < 2: the descriptives table shows n, sd
        warnings.filterwarnings("ignore", message=r"\d+ cell\(s\) of .* fewer than two",
                                category=RehabStatsWarning)
        f_means = _save(trajectories(plot_data, outcome=outcome, arm=arm, visit=visit,
                                     subject=subject, ci=ci, visit_order=order, reference=ref),
                        out, "trajectories.png")
    sections.append(DemoSection(
        title="Descriptive statistics",
        html=h_desc + _img(f_means, "mean trajectories by arm"),
        files=(f_desc, f_means),
    ))

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
                row = EffectSizeResult(measure="hedges_g", estimate=math.nan, ci_level=ci,
                                       n_x=int(trt.notna().sum()),
                                       n_y=int(ctl.notna().sum())).to_frame().iloc[0].to_dict()
                note = str(exc)
            row["n_omitted"] = n_missing
            rows.append({"visit": v, "contrast": f"{a} - {ref}", **row, "note": note})
    g_table = pd.DataFrame(rows)
    f_g, h_g = _write_table(g_table, out, "effect_sizes.csv",
                            "Hedges' g (treatment minus reference arm, observed cases, "
                            "noncentral-t CI) at each post-baseline visit")
    g_fig = forest(g_table, title=f"Hedges' g, {outcome}", xlabel="Hedges' g")
    f_gfig = _save(g_fig, out, "forest_hedges_g.png")
    sections.append(DemoSection(title="Between-arm effect sizes", html=h_g + _img(f_gfig, "g"),
                                files=(f_g, f_gfig)))

    # 3. MMRM on every observed visit (unstructured covariance, Satterthwaite df)
    try:
        sections.append(_mmrm_section(frame, out, arms, order, names, ci))
    except RehabStatsError as exc:
        # the descriptive and effect-size results stand on their own: say why, go on
        sections.append(DemoSection(
            title="Mixed model for repeated measures",
            html=f"<p>The MMRM could not be fitted: {html.escape(str(exc))}</p>"))
    return sections


def _mmrm_section(frame: pd.DataFrame, out: Path, arms: list[str], visits: list[str],
                  names: dict[str, str], ci: float) -> DemoSection:
    from .models import mmrm  # imported here: fitting code is not needed for the sced report

    outcome = names["outcome"]
    # the model sees the user's column names, so its messages name them too
    cols = {k: (v if v.isidentifier() and not keyword.iskeyword(v) else k)
            for k, v in names.items()}
    model_data = frame.dropna(subset=["outcome"]).rename(columns=cols)
    model_data[cols["arm"]] = pd.Categorical(model_data[cols["arm"]], categories=arms)
    fit = mmrm(f"{cols['outcome']} ~ {cols['arm']} * {cols['visit']}", model_data,
               subject=cols["subject"], visit=cols["visit"], covariance="us",
               df_method="satterthwaite", visit_order=visits, arm=cols["arm"],
               reference=arms[0])
    con = fit.contrasts(cols["arm"], by=cols["visit"], method="trt.vs.ctrl", ci=ci)
    adjustment = (f"multiplicity adjustment: {con.attrs['adjust']} for "
                  f"{con.attrs['family_size']} contrast(s) per visit")
    con = con.rename(columns={cols["visit"]: "visit"})
    con["visit"] = con["visit"].astype(str)
    f_con, h_con = _write_table(
        con, out, "mmrm_contrasts.csv",
        f"MMRM ({outcome} ~ {names['arm']} * {names['visit']}, unstructured covariance, REML, "
        f"Satterthwaite df): arm differences at each visit; reference arm: {arms[0]}; "
        f"visit order: {' < '.join(map(str, fit.visit_levels))}; {adjustment}")
    fig = forest(con, ci_level=ci, title=f"MMRM arm difference, {outcome}",
                 xlabel=f"Difference in {outcome}")
    f_fig = _save(fig, out, "forest_mmrm.png")
    note = ("<p>All observed visits are analysed (missing at random, no imputation); "
            "the first visit's difference checks baseline balance.</p>")
    return DemoSection(title="Mixed model for repeated measures",
                       html=note + h_con + _img(f_fig, "MMRM contrasts"),
                       files=(f_con, f_fig))


# ----------------------------------------------------------------------------- SCED
def _sced_sections(
    data: pd.DataFrame, out: Path, *, outcome: str, phase: str, session: str,
    case: str | None, improvement: str, baseline_phase: str, treatment_phase: str, ci: float,
) -> list[DemoSection]:
    from .sced import describe, effect_sizes

    improvement = check_improvement(improvement)
    check_columns(data, {"outcome": outcome, "phase": phase, "session": session, "case": case})
    check_numeric_column(data, outcome, "outcome")
    for col in (phase, case):
        if col is not None:
            check_labels(data[col], col)
    sections: list[DemoSection] = []
    kw: dict[str, Any] = {"outcome": outcome, "phase": phase, "session": session, "case": case}

    fig = sced_plot(data, overlays=("mean", "trend"), improvement=improvement,
                    baseline_phase=baseline_phase, **kw)
    f_plot = _save(fig, out, "sced_plot.png")
    sections.append(DemoSection(
        title="Single-case graph",
        html="<p>Phase means (horizontal lines) and OLS trends within each phase.</p>"
        + _img(f_plot, "single-case graph"), files=(f_plot,)))

    phases = describe(data, improvement=improvement, **kw).phases
    f_d, h_d = _write_table(phases, out, "sced_describe.csv",
                            "Per case and phase: n, mean, median, SD, MAD, range, trend")
    sections.append(DemoSection(title="Descriptive statistics", html=h_d, files=(f_d,)))

    es = effect_sizes(data, indices=SCED_INDICES, improvement=improvement,
                      baseline_phase=baseline_phase, treatment_phase=treatment_phase, ci=ci,
                      **kw)
    f_es, h_es = _write_table(
        es, out, "sced_effect_sizes.csv",
        f"Effect sizes of phase {treatment_phase} against {baseline_phase} (improvement = "
        f"{improvement}); Tau-U: Parker 2011 A vs B minus baseline trend, without CI")
    # one panel per index: each has its own scale and no-effect value
    sizes = [int((es["index"] == index).sum()) for index in SCED_INDICES]
    fig = Figure(figsize=(7.0, sum(0.32 * n + 0.9 for n in sizes)), layout="constrained")
    axes = fig.subplots(len(SCED_INDICES), 1, squeeze=False,
                        gridspec_kw={"height_ratios": [n + 2.5 for n in sizes]})[:, 0]
    for ax, index in zip(axes, SCED_INDICES, strict=True):
        # rows labelled by the columns that vary: case, and pair for A-B-A-B designs
        forest(es[es["index"] == index], ax=ax, null_value=_SCED_NULL[index],
               title=_SCED_TITLES[index], xlabel=index, ci_level=ci)
    f_fig = _save(fig, out, "forest_sced.png")
    sections.append(DemoSection(title="Single-case effect sizes",
                                html=h_es + _img(f_fig, "effect sizes by case"),
                                files=(f_es, f_fig)))
    return sections


# ----------------------------------------------------------------------------- entry points
def run_report(
    path: str | Path,
    *,
    design: str,
    out_dir: str | Path,
    outcome: str,
    arm: str | None = None,
    visit: str | None = None,
    subject: str | None = None,
    baseline_visit: str | None = None,
    reference: str | None = None,
    phase: str | None = None,
    session: str | None = None,
    case: str | None = None,
    improvement: str = "increase",
    baseline_phase: str = "A",
    treatment_phase: str = "B",
    ci: float = 0.95,
    log: Callable[[str], None] = print,
    visit_order: Sequence[Any] | None = None,
) -> Path:
    """Analyse a user's CSV and write tables, figures and ``index.html`` into ``out_dir``.

    ``design="rct"`` (long data, one row per subject and visit; needs
    ``outcome, arm, visit, subject``): n, mean and SD per arm and visit with a
    trajectory plot; Hedges' g (each arm minus the reference arm, observed
    cases, noncentral-t CI) at every post-baseline visit with a forest plot;
    and an MMRM (:func:`rehabstats.models.mmrm`, ``outcome ~ arm * visit`` on
    every observed visit, unstructured covariance, REML, Satterthwaite df)
    with the arm difference at each visit. A comparison or model that cannot
    be computed (e.g. one subject in an arm) is reported as such in the page
    instead of stopping the report. The reference arm is ``reference``, else a
    recognised control label (control, usual care, sham, placebo, TAU,
    waitlist, ...), else the first arm in sorted order. Visits follow the
    library's one visit rule (:func:`rehabstats._entry.resolve_visit_order`:
    ``visit_order``, numbers sorted, numbered labels in natural order
    ``week4 < week12``, else the order every subject's rows agree on, else an
    error asking for ``--visit-order``); the baseline visit defaults to the
    first. Labels differing only in case or surrounding whitespace are an
    error. Messages name the file's own columns.

    ``design="sced"`` (one row per session; needs ``outcome, phase, session``,
    optionally ``case``): per-phase descriptives, NAP, Tau-U, Tau-BC and SMD
    of every baseline-treatment phase pair (:func:`rehabstats.sced.effect_sizes`),
    the single-case graph (:func:`rehabstats.plot.sced`, with phase means and
    trends) and a forest plot with one panel per index.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file (read with :func:`pandas.read_csv`; not modified).
    design : {"rct", "sced"}
        The study design.
    out_dir : str or pathlib.Path
        Output folder (created if needed; files in it are overwritten).
    outcome, arm, visit, subject, phase, session, case : str
        Column names (see above for which design needs which).
    baseline_visit, reference : str, optional
        RCT: the baseline visit label and the reference (control) arm label.
    visit_order : sequence of str, optional
        RCT: the visit labels in time order (``--visit-order a,b,c``).
    improvement : {"increase", "decrease"}, optional
        SCED: direction of therapeutic change.
    baseline_phase, treatment_phase : str, optional
        SCED: phase labels compared (default ``"A"`` and ``"B"``).
    ci : float, optional
        Confidence level of every interval.
    log : callable, optional
        Receives one progress line per section (default :func:`print`).

    Returns
    -------
    pathlib.Path
        The written ``index.html``.

    Raises
    ------
    DataError
        A missing or unreadable file, a missing column or option, a non-numeric
        outcome, unknown arm / visit labels, duplicated subject-visit rows.
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
    needed = {"rct": {"outcome": outcome, "arm": arm, "visit": visit, "subject": subject},
              "sced": {"outcome": outcome, "phase": phase, "session": session}}[design]
    absent = [k for k, v in needed.items() if v is None]
    if absent:
        opts = ", ".join(f"--{k.replace('_', '-')}" for k in absent)
        raise DataError(f"design={design!r} needs the column option(s) {opts}.")
    data = read_csv(path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if design == "rct":
        assert arm is not None and visit is not None and subject is not None  # checked above
        sections = _rct_sections(data, out, outcome=outcome, arm=arm, visit=visit,
                                 subject=subject, baseline_visit=baseline_visit,
                                 reference=reference, ci=float(ci), visit_order=visit_order)
    else:
        assert phase is not None and session is not None  # checked above
        sections = _sced_sections(data, out, outcome=outcome, phase=phase, session=session,
                                  case=case, improvement=improvement,
                                  baseline_phase=baseline_phase,
                                  treatment_phase=treatment_phase, ci=float(ci))
    for s in sections:
        log(f"{s.title}: wrote {', '.join(s.files) or 'no files'}")
    body = "\n".join(
        f"<section><h2>{html.escape(s.title)}</h2>\n{s.html}</section>" for s in sections
    )
    label = "randomized controlled trial" if design == "rct" else "single-case design"
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>rehabstats report: {html.escape(Path(path).name)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>rehabstats report: {html.escape(Path(path).name)}</h1>"
        f"<p>Design: {label}; outcome column <code>{html.escape(outcome)}</code>; "
        f"{len(data)} rows; {format_level(ci)} confidence intervals.</p>"
        f"{body}</body></html>"
    )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    log(f"report: {index}")
    return index


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


def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``report`` sub-command on an ``argparse`` subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "report", help="analyse your own CSV (RCT or single-case design) and write tables, "
        "figures and an HTML report",
        description="Analyse a tidy CSV (one row per subject x visit, or per session) and "
        "write CSV tables, PNG figures and index.html.")
    p.add_argument("file", help="the CSV file")
    p.add_argument("--design", required=True, choices=DESIGNS, help="study design")
    p.add_argument("--out", default="rehabstats-report",
                   help="output folder (default: rehabstats-report)")
    p.add_argument("--outcome", required=True, help="outcome column")
    p.add_argument("--ci", type=float, default=0.95, help="confidence level (default 0.95)")
    rct = p.add_argument_group("RCT columns (--design rct)")
    rct.add_argument("--arm", help="treatment-arm column")
    rct.add_argument("--visit", help="visit column")
    rct.add_argument("--subject", help="subject column")
    rct.add_argument("--baseline-visit", help="baseline visit label (default: the first visit)")
    rct.add_argument("--reference", help="reference (control) arm label (default: a "
                     "recognised control label such as control, usual care, sham, placebo, "
                     "TAU or waitlist, else the first arm in sorted order)")
    rct.add_argument("--visit-order", type=_comma_list, metavar="V1,V2,...",
                     help="visit labels in time order, comma-separated (default: numbers "
                     "sorted, numbered labels in natural order, else the order every "
                     "subject's rows agree on)")
    sced = p.add_argument_group("single-case columns (--design sced)")
    sced.add_argument("--phase", help="phase column")
    sced.add_argument("--session", help="session-number column")
    sced.add_argument("--case", help="case column (optional)")
    sced.add_argument("--improvement", choices=("increase", "decrease"), default="increase",
                      help="direction of therapeutic change (default: increase)")
    sced.add_argument("--baseline-phase", default="A", help="baseline phase label (default A)")
    sced.add_argument("--treatment-phase", default="B",
                      help="treatment phase label (default B)")
    return p


def main_report(args: argparse.Namespace) -> int:
    """Run the ``report`` sub-command from parsed arguments; returns the exit status.

    Errors (:class:`~rehabstats.errors.RehabStatsError`) propagate to
    ``rehabstats.cli.main``, which prints them on one line and exits with 2.
    """
    import matplotlib

    matplotlib.use("Agg")
    run_report(
        args.file, design=args.design, out_dir=args.out, outcome=args.outcome,
        arm=args.arm, visit=args.visit, subject=args.subject,
        baseline_visit=args.baseline_visit, reference=args.reference, phase=args.phase,
        session=args.session, case=args.case, improvement=args.improvement,
        baseline_phase=args.baseline_phase, treatment_phase=args.treatment_phase, ci=args.ci,
        visit_order=args.visit_order,
    )
    return 0
