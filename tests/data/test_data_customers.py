"""load_customers: Telco, date tables, row accounting and every error message."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnlab import config
from churnlab.data import LoadedCustomers, load_customers
from churnlab.data.customers import CUSTOMER_DROP_REASONS
from churnlab.datasets import load_telco
from churnlab.exceptions import ConfigError, DataQualityWarning, DataValidationError

TELCO = {
    "tenure": "Tenure in Months",
    "churned": "Churn Label",
    "plan": "Contract",
    "revenue": "Monthly Charge",
}
MONTH = 365.2425 / 12  # churnlab's mean Gregorian month (config.TIME_UNIT_DAYS["M"])


@pytest.fixture(scope="module")
def telco() -> LoadedCustomers:
    return load_customers(load_telco(), **TELCO)


def test_telco_loads_with_its_own_columns(telco):
    # Counts from data/README.md: 7,043 customers, 1,869 churned, tenure 1-72 months,
    # contracts 3,610 / 1,550 / 1,883, monthly charge 18.25-118.75.
    data, report, dropped = telco
    assert len(data) == report.input_rows == report.kept_rows == 7043
    assert report.dropped_rows == 0 and dropped.empty
    assert data.index.name == config.CUSTOMER_ID and data.index.is_unique
    assert list(data.columns) == ["start", "end", "tenure", config.CHURNED, "plan", "revenue"]
    assert data[config.CHURNED].dtype == bool and int(data[config.CHURNED].sum()) == 1869
    assert data["tenure"].dtype == "float64"
    assert (data["tenure"].min(), data["tenure"].max()) == (1.0, 72.0)
    assert data["start"].isna().all() and data["end"].isna().all()
    assert data["plan"].value_counts().to_dict() == {
        "Month-to-Month": 3610,
        "Two Year": 1883,
        "One Year": 1550,
    }
    assert (data["revenue"].min(), data["revenue"].max()) == (18.25, 118.75)
    assert data.attrs["tenure_unit"] == "M"
    assert data.loc["8779-QRDMV", "tenure"] == 1.0 and data.loc["8779-QRDMV", config.CHURNED]


def test_telco_csv_path_gives_the_same_table(telco):
    path = config.DATA_DIR / "telco_customer_churn_extended.csv"
    loaded = load_customers(path, customer_id="Customer ID", encoding="utf-8", **TELCO)
    pd.testing.assert_frame_equal(loaded.data, telco.data)


@pytest.fixture
def dated() -> pd.DataFrame:
    """One kept row per situation, then one row per date-table drop reason."""
    rows = [
        ("a", "2023-01-01", "2023-07-01", "kept"),  # churned after 181 days
        ("b", "2023-02-01", None, "kept"),  # active
        ("c", "2023-03-01", "", "kept"),  # active (empty string)
        ("h", "2023-01-01", "2024-12-01", "kept"),  # ends after observation_end: active
        ("c", "2023-03-01", "2023-04-01", "duplicate_customer_id"),
        (None, "2023-01-01", "2023-02-01", "missing_customer_id"),
        ("d", "not a date", None, "unparsable_start"),
        ("f", "2025-01-01", None, "future_start"),
        ("g", "2023-01-01", "garbage", "unparsable_end"),
        ("e", "2023-05-01", "2023-04-01", "end_before_start"),
    ]
    frame = pd.DataFrame(rows, columns=["id", "began", "stopped", "note"])
    frame.attrs["expected"] = frame.pop("note").tolist()
    return frame


def _reasons(loaded: LoadedCustomers, n: int) -> list[str]:
    got = ["kept"] * n
    for position, reason in loaded.dropped["drop_reason"].items():
        got[position] = reason
    return got


def test_date_table_accounts_for_every_row(dated):
    with pytest.warns(DataQualityWarning, match="1 customer\\(s\\) have an end date after"):
        loaded = load_customers(
            dated, customer_id="id", start="began", end="stopped", observation_end="2024-06-30"
        )
    data, report, dropped = loaded
    assert _reasons(loaded, len(dated)) == dated.attrs["expected"]
    assert report.input_rows == 10 and report.kept_rows == len(data) == 4
    assert report.kept_rows + report.dropped_rows == report.input_rows
    expected = [r for r in CUSTOMER_DROP_REASONS if r not in ("missing_tenure", "negative_tenure")]
    assert list(report.dropped) == expected[:6]
    assert list(data.index) == ["a", "b", "c", "h"]
    assert data[config.CHURNED].tolist() == [True, False, False, False]
    assert data["end"].isna().tolist() == [False, True, True, True]
    obs = pd.Timestamp("2024-06-30")
    assert data.loc["a", "tenure"] == pytest.approx(181 / MONTH)
    assert data.loc["b", "tenure"] == pytest.approx((obs - pd.Timestamp("2023-02-01")).days / MONTH)
    assert data.loc["h", "tenure"] == pytest.approx((obs - pd.Timestamp("2023-01-01")).days / MONTH)
    assert data.attrs["observation_end"] == obs
    assert {"customer_id", "drop_reason"} <= set(dropped.columns)


def test_observation_end_defaults_to_the_latest_date(dated):
    loaded = load_customers(dated.iloc[:4], customer_id="id", start="began", end="stopped")
    assert loaded.data.attrs["observation_end"] == pd.Timestamp("2024-12-01")
    assert loaded.data.loc["h", config.CHURNED]


def test_tenure_unit_days_and_weeks(dated):
    days = load_customers(
        dated.iloc[:1], customer_id="id", start="began", end="stopped", tenure_unit="D"
    )
    weeks = load_customers(
        dated.iloc[:1], customer_id="id", start="began", end="stopped", tenure_unit="W"
    )
    assert days.data.loc["a", "tenure"] == 181.0
    assert weeks.data.loc["a", "tenure"] == pytest.approx(181 / 7)


def test_churn_flag_is_checked_against_end_dates():
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "start": ["2023-01-01"] * 5,
            "end": ["2023-06-01", None, "2023-06-01", None, "2023-06-01"],
            "status": ["Yes", "No", "No", "yes", "maybe"],
        }
    )
    loaded = load_customers(
        frame,
        customer_id="id",
        start="start",
        end="end",
        churned="status",
        observation_end="2024-01-01",
    )
    assert _reasons(loaded, 5) == [
        "kept",
        "kept",
        "churn_flag_conflict",
        "churn_flag_conflict",
        "unparsable_churn_flag",
    ]
    assert loaded.report.dropped["churn_flag_conflict"] == 2


def test_tenure_table_reasons_and_flag_spellings():
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f", "g", "h", "i"],
            "months": [3, 4, 5, 6, 0, 7, None, -1, 2],
            "left": ["Yes", "no", "TRUE", "false", 1, "0", "Yes", "No", "later"],
        }
    )
    loaded = load_customers(frame, customer_id="id", tenure="months", churned="left")
    assert _reasons(loaded, 9) == ["kept"] * 6 + [
        "missing_tenure",
        "negative_tenure",
        "unparsable_churn_flag",
    ]
    assert loaded.data[config.CHURNED].tolist() == [True, False, True, False, True, False]
    assert list(loaded.report.dropped) == [
        "missing_customer_id",
        "duplicate_customer_id",
        "missing_tenure",
        "negative_tenure",
        "unparsable_churn_flag",
    ]
    numeric = load_customers(
        pd.DataFrame({"id": [1, 2], "t": [1.0, 2.0], "c": [1, 0]}),
        customer_id="id",
        tenure="t",
        churned="c",
    )
    assert numeric.data.index.tolist() == ["1", "2"]
    boolean = load_customers(
        pd.DataFrame({"id": ["x", "y"], "t": [1, 2], "c": [True, False]}),
        customer_id="id",
        tenure="t",
        churned="c",
    )
    assert boolean.data[config.CHURNED].tolist() == [True, False]


def test_date_format_and_dayfirst():
    frame = pd.DataFrame(
        {"id": ["a", "b"], "s": ["03/04/2023", "01/02/2023"], "e": ["03/05/2023", None]}
    )
    loaded = load_customers(
        frame, customer_id="id", start="s", end="e", dayfirst=True, observation_end="2023-12-31"
    )
    assert loaded.data.loc["a", "start"] == pd.Timestamp("2023-04-03")
    assert loaded.data.loc["a", "end"] == pd.Timestamp("2023-05-03")
    explicit = load_customers(
        frame,
        customer_id="id",
        start="s",
        end="e",
        date_format="%d/%m/%Y",
        observation_end="2023-12-31",
    )
    pd.testing.assert_frame_equal(explicit.data, loaded.data)


def test_encoding_and_sheet_reach_the_reader(tmp_path):
    frame = pd.DataFrame({"id": ["é1", "ü2"], "t": [1, 2], "c": ["Yes", "No"]})
    csv = tmp_path / "customers.csv"
    frame.to_csv(csv, index=False, encoding="latin-1")
    loaded = load_customers(csv, customer_id="id", tenure="t", churned="c", encoding="latin-1")
    assert loaded.data.index.tolist() == ["é1", "ü2"]
    xlsx = tmp_path / "customers.xlsx"
    with pd.ExcelWriter(xlsx) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="notes", index=False)
        frame.to_excel(writer, sheet_name="subs", index=False)
    loaded = load_customers(xlsx, customer_id="id", tenure="t", churned="c", sheet="subs")
    assert loaded.data.index.tolist() == ["é1", "ü2"]


TENURE_FRAME = pd.DataFrame({"id": ["a", "b"], "t": [1, 2], "c": ["Yes", "No"]})


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, "needs how long each customer stayed"),
        ({"start": "s", "tenure": "t"}, "got both start='s' and tenure='t'"),
        ({"tenure": "t"}, "with tenure='t' needs churned="),
        ({"tenure": "t", "churned": "c", "end": "e"}, "with tenure='t' needs churned="),
        ({"start": "s"}, "with start='s' needs end="),
        ({"tenure": "t", "churned": "c", "tenure_unit": "Y"}, "tenure_unit='Y' is not a known"),
        ({"tenure": "t", "churned": "c", "observation_end": "soon"}, "observation_end='soon'"),
        ({"tenure": "t", "churned": "c", "encoding": "latin-1"}, "applies to CSV files only"),
        ({"tenure": "t", "churned": "c", "sheet": "subs"}, "applies to Excel files"),
    ],
)
def test_configuration_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        load_customers(TENURE_FRAME, customer_id="id", **options)


def test_data_errors(tmp_path):
    with pytest.raises(DataValidationError, match="needs column\\(s\\) 'months'"):
        load_customers(TENURE_FRAME, customer_id="id", tenure="months", churned="c")
    no_ids = TENURE_FRAME.assign(id=["", None])
    with pytest.raises(DataValidationError, match="customer_id column 'id' has no values"):
        load_customers(no_ids, customer_id="id", tenure="t", churned="c")
    bad_flags = TENURE_FRAME.assign(c=["stayed", "left"])
    with pytest.raises(DataValidationError, match=r"usable churn flag .*'stayed'"):
        load_customers(bad_flags, customer_id="id", tenure="t", churned="c")
    with pytest.raises(DataValidationError, match="usable tenure"):
        load_customers(TENURE_FRAME.assign(t=None), customer_id="id", tenure="t", churned="c")
    with pytest.raises(DataValidationError, match="'t' must be numeric, but 1 of 2"):
        load_customers(
            TENURE_FRAME.assign(t=["3", "three"]), customer_id="id", tenure="t", churned="c"
        )
    with pytest.raises(DataValidationError, match="'r' must be numeric"):
        load_customers(
            TENURE_FRAME.assign(r=["$3", "4"]),
            customer_id="id",
            tenure="t",
            churned="c",
            revenue="r",
        )
    dates = pd.DataFrame({"id": ["a", "b"], "s": ["soon", "later"], "e": [None, None]})
    with pytest.raises(DataValidationError, match=r"usable date, e\.g\. 'soon', 'later'"):
        load_customers(dates, customer_id="id", start="s", end="e")
    negative = TENURE_FRAME.assign(t=[-1, -2])
    with pytest.raises(DataValidationError, match="all 2 rows were dropped \\(negative_tenure"):
        load_customers(negative, customer_id="id", tenure="t", churned="c")
    empty = tmp_path / "empty.csv"
    empty.write_text("id,t,c\n")
    with pytest.raises(DataValidationError, match="is empty"):
        load_customers(empty, customer_id="id", tenure="t", churned="c")


def test_a_bare_observation_end_covers_its_whole_day():
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "start": ["2024-06-30 10:00", "2024-01-01", "2024-07-01"],
            "end": [None, "2024-06-30 18:00", None],
        }
    )
    loaded = load_customers(
        frame, customer_id="id", start="start", end="end", observation_end="2024-06-30"
    )
    assert loaded.data.loc["a", "tenure"] == 0.0 and not loaded.data.loc["a", config.CHURNED]
    assert loaded.data.loc["b", config.CHURNED]
    assert loaded.dropped["drop_reason"].tolist() == ["future_start"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "", None]),
            st.sampled_from(["2023-01-01", "2023-06-01", "2025-01-01", "bad", None]),
            st.sampled_from(["2023-03-01", "2024-01-01", "", "bad", None]),
            st.sampled_from(["Yes", "No", "?", None]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_every_row_is_kept_or_dropped_once(rows):
    frame = pd.DataFrame(rows, columns=["id", "s", "e", "c"])
    frame.loc[len(frame)] = ["z", "2023-01-01", None, "No"]  # at least one usable row
    options = {"customer_id": "id", "start": "s", "end": "e", "churned": "c"}
    try:
        loaded = load_customers(frame, observation_end="2024-06-30", **options)
    except DataValidationError as error:
        assert "were dropped" in str(error) or "usable" in str(error)
        return
    report = loaded.report
    assert report.kept_rows + report.dropped_rows == report.input_rows == len(frame)
    assert len(loaded.data) + len(loaded.dropped) == len(frame)
    assert loaded.data.index.is_unique
    assert (loaded.data["tenure"] >= 0).all()
    assert loaded.data.loc[loaded.data[config.CHURNED], "end"].notna().all()
