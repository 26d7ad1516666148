"""rehabstats.effect_sizes against the shared R reference outputs (../shared/validation/rct).

Each data set's JSON holds effectsize 0.8.3, metafor 3.8-1 and hand-coded
Morris (2008) results computed by R 4.2.2 on the CSV beside it. Conventions
(README there): final visit, observed cases, treatment minus control; SMC and
d_ppc2 per arm on subjects observed at the final visit, pre = visit 1.

Tolerances: rtol 1e-10 for closed forms; 1e-5 against effectsize's own CI limits
(it solves them with Nelder-Mead, abstol 1e-9); 1e-9 against
``effect_size.ncp_ci_exact`` (the same limits solved by uniroot to ~1e-12).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import VALIDATION_DIR, load_json
from numpy.testing import assert_allclose

import rehabstats.effect_sizes as es

DATASETS = ["cimt_n20_3v", "rct_n40_4v_missing", "als_n60_7v_dropout", "threearm_n45_4v"]
IDS = [
    "effect_size.cohens_d",
    "effect_size.cohens_d_unpooled",
    "effect_size.hedges_g",
    "effect_size.glass_delta",
    "effect_size.rank_biserial",
    "effect_size.cliffs_delta",
    "effect_size.ncp_ci_exact",
    "metafor.SMD_LS",
    "metafor.SMD_UB",
    "metafor.SMCR",
    "metafor.SMCC",
    "metafor.SMCR_difference",
    "morris2008.d_ppc2",
]
CLOSED = 1e-10
EFFECTSIZE_CI = 1e-5
EXACT_CI = 1e-9


class Trial:
    """Final-visit outcomes and per-arm (pre, final) pairs of one validation data set."""

    def __init__(self, name: str, validation_dir: Path) -> None:
        self.ref = load_json(validation_dir / "rct" / f"{name}.json")
        data = pd.read_csv(validation_dir / "rct" / f"{name}.csv")
        final = self.ref["design"]["final_visit"]
        self.final = data[(data["visit"] == final) & data["outcome"].notna()]
        wide = data.pivot(index=["subject", "arm"], columns="visit_index", values="outcome")
        wide = wide.reset_index()
        last = int(data.loc[data["visit"] == final, "visit_index"].iloc[0])
        wide = wide[wide[last].notna() & wide[1].notna()]
        self.pairs = {
            arm: (g[1].to_numpy(float), g[last].to_numpy(float)) for arm, g in wide.groupby("arm")
        }

    def arm(self, name: str) -> np.ndarray:
        return self.final.loc[self.final["arm"] == name, "outcome"].to_numpy(float)

    def result(self, rid: str) -> dict[str, Any]:
        res: dict[str, Any] = self.ref["results"][rid]
        assert "error" not in res
        return res


_CACHE: dict[str, Trial] = {}


def _trial(name: str) -> Trial:
    assert VALIDATION_DIR.is_dir(), "vendored validation sets missing"
    if name not in _CACHE:
        _CACHE[name] = Trial(name, VALIDATION_DIR)
    return _CACHE[name]


def _check_effectsize(row: dict[str, Any], res: Any) -> None:
    assert_allclose(res.estimate, row["estimate"], rtol=CLOSED, atol=1e-14)
    assert_allclose(
        [res.ci_low, res.ci_high], [row["ci_low"], row["ci_high"]], rtol=EFFECTSIZE_CI, atol=1e-8
    )
    assert res.ci_level == row["ci_level"]
    assert res.n_x == row["trt_desc"]["n"]
    assert res.n_y == row["ctl_desc"]["n"]


def _check_rank(row: dict[str, Any], res: Any) -> None:
    # closed form (Fisher z), so the CI is compared at the closed-form tolerance too
    assert_allclose(
        [res.estimate, res.ci_low, res.ci_high],
        [row["estimate"], row["ci_low"], row["ci_high"]],
        rtol=CLOSED,
        atol=1e-14,
    )


@pytest.mark.parametrize("rid", IDS)
@pytest.mark.parametrize("dataset", DATASETS)
def test_matches_r_reference(dataset: str, rid: str) -> None:
    tr = _trial(dataset)
    ref = tr.result(rid)
    out = ref["output"]
    if rid.startswith("effect_size.") and rid != "effect_size.ncp_ci_exact":
        for row in out:
            x, y = tr.arm(row["trt"]), tr.arm(row["ctl"])
            if rid == "effect_size.cohens_d":
                _check_effectsize(row, es.cohens_d(x, y))
            elif rid == "effect_size.cohens_d_unpooled":
                _check_effectsize(row, es.cohens_d(x, y, pooled_sd=False))
            elif rid == "effect_size.hedges_g":
                _check_effectsize(row, es.hedges_g(x, y))
            elif rid == "effect_size.glass_delta":
                _check_effectsize(row, es.glass_delta(x, y))
            elif rid == "effect_size.rank_biserial":
                _check_rank(row, es.rank_biserial(x, y))
            else:
                _check_rank(row, es.cliffs_delta(x, y))
    elif rid == "effect_size.ncp_ci_exact":
        for row in out:
            x, y = tr.arm(row["trt"]), tr.arm(row["ctl"])
            d, g, gd = es.cohens_d(x, y), es.hedges_g(x, y), es.glass_delta(x, y)
            for res, key in ((d, "cohens_d"), (g, "hedges_g"), (gd, "glass_delta")):
                r = row[key]
                assert_allclose(res.estimate, r["estimate"], rtol=CLOSED)
                assert_allclose(
                    [res.ci_low, res.ci_high], [r["ci_low"], r["ci_high"]], rtol=EXACT_CI
                )
                for k in ("t", "df", "hn"):
                    if k in r:
                        assert_allclose(res.details[k], r[k], rtol=CLOSED)
            assert_allclose(g.details["J"], row["hedges_g"]["J"], rtol=CLOSED)
    elif rid in ("metafor.SMD_LS", "metafor.SMD_UB"):
        for row in out:
            g = es.hedges_g(tr.arm(row["trt"]), tr.arm(row["ctl"]))
            assert_allclose(g.estimate, row["yi"], rtol=CLOSED)
            vi = g.se**2 if rid.endswith("LS") else g.details["var_unbiased"]
            assert_allclose(vi, row["vi"], rtol=CLOSED)
            if "sei" in row:
                assert_allclose(np.sqrt(vi), row["sei"], rtol=CLOSED)
    elif rid in ("metafor.SMCR", "metafor.SMCC"):
        standardizer = "pre" if rid.endswith("SMCR") else "change"
        for arm, row in out.items():
            pre, post = tr.pairs[arm]
            res = es.standardized_mean_change(pre, post, standardizer=standardizer)
            assert res.n_x == row["n"]
            assert_allclose([res.estimate, res.se**2], [row["yi"], row["vi"]], rtol=CLOSED)
            if standardizer == "pre":
                det = res.details
                assert_allclose(
                    [det["mean_pre"], det["mean_post"], det["sd_pre"], det["sd_post"], det["r"]],
                    [row["mean_pre"], row["mean_post"], row["sd_pre"], row["sd_post"], row["r"]],
                    rtol=CLOSED,
                )
            else:
                assert_allclose(res.details["sd_change"], row["sd_change"], rtol=CLOSED)
    elif rid == "metafor.SMCR_difference":
        for row in out:
            t = es.standardized_mean_change(*tr.pairs[row["trt"]], standardizer="pre")
            c = es.standardized_mean_change(*tr.pairs[row["ctl"]], standardizer="pre")
            assert_allclose(
                [t.estimate - c.estimate, t.se**2 + c.se**2], [row["yi"], row["vi"]], rtol=CLOSED
            )
    elif rid == "morris2008.d_ppc2":
        for row in out:
            pre_x, post_x = tr.pairs[row["trt"]]
            pre_y, post_y = tr.pairs[row["ctl"]]
            res = es.ppc_smd(pre_x, post_x, pre_y, post_y)
            assert (res.n_x, res.n_y) == (row["n_trt"], row["n_ctl"])
            det = res.details
            assert_allclose(
                [
                    res.estimate,
                    res.se,
                    res.se**2,
                    res.ci_low,
                    res.ci_high,
                    det["r"],
                    det["c_P"],
                    det["sd_pre_pooled"],
                    det["diff_in_change"],
                    det["var_large_sample"],
                ],
                [
                    row["d_ppc2"],
                    row["se_morris_eq25"],
                    row["var_morris_eq25"],
                    *row["ci95_normal_eq25"],
                    row["r_pooled"],
                    row["c_P"],
                    row["sd_pre_pooled"],
                    row["diff_in_change"],
                    row["var_large_sample"],
                ],
                rtol=CLOSED,
            )
    else:  # pragma: no cover - every id above is handled
        pytest.fail(f"unhandled reference id {rid}")
