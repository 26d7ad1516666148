"""Demo section: a small meta-analysis of rehabilitation trials with a forest plot.

Writes into the output folder:

``meta_studies.csv``
    Per trial: mean difference in 6-minute walk distance (m) with its CI and weight.
``meta_methods.csv``
    The pooled estimate with every tau^2 estimator, z and Hartung-Knapp-Sidik-Jonkman.
``meta_forest.png``
    Forest plot of the REML + HKSJ fit (weights, pooled diamond, prediction interval).

The six trials are the simulated ``six_mwt_k6`` set of the project's validation data
(typed in below as a paper's table would print them), not real studies.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from .. import meta
from . import DemoSection, frame_to_html

__all__ = ["TRIALS", "methods_table", "run"]

#: Simulated trials (six_mwt_k6): 6MWD after treatment (m), mean/SD/n per arm.
TRIALS = pd.DataFrame(
    {
        "study": ["Study01", "Study02", "Study03", "Study04", "Study05", "Study06"],
        "year": [2001, 2004, 2008, 2009, 2013, 2021],
        "n_t": [16, 21, 30, 24, 29, 10],
        "mean_t": [59.54, 107.68, 65.44, 61.84, 72.7, 81.76],
        "sd_t": [60.88, 48.91, 35.94, 57.59, 71.63, 56.11],
        "n_c": [15, 18, 29, 23, 27, 10],
        "mean_c": [60.64, 14.96, 47.8, 39.5, 44.15, 68.08],
        "sd_c": [41.61, 72.27, 42.17, 67.43, 58.24, 67.43],
    }
)
METHODS = ("EE", "DL", "REML", "ML", "PM", "HE", "SJ")


def methods_table(effects: pd.DataFrame) -> pd.DataFrame:
    """Pooled MD with each tau^2 estimator and both tests, one row per fit."""
    rows = []
    for method in METHODS:
        for test in ("z", "hksj"):
            if method == "EE" and test == "hksj":
                continue
            rows.append(meta.meta_analysis(effects, method=method, test=test).to_frame())
    return pd.concat(rows, ignore_index=True)


def run(out_dir: Path) -> DemoSection:
    """Compute the tables and the forest plot, write them into ``out_dir``, return HTML."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    effects = meta.study_effects(
        TRIALS,
        "MD",
        study="study",
        mean_t="mean_t",
        sd_t="sd_t",
        n_t="n_t",
        mean_c="mean_c",
        sd_c="sd_c",
        n_c="n_c",
    )
    fit = meta.meta_analysis(effects, method="REML", test="hksj")
    studies = fit.studies()
    methods = methods_table(effects)
    studies.to_csv(out / "meta_studies.csv", index=False)
    methods.to_csv(out / "meta_methods.csv", index=False)
    fig = fit.forest(xlabel="Difference in 6-minute walk distance (m)")
    fig.savefig(out / "meta_forest.png", dpi=120)
    parts = [
        "<p>Six <strong>simulated</strong> trials of walking rehabilitation (6-minute walk "
        "distance after treatment, treatment minus control), pooled as metafor's "
        "<code>rma</code> would: REML with the Hartung-Knapp-Sidik-Jonkman test, Q-profile "
        "interval for tau&sup2;, prediction interval.</p>",
        f"<pre>{html.escape(fit.summary())}</pre>",
        "<img src='meta_forest.png' alt='forest plot'>",
        frame_to_html(
            studies, caption="Per trial: mean difference (m), 95% CI, weight (%) [meta_studies.csv]"
        ),
        frame_to_html(methods, caption="Every tau^2 estimator, z and HKSJ [meta_methods.csv]"),
    ]
    return DemoSection(
        title="Meta-analysis of small trials (simulated 6MWT trials)",
        html="\n".join(parts),
        files=("meta_studies.csv", "meta_methods.csv", "meta_forest.png"),
    )
