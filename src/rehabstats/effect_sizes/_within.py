"""Standardized mean change for one group measured twice (pre/post)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._axis import batch_axis
from .._batch_results import BatchEffectSizeResult
from .._results import EffectSizeResult
from .._validate import (
    NanPolicy,
    as_paired_arrays,
    check_ci,
    check_nan_policy,
    check_option,
    show_value,
)
from ..errors import DataError
from ._common import hedges_j, mean_sd, pow2, scalar
from ._intervals import _ncp_limits, normal_limits

__all__ = ["standardized_mean_change"]

_STANDARDIZERS = ("pre", "change", "average", "average_var", "rm")


def standardized_mean_change(
    pre: ArrayLike,
    post: ArrayLike,
    *,
    standardizer: str = "pre",
    correction: bool = True,
    ci: float = 0.95,
    nan_policy: NanPolicy = "omit",
    axis: int | None = 0,
) -> EffectSizeResult | BatchEffectSizeResult:
    r"""Standardized mean change ``post - pre`` of one group.

    Parameters
    ----------
    pre, post : array_like
        Paired measurements (same length; a pair with a missing value is dropped).
    standardizer : {"pre", "change", "average", "average_var", "rm"}, optional
        ``"pre"``: SD of the pre-test (raw-score metric; metafor ``SMCR``).
        ``"change"``: SD of the differences (:math:`d_z`; metafor ``SMCC``).
        ``"average"``: the mean of the two SDs, :math:`(s_{pre} + s_{post})/2`
        (Lakens' :math:`d_{av}`, Lakens 2013 eq. 10).
        ``"average_var"``: the root of the mean of the two variances,
        :math:`\sqrt{(s_{pre}^2 + s_{post}^2)/2}` (Cumming 2013; Westfall's
        :math:`d_a`); this is what R's ``effectsize::rm_d(post, pre, method = "av")``
        calls :math:`d_{av}`, and the result equals that call (estimate, SE and
        interval; ``correction`` = its ``adjust``). The two "average" standardisers
        differ whenever the SDs differ (the mean SD is the smaller).
        ``"rm"``: :math:`d_{rm} = d_z\sqrt{2(1-r)}` (Lakens 2013 eq. 9).
    correction : bool, optional
        Multiply by the exact J(n - 1) (Hedges' small-sample correction, as
        metafor's ``escalc`` does for SMCR/SMCC).
    ci : float, optional
        Confidence level.
    nan_policy : {"omit", "raise"}, optional
        Incomplete pairs are dropped, counted and announced.
    axis : int or None, optional
        Axis holding the observations of inputs with two or more dimensions: the
        result is then a batch whose element ``i`` equals this function on element
        ``i`` (the rule in full under :func:`~rehabstats.effect_sizes.cohens_d`).
        ``None`` ravels each input into one sample.

    Returns
    -------
    EffectSizeResult
        ``n_x`` is the number of pairs; ``details`` holds ``r``, means, SDs,
        ``J`` and ``df``; ``ci_method`` names the interval.

    Notes
    -----
    With :math:`\bar D = \bar{x}_{post} - \bar{x}_{pre}` and J = J(n-1) (or 1):

    * ``"pre"``: :math:`y = J\bar D / s_{pre}`; variance
      :math:`2(1-r)/n + y^2/(2n)` (Becker 1988; metafor ``vtype="LS"``);
      Wald interval (``ci_method="normal"``).
    * ``"change"``: :math:`y = J\bar D / s_D`; SE from :math:`1/n + y^2/(2n)`
      (metafor SMCC); noncentral-t interval on the paired t (``"ncp"``), as
      ``effectsize::cohens_d(paired = TRUE)``.
    * ``"average_var"``: :math:`y = J\bar D / s_a`, :math:`s_a = \sqrt{(s_{pre}^2 +
      s_{post}^2)/2}`, SE :math:`J s_D / (\sqrt{n}\, s_a)` (Algina & Keselman 2003
      eq. 4, the SE of effectsize's ``rm_d(method = "av")``), Wald interval
      :math:`y \pm z\,SE` (``ci_method="normal"``), as effectsize computes it.
    * ``"average"`` and ``"rm"``: the estimate is :math:`d_z` times the fixed
      ratio :math:`s_D / s_{av}` or :math:`\sqrt{2(1-r)}`; the SE and the
      noncentral-t limits of :math:`d_z` are scaled by the same ratio
      (``ci_method="ncp (scaled from d_z)"``), which treats the SDs and ``r`` as
      known: an approximation for small n (Algina & Keselman 2003 discuss
      better intervals for :math:`d_{av}`).

    References
    ----------
    Becker BJ (1988). Synthesizing standardized mean-change measures. Br J Math
    Stat Psychol 41(2):257-278. doi:10.1111/j.2044-8317.1988.tb00901.x
    Lakens D (2013). Calculating and reporting effect sizes. Front Psychol 4:863.
    doi:10.3389/fpsyg.2013.00863
    Cumming G (2013). *Understanding the New Statistics*. Routledge, p. 291.
    Algina J, Keselman HJ (2003). Approximate confidence intervals for effect sizes.
    Educ Psychol Meas 63(4):537-553. doi:10.1177/0013164403256358

    Examples
    --------
    >>> import rehabstats as rs
    >>> res = rs.effect_sizes.standardized_mean_change([10, 12, 9, 14, 11], [13, 15, 10, 18, 12])
    >>> res.measure
    'smc_pre'
    >>> import numpy as np
    >>> pre = np.array([[10, 12, 9, 14, 11], [20, 22, 25, 21, 24]])
    >>> post = np.array([[13, 15, 10, 18, 12], [21, 25, 26, 24, 24]])
    >>> batch = rs.effect_sizes.standardized_mean_change(pre, post, axis=1)
    >>> batch.shape, batch.measure
    ((2,), 'smc_pre')
    """
    ci = check_ci(ci)
    check_option(standardizer, "standardizer", _STANDARDIZERS)
    if not isinstance(correction, (bool, np.bool_)):
        raise DataError(
            f"The 'correction' argument must be True or False; got {show_value(correction)}."
        )
    (pre, post), batch = batch_axis([pre, post], axis)
    if batch is not None:
        from ._batch import run_batch, smc_kernel

        check_nan_policy(nan_policy)
        method = {"pre": "normal", "average_var": "normal", "change": "ncp"}.get(
            standardizer, "ncp (scaled from d_z)"
        )
        return run_batch(
            f"smc_{standardizer}",
            [pre, post],
            ("pre", "post"),
            axis=batch,
            paired=True,
            nan_policy=nan_policy,
            kernel=smc_kernel(standardizer, bool(correction), ci),
            one_sample=lambda a, b: standardized_mean_change(
                a, b, standardizer=standardizer, correction=correction, ci=ci, nan_policy=nan_policy
            ),
            ci_level=ci,
            ci_method=method,
            constants={"standardizer": standardizer},
            stacklevel=4,
        )
    a, b, n_omitted = as_paired_arrays(
        pre, post, ("pre", "post"), nan_policy=nan_policy, min_size=2
    )
    n = int(a.size)
    # means and SDs without squaring values of size 1e300 (exact power-of-two scaling)
    (m_pre, s_pre), (m_post, s_post) = mean_sd(a), mean_sd(b)
    with np.errstate(over="ignore"):
        diff = b - a
    if not np.isfinite(diff).all():
        raise DataError(
            "The differences 'post' - 'pre' overflow double precision (values up "
            f"to {show_value(max(np.abs(a).max(), np.abs(b).max()))})."
        )
    mean_diff, s_diff = mean_sd(diff)
    if s_pre > 0 and s_post > 0:
        r = float(np.corrcoef(a / pow2(np.abs(a).max()), b / pow2(np.abs(b).max()))[0, 1])
    else:
        r = math.nan
    df = n - 1.0
    j = scalar(hedges_j(df)) if correction else 1.0
    details: dict[str, Any] = {
        "df": df,
        "J": j,
        "r": r,
        "mean_pre": m_pre,
        "mean_post": m_post,
        "sd_pre": s_pre,
        "sd_post": s_post,
        "sd_change": s_diff,
        "mean_change": mean_diff,
        "standardizer": standardizer,
    }
    measure = f"smc_{standardizer}"

    if standardizer == "pre":
        if s_pre == 0:
            raise DataError(
                "The standardized mean change with standardizer='pre' is "
                "undefined: 'pre' has zero variance."
            )
        if math.isnan(r):
            raise DataError(
                "The standardized mean change with standardizer='pre' needs the "
                "pre-post correlation, which is undefined because 'post' is "
                "constant."
            )
        y = j * mean_diff / s_pre
        # sqrt(2(1-r)/n + y^2/(2n)) without forming y^2 (no overflow for extreme y)
        se_pre = math.hypot(math.sqrt(2.0 * (1.0 - r) / n), y / math.sqrt(2.0 * n))
        lo, hi = normal_limits(y, se_pre, ci)
        return EffectSizeResult(
            measure=measure,
            estimate=y,
            se=se_pre,
            ci_low=scalar(lo),
            ci_high=scalar(hi),
            ci_level=ci,
            ci_method="normal",
            n_x=n,
            n_y=None,
            n_omitted=n_omitted,
            details=details,
        )

    if s_diff == 0:
        raise DataError(
            f"The standardized mean change with standardizer={show_value(standardizer)} is "
            "undefined: the differences post - pre have zero variance."
        )
    if standardizer == "average_var":
        s_a = math.hypot(s_pre, s_post) / math.sqrt(2.0)
        y = j * mean_diff / s_a
        se = j * s_diff / (math.sqrt(n) * s_a)
        lo, hi = normal_limits(y, se, ci)
        details["sd_average_var"] = s_a
        return EffectSizeResult(
            measure=measure,
            estimate=y,
            se=se,
            ci_low=scalar(lo),
            ci_high=scalar(hi),
            ci_level=ci,
            ci_method="normal",
            n_x=n,
            n_y=None,
            n_omitted=n_omitted,
            details=details,
        )
    if standardizer == "change":
        scale = 1.0
        method = "ncp"
    elif standardizer == "average":
        s_av = (s_pre + s_post) / 2.0
        if s_av == 0:
            raise DataError(
                "standardizer='average' is undefined: 'pre' and 'post' are both constant."
            )
        scale = s_diff / s_av
        details["sd_average"] = s_av
        method = "ncp (scaled from d_z)"
    else:  # "rm"
        if math.isnan(r):
            raise DataError(
                "standardizer='rm' needs the pre-post correlation, which is "
                "undefined because 'pre' or 'post' is constant."
            )
        scale = math.sqrt(2.0 * (1.0 - r))
        method = "ncp (scaled from d_z)"
    d_z = mean_diff / s_diff
    t = d_z * math.sqrt(n)
    lo_ncp, hi_ncp = _ncp_limits(t, df, ci)
    y = j * d_z * scale
    yz = j * d_z
    se = math.hypot(1.0, yz / math.sqrt(2.0)) / math.sqrt(n) * scale
    details.update({"t": t, "scale": scale})
    return EffectSizeResult(
        measure=measure,
        estimate=y,
        se=se,
        ci_low=scalar(lo_ncp) / math.sqrt(n) * j * scale,
        ci_high=scalar(hi_ncp) / math.sqrt(n) * j * scale,
        ci_level=ci,
        ci_method=method,
        n_x=n,
        n_y=None,
        n_omitted=n_omitted,
        details=details,
    )
