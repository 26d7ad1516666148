"""The result classes, importable from one public place (``rs.results``).

Every analysis returns one of these; they are defined beside the method that makes
them and collected here for type hints, ``isinstance`` checks and documentation::

    from rehabstats.results import MMRMResult, EffectSizeResult

    def report(fit: MMRMResult) -> str: ...

All share the interface of :class:`Result` (``to_frame()``, ``summary()``, a rich
notebook display). The classes load lazily, so importing this module is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and linters; at run time the classes load lazily
    from ._batch_results import BatchEffectSizeResult
    from ._reliability import BlandAltmanResult, ICCResult
    from ._results import EffectSizeResult, Result
    from .change import ResponderResult
    from .design._parallel import PilotEstimates
    from .effect_sizes._binary import NNTResult
    from .effect_sizes._from_paper import MeanSD
    from .meta._mh import MantelHaenszelResult
    from .meta._result import MetaAnalysisResult
    from .models._ancova import AncovaResult
    from .models._base import LinearModelResult
    from .models._emmeans import ContrastTable
    from .models._lmm import LMMResult
    from .models._mixed_anova import MixedAnovaResult
    from .models._mmrm import MMRMResult
    from .power._simulate import PowerResult, SampleSizeResult
    from .sced._bcsmd import BCSMDResult
    from .sced._bcsmd_hps import HPSResult
    from .sced._classic import CelerationLineResult, CStatisticResult, TwoSDBandResult
    from .sced._describe import SCEDDescription
    from .sced._multilevel import MultilevelResult
    from .sced._piecewise import PiecewiseRegressionResult
    from .sced._randomization import RandomizationResult
    from .tables import Table

# class name -> module that defines it (relative to the package)
_WHERE: dict[str, str] = {
    "Result": "._results",
    "EffectSizeResult": "._results",
    "BatchEffectSizeResult": "._batch_results",
    "NNTResult": ".effect_sizes._binary",
    "MeanSD": ".effect_sizes._from_paper",
    "ResponderResult": ".change",
    "ICCResult": "._reliability",
    "BlandAltmanResult": "._reliability",
    "LinearModelResult": ".models._base",
    "AncovaResult": ".models._ancova",
    "LMMResult": ".models._lmm",
    "MMRMResult": ".models._mmrm",
    "MixedAnovaResult": ".models._mixed_anova",
    "ContrastTable": ".models._emmeans",
    "SCEDDescription": ".sced._describe",
    "TwoSDBandResult": ".sced._classic",
    "CelerationLineResult": ".sced._classic",
    "CStatisticResult": ".sced._classic",
    "RandomizationResult": ".sced._randomization",
    "PiecewiseRegressionResult": ".sced._piecewise",
    "MultilevelResult": ".sced._multilevel",
    "BCSMDResult": ".sced._bcsmd",
    "HPSResult": ".sced._bcsmd_hps",
    "MetaAnalysisResult": ".meta._result",
    "MantelHaenszelResult": ".meta._mh",
    "PowerResult": ".power._simulate",
    "SampleSizeResult": ".power._simulate",
    "PilotEstimates": ".design._parallel",
    "Table": ".tables",
}

__all__ = [
    "AncovaResult",
    "BCSMDResult",
    "BatchEffectSizeResult",
    "BlandAltmanResult",
    "CStatisticResult",
    "CelerationLineResult",
    "ContrastTable",
    "EffectSizeResult",
    "HPSResult",
    "ICCResult",
    "LMMResult",
    "LinearModelResult",
    "MMRMResult",
    "MantelHaenszelResult",
    "MeanSD",
    "MetaAnalysisResult",
    "MixedAnovaResult",
    "MultilevelResult",
    "NNTResult",
    "PiecewiseRegressionResult",
    "PilotEstimates",
    "PowerResult",
    "RandomizationResult",
    "ResponderResult",
    "Result",
    "SCEDDescription",
    "SampleSizeResult",
    "Table",
    "TwoSDBandResult",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], "rehabstats"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rehabstats.results' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
