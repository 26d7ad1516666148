"""Single-case experimental designs (``rs.sced``).

Effect-size indices (non-overlap and parametric) validated against the R
packages SingleCaseES 0.7.4 and scan 0.67.1, a batch function over tidy
long data, descriptive/visual-analysis summaries and (from the companion
modules) classic visual-analysis aids, piecewise regression and
randomization tests.

The index functions also take batches of series, scipy style: ``nap(baseline,
treatment, axis=1)`` with arrays of shape ``(n_series, n_A)`` and ``(n_series,
n_B)`` returns a :class:`~rehabstats._batch_results.BatchEffectSizeResult` whose
element i equals ``nap(baseline[i], treatment[i])``, computed by the vectorised
cores of :func:`effect_sizes`.
"""

from __future__ import annotations

from ._batch import combine_phase_pairs, effect_sizes, ird_pooled, pand_pooled
from ._describe import SCEDDescription, describe
from ._nap_tau import nap, tau
from ._overlap import ird, pand, pem, pnd
from ._parametric import lor, lrm, lrrd, lrri, pogo, smd
from ._registry import INDICES, index_names
from ._tau_bc import corrected_tau, tau_bc
from ._tau_u import combine_tau_u, tau_u, tau_u_table

# isort: split
# --- companion SCED modules (the other SCED engineer): visual-analysis aids,
# --- piecewise/multilevel regression, randomization tests
from ._classic import (
    CelerationLineResult,
    CStatisticResult,
    TwoSDBandResult,
    c_statistic,
    celeration_line,
    two_sd_band,
)
from ._multilevel import MultilevelResult, multilevel
from ._piecewise import PiecewiseRegressionResult, piecewise_regression
from ._randomization import RandomizationResult, randomization_test, randomization_test_batch

__all__ = [
    "INDICES",
    "CStatisticResult",
    "CelerationLineResult",
    "MultilevelResult",
    "PiecewiseRegressionResult",
    "RandomizationResult",
    "SCEDDescription",
    "TwoSDBandResult",
    "c_statistic",
    "celeration_line",
    "combine_phase_pairs",
    "combine_tau_u",
    "corrected_tau",
    "describe",
    "effect_sizes",
    "index_names",
    "ird",
    "ird_pooled",
    "lor",
    "lrm",
    "lrrd",
    "lrri",
    "multilevel",
    "nap",
    "pand",
    "pand_pooled",
    "pem",
    "piecewise_regression",
    "pnd",
    "pogo",
    "randomization_test",
    "randomization_test_batch",
    "smd",
    "tau",
    "tau_bc",
    "tau_u",
    "tau_u_table",
    "two_sd_band",
]

# --- design-comparable SMD (evidence synthesis, issue 9)
from ._bcsmd import BCSMDResult, bc_smd
from ._bcsmd_hps import HPSResult, bc_smd_hps

__all__ += ["BCSMDResult", "HPSResult", "bc_smd", "bc_smd_hps"]
