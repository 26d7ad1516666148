"""Linear mixed models with a per-subject random intercept (and slope), as lme4/lmerTest."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import patsy

from .._blas import single_thread_blas
from .._entry import (
    baseline_sd,
)
from .._validate import (
    NanPolicy,
)
from ..errors import ConvergenceWarning, DataError
from ._base import LinearModelResult, r_coef_names
from ._design import ModelDesign, lmm_design
from ._emmeans import factor_variables
from ._lmm_engine import LMMProblem, blocks_from_theta, optimize_theta, phi_derivatives
from ._rank import RankInfo, pivoted_rank
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

    def __init__(
        self,
        *,
        prob: LMMProblem,
        theta: np.ndarray,
        deviance: float,
        design_info: patsy.DesignInfo,
        frame: pd.DataFrame,
        formula: str,
        random: str,
        re_names: list[str],
        subject: str,
        reml: bool,
        gradient: float,
        n_omitted: int,
        outcome: str,
        rank_info: RankInfo | None = None,
    ) -> None:
        self._prob = prob
        self.outcome_name = outcome
        self.formula, self.random, self.subject, self.reml = formula, random, subject, reml
        self.design_info = design_info
        self.frame = frame
        names = r_coef_names(design_info)
        self._rank_info = rank_info if rank_info is not None else pivoted_rank(prob.X, names)
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
        self.df_methods = (
            ("satterthwaite", "kenward-roger", "residual", "asymptotic")
            if reml
            else ("satterthwaite", "residual", "asymptotic")
        )
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
        self._df = DFEngine(
            beta=self.beta,
            C=self.vcov,
            dC=self._dC,
            A=self._A,
            resid_df=float(self.nobs - self._rank),
            kr=self._kr_pieces,
        )

    def _kr_pieces(self, method: str) -> KRPieces:
        """Pbkrtest's vcovAdj: expected-information W, V linear in phi (R = 0)."""
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
            rows.append(
                {
                    "group": self.subject,
                    "var1": name,
                    "var2": None,
                    "variance_or_cov": self.G[i, i],
                    "sd_or_cor": sd[i],
                }
            )
        for j in range(len(self.re_names)):
            for i in range(j + 1, len(self.re_names)):
                cor = self.G[i, j] / (sd[i] * sd[j]) if sd[i] * sd[j] > 0 else np.nan
                rows.append(
                    {
                        "group": self.subject,
                        "var1": self.re_names[j],
                        "var2": self.re_names[i],
                        "variance_or_cov": self.G[i, j],
                        "sd_or_cor": cor,
                    }
                )
        rows.append(
            {
                "group": "Residual",
                "var1": None,
                "var2": None,
                "variance_or_cov": self.sigma2,
                "sd_or_cor": self.sigma,
            }
        )
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
        return baseline_sd(
            self.frame,
            outcome=self.outcome_name,
            subject=self.subject,
            visit=getattr(self, "visit_name", None),
            first_visit=levels[0] if levels else None,
            arm=self.arm_name,
            baseline=getattr(self, "baseline_name", None),
            candidates=getattr(self, "_baseline_candidates", ()),
        )


# --------------------------------------------------------------------------- model
def lmm(
    formula: str,
    data: pd.DataFrame,
    *,
    subject: str,
    random: str = "1",
    reml: bool = True,
    nan_policy: NanPolicy = "omit",
    visit: str | None = None,
    visit_order: Sequence[Any] | None = None,
    arm: str | None = None,
    reference: Any = None,
    baseline: str | None = None,
) -> LMMResult:
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
    if not isinstance(reml, (bool, np.bool_)):
        raise DataError(f"The 'reml' argument must be True or False; got {reml!r}.")
    with single_thread_blas():  # the design checks' QR too (see rehabstats._blas)
        design = lmm_design(
            formula,
            data,
            subject=subject,
            random=random,
            nan_policy=nan_policy,
            visit=visit,
            visit_order=visit_order,
            arm=arm,
            reference=reference,
            baseline=baseline,
        )
        prob, theta, dev, gnorm = _fit(design, reml)
        return _assemble(design, prob, theta, dev, gnorm, random=random, reml=reml)


def _fit(design: ModelDesign, reml: bool) -> tuple[LMMProblem, np.ndarray, float, float]:
    """The REML/ML fit of the design (step 2 of :func:`lmm`): problem, theta, deviance,
    max |gradient|.
    """
    frame, n = design.frame, design.nobs
    Zs = np.column_stack([np.ones(n), *(frame[c].to_numpy(float) for c in design.slopes)])
    q = Zs.shape[1]
    prob = LMMProblem(design.y, design.X, Zs, frame[design.subject].to_numpy(), reml)
    # lme4's default start: Lambda = identity
    start = np.array([1.0 if i == j else 0.0 for j in range(q) for i in range(j, q)])
    theta, dev, gnorm = optimize_theta(prob, start)
    return prob, theta, dev, gnorm


def _assemble(
    design: ModelDesign,
    prob: LMMProblem,
    theta: np.ndarray,
    dev: float,
    gnorm: float,
    *,
    random: str,
    reml: bool,
) -> LMMResult:
    """The result object of a fit (step 3 of :func:`lmm`)."""
    subject = design.subject
    res = LMMResult(
        prob=prob,
        theta=theta,
        deviance=dev,
        design_info=design.design_info,
        frame=design.frame,
        formula=design.formula,
        random=random,
        re_names=["(Intercept)", *design.slopes],
        subject=subject,
        reml=reml,
        gradient=gnorm,
        n_omitted=design.n_omitted,
        outcome=design.outcome,
        rank_info=design.rank_info,
    )
    res.arm_name = design.arm
    res.reference_arm = design.reference
    res.visit_name = design.visit
    res.visit_levels = design.visit_levels
    res.baseline_name = design.baseline
    res._baseline_candidates = design.baseline_candidates
    if res.singular:
        warnings.warn(
            f"Singular fit: a random-effect variance of ({random} | {subject}) is estimated "
            "at (or next to) zero, or the random effects are perfectly correlated. "
            "Inference treats the variance parameters as interior; check `variance_components`.",
            ConvergenceWarning,
            stacklevel=3,
        )
    if not res.converged:
        warnings.warn(
            f"The REML/ML optimiser did not converge (max |gradient| = {gnorm:.2g}).",
            ConvergenceWarning,
            stacklevel=3,
        )
    return res
