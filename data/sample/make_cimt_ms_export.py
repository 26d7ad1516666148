"""Generate ``cimt_ms_export``: the SIMULATED CIMT trial as a messy spreadsheet export.

The same 20 participants as ``cimt_ms`` (no real person), laid out as a REDCap-like
wide export with the problems real exports have, so that the examples can show how
``rs.data`` and ``rehabstats report`` catch them:

* one row per participant, one column per measure and visit (``mal_pre, mal_post,
  mal_6m``, ``wmft_pre, ...``);
* the arm typed in variants: ``"CIMT"``, ``"cimt "``, ``"Control"``, ``"control"``;
* a missing-data code ``-99`` (P04's MAL at 6 months was not done) and an empty cell
  (P07 missed the 6-month visit: a dropout);
* the visit called ``6m`` rather than ``followup``.

Run from the repository root::

    python data/sample/make_cimt_ms_export.py

It writes ``data/sample/cimt_ms_export.csv`` and the packaged copy (identical bytes),
and the codebook ``cimt_ms_export.md`` beside the packaged copy.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1].parent
SOURCE = ROOT / "src" / "rehabstats" / "datasets" / "data" / "cimt_ms.csv"
VISITS = {"pre": "pre", "post": "post", "followup": "6m"}
# how the arm was typed for some participants of each arm, by their rank within the arm
# (the mess is deliberate; every other participant has the arm's usual spelling)
USUAL = {"cimt": "CIMT", "control": "Control"}
VARIANTS = {"cimt": {1: "cimt ", 3: "Cimt"}, "control": {0: "control", 2: "Control "}}


def make() -> pd.DataFrame:
    long = pd.read_csv(SOURCE)
    wide = long.pivot(index="subject", columns="visit", values=["mal_aou", "wmft_time"])
    out = pd.DataFrame({"record_id": wide.index})
    first = long.drop_duplicates("subject").set_index("subject")
    arm = first.loc[out["record_id"], "arm"].to_numpy()
    rank = pd.Series(arm).groupby(arm).cumcount().to_numpy()
    out["group"] = [VARIANTS[a].get(r, USUAL[a]) for a, r in zip(arm, rank, strict=True)]
    out["age"] = first.loc[out["record_id"], "age"].to_numpy()
    for measure, stub in (("mal_aou", "mal"), ("wmft_time", "wmft")):
        for visit, label in VISITS.items():
            out[f"{stub}_{label}"] = wide[(measure, visit)].to_numpy()
    out.loc[out["record_id"] == "P04", "mal_6m"] = -99
    return out


def csv_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def write(sample_dir: Path | None = None, package_dir: Path | None = None) -> list[Path]:
    sample_dir = sample_dir or ROOT / "data" / "sample"
    package_dir = package_dir or SOURCE.parent
    text = csv_text(make())
    paths = [sample_dir / "cimt_ms_export.csv", package_dir / "cimt_ms_export.csv"]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return paths


if __name__ == "__main__":
    for p in write():
        print("wrote", p)
