"""Demo section: planning the next trial from the bundled CIMT pilot (``cimt_ms``).

Writes into the output folder:

``planning_pilot_design.csv``
    Means per arm and visit, SDs and retention estimated from the pilot by an
    unstructured MMRM (``ParallelTrial.from_pilot``).
``planning_power_curve.csv``
    Simulated power (MMRM, 20% dropout at follow-up, half the pilot's effect)
    per arm size on common random numbers, beside the analytic value of Lu,
    Luo & Chen (2008).
``planning_power_curve.png``
    That power curve with its Clopper-Pearson band, the analytic curve and
    the 80% target.

Small numbers of simulations keep the demo quick; a real plan uses 1,000 or more.
"""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .. import datasets
from ..design import ParallelTrial
from ..power import mmrm_power, power_curve
from . import DemoSection, frame_to_html

__all__ = ["run"]

RETENTION = [1.0, 0.9, 0.8]
N_VALUES = (10, 20, 30, 40)
N_SIMS = 200


def _plan() -> tuple[ParallelTrial, ParallelTrial]:
    pilot = ParallelTrial.from_pilot(
        datasets.load("cimt_ms"), outcome="mal_aou", arm="arm", visit="visit", subject="subject"
    )
    # plan for half the pilot's follow-up advantage (pilot effects are optimistic)
    mean = {
        a: [m[0], m[0] + 0.5 * (m[1] - m[0]), m[0] + 0.5 * (m[2] - m[0])]
        for a, m in pilot.mean.items()
    }
    plan = ParallelTrial(
        n_per_arm=20,
        visits=pilot.visits,
        mean=mean,
        sd=pilot.sd,
        correlation=pilot.correlation,
        retention=RETENTION,
        arms=pilot.arm_labels,
    )
    return pilot, plan


def run(out_dir: Path) -> DemoSection:
    """Estimate the design, simulate the power curve, write the tables and figure."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pilot, plan = _plan()
    est = pilot.pilot
    assert est is not None
    design = est.means.copy()
    design.loc["sd"] = est.sd
    design.loc["retention"] = est.retention
    design = design.reset_index().rename(columns={"arm": "row"})
    curve = power_curve(plan, "mmrm", n_values=N_VALUES, n_sims=N_SIMS, rng=2026)
    table = curve.to_frame()
    delta = plan.effect
    table["analytic_lu_luo_chen"] = [
        mmrm_power(
            n_per_arm=n,
            correlation=plan.correlation,
            retention=RETENTION,
            sd=float(plan.sd[-1]),
            delta=delta,
        )
        for n in table["n"]
    ]
    files = []
    design.to_csv(out / "planning_pilot_design.csv", index=False)
    table.to_csv(out / "planning_power_curve.csv", index=False)
    files += ["planning_pilot_design.csv", "planning_power_curve.csv"]
    fig = curve.plot(
        analytic=lambda n: mmrm_power(
            n_per_arm=n,
            correlation=plan.correlation,
            retention=RETENTION,
            sd=float(plan.sd[-1]),
            delta=delta,
        )
    )
    fig.savefig(out / "planning_power_curve.png", dpi=120)
    plt.close(fig)
    files.append("planning_power_curve.png")
    body = frame_to_html(design, "Design estimated from the CIMT pilot (MMRM, unstructured)")
    body += frame_to_html(
        pd.DataFrame(table),
        f"MMRM power for a difference of {delta:.2f} at follow-up, 20% dropout "
        f"({N_SIMS} simulations per size; analytic: Lu, Luo & Chen 2008)",
    )
    body += (
        "<p class='caption'>Simulated power curve with 95% band and the analytic curve</p>"
        f"<img src='{html.escape('planning_power_curve.png')}' alt='power curve'>"
    )
    return DemoSection(
        title="Planning the next trial (power by simulation)", html=body, files=files
    )
