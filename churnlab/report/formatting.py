"""Numbers for people: money in the run's currency, shares as percentages, counts.

The one formatting layer of the stakeholder pages and the index (no notebook or
page formats a number itself). Labels come from :data:`churnlab.kpis.KPI_GLOSSARY`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from churnlab.kpis import KPI_GLOSSARY
from churnlab.money import CURRENCY_SYMBOLS, currency_prefix, format_money

__all__ = ["CURRENCY_SYMBOLS", "currency_prefix", "format_kpi", "format_money"]


def format_kpi(
    name: str,
    value: Any,
    currency: str = "",
    *,
    glossary: Mapping[str, tuple[str, str, str]] = KPI_GLOSSARY,
) -> str:
    """Format one KPI by its kind in ``glossary`` (money, percent, count, score, number, text).

    The contractual pages pass :data:`churnlab.subscriptions.kpis.SUBSCRIBER_KPI_GLOSSARY`.
    """
    kind = glossary.get(name, ("", "text", ""))[1]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "money":
        return format_money(float(value), currency)
    if kind == "percent":
        return f"{float(value):.1%}"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "score":
        return f"{float(value):.3f}"
    if kind == "number":
        return f"{float(value):,.1f}"
    return str(value)


#: Plain-English labels of table columns and index names; any other snake_case name
#: is shown with spaces and a capital (``clv_lost`` -> "Clv lost" is avoided by listing it).
COLUMN_LABELS: dict[str, str] = {
    "category": "Reason",
    "clv": "Lifetime value",
    "clv_lost": "Lifetime value lost",
    "clv_per_customer": "Lifetime value per customer",
    "clv_share": "Share of lifetime value lost",
    "revenue_lost": "Revenue lost",
    "revenue_share": "Share of revenue lost",
    "revenue_to_date": "Revenue to date",
    "revenue_at_risk": "Revenue at risk",
    "churn_probability": "Churn probability",
    "customers_lost": "Customers lost",
    "share_of_churn": "Share of churn",
    "share_lower": "Share, lower bound (95%)",
    "share_upper": "Share, upper bound (95%)",
    "share_in_group": "Share in the group",
    "overall_share": "Share overall",
    "p_value": "p-value",
    "p_adjusted": "p-value, corrected for many tests",
    "cramers_v": "Strength (Cramér's V)",
    "most_affected_segment": "Most affected segment",
    "drop_reason": "Reason",
    "new_customers": "New customers",
    "first_purchases": "First purchases",
    "customers_start": "Active at start",
    "customers_end": "Active at end",
    "retention_rate": "Retention",
    "churn_rate": "Churn",
    "mean_orders": "Average orders",
    "mean_spend": "Average spend",
    "low_expected": "Small expected counts",
    "addressable": "Addressable",
    "first_date": "First date",
    "last_date": "Last date",
    "repeat_share": "Repeat buyers",
}


def column_label(name: object) -> object:
    """Return the label people read for a column or index name (non-strings unchanged)."""
    if not isinstance(name, str):
        return name
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if "_" in name and name.replace("_", "").isalnum():
        return name.replace("_", " ").capitalize()
    if name.isascii() and name.isalpha() and name.islower():  # one plain word: "customers"
        return name.capitalize()
    return name
