"""randomization_test against every scan 0.67.1 ``rand_test`` record in
../shared/validation/sced/reference (exhaustive records: p, observed statistic and
the whole distribution at rtol 1e-10, p exactly; Monte Carlo records: within 4
binomial SEs, since R's Mersenne-Twister stream cannot be reproduced)."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import VALIDATION_DIR, load_json

from rehabstats.sced._randomization import randomization_test

# scan statistic -> (rehabstats statistic, improvement). scan's "SMD hedges" combines
# cases by root mean square, so it is unsigned: rehabstats' "smd_rms".
SCAN_STATISTICS = {
    "Mean B-A": ("mean_difference", "increase"),
    "Mean A-B": ("mean_difference", "decrease"),
    "Median B-A": ("median_difference", "increase"),
    "Median A-B": ("median_difference", "decrease"),
    "NAP": ("nap", "increase"),
    "NAP decreasing": ("nap", "decrease"),
    "SMD hedges": ("smd_rms", "increase"),
    "Slope B-A": ("slope_difference", "increase"),
}

REF = VALIDATION_DIR / "sced" / "reference"
FILES = sorted(REF.glob("*.json"))
assert FILES, f"no vendored reference files in {REF}"


@functools.cache
def _records(path):
    return tuple(r for r in load_json(path) if r["function"] == "rand_test" and r["error"] is None)


# only the data sets that have rand_test records (computed at collection time)
RAND_FILES = [p for p in FILES if _records(p)]


def _run(rec):
    inp, args = rec["input"], rec["arguments"]
    y = [np.nan if v is None else v for v in inp["outcome"]]
    df = pd.DataFrame({"t": inp["session"], "ph": inp["phase_passed_to_scan"], "y": y})
    case = None
    if "case" in inp:
        df["c"] = inp["case"]
        case = "c"
    stat, imp = SCAN_STATISTICS[args["statistic"]]
    with warnings.catch_warnings():
        # few admissible assignments / missing values are announced; not under test here
        warnings.simplefilter("ignore")
        return randomization_test(
            df,
            outcome="y",
            phase="ph",
            session="t",
            case=case,
            statistic=stat,
            improvement=imp,
            min_phase_length=args["limit"],
            n_samples=None if args["complete"] else args["number"],
            rng=20240601,
        ), stat


@pytest.mark.parametrize("path", RAND_FILES, ids=[p.stem for p in RAND_FILES])
def test_rand_test_matches_scan(path, validation_dir):
    for rec in _records(path):
        res, stat = _run(rec)
        out = rec["output"]
        scale = 100.0 if stat == "nap" else 1.0  # scan reports NAP in percent
        np.testing.assert_allclose(
            res.statistic * scale,
            out["observed_statistic"],
            rtol=1e-10,
            atol=1e-12,
            err_msg=rec["record_id"],
        )
        if rec["stochastic"]:
            # Monte Carlo: same sample size, p within 4 binomial standard errors
            assert res.n_assignments == out["number"], rec["record_id"]
            p = out["p_value"]
            se = np.sqrt(max(p * (1 - p), 0.01) / out["number"])
            assert abs(res.p_value - p) <= 4 * se, rec["record_id"]
            continue
        assert res.method == "exhaustive"
        assert res.n_assignments == out["number"] == out["possible_combinations"]
        assert res.p_value == out["p_value"], rec["record_id"]  # exact
        if "distribution" in out:
            np.testing.assert_allclose(
                np.sort(res.distribution * scale),
                np.sort(out["distribution"]),
                rtol=1e-10,
                atol=1e-12,
                err_msg=rec["record_id"],
            )


def test_reference_record_count(validation_dir):
    n = sum(len(_records(p)) for p in RAND_FILES)
    assert n == 1567
    assert len(RAND_FILES) == len({r["dataset"] for p in RAND_FILES for r in _records(p)})
