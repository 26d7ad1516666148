"""Trial and single-case designs that simulate data (``rs.design``).

- :class:`ParallelTrial`: a parallel-group RCT with repeated measures,
  correlated visits and monotone dropout; :meth:`ParallelTrial.from_pilot`
  estimates one from pilot data.
- :class:`SingleCaseDesign`: A-B, A-B-A-B and multiple-baseline designs with
  randomized phase changes, level and slope effects, AR(1) errors, counts or
  proportions.

Both have ``.simulate(rng=None)`` and feed :func:`rehabstats.power.simulate`.
"""

from __future__ import annotations

from ._parallel import ParallelTrial, PilotEstimates
from ._single_case import SingleCaseDesign

__all__ = ["ParallelTrial", "PilotEstimates", "SingleCaseDesign"]
