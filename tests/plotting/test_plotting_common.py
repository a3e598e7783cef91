"""Tests of the private helpers in churnlab.plotting._common."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from churnlab.plotting import churn, segments
from churnlab.plotting._common import (
    date_axis,
    get_axes,
    percent_axis,
    set_labels,
    thousands_axis,
    unit_name,
)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_get_axes_keeps_given_axes_or_makes_one_of_size():
    _, given = plt.subplots()
    assert get_axes(given, (3, 2)) is given
    made = get_axes(None, (3, 2))
    assert tuple(made.figure.get_size_inches()) == (3, 2)
    default = get_axes(None)
    assert tuple(default.figure.get_size_inches()) == tuple(plt.rcParams["figure.figsize"])


def test_set_labels_sets_only_given_text_and_legend():
    _, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="line")
    ax.set_ylabel("keep me")
    assert set_labels(ax, xlabel="x", title="t") is ax
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("x", "keep me", "t")
    assert ax.get_legend() is None
    set_labels(ax, ylabel="", legend=True)
    assert ax.get_ylabel() == ""
    assert ax.get_legend() is not None
    set_labels(ax, legend={"title": "models"})
    assert ax.get_legend().get_title().get_text() == "models"


def test_tick_formats_and_unit_names():
    _, ax = plt.subplots()
    thousands_axis(ax.xaxis)
    percent_axis(ax.yaxis)
    assert ax.xaxis.get_major_formatter()(12345.0, 0) == "12,345"
    # millions do not run into each other under a bar chart: 2.5M, not 2,500,000
    ticks = [ax.xaxis.get_major_formatter()(v, 0) for v in (2.5e6, 2e7, 999_999.0, 3e9, -5e6)]
    assert ticks == ["2.5M", "20M", "999,999", "3B", "-5M"]
    assert ax.yaxis.get_major_formatter()(0.25, 0) == "25%"
    date_axis(ax)
    assert [unit_name(u) for u in ("D", "W", "M", None)] == ["days", "weeks", "months", "periods"]


def test_default_figure_sizes_unchanged():
    y = pd.Series([0, 1, 0, 1], index=list("abcd"))
    scores = pd.DataFrame({"m": [0.1, 0.9, 0.2, 0.8]}, index=list("abcd"))
    ax = churn.plot_gains(y, scores)
    assert tuple(ax.figure.get_size_inches()) == (6, 5)
    assert ax.get_title() == "Cumulative gains"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["random", "m"]
    grid = pd.DataFrame([[1.0, 2.0]], index=["high"], columns=["low", "high"])
    assert tuple(segments.plot_value_loyalty_grid(grid).figure.get_size_inches()) == (6, 4.5)
