"""Page 40's tables and sentences for readers, from the reason analysis' own outputs."""

from __future__ import annotations

import pandas as pd

from churnlab.report.reason_pages import (
    association_text,
    differences_table,
    engagement_table,
    reason_table,
    themes_table,
)


def _associations(significant: list[bool], v: list[float]) -> pd.DataFrame:
    index = pd.Index(["value_tier", "contract"][: len(v)], name="factor")
    return pd.DataFrame({"significant": significant, "cramers_v": v}, index=index)


def test_association_text_names_only_the_groupings_that_survive():
    text = association_text(_associations([True, False], [0.39, 0.05])).data
    assert text.startswith("Churn reasons differ between customer groups by **value tier**")
    assert "(clearly: strength 0.39" in text and "The other 1 grouping(s)" in text
    assert "contract" not in text.split("The other")[0]
    none = association_text(_associations([False, False], [0.2, 0.05])).data
    assert none.startswith("Churn reasons do not differ") and "value tier, contract" in none


def test_differences_table_has_words_not_codes():
    differences = pd.DataFrame(
        {
            "factor": ["value_tier"],
            "level": ["High value"],
            "reason": ["Low spend"],
            "customers": [59],
            "share_in_group": [0.123],
            "overall_share": [0.294],
            "lift": [0.42],
            "residual": [-10.79],
        }
    )
    page = differences_table(differences).to_html()
    assert "Value tier" in page and "value_tier" not in page
    assert "0.4×" in page and "12.3%" in page and "-10.79" not in page  # no residuals


def test_engagement_table_is_one_row_per_reason():
    long = pd.DataFrame(
        {
            "category": ["Price"] * 3 + ["Service"] * 3,
            "periods_before_churn": [-3, -2, -1] * 2,
            "customers": [5, 6, 7, 2, 2, 3],
            "spend_index": [1.2, 1.0, 0.8, 0.9, 1.0, 1.1],
        }
    )
    wide = engagement_table(long, time_unit="M")
    assert list(wide.columns) == ["Customers", "3 months before", "2 months before", "Last month"]
    assert wide.loc["Price"].tolist() == [7, 1.2, 1.0, 0.8]
    snapshot = pd.DataFrame({"customers": [3]})
    assert engagement_table(snapshot) is snapshot  # a snapshot's table is shown as it is


def test_columns_the_data_cannot_fill_are_left_out():
    summary = pd.DataFrame(
        {
            "customers_lost": [10],
            "revenue_lost": [1234.0],
            "clv_lost": [float("nan")],
            "most_affected_segment": ["n/a (no segments)"],
            "trend": ["n/a (no churn dates)"],
        },
        index=pd.Index(["Price"], name="category"),
    )
    page = reason_table(summary, currency="EUR").to_html()
    assert "€1,234" in page and "n/a" not in page and "Lifetime value" not in page
    assert themes_table(pd.DataFrame()).data == ""
