"""The one scoring pass (:mod:`churnlab.scoring`): one table, one KPI record, checked models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnlab.scoring import SCORE_COLUMNS, ScoringSettings, action_list, score


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    # 600 customers over two years; a third stop buying after a few months
    rng = np.random.default_rng(7)
    rows = []
    for c in range(600):
        start = int(rng.integers(0, 300))
        life = int(rng.integers(60, 200)) if c % 3 == 0 else 730
        days = start + np.cumsum(rng.exponential(40, size=30)).astype(int)
        for d in days[(days < start + life) & (days < 730)]:
            rows.append((f"c{c:03d}", pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(d)),
                         round(float(rng.gamma(3, 20)), 2)))  # fmt: skip
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


@pytest.fixture(scope="module")
def result(log: pd.DataFrame):
    return score(log, ScoringSettings(random_state=1, currency="EUR"))


def test_one_row_per_customer_with_every_column(result, log: pd.DataFrame) -> None:
    customers = result.customers
    assert list(customers.columns) == list(SCORE_COLUMNS)
    assert customers.index.name == "customer_id"
    assert len(customers) == log["customer_id"].nunique()
    assert customers["churn_probability"].between(0, 1).all()
    assert (customers["clv"] >= 0).all()
    assert np.allclose(
        customers["revenue_at_risk"], customers["clv"] * customers["churn_probability"]
    )
    assert set(customers["health_tier"]) <= {"Good", "Average", "Poor"}
    chosen = customers["churn_probability"]
    source = result.kpis["churn_probability_source"]
    column = "classifier" if source == "classifier" else "transaction_model"
    assert chosen.equals(customers[f"churn_probability_{column}"].rename("churn_probability"))


def test_kpis_are_computed_from_the_table(result) -> None:
    kpis, customers = result.kpis, result.customers
    assert kpis["customers"] == len(customers)
    assert kpis["expected_value"] == pytest.approx(customers["clv"].sum(), abs=0.01)
    assert kpis["revenue_at_risk"] == pytest.approx(customers["revenue_at_risk"].sum(), abs=0.01)
    assert kpis["customers_to_contact"] == len(action_list(result))
    assert kpis["transaction_model"] in set(result.model_comparison.index)
    assert result.model_comparison.attrs["chosen"] == kpis["transaction_model"]
    assert kpis["currency"] == "EUR" and kpis["caveats"] == result.caveats


def test_the_action_list_is_valuable_quiet_and_at_risk(result) -> None:
    listed = action_list(result)
    assert len(listed) > 0
    customers = result.customers
    assert (listed["churn_probability"] >= 0.3).all()
    spent = customers.loc[listed.index, "total_spend"]
    assert (spent >= customers["total_spend"].quantile(0.75)).all()
    quiet = customers.loc[listed.index]
    gap = quiet["typical_gap_days"].fillna(customers["typical_gap_days"].median())
    assert (quiet["days_since_last_purchase"] > 1.5 * gap).all()
    assert list(listed["revenue_at_risk"]) == sorted(listed["revenue_at_risk"], reverse=True)


def test_same_data_and_seed_give_identical_output(result, log: pd.DataFrame) -> None:
    again = score(
        log.sample(frac=1, random_state=3), ScoringSettings(random_state=1, currency="EUR")
    )
    pd.testing.assert_frame_equal(again.customers, result.customers)
    assert again.kpis == result.kpis


def test_a_degenerate_purchase_model_is_a_caveat_not_a_finding() -> None:
    # Customers who never stop (Poisson purchases until the data ends): BG/NBD finds no
    # evidence of dropout (a -> 0), the shape of Online Retail's fit.
    rng = np.random.default_rng(11)
    rows = [
        (f"c{c:03d}", pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(d)), 25.0)
        for c in range(400)
        for d in np.sort(rng.uniform(0, 720, size=rng.poisson(rng.gamma(2, 4)) + 1))
    ]
    log = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    result = score(log, ScoringSettings(random_state=0))
    chosen = result.models["transaction"]
    if chosen.health_.ok:
        pytest.skip(f"the chosen model {result.kpis['transaction_model']} is healthy here")
    assert result.customers["p_alive"].isna().all()  # not shown as a finding
    assert result.kpis["churn_probability_source"] == "classifier"
    assert any("no purchase model fits" in c.lower() or "dropout" in c.lower() or
               "stop buying" in c.lower() for c in result.caveats)  # fmt: skip


def test_a_parquet_path_gives_the_same_scores(result, log: pd.DataFrame, tmp_path) -> None:
    path = tmp_path / "log.parquet"
    log.sample(frac=1, random_state=5).to_parquet(path)
    from_file = score(str(path), ScoringSettings(random_state=1, currency="EUR"))
    pd.testing.assert_frame_equal(
        from_file.customers, result.customers, check_exact=False, rtol=1e-9
    )
    assert from_file.kpis == result.kpis
    pd.testing.assert_frame_equal(from_file.monthly_retention, result.monthly_retention)
    assert from_file.transactions is None  # queried where it lies, never loaded into pandas


def test_gaps_are_whole_days_from_the_purchase_days(result, log: pd.DataFrame) -> None:
    # reference: plain pandas on the log (distinct purchase days per customer)
    days = log.assign(day=log["date"].dt.normalize()).drop_duplicates(["customer_id", "day"])
    grouped = days.groupby("customer_id")["day"]
    first, last, n = grouped.min(), grouped.max(), grouped.size()
    now = log["date"].max().normalize() + pd.Timedelta(days=1)
    customers = result.customers
    np.testing.assert_array_equal(
        customers["days_since_last_purchase"], (now - last).dt.days.loc[customers.index]
    )
    typical = ((last - first).dt.days / (n - 1)).where(n > 1).loc[customers.index]
    # aggregates keep 12 significant digits (churnlab.engine.settle_floats)
    np.testing.assert_allclose(customers["typical_gap_days"], typical, rtol=1e-11)
    spend = log.groupby("customer_id")["amount"].sum().loc[customers.index]
    np.testing.assert_allclose(customers["total_spend"], spend, rtol=1e-12)


def test_every_stage_is_timed(result) -> None:
    stages = {"load", "rfm", "model_choice", "classifier", "backtest", "reasons", "kpis"}
    assert stages <= set(result.timings)
    assert all(seconds >= 0 for seconds in result.timings.values())


def test_money_in_the_reasons_is_in_the_runs_currency(result) -> None:
    reasons = result.customers[["reason_1", "reason_2", "reason_3"]].stack().dropna()
    with_money = reasons[reasons.str.contains(r"\d\.\d\d\b", regex=True)]  # amounts have cents
    assert len(with_money) > 0
    assert with_money.str.contains("€").all(), with_money[~with_money.str.contains("€")].head()
