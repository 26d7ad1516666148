"""Figures (``rs.plot``): each function returns a :class:`matplotlib.figure.Figure`.

- :func:`sced`: the standard single-case graph (phases, phase-change lines,
  multiple-baseline panels, optional mean / trend / band / celeration overlays).
- :func:`trajectories`: mean ± CI per arm per visit for a trial (:func:`trajectory_summary`
  gives the same numbers as a table).
- :func:`forest`: a forest plot of effect sizes or contrasts with their CIs.
- :func:`emmeans`: a fitted model's estimated marginal means by arm and visit (emmeans' ``emmip``).
"""

from __future__ import annotations

from ._emmeans import emmeans
from ._forest import forest
from ._sced import sced
from ._trajectories import trajectories, trajectory_summary

__all__ = ["emmeans", "forest", "sced", "trajectories", "trajectory_summary"]
