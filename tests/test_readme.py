"""The README's Python examples run as written (keeps the README true)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from rehabstats.errors import RehabStatsWarning

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_opens_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert first_block is not None
    lines = [ln for ln in first_block.group(1).splitlines() if ln.strip()]
    assert len(lines) == 2
    assert "rehabstats demo" in lines[0]
    assert "pytest" in lines[1]
    assert ".[test" in lines[1]


def test_readme_python_examples_run() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    namespace: dict[str, object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RehabStatsWarning)  # the sample trial has one missed visit
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)
    plt.close("all")
