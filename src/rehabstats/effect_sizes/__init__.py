"""Effect sizes with confidence intervals, matching R's effectsize and metafor.

Between groups: :func:`cohens_d`, :func:`hedges_g`, :func:`glass_delta`,
:func:`smd_from_summary`, :func:`smd_from_t`. Within a group:
:func:`standardized_mean_change`. Pretest-posttest-control: :func:`ppc_smd`,
:func:`ppc_smd_from_summary` (Morris 2008). Rank-based: :func:`cliffs_delta`,
:func:`rank_biserial`, :func:`prob_superiority`. Binary outcomes:
:func:`risk_difference`, :func:`risk_ratio`, :func:`odds_ratio`, :func:`nnt`.
From what papers print: :func:`se_from_ci`, :func:`sd_from_ci`,
:func:`se_from_p`, :func:`mean_sd_from_median`, :func:`check_ci`.
Conversions: :func:`d_to_r`, :func:`r_to_d`, :func:`d_to_odds_ratio`,
:func:`odds_ratio_to_d`.

Every function returns an :class:`~rehabstats._results.EffectSizeResult`
(conversions return numbers). The two-sample functions (``cohens_d``,
``hedges_g``, ``glass_delta``, ``cliffs_delta``, ``rank_biserial``,
``prob_superiority``, ``standardized_mean_change``) also take batches, scipy
style: arrays with two or more dimensions and ``axis=`` (default 0) give a
:class:`BatchEffectSizeResult` of arrays whose element i equals the call on
element i, e.g. ``hedges_g(x, y, axis=1)`` for 100,000 pairs of samples with
their noncentral-t intervals in a fraction of a second. Vectorised cores for batches of summaries
(``_hedges_g_core``, ``_smd_core``, ``_cliffs_delta_core``, ``_newcombe_core``,
``ncp_limits``) live in the private modules.
"""

from __future__ import annotations

from .._batch_results import BatchEffectSizeResult
from .._results import EffectSizeResult
from ._binary import NNTResult, nnt, odds_ratio, risk_difference, risk_ratio
from ._conversions import d_to_odds_ratio, d_to_r, odds_ratio_to_d, r_to_d
from ._from_paper import MeanSD, check_ci, mean_sd_from_median, sd_from_ci, se_from_ci, se_from_p
from ._intervals import ncp_limits
from ._nonparametric import cliffs_delta, prob_superiority, rank_biserial
from ._ppc import ppc_smd, ppc_smd_from_summary
from ._standardized import cohens_d, glass_delta, hedges_g, smd_from_summary, smd_from_t
from ._within import standardized_mean_change

__all__ = [
    "BatchEffectSizeResult",
    "EffectSizeResult",
    "MeanSD",
    "NNTResult",
    "check_ci",
    "cliffs_delta",
    "cohens_d",
    "d_to_odds_ratio",
    "d_to_r",
    "glass_delta",
    "hedges_g",
    "mean_sd_from_median",
    "ncp_limits",
    "nnt",
    "odds_ratio",
    "odds_ratio_to_d",
    "ppc_smd",
    "ppc_smd_from_summary",
    "prob_superiority",
    "r_to_d",
    "rank_biserial",
    "risk_difference",
    "risk_ratio",
    "sd_from_ci",
    "se_from_ci",
    "se_from_p",
    "smd_from_summary",
    "smd_from_t",
    "standardized_mean_change",
]
