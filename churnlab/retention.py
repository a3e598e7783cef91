"""Retention KPIs: retention and churn rates, repeat purchase, cohorts, and what-if value.

The period retention rate is the CRM definition
``(customers at end - new customers) / customers at start``. For a transaction log
a customer is *active* in a period when they buy in it; the customers at the start
of period ``p`` are those active in ``p - 1``. The aggregations are Ibis
expressions (DuckDB by default, Spark or a warehouse when given such a table).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pandas as pd

from churnlab.config import AMOUNT, CUSTOMER_ID, DATE, FREQUENCY, RECENCY, T
from churnlab.engine import execute
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.models._base import unique_rows
from churnlab.units import check_unit, convert

__all__ = [
    "churn_rate",
    "cohort_matrix",
    "model_retention",
    "period_retention",
    "repeat_purchase_rate",
    "retention_rate",
    "what_if_retention",
]

_PERIODS = ("W", "M", "Q")


def retention_rate(customers_start: float, customers_end: float, new_customers: float) -> float:
    """Return ``(customers_end - new_customers) / customers_start``.

    Parameters
    ----------
    customers_start : float
        Customers at the start of the period (> 0).
    customers_end : float
        Customers at the end of the period.
    new_customers : float
        Customers acquired during the period (<= customers_end).

    Returns
    -------
    float
        The share of starting customers still there at the end. Worked example:
        start 1000, 200 new, end 1100 -> (1100 - 200) / 1000 = 0.90.

    Raises
    ------
    ConfigError
        If a count is negative, the start is 0, or more new than end customers.
    """
    values = {
        "customers_start": customers_start,
        "customers_end": customers_end,
        "new_customers": new_customers,
    }
    bad = {k: v for k, v in values.items() if not np.isfinite(v) or v < 0}
    if bad:
        raise ConfigError(f"Customer counts must be finite and >= 0; got {bad}.")
    if customers_start == 0:
        raise ConfigError(
            "customers_start is 0, so there is nobody to retain; the rate is undefined."
        )
    if new_customers > customers_end:
        raise ConfigError(
            f"new_customers={new_customers} exceeds customers_end={customers_end}; new "
            "customers are part of the end count. Check the inputs."
        )
    return float((customers_end - new_customers) / customers_start)


def churn_rate(customers_start: float, customers_end: float, new_customers: float) -> float:
    """Return the period churn rate, ``1 - retention_rate``.

    Parameters
    ----------
    customers_start, customers_end, new_customers : float
        As for :func:`retention_rate`.

    Returns
    -------
    float
        Share of starting customers lost in the period.
    """
    return 1.0 - retention_rate(customers_start, customers_end, new_customers)


def _table(transactions: Any) -> ibis.Table:
    from churnlab.engine import as_table

    table = as_table(transactions)
    missing = [c for c in (CUSTOMER_ID, DATE, AMOUNT) if c not in table.columns]
    if missing:
        raise DataValidationError(
            f"Retention KPIs need column(s) {missing}; the data has {list(table.columns)}. "
            "Load it with churnlab.data.load_transactions."
        )
    return table


def _period_index(table: ibis.Table, period: str) -> Any:
    date = table[DATE]
    if period == "M":
        return (date.year() * 12 + date.month() - 1).cast("int64")
    if period == "Q":
        return (date.year() * 4 + (date.month() - 1) // 3).cast("int64")
    if period == "W":  # weeks starting Monday; 1970-01-01 was a Thursday
        return ((date.epoch_seconds() / 86_400 + 3) / 7).floor().cast("int64")
    raise ConfigError(f"period={period!r} is not supported; use one of {_PERIODS}.")


def _period_label(index: pd.Series | np.ndarray, period: str) -> pd.Index:
    idx = np.asarray(index, dtype="int64")
    if period == "M":
        return pd.PeriodIndex.from_ordinals(idx - 1970 * 12 + 0, freq="M")
    if period == "Q":
        return pd.PeriodIndex.from_ordinals(idx - 1970 * 4, freq="Q")
    return pd.PeriodIndex(pd.Timestamp("1970-01-01") + pd.to_timedelta(idx * 7 - 3, "D"), freq="W")


def _customer_periods(transactions: Any, period: str) -> ibis.Table:
    table = _table(transactions)
    keyed = table.mutate(pidx=_period_index(table, period))
    cp = keyed.group_by([CUSTOMER_ID, "pidx"]).aggregate(revenue=keyed[AMOUNT].sum())
    by_customer = ibis.window(group_by=CUSTOMER_ID, order_by=cp.pidx)
    return cp.mutate(
        cohort=cp.pidx.min().over(ibis.window(group_by=CUSTOMER_ID)),
        prev=cp.pidx.lag().over(by_customer),
    )


def period_retention(transactions: Any, *, period: str = "M") -> pd.DataFrame:
    """Return retention, churn and revenue retention per period from a transaction log.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path or ibis.Table
        Canonical transaction log.
    period : {"W", "M", "Q"}, default "M"
        Period length.

    Returns
    -------
    pandas.DataFrame
        Indexed by period: ``customers_start`` (active the period before),
        ``customers_end`` (active this period), ``new_customers`` (first purchase
        this period), ``retained`` (active both periods), ``retention_rate``
        (``(end - new) / start``, which counts reactivated customers as kept),
        ``strict_retention`` (``retained / start``), ``churn_rate``, ``revenue``
        and ``revenue_retention`` (revenue this period from last period's active
        customers over last period's revenue). The first period has no start.
    """
    cp = _customer_periods(transactions, period)
    kept = cp.prev == cp.pidx - 1
    per = cp.group_by("pidx").aggregate(
        customers_end=cp.count(),
        new_customers=(cp.pidx == cp.cohort).ifelse(1, 0).sum(),
        retained=kept.ifelse(1, 0).sum(),
        revenue=cp.revenue.sum(),
        revenue_from_retained=kept.ifelse(cp.revenue, 0.0).sum(),
    )
    frame = execute(per).set_index("pidx").sort_index()
    full = np.arange(frame.index.min(), frame.index.max() + 1)
    frame = frame.reindex(full, fill_value=0)
    frame["customers_start"] = frame["customers_end"].shift(1)
    start = frame["customers_start"].where(frame["customers_start"] > 0)
    frame["retention_rate"] = (frame["customers_end"] - frame["new_customers"]) / start
    frame["strict_retention"] = frame["retained"] / start
    frame["churn_rate"] = 1 - frame["retention_rate"]
    prev_revenue = frame["revenue"].shift(1)
    frame["revenue_retention"] = frame["revenue_from_retained"] / prev_revenue.where(
        prev_revenue > 0
    )
    frame.index = _period_label(frame.index, period)
    frame.index.name = "period"
    columns = [
        "customers_start",
        "customers_end",
        "new_customers",
        "retained",
        "retention_rate",
        "strict_retention",
        "churn_rate",
        "revenue",
        "revenue_retention",
    ]
    return frame[columns]


def repeat_purchase_rate(transactions: Any, *, cutoff: Any = None) -> float:
    """Return the share of customers who bought on at least two different days.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path or ibis.Table
        Canonical transaction log.
    cutoff : date-like, optional
        Only purchases before this date count.

    Returns
    -------
    float
        Repeat customers / all customers.
    """
    table = _table(transactions)
    if cutoff is not None:
        table = table.filter(table[DATE] < pd.Timestamp(cutoff).to_pydatetime())
    days = table.group_by(CUSTOMER_ID).aggregate(n=table[DATE].truncate("D").nunique())
    counts = days.aggregate(customers=days.count(), repeat=(days.n >= 2).ifelse(1, 0).sum())
    row = execute(counts).iloc[0]
    if row["customers"] == 0:
        raise DataValidationError("repeat_purchase_rate got no purchases (before the cutoff).")
    return float(row["repeat"] / row["customers"])


def cohort_matrix(
    transactions: Any,
    *,
    period: str = "M",
    values: str = "customers",
    normalize: bool = True,
) -> pd.DataFrame:
    """Return the cohort retention matrix by first-purchase period.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path or ibis.Table
        Canonical transaction log.
    period : {"W", "M", "Q"}, default "M"
        Cohort and age period.
    values : {"customers", "revenue"}, default "customers"
        Active customers or their revenue per cohort and age.
    normalize : bool, default True
        Divide each row by its age-0 value (share of the cohort still active, or
        revenue relative to the first period).

    Returns
    -------
    pandas.DataFrame
        Rows = cohort (first-purchase period), columns = periods since the first
        purchase (0, 1, ...); NaN where the age lies beyond the data. The cohort
        sizes are in ``attrs["cohort_size"]``.
    """
    if values not in ("customers", "revenue"):
        raise ConfigError(f"values={values!r}: use 'customers' or 'revenue'.")
    cp = _customer_periods(transactions, period)
    cp = cp.mutate(age=cp.pidx - cp.cohort)
    per = cp.group_by(["cohort", "age"]).aggregate(customers=cp.count(), revenue=cp.revenue.sum())
    frame = execute(per)
    matrix = frame.pivot(index="cohort", columns="age", values=values).sort_index()
    ages = np.arange(0, int(matrix.columns.max()) + 1)
    matrix = matrix.reindex(columns=ages)
    observable = (
        ages[None, :] <= (frame["cohort"] + frame["age"]).max() - matrix.index.to_numpy()[:, None]
    )
    matrix = matrix.mask(observable & matrix.isna(), 0.0)
    size = matrix[0].copy()
    if normalize:
        matrix = matrix.div(matrix[0], axis=0)
    matrix.index = _period_label(matrix.index, period)
    matrix.index.name = "cohort"
    matrix.columns.name = "periods_since_first"
    matrix.attrs["cohort_size"] = size.set_axis(matrix.index)
    matrix.attrs["values"] = values
    matrix.attrs["period"] = period
    return matrix


def model_retention(transaction_model: Any, t: float) -> float:
    """Share of currently active customers a fitted model expects to survive ``t`` periods.

    In BG/NBD (Fader, Hardie & Lee 2005) an active customer with purchase rate λ drops
    out after each purchase with probability p, i.e. at rate λp, so survives ``t`` with
    probability ``exp(-λpt)``. Averaging over λ ~ Gamma(r, α) gives
    ``(α / (α + pt))^r``, then over p ~ Beta(a, b) by quadrature
    with the Beta weight (QUADPACK's QAWS). For Pareto/NBD the dropout rate μ ~ Gamma(s, β) gives
    ``(β / (β + t))^s``.

    Parameters
    ----------
    transaction_model : fitted BetaGeoModel, ModifiedBetaGeoModel or ParetoNBDModel
        Needs ``r_, alpha_, a_, b_`` or ``s_, beta_``.
    t : float
        Time, in the model's time unit.

    Returns
    -------
    float
        Expected survival share in [0, 1].

    Raises
    ------
    ConfigError
        If the model has neither parameter set (pass ``baseline_retention``).
    """
    params = {
        k: getattr(transaction_model, f"{k}_", None) for k in ("r", "alpha", "a", "b", "s", "beta")
    }
    if params["s"] is not None and params["beta"] is not None:
        return float((params["beta"] / (params["beta"] + t)) ** params["s"])
    if None in (params["r"], params["alpha"], params["a"], params["b"]):
        raise ConfigError(
            f"Cannot read a retention rate from {type(transaction_model).__name__}; fit a "
            "BG/NBD or Pareto/NBD model or pass baseline_retention=..."
        )
    from scipy import integrate, special

    def survival(p: float) -> float:
        return (params["alpha"] / (params["alpha"] + p * t)) ** params["r"]

    # QAWS quadrature handles the Beta weight's endpoint singularities exactly
    a, b = max(params["a"], 1e-12), max(params["b"], 1e-12)
    value, _ = integrate.quad(survival, 0.0, 1.0, weight="alg", wvar=(a - 1, b - 1))
    return float(min(max(value / special.beta(a, b), 0.0), 1.0))


def observed_annual_retention(transactions: Any) -> float:
    """Yearly retention observed in a log: the mean quarterly retention rate, compounded.

    Quarterly rates (:func:`period_retention` with ``period="Q"``) are capped at 1 and
    averaged, then raised to the 4th power. This is the baseline to use in
    :func:`what_if_retention` when the fitted model sees almost no dropout.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path or ibis.Table
        Canonical transaction log.

    Returns
    -------
    float
        Yearly retention in [0, 1], or NaN when the log spans less than two quarters.
    """
    quarterly = period_retention(transactions, period="Q")["retention_rate"].dropna()
    if quarterly.empty:
        return float("nan")
    return float(quarterly.clip(upper=1).mean() ** 4)


def what_if_retention(
    transaction_model: Any,
    spend_model: Any,
    summary: pd.DataFrame,
    *,
    points: float | Sequence[float] = (1, 2, 5, 10),
    horizon: int = 36,
    horizon_unit: str = "M",
    retention_period: int = 12,
    discount_rate: float = 0.01,
    baseline_retention: float | None = None,
) -> pd.DataFrame:
    """Value of the customer base if retention rose by ``points`` percentage points.

    The fitted models give each customer's expected purchases in each future
    period, ``ΔE_ik``, and expected spend ``s_i``; the base value is
    ``Σ_i s_i Σ_k ΔE_ik / (1 + d)^k`` (as ``customer_lifetime_value``). The base
    retention ``R`` over ``retention_period`` periods (a year by default) is the
    model's share of active customers who are still active after that time, see
    :func:`model_retention`. Raising ``R`` by k points gives
    ``r' = (R + k/100)^(1/retention_period)``, and purchases in period ``k`` are
    scaled by the survival ratio ``(r'/r)^k``. This is a what-if on the model's
    own retention curve, not a causal estimate.

    Parameters
    ----------
    transaction_model : fitted BetaGeoModel (or another transaction model)
        Needs ``expected_purchases(data, t)`` and ``time_unit_``.
    spend_model : fitted GammaGammaModel
        Needs ``expected_spend(data)``.
    summary : pandas.DataFrame
        frequency, recency, T, monetary_value per customer.
    points : float or sequence of float, default (1, 2, 5, 10)
        Retention increases in percentage points of ``R``.
    horizon : int, default 36
        Projection periods of ``horizon_unit``.
    horizon_unit : {"D", "W", "M"}, default "M"
        Length of a projection period.
    retention_period : int, default 12
        Periods over which the retention rate is quoted (12 months = annual).
    discount_rate : float, default 0.01
        Discount rate per projection period.
    baseline_retention : float, optional
        Observed retention over ``retention_period`` (e.g. from
        :func:`period_retention`) to use instead of the model-implied ``R``.

    Returns
    -------
    pandas.DataFrame
        One row per ``points``: ``retention_base``, ``retention_new``,
        ``value_base``, ``value_new``, ``value_change`` and ``value_change_pct``.
        The new retention is capped at 1.
    """
    if horizon < 2:
        raise ConfigError(f"horizon={horizon} must be at least 2 periods.")
    unit = getattr(transaction_model, "time_unit_", None)
    check_unit(unit, name="transaction_model.time_unit_")
    delta = convert(1, check_unit(horizon_unit, name="horizon_unit"), unit)
    spend = spend_model.expected_spend(summary).to_numpy(dtype=float)
    spend = np.where(np.isfinite(spend), spend, np.nanmean(spend))
    # customers with the same (frequency, recency, T) have the same purchase curve: project
    # each distinct row once, weighted by the expected spend of its customers
    columns = [summary[c].to_numpy(dtype=float) for c in (FREQUENCY, RECENCY, T)]
    distinct, key = unique_rows(*columns)
    curves = pd.DataFrame(dict(zip((FREQUENCY, RECENCY, T), distinct, strict=True)))
    spend = np.bincount(key, weights=spend, minlength=len(curves))
    cumulative = np.column_stack(
        [np.zeros(len(curves))]
        + [
            transaction_model.expected_purchases(curves, k * delta).to_numpy(dtype=float)
            for k in range(1, horizon + 1)
        ]
    )
    increments = np.diff(cumulative, axis=1)
    k = np.arange(1, horizon + 1)
    discount = (1 + discount_rate) ** -k
    weighted = spend[:, None] * increments
    base_value = float(np.nansum(weighted * discount))
    periods_in_model_units = retention_period * delta
    if baseline_retention is None:
        base_retention = model_retention(transaction_model, periods_in_model_units)
    elif 0 < baseline_retention < 1:
        base_retention = float(baseline_retention)
    else:
        raise ConfigError(
            f"baseline_retention={baseline_retention!r} must lie strictly between 0 and 1."
        )
    r = base_retention ** (1 / retention_period)
    rows = {}
    for pts in np.atleast_1d(points):
        new_retention = min(base_retention + pts / 100, 1.0)
        r_new = new_retention ** (1 / retention_period)
        uplift = (r_new / r) ** k
        value = float(np.nansum(weighted * discount * uplift))
        rows[float(pts)] = {
            "retention_base": base_retention,
            "retention_new": new_retention,
            "value_base": base_value,
            "value_new": value,
            "value_change": value - base_value,
            "value_change_pct": 100 * (value - base_value) / base_value,
        }
    result = pd.DataFrame.from_dict(rows, orient="index")
    result.index.name = "points"
    return result
