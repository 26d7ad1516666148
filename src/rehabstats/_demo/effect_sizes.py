"""Demo section: effect sizes and individual change on the simulated CIMT trial.

Writes four CSV tables into the output folder and returns the HTML fragment:

``effect_sizes_between_arm.csv``
    CIMT vs control at post and follow-up: Hedges' g, Cohen's d, Glass's delta
    (on the visit's scores) and Morris's d_ppc2 (on the change from pre).
``effect_sizes_within_arm.csv``
    Standardized mean change from pre per arm and visit (SD of pre, and d_z).
``individual_change.csv``
    Per participant: MAL change at post, reliable change index, category and
    MCID / MDC responder flags.
``responders.csv``
    Responder proportions per arm with Wilson 95% intervals.

Missing follow-ups are left out explicitly here (and counted in ``n_omitted``)
rather than through the functions' warning, so the demo runs quietly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import change, datasets, measures
from .. import effect_sizes as es
from .._batch_results import BatchEffectSizeResult
from .._results import EffectSizeResult
from . import DemoSection, frame_to_html

__all__ = [
    "between_arm_table",
    "individual_change_table",
    "responder_table",
    "run",
    "within_arm_table",
]

DATASET = "cimt_ms"
OUTCOMES = {"mal_aou": "mal_aou", "wmft_time": "wmft_time"}  # column -> rs.measures name
_ES_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "ci_level", "ci_method", "n_x", "n_y"]


def _wide(trial: pd.DataFrame, outcome: str) -> pd.DataFrame:
    wide = trial.pivot(index="subject", columns="visit", values=outcome)
    wide.columns = [str(c) for c in wide.columns]
    arm = trial.groupby("subject", observed=True)["arm"].first().astype(str)
    return wide.join(arm)


def _row(res: EffectSizeResult | BatchEffectSizeResult, **labels: object) -> dict[str, object]:
    return {**labels, "measure": res.measure, **{k: getattr(res, k) for k in _ES_COLUMNS}}


def between_arm_table(trial: pd.DataFrame) -> pd.DataFrame:
    """CIMT minus control at each post-baseline visit, for each outcome."""
    rows = []
    for outcome, name in OUTCOMES.items():
        wide = _wide(trial, outcome)
        for visit in ("post", "followup"):
            complete = wide.dropna(subset=["pre", visit])
            n_omitted = len(wide) - len(complete)
            x = complete.loc[complete["arm"] == "cimt"]
            y = complete.loc[complete["arm"] == "control"]
            labels = {
                "outcome": outcome,
                "improvement": measures.improvement(name),
                "visit": visit,
                "contrast": "cimt - control",
                "n_omitted": n_omitted,
            }
            for fn in (es.hedges_g, es.cohens_d, es.glass_delta):
                rows.append(_row(fn(x[visit], y[visit]), **labels))
            rows.append(_row(es.ppc_smd(x["pre"], x[visit], y["pre"], y[visit]), **labels))
    return pd.DataFrame(rows)


def within_arm_table(trial: pd.DataFrame) -> pd.DataFrame:
    """Standardized mean change from pre, per arm, visit and outcome."""
    rows = []
    for outcome, name in OUTCOMES.items():
        wide = _wide(trial, outcome)
        for arm in ("cimt", "control"):
            for visit in ("post", "followup"):
                part = wide.loc[wide["arm"] == arm].dropna(subset=["pre", visit])
                n_omitted = int((wide["arm"] == arm).sum()) - len(part)
                for standardizer in ("pre", "change"):
                    res = es.standardized_mean_change(
                        part["pre"], part[visit], standardizer=standardizer
                    )
                    rows.append(
                        _row(
                            res,
                            outcome=outcome,
                            improvement=measures.improvement(name),
                            arm=arm,
                            visit=visit,
                            n_omitted=n_omitted,
                        )
                    )
    table = pd.DataFrame(rows)
    return table.drop(columns=["n_y"])


def mal_retest_sd_diff() -> float:
    """SD of MAL-AOU test-retest differences implied by van der Lee 2004's limits of agreement.

    Limits of agreement are mean +/- 1.96 SD_diff, so SD_diff = (upper - lower) / (2 x 1.96).
    """
    loa = measures.threshold("mal_aou", statistic="loa", population="chronic stroke")
    assert loa.value_upper is not None
    return (loa.value_upper - loa.value) / (2 * 1.96)


def individual_change_table(trial: pd.DataFrame) -> pd.DataFrame:
    """MAL change at post per participant: RCI (Temkin SD_diff), MCID and MDC90 flags."""
    wide = _wide(trial, "mal_aou")
    rc = change.reliable_change(
        wide["pre"],
        wide["post"],
        sd=None,
        reliability=None,
        denominator="sd_diff",
        sd_diff=mal_retest_sd_diff(),
    )
    mcid = measures.threshold("mal_aou", statistic="mcid", population="chronic stroke")
    mdc90 = measures.threshold("mal_aou", statistic="mdc", level=0.90)
    table = rc.join(wide["arm"])
    table["mcid_responder"] = change.responders(
        rc["change"], mcid=mcid.value, measure="mal_aou"
    ).flags
    table["mdc90_exceeded"] = change.responders(
        rc["change"], mcid=mdc90.value, measure="mal_aou"
    ).flags
    table["category"] = table["category"].astype(str)
    table = table.reset_index().rename(columns={"index": "subject"})
    return table[
        [
            "subject",
            "arm",
            "pre",
            "post",
            "change",
            "rci",
            "reliable",
            "category",
            "mcid_responder",
            "mdc90_exceeded",
        ]
    ]


def responder_table(individual: pd.DataFrame) -> pd.DataFrame:
    """Share of participants per arm reaching each threshold, with Wilson 95% CIs."""
    mcid = measures.threshold("mal_aou", statistic="mcid", population="chronic stroke")
    mdc90 = measures.threshold("mal_aou", statistic="mdc", level=0.90)
    rows = []
    for arm in ("cimt", "control"):
        part = individual.loc[individual["arm"] == arm, "change"]
        for label, rec in (
            ("MCID (van der Lee 2001, unverified)", mcid),
            ("MDC90 (Chen 2012)", mdc90),
        ):
            res = change.responders(part, mcid=rec.value, measure="mal_aou")
            rows.append(
                {
                    "arm": arm,
                    "threshold": label,
                    "value": rec.value,
                    "n_responders": res.n_responders,
                    "n": res.n,
                    "proportion": res.proportion,
                    "ci_low": res.ci_low,
                    "ci_high": res.ci_high,
                    "ci_method": res.ci_method,
                }
            )
        # reliable improvers: a 0/1 indicator against a threshold of 1 gives their share
        improved = individual.loc[individual["arm"] == arm, "category"] == "improved"
        res = change.responders(improved.astype(float), mcid=1.0)
        rows.append(
            {
                "arm": arm,
                "threshold": "reliable improvement (RCI > 1.96)",
                "value": float("nan"),
                "n_responders": res.n_responders,
                "n": res.n,
                "proportion": res.proportion,
                "ci_low": res.ci_low,
                "ci_high": res.ci_high,
                "ci_method": res.ci_method,
            }
        )
    return pd.DataFrame(rows)


def run(out_dir: Path) -> DemoSection:
    """Compute the tables, write them as CSV into ``out_dir`` and return the HTML fragment."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    trial = datasets.load(DATASET)
    tables = {
        "effect_sizes_between_arm.csv": (
            between_arm_table(trial),
            "Between arms (CIMT - control), observed cases; Hedges g, Cohen d and Glass "
            "delta on the visit's scores, Morris d_ppc2 on the change from pre. For "
            "wmft_time lower is better, so negative values favour CIMT.",
        ),
        "effect_sizes_within_arm.csv": (
            within_arm_table(trial),
            "Within arms: standardized mean change from pre (smc_pre: SD of pre, "
            "Hedges-corrected; smc_change: d_z).",
        ),
    }
    individual = individual_change_table(trial)
    tables["individual_change.csv"] = (
        individual,
        f"Per participant, MAL amount of use, pre to post: RCI with the SD of retest "
        f"differences {mal_retest_sd_diff():.3f} implied by the limits of agreement of van "
        f"der Lee 2004 (chronic stroke); MCID 0.5 (van der Lee 2001, unverified) and MDC90 "
        f"0.84 (Chen 2012, EXCITE) from rehabstats.measures. These are stroke values "
        f"applied to an MS sample.",
    )
    tables["responders.csv"] = (
        responder_table(individual),
        "Responder proportions at post with Wilson 95% CIs.",
    )
    parts = [
        "<p>Data: <code>rehabstats.datasets.load('cimt_ms')</code>, a "
        "<strong>simulated</strong> 10 + 10 trial shaped like Mark et al. (2018).</p>"
    ]
    for filename, (frame, caption) in tables.items():
        frame.to_csv(out / filename, index=False)
        parts.append(frame_to_html(frame, caption=f"{caption} [{filename}]"))
    return DemoSection(
        title="Effect sizes and individual change (CIMT in MS, simulated)",
        html="\n".join(parts),
        files=tuple(tables),
    )
