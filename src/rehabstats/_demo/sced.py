"""Demo section: single-case analysis of the simulated CIMT-for-the-leg multiple-baseline study.

Writes into the output folder:

``sced_cimt_leg_walk.png``, ``sced_cimt_leg_tug.png``
    The multiple-baseline graphs (phase means and the baseline celeration line).
``sced_classic.csv``
    Per participant and outcome: two-SD band, split-middle celeration line with
    its binomial test, and Tryon's C on the baseline.
``sced_randomization.csv``
    Randomization tests: the multiple-baseline design per outcome and each
    participant's A-B series (mean difference, exhaustive enumeration).
``sced_piecewise.csv``
    Piecewise regression (scan's model W) per participant for both outcomes.
``sced_effect_sizes.csv``
    NAP, Tau-U, Tau-BC and LRRi/LRRd per participant (when the index functions exist).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Literal

import pandas as pd

from .. import datasets
from ..sced._classic import c_statistic, celeration_line, two_sd_band
from ..sced._piecewise import piecewise_regression
from ..sced._randomization import randomization_test
from . import DemoSection, frame_to_html

__all__ = ["DATASET", "OUTCOMES", "classic_table", "randomization_table", "run"]

DATASET = "cimt_leg_mbd"
#: outcome column -> (direction of improvement, label)
OUTCOMES: dict[str, tuple[Literal["increase", "decrease"], str]] = {
    "walk_6min_m": ("increase", "6-minute walk (m)"),
    "tug_s": ("decrease", "Timed Up and Go (s)"),
}


def classic_table(df: pd.DataFrame) -> pd.DataFrame:
    """Two-SD band, celeration line and baseline C statistic per participant and outcome."""
    rows = []
    for outcome, (improvement, _) in OUTCOMES.items():
        for pid, grp in df.groupby("participant", sort=True):
            a = grp.loc[grp["phase"] == "A", outcome].to_numpy(dtype=float)
            b = grp.loc[grp["phase"] == "B", outcome].to_numpy(dtype=float)
            band = two_sd_band(a, b, improvement=improvement)
            line = celeration_line(a, b, improvement=improvement, null=0.5)
            c_a = c_statistic(a)
            rows.append(
                {
                    "participant": pid,
                    "outcome": outcome,
                    "improvement": improvement,
                    "n_baseline": a.size,
                    "n_treatment": b.size,
                    "band_lower": band.lower,
                    "band_upper": band.upper,
                    "band_n_outside": band.n_outside,
                    "band_max_consecutive": band.max_consecutive_outside,
                    "band_significant": band.significant,
                    "celeration_slope": line.slope,
                    "celeration_n_improved": line.n_improved,
                    "celeration_p": line.p_value,
                    "c_baseline": c_a.estimate,
                    "c_baseline_p": c_a.p_value,
                }
            )
    return pd.DataFrame(rows)


def randomization_table(df: pd.DataFrame) -> pd.DataFrame:
    """Randomization tests (mean difference, min. phase length 3) for the design and each case."""
    rows = []
    for outcome, (improvement, _) in OUTCOMES.items():
        res = randomization_test(
            df,
            outcome=outcome,
            phase="phase",
            session="session",
            case="participant",
            improvement=improvement,
        )
        rows.append(
            {
                "participant": "all (multiple baseline)",
                "outcome": outcome,
                **res.to_frame().iloc[0].to_dict(),
            }
        )
        for pid, grp in df.groupby("participant", sort=True):
            res = randomization_test(
                grp, outcome=outcome, phase="phase", session="session", improvement=improvement
            )
            rows.append(
                {"participant": pid, "outcome": outcome, **res.to_frame().iloc[0].to_dict()}
            )
    return pd.DataFrame(rows)


def _piecewise_table(df: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for outcome in OUTCOMES:
        fit = piecewise_regression(
            df, outcome=outcome, phase="phase", session="session", case="participant", model="W"
        )
        parts.append(fit.to_frame().drop(columns="scan_term").assign(outcome=outcome))
    table = pd.concat(parts, ignore_index=True)
    return table[["outcome", *[c for c in table.columns if c != "outcome"]]]


def _effect_size_table(df: pd.DataFrame) -> pd.DataFrame | None:
    try:
        sced = importlib.import_module("rehabstats.sced")
        batch = sced.effect_sizes
    except (ImportError, AttributeError):  # the index functions are a companion module
        return None
    parts = []
    for outcome, (improvement, _) in OUTCOMES.items():
        lrr = "lrri" if improvement == "increase" else "lrrd"
        table = batch(
            df,
            outcome=outcome,
            phase="phase",
            session="session",
            case="participant",
            indices=("nap", "tau_u", "tau_bc", lrr),
            improvement=improvement,
        )
        parts.append(table.assign(outcome=outcome))
    return pd.concat(parts, ignore_index=True)


def run(out_dir: Path) -> DemoSection:
    """Run the single-case analyses and write tables and figures into ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..plot._sced import sced as sced_plot

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    df = datasets.load(DATASET)
    files: list[str] = []
    html = [
        "<p>Simulated multiple-baseline study (4 participants, baselines of 5, 7, 9 and 11 "
        "sessions) of constraint-induced movement therapy for the leg after stroke; see "
        "<code>rehabstats.datasets.codebook('cimt_leg_mbd')</code>.</p>"
    ]
    for outcome, (improvement, label) in OUTCOMES.items():
        fig = sced_plot(
            df,
            outcome=outcome,
            phase="phase",
            session="session",
            case="participant",
            overlays=("mean", "celeration"),
            improvement=improvement,
            ylabel=label,
        )
        name = f"sced_cimt_leg_{'walk' if outcome.startswith('walk') else 'tug'}.png"
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        files.append(name)
        html.append(
            f"<p class='caption'>{label}: phase means (blue) and baseline "
            f"celeration line (red, dotted)</p><img src='{name}' alt='{label}'>"
        )
    tables = {
        "sced_classic.csv": (classic_table(df), "Two-SD band, celeration line, C statistic"),
        "sced_randomization.csv": (
            randomization_table(df),
            "Randomization tests (mean difference)",
        ),
        "sced_piecewise.csv": (_piecewise_table(df), "Piecewise regression (model W)"),
    }
    es = _effect_size_table(df)
    if es is not None:
        tables["sced_effect_sizes.csv"] = (es, "Single-case effect sizes")
    for name, (table, caption) in tables.items():
        table.to_csv(out / name, index=False)
        files.append(name)
        html.append(frame_to_html(table, caption))
    return DemoSection(
        title="Single-case design: CIMT for the leg (multiple baseline)",
        html="\n".join(html),
        files=tuple(files),
    )
