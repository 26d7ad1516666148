"""Multiplicity adjustment of contrast p values and confidence limits, as emmeans does.

A *family* is the set of contrasts within one ``by`` group (emmeans adjusts
within each ``by`` group; the family size is the number of contrasts per
group). With ``m`` contrasts in the family, ``k`` means compared, a contrast
``t`` ratio ``t_i`` with ``nu_i`` degrees of freedom (each row keeps its own,
possibly fractional, Satterthwaite / Kenward-Roger df) and confidence level
``1 - alpha``:

========== ======================================== ============================================
adjust     p value                                  critical value ``c`` (limits ``est -/+ c se``)
========== ======================================== ============================================
none       ``p_i = 2 P(T_nu > |t_i|)``              ``t_{nu, 1 - alpha/2}``
tukey      ``P(Q_{k, nu'} > sqrt(2) |t_i|)``         ``q_{k, nu; 1 - alpha} / sqrt(2)``
sidak      ``1 - (1 - p_i)^m``                      ``t_{nu, 1 - (1 - (1 - alpha)^(1/m)) / 2}``
bonferroni ``min(1, m p_i)``                        ``t_{nu, 1 - alpha / (2 m)}``
scheffe    ``P(F_{r, nu} > t_i^2 / r)``             ``sqrt(r F_{r, nu; 1 - alpha})``
dunnettx   ``1 - D(|t_i|)``                         ``D^{-1}(1 - alpha)``
holm, hochberg, BH (= fdr), BY: R's ``p.adjust`` within the family; limits as bonferroni
========== ======================================== ============================================

``Q_{k, nu}`` is the studentized range (R's ``ptukey``/``qtukey``; here
:data:`scipy.stats.studentized_range`), ``r`` the rank of the family's
contrast matrix, and ``D(x) = w T(x) + (1 - w) S(x)`` emmeans' approximation
of Dunnett's distribution (Lenth's ``.pdunnx``): ``T(x)`` the studentized-range
cdf at ``sqrt(2) x`` with ``(1 + sqrt(1 + 8 m)) / 2`` means (the number of
means whose all-pairwise family has ``m`` contrasts), ``S(x) = F_{1,nu}(x^2)^m``
(Sidak) and ``w = (m - 1) / m``.

emmeans' rules, followed here (emmeans 1.8.4, ``summary.R``: ``.adj.p.value``,
``.adj.critval``, ``.qdunnx``):

* a family of one contrast is never adjusted (except scheffe);
* ``tukey`` is only for one set of pairwise comparisons; for other contrasts it
  becomes ``sidak`` (emmeans prints a note; here a :class:`RehabStatsWarning`);
* the Tukey p value uses the df rounded as R's ``zapsmall`` does (7 significant
  digits of the largest df of the table), the Tukey limits the exact df;
* the Dunnett quantile is the root of ``D(x) = 1 - alpha`` found as R's
  ``uniroot(tol = 5e-4)`` finds it (Brent's method between the Tukey and Sidak
  quantiles), so the limits equal emmeans' to about 1e-9 but are themselves only
  within about 5e-4 of the exact root of ``D``; they are conservative or liberal
  by that much at most.

References: Tukey (1953) / Kramer (1956) for the studentized range; Sidak
(1967), doi:10.1080/01621459.1967.10482935; Holm (1979); Hochberg (1988),
doi:10.1093/biomet/75.4.800; Benjamini & Hochberg (1995); Benjamini &
Yekutieli (2001), doi:10.1214/aos/1013699998; Scheffe (1953); Dunnett (1955),
doi:10.1080/01621459.1955.10501294; Lenth, R. emmeans (R package); Brent (1973),
*Algorithms for Minimization without Derivatives*, ch. 4 (zeroin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, special

from .._lazy import lazy_module
from .._roots import zeroin

if TYPE_CHECKING:
    from scipy import stats
else:  # ~0.5 s to import, needed only for Tukey's studentized range and F quantiles
    stats = lazy_module("scipy.stats")

__all__ = [
    "ADJUST_METHODS",
    "Adjusted",
    "adjust_family",
    "canonical_adjust",
    "pdunnx",
    "qdunnx",
    "qtukey",
]

#: accepted ``adjust=`` values (case-insensitive), emmeans' names
ADJUST_METHODS = (
    "tukey",
    "dunnettx",
    "sidak",
    "bonferroni",
    "scheffe",
    "holm",
    "hochberg",
    "BH",
    "BY",
    "fdr",
    "none",
)
_P_ADJUST = ("bonferroni", "holm", "hochberg", "BH", "BY", "fdr")
_EPS = float(np.finfo(float).eps)


def canonical_adjust(adjust: str) -> str | None:
    """The canonical spelling of an ``adjust=`` name, or None when it is not one."""
    if not isinstance(adjust, str):
        return None
    low = adjust.strip().lower()
    for name in ADJUST_METHODS:
        if name.lower() == low:
            return name
    return None


# --------------------------------------------------------------------------- distributions
# The t and F tails of every coefficient table, contrast and F test come from
# scipy.special, which is what scipy.stats.t / .f / .chi2 compute (the same numbers,
# bit for bit, tested in tests/models/test_distributions.py) without importing
# scipy.stats or its per-call argument checks.


def t_sf(x: np.ndarray | float, df: np.ndarray | float) -> np.ndarray:
    """Upper tail of Student's t (``scipy.stats.t.sf(x, df)``; infinite df is the normal)."""
    return np.asarray(special.stdtr(df, -np.asarray(x, float)), float)


def t_upper_quantile(q: np.ndarray | float, df: np.ndarray | float) -> np.ndarray:
    """``scipy.stats.t.ppf(q, df)`` for ``1/2 <= q < 1``, the critical values of intervals.

    (At ``q = 0`` ``special.stdtrit`` returns +inf where ``stats.t.ppf`` gives -inf:
    only the upper half is used here.)
    """
    return np.asarray(special.stdtrit(df, q), float)


def _tail(x: np.ndarray, valid: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """scipy.stats' conventions around a special-function upper tail: nan outside the
    parameter space, 1 at and below 0, 0 at +inf (where special.* give nan for an
    infinite df).
    """
    with np.errstate(invalid="ignore"):
        out = np.where(x <= 0, 1.0, np.where(x == np.inf, 0.0, upper))
    return np.asarray(np.where(valid, out, np.nan), float)


def f_sf(x: np.ndarray | float, d1: np.ndarray | float, d2: np.ndarray | float) -> np.ndarray:
    """Upper tail of F(d1, d2), as ``scipy.stats.f.sf``."""
    x, d1, d2 = np.broadcast_arrays(*(np.asarray(v, float) for v in (x, d1, d2)))
    return _tail(x, (d1 > 0) & (d2 > 0), special.fdtrc(d1, d2, x))


def chi2_sf(x: np.ndarray | float, df: np.ndarray | float) -> np.ndarray:
    """Upper tail of chi-square(df), as ``scipy.stats.chi2.sf``."""
    x, df = np.broadcast_arrays(np.asarray(x, float), np.asarray(df, float))
    return _tail(x, df > 0, special.chdtrc(df, x))


def _f_sf(x: np.ndarray, d1: np.ndarray | float, d2: np.ndarray) -> np.ndarray:
    """Upper tail of F(d1, d2), with d2 = inf meaning chi-square(d1) / d1 (scipy gives nan)."""
    x, d1, d2 = np.broadcast_arrays(
        np.asarray(x, float), np.asarray(d1, float), np.asarray(d2, float)
    )
    inf = np.isinf(d2)
    return np.where(inf, chi2_sf(x * d1, d1), f_sf(x, d1, np.where(inf, 1.0, d2)))


def _f_ppf(p: float, d1: np.ndarray | float, d2: np.ndarray) -> np.ndarray:
    d1, d2 = np.broadcast_arrays(np.asarray(d1, float), np.asarray(d2, float))
    inf = np.isinf(d2)
    return np.where(inf, stats.chi2.ppf(p, d1) / d1, stats.f.ppf(p, d1, np.where(inf, 1.0, d2)))


def _ptukey_sf(q: np.ndarray, nmeans: float, df: np.ndarray) -> np.ndarray:
    q, df = np.broadcast_arrays(np.asarray(q, float), np.asarray(df, float))
    out = np.where(np.isnan(q), np.nan, 1.0)
    pos = q > 0
    if pos.any():
        out[pos] = stats.studentized_range.sf(q[pos], nmeans, df[pos])
    return np.clip(out, 0.0, 1.0)


@lru_cache(maxsize=4096)
def qtukey(level: float, nmeans: float, df: float) -> float:
    """Quantile of the studentized range (R's ``qtukey(level, nmeans, df)``), solved to 1e-12.

    The root lies between ``sqrt(2)`` times the unadjusted and the Bonferroni
    t quantiles for ``nmeans (nmeans - 1) / 2`` comparisons.
    """
    m = nmeans * (nmeans - 1) / 2
    lo = math.sqrt(2) * float(t_upper_quantile(0.5 + level / 2, df))
    hi = math.sqrt(2) * float(t_upper_quantile(1 - (1 - level) / (2 * max(m, 1.0)), df)) + 1e-9
    if hi - lo < 1e-12:
        return lo

    def f(x: float) -> float:
        return float(stats.studentized_range.cdf(x, nmeans, df)) - level

    flo, fhi = f(lo), f(hi)
    while flo > 0:  # pragma: no cover - defensive: the bracket always holds
        lo, flo = lo / 2, f(lo / 2)
    while fhi < 0:  # pragma: no cover
        hi, fhi = hi * 2, f(hi * 2)
    return float(optimize.brentq(f, lo, hi, xtol=1e-13, rtol=4 * _EPS))


def pdunnx(x: np.ndarray, k: float, df: np.ndarray) -> np.ndarray:
    """Emmeans' approximation of Dunnett's cdf for ``k`` contrasts (``.pdunnx``), see module doc."""
    x, df = np.broadcast_arrays(np.asarray(x, float), np.asarray(df, float))
    w = (k - 1) / k
    nm = (1 + math.sqrt(1 + 8 * k)) / 2
    tuk = 1.0 - _ptukey_sf(math.sqrt(2) * x, nm, df)
    sid = (1.0 - _f_sf(x * x, 1.0, df)) ** k
    return np.asarray(w * tuk + (1 - w) * sid, dtype=float)


def _dunnx_sf(x: np.ndarray, k: float, df: np.ndarray) -> np.ndarray:
    """``1 - pdunnx`` computed without cancellation."""
    w = (k - 1) / k
    nm = (1 + math.sqrt(1 + 8 * k)) / 2
    tuk = _ptukey_sf(math.sqrt(2) * np.asarray(x, float), nm, df)
    with np.errstate(divide="ignore"):
        sid = -np.expm1(k * np.log1p(-_f_sf(np.asarray(x, float) ** 2, 1.0, df)))
    return np.clip(w * tuk + (1 - w) * sid, 0.0, 1.0)


@lru_cache(maxsize=4096)
def qdunnx(level: float, k: float, df: float) -> float:
    """Emmeans' Dunnett quantile (``.qdunnx``): root of ``pdunnx(x) = level`` to uniroot's 5e-4."""
    if k < 1.005:
        return float(t_upper_quantile(1 - 0.5 * (1 - level), df))
    xtuk = qtukey(level, (1 + math.sqrt(1 + 8 * k)) / 2, df) / math.sqrt(2)
    xsid = math.sqrt(float(_f_ppf(level ** (1 / k), 1.0, np.asarray(df))))
    if abs(xtuk - xsid) < 5e-4:
        return xtuk
    lo, hi = min(xtuk, xsid), max(xtuk, xsid)

    def f(x: float) -> float:
        return float(pdunnx(np.array(x), k, np.array(df))) - level

    return zeroin(f, lo, hi, f(lo), f(hi), 5e-4)


def _zapsmall(x: np.ndarray, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall(x)`` (``round`` to ``digits`` significant digits of ``max |x|``)."""
    finite = np.abs(x[~np.isnan(x)])
    mx = float(finite.max()) if finite.size else 0.0
    if mx > 0:
        d = 0 if math.isinf(mx) else max(0, digits - math.ceil(math.log10(mx)))
    else:
        d = digits
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(x), np.round(x, d), x)


def _p_adjust(p: np.ndarray, method: str) -> np.ndarray:
    """R's ``p.adjust`` for one family; NaN p values stay NaN and do not count in ``n``."""
    ok = ~np.isnan(p)
    if not ok.all():
        out = np.full(len(p), np.nan)
        out[ok] = _p_adjust(p[ok], method)
        return out
    n = len(p)
    if n == 0:
        return p
    if method == "bonferroni":
        return np.minimum(1.0, n * p)
    if method == "holm":
        o = np.argsort(p, kind="stable")
        adj = np.minimum(1.0, np.maximum.accumulate((n - np.arange(n)) * p[o]))
    else:
        o = np.argsort(-p, kind="stable")
        i = np.arange(n, 0, -1)
        if method == "hochberg":
            mult = (n + 1 - i).astype(float)
        elif method in ("BH", "fdr"):
            mult = n / i
        else:  # BY
            mult = float(np.sum(1.0 / np.arange(1, n + 1))) * n / i
        adj = np.minimum(1.0, np.minimum.accumulate(mult * p[o]))
    out = np.empty(n)
    out[o] = adj
    return out


# --------------------------------------------------------------------------- the family
@dataclass(frozen=True)
class Adjusted:
    """Adjusted p values and critical values of a table of contrasts."""

    p: np.ndarray  # adjusted p values (unadjusted when adjust == "none")
    crit: np.ndarray  # critical values: limits are estimate -/+ crit * se
    adjust: str  # the p-value adjustment applied
    ci_adjust: str  # the confidence-limit adjustment applied
    family_size: int  # contrasts per family (per by group)
    n_means: int  # means compared per family
    note: str  # emmeans-style statement of both


def adjust_family(
    t: np.ndarray,
    df: np.ndarray,
    groups: np.ndarray,
    *,
    adjust: str,
    n_means: int,
    pairs: bool,
    level: float,
    ranks: np.ndarray | None = None,
) -> tuple[Adjusted, str | None]:
    """Adjust a table of t ratios within each family (``groups`` labels the family of each row).

    Every family has the same number of contrasts. ``pairs`` says the family is
    one set of all pairwise comparisons (Tukey is allowed). ``ranks`` (one per
    row) is the rank of the row's family contrast matrix, used by scheffe.
    Returns the adjustment and, when emmeans would change the requested method
    (tukey for non-pairwise contrasts), a message saying so.
    """
    t = np.asarray(t, float)
    df = np.asarray(df, float)
    df = np.where(np.isnan(df), np.inf, df)
    groups = np.asarray(groups)
    n_rows = len(t)
    fam = n_rows // max(len(np.unique(groups)), 1) if n_rows else 0
    changed: str | None = None
    if fam <= 1 and adjust != "scheffe":
        adjust = "none"
    if adjust == "tukey" and not pairs:
        changed = (
            'adjust="tukey" is only appropriate for one set of pairwise comparisons; '
            'it was changed to "sidak", as emmeans does.'
        )
        adjust = "sidak"
    abst = np.abs(t)
    with np.errstate(invalid="ignore"):
        p_unadj = 2 * t_sf(abst, df)
    if adjust == "none":
        p = p_unadj
    elif adjust == "sidak":
        with np.errstate(divide="ignore"):  # p_unadj = 1 (t = 0): log1p(-1) = -inf, p = 1
            p = -np.expm1(fam * np.log1p(-np.minimum(p_unadj, 1.0)))
    elif adjust == "tukey":
        p = _ptukey_sf(math.sqrt(2) * abst, n_means, _zapsmall(df))
    elif adjust == "scheffe":
        r = np.asarray(ranks, float)
        p = _f_sf(t * t / r, r, df)
    elif adjust == "dunnettx":
        p = _dunnx_sf(abst, fam, df)
    else:
        p = np.empty(n_rows)
        for g in _unique_in_order(groups):
            rows = np.flatnonzero(groups == g)
            p[rows] = _p_adjust(p_unadj[rows], adjust)

    ci_adjust = (
        adjust
        if adjust in ("none", "sidak", "tukey", "scheffe", "dunnettx", "bonferroni")
        else "bonferroni"
    )
    crit = _critical(level, df, ci_adjust, fam, n_means, ranks)
    note = _note(adjust, ci_adjust, fam, n_means, level, ranks)
    return Adjusted(
        p=np.asarray(p, float),
        crit=crit,
        adjust=adjust,
        ci_adjust=ci_adjust,
        family_size=fam,
        n_means=n_means,
        note=note,
    ), changed


def _unique_in_order(x: np.ndarray) -> list[object]:
    _, idx = np.unique(x, return_index=True)
    return [x[i] for i in sorted(idx)]


def _critical(
    level: float, df: np.ndarray, how: str, fam: int, n_means: int, ranks: np.ndarray | None
) -> np.ndarray:
    if how == "none":
        return t_upper_quantile(0.5 + level / 2, df)
    if how == "sidak":
        return t_upper_quantile(1 - (1 - level ** (1 / fam)) / 2, df)
    if how == "bonferroni":
        return t_upper_quantile(1 - (1 - level) / fam / 2, df)
    if how == "scheffe":
        r = np.asarray(ranks, float)
        return np.sqrt(r * _f_ppf(level, r, df))
    # tukey / dunnettx: one root per distinct df; df equal to 10 significant digits (e.g.
    # the same Satterthwaite df computed for two rows) share it (error < 1e-12)
    key = np.array([float(f"{d:.10g}") if math.isfinite(d) else d for d in df])
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    uniq = df[first]
    if how == "tukey":
        vals = np.array([qtukey(level, float(n_means), float(d)) / math.sqrt(2) for d in uniq])
    else:
        vals = np.array([qdunnx(level, float(fam), float(d)) for d in uniq])
    return vals[inv.reshape(-1)]


def _note(
    adjust: str, ci_adjust: str, fam: int, n_means: int, level: float, ranks: np.ndarray | None
) -> str:
    def what(how: str, unit: str) -> str:
        if how == "tukey":
            return f"tukey method for comparing a family of {n_means} estimates"
        if how == "scheffe":
            r = sorted({int(v) for v in np.asarray(ranks)}) if ranks is not None else []
            return f"scheffe method with rank {'/'.join(map(str, r))}"
        return f"{how} method for {fam} {unit}"

    lines = [f"Confidence level used: {level:g}"]
    if adjust == "none":
        lines.append(
            f"P values and confidence limits are not adjusted for multiplicity "
            f"(family of {fam} contrast{'s' if fam != 1 else ''} per group)."
        )
        return "\n".join(lines)
    lines.append(f"Conf-level adjustment: {what(ci_adjust, 'estimates')}")
    lines.append(f"P value adjustment: {what(adjust, 'tests')}")
    return "\n".join(lines)
