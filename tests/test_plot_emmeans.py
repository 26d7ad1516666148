"""rs.plot.emmeans: the points and bars are the model's emmeans table."""

from __future__ import annotations

import numpy as np
import pytest

import rehabstats as rs
from rehabstats.errors import DataError, DesignError


@pytest.fixture(scope="module")
def fit():  # type: ignore[no-untyped-def]
    trial = rs.datasets.load("cimt_ms").dropna(subset=["mal_aou"])
    return rs.mmrm("mal_aou ~ arm * visit", trial, subject="subject", visit="visit")


def test_points_and_intervals_are_the_emmeans(fit) -> None:  # type: ignore[no-untyped-def]
    fig = rs.plot.emmeans(fit, dodge=0.0, ci=0.9)
    ax = fig.axes[0]
    table = fit.emmeans("arm", by="visit", ci=0.9)
    lines = [c.lines[0] for c in ax.containers]
    assert len(lines) == 2
    for line, arm in zip(lines, ["control", "cimt"], strict=True):
        want = table[table["arm"] == arm]["estimate"].to_numpy()
        np.testing.assert_allclose(line.get_ydata(), want, rtol=1e-12)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["control", "cimt"]
    assert "90% CI" in ax.get_title()


def test_bad_input(fit) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match="fitted model"):
        rs.plot.emmeans("not a fit")
    with pytest.raises(DesignError, match="'week' is not a factor"):
        rs.plot.emmeans(fit, visit="week")
    with pytest.raises(DataError, match="one colour per arm"):
        rs.plot.emmeans(fit, colors=["red"])
