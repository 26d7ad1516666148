"""The documentation site builds with warnings as errors, and its pages hold together.

This is the check that the API reference (from the docstrings), the math pages, the
gallery (whose figures are drawn by running their code) and the "Coming from R" page
render: a docstring with broken reST or a math page with a dead cross-reference fails
here. Local links of every built page are checked to resolve to a built file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

pytestmark = pytest.mark.slow

import sphinx  # noqa: E402,F401  (the test extra installs it; a missing sphinx is a failure)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    doctrees = tmp_path_factory.mktemp("doctrees")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(doctrees),
            str(DOCS),
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
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
    assert 'class="math' in mmrm
    assert "mathjax" in mmrm.lower()
    for page in (
        "effect_sizes",
        "change",
        "measurement",
        "lmm",
        "sced",
        "randomization",
        "power",
        "meta",
        "allocation",
    ):
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


def _chromium() -> str:
    """The headless browser, or a skip where none is installed.

    ``.ci/run`` installs Debian's ``chromium`` and sets ``REHABSTATS_REQUIRE_BROWSER``, so
    on CI a missing browser is a failure, not a skip.
    """
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("REHABSTATS_REQUIRE_BROWSER"):
            pytest.fail("REHABSTATS_REQUIRE_BROWSER is set but no chromium is on PATH")
        pytest.skip("no chromium on PATH (CI installs Debian's chromium)")
    return path


@pytest.mark.parametrize("page", ["index.html", "math/mmrm.html", "gallery.html"])
def test_pages_render_in_a_real_browser(site: Path, page: str, tmp_path: Path) -> None:
    browser = _chromium()
    url = (site / page).as_uri()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "<title>" in html
    assert "rehabstats" in html
    # the theme's JavaScript ran in the browser: it sets the colour mode on <html>
    assert re.search(r'<html[^>]*data-mode="[a-z]+"', html), html[:500]
    if page == "math/mmrm.html":
        # the TeX reaches the page inside MathJax's classes (MathJax itself loads from its
        # CDN, which this check does not require)
        assert html.count('class="math notranslate nohighlight"') > 20
    shot = tmp_path / "page.png"
    subprocess.run(
        [browser, *flags, "--window-size=1200,900", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
        check=False,
    )
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 20_000
