"""What keeps the scoring pass bounded on a large base: the training sample and reasons at risk."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from churnlab import scoring
from churnlab.classifier.drivers import customer_reasons
from churnlab.engine import as_table, execute
from churnlab.report import model_pages, narrative
from churnlab.scoring import ScoringSettings, at_risk_reasons, score, training_log


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    # 900 customers with integer ids over two years; a third stop buying early
    rng = np.random.default_rng(11)
    rows = []
    for c in range(900):
        start = int(rng.integers(0, 300))
        life = int(rng.integers(60, 200)) if c % 3 == 0 else 730
        days = start + np.cumsum(rng.exponential(35, size=30)).astype(int)
        for d in days[(days < start + life) & (days < 730)]:
            rows.append((c, pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(d)),
                         round(float(rng.gamma(3, 20)), 2)))  # fmt: skip
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


def test_a_small_base_trains_on_every_customer(log: pd.DataFrame) -> None:
    table = as_table(log)
    customers = pd.Index(log["customer_id"].astype(str).unique())
    assert training_log(table, customers, ScoringSettings()) is table


def test_a_large_base_trains_on_whole_histories_of_a_sample(log: pd.DataFrame) -> None:
    customers = pd.Index(sorted(log["customer_id"].astype(str).unique()))
    settings = ScoringSettings(training_customers=300, random_state=5)
    sample = execute(training_log(as_table(log), customers, settings))
    assert sample["customer_id"].nunique() == 300
    # every purchase of a sampled customer, nothing else (integer ids survive the join)
    chosen = log[log["customer_id"].isin(sample["customer_id"].unique())]
    key = ["customer_id", "date", "amount"]
    pd.testing.assert_frame_equal(
        sample[key].sort_values(key).reset_index(drop=True),
        chosen[key].sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
    again = execute(training_log(as_table(log), customers, settings))
    assert set(again["customer_id"]) == set(sample["customer_id"])  # same seed, same sample


def test_the_sample_ends_where_the_log_does(log: pd.DataFrame) -> None:
    # one customer alone buys in the last month; a small sample would miss them by chance
    late = pd.DataFrame(
        {"customer_id": [5000], "date": [pd.Timestamp("2024-02-15")], "amount": 9.0}
    )
    longer = pd.concat([log, late], ignore_index=True)
    customers = pd.Index(sorted(longer["customer_id"].astype(str).unique()))
    for seed in range(5):
        settings = ScoringSettings(training_customers=50, random_state=seed)
        sample = execute(training_log(as_table(longer), customers, settings))
        assert sample["customer_id"].nunique() == 50
        assert sample["date"].max() == pd.Timestamp("2024-02-15")


@pytest.fixture(scope="module")
def sampled(log: pd.DataFrame):
    return score(log, ScoringSettings(training_customers=400, random_state=2))


def test_the_sampled_pass_scores_every_customer(sampled, log: pd.DataFrame) -> None:
    customers = sampled.customers
    assert len(customers) == log["customer_id"].nunique()
    assert customers["churn_probability_classifier"].notna().all()
    training = sampled.models["scoring"].train_features
    assert training.index.get_level_values("customer_id").nunique() <= 400
    backtest = sampled.models["backtest"]
    assert backtest.test_features.index.nunique() <= 400


def test_the_purchase_models_are_compared_on_the_sample(sampled) -> None:
    calibration = sampled.models["calibration"]
    compared = calibration["transactions"]["customer_id"].astype(str).unique()
    assert len(compared) == 400
    assert set(calibration["split"].index.astype(str)) <= set(compared)
    # the chosen model is refitted on every customer
    assert sampled.models["transaction"].n_customers_ == len(sampled.customers)
    text = narrative.model_choice_text(sampled).data
    base = len(sampled.customers)  # the customers with a purchase in the log
    assert f"random sample of 400 of the {base:,} customers" in text, text
    tracking = model_pages.holdout(sampled).tracking
    # the tracking curve follows the compared customers: their repeat purchases, not the base's
    assert tracking["actual"].iloc[-1] < 0.6 * (sampled.customers["frequency"].sum())


def test_reasons_are_given_to_customers_at_risk_only(sampled) -> None:
    customers = sampled.customers
    threshold = sampled.settings.min_churn_probability
    safe = customers["churn_probability"] < threshold
    assert safe.any() and (~safe).any()
    assert customers.loc[safe, ["reason_1", "reason_2", "reason_3"]].isna().all().all()
    assert customers.loc[~safe, "reason_1"].notna().mean() > 0.5


def test_at_risk_reasons_are_the_reasons_of_those_customers(sampled) -> None:
    scored = sampled.models["scoring"]
    features = scored.features.reindex(columns=scored.train_features.columns)
    retained = scored.train_features[~scored.train_labels.to_numpy(dtype=bool)]
    risk = pd.Series(np.linspace(0, 1, len(features)), index=features.index)
    reasons = at_risk_reasons(
        scored.classifier, features, risk, reference=retained, min_churn_probability=0.5
    )
    at_risk = features[risk >= 0.5]
    expected = customer_reasons(scored.classifier, at_risk, reference=retained)
    for column in ("reason_1", "reason_2", "reason_3"):
        shown = reasons.loc[at_risk.index, column].fillna("")
        assert list(shown) == list(expected[column])
        assert reasons.loc[risk < 0.5, column].isna().all()


def test_the_backtest_beside_the_classifier_changes_nothing(
    sampled, log: pd.DataFrame, monkeypatch
) -> None:
    # with a sample, the backtest runs in a worker thread on a DuckDB connection of its
    # own; one stage after the other it gives the same tables
    beside = scoring._beside
    calls = []

    def one_after_the_other(concurrent, *args, **kwargs):
        calls.append(concurrent)
        return beside(False, *args, **kwargs)

    monkeypatch.setattr(scoring, "_beside", one_after_the_other)
    serial = score(log, ScoringSettings(training_customers=400, random_state=2))
    assert calls == [True]  # the sampled pass asks for a worker thread
    pd.testing.assert_frame_equal(serial.customers, sampled.customers)
    pd.testing.assert_frame_equal(serial.churn_comparison, sampled.churn_comparison)
    assert serial.caveats == sampled.caveats
    assert serial.kpis == sampled.kpis


def test_the_pass_leaves_threads_and_warning_filters_as_it_found_them(
    log: pd.DataFrame,
) -> None:
    before = ([(i["user_api"], i["num_threads"]) for i in threadpool_info()], warnings.filters[:])
    score(log, ScoringSettings(training_customers=400, random_state=3))
    after = ([(i["user_api"], i["num_threads"]) for i in threadpool_info()], warnings.filters[:])
    assert after == before
