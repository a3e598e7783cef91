"""Day-first / month-first dates, explicit formats, time zones and out-of-range dates."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnlab import config
from churnlab.data import CleaningReport, load_transactions
from churnlab.data.dates import parse_date_column
from churnlab.data.validation import parse_date
from churnlab.datasets import load_source
from churnlab.exceptions import ConfigError, DataValidationError


def _write(tmp_path, dates, name="log.csv"):
    path = tmp_path / name
    rows = "".join(f"{chr(65 + i % 3)},{d},10\n" for i, d in enumerate(dates))
    path.write_text("customer_id,date,amount\n" + rows)
    return path


def _dates(loaded):
    return sorted(loaded.data[config.DATE].dt.strftime("%Y-%m-%d"))


def test_issue_example_is_read_day_first(tmp_path):
    # issue #9 item 2: this file used to load as 2021-05-01, 2021-06-01, 2021-01-13
    path = _write(tmp_path, ["05/01/2021", "06/01/2021", "13/01/2021"], name="uk.csv")
    loaded = load_transactions(path, observation_end="2021-12-31")
    assert _dates(loaded) == ["2021-01-05", "2021-01-06", "2021-01-13"]
    assert loaded.report.dropped_rows == 0
    assert loaded.report.date_format == "%d/%m/%Y"


def test_a_second_field_above_12_means_month_first(tmp_path):
    path = _write(tmp_path, ["05/01/2021 08:26", "06/01/2021 09:00", "01/13/2021 10:15"])
    loaded = load_transactions(path, observation_end="2021-12-31")
    assert _dates(loaded) == ["2021-01-13", "2021-05-01", "2021-06-01"]
    assert loaded.report.date_format == "%m/%d/%Y %H:%M"


def test_ambiguous_dates_are_refused_with_examples(tmp_path):
    path = _write(tmp_path, ["05/01/2021", "06/01/2021", "07/01/2021"], name="uk.csv")
    with pytest.raises(
        DataValidationError,
        match=r"Column 'date' of '.*uk.csv' has 3 rows whose date reads as day-first or as "
        r"month-first, e.g. '05/01/2021', '06/01/2021', '07/01/2021': '05/01/2021' is day 5 of "
        r"month 1, or month 5 day 1.*dayfirst=True \(CLI: --dayfirst\).*dayfirst=False.*"
        r"date_format='%d/%m/%Y' \(CLI: --date-format '%d/%m/%Y'\)",
    ):
        load_transactions(path)


@pytest.mark.parametrize(
    ("dayfirst", "expected"),
    [(True, ["2021-01-05", "2021-01-06"]), (False, ["2021-05-01", "2021-06-01"])],
)
def test_dayfirst_settles_ambiguous_dates(tmp_path, dayfirst, expected):
    path = _write(tmp_path, ["05/01/2021", "06/01/2021"])
    loaded = load_transactions(path, dayfirst=dayfirst, observation_end="2021-12-31")
    assert _dates(loaded) == expected


def test_date_format_is_used_exactly_and_mismatches_are_unparsable(random_transactions):
    log = random_transactions.assign(date=random_transactions["date"].dt.strftime("%d.%m.%Y"))
    log.loc[4, "date"] = "2022-03-01"  # ISO, but not in the given format
    data, report, dropped = load_transactions(log, date_format="%d.%m.%Y")
    assert report.dropped["unparsable_date"] == 1 and list(dropped.index) == [4]
    assert report.date_format == "%d.%m.%Y"
    expected = random_transactions["date"].drop(index=4).sort_values().tolist()
    assert data[config.DATE].sort_values().tolist() == expected


def test_date_format_that_matches_nothing_names_the_format(tiny_transactions):
    log = tiny_transactions.assign(date=tiny_transactions["date"].dt.strftime("%Y-%m-%d"))
    with pytest.raises(
        DataValidationError,
        match=r"10 of 10 dates do not parse.*They do not match date_format='%d/%m/%Y'",
    ):
        load_transactions(log, date_format="%d/%m/%Y")


def test_invalid_date_format_is_a_config_error(tiny_transactions):
    log = tiny_transactions.assign(date=tiny_transactions["date"].dt.strftime("%Y-%m-%d"))
    with pytest.raises(ConfigError, match=r"date_format='%Y-%Q' is not a valid strftime format"):
        load_transactions(log, date_format="%Y-%Q")


def test_mixed_day_first_and_month_first_is_refused(tmp_path):
    path = _write(tmp_path, ["13/01/2021", "14/01/2021", "01/15/2021", "02/01/2021"])
    with pytest.raises(
        DataValidationError,
        match=r"Column 'date' of '.*log.csv' mixes day-first and month-first dates: 2 rows "
        r"only make sense day-first \(e.g. '13/01/2021', '14/01/2021'\) and 1 row only month-first "
        r"\(e.g. '01/15/2021'\).*date_format='%d/%m/%Y' \(CLI: --date-format '%d/%m/%Y'\)",
    ):
        load_transactions(path)


def test_iso_with_ambiguous_slashed_dates_is_refused(tmp_path):
    path = _write(tmp_path, ["2021-01-05", "2021-01-06", "05/01/2021"])
    with pytest.raises(
        DataValidationError,
        match=r"1 row whose date reads as day-first or as month-first \(its 2 ISO dates such "
        r"as '2021-01-05' are unambiguous\), e.g. '05/01/2021'",
    ):
        load_transactions(path)


def test_iso_with_settled_day_first_dates_reads_both(tmp_path):
    path = _write(tmp_path, ["2021-01-05", "13/01/2021", "05/01/2021"])
    loaded = load_transactions(path, observation_end="2021-12-31")
    assert _dates(loaded) == ["2021-01-05", "2021-01-05", "2021-01-13"]
    assert loaded.report.date_format == "%Y-%m-%d and %d/%m/%Y"


def test_iso_dates_need_no_option():
    values = pd.Series(["2021-01-05", "2021-01-06 08:26:00", "2021-12-01T10:00:00"])
    parsed = parse_date_column(values, column="date")
    assert parsed.values.tolist() == [
        pd.Timestamp("2021-01-05"),
        pd.Timestamp("2021-01-06 08:26"),
        pd.Timestamp("2021-12-01 10:00"),
    ]


def test_dates_that_read_the_same_both_ways_need_no_option():
    parsed = parse_date_column(pd.Series(["05/05/2021", "01/01/2022"]))
    assert parsed.values.tolist() == [pd.Timestamp("2021-05-05"), pd.Timestamp("2022-01-01")]


def test_dot_separated_two_digit_years():
    parsed = parse_date_column(pd.Series(["05.01.21", "13.01.21", "31.12.99"]))
    assert parsed.values.dt.strftime("%Y-%m-%d").tolist() == [
        "2021-01-05",
        "2021-01-13",
        "1999-12-31",
    ]
    assert parsed.date_format == "%d.%m.%y"


def test_numeric_dates_without_year_are_not_guessed():
    # dateutil would read '05/01' as 1 May of the current year
    parsed = parse_date_column(pd.Series(["5 Jan 2021", "05/01"]))
    assert parsed.values.iloc[0] == pd.Timestamp("2021-01-05")
    assert pd.isna(parsed.values.iloc[1])


@pytest.mark.parametrize("bad", ["1600-01-01", "9999-12-31", "01/01/1600", "31/12/9999"])
def test_out_of_range_dates_are_unparsable_not_an_error(random_transactions, bad):
    log = random_transactions.assign(date=random_transactions["date"].dt.strftime("%d/%m/%Y"))
    log.loc[2, "date"] = bad
    _, report, dropped = load_transactions(log)
    assert report.dropped["unparsable_date"] == 1
    assert list(dropped.index) == [2]


def test_out_of_range_datetimes_in_a_parquet_file(tmp_path):
    frame = pd.DataFrame(
        {
            "customer_id": ["a"] * 30,
            "date": np.array(["1600-01-01"] + ["2021-01-05"] * 29, dtype="datetime64[us]"),
            "amount": range(1, 31),
        }
    )
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    _, report, _ = load_transactions(path, policy=None)
    assert report.dropped["unparsable_date"] == 1


def test_out_of_range_integer_dates():
    parsed = parse_date_column(pd.Series([20210105, 16000101]))
    assert parsed.values.iloc[0] == pd.Timestamp("2021-01-05")
    assert pd.isna(parsed.values.iloc[1])


def test_aware_dates_convert_to_utc_by_default_and_to_timezone_on_request():
    values = pd.Series(["2021-06-01T10:00:00+02:00", "2021-06-01T10:00:00+01:00"])
    assert parse_date_column(values).values.dt.hour.tolist() == [8, 9]
    london = parse_date_column(values, timezone="Europe/London").values
    assert london.dt.hour.tolist() == [9, 10]


def test_timezone_leaves_naive_dates_alone(tiny_transactions):
    log = tiny_transactions.assign(date=tiny_transactions["date"].dt.strftime("%Y-%m-%d 10:00"))
    data = load_transactions(log, timezone="America/New_York").data
    assert (data[config.DATE].dt.hour == 10).all()


def test_timezone_converts_aware_datetime_columns(tiny_transactions):
    log = tiny_transactions.assign(date=tiny_transactions["date"].dt.tz_localize("UTC"))
    data = load_transactions(log, timezone="Asia/Tokyo").data
    assert (data[config.DATE].dt.hour == 9).all()
    assert (load_transactions(log).data[config.DATE].dt.hour == 0).all()


def test_observation_end_follows_dayfirst(tmp_path):
    path = _write(tmp_path, ["15/01/2011", "31/01/2011", "02/02/2011"])
    loaded = load_transactions(path, dayfirst=True, observation_end="01/02/2011")
    assert _dates(loaded) == ["2011-01-15", "2011-01-31"]
    assert loaded.report.dropped["future_date"] == 1


def test_observation_end_follows_date_format(tmp_path):
    path = _write(tmp_path, ["15.01.2011", "31.01.2011", "02.02.2011"])
    loaded = load_transactions(path, date_format="%d.%m.%Y", observation_end="01.02.2011")
    assert loaded.report.dropped["future_date"] == 1


def test_ambiguous_observation_end_asks_for_dayfirst(tmp_path):
    path = _write(tmp_path, ["15/01/2011", "31/01/2011"])
    with pytest.raises(
        ConfigError,
        match=r"observation_end='01/02/2011' reads as day 1 of month 2 or as month 1 day 2. "
        r"Say which: dayfirst=True \(CLI: --dayfirst\) or dayfirst=False",
    ):
        load_transactions(path, observation_end="01/02/2011")


def test_parse_date_accepts_the_same_options():
    assert parse_date("01/02/2011", name="cutoff", dayfirst=True) == pd.Timestamp("2011-02-01")
    assert parse_date("01/02/2011", name="cutoff", dayfirst=False) == pd.Timestamp("2011-01-02")
    assert parse_date("13/02/2011", name="cutoff") == pd.Timestamp("2011-02-13")
    got = parse_date("01.02.2011 10:30", name="cutoff", date_format="%d.%m.%Y %H:%M")
    assert got == pd.Timestamp("2011-02-01 10:30")
    assert parse_date("2011-09-01", name="cutoff", dayfirst=True) == pd.Timestamp("2011-09-01")
    with pytest.raises(ConfigError, match=r"cutoff='01/02/2011' reads as day 1 of month 2"):
        parse_date("01/02/2011", name="cutoff")
    with pytest.raises(
        ConfigError,
        match=r"cutoff='2011-02-01' does not match date_format='%d/%m/%Y'.*'09/12/2011'",
    ):
        parse_date("2011-02-01", name="cutoff", date_format="%d/%m/%Y")
    with pytest.raises(
        ConfigError, match=r"cutoff='13/02/2011' is not a date \(read month-first\)"
    ):
        parse_date("13/02/2011", name="cutoff", dayfirst=False)


def test_report_shows_the_date_format():
    report = CleaningReport(input_rows=3, kept_rows=3, dropped={}, date_format="%d/%m/%Y")
    assert "date_format='%d/%m/%Y'" in repr(report)
    assert "dates read as %d/%m/%Y" in report._repr_html_()
    assert report.to_frame().attrs["date_format"] == "%d/%m/%Y"
    assert "date_format" not in repr(CleaningReport(input_rows=0, kept_rows=0))


def test_missing_observation_end_value(tiny_transactions):
    with pytest.raises(ConfigError, match=r"observation_end=NaT is not a date"):
        load_transactions(tiny_transactions, observation_end=pd.NaT)


def test_sampled_report_keeps_the_date_format(tmp_path):
    path = _write(tmp_path, ["05/01/2021", "06/01/2021", "07/01/2021", "08/01/2021"])
    loaded = load_source(path, dayfirst=True, sample_customers=2, random_state=1)
    assert loaded.data[config.CUSTOMER_ID].nunique() == 2
    assert loaded.report.date_format == "%d/%m/%Y"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2100, 12, 31)), min_size=1),
    st.sampled_from(["/", "-", "."]),
    st.booleans(),
)
def test_a_settled_column_reads_back_exactly(days, sep, day_first):
    # one unambiguous value (day 13..28) settles the order; every value must come back
    days = [*days, dt.date(2020, 5, 13 + len(days) % 16)]
    fmt = f"%d{sep}%m{sep}%Y" if day_first else f"%m{sep}%d{sep}%Y"
    text = pd.Series([d.strftime(fmt) for d in days])
    parsed = parse_date_column(text)
    assert parsed.values.tolist() == [pd.Timestamp(d) for d in days]
    assert parsed.date_format == fmt
