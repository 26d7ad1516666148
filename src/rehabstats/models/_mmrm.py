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
from typing import Any

import numpy as np
import pandas as pd
import patsy
from scipy import stats

from .._entry import (
    arm_levels,
    as_categorical,
    baseline_sd,
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
    check_ci,
    check_columns,
    check_nan_policy,
    check_numeric_column,
    check_option,
    drop_missing_rows,
    normalize_rng,
)
from ..errors import ConvergenceWarning, DataError, DesignError
from ._base import LinearModelResult, r_coef_names
from ._covariance import (
    COVARIANCE_STRUCTURES,
    SPATIAL_STRUCTURES,
    CovarianceStructure,
    get_structure,
)
from ._design_cache import design_matrix, formula_factor_codes
from ._mmrm_fit import MMRMEngine, OptimizerInfo, single_thread_blas
from ._rank import RankInfo, drop_aliased
from .df import DFEngine, KRPieces, kr_adjusted_vcov_sums

__all__ = ["MMRMResult", "mmrm"]

_FORMULA_FUNCS = {"C", "Q", "I", "np", "log", "exp", "sqrt", "center", "standardize",
                  "scale", "Treatment", "Sum", "Poly", "Diff", "Helmert", "bs", "cr", "cc",
                  "te", "levels", "reference", "Reference"}
_KR = ("kenward-roger", "kenward-roger-linear")


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

    Notes
    -----
    ``effect_sizes(standardizer=...)`` divides the arm differences by
    ``"baseline_sd"``: the pooled within-arm SD of the baseline -- of the
    covariate named by ``baseline=`` (one value per subject), or, without
    it, of the observed outcome at the first visit; when the model adjusts
    for a numeric subject-level covariate and ``baseline=`` is not given the
    first modelled visit is not a baseline and a ``DesignError`` is raised --
    or ``"residual_sd"``: the mean of the fitted visit SDs,
    ``mean(sqrt(diag(Sigma)))``. Both are treated as known; the table's
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
    time_name: str | None
    time_points: list[float] | None
    vcov_type: str | None
    _V_emp: np.ndarray | None
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

        Spatial structures: over the distinct values of the ``time`` column.
        """
        labels = self._grid_labels
        return pd.DataFrame(self._sigma, index=labels, columns=labels)

    @property
    def correlation_matrix(self) -> pd.DataFrame:
        """Estimated within-subject correlation matrix over the visit levels."""
        sd = np.sqrt(np.diag(self._sigma))
        labels = self._grid_labels
        return pd.DataFrame(self._sigma / np.outer(sd, sd), index=labels, columns=labels)

    @property
    def _grid_labels(self) -> list[Any]:
        labels = getattr(self, "time_points", None)
        return list(self.visit_levels) if labels is None else list(labels)

    def vcov(self, df_method: str | None = None) -> pd.DataFrame:
        """Covariance of the fixed effects: model-based, or KR-adjusted for
        ``df_method="kenward-roger"`` / ``"kenward-roger-linear"``."""
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

    def predict(self, newdata: pd.DataFrame | None = None, *, conditional: bool = True,
                interval: str = "none", level: float = 0.95,
                df_method: str | None = None) -> pd.DataFrame:
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
            Missing columns, a visit (or subject-visit pair) not usable, a
            covariate value outside the fitted levels, bad options.

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
            raise DataError(f"The 'conditional' argument must be True or False; got {conditional!r}.")
        check_option(interval, "interval", ("none", "confidence", "prediction"))
        level = check_ci(level, "level")
        V = self.vcov(df_method).to_numpy()
        X, subj, codes, y, index, S = self._new_rows(newdata)
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
        out = pd.DataFrame({"estimate": est}, index=index)
        if interval != "none":
            se = np.sqrt(conf_var if interval == "confidence" else var)
            z = float(stats.norm.ppf(0.5 + level / 2))
            out["se"] = se
            out["ci_low"], out["ci_high"] = est - z * se, est + z * se
        return out

    def simulate(self, n: int = 1, *, newdata: pd.DataFrame | None = None,
                 rng: Any = None) -> pd.DataFrame:
        r"""Simulate outcomes from the fitted model.

        Each simulation draws every subject's outcomes at its rows from
        :math:`N(X_i\hat\beta, \Sigma_i)` with the estimated ``beta`` and
        ``Sigma`` (R mmrm's ``simulate(method = "conditional")``: conditional
        on the estimates, not on the observed outcomes).

        Parameters
        ----------
        n : int
            Number of simulated data sets.
        newdata : pandas.DataFrame, optional
            Rows to simulate (covariates, ``subject``, ``visit``); default the
            rows used in the fit.
        rng : int, numpy.random.Generator or None
            Seed or generator.

        Returns
        -------
        pandas.DataFrame
            One column per simulation (``sim_1``, ...), indexed like the rows.

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
        >>> fit = rs.mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
        >>> sims = fit.simulate(3, rng=1)
        >>> sims.shape == (len(fit.frame), 3)
        True
        """
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
            raise DataError(f"The 'n' argument must be a positive integer; got {n!r}.")
        gen = normalize_rng(rng)
        X, subj, codes, _, index, S = self._new_rows(newdata)
        mu = X @ self.beta
        out = np.empty((len(mu), int(n)))
        for rows in _pattern_blocks(subj, codes, S.shape[0]):
            c = codes[rows[0]]
            Lc = np.linalg.cholesky(S[np.ix_(c, c)])
            z = gen.standard_normal((rows.shape[0], int(n), len(c)))
            out[rows] = mu[rows][:, :, None] + np.einsum("ab,snb->san", Lc, z)
        return pd.DataFrame(out, index=index, columns=[f"sim_{k + 1}" for k in range(int(n))])

    def _fit_design(self) -> np.ndarray:
        cache: dict[str, Any] = self._kr_cache
        if "X" not in cache:
            X = np.asarray(patsy.build_design_matrices([self.design_info], self.frame)[0],
                           dtype=float)
            cache["X"] = X[:, self._rank_info.keep]
        out: np.ndarray = cache["X"]
        return out

    def _new_rows(self, newdata: pd.DataFrame | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, pd.Index, np.ndarray]:
        """(X, subject codes, grid codes, outcome or NaN, index, Sigma over the grid)."""
        if newdata is None:
            subj = pd.factorize(self.frame[self.subject_name])[0]
            y = self.frame[self.outcome_name].to_numpy(float)
            return (self._fit_design(), subj, np.asarray(self._grid_codes), y,
                    self.frame.index, self._sigma)
        if not isinstance(newdata, pd.DataFrame):
            raise DataError(f"'newdata' must be a pandas DataFrame; got {type(newdata).__name__}.")
        need = [self.subject_name, self.visit_name,
                *([self.time_name] if self.time_name else [])]
        check_columns(newdata, dict(zip(("subject", "visit", "time"), need, strict=False)))
        frame = newdata.copy()
        for c in self.frame.columns:
            if c in frame.columns and isinstance(self.frame[c].dtype, pd.CategoricalDtype):
                cats = list(self.frame[c].cat.categories)
                bad = ~frame[c].isin(cats) & frame[c].notna()
                if bad.any():
                    raise DataError(f"Column {c!r} of 'newdata' has value "
                                    f"{show(frame.loc[bad, c].iloc[0])}, not one of the fitted "
                                    f"levels {show_list(cats)}.")
                frame[c] = pd.Categorical(frame[c], categories=cats)
        if frame[[self.subject_name, self.visit_name]].isna().any().any():
            raise DataError(f"'newdata' has missing {self.subject_name!r} or "
                            f"{self.visit_name!r} values.")
        try:
            X = np.asarray(patsy.build_design_matrices([self.design_info], frame,
                                                       NA_action="raise")[0], dtype=float)
        except patsy.PatsyError as exc:
            raise DataError(f"Cannot build the design for 'newdata' (a covariate is missing or "
                            f"not usable): {exc}") from None
        X = X[:, self._rank_info.keep]
        if self.outcome_name in frame.columns:
            y = pd.to_numeric(frame[self.outcome_name], errors="coerce").to_numpy(float)
        else:
            y = np.full(len(frame), np.nan)
        subj = pd.factorize(frame[self.subject_name])[0]
        if self.time_name is not None:
            t = pd.to_numeric(frame[self.time_name], errors="coerce").to_numpy(float)
            if not np.all(np.isfinite(t)):
                raise DataError(f"Column {self.time_name!r} of 'newdata' must be numeric and "
                                "finite.")
            grid, codes = np.unique(t, return_inverse=True)
            S = get_structure(self.covariance).bind(grid).sigma(self.theta, len(grid))
            dup = pd.Series(list(zip(subj, codes, strict=True))).duplicated().to_numpy()
        else:
            codes = frame[self.visit_name].cat.codes.to_numpy() if isinstance(
                frame[self.visit_name].dtype, pd.CategoricalDtype) else np.array(
                [self.visit_levels.index(v) if v in self.visit_levels else -1
                 for v in frame[self.visit_name]])
            if (codes < 0).any():
                bad = frame[self.visit_name].to_numpy()[codes < 0][0]
                raise DataError(f"Visit {show(bad)} of 'newdata' is not a fitted visit level "
                                f"{show_list(self.visit_levels)}.")
            S = self._sigma
            dup = pd.Series(list(zip(subj, codes, strict=True))).duplicated().to_numpy()
        if dup.any():
            raise DataError(f"Subject {show(frame[self.subject_name].to_numpy()[dup][0])} has a "
                            "visit listed twice in 'newdata'.")
        return X, subj, np.asarray(codes), y, frame.index, S

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
        m, p = eng.m, eng.p
        if part == "r":
            d2S = eng.sigma_hessian(self.theta)
            k = d2S.shape[0]
            Hw = W.reshape(k * k) @ d2S.reshape(k * k, m * m)  # sum_ij W_ij d2Sigma_ij
            del d2S
            ZZ = eng.zz_sum(ev).reshape(m * m, p * p)
            return ((Hw @ ZZ).reshape(p, p),)
        dS = eng.jacobian(self.theta)
        k = dS.shape[0]
        P = -eng.b_matrices(ev, dS)
        # WQ = sum_s sum_ad (sum_ij W_ij Sigma_i Omega_s Sigma_j)[a, d] ZZ_s[a, d] on observed visits
        WQ = np.zeros(p * p)
        for s, (o, Zs) in enumerate(eng.zz_blocks(ev)):
            ms = len(o)
            Jo = dS[:, o][:, :, o]  # (k, ms, ms)
            K = (W @ Jo.reshape(k, ms * ms)).reshape(k, ms, ms)  # K_i = sum_j W_ij Sigma_j
            M = np.matmul(Jo @ ev.Omega[s][np.ix_(o, o)], K).sum(axis=0)  # (ms, ms)
            WQ += M.reshape(ms * ms) @ Zs.reshape(ms * ms, p * p)
        return P, WQ.reshape(p, p)

    def _kr_pieces(self, method: str) -> KRPieces:
        cache: dict[str, Any] = self._kr_cache
        full = method != "kenward-roger-linear"
        with single_thread_blas():
            if "PQ" not in cache:
                cache["PQ"] = self._pqr("pq")
            if full and "R" not in cache:
                cache["R"] = self._pqr("r")[0]
        P, WQ = cache["PQ"]
        adj = kr_adjusted_vcov_sums(self._V, self.theta_vcov, P, WQ,
                                    cache["R"] if full else None)
        return KRPieces(PhiA=adj, P=P, W=self.theta_vcov)

    def _df(self) -> DFEngine:
        cache: dict[str, Any] = self._kr_cache
        if "engine" not in cache:
            cache["engine"] = DFEngine(
                beta=self.beta, C=self._C, dC=self._jac, A=self.theta_vcov,
                resid_df=float(self.nobs - len(self.beta)), kr=self._kr_pieces)
        out: DFEngine = cache["engine"]
        return out

    def _contrast_1d(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        Lr = self._rank_info.reduce(L)
        if not np.all(np.isfinite(Lr)):  # not estimable (an aliased combination)
            return math.nan, math.nan, math.nan
        if df_method == "between-within":
            est, se, _ = self._df().contrast_1d(Lr, "residual")
            return est, se, self._bw_df(np.atleast_2d(Lr))
        return self._df().contrast_1d(Lr, df_method)

    def _contrast_md(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        Lr = self._rank_info.reduce(np.atleast_2d(L))
        if not np.all(np.isfinite(Lr)):
            return math.nan, math.nan, math.nan
        if df_method == "between-within":
            F, q, _ = self._df().contrast_md(Lr, "residual")
            return F, q, (self._bw_df(Lr) if q > 0 else math.nan)
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
            return float(np.mean(sd)), "mean of the model's SDs at the visits, mean(sqrt(diag(Sigma)))"
        return baseline_sd(self.frame, outcome=self.outcome_name, subject=self.subject_name,
                           visit=self.visit_name, first_visit=self.visit_levels[0],
                           arm=self.arm_name, baseline=self.baseline_name,
                           candidates=self._baseline_candidates)

    def __repr__(self) -> str:
        ref = f" reference={self.reference_arm!r}" if self.reference_arm is not None else ""
        return (f"<MMRMResult {self.covariance} {'REML' if self.reml else 'ML'} "
                f"n={self.nobs} subjects={self.n_subjects} p={len(self.beta)} "
                f"visits={[*map(str, self.visit_levels)]}{ref} converged={self.converged}>")


def _pattern_blocks(subj: np.ndarray, codes: np.ndarray, m: int,
                    split: np.ndarray | None = None) -> list[Any]:
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


def _sandwich(y: np.ndarray, X: np.ndarray, beta: np.ndarray, V: np.ndarray, sigma: np.ndarray,
              subj: np.ndarray, codes: np.ndarray, m: int, kind: str) -> np.ndarray:
    """Sandwich covariance of beta (see ``vcov=`` of :func:`mmrm`), by missingness pattern."""
    r = y - X @ beta
    meat = np.zeros_like(V)
    eps = float(np.finfo(float).eps)
    for rows in _pattern_blocks(subj, codes, m):
        c = codes[rows[0]]
        Winv = np.linalg.inv(np.linalg.cholesky(sigma[np.ix_(c, c)]))   # L^-1
        Xt = np.einsum("ab,nbp->nap", Winv, X[rows])                    # (n, k, p)
        rt = np.einsum("ab,nb->na", Winv, r[rows])                      # (n, k)
        if kind != "empirical":
            k = len(c)
            IH = np.eye(k) - np.einsum("nap,pq,nbq->nab", Xt, V, Xt)
            if kind == "empirical-jackknife":
                rt = np.linalg.solve(IH, rt[..., None])[..., 0]
            else:  # symmetric pseudo-inverse square root (mmrm's pseudoInverseSqrt)
                d, U = np.linalg.eigh(IH)
                tol = eps * k * np.max(np.abs(d), axis=1, keepdims=True)
                inv_sqrt = np.where(d > tol, 1.0 / np.sqrt(np.where(d > tol, d, 1.0)), 0.0)
                A = np.einsum("nab,nb,ncb->nac", U, inv_sqrt, U)
                rt = np.einsum("nab,nb->na", A, rt)
        z = np.einsum("nap,na->np", Xt, rt)
        meat += z.T @ z
    out: np.ndarray = V @ meat @ V
    return 0.5 * (out + out.T)


# ---------------------------------------------------------------------- front end
def _formula_parts(formula: Any) -> tuple[str, str]:
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise DataError(
            f"The 'formula' argument must be a string 'outcome ~ terms', e.g. "
            f"'chg ~ arm * visit'; got {formula!r}."
        )
    lhs, rhs = (part.strip() for part in formula.split("~"))
    if not lhs or not rhs:
        raise DataError(f"The 'formula' {formula!r} needs an outcome left of '~' and terms right of it.")
    return lhs, rhs


def _rhs_columns(rhs: str, data: pd.DataFrame) -> list[str]:
    try:
        factors = formula_factor_codes(rhs)
    except patsy.PatsyError as exc:
        raise DataError(f"Cannot parse the formula terms {rhs!r}: {exc}") from None
    used: list[str] = []
    missing: list[str] = []
    columns = data.columns
    for _code, quoted, idents in factors:
        for name in set(quoted) | set(idents):
            if name in columns:
                if name not in used:
                    used.append(name)
            elif (name not in _FORMULA_FUNCS and name.split(".")[0] not in _FORMULA_FUNCS
                  and name not in quoted and name not in missing):
                missing.append(name)
    if missing:
        available = ", ".join(repr(c) for c in data.columns)
        raise DataError(
            f"The formula names column(s) {', '.join(repr(c) for c in missing)}, which are not "
            f"in the data. Available columns: {available}."
        )
    return used


def _codes_of(series: pd.Series) -> np.ndarray:
    """Integer codes of a column (-1 for missing)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return np.asarray(series.cat.codes.to_numpy(), dtype=np.int64)
    return np.asarray(pd.factorize(series, use_na_sentinel=True)[0], dtype=np.int64)


def _n_distinct_within(groups: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the number of distinct non-missing codes."""
    ok = codes >= 0
    g, c = groups[ok], codes[ok]
    width = int(c.max()) + 1 if c.size else 1
    pairs = np.unique(g * width + c)
    return np.bincount(pairs // width, minlength=n_groups)


def _subject_level_factors(frame: pd.DataFrame, cols: list[str], subject: str, visit: str,
                           subj_codes: np.ndarray | None = None) -> list[str]:
    if subj_codes is None:
        subj_codes = _codes_of(frame[subject])
    n_sub = int(subj_codes.max()) + 1 if subj_codes.size else 0
    out = []
    for c in cols:
        if c in (subject, visit):
            continue
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
            continue
        if (_n_distinct_within(subj_codes, _codes_of(s), n_sub) <= 1).all():
            out.append(c)
    return out


_MAX_SPATIAL_POINTS = 60


def _spatial_grid(frame: pd.DataFrame, st: CovarianceStructure, *, subject: str, time: str
                  ) -> tuple[CovarianceStructure, np.ndarray, list[float]]:
    """Bind a spatial structure to the distinct observation times.

    Returns the bound structure, each row's index into the grid of distinct
    times and the grid itself (sorted).
    """
    tvals = frame[time].to_numpy(float)
    grid, codes = np.unique(tvals, return_inverse=True)
    dup = frame.duplicated([subject, time], keep=False).to_numpy()
    if dup.any():
        first = frame.loc[dup].iloc[0]
        raise DesignError(
            f"Subject {show(first[subject])} has two observations at time "
            f"{show(first[time])} (column {time!r}); at distance 0 the spatial correlation is "
            "1 and the covariance matrix is singular. Give each observation its own time."
        )
    if len(grid) > _MAX_SPATIAL_POINTS:
        raise DesignError(
            f"The column {time!r} has {len(grid)} distinct times; spatial structures support at "
            f"most {_MAX_SPATIAL_POINTS} (the covariance is kept over the grid of distinct "
            "times). Round the times to a coarser grid."
        )
    return st.bind(grid), codes, [float(g) for g in grid]


def _present_levels(series: pd.Series) -> list[Any]:
    """:func:`arm_levels` (a Categorical's categories that occur, else sorted values)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        return list(series.cat.categories[np.unique(codes[codes >= 0])])
    return arm_levels(series)


def _as_categorical(series: pd.Series, levels: list[Any]) -> Any:
    """:func:`as_categorical`, skipped when ``series`` already is that Categorical."""
    dt = series.dtype
    if (isinstance(dt, pd.CategoricalDtype) and not dt.ordered
            and len(dt.categories) == len(levels) and list(dt.categories) == list(levels)):
        return series
    return as_categorical(series, levels)


def _has_missing(frame: pd.DataFrame, cols: list[str]) -> bool:
    for c in cols:
        s = frame[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            if (s.cat.codes.to_numpy() < 0).any():
                return True
        elif bool(pd.isna(s.to_numpy()).any()):
            return True
    return False


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
    time: str | None = None,
    vcov: str | None = None,
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
    time : str, optional
        Spatial structures only (and required by them): the numeric column
        of observation times whose absolute differences are the distances
        ``d_ij`` (as mmrm's ``sp_exp(time | subject)``). Times may differ
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
        ``"residual"``, ``"asymptotic"`` or ``"between-within"`` (Kenward-Roger
        is rejected, as in mmrm; mmrm's Satterthwaite df for sandwich
        covariances is not implemented yet and is rejected too).

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
    """
    if not isinstance(covariance, str) or covariance not in COVARIANCE_STRUCTURES:
        valid = ", ".join(repr(c) for c in COVARIANCE_STRUCTURES)
        raise DataError(f"The 'covariance' argument must be one of {valid}; got {covariance!r}.")
    if not isinstance(reml, (bool, np.bool_)):
        raise DataError(f"The 'reml' argument must be True or False; got {reml!r}.")
    spatial = bool(COVARIANCE_STRUCTURES[covariance].spatial)
    if spatial and time is None:
        raise DataError(f"covariance={covariance!r} is a spatial structure: name the numeric "
                        "column of observation times with time=... (the distances between "
                        "a subject's observations are the differences of its times).")
    if time is not None and not spatial:
        spatial_names = ", ".join(repr(c) for c in SPATIAL_STRUCTURES)
        raise DataError(f"The 'time' argument applies to the spatial covariance structures "
                        f"({spatial_names}) only; covariance is {covariance!r}.")
    methods = ("satterthwaite", "kenward-roger", "kenward-roger-linear", "residual", "asymptotic",
               "between-within")
    if not isinstance(df_method, str) or df_method not in methods:
        raise DataError(f"The 'df_method' argument must be one of "
                        f"{', '.join(repr(m) for m in methods)}; got {df_method!r}.")
    if df_method in _KR and not reml:
        raise DesignError(
            f"df_method={df_method!r} is defined for REML fits only (as in mmrm and SAS); "
            "use reml=True or df_method='satterthwaite'."
        )
    vcov_types = ("empirical", "empirical-jackknife", "empirical-bias-reduced")
    if vcov is not None:
        if not isinstance(vcov, str) or vcov not in vcov_types:
            raise DataError(f"The 'vcov' argument must be None (model-based) or one of "
                            f"{', '.join(repr(v) for v in vcov_types)}; got {vcov!r}.")
        if df_method not in ("residual", "asymptotic", "between-within"):
            why = ("Kenward-Roger uses its own adjusted covariance (mmrm rejects it with a "
                   "sandwich too)" if df_method in _KR else
                   "the Satterthwaite df of a sandwich covariance are not implemented yet")
            raise DesignError(f"vcov={vcov!r} needs df_method='residual', 'asymptotic' or "
                              f"'between-within'; got df_method={df_method!r}: {why}.")
    outcome, rhs = _formula_parts(formula)
    check_columns(data, {"subject": subject, "visit": visit, "arm": arm, "baseline": baseline,
                         "time": time})
    if outcome not in data.columns:
        available = ", ".join(repr(c) for c in data.columns)
        raise DataError(f"The formula's outcome {outcome!r} is not a column of the data. "
                        f"Available columns: {available}.")
    rhs_cols = _rhs_columns(rhs, data)
    if arm is not None and arm not in rhs_cols:
        raise DataError(f"'arm' is {arm!r}, which is not a term of the formula {formula!r}.")
    y_all = check_numeric_column(data, outcome, "outcome")
    cols = list(dict.fromkeys([subject, visit, *rhs_cols]))
    extra = [c for c in dict.fromkeys([baseline, time]) if c is not None and c not in cols]
    frame = model_frame(data, [*cols, *extra])
    frame[outcome] = y_all.to_numpy()
    check_finite(frame, [outcome, *rhs_cols, *extra], {outcome: "outcome"})
    for c in rhs_cols:  # the visit column is checked by resolve_visit_order below
        if c != visit:
            check_labels(frame[c], c)
    if baseline is not None:
        frame[baseline] = check_numeric_column(frame, baseline, "baseline")
    if time is not None:
        frame[time] = check_numeric_column(frame, time, "time")
    # the visit order comes from all rows (missing outcomes included), never row order alone
    all_levels = resolve_visit_order(frame, visit, subject, visit_order)
    needed = [outcome, *cols, *([time] if time else [])]
    if _has_missing(frame, needed):
        frame, n_omitted = drop_missing_rows(frame, needed, nan_policy=nan_policy,
                                             stacklevel=3)
    else:
        check_nan_policy(nan_policy)
        n_omitted = 0
    if len(frame) == 0:
        raise DataError(f"No rows with an observed {outcome!r} remain.")
    # every level of all_levels occurs in the rows; only dropped rows can remove one
    levels = drop_unobserved_visits(all_levels, frame[visit], visit=visit, outcome=outcome,
                                    stacklevel=3) if n_omitted else list(all_levels)
    frame[visit] = _as_categorical(frame[visit], levels)
    if baseline is not None:
        varies = frame.groupby(subject, observed=True)[baseline].nunique() > 1
        if varies.any():
            raise DataError(
                f"The baseline column {baseline!r} must hold one value per subject; subject "
                f"{show(varies.index[varies.to_numpy()][0])} has several."
            )
    subj_codes = np.asarray(pd.factorize(frame[subject])[0], dtype=np.int64)  # dense 0..N-1
    visit_codes = frame[visit].cat.codes.to_numpy()
    m_lev = len(levels)
    if np.unique(subj_codes * m_lev + visit_codes).size < len(frame):
        dup = frame.duplicated([subject, visit], keep=False)
        first = frame.loc[dup].iloc[0]
        raise DataError(
            f"Subject {show(first[subject])} has visit {show(first[visit])} listed "
            f"{int(((frame[subject] == first[subject]) & (frame[visit] == first[visit])).sum())} "
            f"times; each subject needs at most one row per visit (column {visit!r})."
        )
    counts = np.bincount(visit_codes, minlength=m_lev)
    single = [v for i, v in enumerate(levels) if counts[i] < 2]
    if single and not spatial:
        raise DesignError(
            f"Visit(s) {show_list(single)} of column {visit!r} have a single "
            "observation; the visit variance cannot be estimated. Drop or merge that visit."
        )
    subject_factors = _subject_level_factors(frame, rhs_cols, subject, visit, subj_codes)
    if arm is None:
        arm = subject_factors[0] if subject_factors else None
    elif pd.api.types.is_numeric_dtype(frame[arm].dtype) and not isinstance(
            frame[arm].dtype, pd.CategoricalDtype):
        raise DataError(f"The 'arm' column {arm!r} is numeric; code the arms as labels "
                        "(strings or a Categorical) so that they form a factor.")
    ref_arm = None
    if arm is not None:
        lv = _present_levels(frame[arm])
        ref_arm = default_reference(lv, reference, name=arm, stacklevel=3)
        frame[arm] = _as_categorical(frame[arm], [ref_arm, *[v for v in lv if v != ref_arm]])
    elif reference is not None:
        raise DataError("'reference' was given but the formula has no arm factor (a "
                        "subject-level factor); name it with arm=....")
    n_sub_all = int(subj_codes.max()) + 1
    for fac in subject_factors:
        fcodes = _codes_of(frame[fac])
        n_lev = int(fcodes.max()) + 1
        present = np.bincount(fcodes[fcodes >= 0], minlength=n_lev) > 0
        if (_n_distinct_within(fcodes, subj_codes, n_lev)[present] >= 2).all():
            continue
        per_level = frame.groupby(fac, observed=True)[subject].nunique()
        lonely = per_level[per_level < 2]
        if len(lonely):
            raise DesignError(
                f"Level {show(lonely.index[0])} of {fac!r} has a single subject; at least two "
                "subjects per level are needed to separate its effect from the subject's."
            )
    candidates = tuple(
        c for c in rhs_cols
        if c not in (subject, visit, baseline) and c != arm
        and pd.api.types.is_numeric_dtype(frame[c].dtype)
        and not isinstance(frame[c].dtype, pd.CategoricalDtype)
        and bool((_n_distinct_within(subj_codes, _codes_of(frame[c]), n_sub_all) <= 1).all())
    )
    try:
        X, design_info = design_matrix(rhs, frame, rhs_cols)
    except patsy.PatsyError as exc:
        raise DataError(f"Cannot build the design matrix for {rhs!r}: {exc}") from None
    X, rank_info = drop_aliased(X, r_coef_names(design_info), stacklevel=2)
    check_exact_fit(frame[outcome].to_numpy(float), X, outcome, model="mmrm()")
    n, p = X.shape
    st = get_structure(covariance)
    time_points: list[float] | None = None
    if spatial:
        assert time is not None
        st, grid_codes, time_points = _spatial_grid(frame, st, subject=subject, time=time)
        m = len(time_points)
    else:
        grid_codes = frame[visit].cat.codes.to_numpy()
        m = len(levels)
    if m < st.min_visits:
        what = f"distinct times (column {time!r})" if spatial else f"visit levels (column {visit!r})"
        raise DesignError(f"covariance={covariance!r} needs at least {st.min_visits} {what}; "
                          f"the data have {m}.")
    n_theta = st.n_theta(m)
    if n_theta + p > n:
        raise DesignError(
            f"The model has {p} fixed effects and {n_theta} covariance parameters "
            f"({covariance!r} over {m} visits) but only {n} observations; use a simpler "
            "covariance structure (e.g. 'cs' or 'ar1') or fewer terms."
        )
    with single_thread_blas():  # small matrices: threaded BLAS only slows them
        engine = MMRMEngine(frame[outcome].to_numpy(float), X, subj_codes, grid_codes, m, st,
                            reml)
        theta, info = engine.fit()
        ev = engine.evaluate(theta)
        converged = info.converged
        if not ev.ok:
            raise DesignError("The model could not be fitted: the covariance matrix is not "
                              f"positive definite at any point tried ({info.message}).")
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
                "unreliable; try a simpler covariance structure.",
                ConvergenceWarning,
                stacklevel=2,
            )
            info = OptimizerInfo(info.method, False, info.n_iterations, info.max_abs_gradient,
                                 info.hessian_pd, info.message, info.attempts)
        V = ev.Ainv
        dS = engine.jacobian(theta)
        B = engine.b_matrices(ev, dS)
        jac = np.matmul(np.matmul(V, B), V)
    loglik = -0.5 * ev.f
    k = n_theta + (0 if reml else p)
    n_sub = engine.n_subjects
    default_first = (df_method, *[mm for mm in methods if mm != df_method])
    allowed = tuple(mm for mm in default_first if reml or mm not in _KR)
    V_emp = None
    if vcov is not None:
        allowed = tuple(mm for mm in allowed if mm in ("residual", "asymptotic", "between-within"))
        V_emp = _sandwich(frame[outcome].to_numpy(float), X, ev.beta, V, ev.sigma, subj_codes,
                          np.asarray(grid_codes), m, vcov)
    return MMRMResult(
        coef_names=rank_info.kept_names,
        aliased=rank_info.aliased,
        _rank_info=rank_info,
        beta=ev.beta.copy(),
        design_info=design_info,
        frame=frame,
        df_methods=allowed,
        loglik=loglik,
        aic=-2 * loglik + 2 * k,
        bic=-2 * loglik + k * math.log(n_sub),
        nobs=n,
        arm_name=arm,
        effect_by=(visit,) if visit in rhs_cols else (),
        formula=formula,
        covariance=covariance,
        reml=bool(reml),
        theta=theta,
        theta_vcov=W,
        converged=bool(converged),
        optimizer_info=info,
        n_subjects=n_sub,
        n_omitted=n_omitted,
        visit_levels=list(levels),
        reference_arm=ref_arm,
        baseline_name=baseline,
        _baseline_candidates=candidates,
        outcome_name=outcome,
        subject_name=subject,
        visit_name=visit,
        time_name=time,
        time_points=time_points,
        _grid_codes=np.asarray(grid_codes),
        vcov_type=vcov,
        _V_emp=V_emp,
        _sigma=ev.sigma.copy(),
        _V=V,
        _jac=jac,
        _engine=engine,
    )
