"""The "Coming from R" page: every row's snippet against its R fixture, and no drift.

The registry is ``docs/coming_from_r/rows.py``; ``docs/coming_from_r/build.py`` executes it
(each package's models fitted once, cached) and renders ``docs/coming_from_r.md``. Here every
row is compared with R's number at the row's own tolerance (1e-8 relative for closed forms,
1e-5 for REML/ML fits, looser where the row says why), and the committed page must equal the
generator's output, so the page cannot drift from the numbers.
"""

from __future__ import annotations

import importlib.util
import math
import sys

import pytest
from conftest import REPO_DIR, VALIDATION_DIR

_spec = importlib.util.spec_from_file_location(
    "rehabstats_docs_coming_from_r_build", REPO_DIR / "docs" / "coming_from_r" / "build.py"
)
assert _spec is not None
assert _spec.loader is not None
build = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = build
_spec.loader.exec_module(build)
registry = build.registry

ROWS = [(pkg, row) for pkg in registry.PACKAGES for row in pkg.rows]
IDS = [f"{pkg.name}-{i}" for pkg in registry.PACKAGES for i in range(len(pkg.rows))]


def test_runner_reads_the_vendored_validation_sets() -> None:
    assert build.validation_dir() == VALIDATION_DIR
    assert build.fixture_path("validation/rct/cimt_n20_3v.json").is_file()


@pytest.mark.parametrize(("pkg", "row"), ROWS, ids=IDS)
def test_row_matches_r(pkg: registry.Package, row: registry.Row) -> None:
    # the fixture must exist and hold a number at the key: a missing reference is a failure
    r = build.r_value(row)
    outcome = next(oc for oc in build.evaluate() if oc.row is row)
    assert outcome.r == r
    assert math.isfinite(r), f"{pkg.name}: R value at {row.key} is {r!r}"
    assert abs(outcome.py - r) <= row.atol + row.rtol * abs(r), (
        f"{pkg.name}: {row.r_call}: R {r!r}, rehabstats {outcome.py!r} "
        f"(rtol {row.rtol}, atol {row.atol})"
    )
    assert outcome.ok


def test_committed_page_equals_generator_output() -> None:
    committed = build.PAGE.read_text(encoding="utf-8")
    assert committed == build.render(), (
        "docs/coming_from_r.md is stale: run `python3 docs/coming_from_r/build.py`"
    )


def test_every_package_has_rows_and_tolerances_are_stated() -> None:
    names = [pkg.name for pkg in registry.PACKAGES]
    assert names == [
        "effectsize",
        "metafor",
        "lme4",
        "emmeans",
        "mmrm",
        "mmrm_fev",
        "afex",
        "SingleCaseES",
        "scan",
        "psych",
    ]
    for pkg in registry.PACKAGES:
        assert 4 <= len(pkg.rows) <= 14, pkg.name
        for row in pkg.rows:
            assert row.rtol > 0 or row.atol > 0
            assert row.rtol <= 1e-4
            assert row.atol <= 1e-6


def test_comparison_can_fail() -> None:
    """A perturbed number, a wrong key and a non-expression snippet are caught."""
    oc = build.evaluate()[0]
    bad = build.Outcome(oc.package, oc.row, oc.r, oc.py * (1 + 1e-6))
    assert not bad.ok
    with pytest.raises(KeyError):
        build.lookup({"a": [{"term": "x", "v": 1}]}, ("a", {"term": "y"}, "v"))
    assert build.lookup({"a": [{"term": "x", "v": 1}]}, ("a", {"term": "x"}, "v")) == 1
    with pytest.raises(SyntaxError):
        build.run_snippet("x = 1", {})
    assert build.run_snippet("x = 2\nx *\\\n 3", {}) == 6.0
