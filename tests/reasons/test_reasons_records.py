"""load_churn_reasons: validation, row accounting and the join to customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError, DataQualityWarning, DataValidationError
from churnlab.reasons import UNKNOWN_REASON, join_reasons, load_churn_reasons

MAPPING = {
    "customer_id": "Account",
    "churn_date": "Closed",
    "category": "Category",
    "reason": "Reason",
    "comment": "Comment",
    "competitor": "Competitor",
    "satisfaction": "CSAT",
    "nps": "NPS",
}


def _load(survey):
    with pytest.warns(DataQualityWarning, match=r"column 'NPS' \(nps\) are invalid"):
        return load_churn_reasons(survey, **MAPPING)


def test_row_accounting_adds_up(survey):
    data, report, dropped = _load(survey)
    assert report.input_rows == 10
    assert report.kept_rows == len(data) == 7
    assert report.dropped == {
        "missing_customer_id": 1,
        "unparsable_churn_date": 1,
        "duplicate_customer": 1,
    }
    assert report.kept_rows + sum(report.dropped.values()) == report.input_rows
    assert sorted(dropped["drop_reason"]) == sorted(report.dropped)
    assert data.attrs["blanked_values"] == {"nps not numeric or outside 0-10": 1}


def test_loaded_table_columns_and_values(survey):
    data, _, _ = _load(survey)
    assert data.index.name == "customer_id"
    assert list(data.columns) == [
        "churn_date",
        "category",
        "reason",
        "comment",
        "competitor",
        "satisfaction",
        "nps",
        "evidence",
    ]
    # the later of C02's two records is kept
    assert data.loc["C02", "reason"] == "Network reliability"
    assert data.loc["C02", "churn_date"] == pd.Timestamp("2024-02-28")
    # blank category and reason -> Unknown reason, evidence none
    assert data.loc["C04", ["category", "reason", "evidence"]].tolist() == [
        UNKNOWN_REASON,
        UNKNOWN_REASON,
        "none",
    ]
    assert pd.isna(data.loc["C07", "churn_date"])  # missing date is kept
    assert np.isnan(data.loc["C06", "nps"])  # NPS 11 blanked
    assert data.loc["C03", "competitor"] == "TelcoX"
    assert data.loc["C01", "satisfaction"] == 3.0
    assert (data.drop("C04")["evidence"] == "stated reason").all()


def test_reason_only_fills_category(survey):
    data, _, _ = load_churn_reasons(survey.iloc[:3], customer_id="Account", reason="Reason")
    assert data.loc["C01", "category"] == "Price too high"
    assert data["churn_date"].isna().all()


def test_reads_csv_and_parquet(survey, tmp_path):
    csv = tmp_path / "exit.csv"
    survey.to_csv(csv, index=False)
    with pytest.warns(DataQualityWarning):
        from_csv = load_churn_reasons(csv, **MAPPING).data
    parquet = tmp_path / "exit.parquet"
    survey.astype("string").to_parquet(parquet)  # keeps missing values missing
    with pytest.warns(DataQualityWarning):
        from_parquet = load_churn_reasons(parquet, **MAPPING).data
    pd.testing.assert_frame_equal(from_csv, from_parquet)
    assert len(from_csv) == 7


def test_needs_a_reason_column(survey):
    with pytest.raises(ConfigError, match="at least one of category=, reason= or comment="):
        load_churn_reasons(survey, customer_id="Account", churn_date="Closed")


def test_missing_mapped_column(survey):
    with pytest.raises(DataValidationError, match=r"needs column\(s\) 'Reasons'.*did you mean"):
        load_churn_reasons(survey, customer_id="Account", reason="Reasons")


def test_empty_source():
    with pytest.raises(DataValidationError, match="is empty: it has 0 rows"):
        load_churn_reasons(pd.DataFrame({"id": [], "why": []}), customer_id="id", reason="why")


def test_nothing_kept():
    frame = pd.DataFrame({"id": ["", None], "why": ["Price", "Moved"]})
    with pytest.raises(DataValidationError, match="kept no rows out of 2: 2 missing_customer_id"):
        load_churn_reasons(frame, customer_id="id", reason="why")


def test_bad_sources(tmp_path):
    # reading is churnlab.data.read_source's job; its messages reach the analyst unchanged
    with pytest.raises(DataValidationError, match="File not found"):
        load_churn_reasons(tmp_path / "nope.csv", customer_id="id", reason="why")
    with pytest.raises(DataValidationError, match="Cannot read a source of type int"):
        load_churn_reasons(42, customer_id="id", reason="why")


def test_join_keeps_customers_without_record(survey):
    loaded = _load(survey)
    customers = pd.DataFrame(
        {"churned": [True, True, False, True]},
        index=pd.Index(["C01", "C02", "C03", "Z99"], name="customer_id"),
    )
    with pytest.warns(DataQualityWarning, match="5 reason record"):
        joined = join_reasons(customers, loaded)
    # 3 churned customers (C03 is not churned) + 5 records of other customers
    assert len(joined) == 3 + 5
    assert joined.loc["Z99", ["category", "reason", "evidence"]].tolist() == [
        UNKNOWN_REASON,
        UNKNOWN_REASON,
        "none",
    ]
    assert joined.loc["C01", "category"] == "Price"


def test_join_rejects_non_boolean_churn_flag(survey):
    loaded = _load(survey)
    customers = pd.DataFrame(
        {"churned": ["yes", "no"]}, index=pd.Index(["C01", "C02"], name="customer_id")
    )
    with pytest.raises(DataValidationError, match="column 'churned' must be boolean; 2 row"):
        join_reasons(customers, loaded)


def test_ids_and_dates_are_parsed_like_transactions():
    frame = pd.DataFrame(
        {
            "id": [17850.0, 13047.0, None],
            "when": ["03/02/2011", "04/02/2011", "05/02/2011"],
            "why": ["Price", "Moved", "Price"],
        }
    )
    mapping = {"customer_id": "id", "churn_date": "when", "reason": "why"}
    with pytest.raises(DataValidationError, match="reads as day-first or as month-first"):
        load_churn_reasons(frame, **mapping)  # 03/02/2011 reads both ways
    data, report, _ = load_churn_reasons(frame, **mapping, dayfirst=True)
    assert list(data.index) == ["13047", "17850"]
    assert report.dropped["missing_customer_id"] == 1
    assert list(data["churn_date"]) == [pd.Timestamp("2011-02-04"), pd.Timestamp("2011-02-03")]


def test_record_bands_from_survey(survey):
    from churnlab.reasons import churn_record

    rec = churn_record(reasons=_load(survey))
    assert rec.loc["C01", "nps_band"] == "Detractor (0-6)"
    assert rec.loc["C05", "nps_band"] == "Passive (7-8)"
    assert pd.isna(rec.loc["C06", "nps_band"])  # blanked NPS 11
    assert rec.loc["C05", "satisfaction_band"] == "High (4-5)"
    assert rec.loc["C02", "satisfaction_band"] == "Low (1-2)"
    assert (rec["evidence"] == "stated reason").sum() == 6
