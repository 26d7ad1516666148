"""Simulate the data sets of the nlme::gls reference fixtures (run once; seeded).

Writes ``sim_*.csv`` beside this file; ``gls_reference.R`` then fits them.
Columns: subject, arm, visit (label), visit_index (1..K), outcome, age.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

#: name: (n_control, n_active, n_visits, missingness, seed)
SETS = {
    "sim_n12_2v_complete": (5, 7, 2, "none", 11),
    "sim_n30_4v_intermittent": (12, 18, 4, "intermittent", 12),
    "sim_n60_8v_monotone": (34, 26, 8, "monotone", 13),
    "sim_n300_5v_monotone": (140, 160, 5, "monotone", 14),
}


def simulate(n_ctl: int, n_act: int, k: int, missing: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_ctl + n_act
    arm = np.array(["control"] * n_ctl + ["active"] * n_act)
    t = np.arange(k)
    sd = 3.0 * (1 + 0.08 * t)
    corr = 0.45 + 0.45 * 0.7 ** np.abs(np.subtract.outer(t, t))
    np.fill_diagonal(corr, 1.0)
    cov = corr * np.outer(sd, sd)
    err = rng.standard_normal((n, k)) @ np.linalg.cholesky(cov).T
    age = rng.integers(35, 80, size=n)
    mu = 30 - 1.2 * t[None, :] + np.where(arm == "active", 0.6, 0.0)[:, None] * t[None, :]
    y = np.round(mu - 0.03 * (age[:, None] - 55) + err, 2)
    keep = np.ones((n, k), dtype=bool)
    if missing == "intermittent":
        keep[:, 1:] = rng.random((n, k - 1)) > 0.2
    elif missing == "monotone":
        # dropout after a low observed value (MAR): hazard rises as y falls
        for j in range(1, k):
            p = 1 / (1 + np.exp(-(-2.2 - 0.15 * (y[:, j - 1] - mu[:, j - 1]))))
            drop = rng.random(n) < p
            keep[:, j] = keep[:, j - 1] & ~drop
    df = pd.DataFrame(
        {
            "subject": np.repeat([f"P{i:03d}" for i in range(n)], k),
            "arm": np.repeat(arm, k),
            "visit": np.tile([f"v{j}" for j in range(k)], n),
            "visit_index": np.tile(t + 1, n),
            "outcome": np.where(keep, y, np.nan).ravel(),
            "age": np.repeat(age, k),
        }
    )
    return df


if __name__ == "__main__":
    for name, spec in SETS.items():
        simulate(*spec).to_csv(HERE / f"{name}.csv", index=False, na_rep="NA")
