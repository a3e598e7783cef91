"""Discrete-time summaries for the BG/BB model: ``(x, t_x, n)`` per customer.

In a discrete-time setting (Fader, Hardie & Shang 2010) a customer can transact at most once
per *opportunity*: a yearly donation drive, a quarterly renewal window, a monthly event.
Each transaction date is mapped to its calendar period (year, quarter or month); the
first period with a purchase is the customer's opportunity 0, and up to the period of
``observation_end``:

* ``frequency`` (``x``) -- the number of later periods with at least one purchase;
* ``recency`` (``t_x``) -- the opportunity of the last purchase (periods after the first;
  0 without a repeat purchase);
* ``T`` (``n``) -- the number of opportunities after the first, i.e. periods from the first
  purchase period to the period of ``observation_end``.

Several purchases in one period count once. The aggregation is one Ibis expression, so it
runs on embedded DuckDB for DataFrames and files, and on the backend of an Ibis table.
"""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir
import pandas as pd

from churnlab import engine as _engine
from churnlab.config import CUSTOMER_ID, DATE, FREQUENCY, RECENCY, T
from churnlab.data.validation import parse_date, require_columns
from churnlab.exceptions import ConfigError, DataValidationError

__all__ = ["DISCRETE_PERIODS", "discrete_summary"]

#: Opportunity lengths: calendar years, quarters and months.
DISCRETE_PERIODS = ("Y", "Q", "M")
_P = "_opportunity"


def _ordinal(date: Any, period: str) -> Any:
    """Calendar period number of a timestamp (Ibis column or pandas Timestamp)."""
    if isinstance(date, ir.Value):
        year, quarter, month = date.year(), date.quarter(), date.month()
    else:
        year, quarter, month = date.year, date.quarter, date.month
    if period == "Y":
        return year
    if period == "Q":
        return year * 4 + quarter - 1
    return year * 12 + month - 1


def discrete_summary(
    transactions: Any, *, period: str = "Y", observation_end: Any = None
) -> pd.DataFrame:
    """Summarise a transaction log into BG/BB's ``frequency``, ``recency`` and ``T``.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path, glob or ibis.Table
        Columns ``customer_id`` and ``date``.
    period : {"Y", "Q", "M"}, default "Y"
        One transaction opportunity: a calendar year, quarter or month.
    observation_end : date-like, optional
        The last day observed; purchases in later periods are dropped. Default: the last
        transaction date.

    Returns
    -------
    pandas.DataFrame
        Float64 ``frequency``, ``recency`` and ``T`` indexed by ``customer_id`` (ascending),
        ``attrs["time_unit"] = period``; ready for
        :class:`~churnlab.models.bgbb.BetaGeoBetaBinomModel`.

    Raises
    ------
    ConfigError
        Unknown ``period`` or unparsable ``observation_end``.
    DataValidationError
        Missing columns, no rows, missing dates, or ``observation_end`` before every purchase.
    """
    where = "discrete_summary"
    if period not in DISCRETE_PERIODS:
        raise ConfigError(
            f"period must be one of {', '.join(repr(p) for p in DISCRETE_PERIODS)} (calendar "
            f"years, quarters, months), got {period!r}."
        )
    table = _engine.as_table(transactions)
    require_columns(pd.DataFrame(columns=list(table.columns)), [CUSTOMER_ID, DATE], where=where)
    date = table[DATE]
    if date.type().is_string():
        date = date.try_cast("timestamp")
    elif not (date.type().is_timestamp() or date.type().is_date()):
        raise DataValidationError(
            f"{where} needs column '{DATE}' to hold dates, but its type is {date.type()}. "
            "Parse it first, e.g. with churnlab.data.load_transactions()."
        )
    dated = table.select(**{CUSTOMER_ID: table[CUSTOMER_ID], DATE: date.cast("timestamp")})
    profile = _engine.execute(
        dated.aggregate(
            rows=dated.count(), last=dated[DATE].max(), nulls=dated[DATE].isnull().sum()
        )
    ).iloc[0]
    if int(profile["rows"]) == 0:
        raise DataValidationError(f"{where} got no transactions (0 rows).")
    if int(profile["nulls"] or 0):
        raise DataValidationError(
            f"{where}: column '{DATE}' has {int(profile['nulls'])} missing or unparsable "
            f"value(s) out of {int(profile['rows'])} rows. Drop or fill them first; "
            "churnlab.data.load_transactions() drops them and reports each one."
        )
    if observation_end is None:
        end = pd.Timestamp(profile["last"])
    else:
        end = parse_date(observation_end, name="observation_end")
    end_period = int(_ordinal(end, period))
    periods = dated.mutate(**{_P: _ordinal(dated[DATE], period)})
    periods = periods.filter(periods[_P] <= end_period).select(CUSTOMER_ID, _P).distinct()
    per = periods.group_by(CUSTOMER_ID).aggregate(
        _first=periods[_P].min(), _last=periods[_P].max(), _count=periods[_P].count()
    )
    expr = per.select(
        **{
            CUSTOMER_ID: per[CUSTOMER_ID],
            FREQUENCY: (per["_count"] - 1).cast("float64"),
            RECENCY: (per["_last"] - per["_first"]).cast("float64"),
            T: (end_period - per["_first"]).cast("float64"),
        }
    )
    frame = _engine.execute(expr.order_by(CUSTOMER_ID)).set_index(CUSTOMER_ID)
    if frame.empty:
        raise DataValidationError(
            f"{where}: observation_end {end.date()} is before every purchase; pass a later date."
        )
    frame.attrs["time_unit"] = period
    return frame
