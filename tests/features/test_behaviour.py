import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.features.behaviour import (
    FEATURE_DESCRIPTIONS,
    behaviour_features,
    returns_from_dropped,
)
from churnlab.features.behaviour_transformer import BehaviourFeatures


def test_known_values_on_tiny_log(tiny_transactions):
    # hand-computed from the fixture: a buys 2024-01-01, 01-15, 02-20 (10 + 20 + 30)
    f = behaviour_features(tiny_transactions, cutoff="2024-03-01", time_unit="D")
    a = f.loc["a"]
    assert a["n_orders"] == 3
    assert a["total_spend"] == pytest.approx(60.0)
    assert a["days_since_last"] == pytest.approx(10.0)
    assert a["tenure_days"] == pytest.approx(60.0)  # 31 days of January + 29 of February
    assert a["ipt_mean_days"] == pytest.approx(25.0)  # gaps 14 and 36
    assert a["ipt_std_days"] == pytest.approx(np.sqrt(242.0))
    assert a["gap_ratio"] == pytest.approx(0.4)
    assert a["frequency"] == 2 and a["recency"] == 50 and a["T"] == 60
    # d buys only after the cutoff, c's first purchase is before it
    assert "d" not in f.index and set(f.index) == {"a", "b", "c"}
    assert set(f.columns) <= set(FEATURE_DESCRIPTIONS)


def test_same_day_orders_and_trend(tiny_transactions):
    # c: two orders on 02-01, then 03-05 and 03-20; windows of one month before 04-01
    f = behaviour_features(
        tiny_transactions, cutoff="2024-04-01", time_unit="D", trend_periods=1, trend_unit="M"
    )
    c = f.loc["c"]
    assert c["n_orders"] == 4
    assert c["frequency"] == 2  # purchase days after the first
    assert c["ipt_mean_days"] == pytest.approx(24.0)  # gaps 33 and 15
    assert c["orders_last"] == 2 and c["orders_prev"] == 2
    assert c["orders_change_pct"] == pytest.approx(0.0)
    assert c["spend_last"] == pytest.approx(44.0) and c["spend_prev"] == pytest.approx(20.0)
    assert c["spend_change_pct"] == pytest.approx(120.0)
    # a: nothing in the last month, one order the month before -> -100%
    assert f.loc["a", "orders_change_pct"] == pytest.approx(-100.0)


def test_purchases_after_cutoff_change_nothing(random_transactions):
    cutoff = pd.Timestamp("2023-01-01")
    before = behaviour_features(random_transactions, cutoff=cutoff)
    later = random_transactions.copy()
    after = later["date"] >= cutoff
    later.loc[after, "amount"] *= 7.0  # alter every post-cutoff purchase
    extra = pd.DataFrame(
        {
            "customer_id": ["cust0001", "newbie", "cust0002"],
            "order_id": ["x1", "x2", "x3"],
            "date": [cutoff, cutoff + pd.Timedelta(days=3), cutoff + pd.Timedelta(hours=1)],
            "amount": [999.0, 5.0, 1.0],
        }
    )
    changed = behaviour_features(pd.concat([later, extra], ignore_index=True), cutoff=cutoff)
    pd.testing.assert_frame_equal(before, changed)


def test_product_and_returns_features(tiny_transactions):
    log = tiny_transactions.assign(
        quantity=[1.0, 2, 3, 1, 1, 2, 2, 1, 1, 5], product_id=list("pqrppqqrst")
    )
    returns = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "order_id": ["r1", "r2"],
            "date": pd.to_datetime(["2024-02-21", "2024-03-10"]),
            "amount": [-15.0, -100.0],
        }
    )
    f = behaviour_features(log, cutoff="2024-03-01", returns=returns)
    assert f.loc["a", "returns_share"] == pytest.approx(15 / 75)  # the 03-10 return is later
    assert f.loc["b", "returns_share"] == 0.0
    assert f.loc["a", "n_products"] == 3 and f.loc["a", "product_diversity"] == 1.0
    assert f.loc["a", "avg_basket_items"] == pytest.approx(2.0)


def test_returns_from_dropped():
    dropped = pd.DataFrame(
        {
            "customer_id": ["a", None, "b"],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "amount": [-5.0, -1.0, 0.0],
            "drop_reason": ["cancellation", "cancellation", "zero_amount"],
        }
    )
    assert list(returns_from_dropped(dropped)["customer_id"]) == ["a"]
    assert len(returns_from_dropped(dropped, reasons=["zero_amount"])) == 1


def test_transformer_pandas_output(tiny_transactions):
    transformer = BehaviourFeatures(cutoff="2024-03-01").set_output(transform="pandas")
    out = transformer.fit_transform(tiny_transactions)
    assert list(out.columns) == list(transformer.get_feature_names_out())
    assert out.index.name == "customer_id"
    # cutoff=None uses the day after the last purchase: every customer appears
    assert len(BehaviourFeatures().fit_transform(tiny_transactions)) == 4


def test_transformer_not_fitted(tiny_transactions):
    with pytest.raises(Exception, match="not fitted"):
        BehaviourFeatures().transform(tiny_transactions)


def test_errors(tiny_transactions):
    with pytest.raises(ConfigError, match="is not a date"):
        behaviour_features(tiny_transactions, cutoff="not a date")
    with pytest.raises(ConfigError, match="not a known time unit"):
        behaviour_features(tiny_transactions, cutoff="2024-03-01", time_unit="Y")
    with pytest.raises(ConfigError, match="trend_periods"):
        behaviour_features(tiny_transactions, cutoff="2024-03-01", trend_periods=0)
    with pytest.raises(DataValidationError, match="No purchase happens before cutoff"):
        behaviour_features(tiny_transactions, cutoff="2020-01-01")
    with pytest.raises(DataValidationError, match="needs column"):
        behaviour_features(tiny_transactions.drop(columns="amount"), cutoff="2024-03-01")


@pytest.mark.spark
def test_spark_equals_duckdb(spark_session, tiny_transactions):
    ibis = pytest.importorskip("ibis")
    from churnlab.classifier.pipeline import churn_labels
    from churnlab.retention import cohort_matrix

    spark_session.createDataFrame(tiny_transactions).createOrReplaceTempView("churnlab_behaviour")
    table = ibis.pyspark.connect(spark_session).table("churnlab_behaviour")
    options = {"cutoff": "2024-03-10", "time_unit": "D", "trend_periods": 1}
    pd.testing.assert_frame_equal(
        behaviour_features(table, **options),
        behaviour_features(tiny_transactions, **options),
        check_exact=False,
        rtol=1e-9,
    )
    pd.testing.assert_series_equal(
        churn_labels(table, cutoff="2024-02-01", horizon=20, horizon_unit="D"),
        churn_labels(tiny_transactions, cutoff="2024-02-01", horizon=20, horizon_unit="D"),
    )
    pd.testing.assert_frame_equal(
        cohort_matrix(table), cohort_matrix(tiny_transactions), check_dtype=False
    )
