"""The base-level KPIs: one glossary of definitions, and the one function that computes them.

Every page, the index and ``kpis.json`` read their KPIs from :func:`base_kpis` and
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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from churnlab.config import AMOUNT, CUSTOMER_ID, DATE
from churnlab.retention import retention_rate

__all__ = ["HEADLINE_KPIS", "KPI_GLOSSARY", "active_base_retention", "base_kpis", "kpi_label"]

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


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Return the distinct int64 keys, sorted (a sort and a mask: faster than hashing)."""
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def _month_ordinal(dates: pd.Series) -> np.ndarray:
    return (dates.dt.year * 12 + dates.dt.month - 1).to_numpy(dtype="int64")


def active_base_retention(
    transactions: pd.DataFrame, *, observation_end: pd.Timestamp, window_months: int = 3
) -> pd.DataFrame:
    """Monthly retention of the active base (see the module docstring for the definition).

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transactions (``customer_id``, ``date``).
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
    """
    window = max(int(window_months), 1)
    codes, _ = pd.factorize(transactions[CUSTOMER_ID], sort=False)
    months = _month_ordinal(transactions[DATE])
    # One int64 key per (customer, month): month offsets start at 1 and leave `window`
    # free slots above the last month, so key - 1 and key + k never reach a neighbour.
    base = int(months.min()) - 1 if len(months) else 0
    span = int(months.max()) - base + window + 1 if len(months) else window + 1
    pairs = _sorted_unique(codes.astype("int64") * span + (months - base))
    customer, month = np.divmod(pairs, span)
    first_index = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    first = pd.Series(month[first_index] + base)  # sorted keys: a customer's first month first
    active = _sorted_unique(np.concatenate([pairs + k for k in range(window)]))
    # (customer, month) with a purchase in the window ending that month
    position = np.searchsorted(active, active - 1).clip(max=len(active) - 1)
    was_active = active[position] == active - 1
    active_month = active % span + base
    last_complete = observation_end.year * 12 + observation_end.month - 1
    if observation_end < observation_end + pd.offsets.MonthEnd(0):
        last_complete -= 1  # the last month is not over
    frame = pd.DataFrame({"month": active_month, "retained": was_active})
    per = frame.groupby("month").agg(
        customers_end=("retained", "size"), retained=("retained", "sum")
    )
    start, stop = int(month.min() + base), last_complete
    per = per.reindex(np.arange(start, stop + 1), fill_value=0)
    per["first_purchases"] = first.value_counts().reindex(per.index, fill_value=0)
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


def _revenue_retention(transactions: pd.DataFrame, end: pd.Timestamp) -> float:
    year = pd.Timedelta(days=365)
    dates = transactions[DATE]
    before = transactions[(dates > end - 2 * year) & (dates <= end - year)]
    last = transactions[(dates > end - year) & (dates <= end)]
    base = float(before[AMOUNT].sum())
    if base <= 0 or before[DATE].min() > end - 2 * year + pd.Timedelta(days=31):
        return float("nan")  # no complete year before the last one
    kept = last[last[CUSTOMER_ID].isin(before[CUSTOMER_ID].unique())]
    return float(kept[AMOUNT].sum()) / base


def base_kpis(
    transactions: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    observation_end: pd.Timestamp,
    churn_horizon_months: float,
    extra: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Compute the base-level KPI record of :data:`KPI_GLOSSARY`.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Cleaned transactions up to ``observation_end``.
    customers : pandas.DataFrame
        The scoring pass's per-customer table (``clv``, ``revenue_at_risk``, ``action``).
    observation_end : pandas.Timestamp
        "Now".
    churn_horizon_months : float
        Defines the active base (rounded to whole months for monthly retention).
    extra : mapping, optional
        Further KPIs computed elsewhere (the what-if value, the model choice).

    Returns
    -------
    tuple of (dict, pandas.DataFrame)
        The KPI record (plain floats, ints and strings; money rounded to cents, shares
        to 4 decimals) and the monthly retention table it was computed from.
    """
    monthly = active_base_retention(
        transactions,
        observation_end=observation_end,
        window_months=round(churn_horizon_months),
    )
    rates = monthly["retention_rate"].dropna().iloc[-12:]
    month_rate = float(np.exp(np.log(rates.clip(lower=1e-12)).mean())) if len(rates) else np.nan
    last = transactions.groupby(CUSTOMER_ID)[DATE].max()
    since = observation_end - pd.Timedelta(days=churn_horizon_months * 365.2425 / 12)
    year_ago = observation_end - pd.Timedelta(days=365)
    dates = transactions[DATE]
    to_contact = customers["action"].notna() if "action" in customers else pd.Series(False)
    kpis: dict[str, Any] = {
        "customers": len(customers),
        "active_customers": int((last > since).sum()),
        "active_share": round(float((last > since).mean()), 4),
        "monthly_retention": round(month_rate, 4),
        "monthly_churn": round(1 - month_rate, 4),
        "yearly_retention": round(month_rate**12, 4),
        "yearly_churn": round(1 - month_rate**12, 4),
        "revenue_12m": round(float(transactions.loc[dates > year_ago, AMOUNT].sum()), 2),
        "revenue_retention": round(_revenue_retention(transactions, observation_end), 4),
        "expected_value": round(float(customers["clv"].sum()), 2),
        "revenue_at_risk": round(float(customers["revenue_at_risk"].sum()), 2),
        "customers_to_contact": int(to_contact.sum()),
        "value_to_contact": round(float(customers.loc[to_contact, "revenue_at_risk"].sum()), 2),
    }
    kpis.update(extra or {})
    return {
        k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in kpis.items()
    }, monthly
