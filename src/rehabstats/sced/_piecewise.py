"""Piecewise (segmented) regression of single-case series (scan's ``plm``).

The piecewise regression model of Huitema & McKean (2000) describes an A-B
series with four terms: the intercept, the baseline trend, the change in level
at the start of phase B and the change in slope during phase B. Designs with
more phases get one level and one slope term per phase, each contrasted with
the first phase (scan's ``contrast = "first"``). The three session codings of
scan's ``plm`` are offered (``model``):

* ``"W"``: time = session − first session (the intercept is the level at the
  first session); slope term = time since the phase started, 0 at its first session.
* ``"H-M"`` (Huitema & McKean): time = session; slope term 0 at the phase's first session.
* ``"B&L-B"`` (Beretvas & Chung): time = session; slope term 1 at the phase's first session
  (so the level term is the change one session *before* the phase starts).

The multilevel extension (scan's ``hplm``) is in :mod:`rehabstats.sced._multilevel`,
which shares the design matrix built here.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from .._entry import check_exact_fit
from .._results import Result, format_number
from .._validate import check_option
from ..errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning
from ._common import pow2_unit
from ._data import prepare_sced

__all__ = ["PiecewiseRegressionResult", "piecewise_regression"]

Model = Literal["W", "H-M", "B&L-B"]
MODELS = ("W", "H-M", "B&L-B")


# ---------------------------------------------------------------------------
# design matrix
# ---------------------------------------------------------------------------


def _run_labels(phases: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Label each run of one case; repeated phase labels get occurrence numbers."""
    change = np.r_[True, phases[1:] != phases[:-1]]
    run_id = np.cumsum(change) - 1
    starts = phases[change]
    repeated = len(set(starts)) < len(starts)
    labels: list[str] = []
    seen: dict[str, int] = {}
    for p in starts:
        seen[p] = seen.get(p, 0) + 1
        labels.append(f"{p}{seen[p]}" if repeated else str(p))
    return labels, run_id


def _design(
    sessions: np.ndarray,
    phases: np.ndarray,
    model: str,
    trend: bool = True,
    level: bool = True,
    slope: bool = True,
) -> tuple[np.ndarray, list[str], list[str]]:
    """Design matrix of the piecewise model for one case.

    Returns X, the rehabstats term names and scan's term names.
    """
    mt = sessions - sessions[0] if model == "W" else sessions.copy()
    labels, run_id = _run_labels(phases)
    n_runs = len(labels)
    if n_runs < 2:
        raise DesignError(
            f"The series has only phase {labels[0]!r}; piecewise regression needs "
            "at least two phases."
        )
    cols = [np.ones(mt.size)]
    names, scan_names = ["intercept"], ["(Intercept)"]
    if trend:
        cols.append(mt)
        names.append("trend")
        scan_names.append("mt")
    one_contrast = n_runs == 2
    level_cols, slope_cols = [], []
    for r in range(1, n_runs):
        inside = run_id == r
        level_cols.append(inside.astype(float))
        within = np.zeros(mt.size)
        start = mt[inside][0]
        within[inside] = mt[inside] - start + (1.0 if model == "B&L-B" else 0.0)
        slope_cols.append(within)
    suffix = [""] if one_contrast else [f"_{lab}" for lab in labels[1:]]
    if level:
        cols += level_cols
        names += [f"level{s}" for s in suffix]
        scan_names += [f"phase{lab}" for lab in labels[1:]]
    if slope:
        cols += slope_cols
        names += [f"slope{s}" for s in suffix]
        scan_names += [f"inter{lab}" for lab in labels[1:]]
    return np.column_stack(cols), names, scan_names


# ---------------------------------------------------------------------------
# OLS and GLS with AR(p) errors by maximum likelihood (as nlme::gls, method "ML")
# ---------------------------------------------------------------------------


def _ar_acf(phi: np.ndarray, n: int) -> np.ndarray:
    """Autocorrelations 0..n-1 of a stationary AR(p) process."""
    from statsmodels.tsa.arima_process import arma_acf

    return np.asarray(arma_acf(np.r_[1.0, -phi], np.array([1.0]), lags=n), dtype=float)


def _pacf_to_ar(u: np.ndarray) -> np.ndarray:
    """Durbin-Levinson map from partial autocorrelations in (-1, 1) to AR coefficients."""
    phi = np.zeros(0)
    for k, r in enumerate(u):
        phi = np.r_[phi - r * phi[::-1], r] if k else np.array([r])
    return phi


@dataclass
class _Fit:
    beta: np.ndarray
    cov: np.ndarray
    sigma: float
    loglik: float
    df_resid: int
    rss: float
    phi: np.ndarray
    converged: bool = True


def _gls_profile(y: np.ndarray, x: np.ndarray, phi: np.ndarray) -> tuple[float, _Fit]:
    n, p = x.shape
    if phi.size == 1:
        # AR(1): the Prais-Winsten transform whitens the errors in O(n).
        f = float(phi[0])
        scale = math.sqrt(1.0 - f * f)
        xs = np.vstack([x[:1], (x[1:] - f * x[:-1]) / scale])
        ys = np.r_[y[:1], (y[1:] - f * y[:-1]) / scale]
        logdet = (n - 1) * math.log(1.0 - f * f)
    elif phi.size:
        acf = _ar_acf(phi, n)
        corr = linalg.toeplitz(acf)
        chol = linalg.cholesky(corr, lower=True)
        xs = linalg.solve_triangular(chol, x, lower=True)
        ys = linalg.solve_triangular(chol, y, lower=True)
        logdet = 2.0 * float(np.log(np.diag(chol)).sum())
    else:
        xs, ys, logdet = x, y, 0.0
    q, r = np.linalg.qr(xs)
    beta = linalg.solve_triangular(r, q.T @ ys)
    resid = ys - xs @ beta
    rss = float(resid @ resid)
    sigma2 = rss / n
    loglik = -0.5 * (n * (math.log(2 * math.pi * sigma2) + 1.0) + logdet)
    rinv = linalg.solve_triangular(r, np.eye(p))
    xtx_inv = rinv @ rinv.T
    return loglik, _Fit(beta, xtx_inv, math.sqrt(sigma2), loglik, n - p, rss, phi)


def _fit(y: np.ndarray, x: np.ndarray, ar: int) -> _Fit:
    n, p = x.shape
    if ar == 0:
        _, fit = _gls_profile(y, x, np.zeros(0))
        # OLS: sigma and the covariance use the residual df, as lm().
        s2 = fit.rss / (n - p) if n > p else math.nan
        fit.cov = fit.cov * s2
        fit.sigma = math.sqrt(s2)
        return fit

    # Unconstrained parameters: the partial autocorrelations through tanh, a
    # parametrisation like nlme's corARMA, so the optimum is stationary.
    def negll(theta: np.ndarray) -> float:
        return -_gls_profile(y, x, _pacf_to_ar(np.tanh(theta)))[0]

    if ar == 1:
        one = optimize.minimize_scalar(
            lambda u: negll(np.array([u])),
            bounds=(-12.0, 12.0),
            method="bounded",
            options={"xatol": 1e-10},
        )
        best = optimize.OptimizeResult(
            x=np.array([one.x]), fun=one.fun, success=one.success, jac=np.zeros(1)
        )
    else:
        best = None
        for start in (np.zeros(ar), np.full(ar, 0.3), np.full(ar, -0.3)):
            cand = optimize.minimize(negll, start, method="BFGS", options={"gtol": 1e-9})
            if best is None or cand.fun < best.fun:
                best = cand
    assert best is not None
    _, fit = _gls_profile(y, x, _pacf_to_ar(np.tanh(best.x)))
    # nlme's summary.gls scales Var(beta) by RSS / (n - p) even for ML fits
    # (the reported sigma stays the ML one).
    fit.cov = fit.cov * (fit.rss / (n - p))
    fit.converged = bool(best.success) or bool(np.linalg.norm(best.jac, np.inf) < 1e-4)
    return fit


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PiecewiseRegressionResult(Result):
    """Result of :func:`piecewise_regression`.

    Attributes
    ----------
    coefficients : pandas.DataFrame
        One row per case and term: ``case, term, scan_term, estimate, se, df, t, p,
        ci_low, ci_high``.
    fit : pandas.DataFrame
        One row per case: ``case, n, n_omitted, r2, r2_adj, f, f_df1, f_df2, f_p, sigma,
        loglik, aic, ar`` (the AR coefficients as a tuple).
    model : str
    ar : int
    ci_level : float
    """

    coefficients: pd.DataFrame = field(repr=False)
    fit: pd.DataFrame = field(repr=False)
    model: str
    ar: int
    ci_level: float

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (a copy)."""
        return self.coefficients.copy()

    def summary(self) -> str:
        """The coefficient table and the model fit as text."""
        head = (
            f"Piecewise regression (model {self.model}, "
            f"{'OLS' if self.ar == 0 else f'GLS with AR({self.ar}) errors, ML'})"
        )
        coefs = self.coefficients.drop(columns="scan_term").to_string(
            index=False, float_format=lambda v: format_number(v, 3), na_rep="NA"
        )
        fit = self.fit.to_string(
            index=False, float_format=lambda v: format_number(v, 3), na_rep="NA"
        )
        return f"{head}\n{coefs}\n\n{fit}"


def _check_ci(ci: Any) -> float:
    if isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0 < ci < 1:
        raise DataError(f"'ci' must be a number strictly between 0 and 1; got {ci!r}.")
    return float(ci)


def _check_flag(value: Any, name: str, hint: str = "") -> bool:
    """A True/False option (numbers and strings such as 95 or "yes" are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise DataError(f"'{name}' must be True or False; got {value!r}.{hint}")
    return bool(value)


def piecewise_regression(
    data: pd.DataFrame,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str | None = None,
    model: Model = "W",
    ar: int = 0,
    ci: float = 0.95,
    trend: bool = True,
    level: bool = True,
    slope: bool = True,
) -> PiecewiseRegressionResult:
    r"""Piecewise regression of a single-case series (scan's ``plm``).

    For an A-B series with time :math:`t`, phase dummy :math:`D` (1 in B) and
    time since phase B started :math:`t_B` (0 in A):

    .. math:: y_t = \beta_0 + \beta_1 t + \beta_2 D_t + \beta_3 t_{B,t} + e_t

    (``intercept, trend, level, slope``). Each further phase adds a level and a
    slope term contrasted with the first phase (terms ``level_B1, slope_B1,
    level_A2, ...``; run labels get occurrence numbers when phase labels repeat).
    With ``ar=0`` the errors are independent (OLS, t tests on n − p df, as
    ``lm``); with ``ar=p`` they follow an AR(p) process and the model is fitted by
    maximum likelihood (generalised least squares, as ``nlme::gls(...,
    correlation = corARMA(p = ar), method = "ML")`` inside scan), with t tests on
    n − p df and the ML residual SD in the coefficient covariance.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy long data (not modified); missing outcomes are dropped with a warning.
    outcome, phase, session : str
        Column names.
    case : str, optional
        Case column: each case is fitted separately.
    model : {"W", "H-M", "B&L-B"}
        Session coding (see the module notes), as scan's ``model``.
    ar : int, default 0
        Order of the autoregressive error process.
    ci : float, default 0.95
        Confidence level of the t-based coefficient intervals.
    trend, level, slope : bool
        Include the trend, level and slope terms.

    Returns
    -------
    PiecewiseRegressionResult

    Raises
    ------
    DataError
        Bad option or column.
    DesignError
        A case with one phase, or not more observations than terms.

    Warns
    -----
    ConvergenceWarning
        The AR likelihood maximisation did not converge.

    Notes
    -----
    Time is measured in session units, so gaps in the session numbers are
    respected (the slope term is session − first session of the phase, as scan).
    Missing outcomes are dropped before the model is built.

    References
    ----------
    Huitema, B. E., & McKean, J. W. (2000). Design specification issues in
    time-series intervention models. *Educational and Psychological
    Measurement*, 60(1), 38-58. https://doi.org/10.1177/00131640021970358

    Beretvas, S. N., & Chung, H. (2008). An evaluation of modified R2-change
    effect size indices for single-subject experimental designs. *Evidence-Based
    Communication Assessment and Intervention*, 2(3), 120-128.
    https://doi.org/10.1080/17489530802446328

    Examples
    --------
    >>> import pandas as pd
    >>> from rehabstats.sced import piecewise_regression
    >>> df = pd.DataFrame({"t": range(1, 13), "ph": list("AAAAAABBBBBB"),
    ...                    "y": [3, 4, 3, 5, 4, 5, 8, 9, 9, 10, 11, 11.0]})
    >>> fit = piecewise_regression(df, outcome="y", phase="ph", session="t")
    >>> fit.to_frame()["term"].tolist()
    ['intercept', 'trend', 'level', 'slope']
    """
    model = check_option(model, "model", MODELS)
    if isinstance(ar, bool) or not isinstance(ar, (int, np.integer)) or ar < 0:
        raise DataError(f"'ar' must be a whole number >= 0; got {ar!r}.")
    ci = _check_ci(ci)
    trend = _check_flag(trend, "trend", " It says whether the model has a baseline trend term.")
    level = _check_flag(
        level,
        "level",
        " It says whether the model has level-change terms; "
        "the confidence level is 'ci' (e.g. ci=0.95).",
    )
    slope = _check_flag(slope, "slope", " It says whether the model has slope-change terms.")
    frame = _full_frame(data, outcome, phase, session, case)
    n_omitted_total = int(frame.attrs.get("n_omitted", 0))
    coef_rows: list[dict[str, Any]] = []
    fit_rows: list[dict[str, Any]] = []
    for label, grp in frame.groupby("case", sort=False):
        try:
            x, names, scan_names = _design(
                grp["session"].to_numpy(dtype=float),
                grp["phase"].to_numpy(),
                model,
                trend,
                level,
                slope,
            )
        except DesignError as exc:
            raise DesignError(f"Case {label!r}: {exc} (phase column {phase!r})") from None
        y = grp["outcome"].to_numpy(dtype=float)
        keep = ~np.isnan(y)
        x, y = x[keep], y[keep]
        # The fit is equivariant in the outcome's unit: work in units of a power of two
        # near its largest value (exact), so 1e300 data do not overflow when squared.
        unit = pow2_unit(y)
        y = y / unit
        n, p = x.shape
        if n < p or (ar > 0 and n <= p + ar):
            need = p if ar == 0 else p + ar + 1
            raise DesignError(
                f"Case {label!r} has {n} observations; the model has {p} terms "
                f"and {ar} AR parameter(s), so it needs at least {need}."
            )
        if n == p:
            warnings.warn(
                f"Case {label!r}: as many observations as terms; the fit is exact "
                "and standard errors, t and p are undefined (NaN).",
                RehabStatsWarning,
                stacklevel=2,
            )
        if np.linalg.matrix_rank(x) < p:
            raise DesignError(
                f"Case {label!r}: the design matrix is rank deficient (a phase "
                "with a single observation cannot estimate its slope)."
            )
        if ar > 0:  # no residual: the AR likelihood is unbounded (log of a zero variance)
            check_exact_fit(
                y * unit, x, outcome, model=f"piecewise_regression(ar={int(ar)}) for case {label!r}"
            )
        fit = _fit(y, x, int(ar))
        if not fit.converged:
            warnings.warn(
                f"Case {label!r}: the AR({ar}) maximum likelihood fit did not converge.",
                ConvergenceWarning,
                stacklevel=2,
            )
        se = np.sqrt(np.diag(fit.cov)) * unit
        fit.beta = fit.beta * unit
        df = fit.df_resid
        with np.errstate(divide="ignore", invalid="ignore"):
            t = fit.beta / se
        pval = 2 * stats.t.sf(np.abs(t), df) if df > 0 else np.full(p, math.nan)
        q = stats.t.ppf(0.5 + ci / 2, df) if df > 0 else math.nan
        for j in range(p):
            coef_rows.append(
                {
                    "case": str(label),
                    "term": names[j],
                    "scan_term": scan_names[j],
                    "estimate": fit.beta[j],
                    "se": se[j],
                    "df": float(df),
                    "t": t[j],
                    "p": pval[j],
                    "ci_low": fit.beta[j] - q * se[j],
                    "ci_high": fit.beta[j] + q * se[j],
                }
            )
        fit_rows.append(_fit_stats(str(label), y, x, fit, int(ar), unit))
    coefficients = pd.DataFrame(coef_rows)
    fit_frame = pd.DataFrame(fit_rows)
    fit_frame.attrs["n_omitted"] = n_omitted_total
    return PiecewiseRegressionResult(
        coefficients=coefficients, fit=fit_frame, model=model, ar=int(ar), ci_level=ci
    )


def _full_frame(
    data: pd.DataFrame, outcome: str, phase: str, session: str, case: str | None
) -> pd.DataFrame:
    """The standardised frame with rows of missing outcomes kept (outcome NaN).

    The time codes and phase dummies are built from every scheduled session, so
    a missing first measurement does not move the time origin (as scan does);
    the rows are dropped only when the model is fitted.
    """
    observed = prepare_sced(data, outcome=outcome, phase=phase, session=session, case=case)
    if not observed.attrs.get("n_omitted", 0):
        return observed
    placeholder = data[
        list(dict.fromkeys(c for c in (phase, session, case) if c is not None))
    ].assign(_placeholder_outcome=0.0)
    full = prepare_sced(
        placeholder, outcome="_placeholder_outcome", phase=phase, session=session, case=case
    )
    full = full.drop(columns="outcome").merge(
        observed[["case", "session", "outcome"]], on=["case", "session"], how="left"
    )
    full.attrs["n_omitted"] = observed.attrs["n_omitted"]
    return full


def _fit_stats(
    label: str, y: np.ndarray, x: np.ndarray, fit: _Fit, ar: int, unit: float = 1.0
) -> dict[str, Any]:
    """Fit statistics; ``y`` is in units of ``unit`` (``fit.beta`` in data units)."""
    n, p = x.shape
    resid = y - x @ (fit.beta / unit)
    rss = float(resid @ resid)
    tss = float(((y - y.mean()) ** 2).sum())
    df1, df2 = p - 1, n - p
    r2 = 1 - rss / tss if tss > 0 else math.nan
    r2_adj = 1 - (1 - r2) * (n - 1) / df2 if df1 > 0 and df2 > 0 else math.nan
    f = (r2 / df1) / ((1 - r2) / df2) if df1 > 0 and df2 > 0 and r2 < 1 else math.nan
    f_p = float(stats.f.sf(f, df1, df2)) if math.isfinite(f) else math.nan
    if ar == 0:
        loglik = -0.5 * n * (math.log(2 * math.pi * rss / n) + 1) if rss > 0 else math.inf
    else:
        loglik = fit.loglik
    loglik -= n * math.log(unit)  # the likelihood of y, not of y / unit
    aic = -2 * loglik + 2 * (p + 1 + ar)
    if tss == 0 or (df2 > 0 and not r2 < 1):  # (n == p is announced by the caller)
        what = "the outcome is constant" if tss == 0 else "the model fits every observation"
        warnings.warn(
            f"Case {label!r}: {what}, so R², the F test (and with a perfect fit the "
            "log-likelihood) are undefined (NaN/Inf).",
            RehabStatsWarning,
            stacklevel=3,
        )
    return {
        "case": label,
        "n": n,
        "r2": r2,
        "r2_adj": r2_adj,
        "f": f,
        "f_df1": df1,
        "f_df2": df2,
        "f_p": f_p,
        "sigma": fit.sigma * unit,
        "loglik": loglik,
        "aic": aic,
        "ar": tuple(float(v) for v in fit.phi),
    }
