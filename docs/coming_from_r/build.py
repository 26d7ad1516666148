"""Generate ``docs/coming_from_r.md`` from the registry in ``rows.py``.

Run ``python3 docs/coming_from_r/build.py`` after changing a row (``--check`` only compares).
Each row's snippet is executed in its package's setup namespace and the number is printed next
to R's number read from the row's fixture; ``tests/test_coming_from_r.py`` checks both the
numbers (at each row's tolerance) and that the committed page equals this output.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REFERENCE = REPO / "tests" / "reference"
PAGE = REPO / "docs" / "coming_from_r.md"


def _load_module(name: str, path: Path) -> Any:
    """Import ``path`` under a unique module name (no clash with other ``rows`` modules)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


registry = _load_module("rehabstats_docs_coming_from_r_rows", HERE / "rows.py")


@lru_cache(maxsize=1)
def validation_dir() -> Path:
    """The unpacked vendored validation sets (unpacked on first use)."""
    sys.path.insert(0, str(REFERENCE))
    from validation_data import unpack_validation

    path: Path = unpack_validation()
    return path


def fixture_path(fixture: str) -> Path:
    """``validation/...`` -> the unpacked validation sets; otherwise under tests/reference."""
    if fixture.startswith("validation/"):
        return validation_dir() / fixture.removeprefix("validation/")
    return REFERENCE / fixture


@cache
def _load(fixture: str) -> Any:
    text = fixture_path(fixture).read_text(encoding="utf-8")
    return json.loads(text)


def lookup(obj: Any, key: registry.Key) -> Any:
    """Follow ``key`` into a parsed JSON document (a dict part selects a list element)."""
    for part in key:
        if isinstance(part, dict):
            matches = [el for el in obj if all(el.get(k) == v for k, v in part.items())]
            if not matches:
                raise KeyError(f"no element with {part}")
            obj = matches[0]
        else:
            obj = obj[part]
    return obj


def r_value(row: registry.Row) -> float:
    """R's number for ``row`` (R's "Inf"/"NaN" strings become floats)."""
    v = lookup(_load(row.fixture), row.key)
    return float(v)


def _namespace(pkg: registry.Package) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    import rehabstats as rs

    ns: dict[str, Any] = {
        "pd": pd,
        "np": np,
        "rs": rs,
        "json": json,
        "VALIDATION": validation_dir(),
        "REFERENCE": REFERENCE,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(pkg.setup, ns)
    return ns


def rs_warning() -> type[Warning]:
    from rehabstats.errors import RehabStatsWarning

    return RehabStatsWarning


def run_snippet(snippet: str, ns: dict[str, Any]) -> float:
    """Execute ``snippet`` (statements, then one expression on the last line) in ``ns``."""
    lines = snippet.rstrip().splitlines()
    # the final expression may span several lines: find where it starts
    for start in range(len(lines) - 1, -1, -1):
        tail = "\n".join(lines[start:])
        try:
            code = compile(tail, "<row>", "eval")
        except SyntaxError:
            continue
        if start:
            exec("\n".join(lines[:start]), ns)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # rehabstats' own notes (e.g. an undefined Tau-U trend row that R returns silently)
            # are information for the user, not a failure of the equivalence
            warnings.simplefilter("ignore", rs_warning())
            return float(eval(code, ns))
    raise SyntaxError(f"snippet does not end with an expression: {snippet!r}")


@dataclass(frozen=True)
class Outcome:
    """One evaluated row."""

    package: registry.Package
    row: registry.Row
    r: float
    py: float

    @property
    def ok(self) -> bool:
        r, p = self.r, self.py
        if math.isnan(r) or math.isnan(p):
            return math.isnan(r) and math.isnan(p)
        if math.isinf(r):
            return p == r
        return abs(p - r) <= self.row.atol + self.row.rtol * abs(r)


@lru_cache(maxsize=1)
def evaluate() -> tuple[Outcome, ...]:
    """Every row of every package, executed (models fitted once per package)."""
    out = []
    for pkg in registry.PACKAGES:
        ns = _namespace(pkg)
        for row in pkg.rows:
            out.append(Outcome(pkg, row, r_value(row), run_snippet(row.py, ns)))
    return tuple(out)


# -- rendering --------------------------------------------------------------------------------


def _fmt(v: float, rtol: float, atol: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return str(v)
    digits = 9 if rtol <= 1e-8 and atol == 0 else 6
    return f"{v:.{digits}g}"


def _cell_code(text: str) -> str:
    one_line = " ".join(part.strip() for part in text.strip().splitlines())
    return "`" + one_line.replace("|", "\\|") + "`"


def _key_text(row: registry.Row) -> str:
    parts = []
    for p in row.key:
        if isinstance(p, dict):
            parts.append("[" + ", ".join(f"{k}={v}" for k, v in p.items()) + "]")
        else:
            parts.append(str(p))
    return "`" + row.fixture + "` : `" + " / ".join(parts).replace("|", "\\|") + "`"


def _tol(row: registry.Row) -> str:
    if row.rtol and row.atol:
        return f"rel {row.rtol:g}, abs {row.atol:g}"
    return f"rel {row.rtol:g}" if row.rtol else f"abs {row.atol:g}"


HEADER = """\
# Coming from R

One table per R package: the call you know, the rehabstats call that gives the same number,
the number R gives (read from the committed R output, named in the last column) and the number
rehabstats gives. The page is generated by `docs/coming_from_r/build.py` from the registry
`docs/coming_from_r/rows.py`; `tests/test_coming_from_r.py` executes every row, compares it with
R at the stated tolerance and fails if this page differs from what the generator writes, so the
numbers below cannot drift. Fixture paths are under `tests/reference/`; `validation/...` are
the vendored validation sets (`tests/reference/VALIDATION.md`). Conventions that differ
between the R packages (and where rehabstats follows which) are in
[Known differences and traps](differences.md).

Every snippet runs after `import json, numpy as np, pandas as pd, rehabstats as rs`, with
`VALIDATION` the unpacked validation sets and `REFERENCE` the folder `tests/reference/`.
"""


def render() -> str:
    """The Markdown text of ``docs/coming_from_r.md``."""
    parts = [HEADER]
    outcomes = evaluate()
    for pkg in registry.PACKAGES:
        parts.append(
            f"\n## {pkg.title}\n\n{pkg.versions}. {pkg.intro}\n\n```python\n"
            f"{pkg.setup}\n```\n\n"
            "| R | rehabstats | R gives | rehabstats gives | tolerance | R value from |\n"
            "| --- | --- | --- | --- | --- | --- |\n"
        )
        for oc in outcomes:
            if oc.package is not pkg:
                continue
            row = oc.row
            note = f" ({row.note})" if row.note else ""
            parts.append(
                f"| {_cell_code(row.r_call)} | {_cell_code(row.py)} | "
                f"{_fmt(oc.r, row.rtol, row.atol)} | {_fmt(oc.py, row.rtol, row.atol)} | "
                f"{_tol(row)}{note} | {_key_text(row)} |\n"
            )
    return "".join(parts)


def main(argv: list[str]) -> int:
    text = render()
    bad = [oc for oc in evaluate() if not oc.ok]
    for oc in bad:
        print(f"MISMATCH {oc.package.name}: {oc.row.r_call}: R {oc.r!r}, rehabstats {oc.py!r}")
    if "--check" in argv:
        same = PAGE.is_file() and PAGE.read_text(encoding="utf-8") == text
        print("page up to date" if same else "page differs from the generator")
        return 0 if same and not bad else 1
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE} ({len(evaluate())} rows, {len(bad)} mismatches)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
