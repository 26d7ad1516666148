"""Linear mixed models with a per-subject random intercept (and slope), as lme4/lmerTest."""

from __future__ import annotations

import re
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
    check_exact_fit,
    check_finite,
    check_labels,
    default_reference,
    drop_unobserved_visits,
    model_frame,
    resolve_visit_order,
    show,
)
from .._validate import (
    NanPolicy,
    check_columns,
    check_nan_policy,
    check_numeric_column,
    drop_missing_rows,
)
from ..errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning
from ._base import LinearModelResult, r_coef_names
from ._emmeans import factor_variables
from ._lmm_engine import LMMProblem, blocks_from_theta, optimize_theta, phi_derivatives
from ._rank import RankInfo, drop_aliased, pivoted_rank
from .df import DFEngine, KRPieces, expected_information_w, kr_adjusted_vcov

__all__ = ["LMMResult", "lmm"]



# --------------------------------------------------------------------------- result
class LMMResult(LinearModelResult):
    """Result of :func:`lmm`.

    Attributes
    ----------
    formula, random, subject : str
        The model specification.
    reml : bool
        Whether the variance parameters are REML estimates.
    variance_components : pandas.DataFrame
        ``group, var1, var2, variance_or_cov, sd_or_cor`` as ``lme4::VarCorr``.
    G : numpy.ndarray
        Covariance matrix of the random effects (q x q).
    sigma : float
        Residual standard deviation.
    theta : numpy.ndarray
        lme4's relative Cholesky parameters.
    deviance : float
        The REML criterion (or ML deviance), ``-2 * loglik``.
    singular, converged : bool
        Boundary fit (a variance at zero / perfect correlation); optimiser success.
    n_omitted : int
        Rows dropped for missing values.
    aliased : tuple of str
        Fixed-effect columns dropped because the design is rank deficient (as
        lme4 drops them); ``coef_names`` and ``coef()`` hold the estimated ones.
    """

    def __init__(self, *, prob: LMMProblem, theta: np.ndarray, deviance: float,
                 design_info: patsy.DesignInfo, frame: pd.DataFrame, formula: str,
                 random: str, re_names: list[str], subject: str, reml: bool,
                 gradient: float, n_omitted: int, outcome: str,
                 rank_info: RankInfo | None = None) -> None:
        self._prob = prob
        self.outcome_name = outcome
        self.formula, self.random, self.subject, self.reml = formula, random, subject, reml
        self.design_info = design_info
        self.frame = frame
        names = r_coef_names(design_info)
        self._rank_info = rank_info if rank_info is not None else pivoted_rank(
            prob.X, names)
        self.coef_names = self._rank_info.kept_names
        self.aliased = self._rank_info.aliased
        self.theta = theta
        self.deviance = deviance
        self.nobs = prob.n
        self.n_subjects = prob.m
        self.n_omitted = n_omitted
        self.gradient_norm = gradient
        q = prob.q
        self.sigma2 = prob.sigma2(theta)
        self.sigma = float(np.sqrt(self.sigma2))
        Lam = blocks_from_theta(theta, q)
        self.G = self.sigma2 * Lam @ Lam.T
        self.re_names = re_names
        self.singular = bool(np.any(np.abs(np.diag(Lam)) < 1e-4))
        self.converged = gradient < 1e-3
        npar = prob.p + q * (q + 1) // 2 + 1
        self.loglik = -deviance / 2
        self.aic = deviance + 2 * npar
        self.bic = deviance + np.log(prob.n) * npar
        categorical, _ = factor_variables(design_info, frame)
        self.arm_name = next(iter(categorical), None)
        self.df_methods = (("satterthwaite", "kenward-roger", "residual", "asymptotic") if reml
                           else ("satterthwaite", "residual", "asymptotic"))
        self._inference()

    # the linear parametrisation phi = (vech(G), sigma^2): V = sum phi_k V_k
    def _inference(self) -> None:
        """Fixed effects, their covariance and the Satterthwaite / KR ingredients.

        All from per-subject blocks (:meth:`LMMProblem.moments`): no N x N matrix.
        lmerTest differentiates in varpar = (theta, sigma); with the analytic
        Jacobian J and second derivatives D2 of phi(varpar), the deviance Hessian
        is ``H_v = J' H_phi J + sum_a grad_a D2_a`` (the last term vanishes at an
        interior optimum, so the df are then parametrisation-free) and
        ``A = 2 H_v^-1``; ``dC/dvarpar = sum_a (C K_a C) J[a, .]``.
        """
        prob, q = self._prob, self._prob.q
        mom = prob.moments(self.G, self.sigma2)
        self._moments = mom
        self.beta = mom.beta
        self.vcov = mom.C
        dC_phi = np.einsum("pq,aqr,rs->aps", mom.C, mom.K, mom.C)
        varpar = np.concatenate([self.theta, [self.sigma]])
        J, D2 = phi_derivatives(varpar, q)
        Hv = J.T @ mom.H @ J + np.einsum("a,aij->ij", mom.grad, D2)
        # covariance of the variance parameters: 2 H^-1 (H = Hessian of the deviance)
        self._A = 2 * np.linalg.pinv((Hv + Hv.T) / 2)
        self._dC = np.einsum("aij,ab->bij", dC_phi, J)
        self._rank = int(prob.p)
        self._df = DFEngine(beta=self.beta, C=self.vcov, dC=self._dC, A=self._A,
                            resid_df=float(self.nobs - self._rank), kr=self._kr_pieces)

    def _kr_pieces(self, method: str) -> KRPieces:
        """pbkrtest's vcovAdj: expected-information W, V linear in phi (R = 0)."""
        mom = self._prob.moments(self.G, self.sigma2, full=True)
        assert mom.Q is not None
        P = -mom.K
        W = expected_information_w(mom.C, P, mom.Q, mom.T1)
        return KRPieces(PhiA=kr_adjusted_vcov(mom.C, W, P, mom.Q), P=P, W=W)

    @property
    def variance_components(self) -> pd.DataFrame:
        """Random-effect variances, covariances and correlations, then the residual."""
        rows = []
        sd = np.sqrt(np.diag(self.G))
        for i, name in enumerate(self.re_names):
            rows.append({"group": self.subject, "var1": name, "var2": None,
                         "variance_or_cov": self.G[i, i], "sd_or_cor": sd[i]})
        for j in range(len(self.re_names)):
            for i in range(j + 1, len(self.re_names)):
                cor = self.G[i, j] / (sd[i] * sd[j]) if sd[i] * sd[j] > 0 else np.nan
                rows.append({"group": self.subject, "var1": self.re_names[j],
                             "var2": self.re_names[i], "variance_or_cov": self.G[i, j],
                             "sd_or_cor": cor})
        rows.append({"group": "Residual", "var1": None, "var2": None,
                     "variance_or_cov": self.sigma2, "sd_or_cor": self.sigma})
        return pd.DataFrame(rows)

    def _contrast_1d(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        Lr = self._rank_info.reduce(L)
        if not np.all(np.isfinite(Lr)):  # not estimable (an aliased combination)
            return np.nan, np.nan, np.nan
        return self._df.contrast_1d(Lr, df_method)

    def _contrast_md(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        Lr = self._rank_info.reduce(np.atleast_2d(L))
        if not np.all(np.isfinite(Lr)):
            return np.nan, np.nan, np.nan
        return self._df.contrast_md(Lr, df_method)

    def _standardizer(self, kind: str) -> float:
        return self._standardizer_info(kind)[0]

    def _standardizer_info(self, kind: str) -> tuple[float, str]:
        """(SD, which SD it is) for :meth:`effect_sizes`; see :func:`lmm` Notes."""
        if kind == "residual_sd":
            # total within-arm SD implied by the model: random intercept + residual
            sd = float(np.sqrt(self.G[0, 0] + self.sigma2))
            where = f" (at {self.re_names[1]} = 0)" if len(self.re_names) > 1 else ""
            return sd, ("model SD sqrt(var(random intercept) + var(residual))" + where)
        levels = getattr(self, "visit_levels", None)
        return baseline_sd(self.frame, outcome=self.outcome_name, subject=self.subject,
                           visit=getattr(self, "visit_name", None),
                           first_visit=levels[0] if levels else None, arm=self.arm_name,
                           baseline=getattr(self, "baseline_name", None),
                           candidates=getattr(self, "_baseline_candidates", ()))


# --------------------------------------------------------------------------- front end
def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a column's distinct values (missing values get -1)."""
    codes: np.ndarray = pd.factorize(values, use_na_sentinel=True)[0]
    return codes


def _subject_code(subject_codes: np.ndarray, codes: np.ndarray) -> np.ndarray | None:
    """The value code of each subject if ``codes`` is constant within every subject
    (missing values, code -1, ignored; -1 for a subject without values), else None.

    O(n), no sort: one code per subject is written (whichever), and the column is
    constant within subjects exactly when every row agrees with its subject's.
    """
    ok = codes >= 0
    s = subject_codes[ok] + 1          # (a missing subject, -1, is a group too)
    c = codes[ok]
    first = np.full(int(s.max()) + 1 if len(s) else 0, -1, dtype=np.int64)
    first[s] = c
    return first if bool(np.all(first[s] == c)) else None


def _constant_within(subject_codes: np.ndarray, values: pd.Series) -> bool:
    """Whether ``values`` takes at most one (non-missing) value within every subject
    (``groupby(subject)[col].nunique() <= 1`` for all subjects, without pandas)."""
    return _subject_code(subject_codes, _codes(values)) is not None


def _check_levels(design_info: patsy.DesignInfo, work: pd.DataFrame, subject: str) -> None:
    """Every factor level needs two observations; a between-subject level two subjects."""
    categorical, _ = factor_variables(design_info, work)
    subj = _codes(work[subject])
    for col, levels in categorical.items():
        codes, uniques = pd.factorize(work[col], use_na_sentinel=True)
        keys = list(uniques)
        ok = codes >= 0
        n_obs = np.bincount(codes[ok], minlength=len(keys))
        counts = dict(zip(keys, n_obs.tolist(), strict=True))
        single = [lv for lv in levels if counts.get(lv, 0) == 1]
        if single:
            raise DesignError(
                f"Level {single[0]!r} of {col!r} has a single observation; each level needs "
                "at least two (merge or drop it)."
            )
        per_subject = _subject_code(subj, codes)
        if per_subject is not None:
            n_s = np.bincount(per_subject[per_subject >= 0], minlength=len(keys))
            n_subj = dict(zip(keys, n_s.tolist(), strict=True))
            lonely = [lv for lv in levels if n_subj.get(lv, 0) == 1]
            if lonely:
                raise DesignError(
                    f"Level {lonely[0]!r} of the between-subject factor {col!r} has a single "
                    f"subject; each level needs at least two subjects."
                )


_RANDOM_RE = re.compile(r"^\s*1\s*(?:\+\s*[A-Za-z_][A-Za-z_0-9.]*\s*)?$")


def _parse_random(random: Any, data: pd.DataFrame) -> list[str]:
    """Validate ``random`` ("1", "1 + time"); return the slope columns."""
    if not isinstance(random, str) or not _RANDOM_RE.match(random):
        raise DataError(
            "The 'random' argument must be \"1\" (random intercept) or \"1 + <column>\" "
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


def lmm(formula: str, data: pd.DataFrame, *, subject: str, random: str = "1",
        reml: bool = True, nan_policy: NanPolicy = "omit", visit: str | None = None,
        visit_order: Sequence[Any] | None = None, arm: str | None = None,
        reference: Any = None, baseline: str | None = None) -> LMMResult:
    r"""Linear mixed model with per-subject random effects, with lmerTest-style inference.

    Fits :math:`y = X\beta + Z u + \varepsilon`, :math:`u_i \sim N(0, G)` per
    subject (random intercept, or intercept and slope on one numeric column),
    :math:`\varepsilon \sim N(0, \sigma^2 I)`, by REML (default) or ML. The fit
    minimises lme4's profiled deviance in lme4's relative-Cholesky
    parametrisation (L-BFGS-B, then Newton steps to a gradient of about 1e-8),
    so estimates agree with ``lme4::lmer`` (to lme4's own optimiser tolerance;
    statsmodels' ``MixedLM`` is not used: it was 5x slower and stopped short of
    the optimum for random slopes).

    Inference (``coef``, ``anova``, ``emmeans``, ``contrasts``) offers
    ``df_method="satterthwaite"`` (default; lmerTest), ``"kenward-roger"``
    (pbkrtest; REML only), ``"residual"`` (N - rank(X)) and ``"asymptotic"``
    (z tests).

    Parameters
    ----------
    formula : str
        Fixed effects, e.g. ``"outcome ~ arm * visit"``. Factor level order: a
        pandas Categorical's categories, otherwise sorted (as R); the first is
        the reference level.
    data : pandas.DataFrame
        Long data, one row per subject and visit.
    subject : str
        Subject identifier column.
    random : {"1", "1 + <column>"}
        Random intercept, or intercept and slope on a numeric column
        (unstructured 2 x 2 covariance, as ``(1 + time | subject)``).
    reml : bool
        REML (default) or maximum likelihood.
    nan_policy : {"omit", "raise"}, optional
        Rows with a missing value in a model column are dropped and announced
        with a ``RehabStatsWarning`` (``"omit"``), or raise a ``DataError``.
    visit : str, optional
        The visit column. Default: the formula's column named ``"visit"``, if
        any. Its labels are ordered by the library's one visit rule (as
        :func:`mmrm`: ``visit_order``, a Categorical's order, numbers sorted,
        natural order of numbered labels, else the agreed within-subject
        sequence, else a ``DesignError``), so the first visit is the reference
        level of the visit factor. Other string factors are sorted, as R.
        Rows repeating a subject-visit pair are kept as replicates (a
        ``RehabStatsWarning`` says so).
    visit_order : sequence, optional
        The visit labels in order.
    arm : str, optional
        The arm factor (default: the first formula factor constant within
        subjects, other than the visit).
    reference : optional
        The reference arm; default a recognised control label (control, usual
        care, sham, placebo, TAU, waitlist, ...), else the first level.
    baseline : str, optional
        A baseline covariate (one value per subject) defining the
        ``"baseline_sd"`` standardiser.

    Returns
    -------
    LMMResult
        Also ``visit_levels`` (the visit order used, or None), ``reference_arm``.

    Raises
    ------
    DataError
        Missing columns, a non-numeric or infinite outcome, no complete rows,
        a bad ``random`` or ``reml``, labels differing only in case/whitespace;
        a numeric column of magnitude above 1e150 (its squares overflow); an
        outcome that is constant or fitted exactly by the fixed effects (no
        residual variation: the variance parameters are not identifiable).
    DesignError
        More parameters than observations, or as many random effects as
        observations (lme4's refusal).

    Warns
    -----
    RehabStatsWarning
        Rows with missing values dropped; aliased fixed-effect columns of a
        rank-deficient design dropped (named; see ``aliased`` and
        :mod:`rehabstats.models._rank`), as lme4 does.
    ConvergenceWarning
        A singular fit (a variance at zero) or an optimiser that did not converge.

    Notes
    -----
    ``effect_sizes("baseline_sd")`` divides by the pooled within-arm SD of the
    baseline: the ``baseline`` covariate (one value per subject) or, without
    it, the observed outcome at the first visit (a ``DesignError`` when the
    model adjusts for a numeric subject-level covariate, since the first
    visit is then not a baseline); ``"residual_sd"`` by the model SD
    :math:`\sqrt{G_{11} + \sigma^2}`. The table's ``standardizer_source``
    column says which.

    Satterthwaite: :math:`\nu = 2 (L C L^\top)^2 / (g^\top A g)` with
    :math:`A = 2 H^{-1}`, :math:`H` the Hessian of the REML deviance in
    lmerTest's parametrisation (theta, sigma), obtained analytically in the
    linear parametrisation (vech(G), sigma^2) and carried over by the chain rule
    with the analytic Jacobian and second derivatives of that map (including the
    gradient term, which matters at a boundary fit); no finite differences, so
    e.g. the paired t test written as an LMM gives its n - 1 df to ~1e-11.
    Kenward-Roger: pbkrtest's ``vcovAdj`` (expected information, linear
    covariance structure, so the "linear" and the full KR coincide) and
    ``Lb_ddf``/``KRmodcomp`` for the df and the F scaling (see
    :mod:`rehabstats.models.df.kenward_roger`). Everything (fit, derivatives,
    Satterthwaite and KR pieces) is computed per subject block (the marginal
    covariance is block diagonal), never as an ``N x N`` matrix.

    Rank-deficient fixed effects (an empty cell, collinear covariates) are
    handled as lme4: the aliased columns are dropped (pivoted QR, tolerance
    1e-7) with a warning naming them, ``aliased`` lists them, and type III
    tests use the estimable part (as lmerTest).

    References
    ----------
    Bates et al. (2015), *J. Stat. Softw.* 67(1), doi:10.18637/jss.v067.i01.
    Kuznetsova et al. (2017), *J. Stat. Softw.* 82(13), doi:10.18637/jss.v082.i13.
    Kenward & Roger (1997), *Biometrics* 53, 983-997, doi:10.2307/2533558.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from rehabstats.models import lmm
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"subject": np.repeat(np.arange(12), 3),
    ...                   "visit": np.tile(["pre", "post", "fu"], 12),
    ...                   "arm": np.repeat(["control", "cimt"], 18)})
    >>> d["y"] = rng.normal(size=36) + np.repeat(rng.normal(size=12), 3)
    >>> fit = lmm("y ~ arm * visit", d, subject="subject")
    >>> list(fit.anova()["term"])
    ['arm', 'visit', 'arm:visit']
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise DataError(f"'formula' must be a string like 'outcome ~ arm * visit'; got {formula!r}.")
    if not isinstance(reml, (bool, np.bool_)):
        raise DataError(f"The 'reml' argument must be True or False; got {reml!r}.")
    nan_policy = check_nan_policy(nan_policy)
    check_columns(data, {"subject": subject, "visit": visit, "arm": arm, "baseline": baseline})
    slope_cols = _parse_random(random, data)
    lhs, rhs = formula.split("~", 1)
    outcome = lhs.strip()
    check_columns(data, {"outcome (formula left-hand side)": outcome})
    try:
        rhs_desc = patsy.ModelDesc.from_formula(rhs)
    except patsy.PatsyError as exc:
        raise DataError(f"Cannot parse the formula {formula!r}: {exc}") from exc
    used = {outcome, subject, *slope_cols}
    in_formula: set[str] = set()
    for term in rhs_desc.rhs_termlist:
        for factor in term.factors:
            names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9.]*", factor.code))
            missing_here = [n for n in names if n in data.columns]
            in_formula.update(missing_here)
            bare = factor.code.strip()
            if bare.isidentifier() and bare not in data.columns:
                raise DataError(
                    f"The formula names column {bare!r}, which is not in the data. "
                    f"Available columns: {', '.join(map(repr, data.columns))}."
                )
    used |= in_formula
    if visit is None and "visit" in in_formula:
        visit = "visit"  # a formula factor named "visit" is the visit (documented)
    if arm is not None and arm not in in_formula:
        raise DataError(f"'arm' is {arm!r}, which is not a term of the formula {formula!r}.")
    used_cols = [c for c in data.columns if c in used]
    extra = [c for c in (visit, baseline) if c is not None and c not in used]
    frame = model_frame(data, [*used_cols, *extra])
    frame[outcome] = check_numeric_column(frame, outcome, "outcome")
    check_finite(frame, [c for c in frame.columns if c != subject], {outcome: "outcome"})
    for c in frame.columns:
        if c not in (outcome, subject):
            check_labels(frame[c], c)
    visit_levels: list[Any] | None = None
    all_visits: list[Any] | None = None
    if visit is not None:
        all_visits = resolve_visit_order(frame, visit, subject, visit_order)
    elif visit_order is not None:
        raise DataError("'visit_order' was given without a visit column: pass visit=... "
                        "(the column whose labels it orders).")
    work, n_omitted = drop_missing_rows(frame, used_cols, nan_policy=nan_policy, stacklevel=3)
    if len(work) == 0:
        raise DataError(
            f"No complete rows remain: every row misses {outcome!r} or another column of the "
            f"model ({', '.join(map(repr, used_cols))})."
        )
    for c in slope_cols:
        work[c] = check_numeric_column(work, c, "random")
    if visit is not None and all_visits is not None:
        visit_levels = drop_unobserved_visits(all_visits, work[visit], visit=visit,
                                              outcome=outcome, stacklevel=3)
        numeric_visit = (pd.api.types.is_numeric_dtype(work[visit].dtype)
                         and not isinstance(work[visit].dtype, pd.CategoricalDtype))
        if not numeric_visit:
            work[visit] = as_categorical(work[visit], visit_levels)
        dup = work.duplicated([subject, visit])
        if dup.any():
            warnings.warn(
                f"{int(dup.sum())} row(s) repeat a subject-visit combination (column "
                f"{visit!r}); they are kept as replicate measurements, which a linear mixed "
                "model allows (mmrm() refuses them).", RehabStatsWarning, stacklevel=2)
    for c in work.columns:
        if c not in (outcome, subject, *slope_cols) and not pd.api.types.is_numeric_dtype(
                work[c].dtype) and not isinstance(work[c].dtype, pd.CategoricalDtype):
            work[c] = as_categorical(work[c], arm_levels(work[c]))
    subject_codes = _codes(work[subject])
    subject_factors = [
        c for c in work.columns
        if c in in_formula and c not in (outcome, subject, visit)
        and isinstance(work[c].dtype, pd.CategoricalDtype)
        and _constant_within(subject_codes, work[c])
    ]
    if arm is None:
        arm = subject_factors[0] if subject_factors else None
    elif not isinstance(work[arm].dtype, pd.CategoricalDtype):
        raise DataError(f"The 'arm' column {arm!r} is numeric; code the arms as labels "
                        "(strings or a Categorical) so that they form a factor.")
    ref_arm = None
    if arm is not None:
        lv = arm_levels(work[arm])
        ref_arm = default_reference(lv, reference, name=arm, stacklevel=3)
        work[arm] = as_categorical(work[arm], [ref_arm, *[v for v in lv if v != ref_arm]])
    elif reference is not None:
        raise DataError("'reference' was given but the formula has no arm factor (a "
                        "subject-level factor); name it with arm=....")
    if baseline is not None:
        work[baseline] = check_numeric_column(work, baseline, "baseline")
        varies = work.groupby(subject, observed=True)[baseline].nunique() > 1
        if varies.any():
            raise DataError(
                f"The baseline column {baseline!r} must hold one value per subject; subject "
                f"{show(varies.index[varies.to_numpy()][0])} has several."
            )
    candidates = tuple(
        c for c in work.columns
        if c in in_formula and c not in (subject, visit, baseline, arm, *slope_cols)
        and pd.api.types.is_numeric_dtype(work[c].dtype)
        and not isinstance(work[c].dtype, pd.CategoricalDtype)
        and _constant_within(subject_codes, work[c])
    )
    work = work.reset_index(drop=True)
    try:
        X_mat = patsy.dmatrix(rhs_desc, work, NA_action="raise", return_type="matrix")
    except patsy.PatsyError as exc:
        raise DataError(f"Cannot build the design of {formula!r}: {exc}") from exc
    design_info = X_mat.design_info
    _check_levels(design_info, work, subject)
    X = np.asarray(X_mat, dtype=float)
    y = work[outcome].to_numpy(dtype=float)
    n, p = X.shape
    X, rank_info = drop_aliased(X, r_coef_names(design_info), stacklevel=2)
    check_exact_fit(y, X, outcome, model="lmm()")
    p = X.shape[1]
    Zs = np.column_stack([np.ones(n), *(work[c].to_numpy(float) for c in slope_cols)])
    q = Zs.shape[1]
    groups = work[subject].to_numpy()
    m = len(pd.unique(groups))
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
    prob = LMMProblem(y, X, Zs, groups, reml)
    re_names = ["(Intercept)", *slope_cols]
    # lme4's default start: Lambda = identity
    start = np.array([1.0 if i == j else 0.0 for j in range(q) for i in range(j, q)])
    theta, dev, gnorm = optimize_theta(prob, start)
    res = LMMResult(prob=prob, theta=theta, deviance=dev, design_info=design_info,
                    frame=work, formula=formula, random=random, re_names=re_names,
                    subject=subject, reml=reml, gradient=gnorm,
                    n_omitted=n_omitted, outcome=outcome, rank_info=rank_info)
    res.arm_name = arm
    res.reference_arm = ref_arm
    res.visit_name = visit
    res.visit_levels = visit_levels
    res.baseline_name = baseline
    res._baseline_candidates = candidates
    if res.singular:
        warnings.warn(
            f"Singular fit: a random-effect variance of ({random} | {subject}) is estimated "
            "at (or next to) zero, or the random effects are perfectly correlated. "
            "Inference treats the variance parameters as interior; check `variance_components`.",
            ConvergenceWarning, stacklevel=2)
    if not res.converged:
        warnings.warn(
            f"The REML/ML optimiser did not converge (max |gradient| = {gnorm:.2g}).",
            ConvergenceWarning, stacklevel=2)
    return res
