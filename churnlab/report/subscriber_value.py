"""What the contractual value page says: residual value, and the yearly value calculator.

Page-text builders for ``notebooks/contractual/20-subscriber-value.ipynb``, on the run's
one contractual scoring pass (the executive summary's are in
:mod:`churnlab.report.subscriber_summary`). Residual
value is Fader & Hardie (2010)'s DERL times revenue per period; the yearly calculator is
:func:`churnlab.subscriptions.subscriber_value_by_year` (the magazine example) fed with
the run's retention and price, and stated assumptions for the rest.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pandas as pd
from IPython.display import Markdown

from churnlab.report.formatting import currency_prefix
from churnlab.report.subscriber_pages import (
    _money,
    _pct,
    _unit,
    md_money,
    milestones,
)
from churnlab.report.tables import mask_ids, styled
from churnlab.subscriptions import auto_renew_what_if, subscriber_value_by_year
from churnlab.subscriptions.scoring import (
    SubscriberResult,
)

__all__ = [
    "Calculator",
    "auto_renew_table",
    "calculator_table",
    "calculator_text",
    "subscriber_calculator",
    "top_value_table",
    "value_by_plan_table",
    "value_by_tenure_table",
    "value_text",
]


def value_text(result: SubscriberResult) -> Markdown:
    """Say what the active subscribers are worth from now on, and how long they stay."""
    k, cur = result.kpis, result.settings.currency
    years = result.settings.lifetime_horizon_years
    if not k["active_customers"]:
        return Markdown("Every subscriber has left, so the base has no residual value.")
    rate = f"{result.settings.yearly_discount_rate:.0%}"
    text = (
        f"On average an active subscriber is expected to keep paying for another "
        f"**{k['expected_remaining_years']:.1f} years** (within the next {years:g} years)."
    )
    if k.get("base_value") is not None:
        text = (
            f"The **{k['active_customers']:,}** active subscribers are expected to pay "
            f"**{md_money(k['base_value'], cur)}** from now on, discounted at {rate} a "
            "year: the residual value of the base (Fader & Hardie 2010). " + text
        )
    return Markdown(text)


def value_by_plan_table(result: SubscriberResult) -> pd.io.formats.style.Styler | Markdown:
    """Return active subscribers, revenue, DERL and residual value per plan."""
    active = result.customers[~result.customers["churned"]]
    if active.empty or active["plan"].isna().all():
        return Markdown("")
    groups = active.groupby("plan", sort=True)
    unit = _unit(result, 1)
    frame = pd.DataFrame(
        {
            "Active subscribers": groups.size(),
            f"Revenue per {unit}": groups["revenue"].mean(),
            f"Expected discounted payments ({_unit(result)})": groups["derl"].mean(),
            "Residual value": groups["residual_value"].sum(),
            "Per subscriber": groups["residual_value"].mean(),
        }
    )
    frame["Share of the base's value"] = frame["Residual value"] / frame["Residual value"].sum()
    frame.index.name = "Plan"
    return styled(
        frame,
        money=[f"Revenue per {unit}", "Residual value", "Per subscriber"],
        percent=["Share of the base's value"],
        currency=_money(result),
        decimals=1,
    )


def value_by_tenure_table(result: SubscriberResult) -> pd.io.formats.style.Styler:
    """Return DERL and expected remaining years of an active subscriber at milestone tenures."""
    table = result.customers[~result.customers["churned"]]
    per_year = float(result.kpis["periods_per_year"])
    rows = {}
    for t in milestones(result):
        at = table[table["renewals"] == t]
        if len(at):
            rows[t] = {
                f"Expected discounted payments ({_unit(result)})": at["derl"].iloc[0],
                "Expected remaining years": at["expected_remaining_periods"].iloc[0] / per_year,
                "Active subscribers at this tenure": len(at),
            }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = f"Tenure ({_unit(result)})"
    return styled(frame, decimals=1)


def top_value_table(
    result: SubscriberResult, *, top: int = 10, mask: bool = False
) -> pd.io.formats.style.Styler:
    """Return the active subscribers with the largest residual value."""
    active = result.customers[~result.customers["churned"]]
    shown = active.nlargest(top, "residual_value")
    frame = pd.DataFrame(
        {
            "Plan": shown["plan"],
            f"Tenure ({_unit(result)})": shown["tenure"],
            f"Revenue per {_unit(result, 1)}": shown["revenue"],
            "Residual value": shown["residual_value"],
        }
    )
    frame.index = mask_ids(shown.index, enabled=mask)
    frame.index.name = "Customer"
    return styled(
        frame,
        money=[f"Revenue per {_unit(result, 1)}", "Residual value"],
        currency=_money(result),
        decimals=0,
    )


class Calculator(NamedTuple):
    """The yearly value calculator on a run's figures.

    Attributes
    ----------
    parameters : dict
        The inputs of :func:`~churnlab.subscriptions.subscriber_value_by_year`.
    auto_renew : dict
        ``auto_renew_cost`` and ``auto_renew_retention`` of the what-if.
    table : pandas.DataFrame
        :func:`~churnlab.subscriptions.subscriber_value_by_year` output.
    what_if : pandas.DataFrame
        :func:`~churnlab.subscriptions.auto_renew_what_if` output.
    currency : str
    """

    parameters: dict[str, Any]
    auto_renew: dict[str, float]
    table: pd.DataFrame
    what_if: pd.DataFrame
    currency: str


def subscriber_calculator(
    result: SubscriberResult,
    *,
    margin: float = 0.25,
    renewal_cost: float = 8.0,
    subscription_revenue_share: float = 1.0,
    acquisition_discount: float = 0.0,
    auto_renew_cost: float = 1.0,
    auto_renew_retention_points: float = 10.0,
    years: int = 5,
) -> Calculator | None:
    """Run the yearly value calculator with the run's retention and price.

    Yearly retention is the run's (Kaplan-Meier, one year); the yearly price is the
    average revenue per period times the periods in a year; the table follows a class
    of 1,000 new subscribers. The other inputs are stated assumptions.

    Parameters
    ----------
    result : SubscriberResult
    margin, renewal_cost, subscription_revenue_share, acquisition_discount : float
        See :func:`churnlab.subscriptions.subscriber_value_by_year`.
    auto_renew_cost : float, default 1.0
        Renewal cost with card auto-renewal.
    auto_renew_retention_points : float, default 10
        Points of yearly retention that auto-renewal adds (capped at 99%).
    years : int, default 5
        Years to tabulate.

    Returns
    -------
    Calculator or None
        None when the table has no revenue or no year of tenure to measure retention.
    """
    k = result.kpis
    revenue = result.customers["revenue"]
    if k.get("yearly_retention") is None or revenue.isna().all():
        return None
    retention = float(k["yearly_retention"])
    parameters = {
        "subscribers": 1_000,
        "list_price": round(float(revenue.mean() * k["periods_per_year"]), 2),
        "retention": round(retention, 4),
        "renewal_cost": renewal_cost,
        "subscription_revenue_share": subscription_revenue_share,
        "margin": margin,
        "acquisition_discount": acquisition_discount,
        "years": years,
        "discount_rate": result.settings.yearly_discount_rate,
    }
    table = subscriber_value_by_year(**parameters)
    auto_renew = {
        "auto_renew_cost": auto_renew_cost,
        "auto_renew_retention": round(min(0.99, retention + auto_renew_retention_points / 100), 4),
    }
    what_if = auto_renew_what_if(**auto_renew, **parameters)
    return Calculator(parameters, auto_renew, table, what_if, result.settings.currency)


def calculator_text(calc: Calculator | None) -> Markdown:
    """State the calculator's inputs in words and say what a new subscriber is worth."""
    if calc is None:
        return Markdown(
            "The calculator needs a revenue per subscriber and a year of tenure to measure "
            "yearly retention; this table has not got both."
        )
    p, cur = calc.parameters, calc.currency
    value = calc.table["value_per_subscriber"]
    gain, auto = calc.what_if["gain"].iloc[-1], calc.auto_renew
    text = (
        f"**Inputs.** A class of {p['subscribers']:,} new subscribers. From the data: yearly "
        f"retention {_pct(p['retention'])}, a yearly price of {md_money(p['list_price'], cur)} "
        f"(average revenue). Assumed: a {_pct(p['margin'])} margin on revenue, "
        f"{md_money(p['renewal_cost'], cur)} of renewal reminders and calls per "
        f"subscriber up for renewal, {_pct(p['subscription_revenue_share'])} of revenue from "
        f"subscriptions, a {_pct(p['acquisition_discount'])} first-year discount, and future "
        f"years discounted at {_pct(p['discount_rate'])} a year.\n\n"
        f"**Result.** A new subscriber is worth **{md_money(value.iloc[0], cur)}** after "
        f"year 1 and **{md_money(value.iloc[min(2, len(value) - 1)], cur)}** by year "
        f"{min(3, len(value))}."
    )
    text += (
        f"\n\n**Auto-renewal.** Moving renewals onto card auto-renewal would cut the renewal "
        f"cost to {md_money(auto['auto_renew_cost'], cur)} and, assumed here, raise yearly "
        f"retention to {_pct(auto['auto_renew_retention'])}: after {len(value)} years a new "
        f"subscriber would be worth **{md_money(abs(gain), cur)}** "
        f"{'more' if gain >= 0 else 'less'} "
        f"({md_money(calc.what_if['auto_renew'].iloc[-1], cur)} instead of "
        f"{md_money(value.iloc[-1], cur)})."
    )
    return Markdown(text)


def calculator_table(calc: Calculator | None) -> pd.io.formats.style.Styler | Markdown:
    """Return the yearly table: active subscribers, revenue, costs, profit and value."""
    if calc is None:
        return Markdown("")
    t = calc.table
    frame = pd.DataFrame(
        {
            "Active subscribers": t["active_subscribers"].round(),
            "Revenue": t["revenue"],
            "Renewal costs": t["renewal_costs"],
            "Profit": t["profit"],
            "Value per subscriber so far": t["value_per_subscriber"],
        }
    )
    frame.index.name = "Year"
    money = ["Revenue", "Renewal costs", "Profit", "Value per subscriber so far"]
    return styled(frame, money=money, currency=_prefix(calc), decimals=0)


def auto_renew_table(calc: Calculator | None) -> pd.io.formats.style.Styler | Markdown:
    """Return the value per subscriber by year under each auto-renewal lever."""
    if calc is None:
        return Markdown("")
    frame = calc.what_if.rename(
        columns={
            "base": "As today",
            "lower_renewal_cost": "Cheaper renewals only",
            "higher_retention": "Higher retention only",
            "auto_renew": "Auto-renewal (both)",
            "gain": "Gain",
        }
    )
    frame.index.name = "Year"
    return styled(frame, money=list(frame.columns), currency=_prefix(calc))


def _prefix(calc: Calculator) -> str:
    return currency_prefix(calc.currency)
