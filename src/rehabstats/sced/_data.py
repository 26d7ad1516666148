"""The single-case data model: tidy long data validated once.

A single-case data set has one row per measurement occasion with the columns
``case`` (optional: one case when absent), ``session`` (numeric, strictly
increasing within a case, gaps allowed), ``phase`` (label such as ``"A"`` or
``"B"``; A-B-A-B designs repeat labels) and ``outcome`` (numeric). A *run* is
a maximal block of consecutive sessions with the same phase label; A-B-A-B
has four runs. Every baseline run immediately followed by a treatment run
forms one comparison (a *phase pair*), the convention of SingleCaseES and scan.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validate import NanPolicy, check_columns, check_nan_policy
from ..errors import DataError, DesignError, RehabStatsWarning

__all__ = ["PhasePair", "check_phase_labels", "iter_phase_pairs", "phase_pairs", "prepare_sced"]

#: Column names of the frame returned by :func:`prepare_sced`.
COLUMNS = ("case", "session", "phase", "outcome", "run")


def prepare_sced(
    data: pd.DataFrame,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str | None = None,
    nan_policy: NanPolicy = "omit",
) -> pd.DataFrame:
    """Validate single-case data and return a new standardised frame.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy long data, one row per measurement occasion. Not modified.
    outcome, phase, session : str
        Column names of the measurement, the phase label and the session number.
    case : str, optional
        Column name of the case (participant, setting or behaviour). Without it
        the data are one case, labelled ``"1"``.
    nan_policy : {"omit", "raise"}
        Rows with a missing outcome are dropped (and counted in
        ``frame.attrs["n_omitted"]``) or raise a :class:`DataError`. The
        session keeps its place, so the phase structure is unchanged.

    Returns
    -------
    pandas.DataFrame
        Columns ``case`` (str), ``session`` (float), ``phase`` (str),
        ``outcome`` (float) and ``run`` (1-based index of the phase run within
        the case), in case and session order. ``attrs["n_omitted"]`` holds the
        number of missing outcomes dropped.

    Raises
    ------
    DataError
        Missing columns, non-numeric outcome or session, an infinite outcome or
        session, an outcome column with no observed value, missing phase labels or
        sessions, sessions duplicated or not increasing within a case, phase or
        case labels that differ only in letter case or surrounding whitespace
        (``"A"``, ``"a "``: the message lists them).

    Examples
    --------
    >>> import pandas as pd
    >>> from rehabstats.sced._data import prepare_sced
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4], "ph": list("AABB"), "y": [2.0, 3, 6, 7]})
    >>> prepare_sced(df, outcome="y", phase="ph", session="t")["run"].tolist()
    [1, 1, 2, 2]
    """
    nan_policy = check_nan_policy(nan_policy)
    check_columns(data, {"outcome": outcome, "phase": phase, "session": session, "case": case})
    y = _numeric_column(data, outcome, "outcome")
    t = _numeric_column(data, session, "session")
    if np.isnan(t).any():
        raise DataError(
            f"Column {session!r} ('session') has a missing value in row {_row(data, np.isnan(t))}."
        )
    if np.isinf(t).any():
        raise DataError(
            f"Column {session!r} ('session') has an infinite value in row "
            f"{_row(data, np.isinf(t))}."
        )
    if np.isinf(y).any():
        raise DataError(
            f"Column {outcome!r} ('outcome') has an infinite value in row "
            f"{_row(data, np.isinf(y))}; single-case indices need finite "
            "measurements."
        )
    if np.isnan(y).all():
        raise DataError(f"Column {outcome!r} ('outcome') has no observed (non-missing) value.")
    ph = data[phase]
    if ph.isna().any():
        raise DataError(
            f"Column {phase!r} ('phase') has a missing label in row "
            f"{_row(data, ph.isna().to_numpy())}."
        )
    phase_labels = ph.astype(str).to_numpy(dtype=object)
    _check_confusable(phase_labels, phase, "phase")
    if case is None:
        cases = np.full(len(data), "1", dtype=object)
    else:
        if data[case].isna().any():
            raise DataError(
                f"Column {case!r} ('case') has a missing value in row "
                f"{_row(data, data[case].isna().to_numpy())}."
            )
        cases = data[case].astype(str).to_numpy(dtype=object)
        _check_confusable(cases, case, "case")
    # Work on numpy arrays (this runs once per call of every SCED function).
    # Group the rows of each case together (stable: keeps the given order within a
    # case, so long data interleaved by session are fine).
    case_codes = pd.factorize(cases)[0]
    order = np.argsort(case_codes, kind="stable")
    case_codes, cases = case_codes[order], cases[order]
    sess = t[order]
    phases = phase_labels[order]
    values = y[order]
    # Sessions must be strictly increasing within each case, in the order given:
    # silently sorting would hide data-entry errors. A step counts only inside a case.
    steps = np.diff(sess)
    same_case = case_codes[1:] == case_codes[:-1]
    for bad, problem in ((same_case & (steps == 0), "dup"), (same_case & (steps < 0), "order")):
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            label = cases[k]
            if problem == "dup":
                raise DataError(
                    f"Case {label!r}: session {sess[k + 1]:g} is listed more than once "
                    f"(column {session!r}); each session must appear once per case."
                )
            raise DataError(
                f"Case {label!r}: sessions are not in increasing order (session "
                f"{sess[k + 1]:g} follows {sess[k]:g} in column {session!r}); sort the data by "
                "case and session first."
            )
    # Runs are defined before dropping missing outcomes so that a missing value
    # never merges or splits phases: a run starts at a new case or a new label, and
    # is numbered from 1 within its case.
    new_run = np.ones(len(sess), dtype=bool)
    new_run[1:] = (phases[1:] != phases[:-1]) | ~same_case
    run_total = np.cumsum(new_run)
    first_of_case = np.flatnonzero(np.r_[True, ~same_case])
    runs = run_total - run_total[first_of_case][case_codes] + 1
    missing = np.isnan(values)
    n_omitted = int(missing.sum())
    if n_omitted:
        if nan_policy == "raise":
            raise DataError(
                f"Column {outcome!r} ('outcome') has {n_omitted} missing value(s) and "
                "nan_policy='raise'."
            )
        warnings.warn(
            f"{n_omitted} missing value(s) in column {outcome!r} were omitted.",
            RehabStatsWarning,
            stacklevel=2,
        )
    keep = ~missing
    frame = pd.DataFrame(
        {
            "case": cases[keep],
            "session": sess[keep],
            "phase": phases[keep],
            "outcome": values[keep],
            "run": runs[keep].astype(np.int64),
        }
    )
    frame.attrs["n_omitted"] = n_omitted
    return frame


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (so messages show ``32``, not ``np.int64(32)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _row(data: pd.DataFrame, mask: np.ndarray) -> str:
    """The index label of the first flagged row, as plain text for a message."""
    return repr(_plain(data.index[np.flatnonzero(mask)[0]]))


def _numeric_column(data: pd.DataFrame, column: str, arg: str) -> np.ndarray:
    """A column as a float array (pandas nullable and Categorical dtypes included).

    Booleans count as 0/1. A non-numeric value raises a DataError naming it and
    its row.
    """
    series = data[column]
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    converted = pd.to_numeric(series.astype(object), errors="coerce")
    bad = (converted.isna() & series.notna()).to_numpy()
    if bad.any():
        value = _plain(series.iloc[int(np.flatnonzero(bad)[0])])
        raise DataError(
            f"Column {column!r} ('{arg}') must be numeric; found {value!r} in row "
            f"{_row(data, bad)}."
        )
    return converted.to_numpy(dtype=float, na_value=np.nan)


def _check_confusable(labels: np.ndarray, column: str, arg: str) -> None:
    """Raise when labels differ only in letter case or surrounding whitespace ("A", "a ")."""
    distinct = pd.unique(labels)
    groups: dict[str, list[str]] = {}
    for lab in distinct:
        groups.setdefault(str(lab).strip().casefold(), []).append(str(lab))
    clashes = [g for g in groups.values() if len(g) > 1]
    if clashes:
        shown = "; ".join(", ".join(repr(v) for v in g) for g in clashes)
        raise DataError(
            f"Column {column!r} ('{arg}') has labels that differ only in letter case or "
            f"surrounding whitespace: {shown}. They would be analysed as different {arg}s; "
            "recode them to one spelling first."
        )


@dataclass(frozen=True)
class PhasePair:
    """One baseline run followed immediately by a treatment run of one case."""

    case: str
    pair: int  # 1-based index of the comparison within the case
    baseline_phase: str
    treatment_phase: str
    baseline: np.ndarray
    treatment: np.ndarray
    baseline_sessions: np.ndarray
    treatment_sessions: np.ndarray


def check_phase_labels(frame: pd.DataFrame, baseline_phase: str, treatment_phase: str) -> None:
    """Raise :class:`DesignError` when a phase label is absent from the prepared data."""
    labels = set(frame["phase"].unique())
    for arg, lab in (("baseline_phase", baseline_phase), ("treatment_phase", treatment_phase)):
        if str(lab) not in labels:
            present = ", ".join(repr(v) for v in sorted(labels))
            raise DesignError(
                f"'{arg}' is {lab!r}, but the data have no phase with that label; "
                f"phase labels present: {present}."
            )


def iter_phase_pairs(
    frame: pd.DataFrame, *, baseline_phase: str = "A", treatment_phase: str = "B"
) -> Iterator[PhasePair]:
    """Yield every baseline run immediately followed by a treatment run, per case.

    ``frame`` is the output of :func:`prepare_sced`. Raises :class:`DesignError`
    when a phase label is absent from the data or a case has no such pair.
    """
    check_phase_labels(frame, baseline_phase, treatment_phase)
    for label, grp in frame.groupby("case", sort=False):
        runs = [(int(r), g) for r, g in grp.groupby("run", sort=True)]
        count = 0
        for (_, first), (_, second) in itertools.pairwise(runs):
            if (
                first["phase"].iat[0] == baseline_phase
                and second["phase"].iat[0] == treatment_phase
            ):
                count += 1
                yield PhasePair(
                    case=str(label),
                    pair=count,
                    baseline_phase=str(baseline_phase),
                    treatment_phase=str(treatment_phase),
                    baseline=first["outcome"].to_numpy(copy=True),
                    treatment=second["outcome"].to_numpy(copy=True),
                    baseline_sessions=first["session"].to_numpy(copy=True),
                    treatment_sessions=second["session"].to_numpy(copy=True),
                )
        if count == 0:
            seq = "-".join(g["phase"].iat[0] for _, g in runs)
            raise DesignError(
                f"Case {label!r} has no {baseline_phase!r} phase followed directly by a "
                f"{treatment_phase!r} phase (its phases are {seq})."
            )


def phase_pairs(frame: pd.DataFrame, **kwargs: Any) -> list[PhasePair]:
    """List form of :func:`iter_phase_pairs`."""
    return list(iter_phase_pairs(frame, **kwargs))
