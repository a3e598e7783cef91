"""The bundled datasets, checked against the figures in data/README.md and lifetimes."""

from __future__ import annotations

import pandas as pd
import pytest

from churnlab import config
from churnlab.data import CleaningPolicy, load_transactions
from churnlab.datasets import load_cdnow, load_online_retail, load_source, load_telco
from churnlab.exceptions import ConfigError

RETAIL_MAPPING = {
    "customer_id": "CustomerID",
    "date": "InvoiceDate",
    "quantity": "Quantity",
    "price": "UnitPrice",
    "order_id": "InvoiceNo",
    "product_id": "StockCode",
}


@pytest.fixture(scope="module")
def online_retail():
    """Online Retail with the full preset, loaded once for this module."""
    return load_online_retail()


def test_online_retail_raw_figures(online_retail_raw):
    # data/README.md: 541,909 rows, 25,900 invoices, sum Quantity x UnitPrice = 9,747,747.93
    assert len(online_retail_raw) == 541_909
    assert online_retail_raw["InvoiceNo"].nunique() == 25_900
    total = (online_retail_raw["Quantity"] * online_retail_raw["UnitPrice"]).sum()
    assert total == pytest.approx(9_747_747.93, abs=0.01)
    # README: 5,268 exact duplicate rows; 135,080 rows without CustomerID; 4,372 customers
    assert online_retail_raw.duplicated().sum() == 5_268
    assert online_retail_raw["CustomerID"].isna().sum() == 135_080
    assert online_retail_raw["CustomerID"].nunique() == 4_372


def test_online_retail_ids_and_cancellations_only(online_retail_raw):
    # data/README.md: 135,080 rows without CustomerID; once cancellations are also dropped:
    # 4,339 customers, 18,536 invoices and 397,924 lines.
    policy = CleaningPolicy.only(
        "missing_customer_id", "cancellation", cancellation_prefixes=("C",)
    )
    data, report, dropped = load_transactions(online_retail_raw, **RETAIL_MAPPING, policy=policy)
    assert report.input_rows == 541_909
    assert {reason: n for reason, n in report.dropped.items() if n} == {
        "missing_customer_id": 135_080,
        "cancellation": 8_905,
    }
    assert report.kept_rows == len(data) == 397_924
    assert data[config.CUSTOMER_ID].nunique() == 4_339
    assert data[config.ORDER_ID].nunique() == 18_536
    assert len(dropped) == 135_080 + 8_905
    assert data.loc[data[config.CUSTOMER_ID] == "17850", config.CUSTOMER_ID].size > 0


def test_online_retail_preset_accounting(online_retail, online_retail_raw):
    data, report, dropped = online_retail
    assert report.input_rows == 541_909
    assert report.kept_rows + sum(report.dropped.values()) == report.input_rows
    assert len(dropped) == sum(report.dropped.values())
    counts = dropped["drop_reason"].value_counts().reindex(list(report.dropped), fill_value=0)
    assert counts.to_dict() == report.dropped
    # 5,268 exact duplicate lines in the file (README); those also hit by the earlier
    # missing-id rule are counted there, so the duplicate count is at most that.
    assert 0 < report.dropped["duplicate"] <= 5_268
    assert report.dropped["missing_customer_id"] == 135_080
    # Figures of this loader, as quoted in data/README.md ("How churnlab cleans it").
    assert {reason: n for reason, n in report.dropped.items() if n} == {
        "missing_customer_id": 135_080,
        "duplicate": 5_225,
        "cancellation": 8_872,
        "non_product": 1_549,
        "nonpositive_amount": 33,
        "reversed_purchase": 2_818,
    }
    assert report.kept_rows == len(data) == 388_332
    assert (data[config.AMOUNT] > 0).all()
    assert not data[config.ORDER_ID].str.startswith("C").any()
    assert not data[config.PRODUCT_ID].isin(["POST", "DOT", "M", "BANK CHARGES"]).any()
    assert data[config.DATE].min() == pd.Timestamp("2010-12-01 08:26")
    assert data[config.DATE].max() == pd.Timestamp("2011-12-09 12:50")
    assert data[config.DATE].is_monotonic_increasing


@pytest.mark.parametrize(
    ("purchase", "cancellation", "product", "units"),
    [
        # data/README.md: the two biggest one-line mistakes, cancelled within minutes
        ("581483", "C581484", "23843", 80_995),  # PAPER CRAFT , LITTLE BIRDIE
        ("541431", "C541433", "23166", 74_215),  # MEDIUM CERAMIC TOP STORAGE JAR
    ],
)
def test_online_retail_big_cancelled_purchases_are_gone(
    online_retail, purchase, cancellation, product, units
):
    data, _, dropped = online_retail
    assert not data[config.ORDER_ID].isin([purchase, cancellation]).any()
    assert not (data[config.PRODUCT_ID].eq(product) & data[config.QUANTITY].eq(units)).any()
    pair = dropped[dropped[config.ORDER_ID].isin([purchase, cancellation])]
    reasons = dict(zip(pair[config.ORDER_ID], pair["drop_reason"], strict=True))
    assert reasons == {purchase: "reversed_purchase", cancellation: "cancellation"}
    assert pair.loc[pair[config.ORDER_ID] == purchase, config.QUANTITY].item() == units
    assert data[config.QUANTITY].max() < 10_000


def test_online_retail_partial_reversals_are_kept(online_retail):
    data, _, dropped = online_retail
    # Found with pandas in this file: customer 12755 bought 1,488 x StockCode 22328 on
    # invoice 537899 and cancelled 624 of them on C548731. A partial reversal is not
    # netted: the purchase stays whole and the cancellation is dropped on its own.
    bought = data[(data[config.ORDER_ID] == "537899") & (data[config.PRODUCT_ID] == "22328")]
    assert bought[config.QUANTITY].tolist() == [1_488.0]
    cancel = dropped[
        (dropped[config.ORDER_ID] == "C548731") & (dropped[config.PRODUCT_ID] == "22328")
    ]
    assert cancel[config.QUANTITY].tolist() == [-624.0]
    assert cancel["drop_reason"].tolist() == ["cancellation"]
    # every netted purchase has a cancellation of the same customer, product and size
    key = [config.CUSTOMER_ID, config.PRODUCT_ID, config.QUANTITY]
    cancels = dropped[dropped["drop_reason"] == "cancellation"]
    sizes = cancels.assign(**{config.QUANTITY: -cancels[config.QUANTITY]})[key].drop_duplicates()
    netted = dropped[dropped["drop_reason"] == "reversed_purchase"]
    assert len(netted.merge(sizes, on=key)) == len(netted) == 2_818


def test_online_retail_sample_is_reproducible(online_retail):
    from churnlab.data.datasets import sample_customers_from

    first = sample_customers_from(online_retail, 300, random_state=7)
    again = sample_customers_from(online_retail, 300, random_state=7)
    other = sample_customers_from(online_retail, 300, random_state=8)
    assert first.data[config.CUSTOMER_ID].nunique() == 300
    pd.testing.assert_frame_equal(first.data, again.data)
    assert set(first.data[config.CUSTOMER_ID]) != set(other.data[config.CUSTOMER_ID])
    report = first.report
    assert report.kept_rows == len(first.data)
    assert report.kept_rows + sum(report.dropped.values()) == report.input_rows


def test_telco_keeps_literal_none():
    telco = load_telco()
    # data/README.md: 7,043 customers x 51 columns (Customer ID becomes the index)
    assert telco.shape == (7_043, 51)
    assert telco.index.name == config.CUSTOMER_ID
    assert telco.index.is_unique
    assert "8779-QRDMV" in telco.index
    assert (telco["Offer"] == "None").any() and telco["Offer"].notna().all()
    assert (telco["Internet Type"] == "None").any() and telco["Internet Type"].notna().all()
    assert telco[config.CHURNED].dtype == bool
    assert telco[config.CHURNED].sum() == 1_869
    assert telco["Churn Reason"].isna().sum() == 5_174


def test_cdnow_summary():
    # lifetimes' cdnow_customers_summary.csv: 2,357 customers, 39-week calibration (T = 38.86)
    summary = load_cdnow("summary")
    assert summary.shape == (2_357, 3)
    assert list(summary.columns) == [config.FREQUENCY, config.RECENCY, config.T]
    assert summary.attrs["time_unit"] == "W"
    assert summary.loc["1", config.FREQUENCY] == 2.0
    assert summary[config.T].max() == pytest.approx(38.86)


def test_cdnow_transactions():
    # lifetimes' CDNOW_master.txt: 69,659 purchases by 23,570 customers; nothing dropped
    data, report, dropped = load_cdnow("transactions")
    assert report.input_rows == report.kept_rows == 69_659
    assert dropped.empty
    assert data[config.CUSTOMER_ID].nunique() == 23_570
    assert data[config.DATE].min() == pd.Timestamp("1997-01-01")
    assert data[config.ORDER_ID].iloc[0] == "1@1997-01-01"


def test_cdnow_bad_kind():
    with pytest.raises(ConfigError, match="kind must be 'transactions' or 'summary'"):
        load_cdnow("weekly")


def test_load_source_cdnow_sample():
    loaded = load_source("cdnow", sample_customers=50, random_state=1)
    assert loaded.data[config.CUSTOMER_ID].nunique() == 50


def test_load_source_path(tmp_path, tiny_transactions):
    path = tmp_path / "log.parquet"
    tiny_transactions.to_parquet(path)
    loaded = load_source(path)
    assert len(loaded.data) == len(tiny_transactions)
    assert loaded.data[config.ORDER_ID].iloc[0] == "o1"


def test_load_source_telco_is_not_a_log():
    with pytest.raises(
        ConfigError, match=r"'telco' is a customer snapshot.*'online_retail', 'cdnow'"
    ):
        load_source("telco")


def test_load_source_unknown_name():
    with pytest.raises(ConfigError, match=r"'retail' is neither a bundled name nor an existing"):
        load_source("retail")


def test_load_source_bad_sample_size():
    with pytest.raises(ConfigError, match="sample_customers must be 0"):
        load_source("cdnow", sample_customers=-3)
