"""Evidence synthesis (``rs.meta``): study effect sizes, pooling, Mantel-Haenszel.

- :func:`study_effects`: one effect size per study from the summaries a paper
  prints (metafor ``escalc``: MD, SMD, ROM, RR, OR, RD, SMCR, SMCC, PPC) or
  precomputed ``yi``/``vi``/``se``.
- :func:`meta_analysis`: common-effect and random-effects pooling (EE/FE, DL,
  REML, ML, PM, HE, SJ; z or Hartung-Knapp-Sidik-Jonkman), Q-profile τ² CI,
  I², prediction interval (metafor ``rma``, ``confint``, ``predict``);
  :func:`meta_analysis_batch` fits many meta-analyses at once.
- :func:`mantel_haenszel`: pooled RR/OR/RD as metafor ``rma.mh`` (RevMan's
  default for dichotomous outcomes).
"""

from __future__ import annotations

from ._effects import LOG_MEASURES, MEASURES, study_effects
from ._meta import meta_analysis, meta_analysis_batch
from ._mh import MantelHaenszelResult, mantel_haenszel
from ._result import MetaAnalysisResult

__all__ = [
    "LOG_MEASURES",
    "MEASURES",
    "MantelHaenszelResult",
    "MetaAnalysisResult",
    "mantel_haenszel",
    "meta_analysis",
    "meta_analysis_batch",
    "study_effects",
]
