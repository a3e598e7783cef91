"""Tests of churnlab.plotting.models: the Axes content, not pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from lifetimes.datasets import load_cdnow_summary

from churnlab import config
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.plotting import models as mp


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    data = load_cdnow_summary()
    data.index = data.index.astype(str).rename(config.CUSTOMER_ID)
    data.attrs["time_unit"] = "W"
    return data


@pytest.fixture(scope="module")
def model(summary):
    from churnlab.models.bgnbd import BetaGeoModel

    return BetaGeoModel().fit(summary)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            config.CUSTOMER_ID: ["a", "a", "a", "a", "b"],
            config.DATE: pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-02-20", "2024-03-20", "2024-01-05"]
            ),
        }
    )


def test_frequency_recency_matrix(model, summary):
    ax = mp.plot_frequency_recency_matrix(model, t=4, data=summary)
    (image,) = ax.images
    matrix = image.get_array()
    assert matrix.shape == (
        int(summary["frequency"].max()) + 1,
        int(np.ceil(summary["T"].max())) + 1,
    )
    assert "next 4 weeks" in ax.get_title()
    assert "weeks" in ax.get_xlabel() and "Frequency" in ax.get_ylabel()
    # frequent, recent buyers are expected to buy most; impossible cells are blank
    assert matrix[-1, -1] == matrix.max()
    assert np.ma.is_masked(matrix[1, 0]) and not np.ma.is_masked(matrix[0, 0])


def test_probability_alive_matrix_on_given_axes(model):
    _, ax = plt.subplots()
    out = mp.plot_probability_alive_matrix(model, max_frequency=5, max_recency=10, ax=ax)
    assert out is ax
    matrix = ax.images[0].get_array()
    assert matrix.shape == (6, 11)
    assert np.all((matrix >= 0) & (matrix <= 1))
    assert np.all(matrix[0] == 1.0)  # BG/NBD: no repeat purchase means P(alive) = 1
    assert ax.images[0].get_clim() == (0.0, 1.0)


def test_calibration_holdout_from_table():
    table = pd.DataFrame(
        {"n_customers": [5, 3, 2], "actual": [0.2, 1.0, 3.0], "predicted": [0.3, 0.9, 2.5]},
        index=pd.Index(["0", "1", "2+"], name="bucket"),
    )
    ax = mp.plot_calibration_holdout(table, color="C3")
    actual, predicted = ax.get_lines()
    np.testing.assert_array_equal(actual.get_ydata(), [0.2, 1.0, 3.0])
    np.testing.assert_array_equal(predicted.get_ydata(), [0.3, 0.9, 2.5])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2+"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["actual", "model"]


def test_tracking_marks_calibration_end():
    curve = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-07", periods=4, freq="W"),
            "actual": [0.0, 2.0, 5.0, 6.0],
            "predicted": [1.0, 2.5, 4.0, 6.5],
            "in_calibration": [True, True, False, False],
        },
        index=pd.RangeIndex(1, 5, name="period"),
    )
    ax = mp.plot_tracking(curve)
    lines = ax.get_lines()
    assert len(lines) == 3
    np.testing.assert_array_equal(lines[0].get_ydata(), curve["actual"])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["actual", "model", "end of calibration"]


def test_tracking_from_report_without_curve():
    class Report:
        tracking = None

    with pytest.raises(DataValidationError, match="Pass transactions= to holdout_report"):
        mp.plot_tracking(Report())


def test_repeat_histogram(model, summary):
    ax = mp.plot_repeat_histogram(model, data=summary, max_frequency=6)
    bars = ax.patches
    assert len(bars) == 14
    actual = [b.get_height() for b in bars[:7]]
    expected = [b.get_height() for b in bars[7:]]
    assert sum(actual) == len(summary)
    assert sum(expected) == pytest.approx(len(summary))
    assert actual[0] == (summary["frequency"] == 0).sum()
    assert expected[0] == pytest.approx(actual[0], rel=0.05)  # BG/NBD fits CDNOW's zeros well
    assert ax.get_xticklabels()[-1].get_text() == "6+"
    with pytest.raises(ConfigError, match="max_frequency must be at least 1"):
        mp.plot_repeat_histogram(model, data=summary, max_frequency=0)


@pytest.mark.parametrize("log_scale", [False, True])
def test_clv_distribution(log_scale):
    clv = pd.DataFrame({"clv": np.random.default_rng(0).lognormal(3, 1, size=200)})
    ax = mp.plot_clv_distribution(clv, bins=20, log_scale=log_scale)
    assert len(ax.patches) == 20
    assert sum(p.get_height() for p in ax.patches) == 200
    median_line = ax.get_lines()[0]
    assert median_line.get_xdata()[0] == pytest.approx(clv["clv"].median())
    assert ax.get_xscale() == ("log" if log_scale else "linear")


def test_clv_distribution_needs_clv_column():
    with pytest.raises(DataValidationError, match="'clv'"):
        mp.plot_clv_distribution(pd.DataFrame({"value": [1.0]}))


def test_probability_alive_history(model, transactions):
    ax = mp.plot_probability_alive_history(model, transactions=transactions, customer_id="a")
    alive, *purchases = ax.get_lines()
    values = alive.get_ydata()
    # weekly: first purchase week 2024-01-01 .. last week of 2024-03-20 -> 12 weeks
    assert len(values) == 12
    assert values[0] == 1.0
    assert np.all((values >= 0) & (values <= 1))
    assert len(purchases) == 4  # one marker per purchase day
    assert "customer a" in ax.get_title()


def test_probability_alive_history_with_horizon(model, transactions):
    ax = mp.plot_probability_alive_history(
        model, transactions=transactions, customer_id="a", horizon=13
    )
    alive, buys = ax.get_lines()[:2]
    assert buys.get_label() == "P(buys in the next 13 weeks)"
    assert np.all(buys.get_ydata() <= alive.get_ydata() + 1e-12)


def test_probability_alive_history_errors(model, transactions):
    with pytest.raises(DataValidationError, match="customer 'zz' has no purchase"):
        mp.plot_probability_alive_history(model, transactions=transactions, customer_id="zz")
    unitless = type(model)()
    unitless.__dict__.update(model.__dict__)
    unitless.time_unit_ = None
    with pytest.raises(ConfigError, match=r"model\.time_unit_=None is not a known time unit"):
        mp.plot_probability_alive_history(unitless, transactions=transactions, customer_id="a")
