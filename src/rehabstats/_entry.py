"""The data-entry layer shared by models, plots and the report.

One rule per question, in one place:

* :func:`resolve_visit_order` -- the order of visit labels (DESIGN.md, Conventions);
* :func:`check_labels` -- labels that differ only in case or surrounding whitespace;
* :func:`default_reference` -- the reference arm (``reference=``, else a recognised
  control label, else the first level);
* :func:`check_finite` -- infinite values in numeric columns;
* :func:`model_frame` -- a copy of the columns used, safe for ``groupby`` by name;
* :func:`show` -- values as users wrote them in messages (no ``np.int64(32)``).

Everything here raises :mod:`rehabstats.errors` exceptions and never modifies its input.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, DesignError, RehabStatsWarning

__all__ = [
    "CONTROL_LABELS",
    "MAX_MAGNITUDE",
    "arm_levels",
    "check_exact_fit",
    "check_finite",
    "check_labels",
    "default_reference",
    "drop_unobserved_visits",
    "is_control_label",
    "model_frame",
    "resolve_visit_order",
    "show",
    "show_list",
]


# ----------------------------------------------------------------------------- messages
def show(value: Any) -> str:
    """``repr`` of a value as the user wrote it: numpy scalars become Python scalars.

    >>> import numpy as np
    >>> show(np.int64(32)), show("week4"), show(np.float64(1.5))
    ('32', "'week4'", '1.5')
    """
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def show_list(values: Iterable[Any]) -> str:
    """Comma-separated :func:`show` of each value."""
    return ", ".join(show(v) for v in values)


# ----------------------------------------------------------------------------- frames
def model_frame(data: pd.DataFrame, columns: Sequence[Hashable]) -> pd.DataFrame:
    """A copy of ``data[columns]`` (each column once) whose index levels have no names.

    An index level named like a column (``df.index.name == "subject"``) makes
    pandas' ``groupby("subject")`` ambiguous; the copy keeps the row labels (so
    messages can name rows) but drops the index names.
    """
    cols = list(dict.fromkeys(columns))
    if data.columns.is_unique and all(c in data.columns for c in cols):
        # copy-on-write (pandas >= 3): the selection is independent of ``data``, and
        # reindex is about twice as fast as ``loc[:, cols].copy()`` on small frames
        frame = data.reindex(columns=cols)
    else:
        frame = data.loc[:, cols].copy()
    if any(name is not None for name in frame.index.names):
        frame.index = frame.index.set_names([None] * frame.index.nlevels)
    return frame


#: the largest magnitude a numeric model column may hold: the models square their data
#: (sums of squares, cross-products, variances), and ``1e150 ** 2`` is near the largest
#: double (1.8e308); below ``1 / MAX_MAGNITUDE`` every square underflows to zero
MAX_MAGNITUDE = 1e150


def check_finite(
    frame: pd.DataFrame, columns: Iterable[Hashable], args: dict[Hashable, str] | None = None
) -> None:
    """Raise a DataError naming the column and the first row holding ``inf`` or ``-inf``,
    or a column whose values cannot be squared in double precision.

    A column whose largest absolute value exceeds :data:`MAX_MAGNITUDE` (1e150), or
    is non-zero but below ``1e-150``, would overflow (underflow) in the sums of
    squares of every model: the error asks for other units instead of returning
    an ``inf``/``0`` variance.

    >>> import pandas as pd
    >>> check_finite(pd.DataFrame({"y": [1.0, 2.0]}), ["y"])
    >>> check_finite(pd.DataFrame({"y": [1e300, 2e300]}), ["y"], {"y": "outcome"})
    Traceback (most recent call last):
    ...
    rehabstats.errors.DataError: Column 'y' ('outcome') holds values of magnitude 2e+300 (row 1); their squares are not representable in double precision. Rescale the column (e.g. to other units) so that its values lie between 1e-150 and 1e150.
    """
    args = args or {}
    for col in columns:
        s = frame[col]
        if isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            continue
        if pd.api.types.is_bool_dtype(s.dtype):
            continue
        vals = s.to_numpy(dtype=float, na_value=np.nan)
        absval = np.abs(vals)
        top = float(np.fmax.reduce(absval)) if absval.size else math.nan  # NaN ignored
        if not (top == math.inf or top > MAX_MAGNITUDE or 0 < top < 1 / MAX_MAGNITUDE):
            continue  # the common case: one pass, no error to locate
        bad = np.isinf(vals)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            role = f" ('{args[col]}')" if col in args else ""
            raise DataError(
                f"Column {col!r}{role} holds an infinite value ({show(vals[pos])}) in row "
                f"{show(s.index[pos])} ({int(bad.sum())} in all); outcomes and covariates "
                "must be finite (code missing values as NaN)."
            )
        pos = int(np.nanargmax(absval))
        big = float(absval[pos])
        if big > MAX_MAGNITUDE or 0 < big < 1 / MAX_MAGNITUDE:
            role = f" ('{args[col]}')" if col in args else ""
            raise DataError(
                f"Column {col!r}{role} holds values of magnitude {big:.3g} (row "
                f"{show(s.index[pos])}); their squares are not representable in double "
                "precision. Rescale the column (e.g. to other units) so that its values lie "
                "between 1e-150 and 1e150."
            )


def check_exact_fit(
    y: np.ndarray, X: np.ndarray, outcome: Hashable, *, model: str = "the model"
) -> None:
    """Raise a DataError when the fixed effects reproduce the outcome exactly.

    A constant outcome, or one that the fixed-effects design fits without
    residual (a 0/1 outcome that is a function of arm and visit), leaves every
    variance parameter at zero: REML has no interior optimum, the optimisers
    wander for seconds and the inference divides by zero. One least-squares
    fit (``X`` of full column rank) detects it before any of that: the residual
    norm is at most ``1e-10`` times the norm of the centred outcome.

    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0, 1, 0, 1]])
    >>> check_exact_fit(np.array([1.0, 2.0, 1.5, 2.5]), X, "y")
    >>> check_exact_fit(np.array([1.0, 2.0, 1.0, 2.0]), X, "y", model="lmm()")
    Traceback (most recent call last):
    ...
    rehabstats.errors.DataError: The outcome 'y' is fitted exactly by the fixed effects of lmm() (no residual variation; 4 observations): the variance parameters are not identifiable. Check the outcome column (a copy of a design column, or a constant?).
    """
    y = np.asarray(y, dtype=float)
    if y.size == 0:
        return
    if np.ptp(y) == 0:
        raise DataError(
            f"The outcome {outcome!r} is constant ({show(float(y[0]))} in all {y.size} "
            f"observations): {model} needs variation in the outcome to estimate its "
            "variance parameters."
        )
    centred = float(np.linalg.norm(y - y.mean()))
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    resid = float(np.linalg.norm(y - X @ beta))
    if resid <= 1e-10 * centred:
        raise DataError(
            f"The outcome {outcome!r} is fitted exactly by the fixed effects of {model} "
            f"(no residual variation; {y.size} observations): the variance parameters are "
            "not identifiable. Check the outcome column (a copy of a design column, or a "
            "constant?)."
        )


# ----------------------------------------------------------------------------- labels
def _norm(label: Any) -> str:
    return str(label).strip().casefold()


def check_labels(series: pd.Series, name: str) -> None:
    """Raise a DataError when labels differ only in case or surrounding whitespace.

    ``"CIMT"``, ``"cimt"`` and ``"CIMT "`` in one column are almost always one
    arm typed three ways; analysing them as three levels gives wrong numbers
    without a word, so every function that takes labels (arms, visits, phases)
    refuses them and lists them. Numeric columns are not checked.

    Parameters
    ----------
    series : pandas.Series
        The labels (missing values are ignored).
    name : str
        The column (or argument) named in the message.

    Raises
    ------
    DataError
        Listing every group of clashing labels.

    Examples
    --------
    >>> import pandas as pd
    >>> check_labels(pd.Series(["CIMT", "control"]), "arm")   # fine
    >>> check_labels(pd.Series(["CIMT", "cimt ", "control"]), "arm")
    Traceback (most recent call last):
    ...
    rehabstats.errors.DataError: Column 'arm' has labels that differ only in case or surrounding whitespace: 'CIMT', 'cimt '. Make them identical (e.g. data['arm'].str.strip()) or pass a Categorical.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = series.array.codes
        values: list[Any] = list(dtype.categories[np.unique(codes[codes >= 0])])
    elif pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return
    else:  # missing values are not strings: the loop below skips them
        values = list(pd.unique(series.to_numpy()))
    groups: dict[str, list[Any]] = {}
    for v in values:
        if isinstance(v, (str, np.str_)):
            groups.setdefault(_norm(v), []).append(v)
    clashes = [g for g in groups.values() if len(g) > 1]
    if clashes:
        listed = "; ".join(show_list(g) for g in clashes)
        raise DataError(
            f"Column {name!r} has labels that differ only in case or surrounding whitespace: "
            f"{listed}. Make them identical (e.g. data[{name!r}].str.strip()) or pass a "
            "Categorical."
        )


# ----------------------------------------------------------------------------- reference arm
#: recognised control-arm labels (compared case-insensitively, with ``_``/``-``/spaces alike)
CONTROL_LABELS = (
    "control",
    "controls",
    "control group",
    "ctrl",
    "ctl",
    "usual care",
    "usual",
    "standard care",
    "standard of care",
    "soc",
    "care as usual",
    "cau",
    "treatment as usual",
    "tau",
    "sham",
    "sham stimulation",
    "placebo",
    "pbo",
    "waitlist",
    "wait list",
    "waiting list",
    "wait list control",
    "waitlist control",
    "wl",
    "no treatment",
    "no intervention",
)
_CONTROL_SET = frozenset(CONTROL_LABELS)


def is_control_label(label: Any) -> bool:
    """Whether ``label`` is a recognised control-arm label (see :data:`CONTROL_LABELS`).

    >>> is_control_label("Usual_Care"), is_control_label("wait-list"), is_control_label("CIMT")
    (True, True, False)
    """
    if not isinstance(label, (str, np.str_)):
        return False
    key = re.sub(r"[\s_\-]+", " ", str(label)).strip().casefold()
    return key in _CONTROL_SET


def arm_levels(series: pd.Series) -> list[Any]:
    """The arm levels before choosing a reference: a Categorical's categories that
    occur, else the sorted distinct values (as R's ``factor``).
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in present]
    values = list(pd.unique(series.dropna()))
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _match_level(value: Any, levels: Sequence[Any]) -> Any:
    """The level equal to ``value`` (``"1"`` also matches the integer 1), or raise."""
    for lv in levels:
        if lv == value:
            return lv
    for lv in levels:
        if str(lv) == str(value):
            return lv
    raise KeyError(value)


def default_reference(
    levels: Sequence[Any], reference: Any = None, *, name: str = "arm", stacklevel: int = 3
) -> Any:
    """The reference arm: ``reference`` if given, else a recognised control label, else
    the first level.

    Parameters
    ----------
    levels : sequence
        The arm levels in their natural order (see :func:`arm_levels`).
    reference : optional
        The user's choice; must be one of ``levels`` (``"1"`` matches ``1``).
    name : str
        The arm column, named in messages.

    Returns
    -------
    The reference level (an element of ``levels``).

    Raises
    ------
    DataError
        ``reference`` is not a level.

    Warns
    -----
    RehabStatsWarning
        Several levels look like control arms (e.g. ``"sham"`` and
        ``"usual care"``): the first of them is used; pass ``reference=``.

    Examples
    --------
    >>> default_reference(["CIMT", "Control"])
    'Control'
    >>> default_reference(["high", "low"])
    'high'
    >>> default_reference(["a", "b"], "b")
    'b'
    """
    levels = list(levels)
    if reference is not None:
        try:
            return _match_level(reference, levels)
        except KeyError:
            raise DataError(
                f"The 'reference' arm {show(reference)} is not a level of column {name!r}; "
                f"levels: {show_list(levels)}."
            ) from None
    if not levels:
        return None
    controls = [lv for lv in levels if is_control_label(lv)]
    if len(controls) > 1:
        warnings.warn(
            f"Several arms of column {name!r} look like control arms ({show_list(controls)}); "
            f"{show(controls[0])} is used as the reference arm. Pass reference= to choose.",
            RehabStatsWarning,
            stacklevel=stacklevel,
        )
    return controls[0] if controls else levels[0]


# ----------------------------------------------------------------------------- visit order
_NUM = re.compile(r"\d+(?:\.\d+)?")


def _natural_keys(labels: Sequence[Any]) -> list[tuple[float, ...]] | None:
    """Numeric sort keys when every label carries a number in one shared pattern.

    ``"week4"``/``"week12"`` (pattern ``week#``), ``"1"``/``"10"``, ``"month6"``:
    keys are the numbers in the label. Labels with different text around the
    numbers (``"day1"``, ``"week2"``) or equal keys return None.
    """
    patterns = set()
    keys = []
    for lab in labels:
        text = str(lab).strip()
        nums = _NUM.findall(text)
        if not nums:
            return None
        patterns.add(_NUM.sub("#", text).casefold())
        keys.append(tuple(float(n) for n in nums))
    if len(patterns) != 1 or len(set(keys)) != len(keys):
        return None
    return keys


def _sequence_order(
    data: pd.DataFrame, visit: Hashable, subject: Hashable, labels: list[Any]
) -> list[Any] | str:
    """The one order every subject's row sequence agrees with, or a reason why not.

    Each subject's labels in row order (first occurrence) give precedence edges;
    the merged graph must be acyclic and fix a unique order (a topological sort
    with one candidate at each step). Subjects may miss visits.
    """
    frame = data[[subject, visit]].dropna()
    frame = frame.loc[~frame.duplicated()]
    index = {lab: i for i, lab in enumerate(labels)}
    codes = frame[visit].map(index).to_numpy()
    subj = pd.factorize(frame[subject])[0]
    # consecutive pairs within a subject (rows keep their order inside each subject)
    order = np.argsort(subj, kind="stable")
    s, c = subj[order], codes[order]
    same = s[1:] == s[:-1]
    a, b = c[:-1][same], c[1:][same]
    k = len(labels)
    succ = np.zeros((k, k), dtype=bool)
    succ[a, b] = True
    if np.any(succ & succ.T):
        i, j = np.argwhere(succ & succ.T)[0]
        return (
            f"subjects disagree: some have {show(labels[i])} before {show(labels[j])}, "
            "others after it"
        )
    indeg = succ.sum(axis=0)
    remaining = np.ones(k, dtype=bool)
    result: list[Any] = []
    for _ in range(k):
        ready = np.flatnonzero(remaining & (indeg == 0))
        if len(ready) == 0:
            return "subjects' row sequences contradict each other (a cycle of visits)"
        if len(ready) > 1:
            return f"the rows do not say whether {show_list(labels[r] for r in ready)} come first"
        r = int(ready[0])
        result.append(labels[r])
        remaining[r] = False
        indeg = indeg - succ[r]
    return result


def resolve_visit_order(
    data: pd.DataFrame,
    visit: Hashable,
    subject: Hashable | None = None,
    visit_order: Sequence[Any] | None = None,
) -> list[Any]:
    """The order of the visit labels: one rule for models, plots and the report.

    In order of precedence:

    1. ``visit_order`` (a list of labels): every label in the data must be in it
       (labels listed but absent from the data are left out of the result);
    2. a pandas Categorical: its category order (categories that occur in the
       data; unused categories are ignored);
    3. numeric visits: sorted;
    4. labels that all carry a number in one shared pattern: natural order
       (``"week4" < "week12"``, ``"1" < "2" < "10"``, ``"month0" < "month6"``);
    5. otherwise (``"screening", "baseline", "week4"`` or ``"pre", "post",
       "6m"``): the within-subject sequence of rows, when every subject's rows
       agree with one order and together fix it (subjects may miss visits);
    6. otherwise a :class:`~rehabstats.errors.DesignError` asking for ``visit_order=``.

    Row order alone never decides: rule 5 needs ``subject`` and the agreement of
    every subject, and the merged sequence must fix one order. Shuffled rows
    leave rules 1-4 unchanged and almost always make rule 5 raise; with very
    few subjects a shuffle can by chance still agree on a wrong order, so pass
    ``visit_order`` (or a Categorical) whenever rows are not in time order
    within subjects.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data (not modified).
    visit : str
        The visit column.
    subject : str, optional
        The subject column (needed only for rule 5).
    visit_order : sequence, optional
        The order to use. ``"1"`` matches a visit coded ``1``.

    Returns
    -------
    list
        The visit labels present in ``data``, in order (values as in the data).

    Raises
    ------
    DataError
        ``visit_order`` is not a list of distinct labels, or misses labels that
        occur in the data (listed), or labels differ only in case/whitespace.
    DesignError
        The order cannot be determined (rule 6).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"id": [1, 1, 1, 2, 2], "v": ["week12", "baseline", "week4",
    ...                                                 "baseline", "week12"]})
    >>> resolve_visit_order(d, "v", "id", visit_order=["baseline", "week4", "week12"])
    ['baseline', 'week4', 'week12']
    >>> resolve_visit_order(pd.DataFrame({"v": ["10", "2", "1"]}), "v")
    ['1', '2', '10']
    >>> d2 = pd.DataFrame({"id": [1, 1, 1, 2, 2], "v": ["pre", "post", "6m", "pre", "6m"]})
    >>> resolve_visit_order(d2, "v", "id")
    ['pre', 'post', '6m']
    """
    series = data[visit]
    check_labels(series, str(visit))
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.array.codes
        present = list(series.dtype.categories[np.unique(codes[codes >= 0])])
    else:
        present = list(pd.unique(series.dropna()))
    if visit_order is not None:
        if isinstance(visit_order, (str, bytes)) or not isinstance(visit_order, Iterable):
            raise DataError(
                f"'visit_order' must be a list of visit labels in order, e.g. "
                f"['baseline', 'week4', 'week12']; got {visit_order!r}."
            )
        order = list(visit_order)
        if len({str(o) for o in order}) != len(order):
            raise DataError(f"'visit_order' lists a label twice: {show_list(order)}.")
        matched: list[Any] = []
        missing = []
        for lab in present:
            pos = next((i for i, o in enumerate(order) if o == lab), None)
            if pos is None:
                pos = next((i for i, o in enumerate(order) if str(o) == str(lab)), None)
            if pos is None:
                missing.append(lab)
            else:
                matched.append((pos, lab))
        if missing:
            raise DataError(
                f"Column {visit!r} has visit label(s) {show_list(missing)} that 'visit_order' "
                f"({show_list(order)}) does not list; every visit in the data must be in it."
            )
        return [lab for _, lab in sorted(matched, key=lambda t: t[0])]
    if isinstance(series.dtype, pd.CategoricalDtype):
        return present
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return sorted(present)
    if not present:
        return []
    keys = _natural_keys(present)
    if keys is not None:
        return [lab for _, lab in sorted(zip(keys, present, strict=True), key=lambda t: t[0])]
    if len(present) == 1:
        return present
    reason = "no subject column is given"
    if subject is not None:
        seq = _sequence_order(data, visit, subject, present)
        if not isinstance(seq, str):
            return seq
        reason = seq
    raise DesignError(
        f"Cannot tell the order of the visits {show_list(present)} in column {visit!r}: "
        f"they are not numbers, do not all carry a number, and {reason}. Pass "
        "visit_order=[...] (or an ordered pandas Categorical)."
    )


def drop_unobserved_visits(
    levels: Sequence[Any],
    observed: pd.Series,
    *,
    visit: Hashable,
    outcome: Hashable,
    stacklevel: int = 3,
) -> list[Any]:
    """Remove visits without an observed outcome, warning once per visit.

    ``observed`` is the visit column of the rows with an observed outcome.
    """
    seen = set(observed.dropna().unique())
    kept = [v for v in levels if v in seen]
    for v in levels:
        if v not in seen:
            warnings.warn(
                f"visit {show(v)} has no observed outcome and was dropped (column {visit!r}, "
                f"outcome {outcome!r}).",
                RehabStatsWarning,
                stacklevel=stacklevel,
            )
    return kept


# ----------------------------------------------------------------------------- categoricals
def as_categorical(series: pd.Series, levels: Sequence[Any]) -> pd.Categorical:
    """A Categorical with categories ``levels`` built from plain values.

    Building it from another Categorical (or from values outside ``levels``)
    is deprecated in pandas 3 and an error in pandas 4 (``Pandas4Warning``);
    the values are passed as objects and checked first.
    """
    values = series.astype(object).to_numpy()
    known = set(levels)
    outside = [v for v in pd.unique(values) if not pd.isna(v) and v not in known]
    if outside:  # pragma: no cover - callers pass every level present
        raise DataError(
            f"Values {show_list(outside)} are not among the levels {show_list(levels)}."
        )
    return pd.Categorical(values, categories=list(levels))


# ----------------------------------------------------------------------------- standardisers
def pooled_sd(values: pd.Series, groups: pd.Series | None) -> tuple[float, int]:
    r"""Pooled within-group SD :math:`\sqrt{\sum_g \sum_i (x_{gi}-\bar x_g)^2 / (N - G)}`
    and its df; one group when ``groups`` is None. Missing values are ignored.
    """
    x = pd.to_numeric(values, errors="coerce").astype(float)
    keep = x.notna().to_numpy()
    if groups is None:
        g = pd.Series(np.zeros(len(x)), index=x.index)
    else:
        g = groups.astype(object)
        keep = keep & g.notna().to_numpy()
    x, g = x[keep], g[keep]
    if len(x) == 0:
        return float("nan"), 0
    means = x.groupby(g.to_numpy()).transform("mean")
    dof = int(len(x) - g.nunique())
    if dof <= 0:
        return float("nan"), dof
    return float(np.sqrt(float(((x - means) ** 2).sum()) / dof)), dof


def baseline_sd(
    frame: pd.DataFrame,
    *,
    outcome: str,
    subject: str,
    visit: str | None,
    first_visit: Any,
    arm: str | None,
    baseline: str | None,
    candidates: Sequence[str] = (),
) -> tuple[float, str]:
    """The ``"baseline_sd"`` standardiser of a repeated-measures model and what it is.

    The pooled within-arm SD of the baseline: of the covariate ``baseline``
    (one value per subject) when given; otherwise of the outcome at the first
    visit (observed rows), unless the model adjusts for subject-level numeric
    covariates (``candidates``), in which case the first modelled visit is not
    a baseline and a DesignError asks for ``baseline=``.
    """
    if baseline is not None:
        per = frame.groupby(subject, observed=True, sort=False)
        vals = per[baseline].first()
        groups = per[arm].first() if arm is not None else None
        sd, dof = pooled_sd(vals, groups)
        src = (
            f"pooled within-arm SD of the baseline covariate {baseline!r} "
            f"({int(vals.notna().sum())} subjects, df = {dof})"
        )
    else:
        if candidates:
            raise DesignError(
                "standardizer='baseline_sd' needs an identifiable baseline: the model adjusts "
                f"for the subject-level covariate(s) {show_list(candidates)}, so the first "
                f"modelled visit {show(first_visit)} is not the baseline. Name the baseline "
                "covariate with baseline=... when fitting, or use standardizer='residual_sd'."
            )
        if visit is None:
            raise DesignError(
                "standardizer='baseline_sd' needs an identifiable baseline: name the visit "
                "column with visit=... (its first visit is the baseline) or the baseline "
                "covariate with baseline=... when fitting, or use standardizer='residual_sd'."
            )
        rows = frame.loc[(frame[visit] == first_visit).to_numpy()]
        sd, dof = pooled_sd(rows[outcome], rows[arm] if arm is not None else None)
        src = (
            f"pooled within-arm SD of {outcome!r} at the first visit {show(first_visit)} "
            f"({len(rows)} observations, df = {dof})"
        )
    if not (np.isfinite(sd) and sd > 0):
        raise DesignError(f"The baseline SD ({src}) is {sd!r}; it must be positive and finite.")
    return sd, src
