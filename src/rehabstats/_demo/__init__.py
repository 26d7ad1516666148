"""The ``rehabstats demo`` job: run the bundled analyses and write a report.

Each capability contributes one *section* module in this package exposing
``run(out_dir: pathlib.Path) -> DemoSection``. A section writes its tables
(CSV) and figures (PNG) into ``out_dir`` and returns an HTML fragment; the
report stitches the fragments into ``index.html``.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._results import format_number

__all__ = ["SECTIONS", "DemoSection", "frame_to_html", "run_demo"]

#: Section modules in report order (``rehabstats._demo.<name>``).
SECTIONS: tuple[str, ...] = ("effect_sizes", "models", "sced", "meta", "planning")


@dataclass(frozen=True)
class DemoSection:
    """What one section of the demo produced."""

    title: str
    html: str
    files: Sequence[str] = field(default_factory=tuple)


def frame_to_html(frame: pd.DataFrame, caption: str | None = None) -> str:
    """Render a table for the report (numbers to 3 decimals, NaN as NA)."""
    table = frame.to_html(
        index=False, na_rep="NA", float_format=format_number, border=0, classes="table"
    )
    cap = f"<p class='caption'>{html.escape(caption)}</p>" if caption else ""
    return cap + table


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table.table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
table.table th, table.table td { padding: 0.2em 0.6em; border-bottom: 1px solid #ddd; }
table.table th { background: #f3f3f3; }
.caption { font-weight: 600; margin-bottom: 0.2em; }
img { max-width: 100%; }
"""


def run_demo(
    out_dir: str | Path, sections: Sequence[str] = SECTIONS, log: Callable[[str], None] = print
) -> Path:
    """Run every available demo section and write ``index.html`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    parts: list[DemoSection] = []
    for name in sections:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # capability not built yet
            raise
        section: DemoSection = module.run(out)
        log(f"{section.title}: wrote {', '.join(section.files) or 'no files'}")
        parts.append(section)
    body = "\n".join(f"<section><h2>{html.escape(p.title)}</h2>\n{p.html}</section>" for p in parts)
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>rehabstats demo</title><style>{_CSS}</style></head><body>"
        "<h1>rehabstats demo report</h1>"
        "<p>Analyses of the simulated sample data bundled with rehabstats "
        "(see <code>rehabstats.datasets.codebook(name)</code>).</p>"
        f"{body}</body></html>"
    )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    log(f"report: {index}")
    return index
