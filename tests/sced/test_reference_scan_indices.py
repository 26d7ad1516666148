"""rs.sced indices against scan 0.67.1 reference records.

One test per dataset x scan function (``nap, pnd, pem, pand, ird, smd, tau_u,
overlap, describe``). scan reports percentages where rs.sced reports
proportions. Closed forms are compared at 1e-9 relative.

Mapping (scan -> rs.sced):

* ``nap``: NAP, NAP Rescaled, Pairs, Positives, Ties, Non-overlaps -> :func:`nap`
  (``100 * estimate``, ``100 * (2 NAP - 1)``); ``w, p, d, R²`` are not compared
  (Wilcoxon test and transformations scan adds).
* ``pem``: scan counts ties with the baseline median as 0 -> ``details["pem_strict"]``;
  its binomial / chi-square tests are not compared.
* ``pand``: ``method`` "minimum" and "sort" -> :func:`pand` with the same method.
* ``smd``: Glass' delta, Hedges' g, Hedges' g correction -> :func:`smd` (baseline
  SD without correction; pooled SD without and with correction); Cohen's d
  (average-variance SD) and Durlak's correction are not rs.sced options.
* ``tau_u``: the whole per-case table -> :func:`tau_u_table`; meta-analysis
  records -> :func:`combine_tau_u` (and each case's table).
* ``corrected_tau``: tau, p, correction_applied and the 3-row table ->
  :func:`corrected_tau` with the record's sessions as measurement times.
* ``overlap``: PND, PEM, NAP, NAP rescaled, PAND, IRD, Tau_U(A), Tau_U(BA),
  Base_Tau, Diff_mean, Diff_trend, SMD, Hedges_g; ``PET`` is not compared.
* ``describe``: n, m, md, sd, mad, min, max, trend per phase run -> :func:`describe`.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

import pandas as pd
import pytest

from rehabstats import sced
from rehabstats.errors import DataError, RehabStatsWarning

from ._reference_records import REF_DIR, cases, close, records, split_phases

#: scan returns these non-finite values silently; rs.sced computes the same values and
#: announces them (issue 7), which is not a mismatch here
pytestmark = [
    pytest.mark.filterwarnings("ignore:Tau-U table. undefined:rehabstats.errors.RehabStatsWarning"),
    pytest.mark.filterwarnings("ignore:.*is not finite:rehabstats.errors.RehabStatsWarning"),
    pytest.mark.filterwarnings(
        "ignore:combine_tau_u. .*no finite Fisher z:rehabstats.errors.RehabStatsWarning"
    ),
]

FUNCTIONS = (
    "nap",
    "pnd",
    "pem",
    "pand",
    "ird",
    "smd",
    "tau_u",
    "corrected_tau",
    "overlap",
    "describe",
)
TAU_COLS = {
    "pairs": "pairs",
    "pos": "pos",
    "neg": "neg",
    "ties": "ties",
    "S": "S",
    "D": "D",
    "Tau": "Tau",
    "CI lower": "ci_low",
    "CI upper": "ci_high",
    "SD_S": "SD_S",
    "VAR_S": "VAR_S",
    "SE_Tau": "SE_Tau",
    "Z": "Z",
    "p": "p",
    "n": "n",
}


def _close(got: Any, want: Any, rtol: float = 1e-9, atol: float = 1e-12) -> bool:
    return close(got, want, rtol, atol)


@lru_cache(maxsize=4096)
def _table(
    a: tuple[float, ...], b: tuple[float, ...], kw: tuple[tuple[str, Any], ...]
) -> pd.DataFrame:
    """Memoised :func:`sced.tau_u_table` (meta-analysis records reuse the case tables)."""
    return sced.tau_u_table(list(a), list(b), **dict(kw))


def _smd(a: list[float], b: list[float], **kw: Any) -> float:
    """SMD estimate; scan returns Inf/NaN silently where rs.sced also warns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)
        return sced.smd(a, b, **kw).estimate


def _tau_kw(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "method": args["method"],
        "tau_method": args["tau_method"],
        "continuity_correction": args["continuity_correction"],
        "ci": args["ci"],
        "ci_method": args["ci_method"],
    }


def _cmp_table(tab: pd.DataFrame, want: list[dict[str, Any]], rid: str) -> list[str]:
    errs = []
    got_rows = tab.to_dict("records")
    for got, row in zip(got_rows, want, strict=True):
        assert got["model"] == row["model"]
        for key, val in row.items():
            if key != "model" and not _close(got[TAU_COLS[key]], val):
                errs.append(f"{rid}: {row['model']} {key} = {got[TAU_COLS[key]]!r}, scan {val!r}")
    return errs


def _sessions(inp: dict[str, Any]) -> tuple[list[float], list[float], list[float], list[float]]:
    """Baseline/treatment values and sessions of a record, rows with missing outcome dropped."""
    ph = inp["phase"]
    k = 1
    while k < len(ph) and ph[k] == ph[0]:
        k += 1
    rows = [
        (t, y, i < k)
        for i, (t, y) in enumerate(zip(inp["session"], inp["outcome"], strict=True))
        if y is not None
    ]
    return (
        [y for _, y, is_a in rows if is_a],
        [y for _, y, is_a in rows if not is_a],
        [t for t, _, is_a in rows if is_a],
        [t for t, _, is_a in rows if not is_a],
    )


def _corrected(inp: dict[str, Any], **kw: Any) -> Any:
    a, b, ta, tb = _sessions(inp)
    return sced.corrected_tau(a, b, baseline_sessions=ta, treatment_sessions=tb, **kw)


def _check(fn: str, rec: dict[str, Any]) -> list[str]:
    rid, args, out = rec["record_id"], rec["arguments"], rec["output"]
    imp = "decrease" if args.get("decreasing") else "increase"
    pairs: list[tuple[str, Any, Any]] = []
    if fn == "tau_u" and rec["case"].startswith("ALL"):
        inp = rec["input"]
        cases = list(dict.fromkeys(inp["case"]))
        tables, errs = [], []
        for c in cases:
            idx = [i for i, x in enumerate(inp["case"]) if x == c]
            a, b = split_phases(
                {
                    "phase": [inp["phase"][i] for i in idx],
                    "outcome": [inp["outcome"][i] for i in idx],
                }
            )
            tab = _table(tuple(a), tuple(b), tuple(_tau_kw(args).items()))
            tables.append(tab)
            errs += _cmp_table(tab, out["per_case_tables"][c], f"{rid} [{c}]")
        meta = sced.combine_tau_u(tables, weights=args["meta_weight_method"], ci=args["ci"])
        for got, row in zip(meta.to_dict("records"), out["overall"], strict=True):
            for key, col in (
                ("Tau_U", "tau_u"),
                ("se", "se"),
                ("CI lower", "ci_low"),
                ("CI upper", "ci_high"),
                ("z", "z"),
                ("p", "p"),
            ):
                if not _close(got[col], row[key]):
                    errs.append(
                        f"{rid}: overall {row['Model']} {key} = {got[col]!r}, scan {row[key]!r}"
                    )
        return errs
    if fn == "corrected_tau":
        res = _corrected(
            rec["input"],
            alpha=args["alpha"],
            continuity_correction=args["continuity"],
            tau_method=args["tau_method"],
            repeated=args["repeated"],
        )
        pairs += [
            ("tau", res.estimate, out["tau"]),
            ("p", res.details["p"], out["p"]),
            (
                "correction_applied",
                float(res.details["correction_applied"]),
                float(out["correction_applied"]),
            ),
        ]
        for got, row in zip(res.details["table"].to_dict("records"), out["table"], strict=True):
            pairs += [(f"{row['Model']} {k}", got[k], row[k]) for k in ("tau", "z", "p")]
    elif fn == "describe":
        inp = rec["input"]
        df = pd.DataFrame({"t": inp["session"], "ph": inp["phase"], "y": inp["outcome"]})
        df["y"] = pd.to_numeric(df["y"])
        if (df["t"].diff().dropna() <= 0).any():
            # scan accepts repeated measurement times (Facon2008 lists session 39
            # twice); rs.sced rejects them by design.
            with pytest.raises(DataError, match="more than once"):
                sced.describe(df, outcome="y", phase="ph", session="t")
            return []
        with pytest.warns(RehabStatsWarning) if df["y"].isna().any() else _nullcontext():
            d = sced.describe(df, outcome="y", phase="ph", session="t")
        labels = [k[2:] for k in out if k.startswith("n.")]
        assert len(labels) == len(d.phases), rid
        for run, lab in enumerate(labels):
            row = d.phases.iloc[run]
            for key, col in (
                ("m", "mean"),
                ("md", "median"),
                ("sd", "sd"),
                ("min", "min"),
                ("max", "max"),
                ("trend", "trend"),
            ):
                pairs.append((f"{key}.{lab}", row[col], out[f"{key}.{lab}"]))
            pairs.append((f"mad.{lab}", row["mad"], out[f"mad.{lab}"]))
            pairs.append((f"n.{lab}", row["n"] + out[f"mis.{lab}"], out[f"n.{lab}"]))
    else:
        a, b = split_phases(rec["input"])
        if fn == "nap":
            res = sced.nap(a, b, improvement=imp)
            oa, ob = (a, b) if imp == "increase" else ([-v for v in a], [-v for v in b])
            pos = sum(y > x for x in oa for y in ob)
            ties = sum(y == x for x in oa for y in ob)
            pairs += [
                ("NAP", 100 * res.estimate, out["NAP"]),
                ("NAP Rescaled", 100 * (2 * res.estimate - 1), out["NAP Rescaled"]),
                ("Pairs", res.n_x * res.n_y, out["Pairs"]),
                ("Positives", pos, out["Positives"]),
                ("Ties", ties, out["Ties"]),
                ("Non-overlaps", pos + 0.5 * ties, out["Non-overlaps"]),
                ("NAP = (pos + ties/2)/pairs", (pos + 0.5 * ties) / len(a) / len(b), res.estimate),
            ]
        elif fn == "pnd":
            pairs.append(("PND", 100 * sced.pnd(a, b, improvement=imp).estimate, out["PND"]))
        elif fn == "pem":
            res = sced.pem(a, b, improvement=imp)
            pairs.append(("PEM", 100 * res.details["pem_strict"], out["PEM"]))
        elif fn == "pand":
            res = sced.pand(a, b, improvement=imp, method=args["method"])
            pairs.append(("pand", 100 * res.estimate, out["pand"]))
            pairs.append(("overlaps", res.details["overlaps"], out["overlaps"]))
            if args["method"] == "sort":
                # scan's pand()$phi and its chi-square / Fisher tests (issue 7, section 6)
                for key in ("phi", "chi_square", "chi_p", "fisher_p"):
                    pairs.append((key, res.details[key], out[key]))
                # R's fisher.test finds the conditional MLE odds ratio with uniroot on
                # (0, 1) for t or 1/t (absolute tolerance ~1.2e-4 there, so relative
                # error grows with the ratio): compare to 5e-3 relative
                if not _close(
                    res.details["fisher_odds_ratio"], out["fisher_odds_ratio"], rtol=5e-3
                ):
                    pairs.append(
                        (
                            "fisher_odds_ratio",
                            res.details["fisher_odds_ratio"],
                            out["fisher_odds_ratio"],
                        )
                    )
                counts = res.details["matrix_counts"]
                for r_i, lab in enumerate(("A", "B")):
                    for c_i in range(2):
                        pairs.append(
                            (f"matrix {lab}{c_i}", counts[r_i, c_i], out["matrix_counts"][lab][c_i])
                        )
        elif fn == "ird":
            pairs.append(("ird", sced.ird(a, b, improvement=imp).estimate, out["ird"]))
        elif fn == "smd":
            pairs += [
                ("Glass' delta", _smd(a, b, bias_correct=False), out["Glass' delta"]),
                (
                    "Hedges' g",
                    _smd(a, b, standardizer="pooled", bias_correct=False),
                    out["Hedges' g"],
                ),
                (
                    "Hedges' g correction",
                    _smd(a, b, standardizer="pooled"),
                    out["Hedges' g correction"],
                ),
            ]
        elif fn == "tau_u":
            tab = _table(tuple(a), tuple(b), tuple(_tau_kw(args).items()))
            return _cmp_table(tab, out["table"], rid)
        elif fn == "overlap":
            complete = _table(tuple(a), tuple(b), ())
            inp = rec["input"]
            ab = pd.DataFrame(
                {
                    "t": inp["session"],
                    "ph": inp["phase"],
                    "y": pd.to_numeric(pd.Series(inp["outcome"], dtype=object)),
                }
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RehabStatsWarning)  # missing outcomes
                desc = sced.describe(ab, outcome="y", phase="ph", session="t")
            trans = desc.transitions.iloc[0]
            pairs += [
                ("PND", 100 * sced.pnd(a, b, improvement=imp).estimate, out["PND"]),
                ("PEM", 100 * sced.pem(a, b, improvement=imp).details["pem_strict"], out["PEM"]),
                ("NAP", 100 * sced.nap(a, b, improvement=imp).estimate, out["NAP"]),
                (
                    "NAP rescaled",
                    100 * sced.tau(a, b, improvement=imp).estimate,
                    out["NAP rescaled"],
                ),
                (
                    "PAND",
                    100 * sced.pand(a, b, improvement=imp, method="sort").estimate,
                    out["PAND"],
                ),
                ("IRD", sced.ird(a, b, improvement=imp).estimate, out["IRD"]),
                ("Tau_U(A)", complete.loc[3, "Tau"], out["Tau_U(A)"]),
                ("Tau_U(BA)", complete.loc[5, "Tau"], out["Tau_U(BA)"]),
                ("Base_Tau", _corrected(rec["input"]).estimate, out["Base_Tau"]),
                ("Diff_mean", trans["level_change"], out["Diff_mean"]),
                ("Diff_trend", trans["trend_change"], out["Diff_trend"]),
                ("SMD", _smd(a, b, bias_correct=False), out["SMD"]),
                ("Hedges_g", _smd(a, b, standardizer="pooled"), out["Hedges_g"]),
            ]
    return [
        f"{rid}: {name} = {got!r}, scan {want!r}"
        for name, got, want in pairs
        if not _close(got, want)
    ]


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize(("dataset", "function"), cases("scan", FUNCTIONS))
def test_scan_records(dataset: str, function: str) -> None:
    assert REF_DIR.is_dir(), "vendored validation sets missing"
    recs = [r for r in records(dataset) if r["package"] == "scan" and r["function"] == function]
    assert recs
    failures: list[str] = []
    for rec in recs:
        assert not rec["error"], rec["record_id"]
        failures += _check(function, rec)
    assert not failures, f"{len(failures)} mismatch(es):\n" + "\n".join(failures[:20])
