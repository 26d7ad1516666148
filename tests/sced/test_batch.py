"""rs.sced.effect_sizes: agreement with single calls, with SingleCaseES batch_calc_ES, errors."""

from __future__ import annotations

import importlib.util
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import VALIDATION_DIR

from rehabstats import sced
from rehabstats.errors import DataError, DesignError, RehabStatsWarning
from rehabstats.sced._batch import COLUMNS, _fast_pairs
from rehabstats.sced._data import phase_pairs, prepare_sced

REPO = Path(__file__).resolve().parents[2]
SCED_DIR = VALIDATION_DIR / "sced"
ES_NAMES = {
    "NAP": "nap",
    "Tau": "tau",
    "Tau-U": "tau_u",
    "Tau-BC": "tau_bc",
    "SMD": "smd",
    "LRRi": "lrri",
    "LRRd": "lrrd",
    "PND": "pnd",
    "PEM": "pem",
    "PAND": "pand",
    "IRD": "ird",
}


def _abab(rng: np.random.Generator, n_cases: int = 4) -> pd.DataFrame:
    rows = []
    for c in range(n_cases):
        lengths = rng.integers(3, 7, size=4)
        t = 1
        for ph, k in zip("ABAB", lengths, strict=True):
            for _ in range(int(k)):
                rows.append(
                    {
                        "case": f"c{c}",
                        "t": t,
                        "ph": ph,
                        "y": float(rng.poisson(5 if ph == "A" else 9)),
                    }
                )
                t += 1
    return pd.DataFrame(rows)


def test_fast_pairs_match_phase_pairs() -> None:
    data = _abab(np.random.default_rng(1))
    frame = prepare_sced(data, outcome="y", phase="ph", session="t", case="case")
    slow = phase_pairs(frame)
    fast = _fast_pairs(frame, "A", "B")
    assert len(slow) == fast.case.size == 8
    y = frame["outcome"].to_numpy()
    for i, p in enumerate(slow):
        assert (p.case, p.pair) == (fast.case[i], fast.pair[i])
        np.testing.assert_array_equal(
            p.baseline, y[fast.a_start[i] : fast.a_start[i] + fast.a_len[i]]
        )
        np.testing.assert_array_equal(
            p.treatment, y[fast.b_start[i] : fast.b_start[i] + fast.b_len[i]]
        )


OPTION_SETS = [
    {},
    {"improvement": "decrease", "se_method": "hanley", "ci": 0.9},
    {
        "tau_u_method": "complete",
        "pand_method": "sort",
        "kendall": True,
        "standardizer": "pooled",
        "bias_correct": False,
    },
    {
        "pretest_trend": 0.05,
        "se_method": "null",
        "delta_method": True,
        "scale": "rate",
        "observation_length": 10.0,
    },
]


@pytest.mark.parametrize("opts", OPTION_SETS)
def test_batch_equals_single_calls(opts: dict) -> None:
    data = _abab(np.random.default_rng(7))
    names = [
        "nap",
        "tau",
        "tau_u",
        "tau_bc",
        "pnd",
        "pem",
        "pand",
        "ird",
        "smd",
        "lrrd",
        "lrri",
        "lrm",
        "pogo",
    ]
    out = sced.effect_sizes(
        data, outcome="y", phase="ph", session="t", case="case", indices=names, goal=12.0, **opts
    )
    assert list(out.columns) == COLUMNS
    assert len(out) == 8 * len(names)
    frame = prepare_sced(data, outcome="y", phase="ph", session="t", case="case")
    imp = opts.get("improvement", "increase")
    level = opts.get("ci", 0.95)
    kw = {
        "nap": {"ci": level, "se_method": opts.get("se_method", "unbiased")},
        "tau_u": {"method": opts.get("tau_u_method", "parker")},
        "tau_bc": {
            "ci": level,
            "se_method": opts.get("se_method", "unbiased"),
            "kendall": opts.get("kendall", False),
            "pretest_trend": opts.get("pretest_trend", False),
        },
        "pand": {"method": opts.get("pand_method", "minimum")},
        "smd": {
            "ci": level,
            "standardizer": opts.get("standardizer", "baseline"),
            "bias_correct": opts.get("bias_correct", True),
        },
        "lrr": {
            "ci": level,
            "scale": opts.get("scale", "count"),
            "observation_length": opts.get("observation_length"),
            "bias_correct": opts.get("bias_correct", True),
        },
        "lrm": {"ci": level, "delta_method": opts.get("delta_method", False)},
        "pogo": {"ci": level, "goal": 12.0},
    }
    kw["tau"] = kw["nap"]
    kw["lrrd"] = kw["lrri"] = kw["lrr"]
    for p in phase_pairs(frame):
        for name in names:
            res = sced.INDICES[name](p.baseline, p.treatment, improvement=imp, **kw.get(name, {}))
            row = out[(out["case"] == p.case) & (out["pair"] == p.pair) & (out["index"] == name)]
            assert len(row) == 1
            row = row.iloc[0]
            np.testing.assert_allclose(row["estimate"], res.estimate, rtol=1e-12, err_msg=name)
            if name != "tau_u":
                np.testing.assert_allclose(row["se"], res.se, rtol=1e-12, err_msg=name)
                np.testing.assert_allclose(
                    [row["ci_low"], row["ci_high"]], res.ci, rtol=1e-9, atol=1e-12, err_msg=name
                )
            assert row["n_baseline"] == p.baseline.size
            assert row["n_treatment"] == p.treatment.size


def _batch_calc_records(aggregate: bool) -> list[dict]:
    """The ``batch_calc_ES`` records (one JSON object a line), with or without ``aggregate``."""
    ref = SCED_DIR / "reference"
    if not ref.is_dir():
        return []
    out = []
    for f in sorted(ref.glob("*.json")):
        text = f.read_text(encoding="utf-8")
        if "batch_calc_ES" not in text:
            continue
        for line in text.splitlines():
            line = line.strip().rstrip(",")
            if '"batch_calc_ES"' in line and ('"aggregate"' in line) == aggregate:
                out.append(json.loads(line))
    return out


def _batch_records() -> list[dict]:
    return _batch_calc_records(aggregate=False)


def test_batch_matches_singlecasees_batch_calc_es() -> None:
    recs = _batch_records()
    assert recs, "vendored SingleCaseES batch records missing"
    failures = []
    n_checked = 0
    for rec in recs:
        args, inp = rec["arguments"], rec["input"]
        df = pd.DataFrame(
            {
                "case": inp["case"],
                "t": inp["session"],
                "ph": inp["condition"],
                "y": pd.to_numeric(pd.Series(inp["outcome"], dtype=object)),
            }
        )
        names = [
            ES_NAMES[e] if e in ES_NAMES else {"Tau_U": "tau_u", "Tau_BC": "tau_bc"}[e]
            for e in args["ES"]
        ]
        upper = {"proportion": 1.0, "percentage": 100.0}.get(args["scale"], math.inf)
        if (df["y"] > upper).any() and {"lrri", "lrrd"} & set(names):
            # SingleCaseES computes LRR for "proportions" up to 145 (Shogren's batch mixes
            # counts into a proportion batch); rs.sced refuses values off the scale (issue 7)
            with pytest.raises(DataError, match="needs values between 0 and"):
                sced.effect_sizes(
                    df,
                    outcome="y",
                    phase="ph",
                    session="t",
                    case="case",
                    indices=["lrri"],
                    scale=args["scale"],
                )
            names = [n for n in names if n not in ("lrri", "lrrd")]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RehabStatsWarning)
            out = sced.effect_sizes(
                df,
                outcome="y",
                phase="ph",
                session="t",
                case="case",
                indices=names,
                improvement=args["improvement"],
                scale=args["scale"],
                ci=args["confidence"],
            )
        for want in rec["output"]:
            name = ES_NAMES[want["ES"]]
            if name not in names:
                continue
            got = out[(out["case"] == want["case"]) & (out["index"] == name)].iloc[0]
            n_checked += 1
            for col, key, atol in (
                ("estimate", "Est", 1e-10),
                ("se", "SE", 1e-10),
                ("ci_low", "CI_lower", 2e-4),
                ("ci_high", "CI_upper", 2e-4),
            ):
                w = want[key]
                w = math.nan if w is None else float(w)
                g = float(got[col])
                if not (
                    (math.isnan(w) and math.isnan(g))
                    or g == w
                    or abs(g - w) <= atol + 1e-9 * abs(w)
                ):
                    failures.append(f"{rec['record_id']} {want['case']} {name} {col}: {g} vs {w}")
    assert n_checked > 1000
    assert not failures, "\n".join(failures[:20])


def test_unknown_index_lists_valid_names() -> None:
    data = _abab(np.random.default_rng(2), 1)
    with pytest.raises(DataError, match="Unknown index 'napp'.*valid names are: pnd, pem"):
        sced.effect_sizes(data, outcome="y", phase="ph", session="t", indices=["napp"])


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"se_method": "exact"}, "se_method"),
        ({"tau_u_method": "bossart"}, "tau_u_method"),
        ({"scale": "counts"}, "scale"),
        ({"improvement": "up"}, "improvement"),
        ({"ci": 1.5}, "confidence level"),
        ({"indices": []}, "empty"),
        ({"indices": ["pogo"]}, "goal"),
        ({"intervals": -3}, "intervals"),
    ],
)
def test_bad_options(kw: dict, match: str) -> None:
    data = _abab(np.random.default_rng(3), 1)
    with pytest.raises(DataError, match=match):
        sced.effect_sizes(data, outcome="y", phase="ph", session="t", **kw)


def test_missing_phase_label_and_case_without_pair() -> None:
    data = _abab(np.random.default_rng(4), 1)
    with pytest.raises(DesignError, match="'treatment_phase' is 'C'"):
        sced.effect_sizes(data, outcome="y", phase="ph", session="t", treatment_phase="C")
    two = pd.concat(
        [data, pd.DataFrame({"case": "x", "t": [1, 2], "ph": ["B", "B"], "y": [1.0, 2.0]})]
    )
    with pytest.raises(DesignError, match="Case 'x' has no 'A' phase followed directly"):
        sced.effect_sizes(two, outcome="y", phase="ph", session="t", case="case")


def test_missing_outcomes_are_dropped_with_warning() -> None:
    data = _abab(np.random.default_rng(5), 2)
    data.loc[2, "y"] = np.nan
    with pytest.warns(RehabStatsWarning, match="1 missing"):
        out = sced.effect_sizes(
            data, outcome="y", phase="ph", session="t", case="case", indices="nap"
        )
    assert out.attrs["n_omitted"] == 1
    assert not out["estimate"].isna().any()


def test_benchmark_smoke_20_series() -> None:
    path = REPO / "benchmarks" / "bench_sced_effect_sizes.py"
    assert (SCED_DIR / "timing" / "ab_1000_series_10_15.csv").is_file()
    spec = importlib.util.spec_from_file_location("bench_sced_effect_sizes", path)
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.run(bench.load(20))
    assert len(out) == 20 * 6
    assert out["estimate"].notna().all()


def _aggregate_records() -> list[dict]:
    return _batch_calc_records(aggregate=True)


def test_combine_phase_pairs_matches_batch_calc_es_aggregate() -> None:
    # The records carry SingleCaseES's own phase pairs (calc_phase_pairs: an A
    # block with the B block after it, treatment-first designs paired B->A);
    # the per-pair indices are computed with rs.sced's functions on those pairs
    # and combined with combine_phase_pairs, which is what is validated here.
    recs = _aggregate_records()
    assert recs, "vendored SingleCaseES batch records missing"
    failures = []
    for rec in recs:
        args, inp = rec["arguments"], rec["input"]
        names = [
            ES_NAMES[e] if e in ES_NAMES else {"Tau_U": "tau_u", "Tau_BC": "tau_bc"}[e]
            for e in args["ES"]
        ]
        rows = []
        pp = inp["phase_pair"]
        for k in dict.fromkeys(pp):
            sel = [
                (y, c)
                for y, c, p in zip(inp["outcome"], inp["condition"], pp, strict=True)
                if p == k and y is not None
            ]
            a = [y for y, c in sel if c == "A"]
            b = [y for y, c in sel if c == "B"]
            for name in names:
                kw: dict = {"improvement": args["improvement"]}
                if name in ("nap", "tau", "tau_bc", "smd", "lrri", "lrrd"):
                    kw["ci"] = args["confidence"]
                if name in ("lrri", "lrrd"):
                    kw["scale"] = args["scale"]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RehabStatsWarning)
                    res = sced.INDICES[name](a, b, **kw)
                rows.append(
                    {
                        "case": "1",
                        "index": name,
                        "estimate": res.estimate,
                        "se": res.se,
                        "n_baseline": len(a),
                        "n_treatment": len(b),
                    }
                )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RehabStatsWarning)  # NaN estimates as in R
            comb = sced.combine_phase_pairs(
                pd.DataFrame(rows), weighting=args["weighting"], ci=args["confidence"]
            ).set_index("index")
        for want in rec["output"]:
            got = comb.loc[ES_NAMES[want["ES"]]]
            for col, key, atol in (
                ("estimate", "Est", 1e-10),
                ("se", "SE", 1e-10),
                ("ci_low", "CI_lower", 2e-4),
                ("ci_high", "CI_upper", 2e-4),
            ):
                w = math.nan if want[key] is None else float(want[key])
                g = float(got[col])
                if not (
                    (math.isnan(w) and math.isnan(g))
                    or g == w
                    or abs(g - w) <= atol + 1e-9 * abs(w)
                ):
                    failures.append(f"{rec['record_id']} {want['ES']} {col}: {g} vs {w}")
    assert len(recs) == 456
    assert not failures, "\n".join(failures[:20])


def test_combine_phase_pairs_bad_input() -> None:
    with pytest.raises(DataError, match="weighting"):
        sced.combine_phase_pairs(pd.DataFrame(), weighting="n")
    with pytest.raises(DataError, match="effect_sizes"):
        sced.combine_phase_pairs(pd.DataFrame({"x": [1]}))
