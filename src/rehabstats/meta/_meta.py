"""Pooling study effects: common-effect and random-effects models as metafor ``rma``."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from .._validate import MAX_MAGNITUDE, check_ci, check_magnitude, check_option, show_value
from ..errors import ConvergenceWarning, DataError, DesignError, RehabStatsWarning
from ._core import METHODS, FitArrays, fit_batch
from ._result import MetaAnalysisResult

__all__ = ["meta_analysis", "meta_analysis_batch"]

_TESTS = ("z", "hksj")
_PREDICTIONS = ("metafor", "higgins")
_CONTROL_DEFAULTS: dict[str, float] = {
    "threshold": 1e-5,
    "maxiter": 100,
    "stepadj": 1.0,
    "tol": float(np.finfo(float).eps) ** 0.25,
}


def _check_method(method: Any) -> str:
    if method == "FE":
        return "EE"
    return str(check_option(method, "method", (*METHODS, "FE")))


def _check_test(test: Any) -> str:
    if test == "knha":
        raise DataError(
            "The 'test' argument must be one of 'z', 'hksj'; got 'knha' "
            "(metafor's name for the Hartung-Knapp-Sidik-Jonkman test is "
            "'hksj' here)."
        )
    return str(check_option(test, "test", _TESTS))


def _check_control(control: Mapping[str, Any] | None) -> dict[str, float]:
    out = dict(_CONTROL_DEFAULTS)
    if control is None:
        return out
    if not isinstance(control, Mapping):
        raise DataError(f"'control' must be a dict; got {type(control).__name__}.")
    for key, value in control.items():
        if key not in out:
            raise DataError(
                f"'control' has an unknown key {key!r}; allowed: {', '.join(map(repr, out))}."
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(float(value))
            or float(value) <= 0
        ):
            raise DataError(f"control[{key!r}] must be a positive number; got {value!r}.")
        out[key] = float(value)
    out["maxiter"] = int(out["maxiter"])
    return out


def _values(arg: str, spec: Any, data: pd.DataFrame | None) -> NDArray[np.float64]:
    if data is not None and isinstance(spec, str):
        if spec not in data.columns:
            raise DataError(
                f"'{arg}': column {spec!r} is not in 'data' (columns: "
                f"{', '.join(map(str, data.columns))})."
            )
        spec = data[spec]
    if isinstance(spec, (str, bytes)):
        raise DataError(f"'{arg}' must be numbers (or a column of 'data'); got {spec!r}.")
    raw = np.asarray(spec)
    if raw.dtype.kind in "fiu" and raw.ndim <= 1:  # fast path for numeric arrays
        return np.atleast_1d(raw.astype(float))
    try:
        arr = np.asarray(
            pd.to_numeric(
                pd.Series(np.atleast_1d(np.asarray(spec, dtype=object)).ravel()), errors="raise"
            ),
            dtype=float,
        )
    except (TypeError, ValueError) as exc:
        raise DataError(f"'{arg}' must be numeric; {exc}.") from None
    if np.ndim(spec) > 1:
        raise DataError(
            f"'{arg}' must be one-dimensional (use meta_analysis_batch for many "
            f"meta-analyses); got shape {np.shape(spec)}."
        )
    return arr


def _check_study_values(
    y: NDArray[np.float64],
    v: NDArray[np.float64],
    labels: Sequence[str] | None = None,
    vname: str = "vi",
) -> None:
    def name(i: int) -> str:
        return f"study {labels[i]!r}" if labels is not None else f"study {i + 1}"

    shown_v = np.sqrt(v) if vname == "se" else v
    for arr, what in ((y, "yi"), (shown_v, vname)):
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"'{what}' is missing or infinite for {name(i)} "
                f"({show_value(arr[i])}); drop the study or supply its value."
            )
    check_magnitude(y, "yi", unit="study", offset=1)
    check_magnitude(v, "vi" if vname == "vi" else "se (squared)", unit="study", offset=1)
    bad = v <= 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"The sampling variance must be > 0 for every study; {name(i)} has "
            f"{vname} = {show_value(shown_v[i])}."
        )
    tiny = v < 1 / MAX_MAGNITUDE
    if tiny.any():
        i = int(np.flatnonzero(tiny)[0])
        raise DataError(
            f"The sampling variance of {name(i)} is {show_value(v[i])} "
            f"({vname} = {show_value(shown_v[i])}); variances below 1e-150 overflow "
            "when inverted and squared in floating point: rescale the effects and "
            "their variances (e.g. other units)."
        )


def _inputs(
    yi: Any, vi: Any, se: Any, data: Any, labels: Any, measure: str | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[str, ...], str | None]:
    if isinstance(yi, pd.DataFrame):  # a study_effects table (or any tidy effect table)
        if data is not None or vi is not None or se is not None:
            raise DataError(
                "Pass a table of study effects as the only positional argument "
                "(not together with 'vi', 'se' or 'data')."
            )
        frame = yi
        if "yi" in frame.columns and ("vi" in frame.columns or "se" in frame.columns):
            y = _values("yi", "yi", frame)
            v = (
                _values("vi", "vi", frame)
                if "vi" in frame.columns
                else _values("se", "se", frame) ** 2
            )
        elif "estimate" in frame.columns and "se" in frame.columns:
            y = _values("estimate", "estimate", frame)
            v = _values("se", "se", frame) ** 2
        else:
            raise DataError(
                "A table passed to meta_analysis needs columns 'yi' and 'vi' (or "
                "'se'), as study_effects returns, or 'estimate' and 'se'; got "
                f"{', '.join(map(str, frame.columns))}."
            )
        if labels is None:
            for col in ("study", "label", "case"):
                if col in frame.columns:
                    labels = frame[col].astype(str).tolist()
                    break
        if measure is None and "measure" in frame.columns and frame["measure"].nunique() == 1:
            measure = str(frame["measure"].iloc[0])
    else:
        if data is not None and not isinstance(data, pd.DataFrame):
            raise DataError(f"'data' must be a pandas DataFrame; got {type(data).__name__}.")
        if yi is None:
            raise DataError("'yi' (the study effect sizes) is required.")
        y = _values("yi", yi, data)
        if (vi is None) == (se is None):
            raise DataError(
                "Give exactly one of 'vi' (sampling variances) or 'se' (standard errors)."
            )
        if vi is not None:
            v = _values("vi", vi, data)
        else:
            s = _values("se", se, data)
            if (s < 0).any():
                i = int(np.flatnonzero(s < 0)[0])
                raise DataError(f"'se' must be >= 0; study {i + 1} has {show_value(s[i])}.")
            check_magnitude(s, "se", limit=1e75, unit="study", offset=1)
            v = s**2
        if data is not None and isinstance(labels, str):
            if labels not in data.columns:
                raise DataError(f"'labels': column {labels!r} is not in 'data'.")
            labels = data[labels].astype(str).tolist()
    vname = "se" if (se is not None and vi is None) else "vi"
    if y.size != v.size:
        raise DataError(f"'yi' has {y.size} values but '{vname}' (the variances) has {v.size}.")
    if y.size == 0:
        where = (
            "'data' has no rows"
            if isinstance(data, pd.DataFrame)
            else f"'yi' and '{vname}' are empty"
        )
        raise DataError(f"There are no studies to pool ({where}).")
    if labels is None:
        labs = tuple(f"Study {i + 1}" for i in range(y.size))
    else:
        if isinstance(labels, str) or len(labels) != y.size:
            raise DataError(f"'labels' must give one label per study ({y.size}).")
        labs = tuple(str(x) for x in labels)
    _check_study_values(y, v, labs, vname)
    return y, v, labs, measure


def meta_analysis(
    yi: Any,
    vi: Any = None,
    *,
    se: Any = None,
    data: pd.DataFrame | None = None,
    method: str = "REML",
    test: str = "z",
    ci: float = 0.95,
    labels: Sequence[str] | str | None = None,
    prediction: str = "metafor",
    measure: str | None = None,
    control: Mapping[str, Any] | None = None,
) -> MetaAnalysisResult:
    r"""Pool study effects by inverse-variance weighting, as metafor's ``rma``.

    Parameters
    ----------
    yi : array_like, str or pandas.DataFrame
        Study effect sizes (log scale for ratios); a column name of ``data``; or
        a table from :func:`study_effects` (columns ``yi``, ``vi``, ``study``,
        ``measure``) or any tidy table with ``estimate`` and ``se`` (e.g. BC-SMD
        results).
    vi, se : array_like or str, optional
        Sampling variances or standard errors (exactly one).
    data : pandas.DataFrame, optional
        Table whose columns ``yi``/``vi``/``se``/``labels`` name.
    method : {"REML", "EE", "FE", "DL", "ML", "PM", "HE", "SJ"}, optional
        ``EE`` (alias ``FE``): common effect, weights 1/v. Random effects with
        weights 1/(v + τ̂²): ``DL`` DerSimonian-Laird, ``REML``/``ML`` (Fisher
        scoring from the Hedges value), ``PM`` Paule-Mandel, ``HE`` Hedges,
        ``SJ`` Sidik-Jonkman. τ̂² is truncated at 0.
    test : {"z", "hksj"}, optional
        Normal test, or Hartung-Knapp-Sidik-Jonkman (metafor ``test="knha"``):
        SE scaled by :math:`\sqrt{\sum w_i (y_i - \hat\mu)^2 / (k-1)}`, t with
        k − 1 df.
    ci : float, optional
        Confidence level of every interval (CI, τ² CI, prediction interval).
    labels : sequence of str or str, optional
        Study labels (or a column of ``data``).
    prediction : {"metafor", "higgins"}, optional
        Prediction interval :math:`\hat\mu \pm c\sqrt{SE^2 + \hat\tau^2}` with
        c from N(0, 1) (t(k − 1) under HKSJ) as metafor's ``predict``, or
        t(k − 2) as Higgins, Thompson & Spiegelhalter (2009) and the Cochrane
        Handbook (NaN for k < 3).
    measure : str, optional
        Name of the effect measure (taken from a :func:`study_effects` table);
        ``ROM``, ``RR`` and ``OR`` enable the ``*_exp`` views.
    control : dict, optional
        metafor's ``control`` settings and defaults: Fisher scoring for REML/ML
        stops when tau² changes by less than ``threshold`` (1e-5) or after
        ``maxiter`` (100) steps, each step multiplied by ``stepadj`` (1); PM and
        the Q-profile limits are found by Brent's method (R's ``uniroot``) to
        ``tol`` (``eps**0.25`` ≈ 1.2e-4, metafor's value; give e.g. 1e-12 for
        the exact roots).

    Returns
    -------
    MetaAnalysisResult
        ``k, estimate, se, ci_low, ci_high, statistic, df, p_value, tau2,
        se_tau2, tau2_ci_low, tau2_ci_high, i2, i2_ci_low, i2_ci_high, h2, q,
        q_df, q_p, pi_low, pi_high, weights`` (percent), with ``.summary()``,
        ``.to_frame()``, ``.studies()``, ``.forest()`` and ``*_exp`` views.

    Raises
    ------
    DataError
        Missing or non-finite effects, non-positive variances, bad options.
    DesignError
        ``test="hksj"`` with one study.

    Warns
    -----
    RehabStatsWarning
        One study (its effect is returned; τ² is not estimable and set to 0);
        HKSJ with two studies (t with 1 df: the interval is very wide); HKSJ with
        the common-effect model.
    ConvergenceWarning
        Fisher scoring did not converge, or converged to a point with a lower
        likelihood than τ² = 0 (then τ² = 0, as metafor).

    Notes
    -----
    Q, I² and H² follow metafor: :math:`Q = \sum (y_i - \hat\mu_{EE})^2/v_i`;
    for ``EE`` :math:`I^2 = 100\max(0, (Q - (k-1))/Q)`, :math:`H^2 = Q/(k-1)`;
    otherwise :math:`I^2 = 100\hat\tau^2/(\hat\tau^2 + \tilde v)`,
    :math:`H^2 = \hat\tau^2/\tilde v + 1`,
    :math:`\tilde v = (k-1)/(\sum w - \sum w^2/\sum w)`. The τ² CI is the
    Q-profile interval (Viechtbauer 2007) searched on [0, max(100, 10 τ̂²)] as
    metafor's ``confint``: an upper limit at that bound is flagged in
    ``notes`` and ``tau2_ci_bounded``. PM and the Q-profile limits are roots
    solved to machine precision; metafor's ``uniroot`` stops within 1.2e-4 of
    the root, so its values can differ in the fourth or fifth digit.
    Differences from metafor: PM's search range grows as needed (metafor stops
    with an error when the root lies above its ``tau2.max``); non-convergence
    warns instead of stopping.

    References
    ----------
    Viechtbauer W (2005). *J Educ Behav Stat* 30:261-293. Viechtbauer W
    (2007). *Stat Med* 26:37-52. IntHout J, Ioannidis JPA, Borm GF (2014).
    *BMC Med Res Methodol* 14:25.

    Examples
    --------
    >>> import rehabstats as rs
    >>> res = rs.meta.meta_analysis([0.2, 0.5, 0.35, -0.1], [0.04, 0.09, 0.05, 0.12],
    ...                             method="DL")
    >>> round(res.estimate, 4), round(res.tau2, 4)
    (0.2595, 0.0)
    """
    method = _check_method(method)
    test = _check_test(test)
    level = check_ci(ci)
    prediction = str(check_option(prediction, "prediction", _PREDICTIONS))
    ctl = _check_control(control)
    y, v, labs, measure = _inputs(yi, vi, se, data, labels, measure)
    k = y.size
    notes: list[str] = []
    if k == 1:
        if test == "hksj":
            raise DesignError(
                "test='hksj' needs at least 2 studies (t with k - 1 = 0 df); got 1 study."
            )
        warnings.warn(
            "Only one study: the pooled result is that study's own estimate; "
            "tau^2 cannot be estimated and is set to 0.",
            RehabStatsWarning,
            stacklevel=2,
        )
        notes.append("k = 1: the study's own estimate; no heterogeneity can be estimated.")
    if method == "EE" and test == "hksj":
        warnings.warn(
            "The Hartung-Knapp-Sidik-Jonkman test is meant for random-effects "
            "models; with method='EE' it rescales the common-effect SE by the "
            "observed dispersion (as metafor, which warns too).",
            RehabStatsWarning,
            stacklevel=2,
        )
    if k == 2 and test == "hksj":
        crit = float(stats.t.isf((1 - level) / 2, 1))
        warnings.warn(
            f"HKSJ with k = 2 studies uses t with 1 df (critical value {crit:.1f}): "
            "the confidence and prediction intervals are very wide by design.",
            RehabStatsWarning,
            stacklevel=2,
        )
        notes.append(f"k = 2 with HKSJ: t(1) critical value {crit:.2f}; very wide interval.")
    if k < 3 and prediction == "higgins":
        notes.append("The Higgins prediction interval needs k >= 3 (t with k - 2 df).")
    fit = fit_batch(
        y[None, :],
        v[None, :],
        method=method,
        test=test,
        ci=level,
        prediction=prediction,
        threshold=ctl["threshold"],
        maxiter=int(ctl["maxiter"]),
        stepadj=ctl["stepadj"],
        tol=ctl["tol"],
    )
    _warn_fit(fit, method, stacklevel=3)
    if test == "hksj" and k > 1 and fit.s2w[0] == 0:
        warnings.warn(_HKSJ_ZERO, RehabStatsWarning, stacklevel=2)
        notes.append("HKSJ scale factor 0 (identical study effects): SE 0, statistic infinite.")
    if fit.reset_to_zero[0]:
        notes.append("Fisher scoring reached a lower likelihood than tau^2 = 0; tau^2 set to 0.")
    if not fit.converged[0]:
        notes.append(f"{method} did not converge in {int(ctl['maxiter'])} iterations.")
    bounded = bool(fit.tau2_ci_bounded[0])
    if bounded:
        notes.append(
            f"The Q-profile upper limit of tau^2 lies above the search bound "
            f"{float(fit.tau2_ci_high[0]):.4g} (metafor's max(100, 10 tau^2)); "
            "tau2_ci_high is that bound."
        )
    return MetaAnalysisResult(
        k=k,
        estimate=float(fit.estimate[0]),
        se=float(fit.se[0]),
        ci_low=float(fit.ci_low[0]),
        ci_high=float(fit.ci_high[0]),
        statistic=float(fit.statistic[0]),
        df=float(fit.df[0]),
        p_value=float(fit.p_value[0]),
        tau2=float(fit.tau2[0]),
        se_tau2=float(fit.se_tau2[0]),
        tau2_ci_low=float(fit.tau2_ci_low[0]),
        tau2_ci_high=float(fit.tau2_ci_high[0]),
        i2=float(fit.i2[0]),
        i2_ci_low=float(fit.i2_ci_low[0]),
        i2_ci_high=float(fit.i2_ci_high[0]),
        h2=float(fit.h2[0]),
        h2_ci_low=float(fit.h2_ci_low[0]),
        h2_ci_high=float(fit.h2_ci_high[0]),
        q=float(fit.q[0]),
        q_df=fit.q_df,
        q_p=float(fit.q_p[0]),
        pi_low=float(fit.pi_low[0]),
        pi_high=float(fit.pi_high[0]),
        weights=fit.weights[0].copy(),
        yi=y,
        vi=v,
        labels=labs,
        method=method,
        test=test,
        ci_level=level,
        prediction=prediction,
        measure=measure,
        converged=bool(fit.converged[0]),
        iterations=int(fit.iterations[0]),
        tau2_ci_bounded=bounded,
        notes=tuple(notes),
    )


_HKSJ_ZERO = (
    "The study effects are identical (weighted residual sum of squares 0), so the "
    "HKSJ scale factor is 0: the SE is 0, the statistic infinite and the confidence "
    "interval has zero width (as metafor's test='knha')."
)


def _warn_fit(fit: FitArrays, method: str, stacklevel: int) -> None:
    n_bad = int((~fit.converged).sum())
    if n_bad:
        warnings.warn(
            f"The {method} Fisher scoring did not converge for {n_bad} "
            f"meta-analys{'is' if n_bad == 1 else 'es'}; the last iterate is "
            "reported (try control={'stepadj': 0.5} or more 'maxiter').",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
    n_reset = int(fit.reset_to_zero.sum())
    if n_reset:
        warnings.warn(
            f"Fisher scoring stopped at a point with a lower likelihood than "
            f"tau^2 = 0 in {n_reset} meta-analys{'is' if n_reset == 1 else 'es'}; "
            "tau^2 set to 0 (as metafor).",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )


#: Columns of :func:`meta_analysis_batch`.
BATCH_COLUMNS: tuple[str, ...] = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "statistic",
    "df",
    "p_value",
    "tau2",
    "se_tau2",
    "tau2_ci_low",
    "tau2_ci_high",
    "i2",
    "i2_ci_low",
    "i2_ci_high",
    "h2",
    "q",
    "q_p",
    "pi_low",
    "pi_high",
    "converged",
)


def meta_analysis_batch(
    yi: Any,
    vi: Any = None,
    *,
    se: Any = None,
    method: str = "REML",
    test: str = "z",
    ci: float = 0.95,
    prediction: str = "metafor",
    tau2_ci: bool = True,
    control: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Fit many meta-analyses of the same size at once (simulation studies).

    Row ``b`` of ``yi`` (shape ``(B, k)``) is one meta-analysis; every
    estimator, test and Q-profile interval is computed for all rows together
    with array operations, giving the numbers :func:`meta_analysis` gives row
    by row.

    Parameters
    ----------
    yi : array_like, shape (B, k)
        Effect sizes, one meta-analysis per row (k >= 2).
    vi, se : array_like, shape (B, k), optional
        Sampling variances or standard errors (exactly one), all > 0.
    method, test, ci, prediction, control
        As in :func:`meta_analysis`.
    tau2_ci : bool, optional
        Compute the Q-profile τ² and I² intervals (the most expensive part).

    Returns
    -------
    pandas.DataFrame
        One row per meta-analysis with columns ``k, method, test`` and
        ``estimate, se, ci_low, ci_high, statistic, df, p_value, tau2,
        se_tau2, tau2_ci_low, tau2_ci_high, i2, i2_ci_low, i2_ci_high, h2, q,
        q_p, pi_low, pi_high, converged``.

    Raises
    ------
    DataError
        Input not two-dimensional, shapes that differ, fewer than 2 studies,
        non-finite values or non-positive variances (the first bad cell is
        named).

    Warns
    -----
    ConvergenceWarning
        Once, counting the meta-analyses whose Fisher scoring did not converge.

    Examples
    --------
    >>> import numpy as np
    >>> import rehabstats as rs
    >>> rng = np.random.default_rng(1)
    >>> vi = rng.uniform(0.02, 0.2, size=(200, 8))
    >>> yi = rng.normal(0.3, np.sqrt(vi + 0.05))
    >>> out = rs.meta.meta_analysis_batch(yi, vi, method="REML", test="hksj")
    >>> out.shape[0], bool((out["tau2"] >= 0).all())
    (200, True)
    """
    method = _check_method(method)
    test = _check_test(test)
    level = check_ci(ci)
    prediction = str(check_option(prediction, "prediction", _PREDICTIONS))
    ctl = _check_control(control)
    y = _as_2d("yi", yi)
    if (vi is None) == (se is None):
        raise DataError("Give exactly one of 'vi' (sampling variances) or 'se'.")
    vname = "vi" if vi is not None else "se"
    v = _as_2d("vi", vi) if vi is not None else _as_2d("se", se)
    if vname == "se":
        if (v < 0).any():
            b, j = (int(x[0]) for x in np.nonzero(v < 0))
            raise DataError(f"'se' must be >= 0; row {b}, study {j} has {show_value(v[b, j])}.")
        check_magnitude(v, "se", limit=1e75)
        v = v**2
    if y.shape != v.shape:
        raise DataError(
            f"'yi' has shape {y.shape} but '{vname}' (the variances) has shape {v.shape}."
        )
    if y.shape[1] < 2:
        raise DataError(f"Each meta-analysis needs at least 2 studies; got k = {y.shape[1]}.")
    for arr, name in ((y, "yi"), (v, vname)):
        bad = ~np.isfinite(arr)
        if bad.any():
            b, j = (int(x[0]) for x in np.nonzero(bad))
            raise DataError(f"'{name}' is missing or infinite at row {b}, study {j}.")
    check_magnitude(y, "yi", unit="value")
    check_magnitude(v, vname, unit="value")
    if (v <= 0).any():
        b, j = (int(x[0]) for x in np.nonzero(v <= 0))
        raise DataError(
            f"The sampling variances '{vname}' must be > 0; row {b}, study {j} "
            f"has {show_value(v[b, j])}."
        )
    if (v < 1 / MAX_MAGNITUDE).any():
        b, j = (int(x[0]) for x in np.nonzero(v < 1 / MAX_MAGNITUDE))
        raise DataError(
            f"The sampling variances '{vname}' must be at least 1e-150 (smaller "
            f"ones overflow when inverted and squared); row {b}, study {j} has "
            f"variance {show_value(v[b, j])}: rescale the effects (e.g. other units)."
        )
    fit = fit_batch(
        y,
        v,
        method=method,
        test=test,
        ci=level,
        prediction=prediction,
        threshold=ctl["threshold"],
        maxiter=int(ctl["maxiter"]),
        stepadj=ctl["stepadj"],
        tol=ctl["tol"],
        tau2_ci=bool(tau2_ci),
    )
    _warn_fit(fit, method, stacklevel=3)
    n_zero = int((np.asarray(fit.s2w) == 0).sum()) if test == "hksj" else 0
    if n_zero:
        warnings.warn(
            f"{n_zero} meta-analys{'is' if n_zero == 1 else 'es'}: " + _HKSJ_ZERO,
            RehabStatsWarning,
            stacklevel=2,
        )
    out = pd.DataFrame({c: getattr(fit, c) for c in BATCH_COLUMNS})
    out.insert(0, "test", test)
    out.insert(0, "method", method)
    out.insert(0, "k", fit.k)
    return out


def _as_2d(name: str, values: Any) -> NDArray[np.float64]:
    if isinstance(values, pd.DataFrame):
        values = values.to_numpy()
    try:
        arr = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"'{name}' must be a 2-D array of numbers.") from None
    if arr.ndim != 2:
        raise DataError(
            f"'{name}' must be two-dimensional (meta-analyses x studies); got shape {arr.shape}."
        )
    return arr
