"""Memo texts and the notebook entry point, built from computed results."""

from __future__ import annotations

import pandas as pd
import pytest

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.reasons import (
    addressable_text,
    churn_record,
    comment_overview,
    engagement_overview,
    headline,
    load_churn_reasons,
    records_for_source,
)


def test_headline_and_addressable_text(telco_records):
    text = headline(telco_records)
    assert text.startswith("**1,869 customers churned**, taking 3.68M of revenue to date")
    assert "7.76M of lifetime value" in text and "**Competitor**: 841 customers (45%)" in text
    text = addressable_text(telco_records)
    assert "**90% of churned customers** (1,687 of 1,869)" in text
    assert "unknown reasons are not counted" in text


def test_memo_money_is_in_the_run_currency(telco_records):
    assert "taking €3.68M of revenue to date" in headline(telco_records, currency="EUR")
    assert "They took SEK " in addressable_text(telco_records, currency="SEK")


def test_engagement_overview_snapshot_and_log(telco_records, churn_log):
    table, note = engagement_overview(telco_records)
    assert "snapshot without a transaction log" in note
    assert list(table.columns) == ["customers", "gb_download", "monthly_charge"]
    reasons = load_churn_reasons(
        pd.DataFrame({"id": ["F", "S"], "d": ["2024-07-01"] * 2, "why": ["Price", "Service"]}),
        customer_id="id",
        churn_date="d",
        category="why",
    )
    rec = churn_record(reasons=reasons, transactions=churn_log)
    table, note = engagement_overview(rec, churn_log, n_periods=6)
    assert set(table["category"]) == {"Price", "Service"}
    assert "Too few customers with history" in note  # fewer than 5 per reason


def test_comment_overview(comments, telco_records):
    themes, note = comment_overview(telco_records)
    assert themes.empty and note.startswith("This data has 0 free-text comments")
    records = pd.DataFrame({"comment": comments})
    themes, note = comment_overview(records, n_themes=4)
    assert len(themes) == 4 and "29 comments" in note


def test_records_for_source_telco_sample():
    source = records_for_source("telco", sample_customers=300, random_state=1)
    assert source.transactions is None
    assert source.description.startswith("IBM Telco snapshot: 300 customers")
    assert len(source.records) == int(source.description.split(", ")[1].split()[0])


def test_records_for_source_log_with_reasons(churn_log, tmp_path):
    log = tmp_path / "log.csv"
    churn_log.to_csv(log, index=False)
    reasons = tmp_path / "reasons.csv"
    pd.DataFrame(
        {"customer_id": ["F", "S"], "churn_date": ["2024-07-01"] * 2, "category": ["a", "b"]}
    ).to_csv(reasons, index=False)
    source = records_for_source(log, reasons_source=reasons)
    assert sorted(source.records.index) == ["F", "S"]
    assert source.records.attrs["has_log"]
    assert "2 records kept of 2" in source.description


def test_records_for_source_bad_reasons(churn_log, tmp_path):
    log = tmp_path / "log.csv"
    churn_log.to_csv(log, index=False)
    reasons = tmp_path / "reasons.csv"
    pd.DataFrame({"who": ["F"], "category": ["a"]}).to_csv(reasons, index=False)
    with pytest.raises(DataValidationError, match=r"needs column\(s\) 'customer_id'"):
        records_for_source(log, reasons_source=reasons)
    pd.DataFrame({"customer_id": ["F"], "why": ["a"]}).to_csv(reasons, index=False)
    with pytest.raises(ConfigError, match="at least one of category=, reason= or comment="):
        records_for_source(log, reasons_source=reasons)
    with pytest.raises(ConfigError, match="pass reasons_columns="):
        records_for_source(log, reasons_source=tmp_path / "reasons.parquet")


def test_texts_without_revenue_or_dates():
    loaded = load_churn_reasons(
        pd.DataFrame({"id": list("abcd"), "why": ["Price", "Price", "Moved", "Price"]}),
        customer_id="id",
        category="why",
    )
    rec = churn_record(reasons=loaded)
    assert "value lost is not known" in headline(rec)
    assert "most common reason is **Price**: 3 customers (75%)" in headline(rec)
    text = addressable_text(rec)
    assert text.startswith("**75% of churned customers** (3 of 4)") and ".." not in text
    from churnlab.reasons import recommendations

    recs = recommendations(rec)
    assert len(recs) == 3
    assert "revenue" not in recs[0]
    assert recs[2].startswith("Add churn dates, tenure, revenue to the churn records")


def test_driver_reasons_say_money_in_the_run_currency(random_transactions):
    # without stated reasons the classifier's top driver stands in; its sentences carry the
    # run's currency, as the other pages' do
    source = records_for_source(
        "shop.csv", transactions=random_transactions, random_state=0, currency="EUR"
    )
    said = source.records["reason"].astype(str)
    money = said[said.str.contains(r"spent|has spent|smaller orders", regex=True)]
    assert len(money) > 0
    assert money.str.contains("€").all(), money.head().tolist()
