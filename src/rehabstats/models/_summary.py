"""The model-specific part of ``summary()``: what R's ``summary()`` prints beyond the tables.

For each model the sample (subjects, observations, rows omitted), how it was fitted
(covariance structure, REML/ML, convergence), which AIC/BIC convention the fit statistics
follow (packages differ: see docs/differences.md), and the variance parameters (the
estimated covariance matrix of an MMRM, lme4's random-effects table of an LMM, the
residual SD of an ANCOVA).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._results import format_number

__all__ = ["summary_details"]


def _fmt(v: float) -> str:
    return format_number(v, 3)


def _sample(fit: Any) -> str:
    text = f"observations = {fit.nobs}"
    n_sub = getattr(fit, "n_subjects", None)
    if n_sub is not None:
        text = f"subjects = {n_sub}; " + text
    omitted = int(getattr(fit, "n_omitted", 0) or 0)
    if omitted:
        text += f" ({omitted} row(s) with a missing value omitted)"
    return text


def _mmrm(fit: Any) -> list[str]:
    info = fit.optimizer_info
    k = len(fit.theta)
    state = (
        f"converged ({info.method}, {info.n_iterations} iterations, "
        f"max|gradient| = {info.max_abs_gradient:.1e})"
        if fit.converged
        else f"NOT converged ({info.message}; max|gradient| = {info.max_abs_gradient:.1e})"
    )
    k_aic = k if fit.reml else k + len(fit.beta)
    what = "covariance parameters" if fit.reml else "covariance parameters + fixed effects"
    levels = getattr(fit, "group_levels", None)
    groups = (
        f" ({len(levels)} groups of {fit.group_name!r}: {k // len(levels)} each)"
        if levels is not None
        else ""
    )
    weights = getattr(fit, "weights_name", None)
    vc = getattr(fit, "vcov_type", None)
    sandwich = (
        [
            f'fixed-effects covariance: {vc} (sandwich, as mmrm\'s vcov = "{vc.title()}")'
            + (
                "; Satterthwaite df: Bell & McCaffrey (2002)"
                if "satterthwaite" in fit.df_methods
                else ""
            )
        ]
        if vc
        else []
    )
    out = [
        _sample(fit),
        f"covariance: {fit.covariance}, {k} parameters{groups}; "
        f"{'REML' if fit.reml else 'ML'}; {state}",
        *([f"weights: {weights!r} (Var(y_ij) = Sigma[j, j] / w_ij)"] if weights else []),
        f"AIC/BIC as R mmrm: k = {k_aic} {what}, BIC with log({fit.n_subjects} subjects)",
        *sandwich,
        "",
        "Estimated covariance matrix (visit x visit):",
    ]
    cov = fit.covariance_matrix
    if levels is None:
        return [*out, cov.to_string(float_format=_fmt)]
    for lv in levels:
        out += [f"Group: {lv}", cov.loc[lv].to_string(float_format=_fmt)]
    return out


def _lmm(fit: Any) -> list[str]:
    comp = fit.variance_components
    rows = []
    for r in comp.itertuples(index=False):
        if pd.isna(r.var2):  # a variance
            rows.append(
                (
                    r.group,
                    "" if pd.isna(r.var1) else r.var1,
                    _fmt(r.variance_or_cov),
                    _fmt(r.sd_or_cor),
                    "",
                )
            )
        else:  # a correlation between two random effects: lme4 prints it beside the SD
            rows.append((r.group, f"cor({r.var1}, {r.var2})", "", "", _fmt(r.sd_or_cor)))
    width = [
        max(len(str(x[i])) for x in [("Groups", "Name", "Variance", "Std.Dev.", "Corr"), *rows])
        for i in range(5)
    ]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, width, strict=True)).rstrip()

    k_aic = len(fit.beta) + len(fit.theta) + 1
    state = "converged" if fit.converged else "NOT converged"
    if getattr(fit, "gradient_norm", None) is not None and np.isfinite(fit.gradient_norm):
        state += f" (|gradient| = {fit.gradient_norm:.1e})"
    out = [
        _sample(fit),
        f"random effects: {fit.random} | {fit.subject}; {'REML' if fit.reml else 'ML'}; {state}",
    ]
    if getattr(fit, "singular", False):
        out.append("singular fit: a random-effect variance or correlation is on the boundary")
    out += [
        f"AIC/BIC as lme4: k = {k_aic} (fixed effects + variance parameters + residual), "
        f"BIC with log({fit.nobs} observations)",
        "",
        "Random effects:",
        line(("Groups", "Name", "Variance", "Std.Dev.", "Corr")),
        *map(line, rows),
    ]
    return out


def _ancova(fit: Any) -> list[str]:
    df = float(fit._df_resid)
    return [
        _sample(fit),
        f"residual SD = {_fmt(fit.sigma)} on {df:g} df; least squares",
        f"AIC/BIC as R lm: k = {len(fit.beta) + 1} (coefficients + residual variance)",
    ]


def summary_details(fit: Any) -> list[str]:
    """Lines describing the sample, the fit and its variance parameters (may be empty)."""
    kind = type(fit).__name__
    if kind == "MMRMResult":
        return _mmrm(fit)
    if kind == "LMMResult":
        return _lmm(fit)
    if kind == "AncovaResult":
        return _ancova(fit)
    return []
