"""Sphinx configuration of the rehabstats documentation site."""

from __future__ import annotations

import rehabstats

project = "rehabstats"
author = "the rehabstats developers"
copyright = "2026, the rehabstats developers"
version = release = rehabstats.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "matplotlib.sphinxext.plot_directive",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "design.md", "style.md", "domain.md"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False}
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()
html_theme = "pydata_sphinx_theme"
html_title = f"rehabstats {version}"
html_theme_options = {"navigation_with_keys": False}
nitpicky = False

# Gallery figures: run the code under each figure at build time, PNG only, no source links.
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
