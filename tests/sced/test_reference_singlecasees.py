"""rs.sced indices against SingleCaseES 0.7.4 reference records.

The records live in ``../shared/validation/sced/reference/*.json`` (format in
that folder's README). One test per dataset x SingleCaseES function; each test
checks every record of that pair and names the failing ``record_id``.

Tolerances (README): closed forms 1e-10 relative; NAP/Tau/Tau-BC intervals,
which R finds with ``uniroot`` (tolerance ~1.2e-4), 2e-4 absolute; Tau-BC with
``Kendall = TRUE`` and the Kendall-package pretest p-values (single
precision) 1e-6 relative.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from rehabstats import sced
from rehabstats.errors import RehabStatsError, RehabStatsWarning

from ._reference_records import REF_DIR, cases, close, records, split_phases

FUNCTIONS = (
    "NAP",
    "Tau",
    "Tau_U",
    "Tau_BC",
    "PND",
    "PEM",
    "PAND",
    "IRD",
    "SMD",
    "LRRd",
    "LRRi",
    "LOR",
    "LRM",
    "PoGO",
)
SE = {"unbiased": "unbiased", "Hanley": "hanley", "null": "null"}


def _compute(fn: str, a: list[float], b: list[float], args: dict[str, Any]) -> Any:
    imp = args.get("improvement", "increase")
    if fn in ("NAP", "Tau"):
        f = sced.nap if fn == "NAP" else sced.tau
        return f(a, b, improvement=imp, ci=args["confidence"], se_method=SE[args["SE"]])
    if fn == "Tau_BC":
        return sced.tau_bc(
            a,
            b,
            improvement=imp,
            ci=args["confidence"],
            se_method=SE[args["SE"]],
            kendall=args["Kendall"],
            pretest_trend=args["pretest_trend"],
        )
    if fn in ("Tau_U", "PND", "PEM", "PAND", "IRD"):
        f = {
            "Tau_U": sced.tau_u,
            "PND": sced.pnd,
            "PEM": sced.pem,
            "PAND": sced.pand,
            "IRD": sced.ird,
        }[fn]
        return f(a, b, improvement=imp)
    if fn == "SMD":
        return sced.smd(
            a,
            b,
            improvement=imp,
            bias_correct=args["bias_correct"],
            standardizer={"baseline": "baseline", "pool": "pooled"}[args["std_dev"]],
            ci=args["confidence"],
        )
    if fn in ("LRRd", "LRRi"):
        f = sced.lrrd if fn == "LRRd" else sced.lrri
        return f(
            a,
            b,
            improvement=imp,
            scale=args["scale"],
            intervals=args.get("intervals"),
            observation_length=args.get("observation_length"),
            d_const=args["D_const"],
            bias_correct=args["bias_correct"],
            ci=args["confidence"],
        )
    if fn == "LOR":
        return sced.lor(
            a,
            b,
            improvement=imp,
            scale=args["scale"],
            intervals=args.get("intervals"),
            d_const=args["D_const"],
            bias_correct=args["bias_correct"],
            ci=args["confidence"],
        )
    if fn == "LRM":
        return sced.lrm(
            a, b, improvement=imp, delta_method=args["delta_method"], ci=args["confidence"]
        )
    assert fn == "PoGO"
    return sced.pogo(a, b, goal=args["goal"], improvement=imp, ci=args["confidence"])


def _checks(fn: str, res: Any, out: dict[str, Any], args: dict[str, Any]) -> list[tuple]:
    """(name, got, want, rtol, atol) for every number the record holds."""
    if fn in ("LRRd", "LRRi") and args.get("pct_change"):
        pct = out[f"Pct_Change_{fn[-1]}"]
        out = out[fn]
        extra = [
            ("pct_change", res.details["pct_change"], pct["Est"], 1e-10, 1e-12),
            ("pct_ci_low", res.details["pct_change_ci_low"], pct["CI_lower"], 1e-9, 1e-12),
            ("pct_ci_high", res.details["pct_change_ci_high"], pct["CI_upper"], 1e-9, 1e-12),
        ]
    else:
        extra = []
    rtol = 1e-6 if (fn == "Tau_BC" and args.get("Kendall")) else 1e-10
    checks = [("Est", res.estimate, out["Est"], rtol, 1e-12)]
    if "SE" in out:
        checks.append(("SE", res.se, out["SE"], max(rtol, 1e-9), 1e-12))
    if "CI_lower" in out:
        uniroot = fn in ("NAP", "Tau") or (fn == "Tau_BC" and not args.get("Kendall"))
        ci_r, ci_a = (0.0, 2e-4) if uniroot else (max(rtol, 1e-9), 1e-12)
        if fn == "Tau_BC" and args.get("Kendall"):
            ci_r, ci_a = 1e-6, 1e-6  # est +/- z SE from a single-precision tau
        checks += [
            ("CI_lower", res.ci_low, out["CI_lower"], ci_r, ci_a),
            ("CI_upper", res.ci_high, out["CI_upper"], ci_r, ci_a),
        ]
    if fn == "Tau_BC":
        checks += [
            ("slope", res.details["slope"], out["slope"], 1e-10, 1e-12),
            ("intercept", res.details["intercept"], out["intercept"], 1e-10, 1e-10),
        ]
        if "pval_slope_A" in out:
            checks.append(
                ("pval_slope_A", res.details["pval_slope_a"], out["pval_slope_A"], 1e-6, 1e-7)
            )
    if fn in ("NAP",) and "trunc" in out:
        checks.append(("trunc", res.details["trunc"], out["trunc"], 1e-12, 0.0))
    return checks + extra


@pytest.mark.parametrize(("dataset", "function"), cases("SingleCaseES", FUNCTIONS))
def test_singlecasees_records(dataset: str, function: str) -> None:
    assert REF_DIR.is_dir(), "vendored validation sets missing"
    recs = [
        r for r in records(dataset) if r["package"] == "SingleCaseES" and r["function"] == function
    ]
    assert recs
    failures = []
    for rec in recs:
        a, b = split_phases(rec["input"])
        args = rec["arguments"]
        if rec["error"]:
            with pytest.raises(RehabStatsError):
                _compute(function, a, b, args)
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RehabStatsWarning)
            res = _compute(function, a, b, args)
        # rs.sced announces non-finite results that R returns silently (issue 7)
        ours = [
            w
            for w in caught
            if issubclass(w.category, RehabStatsWarning) and "is not finite" not in str(w.message)
        ]
        if ours and not rec["warnings"]:
            failures.append(f"{rec['record_id']}: unexpected warning {ours[0].message}")
        for name, got, want, rtol, atol in _checks(function, res, rec["output"], args):
            if not close(got, want, rtol, atol):
                failures.append(f"{rec['record_id']}: {name} = {got!r}, SingleCaseES {want!r}")
    assert not failures, f"{len(failures)} mismatch(es):\n" + "\n".join(failures[:20])


def test_reference_cases_found() -> None:
    assert REF_DIR.is_dir(), "vendored validation sets missing"
    assert len({fn for _, fn in cases("SingleCaseES", FUNCTIONS)}) == len(FUNCTIONS)
