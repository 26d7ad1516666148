"""rs.plot.sced: figure structure (panels, phase lines, overlays) and bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from rehabstats.errors import DataError
from rehabstats.plot._sced import sced


def mbd():
    rows = []
    for c, start in zip(("P1", "P2", "P3"), (5, 8, 11), strict=True):
        for t in range(1, 17):
            rows.append((c, t, "A" if t < start else "B", 10 + 3 * (t >= start) + (t % 3)))
    return pd.DataFrame(rows, columns=["case", "t", "ph", "y"])


def labels(ax, prefix):
    arts = list(ax.lines) + list(ax.collections) + list(ax.patches)
    return [a for a in arts if str(a.get_label()).startswith(prefix)]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_multiple_baseline_panels_and_staircase():
    df = mbd()
    before = df.copy()
    fig = sced(df, outcome="y", phase="ph", session="t", case="case")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert len(labels(ax, "_phase_change")) == 1
        assert len(labels(ax, "_series")) == 2  # one line per phase: broken at the change
        assert [t.get_text() for t in ax.texts if t.get_text() in "AB"] == ["A", "B"]
    stairs = [a for a in fig.artists if a.get_label() == "_staircase"]
    assert len(stairs) == 2
    pd.testing.assert_frame_equal(df, before)


def test_phase_change_positions_are_between_sessions():
    fig = sced(mbd(), outcome="y", phase="ph", session="t", case="case")
    xs = [labels(ax, "_phase_change")[0].get_xdata()[0] for ax in fig.axes]
    assert xs == [4.5, 7.5, 10.5]


@pytest.mark.parametrize("overlay", ["mean", "median", "trend", "band", "celeration"])
def test_each_overlay_is_drawn(overlay):
    fig = sced(mbd(), outcome="y", phase="ph", session="t", case="case", overlays=(overlay,))
    for ax in fig.axes:
        found = labels(ax, f"_overlay_{overlay}")
        per_phase = overlay in ("mean", "median", "trend")
        assert len(found) == (2 if per_phase else (2 if overlay == "band" else 1))


def test_all_overlays_and_abab_single_case_on_given_axes():
    df = pd.DataFrame(
        {
            "t": range(1, 17),
            "ph": list("AAAABBBBAAAABBBB"),
            "y": np.r_[1:5, 6:10, 2:6, 7:11].astype(float),
        }
    )
    fig0, ax = plt.subplots()
    fig = sced(
        df,
        outcome="y",
        phase="ph",
        session="t",
        ax=ax,
        overlays=("mean", "median", "trend", "band", "celeration"),
        improvement="decrease",
    )
    assert fig is fig0
    assert len(fig.axes) == 1
    assert len(labels(ax, "_phase_change")) == 3
    assert len(labels(ax, "_overlay_mean")) == 4


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"overlays": ("spline",)}, "overlays"),
        ({"overlays": "bogus"}, "overlays"),
        ({"improvement": "up"}, "improvement"),
        ({"outcome": "nope"}, "outcome"),
        ({"case": "case", "ax": "an axes"}, "single case"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"outcome": "y", "phase": "ph", "session": "t"}
    args.update(kwargs)
    with pytest.raises(DataError, match=match):
        sced(mbd(), **args)


def test_legend_sharey_and_measure_label() -> None:
    """Issue 10: the graph names its overlays, can share the y scale, and takes the axis
    label, unit and direction from the measure registry."""
    import rehabstats as rs

    data = rs.datasets.load("cimt_leg_mbd")
    fig = rs.plot.sced(
        data,
        outcome="tug_s",
        phase="phase",
        session="session",
        case="participant",
        overlays=("mean", "band", "celeration"),
        measure="tug",
        sharey=True,
    )
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert labels == [
        "baseline (A)",
        "intervention",
        "phase mean",
        "baseline celeration line",
        "baseline mean ± 2 SD",
    ]
    ylims = {ax.get_ylim() for ax in fig.axes}
    assert len(ylims) == 1  # one scale for every panel
    assert any(ax.get_ylabel() == "Timed Up and Go (s)" for ax in fig.axes)
    assert any("lower = better" in t.get_text() for ax in fig.axes for t in ax.texts)
    own = rs.plot.sced(
        data, outcome="tug_s", phase="phase", session="session", case="participant", legend=False
    )
    assert not own.legends
    assert len({ax.get_ylim() for ax in own.axes}) > 1
    with pytest.raises(rs.DataError, match="improves by decrease"):
        rs.plot.sced(
            data,
            outcome="tug_s",
            phase="phase",
            session="session",
            case="participant",
            measure="tug",
            improvement="increase",
        )
