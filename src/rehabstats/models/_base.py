"""Shared inference for fitted linear (mixed) models.

Every model result (ANCOVA, LMM, MMRM) derives from :class:`LinearModelResult`.
A subclass supplies the fitted fixed effects and two primitives that compute
a contrast with the requested small-sample method; this base class builds
everything users see on top of them: ``coef``, ``anova`` (type III),
``emmeans``, ``contrasts`` and ``effect_sizes``.

Subclass obligations
--------------------
- ``coef_names``: tuple of fixed-effect names in R's naming (``"armcimt:visitpost"``).
- ``beta``: the fixed-effect estimates, shape ``(p,)``.
- ``design_info``: the patsy ``DesignInfo`` of the fixed-effects matrix, so rows
  for new data (reference grids) can be built with ``patsy.build_design_matrices``.
- ``frame``: the data actually used in the fit (after dropping missing rows).
- ``_contrast_1d(L, df_method) -> (estimate, se, df)`` for one row ``L`` (``p,``).
- ``_contrast_md(L, df_method) -> (F, num_df, den_df)`` for a matrix ``L`` (``q, p``).
- ``_standardizer(kind) -> float``: the SD used by :meth:`effect_sizes`
  (``"baseline_sd"`` or ``"residual_sd"``).
- ``df_methods``: the ``df_method`` values the model supports (first = default).
- ``loglik``, ``aic``, ``bic``, ``nobs``.
- optional ``arm_name`` (the treatment-arm column; default of ``effect_sizes(arm=)``).

Subclasses may be ordinary classes that set these attributes in ``__init__``
(:class:`~rehabstats._results.Result` is a field-less frozen dataclass, and
its frozen ``__setattr__`` only guards the dataclass's own fields).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import patsy

from .._results import Result, format_number
from .._validate import check_ci, check_option, show_value
from ..errors import DataError, RehabStatsError, RehabStatsWarning
from ._adjust import (
    ADJUST_METHODS,
    adjust_family,
    canonical_adjust,
    f_sf,
    t_sf,
    t_upper_quantile,
)
from ._emmeans import (
    CONTRAST_METHODS,
    ContrastTable,
    ReferenceGrid,
    contrast_matrix,
    emm_rows,
    reference_grid,
)
from ._type2 import type2_hypotheses
from ._type3 import type3_hypotheses

__all__ = ["DF_METHODS", "LinearModelResult", "r_coef_names"]

DF_METHODS = ("satterthwaite", "kenward-roger", "kenward-roger-linear", "residual", "asymptotic")

_POLY_R = {"Constant": "^0", "Linear": ".L", "Quadratic": ".Q", "Cubic": ".C"}


def r_coef_names(design_info: patsy.DesignInfo) -> tuple[str, ...]:
    """Translate patsy column names into R's.

    Treatment coding: ``arm[T.cimt]:visit[T.post]`` -> ``armcimt:visitpost``.
    Sum and Helmert coding are named as R's ``contr.sum``/``contr.helmert``
    columns, by their number: ``C(arm, Sum)[S.active]`` -> ``arm1`` (``arm2``, ...
    in the order of the levels that have a column). Polynomial coding as
    ``contr.poly``: ``.L``, ``.Q``, ``.C``, ``^4``, ...

    Examples
    --------
    >>> import pandas as pd, patsy
    >>> d = pd.DataFrame({"arm": ["a", "b", "c", "a"], "x": [1.0, 2, 3, 4]})
    >>> r_coef_names(patsy.dmatrix("C(arm, Sum) + x", d).design_info)
    ('(Intercept)', 'arm1', 'arm2', 'x')
    >>> r_coef_names(patsy.dmatrix("arm", d).design_info)
    ('(Intercept)', 'armb', 'armc')
    >>> r_coef_names(patsy.dmatrix("C(arm, Poly)", d).design_info)
    ('(Intercept)', 'arm.L', 'arm.Q')
    """
    pattern = re.compile(r"(.*)\[(T\.|S\.|H\.)?(.*)\]")
    numbered: dict[str, list[str]] = {}  # factor code -> levels with a column, in order
    for name in design_info.column_names:
        for piece in name.split(":"):
            m = pattern.fullmatch(piece)
            if m is not None and m.group(2) in ("S.", "H."):
                seen = numbered.setdefault(m.group(1), [])
                if m.group(3) not in seen:
                    seen.append(m.group(3))
    out = []
    for name in design_info.column_names:
        if name == "Intercept":
            out.append("(Intercept)")
            continue
        pieces = []
        for piece in name.split(":"):
            m = pattern.fullmatch(piece)
            if m is None:
                pm = re.fullmatch(
                    r"C\(\s*([A-Za-z_][A-Za-z_0-9.]*)\s*,\s*Poly.*\)"
                    r"(?:\.(Constant|Linear|Quadratic|Cubic)|(\^\d+))",
                    piece,
                )
                if pm is not None:
                    piece = pm.group(1) + (_POLY_R[pm.group(2)] if pm.group(2) else pm.group(3))
                pieces.append(piece)
                continue
            code, prefix, level = m.group(1), m.group(2), m.group(3)
            cm = re.fullmatch(r"C\(\s*([A-Za-z_][A-Za-z_0-9.]*)\s*(,.*)?\)", code)
            var = cm.group(1) if cm else code
            if prefix in ("S.", "H."):
                level = str(numbered[code].index(level) + 1)
            pieces.append(var + level)
        out.append(":".join(pieces))
    return tuple(out)


def _t_table(est: np.ndarray, se: np.ndarray, df: np.ndarray, ci: float) -> pd.DataFrame:
    """estimate, se, df, t, p, ci_low, ci_high with t (finite df) or z (infinite df)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
    p = 2 * t_sf(np.abs(t), df)
    q = t_upper_quantile(0.5 + ci / 2, df)
    block = np.column_stack([est, se, df, t, p, est - q * se, est + q * se]).astype(float)
    return pd.DataFrame(block, columns=_T_COLUMNS)


_T_COLUMNS = ["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]


def _adjust_name(adjust: str | None, method: str) -> str:
    """Emmeans' default adjustment for the method, or the canonical name of ``adjust``."""
    if adjust is None:
        return "dunnettx" if method == "trt.vs.ctrl" else "tukey"
    name = canonical_adjust(adjust)
    if name is None:
        raise DataError(
            f"The 'adjust' argument must be one of {list(ADJUST_METHODS)}; got {adjust!r}."
        )
    return name


def _ref_index(ref: Any, method: str, level_names: list[str], raw_levels: list[Any] | None) -> int:
    """0-based position of the trt.vs.ctrl control level (a name or a 0-based position)."""
    if method != "trt.vs.ctrl":
        if ref is not None:
            raise DataError(f"'ref' applies only to method='trt.vs.ctrl'; method is {method!r}.")
        return 0
    if ref is None:
        return 0
    k = len(level_names)
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, (bool, np.bool_)):
        if raw_levels is not None and any(not isinstance(v, str) for v in raw_levels):
            raise DataError(
                f"'ref' is the number {int(ref)}, ambiguous with numeric levels "
                f"{level_names}: give the level as a string (e.g. "
                f"ref={level_names[0]!r})."
            )
        if 0 <= int(ref) < k:
            return int(ref)
        raise DataError(
            f"'ref' is position {int(ref)}, outside 0..{k - 1} (0-based) of the "
            f"levels {level_names}."
        )
    if isinstance(ref, str) and ref in level_names:
        return level_names.index(ref)
    if raw_levels is not None and np.isscalar(ref):
        for i, v in enumerate(raw_levels):
            if v == ref:
                return i
    raise DataError(
        f"'ref' is {ref!r}, which is not a level; the levels are {level_names} "
        f"(or give a 0-based position)."
    )


def _as_list(x: str | Sequence[str] | None, name: str) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    if isinstance(x, Sequence) and all(isinstance(v, str) for v in x):
        return list(x)
    raise DataError(f"'{name}' must be a factor name or a list of factor names; got {x!r}.")


def _contrast_table(
    res: np.ndarray,
    meta: list[dict[str, Any]],
    by_l: list[str],
    n_by: int,
    n_names: int,
    k: int,
    method: str,
    ref_name: str | None,
    adj_name: str,
    dfm: str,
    ci: float,
    ranks: list[int],
) -> ContrastTable:
    """The contrast table of :meth:`LinearModelResult.contrasts` from its ``(est, se, df)`` rows."""
    est, se, df = res[:, 0], res[:, 1], res[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
    groups = np.repeat(np.arange(n_by), n_names)
    adj, changed = adjust_family(
        t,
        df,
        groups,
        adjust=adj_name,
        n_means=k,
        pairs=method in ("pairwise", "revpairwise"),
        level=ci,
        ranks=np.array(ranks) if adj_name == "scheffe" else None,
    )
    if changed:
        warnings.warn(changed, RehabStatsWarning, stacklevel=3)
    body = pd.DataFrame(
        {
            "estimate": est,
            "se": se,
            "df": df,
            "t": t,
            "p": adj.p,
            "ci_low": est - adj.crit * se,
            "ci_high": est + adj.crit * se,
        }
    )
    table = ContrastTable(
        pd.concat([pd.DataFrame(meta, columns=["contrast", *by_l]), body], axis=1)
    )
    table.attrs.update(
        {
            "method": method,
            "ref": ref_name,
            "adjust": adj.adjust,
            "ci_adjust": adj.ci_adjust,
            "family_size": adj.family_size,
            "n_means": k,
            "level": ci,
            "df_method": dfm,
            "by": tuple(by_l),
            "note": (
                f"Contrasts: {method}"
                + (f" (control: {ref_name})" if ref_name is not None else "")
                + (f", within each level of {', '.join(by_l)}" if by_l else "")
                + f"; {adj.family_size} contrast{'s' if adj.family_size != 1 else ''}"
                + f" of {k} means per family; df method: {dfm}\n"
                + adj.note
            ),
        }
    )
    return table


class LinearModelResult(Result):
    """Base of every fitted linear model: coefficient table, type III tests, EMMs.

    Notes
    -----
    * ``coef`` tests each coefficient with ``_contrast_1d`` on a unit vector.
    * ``anova`` builds, for each term, the coding-invariant type III hypothesis
      matrix (see :mod:`rehabstats.models._type3`) and calls ``_contrast_md``.
    * ``emmeans`` averages reference-grid predictions with equal weights over
      the factors not in ``specs``; numeric covariates sit at their mean.
    * ``contrasts`` follows emmeans' ``contrast()``: ``pairwise`` is earlier
      minus later level (``"control - cimt"``), ``revpairwise`` and
      ``trt.vs.ctrl`` later minus earlier / level minus control
      (``"cimt - control"``), adjusted within each ``by`` group with emmeans'
      default (tukey / dunnettx), the adjustment stated in the table's ``attrs``.
    * ``effect_sizes`` divides the adjusted arm difference, its SE and its
      t-based confidence limits by one standard deviation (the standardizer is
      treated as known, so the interval is the contrast's interval rescaled).
    """

    coef_names: tuple[str, ...]
    beta: np.ndarray
    design_info: patsy.DesignInfo
    frame: pd.DataFrame
    df_methods: tuple[str, ...]
    loglik: float
    aic: float
    bic: float
    nobs: int
    arm_name: str | None = None
    effect_by: tuple[str, ...] | None = None
    # set by the data-entry layer (rehabstats._entry) where the model has them
    reference_arm: Any = None
    visit_name: str | None = None
    visit_levels: list[Any] | None = None
    baseline_name: str | None = None
    _baseline_candidates: tuple[str, ...] = ()

    # ------------------------------------------------------------------ subclass API
    def _contrast_1d(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        raise NotImplementedError

    def _contrast_md(self, L: np.ndarray, df_method: str) -> tuple[float, float, float]:
        raise NotImplementedError

    def _standardizer(self, kind: str) -> float:
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers
    def _df_method(self, df_method: str | None) -> str:
        if df_method is None:
            return self.df_methods[0]
        if not isinstance(df_method, str) or df_method not in self.df_methods:
            allowed = ", ".join(repr(m) for m in self.df_methods)
            raise DataError(
                f"The 'df_method' argument must be one of {allowed} for "
                f"{type(self).__name__}; got {df_method!r}."
            )
        return df_method

    def _grid(self) -> ReferenceGrid:
        cached = self.__dict__.get("_cached_grid")
        if cached is None:
            cached = reference_grid(self.design_info, self.frame)
            object.__setattr__(self, "_cached_grid", cached)
        return cached

    def _contrast_table_rows(self, L: np.ndarray, df_method: str) -> np.ndarray:
        """``(estimate, se, df)`` of every row of ``L``, ``(rows, 3)`` (models may batch it)."""
        res = np.array([self._contrast_1d(row, df_method) for row in L], dtype=float)
        return res.reshape(-1, 3)

    def _rows_table(self, L: np.ndarray, df_method: str, ci: float) -> pd.DataFrame:
        res = self._contrast_table_rows(L, df_method)
        return _t_table(res[:, 0], res[:, 1], res[:, 2], ci)

    # ------------------------------------------------------------------ public API
    def coef(self, df_method: str | None = None, ci: float = 0.95) -> pd.DataFrame:
        """Fixed-effect coefficients with SE, df, t, p and confidence limits.

        Columns: ``term, estimate, se, df, t, p, ci_low, ci_high``; ``df`` is
        ``inf`` for ``df_method="asymptotic"`` (a z test).
        """
        method = self._df_method(df_method)
        ci = check_ci(ci)
        table = self._rows_table(np.eye(len(self.beta)), method, ci)
        table.insert(0, "term", list(self.coef_names))
        return table

    def anova(self, df_method: str | None = None, type: int | str = 3) -> pd.DataFrame:
        """Type III (default) or type II F tests of every term.

        Parameters
        ----------
        df_method : str, optional
            Small-sample df method (the model's ``df_methods``; default the first).
        type : {3, 2}
            ``3``: each term's coding-invariant type III hypothesis (as
            ``lmerTest::anova(type = "III")`` and mmrm's ``car::Anova(type =
            "III")``, :mod:`rehabstats.models._type3`). ``2``: each term tested
            after all terms that do not contain it (as mmrm's ``car::Anova(type
            = "II")``, :mod:`rehabstats.models._type2`); ``"II"``/``"III"`` are
            accepted too.

        Returns
        -------
        pandas.DataFrame
            Columns ``term, num_df, den_df, F, p``, main effects first; the
            type is in ``.attrs["type"]``.

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
        >>> fit = rs.mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
        >>> list(fit.anova(type=2)["term"])
        ['arm', 'visit', 'arm:visit']
        """
        method = self._df_method(df_method)
        kind = (
            {3: 3, 2: 2, "3": 3, "2": 2, "III": 3, "II": 2}.get(type, None)
            if isinstance(type, (int, str)) and not isinstance(type, bool)
            else None
        )
        if kind is None:
            raise DataError(f"The 'type' argument must be 2 or 3 (or 'II' / 'III'); got {type!r}.")
        rows = []
        hyps = (type3_hypotheses if kind == 3 else type2_hypotheses)(self.design_info, self.frame)
        # R's order: main effects, then two-way interactions, ... (formula order within)
        for term, L in sorted(hyps.items(), key=lambda kv: kv[0].count(":")):
            F, num_df, den_df = self._contrast_md(L, method)
            rows.append(
                {
                    "term": term,
                    "num_df": num_df,
                    "den_df": den_df,
                    "F": F,
                    "p": float(f_sf(F, num_df, den_df)),
                }
            )
        out = pd.DataFrame(rows, columns=["term", "num_df", "den_df", "F", "p"])
        out.attrs["type"] = kind
        return out

    def test(self, L: Any, df_method: str | None = None, ci: float = 0.95) -> pd.DataFrame:
        r"""Test the linear combination(s) ``L beta`` of the fixed effects.

        One row: a t test of ``L beta = 0`` (mmrm's ``df_1d``); several rows:
        the F test of ``L beta = 0`` (mmrm's ``df_md``), with the requested
        small-sample df. For Satterthwaite (Satterthwaite 1946; Christensen
        2018, lmerTest) the one-row df are
        :math:`2 (L C L')^2 / (g' W g)` with :math:`g = \partial (L C L') /
        \partial\theta`; several rows are tested as the mean of the
        eigen-decomposed one-row ``t^2`` with the df of Fai & Cornelius
        (1996). Kenward-Roger uses the adjusted covariance and the scaled F of
        Kenward & Roger (1997), doi:10.2307/2533558. Rows that are linearly
        dependent are reduced to the hypothesis' rank first.

        Parameters
        ----------
        L : array-like, pandas.Series, dict or pandas.DataFrame
            A vector with one entry per coefficient of :meth:`coef` (in its
            order), a matrix with one row per hypothesis, or weights keyed by
            coefficient name (a dict / Series, or a DataFrame whose columns are
            coefficient names; names not given get weight 0).
        df_method : str, optional
            One of the model's ``df_methods`` (default the first).
        ci : float
            Confidence level of the limits of a one-row test.

        Returns
        -------
        pandas.DataFrame
            One row. One-row ``L``: ``estimate, se, df, t, p, ci_low,
            ci_high``; several rows: ``num_df, den_df, F, p``.

        Raises
        ------
        DataError
            ``L`` of the wrong length, not finite, empty or naming an unknown
            coefficient; an unknown ``df_method``.

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
        >>> fit = rs.mmrm("alsfrs ~ arm + visit", df, subject="subject", visit="visit")
        >>> one = fit.test({"armactive": 1.0})
        >>> bool(abs(one["estimate"].iloc[0] - fit.coef().set_index("term").loc["armactive", "estimate"]) < 1e-12)
        True
        >>> two = fit.test([[0, 1] + [0] * 6, [0, 0, 1] + [0] * 5])
        >>> list(two.columns), float(two["num_df"].iloc[0])
        (['num_df', 'den_df', 'F', 'p'], 2.0)
        """
        method = self._df_method(df_method)
        ci = check_ci(ci)
        Lm = self._contrast_rows(L)
        if Lm.shape[0] == 1:
            est, se, df = self._contrast_1d(Lm[0], method)
            return _t_table(np.array([est]), np.array([se]), np.array([df]), ci)
        F, num_df, den_df = self._contrast_md(Lm, method)
        p = float(f_sf(F, num_df, den_df)) if num_df > 0 else math.nan
        return pd.DataFrame({"num_df": [num_df], "den_df": [den_df], "F": [F], "p": [p]})

    def _contrast_rows(self, L: Any) -> np.ndarray:
        """``L`` as a finite ``(q, p)`` float matrix in the coefficient order."""
        names = list(self.coef_names)
        p = len(names)

        def from_named(keys: list[Any], values: np.ndarray) -> np.ndarray:
            unknown = [k for k in keys if k not in names]
            if unknown:
                raise DataError(
                    f"'L' names coefficient(s) {unknown}, which the model does not "
                    f"have; the coefficients are {names}."
                )
            out = np.zeros((values.shape[0], p))
            for j, k in enumerate(keys):
                out[:, names.index(k)] = values[:, j]
            return out

        try:
            if isinstance(L, pd.DataFrame):
                Lm = from_named(list(L.columns), L.to_numpy(dtype=float))
            elif isinstance(L, (pd.Series, dict)):
                ser = pd.Series(L, dtype=float)
                Lm = from_named(list(ser.index), ser.to_numpy()[None, :])
            else:
                Lm = np.array(L, dtype=float)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(
                f"'L' must be numeric: a vector of {p} weights, a matrix with {p} "
                f"columns, or weights keyed by coefficient name; got {L!r}."
            ) from None
        if Lm.ndim == 1:
            Lm = Lm[None, :]
        if Lm.ndim != 2 or Lm.shape[1] != p or Lm.shape[0] == 0:
            raise DataError(
                f"'L' must have {p} entries per row (one per coefficient: {names}); "
                f"got shape {np.shape(Lm)}."
            )
        if not np.all(np.isfinite(Lm)):
            raise DataError("'L' must be finite (no NaN or infinite weights).")
        return Lm

    def emmeans(
        self,
        specs: str | Sequence[str],
        by: str | Sequence[str] | None = None,
        df_method: str | None = None,
        ci: float = 0.95,
        weights: str = "equal",
    ) -> ContrastTable:
        """Estimated marginal means (emmeans' defaults: equal weights, covariates at means).

        ``weights="proportional"`` (emmeans' ``weights = "proportional"``)
        weights each combination of the factors averaged over by its
        frequency in the data used in the fit instead of equally (numeric
        covariates stay at their means); see
        :func:`rehabstats.models._emmeans.emm_rows`.

        Columns: one per factor in ``by`` and ``specs``, then
        ``estimate, se, df, t, p, ci_low, ci_high`` (``t`` tests mean = 0).

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
        >>> fit = rs.mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
        >>> eq = fit.emmeans("arm")["estimate"]
        >>> prop = fit.emmeans("arm", weights="proportional")["estimate"]
        >>> bool((eq != prop).any())
        True
        """
        method = self._df_method(df_method)
        ci = check_ci(ci)
        check_option(weights, "weights", ("equal", "proportional"))
        spec_l, by_l = _as_list(specs, "specs"), _as_list(by, "by")
        if not spec_l:
            raise DataError("'specs' must name at least one factor.")
        labels, L = emm_rows(self._grid(), spec_l, by_l, weights, self.frame)
        table = self._rows_table(L, method, ci)
        # a DataFrame that prints whole, with emmeans' footnote on what was averaged
        out = ContrastTable(pd.concat([labels.reset_index(drop=True), table], axis=1))
        out.attrs.update(
            method="emmeans",
            level=ci,
            df_method=method,
            by=by_l,
            note=(
                f"Degrees-of-freedom method: {method}. Confidence level used: {ci:g}.\n"
                "Means averaged over the other factors with "
                + (
                    "equal weights (emmeans' default)."
                    if weights == "equal"
                    else "weights proportional to their frequencies in the data."
                )
            ),
        )
        return out

    def contrasts(
        self,
        specs: str | Sequence[str],
        by: str | Sequence[str] | None = None,
        method: str = "pairwise",
        ref: Any = None,
        adjust: str | None = None,
        df_method: str | None = None,
        ci: float = 0.95,
        weights: str = "equal",
    ) -> ContrastTable:
        """Differences between marginal means within each ``by`` group, as emmeans' ``contrast()``.

        Parameters
        ----------
        specs : str or list of str
            The factor(s) whose marginal means are compared (several factors:
            their level combinations, labelled ``"control pre"``, first factor
            varying fastest as in emmeans).
        by : str or list of str, optional
            Compare within each level of these factors (e.g. per visit).
        method : {"pairwise", "revpairwise", "trt.vs.ctrl"}
            ``"pairwise"`` (emmeans' ``pairs()``): every earlier level minus
            every later level in model order, ``"control - low", "control -
            high", "low - high"``; ``"revpairwise"`` (``pairs(reverse =
            TRUE)``): later minus earlier, ``"low - control", "high - control",
            "high - low"``; ``"trt.vs.ctrl"``: every other level minus the
            reference level ``ref`` (``"low - control", "high - control"``).
        ref : str or int, optional
            The control level of ``"trt.vs.ctrl"``: a level name, or its
            0-based position among the levels (Python's convention; emmeans'
            ``ref`` is 1-based). Default the first level, which is the
            model's reference arm.
        adjust : str, optional
            Multiplicity adjustment within each ``by`` group, emmeans' names:
            ``"tukey", "dunnettx", "sidak", "bonferroni", "scheffe", "holm",
            "hochberg", "BH", "BY", "fdr", "none"``. Default emmeans':
            ``"tukey"`` for pairwise and revpairwise, ``"dunnettx"`` for
            trt.vs.ctrl. A family of one contrast (two levels) is never
            adjusted; ``"tukey"`` on trt.vs.ctrl contrasts becomes ``"sidak"``
            with a :class:`~rehabstats.errors.RehabStatsWarning`; confidence
            limits of holm, hochberg, BH, BY and fdr use bonferroni (as
            emmeans). Formulas: :mod:`rehabstats.models._adjust`.
        df_method : str, optional
            Small-sample df method (the model's ``df_methods``; default the first).
        ci : float
            Confidence level of the limits.
        weights : {"equal", "proportional"}
            Weights of the marginal means compared (see :meth:`emmeans`).

        Returns
        -------
        ContrastTable
            A DataFrame with columns ``contrast``, one per ``by`` factor,
            ``estimate, se, df, t, p, ci_low, ci_high``; ``p`` and the limits are
            the adjusted ones (as emmeans prints them). ``.attrs`` holds
            ``method, ref, adjust, ci_adjust, family_size, n_means, level,
            df_method, by`` and ``note``, the statement printed below the table
            (``"P value adjustment: tukey method for comparing a family of 3
            estimates"``).

        Raises
        ------
        DataError
            Unknown ``method``, ``adjust``, ``ref`` (the message lists the
            choices), factor names or ``df_method``.

        Examples
        --------
        >>> import numpy as np, pandas as pd, rehabstats as rs
        >>> rng = np.random.default_rng(1)
        >>> arm = pd.Categorical(np.repeat(["control", "low", "high"], 10),
        ...                      categories=["control", "low", "high"])
        >>> d = pd.DataFrame({"arm": arm, "b": rng.normal(50, 5, 30)})
        >>> d["y"] = d["b"] + np.repeat([0.0, 2.0, 4.0], 10) + rng.normal(0, 2, 30)
        >>> fit = rs.ancova(d, outcome="y", arm="arm", baseline="b")
        >>> tab = fit.contrasts("arm")
        >>> list(tab["contrast"])
        ['control - low', 'control - high', 'low - high']
        >>> tab.attrs["adjust"], tab.attrs["family_size"]
        ('tukey', 3)
        >>> list(fit.contrasts("arm", method="trt.vs.ctrl", ref="high")["contrast"])
        ['control - high', 'low - high']
        """
        check_option(method, "method", CONTRAST_METHODS)
        check_option(weights, "weights", ("equal", "proportional"))
        dfm = self._df_method(df_method)
        ci = check_ci(ci)
        spec_l, by_l = _as_list(specs, "specs"), _as_list(by, "by")
        if not spec_l:
            raise DataError("'specs' must name at least one factor.")
        labels, L = emm_rows(self._grid(), spec_l, by_l, weights, self.frame)
        n_by = int(np.prod([len(self._grid().levels[b]) for b in by_l])) if by_l else 1
        k = len(labels) // n_by
        spec_levels = labels[spec_l].iloc[:k]
        level_names = [" ".join(str(v) for v in row) for row in spec_levels.itertuples(index=False)]
        ref_idx = _ref_index(
            ref, method, level_names, list(spec_levels[spec_l[0]]) if len(spec_l) == 1 else None
        )
        adj_name = _adjust_name(adjust, method)
        C, names = contrast_matrix(level_names, method, ref_idx)
        blocks: list[np.ndarray] = []
        meta: list[dict[str, Any]] = []
        ranks: list[int] = []
        for g in range(n_by):
            block = C @ L[g * k : (g + 1) * k]
            blocks.append(block)
            by_vals = labels[by_l].iloc[g * k].to_dict() if by_l else {}
            meta.extend({"contrast": n, **by_vals} for n in names)
            if adj_name == "scheffe":
                r = int(np.linalg.matrix_rank(np.round(block, 10))) if len(block) else 0
                ranks.extend([r] * len(names))
        Lc = np.vstack(blocks) if blocks else np.zeros((0, L.shape[1]))
        res = np.array([self._contrast_1d(row, dfm) for row in Lc], dtype=float).reshape(-1, 3)
        ref_name = level_names[ref_idx] if method == "trt.vs.ctrl" and level_names else None
        return _contrast_table(
            res, meta, by_l, n_by, len(names), k, method, ref_name, adj_name, dfm, ci, ranks
        )

    def effect_sizes(
        self,
        standardizer: str = "baseline_sd",
        *,
        arm: str | None = None,
        by: str | Sequence[str] | None = None,
        ci: float = 0.95,
    ) -> pd.DataFrame:
        """Standardised arm differences (per ``by`` level, e.g. per visit) with CIs.

        The adjusted difference ``delta`` (treatment minus reference arm, from
        :meth:`contrasts` with ``method="trt.vs.ctrl"`` and the default df
        method) is divided by a standard deviation ``s``:
        ``d = delta / s``, ``[lo / s, hi / s]`` with ``lo, hi`` the contrast's
        t interval. ``s`` is treated as fixed (its sampling error is ignored),
        as in Feingold (2009), doi:10.1037/a0014699.

        ``standardizer="baseline_sd"``: the pooled within-arm SD of the outcome
        at baseline; ``"residual_sd"``: the model's residual (total
        within-arm) SD. Columns: ``contrast``, ``by`` columns, ``estimate, se,
        ci_low, ci_high, ci_level, standardizer, sd, df``.
        """
        check_option(standardizer, "standardizer", ("baseline_sd", "residual_sd"))
        ci = check_ci(ci)
        arm = arm if arm is not None else self.arm_name
        if arm is None:
            raise DataError("'arm' must name the treatment-arm factor of the model.")
        grid = self._grid()
        if by is None and self.effect_by is not None:
            by_l = [f for f in self.effect_by if f in grid.levels and f != arm]
        elif by is None:
            by_l = [f for f in grid.levels if f != arm]
        else:
            by_l = _as_list(by, "by")
        con = self.contrasts(arm, by=by_l or None, method="trt.vs.ctrl", adjust="none", ci=ci)
        sd = float(self._standardizer(standardizer))
        if not (math.isfinite(sd) and sd > 0):
            raise DataError(f"The {standardizer} standardizer is {sd!r}; it must be positive.")
        out = pd.DataFrame({c: con[c].to_numpy() for c in ["contrast", *by_l]})
        for c in ("estimate", "se", "ci_low", "ci_high"):
            out[c] = con[c] / sd
        out["ci_level"] = ci
        out["standardizer"] = standardizer
        out["sd"] = sd
        out["df"] = con["df"]
        info = getattr(self, "_standardizer_info", None)
        if info is not None:  # which SD was used, in words (e.g. "pooled within-arm SD of ...")
            out["standardizer_source"] = info(standardizer)[1]
        return out

    def report(
        self,
        visit: Any = None,
        *,
        unit: str = "points",
        effect_size: str | None = "baseline_sd",
        ci: float = 0.95,
        digits: int = 1,
    ) -> str:
        """The APA/CONSORT-style sentence for the adjusted arm difference.

        Same as :func:`rehabstats.tables.results_sentence` (which documents the
        arguments): the difference of each arm from the reference arm at ``visit``
        (default the last visit), its confidence interval and p value, and the
        standardised difference.

        Examples
        --------
        >>> import rehabstats as rs
        >>> trial = rs.datasets.load("cimt_ms").dropna(subset=["mal_aou"])
        >>> fit = rs.mmrm("mal_aou ~ arm * visit", trial, subject="subject", visit="visit")
        >>> fit.report(visit="post").startswith("The adjusted difference (cimt - control)")
        True
        """
        from ..tables import results_sentence

        return results_sentence(
            self, visit=visit, unit=unit, effect_size=effect_size, ci=ci, digits=digits
        )

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (:meth:`coef` with the default df method)."""
        return self.coef()

    # ------------------------------------------------------------------ broom-style tables
    def tidy(
        self, conf_int: bool = True, conf_level: float = 0.95, df_method: str | None = None
    ) -> pd.DataFrame:
        """The coefficient table with broom's column names (``broom::tidy``).

        Columns ``term, estimate, std.error, df, statistic, p.value`` and, with
        ``conf_int=True`` (default), ``conf.low, conf.high``: :meth:`coef`
        renamed (``statistic`` is the t, or z for ``df = inf``), as R mmrm's
        ``tidy.mmrm`` and broom.mixed.

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
        >>> fit = rs.mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
        >>> list(fit.tidy().columns)
        ['term', 'estimate', 'std.error', 'df', 'statistic', 'p.value', 'conf.low', 'conf.high']
        """
        if not isinstance(conf_int, (bool, np.bool_)):
            raise DataError(
                f"The 'conf_int' argument must be True or False; got {show_value(conf_int)}."
            )
        conf_level = check_ci(conf_level, "conf_level")
        tab = self.coef(df_method=df_method, ci=conf_level).rename(
            columns={
                "se": "std.error",
                "t": "statistic",
                "p": "p.value",
                "ci_low": "conf.low",
                "ci_high": "conf.high",
            }
        )
        if not conf_int:
            tab = tab.drop(columns=["conf.low", "conf.high"])
        tab.attrs["df_method"] = self._df_method(df_method)
        return tab

    def glance(self) -> pd.DataFrame:
        """One row of fit statistics with broom's names (``broom::glance``).

        ``logLik, AIC, BIC, deviance, nobs, df.residual`` (``nobs - rank``)
        for every model; then, where the model has them, ``n_subjects,
        converged, covariance, reml, sigma``. ``deviance`` is ``-2 logLik`` (as
        mmrm's ``glance.mmrm``); AIC and BIC follow each model's R
        counterpart (see the model's docs).

        Examples
        --------
        >>> import rehabstats as rs
        >>> df = rs.datasets.load("als_decline").dropna(subset=["alsfrs"])
        >>> fit = rs.mmrm("alsfrs ~ arm * visit", df, subject="subject", visit="visit")
        >>> g = fit.glance()
        >>> list(g.columns)[:6], bool(g["converged"].iloc[0]), g["covariance"].iloc[0]
        (['logLik', 'AIC', 'BIC', 'deviance', 'nobs', 'df.residual'], True, 'us')
        """
        row: dict[str, Any] = {
            "logLik": float(self.loglik),
            "AIC": float(self.aic),
            "BIC": float(self.bic),
            "deviance": -2.0 * float(self.loglik),
            "nobs": int(self.nobs),
            "df.residual": int(self.nobs) - len(self.beta),
        }
        for name in ("n_subjects", "converged", "covariance", "reml", "sigma"):
            value = getattr(self, name, None)
            if value is not None and not callable(value):
                row[name] = value
        return pd.DataFrame([row])

    def summary(self) -> str:
        """Model description, fit statistics, coefficient table and type III tests."""
        fmt = lambda v: format_number(v, 3)  # noqa: E731
        head = [
            f"{type(self).__name__}: {getattr(self, 'formula', '')}".rstrip(": "),
            f"n = {self.nobs}; logLik = {fmt(self.loglik)}; AIC = {fmt(self.aic)}; "
            f"BIC = {fmt(self.bic)}; df method = {self.df_methods[0]}",
        ]
        if self.arm_name is not None and self.reference_arm is not None:
            head.append(f"reference arm: {self.reference_arm} (column {self.arm_name!r})")
        if self.visit_levels:
            head.append(
                f"visit order ({self.visit_name!r}): "
                + " < ".join(str(v) for v in self.visit_levels)
            )
        from ._summary import summary_details  # the model-specific lines (sample, fit, variances)

        head += summary_details(self)
        head += [
            "",
            self.coef().to_string(index=False, float_format=fmt, na_rep="NA"),
        ]
        try:
            an = self.anova()
        except RehabStatsError:  # pragma: no cover - a design without type III tests
            an = None
        if an is not None and len(an):
            head += [
                "",
                "Type III tests:",
                an.to_string(index=False, float_format=fmt, na_rep="NA"),
            ]
        return "\n".join(head)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} n={self.nobs} p={len(self.beta)}>"
