"""Import time: ``import rehabstats`` against ``import statsmodels.formula.api``.

Each import runs in a fresh interpreter (median of ``--repeats`` runs, wall time of the
whole ``python -c``); the interpreter's own start-up is measured too and subtracted.
Goal (issue 12): rehabstats at most 0.8x statsmodels.formula.api, i.e. a ratio >= 1.25.
Also times ``import rehabstats; rehabstats.mmrm`` (the model code on first use).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _time(code: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(repeats: int = 7) -> dict[str, float]:
    base = _time("pass", repeats)
    ours = _time("import rehabstats", repeats) - base
    first_use = _time("import rehabstats; rehabstats.mmrm", repeats) - base
    peer = _time("import statsmodels.formula.api", repeats) - base
    print(f"python start-up           {base:.3f} s (subtracted)")
    print(f"import rehabstats         {ours:.3f} s")
    print(f"  ... and rs.mmrm         {first_use:.3f} s")
    print(f"import statsmodels.formula.api {peer:.3f} s")
    print(f"ratio (statsmodels / rehabstats): {peer / ours:.1f}x  (goal >= 1.25x)")
    return {"rehabstats": ours, "rehabstats_mmrm": first_use, "statsmodels": peer}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    main(parser.parse_args().repeats)
