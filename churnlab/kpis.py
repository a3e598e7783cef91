"""The base-level KPIs: one glossary of definitions, and the one function that computes them.

Every page, the index and ``kpis.json`` read their KPIs from :func:`base_kpis` (whose
share read off the log alone, :func:`log_kpis`, the scoring pass runs early) and
their labels from :data:`KPI_GLOSSARY`, so a figure that appears twice is the same
figure.

Retention follows the CRM definition ``(E − N) / S`` (:func:`churnlab.retention.retention_rate`)
on the *active base*: a customer belongs to the base at a date when they bought within
the churn horizon before it. ``S`` is the base at the start of a calendar month, ``E``
at its end and ``N`` the customers who joined the base during the month: first-time
buyers, and customers who come back after a pause longer than the horizon (win-backs;
they had left the base). So ``E − N`` are the customers of ``S`` still there, and
retention and churn lie in [0, 1] by construction. Yearly retention is the monthly
rate compounded over twelve months, so the two can never disagree.

The functions take the transaction log as a pandas DataFrame or as anything
:func:`churnlab.engine.as_table` accepts (an Ibis table on DuckDB, Spark or a warehouse,
a Parquet path, folder or glob, ``LoadedTransactions``). The engine does the work
(a DataFrame becomes an in-memory DuckDB table): it returns one row of counts per
calendar month and one row of totals, so the log, its customers and their months
never come into Python.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from churnlab.config import AMOUNT, CUSTOMER_ID, DATE
from churnlab.data import LoadedTransactions
from churnlab.engine import as_table, execute
from churnlab.exceptions import DataValidationError
from churnlab.retention import retention_rate

__all__ = [
    "HEADLINE_KPIS",
    "KPI_GLOSSARY",
    "active_base_retention",
    "base_kpis",
    "kpi_label",
    "log_kpis",
]

#: KPI name -> (label for people, kind of number, definition). ``kind`` is one of
#: "count", "money", "percent", "score" (a model metric, three decimals) or "text"; the
#: report's formatting layer uses it.
KPI_GLOSSARY: dict[str, tuple[str, str, str]] = {
    "customers": ("Customers", "count", "Customers with at least one kept purchase."),
    "active_customers": (
        "Active customers",
        "count",
        "Customers who bought within the churn horizon before the observation end.",
    ),
    "active_share": ("Active share", "percent", "Active customers ÷ customers."),
    "monthly_retention": (
        "Monthly retention",
        "percent",
        "(E − N) ÷ S per calendar month on the active base, where S and E are the active "
        "customers at the start and end of the month and N those who joined during it "
        "(first purchases and win-backs); geometric mean of the last 12 complete months "
        "(fewer on shorter data), from the first month in which a customer could lapse.",
    ),
    "monthly_churn": ("Monthly churn", "percent", "1 − monthly retention."),
    "yearly_retention": (
        "Yearly retention",
        "percent",
        "Monthly retention compounded over 12 months (monthly retention ^ 12).",
    ),
    "yearly_churn": ("Yearly churn", "percent", "1 − yearly retention."),
    "revenue_12m": ("Revenue, last 12 months", "money", "Kept purchases in the last 365 days."),
    "revenue_retention": (
        "Revenue retention",
        "percent",
        "Revenue in the last 12 months from customers who bought in the 12 months before, "
        "÷ the revenue of those 12 months before (net revenue retention; can exceed 100%).",
    ),
    "expected_value": (
        "Expected value of the base",
        "money",
        "Sum of every customer's lifetime value over the CLV horizon (discounted).",
    ),
    "revenue_at_risk": (
        "Revenue at risk",
        "money",
        "Sum over customers of lifetime value × churn probability.",
    ),
    "customers_to_contact": (
        "Customers to contact",
        "count",
        "Valuable customers who have gone quiet: the rows of the action list.",
    ),
    "value_to_contact": (
        "Value at risk among them",
        "money",
        "Revenue at risk of the customers to contact.",
    ),
    "retention_what_if_value": (
        "Value of +{points:g} points of yearly retention",
        "money",
        "Change in the base's value over 3 years if yearly retention rose by that many points.",
    ),
    "transaction_model": ("Purchase model used", "text", "Chosen by holdout error."),
    "orders": ("Orders", "count", "Kept orders in the data (page 00)."),
    "repeat_share": (
        "Repeat customers",
        "percent",
        "Share of customers who bought on more than one day (page 00).",
    ),
    "rows_dropped_share": (
        "Rows set aside",
        "percent",
        "Share of the input rows not used, for the reasons on page 00.",
    ),
    "classifier_roc_auc": (
        "Classifier ROC AUC",
        "score",
        "How well the churn classifier ranks churners above the rest on the backtest "
        "(0.5 = chance, 1 = perfect; page 30).",
    ),
    "classifier_brier": (
        "Classifier Brier score",
        "score",
        "Mean squared error of the classifier's churn probabilities on the backtest "
        "(lower is better; page 30).",
    ),
    "churned_customers": ("Churned customers", "count", "Customers counted as lost (page 40)."),
    "revenue_lost": (
        "Revenue from churned customers",
        "money",
        "What the churned customers paid while they stayed (page 40).",
    ),
    "addressable_share": (
        "Addressable churn",
        "percent",
        "Share of churned customers whose reason the business can act on (page 40).",
    ),
    "top_reason": ("Most common churn reason", "text", "Page 40."),
    "churn_probability_source": (
        "Churn probability from",
        "text",
        "The classifier or the purchase model, whichever scored better on the backtest.",
    ),
}


#: The headline KPIs, in reading order: the executive summary, the manifest, the index
#: and the "change since the previous run" table all use this one list.
HEADLINE_KPIS = (
    "customers", "active_share", "monthly_retention", "yearly_retention", "revenue_12m",
    "revenue_retention", "expected_value", "revenue_at_risk", "customers_to_contact",
    "value_to_contact", "retention_what_if_value",
)  # fmt: skip


def kpi_label(name: str, **values: object) -> str:
    """Return the label of a KPI for people (the name itself when it is not in the glossary).

    Parameters
    ----------
    name : str
        KPI name.
    **values
        Values for placeholders in the label (``points`` for the what-if).

    Returns
    -------
    str
    """
    if name not in KPI_GLOSSARY:
        return name.replace("_", " ").capitalize()
    label = KPI_GLOSSARY[name][0]
    try:
        return label.format(**values)
    except (KeyError, ValueError):
        return label.replace("+{points:g} points", "more points")


#: Money is summed as exact decimals with 6 places: engines that add doubles in
#: parallel add them in an order that changes from run to run, decimals do not.
_MONEY = ibis.dtype("decimal(38, 6)")

_YEAR = pd.Timedelta(days=365)

#: What the two functions accept as the transaction log.
Transactions = pd.DataFrame | LoadedTransactions | ir.Table | str | os.PathLike[str]


def _check_columns(columns: Sequence[str], required: Sequence[str], where: str) -> None:
    """Raise a plain-English :class:`DataValidationError` if a required column is missing."""
    if missing := [c for c in required if c not in columns]:
        raise DataValidationError(
            f"{where} needs the column(s) {', '.join(map(repr, missing))} in the transactions, "
            f"which have {', '.join(map(repr, columns)) or 'no columns'}. Rename them to "
            "churnlab's names (see churnlab.config) or load the log with "
            "churnlab.data.load_transactions(), which maps them."
        )


def _log(transactions: Transactions, required: Sequence[str], where: str) -> ir.Table:
    """Return the log as an Ibis table of the ``required`` columns, checked."""
    _check_columns([str(c) for c in as_table(transactions).columns], required, where)
    return as_table(transactions, columns=required)


def _monthly_events(table: ir.Table, *, window: int) -> pd.DataFrame:
    """Count, per calendar month, where active-base spells start and end; one query.

    A customer's distinct purchase months ``p`` (ordinal ``year * 12 + month - 1``)
    each keep them in the base for the months ``p .. p + min(window, g) - 1``, ``g``
    months before their next purchase month (``window`` after the last): those spells
    do not overlap, so the base at a month's end is the running sum of ``+1`` at each
    ``p`` and ``-1`` where each spell ends. A spell joins the base (N: a first
    purchase or a win-back) when the previous purchase month lies more than
    ``window`` months back or there is none. Only these counts, one row per month,
    leave the engine.
    """
    # DuckDB 2.0.1 groups EXTRACT(year) * 12 + EXTRACT(month) of a Parquet TIMESTAMP_NS
    # column on wrong values (seen: 655,360 months too many; disabling its
    # compressed_materialization optimizer avoids it). On microsecond timestamps, every
    # engine's resolution, it is right.
    date = table[DATE].cast("timestamp")
    month = date.year().cast("int64") * 12 + date.month().cast("int64") - 1
    pairs = table.select(CUSTOMER_ID, month=month).distinct()
    order = ibis.window(group_by=CUSTOMER_ID, order_by=pairs.month)
    back = pairs.month - pairs.month.lag().over(order)
    ahead = (pairs.month.lead().over(order) - pairs.month).fill_null(window)
    spells = pairs.select(
        "month",
        end=pairs.month + ibis.least(ahead, window),
        joins=(back.isnull() | (back > window)).cast("int64"),
        first=back.isnull().cast("int64"),
    )
    one, none = ibis.literal(1, type="int64"), ibis.literal(0, type="int64")
    events = spells.select("month", change=one, joins="joins", first="first").union(
        spells.select(month=spells.end, change=-one, joins=none, first=none)
    )
    per_month = events.group_by("month").aggregate(
        change=events.change.sum(), joins=events.joins.sum(), first=events.first.sum()
    )
    return execute(per_month).set_index("month").sort_index()


def _retention_table(
    events: pd.DataFrame, *, observation_end: pd.Timestamp, window: int
) -> pd.DataFrame:
    """Build the monthly table of :func:`active_base_retention` from :func:`_monthly_events`."""
    months = np.arange(events.index.min(), events.index.max() + 1)
    events = events.reindex(months, fill_value=0).astype("int64")
    per = pd.DataFrame(
        {
            "customers_end": events["change"].cumsum(),
            "retained": events["change"].cumsum() - events["joins"],
            "first_purchases": events["first"],
        },
        index=months,
    )
    last_complete = observation_end.year * 12 + observation_end.month - 1
    if observation_end < observation_end + pd.offsets.MonthEnd(0):
        last_complete -= 1  # the last month is not over
    per = per.reindex(np.arange(months[0], last_complete + 1), fill_value=0)
    per["customers_start"] = per["customers_end"].shift(1)
    per["new_customers"] = per["customers_end"] - per["retained"]
    # Nobody can lapse before the window has passed once: in the first `window` months
    # of the data every customer active at the start is still inside it at the end, so
    # those months would show an artificial 100% and are left out.
    per = per.iloc[window:]
    per["retention_rate"] = [
        retention_rate(s, e, n) if s > 0 else np.nan
        for s, e, n in per[["customers_start", "customers_end", "new_customers"]].to_numpy()
    ]
    per["churn_rate"] = 1 - per["retention_rate"]
    per.index = pd.PeriodIndex.from_ordinals(per.index - 1970 * 12, freq="M")
    per.index.name = "month"
    columns = ["customers_start", "customers_end", "new_customers", "first_purchases", "retained"]
    per[columns] = per[columns].astype("int64")
    return per[[*columns, "retention_rate", "churn_rate"]]


def active_base_retention(
    transactions: Transactions, *, observation_end: pd.Timestamp, window_months: int = 3
) -> pd.DataFrame:
    """Monthly retention of the active base (see the module docstring for the definition).

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, ibis.Table, path or glob
        Canonical transactions (``customer_id``, ``date``), queried through
        :func:`churnlab.engine.as_table`; only counts per month are fetched.
    observation_end : pandas.Timestamp
        Last date of the data; only calendar months that end on or before it count.
    window_months : int, default 3
        A customer is in the active base at a month's end when they bought in that
        month or the ``window_months - 1`` months before.

    Returns
    -------
    pandas.DataFrame
        Indexed by month, from the first month in which a customer can lapse (the
        ``window_months`` months after the data starts): ``customers_start`` (S),
        ``customers_end`` (E),
        ``new_customers`` (N: first purchases plus win-backs), ``first_purchases``,
        ``retained`` (E − N), ``retention_rate`` and ``churn_rate``.

    Raises
    ------
    DataValidationError
        If a column is missing or the log has no purchases.
    """
    where, window = "active_base_retention", max(int(window_months), 1)
    log = _log(transactions, (CUSTOMER_ID, DATE), where)
    events = _monthly_events(log, window=window)
    if events.index.isna().any():
        raise DataValidationError(
            f"{where}: some purchases have no date, so their month is unknown. Drop or fix "
            "those rows first; churnlab.data.load_transactions() sets them aside with a reason."
        )
    if events.empty:
        raise DataValidationError(
            f"{where}: the transaction log has no purchases, so there is no month to measure. "
            "Check the data source and the filters applied before the call."
        )
    return _retention_table(events, observation_end=observation_end, window=window)


def _query_totals(table: ir.Table, *, end: pd.Timestamp, since: pd.Timestamp) -> dict[str, Any]:
    """Compute the log's share of the KPI record in one aggregate query.

    A per-customer group-by with conditional sums (last purchase, revenue of the last
    365 days, revenue of the 365 days before and whether the customer bought in them),
    then one row of totals. Money is summed as exact decimals (:data:`_MONEY`), so the
    totals are the same run after run and on every engine. The date bounds are floored
    to microseconds, the engines' resolution (exact for dates of that resolution).
    """
    end, since = end.floor("us"), since.floor("us")
    date, money = table[DATE], table[AMOUNT].cast(_MONEY)
    before = (date > end - 2 * _YEAR) & (date <= end - _YEAR)
    per = table.group_by(CUSTOMER_ID).aggregate(
        last=date.max(),
        revenue_12m=money.sum(where=date > end - _YEAR),
        revenue_before=money.sum(where=before),
        revenue_last=money.sum(where=(date > end - _YEAR) & (date <= end)),
        first_before=date.min(where=before),
    )
    totals = per.aggregate(
        log_customers=per.count(),
        active_customers=per.count(where=per["last"] > since),
        revenue_12m=per.revenue_12m.sum().cast("float64"),
        revenue_before=per.revenue_before.sum().cast("float64"),
        revenue_kept=per.revenue_last.sum(where=per.first_before.notnull()).cast("float64"),
        first_before=per.first_before.min(),
    )
    row = execute(totals).iloc[0].to_dict()
    return {k: None if v is None or pd.isna(v) else v for k, v in row.items()}


def _revenue_retention(totals: Mapping[str, Any], end: pd.Timestamp) -> float:
    """Revenue of the last year from last year's customers ÷ the revenue of the year before."""
    base, first = totals["revenue_before"] or 0.0, totals["first_before"]
    if base <= 0 or first is None or first > end - 2 * _YEAR + pd.Timedelta(days=31):
        return float("nan")  # no complete year before the last one
    return float(totals["revenue_kept"] or 0.0) / base


def log_kpis(
    transactions: Transactions, *, observation_end: pd.Timestamp, churn_horizon_months: float
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Compute the KPIs that come from the log alone: retention, activity and revenue.

    Two engine queries (the monthly counts of :func:`active_base_retention` and one row
    of totals), independent of any model: the scoring pass runs them before the
    per-customer tables exist, so their working memory does not add to those.

    Parameters
    ----------
    transactions, observation_end, churn_horizon_months
        As in :func:`base_kpis`.

    Returns
    -------
    tuple of (dict, pandas.DataFrame)
        The log's part of the KPI record (unrounded) and the monthly retention table.
    """
    log = _log(transactions, (CUSTOMER_ID, DATE, AMOUNT), "log_kpis")
    monthly = active_base_retention(
        log, observation_end=observation_end, window_months=round(churn_horizon_months)
    )
    rates = monthly["retention_rate"].dropna().iloc[-12:]
    month_rate = float(np.exp(np.log(rates.clip(lower=1e-12)).mean())) if len(rates) else np.nan
    since = observation_end - pd.Timedelta(days=churn_horizon_months * 365.2425 / 12)
    totals = _query_totals(log, end=observation_end, since=since)
    record = {
        "active_customers": int(totals["active_customers"]),
        "log_customers": int(totals["log_customers"]),
        "month_rate": month_rate,
        "revenue_12m": float(totals["revenue_12m"] or 0.0),
        "revenue_retention": _revenue_retention(totals, observation_end),
    }
    return record, monthly


def base_kpis(
    transactions: Transactions,
    customers: pd.DataFrame,
    *,
    observation_end: pd.Timestamp,
    churn_horizon_months: float,
    extra: Mapping[str, Any] | None = None,
    from_log: tuple[dict[str, Any], pd.DataFrame] | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Compute the base-level KPI record of :data:`KPI_GLOSSARY`.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, ibis.Table, path or glob
        Cleaned transactions up to ``observation_end`` (``customer_id``, ``date``,
        ``amount``). The totals come from one engine query (:func:`churnlab.engine.as_table`;
        a DataFrame becomes an in-memory DuckDB table); only query results come back:
        that row of totals and the monthly counts of :func:`active_base_retention`.
    customers : pandas.DataFrame
        The scoring pass's per-customer table (``clv``, ``revenue_at_risk``, ``action``).
    observation_end : pandas.Timestamp
        "Now".
    churn_horizon_months : float
        Defines the active base (rounded to whole months for monthly retention).
    extra : mapping, optional
        Further KPIs computed elsewhere (the what-if value, the model choice).
    from_log : tuple, optional
        What :func:`log_kpis` returned for the same log and options, when it already
        ran; otherwise it runs here. When given, ``transactions``, ``observation_end``
        and ``churn_horizon_months`` are not read again.

    Returns
    -------
    tuple of (dict, pandas.DataFrame)
        The KPI record (plain floats, ints and strings; money rounded to cents, shares
        to 4 decimals) and the monthly retention table it was computed from.

    Raises
    ------
    DataValidationError
        If a column is missing or the log has no purchases.
    """
    if from_log is None:
        from_log = log_kpis(
            _log(transactions, (CUSTOMER_ID, DATE, AMOUNT), "base_kpis"),
            observation_end=observation_end,
            churn_horizon_months=churn_horizon_months,
        )
    log, monthly = from_log
    month_rate = log["month_rate"]
    no_action = pd.Series(False, index=customers.index)
    to_contact = customers["action"].notna() if "action" in customers else no_action
    kpis: dict[str, Any] = {
        "customers": len(customers),
        "active_customers": log["active_customers"],
        "active_share": round(log["active_customers"] / log["log_customers"], 4),
        "monthly_retention": round(month_rate, 4),
        "monthly_churn": round(1 - month_rate, 4),
        "yearly_retention": round(month_rate**12, 4),
        "yearly_churn": round(1 - month_rate**12, 4),
        "revenue_12m": round(log["revenue_12m"], 2),
        "revenue_retention": round(log["revenue_retention"], 4),
        "expected_value": round(float(customers["clv"].sum()), 2),
        "revenue_at_risk": round(float(customers["revenue_at_risk"].sum()), 2),
        "customers_to_contact": int(to_contact.sum()),
        "value_to_contact": round(float(customers.loc[to_contact, "revenue_at_risk"].sum()), 2),
    }
    kpis.update(extra or {})
    return {
        k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in kpis.items()
    }, monthly
