"""Tests of churnlab.plotting.exposure: the Axes content, not pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.plotting.exposure import plot_customer_exposure


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture()
def summary() -> pd.DataFrame:
    data = pd.DataFrame(
        {
            "frequency": [0, 2, 5, 1],
            "recency": [0.0, 10.0, 30.0, 4.0],
            "T": [12.0, 40.0, 35.0, 20.0],
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )
    data.attrs["time_unit"] = "W"
    return data


def _segments(ax, which: int) -> np.ndarray:
    return np.array(ax.collections[which].get_segments())


def test_lines_end_at_zero_and_split_at_recency(summary):
    ax = plot_customer_exposure(summary)
    assert ax.get_title() == (
        "Customer exposure: first purchase, last purchase and end of observation"
    )
    assert ax.get_xlabel() == "Time relative to the end of observation (weeks; 0 = end)"
    assert ax.get_ylabel() == "Customer (4 customers)"
    active, quiet = _segments(ax, 0), _segments(ax, 1)
    assert len(active) == len(quiet) == 4
    # Sorted by T: a (T=12), d (20), c (35), b (40); lines start at -T and end at 0.
    np.testing.assert_allclose(active[:, 0, 0], [-12, -20, -35, -40])
    np.testing.assert_allclose(active[:, 1, 0], [-12, -16, -5, -30])
    np.testing.assert_allclose(quiet[:, 1, 0], 0.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == [
        "first to last purchase",
        "since the last purchase",
    ]


def test_start_alignment_and_sampling(summary):
    ax = plot_customer_exposure(summary, align="start", n=2, random_state=1)
    assert ax.get_xlabel() == "Time since the first purchase (weeks)"
    assert ax.get_ylabel() == "Customer (2 of 4 customers)"
    active, quiet = _segments(ax, 0), _segments(ax, 1)
    assert len(active) == 2
    np.testing.assert_allclose(active[:, 0, 0], 0.0)
    shown = {(r, t) for r, t in zip(active[:, 1, 0], quiet[:, 1, 0], strict=True)}
    assert shown <= {(0.0, 12.0), (10.0, 40.0), (30.0, 35.0), (4.0, 20.0)}
    again = plot_customer_exposure(summary, align="start", n=2, random_state=1)
    np.testing.assert_array_equal(_segments(again, 0), active)


def test_draws_on_given_axes_in_periods_without_unit(summary):
    _, ax = plt.subplots()
    plain = summary.copy()
    plain.attrs = {}
    assert plot_customer_exposure(plain, ax=ax, linewidth=3) is ax
    assert "(periods; 0 = end)" in ax.get_xlabel()
    assert ax.collections[0].get_linewidth()[0] == 3


def test_bad_input_is_explained(summary):
    with pytest.raises(DataValidationError, match="recency > T"):
        plot_customer_exposure(summary.assign(recency=[0.0, 50.0, 30.0, 4.0]))
    with pytest.raises(ConfigError, match="align must be"):
        plot_customer_exposure(summary, align="middle")
    with pytest.raises(ConfigError, match="whole number of customers"):
        plot_customer_exposure(summary, n=0)
    with pytest.raises(DataValidationError, match="recency"):
        plot_customer_exposure(summary.drop(columns="recency"))
