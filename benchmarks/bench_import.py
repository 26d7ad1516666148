"""Import time: ``import rehabstats`` against ``import statsmodels.formula.api``.

Each import runs in a fresh interpreter with ``-X importtime``; the figure is the
cumulative import time the interpreter reports for the statement's own modules (the
interpreter's start-up, ``site`` and its ``.pth`` imports excluded), median of
``--repeats`` runs. Differences of whole-process wall times were too noisy for an
import that takes about a millisecond (they went negative).
Goal (issue 12): rehabstats at most 0.8x statsmodels.formula.api, i.e. a ratio >= 1.25.
Also times ``import rehabstats; rehabstats.mmrm`` (the model code on first use), and
the first fit of a fresh session: a script that reads the CIMT trial (60 rows) from
CSV, fits the MMRM and prints its summary, against the same with statsmodels
``MixedLM`` (random intercept) -- whole-process wall time minus that of an empty
interpreter, median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)")


def _import_seconds(code: str) -> float:
    """Cumulative import time of the top-level imports ``code`` triggers (seconds)."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], check=True, capture_output=True, text=True
    ).stderr
    total_us = 0
    seen_site = False
    for line in out.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        cumulative, indent, name = int(m.group(2)), len(m.group(3)), m.group(4)
        if indent == 1:  # a top-level import (one space after the bar)
            if name == "site":
                seen_site = True
                continue
            if seen_site:
                total_us += cumulative
    return total_us / 1e6


def _time(code: str, repeats: int) -> float:
    return statistics.median(_import_seconds(code) for _ in range(repeats))


def _wall(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - t0


_FIRST_FIT = {
    "rehabstats": (
        "import warnings; warnings.simplefilter('ignore')\n"
        "import pandas as pd, rehabstats as rs\n"
        "d = pd.read_csv({csv!r})\n"
        "print(rs.mmrm('mal_aou ~ arm * visit', d, subject='subject', visit='visit').summary())\n"
    ),
    "statsmodels": (
        "import warnings; warnings.simplefilter('ignore')\n"
        "import pandas as pd, statsmodels.formula.api as smf\n"
        "d = pd.read_csv({csv!r}).dropna(subset=['mal_aou'])\n"
        "print(smf.mixedlm('mal_aou ~ arm * visit', d, groups=d['subject']).fit().summary())\n"
    ),
}


def first_fit(repeats: int) -> dict[str, float]:
    """Seconds from a fresh interpreter to the first printed MMRM (or MixedLM) summary."""
    import rehabstats as rs

    with tempfile.TemporaryDirectory() as tmp:
        csv = str(Path(tmp) / "cimt_ms.csv")
        data = rs.datasets.load("cimt_ms")
        data.astype({"arm": str, "visit": str}).to_csv(csv, index=False)
        out: dict[str, list[float]] = {name: [] for name in (*_FIRST_FIT, "empty")}
        for _ in range(repeats):  # interleaved
            out["empty"].append(_wall("pass"))
            for name, code in _FIRST_FIT.items():
                out[name].append(_wall(code.format(csv=csv)))
    empty = statistics.median(out["empty"])
    return {name: statistics.median(v) - empty for name, v in out.items() if name != "empty"}


def main(repeats: int = 7) -> dict[str, float]:
    ours = _time("import rehabstats", repeats)
    first_use = _time("import rehabstats; rehabstats.mmrm", repeats)
    peer = _time("import statsmodels.formula.api", repeats)
    print("cumulative import time (-X importtime), median of", repeats, "fresh interpreters")
    print(f"import rehabstats              {ours * 1e3:8.1f} ms")
    print(f"  ... and rs.mmrm (first use)  {first_use * 1e3:8.1f} ms")
    print(f"import statsmodels.formula.api {peer * 1e3:8.1f} ms")
    print(f"ratio (statsmodels / rehabstats): {peer / ours:.1f}x  (goal >= 1.25x)")
    print(f"ratio (statsmodels / rehabstats incl. rs.mmrm): {peer / first_use:.2f}x")
    fit = first_fit(repeats)
    print(
        f"first fit of a fresh session (read CSV, fit, print summary; wall time beyond an "
        f"empty interpreter): rehabstats mmrm {fit['rehabstats']:.3f} s, statsmodels "
        f"MixedLM {fit['statsmodels']:.3f} s; ratio {fit['statsmodels'] / fit['rehabstats']:.2f}x"
    )
    return {
        "rehabstats": ours,
        "rehabstats_mmrm": first_use,
        "statsmodels": peer,
        **{f"first_fit_{k}": v for k, v in fit.items()},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    main(parser.parse_args().repeats)
