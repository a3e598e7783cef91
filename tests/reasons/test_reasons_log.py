"""Churn records from a transaction log joined to a reasons table; classifier drivers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.reasons import (
    UNKNOWN_REASON,
    churn_record,
    driver_reasons,
    engagement_by_reason,
    engagement_trajectories,
    evidence_note,
    load_churn_reasons,
    period_activity,
    reason_summary,
    recommendations,
    value_lost_by_reason,
)


@pytest.fixture
def log_reasons():
    frame = pd.DataFrame(
        {
            "id": ["F", "S", "N"],
            "date": ["2024-07-01", "2024-07-01", "2024-06-20"],
            "why": ["Price", "Service", "Price"],
        }
    )
    return load_churn_reasons(frame, customer_id="id", churn_date="date", category="why")


def test_record_from_log(churn_log, log_reasons):
    rec = churn_record(reasons=log_reasons, transactions=churn_log)
    assert sorted(rec.index) == ["F", "N", "S"]
    # F: 100+80+60+40+20+10; S's purchase after its churn date is not revenue to date
    assert rec.loc["F", "revenue_to_date"] == 310.0
    assert rec.loc["S", "revenue_to_date"] == 300.0
    assert rec.loc["N", "revenue_to_date"] == 45.0
    days = (pd.Timestamp("2024-07-01") - pd.Timestamp("2024-01-10")).days
    assert rec.loc["F", "tenure_months"] == pytest.approx(days / 30.436875)
    assert rec.loc["F", "engagement_pattern"] == "fading"
    assert rec.loc["S", "engagement_pattern"] == "sudden"
    assert rec.loc["S", "engagement_trend"] == pytest.approx(0.0)
    # F's slope is -18 per month on a mean of 51.67
    assert rec.loc["F", "engagement_trend"] == pytest.approx(
        np.polyfit(range(6), [100, 80, 60, 40, 20, 10], 1)[0] / (310 / 6)
    )
    assert rec.attrs["has_log"] and rec.attrs["purchases_after_churn_date"] == 1
    assert (rec["segment"] == "Unsegmented").all()


def test_period_activity_marks_periods_before_first_purchase(churn_log, log_reasons):
    ends = log_reasons.data["churn_date"]
    spend, orders = period_activity(churn_log, ends)
    assert spend.loc["F"].tolist() == [100, 80, 60, 40, 20, 10]
    assert spend.loc["N"].isna().tolist() == [True] * 4 + [False] * 2
    assert orders.loc["S"].sum() == 6
    with pytest.raises(ConfigError, match="time_unit='Q' is not a known time unit"):
        period_activity(churn_log, ends, time_unit="Q")
    with pytest.raises(ConfigError, match="n_periods must be at least 2"):
        period_activity(churn_log, ends, n_periods=1)


def test_trajectories_and_patterns(churn_log, log_reasons):
    rec = churn_record(reasons=log_reasons, transactions=churn_log)
    traj = engagement_trajectories(churn_log, rec)
    service = traj[traj["category"] == "Service"]
    assert service["mean_spend"].tolist() == [50.0] * 6
    assert service["spend_index"].tolist() == pytest.approx([1.0] * 6)
    price = traj[traj["category"] == "Price"].set_index("periods_before_churn")
    assert price.loc[-6, "customers"] == 1 and price.loc[-1, "customers"] == 2
    assert price.loc[-1, "mean_spend"] == pytest.approx((10 + 25) / 2)
    patterns = engagement_by_reason(rec)
    assert patterns.loc["Service", "share_sudden"] == 1.0
    assert patterns.loc["Price", "share_fading"] == 0.5


def test_customers_without_records_are_unknown_and_summary_has_trend(churn_log, log_reasons):
    customers = pd.DataFrame(
        {"churned": [True, True, True, False, True]},
        index=pd.Index(["F", "S", "N", "X", "Q"], name="customer_id"),
    )
    segments = pd.Series({"F": "At risk", "S": "Champions", "N": "New", "X": "Loyal"})
    clv = pd.DataFrame({"clv": [500.0, 900.0, 50.0]}, index=["F", "S", "N"])
    rec = churn_record(
        customers, reasons=log_reasons, transactions=churn_log, segments=segments, clv=clv
    )
    assert len(rec) == 4  # Q churned without a record or purchases: kept
    assert rec.loc["Q", "category"] == UNKNOWN_REASON
    assert rec.loc["Q", "engagement_pattern"] == "n/a"
    assert rec.loc["Q", "segment"] == "Unsegmented"
    assert rec.loc["S", "clv_lost"] == 900.0
    assert rec.attrs["value_tier_basis"] == "clv_lost"
    summary = reason_summary(rec, min_customers=1)
    assert summary.loc["Price", "trend"] == "flat (1 in 2024-07 vs 1 in 2024-06)"
    assert summary.loc["Service", "trend"].startswith("new (1 in 2024-07")
    assert summary.loc[UNKNOWN_REASON, "addressable"] == "no"
    assert value_lost_by_reason(rec)["revenue_lost"].sum() == 310 + 300 + 45
    assert "1 have no evidence" in evidence_note(rec)
    recs = recommendations(rec, min_customers=1)
    assert any("have no stated reason" in r for r in recs)


def test_log_without_matching_customers(churn_log):
    reasons = load_churn_reasons(
        pd.DataFrame({"id": ["A1"], "why": ["Price"]}), customer_id="id", category="why"
    )
    with pytest.raises(DataValidationError, match="none of the 1 churned customers has a"):
        churn_record(reasons=reasons, transactions=churn_log)


def test_drivers_stand_in_for_missing_reasons():
    customers = pd.DataFrame(
        {"churned": [True, True, True], "Why": ["Price", "", None]},
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    # layout of churnlab.classifier.drivers.customer_reasons
    drivers = pd.DataFrame(
        {
            "churn_probability": [0.9, 0.8, 0.7],
            "reason_1": ["x", "orders dropped 50% vs the previous period", ""],
            "feature_1": ["spend_last", "orders_change_pct", ""],
            "effect_1": [0.2, 0.3, np.nan],
        },
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    rec = churn_record(customers, columns={"category": "Why"}, drivers=drivers)
    assert rec["evidence"].tolist() == ["stated reason", "classifier driver", "none"]
    assert rec.loc["b", "category"] == "Buying less than before"  # a plain theme, not a column
    assert rec.loc["b", "reason"] == "orders dropped 50% vs the previous period"
    assert rec.loc["c", "category"] == UNKNOWN_REASON
    note = evidence_note(rec)
    assert "1 of 3 reasons are stated" in note and "1 are the churn classifier's top driver" in note


def test_driver_layouts():
    wide = pd.DataFrame(
        {"num__tenure": [0.1, -0.2], "cat__contract": [0.3, -0.1]},
        index=pd.Index(["a", "b"], name="customer_id"),
    )
    out = driver_reasons(wide)
    assert out.index.tolist() == ["a"]  # b has no positive contribution
    assert out.loc["a", "category"] == "Contract"
    long = wide.stack().rename("contribution").rename_axis(["customer_id", "feature"])
    pd.testing.assert_frame_equal(driver_reasons(long.reset_index()), out)
    with pytest.raises(DataValidationError, match="expects numeric feature contributions"):
        driver_reasons(pd.DataFrame({"x": ["a"]}))
    with pytest.raises(DataValidationError, match="needs a 'customer_id' column"):
        driver_reasons(pd.DataFrame({"feature": ["x"], "contribution": [1.0]}))
