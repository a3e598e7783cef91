"""RFM summaries and calibration/holdout splits, held against lifetimes 0.11.3."""

from __future__ import annotations

from typing import NamedTuple

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from churnlab import engine as _engine
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.features.rfm import calibration_holdout_split, rfm_summary

UNITS = ["D", "W", "M"]


class _Loaded(NamedTuple):
    """Stands in for churnlab.data.LoadedTransactions (only ``.data`` is used)."""

    data: pd.DataFrame
    report: object = None
    dropped: object = None


# --- known values ----------------------------------------------------------------


def test_tiny_known_values(tiny_transactions, lifetimes_ref):
    # Worked by hand from the fixture; lifetimes gives the same table.
    expected = pd.DataFrame(
        {
            "frequency": [2.0, 1.0, 2.0, 0.0],
            "recency": [50.0, 51.0, 48.0, 0.0],
            "T": [84.0, 75.0, 53.0, 0.0],
            "monetary_value": [25.0, 15.0, 22.0, 0.0],
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )
    result = rfm_summary(tiny_transactions)
    pd.testing.assert_frame_equal(result, expected, check_index_type=False)
    assert result.attrs["time_unit"] == "D"
    lifetimes_ref.check(result, lifetimes_ref.summary(tiny_transactions, time_unit="D"))


@pytest.mark.parametrize("time_unit", UNITS)
def test_time_unit_attr_and_monetary_off(tiny_transactions, time_unit):
    full = rfm_summary(tiny_transactions, time_unit=time_unit)
    lean = rfm_summary(
        tiny_transactions[["customer_id", "date"]], time_unit=time_unit, monetary=False
    )
    assert full.attrs["time_unit"] == lean.attrs["time_unit"] == time_unit
    assert list(lean.columns) == ["frequency", "recency", "T"]
    pd.testing.assert_frame_equal(lean, full[["frequency", "recency", "T"]])


# --- equality with lifetimes -----------------------------------------------------


@pytest.mark.parametrize("time_unit", UNITS)
@pytest.mark.parametrize("observation_end", [None, "1997-09-30"])
def test_summary_matches_lifetimes_on_cdnow(
    cdnow_transactions, lifetimes_ref, time_unit, observation_end
):
    ours = rfm_summary(cdnow_transactions, observation_end=observation_end, time_unit=time_unit)
    reference = lifetimes_ref.summary(
        cdnow_transactions, time_unit=time_unit, observation_end=observation_end
    )
    lifetimes_ref.check(ours, reference)


@pytest.mark.parametrize("time_unit", UNITS)
def test_calibration_matches_lifetimes_on_cdnow(cdnow_transactions, lifetimes_ref, time_unit):
    kwargs = {"calibration_end": "1997-09-30", "observation_end": "1998-06-30"}
    ours = calibration_holdout_split(cdnow_transactions, time_unit=time_unit, **kwargs)
    reference = lifetimes_ref.calibration(cdnow_transactions, time_unit=time_unit, **kwargs)
    lifetimes_ref.check(ours, reference)


@pytest.mark.parametrize("time_unit", UNITS)
def test_random_log_matches_lifetimes(random_transactions, lifetimes_ref, time_unit):
    # a mid-period observation_end drops the later transactions, as lifetimes does
    end = "2023-05-17 10:00"
    ours = rfm_summary(random_transactions, observation_end=end, time_unit=time_unit)
    ref = lifetimes_ref.summary(random_transactions, time_unit=time_unit, observation_end=end)
    lifetimes_ref.check(ours, ref)
    ours = calibration_holdout_split(
        random_transactions, calibration_end="2022-10-05 18:30", time_unit=time_unit
    )
    ref = lifetimes_ref.calibration(
        random_transactions, calibration_end="2022-10-05 18:30", time_unit=time_unit
    )
    lifetimes_ref.check(ours, ref)
    assert ours.attrs["time_unit"] == time_unit


@st.composite
def _logs(draw):
    n = draw(st.integers(1, 30))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c", "d", "e"]),
                st.integers(0, 900),  # day offset
                st.integers(0, 86_399),  # second of the day
                # money spans 6 orders of magnitude; see _summary_expr on the rounding bound
                st.floats(0.01, 1e4, allow_nan=False),
            ),
            min_size=n,
            max_size=n,
        )
    )
    customer, day, second, amount = zip(*rows, strict=True)
    date = (
        pd.Timestamp("2020-12-28")
        + pd.to_timedelta(np.array(day), unit="D")
        + pd.to_timedelta(np.array(second), unit="s")
    )
    return pd.DataFrame(
        {"customer_id": list(customer), "date": date, "amount": np.round(amount, 2)}
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=_logs(),
    time_unit=st.sampled_from(UNITS),
    end_days=st.one_of(st.none(), st.integers(0, 1000)),
)
def test_property_summary_matches_lifetimes(lifetimes_ref, log, time_unit, end_days):
    end = None if end_days is None else log["date"].min() + pd.Timedelta(days=end_days)
    if end is not None:
        first = log["date"].min().to_period(time_unit)
        assume(end.to_period(time_unit) >= first)
    ours = rfm_summary(log, observation_end=end, time_unit=time_unit)
    lifetimes_ref.check(ours, lifetimes_ref.summary(log, time_unit=time_unit, observation_end=end))
    assert (ours["recency"] <= ours["T"]).all()
    assert (ours["frequency"] <= ours["recency"]).all()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=_logs(), time_unit=st.sampled_from(UNITS), split=st.floats(0.05, 0.95))
def test_property_calibration_matches_lifetimes(lifetimes_ref, log, time_unit, split):
    start, stop = log["date"].min(), log["date"].max()
    cal_end = start + (stop - start) * split
    assume(((log["date"] > cal_end) & (log["date"] <= stop)).any() and cal_end < stop)
    ours = calibration_holdout_split(log, calibration_end=cal_end, time_unit=time_unit)
    reference = lifetimes_ref.calibration(log, calibration_end=cal_end, time_unit=time_unit)
    lifetimes_ref.check(ours, reference)


# --- input kinds -----------------------------------------------------------------


def test_parquet_path_glob_and_folder(random_transactions, tmp_path):
    expected = rfm_summary(random_transactions, time_unit="W")
    half = len(random_transactions) // 2
    folder = tmp_path / "tx"
    folder.mkdir()
    random_transactions.iloc[:half].to_parquet(folder / "part-0.parquet")
    random_transactions.iloc[half:].to_parquet(folder / "part-1.parquet")
    random_transactions.to_parquet(tmp_path / "all.parquet")
    for source in (tmp_path / "all.parquet", str(folder / "*.parquet"), folder):
        result = rfm_summary(source, time_unit="W")
        pd.testing.assert_frame_equal(result, expected, check_exact=False, rtol=1e-12)


def test_csv_loaded_transactions_and_ibis_table(random_transactions, tmp_path):
    expected = calibration_holdout_split(random_transactions, calibration_end="2022-12-31")
    path = tmp_path / "tx.csv"
    random_transactions.to_csv(path, index=False)
    random_transactions.to_parquet(tmp_path / "tx.parquet")
    table = ibis.duckdb.connect().read_parquet(tmp_path / "tx.parquet")  # its own backend
    for source in (path, _Loaded(random_transactions), table):
        result = calibration_holdout_split(source, calibration_end="2022-12-31")
        pd.testing.assert_frame_equal(result, expected, check_exact=False, rtol=1e-12)


def test_churnlab_loader_output(cdnow_transactions):
    # LoadedTransactions from the data layer goes in as is (ids lose their zero padding)
    loaded = pytest.importorskip("churnlab.datasets").load_cdnow()
    ours = rfm_summary(loaded, time_unit="W")
    expected = rfm_summary(cdnow_transactions, time_unit="W")
    ours.index, expected.index = ours.index.astype(int), expected.index.astype(int)
    pd.testing.assert_frame_equal(ours.sort_index(), expected.sort_index(), rtol=1e-9)


def test_as_table_keeps_ibis_backend(random_transactions, tmp_path):
    random_transactions.to_parquet(tmp_path / "tx.parquet")
    table = ibis.duckdb.connect().read_parquet(tmp_path / "tx.parquet")
    assert _engine.as_table(table) is table
    assert _engine.execute(_engine.as_table(random_transactions).count()) == len(
        random_transactions
    )


def test_configure_spills_to_temp_directory(random_transactions, tmp_path):
    random_transactions.to_parquet(tmp_path / "tx.parquet")
    expected = rfm_summary(random_transactions)
    try:
        _engine.configure(memory_limit="200MB", temp_directory=tmp_path / "spill", threads=1)
        raw = _engine.get_connection().con
        limit = raw.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        temp = raw.execute("SELECT current_setting('temp_directory')").fetchone()[0]
        assert limit.replace(" ", "").upper().startswith(("190", "200"))
        assert temp == str(tmp_path / "spill")
        result = rfm_summary(tmp_path / "tx.parquet")
    finally:
        _engine.configure()
    pd.testing.assert_frame_equal(result, expected)


# --- errors ----------------------------------------------------------------------


def test_missing_amount_column(tiny_transactions):
    with pytest.raises(DataValidationError, match=r"rfm_summary needs column\(s\) 'amount'"):
        rfm_summary(tiny_transactions.drop(columns="amount"))


def test_unknown_time_unit(tiny_transactions):
    with pytest.raises(ConfigError, match=r"time_unit must be one of 'D', 'W', 'M'.*got 'Q'"):
        rfm_summary(tiny_transactions, time_unit="Q")


def test_observation_end_before_first_purchase(tiny_transactions):
    with pytest.raises(DataValidationError, match=r"observation_end 2023-12-01.*before the first"):
        rfm_summary(tiny_transactions, observation_end="2023-12-01")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"calibration_end": "2024-03-01", "observation_end": "2024-02-01"},
            r"calibration_end \(2024-03-01 00:00:00\) must be before observation_end",
        ),
        ({"calibration_end": "2023-06-01"}, "calibration period is empty"),
        (
            {"calibration_end": "2024-03-21", "observation_end": "2024-03-24"},
            r"No transaction falls in the holdout period",
        ),
    ],
)
def test_calibration_errors(tiny_transactions, kwargs, message):
    with pytest.raises(DataValidationError, match=message):
        calibration_holdout_split(tiny_transactions, **kwargs)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("customer_id", None, "column 'customer_id' has 1 missing value"),
        ("date", pd.NaT, r"column 'date' has 1 missing or unparsable value\(s\)"),
        ("amount", np.nan, "column 'amount' has 1 missing value"),
    ],
)
def test_missing_values(tiny_transactions, column, value, message):
    frame = tiny_transactions.copy()
    frame[column] = frame[column].astype(object) if column == "customer_id" else frame[column]
    frame.loc[3, column] = value
    with pytest.raises(DataValidationError, match=message):
        rfm_summary(frame)


def test_unparsable_date_strings_and_named_index(tiny_transactions):
    frame = tiny_transactions.assign(date=tiny_transactions["date"].astype(str))
    expected = rfm_summary(tiny_transactions)
    pd.testing.assert_frame_equal(rfm_summary(frame.set_index("customer_id")), expected)
    frame.loc[2, "date"] = "31/31/2024"
    with pytest.raises(DataValidationError, match="'date' has 1 missing or unparsable"):
        rfm_summary(frame)


def test_bad_column_types(tiny_transactions):
    frame = tiny_transactions.assign(amount=tiny_transactions["amount"].astype(str))
    with pytest.raises(DataValidationError, match="'amount' to be numeric"):
        rfm_summary(frame)
    frame = tiny_transactions.assign(date=20240101)
    with pytest.raises(DataValidationError, match="'date' to hold dates"):
        rfm_summary(frame)


def test_bad_dates_as_parameters(tiny_transactions):
    with pytest.raises(ConfigError, match=r"observation_end=.not a date. is not a date"):
        rfm_summary(tiny_transactions, observation_end="not a date")
    with pytest.raises(ConfigError, match="calibration_end must be a timezone-naive"):
        calibration_holdout_split(
            tiny_transactions, calibration_end=pd.Timestamp("2024-02-01", tz="UTC")
        )


def test_empty_log():
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype=str),
            "date": pd.Series([], dtype="datetime64[ns]"),
            "amount": pd.Series([], dtype=float),
        }
    )
    with pytest.raises(DataValidationError, match=r"got no transactions \(0 rows\)"):
        rfm_summary(frame)


def test_bad_sources(tmp_path):
    with pytest.raises(DataValidationError, match="does not exist"):
        rfm_summary(tmp_path / "missing.parquet")
    with pytest.raises(DataValidationError, match="No file matches the pattern"):
        rfm_summary(str(tmp_path / "*.parquet"))
    (tmp_path / "a.csv").write_text("customer_id,date,amount\n")
    with pytest.raises(DataValidationError, match="Only Parquet files can be read with a glob"):
        rfm_summary(str(tmp_path / "*.csv"))
    (tmp_path / "a.xlsx").write_bytes(b"")
    with pytest.raises(DataValidationError, match=r"Cannot read .*a\.xlsx"):
        rfm_summary(tmp_path / "a.xlsx")
    with pytest.raises(DataValidationError, match="Cannot use a list as transactions"):
        rfm_summary([1, 2, 3])
    with pytest.raises(ConfigError, match="threads must be a positive integer"):
        _engine.configure(threads=0)
