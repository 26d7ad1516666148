"""ANCOVA of one post-treatment visit: outcome ~ arm + baseline (+ covariates), by OLS."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm
import statsmodels.formula.api as smf

from .._entry import (
    arm_levels,
    as_categorical,
    check_finite,
    check_labels,
    default_reference,
    model_frame,
    pooled_sd,
    resolve_visit_order,
    show,
    show_list,
)
from .._validate import check_columns, check_numeric_column, drop_missing_rows
from ..errors import DataError, DesignError
from ._base import LinearModelResult, r_coef_names
from ._rank import RankInfo, drop_aliased, pivoted_rank

__all__ = ["AncovaResult", "ancova"]


def _q(name: str) -> str:
    """A column name usable in a patsy formula."""
    return name if name.isidentifier() else f"Q({name!r})"


def categorical_levels(series: pd.Series) -> list[Any]:
    """Level order of a factor: a Categorical's categories, otherwise sorted values (as R)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in present]
    values = series.dropna().unique().tolist()
    try:
        return sorted(values)
    except TypeError:
        return values


class AncovaResult(LinearModelResult):
    """Result of :func:`ancova`.

    Attributes
    ----------
    ols : statsmodels RegressionResultsWrapper
        The fitted statsmodels OLS model.
    differences : pandas.DataFrame
        Adjusted arm differences versus the reference arm
        (``contrast, estimate, se, df, t, p, ci_low, ci_high``).
    adjusted_means : pandas.DataFrame
        Adjusted (covariate-mean) arm means.
    n_omitted : int
        Rows dropped for a missing outcome, baseline or covariate.
    aliased : tuple of str
        Columns dropped because the design is rank deficient (a covariate that
        is a linear combination of others), as ``lm`` reports ``NA``.
    """

    df_methods = ("residual",)

    def __init__(self, *, ols: Any, frame: pd.DataFrame, design_info: patsy.DesignInfo,
                 arm: str, baseline: str, outcome: str, formula: str, n_omitted: int,
                 rank_info: RankInfo | None = None) -> None:
        self.ols = ols
        self.frame = frame
        self.design_info = design_info
        self._rank_info = rank_info if rank_info is not None else pivoted_rank(
            np.asarray(ols.model.exog, dtype=float), r_coef_names(design_info))
        self.coef_names = self._rank_info.kept_names
        self.aliased = self._rank_info.aliased
        self.beta = np.asarray(ols.params, dtype=float)
        self._vcov = np.asarray(ols.cov_params(), dtype=float)
        self._df_resid = float(ols.df_resid)
        self.arm_name = arm
        self.effect_by = ()
        self.baseline_name = baseline
        self.outcome_name = outcome
        self.formula = formula
        self.nobs = int(ols.nobs)
        self.loglik = float(ols.llf)
        self.aic = float(ols.aic) + 2.0  # R counts sigma as a parameter
        self.bic = float(ols.bic) + np.log(self.nobs)
        self.sigma = float(np.sqrt(ols.scale))
        self.n_omitted = n_omitted

    def _contrast_1d(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        L = self._rank_info.reduce(np.asarray(L, dtype=float))
        return float(L @ self.beta), float(np.sqrt(L @ self._vcov @ L)), self._df_resid

    def _contrast_md(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        L = self._rank_info.reduce(np.atleast_2d(np.asarray(L, dtype=float)))
        if not np.all(np.isfinite(L)):
            return np.nan, np.nan, self._df_resid
        q = int(np.linalg.matrix_rank(L))
        est = L @ self.beta
        F = float(est @ np.linalg.pinv(L @ self._vcov @ L.T) @ est) / q
        return F, float(q), self._df_resid

    def _standardizer(self, kind: str) -> float:
        return self._standardizer_info(kind)[0]

    def _standardizer_info(self, kind: str) -> tuple[float, str]:
        """(SD, which SD it is): the adjusted residual SD, or the pooled within-arm
        SD of the baseline column (the rows analysed)."""
        if kind == "residual_sd":
            return self.sigma, f"residual SD of the ANCOVA (df = {self._df_resid:g})"
        sd, dof = pooled_sd(self.frame[self.baseline_name], self.frame[self.arm_name])
        return sd, (f"pooled within-arm SD of the baseline column {self.baseline_name!r} "
                    f"({len(self.frame)} subjects, df = {dof})")

    @property
    def differences(self) -> pd.DataFrame:
        """Adjusted differences of each arm from the reference arm."""
        return self.contrasts(self.arm_name or "", method="trt.vs.ctrl", adjust="none")

    @property
    def adjusted_means(self) -> pd.DataFrame:
        """Adjusted arm means (covariates at their mean)."""
        return self.emmeans(self.arm_name or "")


def _check_baseline_estimable(model: Any, work: pd.DataFrame, baseline: str, arm: str) -> None:
    """Raise a DataError naming the baseline when its slope is not estimable: a constant
    baseline (aliased with the intercept) or one that the arm (and the covariates before
    it) determine, e.g. a 0/1 baseline equal to the arm indicator. An ANCOVA without an
    estimable baseline slope is not the analysis asked for, so it is refused rather than
    fitted with the baseline dropped."""
    values = work[baseline]
    if values.nunique() <= 1:
        raise DataError(
            f"Column {baseline!r} ('baseline') is constant ({show(values.iloc[0])} in all "
            f"{len(values)} analysed rows): the baseline slope of the ANCOVA is not "
            "estimable. Use a baseline that varies between subjects, or compare the arms "
            "without it."
        )
    info = pivoted_rank(np.asarray(model.exog, dtype=float), r_coef_names(model.data.model_spec))
    term = next((sl for t, sl in model.data.model_spec.term_slices.items()
                 if t.name() == _q(baseline)), None)
    if term is not None and not np.isin(np.arange(term.start, term.stop), info.keep).all():
        raise DataError(
            f"Column {baseline!r} ('baseline') is a linear combination of the arm column "
            f"{arm!r} (and the terms before it): the baseline slope of the ANCOVA is not "
            "estimable. Check that the baseline column holds the baseline measurement."
        )


def ancova(data: pd.DataFrame, *, outcome: str, arm: str, baseline: str,
           covariates: Sequence[str] = (), reference: Any = None,
           visit: str | None = None, at: Any = None) -> AncovaResult:
    r"""Analysis of covariance of a post-treatment outcome adjusted for baseline.

    Fits :math:`y_i = \beta_0 + \sum_a \beta_a [\text{arm}_i = a] + \gamma\,
    \text{baseline}_i + \delta^\top z_i + \varepsilon_i` by ordinary least
    squares (treatment coding, ``reference`` arm first), the analysis of
    Vickers & Altman (2001), doi:10.1136/bmj.323.7321.1123.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject, or long data with ``visit`` and ``at``.
    outcome, arm, baseline : str
        Columns: the outcome, the arm, the baseline measurement.
    covariates : sequence of str, optional
        Extra adjustment columns (numeric or categorical).
    reference : optional
        The reference arm; default a recognised control label (control, usual
        care, sham, placebo, TAU, waitlist, ...; see
        :data:`rehabstats._entry.CONTROL_LABELS`), otherwise the first level
        (a Categorical's first category, else the first in sorted order, as R).
        Differences are each arm minus the reference; ``reference_arm`` and
        the summary name it.
    visit, at : optional
        For long data: the visit column and the visit to analyse (default the
        last visit by the library's visit rule,
        :func:`rehabstats._entry.resolve_visit_order`: a Categorical's last
        category present, the largest number, the last of numbered labels;
        otherwise ``at`` is required).

    Returns
    -------
    AncovaResult
        ``.differences``, ``.adjusted_means``, ``.coef()``, ``.anova()``,
        ``.emmeans()``, ``.contrasts()``, ``.ols``; ``df_method="residual"`` only.

    Raises
    ------
    DataError
        Missing columns, a non-numeric or infinite outcome or baseline, a column
        with no observed values, arm labels differing only in case or
        whitespace, an unknown reference; a numeric column of magnitude above
        1e150; a baseline that is constant or determined by the arm (its slope
        is not estimable).
    DesignError
        Fewer than two arms, an arm with a single subject, more parameters than rows.

    Warns
    -----
    RehabStatsWarning
        When rows with missing values are dropped.

    Examples
    --------
    >>> import pandas as pd
    >>> from rehabstats.models import ancova
    >>> df = pd.DataFrame({"y": [3.0, 4, 5, 6, 2, 3, 3, 4], "b": [1.0, 2, 2, 3, 1, 2, 2, 3],
    ...                    "arm": ["cimt"] * 4 + ["control"] * 4})
    >>> res = ancova(df, outcome="y", arm="arm", baseline="b", reference="control")
    >>> round(float(res.differences["estimate"].iloc[0]), 3)
    1.5
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    cols: dict[str, str | None] = {"outcome": outcome, "arm": arm, "baseline": baseline,
                                   "visit": visit}
    cols.update({f"covariates[{i}]": c for i, c in enumerate(covariates)})
    check_columns(data, cols)
    df = data
    if visit is not None:
        if at is None:
            try:
                at = resolve_visit_order(data, visit)[-1]
            except DesignError as exc:
                raise DesignError(f"{exc} Or name the visit to analyse with at=....") from None
        if not (data[visit] == at).any():
            raise DataError(f"No rows have {visit!r} equal to {at!r} (the 'at' visit).")
        df = data.loc[data[visit] == at]
    used = [outcome, arm, baseline, *covariates]
    frame = model_frame(df, used)
    for col, role in ((outcome, "outcome"), (baseline, "baseline")):
        frame[col] = check_numeric_column(frame, col, role)
    check_finite(frame, used, {outcome: "outcome", baseline: "baseline"})
    for col in [arm, *covariates]:
        check_labels(frame[col], col)
    empty = [f"{c!r} ({role})" for c, role in
             [(outcome, "outcome"), (baseline, "baseline"), (arm, "arm"),
              *[(c, "covariate") for c in covariates]] if frame[c].isna().all()]
    if empty:
        raise DataError(f"Column(s) {', '.join(empty)} have no observed values"
                        + (f" at {visit!r} = {show(at)}" if visit is not None else "") + ".")
    work, n_omitted = drop_missing_rows(frame, used, stacklevel=3)
    if len(work) == 0:
        raise DataError(f"No row has all of {', '.join(map(repr, used))} observed.")
    all_levels = arm_levels(work[arm])
    ref = default_reference(all_levels, reference, name=arm, stacklevel=3)
    levels = [ref, *[v for v in all_levels if v != ref]] if ref is not None else []
    if len(levels) < 2:
        raise DesignError(f"ANCOVA needs at least two arms in column {arm!r}; got "
                          f"{show_list(levels) or 'none'}.")
    counts = work[arm].value_counts()
    small = [lvl for lvl in levels if counts.get(lvl, 0) < 2]
    if small:
        raise DesignError(
            f"Each arm needs at least two subjects with complete data; arm(s) {show_list(small)} "
            f"in column {arm!r} have fewer."
        )
    work[arm] = as_categorical(work[arm], levels)
    rhs = " + ".join(_q(c) for c in [arm, baseline, *covariates])
    formula = f"{_q(outcome)} ~ {rhs}"
    model = smf.ols(formula, data=work)
    p = model.exog.shape[1]
    if len(work) <= p:
        raise DesignError(
            f"The ANCOVA has {p} parameters but only {len(work)} rows; it needs more rows "
            "than parameters."
        )
    _check_baseline_estimable(model, work, baseline, arm)
    X, rank_info = drop_aliased(model.exog, r_coef_names(model.data.model_spec), stacklevel=2)
    fit = model.fit() if not rank_info.deficient else sm.OLS(model.endog, X).fit()
    res = AncovaResult(ols=fit, frame=work, design_info=model.data.model_spec, arm=arm,
                       baseline=baseline, outcome=outcome, formula=formula,
                       n_omitted=n_omitted, rank_info=rank_info)
    res.reference_arm = ref
    return res
