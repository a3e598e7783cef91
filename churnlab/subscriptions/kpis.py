"""The KPIs of a subscription run: one glossary of labels, kinds and definitions.

The contractual counterpart of :data:`churnlab.kpis.KPI_GLOSSARY`: the pages, the
manifest and the index label and format a subscription run's KPIs from here, so a figure
that appears twice is the same figure. Yearly retention is the Kaplan-Meier share of
subscribers still active one year after they started (Kaplan & Meier 1958); monthly
retention is that rate compounded back to a month, so the two never disagree. Residual
value is DERL x revenue per period (Fader & Hardie 2010, eq. 6).
"""

from __future__ import annotations

__all__ = ["SUBSCRIBER_HEADLINE_KPIS", "SUBSCRIBER_KPI_GLOSSARY"]

#: KPI name -> (label for people, kind of number, definition), as
#: :data:`churnlab.kpis.KPI_GLOSSARY` for transaction logs.
SUBSCRIBER_KPI_GLOSSARY: dict[str, tuple[str, str, str]] = {
    "customers": ("Subscribers", "count", "Customers in the table after cleaning."),
    "active_customers": ("Active subscribers", "count", "Subscribers who have not left."),
    "churned_share": ("Share who left", "percent", "Subscribers who left ÷ subscribers."),
    "monthly_retention": (
        "Monthly retention",
        "percent",
        "Yearly retention as a monthly rate: yearly retention ^ (1/12).",
    ),
    "yearly_retention": (
        "Yearly retention",
        "percent",
        "Share of subscribers still active one year after they started (Kaplan-Meier, "
        "counting everyone observed for less than a year as far as they were observed).",
    ),
    "recurring_revenue_per_year": (
        "Yearly recurring revenue",
        "money",
        "Revenue per period of the active subscribers, times the periods in a year.",
    ),
    "base_value": (
        "Residual value of the base",
        "money",
        "Sum over active subscribers of revenue per period × DERL: what the current "
        "subscribers are expected to pay from now on, discounted (Fader & Hardie 2010).",
    ),
    "expected_remaining_years": (
        "Expected remaining years per subscriber",
        "number",
        "Average over active subscribers of the expected further years they pay, within "
        "the lifetime horizon (undiscounted), from the sBG fit.",
    ),
}

#: The headline KPIs of a subscription run, in reading order (summary, manifest, index).
SUBSCRIBER_HEADLINE_KPIS = tuple(SUBSCRIBER_KPI_GLOSSARY)
