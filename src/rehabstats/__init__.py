"""rehabstats: statistics for rehabilitation research, with the numbers R gives.

Import as ``import rehabstats as rs``. Effect sizes and the repeated-measures
models are available at the top level (``rs.hedges_g``, ``rs.mmrm``); the
other capabilities live in their modules: ``rs.change``, ``rs.measures``,
``rs.sced``, ``rs.meta``, ``rs.design``, ``rs.power``, ``rs.data``, ``rs.tables``, ``rs.allocation``, ``rs.plot``, ``rs.datasets``.

Submodules and top-level functions are imported on first use (PEP 562), so that
``import rehabstats`` is fast and matplotlib or the model code load only when needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import errors
from .errors import (
    ConvergenceWarning,
    DataError,
    DesignError,
    RehabStatsError,
    RehabStatsWarning,
)

__version__ = "0.1.0"

#: Public submodules, imported when first used.
_SUBMODULES = (
    "allocation",
    "change",
    "data",
    "datasets",
    "design",
    "effect_sizes",
    "measures",
    "meta",
    "models",
    "plot",
    "power",
    "results",
    "sced",
    "tables",
)
#: Top-level functions and the submodule that defines them.
_FUNCTIONS: dict[str, str] = {
    "check_ci": "effect_sizes",
    "cliffs_delta": "effect_sizes",
    "cohens_d": "effect_sizes",
    "d_to_odds_ratio": "effect_sizes",
    "d_to_r": "effect_sizes",
    "glass_delta": "effect_sizes",
    "hedges_g": "effect_sizes",
    "mean_sd_from_median": "effect_sizes",
    "nnt": "effect_sizes",
    "odds_ratio": "effect_sizes",
    "odds_ratio_to_d": "effect_sizes",
    "ppc_smd": "effect_sizes",
    "ppc_smd_from_summary": "effect_sizes",
    "prob_superiority": "effect_sizes",
    "r_to_d": "effect_sizes",
    "rank_biserial": "effect_sizes",
    "risk_difference": "effect_sizes",
    "risk_ratio": "effect_sizes",
    "sd_from_ci": "effect_sizes",
    "se_from_ci": "effect_sizes",
    "se_from_p": "effect_sizes",
    "smd_from_summary": "effect_sizes",
    "smd_from_t": "effect_sizes",
    "standardized_mean_change": "effect_sizes",
    "ancova": "models",
    "lmm": "models",
    "mixed_anova": "models",
    "mmrm": "models",
}

if TYPE_CHECKING:  # what static tools see: the eager imports
    from . import (
        allocation,
        change,
        data,
        datasets,
        design,
        effect_sizes,
        measures,
        meta,
        models,
        plot,
        power,
        sced,
        tables,
    )
    from .effect_sizes import (
        check_ci,
        cliffs_delta,
        cohens_d,
        d_to_odds_ratio,
        d_to_r,
        glass_delta,
        hedges_g,
        mean_sd_from_median,
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
        sd_from_ci,
        se_from_ci,
        se_from_p,
        smd_from_summary,
        smd_from_t,
        standardized_mean_change,
    )
    from .models import (
        ancova,
        lmm,
        mixed_anova,
        mmrm,
    )


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    if name in _FUNCTIONS:
        value = getattr(importlib.import_module(f".{_FUNCTIONS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rehabstats' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ConvergenceWarning",
    "DataError",
    "DesignError",
    "RehabStatsError",
    "RehabStatsWarning",
    "__version__",
    "allocation",
    "ancova",
    "change",
    "check_ci",
    "cliffs_delta",
    "cohens_d",
    "d_to_odds_ratio",
    "d_to_r",
    "data",
    "datasets",
    "design",
    "effect_sizes",
    "errors",
    "glass_delta",
    "hedges_g",
    "lmm",
    "mean_sd_from_median",
    "measures",
    "meta",
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
    "results",
    "risk_difference",
    "risk_ratio",
    "sced",
    "sd_from_ci",
    "se_from_ci",
    "se_from_p",
    "smd_from_summary",
    "smd_from_t",
    "standardized_mean_change",
    "tables",
]
