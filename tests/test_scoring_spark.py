"""The scoring pass on Spark (:mod:`churnlab.scoring_spark`) gives DuckDB's scores table."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import DataValidationError
from churnlab.scoring import SCORE_COLUMNS, ScoringSettings, score
from churnlab.scoring_spark import score_spark

pytestmark = pytest.mark.spark

# mapInPandas runs the scoring in Python workers; they must use this interpreter (with
# churnlab and pandas), set before the session fixture starts Spark
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

SETTINGS = ScoringSettings(random_state=3)


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    # 240 customers over two years; a third stop buying after a few months
    rng = np.random.default_rng(11)
    rows = []
    for c in range(240):
        start = int(rng.integers(0, 300))
        life = int(rng.integers(60, 200)) if c % 3 == 0 else 730
        days = start + np.cumsum(rng.exponential(35, size=30))
        for d in days[(days < start + life) & (days < 730)]:
            stamp = pd.Timestamp("2022-01-01") + pd.Timedelta(days=float(d))
            rows.append((f"c{c:03d}", stamp.floor("s"), round(float(rng.gamma(3, 20)), 2)))
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    return frame


@pytest.fixture(scope="module")
def both(spark_session, log: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    on_duckdb = score(log, SETTINGS).customers
    spark_log = spark_session.createDataFrame(log)
    on_spark = score_spark(spark_log, SETTINGS).toPandas().set_index("customer_id")
    return on_duckdb, on_spark.sort_index()


def test_spark_and_duckdb_give_the_same_scores(both) -> None:
    on_duckdb, on_spark = both
    assert list(on_spark.columns) == list(SCORE_COLUMNS)
    assert list(on_spark.index) == list(on_duckdb.index)
    for column in SCORE_COLUMNS:
        ours, theirs = on_spark[column], on_duckdb[column]
        if pd.api.types.is_numeric_dtype(theirs):
            np.testing.assert_allclose(
                ours.to_numpy(dtype=float), theirs.to_numpy(dtype=float),
                rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=column,
            )  # fmt: skip
        else:
            expected = theirs.astype("object").where(theirs.notna(), None).tolist()
            got = ours.astype("object").where(ours.notna(), None).tolist()
            assert got == expected, column


def test_the_scores_are_not_trivial(both) -> None:
    on_duckdb, _ = both
    assert on_duckdb["reason_1"].notna().any()
    assert on_duckdb["churn_probability"].std() > 0.01
    assert on_duckdb["segment"].nunique() > 3


def test_pandas_input_is_refused_with_the_fix() -> None:
    with pytest.raises(DataValidationError, match="Spark DataFrame or an Ibis table"):
        score_spark(pd.DataFrame({"customer_id": ["a"]}))
