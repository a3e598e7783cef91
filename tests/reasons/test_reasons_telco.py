"""Telco facts reproduced by the churn record and analyses (see data/README.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from churnlab.exceptions import ConfigError
from churnlab.reasons import (
    addressable_mapping,
    addressable_share,
    churn_record,
    engagement_by_reason,
    evidence_note,
    reason_associations,
    reason_crosstab,
    reason_differences,
    reason_distribution,
    reason_summary,
    recommendations,
    usage_by_band,
    value_lost_by_reason,
)

CATEGORY_COUNTS = {
    "Competitor": 841,
    "Attitude": 314,
    "Dissatisfaction": 303,
    "Price": 211,
    "Other": 200,
}


def test_one_record_per_churned_customer(telco, telco_records):
    assert len(telco_records) == 1869 == int(telco["churned"].sum())
    assert telco_records.index.is_unique
    assert (telco_records["evidence"] == "stated reason").all()
    assert telco_records["tenure_months"].between(1, 72).all()
    assert telco_records["clv_lost"].between(2003, 6500).all()
    assert set(telco_records["segment"]) == {"Fiber Optic", "Cable", "DSL", "No internet"}
    assert telco_records.attrs["has_log"] is False
    assert "Telco" not in evidence_note(telco_records)
    assert evidence_note(telco_records).startswith("All 1,869 reasons are stated")


def test_category_counts_and_wilson_intervals(telco_records):
    dist = reason_distribution(telco_records)
    assert dist["customers"].to_dict() == CATEGORY_COUNTS
    assert dist["share"].sum() == pytest.approx(1.0)
    ref = stats.binomtest(841, 1869).proportion_ci(method="wilson")
    assert dist.loc["Competitor", "share_lower"] == pytest.approx(ref.low)
    assert dist.loc["Competitor", "share_upper"] == pytest.approx(ref.high)


def test_detailed_reasons(telco_records):
    dist = reason_distribution(telco_records, by="reason")
    assert len(dist) == 20
    assert dist.loc["Competitor had better devices", "customers"] == 313
    assert dist.loc["Attitude of support person", "category"] == "Attitude"
    assert dist.loc["Don't know", "customers"] == 130


def test_revenue_lost_sums_to_churned_revenue(telco, telco_records):
    total = telco.loc[telco["churned"], "Total Revenue"].sum()
    for by in ("category", "reason"):
        value = value_lost_by_reason(telco_records, by=by)
        assert value["revenue_lost"].sum() == pytest.approx(total)
        assert value["clv_lost"].sum() == pytest.approx(telco.loc[telco["churned"], "CLTV"].sum())
    value = value_lost_by_reason(telco_records)
    assert value.index[0] == "Competitor"
    assert value.loc["Competitor", "revenue_lost"] == pytest.approx(1694413.15)
    assert value["addressable"].to_dict() == {
        "Competitor": True,
        "Dissatisfaction": True,
        "Attitude": True,
        "Price": True,
        "Other": False,
    }


def test_addressable_share_and_editable_mapping(telco_records):
    share = addressable_share(telco_records)
    # all but Other's Deceased (6), Don't know (130), Moved (46): 1869 - 182
    assert share["customers_addressable"] == 1869 - 182
    edited = addressable_mapping({"Network reliability": False})
    assert addressable_share(telco_records, mapping=edited)["customers_addressable"] == 1687 - 72


def test_associations_are_corrected_and_match_scipy(telco_records):
    assoc = reason_associations(telco_records)
    assert list(assoc.index) == [
        "tenure_band",
        "contract",
        "segment",
        "value_tier",
        "satisfaction_band",
    ]
    table = pd.crosstab(telco_records["category"], telco_records["contract"])
    _, p, _, _ = stats.chi2_contingency(table, correction=False)
    assert assoc.loc["contract", "p_value"] == pytest.approx(p)
    np.testing.assert_allclose(assoc["p_adjusted"], stats.false_discovery_control(assoc["p_value"]))
    assert assoc.loc["segment", "significant"]
    assert not assoc.loc["contract", "significant"]
    holm = reason_associations(telco_records, correction="holm")
    assert (holm["p_adjusted"] >= assoc["p_adjusted"] - 1e-12).all()


def test_only_surviving_differences_are_listed(telco_records):
    assoc = reason_associations(telco_records)
    diffs = reason_differences(telco_records, associations=assoc)
    assert set(diffs["factor"]) <= set(assoc.index[assoc["significant"]])
    top = diffs.iloc[0]
    assert (top["factor"], top["level"], top["reason"]) == ("segment", "No internet", "Price")
    shares = reason_crosstab(telco_records, "segment")
    assert top["share_in_group"] == pytest.approx(shares.loc["Price", "No internet"])
    assert shares.sum().to_numpy() == pytest.approx(1.0)


def test_reason_summary_and_recommendations(telco_records):
    summary = reason_summary(telco_records)
    assert summary["customers_lost"].sum() == 1869
    assert summary.loc["Other", "addressable"] == "no"
    assert (summary["trend"] == "n/a (no churn dates)").all()
    assert summary.loc["Price", "most_affected_segment"] == (
        "No internet (2.9x its overall share; significant)"
    )
    assert summary.loc["Competitor", "most_affected_segment"].endswith("; not significant)")
    recs = recommendations(telco_records)
    assert len(recs) == 3
    assert "'Competitor': 841 of 1,869" in recs[0]
    assert "Internet Type is 'No internet': 'Price' explains 33%" in recs[1]
    assert "Benjamini-Hochberg" in recs[1]
    assert recs[2].startswith("Strengthen onboarding: 55% of churned customers (1,037)")
    # without the onboarding trigger the third names the most valuable addressable reason
    fallback = recommendations(telco_records, early_share=1.0)
    assert fallback[2].startswith("Protect high-value customers from 'Price too high': the 78")


def test_snapshot_engagement_substitute(telco_records):
    assert engagement_by_reason(telco_records).empty
    assert "No transaction log" in engagement_by_reason(telco_records).attrs["note"]
    usage = usage_by_band(telco_records)
    assert usage["customers"].sum() == 1869
    assert usage.loc[("Price", "0-12 months"), "customers"] == 115


def test_unknown_preset_and_field(telco):
    with pytest.raises(ConfigError, match="columns='ibm' is not a known preset"):
        churn_record(telco, columns="ibm")
    with pytest.raises(ConfigError, match="unknown record field"):
        churn_record(telco, columns={"why": "Churn Reason"})
    with pytest.raises(ConfigError, match="needs customers="):
        churn_record()


def test_analysis_argument_errors(telco_records):
    from churnlab.exceptions import DataValidationError

    with pytest.raises(ConfigError, match="by must be 'category' or 'reason', got 'why'"):
        reason_distribution(telco_records, by="why")
    with pytest.raises(DataValidationError, match=r"reason_associations needs column\(s\) 'plan'"):
        reason_associations(telco_records, factors=["plan"])
    with pytest.raises(ConfigError, match="correction method 'bonferroni' is unknown"):
        reason_associations(telco_records, correction="bonferroni")
