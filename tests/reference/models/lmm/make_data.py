"""Generate the simulated data sets behind the lmm/mixed-ANOVA R fixtures (seeded).

Run from this directory: ``python3 make_data.py``; then ``Rscript lmm_reference.R``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def simulate(
    name: str,
    arms: dict[str, int],
    visits: list[str],
    *,
    sd_int: float,
    sd_slope: float,
    sd_res: float,
    effect: float,
    p_missing: float,
    seed: int,
) -> dict:
    rng = np.random.default_rng(seed)
    rows = []
    sid = 0
    for a, (arm, n) in enumerate(arms.items()):
        for _ in range(n):
            sid += 1
            b0 = rng.normal(0, sd_int)
            b1 = rng.normal(0, sd_slope)
            age = int(rng.integers(35, 75))
            for k, visit in enumerate(visits):
                mu = 2.0 + 0.3 * k + effect * a * k / max(1, len(visits) - 1)
                y = mu + b0 + b1 * k + rng.normal(0, sd_res)
                rows.append(
                    {
                        "subject": f"S{sid:03d}",
                        "arm": arm,
                        "visit": visit,
                        "visit_index": k + 1,
                        "outcome": round(float(y), 4),
                        "age": age,
                    }
                )
    df = pd.DataFrame(rows)
    if p_missing > 0:
        post = df["visit_index"] > 1
        drop = post & (rng.random(len(df)) < p_missing)
        df.loc[drop, "outcome"] = np.nan
    df.to_csv(HERE / f"{name}.csv", index=False)
    return {
        "arm_levels": list(arms),
        "visit_levels": visits,
        "seed": seed,
        "n_missing": int(df["outcome"].isna().sum()),
    }


def main() -> None:
    specs = {
        "unbalanced_3v": simulate(
            "unbalanced_3v",
            {"control": 7, "cimt": 13},
            ["pre", "post", "followup"],
            sd_int=0.6,
            sd_slope=0.2,
            sd_res=0.4,
            effect=1.5,
            p_missing=0,
            seed=11,
        ),
        "intermittent_4v": simulate(
            "intermittent_4v",
            {"control": 15, "cimt": 15},
            ["pre", "week4", "week8", "week12"],
            sd_int=1.0,
            sd_slope=0.3,
            sd_res=0.7,
            effect=1.0,
            p_missing=0.15,
            seed=12,
        ),
        "two_visits": simulate(
            "two_visits",
            {"control": 12, "cimt": 12},
            ["pre", "post"],
            sd_int=0.8,
            sd_slope=0.3,
            sd_res=0.5,
            effect=1.0,
            p_missing=0,
            seed=13,
        ),
        "five_visits": simulate(
            "five_visits",
            {"control": 10, "cimt": 10},
            ["v1", "v2", "v3", "v4", "v5"],
            sd_int=0.8,
            sd_slope=0.25,
            sd_res=0.5,
            effect=1.2,
            p_missing=0,
            seed=14,
        ),
        # small random-intercept variance (theta ~ 0.2) and one estimated at zero (singular)
        "near_zero_ri": simulate(
            "near_zero_ri",
            {"control": 10, "cimt": 10},
            ["pre", "post", "followup"],
            sd_int=0.3,
            sd_slope=0.0,
            sd_res=1.0,
            effect=1.0,
            p_missing=0,
            seed=20,
        ),
        "singular_ri": simulate(
            "singular_ri",
            {"control": 10, "cimt": 10},
            ["pre", "post", "followup"],
            sd_int=0.0,
            sd_slope=0.0,
            sd_res=1.0,
            effect=1.0,
            p_missing=0,
            seed=17,
        ),
        "three_arms_3v": simulate(
            "three_arms_3v",
            {"control": 8, "low": 8, "high": 8},
            ["pre", "post", "followup"],
            sd_int=0.7,
            sd_slope=0.2,
            sd_res=0.5,
            effect=0.8,
            p_missing=0,
            seed=16,
        ),
    }
    (HERE / "datasets.json").write_text(json.dumps(specs, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
