"""Split-plot (mixed) ANOVA: between-subject arm x within-subject visit, type III."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._entry import (
    check_finite,
    check_labels,
    model_frame,
    resolve_visit_order,
    show,
    show_list,
)
from .._results import Result
from .._validate import check_columns, check_numeric_column, check_option
from ..errors import DataError, DesignError, RehabStatsWarning
from ._adjust import f_sf
from ._ancova import categorical_levels

__all__ = ["MixedAnovaResult", "mixed_anova"]


@dataclass(frozen=True)
class MixedAnovaResult(Result):
    """Result of :func:`mixed_anova`.

    Attributes
    ----------
    table : pandas.DataFrame
        ``term, num_df, den_df, MSE, F, ges, p, epsilon`` (corrected dfs when
        ``correction="gg"``; ``epsilon`` is 1 for the between-subject term).
    uncorrected : pandas.DataFrame
        The same table without the sphericity correction.
    gg_epsilon : float
        Greenhouse-Geisser epsilon of the within-subject error.
    n_subjects : int
        Subjects analysed (complete cases).
    n_dropped : int
        Subjects dropped for missing an outcome at some visit.
    correction : str
        ``"gg"`` or ``"none"``.
    visit_levels : tuple
        The visit order used (see :func:`mixed_anova`).
    """

    table: pd.DataFrame
    uncorrected: pd.DataFrame
    gg_epsilon: float
    n_subjects: int
    n_dropped: int
    correction: str
    visit_levels: tuple[Any, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The ANOVA table (columns ``term, num_df, den_df, MSE, F, ges, p, epsilon``)."""
        return self.table.copy()

    def summary(self) -> str:
        """The table plus the sample and the correction used."""
        head = (
            f"Mixed ANOVA (type III, {self.n_subjects} complete subjects, "
            f"{self.n_dropped} dropped; correction = {self.correction}, "
            f"GG epsilon = {self.gg_epsilon:.4f})"
        )
        if self.visit_levels:
            head += "\nvisit order: " + " < ".join(str(v) for v in self.visit_levels)
        return head + "\n" + super().summary()


def _orthonormal_contrasts(b: int) -> np.ndarray:
    """B x (b-1) orthonormal columns orthogonal to the constant (any basis gives the same tests)."""
    H = np.linalg.qr(np.column_stack([np.ones(b), np.eye(b)[:, : b - 1]]))[0]
    return H[:, 1:]


def _hypothesis_sscp(X: np.ndarray, Y: np.ndarray, L: np.ndarray) -> np.ndarray:
    """SSCP of the multivariate hypothesis L B = 0 in Y = X B + E."""
    XtXi = np.linalg.inv(X.T @ X)
    B = XtXi @ X.T @ Y
    LB = L @ B
    return LB.T @ np.linalg.solve(L @ XtXi @ L.T, LB)


def mixed_anova(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    visit: str,
    subject: str,
    correction: str = "gg",
    visit_order: Sequence[Any] | None = None,
) -> MixedAnovaResult:
    r"""Mixed (split-plot) ANOVA with a Greenhouse-Geisser correction, as ``afex::aov_ez``.

    Subjects (nested in ``arm``) are measured at every level of ``visit``.
    With ``Y`` the subjects x visits matrix, ``X`` the between-subject design
    (intercept + sum-coded arm) and ``P`` orthonormal within-subject
    contrasts, the type III sums of squares are traces of the hypothesis SSCP
    matrices of the multivariate linear model: arm from ``Y 1/sqrt(b)``,
    visit (intercept) and arm x visit from ``Y P`` (car::Anova's univariate
    tests). The GG epsilon is :math:`\hat\varepsilon = \mathrm{tr}(S)^2 /
    \{(b-1)\,\mathrm{tr}(S^2)\}` with ``S`` the error SSCP of ``Y P``; it
    multiplies both dfs of the within-subject tests. ``ges`` is the
    generalised eta squared (Olejnik & Algina 2003, doi:10.1037/1082-989X.8.4.434):
    ``SS_effect / (SS_effect + SS_error(between) + SS_error(within))``.

    **Complete cases only**: subjects missing the outcome at any visit are
    dropped (and counted, with a :class:`RehabStatsWarning`). A mixed model
    (:func:`lmm`, MMRM) uses every observation instead. Unlike pingouin's
    ``mixed_anova`` this gives type III sums of squares for unbalanced arms.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data, one row per subject and visit.
    outcome, arm, visit, subject : str
        Column names.
    correction : {"gg", "none"}
        Greenhouse-Geisser correction of the within-subject tests, or none.
    visit_order : sequence, optional
        The visit labels in order. The F tests do not depend on the order; it
        orders ``visit_levels``. Default: the library's one visit rule
        (:func:`rehabstats._entry.resolve_visit_order`).

    Returns
    -------
    MixedAnovaResult

    Raises
    ------
    DataError
        Missing columns, a non-numeric or infinite outcome, a subject with a
        visit listed twice or in two arms, labels differing only in case or
        whitespace, a constant outcome, an outcome without observed values or of
        magnitude above 1e150.
    DesignError
        Fewer than two arms or visits, an arm with a single subject, or no more
        subjects than visits (the epsilon's covariance matrix would be singular).

    References
    ----------
    Greenhouse & Geisser (1959), *Psychometrika* 24, 95-112, doi:10.1007/BF02289823.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from rehabstats.models import mixed_anova
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(8), 3), "arm": np.repeat(["a", "b"], 12),
    ...                   "visit": np.tile(["1", "2", "3"], 8)})
    >>> d["y"] = rng.normal(size=24)
    >>> res = mixed_anova(d, outcome="y", arm="arm", visit="visit", subject="id")
    >>> res.table["term"].tolist()
    ['arm', 'visit', 'arm:visit']
    """
    correction = check_option(correction, "correction", ("gg", "none"))
    check_columns(data, {"outcome": outcome, "arm": arm, "visit": visit, "subject": subject})
    work = model_frame(data, [subject, arm, visit, outcome])
    work[outcome] = check_numeric_column(work, outcome, "outcome")
    check_finite(work, [outcome], {outcome: "outcome"})
    for col, name in ((subject, "subject"), (arm, "arm"), (visit, "visit")):
        if work[col].isna().any():
            raise DataError(
                f"Column {col!r} ('{name}') has {int(work[col].isna().sum())} "
                "missing value(s); every row needs a subject, an arm and a visit."
            )
    check_labels(work[arm], arm)
    dup = work.duplicated([subject, visit])
    if dup.any():
        row = work.loc[dup].iloc[0]
        raise DataError(
            f"Subject {show(row[subject])} has visit {show(row[visit])} listed more "
            "than once; "
            "each subject needs one row per visit."
        )
    arms_per_subject = work.groupby(subject)[arm].nunique()
    if (arms_per_subject > 1).any():
        raise DataError(
            f"Subject {show(arms_per_subject.index[arms_per_subject > 1][0])} appears in more than "
            f"one arm (column {arm!r})."
        )
    visits = resolve_visit_order(work, visit, subject, visit_order)
    arms = categorical_levels(work[arm])
    if work[outcome].isna().all():
        raise DataError(f"Column {outcome!r} ('outcome') has no observed values.")
    if len(visits) < 2:
        raise DesignError(
            f"mixed_anova needs at least two visits in column {visit!r}; got "
            f"{show_list(visits) or 'none'}."
        )
    per_visit = work.dropna(subset=[outcome]).groupby(visit, observed=True).size()
    single = [v for v in visits if per_visit.get(v, 0) <= 1]
    if single:
        raise DesignError(
            f"Visit {show(single[0])} (column {visit!r}) has {per_visit.get(single[0], 0)} "
            f"observed outcome(s) (column {outcome!r}); every visit needs at least two."
        )
    observed = work[outcome].dropna()
    if len(observed) and float(observed.max()) == float(observed.min()):
        raise DataError(
            f"The outcome {outcome!r} is constant ({show(observed.iloc[0])}); "
            "the F tests are undefined (0/0)."
        )
    wide = work.pivot(index=subject, columns=visit, values=outcome).reindex(columns=visits)
    complete = wide.notna().all(axis=1)
    n_dropped = int((~complete).sum())
    if n_dropped:
        warnings.warn(
            f"mixed_anova uses complete cases: {n_dropped} subject(s) with a missing outcome "
            "at some visit were dropped.",
            RehabStatsWarning,
            stacklevel=2,
        )
    wide = wide.loc[complete]
    subj_arm = work.drop_duplicates(subject).set_index(subject)[arm].reindex(wide.index)
    arms = [a for a in arms if (subj_arm == a).any()]
    counts = subj_arm.value_counts()
    if len(arms) < 2:
        raise DesignError(
            f"mixed_anova needs at least two arms with complete data in column "
            f"{arm!r}; got {show_list(arms) or 'none'}."
        )
    small = [a for a in arms if counts.get(a, 0) < 2]
    if small:
        raise DesignError(
            f"Each arm needs at least two complete subjects; arm(s) {show_list(small)} in "
            f"column {arm!r} "
            "have fewer."
        )
    n, b, a = len(wide), len(visits), len(arms)
    if n <= b or n - a < b - 1:
        raise DesignError(
            f"{n} complete subjects for {b} visits: the Greenhouse-Geisser epsilon needs more "
            "subjects than visits (and n - arms >= visits - 1) so that the within-subject "
            "covariance matrix is non-singular."
        )
    Y = wide.to_numpy(dtype=float)
    # between design: intercept + sum-to-zero arm coding (type III)
    codes = np.array([arms.index(v) for v in subj_arm])
    S = np.zeros((n, a - 1))
    for j in range(a - 1):
        S[:, j] = (codes == j).astype(float) - (codes == a - 1)
    X = np.column_stack([np.ones(n), S])
    L_int = np.eye(a)[:1]
    L_arm = np.eye(a)[1:]
    resid_maker = np.eye(n) - X @ np.linalg.solve(X.T @ X, X.T)
    # between-subject stratum
    ybar = Y @ (np.ones(b) / np.sqrt(b))
    ss_arm = float(_hypothesis_sscp(X, ybar[:, None], L_arm)[0, 0])
    sse_between = float(ybar @ resid_maker @ ybar)
    # within-subject stratum
    P = _orthonormal_contrasts(b)
    YP = Y @ P
    E = YP.T @ resid_maker @ YP
    ss_visit = float(np.trace(_hypothesis_sscp(X, YP, L_int)))
    ss_inter = float(np.trace(_hypothesis_sscp(X, YP, L_arm)))
    sse_within = float(np.trace(E))
    scale = float(np.sum((Y - Y.mean()) ** 2))
    for what, sse in (("between-subject", sse_between), ("within-subject", sse_within)):
        if not sse > 1e-12 * scale:
            raise DesignError(
                f"The {what} error sum of squares of {outcome!r} is zero (every subject "
                f"{'has the same mean within its arm' if what == 'between-subject' else 'changes across visits exactly as its arm mean'}"
                "); the F tests and the Greenhouse-Geisser epsilon are undefined (0/0)."
            )
    eps = float(np.trace(E) ** 2 / ((b - 1) * np.trace(E @ E)))
    df_err_b = n - a
    df_err_w = (n - a) * (b - 1)
    sse_total = sse_between + sse_within
    rows = [
        ("arm", ss_arm, a - 1, sse_between, df_err_b, 1.0),
        ("visit", ss_visit, b - 1, sse_within, df_err_w, eps),
        ("arm:visit", ss_inter, (a - 1) * (b - 1), sse_within, df_err_w, eps),
    ]

    def table(use_eps: bool) -> pd.DataFrame:
        out = []
        for term, ss, df1, sse, df2, e in rows:
            F = (ss / df1) / (sse / df2)
            f = e if use_eps else 1.0
            out.append(
                {
                    "term": term,
                    "num_df": df1 * f,
                    "den_df": df2 * f,
                    "MSE": sse / (df2 * f),
                    "F": F,
                    "ges": ss / (ss + sse_total),
                    "p": float(f_sf(F, df1 * f, df2 * f)),
                    "epsilon": e if use_eps else 1.0,
                }
            )
        return pd.DataFrame(out)

    return MixedAnovaResult(
        table=table(correction == "gg"),
        uncorrected=table(False),
        gg_epsilon=eps,
        n_subjects=n,
        n_dropped=n_dropped,
        correction=correction,
        visit_levels=tuple(visits),
    )
