"""Design-comparable (between-case) SMD by REML: ``rs.sced.bc_smd``.

The estimator of Pustejovsky, Hedges & Shadish (2014), as computed by R's
scdhlm ``calc_BCSMD`` (with lmeInfo's ``g_mlm``): a hierarchical linear model
is fitted by restricted maximum likelihood and the treatment effect at time
``B`` after a treatment start at time ``A`` is scaled by the total variance
(between-case plus within-case) of the baseline at ``B``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._blas import single_thread_blas
from .._results import Result, format_number
from .._validate import check_ci, check_option
from ..errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning
from ._bcsmd_data import SCDData, prepare_bcsmd_data
from ._bcsmd_reml import REMLFit, REMLModel, upper_pairs

__all__ = ["BCSMDResult", "bc_smd", "j_correction"]

Design = Literal["MBP", "TR", "RMBB", "CMB"]
Powers = int | Sequence[int] | None


def j_correction(nu: float) -> float:
    """Hedges' small-sample correction ``J(nu) = 1 - 3 / (4 nu - 1)``."""
    return 1.0 - 3.0 / (4.0 * nu - 1.0)


def g_variance(g: float, kappa: float, nu: float) -> float:
    """Sampling variance of the corrected SMD (Pustejovsky et al. 2014, eq. 12).

    ``J^2 (nu kappa^2 / (nu - 2) + g^2 (nu / (nu - 2) - 1 / J^2))`` with ``nu``
    truncated below at 2.001 inside the bracket, as scdhlm/lmeInfo do.
    """
    jn = j_correction(nu)
    nt = max(nu, 2.001)
    jt = j_correction(nt)
    return jn**2 * (nt * kappa**2 / (nt - 2.0) + g**2 * (nt / (nt - 2.0) - 1.0 / jt**2))


@dataclass(frozen=True)
class BCSMDResult(Result):
    """Design-comparable SMD from a REML fit (:func:`bc_smd`).

    Attributes
    ----------
    estimate : float
        ``g_AB``, the small-sample corrected design-comparable SMD.
    se, variance : float
        Its standard error and sampling variance.
    ci_low, ci_high, ci_level : float
        Symmetric interval ``g +/- t(nu) se`` (scdhlm's default).
    df : float
        ``nu``, the degrees of freedom of the denominator variance.
    delta_unadjusted, kappa, j_nu : float
        ``delta_AB`` before correction, the scaled SE of the numerator and ``J(nu)``.
    phi, var_param, rho, rho_level3 : float
        Auto-correlation (MA coefficient for MA1; NaN for IID), the treatment/baseline
        error SD ratio (NaN for ``var_struct="hom"``), the intra-class correlation
        (for nested designs the level-2 share, outer plus inner intercept variance)
        and, for nested designs, the outer-level share.
    a, b : float
        Treatment start and outcome time of the hypothetical between-group design
        (NaN for treatment reversals).
    converged : bool
        Whether the REML optimisation converged.
    fixed_effects, fixed_se : pandas.Series
        Fixed effects (nlme's term names) and their standard errors.
    variance_components : pandas.Series
        All covariance parameters in lmeInfo's order (Tau elements, correlation,
        variance ratio, ``sigma_sq``).
    info_inv : pandas.DataFrame
        Inverse expected REML information of the covariance parameters.
    sigma_sq : float
        Baseline within-case error variance.
    loglik : float
        Restricted log-likelihood (nlme's ``logLik``).
    p_const, r_const : tuple of float
        The constants defining the numerator ``p'beta`` and denominator ``r'theta``.
    """

    estimate: float
    se: float
    variance: float
    ci_low: float
    ci_high: float
    ci_level: float
    df: float
    delta_unadjusted: float
    kappa: float
    j_nu: float
    phi: float
    var_param: float
    rho: float
    rho_level3: float
    a: float
    b: float
    converged: bool
    design: str
    sigma_sq: float
    loglik: float
    n_obs: int
    n_cases: int
    n_omitted: int
    fixed_effects: pd.Series = field(repr=False)
    fixed_se: pd.Series = field(repr=False)
    variance_components: pd.Series = field(repr=False)
    info_inv: pd.DataFrame = field(repr=False)
    p_const: tuple[float, ...] = ()
    r_const: tuple[float, ...] = ()
    message: str = ""

    @property
    def ci(self) -> tuple[float, float]:
        """The confidence interval as ``(low, high)``."""
        return (self.ci_low, self.ci_high)

    def to_frame(self) -> pd.DataFrame:
        """One row: ``measure, estimate, se, variance, ci_low, ci_high, ci_level, df,
        phi, rho, a, b, converged, n_obs, n_cases``.

        ``estimate`` and ``variance`` (or ``se``) are what
        :func:`rehabstats.meta.meta_analysis` takes as ``yi`` and ``vi``.
        """
        return pd.DataFrame(
            [
                {
                    "measure": "bc_smd",
                    "estimate": self.estimate,
                    "se": self.se,
                    "variance": self.variance,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "ci_level": self.ci_level,
                    "df": self.df,
                    "phi": self.phi,
                    "rho": self.rho,
                    "a": self.a,
                    "b": self.b,
                    "converged": self.converged,
                    "n_obs": self.n_obs,
                    "n_cases": self.n_cases,
                }
            ]
        )

    def summary(self) -> str:
        """One line, e.g. ``BC-SMD g_AB = 1.405 (SE 0.286) [95% CI 0.805, 2.005]; df 18.6 ...``."""
        pct = format_number(100 * self.ci_level, 0 if (100 * self.ci_level).is_integer() else 1)
        text = (
            f"BC-SMD g_AB = {format_number(self.estimate)} (SE {format_number(self.se)}) "
            f"[{pct}% CI {format_number(self.ci_low)}, {format_number(self.ci_high)}]; "
            f"df {format_number(self.df, 1)}, phi {format_number(self.phi)}, "
            f"rho {format_number(self.rho)}"
        )
        if not math.isnan(self.a):
            text += f", A = {format_number(self.a)}, B = {format_number(self.b)}"
        if not self.converged:
            text += " (REML did not converge)"
        return text

    def __repr__(self) -> str:
        return f"<BCSMDResult {self.summary()}>"


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------


def _powers(value: Any, name: str, allow_none: bool) -> tuple[int, ...]:
    """Normalise a set of polynomial powers (``0`` = level, ``1`` = linear trend, ...)."""
    if value is None:
        if allow_none:
            return ()
        raise DataError(
            f"The '{name}' argument must be a non-negative integer or a sequence "
            "of them (0 = level, 1 = linear trend); got None."
        )
    vals = [value] if isinstance(value, numbers.Number) else value
    try:
        vals = list(vals)
    except TypeError:
        vals = [value]
    out = []
    for v in vals:
        fv = float(v) if isinstance(v, numbers.Real) and not isinstance(v, bool) else math.nan
        if not math.isfinite(fv) or fv != round(fv) or fv < 0:
            raise DataError(
                f"The '{name}' argument must hold non-negative integers (0 = level, "
                f"1 = linear trend, ...); got {value!r}."
            )
        out.append(round(fv))
    if not out and not allow_none:
        raise DataError(f"The '{name}' argument must not be empty.")
    return tuple(sorted(set(out)))


def _terms(
    powers: tuple[int, ...],
    level: str | None,
    var: str,
    time: np.ndarray,
    indicator: np.ndarray | None,
) -> tuple[list[str], list[np.ndarray]]:
    """Columns of scdhlm's ``write_formula``: a level term if 0 is in ``powers``,
    then ``I(var^k)`` for each other power.
    """
    names: list[str] = []
    cols: list[np.ndarray] = []
    if 0 in powers and level is not None:
        names.append(level)
        cols.append(np.ones_like(time) if indicator is None else indicator)
    for k in powers:
        if k:
            names.append(f"I({var}^{k})")
            cols.append(time.astype(float) ** k)
    return names, cols


def _real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise DataError(f"The '{name}' argument must be a finite number; got {value!r}.")
    return float(value)


def default_times(d: SCDData) -> tuple[float, float]:
    """Scdhlm's ``default_times``: A = the earliest last baseline session; B = A plus the
    shortest treatment span among the cases whose baseline ends at A.
    """
    units = d.unit
    n_units = int(units.max()) + 1
    base = d.trt == 0
    base_last = np.full(n_units, -np.inf)
    np.maximum.at(base_last, units[base], d.session[base])
    tr = ~base
    t_min = np.full(n_units, np.inf)
    t_max = np.full(n_units, -np.inf)
    np.minimum.at(t_min, units[tr], d.session[tr])
    np.maximum.at(t_max, units[tr], d.session[tr])
    span = t_max - t_min + 1.0
    a = float(base_last.min())
    at_a = (base_last == a) & np.isfinite(span)
    if not at_a.any():
        raise DesignError(
            f"The default times cannot be set: the case(s) whose baseline ends first (at "
            f"session {a:g}) are never treated; give 'a' and 'b' explicitly."
        )
    b = a + float(span[at_a].min())
    return a, b


# ---------------------------------------------------------------------------
# main function
# ---------------------------------------------------------------------------


def bc_smd(
    data: pd.DataFrame,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str,
    design: Design = "MBP",
    fe_base: Powers = 0,
    re_base: Powers = 0,
    fe_trt: Powers = 0,
    re_trt: Powers = None,
    cor_struct: Literal["AR1", "MA1", "IID"] = "AR1",
    var_struct: Literal["hom", "het"] = "hom",
    center: float = 0,
    a: float | None = None,
    b: float | None = None,
    series: str | None = None,
    cluster: str | None = None,
    treatment_phase: Any = "B",
    ci: float = 0.95,
    re_base_2: Powers = 0,
    re_trt_2: Powers = None,
) -> BCSMDResult:
    r"""Design-comparable standardized mean difference by REML (scdhlm's ``calc_BCSMD``).

    Fits the hierarchical linear model of Pustejovsky, Hedges & Shadish (2014)
    by restricted maximum likelihood and returns the between-case SMD

    .. math::

        \delta_{AB} = \frac{p'\beta}{\sqrt{r'\theta}}, \qquad
        g_{AB} = J(\nu)\,\delta_{AB}, \qquad J(\nu) = 1 - \frac{3}{4\nu - 1},

    where :math:`p'\beta` is the treatment effect at time ``B`` for a
    treatment that starts after time ``A`` (``p = (0, ..., 0, (B-A)^k ...)``
    over the ``fe_trt`` powers) and :math:`r'\theta` the baseline variance at
    time ``B``: between-case variance of the baseline terms evaluated at
    ``B - center`` plus the within-case variance :math:`\sigma^2`. The degrees
    of freedom are :math:`\nu = 2 (r'\theta)^2 / (r' I^{-1} r)` with
    :math:`I` the expected REML information of :math:`\theta`; the variance is
    :math:`J^2 [\nu\kappa^2/(\nu-2) + g^2 (\nu/(\nu-2) - 1/J^2)]` with
    :math:`\kappa^2 = p' \mathrm{Var}(\hat\beta) p / r'\theta`; the interval
    is :math:`g \pm t_{\nu} SE` (Pustejovsky et al. 2014, eqs. 9-13).

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy long data, one row per measurement occasion (not modified).
    outcome, phase, session, case : str
        Column names. ``phase`` must hold exactly two labels: ``treatment_phase``
        and the baseline label. Sessions are rounded to integers (as scdhlm does);
        they set the AR(1)/MA(1) lags, so gaps are honoured.
    design : {"MBP", "TR", "RMBB", "CMB"}
        Multiple baseline/probe across participants, treatment reversal (ABAB),
        replicated multiple baseline across behaviours (``series`` within
        ``case``), clustered multiple baseline (``case`` within ``cluster``).
    fe_base, re_base : int or sequence of int
        Powers of (centred) session in the baseline fixed and random effects:
        ``0`` a level only, ``(0, 1)`` level and linear trend.
    fe_trt, re_trt : int, sequence of int or None
        Powers of the session-by-treatment term: ``0`` a change in level,
        ``(0, 1)`` a change in level and in slope. ``re_trt=None``: no random
        treatment effects.
    cor_struct : {"AR1", "MA1", "IID"}
        Within-case error correlation.
    var_struct : {"hom", "het"}
        Same error variance in both phases, or one per phase (``var_param`` is
        the treatment/baseline SD ratio).
    center : float
        Session value subtracted before forming trends (``B - center`` enters ``r``).
    a, b : float, optional
        Times ``A`` and ``B``; by default scdhlm's defaults (the last baseline
        session of the case treated first, and that plus its treatment span).
    series, cluster : str, optional
        The series column (RMBB) or cluster column (CMB).
    treatment_phase : str
        Label of the treatment phase.
    ci : float
        Confidence level.
    re_base_2, re_trt_2 : int, sequence of int or None
        Random effects of the outer level (case in RMBB, cluster in CMB);
        scdhlm's ``RE_base_2``/``RE_trt_2``. Ignored for MBP and TR.

    Returns
    -------
    BCSMDResult

    Raises
    ------
    DataError
        Missing or non-numeric columns, repeated sessions, bad arguments.
    DesignError
        Fewer than two cases (or clusters), a case without both phases, a
        treatment label absent from the data, a phase column with other than
        two labels, non-default effects for a treatment reversal.

    Warns
    -----
    ConvergenceWarning
        The REML optimisation did not converge (``converged`` is False).
    RehabStatsWarning
        Missing outcomes were dropped or non-integer sessions rounded.

    Notes
    -----
    The REML fit is this package's own (Fisher scoring with exact gradient and
    expected information, see ``_bcsmd_reml``); it reproduces nlme's ``lme``
    fits used by scdhlm 0.7.4 to at least 1e-5 where nlme converged, and the
    information matrix equals lmeInfo 0.3.2's ``Fisher_info(type = "expected")``.

    With ``var_struct="het"`` the reference variance :math:`\sigma^2` (the one in
    :math:`r'\theta`) is always the baseline phase's. nlme's ``varIdent`` takes
    the phase of the first row of the first case instead, so scdhlm differs for
    designs that start in the treatment phase (e.g. B-A-B); elsewhere they agree.
    For nested designs ``rho`` is the level-2 share (scdhlm prints both shares
    as text; ``rho_level3`` is the outer one). A case that is never treated is
    kept as a control case (as in scdhlm).

    References
    ----------
    Pustejovsky, J. E., Hedges, L. V., & Shadish, W. R. (2014). Design-comparable
    effect sizes in multiple baseline designs. *Journal of Educational and
    Behavioral Statistics*, 39(5), 368-393. doi:10.3102/1076998614547577

    Examples
    --------
    >>> import pandas as pd
    >>> import rehabstats as rs
    >>> rows = []
    >>> for i, start in enumerate([4, 6, 8]):
    ...     for t in range(1, 15):
    ...         y = 10 + i + (5 if t > start else 0) + [0.3, -0.6, 0.9, -0.2, 0.5][t % 5]
    ...         rows.append({"case": f"P{i + 1}", "t": t, "ph": "B" if t > start else "A", "y": y})
    >>> res = rs.sced.bc_smd(pd.DataFrame(rows), outcome="y", phase="ph", session="t",
    ...                      case="case")
    >>> res.a, res.b
    (4.0, 14.0)
    >>> round(res.estimate, 1) > 3
    True
    """
    spec = _build(
        data,
        outcome=outcome,
        phase=phase,
        session=session,
        case=case,
        design=design,
        fe_base=fe_base,
        re_base=re_base,
        fe_trt=fe_trt,
        re_trt=re_trt,
        cor_struct=cor_struct,
        var_struct=var_struct,
        center=center,
        a=a,
        b=b,
        series=series,
        cluster=cluster,
        treatment_phase=treatment_phase,
        ci=ci,
        re_base_2=re_base_2,
        re_trt_2=re_trt_2,
    )
    model = spec["model"]
    design, ci, center, var_struct = spec["design"], spec["ci"], spec["center"], spec["var_struct"]
    a_val, b_val, re_powers = spec["a"], spec["b"], spec["re_powers"]
    try:
        with single_thread_blas():
            fit = model.fit()
    except np.linalg.LinAlgError as exc:  # pragma: no cover - defensive
        raise DesignError(f"The model cannot be fitted to these data ({exc}).") from exc
    if not fit.converged:
        warnings.warn(
            f"The REML fit of the BC-SMD model did not converge "
            f"({fit.message or 'iteration limit'}); results may be unreliable.",
            ConvergenceWarning,
            stacklevel=2,
        )

    # r_const: baseline variance at time B, in lmeInfo's parameter order
    r_const: list[float] = []
    for powers_base, powers_trt in re_powers:
        bc = np.array([(b_val - center) ** k if design != "TR" else 1.0 for k in powers_base])
        bc_mat = 2.0 * np.outer(bc, bc) - np.diag(bc**2)
        q = len(powers_base) + len(powers_trt)
        consts = np.zeros(q * (q + 1) // 2)
        for e, (i, j) in enumerate(upper_pairs(q)):
            if j < len(powers_base):
                consts[e] = bc_mat[i, j]
        r_const.extend(consts.tolist())
    r_const.extend([0.0] * model.n_cor + [0.0] * int(var_struct == "het") + [1.0])
    return _g_mlm(
        fit,
        model,
        np.array(spec["p_const"]),
        np.array(r_const),
        spec["x_names"],
        spec["z_names"],
        spec["level_names"],
        design,
        ci,
        a_val,
        b_val,
        spec["data"],
        var_struct == "het",
    )


def _build(
    data: pd.DataFrame,
    *,
    outcome: str,
    phase: str,
    session: str,
    case: str,
    design: Any,
    fe_base: Powers,
    re_base: Powers,
    fe_trt: Powers,
    re_trt: Powers,
    cor_struct: Any,
    var_struct: Any,
    center: Any,
    a: Any,
    b: Any,
    series: str | None,
    cluster: str | None,
    treatment_phase: Any,
    ci: Any,
    re_base_2: Powers,
    re_trt_2: Powers,
) -> dict[str, Any]:
    """Check the arguments and data and set up the model of :func:`bc_smd` (unfitted)."""
    design = check_option(design, "design", ("MBP", "TR", "RMBB", "CMB"))
    cor_struct = check_option(cor_struct, "cor_struct", ("AR1", "MA1", "IID"))
    var_struct = check_option(var_struct, "var_struct", ("hom", "het"))
    ci = check_ci(ci)
    center = _real(center, "center")
    fb = _powers(fe_base, "fe_base", allow_none=True)
    rb = _powers(re_base, "re_base", allow_none=True)
    ft = _powers(fe_trt, "fe_trt", allow_none=True)
    rt = _powers(re_trt, "re_trt", allow_none=True)
    rb2 = _powers(re_base_2, "re_base_2", allow_none=True)
    rt2 = _powers(re_trt_2, "re_trt_2", allow_none=True)
    if design == "RMBB" and series is None:
        raise DesignError(
            "design='RMBB' needs 'series', the column naming each case's data series."
        )
    if design == "CMB" and cluster is None:
        raise DesignError(
            "design='CMB' needs 'cluster', the column naming the cluster of each case."
        )
    if design != "RMBB" and series is not None:
        raise DesignError(f"'series' is only used with design='RMBB'; got design={design!r}.")
    if design != "CMB" and cluster is not None:
        raise DesignError(f"'cluster' is only used with design='CMB'; got design={design!r}.")
    if design == "TR":
        if fb != (0,) or rb != (0,) or ft != (0,) or rt not in ((), (0,)):
            raise DesignError(
                "design='TR' (treatment reversal) supports only the level model: "
                "fe_base=0, re_base=0, fe_trt=0 and re_trt=None or 0."
            )
        if a is not None or b is not None:
            raise DesignError("'a' and 'b' do not apply to design='TR' (no time trends).")
    nested = design in ("RMBB", "CMB")
    if nested and not rb2 and not rt2:
        raise DesignError(
            f"design={design!r} needs random effects at the outer level "
            "('re_base_2', e.g. 0 for random intercepts)."
        )
    if not rb and not rt:
        raise DesignError("At least one random effect is needed ('re_base' or 're_trt').")
    if not fb and not ft:
        raise DesignError("At least one fixed effect is needed ('fe_base' or 'fe_trt').")
    if not ft:
        raise DesignError("'fe_trt' must include a treatment term (0 = change in level).")

    d = prepare_bcsmd_data(
        data,
        outcome=outcome,
        phase=phase,
        session=session,
        case=case,
        treatment_phase=treatment_phase,
        series=series,
        cluster=cluster,
        allow_untreated=design != "TR",
    )
    s_int = np.round(d.session)
    if np.any(s_int != d.session):
        warnings.warn(
            f"Column {session!r} has non-integer sessions; they were rounded to "
            "integers (as scdhlm does) for the trends and the correlation lags.",
            RehabStatsWarning,
            stacklevel=3,
        )
    n_units = int(d.unit.max()) + 1
    first_trt = np.full(n_units, np.inf)
    np.minimum.at(first_trt, d.unit[d.trt == 1], s_int[d.trt == 1])
    session_trt = np.maximum(0.0, s_int - first_trt[d.unit] + 1.0)
    if design == "TR":
        a_val = b_val = math.nan
    else:
        a_def, b_def = default_times(d)
        a_val = a_def if a is None else _real(a, "a")
        b_val = b_def if b is None else _real(b, "b")

    keep = d.keep
    y = d.outcome[keep]
    trt = d.trt[keep]
    s_c = (s_int - center)[keep]
    s_t = session_trt[keep]
    if design == "TR":
        x_names, x_cols = ["(Intercept)", "trt"], [np.ones_like(y), trt]
        z_names_in, z_cols_in = _terms((0,), "(Intercept)", "session", s_c, None)
        if rt:
            z_names_in.append("trt")
            z_cols_in.append(trt)
        p_const = [0.0, 1.0]
    else:
        n1, c1 = _terms(fb, "(Intercept)", "session", s_c, None)
        n2, c2 = _terms(ft, "trt", "session_trt", s_t, trt)
        x_names, x_cols = n1 + n2, c1 + c2
        n3, c3 = _terms(rb, "(Intercept)", "session", s_c, None)
        n4, c4 = _terms(rt, "trt", "session_trt", s_t, trt)
        z_names_in, z_cols_in = n3 + n4, c3 + c4
        p_const = [0.0] * len(fb) + [float((b_val - a_val) ** k) for k in ft]
    x = np.column_stack(x_cols)
    z_levels = [np.column_stack(z_cols_in)]
    level_names = {
        "MBP": ["case"],
        "TR": ["case"],
        "RMBB": ["case", "series"],
        "CMB": ["cluster", "case"],
    }[design]
    z_names = [z_names_in]
    re_powers = [(rb, rt)]
    if nested:
        n5, c5 = _terms(rb2, "(Intercept)", "session", s_c, None)
        n6, c6 = _terms(rt2, "trt", "session_trt", s_t, trt)
        z_levels.insert(0, np.column_stack(c5 + c6))
        z_names.insert(0, n5 + n6)
        re_powers.insert(0, (rb2, rt2))
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise DesignError(
            f"The fixed effects {', '.join(x_names)} are collinear in these data; "
            "simplify 'fe_base'/'fe_trt'."
        )

    model = REMLModel(
        y,
        x,
        d.top[keep],
        d.unit[keep],
        s_int[keep].astype(np.int64),
        trt,
        z_levels,
        cor_struct,
        var_struct == "het",
    )
    return {
        "model": model,
        "x_names": x_names,
        "z_names": z_names,
        "level_names": level_names,
        "re_powers": re_powers,
        "p_const": p_const,
        "design": design,
        "ci": ci,
        "center": center,
        "var_struct": var_struct,
        "a": a_val,
        "b": b_val,
        "data": d,
    }


def _g_mlm(
    fit: REMLFit,
    model: REMLModel,
    p_const: np.ndarray,
    r_const: np.ndarray,
    x_names: list[str],
    z_names: list[list[str]],
    level_names: list[str],
    design: str,
    ci: float,
    a_val: float,
    b_val: float,
    d: SCDData,
    het: bool,
) -> BCSMDResult:
    """LmeInfo's ``g_mlm`` on a fitted model."""
    theta = fit.theta
    p_beta = float(p_const @ fit.beta)
    r_theta = float(r_const @ theta)
    delta = p_beta / math.sqrt(r_theta) if r_theta > 0 else math.nan
    kappa_sq = float(p_const @ fit.vcov_beta @ p_const) / r_theta
    try:
        chol = np.linalg.cholesky(fit.info)
        info_inv = np.linalg.inv(chol).T @ np.linalg.inv(chol)
        nu = 2.0 * r_theta**2 / float(r_const @ info_inv @ r_const)
    except np.linalg.LinAlgError:
        info_inv = np.full_like(fit.info, np.nan)
        nu = math.nan
        warnings.warn(
            "The information matrix of the variance components is singular; "
            "the degrees of freedom are not available.",
            ConvergenceWarning,
            stacklevel=3,
        )
    jn = j_correction(nu)
    g = jn * delta
    var_g = g_variance(g, math.sqrt(kappa_sq), nu)
    se = math.sqrt(var_g) if var_g >= 0 else math.nan
    q = float(stats.t.ppf(1 - (1 - ci) / 2, nu)) if nu > 0 else math.nan
    names: list[str] = []
    for lev, zn in zip(level_names, z_names, strict=True):
        for i, j in upper_pairs(len(zn)):
            names.append(f"Tau.{lev}.var({zn[i]})" if i == j else f"Tau.{lev}.cov({zn[j]},{zn[i]})")
    if model.n_cor:
        names.append("cor_params")
    if het:
        names.append("var_params")
    names.append("sigma_sq")
    inner = fit.taus[-1][0, 0]
    if len(fit.taus) == 2:
        outer = fit.taus[0][0, 0]
        total = outer + inner + fit.sigma_sq
        rho, rho3 = (outer + inner) / total, outer / total
    else:
        rho, rho3 = inner / (inner + fit.sigma_sq), math.nan
    return BCSMDResult(
        estimate=g,
        se=se,
        variance=var_g,
        ci_low=g - q * se,
        ci_high=g + q * se,
        ci_level=ci,
        df=nu,
        delta_unadjusted=delta,
        kappa=math.sqrt(kappa_sq),
        j_nu=jn,
        phi=fit.phi,
        var_param=fit.delta,
        rho=float(rho),
        rho_level3=float(rho3),
        a=a_val,
        b=b_val,
        converged=fit.converged,
        design=design,
        sigma_sq=fit.sigma_sq,
        loglik=fit.loglik,
        n_obs=int(model.n),
        n_cases=len(d.top_labels) if design == "RMBB" else len(d.unit_labels),
        n_omitted=d.n_omitted,
        fixed_effects=pd.Series(fit.beta, index=x_names),
        fixed_se=pd.Series(np.sqrt(np.diag(fit.vcov_beta)), index=x_names),
        variance_components=pd.Series(theta, index=names),
        info_inv=pd.DataFrame(info_inv, index=names, columns=names),
        p_const=tuple(float(v) for v in p_const),
        r_const=tuple(float(v) for v in r_const),
        message=fit.message,
    )
