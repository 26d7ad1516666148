"""Input checks shared by the design-comparable SMD estimators."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_columns, check_numeric_column
from ..errors import DataError, DesignError, RehabStatsWarning


@dataclass(frozen=True)
class SCDData:
    """Validated single-case data, sorted by top block, unit and session.

    ``unit`` is the innermost data series (a case; a case's behaviour series in
    RMBB designs), ``top`` the highest level (the case, or the case of an RMBB
    design, or the cluster of a CMB design). ``outcome`` keeps missing values;
    ``keep`` marks the rows with an observed outcome.
    """

    outcome: np.ndarray
    session: np.ndarray  # as given (float)
    trt: np.ndarray  # 1.0 treatment, 0.0 baseline
    case: np.ndarray  # labels (str)
    unit: np.ndarray  # integer codes 0..U-1, contiguous
    top: np.ndarray  # integer codes 0..G-1, contiguous
    unit_labels: list[str]
    top_labels: list[str]
    baseline_phase: str
    treatment_phase: str
    keep: np.ndarray
    extra: dict[str, np.ndarray]

    @property
    def n_omitted(self) -> int:
        return int((~self.keep).sum())


def _labels(data: pd.DataFrame, column: str, arg: str) -> np.ndarray:
    col = data[column]
    if col.isna().any():
        row = col.index[col.isna()][0]
        raise DataError(f"Column {column!r} ('{arg}') has a missing value in row {row!r}.")
    return col.astype(str).to_numpy(dtype=object)


def prepare_bcsmd_data(
    data: Any,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str,
    treatment_phase: Any,
    series: str | None = None,
    cluster: str | None = None,
    extra_columns: dict[str, str] | None = None,
    min_units: int = 2,
    allow_untreated: bool = False,
) -> SCDData:
    """Check the columns and the two-phase structure; return sorted arrays.

    Raises :class:`DataError` for missing/non-numeric columns and repeated
    sessions, :class:`DesignError` for a phase structure the estimators cannot
    use (a treatment label absent from the data, more or fewer than two phase
    labels, a case without both phases -- without a baseline only, when
    ``allow_untreated`` admits never-treated control cases -- or fewer than
    ``min_units`` cases).
    """
    if case is None:
        raise DataError("'case' must name the column identifying the cases; got None.")
    columns = {
        "outcome": outcome,
        "phase": phase,
        "session": session,
        "case": case,
        "series": series,
        "cluster": cluster,
    }
    columns.update(extra_columns or {})
    check_columns(data, columns)
    y = check_numeric_column(data, outcome, "outcome").to_numpy(dtype=float)
    t = check_numeric_column(data, session, "session").to_numpy(dtype=float)
    if np.isnan(t).any():
        row = data.index[np.isnan(t)][0]
        raise DataError(f"Column {session!r} ('session') has a missing value in row {row!r}.")
    if np.isinf(t).any() or np.isinf(y).any():
        which, col = ("session", session) if np.isinf(t).any() else ("outcome", outcome)
        raise DataError(
            f"Column {col!r} ('{which}') has an infinite value; finite numbers expected."
        )
    big = np.nanmax(np.abs(y)) if np.isfinite(y).any() else 0.0
    if big > 1e150:  # the REML variances (squares of the outcome) could not be represented
        raise DataError(
            f"Column {outcome!r} ('outcome') has values of magnitude "
            f"{big:.3g}; rescale it (e.g. to other units) below 1e150."
        )
    ph = _labels(data, phase, "phase")
    cs = _labels(data, case, "case")
    labels = sorted(set(ph))
    trt_label = str(treatment_phase)
    if trt_label not in labels:
        raise DesignError(
            f"'treatment_phase' is {treatment_phase!r}, but column {phase!r} has no such phase; "
            f"phase labels present: {', '.join(repr(v) for v in labels)}."
        )
    if len(labels) != 2:
        raise DesignError(
            f"Column {phase!r} must hold exactly two phase labels (baseline and treatment "
            f"{trt_label!r}); found {len(labels)}: {', '.join(repr(v) for v in labels)}. "
            "Drop follow-up or other phases first."
        )
    base_label = labels[0] if labels[1] == trt_label else labels[1]
    if series is not None:
        sr = _labels(data, series, "series")
        unit_key = np.array([f"{c}\x1f{s}" for c, s in zip(cs, sr, strict=True)], dtype=object)
        top_key = cs
    elif cluster is not None:
        cl = _labels(data, cluster, "cluster")
        unit_key = np.array([f"{g}\x1f{c}" for g, c in zip(cl, cs, strict=True)], dtype=object)
        top_key = cl
    else:
        unit_key = cs
        top_key = cs
    # sort by (top, unit, session): results never depend on the row order
    top_codes, top_uniques = pd.factorize(pd.Series(top_key), sort=True)
    unit_codes, unit_uniques = pd.factorize(pd.Series(unit_key), sort=True)
    order = np.lexsort((t, unit_codes, top_codes))
    y, t, ph, cs = y[order], t[order], ph[order], cs[order]
    top_codes, unit_codes = top_codes[order], unit_codes[order]
    # relabel units so their codes are contiguous in the sorted order
    unit_codes, first_codes = pd.factorize(unit_codes)
    unit_names = [str(unit_uniques[c]).replace("\x1f", " / ") for c in first_codes]
    same = unit_codes[1:] == unit_codes[:-1]
    dup = same & (t[1:] == t[:-1])
    if dup.any():
        k = int(np.flatnonzero(dup)[0])
        raise DataError(
            f"Case {unit_names[unit_codes[k]]!r}: session {t[k]:g} is listed more than once "
            f"(column {session!r}); each session must appear once per case."
        )
    trt = (ph == trt_label).astype(float)
    n_units = int(unit_codes.max()) + 1
    has_trt = np.bincount(unit_codes, weights=trt, minlength=n_units) > 0
    has_base = np.bincount(unit_codes, weights=1.0 - trt, minlength=n_units) > 0
    checks = [(has_base, base_label)]
    if not allow_untreated:
        checks.append((has_trt, trt_label))
    for flag, lab in checks:
        if not flag.all():
            bad = unit_names[int(np.flatnonzero(~flag)[0])]
            need = "a baseline phase" if allow_untreated else "a baseline and a treatment phase"
            raise DesignError(f"Case {bad!r} has no {lab!r} phase; every case needs {need}.")
    n_top = int(top_codes.max()) + 1
    if n_top < min_units or n_units < min_units:
        what = "clusters" if cluster is not None else "cases"
        count = n_top if n_top < min_units else n_units
        raise DesignError(
            f"The design-comparable SMD needs at least {min_units} {what}; the data have "
            f"{count} ({', '.join(repr(str(v)) for v in top_uniques)})."
        )
    keep = ~np.isnan(y)
    observed = y[keep]
    if observed.size == 0 or np.ptp(observed) == 0:
        raise DesignError(
            f"Column {outcome!r} ('outcome') is constant (or missing) in every session; "
            "a standardized mean difference is undefined."
        )
    n_missing = int((~keep).sum())
    if n_missing:
        warnings.warn(
            f"{n_missing} missing value(s) in column {outcome!r} were omitted.",
            RehabStatsWarning,
            stacklevel=3,
        )
    extra = {}
    for arg, col in (extra_columns or {}).items():
        extra[arg] = data[col].to_numpy()[order]
    return SCDData(
        outcome=y,
        session=t,
        trt=trt,
        case=cs,
        unit=unit_codes,
        top=top_codes,
        unit_labels=unit_names,
        top_labels=[str(v) for v in top_uniques],
        baseline_phase=base_label,
        treatment_phase=trt_label,
        keep=keep,
        extra=extra,
    )
