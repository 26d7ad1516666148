"""rs.plot.forest: rows, labels, CI text, NaN intervals and bad input."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import rehabstats as rs
from rehabstats._results import EffectSizeResult
from rehabstats.errors import DataError
from rehabstats.plot._forest import forest
from rehabstats.sced import effect_sizes as sced_effect_sizes

matplotlib.use("Agg")

X = [5.0, 6.5, 7.1, 6.0, 8.2, 7.7]
Y = [4.1, 5.0, 4.8, 5.9, 4.4, 5.2]


def _texts(fig: Figure) -> tuple[list[str], list[str]]:
    """Left labels and right-hand 'estimate [low, high]' texts, top row first."""
    left, right = fig.axes[0], fig.axes[1]
    lab = [t.get_text() for t in left.get_yticklabels()]
    txt = [t.get_text() for t in right.get_yticklabels()][:-1]  # last tick = header
    return lab, txt


def test_results_list_gives_one_row_each_in_order() -> None:
    res = [rs.hedges_g(X, Y), rs.cohens_d(X, Y), rs.cliffs_delta(X, Y)]
    fig = forest(res)
    assert isinstance(fig, Figure)
    labels, texts = _texts(fig)
    assert labels == ["hedges_g", "cohens_d", "cliffs_delta"]
    g = res[0]
    assert texts[0] == f"{g.estimate:.2f} [{g.ci_low:.2f}, {g.ci_high:.2f}]"
    # the squares sit at the estimates, top row first
    xs, ys = fig.axes[0].lines[0].get_data()
    np.testing.assert_allclose(xs, [r.estimate for r in res], rtol=1e-12)
    assert list(ys) == [2.0, 1.0, 0.0]
    header = fig.axes[1].get_yticklabels()[-1].get_text()
    assert header == "Estimate [95% CI]"


def test_null_line_and_custom_labels() -> None:
    res = [rs.hedges_g(X, Y), rs.glass_delta(X, Y)]
    fig = forest(res, labels=["g", "Glass"], null_value=0.5)
    ax = fig.axes[0]
    assert _texts(fig)[0] == ["g", "Glass"]
    null = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(null) == 1
    assert list(null[0].get_xdata()) == [0.5, 0.5]
    assert not [
        ln for ln in forest(res, null_value=None).axes[0].lines if ln.get_linestyle() == "--"
    ]


def test_single_result_and_existing_axes() -> None:
    fig0 = Figure()
    ax = fig0.add_subplot()
    out = forest(rs.hedges_g(X, Y), ax=ax)
    assert out is fig0
    assert len(ax.get_yticklabels()) == 1


def test_nan_ci_is_drawn_as_point_only() -> None:
    res = [
        EffectSizeResult(measure="pnd", estimate=0.8),
        EffectSizeResult(measure="nap", estimate=0.9, ci_low=0.6, ci_high=0.98),
        EffectSizeResult(measure="broken", estimate=math.nan),
    ]
    fig = forest(res)
    ax = fig.axes[0]
    segments = ax.collections[0].get_segments()
    assert len(segments) == 1  # only NAP has a bar
    np.testing.assert_allclose(segments[0][:, 0], [0.6, 0.98], rtol=1e-12)
    assert len(ax.lines[0].get_xdata()) == 2  # NaN estimate: no point
    assert _texts(fig)[1] == ["0.80", "0.90 [0.60, 0.98]", "NA"]


def test_sced_table_labels_join_varying_columns() -> None:
    df = pd.DataFrame(
        {
            "case": ["P1"] * 8 + ["P2"] * 8,
            "t": list(range(1, 9)) * 2,
            "ph": list("AAABBBBB") + list("AAAABBBB"),
            "y": [2, 3, 2, 5, 6, 5, 7, 6, 3, 2, 4, 3, 6, 7, 6, 8],
        }
    )
    table = sced_effect_sizes(
        df, outcome="y", phase="ph", session="t", case="case", indices=["nap", "tau_u"]
    )
    before = table.copy()
    fig = forest(table, null_value=None)
    pd.testing.assert_frame_equal(table, before)  # not modified
    labels, texts = _texts(fig)
    assert labels == ["P1, nap", "P1, tau_u", "P2, nap", "P2, tau_u"]
    assert texts[1] == f"{table['estimate'].iloc[1]:.2f}"  # Tau-U has no CI
    assert len(fig.axes[0].collections[0].get_segments()) == 2


def test_table_with_custom_columns_and_label() -> None:
    table = pd.DataFrame(
        {
            "contrast": ["cimt - control"] * 2,
            "visit": ["post", "followup"],
            "est": [2.2, 2.1],
            "lo": [1.7, 1.5],
            "hi": [2.8, 2.7],
        }
    )
    fig = forest(table, estimate="est", ci_low="lo", ci_high="hi", label=["visit"])
    assert _texts(fig)[0] == ["post", "followup"]
    assert fig.axes[1].get_yticklabels()[-1].get_text() == "Estimate [CI]"  # no ci_level column
    # default: only the varying column (visit) labels the rows
    assert _texts(forest(table, estimate="est", ci_low="lo", ci_high="hi"))[0] == [
        "post",
        "followup",
    ]


def test_missing_columns_are_named() -> None:
    table = pd.DataFrame({"estimate": [1.0], "low": [0.5]})
    with pytest.raises(DataError, match=r"'ci_low'.*'ci_high'|ci_low.*ci_high") as info:
        forest(table)
    assert "ci_high" in str(info.value)
    assert "Available columns" in str(info.value)
    with pytest.raises(DataError, match="label"):
        forest(
            pd.DataFrame({"estimate": [1.0], "ci_low": [0.0], "ci_high": [2.0]}), label="measure"
        )


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([], "empty"),
        (pd.DataFrame({"estimate": [], "ci_low": [], "ci_high": []}), "empty"),
        ([1.0, 2.0], "element 0 is a float"),
        ("hedges_g", "got str"),
        (pd.DataFrame({"estimate": ["big"], "ci_low": [0.0], "ci_high": [1.0]}), "numeric"),
    ],
)
def test_bad_input_raises_data_error(bad: object, match: str) -> None:
    with pytest.raises(DataError, match=match):
        forest(bad)


def test_labels_of_wrong_length() -> None:
    with pytest.raises(DataError, match="one label per row"):
        forest([rs.hedges_g(X, Y)], labels=["a", "b"])


def test_renders_to_png_with_labels_inside_the_figure() -> None:
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    res = [rs.hedges_g(X, Y), rs.prob_superiority(X, Y)]
    fig = forest(res, labels=["a rather long label for a row", "short"], title="t")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    # constrained layout keeps the left labels and right-hand texts on the canvas
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width = fig.bbox.width
    for ax in fig.axes:
        for label in ax.get_yticklabels():
            box = label.get_window_extent(renderer)
            assert box.x0 >= -1, label.get_text()
            assert box.x1 <= width + 1, label.get_text()


def test_nnt_through_infinity_and_infinite_limits_have_no_bar() -> None:
    nnt = rs.nnt(6, 10, 5, 10)
    assert nnt.details["ci_through_infinity"]
    res = [
        nnt,
        EffectSizeResult(measure="open", estimate=1.0, ci_low=0.2, ci_high=math.inf),
        rs.risk_ratio(6, 10, 5, 10),
    ]
    fig = forest(res, null_value=1.0)
    assert len(fig.axes[0].collections[0].get_segments()) == 1  # only the risk ratio
    texts = _texts(fig)[1]
    assert texts[0] == f"10.00 [{nnt.details['ci_text']}]"
    assert "∞" in texts[0]
    assert texts[1] == "1.00 [0.20, Inf]"
