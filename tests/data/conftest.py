"""Fixtures for the data-loading tests: a small messy log and the bundled Online Retail."""

from __future__ import annotations

import pandas as pd
import pytest

from churnlab.data.datasets import read_online_retail_raw


@pytest.fixture
def messy_log() -> pd.DataFrame:
    """Sixteen invoice lines in Online Retail's layout: five kept, then one per rule.

    ``frame.attrs["expected_reasons"]`` lists each row's expected drop reason
    ("kept" for kept rows); row 7 is an exact copy of row 0, row 10's amount
    overflows to inf as Quantity x UnitPrice (1e308 x 10), and row 11 is the
    purchase that the cancellation in row 12 reverses in full.
    """
    rows = [
        ("536365", "85123A", 6, "2011-01-03 08:26", 2.55, 17850.0, "kept"),
        ("536365", "71053", 6, "2011-01-03 08:26", 3.39, 17850.0, "kept"),
        ("536366", "22633", 6, "2011-01-05 08:28", 1.85, 17850.0, "kept"),
        ("536367", "84879", 32, "2011-02-01 08:34", 1.69, 13047.0, "kept"),
        ("536368", "22960", 6, "2011-02-01 08:34", 4.25, 13047.0, "kept"),
        ("536369", "21756", 3, "2011-02-02 09:00", 5.95, None, "missing_customer_id"),
        ("536370", "22728", 24, "not a date", 3.75, 12583.0, "unparsable_date"),
        ("536365", "85123A", 6, "2011-01-03 08:26", 2.55, 17850.0, "duplicate"),
        ("536373", "22139", 2, "2031-02-05 10:00", 4.0, 12583.0, "future_date"),
        ("536374", "22139", None, "2011-02-05 10:00", 4.0, 12583.0, "missing_amount"),
        ("536375", "22139", 1e308, "2011-02-05 10:00", 10.0, 12583.0, "non_finite_amount"),
        ("536378", "22556", 2, "2011-02-01 09:00", 1.65, 14527.0, "reversed_purchase"),
        ("C536379", "22556", -2, "2011-02-03 09:41", 1.65, 14527.0, "cancellation"),
        ("536370", "POST", 3, "2011-02-04 10:00", 18.0, 12583.0, "non_product"),
        ("536371", "gift_0001_20", 1, "2011-02-04 10:00", 16.0, 12583.0, "non_product"),
        ("536372", "22139", 2, "2011-02-05 10:00", 0.0, 12583.0, "nonpositive_amount"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "InvoiceNo",
            "StockCode",
            "Quantity",
            "InvoiceDate",
            "UnitPrice",
            "CustomerID",
            "Note",
        ],
    )
    frame.attrs["expected_reasons"] = frame.pop("Note").tolist()
    return frame


@pytest.fixture(scope="module")
def online_retail_raw() -> pd.DataFrame:
    """The bundled Online Retail file as read (541,909 rows), read once per module."""
    return read_online_retail_raw()
