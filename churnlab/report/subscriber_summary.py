"""What the contractual executive summary says: how many, what changed, health, worth, what to do.

Page-text builders for ``notebooks/contractual/90-executive-summary.ipynb``, the
stakeholder summary of a subscription run (the same shape as the transactional one), from
the run's one contractual scoring pass. Labels and definitions come from
:data:`churnlab.subscriptions.scoring.SUBSCRIBER_KPI_GLOSSARY`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from IPython.display import Markdown

from churnlab.markup import escape_markdown
from churnlab.report.narrative import kpi_change_table
from churnlab.report.subscriber_pages import (
    _pct,
    _survival_at,
    _unit,
    format_subscriber_kpi,
    md_money,
)
from churnlab.report.tables import styled
from churnlab.subscriptions.scoring import (
    SUBSCRIBER_HEADLINE_KPIS,
    SUBSCRIBER_KPI_GLOSSARY,
    SubscriberResult,
)

__all__ = ["change_table", "glossary_text", "headline_table", "recommendations", "summary_text"]


def headline_table(result: SubscriberResult) -> pd.io.formats.style.Styler:
    """Return the headline KPIs with their glossary labels, formatted."""
    names = [n for n in SUBSCRIBER_HEADLINE_KPIS if n in result.kpis]
    frame = pd.DataFrame(
        {
            "Value": [
                format_subscriber_kpi(n, result.kpis[n], result.settings.currency) for n in names
            ]
        },
        index=pd.Index([SUBSCRIBER_KPI_GLOSSARY[n][0] for n in names], name="KPI"),
    )
    return styled(frame)


def summary_text(result: SubscriberResult) -> Markdown:
    """Return the executive summary's opening paragraph, built from the KPI record."""
    k, cur = result.kpis, result.settings.currency
    text = (
        f"**{k['customers']:,}** subscribers, of whom **{k['active_customers']:,}** are still "
        f"active ({_pct(k['churned_share'])} have left)."
    )
    if k.get("yearly_retention") is not None:
        text += (
            f" **{_pct(k['yearly_retention'])}** of new subscribers are still active after a "
            f"year, a monthly retention of **{k['monthly_retention']:.1%}**."
        )
    if k.get("base_value") is not None:
        text += (
            f" The active subscribers pay {md_money(k['recurring_revenue_per_year'], cur)} "
            f"a year and are expected to pay **{md_money(k['base_value'], cur)}** from now "
            "on (residual value, discounted)."
        )
    return Markdown(text)


def change_table(
    result: SubscriberResult, previous_kpis: str | Mapping[str, Any]
) -> pd.io.formats.style.Styler:
    """Return each headline KPI next to the previous subscription run's value."""
    return kpi_change_table(
        result.kpis,
        SUBSCRIBER_HEADLINE_KPIS,
        previous_kpis,
        currency=result.settings.currency,
        glossary=SUBSCRIBER_KPI_GLOSSARY,
    )


def recommendations(result: SubscriberResult) -> Markdown:
    """Return what to do, each point computed from the run's figures."""
    table, k, cur = result.customers, result.kpis, result.settings.currency
    per_year = float(k["periods_per_year"])
    items = []
    left = table[table["churned"]]
    if len(left):
        early = round(per_year / 4) or 1
        share = float((left["tenure"] <= early).mean())
        items.append(
            f"**Look after the first {early} {_unit(result, early)}.** {_pct(share)} of the "
            f"subscribers who left did so within their first {early} {_unit(result, early)}: "
            "onboarding and the first renewals are where retention is won."
        )
    curves = result.survival_by_plan
    if curves is not None and table["plan"].nunique() > 1 and result.retention.index.max() >= 1:
        horizon = min(per_year, float(result.retention.index.max()))
        at = {
            p: float(_survival_at(curves.loc[p], horizon)["survival"])
            for p in curves.index.get_level_values(0).unique()
        }
        worst, best = min(at, key=at.get), max(at, key=at.get)
        active = table[~table["churned"]]
        revenue = float(active.loc[active["plan"] == worst, "revenue"].sum() * per_year)
        items.append(
            f"**Find out why {escape_markdown(worst)} subscribers leave.** Only "
            f"{_pct(at[worst])} of them are still active after {horizon:,.0f} "
            f"{_unit(result, horizon)}, against {_pct(at[best])} on {escape_markdown(best)}; "
            f"those still active pay {md_money(revenue, cur)} a year. Offering them the terms "
            f"of {escape_markdown(best)} (or a longer commitment) is the first lever to test."
        )
    active = table[~table["churned"]].sort_values("residual_value", ascending=False)
    if len(active) >= 5 and active["residual_value"].sum() > 0:
        top = active.head(max(1, len(active) // 5))
        share = float(top["residual_value"].sum() / active["residual_value"].sum())
        items.append(
            f"**Protect the most valuable fifth.** The top 20% of active subscribers by "
            f"residual value hold {_pct(share)} of the base's value "
            f"({md_money(float(top['residual_value'].sum()), cur)})."
        )
    if not items:
        return Markdown("No recommendation: the table has too little to go on.")
    return Markdown("\n".join(f"{i}. {text}" for i, text in enumerate(items, 1)))


def glossary_text() -> Markdown:
    """Return the definitions of the headline KPIs (from the one contractual glossary)."""
    return Markdown(
        "\n".join(
            f"- **{label}**: {definition}"
            for label, _, definition in SUBSCRIBER_KPI_GLOSSARY.values()
        )
    )
