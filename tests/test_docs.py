"""The documentation site builds with warnings as errors, and its pages hold together.

This is the check that the API reference (from the docstrings), the math pages, the
gallery (whose figures are drawn by running their code) and the "Coming from R" page
render: a docstring with broken reST or a math page with a dead cross-reference fails
here. Local links of every built page are checked to resolve to a built file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

pytest.importorskip("sphinx", reason="the docs build needs the test extra (sphinx)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    doctrees = tmp_path_factory.mktemp("doctrees")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(doctrees), str(DOCS), str(out)],
        capture_output=True, text=True, cwd=ROOT, check=False,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0, f"sphinx -W failed:\n{proc.stderr[-4000:]}"
    return out


def test_index_and_math_pages_render(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "<title>rehabstats" in index
    mmrm = (site / "math" / "mmrm.html").read_text(encoding="utf-8")
    assert "Kenward" in mmrm
    # dollar maths is turned into MathJax spans, and MathJax is loaded on the page
    assert 'class="math' in mmrm and "mathjax" in mmrm.lower()
    for page in ("effect_sizes", "change", "measurement", "lmm", "sced", "randomization",
                 "power", "meta", "allocation"):
        assert (site / "math" / f"{page}.html").is_file(), page


def test_gallery_figures_are_drawn(site: Path) -> None:
    gallery = (site / "gallery.html").read_text(encoding="utf-8")
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', gallery)
    assert len(images) >= 5
    for src in images:
        assert (site / src).is_file(), src


def test_api_reference_lists_the_public_modules(site: Path) -> None:
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for module in ("effect_sizes", "change", "sced", "models", "meta", "power", "design"):
        assert f"rehabstats.{module}" in api, module


def test_no_broken_local_links(site: Path) -> None:
    broken = []
    for page in site.rglob("*.html"):
        if "_modules" in page.parts or "_static" in page.parts:
            continue
        html = page.read_text(encoding="utf-8")
        for href in re.findall(r'href="([^"#][^"]*)"', html):
            if re.match(r"^[a-z]+:", href) or href.startswith("//"):
                continue
            target = (page.parent / urlsplit(href).path).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {href}")
    assert not broken, broken[:20]
