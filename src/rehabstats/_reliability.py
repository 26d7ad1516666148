"""Measurement studies: intraclass correlation and Bland–Altman agreement.

Behind every MDC in a rehab paper is a test–retest or inter-rater study. This
module gives the two analyses such studies report; both are re-exported from
:mod:`rehabstats.change` (``rs.change.icc``, ``rs.change.bland_altman``).

References
----------
Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater
reliability. *Psychological Bulletin* 86(2):420–428.
McGraw KO, Wong SP (1996). Forming inferences about some intraclass correlation
coefficients. *Psychological Methods* 1(1):30–46 (confidence intervals).
Weir JP (2005). Quantifying test-retest reliability using the intraclass correlation
coefficient and the SEM. *J Strength Cond Res* 19(1):231–240.
Bland JM, Altman DG (1986). Statistical methods for assessing agreement between two
methods of clinical measurement. *Lancet* 327(8476):307–310.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ._results import Result, format_number
from ._validate import (
    as_paired_arrays,
    check_ci,
    check_columns,
    check_nan_policy,
    check_numeric_column,
    check_option,
    check_positive,
)
from .errors import DataError, DesignError, RehabStatsWarning

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["BlandAltmanResult", "ICCResult", "bland_altman", "icc"]

ICC_TYPES = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
_ICC_DESCRIPTION = {
    "ICC1": "one-way random, single rater",
    "ICC2": "two-way random, absolute agreement, single rater",
    "ICC3": "two-way mixed, consistency, single rater",
    "ICC1k": "one-way random, mean of k raters",
    "ICC2k": "two-way random, absolute agreement, mean of k raters",
    "ICC3k": "two-way mixed, consistency, mean of k raters",
}


def _score_matrix(
    data: Any, subject: str, rater: str, score: str, nan_policy: str
) -> tuple[np.ndarray, int]:
    """Subjects x raters matrix of scores; incomplete subjects dropped (and announced)."""
    frame = check_columns(data, {"subject": subject, "rater": rater, "score": score})
    values = check_numeric_column(frame, score, "score")
    if np.isinf(values).any():
        bad = frame.loc[np.isinf(values), subject].tolist()
        raise DataError(f"Column '{score}' has infinite scores (subjects {bad}).")
    from ._entry import check_labels

    check_labels(frame[rater], rater)
    if frame[subject].isna().any() or frame[rater].isna().any():
        raise DataError(f"Columns '{subject}' and '{rater}' must not have missing labels.")
    work = pd.DataFrame(
        {"s": frame[subject].to_numpy(), "r": frame[rater].to_numpy(), "y": values.to_numpy()}
    )
    dup = work.duplicated(["s", "r"], keep=False)
    if dup.any():
        pairs = work.loc[dup, ["s", "r"]].drop_duplicates().head(5).itertuples(index=False)
        shown = ", ".join(f"({p.s!r}, {p.r!r})" for p in pairs)
        raise DataError(
            f"Each subject is rated once per rater/session: '{subject}' x '{rater}' pairs "
            f"{shown} appear more than once."
        )
    wide = work.pivot(index="s", columns="r", values="y")
    incomplete = wide.isna().any(axis=1)
    if incomplete.any():
        ids = [str(i) for i in wide.index[incomplete]]
        if nan_policy == "raise":
            raise DataError(f"Subjects {ids} lack a score for some rater/session in '{score}'.")
        import warnings

        warnings.warn(
            f"{len(ids)} subject(s) without a score from every rater/session were dropped "
            f"(ICC needs complete data): {ids}.",
            RehabStatsWarning,
            stacklevel=4,
        )
        wide = wide[~incomplete]
    n, k = wide.shape
    if k < 2:
        raise DesignError(f"ICC needs at least two raters/sessions in '{rater}'; got {k}.")
    if n < 2:
        raise DesignError(
            f"ICC needs at least two subjects ('{subject}') with a complete set of "
            f"scores in '{score}' from every rater ('{rater}'); got {n}."
        )
    return wide.to_numpy(dtype=float), int(incomplete.sum())


@dataclass(frozen=True)
class ICCResult(Result):
    """The six Shrout–Fleiss intraclass correlations (see :func:`icc`).

    Attributes
    ----------
    table : pandas.DataFrame
        Rows ``ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k``; columns ``type, description,
        icc, f, df1, df2, p, ci_low, ci_high``.
    n_subjects, n_raters, n_omitted : int
    ci_level : float
    mean_squares : Mapping
        ``rows`` (subjects), ``columns`` (raters), ``error`` and ``within``.
    sd : float
        SD of all scores used (ddof 1), the default SD for :meth:`sem`.
    """

    table: pd.DataFrame
    n_subjects: int
    n_raters: int
    n_omitted: int
    ci_level: float
    mean_squares: dict[str, float] = field(default_factory=dict)
    sd: float = math.nan

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def reliability(self, type: str = "ICC2") -> float:
        """The ICC of one form (default ``ICC2``, Shrout–Fleiss ICC(2,1))."""
        check_option(type, "type", ICC_TYPES)
        return float(self.table.set_index("type").loc[type, "icc"])

    def sem(self, type: str = "ICC2", sd: float | None = None) -> float:
        """SEM = SD·√(1 − ICC) (Weir 2005), with the SD of all scores unless ``sd`` is given."""
        from .change import sem as _sem

        rel = self.reliability(type)
        if not 0 <= rel <= 1:
            raise DesignError(
                f"{type} = {format_number(rel)} lies outside [0, 1]; no SEM can be derived from it."
            )
        return float(_sem(self.sd if sd is None else sd, rel))

    def mdc(self, type: str = "ICC2", sd: float | None = None, *, level: float = 0.95) -> float:
        """MDC = z·√2·SEM, the smallest change beyond measurement error (as ``rs.change.mdc``)."""
        from .change import mdc as _mdc

        rel = self.reliability(type)
        if not 0 <= rel <= 1:
            raise DesignError(
                f"{type} = {format_number(rel)} lies outside [0, 1]; no MDC can be derived from it."
            )
        return float(_mdc(self.sd if sd is None else sd, rel, level=level))

    def summary(self) -> str:
        pct = format_number(100 * self.ci_level, 0)
        head = (
            f"Intraclass correlations (Shrout & Fleiss 1979): {self.n_subjects} subjects x "
            f"{self.n_raters} raters/sessions; {pct}% CIs (McGraw & Wong 1996)"
        )
        if self.n_omitted:
            head += f"; {self.n_omitted} incomplete subject(s) omitted"
        body = self.table.drop(columns="description").to_string(
            index=False, float_format=lambda v: format_number(v, 3)
        )
        return head + "\n" + body

    def __repr__(self) -> str:
        return f"<ICCResult\n{self.summary()}>"


def icc(
    data: pd.DataFrame,
    *,
    subject: str,
    rater: str,
    score: str,
    ci: float = 0.95,
    nan_policy: str = "omit",
) -> ICCResult:
    r"""Intraclass correlations of a reliability study: all six Shrout–Fleiss forms.

    From the two-way ANOVA of the subjects x raters table (``rater`` may be the rater
    or the test session of a test–retest study) with mean squares for subjects
    (:math:`MS_R`), raters (:math:`MS_C`), error (:math:`MS_E`) and within subjects
    (:math:`MS_W`), with *n* subjects and *k* raters (Shrout & Fleiss 1979):

    - ICC1 = (MS_R − MS_W) / (MS_R + (k − 1) MS_W), one-way random;
    - ICC2 = (MS_R − MS_E) / (MS_R + (k − 1) MS_E + k (MS_C − MS_E)/n), two-way random,
      absolute agreement — ICC(2,1), the usual choice for test–retest MDCs (Weir 2005);
    - ICC3 = (MS_R − MS_E) / (MS_R + (k − 1) MS_E), two-way mixed, consistency;
    - the ``k`` forms are the reliabilities of the mean of the k ratings.

    F tests as Shrout & Fleiss; confidence intervals by McGraw & Wong (1996), with a
    Satterthwaite df for ICC2/ICC2k. These equal R's ``psych::ICC`` (and pingouin's
    ``intraclass_corr``, whose intervals are rounded to two decimals).

    Parameters
    ----------
    data : pandas.DataFrame
        Long data, one row per subject and rater/session.
    subject, rater, score : str
        Column names.
    ci : float
        Confidence level.
    nan_policy : {"omit", "raise"}
        Subjects without a score from every rater are dropped with a warning
        (``"omit"``) or raise a DataError.

    Returns
    -------
    ICCResult
        ``.to_frame()`` has rows ``ICC1 … ICC3k`` with ``icc, f, df1, df2, p, ci_low,
        ci_high``; ``.sem()`` and ``.mdc()`` derive the SEM and MDC from it.

    Examples
    --------
    Shrout & Fleiss (1979), 6 targets rated by 4 judges:

    >>> import pandas as pd, rehabstats as rs
    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> long = pd.DataFrame([(i, j, v) for i, row in enumerate(sf) for j, v in enumerate(row)],
    ...                     columns=["subject", "judge", "score"])
    >>> res = rs.change.icc(long, subject="subject", rater="judge", score="score")
    >>> res.to_frame()["icc"].round(2).tolist()
    [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
    """
    level = check_ci(ci)
    policy = check_nan_policy(nan_policy)
    Y, n_omitted = _score_matrix(data, subject, rater, score, policy)
    n, k = Y.shape
    # work in units of a power of two (exact) so that squares cannot overflow; the ICCs,
    # F and p are scale-free, the SD and mean squares are scaled back
    top = float(np.abs(Y).max())
    unit = 2.0 ** round(np.log2(top)) if top > 0 else 1.0
    Y = Y / unit
    grand = Y.mean()
    ss_rows = k * ((Y.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((Y.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((Y - grand) ** 2).sum()
    ss_err = ss_total - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_err) / (n * (k - 1))
    if not msr > 0:
        raise DesignError(
            f"The subjects' mean scores in '{score}' are all equal (subject mean square 0): "
            "with no differences between subjects the ICC is undefined."
        )
    if not mse > 0:
        raise DesignError(
            f"The subjects x raters table of '{score}' has no residual variation (error mean "
            "square 0: every rater/session differs from the others by a constant, or all agree "
            "exactly), so the ICC's F tests and intervals are undefined."
        )
    icc1 = (msr - msw) / (msr + (k - 1) * msw)
    icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    icc3 = (msr - mse) / (msr + (k - 1) * mse)
    f1, f3 = msr / msw, msr / mse
    df1, df2_1, df2_3 = n - 1, n * (k - 1), (n - 1) * (k - 1)
    p1, p3 = stats.f.sf(f1, df1, df2_1), stats.f.sf(f3, df1, df2_3)
    q = 1 - (1 - level) / 2

    def f_limits(f: float, d1: float, d2: float) -> tuple[float, float]:
        return f / stats.f.ppf(q, d1, d2), f * stats.f.ppf(q, d2, d1)

    fl1, fu1 = f_limits(f1, df1, df2_1)
    fl3, fu3 = f_limits(f3, df1, df2_3)
    lo1, hi1 = (fl1 - 1) / (fl1 + k - 1), (fu1 - 1) / (fu1 + k - 1)
    lo3, hi3 = (fl3 - 1) / (fl3 + k - 1), (fu3 - 1) / (fu3 + k - 1)
    # ICC2: Satterthwaite df of the denominator (McGraw & Wong 1996, Table 7, case 2A)
    a = k * icc2 / (n * (1 - icc2))
    b = 1 + k * icc2 * (n - 1) / (n * (1 - icc2))
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / df2_3)
    fstar_u = stats.f.ppf(q, n - 1, v)
    fstar_l = stats.f.ppf(q, v, n - 1)
    common = k * msc + (k * n - k - n) * mse
    lo2 = n * (msr - fstar_u * mse) / (fstar_u * common + n * msr)
    hi2 = n * (fstar_l * msr - mse) / (common + n * fstar_l * msr)

    def to_k(r: float) -> float:
        return r * k / (1 + r * (k - 1))

    rows = [
        ("ICC1", icc1, f1, df1, df2_1, p1, lo1, hi1),
        ("ICC2", icc2, f3, df1, df2_3, p3, lo2, hi2),
        ("ICC3", icc3, f3, df1, df2_3, p3, lo3, hi3),
        ("ICC1k", (msr - msw) / msr, f1, df1, df2_1, p1, 1 - 1 / fl1, 1 - 1 / fu1),
        ("ICC2k", (msr - mse) / (msr + (msc - mse) / n), f3, df1, df2_3, p3, to_k(lo2), to_k(hi2)),
        ("ICC3k", (msr - mse) / msr, f3, df1, df2_3, p3, 1 - 1 / fl3, 1 - 1 / fu3),
    ]
    table = pd.DataFrame(rows, columns=["type", "icc", "f", "df1", "df2", "p", "ci_low", "ci_high"])
    table.insert(1, "description", [_ICC_DESCRIPTION[t] for t in table["type"]])
    return ICCResult(
        table=table,
        n_subjects=n,
        n_raters=k,
        n_omitted=n_omitted,
        ci_level=level,
        mean_squares={
            k_: float(v) * unit * unit
            for k_, v in (("rows", msr), ("columns", msc), ("error", mse), ("within", msw))
        },
        sd=float(Y.std(ddof=1)) * unit,
    )


@dataclass(frozen=True)
class BlandAltmanResult(Result):
    """Bland–Altman agreement of two measurements (see :func:`bland_altman`)."""

    n: int
    bias: float
    sd: float
    loa_low: float
    loa_high: float
    bias_ci_low: float
    bias_ci_high: float
    loa_low_ci_low: float
    loa_low_ci_high: float
    loa_high_ci_low: float
    loa_high_ci_high: float
    multiplier: float
    ci_level: float
    n_omitted: int
    means: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))
    differences: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))

    def to_frame(self) -> pd.DataFrame:
        """Rows ``bias, loa_low, loa_high`` with ``estimate, ci_low, ci_high``."""
        return pd.DataFrame(
            {
                "quantity": ["bias", "loa_low", "loa_high"],
                "estimate": [self.bias, self.loa_low, self.loa_high],
                "ci_low": [self.bias_ci_low, self.loa_low_ci_low, self.loa_high_ci_low],
                "ci_high": [self.bias_ci_high, self.loa_low_ci_high, self.loa_high_ci_high],
            }
        )

    def summary(self) -> str:
        pct = format_number(100 * self.ci_level, 0)
        f = format_number
        return (
            f"Bland-Altman agreement, n = {self.n}: bias {f(self.bias)} "
            f"({pct}% CI {f(self.bias_ci_low)} to {f(self.bias_ci_high)}), SD of differences "
            f"{f(self.sd)}; limits of agreement (bias ± {f(self.multiplier, 2)} SD) "
            f"{f(self.loa_low)} ({f(self.loa_low_ci_low)} to {f(self.loa_low_ci_high)}) to "
            f"{f(self.loa_high)} ({f(self.loa_high_ci_low)} to {f(self.loa_high_ci_high)})"
            + (f"; {self.n_omitted} incomplete pair(s) omitted" if self.n_omitted else "")
        )

    def __repr__(self) -> str:
        return f"<BlandAltmanResult {self.summary()}>"

    def plot(
        self,
        ax: Any = None,
        *,
        xlabel: str = "Mean of the two measurements",
        ylabel: str = "Difference (x - y)",
    ) -> Figure:
        """The Bland–Altman plot: differences against means with bias and limits."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(5.5, 4))
        else:
            fig = ax.figure
        ax.scatter(self.means, self.differences, s=18, color="0.2", zorder=3)
        for value, style, label in [
            (self.bias, "-", "bias"),
            (self.loa_low, "--", "lower LoA"),
            (self.loa_high, "--", "upper LoA"),
        ]:
            ax.axhline(value, color="C0" if label == "bias" else "C3", ls=style, lw=1)
            ax.annotate(
                f"{label} {format_number(value, 1)}",
                xy=(1, value),
                xycoords=("axes fraction", "data"),
                xytext=(-4, 3),
                textcoords="offset points",
                ha="right",
                fontsize=8,
            )
        for lo, hi in [
            (self.bias_ci_low, self.bias_ci_high),
            (self.loa_low_ci_low, self.loa_low_ci_high),
            (self.loa_high_ci_low, self.loa_high_ci_high),
        ]:
            ax.axhspan(lo, hi, color="0.85", zorder=0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        return fig


def bland_altman(
    x: Any, y: Any, *, multiplier: float = 1.96, ci: float = 0.95, nan_policy: str = "omit"
) -> BlandAltmanResult:
    r"""Bland–Altman limits of agreement between two measurements of the same people.

    With differences :math:`d_i = x_i - y_i`, bias :math:`\bar d` and SD *s*, the limits of
    agreement are :math:`\bar d \pm 1.96 s` (``multiplier``). Their confidence intervals
    follow Bland & Altman (1986): the bias ± t·s/√n and each limit ± t·√(3s²/n), with t
    the quantile of Student's t on n − 1 df.

    Parameters
    ----------
    x, y : array-like
        Paired measurements (method A and method B, or session 1 and 2).
    multiplier : float
        SD multiplier of the limits (1.96 for 95% limits).
    ci : float
        Confidence level of the intervals for the bias and the limits.
    nan_policy : {"omit", "raise"}
        Pairs with a missing value are dropped with a warning or raise.

    Returns
    -------
    BlandAltmanResult
        ``bias, sd, loa_low, loa_high`` and their CIs; ``.plot()`` draws the figure.

    Examples
    --------
    Peak expiratory flow (l/min) by the Wright and the mini Wright meter (Bland &
    Altman 1986, first readings of 17 people):

    >>> import rehabstats as rs
    >>> wright = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478,
    ...           178, 423, 427]
    >>> mini = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477,
    ...         259, 350, 451]
    >>> ba = rs.change.bland_altman(wright, mini)
    >>> round(ba.bias, 1), round(ba.sd, 1), round(ba.loa_low, 1), round(ba.loa_high, 1)
    (-2.1, 38.8, -78.1, 73.9)

    The paper used bias ± 2 SD (−79.7 to 75.5 from its rounded bias and SD):

    >>> ba2 = rs.change.bland_altman(wright, mini, multiplier=2)
    >>> round(ba2.loa_low, 1), round(ba2.loa_high, 1)
    (-79.6, 75.4)
    """
    level = check_ci(ci)
    mult = check_positive(multiplier, "multiplier")
    a, b, n_omitted = as_paired_arrays(
        x, y, ("x", "y"), nan_policy=check_nan_policy(nan_policy), min_size=2
    )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise DataError("'x' and 'y' must be finite measurements; got an infinite value.")
    scale = max(float(np.abs(a).max()), float(np.abs(b).max()), 1.0)
    d = a / scale - b / scale  # scaled first so that huge values cannot overflow
    n = d.size
    bias = float(d.mean())
    sd = float(d.std(ddof=1))
    t = float(stats.t.ppf(1 - (1 - level) / 2, n - 1))
    se_bias = sd / math.sqrt(n)
    se_loa = math.sqrt(3 * sd**2 / n)
    lo, hi = bias - mult * sd, bias + mult * sd
    s = scale
    return BlandAltmanResult(
        n=n,
        bias=bias * s,
        sd=sd * s,
        loa_low=lo * s,
        loa_high=hi * s,
        bias_ci_low=(bias - t * se_bias) * s,
        bias_ci_high=(bias + t * se_bias) * s,
        loa_low_ci_low=(lo - t * se_loa) * s,
        loa_low_ci_high=(lo + t * se_loa) * s,
        loa_high_ci_low=(hi - t * se_loa) * s,
        loa_high_ci_high=(hi + t * se_loa) * s,
        multiplier=mult,
        ci_level=level,
        n_omitted=n_omitted,
        means=(a + b) / 2,
        differences=a - b,
    )
