"""Churn-reason plots draw on the given Axes and never show or save."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from churnlab.exceptions import DataValidationError
from churnlab.plotting.reasons import (
    plot_engagement_before_churn,
    plot_reason_distribution,
    plot_reason_mix,
    plot_value_lost_by_reason,
)
from churnlab.reasons import (
    churn_record,
    engagement_trajectories,
    load_churn_reasons,
    reason_crosstab,
    reason_distribution,
    usage_by_band,
    value_lost_by_reason,
)


@pytest.fixture
def records() -> pd.DataFrame:
    customers = pd.DataFrame(
        {
            "churned": [True] * 8 + [False],
            "why": ["Price", "Price", "Moved", "Competitor", "Price", "Support", "Moved", "", ""],
            "months": [3, 14, 30, 60, 5, 8, 40, 20, 10],
            "revenue": [30.0, 200.0, 500.0, 900.0, 40.0, 90.0, 600.0, 100.0, 80.0],
            "plan": ["Basic", "Basic", "Plus", "Plus", "Basic", "Plus", "Basic", "Plus", "Basic"],
            "gb": [5, 9, 20, 30, 4, 8, 22, 12, 6],
        },
        index=pd.Index([f"c{i}" for i in range(9)], name="customer_id"),
    )
    columns = {"category": "why", "tenure": "months", "revenue": "revenue", "segment": "plan"}
    return churn_record(customers, columns=columns, extra={"gb_download": "gb"})


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_distribution_and_value_plots(records):
    ax = plot_reason_distribution(reason_distribution(records))
    assert len(ax.patches) == 5 and "Wilson" in ax.get_xlabel()
    _, given = plt.subplots()
    ax = plot_value_lost_by_reason(value_lost_by_reason(records), ax=given)
    assert ax is given and len(ax.patches) == 5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "addressable",
        "not addressable",
    ]


def test_reason_mix(records):
    ax = plot_reason_mix(reason_crosstab(records, "segment"))
    assert ax.get_ylabel() == "Segment"
    assert len(ax.patches) == 2 * 5


def test_engagement_plots(records, churn_log_small):
    ax = plot_engagement_before_churn(usage_by_band(records, columns=["gb_download"]))
    assert "no transaction log" in ax.get_title()
    log, reasons = churn_log_small
    rec = churn_record(reasons=reasons, transactions=log)
    ax = plot_engagement_before_churn(engagement_trajectories(log, rec, n_periods=3))
    assert len(ax.lines) == 2 and ax.get_xlabel() == "periods before churn"


def test_plot_needs_columns():
    with pytest.raises(DataValidationError, match="plot_reason_distribution needs column"):
        plot_reason_distribution(pd.DataFrame({"customers": [1]}))


@pytest.fixture
def churn_log_small():
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "b"],
            "date": pd.to_datetime(
                ["2024-01-05", "2024-02-05", "2024-03-05", "2024-01-06", "2024-02-06", "2024-03-06"]
            ),
            "amount": [30.0, 20.0, 10.0, 15.0, 15.0, 15.0],
        }
    )
    reasons = load_churn_reasons(
        pd.DataFrame({"id": ["a", "b"], "why": ["Price", "Service"], "d": ["2024-04-01"] * 2}),
        customer_id="id",
        category="why",
        churn_date="d",
    )
    return log, reasons
