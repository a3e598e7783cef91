"""RFM summaries and calibration/holdout splits, written once as Ibis expressions.

The definitions are those of lifetimes' ``summary_data_from_transaction_data`` and
``calibration_and_holdout_data`` (lifetimes 0.11.3), for time units ``"D"`` (days),
``"W"`` (weeks ending Sunday, as pandas' ``W`` period) and ``"M"`` (calendar months):

* every timestamp is mapped to its period; purchases in the same period merge into
  one (their amounts are summed);
* ``frequency`` is the number of purchase periods minus one (the first);
* ``recency`` is the number of periods from the first to the last purchase period,
  and ``T`` the number from the first purchase period to the observation period
  (differences of period ordinals);
* ``monetary_value`` is the mean of the per-period amounts, leaving out the first
  period, and 0 for customers without a repeat purchase;
* transactions in periods after ``observation_end`` are dropped.

The same expressions run on embedded DuckDB (the default, out-of-core for Parquet)
and on Spark or a warehouse when an Ibis table of that backend is passed; there is
no second, pandas path.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from churnlab import engine as _engine
from churnlab.config import AMOUNT, CUSTOMER_ID, DATE, FREQUENCY, MONETARY_VALUE, RECENCY, T
from churnlab.data.validation import parse_date, require_columns
from churnlab.exceptions import ConfigError, DataValidationError

__all__ = [
    "calibration_holdout_split",
    "check_log",
    "day_aggregates",
    "day_rfm",
    "rfm_expr",
    "rfm_summary",
    "summary_from_snapshot",
]

TIME_UNITS = ("D", "W", "M")
_PERIOD = "_period"
_PERIOD_AMOUNT = "_period_amount"
#: Amounts are summed as exact decimals of this type, so sums do not depend on the order
#: of addition and a large first period does not cancel the digits of the repeat spend.
EXACT_MONEY = ibis.dtype("decimal(38, 9)")


def _check_time_unit(time_unit: str) -> str:
    if time_unit not in TIME_UNITS:
        raise ConfigError(
            f"time_unit must be one of {', '.join(repr(u) for u in TIME_UNITS)} "
            f"(days, weeks ending Sunday, calendar months), got {time_unit!r}."
        )
    return time_unit


def _period_start(stamp: pd.Timestamp, time_unit: str) -> pd.Timestamp:
    """Start of the pandas period of ``stamp`` (what lifetimes compares against)."""
    return stamp.to_period(time_unit).to_timestamp()


def _day_number(year: Any, month: Any, day: Any) -> Any:
    """Julian day number; pure integer arithmetic, so it works on ints and Ibis columns."""
    a = (14 - month) // 12
    y = year + 4800 - a
    m = month + 12 * a - 3
    return day + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045


def _ordinal(value: Any, time_unit: str) -> Any:
    """Period ordinal of a period-start timestamp (Ibis column or pandas Timestamp).

    Weeks are counted in days and divided by 7 later: period starts are all Mondays.
    """
    if isinstance(value, ir.Value):
        year, month, day = value.year(), value.month(), value.day()
    else:
        year, month, day = value.year, value.month, value.day
    if time_unit == "M":
        return year * 12 + month
    return _day_number(year, month, day)


def _span(later: Any, earlier: Any, time_unit: str) -> Any:
    """Count the periods between two period starts (Ibis columns or pandas Timestamps)."""
    span = _ordinal(later, time_unit) - _ordinal(earlier, time_unit)
    span = span.cast("float64") if isinstance(span, ir.Value) else float(span)
    return span / 7 if time_unit == "W" else span


def _prepare(transactions: Any, *, monetary: bool, where: str) -> ir.Table:
    """Select and type-check the columns the aggregation needs."""
    table = _engine.as_table(transactions)
    required = [CUSTOMER_ID, DATE] + ([AMOUNT] if monetary else [])
    require_columns(pd.DataFrame(columns=list(table.columns)), required, where=where)
    date = table[DATE]
    if date.type().is_string():
        # unparsable strings become nulls, which _profile reports with a count
        date = date.try_cast("timestamp")
    elif date.type().is_date():
        date = date.cast("timestamp")
    elif not date.type().is_timestamp():
        raise DataValidationError(
            f"{where} needs column '{DATE}' to hold dates, but its type is {date.type()}. "
            "Parse it first, e.g. with churnlab.data.load_transactions(..., date=...)."
        )
    columns: dict[str, Any] = {CUSTOMER_ID: table[CUSTOMER_ID], DATE: date}
    if monetary:
        amount = table[AMOUNT]
        if not amount.type().is_numeric():
            raise DataValidationError(
                f"{where} needs column '{AMOUNT}' to be numeric, but its type is "
                f"{amount.type()}. Convert it (e.g. pd.to_numeric) or load the data with "
                "churnlab.data.load_transactions()."
            )
        columns[AMOUNT] = amount.cast("float64")
    return table.select(**columns)


def _profile(table: ir.Table, *, where: str, **counts: ir.Value) -> dict[str, Any]:
    """Row count, date range and null counts in one pass; raise on unusable data."""
    metrics: dict[str, ir.Value] = {
        "rows": table.count(),
        "first": table[DATE].min(),
        "last": table[DATE].max(),
        "null_ids": table[CUSTOMER_ID].isnull().sum(),
        "null_dates": table[DATE].isnull().sum(),
        **counts,
    }
    if AMOUNT in table.columns:
        metrics["null_amounts"] = table[AMOUNT].isnull().sum()
    row = _engine.execute(table.aggregate(**metrics)).iloc[0].to_dict()
    if row["rows"] == 0:
        raise DataValidationError(
            f"{where} got no transactions (0 rows). Check the file or the filters that "
            "produced the table."
        )
    for key, column in (("null_ids", CUSTOMER_ID), ("null_dates", DATE), ("null_amounts", AMOUNT)):
        missing = int(row.get(key) or 0)
        if missing:
            raise DataValidationError(
                f"{where}: column '{column}' has {missing} missing "
                f"{'or unparsable ' if column == DATE else ''}value(s) out of "
                f"{int(row['rows'])} rows. Drop or fill them first; "
                "churnlab.data.load_transactions() drops them and reports each one."
            )
    row["first"] = pd.Timestamp(row["first"])
    row["last"] = pd.Timestamp(row["last"])
    return row


def _period_of(date: ir.TimestampValue, time_unit: str) -> ir.DateValue:
    """Start date of the pandas period that holds each timestamp (weeks start Monday)."""
    if time_unit == "D":
        return date.cast("date")
    return date.truncate(time_unit).cast("date")


def _summary_expr(
    table: ir.Table, *, end: pd.Timestamp, time_unit: str, monetary: bool
) -> ir.Table:
    """Per-customer frequency/recency/T[/monetary_value] up to the period of ``end``.

    Two grouped aggregations: purchases per (customer, period), then per customer.
    The repeat-period mean is (sum of all period amounts - first period amount) /
    (periods - 1), the first period amount found with ``arg_min``. The amounts are
    summed as exact decimals (:data:`EXACT_MONEY`), so the difference is the repeat
    spend to the digit however large the first order, as lifetimes' mean of the
    repeat periods has it.
    """
    end_start = _period_start(end, time_unit)
    dated = table.mutate(**{_PERIOD: _period_of(table[DATE], time_unit)})
    dated = dated.filter(dated[_PERIOD] <= ibis.date(end_start.date()))
    if monetary:
        periods = dated.group_by([CUSTOMER_ID, _PERIOD]).aggregate(
            **{_PERIOD_AMOUNT: dated[AMOUNT].cast(EXACT_MONEY).sum()}
        )
        amount = periods[_PERIOD_AMOUNT]
        # exact sums: the total less the first period is then the repeat spend to the cent
        repeat = amount.sum() - amount.argmin(periods[_PERIOD])
        extra = {"_repeat_spend": repeat.cast("float64")}
    else:
        periods = dated.select(CUSTOMER_ID, _PERIOD).distinct()
        extra = {}
    per_customer = periods.group_by(CUSTOMER_ID).aggregate(
        _first=periods[_PERIOD].min(),
        _last=periods[_PERIOD].max(),
        _count=periods[_PERIOD].count(),
        **extra,
    )
    columns = {
        CUSTOMER_ID: per_customer[CUSTOMER_ID],
        **_rfm_columns(per_customer, end_start, time_unit),
    }
    return per_customer.select(**columns)


def _rfm_columns(per_customer: ir.Table, end_start: pd.Timestamp, time_unit: str) -> dict:
    """Return the summary's columns from ``_first``, ``_last`` (period starts), ``_count``.

    With ``_repeat_spend`` (the spend in the purchase periods after the first) also
    ``monetary_value``.
    """
    first, last = per_customer["_first"], per_customer["_last"]
    count = per_customer["_count"]
    columns = {
        FREQUENCY: (count - 1).cast("float64"),
        RECENCY: _span(last, first, time_unit),
        T: _span(end_start, first, time_unit),
    }
    if "_repeat_spend" in per_customer.columns:
        repeat_spend = per_customer["_repeat_spend"]
        columns[MONETARY_VALUE] = ibis.ifelse(
            count > 1, repeat_spend / (count - 1).cast("float64"), 0.0
        ).cast("float64")
    return columns


def day_aggregates(days: ir.Table, *, time_unit: str) -> dict[str, ir.Scalar]:
    """Per-customer aggregates of purchase days that give the RFM summary (with :func:`day_rfm`).

    For a query that already orders each customer's purchase days (e.g. for the gaps
    between them): a purchase day starts a new period when its period differs from
    the previous purchase day's, so periods are counted without grouping by period.
    Every day must lie in or before the observation period.

    Parameters
    ----------
    days : ibis.Table
        One row per customer and purchase day: ``customer_id``, ``day``,
        ``day_amount`` (the day's spend), ``previous_day`` (the customer's purchase
        day before, null for the first) and ``first_day`` (the customer's first).
    time_unit : {"D", "W", "M"}
        Unit of the summary.

    Returns
    -------
    dict
        Aggregates ``_first``, ``_last``, ``_count`` and ``_repeat_spend``
        for a group-by on ``customer_id``.
    """
    period = _period_of(days["day"], _check_time_unit(time_unit))
    new = days["previous_day"].isnull() | (_period_of(days["previous_day"], time_unit) != period)
    in_first = period == _period_of(days["first_day"], time_unit)
    return {
        "_first": period.min(),
        "_last": period.max(),
        "_count": new.ifelse(1, 0).sum(),
        "_repeat_spend": days["day_amount"].sum(where=~in_first).cast("float64"),
    }


def day_rfm(per_customer: ir.Table, *, observation_end: Any, time_unit: str) -> dict:
    """Return the RFM summary's columns from the aggregates of :func:`day_aggregates`.

    Parameters
    ----------
    per_customer : ibis.Table
        A group-by on ``customer_id`` holding the aggregates of :func:`day_aggregates`.
    observation_end : date-like
        End of the observation period (as in :func:`rfm_summary`).
    time_unit : {"D", "W", "M"}
        Unit of the summary.

    Returns
    -------
    dict
        Float64 expressions ``frequency``, ``recency``, ``T`` and ``monetary_value``,
        the values :func:`rfm_summary` gives.
    """
    end = parse_date(observation_end, name="observation_end")
    time_unit = _check_time_unit(time_unit)
    return _rfm_columns(per_customer, _period_start(end, time_unit), time_unit)


def rfm_expr(transactions: Any, *, observation_end: Any, time_unit: str = "D") -> ir.Table:
    """Return the Ibis expression of :func:`rfm_summary`, unexecuted and unchecked.

    For callers that join the summary into a larger query (one query per feature
    snapshot); :func:`rfm_summary` is the checked entry point.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path, glob or ibis.Table
        Columns ``customer_id``, ``date`` and ``amount``.
    observation_end : date-like
        End of the observation period (inclusive, by period).
    time_unit : {"D", "W", "M"}, default "D"
        Days, weeks ending Sunday, or calendar months.

    Returns
    -------
    ibis.Table
        ``customer_id`` and float64 ``frequency``, ``recency``, ``T``, ``monetary_value``.
    """
    time_unit = _check_time_unit(time_unit)
    end = parse_date(observation_end, name="observation_end")
    table = _prepare(transactions, monetary=True, where="rfm_expr")
    return _summary_expr(table, end=end, time_unit=time_unit, monetary=True)


def _to_frame(expr: ir.Table, time_unit: str) -> pd.DataFrame:
    frame = _engine.execute(expr.order_by(CUSTOMER_ID)).set_index(CUSTOMER_ID)
    frame = _engine.settle_floats(frame)
    frame.attrs["time_unit"] = time_unit
    return frame


def rfm_summary(
    transactions: Any,
    *,
    observation_end: Any = None,
    time_unit: str = "D",
    monetary: bool = True,
) -> pd.DataFrame:
    """Summarise a transaction log into frequency, recency, T and monetary value.

    Same definitions as ``lifetimes.utils.summary_data_from_transaction_data``:
    purchases in the same period merge, the first purchase period is left out of
    ``frequency`` and ``monetary_value``, and durations count whole periods.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path, glob or ibis.Table
        Columns ``customer_id``, ``date`` and (when ``monetary``) ``amount``. Paths
        and DataFrames run on embedded DuckDB; an Ibis table runs on its backend.
    observation_end : date-like, optional
        End of the observation period (inclusive, by period). Transactions in later
        periods are dropped. Default: the last transaction date.
    time_unit : {"D", "W", "M"}, default "D"
        Days, weeks ending Sunday, or calendar months.
    monetary : bool, default True
        Also compute ``monetary_value`` (needs column ``amount``).

    Returns
    -------
    pandas.DataFrame
        Float64 columns ``frequency``, ``recency``, ``T`` (and ``monetary_value``),
        indexed by ``customer_id`` in ascending order; ``attrs["time_unit"]`` is set.

    Raises
    ------
    DataValidationError
        Missing columns, no rows, missing values, or ``observation_end`` before the
        first purchase.
    ConfigError
        Unknown ``time_unit`` or an unparsable ``observation_end``.
    """
    where = "rfm_summary"
    time_unit = _check_time_unit(time_unit)
    end = None if observation_end is None else parse_date(observation_end, name="observation_end")
    table = _prepare(transactions, monetary=monetary, where=where)
    profile = _profile(table, where=where)
    if end is None:
        end = profile["last"]
    elif _period_start(end, time_unit) < _period_start(profile["first"], time_unit):
        raise DataValidationError(
            f"observation_end {end} is before the first purchase ({profile['first']}), so "
            "no customer has bought by then. Pass an observation_end on or after "
            f"{profile['first'].date()}."
        )
    expr = _summary_expr(table, end=end, time_unit=time_unit, monetary=monetary)
    return _to_frame(expr, time_unit)


def check_log(transactions: Any, *, where: str = "the log") -> dict[str, Any]:
    """Check a log as :func:`rfm_summary` does, in one pass, and return its profile.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path, glob or ibis.Table
        Columns ``customer_id``, ``date`` and ``amount``.
    where : str
        Who asks, for the messages.

    Returns
    -------
    dict
        ``rows``, ``first`` and ``last`` purchase and the null counts.

    Raises
    ------
    DataValidationError
        Missing columns, no rows or missing values.
    """
    return _profile(_prepare(transactions, monetary=True, where=where), where=where)


def summary_from_snapshot(
    features: pd.DataFrame, *, observation_end: Any, cutoff: Any, time_unit: str
) -> pd.DataFrame:
    """Return the RFM summary at ``observation_end`` from a snapshot's RFM columns.

    The behaviour features at ``cutoff`` hold the RFM summary of the purchases before
    it (:func:`churnlab.features.behaviour.behaviour_features`). When no purchase
    falls after ``observation_end`` and before ``cutoff``, frequency, recency and
    monetary value are the same at both dates, and T differs by the whole periods
    between their period starts; this gives :func:`rfm_summary`'s numbers without a
    second query over the log. T is rebuilt from its whole count of days (weeks are
    days / 7), so it is the same float the query gives.

    Parameters
    ----------
    features : pandas.DataFrame
        Snapshot at ``cutoff`` with ``frequency``, ``recency``, ``T`` and
        ``monetary_value`` in ``time_unit``.
    observation_end, cutoff : date-like
        The summary's end and the snapshot's cutoff (after it).
    time_unit : {"D", "W", "M"}
        Unit of the snapshot's RFM columns.

    Returns
    -------
    pandas.DataFrame
        As :func:`rfm_summary`, in the order of ``features``.
    """
    time_unit = _check_time_unit(time_unit)
    end = parse_date(observation_end, name="observation_end")
    later = parse_date(cutoff, name="cutoff")
    per_period = 7 if time_unit == "W" else 1  # base units (days, or months) per period
    periods = _span(_period_start(later, time_unit), _period_start(end, time_unit), time_unit)
    shift = round(periods * per_period)
    summary = features[[FREQUENCY, RECENCY, T, MONETARY_VALUE]].copy()
    counts = np.round(summary[T].to_numpy(dtype="float64") * per_period) - shift
    summary[T] = counts / per_period
    summary = _engine.settle_floats(summary)
    summary.attrs = {"time_unit": time_unit}
    return summary


def calibration_holdout_split(
    transactions: Any,
    *,
    calibration_end: Any,
    observation_end: Any = None,
    time_unit: str = "D",
    monetary: bool = True,
) -> pd.DataFrame:
    """Summarise a calibration period and count purchases in the holdout period after it.

    Same definitions as ``lifetimes.utils.calibration_and_holdout_data``: the
    calibration columns are :func:`rfm_summary` of the transactions up to
    ``calibration_end``; the holdout counts purchase periods in
    ``(calibration_end, observation_end]`` for the customers seen in calibration.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path, glob or ibis.Table
        Columns ``customer_id``, ``date`` and (when ``monetary``) ``amount``.
    calibration_end : date-like
        Last moment of the calibration period (inclusive).
    observation_end : date-like, optional
        Last moment of the holdout period (inclusive). Default: the last transaction.
    time_unit : {"D", "W", "M"}, default "D"
        Days, weeks ending Sunday, or calendar months.
    monetary : bool, default True
        Also compute ``monetary_value_cal`` and ``monetary_value_holdout`` (the plain
        mean transaction amount in the holdout period, as lifetimes does).

    Returns
    -------
    pandas.DataFrame
        Float64 columns ``frequency_cal``, ``recency_cal``, ``T_cal``,
        ``monetary_value_cal``, ``frequency_holdout``, ``monetary_value_holdout``,
        ``duration_holdout`` (monetary columns only when ``monetary``), indexed by
        ``customer_id``; ``attrs["time_unit"]`` is set.

    Raises
    ------
    DataValidationError
        Missing columns or values, ``calibration_end`` after ``observation_end`` or
        before the first purchase, or no transaction in the holdout period.
    ConfigError
        Unknown ``time_unit`` or an unparsable date.
    """
    where = "calibration_holdout_split"
    time_unit = _check_time_unit(time_unit)
    cal_end = parse_date(calibration_end, name="calibration_end")
    end = None if observation_end is None else parse_date(observation_end, name="observation_end")
    table = _prepare(transactions, monetary=monetary, where=where)
    holdout_rows: dict[str, ir.Value] = {"calibration_rows": (table[DATE] <= cal_end).sum()}
    if end is not None:
        in_holdout = (table[DATE] > cal_end) & (table[DATE] <= end)
        holdout_rows["holdout_rows"] = in_holdout.sum()
    else:
        holdout_rows["holdout_rows"] = (table[DATE] > cal_end).sum()
    profile = _profile(table, where=where, **holdout_rows)
    if end is None:
        end = profile["last"]
    if cal_end >= end:
        raise DataValidationError(
            f"calibration_end ({cal_end}) must be before observation_end ({end}); the "
            "holdout period runs from calibration_end to observation_end. Pass an earlier "
            "calibration_end or a later observation_end."
        )
    if not profile["calibration_rows"]:
        raise DataValidationError(
            f"calibration_end {cal_end} is before the first purchase ({profile['first']}), so "
            "the calibration period is empty. Pass a calibration_end after "
            f"{profile['first'].date()}."
        )
    if not profile["holdout_rows"]:
        raise DataValidationError(
            f"No transaction falls in the holdout period ({cal_end}, {end}]: "
            f"{int(profile['rows'])} rows, last purchase {profile['last']}. Pass an "
            "earlier calibration_end or a later observation_end."
        )

    calibration = _summary_expr(
        table.filter(table[DATE] <= cal_end), end=cal_end, time_unit=time_unit, monetary=monetary
    )
    calibration = calibration.rename(
        {f"{c}_cal": c for c in calibration.columns if c != CUSTOMER_ID}
    )
    holdout = table.filter((table[DATE] > cal_end) & (table[DATE] <= end))
    holdout = holdout.mutate(**{_PERIOD: _period_of(holdout[DATE], time_unit)})
    metrics: dict[str, ir.Value] = {"frequency_holdout": holdout[_PERIOD].nunique()}
    if monetary:
        metrics["monetary_value_holdout"] = holdout[AMOUNT].mean()
    holdout = holdout.group_by(CUSTOMER_ID).aggregate(**metrics)
    joined = calibration.left_join(holdout, CUSTOMER_ID)
    duration = _span(_period_start(end, time_unit), _period_start(cal_end, time_unit), time_unit)
    columns: dict[str, Any] = {CUSTOMER_ID: joined[CUSTOMER_ID]}
    for name in calibration.columns:
        if name != CUSTOMER_ID:
            columns[name] = joined[name]
    columns["frequency_holdout"] = joined["frequency_holdout"].cast("float64").fill_null(0.0)
    if monetary:
        columns["monetary_value_holdout"] = (
            joined["monetary_value_holdout"].cast("float64").fill_null(0.0)
        )
    columns["duration_holdout"] = ibis.literal(duration, type="float64")
    return _to_frame(joined.select(**columns), time_unit)
