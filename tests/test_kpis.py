"""The base-level KPIs (:mod:`churnlab.kpis`): one definition, always in range, consistent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnlab import datasets
from churnlab.exceptions import DataValidationError
from churnlab.kpis import KPI_GLOSSARY, active_base_retention, base_kpis, kpi_label

# A log where customers pause and come back. Calendar months, active base = bought in
# the last 3 months. Worked by hand:
#   a: Jan, Jun     -> active Jan-Mar, Jun-Aug (leaves at the end of Mar, wins back in Jun)
#   b: Jan          -> active Jan-Mar
#   c: Feb, Mar     -> active Feb-May
#   d: Mar          -> active Mar-May
PAUSES = pd.DataFrame(
    {
        "customer_id": ["a", "a", "b", "c", "c", "d"],
        "date": pd.to_datetime(
            ["2024-01-05", "2024-06-10", "2024-01-20", "2024-02-03", "2024-03-01", "2024-03-15"]
        ),
        "amount": 10.0,
    }
)


def test_pauses_and_returns_are_win_backs_not_retention() -> None:
    table = active_base_retention(
        PAUSES, observation_end=pd.Timestamp("2024-07-31"), window_months=3
    )
    expected = pd.DataFrame(
        {
            # month:            Apr  May  Jun  Jul  (Feb and Mar: nobody could lapse yet)
            "customers_start": [4, 2, 2, 1],
            "customers_end": [2, 2, 1, 1],
            "new_customers": [0, 0, 1, 0],  # Jun: a comes back (a win-back)
            "retained": [2, 2, 0, 1],
        },
        index=pd.period_range("2024-04", "2024-07", freq="M", name="month"),
    )
    pd.testing.assert_frame_equal(table[expected.columns], expected)
    assert table.loc["2024-06", "first_purchases"] == 0  # a's return is not a first purchase
    assert list(table["retention_rate"]) == pytest.approx([0.5, 1, 0, 1])
    # the seed's formula (E - N) / S on every row
    seed = (table["customers_end"] - table["new_customers"]) / table["customers_start"]
    assert np.allclose(seed, table["retention_rate"])


def test_a_gap_of_exactly_the_window_keeps_the_customer_one_more_is_a_win_back() -> None:
    # Worked by hand, window 3 months:
    #   e: Jan, Apr -> active Jan-Jun without a break (Apr starts where Mar's spell ends)
    #   f: Jan, May -> active Jan-Mar, out in Apr, back in May (a win-back), active to Jul
    log = pd.DataFrame(
        {
            "customer_id": ["e", "e", "f", "f"],
            "date": pd.to_datetime(["2024-01-10", "2024-04-02", "2024-01-20", "2024-05-30"]),
            "amount": 5.0,
        }
    )
    table = active_base_retention(log, observation_end=pd.Timestamp("2024-07-31"))
    expected = pd.DataFrame(
        {
            # month:            Apr  May  Jun  Jul
            "customers_start": [2, 1, 2, 2],
            "customers_end": [1, 2, 2, 1],
            "new_customers": [0, 1, 0, 0],
            "first_purchases": [0, 0, 0, 0],
            "retained": [1, 1, 2, 1],
        },
        index=pd.period_range("2024-04", "2024-07", freq="M", name="month"),
    )
    pd.testing.assert_frame_equal(table[expected.columns], expected)


def test_a_month_that_is_not_over_is_left_out() -> None:
    table = active_base_retention(PAUSES, observation_end=pd.Timestamp("2024-07-30"))
    assert str(table.index[-1]) == "2024-06"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return datasets.load_source("cdnow").data


def test_cdnow_retention_is_in_range_and_compounds(cdnow: pd.DataFrame) -> None:
    # CDNOW: every customer joined in the first 12 weeks of 1997, so the base only shrinks.
    end = cdnow["date"].max()
    table = active_base_retention(cdnow, observation_end=end)
    assert table["retention_rate"].between(0, 1).all()
    assert table["churn_rate"].between(0, 1).all()
    assert (table.loc["1997-05":, "first_purchases"] == 0).all()
    customers = pd.DataFrame(
        {"clv": 1.0, "revenue_at_risk": 0.5, "action": pd.NA},
        index=pd.Index(cdnow["customer_id"].unique(), name="customer_id"),
    )
    kpis, _ = base_kpis(cdnow, customers, observation_end=end, churn_horizon_months=3)
    for name in ("monthly_retention", "monthly_churn", "yearly_retention", "yearly_churn"):
        assert 0 <= kpis[name] <= 1, name
    assert kpis["yearly_retention"] == pytest.approx(kpis["monthly_retention"] ** 12, abs=1e-4)
    assert kpis["monthly_retention"] + kpis["monthly_churn"] == pytest.approx(1)
    assert kpis["monthly_retention"] < 0.99  # the shrinking base shows as churn, not 100%
    # 18 months of data: there is no complete year before the last one to compare with
    assert kpis["revenue_retention"] is None


def test_revenue_retention_counts_last_years_customers_only() -> None:
    # year 1: a 100, b 50; year 2: a 120, c (new) 30 -> 120 / 150 = 80%
    log = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "c"],
            "date": pd.to_datetime(["2022-01-10", "2022-06-01", "2023-03-01", "2023-05-01"]),
            "amount": [100.0, 50.0, 120.0, 30.0],
        }
    )
    customers = pd.DataFrame(
        {"clv": 1.0, "revenue_at_risk": 0.0, "action": pd.NA}, index=pd.Index(["a", "b", "c"])
    )
    kpis, _ = base_kpis(
        log, customers, observation_end=pd.Timestamp("2023-12-31"), churn_horizon_months=3
    )
    assert kpis["revenue_retention"] == pytest.approx(0.8)
    assert kpis["revenue_12m"] == 150.0


def test_every_kpi_has_a_glossary_entry(cdnow: pd.DataFrame) -> None:
    customers = pd.DataFrame(
        {"clv": 1.0, "revenue_at_risk": 0.5, "action": pd.NA},
        index=pd.Index(cdnow["customer_id"].unique(), name="customer_id"),
    )
    kpis, _ = base_kpis(
        cdnow, customers, observation_end=cdnow["date"].max(), churn_horizon_months=3
    )
    assert set(kpis) <= set(KPI_GLOSSARY)
    assert (
        kpi_label("retention_what_if_value", points=5) == "Value of +5 points of yearly retention"
    )
    for label, kind, definition in KPI_GLOSSARY.values():
        assert kind in {"count", "money", "percent", "score", "text"} and label and definition


def test_other_columns_of_any_type_are_not_read() -> None:
    log = PAUSES.assign(note=[1, "x", 2.5, None, "y", 3])  # a mixed column Arrow cannot type
    table = active_base_retention(log, observation_end=pd.Timestamp("2024-07-31"))
    expected = active_base_retention(PAUSES, observation_end=pd.Timestamp("2024-07-31"))
    pd.testing.assert_frame_equal(table, expected)


def test_a_purchase_without_a_date_is_refused_not_dropped() -> None:
    log = PAUSES.copy()
    log.loc[5, "date"] = pd.NaT  # d's only purchase
    with pytest.raises(DataValidationError, match="some purchases have no date"):
        active_base_retention(log, observation_end=pd.Timestamp("2024-07-31"))
