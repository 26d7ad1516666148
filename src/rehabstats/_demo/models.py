"""Demo section: repeated-measures models on the simulated CIMT trial (``cimt_ms``).

Writes into the output folder:

``models_ancova.csv``
    ANCOVA of the Motor Activity Log (amount of use) at post and follow-up,
    adjusted for the pre value: CIMT minus control with t intervals.
``models_lmm_arm_differences.csv``
    Random-intercept LMM (REML): CIMT minus control at each visit with
    Satterthwaite, Kenward-Roger and asymptotic (z) degrees of freedom.
``models_lmm_anova.csv``
    Type III F tests of the LMM (Satterthwaite).
``models_mmrm_arm_differences.csv``
    MMRM with an unstructured covariance (Satterthwaite and Kenward-Roger).
    Arm differences are CIMT minus control: "control" is recognised as the
    reference arm (the library's rule), whatever the category order.
``models_trajectories.png``
    Mean MAL per arm and visit with 95% confidence intervals.

The one participant without a follow-up is left out explicitly (rows with a
missing outcome), so the demo runs without warnings.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from .. import datasets
from ..models import ancova, lmm, mmrm
from ..plot._trajectories import trajectories
from . import DemoSection, frame_to_html

__all__ = ["run"]


def _tables() -> dict[str, pd.DataFrame]:
    long = datasets.load("cimt_ms")
    observed = long.dropna(subset=["mal_aou"])
    pre = long.loc[long["visit"] == "pre"].set_index("subject")["mal_aou"]
    with_base = observed.assign(mal_pre=observed["subject"].map(pre))
    rows = []
    for at in ("post", "followup"):
        res = ancova(
            with_base, outcome="mal_aou", arm="arm", baseline="mal_pre", visit="visit", at=at
        )
        rows.append(res.differences.assign(visit=at, n=res.nobs))
    anc = pd.concat(rows, ignore_index=True)
    fit = lmm("mal_aou ~ arm * visit", observed, subject="subject")
    parts = []
    for method in ("satterthwaite", "kenward-roger", "asymptotic"):
        parts.append(
            fit.contrasts("arm", by="visit", method="trt.vs.ctrl", df_method=method).assign(
                df_method=method
            )
        )
    lmm_tab = pd.concat(parts, ignore_index=True)
    mm = mmrm("mal_aou ~ arm * visit", observed, subject="subject", visit="visit", covariance="us")
    mm_tab = pd.concat(
        [
            mm.contrasts("arm", by="visit", method="trt.vs.ctrl", df_method=m).assign(df_method=m)
            for m in ("satterthwaite", "kenward-roger")
        ],
        ignore_index=True,
    )
    return {
        "models_ancova.csv": anc,
        "models_lmm_arm_differences.csv": lmm_tab,
        "models_lmm_anova.csv": fit.anova(),
        "models_mmrm_arm_differences.csv": mm_tab,
    }


def run(out_dir: Path) -> DemoSection:
    """Fit the models, write the tables and the trajectory figure, return the HTML."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = _tables()
    files = []
    for name, table in tables.items():
        table.to_csv(out / name, index=False)
        files.append(name)
    observed = datasets.load("cimt_ms").dropna(subset=["mal_aou"])
    fig = trajectories(observed, outcome="mal_aou", arm="arm", visit="visit", subject="subject")
    fig.savefig(out / "models_trajectories.png", dpi=120)
    files.append("models_trajectories.png")
    captions = {
        "models_ancova.csv": "ANCOVA at post and follow-up (adjusted for pre): CIMT - control",
        "models_lmm_arm_differences.csv": "Random-intercept LMM: arm difference per visit, three df methods",
        "models_lmm_anova.csv": "LMM type III F tests (Satterthwaite)",
        "models_mmrm_arm_differences.csv": "MMRM (unstructured): arm difference per visit",
    }
    body = "".join(frame_to_html(tables[k], captions[k]) for k in captions)
    body += (
        "<p class='caption'>Mean MAL amount of use per arm (95% CI)</p>"
        f"<img src='{html.escape('models_trajectories.png')}' alt='trajectories'>"
    )
    return DemoSection(title="Repeated-measures models (CIMT in MS)", html=body, files=files)
