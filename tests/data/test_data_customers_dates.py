"""Dates of customer tables are read like dates of transaction logs (churnlab.data.dates)."""

from __future__ import annotations

import pandas as pd
import pytest

from churnlab.data import load_customers, load_transactions
from churnlab.exceptions import ConfigError, DataValidationError

# Day-first dates; "25/03/2023" can only be day-first, so the column settles its order.
DAY_FIRST = pd.DataFrame(
    {
        "Kunde": ["k1", "k2", "k3"],
        "Beginn": ["25/03/2023", "01/02/2023", "10/11/2023"],
        "Ende": ["03/05/2023", "", None],
    }
)
OPTIONS = {"customer_id": "Kunde", "start": "Beginn", "end": "Ende"}


def test_day_first_dates_are_settled_by_a_day_above_12():
    loaded = load_customers(DAY_FIRST, **OPTIONS, observation_end="2023-12-31")
    assert loaded.data["start"].tolist() == [
        pd.Timestamp("2023-03-25"),
        pd.Timestamp("2023-02-01"),
        pd.Timestamp("2023-11-10"),
    ]
    assert loaded.data.loc["k1", "end"] == pd.Timestamp("2023-05-03")
    assert loaded.data["churned"].tolist() == [True, False, False]
    # k1 stayed from 25 March to 3 May 2023: 39 days, in mean months of 365.2425 / 12 days.
    assert loaded.data.loc["k1", "tenure"] == pytest.approx(39 / (365.2425 / 12))
    assert loaded.report.kept_rows == 3


def test_ambiguous_day_month_dates_are_refused_with_the_option_to_pass():
    ambiguous = DAY_FIRST.assign(Beginn=["05/03/2023", "01/02/2023", "10/11/2023"])
    with pytest.raises(DataValidationError, match="reads as day-first or as month-first") as info:
        load_customers(ambiguous, **OPTIONS, observation_end="2023-12-31")
    assert "dayfirst=True (CLI: --dayfirst)" in str(info.value)
    assert "Column 'Beginn, Ende'" in str(info.value)  # read together: one table, one format
    day_first = load_customers(ambiguous, **OPTIONS, dayfirst=True, observation_end="2023-12-31")
    month_first = load_customers(ambiguous, **OPTIONS, dayfirst=False, observation_end="2023-12-31")
    assert day_first.data.loc["k1", "start"] == pd.Timestamp("2023-03-05")
    assert month_first.data.loc["k2", "start"] == pd.Timestamp("2023-01-02")
    # Month-first, k1 would end on 5 March before starting on 3 May: set aside, counted.
    assert month_first.report.dropped["end_before_start"] == 1
    explicit = load_customers(
        ambiguous, **OPTIONS, date_format="%d/%m/%Y", observation_end="2023-12-31"
    )
    pd.testing.assert_frame_equal(explicit.data, day_first.data)


def test_customer_tables_and_logs_refuse_the_same_ambiguous_column():
    dates = pd.Series(["05/03/2023", "01/02/2023"], name="when")
    customers = pd.DataFrame({"id": ["a", "b"], "when": dates, "until": ["", ""]})
    log = pd.DataFrame({"id": ["a", "b"], "when": dates, "amount": [1.0, 2.0]})
    with pytest.raises(DataValidationError) as from_customers:
        load_customers(customers, customer_id="id", start="when", end="until")
    with pytest.raises(DataValidationError) as from_log:
        load_transactions(log, customer_id="id", date="when", amount="amount")
    assert str(from_customers.value) == str(from_log.value)


def test_mixed_day_first_and_month_first_dates_are_refused():
    mixed = DAY_FIRST.assign(Beginn=["25/03/2023", "03/25/2023", "10/11/2023"])
    with pytest.raises(DataValidationError, match="mixes day-first and month-first dates"):
        load_customers(mixed, **OPTIONS, observation_end="2023-12-31")


def test_observation_end_in_the_tables_format_or_iso():
    table = DAY_FIRST.assign(Ende=["03/05/2023", "", ""])
    iso = load_customers(table, **OPTIONS, dayfirst=True, observation_end="2023-12-01")
    same = load_customers(table, **OPTIONS, dayfirst=True, observation_end="01/12/2023")
    assert iso.data.attrs["observation_end"] == pd.Timestamp("2023-12-01")
    pd.testing.assert_frame_equal(iso.data, same.data)
    # k3 started on 10 November 2023 and is active on 1 December: 21 days of tenure.
    assert iso.data.loc["k3", "tenure"] == pytest.approx(21 / (365.2425 / 12))


def test_reading_options_are_checked_like_the_logs():
    with pytest.raises(ConfigError, match="Pass date_format= or dayfirst=, not both"):
        load_customers(DAY_FIRST, **OPTIONS, dayfirst=True, date_format="%d/%m/%Y")
    with pytest.raises(ConfigError, match="timezone='Mars/Olympus' is not a known time zone"):
        load_customers(DAY_FIRST, **OPTIONS, timezone="Mars/Olympus")
