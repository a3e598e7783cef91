"""Data-quality tables for the data-quality report (notebook 00).

Small, readable summaries of a cleaned transaction log: date coverage,
customers and orders per month, order values and the repeat-purchase share.
They take the ``data`` of :class:`churnlab.data.LoadedTransactions`.
"""

from __future__ import annotations

import pandas as pd

from churnlab import config
from churnlab.data.accounting import REASON_DESCRIPTIONS, CleaningReport
from churnlab.data.validation import require_columns
from churnlab.money import format_money
from churnlab.units import unit_name

__all__ = [
    "cleaning_table",
    "cleaning_text",
    "coverage_summary",
    "monthly_activity",
    "order_value_summary",
    "order_values",
    "repeat_purchase_summary",
    "returns_summary",
    "rfm_overview",
]

_NEEDED = (config.CUSTOMER_ID, config.DATE, config.AMOUNT)


def _orders(data: pd.DataFrame) -> pd.DataFrame:
    """One row per order: customer, date and order total."""
    keys = (
        [config.ORDER_ID] if config.ORDER_ID in data.columns else [config.CUSTOMER_ID, config.DATE]
    )
    grouped = data.groupby(keys, sort=False, observed=True)
    orders = grouped.agg(
        **{
            config.CUSTOMER_ID: (config.CUSTOMER_ID, "first"),
            config.DATE: (config.DATE, "min"),
            config.AMOUNT: (config.AMOUNT, "sum"),
        }
    )
    return orders.reset_index(drop=True)


def order_values(data: pd.DataFrame) -> pd.Series:
    """Return the total value of each order (lines summed per ``order_id``).

    Parameters
    ----------
    data : pandas.DataFrame
        Transactions in canonical columns; without ``order_id`` an order is a
        customer's purchases on one timestamp.

    Returns
    -------
    pandas.Series
        Order totals, named ``amount``.
    """
    require_columns(data, _NEEDED, where="order_values")
    return _orders(data)[config.AMOUNT]


def coverage_summary(data: pd.DataFrame, *, currency: str = "") -> pd.DataFrame:
    """Return the headline facts of a log: dates covered, gaps, customers, orders, revenue.

    Parameters
    ----------
    data : pandas.DataFrame
        Transactions in canonical columns.
    currency : str, default ""
        ISO code (or symbol) of the amounts: the revenue is shown in it.

    Returns
    -------
    pandas.DataFrame
        One column ``value`` indexed by a readable ``measure`` name.
    """
    require_columns(data, _NEEDED, where="coverage_summary")
    orders = _orders(data)
    first, last = data[config.DATE].min(), data[config.DATE].max()
    months = pd.period_range(first, last, freq="M") if len(data) else pd.PeriodIndex([], freq="M")
    active = set(data[config.DATE].dt.to_period("M").unique()) if len(data) else set()
    facts = {
        "first purchase": first.date() if len(data) else "n/a",
        "last purchase": last.date() if len(data) else "n/a",
        "days covered": (last - first).days + 1 if len(data) else 0,
        "months covered": len(months),
        "months without orders": sum(m not in active for m in months),
        "days with orders": int(data[config.DATE].dt.normalize().nunique()),
        "transaction lines": len(data),
        "orders": len(orders),
        "customers": int(data[config.CUSTOMER_ID].nunique()),
        "revenue": format_money(float(data[config.AMOUNT].sum()), currency),
    }
    return pd.DataFrame({"value": pd.Series(facts, dtype=object)}).rename_axis("measure")


def monthly_activity(data: pd.DataFrame) -> pd.DataFrame:
    """Return customers, new customers, orders and revenue per calendar month.

    Parameters
    ----------
    data : pandas.DataFrame
        Transactions in canonical columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``month`` (month start timestamps), columns ``customers``,
        ``new_customers``, ``orders``, ``revenue``; months without orders are 0.
    """
    require_columns(data, _NEEDED, where="monthly_activity")
    orders = _orders(data)
    month = orders[config.DATE].dt.to_period("M")
    first_month = orders.groupby(config.CUSTOMER_ID)[config.DATE].transform("min").dt.to_period("M")
    table = pd.DataFrame(
        {
            "customers": orders.groupby(month)[config.CUSTOMER_ID].nunique(),
            "new_customers": orders[month == first_month]
            .groupby(month[month == first_month])[config.CUSTOMER_ID]
            .nunique(),
            "orders": orders.groupby(month).size(),
            "revenue": orders.groupby(month)[config.AMOUNT].sum(),
        }
    )
    if len(table):
        table = table.reindex(pd.period_range(table.index.min(), table.index.max(), freq="M"))
    table = table.fillna(0)
    table[["customers", "new_customers", "orders"]] = table[
        ["customers", "new_customers", "orders"]
    ].astype("int64")
    table.index = table.index.to_timestamp()
    return table.rename_axis("month")


def repeat_purchase_summary(data: pd.DataFrame) -> pd.DataFrame:
    """Return how many customers bought once, twice, ... and the repeat-purchase share.

    Parameters
    ----------
    data : pandas.DataFrame
        Transactions in canonical columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``orders`` bucket ("1", "2", "3-5", "6-10", "11+"), columns
        ``customers`` and ``share``; ``df.attrs["repeat_share"]`` is the share of
        customers with two or more orders.
    """
    require_columns(data, _NEEDED, where="repeat_purchase_summary")
    per_customer = _orders(data).groupby(config.CUSTOMER_ID).size()
    buckets = pd.cut(
        per_customer, [0, 1, 2, 5, 10, float("inf")], labels=["1", "2", "3-5", "6-10", "11+"]
    )
    counts = buckets.value_counts(sort=False).rename("customers")
    table = counts.to_frame().rename_axis("orders")
    total = int(counts.sum())
    table["share"] = table["customers"] / total if total else 0.0
    table.attrs["repeat_share"] = float((per_customer >= 2).mean()) if total else 0.0
    return table


def returns_summary(dropped: pd.DataFrame) -> pd.DataFrame:
    """Return rows and value per drop reason from a loader's ``dropped`` frame.

    Parameters
    ----------
    dropped : pandas.DataFrame
        ``LoadedTransactions.dropped`` (canonical columns plus ``drop_reason``).

    Returns
    -------
    pandas.DataFrame
        Indexed by the reason in words (``why set aside``), columns ``rows`` and
        ``amount`` (absolute value summed; NaN amounts ignored); reasons with no rows
        are left out.
    """
    require_columns(dropped, ["drop_reason"], where="returns_summary")
    amount = dropped[config.AMOUNT].abs() if config.AMOUNT in dropped else 0.0
    frame = pd.DataFrame({"drop_reason": dropped["drop_reason"].astype(str), "amount": amount})
    table = frame.groupby("drop_reason").agg(rows=("amount", "size"), amount=("amount", "sum"))
    table = table[table["rows"] > 0].sort_values("rows", ascending=False)
    table.index = pd.Index(
        [REASON_DESCRIPTIONS.get(r, r.replace("_", " ")) for r in table.index], name="why set aside"
    )
    return table


def cleaning_text(report: CleaningReport) -> str:
    """Explain the cleaning accounting in one or two sentences a manager understands.

    Parameters
    ----------
    report : CleaningReport
        The loader's row accounting.

    Returns
    -------
    str
        Markdown: rows read, kept and dropped (with the share), and the main reasons.
    """
    total, kept = report.input_rows, report.kept_rows
    dropped = report.input_rows - report.kept_rows
    if dropped == 0:
        return f"All **{total:,}** rows read were kept: none was incomplete or a duplicate."
    reasons = sorted(((n, r) for r, n in report.dropped.items() if n), reverse=True)
    named = [f"{n:,} {REASON_DESCRIPTIONS.get(r, r.replace('_', ' '))}" for n, r in reasons[:3]]
    rest = sum(n for n, _ in reasons[3:])
    if rest:
        named.append(f"{rest:,} for other reasons")
    text = (
        f"Of the **{total:,}** rows read, **{kept:,}** were kept as purchases and **{dropped:,}** "
        f"(**{dropped / total:.0%}**) were set aside: {'; '.join(named)}. "
    )
    if report.dropped.get("missing_customer_id", 0) / total >= 0.1:
        text += (
            "Rows without a customer id cannot be linked to anyone, so every figure on these "
            "pages describes the identified customers only. "
        )
    if report.date_format:
        example = pd.Timestamp("2024-01-31 13:05").strftime(report.date_format)
        text += f"Dates were read like {example} for 31 January 2024 (at 13:05)."
    return text.strip()


def order_value_summary(values: pd.Series) -> pd.DataFrame:
    """Return what an order is typically worth, in plain words (no statistics jargon).

    Parameters
    ----------
    values : pandas.Series
        Order totals (:func:`order_values`).

    Returns
    -------
    pandas.DataFrame
        One column ``value`` indexed by plain labels.
    """
    rows = {
        "Typical order (median)": values.median(),
        "Average order": values.mean(),
        "Smallest 10% of orders are below": values.quantile(0.1),
        "Largest 10% of orders are above": values.quantile(0.9),
        "Largest order": values.max(),
    }
    return pd.DataFrame({"Value": rows}).rename_axis("Order value")


def rfm_overview(summary: pd.DataFrame, *, time_unit: str, currency: str = "") -> pd.DataFrame:
    """Return the typical and the high end of each RFM column, with plain labels.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``monetary_value`` per customer.
    time_unit : str
        Unit of recency and T ("D", "W" or "M").
    currency : str, default ""
        ISO code (or symbol) of the average repeat purchase.

    Returns
    -------
    pandas.DataFrame
        Rows per measure; columns ``Typical customer (median)`` and ``Top 10% from``,
        formatted (whole counts, one decimal of time, money in ``currency``).
    """
    unit = unit_name(time_unit)
    labels = {
        config.FREQUENCY: "Repeat purchases",
        config.RECENCY: f"First to last purchase ({unit})",
        config.T: f"Customer for ({unit})",
        config.MONETARY_VALUE: "Average repeat purchase",
    }
    columns = [c for c in labels if c in summary]
    shown = {
        config.FREQUENCY: lambda v: f"{v:,.0f}",
        config.RECENCY: lambda v: f"{v:,.1f}",
        config.T: lambda v: f"{v:,.1f}",
        config.MONETARY_VALUE: lambda v: format_money(v, currency),
    }
    table = pd.DataFrame(
        {
            "Typical customer (median)": summary[columns].median(),
            "Top 10% from": summary[columns].quantile(0.9),
        }
    )
    return table.apply(lambda row: row.map(shown[row.name]), axis=1).rename(index=labels)


def cleaning_table(report: CleaningReport) -> pd.DataFrame:
    """Return the row accounting as a table with plain labels: kept, each reason, total.

    Parameters
    ----------
    report : CleaningReport

    Returns
    -------
    pandas.DataFrame
        Columns ``Rows`` and ``Share``, indexed by what happened to the rows.
    """
    rows = {"Kept as purchases": report.kept_rows}
    rows |= {
        f"Set aside: {REASON_DESCRIPTIONS.get(r, r.replace('_', ' '))}": n
        for r, n in report.dropped.items()
        if n
    }
    rows["Rows read"] = report.input_rows
    table = pd.DataFrame({"Rows": rows})
    table["Share"] = table["Rows"] / max(report.input_rows, 1)
    return table.rename_axis("")
