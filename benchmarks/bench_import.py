"""Import time: ``import rehabstats`` against ``import statsmodels.formula.api``.

Each import runs in a fresh interpreter with ``-X importtime``; the figure is the
cumulative import time the interpreter reports for the statement's own modules (the
interpreter's start-up, ``site`` and its ``.pth`` imports excluded), median of
``--repeats`` runs. Differences of whole-process wall times were too noisy for an
import that takes about a millisecond (they went negative).
Goal (issue 12): rehabstats at most 0.8x statsmodels.formula.api, i.e. a ratio >= 1.25.
Also times ``import rehabstats; rehabstats.mmrm`` (the model code on first use).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys

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
    return {"rehabstats": ours, "rehabstats_mmrm": first_use, "statsmodels": peer}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    main(parser.parse_args().repeats)
