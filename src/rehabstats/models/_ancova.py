"""ANCOVA of one post-treatment visit: outcome ~ arm + baseline (+ covariates), by OLS."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import patsy

from .._entry import (
    MAX_MAGNITUDE,
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
from ._base import LinearModelResult, _contrast_table, r_coef_names
from ._emmeans import ReferenceGrid
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

    def __init__(
        self,
        *,
        ols: Any,
        frame: pd.DataFrame,
        design_info: patsy.DesignInfo,
        arm: str,
        baseline: str,
        outcome: str,
        formula: str,
        n_omitted: int,
        rank_info: RankInfo | None = None,
    ) -> None:
        self._ols = ols
        self._frame: pd.DataFrame | None = frame
        self._design_info: patsy.DesignInfo | None = design_info
        self._frame_builder: Callable[[], pd.DataFrame] | None = None
        self._fast_grid: tuple[list[Any], list[str], np.ndarray] | None = None
        self._rank_info = (
            rank_info
            if rank_info is not None
            else pivoted_rank(np.asarray(ols.model.exog, dtype=float), r_coef_names(design_info))
        )
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

    @classmethod
    def _from_arrays(
        cls,
        *,
        X: np.ndarray,
        y: np.ndarray,
        rank_info: RankInfo,
        frame_builder: Callable[[], pd.DataFrame],
        levels: list[Any],
        numeric: list[str],
        arm: str,
        baseline: str,
        outcome: str,
        formula: str,
    ) -> AncovaResult:
        """The numpy path: OLS by QR on a full-rank design; ``ols``, ``frame`` and
        ``design_info`` are built only when asked for.
        """
        self = cls.__new__(cls)
        n, p = X.shape
        Qm, R = np.linalg.qr(X)
        beta = np.linalg.solve(R, Qm.T @ y)
        resid = y - X @ beta
        rss = float(resid @ resid)
        dof = n - p
        Rinv = np.linalg.inv(R)
        scale = rss / dof
        self._ols = None
        self._frame = None
        self._design_info = None
        self._frame_builder = frame_builder
        means = X[:, len(levels) :].mean(axis=0)
        self._fast_grid = (levels, numeric, means)
        self._rank_info = rank_info
        self.coef_names = rank_info.kept_names
        self.aliased = rank_info.aliased
        self.beta = beta
        self._vcov = scale * (Rinv @ Rinv.T)
        self._df_resid = float(dof)
        self.arm_name = arm
        self.effect_by = ()
        self.baseline_name = baseline
        self.outcome_name = outcome
        self.formula = formula
        self.nobs = n
        # statsmodels' llf, aic = -2 llf + 2 p, bic = -2 llf + p log n; R adds sigma
        self.loglik = -0.5 * n * (np.log(2 * np.pi) + np.log(rss / n) + 1.0)
        self.aic = -2 * self.loglik + 2.0 * (p + 1)
        self.bic = -2 * self.loglik + np.log(n) * (p + 1)
        self.sigma = float(np.sqrt(scale))
        self.n_omitted = 0
        return self

    @property
    def frame(self) -> pd.DataFrame:
        """The rows analysed (outcome, arm as a Categorical, baseline, covariates)."""
        if self._frame is None:
            assert self._frame_builder is not None
            self._frame = self._frame_builder()
        return self._frame

    @frame.setter
    def frame(self, value: pd.DataFrame) -> None:
        self._frame = value

    @property
    def design_info(self) -> patsy.DesignInfo:
        """The patsy design of the fixed effects."""
        if self._design_info is None:
            # patsy's design of the formula on the model frame: statsmodels' model_spec
            # without importing statsmodels (~1 s) for the anova of a summary
            self._design_info = patsy.dmatrices(self.formula, self.frame, return_type="dataframe")[
                1
            ].design_info
        return self._design_info

    @design_info.setter
    def design_info(self, value: patsy.DesignInfo) -> None:
        self._design_info = value

    @property
    def ols(self) -> Any:
        """The fitted statsmodels OLS model (built on first use on the numpy path)."""
        if self._ols is None:
            import statsmodels.formula.api as smf  # lazy: statsmodels costs ~1 s to import

            self._ols = smf.ols(self.formula, data=self.frame).fit()
        return self._ols

    def _grid(self) -> ReferenceGrid:
        """The reference grid; on the numpy path built directly (arm x covariate means)."""
        cached = self.__dict__.get("_cached_grid")
        if cached is None and self._fast_grid is not None:
            levels, numeric, means = self._fast_grid
            k = len(levels)
            grid = pd.DataFrame({self.arm_name: pd.Categorical(levels, categories=levels)})
            for name, value in zip(numeric, means, strict=True):
                grid[name] = float(value)
            Xg = np.column_stack(
                [np.ones(k), np.eye(k)[:, 1:], np.broadcast_to(means, (k, len(means)))]
            )
            cached = ReferenceGrid(grid=grid, X=Xg, levels={self.arm_name or "": list(levels)})
            object.__setattr__(self, "_cached_grid", cached)
            return cached
        return super()._grid()

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
        SD of the baseline column (the rows analysed).
        """
        if kind == "residual_sd":
            return self.sigma, f"residual SD of the ANCOVA (df = {self._df_resid:g})"
        sd, dof = pooled_sd(self.frame[self.baseline_name], self.frame[self.arm_name])
        return sd, (
            f"pooled within-arm SD of the baseline column {self.baseline_name!r} "
            f"({len(self.frame)} subjects, df = {dof})"
        )

    @property
    def differences(self) -> pd.DataFrame:
        """Adjusted differences of each arm from the reference arm."""
        if self._fast_grid is None:
            return self.contrasts(self.arm_name or "", method="trt.vs.ctrl", adjust="none")
        # numpy path: arm j minus the reference is the coefficient of arm j (treatment
        # coding, covariates at their means cancel), the table as contrasts() builds it
        levels = self._fast_grid[0]
        k = len(levels)
        res = np.column_stack(
            [self.beta[1:k], np.sqrt(np.diag(self._vcov)[1:k]), np.full(k - 1, self._df_resid)]
        )
        names = [f"{lv} - {levels[0]}" for lv in levels[1:]]
        meta: list[dict[str, Any]] = [{"contrast": n} for n in names]
        return _contrast_table(
            res,
            meta,
            [],
            1,
            len(names),
            k,
            "trt.vs.ctrl",
            str(levels[0]),
            "none",
            "residual",
            0.95,
            [],
        )

    @property
    def adjusted_means(self) -> pd.DataFrame:
        """Adjusted arm means (covariates at their mean)."""
        return self.emmeans(self.arm_name or "")


def _check_baseline_estimable(model: Any, work: pd.DataFrame, baseline: str, arm: str) -> None:
    """Raise a DataError naming the baseline when its slope is not estimable: a constant
    baseline (aliased with the intercept) or one that the arm (and the covariates before
    it) determine, e.g. a 0/1 baseline equal to the arm indicator. An ANCOVA without an
    estimable baseline slope is not the analysis asked for, so it is refused rather than
    fitted with the baseline dropped.
    """
    values = work[baseline]
    if values.nunique() <= 1:
        raise DataError(
            f"Column {baseline!r} ('baseline') is constant ({show(values.iloc[0])} in all "
            f"{len(values)} analysed rows): the baseline slope of the ANCOVA is not "
            "estimable. Use a baseline that varies between subjects, or compare the arms "
            "without it."
        )
    info = pivoted_rank(np.asarray(model.exog, dtype=float), r_coef_names(model.data.model_spec))
    term = next(
        (sl for t, sl in model.data.model_spec.term_slices.items() if t.name() == _q(baseline)),
        None,
    )
    if term is not None and not np.isin(np.arange(term.start, term.stop), info.keep).all():
        raise DataError(
            f"Column {baseline!r} ('baseline') is a linear combination of the arm column "
            f"{arm!r} (and the terms before it): the baseline slope of the ANCOVA is not "
            "estimable. Check that the baseline column holds the baseline measurement."
        )


def ancova(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    baseline: str,
    covariates: Sequence[str] = (),
    reference: Any = None,
    visit: str | None = None,
    at: Any = None,
) -> AncovaResult:
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
    cols: dict[str, str | None] = {
        "outcome": outcome,
        "arm": arm,
        "baseline": baseline,
        "visit": visit,
    }
    cols.update({f"covariates[{i}]": c for i, c in enumerate(covariates)})
    check_columns(data, cols)
    if visit is None:
        fast = _fast_ancova(
            data,
            outcome=outcome,
            arm=arm,
            baseline=baseline,
            covariates=covariates,
            reference=reference,
        )
        if fast is not None:
            return fast
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
    empty = [
        f"{c!r} ({role})"
        for c, role in [
            (outcome, "outcome"),
            (baseline, "baseline"),
            (arm, "arm"),
            *[(c, "covariate") for c in covariates],
        ]
        if frame[c].isna().all()
    ]
    if empty:
        raise DataError(
            f"Column(s) {', '.join(empty)} have no observed values"
            + (f" at {visit!r} = {show(at)}" if visit is not None else "")
            + "."
        )
    work, n_omitted = drop_missing_rows(frame, used, stacklevel=3)
    if len(work) == 0:
        raise DataError(f"No row has all of {', '.join(map(repr, used))} observed.")
    all_levels = arm_levels(work[arm])
    ref = default_reference(all_levels, reference, name=arm, stacklevel=3)
    levels = [ref, *[v for v in all_levels if v != ref]] if ref is not None else []
    if len(levels) < 2:
        raise DesignError(
            f"ANCOVA needs at least two arms in column {arm!r}; got {show_list(levels) or 'none'}."
        )
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
    import statsmodels.api as sm  # lazy: the fast path and import rehabstats do without it
    import statsmodels.formula.api as smf

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
    res = AncovaResult(
        ols=fit,
        frame=work,
        design_info=model.data.model_spec,
        arm=arm,
        baseline=baseline,
        outcome=outcome,
        formula=formula,
        n_omitted=n_omitted,
        rank_info=rank_info,
    )
    res.reference_arm = ref
    return res


def _fast_ancova(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    baseline: str,
    covariates: list[str],
    reference: Any,
) -> AncovaResult | None:
    """The numpy path for the common design: string arm labels, numeric baseline and
    covariates, no missing or infinite value, a full-rank design, every arm with two
    or more rows. Anything else returns None and takes the general (patsy) path,
    which also raises the errors and warnings.
    """
    names = [outcome, arm, baseline, *covariates]
    if len(set(names)) != len(names) or not all(
        isinstance(c, str) and c.isidentifier() for c in names
    ):
        return None
    numeric = [baseline, *covariates]
    values = []
    for c in [outcome, *numeric]:
        dt = data[c].dtype
        if not (isinstance(dt, np.dtype) and dt.kind in "fiu"):
            return None
        v = data[c].to_numpy(dtype=float)
        if not np.all(np.isfinite(v)):
            return None
        big = float(np.max(np.abs(v))) if v.size else 0.0
        if big > MAX_MAGNITUDE or 0.0 < big < 1.0 / MAX_MAGNITUDE:  # refused by check_finite
            return None
        values.append(v)
    a = data[arm]
    if isinstance(a.dtype, pd.CategoricalDtype):
        if not all(isinstance(c, str) for c in a.cat.categories):
            return None
        labels = a.to_numpy(dtype=object)
    elif a.dtype == object or pd.api.types.is_string_dtype(a.dtype):
        labels = a.to_numpy(dtype=object)
    else:
        return None
    if not all(isinstance(v, str) for v in labels):  # also rules out missing labels
        return None
    check_labels(a, arm)
    present = set(labels)
    if isinstance(a.dtype, pd.CategoricalDtype):  # as arm_levels(), without pandas
        all_levels = [c for c in a.cat.categories if c in present]
    else:
        all_levels = sorted(present)
    position = {lv: i for i, lv in enumerate(all_levels)}
    codes0 = np.fromiter((position[v] for v in labels), dtype=np.intp, count=len(labels))
    counts = np.bincount(codes0, minlength=len(all_levels))
    n = len(labels)
    p = len(all_levels) + len(numeric)
    if len(all_levels) < 2 or counts.min() < 2 or n <= p:
        return None
    ref = default_reference(all_levels, reference, name=arm, stacklevel=4)
    levels = [ref, *[v for v in all_levels if v != ref]]
    remap = np.array([levels.index(v) for v in all_levels])
    codes = remap[codes0]
    X = np.column_stack(
        [np.ones(n), *(codes == j for j in range(1, len(levels))), *values[1:]]
    ).astype(float)
    coef_names = ("(Intercept)", *(f"{arm}{lv}" for lv in levels[1:]), *numeric)
    rank_info = pivoted_rank(X, coef_names)
    if rank_info.deficient:
        return None
    y = values[0]
    index = data.index

    def frame_builder() -> pd.DataFrame:
        cols: dict[str, Any] = {outcome: y, arm: pd.Categorical(labels, categories=levels)}
        cols.update({c: data[c].to_numpy() for c in numeric})
        return pd.DataFrame(cols, index=index.set_names([None] * index.nlevels))

    formula = f"{outcome} ~ {' + '.join([arm, *numeric])}"
    res = AncovaResult._from_arrays(
        X=X,
        y=y,
        rank_info=rank_info,
        frame_builder=frame_builder,
        levels=levels,
        numeric=numeric,
        arm=arm,
        baseline=baseline,
        outcome=outcome,
        formula=formula,
    )
    res.reference_arm = ref
    return res
