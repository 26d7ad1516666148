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

from .._entry import (
    arm_levels,
    as_categorical,
    baseline_sd,
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
)
from ..errors import ConvergenceWarning, DataError, DesignError
from ._base import LinearModelResult, r_coef_names
from ._covariance import COVARIANCE_STRUCTURES, get_structure
from ._design_cache import design_matrix, formula_factor_codes
from ._mmrm_fit import MMRMEngine, OptimizerInfo, single_thread_blas
from ._rank import RankInfo, drop_aliased
from .df import DFEngine, KRPieces, kr_adjusted_vcov

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
        """Estimated ``Sigma`` over the visit levels (visit x visit)."""
        return pd.DataFrame(self._sigma, index=self.visit_levels, columns=self.visit_levels)

    @property
    def correlation_matrix(self) -> pd.DataFrame:
        """Estimated within-subject correlation matrix over the visit levels."""
        sd = np.sqrt(np.diag(self._sigma))
        return pd.DataFrame(self._sigma / np.outer(sd, sd), index=self.visit_levels,
                            columns=self.visit_levels)

    def vcov(self, df_method: str | None = None) -> pd.DataFrame:
        """Covariance of the fixed effects: model-based, or KR-adjusted for
        ``df_method="kenward-roger"`` / ``"kenward-roger-linear"``."""
        method = self._df_method(df_method)
        V = self._kr(method)[0] if method in _KR else self._V
        return pd.DataFrame(V, index=list(self.coef_names), columns=list(self.coef_names))

    # ------------------------------------------------------------------ base hooks
    def _kr(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        """(adjusted vcov, P matrices) of a Kenward-Roger variant, computed once."""
        kr = self._df().kr_pieces(method)
        return kr.PhiA, kr.P

    def _pqr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kenward-Roger's ``P_i``, ``Q_ij`` and ``R_ij`` at the estimate."""
        eng: MMRMEngine = self._engine
        ev = eng.evaluate(self.theta)
        dS = eng.jacobian(self.theta)
        d2S = eng.sigma_hessian(self.theta)
        k, m, p = dS.shape[0], eng.m, eng.p
        P = -eng.b_matrices(ev, dS)
        ZZ = eng.zz_sum(ev).reshape(m * m, p * p)
        R = (d2S.reshape(k * k, m * m) @ ZZ).reshape(k, k, p, p)
        # Q_ij = sum_s sum_ad (Sigma_i Omega_s Sigma_j)[a, d] ZZ_s[a, d] on observed visits
        Q = np.zeros((k * k, p * p))
        for s, (o, Zs) in enumerate(eng.zz_blocks(ev)):
            ms = len(o)
            Jo = dS[:, o][:, :, o]  # (k, ms, ms)
            T = (Jo @ ev.Omega[s][np.ix_(o, o)]).reshape(k * ms, ms)
            TT = (T @ Jo.transpose(1, 0, 2).reshape(ms, k * ms)).reshape(k, ms, k, ms)
            Q += TT.transpose(0, 2, 1, 3).reshape(k * k, ms * ms) @ Zs.reshape(ms * ms, p * p)
        Q = Q.reshape(k, k, p, p)
        return P, Q, R

    def _kr_pieces(self, method: str) -> KRPieces:
        cache: dict[str, Any] = self._kr_cache
        if "PQR" not in cache:
            with single_thread_blas():
                cache["PQR"] = self._pqr()
        P, Q, R = cache["PQR"]
        adj = kr_adjusted_vcov(self._V, self.theta_vcov, P, Q,
                               None if method == "kenward-roger-linear" else R)
        return KRPieces(PhiA=adj, P=P, W=self.theta_vcov)

    def _df(self) -> DFEngine:
        cache: dict[str, Any] = self._kr_cache
        if "engine" not in cache:
            cache["engine"] = DFEngine(
                beta=self.beta, C=self._V, dC=self._jac, A=self.theta_vcov,
                resid_df=float(self.nobs - len(self.beta)), kr=self._kr_pieces)
        out: DFEngine = cache["engine"]
        return out

    def _contrast_1d(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        Lr = self._rank_info.reduce(L)
        if not np.all(np.isfinite(Lr)):  # not estimable (an aliased combination)
            return math.nan, math.nan, math.nan
        return self._df().contrast_1d(Lr, df_method)

    def _contrast_md(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        Lr = self._rank_info.reduce(np.atleast_2d(L))
        if not np.all(np.isfinite(Lr)):
            return math.nan, math.nan, math.nan
        return self._df().contrast_md(Lr, df_method)

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
            elif name not in _FORMULA_FUNCS and name not in quoted and name not in missing:
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
    covariance : {"us", "cs", "csh", "ar1", "ar1h", "toep", "toeph"}, optional
        Covariance structure (``h`` = heterogeneous variances); default
        unstructured.
    reml : bool, optional
        REML (default) or maximum likelihood.
    df_method : {"satterthwaite", "kenward-roger", "kenward-roger-linear", "residual", "asymptotic"}, optional
        Default df method of the result's tables. Kenward-Roger requires REML
        and is rejected before fitting otherwise (as mmrm).
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
        listed twice.
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
    methods = ("satterthwaite", "kenward-roger", "kenward-roger-linear", "residual", "asymptotic")
    if not isinstance(df_method, str) or df_method not in methods:
        raise DataError(f"The 'df_method' argument must be one of "
                        f"{', '.join(repr(m) for m in methods)}; got {df_method!r}.")
    if df_method in _KR and not reml:
        raise DesignError(
            f"df_method={df_method!r} is defined for REML fits only (as in mmrm and SAS); "
            "use reml=True or df_method='satterthwaite'."
        )
    outcome, rhs = _formula_parts(formula)
    check_columns(data, {"subject": subject, "visit": visit, "arm": arm, "baseline": baseline})
    if outcome not in data.columns:
        available = ", ".join(repr(c) for c in data.columns)
        raise DataError(f"The formula's outcome {outcome!r} is not a column of the data. "
                        f"Available columns: {available}.")
    rhs_cols = _rhs_columns(rhs, data)
    if arm is not None and arm not in rhs_cols:
        raise DataError(f"'arm' is {arm!r}, which is not a term of the formula {formula!r}.")
    y_all = check_numeric_column(data, outcome, "outcome")
    cols = list(dict.fromkeys([subject, visit, *rhs_cols]))
    extra = [baseline] if baseline is not None and baseline not in cols else []
    frame = model_frame(data, [*cols, *extra])
    frame[outcome] = y_all.to_numpy()
    check_finite(frame, [outcome, *rhs_cols, *extra], {outcome: "outcome"})
    for c in rhs_cols:  # the visit column is checked by resolve_visit_order below
        if c != visit:
            check_labels(frame[c], c)
    if baseline is not None:
        frame[baseline] = check_numeric_column(frame, baseline, "baseline")
    # the visit order comes from all rows (missing outcomes included), never row order alone
    all_levels = resolve_visit_order(frame, visit, subject, visit_order)
    if _has_missing(frame, [outcome, *cols]):
        frame, n_omitted = drop_missing_rows(frame, [outcome, *cols], nan_policy=nan_policy,
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
    if single:
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
    n, p = X.shape
    st = get_structure(covariance)
    m = len(levels)
    if m < st.min_visits:
        raise DesignError(f"covariance={covariance!r} needs at least {st.min_visits} visit levels; "
                          f"column {visit!r} has {m}.")
    n_theta = st.n_theta(m)
    if n_theta + p > n:
        raise DesignError(
            f"The model has {p} fixed effects and {n_theta} covariance parameters "
            f"({covariance!r} over {m} visits) but only {n} observations; use a simpler "
            "covariance structure (e.g. 'cs' or 'ar1') or fewer terms."
        )
    with single_thread_blas():  # small matrices: threaded BLAS only slows them
        engine = MMRMEngine(frame[outcome].to_numpy(float), X, subj_codes, visit_codes, m, st, reml)
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
        _sigma=ev.sigma.copy(),
        _V=V,
        _jac=jac,
        _engine=engine,
    )
