"""From a spreadsheet export to analysable long data, safely.

A REDCap or Excel export of a rehab trial is wide (``mal_pre, mal_post, mal_6m``),
its arm labels come in variants (``"CIMT"``, ``"cimt "``), missing values hide behind
codes such as −99, and the baseline has to go back in as a covariate for the ICH E9
primary analysis. These functions do those steps, and refuse to guess where a
silent guess would change the numbers.

- :func:`to_long` / :func:`to_wide` — reshape with an explicit visit order (an
  ordered Categorical in the result).
- :func:`clean_labels` — labels differing only in case or surrounding spaces are an
  error listing them, or are merged and reported (``normalize=True``).
- :func:`check_outcome` — sentinel missing-data codes and values outside a
  measure's range (from :mod:`rehabstats.measures`), by participant.
- :func:`baseline_as_covariate` and :func:`change_scores` — the ANCOVA / MMRM shape.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._entry import check_finite, check_labels, resolve_visit_order
from ._results import format_number
from .errors import DataError, RehabStatsWarning

__all__ = [
    "DEFAULT_SENTINELS",
    "baseline_as_covariate",
    "change_scores",
    "check_outcome",
    "clean_labels",
    "to_long",
    "to_wide",
]

#: Missing-data codes that exports commonly use for "not done" (REDCap, SPSS, Excel).
DEFAULT_SENTINELS: tuple[Any, ...] = (-99, -999, -9999, 999, 9999, ".", "NA", "N/A", "")


def _frame(data: Any, what: str = "data") -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        role = "" if what == "data" else " (the data)"
        raise DataError(f"'{what}'{role} must be a pandas DataFrame; got {type(data).__name__}.")
    return data


def _check_keys(frame: pd.DataFrame, columns: Sequence[str], what: str = "data") -> None:
    """Identifier and visit columns: no missing labels, no case/space variants."""
    for col in columns:
        series = frame[col]
        if series.isna().any():
            rows = [int(i) for i in np.flatnonzero(series.isna().to_numpy())][:10]
            raise DataError(
                f"Column '{col}' of '{what}' has missing labels (rows {rows}); every row needs one."
            )
        check_labels(series, str(col))


def _numeric(frame: pd.DataFrame, col: str, what: str = "data") -> pd.Series:
    """A numeric (float) copy of an outcome column: text is an error naming the value,
    ``inf`` an error naming the row; missing values stay missing.
    """
    from ._validate import check_numeric_column

    values = check_numeric_column(frame, col, "outcome")
    check_finite(values.to_frame(), [col])
    return values


def _need(frame: pd.DataFrame, columns: Sequence[str], what: str = "data") -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"Column(s) {missing} are not in '{what}'; its columns are {list(frame.columns)}."
        )


def _show(values: Sequence[Any], limit: int = 10) -> str:
    shown = [str(v) for v in list(values)[:limit]]
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return ", ".join(shown) + more


def clean_labels(values: Any, *, name: str = "labels", normalize: bool = False) -> pd.Series:
    """Check category labels for variants that differ only in case or surrounding spaces.

    ``"CIMT"``, ``"cimt"`` and ``"CIMT "`` are one arm typed three ways; analysed as
    given they become three arms. Such variants are a :class:`~rehabstats.errors.DataError`
    that lists them, unless ``normalize=True``, which merges each group into its most
    frequent spelling (stripped of spaces; ties go to the first seen) and says so in a
    :class:`~rehabstats.errors.RehabStatsWarning`.

    Parameters
    ----------
    values : array-like or Series
        The labels (missing values are kept as missing).
    name : str
        Column name used in messages.
    normalize : bool
        Merge the variants instead of raising.

    Returns
    -------
    pandas.Series
        A new Series (the input is never modified); labels unchanged when there are no
        variants, except that surrounding spaces are always stripped when normalising.

    Examples
    --------
    >>> import rehabstats as rs
    >>> rs.data.clean_labels(["CIMT", "control", "CIMT"], name="arm").tolist()
    ['CIMT', 'control', 'CIMT']
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     rs.data.clean_labels(["CIMT", "cimt ", "control", "CIMT"], name="arm",
    ...                          normalize=True).tolist()
    ['CIMT', 'CIMT', 'control', 'CIMT']
    """
    series = values.copy() if isinstance(values, pd.Series) else pd.Series(list(values))
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    present = series.dropna()
    text = present.map(str)
    key = text.str.strip().str.casefold()
    groups: dict[str, list[str]] = {}
    for k, label in zip(key, text, strict=True):
        seen = groups.setdefault(k, [])
        if label not in seen:
            seen.append(label)
    variants = {k: v for k, v in groups.items() if len(v) > 1}
    if not variants:
        return series
    if not normalize:
        try:  # the library's one label check gives the message
            check_labels(series.rename(name), name)
        except DataError as err:
            raise DataError(
                f"{err} They would be analysed as different groups; or pass normalize=True "
                "(normalize_labels=True) to merge each group into its most frequent spelling."
            ) from None
    counts = text.value_counts(sort=False)
    mapping: dict[str, str] = {}
    for labels in groups.values():
        best = max(labels, key=lambda lab: (counts[lab], -labels.index(lab)))
        for lab in labels:
            mapping[lab] = best.strip()
    warnings.warn(
        f"Column '{name}': merged labels that differ only in case or spaces: "
        + "; ".join(
            f"{' / '.join(repr(x) for x in v)} -> {mapping[v[0]]!r}" for v in variants.values()
        )
        + ".",
        RehabStatsWarning,
        stacklevel=2,
    )
    out = series.copy()
    mask = out.notna()
    out.loc[mask] = out.loc[mask].map(lambda v: mapping[str(v)])
    return out


def _check_visits(visits: Any) -> list[Any]:
    if isinstance(visits, (str, bytes)) or not isinstance(visits, Sequence) or len(visits) < 1:
        raise DataError(
            f"'visits' must list the visit labels in time order, e.g. ['pre', 'post', '6m']; "
            f"got {visits!r}."
        )
    labels = list(visits)
    if len({str(v) for v in labels}) != len(labels):
        raise DataError(f"'visits' has repeated labels: {labels!r}.")
    return labels


def _measure_columns(
    measures: Any, visits: list[Any], columns: pd.Index, sep: str
) -> dict[str, list[str]]:
    if not isinstance(measures, Mapping) or not measures:
        raise DataError(
            "'measures' maps each measure to its columns in visit order, e.g. "
            "{'mal': ['mal_pre', 'mal_post', 'mal_6m']}, or to a column stub "
            f"('mal' with sep='_' means mal_pre, mal_post, ...); got {measures!r}."
        )
    out: dict[str, list[str]] = {}
    for measure, spec in measures.items():
        if isinstance(spec, str):
            cols = [f"{spec}{sep}{v}" for v in visits]
        elif isinstance(spec, Sequence):
            cols = [str(c) for c in spec]
        else:
            raise DataError(
                f"'measures' entry {measure!r} must be a list of columns or a stub; got {spec!r}."
            )
        if len(cols) != len(visits):
            raise DataError(
                f"Measure {measure!r} names {len(cols)} column(s) {cols} but there are "
                f"{len(visits)} visits {visits}; give one column per visit, in visit order."
            )
        missing = [c for c in cols if c not in columns]
        if missing:
            raise DataError(
                f"Measure {measure!r}: column(s) {missing} are not in the wide data; its "
                f"columns are {list(columns)}."
            )
        out[str(measure)] = cols
    return out


def to_long(
    wide: pd.DataFrame,
    *,
    id: str,
    measures: Mapping[str, Any],
    visits: Sequence[Any],
    arm: str | None = None,
    covariates: Sequence[str] = (),
    normalize_labels: bool = False,
    sep: str = "_",
    visit: str = "visit",
) -> pd.DataFrame:
    """Reshape a wide export (one row per participant) to tidy long data.

    Parameters
    ----------
    wide : pandas.DataFrame
        One row per participant.
    id : str
        Participant identifier column (must be unique).
    measures : mapping
        Each outcome measure and its columns in visit order, e.g.
        ``{"mal": ["mal_pre", "mal_post", "mal_6m"]}``; or a stub, ``{"mal": "mal"}``,
        meaning the columns ``mal{sep}{visit}``.
    visits : sequence
        The visit labels **in time order**; the result's ``visit`` column is an ordered
        Categorical with exactly this order.
    arm : str, optional
        Arm column, checked with :func:`clean_labels`.
    covariates : sequence of str
        Other per-participant columns to carry along (age, sex, ...).
    normalize_labels : bool
        Merge arm labels that differ only in case or spaces instead of raising.
    sep : str
        Separator between stub and visit for stub-style ``measures``.
    visit : str
        Name of the visit column in the result.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``arm`` (if given), the covariates, ``visit``, one column per
        measure; one row per participant and visit, sorted by participant then visit.

    Examples
    --------
    >>> import pandas as pd, rehabstats as rs
    >>> wide = pd.DataFrame({"pid": ["p1", "p2"], "group": ["cimt", "control"],
    ...                      "mal_pre": [1.2, 1.5], "mal_post": [3.1, 1.9]})
    >>> long = rs.data.to_long(wide, id="pid", measures={"mal": "mal"},
    ...                        visits=["pre", "post"], arm="group")
    >>> long["visit"].cat.categories.tolist(), long.shape
    (['pre', 'post'], (4, 4))
    """
    frame = _frame(wide, "wide")
    labels = _check_visits(visits)
    _need(frame, [id, *([arm] if arm else []), *covariates], "wide")
    cols = _measure_columns(measures, labels, frame.columns, sep)
    ids = frame[id]
    if ids.isna().any():
        rows = [int(i) for i in np.flatnonzero(ids.isna().to_numpy())][:10]
        raise DataError(f"Column '{id}' has missing participant ids (rows {rows}).")
    check_labels(ids, str(id))
    dup = ids[ids.duplicated(keep=False)].unique().tolist()
    if dup:
        raise DataError(
            f"Column '{id}' must identify one row per participant; repeated: {_show(dup)}."
        )
    check_finite(
        frame,
        [c for mcols in cols.values() for c in mcols],
        {c: m for m, mcols in cols.items() for c in mcols},
    )
    n, k = len(frame), len(labels)
    out = pd.DataFrame({id: np.repeat(ids.to_numpy(), k)})
    if arm:
        out[arm] = np.repeat(
            clean_labels(frame[arm], name=arm, normalize=normalize_labels).to_numpy(), k
        )
    for c in covariates:
        out[c] = np.repeat(frame[c].to_numpy(), k)
    out[visit] = pd.Categorical.from_codes(
        np.tile(np.arange(k), n), categories=labels, ordered=True
    )
    for measure, mcols in cols.items():
        out[measure] = frame[mcols].to_numpy().reshape(n * k)
        try:
            out[measure] = pd.to_numeric(out[measure])
        except (TypeError, ValueError):
            pass  # a text value: left as is for check_outcome to name
    return out


def to_wide(
    long: pd.DataFrame,
    *,
    id: str,
    visit: str,
    values: str | Sequence[str],
    visit_order: Sequence[Any] | None = None,
    sep: str = "_",
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """Reshape long data to one row per participant (``{value}{sep}{visit}`` columns).

    The visit columns follow the library's one visit-order rule: ``visit_order``, else the
    visit column's Categorical order, numeric order, natural order of numbered labels
    ("week4" < "week12"), or the within-participant row sequence when every participant
    agrees; otherwise a DesignError asks for ``visit_order=`` (row order alone never
    decides). ``keep`` lists per-participant columns (arm, age) to carry along.

    Examples
    --------
    >>> import pandas as pd, rehabstats as rs
    >>> long = pd.DataFrame({"pid": ["p1", "p1", "p2"], "visit": ["pre", "post", "pre"],
    ...                      "mal": [1.2, 3.1, 1.5]})
    >>> rs.data.to_wide(long, id="pid", visit="visit", values="mal",
    ...                 visit_order=["pre", "post"]).columns.tolist()
    ['pid', 'mal_pre', 'mal_post']
    """
    frame = _frame(long, "long")
    vals = [values] if isinstance(values, str) else list(values)
    _need(frame, [id, visit, *vals, *keep], "long")
    _check_keys(frame, [id, visit], "long")
    check_finite(frame, vals, {v: "values" for v in vals})
    order = resolve_visit_order(
        frame, visit, id, None if visit_order is None else _check_visits(visit_order)
    )
    dup = frame.duplicated([id, visit], keep=False)
    if dup.any():
        raise DataError(
            f"Participants {_show(frame.loc[dup, id].unique().tolist())} have "
            f"more than one row for a visit in '{visit}'."
        )
    key = frame[visit].map(str)
    wide = frame.assign(_v=key).pivot(index=id, columns="_v", values=vals)
    columns = [(val, str(v)) for val in vals for v in order if (val, str(v)) in wide.columns]
    wide = wide[columns]
    wide.columns = [f"{val}{sep}{v}" for val, v in columns]
    wide = wide.reset_index()
    if keep:
        per_id = frame.drop_duplicates(id).set_index(id)[list(keep)]
        wide = wide.merge(per_id, left_on=id, right_index=True, how="left")
        wide = wide[[id, *keep, *[c for c in wide.columns if c not in (id, *keep)]]]
    return wide


def check_outcome(
    data: pd.DataFrame,
    *,
    outcome: str,
    subject: str | None = None,
    measure: str | None = None,
    sentinels: Sequence[Any] = DEFAULT_SENTINELS,
    action: str = "raise",
) -> pd.DataFrame:
    """Find missing-data codes and impossible values in an outcome column.

    Exports code "not done" as −99, −999, 999 or "."; analysed as numbers they are
    scores. With ``measure=`` (a name in :mod:`rehabstats.measures`, e.g. ``"mal_aou"``,
    ``"berg"``), values outside the measure's range (MAL 0–5, Berg 0–56) are found too.
    ``action="raise"`` raises a DataError listing the participants; ``"missing"``
    returns a copy with those values set to missing and a warning listing them.

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` with a numeric ``outcome`` column.

    Examples
    --------
    >>> import pandas as pd, rehabstats as rs, warnings
    >>> d = pd.DataFrame({"pid": ["p1", "p2", "p3"], "mal": [2.5, -99, 6.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     rs.data.check_outcome(d, outcome="mal", subject="pid", measure="mal_aou",
    ...                           action="missing")["mal"].tolist()
    [2.5, nan, nan]
    """
    from . import measures as _measures
    from ._validate import check_option

    frame = _frame(data)
    check_option(action, "action", ("raise", "missing"))
    _need(frame, [outcome, *([subject] if subject else [])])
    col = frame[outcome]
    who = frame[subject] if subject else pd.Series(frame.index, index=frame.index)
    sentinel_text = {str(s).strip() for s in sentinels}
    sentinel_num = set()
    for s in sentinels:
        try:
            sentinel_num.add(float(s))
        except (TypeError, ValueError):
            pass
    as_text = col.map(lambda v: "" if v is None or v is pd.NA else str(v).strip())
    numeric = pd.to_numeric(
        col.where(~as_text.isin(sentinel_text) | col.isna()), errors="coerce"
    ).astype(float)
    is_sentinel = (as_text.isin(sentinel_text) & col.notna()) | numeric.isin(sentinel_num)
    bad_text = numeric.isna() & col.notna() & ~is_sentinel
    if bad_text.any():
        shown = _show([f"{w} ({v!r})" for w, v in zip(who[bad_text], col[bad_text], strict=True)])
        raise DataError(f"Column '{outcome}' has values that are not numbers: {shown}.")
    problems: list[tuple[str, pd.Series]] = []
    if is_sentinel.any():
        problems.append(("missing-data codes", is_sentinel))
    infinite = np.isinf(numeric) & ~is_sentinel
    if infinite.any():
        problems.append(("infinite values", infinite))
    if measure is not None:
        m = _measures.get(measure)
        low = -np.inf if m.lower is None else m.lower
        high = np.inf if m.upper is None else m.upper
        out_of_range = ~is_sentinel & numeric.notna() & ((numeric < low) | (numeric > high))
        if out_of_range.any():
            rng_text = f"{format_number(m.lower, 2)} to {format_number(m.upper, 2)}"
            problems.append(
                (f"values outside the {m.label} range ({rng_text} {m.unit})", out_of_range)
            )
    result = frame.copy()
    if not problems:
        result[outcome] = numeric
        return result
    lines = [
        f"{what}: " + _show([f"{w} ({v})" for w, v in zip(who[mask], col[mask], strict=True)])
        for what, mask in problems
    ]
    if action == "raise":
        raise DataError(
            f"Column '{outcome}' has " + "; ".join(lines) + ". Set them to missing "
            "(action='missing') or correct the data."
        )
    bad = np.zeros(len(frame), dtype=bool)
    for _, mask in problems:
        bad |= mask.to_numpy()
    numeric[bad] = np.nan
    warnings.warn(
        f"Column '{outcome}': set to missing " + "; ".join(lines) + ".",
        RehabStatsWarning,
        stacklevel=2,
    )
    result[outcome] = numeric
    return result


def _baseline_values(
    frame: pd.DataFrame, outcome: str, visit: str, subject: str, baseline_visit: Any
) -> tuple[pd.Series, pd.Series]:
    _need(frame, [outcome, visit, subject])
    _check_keys(frame, [visit, subject], "long")
    _numeric(frame, outcome, "long")
    vcol = frame[visit]
    is_base = vcol.map(str) == str(baseline_visit)
    if not is_base.any():
        present = (
            list(vcol.cat.categories)
            if isinstance(vcol.dtype, pd.CategoricalDtype)
            else vcol.dropna().unique().tolist()
        )
        raise DataError(
            f"The 'baseline_visit' {baseline_visit!r} is not in the visit column "
            f"'{visit}'; visits are {present}."
        )
    base_rows = frame[is_base]
    dup = base_rows[subject][base_rows[subject].duplicated()].unique().tolist()
    if dup:
        raise DataError(f"Participants {_show(dup)} have more than one baseline row.")
    values = _numeric(base_rows, outcome, "long")
    return pd.Series(values.to_numpy(), index=base_rows[subject].to_numpy()), is_base


def baseline_as_covariate(
    long: pd.DataFrame,
    *,
    outcome: str,
    visit: str,
    subject: str,
    baseline_visit: Any,
    name: str = "baseline",
) -> pd.DataFrame:
    """Post-baseline rows with the participant's baseline value as a column (ICH E9 shape).

    The usual primary analysis of a rehab trial models the follow-up visits adjusted for
    the baseline score (ANCOVA at one visit, MMRM over several). Participants without a
    baseline value get a missing ``name`` and are listed in a warning (a model would
    drop them).

    Examples
    --------
    >>> import rehabstats as rs
    >>> trial = rs.datasets.load("cimt_ms")
    >>> post = rs.data.baseline_as_covariate(trial, outcome="mal_aou", visit="visit",
    ...                                      subject="subject", baseline_visit="pre")
    >>> sorted(post["visit"].unique().tolist()), "baseline" in post
    (['followup', 'post'], True)
    """
    frame = _frame(long, "long")
    if name in frame.columns:
        raise DataError(f"'long' already has a column '{name}'; choose another name=.")
    base, is_base = _baseline_values(frame, outcome, visit, subject, baseline_visit)
    out = frame[~is_base].copy()
    out[name] = out[subject].map(base)
    lacking = out.loc[out[name].isna(), subject].unique().tolist()
    if lacking:
        warnings.warn(
            f"No baseline {outcome!r} at visit {baseline_visit!r} for participants "
            f"{_show(lacking)}; their '{name}' is missing.",
            RehabStatsWarning,
            stacklevel=2,
        )
    if isinstance(out[visit].dtype, pd.CategoricalDtype):
        out[visit] = out[visit].cat.remove_categories(
            [c for c in out[visit].cat.categories if str(c) == str(baseline_visit)]
        )
    return out.reset_index(drop=True)


def change_scores(
    long: pd.DataFrame,
    *,
    outcome: str,
    visit: str,
    subject: str,
    baseline_visit: Any,
    name: str = "change",
) -> pd.DataFrame:
    """Post-baseline rows with ``change = outcome − baseline`` (and the baseline).

    Examples
    --------
    >>> import rehabstats as rs
    >>> trial = rs.datasets.load("cimt_ms")
    >>> ch = rs.data.change_scores(trial, outcome="mal_aou", visit="visit",
    ...                            subject="subject", baseline_visit="pre")
    >>> row = ch.iloc[0]
    >>> row["visit"], bool(round(row["mal_aou"] - row["baseline"], 2) == round(row["change"], 2))
    ('post', True)
    """
    out = baseline_as_covariate(
        long, outcome=outcome, visit=visit, subject=subject, baseline_visit=baseline_visit
    )
    if name in long.columns:
        raise DataError(f"'long' already has a column '{name}'; choose another name=.")
    out[name] = _numeric(out, outcome, "long") - out["baseline"]
    return out
