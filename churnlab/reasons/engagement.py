"""Engagement before churn: spend and order trajectories in the last periods.

With a transaction log, each churned customer's spend is bucketed into the
``n_periods`` periods before the churn date (or the last purchase when no
date is known). A customer whose spend in the later half of that window is
below 75 % of the earlier half *faded*; otherwise the departure was *sudden*
(no decline first). Snapshot data such as Telco has no log:
:func:`usage_by_band` summarises what the snapshot offers instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.config import AMOUNT, CUSTOMER_ID, DATE, ORDER_ID
from churnlab.data.validation import require_columns
from churnlab.exceptions import ConfigError
from churnlab.units import days_per

__all__ = [
    "FADE_THRESHOLD",
    "engagement_by_reason",
    "engagement_trajectories",
    "period_activity",
    "usage_by_band",
]

#: Later-half spend below this fraction of the earlier half counts as fading.
FADE_THRESHOLD = 0.75
FADING, SUDDEN, NOT_AVAILABLE = "fading", "sudden", "n/a"


def period_activity(
    transactions: pd.DataFrame,
    end_dates: pd.Series,
    *,
    n_periods: int = 6,
    time_unit: str = "M",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spend and orders per customer in each of the last ``n_periods`` before churn.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical columns customer_id, date, amount (order_id optional).
    end_dates : pandas.Series
        Churn reference date per customer (index customer_id); NaT means the
        day after the customer's last purchase.
    n_periods : int, default 6
        Window length in periods.
    time_unit : {"D", "W", "M"}, default "M"
        Period length (see ``churnlab.config.TIME_UNIT_DAYS``).

    Returns
    -------
    tuple of pandas.DataFrame
        ``(spend, orders)``, index customer_id (the ids of ``end_dates``),
        columns ``-n_periods .. -1`` (-1 = the period just before churn). Periods
        before a customer's first purchase are NaN, not zero.
    """
    if int(n_periods) < 2:
        raise ConfigError(f"n_periods must be at least 2 to show a trend, got {n_periods!r}.")
    require_columns(transactions, [CUSTOMER_ID, DATE, AMOUNT], where="period_activity")
    length = pd.Timedelta(days=days_per(time_unit))
    tx = transactions[transactions[CUSTOMER_ID].isin(end_dates.index)]
    first = tx.groupby(CUSTOMER_ID)[DATE].min()
    last = tx.groupby(CUSTOMER_ID)[DATE].max()
    end = end_dates.astype("datetime64[ns]")
    end = end.fillna(last.reindex(end.index).dt.normalize() + pd.Timedelta(days=1))
    tx = tx.assign(_end=tx[CUSTOMER_ID].map(end))
    age = (tx["_end"] - tx[DATE]) / length
    tx = tx.assign(_period=-(np.floor(age).astype("Int64") + 1))
    tx = tx[(age >= 0) & (tx["_period"] >= -n_periods)]
    columns = list(range(-n_periods, 0))
    spend = tx.pivot_table(index=CUSTOMER_ID, columns="_period", values=AMOUNT, aggfunc="sum")
    key = ORDER_ID if ORDER_ID in tx.columns else DATE
    orders = tx.pivot_table(index=CUSTOMER_ID, columns="_period", values=key, aggfunc="nunique")
    spend = spend.reindex(index=end.index, columns=columns).fillna(0.0)
    orders = orders.reindex(index=end.index, columns=columns).fillna(0.0)
    start = (end - first.reindex(end.index)) / length
    known = np.asarray(columns)[None, :] >= -(np.floor(start.to_numpy(dtype=float)) + 1)[:, None]
    spend, orders = spend.where(known), orders.where(known)
    spend.columns.name = orders.columns.name = "periods_before_churn"
    return spend.astype(float), orders.astype(float)


def trend_and_pattern(spend: pd.DataFrame) -> pd.DataFrame:
    """Per-customer relative trend and fade/sudden pattern from a spend matrix.

    Parameters
    ----------
    spend : pandas.DataFrame
        Output of :func:`period_activity`.

    Returns
    -------
    pandas.DataFrame
        ``engagement_trend``: least-squares slope of spend per period divided by
        the mean spend in the window (e.g. -0.2 = falling 20 % of the average per
        period); ``engagement_pattern``: "fading", "sudden", or "n/a" with fewer
        than two known periods or no spend.
    """
    values = spend.to_numpy(dtype=float)
    x = np.asarray(spend.columns, dtype=float)
    known = ~np.isnan(values)
    count = known.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = np.where(known, x, np.nan)
        x_mean = np.nanmean(xm, axis=1, keepdims=True)
        y_mean = np.nanmean(values, axis=1, keepdims=True)
        cov = np.nansum((xm - x_mean) * (values - y_mean), axis=1)
        var = np.nansum((xm - x_mean) ** 2, axis=1)
        trend = cov / var / y_mean[:, 0]
        half = np.floor(count / 2).astype(int)
    early = np.full(len(values), np.nan)
    late = np.full(len(values), np.nan)
    for i, row in enumerate(values):
        row = row[~np.isnan(row)]
        if half[i] >= 1:
            early[i] = row[: half[i]].mean()
            late[i] = row[-half[i] :].mean()
    usable = (count >= 2) & (y_mean[:, 0] > 0)
    pattern = np.where(late < FADE_THRESHOLD * early, FADING, SUDDEN)
    return pd.DataFrame(
        {
            "engagement_trend": np.where(usable, trend, np.nan),
            "engagement_pattern": np.where(usable, pattern, NOT_AVAILABLE),
        },
        index=spend.index,
    )


def engagement_trajectories(
    transactions: pd.DataFrame,
    records: pd.DataFrame,
    *,
    by: str = "category",
    n_periods: int = 6,
    time_unit: str = "M",
) -> pd.DataFrame:
    """Average spend and orders per period before churn, per reason.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transaction log.
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record`.
    by : str, default "category"
        Reason column of ``records`` to group by.
    n_periods : int, default 6
        Window length.
    time_unit : {"D", "W", "M"}, default "M"
        Period length.

    Returns
    -------
    pandas.DataFrame
        Long table: ``by``, periods_before_churn, customers, mean_spend,
        mean_orders and spend_index (mean spend / the group's window average).
    """
    require_columns(records, [by, "churn_date"], where="engagement_trajectories")
    spend, orders = period_activity(
        transactions, records["churn_date"], n_periods=n_periods, time_unit=time_unit
    )
    group = records[by].reindex(spend.index)
    long = []
    for name, table in (("mean_spend", spend), ("mean_orders", orders)):
        stacked = table.groupby(group).mean().stack().rename(name)
        long.append(stacked)
    out = pd.concat(long, axis=1)
    out.index.names = [by, "periods_before_churn"]
    out.insert(0, "customers", spend.notna().groupby(group).sum().stack())
    out = out.reset_index()
    window = out.groupby(by)["mean_spend"].transform("mean")
    out["spend_index"] = out["mean_spend"] / window.where(window > 0)
    return out


def engagement_by_reason(records: pd.DataFrame, *, by: str = "category") -> pd.DataFrame:
    """Share of fading vs sudden leavers and the median trend, per reason.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record` built with a transaction log.
    by : str, default "category"
        Reason column to group by.

    Returns
    -------
    pandas.DataFrame
        Index = reason; customers_with_history, share_fading, share_sudden and
        median_trend. Empty (with a ``note`` in ``attrs``) for snapshot data.
    """
    require_columns(records, [by, "engagement_pattern", "engagement_trend"], where="engagement")
    known = records[records["engagement_pattern"] != NOT_AVAILABLE]
    out = pd.DataFrame(
        {
            "customers_with_history": known.groupby(by).size(),
            "share_fading": known["engagement_pattern"].eq(FADING).groupby(known[by]).mean(),
            "share_sudden": known["engagement_pattern"].eq(SUDDEN).groupby(known[by]).mean(),
            "median_trend": known.groupby(by)["engagement_trend"].median(),
        }
    )
    if known.empty:
        out.attrs["note"] = (
            "No transaction log was given, so engagement before churn cannot be traced "
            "period by period; see usage_by_band for what a snapshot offers."
        )
    return out.sort_values("customers_with_history", ascending=False)


def usage_by_band(
    records: pd.DataFrame,
    *,
    columns: list[str] | tuple[str, ...] = ("gb_download", "monthly_charge"),
    band: str = "tenure_band",
    by: str = "category",
) -> pd.DataFrame:
    """Mean snapshot usage per reason within each band (the no-log substitute).

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record`, e.g. with Telco's
        ``gb_download`` (Avg Monthly GB Download) and ``monthly_charge``.
    columns : sequence of str
        Usage columns to average.
    band : str, default "tenure_band"
        Column to cross with the reason.
    by : str, default "category"
        Reason column.

    Returns
    -------
    pandas.DataFrame
        Index (reason, band); one mean column per usage column plus customers.
    """
    require_columns(records, [by, band, *columns], where="usage_by_band")
    grouped = records.groupby([by, band], observed=True)
    out = grouped[list(columns)].mean()
    out.insert(0, "customers", grouped.size())
    return out
