"""Fixtures shared by the whole suite: tiny deterministic data and a local Spark session."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def tiny_transactions() -> pd.DataFrame:
    """Ten purchases by four customers, in churnlab's canonical columns.

    Customer ``c`` buys twice on one day (same-period purchases merge), ``d``
    buys once (no repeat purchase).
    """
    rows = [
        ("a", "o1", "2024-01-01", 10.0),
        ("a", "o2", "2024-01-15", 20.0),
        ("a", "o3", "2024-02-20", 30.0),
        ("b", "o4", "2024-01-10", 5.0),
        ("b", "o5", "2024-03-01", 15.0),
        ("c", "o6", "2024-02-01", 8.0),
        ("c", "o7", "2024-02-01", 12.0),
        ("c", "o8", "2024-03-05", 40.0),
        ("c", "o9", "2024-03-20", 4.0),
        ("d", "o10", "2024-03-25", 100.0),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


@pytest.fixture
def random_transactions() -> pd.DataFrame:
    """A reproducible random log: 500 customers, about 3,000 purchases over two years."""
    rng = np.random.default_rng(20240101)
    n_customers = 500
    counts = rng.geometric(0.2, size=n_customers)
    customer = np.repeat([f"cust{i:04d}" for i in range(n_customers)], counts)
    start = pd.Timestamp("2022-01-01")
    first = rng.integers(0, 600, size=n_customers)
    offsets = np.repeat(first, counts) + rng.integers(0, 130, size=counts.sum())
    frame = pd.DataFrame(
        {
            "customer_id": customer,
            "order_id": [f"ord{i}" for i in range(counts.sum())],
            "date": start + pd.to_timedelta(offsets, unit="D"),
            "amount": np.round(rng.gamma(2.0, 25.0, size=counts.sum()), 2),
        }
    )
    return frame.sort_values(["date", "customer_id"], ignore_index=True)


@pytest.fixture(scope="session")
def spark_session():
    """A local, single-core Spark session shared by the Spark tests."""
    if os.environ.get("CI"):  # CI runs the Spark tests: a missing pyspark or Java must fail
        import pyspark.sql as pyspark_sql
    else:
        pyspark_sql = pytest.importorskip("pyspark.sql")
        if shutil.which("java") is None:
            pytest.skip("Spark needs Java (apt-get install openjdk-17-jre-headless)")
    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("churnlab-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
