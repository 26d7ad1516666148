"""Power and sample size (``rs.power``): by simulation, and analytic where a formula exists.

- :func:`simulate`: power of a named analysis (t test, ANCOVA, MMRM, LMM,
  mixed ANOVA, single-case randomization test) or any callable under a
  :mod:`rehabstats.design` design, reproducible from one seed whatever the
  number of workers, in parallel through joblib or on a dask.distributed cluster.
- :func:`sample_size`: the smallest size reaching a target power, on common
  random numbers, with the power curve; :func:`power_curve` for given sizes.
- :func:`ttest_power`, :func:`ancova_power` (noncentral t),
  :func:`mmrm_power` and its inverse :func:`mmrm_sample_size`
  (Lu, Luo & Chen 2008, as R's ``longpower::power.mmrm``).
"""

from __future__ import annotations

from ._analytic import ancova_power, mmrm_phi, mmrm_power, mmrm_sample_size, ttest_power
from ._simulate import PowerResult, SampleSizeResult, power_curve, sample_size, simulate

__all__ = [
    "PowerResult",
    "SampleSizeResult",
    "ancova_power",
    "mmrm_phi",
    "mmrm_power",
    "mmrm_sample_size",
    "power_curve",
    "sample_size",
    "simulate",
    "ttest_power",
]
