"""rehabstats: statistics for rehabilitation research, with the numbers R gives.

Import as ``import rehabstats as rs``. Effect sizes and the repeated-measures
models are available at the top level (``rs.hedges_g``, ``rs.mmrm``); the
other capabilities live in their modules: ``rs.change``, ``rs.measures``,
``rs.sced``, ``rs.plot``, ``rs.datasets``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import change, datasets, effect_sizes, errors, measures, models, plot, sced
from .effect_sizes import (
    cliffs_delta,
    cohens_d,
    d_to_odds_ratio,
    d_to_r,
    glass_delta,
    hedges_g,
    nnt,
    odds_ratio,
    odds_ratio_to_d,
    ppc_smd,
    ppc_smd_from_summary,
    prob_superiority,
    r_to_d,
    rank_biserial,
    risk_difference,
    risk_ratio,
    smd_from_summary,
    smd_from_t,
    standardized_mean_change,
)
from .errors import (
    ConvergenceWarning,
    DataError,
    DesignError,
    RehabStatsError,
    RehabStatsWarning,
)
from .models import ancova, lmm, mixed_anova, mmrm

# isort: split
from . import design, power  # planning: designs that simulate data, power

__all__ = [
    "ConvergenceWarning",
    "DataError",
    "DesignError",
    "RehabStatsError",
    "RehabStatsWarning",
    "__version__",
    "ancova",
    "change",
    "cliffs_delta",
    "cohens_d",
    "d_to_odds_ratio",
    "d_to_r",
    "datasets",
    "design",
    "effect_sizes",
    "errors",
    "glass_delta",
    "hedges_g",
    "lmm",
    "measures",
    "mixed_anova",
    "mmrm",
    "models",
    "nnt",
    "odds_ratio",
    "odds_ratio_to_d",
    "plot",
    "power",
    "ppc_smd",
    "ppc_smd_from_summary",
    "prob_superiority",
    "r_to_d",
    "rank_biserial",
    "risk_difference",
    "risk_ratio",
    "sced",
    "smd_from_summary",
    "smd_from_t",
    "standardized_mean_change",
]
