"""The KPIs from a log that stays in the engine (:mod:`churnlab.kpis` on Ibis and Parquet).

A Parquet path, a glob, a folder, an Ibis table or ``LoadedTransactions`` must give the
same monthly table and KPI record as the pandas DataFrame of the same log, and both must
equal figures computed here the old way, with plain pandas and Python sets.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from churnlab import datasets
from churnlab.data import LoadedTransactions
from churnlab.exceptions import DataValidationError
from churnlab.kpis import active_base_retention, base_kpis

# The hand-worked log of tests/test_kpis.py (a: Jan, Jun; b: Jan; c: Feb, Mar; d: Mar).
PAUSES = pd.DataFrame(
    {
        "customer_id": ["a", "a", "b", "c", "c", "d"],
        "date": pd.to_datetime(
            ["2024-01-05", "2024-06-10", "2024-01-20", "2024-02-03", "2024-03-01", "2024-03-15"]
        ),
        "amount": 10.0,
    }
)
PAUSES_END = pd.Timestamp("2024-07-31")
YEAR = pd.Timedelta(days=365)


def _sources(frame: pd.DataFrame, folder: Path) -> dict[str, object]:
    """The same log as every kind of source the KPIs accept."""
    (folder / "parts").mkdir(parents=True)
    frame.to_parquet(folder / "log.parquet", index=False)
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(folder / "parts" / "a.parquet", index=False)
    frame.iloc[half:].to_parquet(folder / "parts" / "b.parquet", index=False)
    return {
        "path": folder / "log.parquet",
        "glob": str(folder / "parts" / "*.parquet"),
        "folder": folder / "parts",
        "ibis": ibis.duckdb.connect().read_parquet(folder / "log.parquet"),
        "loaded": LoadedTransactions(frame, None, frame.iloc[:0]),  # type: ignore[arg-type]
    }


@pytest.mark.parametrize("kind", ["path", "glob", "folder", "ibis", "loaded"])
def test_every_source_gives_the_hand_worked_pauses_table(tmp_path: Path, kind: str) -> None:
    # The Parquet files hold nanosecond timestamps, on which DuckDB 2.0.1 groups
    # year * 12 + month wrongly unless the dates are cast to microseconds first.
    source = _sources(PAUSES, tmp_path)[kind]
    table = active_base_retention(source, observation_end=PAUSES_END, window_months=3)
    pd.testing.assert_frame_equal(
        table, active_base_retention(PAUSES, observation_end=PAUSES_END, window_months=3)
    )
    # the hand-worked counts of tests/test_kpis.py: Apr-Jul
    assert list(table["customers_start"]) == [4, 2, 2, 1]
    assert list(table["new_customers"]) == [0, 0, 1, 0]  # Jun: a wins back
    assert list(table["retained"]) == [2, 2, 0, 1]


def _reference_retention(log: pd.DataFrame, end: pd.Timestamp, window: int) -> pd.DataFrame:
    """Monthly active-base retention the slow, obvious way: one Python set per month."""
    months = log["date"].dt.to_period("M")
    bought = log.groupby(months)["customer_id"].agg(set)
    first = log.groupby("customer_id")["date"].min().dt.to_period("M").value_counts()
    last = end.to_period("M") if end.day == end.days_in_month else end.to_period("M") - 1
    span = pd.period_range(months.min(), last, freq="M")
    active = {m: set().union(*(bought.get(m - k, set()) for k in range(window))) for m in span}
    rows = []
    for month in span[window:]:
        start, stop = active[month - 1], active[month]
        rows.append(
            {
                "customers_start": len(start),
                "customers_end": len(stop),
                "new_customers": len(stop - start),
                "first_purchases": int(first.get(month, 0)),
                "retained": len(stop & start),
                "retention_rate": len(stop & start) / len(start) if start else np.nan,
            }
        )
    return pd.DataFrame(rows, index=pd.PeriodIndex(span[window:], name="month"))


def _old_log_figures(log: pd.DataFrame, end: pd.Timestamp, horizon: float) -> dict[str, object]:
    """The log's KPIs as the pandas code before the engine route computed them."""
    dates, amount = log["date"], log["amount"]
    last = log.groupby("customer_id")["date"].max()
    active = last > end - pd.Timedelta(days=horizon * 365.2425 / 12)
    before = log[(dates > end - 2 * YEAR) & (dates <= end - YEAR)]
    this_year = log[(dates > end - YEAR) & (dates <= end)]
    returning = this_year[this_year["customer_id"].isin(set(before["customer_id"]))]
    complete = len(before) and before["date"].min() <= end - 2 * YEAR + pd.Timedelta(days=31)
    return {
        "active_customers": int(active.sum()),
        "active_share": round(float(active.mean()), 4),
        "revenue_12m": round(float(amount[dates > end - YEAR].sum()), 2),
        "revenue_retention": (
            round(float(returning["amount"].sum()) / float(before["amount"].sum()), 4)
            if complete
            else None
        ),
    }


@pytest.fixture(scope="module", params=["cdnow", "online_retail", "random"])
def real_log(request: pytest.FixtureRequest, tmp_path_factory) -> tuple[pd.DataFrame, Path]:
    """A log and its Parquet copy: CDNOW, Online Retail and a two-year random log."""
    if request.param == "random":
        frame = request.getfixturevalue("two_year_log")
    else:
        frame = datasets.load_source(request.param).data
    frame = frame[["customer_id", "date", "amount"]]
    path = tmp_path_factory.mktemp(request.param) / "log.parquet"
    frame.to_parquet(path, index=False)
    return frame, path


@pytest.fixture(scope="module")
def two_year_log() -> pd.DataFrame:
    """500 customers, about 3,000 purchases over two years (module-scoped, for real_log)."""
    rng = np.random.default_rng(20240101)
    counts = rng.geometric(0.2, size=500)
    first = rng.integers(0, 600, size=500)
    offsets = np.repeat(first, counts) + rng.integers(0, 130, size=counts.sum())
    return pd.DataFrame(
        {
            "customer_id": np.repeat([f"cust{i:04d}" for i in range(500)], counts),
            "date": pd.Timestamp("2022-01-01") + pd.to_timedelta(offsets, unit="D"),
            "amount": np.round(rng.gamma(2.0, 25.0, size=counts.sum()), 2),
        }
    )


def test_parquet_retention_equals_the_frame_and_the_set_reference(real_log) -> None:
    frame, path = real_log
    end = frame["date"].max()
    from_parquet = active_base_retention(path, observation_end=end)
    from_frame = active_base_retention(frame, observation_end=end)
    pd.testing.assert_frame_equal(from_parquet, from_frame)
    reference = _reference_retention(frame, end, 3)
    pd.testing.assert_frame_equal(
        from_parquet[reference.columns], reference, check_dtype=False, check_freq=False
    )


@pytest.mark.parametrize("horizon", [3, 4.5])
def test_parquet_kpis_equal_the_frame_and_the_old_pandas_figures(real_log, horizon) -> None:
    frame, path = real_log
    end = frame["date"].max()
    customers = pd.DataFrame(
        {"clv": 2.0, "revenue_at_risk": 0.25, "action": pd.NA},
        index=pd.Index(frame["customer_id"].unique(), name="customer_id"),
    )
    kwargs = {"observation_end": end, "churn_horizon_months": horizon}
    from_parquet, monthly = base_kpis(path, customers, **kwargs)
    from_frame, frame_monthly = base_kpis(frame, customers, **kwargs)
    assert from_parquet == from_frame
    pd.testing.assert_frame_equal(monthly, frame_monthly)
    old = _old_log_figures(frame, end, horizon)
    assert {k: from_parquet[k] for k in old} == old
    rates = _reference_retention(frame, end, round(horizon))["retention_rate"].dropna()
    geometric = float(np.exp(np.log(rates.iloc[-12:]).mean()))
    assert from_parquet["monthly_retention"] == round(geometric, 4)
    assert from_parquet["yearly_retention"] == round(geometric**12, 4)


def test_the_random_log_has_a_revenue_retention_to_compare(two_year_log) -> None:
    # CDNOW (18 months) and Online Retail (1 year) have no complete year before the last
    # one; the two-year random log does, so the equality above covers the ratio too.
    figures = _old_log_figures(two_year_log, two_year_log["date"].max(), 3)
    assert figures["revenue_retention"] is not None


def test_money_is_summed_exactly_on_the_engine(tmp_path: Path) -> None:
    # In this order, doubles give (1e15 + 0.3) - 1e15 + 0.3 = 0.55 (1e15 + 0.3 rounds to
    # 1e15 + 0.25); the exact sum, and so the same in any order, is 0.6.
    log = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "date": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]),
            "amount": [1e15, 0.3, -1e15, 0.3],
        }
    )
    assert round((1e15 + 0.3) - 1e15 + 0.3, 2) == 0.55
    log.to_parquet(tmp_path / "log.parquet", index=False)
    customers = pd.DataFrame({"clv": 0.0, "revenue_at_risk": 0.0}, index=log["customer_id"])
    kpis, _ = base_kpis(
        tmp_path / "log.parquet",
        customers,
        observation_end=pd.Timestamp("2024-03-31"),
        churn_horizon_months=3,
    )
    assert kpis["revenue_12m"] == 0.6


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    PAUSES.drop(columns="amount").to_parquet(tmp_path / "log.parquet", index=False)
    customers = pd.DataFrame({"clv": 0.0, "revenue_at_risk": 0.0}, index=["a"])
    with pytest.raises(DataValidationError, match=r"base_kpis needs the column\(s\) 'amount'"):
        base_kpis(
            tmp_path / "log.parquet",
            customers,
            observation_end=PAUSES_END,
            churn_horizon_months=3,
        )
    renamed = PAUSES.rename(columns={"date": "when"})
    with pytest.raises(DataValidationError, match=r"'date' in the transactions, which have"):
        active_base_retention(renamed, observation_end=PAUSES_END)


@pytest.mark.parametrize("as_parquet", [False, True])
def test_an_empty_log_says_so(tmp_path: Path, as_parquet: bool) -> None:
    source: object = PAUSES.iloc[:0]
    if as_parquet:
        PAUSES.iloc[:0].to_parquet(tmp_path / "empty.parquet", index=False)
        source = tmp_path / "empty.parquet"
    with pytest.raises(DataValidationError, match="the transaction log has no purchases"):
        active_base_retention(source, observation_end=PAUSES_END)


@pytest.mark.spark
def test_spark_table_gives_the_duckdb_record(spark_session, two_year_log) -> None:
    backend = ibis.pyspark.connect(spark_session)
    spark_session.createDataFrame(two_year_log).createOrReplaceTempView("kpis_log")
    end = two_year_log["date"].max()
    customers = pd.DataFrame(
        {"clv": 1.0, "revenue_at_risk": 0.5, "action": pd.NA},
        index=pd.Index(two_year_log["customer_id"].unique(), name="customer_id"),
    )
    kwargs = {"observation_end": end, "churn_horizon_months": 3}
    on_spark, spark_monthly = base_kpis(backend.table("kpis_log"), customers, **kwargs)
    on_duckdb, duckdb_monthly = base_kpis(ibis.memtable(two_year_log), customers, **kwargs)
    assert on_spark == on_duckdb
    assert on_spark["revenue_retention"] is not None
    pd.testing.assert_frame_equal(spark_monthly, duckdb_monthly)
