"""Run every benchmark in this folder, one after the other, in one session.

Each ``bench_*.py`` prints its timings and the ratios against its named peer (peer time
divided by ours: above 1 means rehabstats is faster). This runner executes them in
sequence, so that the ratios in ``benchmarks/README.md`` come from one run on one
machine, and writes everything they printed to ``benchmarks/last_run.txt``.

    python3 benchmarks/run.py            # all benchmarks
    python3 benchmarks/run.py meta power # only bench_meta.py and bench_power.py
"""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    lines = [
        f"# benchmarks run {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC on "
        f"{platform.machine()} ({platform.python_version()})"
    ]
    failed = 0
    for script in scripts:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            cwd=HERE.parent,
            check=False,
        )
        took = time.perf_counter() - start
        status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
        failed += proc.returncode != 0
        lines += ["", f"## {script.name}: {status}, {took:.1f} s", proc.stdout.rstrip()]
        if proc.returncode:
            lines.append(proc.stderr.rstrip()[-2000:])
        print("\n".join(lines[-3:]), flush=True)
    (HERE / "last_run.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
