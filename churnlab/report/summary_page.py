"""The executive summary (page 90): the base on two screens, from the one scoring pass.

Its shape follows the customer-base audit of Fader, Hardie & Ross (2022, *The
Customer-Base Audit*): how many customers, what changed since the last period, how
the cohorts compare, how healthy the base is, what it is worth, and what to do this
week. The figures are the KPI record and the per-customer table of the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from IPython.display import HTML, Markdown
from matplotlib.axes import Axes

from churnlab.kpis import HEADLINE_KPIS, kpi_label
from churnlab.plotting._common import figure_html
from churnlab.report.formatting import format_kpi, format_money
from churnlab.report.narrative import kpi_change_table
from churnlab.report.tables import styled
from churnlab.scoring import ScoringResult, action_list

__all__ = ["action_summary", "change_table", "side_by_side", "summary_text"]


def summary_text(result: ScoringResult) -> Markdown:
    """Return the executive summary's opening paragraph, built from the KPI record."""
    k, cur = result.kpis, result.settings.currency
    when = f"the last {result.settings.churn_horizon_months:g} months"
    monthly = format_kpi("monthly_retention", k["monthly_retention"])
    yearly = format_kpi("yearly_retention", k["yearly_retention"])
    text = (
        f"**{k['customers']:,}** customers, of whom **{k['active_share']:.0%}** bought in "
        f"{when}. Monthly retention is **{monthly}**, which compounds to **{yearly}** a year. "
        f"Revenue over the last 12 months: **{format_money(k['revenue_12m'], cur)}**. The base is "
        f"expected to be worth **{format_money(k['expected_value'], cur)}** over the next "
        f"{result.settings.clv_horizon_months} months{_rough(result)}, of which "
        f"**{format_money(k['revenue_at_risk'], cur)}** is at risk of churn."
    )
    if k.get("customers_to_contact"):
        text += (
            f" **{k['customers_to_contact']:,}** valuable customers have gone quiet, holding "
            f"{format_money(k['value_to_contact'], cur)} of that risk: the action list below."
        )
    return Markdown(text)


def change_table(
    result: ScoringResult, previous_kpis: str | Mapping[str, Any]
) -> pd.io.formats.style.Styler:
    """Return each headline KPI with the previous run's value and the change, formatted.

    Parameters
    ----------
    result : ScoringResult
    previous_kpis : str or mapping
        The previous successful run's KPIs (JSON, as the runner passes them).

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    points = result.settings.retention_points
    return kpi_change_table(
        result.kpis,
        HEADLINE_KPIS,
        previous_kpis,
        currency=result.settings.currency,
        label=lambda name: kpi_label(name, points=points),
    )


def action_summary(result: ScoringResult, *, top: int = 3) -> pd.io.formats.style.Styler:
    """Return this week's top actions: customers and revenue at risk per recommended action.

    Parameters
    ----------
    result : ScoringResult
    top : int, default 3
        Actions shown, most revenue at risk first.

    Returns
    -------
    pandas.io.formats.style.Styler
        One row per action (the ``top`` with most revenue at risk, then one row for the
        others): the customers to contact, their revenue at risk and their segments. The
        rows add up to the customers to contact and the value at risk among them.
    """
    listed = action_list(result)
    grouped = listed.groupby("action", sort=False)
    table = pd.DataFrame(
        {
            "Customers": grouped.size(),
            "Revenue at risk": grouped["revenue_at_risk"].sum(),
            "Segments": grouped["segment"].agg(
                lambda s: ", ".join(s.astype(str).value_counts().index[:3])
            ),
        }
    )
    table = table.sort_values("Revenue at risk", ascending=False, kind="stable")
    if len(table) > top:  # the rest in one row, so the table adds up to the headline
        rest = table.iloc[top:]
        other = pd.DataFrame(
            {"Customers": [rest["Customers"].sum()],
             "Revenue at risk": [rest["Revenue at risk"].sum()],
             "Segments": [f"{len(rest)} more action(s): see the work list"]},
            index=["Other actions"],
        )  # fmt: skip
        table = pd.concat([table.iloc[:top], other])
    table.index.name = "What to do"
    return styled(table, money=["Revenue at risk"], currency=result.settings.currency)


def side_by_side(*blocks: Any) -> HTML:
    """Lay tables and figures out in columns (one row on a wide screen, stacked on a narrow one).

    Parameters
    ----------
    *blocks : Styler, matplotlib Axes, IPython HTML or str
        Each column: a styled table, the axes of a figure (rendered inline and
        closed), or HTML that is already escaped.

    Returns
    -------
    IPython.display.HTML
    """
    columns = []
    for block in blocks:
        if isinstance(block, Axes):
            columns.append(figure_html(block))
        elif isinstance(block, HTML):
            columns.append(block.data)
        elif isinstance(block, str):
            columns.append(block)
        else:  # a Styler
            columns.append(block.to_html())
    cells = "".join(f"<div>{column}</div>" for column in columns)
    return HTML(f'<div class="churnlab-columns">{cells}</div>')


def _rough(result: ScoringResult) -> str:
    """Qualify the base's value when no purchase model fits the data well."""
    healthy = result.model_comparison.get("healthy")
    if healthy is None or healthy.astype(bool).any():
        return ""
    return " (a rough projection: no purchase model fits this data well, see the note above)"
