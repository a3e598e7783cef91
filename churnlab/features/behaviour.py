"""Point-in-time behaviour features for churn models.

Every feature is computed from purchases made strictly **before** a cutoff, so a
model trained on them never sees the future: adding or changing purchases on or
after the cutoff cannot change any value. The aggregations are Ibis expressions
built on :func:`churnlab.engine.as_table`, so they run on DuckDB by
default and on Spark or a warehouse when given such a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pandas as pd

from churnlab.config import AMOUNT, CUSTOMER_ID, DATE, ORDER_ID, PRODUCT_ID, QUANTITY
from churnlab.data.validation import parse_date, period_days, require_columns
from churnlab.engine import as_table, execute, execute_floats, settle_array, settle_floats
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.features.rfm import EXACT_MONEY, day_aggregates, day_rfm

__all__ = [
    "FEATURE_DESCRIPTIONS",
    "behaviour_expr",
    "behaviour_features",
    "finish_behaviour",
    "returns_from_dropped",
]

#: Plain-English meaning of every feature column (used by reports and reason texts).
FEATURE_DESCRIPTIONS: dict[str, str] = {
    "frequency": "repeat purchases (purchase periods after the first)",
    "recency": "time between first and last purchase, in periods of the time unit",
    "T": "time between first purchase and cutoff, in periods of the time unit",
    "monetary_value": "average spend per repeat purchase",
    "n_orders": "orders before the cutoff",
    "total_spend": "total spend before the cutoff",
    "avg_order_value": "average order value",
    "tenure_days": "days since the first purchase",
    "days_since_last": "days since the last purchase",
    "ipt_mean_days": "average days between purchase days",
    "ipt_std_days": "standard deviation of days between purchase days",
    "ipt_cv": "irregularity of purchase gaps (std / mean)",
    "regularity": "purchase regularity, from 0 (erratic) to 1 (clockwork)",
    "gap_ratio": "days since last purchase divided by the usual gap",
    "orders_last": "orders in the last trend window",
    "orders_prev": "orders in the trend window before that",
    "spend_last": "spend in the last trend window",
    "spend_prev": "spend in the trend window before that",
    "orders_change_pct": "change in orders, last window vs the one before, in %",
    "spend_change_pct": "change in spend, last window vs the one before, in %",
    "avg_basket_lines": "average lines per order",
    "avg_basket_items": "average units per order",
    "n_products": "distinct products bought",
    "product_diversity": "distinct products per order line",
    "returns_share": "share of gross spend that was returned or cancelled",
    "n_returns": "return or cancellation documents",
    "p_alive": "BG/NBD probability that the customer is still active",
    "expected_purchases": "BG/NBD expected purchases over the model horizon",
    "clv": "customer lifetime value over the CLV horizon",
}

#: Columns that sum or average floats (see :func:`churnlab.engine.settle_floats`).
_ORDER_DEPENDENT = (
    "monetary_value", "total_spend", "avg_order_value", "spend_last", "spend_prev",
    "avg_basket_lines", "avg_basket_items", "ipt_mean_days", "ipt_std_days",
)  # fmt: skip

#: Columns :func:`finish_behaviour` derives from the query's aggregates, in order.
_DERIVED = (
    "ipt_cv", "regularity", "gap_ratio", "orders_change_pct", "spend_change_pct",
    "product_diversity",
)  # fmt: skip

# typed literals: Spark reads an untyped 86400.0 as a DECIMAL and rounds the quotient
# to 8 decimals; as doubles both backends give the same days
_SECONDS_PER_DAY = ibis.literal(86_400.0, type="float64")


def _as_table(source: Any) -> ibis.Table:
    return as_table(source)


def returns_from_dropped(
    dropped: pd.DataFrame, *, reasons: Sequence[str] | None = None
) -> pd.DataFrame:
    """Pick the returns and cancellations out of a loader's dropped rows.

    Parameters
    ----------
    dropped : pandas.DataFrame
        ``LoadedTransactions.dropped``: canonical columns plus ``drop_reason``.
    reasons : sequence of str, optional
        Drop reasons that count as returns. By default every reason whose name
        contains "cancel" or "return".

    Returns
    -------
    pandas.DataFrame
        The matching rows with a customer id, ready for ``returns=``.
    """
    require_columns(
        dropped, [CUSTOMER_ID, DATE, AMOUNT, "drop_reason"], where="returns_from_dropped"
    )
    reason = dropped["drop_reason"].astype(str)
    if reasons is None:
        mask = reason.str.contains("cancel|return", case=False, regex=True)
    else:
        mask = reason.isin(list(reasons))
    rows = dropped.loc[mask & dropped[CUSTOMER_ID].notna()].copy()
    rows[DATE] = pd.to_datetime(rows[DATE], errors="coerce")
    return rows.loc[rows[DATE].notna()]


def _log_aggregates(
    table: ibis.Table, *, cutoff: pd.Timestamp, trend_days: float, time_unit: str
) -> tuple[ibis.Table, bool, bool]:
    """Return one Ibis expression with the per-customer aggregates of ``table``.

    The RFM columns (``_rfm_*``) come from the same ordered purchase days as the gaps
    between them (:func:`churnlab.features.rfm.day_aggregates`), so the log is
    grouped by customer and day once for both.
    """
    cutoff_epoch = (cutoff - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)
    has_qty = QUANTITY in table.columns
    has_product = PRODUCT_ID in table.columns
    order_key = ORDER_ID if ORDER_ID in table.columns else DATE

    order_metrics: dict[str, Any] = {
        "odate": table[DATE].min(),
        "oamount": table[AMOUNT].sum(),
        "olines": table.count(),
    }
    if has_qty:
        order_metrics["oitems"] = table[QUANTITY].sum()
    orders = table.group_by([CUSTOMER_ID, order_key]).aggregate(**order_metrics)
    orders = orders.mutate(
        age_days=(
            ibis.literal(cutoff_epoch, type="float64")
            - orders.odate.epoch_seconds().cast("float64")
        )
        / _SECONDS_PER_DAY
    )
    last = orders.age_days < trend_days
    prev = (orders.age_days >= trend_days) & (orders.age_days < 2 * trend_days)
    customer_metrics: dict[str, Any] = {
        "n_orders": orders.count(),
        "total_spend": orders.oamount.sum(),
        "avg_order_value": orders.oamount.mean(),
        "days_since_last": orders.age_days.min(),
        "tenure_days": orders.age_days.max(),
        "avg_basket_lines": orders.olines.mean(),
        "orders_last": last.ifelse(1, 0).sum(),
        "orders_prev": prev.ifelse(1, 0).sum(),
        "spend_last": last.ifelse(orders.oamount, 0.0).sum(),
        "spend_prev": prev.ifelse(orders.oamount, 0.0).sum(),
    }
    if has_qty:
        customer_metrics["avg_basket_items"] = orders.oitems.mean()
    per_customer = orders.group_by(CUSTOMER_ID).aggregate(**customer_metrics)

    # a projection of its own: the engine then reads the log for the days as it does for
    # the orders, instead of materialising the filtered log for both (a shared subquery)
    lines = table.select(CUSTOMER_ID, day=table[DATE].truncate("D"), amount=table[AMOUNT])
    days = lines.group_by([CUSTOMER_ID, "day"]).aggregate(
        day_amount=lines[AMOUNT].cast(EXACT_MONEY).sum()
    )
    window = ibis.window(group_by=CUSTOMER_ID, order_by=days.day)
    days = days.mutate(
        previous_day=days.day.lag().over(window), first_day=days.day.min().over(window)
    )
    seconds = days.day.epoch_seconds().cast("float64")
    gap = (seconds - days.previous_day.epoch_seconds().cast("float64")) / _SECONDS_PER_DAY
    by_day = days.group_by(CUSTOMER_ID).aggregate(
        ipt_mean_days=gap.mean(),
        ipt_std_days=gap.std(),
        **day_aggregates(days, time_unit=time_unit),
    )
    rfm = day_rfm(by_day, observation_end=cutoff, time_unit=time_unit)
    by_day = by_day.select(
        CUSTOMER_ID, "ipt_mean_days", "ipt_std_days", **{f"_rfm_{c}": v for c, v in rfm.items()}
    )
    joined = per_customer.join(by_day, CUSTOMER_ID)
    if has_product:
        products = table.group_by(CUSTOMER_ID).aggregate(
            n_products=table[PRODUCT_ID].nunique(), n_lines=table.count()
        )
        joined = joined.join(products, CUSTOMER_ID)
    return joined, has_qty, has_product


def _returns_aggregates(returns: Any, *, cutoff: pd.Timestamp) -> pd.DataFrame:
    table = _as_table(returns)
    table = table.filter(table[DATE] < cutoff.to_pydatetime())
    table = table.filter(table[CUSTOMER_ID].notnull())
    key = table[ORDER_ID] if ORDER_ID in table.columns else table[DATE]
    result = table.group_by(CUSTOMER_ID).aggregate(
        returned_amount=table[AMOUNT].abs().sum(), n_returns=key.nunique()
    )
    return execute(result).set_index(CUSTOMER_ID)


def behaviour_features(
    transactions: Any,
    *,
    cutoff: Any,
    time_unit: str = "W",
    trend_periods: int = 3,
    trend_unit: str = "M",
    returns: Any = None,
) -> pd.DataFrame:
    """Build one row of behaviour features per customer from purchases before ``cutoff``.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path or ibis.Table
        Canonical transaction log (customer_id, date, amount; optionally order_id,
        quantity, product_id).
    cutoff : date-like
        Point in time. Only purchases with ``date < cutoff`` are used.
    time_unit : {"D", "W", "M"}, default "W"
        Unit of the RFM columns (frequency, recency, T). Purchase-model outputs
        (P(alive), expected purchases, CLV) are added by
        :func:`churnlab.classifier.model_features.model_features`.
    trend_periods : int, default 3
        Length N of the engagement-trend windows: the last N ``trend_unit``
        periods are compared with the N before them.
    trend_unit : {"D", "W", "M"}, default "M"
        Unit of the trend windows (3 months = a quarter).
    returns : DataFrame, optional
        Returns/cancellations in canonical columns, e.g. from
        :func:`returns_from_dropped`; adds ``returns_share`` and ``n_returns``.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer_id, float64 columns described in
        :data:`FEATURE_DESCRIPTIONS`; customers without a purchase before the
        cutoff are absent.

    Raises
    ------
    ConfigError
        If ``cutoff`` is not a date or a unit is unknown.
    DataValidationError
        If no purchase precedes the cutoff.
    """
    stamp = parse_date(cutoff, name="cutoff")
    period_days(time_unit, name="time_unit")  # checks the unit
    trend_days = trend_periods * period_days(trend_unit, name="trend_unit")
    if trend_periods < 1:
        raise ConfigError(f"trend_periods={trend_periods} must be a positive whole number.")
    table = _as_table(transactions)
    missing = [c for c in (CUSTOMER_ID, DATE, AMOUNT) if c not in table.columns]
    if missing:
        raise DataValidationError(
            f"behaviour_features needs column(s) {', '.join(map(repr, missing))}; the data has "
            f"{', '.join(map(repr, table.columns))}. Load it with churnlab.data.load_transactions."
        )
    # sorted by the engine, in parallel: the index is then in order already
    query = _behaviour_query(table, stamp, time_unit, trend_days).order_by(CUSTOMER_ID)
    frame = execute_floats(query, index=CUSTOMER_ID)
    if frame.empty:
        raise DataValidationError(
            f"No purchase happens before cutoff {stamp.date()}, so there is nothing to "
            "describe. Choose a later cutoff."
        )
    features = finish_behaviour(frame, cutoff=stamp, time_unit=time_unit)
    if returns is not None:
        returned = _returns_aggregates(returns, cutoff=stamp)
        returned.index = returned.index.astype(str)
        returned = returned.reindex(features.index).fillna(0.0).astype("float64")
        gross = features["total_spend"].clip(lower=0) + returned["returned_amount"]
        features["returns_share"] = (returned["returned_amount"] / gross).where(gross > 0, 0.0)
        features["n_returns"] = returned["n_returns"]
        features = settle_floats(features.replace([np.inf, -np.inf], np.nan))
    # the engine sorted the rows: sorting again would only copy the table
    return features if features.index.is_monotonic_increasing else features.sort_index()


def _behaviour_query(
    table: ibis.Table, stamp: pd.Timestamp, time_unit: str, trend_days: float
) -> ibis.Table:
    before = table.filter(table[DATE] < stamp.to_pydatetime())
    # one query per snapshot, the RFM columns included
    aggregates, _, _ = _log_aggregates(
        before, cutoff=stamp, trend_days=trend_days, time_unit=time_unit
    )
    return aggregates


def behaviour_expr(
    transactions: Any,
    *,
    cutoff: Any,
    time_unit: str = "W",
    trend_periods: int = 3,
    trend_unit: str = "M",
) -> ibis.Table:
    """Return the one Ibis query behind :func:`behaviour_features`, unexecuted.

    Its rows are per-customer aggregates; :func:`finish_behaviour` turns a batch of
    them (any subset of rows, e.g. one Spark partition) into the feature columns.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path or ibis.Table
        Canonical transaction log.
    cutoff : date-like
        Only purchases with ``date < cutoff`` are used.
    time_unit, trend_periods, trend_unit
        As in :func:`behaviour_features`.

    Returns
    -------
    ibis.Table
    """
    stamp = parse_date(cutoff, name="cutoff")
    period_days(time_unit, name="time_unit")
    trend_days = trend_periods * period_days(trend_unit, name="trend_unit")
    return _behaviour_query(_as_table(transactions), stamp, time_unit, trend_days)


def finish_behaviour(frame: pd.DataFrame, *, cutoff: Any, time_unit: str) -> pd.DataFrame:
    """Turn rows of :func:`behaviour_expr` into behaviour features (row by row).

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of the query, indexed by customer_id.
    cutoff : date-like
        The query's cutoff (recorded in ``attrs``).
    time_unit : str
        The query's time unit.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`behaviour_features` (without the returns columns), in
        the order of ``frame``.
    """
    rfm = {f"_rfm_{c}": c for c in ("frequency", "recency", "T", "monetary_value")}
    kept = [*rfm, *(c for c in frame.columns if c not in rfm and c != "n_lines")]
    lines = "n_lines" in frame.columns
    names = [rfm.get(c, c) for c in kept]
    names += [c for c in _DERIVED if lines or c != "product_diversity"]
    # one (columns, rows) block, filled column by column: no frame is copied or grown
    block = np.empty((len(names), len(frame)), dtype="float64")
    block[: len(kept)] = frame[kept].to_numpy(dtype="float64").T
    column = dict(zip(names, block, strict=True))
    # only sums and means of floats depend on the engine's order of addition; the rest
    # (counts, extremes, whole periods) and what is derived from settled values do not
    for name in _ORDER_DEPENDENT:
        if name in column:
            settle_array(column[name])
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(column["ipt_std_days"], column["ipt_mean_days"], out=column["ipt_cv"])
        np.divide(1.0, 1.0 + column["ipt_cv"], out=column["regularity"])
        np.divide(column["days_since_last"], column["ipt_mean_days"], out=column["gap_ratio"])
        for what in ("orders", "spend"):
            last, prev = column[f"{what}_last"], column[f"{what}_prev"]
            column[f"{what}_change_pct"][:] = np.where(
                prev > 0, (last - prev) / prev * 100.0, np.nan
            )
        if lines:
            products, n_lines = column["n_products"], frame["n_lines"].to_numpy(dtype="float64")
            np.divide(products, n_lines, out=column["product_diversity"])
    block[np.isinf(block)] = np.nan
    features = pd.DataFrame(block.T, index=frame.index.astype(str), columns=names, copy=False)
    features.index.name = CUSTOMER_ID
    features.attrs["time_unit"] = time_unit
    features.attrs["cutoff"] = str(parse_date(cutoff, name="cutoff"))
    return features
