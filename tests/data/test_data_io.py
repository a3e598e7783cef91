"""load_transactions / load_table: sources, mapping, canonical dtypes and row accounting."""

from __future__ import annotations

import pandas as pd
import pytest

from churnlab import config
from churnlab.data import (
    DROP_REASONS,
    CleaningPolicy,
    LoadedTransactions,
    load_table,
    load_transactions,
)
from churnlab.exceptions import DataValidationError

RETAIL_MAPPING = {
    "customer_id": "CustomerID",
    "date": "InvoiceDate",
    "quantity": "Quantity",
    "price": "UnitPrice",
    "order_id": "InvoiceNo",
    "product_id": "StockCode",
}
LENIENT = CleaningPolicy.online_retail(max_unparsable_date_share=0.2)


def test_every_row_gets_the_first_matching_reason(messy_log):
    data, report, dropped = load_transactions(messy_log, **RETAIL_MAPPING, policy=LENIENT)
    expected = messy_log.attrs["expected_reasons"]
    got = ["kept"] * len(messy_log)
    for position, reason in dropped["drop_reason"].items():
        got[position] = reason
    assert got == expected
    assert report.input_rows == len(messy_log) == 16
    assert report.kept_rows == len(data) == 5
    assert report.kept_rows + sum(report.dropped.values()) == report.input_rows
    assert list(report.dropped) == list(DROP_REASONS)
    assert report.dropped["non_product"] == 2
    assert all(report.dropped[r] == 1 for r in DROP_REASONS if r != "non_product")


def test_canonical_columns_dtypes_and_sorting(messy_log):
    loaded = load_transactions(messy_log.iloc[::-1], **RETAIL_MAPPING, policy=LENIENT)
    assert isinstance(loaded, LoadedTransactions)
    data = loaded.data
    assert list(data.columns) == [
        config.CUSTOMER_ID,
        config.ORDER_ID,
        config.DATE,
        config.AMOUNT,
        config.QUANTITY,
        config.PRODUCT_ID,
    ]
    assert data[config.DATE].dtype == "datetime64[ns]"
    assert data[config.AMOUNT].dtype == "float64"
    assert data[config.QUANTITY].dtype == "float64"
    assert pd.api.types.is_string_dtype(data[config.CUSTOMER_ID])
    assert pd.api.types.is_string_dtype(data[config.ORDER_ID])
    assert data[config.DATE].is_monotonic_increasing
    # Online Retail writes ids as floats (17850.0); they come back as clean strings.
    assert set(data[config.CUSTOMER_ID]) == {"17850", "13047"}
    assert data[config.AMOUNT].iloc[0] == pytest.approx(6 * 2.55)
    assert set(loaded.dropped.columns) == {*data.columns, "drop_reason"}


def test_order_id_is_synthesised_per_customer_and_timestamp(tiny_transactions):
    log = tiny_transactions.drop(columns=config.ORDER_ID)
    data = load_transactions(log).data
    assert data[config.ORDER_ID].iloc[0] == "a@2024-01-01"
    # customer c's two purchases on 2024-02-01 share one synthesised order
    c_orders = data.loc[data[config.CUSTOMER_ID] == "c", config.ORDER_ID]
    assert c_orders.nunique() == 3
    # stable: the same ids whatever the row order
    again = load_transactions(log.sample(frac=1, random_state=1)).data
    assert set(again[config.ORDER_ID]) == set(data[config.ORDER_ID])


def test_timestamps_keep_their_time_in_synthesised_ids():
    log = pd.DataFrame(
        {
            "customer_id": ["x", "x"],
            "date": ["2024-01-01 10:00", "2024-01-01 11:30"],
            "amount": [1, 2],
        }
    )
    data = load_transactions(log).data
    assert list(data[config.ORDER_ID]) == ["x@2024-01-01T10:00:00", "x@2024-01-01T11:30:00"]


def test_canonical_columns_are_picked_up_without_mapping(tiny_transactions):
    data, report, _ = load_transactions(tiny_transactions)
    assert report.kept_rows == len(tiny_transactions)
    assert list(data[config.ORDER_ID].head(2)) == ["o1", "o4"]


def test_leading_zeros_of_string_ids_are_kept():
    log = pd.DataFrame(
        {"customer_id": ["007", " 042 "], "date": ["2024-01-01"] * 2, "amount": [1, 2]}
    )
    assert list(load_transactions(log).data[config.CUSTOMER_ID]) == ["007", "042"]


def test_customer_id_may_be_the_index(tiny_transactions):
    data = load_transactions(tiny_transactions.set_index(config.CUSTOMER_ID)).data
    assert set(data[config.CUSTOMER_ID]) == {"a", "b", "c", "d"}


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet", ".xlsx"])
def test_file_sources(tmp_path, messy_log, suffix):
    path = tmp_path / f"log{suffix}"
    if suffix == ".parquet":
        messy_log.to_parquet(path)
    elif suffix == ".xlsx":
        messy_log.to_excel(path, index=False)
    else:
        messy_log.to_csv(path, index=False)
    data, report, _ = load_transactions(path, **RETAIL_MAPPING, policy=LENIENT)
    assert report.kept_rows == 5
    assert set(data[config.CUSTOMER_ID]) == {"17850", "13047"}
    assert data[config.ORDER_ID].iloc[0] == "536365"


def test_semicolon_csv_with_read_options(tmp_path, tiny_transactions):
    path = tmp_path / "log.csv"
    tiny_transactions.to_csv(path, sep=";", index=False)
    data = load_transactions(path, read_options={"sep": ";"}).data
    assert len(data) == len(tiny_transactions)


def test_parquet_glob(tmp_path, random_transactions):
    half = len(random_transactions) // 2
    random_transactions.iloc[:half].to_parquet(tmp_path / "part-0.parquet")
    random_transactions.iloc[half:].to_parquet(tmp_path / "part-1.parquet")
    data = load_transactions(str(tmp_path / "*.parquet")).data
    assert len(data) == len(random_transactions)
    assert data[config.AMOUNT].sum() == pytest.approx(random_transactions[config.AMOUNT].sum())


@pytest.mark.filterwarnings("ignore:.*future.infer_string")
def test_ibis_table(tiny_transactions):
    ibis = pytest.importorskip("ibis")
    table = ibis.memtable(tiny_transactions)
    data = load_transactions(table).data
    assert len(data) == len(tiny_transactions)


def test_loaded_transactions_feed_back_in(tiny_transactions):
    loaded = load_transactions(tiny_transactions)
    assert len(load_transactions(loaded).data) == len(tiny_transactions)


def test_future_dates_follow_observation_end(tiny_transactions):
    # a bare date includes its whole day: 2024-03-20 stays, 2024-03-25 goes
    data, report, dropped = load_transactions(tiny_transactions, observation_end="2024-03-20")
    assert data[config.DATE].max() == pd.Timestamp("2024-03-20")
    assert report.dropped["future_date"] == 1
    assert list(dropped["drop_reason"]) == ["future_date"]


def test_a_few_bad_dates_are_dropped_and_counted(random_transactions):
    log = random_transactions.assign(date=random_transactions["date"].astype(str))
    log.loc[[3, 7], "date"] = ["31/02/2023", "soon"]
    data, report, dropped = load_transactions(log)
    assert report.dropped["unparsable_date"] == 2
    assert sorted(dropped.index) == [3, 7]
    assert len(data) == len(log) - 2


def test_amount_only_negative_is_nonpositive(tiny_transactions):
    log = tiny_transactions.copy()
    log.loc[0, "amount"] = -5.0
    _, report, dropped = load_transactions(log)
    assert report.dropped["nonpositive_amount"] == 1
    assert dropped.loc[0, "drop_reason"] == "nonpositive_amount"


def test_policy_off_keeps_rows(messy_log):
    keep = CleaningPolicy.only(
        "unparsable_date", "missing_amount", "non_finite_amount", max_unparsable_date_share=0.2
    )
    _, report, _ = load_transactions(
        messy_log.dropna(subset=["CustomerID"]), **RETAIL_MAPPING, policy=keep
    )
    assert report.kept_rows == len(messy_log) - 4
    assert list(report.dropped) == ["unparsable_date", "missing_amount", "non_finite_amount"]


def test_load_table_indexes_by_customer_id(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("Customer ID,Offer,Tenure\n0001,None,3\n0002,Offer A,5\n")
    table = load_table(
        path,
        customer_id="Customer ID",
        read_options={"keep_default_na": False, "na_values": [""]},
    )
    assert table.index.name == config.CUSTOMER_ID
    assert list(table.index) == ["0001", "0002"]
    assert list(table["Offer"]) == ["None", "Offer A"]


def test_csv_ids_keep_leading_zeros(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("customer_id,order_id,product_id,date,amount\n0042,000123,0815,2024-01-01,5\n")
    data = load_transactions(path).data
    assert data.iloc[0][[config.CUSTOMER_ID, config.ORDER_ID, config.PRODUCT_ID]].tolist() == [
        "0042",
        "000123",
        "0815",
    ]


def test_infinite_and_overflowing_amounts_are_dropped_as_non_finite(tmp_path):
    path = tmp_path / "inf.csv"
    rows = "".join(f"c{i},2024-01-{i + 1:02d},{i + 1}\n" for i in range(20))
    path.write_text(
        "customer_id,date,amount\n" + rows + "x,2024-02-01,inf\ny,2024-02-01,-inf\n"
        "z,2024-02-01,1e309\n"
    )
    data, report, dropped = load_transactions(path, observation_end="2024-12-31")
    assert report.dropped["non_finite_amount"] == 3
    assert sorted(dropped.loc[dropped["drop_reason"] == "non_finite_amount", "customer_id"]) == [
        "x",
        "y",
        "z",
    ]
    assert report.kept_rows == len(data) == 20
    assert report.kept_rows + report.dropped_rows == report.input_rows == 23


def test_quantity_times_price_overflow_is_non_finite():
    log = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "date": ["2024-01-01"] * 3,
            "qty": [2.0, 1e200, 1.0],
            "unit": [3.0, 1e200, float("inf")],
        }
    )
    data, report, dropped = load_transactions(log, quantity="qty", price="unit")
    assert report.dropped["non_finite_amount"] == 2
    assert list(data[config.CUSTOMER_ID]) == ["a"]
    assert list(dropped.index) == [1, 2]


def test_non_finite_amounts_raise_when_the_policy_keeps_them(tiny_transactions):
    log = tiny_transactions.copy()
    log.loc[3, "amount"] = float("inf")
    with pytest.raises(
        DataValidationError,
        match=r"1 of 10 rows of the DataFrame have an infinite amount or quantity.*"
        r"drop_non_finite_amounts=False",
    ):
        load_transactions(log, policy=CleaningPolicy(drop_non_finite_amounts=False))
