"""Mixed model for repeated measures (MMRM): GLS on all available visits.

``rs.mmrm(formula, data, *, subject, visit, covariance="us", reml=True)`` fits
``y_i ~ N(X_i beta, Sigma[obs_i, obs_i])`` by REML or ML, with one covariance
matrix ``Sigma`` over the visit levels shared by all subjects, and gives
Satterthwaite and Kenward-Roger inference as R's mmrm 0.3.18.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import patsy
from scipy import special

from .._entry import (
    baseline_sd,
    check_finite,
    show,
    show_list,
)
from .._validate import (
    NanPolicy,
    check_ci,
    check_columns,
    check_numeric_column,
    check_option,
    normalize_rng,
)
from ..errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning
from ._base import LinearModelResult, _t_table
from ._covariance import (
    COVARIANCE_STRUCTURES,
    SPATIAL_STRUCTURES,
    CovarianceStructure,
    get_structure,
    grouped_structure,
)
from ._design import ModelDesign, is_plain_numeric, mmrm_design, present_levels
from ._mmrm_fit import (
    OPTIMIZERS,
    MMRMEngine,
    OptimizerInfo,
    resolve_optimizers,
    single_thread_blas,
)
from ._mmrm_gw import check_group, check_weights, group_codes, weights_of
from ._rank import RankInfo
from .df import DFEngine, KRPieces, kr_adjusted_vcov_sums
from .df.empirical import EmpiricalDF

__all__ = ["MMRMResult", "emp_start", "mmrm", "std_start"]

_KR = ("kenward-roger", "kenward-roger-linear")
#: df methods allowed with a sandwich ``vcov=`` (mmrm: Satterthwaite and Residual; plus ours)
_EMPIRICAL_DF = ("satterthwaite", "residual", "asymptotic", "between-within")


#: the most values ``simulate`` returns (``n`` x rows): 10**8 doubles are 0.8 GB
_MAX_SIMULATED_VALUES = 10**8


class MMRMResult(LinearModelResult):
    """A fitted MMRM (see :func:`mmrm`).

    Attributes
    ----------
    coef_names, beta : fixed effects in R's naming and their estimates.
    frame : pandas.DataFrame
        The rows used in the fit (observed outcomes), with ``visit`` as an
        ordered Categorical in the visit order used.
    covariance : str
        The covariance structure (``"us"``, ``"cs"``, ...).
    reml : bool
        REML (True) or ML.
    theta : numpy.ndarray
        Variance parameters on mmrm's unconstrained scale.
    theta_vcov : numpy.ndarray
        Their covariance: inverse Hessian of ``-log L``.
    converged : bool
        Whether the optimiser reached a stationary point with a positive
        definite Hessian.
    optimizer_info : OptimizerInfo
        Method, iterations, max ``|gradient|``, Hessian check, attempts.
    loglik, aic, bic : float
        ``AIC = -2 logLik + 2 k``, ``BIC = -2 logLik + k log(n_subjects)``
        with ``k`` the number of variance parameters (plus the fixed effects
        for ML), as mmrm.
    nobs, n_subjects, n_omitted : int
        Observations used, subjects, rows dropped for missing values.
    aliased : tuple of str
        Fixed-effect columns dropped because the design is rank deficient (an
        empty arm x visit cell, collinear covariates), as mmrm's
        ``beta_aliased``; ``coef()`` lists the estimated coefficients only.
    group_name, group_levels : str or None, list or None
        ``group=`` column and its levels (the order of the groups in
        ``theta`` and in :attr:`covariance_matrix`); None without groups.
    weights_name : str or None
        ``weights=`` column.

    Notes
    -----
    ``effect_sizes(standardizer=...)`` divides the arm differences by
    ``"baseline_sd"``: the pooled within-arm SD of the baseline -- of the
    covariate named by ``baseline=`` (one value per subject), or, without
    it, of the observed outcome at the first visit; when the model adjusts
    for a numeric subject-level covariate and ``baseline=`` is not given the
    first modelled visit is not a baseline and a ``DesignError`` is raised --
    or ``"residual_sd"``: the mean of the fitted visit SDs,
    ``mean(sqrt(diag(Sigma)))`` (with ``group=``: over all groups' visits; with
    ``weights=``: of the unit-weight ``Sigma``). Both are treated as known; the table's
    ``standardizer_source`` column says which SD was used.
    ``vcov("kenward-roger")`` is the Kenward-Roger adjusted covariance
    (mmrm's ``beta_vcov_adj``); for one-row contrasts the Kenward-Roger df
    equal the Satterthwaite df (both use the unadjusted covariance and the
    same ``W``), as in mmrm.
    """

    formula: str
    covariance: str
    reml: bool
    theta: np.ndarray
    theta_vcov: np.ndarray
    converged: bool
    optimizer_info: OptimizerInfo
    n_subjects: int
    n_omitted: int
    visit_levels: list[Any]
    reference_arm: Any
    baseline_name: str | None
    _baseline_candidates: tuple[str, ...]
    outcome_name: str
    subject_name: str
    visit_name: str
    time_name: str | list[str] | None
    group_name: str | None
    group_levels: list[Any] | None
    weights_name: str | None
    _weights: np.ndarray | None
    _m_visits: int
    time_points: list[Any] | None
    vcov_type: str | None
    _V_emp: np.ndarray | None
    _emp_df: EmpiricalDF | None
    _subject_data: pd.DataFrame
    _grid_codes: np.ndarray
    _sigma: np.ndarray
    _V: np.ndarray
    _jac: np.ndarray
    _engine: MMRMEngine
    _kr_cache: dict[str, Any]
    _rank_info: RankInfo
    aliased: tuple[str, ...]

    def __init__(self, **kw: Any) -> None:
        for key, value in kw.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "_kr_cache", {})

    # ------------------------------------------------------------------ MMRM API
    @property
    def covariance_matrix(self) -> pd.DataFrame:
        """Estimated ``Sigma`` over the visit levels (visit x visit).

        Spatial structures: over the distinct values of the ``time`` column
        (with several coordinate columns, over the distinct coordinate tuples).
        With ``group=``: one matrix per group, stacked -- the rows are a
        MultiIndex ``(group, visit)``, the columns the visits, so
        ``fit.covariance_matrix.loc[level]`` is that group's ``Sigma`` (R
        mmrm's ``VarCorr()`` list element). With ``weights=`` this is the
        ``Sigma`` of unit weight; observation ``j`` of a subject has variance
        ``Sigma[j, j] / w_j``.
        """
        return self._per_group(self._sigma)

    @property
    def correlation_matrix(self) -> pd.DataFrame:
        """Estimated within-subject correlation matrix over the visit levels
        (with ``group=``: stacked per group as :attr:`covariance_matrix`).
        """
        sd = np.sqrt(np.diag(self._sigma))
        return self._per_group(self._sigma / np.outer(sd, sd))

    def _per_group(self, big: np.ndarray) -> pd.DataFrame:
        labels = self._grid_labels
        levels = getattr(self, "group_levels", None)
        if levels is None:
            return pd.DataFrame(big, index=labels, columns=labels)
        m = len(labels)
        blocks = [big[g * m : (g + 1) * m, g * m : (g + 1) * m] for g in range(len(levels))]
        index = pd.MultiIndex.from_product([list(levels), labels], names=[self.group_name, None])
        return pd.DataFrame(np.vstack(blocks), index=index, columns=labels)

    def _sqrt_weights(self, n: int, w: np.ndarray | None) -> np.ndarray:
        return np.ones(n) if w is None else np.sqrt(w)

    @property
    def _grid_labels(self) -> list[Any]:
        labels = getattr(self, "time_points", None)
        return list(self.visit_levels) if labels is None else list(labels)

    def vcov(self, df_method: str | None = None) -> pd.DataFrame:
        """Covariance of the fixed effects: model-based, or KR-adjusted for
        ``df_method="kenward-roger"`` / ``"kenward-roger-linear"``.
        """
        method = self._df_method(df_method)
        V = self._kr(method)[0] if method in _KR else self._C
        return pd.DataFrame(V, index=list(self.coef_names), columns=list(self.coef_names))

    @property
    def _C(self) -> np.ndarray:
        """The covariance of beta the tables use: model-based, or the sandwich of ``vcov=``."""
        emp = getattr(self, "_V_emp", None)
        return self._V if emp is None else emp

    # ------------------------------------------------------------------ fitted values
    def fitted(self) -> pd.Series:
        r"""Marginal fitted values :math:`X\hat\beta` of the rows used in the fit.

        As R mmrm's ``fitted()`` (the population mean, not conditional on the
        subject's other observations).

        Returns
        -------
        pandas.Series
            Indexed like :attr:`frame`.

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
        >>> fit = rs.mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
        >>> bool(abs(fit.fitted().mean() - df["alsfrs"].mean()) < 1.0)
        True
        """
        X = self._fit_design()
        return pd.Series(X @ self.beta, index=self.frame.index, name="fitted")

    def residuals(self, type: str = "response") -> pd.Series:
        r"""Residuals of the rows used in the fit, as R mmrm's ``residuals()``.

        With :math:`r_i = y_i - X_i\hat\beta` (subject ``i``'s observed visits,
        in visit order) and :math:`\Sigma_i` the fitted covariance of those
        visits:

        * ``"response"``: :math:`r_i`;
        * ``"pearson"``: :math:`r_{ij} / \sqrt{\Sigma_{i,jj}}`;
        * ``"normalized"``: :math:`L_i^{-1} r_i` with :math:`\Sigma_i = L_i L_i'`
          the lower Cholesky factor (mmrm's ``epsilonTilde``; independent
          standard normal under the model).

        Source: mmrm 0.3.18 ``residuals.mmrm_tmb`` and ``src/mmrm.cpp``.

        Parameters
        ----------
        type : {"response", "pearson", "normalized"}

        Returns
        -------
        pandas.Series
            Indexed like :attr:`frame`.

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
        >>> fit = rs.mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
        >>> r = fit.residuals("normalized")
        >>> bool(0.8 < r.std() < 1.2)
        True
        """
        check_option(type, "type", ("response", "pearson", "normalized"))
        y = self.frame[self.outcome_name].to_numpy(float)
        r = y - self._fit_design() @ self.beta
        codes = np.asarray(self._grid_codes)
        if type != "response":  # on the scale of sqrt(w) y, whose covariance is Sigma
            r = r * self._sqrt_weights(len(r), getattr(self, "_weights", None))
        if type == "pearson":
            r = r / np.sqrt(np.diag(self._sigma))[codes]
        elif type == "normalized":
            subj = pd.factorize(self.frame[self.subject_name])[0]
            out = np.empty_like(r)
            for rows in _pattern_blocks(subj, codes, self._sigma.shape[0]):
                S = self._sigma[np.ix_(codes[rows[0]], codes[rows[0]])]
                Lc = np.linalg.cholesky(S)
                out[rows] = np.linalg.solve(Lc, r[rows].T).T
            r = out
        return pd.Series(r, index=self.frame.index, name=f"residuals_{type}")

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        conditional: bool = True,
        interval: str = "none",
        level: float = 0.95,
        df_method: str | None = None,
    ) -> pd.DataFrame:
        r"""Predictions, conditional on each subject's observed outcomes.

        For a subject with observed visits ``o`` and visits to predict ``u``
        (rows of ``newdata`` whose outcome is missing or absent), the
        conditional Gaussian mean and variance are

        .. math:: \hat y_u = X_u\hat\beta + \Sigma_{uo}\Sigma_{oo}^{-1}(y_o - X_o\hat\beta),
           \qquad Z = X_u - \Sigma_{uo}\Sigma_{oo}^{-1}X_o,

        ``conf_var = diag(Z V Z')`` (the uncertainty of :math:`\hat\beta`,
        ``V`` = :meth:`vcov`) and ``var = conf_var + diag(Sigma_uu - Sigma_uo
        Sigma_oo^{-1} Sigma_ou)``. Rows with an observed outcome are predicted
        by the outcome itself (variance 0). ``conditional=False`` gives
        :math:`X\hat\beta` with ``conf_var = diag(X V X')`` and ``var =
        conf_var + diag(Sigma)``. This is mmrm's ``predict.cpp`` (equal to SAS
        PROC MIXED's predicted values of missing visits); mmrm's own
        ``interval = "prediction"`` averages ``var`` over simulated thetas,
        rehabstats uses the plug-in ``var`` (SAS's). Limits are
        ``estimate -/+ z_{1 - alpha/2} se`` with the normal quantile, as mmrm.

        Parameters
        ----------
        newdata : pandas.DataFrame, optional
            Rows to predict, with the model's covariates, ``subject`` and
            ``visit`` (and ``time`` for spatial structures); an outcome column
            (if any) supplies the observed values conditioned on. Default: the
            rows used in the fit (then every prediction equals the data when
            ``conditional=True``).
        conditional : bool
            Condition on the subject's observed outcomes (default) or not.
        interval : {"none", "confidence", "prediction"}
            ``"confidence"``: ``se = sqrt(conf_var)``; ``"prediction"``: ``se
            = sqrt(var)``.
        level : float
            Level of the interval.
        df_method : str, optional
            Selects ``V``: the Kenward-Roger adjusted covariance for
            ``"kenward-roger"`` / ``"kenward-roger-linear"``, else the
            model-based one (default: the model's default df method).

        Returns
        -------
        pandas.DataFrame
            Indexed like ``newdata``: ``estimate`` and, with an interval,
            ``se, ci_low, ci_high``.

        Raises
        ------
        DataError
            Missing columns, no rows, a visit (or subject-visit pair) not
            usable, a covariate value outside the fitted levels, a missing
            covariate, an outcome or numeric covariate that is not numeric
            (strings, booleans, a Categorical) or infinite or above 1e150 in
            magnitude (as in the fit), bad options.

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline")
        >>> fit = rs.mmrm("alsfrs ~ arm * visit", df.dropna(subset=["alsfrs"]),
        ...               subject="subject", visit="visit")
        >>> pred = fit.predict(df, interval="prediction")
        >>> obs = df["alsfrs"].notna()
        >>> bool((pred.loc[obs, "estimate"] == df.loc[obs, "alsfrs"]).all())
        True
        >>> bool((pred.loc[~obs, "se"] > 0).all())
        True
        """
        if not isinstance(conditional, (bool, np.bool_)):
            raise DataError(
                f"The 'conditional' argument must be True or False; got {show(conditional)}."
            )
        check_option(interval, "interval", ("none", "confidence", "prediction"))
        level = check_ci(level, "level")
        V = self.vcov(df_method).to_numpy()
        X, subj, codes, y, index, S, sw = self._new_rows(newdata)
        # weights: predict sqrt(w) y (covariance Sigma), then scale back
        X, y = X * sw[:, None], y * sw
        mu = X @ self.beta
        est = mu.copy()
        conf_var = np.einsum("np,pq,nq->n", X, V, X)
        var = conf_var + np.diag(S)[codes]
        if conditional:
            obs = np.isfinite(y)
            est[obs], conf_var[obs], var[obs] = y[obs], 0.0, 0.0
            for rows in _pattern_blocks(subj, codes, S.shape[0], obs):
                o_rows, u_rows = rows
                if o_rows.shape[1] == 0 or u_rows.shape[1] == 0:
                    continue
                o, u = codes[o_rows[0]], codes[u_rows[0]]
                ss = np.linalg.solve(S[np.ix_(o, o)], S[np.ix_(o, u)]).T  # S_uo S_oo^-1
                est[u_rows] = mu[u_rows] + (y[o_rows] - mu[o_rows]) @ ss.T
                Z = X[u_rows] - np.einsum("uo,nop->nup", ss, X[o_rows])
                cv = np.einsum("nup,pq,nuq->nu", Z, V, Z)
                cond = np.diag(S[np.ix_(u, u)] - ss @ S[np.ix_(o, u)])
                conf_var[u_rows], var[u_rows] = cv, cv + cond
        est, conf_var, var = est / sw, conf_var / sw**2, var / sw**2
        out = pd.DataFrame({"estimate": est}, index=index)
        if interval != "none":
            se = np.sqrt(conf_var if interval == "confidence" else var)
            z = float(special.ndtri(0.5 + level / 2))  # stats.norm.ppf
            out["se"] = se
            out["ci_low"], out["ci_high"] = est - z * se, est + z * se
        return out

    def simulate(
        self,
        n: int = 1,
        *,
        newdata: pd.DataFrame | None = None,
        method: str = "unconditional",
        rng: Any = None,
    ) -> pd.DataFrame:
        r"""Simulate outcomes from the fitted model.

        ``method="unconditional"`` (default): every row of every subject is
        drawn afresh from :math:`N(X_i\hat\beta, \Sigma_i)` with the estimated
        ``beta`` and ``Sigma`` -- the parametric bootstrap of ``lme4::simulate``
        and what the power simulations need. ``"conditional"`` is R mmrm's
        ``simulate(method = "conditional")``: outcomes observed in ``newdata``
        are kept and the missing ones drawn from their distribution given the
        subject's observed ones (:math:`\mu_m + \Sigma_{mo}\Sigma_{oo}^{-1}
        (y_o - \mu_o)`, covariance :math:`\Sigma_{mm} - \Sigma_{mo}
        \Sigma_{oo}^{-1}\Sigma_{om}`), i.e. a draw of the missing values at the
        estimates (an imputation without parameter uncertainty). ``"marginal"``
        is mmrm's ``method = "marginal"``: for each simulation first
        :math:`\theta^* \sim N(\hat\theta, \widehat{\mathrm{Var}}\,\hat\theta)`
        (``theta_vcov``), then :math:`\beta^* \sim N(\hat\beta(\theta^*),
        (X'\Sigma(\theta^*)^{-1}X)^{-1})`, then the conditional draw at
        :math:`(\beta^*, \Sigma(\theta^*))`. With ``weights=``,
        :math:`\mathrm{Var}(y_{ij}) = \Sigma_{jj}/w_{ij}`.

        Parameters
        ----------
        n : int
            Number of simulated data sets.
        newdata : pandas.DataFrame, optional
            Rows to simulate (covariates, ``subject``, ``visit``; for the
            conditional methods the outcome column, NaN where it is to be
            drawn); default the rows used in the fit (all observed: the
            conditional methods then return the data).
        method : {"unconditional", "conditional", "marginal"}
            See above. mmrm's default is ``"conditional"`` on its full data
            (missing outcomes included); ours is the fresh draw.
        rng : int, numpy.random.Generator or None
            Seed or generator.

        Returns
        -------
        pandas.DataFrame
            One column per simulation (``sim_1``, ...), indexed like the rows.

        Raises
        ------
        DataError
            ``n`` not a positive integer or ``n`` x rows above 10**8 values;
            ``newdata`` as for :meth:`predict`; an unknown ``method``.

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
        >>> fit = rs.mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
        >>> sims = fit.simulate(3, rng=1)
        >>> sims.shape == (len(fit.frame), 3)
        True
        >>> gaps = fit.frame.assign(alsfrs=fit.frame["alsfrs"].mask(fit.frame.index % 5 == 0))
        >>> imp = fit.simulate(2, newdata=gaps, method="conditional", rng=1)
        >>> bool((imp["sim_1"] == gaps["alsfrs"])[gaps["alsfrs"].notna()].all())
        True
        """
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
            raise DataError(f"The 'n' argument must be a positive integer; got {show(n)}.")
        n_rows = len(self.frame) if not isinstance(newdata, pd.DataFrame) else len(newdata)
        if int(n) * max(n_rows, 1) > _MAX_SIMULATED_VALUES:
            raise DataError(
                f"The 'n' argument asks for {int(n)} simulations of {n_rows} rows; at most "
                f"{_MAX_SIMULATED_VALUES:.0e} simulated values are supported. Simulate in "
                "batches (a smaller n, several calls with one Generator as rng)."
            )
        check_option(method, "method", ("unconditional", "conditional", "marginal"))
        gen = normalize_rng(rng)
        n = int(n)
        if method != "marginal":
            X, subj, codes, y, index, S, sw = self._new_rows(newdata)
            y_use = np.full_like(y, np.nan) if method == "unconditional" else y
            out = _draw(X, subj, codes, y_use, S, sw, self.beta, n, gen)
            return pd.DataFrame(out, index=index, columns=[f"sim_{k + 1}" for k in range(n)])
        W = np.asarray(self.theta_vcov, dtype=float)
        w, U = np.linalg.eigh(0.5 * (W + W.T))  # theta_vcov may be a pseudo-inverse
        root = U * np.sqrt(np.clip(w, 0.0, None))
        cols = []
        index = None
        for _ in range(n):
            theta = np.asarray(self.theta, dtype=float) + root @ gen.standard_normal(len(w))
            ev = self._engine.evaluate(theta)
            if not ev.ok:  # a draw outside the positive definite region: redraw at most 100x
                for _retry in range(100):
                    theta = np.asarray(self.theta, dtype=float) + root @ gen.standard_normal(len(w))
                    ev = self._engine.evaluate(theta)
                    if ev.ok:
                        break
                else:
                    raise DesignError(
                        "simulate(method='marginal'): no draw of theta gave a "
                        "positive definite covariance matrix in 100 tries."
                    )
            Vb = np.asarray(ev.Ainv, dtype=float)
            lb = np.linalg.cholesky(0.5 * (Vb + Vb.T))
            beta = np.asarray(ev.beta, dtype=float) + lb @ gen.standard_normal(len(ev.beta))
            X, subj, codes, y, index, S, sw = self._new_rows(newdata, theta)
            cols.append(_draw(X, subj, codes, y, S, sw, beta, 1, gen)[:, 0])
        return pd.DataFrame(
            np.column_stack(cols), index=index, columns=[f"sim_{k + 1}" for k in range(n)]
        )

    def _sigma_at(self, theta: np.ndarray | None) -> np.ndarray:
        """Sigma over the fitted grid: the estimate, or at other covariance parameters."""
        if theta is None:
            return self._sigma
        out: np.ndarray = self._engine.structure.sigma(
            np.asarray(theta, dtype=float), self._engine.m
        )
        return out

    def _fit_design(self) -> np.ndarray:
        cache: dict[str, Any] = self._kr_cache
        if "X" not in cache:
            X = np.asarray(
                patsy.build_design_matrices([self.design_info], self.frame)[0], dtype=float
            )
            cache["X"] = X[:, self._rank_info.keep]
        out: np.ndarray = cache["X"]
        return out

    def _new_rows(
        self, newdata: pd.DataFrame | None, theta: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, pd.Index, np.ndarray, np.ndarray]:
        """(X, subject codes, grid codes, outcome or NaN, index, Sigma over the grid,
        sqrt(weights)); rows of ``newdata`` without a weights column have weight 1.
        ``theta``: Sigma at these covariance parameters instead of the estimate.
        """
        group, levels = getattr(self, "group_name", None), getattr(self, "group_levels", None)
        wname = getattr(self, "weights_name", None)
        if newdata is None:
            subj = pd.factorize(self.frame[self.subject_name])[0]
            y = self.frame[self.outcome_name].to_numpy(float)
            sw = self._sqrt_weights(len(y), getattr(self, "_weights", None))
            return (
                self._fit_design(),
                subj,
                np.asarray(self._grid_codes),
                y,
                self.frame.index,
                self._sigma_at(theta),
                sw,
            )
        if not isinstance(newdata, pd.DataFrame):
            raise DataError(f"'newdata' must be a pandas DataFrame; got {type(newdata).__name__}.")
        if len(newdata) == 0:
            raise DataError("'newdata' has no rows.")
        time_cols = _time_columns(self.time_name)
        check_columns(
            newdata,
            {
                "subject": self.subject_name,
                "visit": self.visit_name,
                **{
                    f"time[{i}]" if len(time_cols) > 1 else "time": c
                    for i, c in enumerate(time_cols)
                },
                "group": group,
            },
        )
        frame = newdata.copy()
        for c in self.frame.columns:
            if c in frame.columns and isinstance(self.frame[c].dtype, pd.CategoricalDtype):
                cats = list(self.frame[c].cat.categories)
                bad = ~frame[c].isin(cats) & frame[c].notna()
                if bad.any():
                    raise DataError(
                        f"Column {c!r} of 'newdata' has value "
                        f"{show(frame.loc[bad, c].iloc[0])}, not one of the fitted "
                        f"levels {show_list(cats)}."
                    )
                frame[c] = pd.Categorical(frame[c], categories=cats)
        numeric = self._newdata_numeric(frame, group)
        if frame[[self.subject_name, self.visit_name]].isna().any().any():
            raise DataError(
                f"'newdata' has missing {self.subject_name!r} or {self.visit_name!r} values."
            )
        for c in self.frame.columns:  # the covariates (the fit's rows have them all)
            if c in frame.columns and c not in (self.outcome_name, wname, *time_cols):
                miss = frame[c].isna().to_numpy()
                if miss.any():
                    raise DataError(
                        f"Column {c!r} of 'newdata' has a missing value in row "
                        f"{show(frame.index[int(np.flatnonzero(miss)[0])])}; predictions need "
                        "every covariate (drop or fill those rows)."
                    )
        try:
            X = np.asarray(
                patsy.build_design_matrices([self.design_info], frame, NA_action="raise")[0],
                dtype=float,
            )
        except patsy.PatsyError as exc:
            raise DataError(
                f"Cannot build the design for 'newdata' (a covariate is missing or "
                f"not usable): {exc}"
            ) from None
        X = X[:, self._rank_info.keep]
        y = (
            frame[self.outcome_name].to_numpy(float)
            if self.outcome_name in numeric
            else np.full(len(frame), np.nan)
        )
        subj = pd.factorize(frame[self.subject_name])[0]
        if time_cols:
            t = np.column_stack(
                [pd.to_numeric(frame[c], errors="coerce").to_numpy(float) for c in time_cols]
            )
            if not np.all(np.isfinite(t)):
                bad = time_cols[int(np.argmin(np.isfinite(t).all(axis=0)))]
                raise DataError(f"Column {bad!r} of 'newdata' must be numeric and finite.")
            grid, codes = np.unique(t if t.shape[1] > 1 else t[:, 0], axis=0, return_inverse=True)
            codes = np.asarray(codes).reshape(-1)
            st = get_structure(self.covariance).bind(grid)
            n_grid = len(grid)
            if levels is not None:
                assert group is not None
                st = grouped_structure(st, len(levels))
                codes = group_codes(frame[group], levels, group) * len(grid) + codes
                n_grid *= len(levels)
            S = st.sigma(self.theta if theta is None else theta, n_grid)
            dup = pd.Series(list(zip(subj, codes, strict=True))).duplicated().to_numpy()
        else:
            codes = (
                frame[self.visit_name].cat.codes.to_numpy()
                if isinstance(frame[self.visit_name].dtype, pd.CategoricalDtype)
                else np.array(
                    [
                        self.visit_levels.index(v) if v in self.visit_levels else -1
                        for v in frame[self.visit_name]
                    ]
                )
            )
            if (codes < 0).any():
                bad = frame[self.visit_name].to_numpy()[codes < 0][0]
                raise DataError(
                    f"Visit {show(bad)} of 'newdata' is not a fitted visit level "
                    f"{show_list(self.visit_levels)}."
                )
            S = self._sigma_at(theta)
            if levels is not None:
                assert group is not None
                codes = group_codes(frame[group], levels, group) * len(self.visit_levels) + codes
            dup = pd.Series(list(zip(subj, codes, strict=True))).duplicated().to_numpy()
        if dup.any():
            raise DataError(
                f"Subject {show(frame[self.subject_name].to_numpy()[dup][0])} has a "
                "visit listed twice in 'newdata'."
            )
        if levels is not None:
            assert group is not None
            first = pd.Series(codes // (S.shape[0] // len(levels))).groupby(subj).nunique()
            if (first > 1).any():
                raise DataError(
                    f"The group column {group!r} of 'newdata' must be constant within subject."
                )
        sw = self._sqrt_weights(len(frame), weights_of(frame, wname))
        return X, subj, np.asarray(codes), y, frame.index, S, sw

    def _newdata_numeric(self, frame: pd.DataFrame, group: str | None) -> list[str]:
        """Check (and make float, in place) the numeric columns of the fit in ``newdata``.

        The outcome and the numeric covariates must hold numbers (missing as
        NaN, ``pd.NA``), finite and of magnitude at most 1e150 as in the fit: a
        string, boolean or Categorical column, an infinite value would otherwise
        reach patsy (a bare exception) or give infinite predictions and
        residuals. Returns the checked columns.
        """
        skip = {self.subject_name, self.visit_name, group, getattr(self, "weights_name", None)}
        cols = [
            c
            for c in self.frame.columns
            if c in frame.columns and c not in skip and is_plain_numeric(self.frame[c])
        ]
        for c in cols:
            s = frame[c]
            if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(s.dtype):
                raise DataError(
                    f"Column {c!r} of 'newdata' must be numeric, as in the fit; it has "
                    f"dtype {s.dtype}."
                )
            role = "outcome" if c == self.outcome_name else "newdata"
            frame[c] = check_numeric_column(frame, c, role)
        check_finite(frame, cols, dict.fromkeys(cols, "newdata"))
        return cols

    def augment(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        conditional: bool = False,
        interval: str = "none",
        level: float = 0.95,
    ) -> pd.DataFrame:
        r"""The data with fitted values and residuals (``broom::augment``).

        Columns added: ``.fitted`` -- the marginal :math:`X\hat\beta`
        (:meth:`fitted`; with ``conditional=True`` the prediction conditional
        on the subject's observed outcomes, :meth:`predict`, which equals the
        outcome where it is observed), ``.resid`` (outcome minus
        :math:`X\hat\beta`, :meth:`residuals` ``"response"``), ``.pearson``
        (``.resid`` over the fitted SD at the visit) and, with an
        ``interval``, ``.se.fit, .lower, .upper`` (:meth:`predict`'s ``se,
        ci_low, ci_high``). The default, marginal ``.fitted`` is R mmrm's
        ``augment.mmrm`` (its ``predict`` has ``conditional = FALSE`` by
        default) and broom's convention.

        Parameters
        ----------
        newdata : pandas.DataFrame, optional
            Rows to augment (default: the rows used in the fit, :attr:`frame`);
            residuals where ``newdata`` has an observed outcome, else NaN.
        conditional : bool
            See above.
        interval : {"none", "confidence", "prediction"}
            As :meth:`predict`.
        level : float
            Level of the interval.

        Returns
        -------
        pandas.DataFrame
            A copy of the rows with the added columns, same index.

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
        >>> fit = rs.mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
        >>> aug = fit.augment()
        >>> bool(((aug[".fitted"] + aug[".resid"]) - aug["alsfrs"]).abs().max() < 1e-9)
        True
        """
        if not isinstance(conditional, (bool, np.bool_)):
            raise DataError(
                f"The 'conditional' argument must be True or False; got {show(conditional)}."
            )
        check_option(interval, "interval", ("none", "confidence", "prediction"))
        rows = self.frame if newdata is None else newdata
        out = rows.copy()
        marg = self.predict(newdata, conditional=False)["estimate"].to_numpy(float)
        pred = self.predict(newdata, conditional=conditional, interval=interval, level=level)
        out[".fitted"] = pred["estimate"].to_numpy(float)
        _, _, codes, y, _, S, sw = self._new_rows(newdata)  # y: checked, NaN where missing
        resid = y - marg
        out[".resid"] = resid
        out[".pearson"] = resid * sw / np.sqrt(np.diag(S))[codes]  # Var(y_ij) = S_jj / w_ij
        if interval != "none":
            out[".se.fit"] = pred["se"].to_numpy(float)
            out[".lower"] = pred["ci_low"].to_numpy(float)
            out[".upper"] = pred["ci_high"].to_numpy(float)
        return out

    # ------------------------------------------------------------------ G-computation
    def marginal_effect(
        self,
        arm: str | None = None,
        *,
        reference: Any = None,
        type: str = "difference",
        subjects: str = "data",
        variance: str = "conditional",
        df_method: str | None = None,
        ci: float = 0.95,
    ) -> pd.DataFrame:
        r"""Marginal (G-computation) arm means and differences at each visit.

        For arm ``a`` and visit ``v`` the marginal mean is the model's
        prediction for every subject with its own covariates, as if assigned
        to ``a``, averaged over the subjects:

        .. math:: \hat\mu_{a,v} = \frac1N\sum_{i=1}^N x(a, v, z_i)'\hat\beta
           = \bar L_{a,v}\hat\beta,\qquad \bar L_{a,v} = \frac1N\sum_i x(a, v, z_i)',

        and the marginal effect is :math:`\hat\mu_{a,v} - \hat\mu_{r,v}` (arm
        minus the reference arm). The estimator is linear in
        :math:`\hat\beta`, so the delta-method variance is exact:
        ``variance="conditional"`` (default) gives :math:`\bar L C\bar L'`
        (``C`` = :meth:`vcov`), conditional on the covariates -- equal to
        emmeans' ``counterfactuals`` grid and, the model being linear in its
        covariates, to ``emmeans(weights = "proportional")`` on one row per
        subject. ``variance="population"`` adds the sampling variance of the
        covariates, :math:`\widehat{\mathrm{cov}}_i(\hat y_i(a, v))/N` over
        the subjects' potential outcomes (R mmrm's G-computation correction,
        ``emmeans_gcomp_vars``; the covariate-sampling term of the variance in Ye et
        al. 2023, doi:10.1080/01621459.2022.2049278),
        which matters when the model has arm-by-covariate interactions (for
        the differences) or any covariate (for the means). mmrm sets the
        covariance between visits to zero; rehabstats keeps it (it enters
        contrasts across visits only, never the per-visit rows).

        The df are those of the row :math:`\bar L` with ``df_method`` (the
        model's default, e.g. Satterthwaite, as :meth:`test`); with
        ``variance="population"`` the model-based Satterthwaite df are scaled
        by :math:`(v_{pop}/v_{cond})^2` (mmrm's ``df_md`` with the corrected
        variance and the model's gradient), the other methods keep theirs.
        Limits use the t quantile with those df.

        Parameters
        ----------
        arm : str, optional
            The treatment factor (default the model's arm).
        reference : optional
            Arm subtracted (default the model's reference arm).
        type : {"difference", "means"}
            Arm differences (default) or the arm means.
        subjects : {"data", "fit"}
            Average over every subject of the data given to :func:`mmrm` whose
            covariates are observed, outcomes missing or not (default; mmrm's
            choice, the randomised population), or only the subjects in the
            fit. Each subject contributes its first row with complete
            covariates (for baseline covariates, constant within subject).
        variance : {"conditional", "population"}
            See above.
        df_method : str, optional
            One of the model's ``df_methods``.
        ci : float
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            ``contrast`` (``"active - placebo"``) or the arm column, the visit
            column (when the visit is a model term), ``estimate, se, df, t, p,
            ci_low, ci_high``; ``attrs`` hold ``n_subjects``, ``variance``,
            ``df_method``.

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
        >>> fit = rs.mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
        >>> me = fit.marginal_effect()
        >>> con = fit.contrasts("arm", by="visit", method="trt.vs.ctrl")
        >>> bool(abs(me["estimate"] - con["estimate"]).max() < 1e-10)  # no covariates
        True
        """
        check_option(type, "type", ("difference", "means"))
        check_option(subjects, "subjects", ("data", "fit"))
        check_option(variance, "variance", ("conditional", "population"))
        method = self._df_method(df_method)
        ci = check_ci(ci)
        arm = arm if arm is not None else self.arm_name
        if (
            arm is None
            or arm == self.visit_name  # each cell (visit, arm) must be a distinct column
            or arm not in self.frame.columns
            or not isinstance(self.frame[arm].dtype, pd.CategoricalDtype)
        ):
            raise DataError(f"'arm' must name the treatment factor of the model; got {arm!r}.")
        arms = present_levels(self.frame[arm])
        ref = (
            reference
            if reference is not None
            else (self.reference_arm if arm == self.arm_name else arms[0])
        )
        if ref not in arms:
            raise DataError(f"'reference' is {ref!r}, not one of the arms {show_list(arms)}.")
        sub = self._gcomp_subjects(subjects, arm)
        n = len(sub)
        by_visit = self.visit_name in (self.effect_by or ())  # the visit is a model term
        visits: list[Any] = list(self.visit_levels) if by_visit else [None]
        cells = [(v, a) for v in visits for a in arms]
        Lfull = np.empty((len(cells), len(self._rank_info.keep)))
        vhat = np.empty((n, len(cells)))
        keep = self._rank_info.keep
        for k, (v, a) in enumerate(cells):
            cf = sub.copy()
            cf[arm] = pd.Categorical([a] * n, categories=self.frame[arm].cat.categories)
            if by_visit:
                cf[self.visit_name] = pd.Categorical([v] * n, categories=self.visit_levels)
            X = np.asarray(patsy.build_design_matrices([self.design_info], cf)[0], dtype=float)
            Lfull[k] = X.mean(axis=0)
            vhat[:, k] = X[:, keep] @ self.beta
        S = (
            np.atleast_2d(np.cov(vhat, rowvar=False)) / n
            if (variance == "population" and n > 1)
            else np.zeros((len(cells), len(cells)))
        )
        rows: list[dict[str, Any]] = []
        for v in visits:
            for a in arms:
                if type == "difference" and a == ref:
                    continue
                d = np.zeros(len(cells))
                d[cells.index((v, a))] = 1.0
                if type == "difference":
                    d[cells.index((v, ref))] = -1.0
                est, se, df = self._contrast_1d(d @ Lfull, method)
                extra = float(d @ S @ d)
                if extra > 0 and math.isfinite(se):
                    var_c = se * se + extra
                    if method == "satterthwaite" and getattr(self, "_emp_df", None) is None:
                        df = df * (var_c / (se * se)) ** 2
                    se = math.sqrt(var_c)
                lab: dict[str, Any] = (
                    {"contrast": f"{a} - {ref}"} if type == "difference" else {arm: a}
                )
                if by_visit:
                    lab[self.visit_name] = v
                rows.append({**lab, "estimate": est, "se": se, "df": df})
        out = pd.DataFrame(rows)
        tab = _t_table(
            out["estimate"].to_numpy(float),
            out["se"].to_numpy(float),
            out["df"].to_numpy(float),
            ci,
        )
        res = pd.concat([out.drop(columns=["estimate", "se", "df"]), tab], axis=1)
        res.attrs.update(
            n_subjects=n,
            variance=variance,
            df_method=method,
            subjects=subjects,
            reference=ref,
            level=ci,
        )
        return res

    def _gcomp_subjects(self, subjects: str, arm: str) -> pd.DataFrame:
        """One row per subject with the model's covariates, coded as in the fit."""
        if subjects == "fit":
            sub = self.frame.drop_duplicates(self.subject_name).reset_index(drop=True)
        else:
            sub = self._subject_data.copy()
        ok = np.ones(len(sub), dtype=bool)
        for c in self.frame.columns:
            if (
                c in sub.columns
                and c not in (arm, self.visit_name)
                and isinstance(self.frame[c].dtype, pd.CategoricalDtype)
            ):
                cats = self.frame[c].cat.categories
                ok &= sub[c].isin(cats).to_numpy()
                sub[c] = pd.Categorical(sub[c].astype(object), categories=cats)
        if not ok.all():
            warnings.warn(
                f"{int((~ok).sum())} subject(s) have a covariate level not in the "
                "fitted data and are left out of the marginal means.",
                RehabStatsWarning,
                stacklevel=3,
            )
            sub = sub.loc[ok].reset_index(drop=True)
        return sub

    # ------------------------------------------------------------------ base hooks
    def _kr(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        """(adjusted vcov, P matrices) of a Kenward-Roger variant, computed once."""
        kr = self._df().kr_pieces(method)
        return kr.PhiA, kr.P

    def _pqr(self, part: str) -> tuple[np.ndarray, ...]:
        r"""Kenward-Roger's pieces at the estimate, contracted with ``W`` as they are used.

        ``part="pq"``: ``(P, WQ)`` with ``P_i`` ``(k, p, p)`` and
        :math:`WQ = \sum_{ij} W_{ij} Q_{ij}`; ``part="r"``: ``(WR,)`` with
        :math:`WR = \sum_{ij} W_{ij} R_{ij}`, ``W`` = :attr:`theta_vcov`.
        Only these ``p x p`` sums enter the adjusted covariance, so ``Q`` and
        ``R`` (``k x k x p x p``: 69 MB each for 14 visits, unstructured) are
        never formed: per pattern, :math:`\sum_{ij} W_{ij}\,\Sigma_i\Omega_s\Sigma_j
        = \sum_i \Sigma_i\Omega_s K_i` with :math:`K_i = \sum_j W_{ij}\Sigma_j`,
        and :math:`\sum_{ij} W_{ij}\,\partial^2\Sigma/\partial\theta_i\partial\theta_j`
        is one ``m x m`` matrix.
        """
        eng: MMRMEngine = self._engine
        ev = eng.evaluate(self.theta)
        W = np.asarray(self.theta_vcov, dtype=float)
        p = eng.p
        if part == "r":
            ZZ4 = eng.zz_sum(ev)
            WR = np.zeros(p * p)
            # second derivatives block by block (one block per group of a grouped
            # structure: never the (k, k, m, m) array over all groups)
            for ts, vs, d2 in eng.derivs.hessian_blocks(np.asarray(self.theta, dtype=float)):
                kb, mb = d2.shape[0], d2.shape[2]
                Hw = W[ts, ts].reshape(kb * kb) @ d2.reshape(kb * kb, mb * mb)
                WR += Hw @ ZZ4[vs, vs].reshape(mb * mb, p * p)
            return (WR.reshape(p, p),)
        dS = eng.jacobian(self.theta)
        k = dS.shape[0]
        P = -eng.b_matrices_at(ev)
        # WQ = sum_s sum_ad (sum_ij W_ij Sigma_i Omega_s Sigma_j)[a, d] ZZ_s[a, d] on observed visits
        WQ = np.zeros(p * p)
        for s, (o, Zs) in enumerate(eng.zz_blocks(ev)):
            ms = len(o)
            Jo = dS[:, o][:, :, o]  # (k, ms, ms)
            K = (W @ Jo.reshape(k, ms * ms)).reshape(k, ms, ms)  # K_i = sum_j W_ij Sigma_j
            M = np.matmul(Jo @ ev.Omega[s][np.ix_(o, o)], K).sum(axis=0)  # (ms, ms)
            WQ += M.reshape(ms * ms) @ Zs.reshape(ms * ms, p * p)
        return P, WQ.reshape(p, p)

    def _kr_components(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kenward-Roger's ``P``, ``Q``, ``R`` themselves (``(k, p, p)``, ``(k, k, p, p)`` x2).

        R mmrm's ``h_kr_comp`` output, for comparing with mmrm's components; the
        adjustment itself uses only the ``W``-weighted sums (:meth:`_pqr`), which
        need no ``k x k x p x p`` array.
        """
        eng: MMRMEngine = self._engine
        ev = eng.evaluate(self.theta)
        dS = eng.jacobian(self.theta)
        k, p = dS.shape[0], eng.p
        P = -eng.b_matrices_at(ev)
        ZZ4 = eng.zz_sum(ev)
        # second derivatives block by block (one block per group of a grouped structure:
        # never the (k, k, m, m) array over all groups)
        R = np.zeros((k, k, p, p))
        for ts, vs, d2 in eng.derivs.hessian_blocks(np.asarray(self.theta, dtype=float)):
            kb, mb = d2.shape[0], d2.shape[2]
            Zb = ZZ4[vs, vs].reshape(mb * mb, p * p)
            R[ts, ts] = (d2.reshape(kb * kb, mb * mb) @ Zb).reshape(kb, kb, p, p)
        # Q_ij = sum_s sum_ad (Sigma_i Omega_s Sigma_j)[a, d] ZZ_s[a, d] on observed visits
        Q = np.zeros((k * k, p * p))
        for s, (o, Zs) in enumerate(eng.zz_blocks(ev)):
            ms = len(o)
            Jo = dS[:, o][:, :, o]  # (k, ms, ms)
            # only the parameters acting on these visits (with groups: the pattern's group)
            act = np.flatnonzero(np.abs(Jo).reshape(k, -1).max(axis=1) > 0)
            ka, Ja = len(act), Jo[act]
            T = (Ja @ ev.Omega[s][np.ix_(o, o)]).reshape(ka * ms, ms)
            TT = (T @ Ja.transpose(1, 0, 2).reshape(ms, ka * ms)).reshape(ka, ms, ka, ms)
            Q[(act[:, None] * k + act[None, :]).ravel()] += TT.transpose(0, 2, 1, 3).reshape(
                ka * ka, ms * ms
            ) @ Zs.reshape(ms * ms, p * p)
        return P, Q.reshape(k, k, p, p), R

    def _kr_pieces(self, method: str) -> KRPieces:
        cache: dict[str, Any] = self._kr_cache
        full = method != "kenward-roger-linear"
        with single_thread_blas():
            if "PQ" not in cache:
                cache["PQ"] = self._pqr("pq")
            if full and "R" not in cache:
                cache["R"] = self._pqr("r")[0]
        P, WQ = cache["PQ"]
        adj = kr_adjusted_vcov_sums(self._V, self.theta_vcov, P, WQ, cache["R"] if full else None)
        return KRPieces(PhiA=adj, P=P, W=self.theta_vcov)

    def _df(self) -> DFEngine:
        cache: dict[str, Any] = self._kr_cache
        if "engine" not in cache:
            cache["engine"] = DFEngine(
                beta=self.beta,
                C=self._C,
                dC=self._jac,
                A=self.theta_vcov,
                resid_df=float(self.nobs - len(self.beta)),
                kr=self._kr_pieces,
            )
        out: DFEngine = cache["engine"]
        return out

    def _contrast_table_rows(self, L: np.ndarray, df_method: str) -> np.ndarray:
        # model-based Satterthwaite, the default: all rows in one set of array products
        if df_method != "satterthwaite" or getattr(self, "_emp_df", None) is not None:
            return super()._contrast_table_rows(L, df_method)
        Lr = self._rank_info.reduce(np.atleast_2d(np.asarray(L, dtype=float)))
        ok = np.all(np.isfinite(Lr), axis=1)  # not estimable: an aliased combination
        out = np.full((len(Lr), 3), math.nan)
        if ok.any():
            out[ok] = self._df().contrast_rows_satterthwaite(Lr[ok])
        return out

    def _contrast_1d(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        Lr = self._rank_info.reduce(L)
        if not np.all(np.isfinite(Lr)):  # not estimable (an aliased combination)
            return math.nan, math.nan, math.nan
        if df_method == "between-within":
            est, se, _ = self._df().contrast_1d(Lr, "residual")
            return est, se, self._bw_df(np.atleast_2d(Lr))
        emp = getattr(self, "_emp_df", None)
        if df_method == "satterthwaite" and emp is not None:
            est, se, _ = self._df().contrast_1d(Lr, "residual")
            return est, se, emp.df_1d(Lr)
        return self._df().contrast_1d(Lr, df_method)

    def _contrast_md(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        Lr = self._rank_info.reduce(np.atleast_2d(L))
        if not np.all(np.isfinite(Lr)):
            return math.nan, math.nan, math.nan
        if df_method == "between-within":
            F, q, _ = self._df().contrast_md(Lr, "residual")
            return F, q, (self._bw_df(Lr) if q > 0 else math.nan)
        emp = getattr(self, "_emp_df", None)
        if df_method == "satterthwaite" and emp is not None:
            return emp.test_md(Lr, self.beta, self._C)
        return self._df().contrast_md(Lr, df_method)

    def _bw_df(self, L: np.ndarray) -> float:
        """Between-within df of a contrast (mmrm's ``h_df_min_bw``).

        Each coefficient is "between" when its column is constant within every
        subject, else "within" (the intercept counts as within); ``ddf_between
        = N - p_between - 1``, ``ddf_within = n - N - p_within``; a contrast
        gets the smallest df of the coefficients it involves (Schluchter &
        Elashoff 1990, doi:10.1080/00949659008811282; SAS ``DDFM=BW``).
        """
        cache: dict[str, Any] = self._kr_cache
        if "bw" not in cache:
            X = self._fit_design()
            subj = pd.factorize(self.frame[self.subject_name])[0]
            kinds = []
            for j, name in enumerate(self.coef_names):
                if name == "(Intercept)":
                    kinds.append("intercept")
                    continue
                pairs = pd.DataFrame({"x": X[:, j], "s": subj}).drop_duplicates()
                kinds.append("within" if len(pairs) > self.n_subjects else "between")
            kind_arr = np.array(kinds)
            n_between = int(np.sum(kind_arr == "between"))
            n_within = int(np.sum(kind_arr == "within"))
            n_icpt = int(np.sum(kind_arr == "intercept"))
            ddf_b = self.n_subjects - n_between - n_icpt
            ddf_w = self.nobs - self.n_subjects - n_within
            cache["bw"] = np.where(kind_arr == "between", ddf_b, ddf_w).astype(float)
        involved = np.any(np.atleast_2d(L) != 0, axis=0)
        return float(np.min(cache["bw"][involved])) if involved.any() else math.nan

    def _standardizer(self, kind: str) -> float:
        return self._standardizer_info(kind)[0]

    def _standardizer_info(self, kind: str) -> tuple[float, str]:
        """(SD, a sentence saying which SD it is) for :meth:`effect_sizes`."""
        if kind == "residual_sd":
            sd = np.sqrt(np.diag(self._sigma))
            return float(
                np.mean(sd)
            ), "mean of the model's SDs at the visits, mean(sqrt(diag(Sigma)))"
        return baseline_sd(
            self.frame,
            outcome=self.outcome_name,
            subject=self.subject_name,
            visit=self.visit_name,
            first_visit=self.visit_levels[0],
            arm=self.arm_name,
            baseline=self.baseline_name,
            candidates=self._baseline_candidates,
        )

    def __repr__(self) -> str:
        ref = f" reference={self.reference_arm!r}" if self.reference_arm is not None else ""
        grp = getattr(self, "group_levels", None)
        by = f" by {self.group_name}={[*map(str, grp)]}" if grp is not None else ""
        wt = f" weights={self.weights_name!r}" if getattr(self, "weights_name", None) else ""
        return (
            f"<MMRMResult {self.covariance}{by}{wt} {'REML' if self.reml else 'ML'} "
            f"n={self.nobs} subjects={self.n_subjects} p={len(self.beta)} "
            f"visits={[*map(str, self.visit_levels)]}{ref} converged={self.converged}>"
        )


def _draw(
    X: np.ndarray,
    subj: np.ndarray,
    codes: np.ndarray,
    y: np.ndarray,
    S: np.ndarray,
    sw: np.ndarray,
    beta: np.ndarray,
    n: int,
    gen: np.random.Generator,
) -> np.ndarray:
    """``n`` draws of every row: observed ``y`` kept, missing ones drawn given the subject's
    observed rows (on the ``sqrt(w)`` scale, where the covariance is ``Sigma``).
    """
    mu = (X * sw[:, None]) @ beta  # sqrt(w) y ~ N(sqrt(w) X beta, Sigma)
    z = y * sw
    obs = np.isfinite(z)
    out = np.empty((len(mu), n))
    out[obs] = z[obs, None]
    for rows_o, rows_m in _pattern_blocks(subj, codes, S.shape[0], split=obs):
        if rows_m.shape[1] == 0:
            continue
        cm = codes[rows_m[0]]
        S_mm = S[np.ix_(cm, cm)]
        mean = mu[rows_m]  # (s, k_m)
        if rows_o.shape[1]:
            co = codes[rows_o[0]]
            A = np.linalg.solve(S[np.ix_(co, co)], S[np.ix_(co, cm)]).T  # S_mo S_oo^-1
            mean = mean + (z[rows_o] - mu[rows_o]) @ A.T
            S_mm = S_mm - A @ S[np.ix_(co, cm)]
        L = np.linalg.cholesky(0.5 * (S_mm + S_mm.T))
        e = gen.standard_normal((rows_m.shape[0], n, rows_m.shape[1]))
        out[rows_m] = (mean[:, None, :] + np.einsum("ab,snb->sna", L, e)).transpose(0, 2, 1)
    return out / sw[:, None]


def _pattern_blocks(
    subj: np.ndarray, codes: np.ndarray, m: int, split: np.ndarray | None = None
) -> list[Any]:
    """Row indices of the subjects grouped by their set of visits (grid positions).

    Without ``split``: a list of ``(n_subjects_in_pattern, k)`` arrays of row
    indices, columns in grid order. With a boolean ``split`` per row: a list of
    pairs ``(rows where split, rows where not)`` grouped by both sets.
    """
    n_sub = int(subj.max()) + 1 if len(subj) else 0
    idx = np.full((n_sub, m), -1)
    idx[subj, codes] = np.arange(len(subj))
    present = idx >= 0
    if split is None:
        _, inv = np.unique(present.astype(np.uint8), axis=0, return_inverse=True)
        inv = np.asarray(inv).ravel()
        out: list[Any] = []
        for g in np.unique(inv):
            members = np.flatnonzero(inv == g)
            out.append(idx[np.ix_(members, np.flatnonzero(present[members[0]]))])
        return out
    flag = np.zeros((n_sub, m), dtype=bool)
    flag[subj, codes] = split
    a, b = present & flag, present & ~flag
    pairs = np.concatenate([a, b], axis=1).astype(np.uint8)
    _, inverse = np.unique(pairs, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    res: list[Any] = []
    for g in np.unique(inverse):
        members = np.flatnonzero(inverse == g)
        ca, cb = np.flatnonzero(a[members[0]]), np.flatnonzero(b[members[0]])
        res.append((idx[np.ix_(members, ca)], idx[np.ix_(members, cb)]))
    return res


def _sandwich(
    y: np.ndarray,
    X: np.ndarray,
    beta: np.ndarray,
    V: np.ndarray,
    sigma: np.ndarray,
    subj: np.ndarray,
    codes: np.ndarray,
    m: int,
    kind: str,
) -> np.ndarray:
    """Sandwich covariance of beta (see ``vcov=`` of :func:`mmrm`), by missingness pattern."""
    return _sandwich_pieces(y, X, beta, V, sigma, subj, codes, m, kind)[0]


def _sandwich_pieces(
    y: np.ndarray,
    X: np.ndarray,
    beta: np.ndarray,
    V: np.ndarray,
    sigma: np.ndarray,
    subj: np.ndarray,
    codes: np.ndarray,
    m: int,
    kind: str,
) -> tuple[np.ndarray, EmpiricalDF]:
    """The sandwich covariance and its Bell-McCaffrey df engine (whitened rows, ``A_i X~_i``)."""
    r = y - X @ beta
    meat = np.zeros_like(V)
    eps = float(np.finfo(float).eps)
    Xt_all = np.zeros_like(X, dtype=float)
    AX_all = np.zeros_like(X, dtype=float)
    for rows in _pattern_blocks(subj, codes, m):
        c = codes[rows[0]]
        Winv = np.linalg.inv(np.linalg.cholesky(sigma[np.ix_(c, c)]))  # L^-1
        Xt = np.einsum("ab,nbp->nap", Winv, X[rows])  # (n, k, p)
        rt = np.einsum("ab,nb->na", Winv, r[rows])  # (n, k)
        AXt = Xt
        if kind != "empirical":
            k = len(c)
            IH = np.eye(k) - np.einsum("nap,pq,nbq->nab", Xt, V, Xt)
            if kind == "empirical-jackknife":
                A = np.linalg.inv(IH)
            else:  # symmetric pseudo-inverse square root (mmrm's pseudoInverseSqrt)
                d, U = np.linalg.eigh(IH)
                tol = eps * k * np.max(np.abs(d), axis=1, keepdims=True)
                inv_sqrt = np.where(d > tol, 1.0 / np.sqrt(np.where(d > tol, d, 1.0)), 0.0)
                A = np.einsum("nab,nb,ncb->nac", U, inv_sqrt, U)
            rt = np.einsum("nab,nb->na", A, rt)
            AXt = np.einsum("nab,nbp->nap", A, Xt)
        z = np.einsum("nap,na->np", Xt, rt)  # X~_i' A_i r~_i
        meat += z.T @ z
        Xt_all[rows] = Xt
        AX_all[rows] = AXt
    out: np.ndarray = V @ meat @ V
    return 0.5 * (out + out.T), EmpiricalDF(Xt_all, AX_all, np.asarray(subj, dtype=np.int64), V)


# ---------------------------------------------------------------------- spatial grid
_MAX_SPATIAL_POINTS = 60


def _time_columns(time: str | Sequence[str] | None) -> list[str]:
    """The coordinate columns of a spatial structure: ``time`` as a list (empty if None)."""
    if time is None:
        return []
    return [time] if isinstance(time, str) else list(time)


def _spatial_grid(
    frame: pd.DataFrame, st: CovarianceStructure, *, subject: str, time: list[str]
) -> tuple[CovarianceStructure, np.ndarray, list[Any]]:
    """Bind a spatial structure to the distinct observation times (or coordinate tuples).

    Returns the bound structure, each row's index into the grid of distinct
    points and the grid itself (sorted; floats for one coordinate, tuples for
    several, whose Euclidean distances are the ``d_ij``).
    """
    tvals = frame[time].to_numpy(float)
    one = tvals.shape[1] == 1
    grid, codes = np.unique(tvals[:, 0] if one else tvals, axis=0, return_inverse=True)
    codes = np.asarray(codes).reshape(-1)
    dup = frame.duplicated([subject, *time], keep=False).to_numpy()
    if dup.any():
        first = frame.loc[dup].iloc[0]
        at = (
            f"time {show(first[time[0]])} (column {time[0]!r})"
            if one
            else f"coordinates {show(tuple(first[c] for c in time))} (columns {show_list(time)})"
        )
        raise DesignError(
            f"Subject {show(first[subject])} has two observations at {at}; at distance 0 the "
            "spatial correlation is 1 and the covariance matrix is singular. Give each "
            "observation its own " + ("time." if one else "point.")
        )
    if len(grid) > _MAX_SPATIAL_POINTS:
        what = (
            f"The column {time[0]!r} has {len(grid)} distinct times"
            if one
            else f"The columns {show_list(time)} have {len(grid)} distinct coordinate points"
        )
        raise DesignError(
            f"{what}; spatial structures support at most {_MAX_SPATIAL_POINTS} (the covariance "
            "is kept over the grid of distinct points; observation-specific coordinates, as in "
            "mmrm's fev_data VISITN2, are not supported yet). Round them to a coarser grid."
        )
    labels: list[Any] = (
        [float(g) for g in grid] if one else [tuple(float(v) for v in g) for g in grid]
    )
    return st.bind(grid), codes, labels


# ---------------------------------------------------------------------- fit control
def std_start(cov_type: str, n_visits: int, n_groups: int = 1, **_: Any) -> np.ndarray:
    """Mmrm's ``std_start``: fixed start values of ``theta`` by structure.

    Zero (unit SDs, zero correlation on mmrm's scales) except the AR(1)
    correlation parameter 0.5; repeated per group. Source: mmrm 0.3.18
    ``R/utils.R`` ``std_start``.

    Examples
    --------
    >>> std_start("ar1h", 3).tolist()
    [0.0, 0.0, 0.0, 0.5]
    """
    m = int(n_visits)
    base = {
        "us": np.zeros(m * (m + 1) // 2),
        "toep": np.zeros(m),
        "toeph": np.zeros(2 * m - 1),
        "ar1": np.array([0.0, 0.5]),
        "ar1h": np.r_[np.zeros(m), 0.5],
        "ad": np.zeros(m),
        "adh": np.zeros(2 * m - 1),
        "cs": np.zeros(2),
        "csh": np.zeros(m + 1),
        "sp_exp": np.zeros(2),
        "sp_gau": np.zeros(2),
    }[cov_type]
    return np.tile(base, int(n_groups))


def emp_start(
    y_vector: np.ndarray,
    x_matrix: np.ndarray,
    subject_codes: np.ndarray,
    visit_codes: np.ndarray,
    n_visits: int,
    cov_type: str = "us",
    structure: CovarianceStructure | None = None,
    **_: Any,
) -> np.ndarray:
    """Mmrm's ``emp_start``: ``theta`` of the empirical covariance of OLS residuals.

    The residuals of ``lm.fit(X, y)`` arranged subject x visit, their
    pairwise-complete covariance (R's ``cov(use = "pairwise.complete.obs")``:
    each pair centred at its own means, ``n_pair - 1`` denominator), missing
    entries 0 and zero variances 1, made positive definite if needed (eigenvalues
    floored; mmrm uses ``Matrix::nearPD``), then the log-Cholesky ``theta`` of
    ``us`` (mmrm's ``h_get_theta_from_cov``). mmrm defines it for ``us`` only;
    for the other structures rehabstats maps the same covariance to the
    structure's parameters with its moment-based start. Source: mmrm 0.3.18
    ``R/utils.R``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=30); X = np.ones((30, 1))
    >>> emp_start(y, X, np.repeat(np.arange(10), 3), np.tile(np.arange(3), 10), 3).shape
    (6,)
    """
    m = int(n_visits)
    resid = y_vector - x_matrix @ np.linalg.lstsq(x_matrix, y_vector, rcond=None)[0]
    n_sub = int(np.max(subject_codes)) + 1
    R = np.full((n_sub, m), np.nan)
    R[subject_codes, visit_codes] = resid
    cov = np.zeros((m, m))
    for a in range(m):
        for b in range(a, m):
            ok = np.isfinite(R[:, a]) & np.isfinite(R[:, b])
            if ok.sum() > 1:
                xa, xb = R[ok, a], R[ok, b]
                cov[a, b] = cov[b, a] = float(
                    np.sum((xa - xa.mean()) * (xb - xb.mean())) / (ok.sum() - 1)
                )
    d = np.diag(cov).copy()
    d[d == 0] = 1.0
    np.fill_diagonal(cov, d)
    if np.linalg.matrix_rank(cov) < m or np.linalg.eigvalsh(cov).min() <= 0:
        w, U = np.linalg.eigh(cov)
        cov = (U * np.maximum(w, 1e-8 * max(float(w.max()), 1e-300))) @ U.T
    st = structure if structure is not None else get_structure(cov_type)
    return np.asarray(st.start(cov, m), dtype=float)


def _check_control(
    optimizer: Any, start: Any, accept_singular: Any, drop_visit_levels: Any
) -> tuple[str, ...] | None:
    """Validate the fit-control keywords of :func:`mmrm`; the optimiser names (or None)."""
    for name, flag in (
        ("accept_singular", accept_singular),
        ("drop_visit_levels", drop_visit_levels),
    ):
        if not isinstance(flag, (bool, np.bool_)):
            raise DataError(f"The {name!r} argument must be True or False; got {show(flag)}.")
    if (isinstance(start, (str, bytes)) and start not in ("default", "std", "emp")) or not (
        start is None
        or callable(start)
        or isinstance(start, (str, Sequence, np.ndarray, pd.Series))
    ):
        raise DataError(
            "The 'start' argument must be None/'default', 'std' (mmrm's "
            "std_start), 'emp' (mmrm's emp_start), an array of theta or a "
            f"callable; got {show(start)}."
        )
    if optimizer is None or (isinstance(optimizer, str) and optimizer == "default"):
        return None
    try:
        return resolve_optimizers(optimizer)
    except (ValueError, TypeError):
        valid = ", ".join(repr(o) for o in [*OPTIMIZERS, "nlminb"])
        raise DataError(
            f"The 'optimizer' argument must be None ('default': the chain "
            f"newton -> trust-exact -> L-BFGS-B -> BFGS -> Nelder-Mead), one of "
            f"{valid} or a list of them; got {optimizer!r}."
        ) from None


def _start_values(
    start: Any,
    engine: MMRMEngine,
    covariance: str,
    m: int,
    y: np.ndarray,
    X: np.ndarray,
    subj_codes: np.ndarray,
    grid_codes: np.ndarray,
    n_groups: int = 1,
) -> np.ndarray | None:
    """theta0 for :meth:`MMRMEngine.fit` from ``start=`` (None: the engine's default).

    ``m`` is the size of the engine's grid: ``n_groups`` blocks of ``m // n_groups``
    visits (or distinct times) with ``group=``; ``std_start`` and a callable get
    mmrm's ``n_visits`` (per group) and ``n_groups``.
    """
    if start is None or (isinstance(start, str) and start == "default"):
        return None
    k = engine.structure.n_theta(m)
    m_visits = m // n_groups
    if isinstance(start, str):
        theta = (
            std_start(covariance, m_visits, n_groups)
            if start == "std"
            else emp_start(y, X, subj_codes, grid_codes, m, covariance, engine.structure)
        )
    else:
        if callable(start):
            out = start(
                cov_type=covariance,
                n_visits=m_visits,
                n_groups=n_groups,
                y_vector=y,
                x_matrix=X,
                subject_codes=subj_codes,
                visit_codes=grid_codes,
                structure=engine.structure,
            )
        else:
            out = start
        try:
            theta = np.asarray(out, dtype=float).ravel()
        except (TypeError, ValueError):
            raise DataError(f"The start values must be numbers; got {out!r}.") from None
    if theta.shape != (k,) or not np.all(np.isfinite(theta)):
        groups = f" in each of {n_groups} groups" if n_groups > 1 else ""
        raise DataError(
            f"The start values must be {k} finite numbers (theta of "
            f"covariance={covariance!r} over {m_visits} visits{groups}, on mmrm's scale, see "
            f"`fit.theta`); got {theta.tolist()}."
        )
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # exp(1e300): inf
        objective = engine.objective(theta)
    if not math.isfinite(objective):
        raise DataError(
            f"At the start values {theta.tolist()} the covariance matrix is not "
            "positive definite (or the likelihood is not finite); give other "
            "start values."
        )
    return theta


def _check_empty_visits(
    levels: list[Any],
    counts: np.ndarray,
    covariance: str,
    visit: str,
    subj_codes: np.ndarray,
    visit_codes: np.ndarray,
) -> None:
    """Kept visit levels without observations must leave ``Sigma``'s parameters identified."""
    empty = [v for i, v in enumerate(levels) if counts[i] == 0]
    if not empty:
        return
    ok = covariance in ("cs", "ar1")
    if covariance == "toep":
        m = len(levels)
        mask = np.zeros((int(subj_codes.max()) + 1, m), dtype=bool)
        mask[subj_codes, visit_codes] = True
        ok = all(bool((mask[:, :-d] & mask[:, d:]).any()) for d in range(1, m))
    if not ok:
        raise DesignError(
            f"drop_visit_levels=False keeps visit(s) {show_list(empty)} of column {visit!r}, "
            f"which have no observation; with covariance={covariance!r} the variance or "
            "correlation parameters of those visits cannot be estimated (mmrm fails to "
            "converge there). Use drop_visit_levels=True, or a structure whose parameters "
            "are shared across visits ('cs', 'ar1', or 'toep' with every lag observed)."
        )


def mmrm(
    formula: str,
    data: pd.DataFrame,
    *,
    subject: str,
    visit: str,
    covariance: str = "us",
    reml: bool = True,
    df_method: str = "satterthwaite",
    nan_policy: NanPolicy = "omit",
    visit_order: Sequence[Any] | None = None,
    arm: str | None = None,
    reference: Any = None,
    baseline: str | None = None,
    time: str | Sequence[str] | None = None,
    vcov: str | None = None,
    group: str | None = None,
    weights: str | None = None,
    optimizer: str | Sequence[str] | None = None,
    start: Any = None,
    accept_singular: bool = True,
    drop_visit_levels: bool = True,
) -> MMRMResult:
    r"""Mixed model for repeated measures on all available visits.

    Generalised least squares with one within-subject covariance matrix
    :math:`\Sigma` over the visit levels, estimated by REML (default) or ML.
    Each subject contributes the visits it has (missing at random, no
    imputation, no deletion of incomplete subjects):

    .. math:: y_i \sim N(X_i\beta, \Sigma_{[o_i, o_i]}),\qquad
       -2\ell_R = \sum_i \log|\Sigma_{[o_i,o_i]}| + \log|X'\Sigma^{-1}X|
       + r'\Sigma^{-1}r + (n-p)\log 2\pi .

    Parameters
    ----------
    formula : str
        ``"outcome ~ terms"`` in patsy syntax, e.g. ``"alsfrs ~ arm * visit"``
        or ``"chg ~ baseline + arm * visit"``. Factors use treatment coding with
        the first level as reference: a pandas Categorical's category order,
        otherwise sorted values (as R).
    data : pandas.DataFrame
        Long data, one row per subject and visit (not modified).
    subject : str
        Column identifying subjects.
    visit : str
        Column of visit labels. Visit order (the order of ``Sigma``'s rows, the
        reference visit, and the distance used by ``ar1``/``toep``: positions
        0, 1, ...) follows one rule (:func:`rehabstats._entry.resolve_visit_order`):
        ``visit_order`` if given; a Categorical's category order; numeric
        visits sorted; labels that all carry a number in natural order
        (``"week4" < "week12"``); otherwise the within-subject sequence of rows
        when every subject agrees with one order; otherwise a ``DesignError``
        asking for ``visit_order``. Row order alone never decides, and the fit
        does not depend on the order of the rows. A visit with no observed
        outcome is dropped with a ``RehabStatsWarning`` naming it.
    covariance : {"us", "cs", "csh", "ar1", "ar1h", "toep", "toeph", "ad", "adh", "sp_exp", "sp_gau"}, optional
        Covariance structure (``h`` = heterogeneous variances; ``ad`` =
        first-order ante-dependence; ``sp_exp`` / ``sp_gau`` = spatial
        exponential / Gaussian, ``Sigma_ij = sigma^2 rho^d_ij`` /
        ``sigma^2 rho^(d_ij^2)`` with ``d_ij`` the distance between the
        ``time`` values of two observations); default unstructured.
    reml : bool, optional
        REML (default) or maximum likelihood.
    df_method : {"satterthwaite", "kenward-roger", "kenward-roger-linear", "residual", "asymptotic", "between-within"}, optional
        Default df method of the result's tables. Kenward-Roger requires REML
        and is rejected before fitting otherwise (as mmrm). ``"between-within"``
        is mmrm's (and SAS ``DDFM=BW``): ``N - p_between - 1`` df for contrasts
        of subject-level coefficients only, else ``n - N - p_within``.
    nan_policy : {"omit", "raise"}, optional
        Rows with a missing outcome or covariate are dropped and announced with
        a ``RehabStatsWarning`` (``"omit"``), or raise a ``DataError``.
    visit_order : sequence, optional
        The visit labels in order (every label in the data must be listed).
    arm : str, optional
        The treatment-arm factor of the formula (default: the first factor in
        the formula that is constant within subjects).
    reference : optional
        The reference arm (first level of ``arm``; ``trt.vs.ctrl`` contrasts and
        ``effect_sizes`` are each arm minus it). Default: a recognised control
        label (control, usual care, sham, placebo, TAU, waitlist, ...; see
        :data:`rehabstats._entry.CONTROL_LABELS`), otherwise the first level (a
        Categorical's first category, else the first in sorted order).
    baseline : str, optional
        The baseline covariate (one value per subject), e.g. ``"base"`` in
        ``"chg ~ base + arm * visit"``. It defines the ``"baseline_sd"``
        standardiser of :meth:`~MMRMResult.effect_sizes`.
    time : str or list of str, optional
        Spatial structures only (and required by them): the numeric column
        of observation times whose absolute differences are the distances
        ``d_ij`` (as mmrm's ``sp_exp(time | subject)``), or several coordinate
        columns whose Euclidean distances are (mmrm's
        ``sp_exp(x, y | subject)``). Times may differ
        between subjects (unequally spaced or subject-specific); the
        covariance grid is the set of distinct times (at most 60), and a
        subject may not have two rows at the same time. ``visit`` still
        identifies the rows.
    vcov : {None, "empirical", "empirical-jackknife", "empirical-bias-reduced"}, optional
        Covariance of the fixed effects used by every table: model-based
        (default) or a sandwich estimator, as mmrm's ``vcov =`` /
        SAS ``EMPIRICAL``: :math:`V (\sum_i z_i z_i') V` with
        :math:`z_i = \tilde X_i' A_i \tilde r_i`, :math:`\tilde X_i =
        L_i^{-1} X_i`, :math:`\tilde r_i = L_i^{-1} r_i`, :math:`\Sigma_i = L_i
        L_i'`, :math:`A_i = I` (``"empirical"``, Liang & Zeger 1986),
        :math:`(I - H_{ii})^{-1}` (``"empirical-jackknife"``, MacKinnon & White
        1985) or :math:`(I - H_{ii})^{-1/2}` (``"empirical-bias-reduced"``,
        Bell & McCaffrey 2002), :math:`H_{ii} = \tilde X_i V \tilde X_i'`
        (mmrm's ``src/empirical.cpp``). With a sandwich ``df_method`` must be
        ``"satterthwaite"``, ``"residual"``, ``"asymptotic"`` or
        ``"between-within"`` (Kenward-Roger is rejected before fitting, as in
        mmrm). ``"satterthwaite"`` is then not the model-based Satterthwaite
        but Bell & McCaffrey's (2002) df of the sandwich variance, as mmrm
        (``h_df_1d_sat_empirical``) and clubSandwich's ``df_Satt``: see
        :mod:`rehabstats.models.df.empirical`; several rows combine the
        eigen-directions' df as the model-based F test.
    group : str, optional
        A column constant within subject (e.g. the arm): a separate covariance
        matrix of the same structure for each of its levels, as mmrm's
        ``us(visit | group / subject)`` and SAS PROC MIXED's ``REPEATED ... /
        GROUP=``. ``theta`` is the concatenation of the groups' parameters in
        the order of the levels (a Categorical's categories, else sorted
        values; mmrm's order), the likelihood is the sum over subjects with
        each subject's rows using its group's :math:`\Sigma_g`, and every df
        method (Satterthwaite, both Kenward-Roger variants, ...) uses the full
        ``theta``. ``covariance_matrix`` then has a ``(group, visit)``
        MultiIndex (``fit.covariance_matrix.loc[level]``). Each group needs two
        or more subjects and (non-spatial structures) two or more observations
        at every visit. The fixed effects are not split by group: use e.g.
        ``arm * visit`` in the formula for arm-specific means.
    weights : str, optional
        A column of positive, finite observation weights ``w`` (per row), as
        mmrm's ``weights =`` and SAS's ``WEIGHT`` statement: subject ``i``'s
        covariance is :math:`W_i^{-1/2}\Sigma W_i^{-1/2}` with
        :math:`W_i = \mathrm{diag}(w_{ij})`, i.e. ``Var(y_ij) = Sigma[j, j] /
        w_ij``; the log-likelihood is that of this Gaussian model (mmrm's
        constant), equal to the unweighted one of :math:`\sqrt{w}y` on
        :math:`\sqrt{w}X` plus :math:`\tfrac12\sum\log w`. Rows with a
        missing weight are dropped as for other columns (``nan_policy``).
        ``residuals("pearson" | "normalized")``, ``predict`` and ``simulate``
        use the weighted :math:`\Sigma_i`; for ``newdata`` the weights come
        from its weights column if present, else 1 (mmrm uses 1 in
        ``predict`` and ``simulate``).
    optimizer : str or list of str, optional
        Default (``None`` or ``"default"``): rehabstats' chain -- damped
        Newton with the exact Hessian, then, should it not converge, scipy's
        trust-region Newton, L-BFGS-B, BFGS and Nelder-Mead, each started where
        the previous stopped, stopping at the first that converges. A name or
        a list of names (case-insensitive) runs mmrm's procedure instead: the
        first optimiser from the start values; if it does not converge, each
        of the others from where the first stopped (mmrm's
        ``refit_multiple_optimizers``), keeping the converged run with the
        largest likelihood; every run is listed in ``optimizer_info.attempts``.
        Names (:data:`rehabstats.models._mmrm_fit.OPTIMIZERS`): ``"newton"``,
        ``"trust-exact"``, ``"trust-ncg"``, ``"L-BFGS-B"``, ``"BFGS"``,
        ``"CG"``, ``"Nelder-Mead"``, and ``"nlminb"``, which runs
        ``"trust-exact"``: R's ``nlminb`` (PORT) is a trust-region Newton method
        that mmrm gives the Hessian, but it is not the same code, so the path
        (never the optimum) differs. ``"L-BFGS-B"``, ``"BFGS"`` and ``"CG"``
        are scipy's implementations of R ``optim``'s methods, with the exact
        gradient. mmrm's default is ``["L-BFGS-B", "BFGS", "CG", "nlminb"]``.
        A run close to convergence (positive definite Hessian, max
        ``|gradient|`` below 1e-2) is polished by up to five exact Newton steps.
    start : None, "default", "std", "emp", array or callable, optional
        Start values of ``theta`` (mmrm's parametrisation, as :attr:`theta`).
        ``None``/``"default"``: rehabstats' moment start (the pairwise
        covariance of OLS residuals mapped to the structure, shrunk to positive
        definite); ``"std"``: mmrm's default :func:`std_start` (zeros, AR(1)
        correlation 0.5); ``"emp"``: mmrm's :func:`emp_start`; an array of
        ``len(theta)`` numbers; or a callable called with mmrm's keyword names
        (``cov_type, n_visits, n_groups, y_vector, x_matrix``; with ``group=``
        ``n_visits`` per group, as mmrm) plus ``subject_codes, visit_codes,
        structure``, returning such an array. ``"std"`` with ``group=``
        repeats :func:`std_start` per group.
    accept_singular : bool, optional
        ``True`` (default, mmrm's): aliased columns of a rank-deficient design
        are dropped with a warning (see ``aliased``). ``False``: a
        ``DesignError`` naming the aliased columns, before fitting.
    drop_visit_levels : bool, optional
        ``True`` (default, mmrm's): visit levels without an observed outcome
        are dropped (with a warning). ``False``: every level of ``visit_order``
        / of a Categorical ``visit`` (unused categories included) / in the data
        is kept, so that it counts in the visit positions (``ar1``: ``VIS1`` to
        ``VIS3`` is lag 2 when ``VIS2`` is kept), as mmrm's
        ``drop_visit_levels = FALSE``. A kept visit without observations
        leaves its own variance (and correlations) unidentified: only ``cs``,
        ``ar1`` and ``toep`` with every lag observed are accepted, other
        structures raise a ``DesignError`` (mmrm fails to converge there). The
        visit's fixed-effect column is aliased (see ``accept_singular``).
        Spatial structures ignore it (as mmrm).

    Returns
    -------
    MMRMResult
        With ``coef``, ``anova``, ``emmeans``, ``contrasts``, ``effect_sizes``,
        ``covariance_matrix``, ``correlation_matrix``, ``vcov``, ``theta``,
        ``converged``, ``optimizer_info``.

    Raises
    ------
    DataError
        Unknown covariance or df method, missing columns, non-numeric or
        infinite outcome or covariate, labels differing only in case or
        whitespace, a ``visit_order`` missing a visit, a subject with a visit
        listed twice; a numeric column of magnitude above 1e150 (its squares
        overflow); an outcome that is constant or fitted exactly by the fixed
        effects (refused before the optimiser runs).
    DesignError
        A visit with a single observation, a subject-level factor level with
        one subject, more parameters than observations, Kenward-Roger with ML, a
        visit order that cannot be determined.

    Warns
    -----
    RehabStatsWarning
        Rows with missing values dropped; a visit without observed outcomes
        dropped; several arms that look like controls; aliased columns of a
        rank-deficient design dropped (named), as mmrm does; see ``aliased`` and
        :mod:`rehabstats.models._rank`.
    ConvergenceWarning
        When no optimiser reaches a stationary point with a positive definite
        Hessian; ``converged`` is then False.

    Notes
    -----
    Parametrisations of :math:`\Sigma` follow mmrm (log-Cholesky for ``us``,
    see :mod:`rehabstats.models._covariance`). The REML objective, its exact
    gradient and exact Hessian are computed from per-missingness-pattern
    sufficient statistics; the optimiser is a damped Newton method with that
    exact Hessian (falling back to scipy's trust-region Newton, L-BFGS-B, BFGS
    and Nelder-Mead). Satterthwaite df use
    the Jacobian of :math:`V(\theta)=(X'\Sigma^{-1}X)^{-1}` and the inverse
    Hessian of :math:`-\ell`; Kenward-Roger uses the same ``W`` (mmrm's
    choice; pbkrtest uses the expected information). ``"kenward-roger"`` is
    R mmrm's default KR (equal to SAS ``DDFM=KR`` except for ``us``, where it
    depends on the log-Cholesky parametrisation in visit order and can give
    SEs below the unadjusted ones); ``"kenward-roger-linear"`` is SAS's
    ``TYPE=UN DDFM=KR`` for ``us`` — see
    :mod:`rehabstats.models.df.kenward_roger` for which variant equals which.
    ``"residual"`` uses ``n - p`` df, ``"asymptotic"`` a normal reference.

    References
    ----------
    Mallinckrodt, C. H. et al. (2008). Recommendations for the primary
    analysis of continuous endpoints in longitudinal clinical trials.
    *Drug Inf J* 42, 303-319. doi:10.1177/009286150804200402
    Kenward, M. G. & Roger, J. H. (1997). Small sample inference for fixed
    effects from restricted maximum likelihood. *Biometrics* 53, 983-997.
    doi:10.2307/2533558
    Sabanés Bové, D. et al. (2024). mmrm: Mixed models for repeated measures
    (R package 0.3), covariance vignette (grouped covariance, weights).
    https://openpharma.github.io/mmrm/
    SAS Institute (2015). SAS/STAT 14.1 User's Guide, The MIXED Procedure:
    REPEATED statement GROUP= option; WEIGHT statement.

    Examples
    --------
    >>> import rehabstats as rs
    >>> from rehabstats.models._mmrm import mmrm
    >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
    >>> fit = mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
    >>> fit.converged
    True
    >>> tab = fit.contrasts("arm", by="visit", method="trt.vs.ctrl")
    >>> row = tab[tab["visit"] == "month6"].iloc[0]
    >>> row["contrast"], round(float(row["estimate"]), 2), round(float(row["df"]), 1)
    ('active - placebo', 2.83, 101.9)
    >>> fit.covariance_matrix.shape
    (7, 7)

    A separate unstructured covariance per arm (mmrm ``us(visit | arm /
    subject)``), and observation weights:

    >>> by_arm = mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit",
    ...               group="arm")
    >>> by_arm.group_levels, by_arm.covariance_matrix.loc["active"].shape, len(by_arm.theta)
    (['placebo', 'active'], (7, 7), 56)
    >>> w = df.assign(w=1.0 + (df["visit"] == "month0"))
    >>> fit_w = mmrm("alsfrs ~ arm * visit", w, subject="subject", visit="visit", weights="w")
    >>> bool(fit_w.converged)
    True
    """
    methods = _check_options(covariance, reml, time, df_method, vcov)
    optimizers = _check_control(optimizer, start, accept_singular, drop_visit_levels)
    with single_thread_blas():  # the design checks' QR too (see rehabstats._blas)
        spatial = bool(COVARIANCE_STRUCTURES[covariance].spatial)
        design = mmrm_design(
            formula,
            data,
            subject=subject,
            visit=visit,
            nan_policy=nan_policy,
            visit_order=visit_order,
            arm=arm,
            reference=reference,
            baseline=baseline,
            time=_time_columns(time) or None,
            group=group,
            weights=weights,
            drop_visit_levels=drop_visit_levels or spatial,
            accept_singular=accept_singular,
            single_visit_ok=spatial,
        )
        if not (drop_visit_levels or spatial):
            assert design.visit_levels is not None
            assert design.visit_codes is not None
            counts = np.bincount(design.visit_codes, minlength=len(design.visit_levels))
            _check_empty_visits(
                design.visit_levels,
                counts,
                covariance,
                visit,
                design.subject_codes,
                design.visit_codes,
            )
        fitted = _fit(design, covariance, reml, optimizers=optimizers, start=start)
        return _assemble(
            design,
            fitted,
            covariance=covariance,
            reml=reml,
            df_method=df_method,
            methods=methods,
            vcov=vcov,
            time=time,
        )


_DF_METHODS = (
    "satterthwaite",
    "kenward-roger",
    "kenward-roger-linear",
    "residual",
    "asymptotic",
    "between-within",
)
_VCOV_TYPES = ("empirical", "empirical-jackknife", "empirical-bias-reduced")


def _check_options(
    covariance: Any, reml: Any, time: Any, df_method: Any, vcov: Any
) -> tuple[str, ...]:
    """Validate the model options (before any data check); return the df methods."""
    if not isinstance(covariance, str) or covariance not in COVARIANCE_STRUCTURES:
        valid = ", ".join(repr(c) for c in COVARIANCE_STRUCTURES)
        raise DataError(f"The 'covariance' argument must be one of {valid}; got {covariance!r}.")
    if not isinstance(reml, (bool, np.bool_)):
        raise DataError(f"The 'reml' argument must be True or False; got {reml!r}.")
    spatial = bool(COVARIANCE_STRUCTURES[covariance].spatial)
    if spatial and time is None:
        raise DataError(
            f"covariance={covariance!r} is a spatial structure: name the numeric "
            "column of observation times with time=... (the distances between "
            "a subject's observations are the differences of its times)."
        )
    if time is not None and not spatial:
        spatial_names = ", ".join(repr(c) for c in SPATIAL_STRUCTURES)
        raise DataError(
            f"The 'time' argument applies to the spatial covariance structures "
            f"({spatial_names}) only; covariance is {covariance!r}."
        )
    if time is not None and not isinstance(time, str):
        if (
            not isinstance(time, Sequence)
            or len(time) == 0
            or not all(isinstance(c, str) for c in time)
        ):
            raise DataError(
                "The 'time' argument must be a column name or a non-empty list of "
                f"column names (the coordinates); got {time!r}."
            )
        if len(set(time)) < len(time):
            raise DataError(f"The 'time' columns {list(time)!r} name a column twice.")
    methods = _DF_METHODS
    if not isinstance(df_method, str) or df_method not in methods:
        raise DataError(
            f"The 'df_method' argument must be one of "
            f"{', '.join(repr(m) for m in methods)}; got {df_method!r}."
        )
    if df_method in _KR and not reml:
        raise DesignError(
            f"df_method={df_method!r} is defined for REML fits only (as in mmrm and SAS); "
            "use reml=True or df_method='satterthwaite'."
        )
    if vcov is not None:
        if not isinstance(vcov, str) or vcov not in _VCOV_TYPES:
            raise DataError(
                f"The 'vcov' argument must be None (model-based) or one of "
                f"{', '.join(repr(v) for v in _VCOV_TYPES)}; got {vcov!r}."
            )
        if df_method not in _EMPIRICAL_DF:
            raise DesignError(
                f"vcov={vcov!r} needs df_method='satterthwaite', 'residual', "
                f"'asymptotic' or 'between-within'; got df_method={df_method!r}: "
                "Kenward-Roger uses its own adjusted covariance (mmrm rejects it "
                "with a sandwich too)."
            )
    return methods


@dataclass
class _Fit:
    """What :func:`_fit` computes: the REML/ML estimate and the inference pieces."""

    engine: MMRMEngine
    theta: np.ndarray
    info: OptimizerInfo
    converged: bool
    ev: Any  # the engine's evaluation at theta (beta, sigma, Ainv, f)
    W: np.ndarray  # 2 H^-1: covariance of theta
    V: np.ndarray  # covariance of beta (model-based)
    jac: np.ndarray  # dV / dtheta
    grid_codes: np.ndarray
    m: int  # grid points (groups x visits with group=)
    m_visits: int  # visits (or spatial points) per group
    n_theta: int
    time_points: list[Any] | None
    weights: np.ndarray | None


def _fit(
    design: ModelDesign, covariance: str, reml: bool, *, optimizers: Any = None, start: Any = None
) -> _Fit:
    """Fit the covariance parameters of the design (step 2 of :func:`mmrm`)."""
    frame, X = design.frame, design.X
    n, p = X.shape
    st = get_structure(covariance)
    time_points: list[Any] | None = None
    if design.time is not None:
        st, grid_codes, time_points = _spatial_grid(
            frame, st, subject=design.subject, time=list(design.time)
        )
        m = len(time_points)
    else:
        assert design.visit_codes is not None
        assert design.visit_levels is not None
        grid_codes = design.visit_codes
        m = len(design.visit_levels)
    if m < st.min_visits:
        what = (
            f"distinct times (column(s) {show_list(list(design.time))})"
            if design.time is not None
            else f"visit levels (column {design.visit!r})"
        )
        raise DesignError(
            f"covariance={covariance!r} needs at least {st.min_visits} {what}; the data have {m}."
        )
    m_visits = m
    if design.group is not None:  # a separate Sigma per group: grid point g * m + j
        assert design.group_levels is not None
        assert design.visit is not None
        levels = list(time_points) if time_points is not None else list(design.visit_levels or [])
        gcodes = check_group(
            frame,
            design.group,
            subject=design.subject,
            visit=design.visit,
            subj_codes=design.subject_codes,
            visit_codes=np.asarray(grid_codes),
            n_visits=m,
            visit_levels=levels,
            levels=design.group_levels,
            spatial=design.time is not None,
        )
        grid_codes = gcodes * m + np.asarray(grid_codes)
        st = grouped_structure(st, len(design.group_levels))
        m = m * len(design.group_levels)
    w_obs = check_weights(frame, design.weights) if design.weights is not None else None
    n_theta = st.n_theta(m)
    if n_theta + p > n:
        raise DesignError(
            f"The model has {p} fixed effects and {n_theta} covariance parameters "
            f"({covariance!r} over {m} visits) but only {n} observations; use a simpler "
            "covariance structure (e.g. 'cs' or 'ar1') or fewer terms."
        )
    with single_thread_blas():  # small matrices: threaded BLAS only slows them
        engine = MMRMEngine(
            design.y, X, design.subject_codes, grid_codes, m, st, reml, weights=w_obs
        )
        sw = np.ones(n) if w_obs is None else np.sqrt(w_obs)  # the engine's scaled rows
        theta0 = _start_values(
            start,
            engine,
            covariance,
            m,
            design.y * sw,
            X * sw[:, None],
            design.subject_codes,
            np.asarray(grid_codes),
            m // m_visits,
        )
        theta, info = engine.fit(theta0, optimizers=optimizers)
        ev = engine.evaluate(theta)
        converged = info.converged
        if not ev.ok:
            raise DesignError(
                "The model could not be fitted: the covariance matrix is not "
                f"positive definite at any point tried ({info.message})."
            )
        H = engine.hessian(theta)
        try:
            W = 2.0 * np.linalg.inv(H)
            if not np.all(np.isfinite(W)) or np.linalg.eigvalsh(H).min() <= 0:
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            W = 2.0 * np.linalg.pinv(H)
            converged = False
        if not converged:
            warnings.warn(
                f"The MMRM fit ({covariance}, {'REML' if reml else 'ML'}) did not converge: "
                f"max |gradient| = {info.max_abs_gradient:.3g}, Hessian positive definite: "
                f"{info.hessian_pd}. Attempts: {'; '.join(info.attempts)}. Results are "
                "unreliable; try a simpler covariance structure, other start values (start=) "
                "or optimizers (optimizer=[...]).",
                ConvergenceWarning,
                stacklevel=3,
            )
            info = OptimizerInfo(
                info.method,
                False,
                info.n_iterations,
                info.max_abs_gradient,
                info.hessian_pd,
                info.message,
                info.attempts,
            )
        V = ev.Ainv
        B = engine.b_matrices_at(ev)
        jac = np.matmul(np.matmul(V, B), V)
    return _Fit(
        engine=engine,
        theta=theta,
        info=info,
        converged=bool(converged),
        ev=ev,
        W=W,
        V=V,
        jac=jac,
        grid_codes=np.asarray(grid_codes),
        m=m,
        m_visits=m_visits,
        n_theta=n_theta,
        time_points=time_points,
        weights=w_obs,
    )


def _assemble(
    design: ModelDesign,
    fit: _Fit,
    *,
    covariance: str,
    reml: bool,
    df_method: str,
    methods: tuple[str, ...],
    vcov: str | None,
    time: str | Sequence[str] | None,
) -> MMRMResult:
    """The result object of a fit (step 3 of :func:`mmrm`)."""
    ev, V = fit.ev, fit.V
    n, p = design.X.shape
    loglik = -0.5 * ev.f
    k = fit.n_theta + (0 if reml else p)
    n_sub = fit.engine.n_subjects
    default_first = (df_method, *[mm for mm in methods if mm != df_method])
    allowed = tuple(mm for mm in default_first if reml or mm not in _KR)
    V_emp = None
    emp_df = None
    if vcov is not None:
        allowed = tuple(mm for mm in allowed if mm in _EMPIRICAL_DF)
        sw = np.ones(n) if fit.weights is None else np.sqrt(fit.weights)
        V_emp, emp_df = _sandwich_pieces(
            design.y * sw,
            design.X * sw[:, None],
            ev.beta,
            V,
            ev.sigma,
            design.subject_codes,
            fit.grid_codes,
            fit.m,
            vcov,
        )
    visit = design.visit
    assert visit is not None
    assert design.visit_levels is not None
    return MMRMResult(
        coef_names=design.coef_names,
        aliased=design.rank_info.aliased,
        _rank_info=design.rank_info,
        beta=ev.beta.copy(),
        design_info=design.design_info,
        frame=design.frame,
        df_methods=allowed,
        loglik=loglik,
        aic=-2 * loglik + 2 * k,
        bic=-2 * loglik + k * math.log(n_sub),
        nobs=n,
        arm_name=design.arm,
        effect_by=(visit,) if visit in design.columns else (),
        formula=design.formula,
        covariance=covariance,
        reml=bool(reml),
        theta=fit.theta,
        theta_vcov=fit.W,
        converged=fit.converged,
        optimizer_info=fit.info,
        n_subjects=n_sub,
        n_omitted=design.n_omitted,
        visit_levels=list(design.visit_levels),
        reference_arm=design.reference,
        baseline_name=design.baseline,
        _baseline_candidates=design.baseline_candidates,
        outcome_name=design.outcome,
        subject_name=design.subject,
        visit_name=visit,
        time_name=time if time is None or isinstance(time, str) else list(time),
        time_points=fit.time_points,
        _grid_codes=fit.grid_codes,
        vcov_type=vcov,
        _V_emp=V_emp,
        _emp_df=emp_df,
        _subject_data=design.subject_data,
        _sigma=ev.sigma.copy(),
        group_name=design.group,
        group_levels=design.group_levels,
        weights_name=design.weights,
        _weights=fit.weights,
        _m_visits=fit.m_visits,
        _V=V,
        _jac=fit.jac,
        _engine=fit.engine,
    )
