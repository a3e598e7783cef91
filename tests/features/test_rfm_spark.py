"""The RFM expressions run unchanged on Spark (local mode) and agree with DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest

from churnlab.features.rfm import calibration_holdout_split, rfm_summary

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def small_log() -> pd.DataFrame:
    """About 120 purchases by 25 customers, with same-day purchases and times of day."""
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i % 25:02d}" for i in range(120)],
            "date": pd.Timestamp("2023-01-02 08:00")
            + pd.to_timedelta([(i * 37) % 400 + (i % 3) * 0.3 for i in range(120)], unit="D"),
            "amount": [round(5 + (i * 7.31) % 90, 2) for i in range(120)],
        }
    )
    return frame.sort_values("date", ignore_index=True)


@pytest.fixture(scope="module")
def spark_table(spark_session, small_log):
    ibis = pytest.importorskip("ibis")
    backend = ibis.pyspark.connect(spark_session)
    spark_session.createDataFrame(small_log).createOrReplaceTempView("churnlab_rfm_small_log")
    return backend.table("churnlab_rfm_small_log")


@pytest.mark.parametrize("time_unit", ["D", "W", "M"])
def test_spark_summary_equals_duckdb(spark_table, small_log, time_unit):
    kwargs = {"observation_end": "2023-11-15 12:00", "time_unit": time_unit}
    on_spark = rfm_summary(spark_table, **kwargs)
    on_duckdb = rfm_summary(small_log, **kwargs)
    pd.testing.assert_frame_equal(
        on_spark, on_duckdb, check_exact=False, rtol=1e-12, check_index_type=False
    )
    assert on_spark.attrs["time_unit"] == time_unit


def test_spark_calibration_equals_duckdb(spark_table, small_log):
    kwargs = {"calibration_end": "2023-06-30", "time_unit": "W"}
    on_spark = calibration_holdout_split(spark_table, **kwargs)
    on_duckdb = calibration_holdout_split(small_log, **kwargs)
    pd.testing.assert_frame_equal(
        on_spark, on_duckdb, check_exact=False, rtol=1e-12, check_index_type=False
    )
