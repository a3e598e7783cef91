"""source_options and the options of load_source: names, types and where they apply."""

from __future__ import annotations

import pandas as pd
import pytest

from churnlab import config
from churnlab.data import load_transactions, source_options
from churnlab.datasets import load_source
from churnlab.exceptions import ConfigError, DataValidationError

UK = "Kunde;Datum;Betrag\nA;05/01/2021;10\nA;06/01/2021;10\nB;07/01/2021;10\n"


def test_source_options_drops_unset_and_keeps_order():
    got = source_options({"dayfirst": True, "date": "Datum", "amount": None, "sheet": 2})
    assert got == {"date": "Datum", "dayfirst": True, "sheet": 2}
    assert list(got) == ["date", "dayfirst", "sheet"]
    assert source_options(None) == {}


def test_every_source_option_is_accepted():
    values = {name: "x" for name in config.SOURCE_OPTIONS}
    values.update(dayfirst=None, date_format="%d/%m/%Y", encoding="latin-1", timezone="UTC")
    values.update(sep=";", decimal=",")
    assert set(source_options(values)) == set(config.SOURCE_OPTIONS) - {"dayfirst"}


def test_unknown_option_lists_the_known_ones():
    with pytest.raises(
        ConfigError,
        match=r"Unknown source option\(s\) 'dayfrist' \(did you mean 'dayfirst'\?\)\. Known "
        r"options: customer_id, date, amount, quantity, price, order_id, product_id, "
        r"date_format, dayfirst, encoding, sep, decimal, sheet, timezone\.",
    ):
        source_options({"dayfrist": True})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"dayfirst": "yes"}, r"dayfirst must be True \(dd/mm/yyyy\) or False"),
        ({"date": 3}, r"date must be a column name, got 3 \(int\)"),
        ({"customer_id": ""}, r"customer_id must be a column name, got ''"),
        ({"encoding": 8}, r"encoding must be a non-empty string"),
        ({"sep": ";;"}, r"sep=';;' must be the one character between a CSV's columns"),
        ({"sep": "a"}, r"sep='a' must be the one character"),
        ({"decimal": "·"}, r"decimal='·' must be ','"),
        ({"sep": ",", "decimal": ","}, r"decimal=',' is also the column separator"),
        ({"sheet": True}, r"sheet must be a sheet name or its position"),
        ({"sheet": -1}, r"sheet must be 0 \(the first sheet\) or more"),
        ({"date_format": "dd/mm/yyyy"}, r"date_format='dd/mm/yyyy' has no % codes"),
        ({"date_format": "%d/%m/%Y", "dayfirst": True}, r"Pass date_format= or dayfirst=, not"),
        ({"encoding": "klingon"}, r"encoding='klingon' is not a known text encoding"),
        ({"timezone": "Mars/Olympus"}, r"timezone='Mars/Olympus' is not a known time zone"),
    ],
)
def test_bad_option_values(options, message):
    with pytest.raises(ConfigError, match=message):
        source_options(options)


def test_load_transactions_checks_its_options(tiny_transactions):
    with pytest.raises(ConfigError, match=r"timezone='Nowhere' is not a known time zone"):
        load_transactions(tiny_transactions, timezone="Nowhere")


def test_load_source_maps_columns_and_reads_options(tmp_path):
    path = tmp_path / "de.csv"
    path.write_bytes(UK.encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"looks like ';'-separated"):
        load_source(path, customer_id="Kunde", date="Datum", amount="Betrag", dayfirst=True)
    path.write_text(UK.replace(";", ","))
    data, report, _ = load_source(
        path, customer_id="Kunde", date="Datum", amount="Betrag", dayfirst=True, encoding="utf-8"
    )
    assert data[config.DATE].dt.strftime("%Y-%m-%d").tolist() == [
        "2021-01-05",
        "2021-01-06",
        "2021-01-07",
    ]
    assert report.date_format == "%d/%m/%Y"


def test_load_source_passes_sheet_and_none_means_unset(tmp_path, tiny_transactions):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        tiny_transactions.to_excel(writer, sheet_name="Orders", index=False)
        tiny_transactions.head(2).to_excel(writer, sheet_name="Sample", index=False)
    loaded = load_source(path, sheet="Orders", date_format=None, timezone=None)
    assert len(loaded.data) == len(tiny_transactions)


def test_load_source_unknown_option():
    with pytest.raises(ConfigError, match=r"Unknown source option\(s\) 'quotechar'"):
        load_source("online_retail", quotechar="'")


def test_load_source_options_do_not_apply_to_bundled_data():
    with pytest.raises(
        ConfigError,
        match=r"data_source='cdnow' is a bundled dataset.*option\(s\) dayfirst=True only apply "
        r"to your own files",
    ):
        load_source("cdnow", dayfirst=True, encoding=None)


def test_every_mapped_column_suggests_the_closest(tmp_path, messy_log):
    path = tmp_path / "retail.csv"
    messy_log.to_csv(path, index=False)
    mapping = {
        "customer_id": "CustomerID",
        "date": "InvoiceDate",
        "quantity": "Quantity",
        "price": "UnitPrice",
        "order_id": "InvoiceNo",
        "product_id": "StockCode",
    }
    for option, wrong in [
        ("customer_id", "customer id"),
        ("date", "Invoice Date"),
        ("quantity", "qty"),
        ("price", "unit_price"),
        ("order_id", "Invoice"),
        ("product_id", "stock_code"),
    ]:
        expected = mapping[option]
        with pytest.raises(
            DataValidationError,
            match=rf"needs column\(s\) {option}='{wrong}' \(did you mean '{expected}'\?\), "
            rf"which '.*retail.csv' does not have.*Pass the mapping, e.g. {option}='{expected}'",
        ):
            load_source(path, **{**mapping, option: wrong})
