"""Repeated-measures models: ANCOVA, linear mixed models, MMRM, mixed ANOVA.

Every model result derives from :class:`LinearModelResult` and offers
``coef``, ``anova`` (type III), ``emmeans``, ``contrasts`` and ``effect_sizes``
with small-sample degrees of freedom (Satterthwaite, Kenward-Roger).
"""

from __future__ import annotations

from ._ancova import AncovaResult, ancova
from ._base import DF_METHODS, LinearModelResult
from ._emmeans import ContrastTable
from ._lmm import LMMResult, lmm
from ._mixed_anova import MixedAnovaResult, mixed_anova
from ._mmrm import MMRMResult, mmrm

__all__ = [
    "DF_METHODS",
    "AncovaResult",
    "ContrastTable",
    "LMMResult",
    "LinearModelResult",
    "MMRMResult",
    "MixedAnovaResult",
    "ancova",
    "lmm",
    "mixed_anova",
    "mmrm",
]
