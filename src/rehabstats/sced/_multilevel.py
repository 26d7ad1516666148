"""Multilevel piecewise regression of single-case series (scan's ``hplm``).

The piecewise model of :mod:`rehabstats.sced._piecewise` (same session codings
and design matrix) fitted to several cases at once, with case-level random
effects, by REML or ML through the LMM engine of
:mod:`rehabstats.models._lmm_engine` (imported at module level).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .._results import Result, format_number
from .._validate import check_option
from ..errors import ConvergenceWarning, DataError, DesignError
from ..models._lmm_engine import (
    LMMProblem,
    blocks_from_theta,
    num_grad,
    num_hess,
    optimize_theta,
)
from ._piecewise import MODELS, Model, _check_ci, _design, _full_frame

__all__ = ["MultilevelResult", "multilevel"]


# Largest |gradient| of the profiled deviance accepted as converged.
_GRAD_TOL = 1e-4


@dataclass(frozen=True)
class _LmeFit:
    beta: np.ndarray
    xvx: np.ndarray  # X' V0^-1 X with V0 = V / sigma^2
    cov_re: np.ndarray  # G, covariance of the case-level random effects
    sigma2: float
    loglik: float
    gradient: float


def _fold(theta: np.ndarray, q: int) -> np.ndarray:
    """Flip the columns of Lambda with a negative diagonal (same G): lme4's form."""
    out = theta.copy()
    pos = 0
    for j in range(q):
        if out[pos] < 0:
            out[pos : pos + q - j] *= -1
        pos += q - j
    return out


def _optimize_general(prob: Any, start: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Minimise the profiled deviance for an unstructured q x q G (q > 1).

    The engine's bounded Powell search needs ~10^5 deviance evaluations for
    q = 4 on flat, near-singular likelihoods; here BFGS runs unconstrained
    (G = sigma^2 Lambda Lambda' is unchanged when a whole column of Lambda changes
    sign, so a negative diagonal element is folded back with its column) from two starts (Lambda = I, and small
    between-case variances), then Newton steps polish the best point to a
    gradient of ~1e-8.
    """
    q = prob.q
    diag = np.array([i == j for j in range(q) for i in range(j, q)])
    best_x, best_f = start, prob.deviance(start)
    # starts: Lambda = I, small between-case variances, and Lambda scaled to the
    # spread of the random-effect columns (trend/slope columns span many sessions)
    sd = prob.Zs.std(axis=0)
    scaled = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 1.0)
    scaled[0] = 1.0
    lam0 = np.array([scaled[i] if i == j else 0.0 for j in range(q) for i in range(j, q)])
    for x0 in (start, start * 0.1, lam0, lam0 * 0.1, start * 10):
        r = optimize.minimize(
            prob.deviance, x0, method="BFGS", options={"gtol": 1e-9, "maxiter": 5000}
        )
        if np.isfinite(r.fun) and r.fun < best_f:
            best_x, best_f = np.asarray(r.x), float(r.fun)
    for _ in range(5):
        # BFGS restarts (a fresh Hessian approximation) while they still gain
        r = optimize.minimize(
            prob.deviance, best_x, method="BFGS", options={"gtol": 1e-9, "maxiter": 5000}
        )
        if not (np.isfinite(r.fun) and r.fun < best_f - 1e-9):
            break
        best_x, best_f = np.asarray(r.x), float(r.fun)
    theta = _fold(best_x, q)
    f_theta = prob.deviance(theta)
    for _ in range(30):
        # damped Newton steps (Levenberg-Marquardt shift when the Hessian is not
        # positive definite, step halving); a diagonal element at zero is a
        # boundary (variance 0) and is held fixed
        free = ~diag | (theta > 1e-6)
        g = num_grad(prob.deviance, theta)[free]
        if np.max(np.abs(g)) < 1e-8:
            break
        h = num_hess(prob.deviance, theta)[np.ix_(free, free)]
        ev_min = float(np.linalg.eigvalsh(h).min())
        if ev_min <= 1e-8 * max(1.0, float(np.abs(h).max())):
            h = h + (abs(ev_min) + 1e-6 * max(1.0, float(np.abs(h).max()))) * np.eye(len(g))
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            break
        for _half in range(30):
            cand = theta.copy()
            cand[free] -= step
            cand = _fold(cand, q)
            f_cand = prob.deviance(cand)
            if f_cand <= f_theta + 1e-12:
                break
            step = step / 2
        else:
            break
        moved = np.max(np.abs(cand - theta))
        theta, f_theta = cand, f_cand
        if moved < 1e-12:
            break
    free = ~diag | (theta > 1e-6)
    g = num_grad(prob.deviance, theta)
    gnorm = float(np.max(np.abs(g[free]))) if free.any() else 0.0
    return theta, float(prob.deviance(theta)), gnorm


def _fit_lme(
    y: np.ndarray, x: np.ndarray, z: np.ndarray, groups: np.ndarray, reml: bool
) -> _LmeFit:
    """ML/REML fit of y = X b + Z u_i + e with u_i ~ N(0, G) (G unstructured).

    Reuses the LMM engine of :mod:`rehabstats.models._lmm_engine`: it minimises lme4's
    profiled deviance over the relative Cholesky factor Lambda (G = sigma^2
    Lambda Lambda') and polishes to a small gradient. This is the likelihood
    nlme's ``lme`` maximises (in another parametrisation), so where both reach
    the optimum the estimates agree; nlme's ``optim`` sometimes stops short.
    """
    prob = LMMProblem(y, x, z, groups, reml)
    q = z.shape[1]
    start = np.array([1.0 if i == j else 0.0 for j in range(q) for i in range(j, q)])
    if q == 1:
        best = optimize_theta(prob, start)
    else:
        best = _optimize_general(prob, start)
        if best[2] > 1e-6:
            # BFGS lost its way on a flat likelihood: the engine's (slower) bounded
            # Powell search, keeping the better optimum
            cand = optimize_theta(prob, start)
            if cand[1] < best[1]:
                best = cand
    theta, dev, gnorm = best
    out = prob.solve(theta)
    if out is None or not np.isfinite(dev):
        raise DesignError("The multilevel model could not be fitted (singular design).")
    _, xvx, beta, _ = out
    sigma2 = prob.sigma2(theta)
    lam = blocks_from_theta(theta, q)
    return _LmeFit(
        beta=np.asarray(beta),
        xvx=np.asarray(xvx),
        cov_re=sigma2 * lam @ lam.T,
        sigma2=float(sigma2),
        loglik=-0.5 * float(dev),
        gradient=float(gnorm),
    )


@dataclass(frozen=True)
class MultilevelResult(Result):
    """Result of :func:`multilevel`.

    Attributes
    ----------
    coefficients : pandas.DataFrame
        Fixed effects: ``term, scan_term, estimate, se, df, t, p, ci_low, ci_high``
        (df as nlme's ``lme``: observations − cases − (terms − 1)).
    random : pandas.DataFrame
        Variance components: ``component, variance, sd``.
    model, method : str
    loglik, aic, bic : float
        Log-likelihood (ML or REML, as ``method``) and information criteria.
    icc : float
        Share of the random-intercept variance in the intercept plus residual
        variance *of the fitted model*. scan's ``hplm`` ICC comes from a separate
        intercept-only model and differs.
    n_cases, n : int
    converged : bool
    """

    coefficients: pd.DataFrame = field(repr=False)
    random: pd.DataFrame = field(repr=False)
    model: str
    method: str
    loglik: float
    aic: float
    bic: float
    icc: float
    n_cases: int
    n: int
    converged: bool

    def to_frame(self) -> pd.DataFrame:
        """The fixed-effects table (a copy)."""
        return self.coefficients.copy()

    def summary(self) -> str:
        """Fixed effects, variance components and fit statistics as text."""
        fmt = {"float_format": lambda v: format_number(v, 3), "na_rep": "NA", "index": False}
        return (
            f"Multilevel piecewise regression (model {self.model}, {self.method}; "
            f"{self.n_cases} cases, {self.n} observations)\n"
            f"{self.coefficients.drop(columns='scan_term').to_string(**fmt)}\n\n"
            f"{self.random.to_string(**fmt)}\n"
            f"logLik = {format_number(self.loglik)}, AIC = {format_number(self.aic)}, "
            f"ICC = {format_number(self.icc)}"
        )


def multilevel(
    data: pd.DataFrame,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str,
    model: Model = "W",
    method: Literal["ML", "REML"] = "ML",
    random_slopes: bool = False,
    ci: float = 0.95,
) -> MultilevelResult:
    r"""Hierarchical piecewise regression across cases (scan's ``hplm``).

    The piecewise model of :func:`~rehabstats.sced.piecewise_regression` with case-level random
    effects: a random intercept, and with ``random_slopes=True`` random
    trend, level and slope effects as well (unstructured covariance):

    .. math:: y_{ti} = (\beta_0 + u_{0i}) + (\beta_1 + u_{1i}) t + (\beta_2 + u_{2i}) D
              + (\beta_3 + u_{3i}) t_B + e_{ti}

    Fitted by ML or REML with rehabstats' LMM engine (that of
    :func:`rehabstats.models.lmm`): the profiled deviance is minimised over the
    relative Cholesky factor of the random-effects covariance (unstructured with
    ``random_slopes=True``) and polished to a small gradient. This is the
    likelihood of nlme's ``lme`` (scan's engine); nlme often stops short of its
    maximum with random slopes, so rehabstats' log-likelihood is then higher and
    its estimates differ. Fixed-effect covariance: sigma^2 (X' V0^-1 X)^-1, for ML
    scaled by N / (N - p) as nlme reports it. Degrees of freedom follow nlme's
    containment rule: all terms vary within cases, so df = observations − cases −
    (terms − 1), also with random slopes (nlme does not reduce them).

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy long data with several cases (not modified).
    outcome, phase, session, case : str
        Column names.
    model : {"W", "H-M", "B&L-B"}
        Session coding, as in :func:`~rehabstats.sced.piecewise_regression`.
    method : {"ML", "REML"}
    random_slopes : bool
        Add random trend, level and slope effects.
    ci : float
        Confidence level of the coefficient intervals.

    Returns
    -------
    MultilevelResult

    Raises
    ------
    DataError
        Bad option or column.
    DesignError
        Fewer than two cases, or cases with different phase sequences.
    DataError
        Also: a constant outcome, or one whose magnitude (above 1e150 or below
        1e-150) makes the variance components unrepresentable.

    Warns
    -----
    ConvergenceWarning
        The largest gradient of the profiled deviance (free parameters) stays
        above 1e-4 at the end of the optimisation.

    References
    ----------
    Van den Noortgate, W., & Onghena, P. (2003). Hierarchical linear models for
    the quantitative integration of effect sizes in single-case research.
    *Behavior Research Methods, Instruments, & Computers*, 35(1), 1-10.
    https://doi.org/10.3758/BF03195492

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from rehabstats.sced import multilevel
    >>> rng = np.random.default_rng(1)
    >>> rows = [(c, t, "A" if t <= 5 + c else "B", 10 + 3 * (t > 5 + c) + rng.normal())
    ...         for c in range(3) for t in range(1, 16)]
    >>> df = pd.DataFrame(rows, columns=["case", "t", "ph", "y"])
    >>> multilevel(df, outcome="y", phase="ph", session="t", case="case").to_frame()["term"].tolist()
    ['intercept', 'trend', 'level', 'slope']
    """
    model = check_option(model, "model", MODELS)
    method = check_option(method, "method", ("ML", "REML"))
    if not isinstance(random_slopes, (bool, np.bool_)):
        raise DataError(f"'random_slopes' must be True or False; got {random_slopes!r}.")
    ci = _check_ci(ci)
    frame = _full_frame(data, outcome, phase, session, case)
    blocks, ys, groups = [], [], []
    names: Sequence[str] = ()
    scan_names: Sequence[str] = ()
    for label, grp in frame.groupby("case", sort=False):
        try:
            x, nm, snm = _design(
                grp["session"].to_numpy(dtype=float), grp["phase"].to_numpy(), model
            )
        except DesignError as exc:
            raise DesignError(f"Case {label!r}: {exc} (phase column {phase!r})") from None
        if names and list(nm) != list(names):
            raise DesignError(
                f"Case {label!r} has phases {snm[2:]} but the first case has "
                f"{list(scan_names)[2:]}; all cases need the same phase sequence."
            )
        names, scan_names = nm, snm
        yy = grp["outcome"].to_numpy(dtype=float)
        keep = ~np.isnan(yy)
        blocks.append(x[keep])
        ys.append(yy[keep])
        groups += [str(label)] * int(keep.sum())
    n_cases = len(blocks)
    if n_cases < 2:
        raise DesignError(
            f"multilevel() needs at least two cases (column {case!r}); got {n_cases}."
        )
    x_all = np.vstack(blocks)
    y_all = np.concatenate(ys)
    big = float(np.max(np.abs(y_all))) if y_all.size else 0.0
    if big > 1e150 or 0 < big < 1e-150:
        raise DataError(
            f"Column {outcome!r} ('outcome') has values of magnitude {big:.3g}: the variance "
            "components (squared units) are not representable in double precision. Rescale "
            "the outcome (e.g. to other units) first."
        )
    if np.ptp(y_all) == 0:
        raise DataError(
            f"Column {outcome!r} ('outcome') is constant: a multilevel model "
            "needs variation in the outcome."
        )
    p = x_all.shape[1]
    z_all = x_all if random_slopes else np.ones((len(y_all), 1))
    fit = _fit_lme(y_all, x_all, z_all, np.asarray(groups), method == "REML")
    converged = fit.gradient < _GRAD_TOL
    if not converged:
        warnings.warn(
            "The multilevel model fit did not converge cleanly (max |gradient| of "
            f"the profiled deviance = {fit.gradient:.2g}).",
            ConvergenceWarning,
            stacklevel=2,
        )
    beta, cov_re, scale = fit.beta, fit.cov_re, fit.sigma2
    # Var(beta) = sigma^2 (X' V0^-1 X)^-1, V0 = I + Z Lambda Lambda' Z': the generalised
    # least-squares covariance at the estimated variance components (as nlme).
    cov = scale * np.linalg.inv(fit.xvx)
    if method == "ML":
        # nlme reports ML fixed-effect variances scaled by N / (N - p).
        cov = cov * len(y_all) / (len(y_all) - p)
    se = np.sqrt(np.diag(cov))
    # nlme's lme df: every term here varies within cases (the intercept is
    # assigned to the innermost level too), so df = n - cases - (p - 1).
    n = len(y_all)
    dfs = np.full(p, float(n - n_cases - (p - 1)))
    t = beta / se
    pval = 2 * stats.t.sf(np.abs(t), dfs)
    q = stats.t.ppf(0.5 + ci / 2, dfs)
    coefficients = pd.DataFrame(
        {
            "term": list(names),
            "scan_term": list(scan_names),
            "estimate": beta,
            "se": se,
            "df": dfs,
            "t": t,
            "p": pval,
            "ci_low": beta - q * se,
            "ci_high": beta + q * se,
        }
    )
    re_names = list(names) if random_slopes else ["intercept"]
    comp = [f"case: {nm}" for nm in re_names] + ["residual"]
    var = np.r_[np.diag(cov_re), scale]
    random = pd.DataFrame({"component": comp, "variance": var, "sd": np.sqrt(var)})
    icc = float(cov_re[0, 0] / (cov_re[0, 0] + scale))
    k = p + (cov_re.shape[0] * (cov_re.shape[0] + 1)) // 2 + 1
    loglik = fit.loglik
    n_eff = n - p if method == "REML" else n
    return MultilevelResult(
        coefficients=coefficients,
        random=random,
        model=model,
        method=method,
        loglik=loglik,
        aic=-2 * loglik + 2 * k,
        bic=-2 * loglik + math.log(n_eff) * k,
        icc=icc,
        n_cases=n_cases,
        n=n,
        converged=converged,
    )
