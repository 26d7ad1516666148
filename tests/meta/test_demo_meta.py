"""The meta-analysis section of ``rehabstats demo``."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd
from numpy.testing import assert_allclose

from rehabstats import _demo
from rehabstats._demo import meta as demo_meta


def test_section_registered() -> None:
    assert "meta" in _demo.SECTIONS


def test_section_writes_tables_and_forest(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the demo runs quietly
        section = demo_meta.run(tmp_path)
    for name in section.files:
        assert (tmp_path / name).is_file()
    assert "meta_forest.png" in section.html
    methods = pd.read_csv(tmp_path / "meta_methods.csv")
    assert len(methods) == 13
    assert (methods["tau2"] >= 0).all()
    studies = pd.read_csv(tmp_path / "meta_studies.csv")
    assert_allclose(studies["weight"].sum(), 100.0, rtol=1e-12)
    # MD of the first trial: 59.54 - 60.64
    assert_allclose(studies["yi"].iloc[0], -1.10, rtol=1e-12)
