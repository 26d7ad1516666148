"""One front end for the model functions: from ``(formula, data, roles)`` to a checked design.

:func:`mmrm_design` (for :func:`~rehabstats.models.mmrm`) and :func:`lmm_design`
(for :func:`~rehabstats.models.lmm`) turn the user's formula, data frame and
column roles (subject, visit, arm, baseline, ...) into a :class:`ModelDesign`:
the rows used, the outcome vector, the full-rank fixed-effects matrix and its
coefficient names, subject and visit codes, the arm and its reference level.
Both run the same steps, in this order, from the same helpers (so the same bad
input gets the same error from either model):

1. the formula: :func:`formula_parts` (outcome / right-hand side) and
   :func:`rhs_columns` (the data columns the terms use, naming any that are
   missing);
2. the columns: roles present (:func:`~rehabstats._validate.check_columns`), a
   numeric finite outcome and covariates, labels that differ only in case or
   whitespace refused (:func:`~rehabstats._entry.check_labels`);
3. the visit order, from all rows (:func:`~rehabstats._entry.resolve_visit_order`);
4. missing values (``nan_policy``: drop and announce, or raise);
5. subject-level checks: one row per subject and visit (MMRM), subject-level
   factors and the arm (:func:`subject_level_factors`, :func:`choose_arm`),
   levels with a single subject or observation, a baseline with one value per
   subject;
6. the design matrix (cached patsy design, :mod:`._design_cache`), aliased
   columns dropped (:func:`~rehabstats.models._rank.drop_aliased`) and an
   outcome fitted exactly refused.

The model functions are then design -> fit -> assemble. A new validated column
(weights, say) is one more entry of ``extra`` in the builder, checked where
``baseline`` and ``time`` are.

The design is R's ``model.frame`` / ``model.matrix`` (Chambers, J. M. & Hastie,
T. J. (1992), *Statistical Models in S*, ch. 2) with the checks R's mmrm makes in
``h_mmrm_tmb_data`` (one row per subject and visit, aliased columns dropped) and
lme4 in ``lFormula`` (more observations than random effects).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import patsy

from .._entry import (
    arm_levels,
    as_categorical,
    check_exact_fit,
    check_finite,
    check_labels,
    default_reference,
    drop_unobserved_visits,
    model_frame,
    resolve_visit_order,
    show,
    show_list,
)
from .._validate import (
    NanPolicy,
    check_columns,
    check_nan_policy,
    check_numeric_column,
    drop_missing_rows,
    show_value,
)
from ..errors import DataError, DesignError, RehabStatsWarning
from ._base import r_coef_names
from ._design_cache import design_matrix, formula_factor_codes
from ._emmeans import factor_variables
from ._rank import RankInfo, drop_aliased, pivoted_rank

__all__ = [
    "ModelDesign",
    "choose_arm",
    "formula_parts",
    "lmm_design",
    "mmrm_design",
    "parse_random",
    "rhs_columns",
    "subject_level_factors",
]

#: names that may appear in a formula without being columns (patsy functions, transforms)
FORMULA_FUNCS = frozenset(
    {
        "C",
        "Q",
        "I",
        "np",
        "log",
        "exp",
        "sqrt",
        "center",
        "standardize",
        "scale",
        "Treatment",
        "Sum",
        "Poly",
        "Diff",
        "Helmert",
        "bs",
        "cr",
        "cc",
        "te",
        "levels",
        "reference",
        "Reference",
    }
)


# --------------------------------------------------------------------------- the design
@dataclass
class ModelDesign:
    """A checked model design: what a fit needs, and what its result reports.

    Attributes
    ----------
    formula, outcome, rhs : str
        The formula, its outcome (left of ``~``) and its terms (right of ``~``).
    columns : tuple of str
        The data columns the terms use.
    frame : pandas.DataFrame
        The rows used (a copy): factors as Categoricals (the visit in the visit
        order, the arm with its reference first).
    y : numpy.ndarray
        The outcome of those rows.
    X : numpy.ndarray
        The fixed-effects matrix without its aliased columns.
    design_info : patsy.DesignInfo
        The full design (aliased columns included), for new data.
    rank_info : RankInfo
        Which columns were kept (see :mod:`rehabstats.models._rank`).
    subject : str
        The subject column.
    subject_codes : numpy.ndarray
        Dense subject codes ``0 .. n_subjects - 1`` of the rows (first
        appearance order).
    visit : str or None
        The visit column.
    visit_levels : list or None
        The visits in order (those with an observed outcome).
    visit_codes : numpy.ndarray or None
        Each row's position in ``visit_levels`` (None for a numeric visit of an LMM).
    arm, reference : str or None, object
        The arm factor and its reference level.
    baseline : str or None
        The baseline covariate (one value per subject).
    baseline_candidates : tuple of str
        Numeric subject-level covariates other than ``baseline`` and the arm
        (a first visit is then not a baseline; see ``effect_sizes``).
    n_omitted : int
        Rows dropped for missing values.
    slopes : tuple of str
        LMM only: the random-slope columns.
    time : tuple of str or None
        MMRM only: the column(s) of observation times / coordinates (spatial
        structures).
    group, group_levels : str or None, list or None
        MMRM only: the column of a covariance per group and its levels in mmrm's
        order (as in the data, before the arm's reference is put first).
    weights : str or None
        MMRM only: the column of observation weights (checked by the fit).
    subject_data : pandas.DataFrame or None
        MMRM only: one row per subject of the covariates, taken before rows
        with a missing outcome are dropped (for G-computation).
    """

    formula: str
    outcome: str
    rhs: str
    columns: tuple[str, ...]
    frame: pd.DataFrame
    y: np.ndarray
    X: np.ndarray
    design_info: Any
    rank_info: RankInfo
    subject: str
    subject_codes: np.ndarray
    visit: str | None
    visit_levels: list[Any] | None
    visit_codes: np.ndarray | None
    arm: str | None
    reference: Any
    baseline: str | None
    baseline_candidates: tuple[str, ...]
    n_omitted: int
    slopes: tuple[str, ...] = ()
    time: tuple[str, ...] | None = None
    group: str | None = None
    group_levels: list[Any] | None = None
    weights: str | None = None
    subject_data: pd.DataFrame | None = None

    @property
    def coef_names(self) -> tuple[str, ...]:
        """Names (R's) of the estimated fixed effects (the columns of ``X``)."""
        return self.rank_info.kept_names

    @property
    def nobs(self) -> int:
        """Number of rows used."""
        return int(self.X.shape[0])

    @property
    def n_subjects(self) -> int:
        """Number of subjects among the rows used."""
        return int(self.subject_codes.max()) + 1 if self.subject_codes.size else 0


# --------------------------------------------------------------------------- formula
def formula_parts(formula: Any, caller: str = "mmrm") -> tuple[str, str]:
    """``(outcome, rhs)`` of ``"outcome ~ terms"``, or a DataError.

    Examples
    --------
    >>> formula_parts("chg ~ base + arm * visit")
    ('chg', 'base + arm * visit')
    >>> formula_parts("chg arm")
    Traceback (most recent call last):
    ...
    rehabstats.errors.DataError: The 'formula' argument must be a string 'outcome ~ terms', e.g. 'chg ~ arm * visit'; got 'chg arm'.
    >>> formula_parts(pd.DataFrame({"chg": [1.0]}), "lmm")
    Traceback (most recent call last):
    ...
    rehabstats.errors.DataError: The 'formula' argument must be a string 'outcome ~ terms'; got a DataFrame. The formula comes first and the data second, as in R: lmm('chg ~ arm * visit', data, ...).
    """
    if isinstance(formula, pd.DataFrame):  # data and formula swapped (ancova takes data first)
        raise DataError(
            "The 'formula' argument must be a string 'outcome ~ terms'; got a DataFrame. "
            "The formula comes first and the data second, as in R: "
            f"{caller}('chg ~ arm * visit', data, ...)."
        )
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise DataError(
            f"The 'formula' argument must be a string 'outcome ~ terms', e.g. "
            f"'chg ~ arm * visit'; got {show_value(formula)}."
        )
    lhs, rhs = (part.strip() for part in formula.split("~"))
    if not lhs or not rhs:
        raise DataError(
            f"The 'formula' {formula!r} needs an outcome left of '~' and terms right of it."
        )
    return lhs, rhs


def check_outcome_column(data: pd.DataFrame, outcome: str) -> None:
    """A DataError when the formula's outcome is not a column of ``data``."""
    if outcome not in data.columns:
        available = ", ".join(repr(c) for c in data.columns)
        raise DataError(
            f"The formula's outcome {outcome!r} is not a column of the data. "
            f"Available columns: {available}."
        )


_KWARG = re.compile(r"([A-Za-z_][A-Za-z_0-9.]*)\s*=(?!=)")


@dataclass(frozen=True)
class _Terms:
    names: tuple[tuple[str, bool], ...]  # (identifier, quoted), in formula order


_TERMS: dict[str, _Terms] = {}


def _terms(rhs: str) -> _Terms:
    hit = _TERMS.get(rhs)
    if hit is None:
        names: list[tuple[str, bool]] = []
        for code, quoted, idents in formula_factor_codes(rhs):
            kwargs = set(_KWARG.findall(re.sub(r"['\"].*?['\"]", "", code)))
            for name in dict.fromkeys([*quoted, *idents]):
                if name in kwargs and name not in quoted:
                    continue  # a keyword argument of a function call: bs(x, df=3)
                names.append((name, name in quoted))
        hit = _Terms(tuple(dict.fromkeys(names)))
        if len(_TERMS) > 256:
            _TERMS.clear()
        _TERMS[rhs] = hit
    return hit


def rhs_columns(rhs: str, data: pd.DataFrame) -> list[str]:
    """The data columns used by the terms ``rhs`` (formula order); a DataError naming
    identifiers that are neither columns nor formula functions.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1.0], "arm": ["a"], "age": [50.0]})
    >>> rhs_columns("arm * np.log(age)", d)
    ['arm', 'age']
    >>> rhs_columns("arm + dose", d)
    Traceback (most recent call last):
    ...
    rehabstats.errors.DataError: The formula names column(s) 'dose', which are not in the data. Available columns: 'y', 'arm', 'age'.
    """
    try:
        terms = _terms(rhs)
    except patsy.PatsyError as exc:
        raise DataError(f"Cannot parse the formula terms {rhs!r}: {exc}") from None
    used: list[str] = []
    missing: list[str] = []
    columns = data.columns
    for name, quoted in terms.names:
        if name in columns:
            if name not in used:
                used.append(name)
        elif (
            not quoted
            and name not in FORMULA_FUNCS
            and name.split(".")[0] not in FORMULA_FUNCS
            and name not in missing
        ):
            missing.append(name)
    if missing:
        available = ", ".join(repr(c) for c in data.columns)
        raise DataError(
            f"The formula names column(s) {', '.join(repr(c) for c in missing)}, which are not "
            f"in the data. Available columns: {available}."
        )
    return used


_RANDOM_RE = re.compile(r"^\s*1\s*(?:\+\s*[A-Za-z_][A-Za-z_0-9.]*\s*)?$")


def parse_random(random: Any, data: pd.DataFrame) -> list[str]:
    """Validate an LMM's ``random`` (``"1"``, ``"1 + time"``); return the slope columns."""
    if not isinstance(random, str) or not _RANDOM_RE.match(random):
        raise DataError(
            'The \'random\' argument must be "1" (random intercept) or "1 + <column>" '
            f"(random intercept and slope); got {random!r}."
        )
    cols = [t.strip() for t in random.split("+")[1:]]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataError(
            f"'random' names column(s) {missing} not in the data. Available columns: "
            f"{', '.join(map(repr, data.columns))}."
        )
    return cols


# --------------------------------------------------------------------------- codes
def codes_of(series: pd.Series) -> np.ndarray:
    """Integer codes of a column's values (-1 for missing): a Categorical's codes,
    else first-appearance codes.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        return np.asarray(series.array.codes, dtype=np.int64)
    return np.asarray(pd.factorize(series.to_numpy(), use_na_sentinel=True)[0], dtype=np.int64)


def subject_codes_of(series: pd.Series) -> np.ndarray:
    """Dense subject codes ``0 .. N-1`` in order of first appearance."""
    values = series if isinstance(series.dtype, pd.CategoricalDtype) else series.to_numpy()
    return np.asarray(pd.factorize(values, use_na_sentinel=True)[0], dtype=np.int64)


def n_distinct_within(groups: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the number of distinct non-missing codes."""
    ok = codes >= 0
    g, c = groups[ok], codes[ok]
    width = int(c.max()) + 1 if c.size else 1
    pairs = np.unique(g * width + c)
    return np.bincount(pairs // width, minlength=n_groups)


def per_subject_code(subject_codes: np.ndarray, codes: np.ndarray) -> np.ndarray | None:
    """Each subject's code when ``codes`` is constant within every subject, else None.

    Entry ``s + 1`` belongs to subject code ``s`` (entry 0 to a missing subject,
    code -1); -1 marks a subject without a non-missing value. O(n), no sort: one
    code per subject is written, and the codes are constant within subjects exactly
    when every row agrees with its subject's.
    """
    ok = codes >= 0
    s = subject_codes[ok] + 1
    c = codes[ok]
    first = np.full(int(s.max()) + 1 if len(s) else 0, -1, dtype=np.int64)
    first[s] = c
    return first if bool(np.all(first[s] == c)) else None


def constant_within(subject_codes: np.ndarray, values: pd.Series) -> bool:
    """Whether ``values`` takes at most one non-missing value within every subject."""
    return per_subject_code(subject_codes, codes_of(values)) is not None


def is_plain_numeric(series: pd.Series) -> bool:
    """Numeric and not a Categorical."""
    dt = series.dtype
    return pd.api.types.is_numeric_dtype(dt) and not isinstance(dt, pd.CategoricalDtype)


def present_levels(series: pd.Series) -> list[Any]:
    """:func:`~rehabstats._entry.arm_levels` (a Categorical's categories that occur,
    else sorted values), without pandas' ``unique`` for Categoricals.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.array.codes
        return list(series.dtype.categories[np.unique(codes[codes >= 0])])
    return arm_levels(series)


def categorical_as(series: pd.Series, levels: list[Any]) -> Any:
    """:func:`~rehabstats._entry.as_categorical`, skipped when ``series`` already is
    that (unordered) Categorical.
    """
    dt = series.dtype
    if (
        isinstance(dt, pd.CategoricalDtype)
        and not dt.ordered
        and len(dt.categories) == len(levels)
        and list(dt.categories) == list(levels)
    ):
        return series
    return as_categorical(series, levels)


def _set_categorical(frame: pd.DataFrame, column: str, levels: list[Any]) -> None:
    """Make ``frame[column]`` a Categorical with categories ``levels`` (in place; no
    assignment when it already is one).
    """
    series = frame[column]
    new = categorical_as(series, levels)
    if new is not series:
        frame[column] = new


_COEF_NAMES: dict[int, tuple[Any, tuple[str, ...]]] = {}


def coef_names_of(design_info: Any) -> tuple[str, ...]:
    """:func:`~rehabstats.models._base.r_coef_names`, once per (cached) DesignInfo."""
    hit = _COEF_NAMES.get(id(design_info))
    if hit is not None and hit[0] is design_info:
        return hit[1]
    names = tuple(r_coef_names(design_info))
    if len(_COEF_NAMES) > 128:
        _COEF_NAMES.clear()
    _COEF_NAMES[id(design_info)] = (design_info, names)
    return names


def has_missing(frame: pd.DataFrame, cols: Sequence[str]) -> bool:
    """Whether any of ``cols`` holds a missing value (cheap: no row mask)."""
    for c in cols:
        s = frame[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            if (s.array.codes < 0).any():
                return True
        elif isinstance(s.dtype, np.dtype) and s.dtype.kind in "iub":
            continue  # numpy ints and bools cannot be missing (pandas' Int64 / boolean can)
        elif bool(pd.isna(s.to_numpy()).any()):
            return True
    return False


def drop_missing(
    frame: pd.DataFrame, cols: Sequence[str], nan_policy: NanPolicy, stacklevel: int
) -> tuple[pd.DataFrame, int]:
    """``(rows without a missing value in cols, number dropped)``; announce or raise
    (``nan_policy``); the frame itself when nothing is missing.
    """
    if has_missing(frame, cols):
        return drop_missing_rows(
            frame, list(cols), nan_policy=nan_policy, stacklevel=stacklevel + 1
        )
    check_nan_policy(nan_policy)
    return frame, 0


def no_complete_rows(frame: pd.DataFrame, cols: Sequence[str], outcome: str) -> DataError:
    """The error for a model frame that :func:`drop_missing` emptied, naming the culprits.

    ``frame`` is the frame before the rows were dropped: the columns of ``cols``
    without any observed value are named (the weights, say, not the outcome);
    when every column has some value, every row misses one of them.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"y": [1.0, 2.0], "w": [float("nan")] * 2})
    >>> str(no_complete_rows(f, ["y", "w"], "y"))
    "No complete rows remain: column(s) 'w' hold no observed value."
    """
    empty = [c for c in dict.fromkeys(cols) if bool(frame[c].isna().all())]
    if empty:
        return DataError(
            f"No complete rows remain: column(s) {show_list(empty)} hold no observed value."
        )
    return DataError(
        f"No complete rows remain: every row misses {outcome!r} or another column of the "
        f"model ({', '.join(map(repr, dict.fromkeys(cols)))})."
    )


# --------------------------------------------------------------------------- subject level
def subject_level_factors(
    frame: pd.DataFrame,
    cols: Sequence[str],
    subject_codes: np.ndarray,
    exclude: Sequence[str | None] = (),
) -> list[str]:
    """The factor columns of ``cols`` (not numeric) constant within every subject."""
    out = []
    for c in cols:
        if c in exclude:
            continue
        s = frame[c]
        if is_plain_numeric(s):
            continue
        if per_subject_code(subject_codes, codes_of(s)) is not None:
            out.append(c)
    return out


def subject_level_numeric(
    frame: pd.DataFrame,
    cols: Sequence[str],
    subject_codes: np.ndarray,
    exclude: Sequence[str | None] = (),
) -> tuple[str, ...]:
    """The numeric columns of ``cols`` constant within every subject."""
    return tuple(
        c
        for c in cols
        if c not in exclude
        and is_plain_numeric(frame[c])
        and constant_within(subject_codes, frame[c])
    )


def choose_arm(
    frame: pd.DataFrame,
    arm: str | None,
    reference: Any,
    subject_factors: Sequence[str],
    *,
    stacklevel: int,
) -> tuple[str | None, Any]:
    """The arm (``arm`` or the first subject-level factor) and its reference level;
    sets the arm column of ``frame`` to a Categorical with the reference first.
    """
    if arm is None:
        arm = subject_factors[0] if subject_factors else None
    elif is_plain_numeric(frame[arm]):
        raise DataError(
            f"The 'arm' column {arm!r} is numeric; code the arms as labels "
            "(strings or a Categorical) so that they form a factor."
        )
    ref_arm = None
    if arm is not None:
        lv = present_levels(frame[arm])
        ref_arm = default_reference(lv, reference, name=arm, stacklevel=stacklevel + 1)
        _set_categorical(frame, arm, [ref_arm, *[v for v in lv if v != ref_arm]])
    elif reference is not None:
        raise DataError(
            "'reference' was given but the formula has no arm factor (a "
            "subject-level factor); name it with arm=...."
        )
    return arm, ref_arm


def _lonely_level(frame: pd.DataFrame, fac: str, subject: str, level: Any) -> DesignError:
    return DesignError(
        f"Level {show(level)} of the between-subject factor {fac!r} has a single subject; at "
        "least two subjects per level are needed to separate its effect from the subject's."
    )


def check_subject_levels(
    frame: pd.DataFrame, factors: Sequence[str], subject: str, subject_codes: np.ndarray
) -> None:
    """A DesignError when a level of a subject-level factor has a single subject."""
    n_sub = int(subject_codes.max()) + 1 if subject_codes.size else 0
    for fac in factors:
        fcodes = codes_of(frame[fac])
        n_lev = int(fcodes.max()) + 1
        present = np.bincount(fcodes[fcodes >= 0], minlength=n_lev) > 0
        per_subject = per_subject_code(subject_codes, fcodes)
        if per_subject is not None:  # subjects per level
            per_level = np.bincount(per_subject[per_subject >= 0], minlength=n_lev)
        else:  # distinct (level, subject) pairs
            ok = fcodes >= 0
            pairs = np.unique(fcodes[ok] * max(n_sub, 1) + subject_codes[ok])
            per_level = np.bincount(pairs // max(n_sub, 1), minlength=n_lev)
        lonely = np.flatnonzero(present & (per_level < 2))
        if lonely.size:
            s = frame[fac]
            if isinstance(s.dtype, pd.CategoricalDtype):
                level = s.cat.categories[lonely[0]]
            else:  # the first in sorted order (as a groupby names them)
                uniques = pd.unique(s.dropna().to_numpy())
                level = arm_levels(pd.Series(uniques[lonely], dtype=object))[0]
            raise _lonely_level(frame, fac, subject, level)


def check_baseline(
    frame: pd.DataFrame, baseline: str, subject_codes: np.ndarray, subject: str
) -> None:
    """A DataError when the baseline covariate varies within a subject."""
    n_sub = int(subject_codes.max()) + 1 if subject_codes.size else 0
    counts = n_distinct_within(subject_codes, codes_of(frame[baseline]), n_sub)
    if (counts > 1).any():
        subjects = pd.unique(frame[subject].to_numpy())  # in code order
        who = arm_levels(pd.Series(subjects[counts > 1], dtype=object))[0]  # first sorted
        raise DataError(
            f"The baseline column {baseline!r} must hold one value per subject; subject "
            f"{show(who)} has several."
        )


def check_levels(
    design_info: Any, frame: pd.DataFrame, subject: str, subject_codes: np.ndarray
) -> None:
    """Every level of a formula factor needs two observations, and a level of a
    between-subject factor two subjects (the LMM's check).
    """
    categorical, _ = factor_variables(design_info, frame)
    for col, levels in categorical.items():
        values = frame[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = np.asarray(values.array.codes, dtype=np.int64)
            keys = list(values.dtype.categories)
        else:
            fcodes, uniques = pd.factorize(values.to_numpy(), use_na_sentinel=True)
            codes, keys = np.asarray(fcodes, dtype=np.int64), list(uniques)
        ok = codes >= 0
        n_obs = np.bincount(codes[ok], minlength=len(keys))
        counts = dict(zip(keys, n_obs.tolist(), strict=True))
        single = [lv for lv in levels if counts.get(lv, 0) == 1]
        if single:
            raise DesignError(
                f"Level {single[0]!r} of {col!r} has a single observation; each level needs "
                "at least two (merge or drop it)."
            )
        per_subject = per_subject_code(subject_codes, codes)
        if per_subject is not None:  # a between-subject factor: count its subjects
            n_s = np.bincount(per_subject[per_subject >= 0], minlength=len(keys))
            n_subj = dict(zip(keys, n_s.tolist(), strict=True))
            lonely = [lv for lv in levels if n_subj.get(lv, 0) == 1]
            if lonely:
                raise _lonely_level(frame, col, subject, lonely[0])


def subject_rows(frame: pd.DataFrame, subject: str, covariates: list[str]) -> pd.DataFrame:
    """One row per subject: its first row with every covariate observed (mmrm's
    ``h_get_subject_data`` takes the first row; time-varying covariates keep that value).
    """
    ok = ~frame[covariates].isna().any(axis=1) if covariates else pd.Series(True, frame.index)
    rows = frame.loc[ok.to_numpy(), [subject, *covariates]]
    return rows.drop_duplicates(subject).reset_index(drop=True)


def all_visit_levels(
    series: pd.Series, present: list[Any], visit_order: Sequence[Any] | None
) -> list[Any]:
    """Every visit level (``drop_visit_levels=False``): ``visit_order``, else a
    Categorical's categories, else every label in the data (missing outcomes included).
    """
    if visit_order is not None:
        out = []
        for o in visit_order:
            hit = next((v for v in present if v == o or str(v) == str(o)), o)
            out.append(hit)
        return out
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    return list(present)


def _duplicate_visit(frame: pd.DataFrame, subject: str, visit: str) -> DataError:
    dup = frame.duplicated([subject, visit], keep=False)
    first = frame.loc[dup].iloc[0]
    n = int(((frame[subject] == first[subject]) & (frame[visit] == first[visit])).sum())
    return DataError(
        f"Subject {show(first[subject])} has visit {show(first[visit])} listed "
        f"{n} times; each subject needs at most one row per visit (column {visit!r})."
    )


def _fixed_effects(
    rhs: str,
    frame: pd.DataFrame,
    cols: list[str],
    y: np.ndarray,
    outcome: str,
    model: str,
    stacklevel: int,
    parse_error: str,
    accept_singular: bool = True,
) -> tuple[np.ndarray, Any, RankInfo]:
    """The full-rank design matrix, its DesignInfo and RankInfo; an exact fit refused.

    ``accept_singular=False`` refuses a rank-deficient design (mmrm's
    ``accept_singular = FALSE``) instead of dropping its aliased columns.
    """
    try:
        X, design_info = design_matrix(rhs, frame, cols)
    except patsy.PatsyError as exc:
        raise DataError(f"{parse_error}: {exc}") from None
    if not accept_singular:
        aliased = pivoted_rank(X, coef_names_of(design_info)).aliased
        if aliased:
            raise DesignError(
                f"The fixed-effects design is rank deficient: column(s) "
                f"{', '.join(repr(a) for a in aliased)} are linear combinations of the others "
                "(an empty arm x visit cell, a constant or collinear covariate). "
                "accept_singular=False refuses to drop them (mmrm's accept_singular = FALSE); "
                "use accept_singular=True to drop them with a warning, or change the formula."
            )
    X, rank_info = drop_aliased(X, coef_names_of(design_info), stacklevel=stacklevel + 1)
    check_exact_fit(y, X, outcome, model=model)
    return X, design_info, rank_info


# --------------------------------------------------------------------------- MMRM
def mmrm_design(
    formula: str,
    data: pd.DataFrame,
    *,
    subject: str,
    visit: str,
    nan_policy: NanPolicy = "omit",
    visit_order: Sequence[Any] | None = None,
    arm: str | None = None,
    reference: Any = None,
    baseline: str | None = None,
    time: Sequence[str] | None = None,
    group: str | None = None,
    weights: str | None = None,
    drop_visit_levels: bool = True,
    accept_singular: bool = True,
    single_visit_ok: bool = False,
    stacklevel: int = 3,
) -> ModelDesign:
    """The checked design of :func:`~rehabstats.models.mmrm` (step 1 of design -> fit -> assemble).

    Parameters
    ----------
    formula, data, subject, visit, nan_policy, visit_order, arm, reference, baseline
        As :func:`~rehabstats.models.mmrm` (``data`` is not modified).
    time : list of str, optional
        The coordinate column(s) of a spatial structure.
    group, weights, drop_visit_levels, accept_singular
        As :func:`~rehabstats.models.mmrm`.
    single_visit_ok : bool
        Skip the check that every visit has two observations (spatial
        structures estimate one variance for all times).
    stacklevel : int
        Stack level of the warnings, counted from this function's caller's caller
        (the user's call of ``mmrm()``).

    Returns
    -------
    ModelDesign

    Raises
    ------
    DataError, DesignError
        As listed by :func:`~rehabstats.models.mmrm` for bad data (the option
        checks of ``covariance``, ``df_method`` and ``vcov`` are the model's).

    Examples
    --------
    >>> import rehabstats as rs
    >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
    >>> design = mmrm_design("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
    >>> design.coef_names[:2], design.reference, design.n_omitted
    (('(Intercept)', 'armactive'), 'placebo', 0)
    >>> design.X.shape == (len(df), len(design.coef_names))
    True
    """
    outcome, rhs = formula_parts(formula)
    time_cols = list(time or [])
    check_columns(
        data,
        {
            "subject": subject,
            "visit": visit,
            "arm": arm,
            "baseline": baseline,
            **{f"time[{i}]" if len(time_cols) > 1 else "time": c for i, c in enumerate(time_cols)},
            "group": group,
            "weights": weights,
        },
    )
    check_outcome_column(data, outcome)
    rhs_cols = rhs_columns(rhs, data)
    if arm is not None and arm not in rhs_cols:
        raise DataError(f"'arm' is {arm!r}, which is not a term of the formula {formula!r}.")
    y_dtype = data[outcome].dtype
    y_all = None if y_dtype == np.float64 else check_numeric_column(data, outcome, "outcome")
    cols = list(dict.fromkeys([subject, visit, *rhs_cols]))
    # validated columns outside the formula
    extra = [
        c
        for c in dict.fromkeys([baseline, *time_cols, group, weights])
        if c is not None and c not in cols
    ]
    frame = model_frame(data, [*cols, *extra, outcome])
    if y_all is not None:
        frame[outcome] = y_all.to_numpy()
    check_finite(
        frame, [outcome, *rhs_cols, *[c for c in extra if c != group]], {outcome: "outcome"}
    )
    for c in rhs_cols:  # the visit column is checked by resolve_visit_order below
        if c != visit:
            check_labels(frame[c], c)
    if baseline is not None:
        frame[baseline] = check_numeric_column(frame, baseline, "baseline")
    for c in time_cols:
        frame[c] = check_numeric_column(frame, c, "time")
    # the visit order comes from all rows (missing outcomes included), never row order alone
    all_levels = resolve_visit_order(frame, visit, subject, visit_order)
    needed = [outcome, *cols, *time_cols, *[c for c in (group, weights) if c is not None]]
    # every subject's covariates (outcome missing or not), for marginal_effect (G-computation)
    subject_data = subject_rows(frame, subject, [c for c in cols if c not in (subject, visit)])
    before = frame
    frame, n_omitted = drop_missing(frame, needed, nan_policy, stacklevel + 1)
    if len(frame) == 0:
        raise no_complete_rows(before, needed, outcome)
    if drop_visit_levels:
        # every level of all_levels occurs in the rows; only dropped rows can remove one
        levels = (
            drop_unobserved_visits(
                all_levels, frame[visit], visit=visit, outcome=outcome, stacklevel=stacklevel + 1
            )
            if n_omitted
            else list(all_levels)
        )
    else:  # mmrm's drop_visit_levels = FALSE: keep every level (they count in the distances)
        levels = all_visit_levels(data[visit], all_levels, visit_order)
    _set_categorical(frame, visit, levels)
    # mmrm's group order: the levels as in the data (before the arm's reference is put first)
    group_levels = present_levels(frame[group]) if group is not None else None
    subj_codes = subject_codes_of(frame[subject])
    if baseline is not None:
        check_baseline(frame, baseline, subj_codes, subject)
    visit_codes = np.asarray(frame[visit].array.codes, dtype=np.int64)
    m_lev = len(levels)
    if np.unique(subj_codes * m_lev + visit_codes).size < len(frame):
        raise _duplicate_visit(frame, subject, visit)
    counts = np.bincount(visit_codes, minlength=m_lev)
    single = [
        v
        for i, v in enumerate(levels)
        if 0 < counts[i] < 2 or (counts[i] == 0 and drop_visit_levels)
    ]
    if single and not single_visit_ok:
        if int(subj_codes.max()) == 0:  # every visit has one observation: name the cause
            raise DesignError(
                f"The data have a single subject ({show(frame[subject].iloc[0])}, column "
                f"{subject!r}); an MMRM estimates the covariance across subjects and needs "
                "several."
            )
        raise DesignError(
            f"Visit(s) {show_list(single)} of column {visit!r} have a single "
            "observation; the visit variance cannot be estimated. Drop or merge that visit."
        )
    factors = subject_level_factors(frame, rhs_cols, subj_codes, (subject, visit))
    arm, ref_arm = choose_arm(frame, arm, reference, factors, stacklevel=stacklevel + 1)
    check_subject_levels(frame, factors, subject, subj_codes)
    candidates = subject_level_numeric(frame, rhs_cols, subj_codes, (subject, visit, baseline, arm))
    y = frame[outcome].to_numpy(float)
    X, design_info, rank_info = _fixed_effects(
        rhs,
        frame,
        rhs_cols,
        y,
        outcome,
        "mmrm()",
        stacklevel + 1,
        f"Cannot build the design matrix for {rhs!r}",
        accept_singular=accept_singular,
    )
    return ModelDesign(
        formula=formula,
        outcome=outcome,
        rhs=rhs,
        columns=tuple(rhs_cols),
        frame=frame,
        y=y,
        X=X,
        design_info=design_info,
        rank_info=rank_info,
        subject=subject,
        subject_codes=subj_codes,
        visit=visit,
        visit_levels=list(levels),
        visit_codes=visit_codes,
        arm=arm,
        reference=ref_arm,
        baseline=baseline,
        baseline_candidates=candidates,
        n_omitted=n_omitted,
        time=tuple(time_cols) if time_cols else None,
        group=group,
        group_levels=group_levels,
        weights=weights,
        subject_data=subject_data,
    )


# --------------------------------------------------------------------------- LMM
def lmm_design(
    formula: str,
    data: pd.DataFrame,
    *,
    subject: str,
    random: str = "1",
    nan_policy: NanPolicy = "omit",
    visit: str | None = None,
    visit_order: Sequence[Any] | None = None,
    arm: str | None = None,
    reference: Any = None,
    baseline: str | None = None,
    stacklevel: int = 3,
) -> ModelDesign:
    """The checked design of :func:`~rehabstats.models.lmm` (step 1 of design -> fit -> assemble).

    As :func:`mmrm_design`, except that the visit is optional (default: a
    formula column named ``"visit"``), rows repeating a subject-visit pair are
    kept as replicates (with a warning), every factor level needs two
    observations, and string factors outside the visit are sorted (as R).

    Parameters
    ----------
    formula, data, subject, random, nan_policy, visit, visit_order, arm, reference, baseline
        As :func:`~rehabstats.models.lmm` (``data`` is not modified).
    stacklevel : int
        Stack level of the warnings, counted from this function's caller's caller.

    Returns
    -------
    ModelDesign
        With ``slopes``, the random-slope columns.

    Examples
    --------
    >>> import rehabstats as rs
    >>> df = rs.datasets.load("als_decline")
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     design = lmm_design("alsfrs ~ arm * visit", df, subject="subject")
    >>> design.visit, design.n_omitted == int(df["alsfrs"].isna().sum())
    ('visit', True)
    """
    outcome, rhs = formula_parts(formula, "lmm")
    nan_policy = check_nan_policy(nan_policy)
    check_columns(data, {"subject": subject, "visit": visit, "arm": arm, "baseline": baseline})
    check_outcome_column(data, outcome)
    slope_cols = parse_random(random, data)
    rhs_cols = rhs_columns(rhs, data)
    if visit is None and "visit" in rhs_cols:
        visit = "visit"  # a formula factor named "visit" is the visit (documented)
    if arm is not None and arm not in rhs_cols:
        raise DataError(f"'arm' is {arm!r}, which is not a term of the formula {formula!r}.")
    used = {outcome, subject, *slope_cols, *rhs_cols}
    used_cols = [c for c in data.columns if c in used]  # data order, as before
    extra = [c for c in (visit, baseline) if c is not None and c not in used]
    frame = model_frame(data, [*used_cols, *extra])
    if frame[outcome].dtype != np.float64:
        frame[outcome] = check_numeric_column(frame, outcome, "outcome")
    check_finite(frame, [c for c in frame.columns if c != subject], {outcome: "outcome"})
    for c in frame.columns:
        if c not in (outcome, subject, visit):  # the visit: by resolve_visit_order
            check_labels(frame[c], c)
    all_visits: list[Any] | None = None
    if visit is not None:
        all_visits = resolve_visit_order(frame, visit, subject, visit_order)
    elif visit_order is not None:
        raise DataError(
            "'visit_order' was given without a visit column: pass visit=... "
            "(the column whose labels it orders)."
        )
    work, n_omitted = drop_missing(frame, used_cols, nan_policy, stacklevel + 1)
    if len(work) == 0:
        raise no_complete_rows(frame, used_cols, outcome)
    for c in slope_cols:
        work[c] = check_numeric_column(work, c, "random")
    visit_levels: list[Any] | None = None
    visit_codes: np.ndarray | None = None
    if visit is not None and all_visits is not None:
        visit_levels = (
            drop_unobserved_visits(
                all_visits, work[visit], visit=visit, outcome=outcome, stacklevel=stacklevel + 1
            )
            if n_omitted
            else list(all_visits)
        )
        if not is_plain_numeric(work[visit]):
            _set_categorical(work, visit, visit_levels)
            visit_codes = np.asarray(work[visit].array.codes, dtype=np.int64)
    subj_codes = subject_codes_of(work[subject])
    if visit is not None:
        vcodes = visit_codes if visit_codes is not None else codes_of(work[visit])
        width = int(vcodes.max()) + 2 if vcodes.size else 1
        n_dup = len(work) - np.unique(subj_codes * width + vcodes + 1).size
        if n_dup:
            warnings.warn(
                f"{n_dup} row(s) repeat a subject-visit combination (column "
                f"{visit!r}); they are kept as replicate measurements, which a linear mixed "
                "model allows (mmrm() refuses them).",
                RehabStatsWarning,
                stacklevel=stacklevel,
            )
    for c in work.columns:
        if (
            c not in (outcome, subject, *slope_cols)
            and not pd.api.types.is_numeric_dtype(work[c].dtype)
            and not isinstance(work[c].dtype, pd.CategoricalDtype)
        ):
            work[c] = as_categorical(work[c], arm_levels(work[c]))
    factors = [
        c
        for c in work.columns
        if c in rhs_cols
        and c not in (outcome, subject, visit)
        and isinstance(work[c].dtype, pd.CategoricalDtype)
        and constant_within(subj_codes, work[c])
    ]
    arm, ref_arm = choose_arm(work, arm, reference, factors, stacklevel=stacklevel + 1)
    if baseline is not None:
        work[baseline] = check_numeric_column(work, baseline, "baseline")
        check_baseline(work, baseline, subj_codes, subject)
    in_data_order = [c for c in work.columns if c in rhs_cols]
    candidates = subject_level_numeric(
        work, in_data_order, subj_codes, (subject, visit, baseline, arm, *slope_cols)
    )
    work = work.reset_index(drop=True)
    y = work[outcome].to_numpy(dtype=float)
    try:
        X_full, design_info = design_matrix(rhs, work, rhs_cols)
    except patsy.PatsyError as exc:
        raise DataError(f"Cannot build the design of {formula!r}: {exc}") from None
    check_levels(design_info, work, subject, subj_codes)
    X, rank_info = drop_aliased(X_full, coef_names_of(design_info), stacklevel=stacklevel + 1)
    check_exact_fit(y, X, outcome, model="lmm()")
    n, p = X.shape
    q = 1 + len(slope_cols)
    m = int(subj_codes.max()) + 1
    if n <= q * m and q > 1:
        raise DesignError(
            f"number of observations (={n}) <= number of random effects (={q * m}) for "
            f"({random} | {subject}): the random-effects parameters and the residual "
            "variance are unidentifiable (lme4 refuses this model)."
        )
    n_var = q * (q + 1) // 2 + 1
    if n <= p + n_var - 1 or n <= m:
        raise DesignError(
            f"The model has {p} fixed effects and {n_var} variance parameters but only "
            f"{n} observations from {m} subjects; it needs more observations."
        )
    return ModelDesign(
        formula=formula,
        outcome=outcome,
        rhs=rhs,
        columns=tuple(rhs_cols),
        frame=work,
        y=y,
        X=X,
        design_info=design_info,
        rank_info=rank_info,
        subject=subject,
        subject_codes=subj_codes,
        visit=visit,
        visit_levels=visit_levels,
        visit_codes=visit_codes,
        arm=arm,
        reference=ref_arm,
        baseline=baseline,
        baseline_candidates=candidates,
        n_omitted=n_omitted,
        slopes=tuple(slope_cols),
    )
