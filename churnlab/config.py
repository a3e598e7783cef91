"""Canonical column names, default paths and time units.

Every module reads column names from here, so the whole package speaks one
column contract (the names lifetimes and pymc-marketing users already know).
"""

from __future__ import annotations

import os
from pathlib import Path

CUSTOMER_ID = "customer_id"
ORDER_ID = "order_id"
DATE = "date"
AMOUNT = "amount"
QUANTITY = "quantity"
PRODUCT_ID = "product_id"

FREQUENCY = "frequency"
RECENCY = "recency"
T = "T"
MONETARY_VALUE = "monetary_value"
CHURNED = "churned"

TRANSACTION_COLUMNS = (CUSTOMER_ID, ORDER_ID, DATE, AMOUNT)
RFM_COLUMNS = (FREQUENCY, RECENCY, T, MONETARY_VALUE)

#: Supported time units and their length in days. "M" is the mean Gregorian month.
TIME_UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.2425 / 12}

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Folder of the bundled sample data; override with the CHURNLAB_DATA_DIR variable.
DATA_DIR = Path(os.environ.get("CHURNLAB_DATA_DIR", PROJECT_ROOT / "data"))
NOTEBOOKS_DIR = Path(os.environ.get("CHURNLAB_NOTEBOOKS_DIR", PROJECT_ROOT / "notebooks"))
REPORTS_DIR = Path(os.environ.get("CHURNLAB_REPORTS_DIR", PROJECT_ROOT / "reports"))

#: Column-mapping and reading options of a transaction source, accepted with the same
#: names by ``load_transactions``, ``datasets.load_source``, ``churnlab score``,
#: ``churnlab report`` and the report config (``[data]`` table).
SOURCE_OPTIONS = (
    "customer_id",
    "date",
    "amount",
    "quantity",
    "price",
    "order_id",
    "product_id",
    "date_format",
    "dayfirst",
    "encoding",
    "sep",
    "decimal",
    "sheet",
    "timezone",
)
