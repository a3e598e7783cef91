"""Load transaction logs into churnlab's canonical columns, and clean them.

Every input row ends up either in ``data`` or in ``dropped`` with exactly one reason;
see :mod:`churnlab.data.cleaning` for the rules and their order.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.data.cleaning import CleaningPolicy, CleaningReport, assign_drop_reasons
from churnlab.data.dates import parse_date_column, parse_date_value
from churnlab.data.mapping import check_mapped_columns, resolve_mapping
from churnlab.data.messages import option_hint
from churnlab.data.options import source_options
from churnlab.data.readers import describe_source, read_source
from churnlab.data.tables import load_table
from churnlab.data.validation import (
    clean_id_strings,
    format_examples,
    to_numeric_column,
)
from churnlab.exceptions import ConfigError, DataValidationError

__all__ = ["LoadedTransactions", "load_table", "load_transactions"]


class LoadedTransactions(NamedTuple):
    """A cleaned transaction log, its cleaning report and the rows that were dropped.

    Attributes
    ----------
    data : pandas.DataFrame
        ``customer_id`` (str), ``order_id`` (str), ``date`` (datetime64[ns]),
        ``amount`` (float64) and, when mapped, ``quantity`` (float64) and
        ``product_id`` (str); sorted by date.
    report : CleaningReport
        Row accounting: kept plus dropped per reason equals the input.
    dropped : pandas.DataFrame
        Every dropped input row in the canonical columns plus ``drop_reason``;
        indexed by the row's position in the input.
    """

    data: pd.DataFrame
    report: CleaningReport
    dropped: pd.DataFrame


def _future_cutoff(
    observation_end: object,
    *,
    date_format: str | None,
    dayfirst: bool | None,
    timezone: str | None,
) -> pd.Timestamp:
    """Return the first instant that counts as 'future' (a bare date covers its whole day)."""
    if observation_end is None or observation_end == "":
        return pd.Timestamp.now().floor("s") + pd.Timedelta(seconds=1)
    end = parse_date_value(
        observation_end, name="observation_end", date_format=date_format, dayfirst=dayfirst
    )
    if pd.isna(end):
        raise ConfigError(
            f"observation_end={observation_end!r} is not a date. Pass e.g. '2011-12-09'."
        )
    if end.tzinfo is not None:
        end = end.tz_convert(timezone or "UTC").tz_localize(None)
    return end + pd.Timedelta(days=1) if end == end.normalize() else end + pd.Timedelta(1, "ns")


def _check_structural(
    canon: pd.DataFrame,
    raw_dates: pd.Series,
    policy: CleaningPolicy,
    *,
    date: str,
    id_sources: dict[str, str],
    date_format: str | None,
    where: str,
) -> None:
    """Raise when bad rows are too many to drop, or the policy says not to drop them."""
    n = len(canon)
    for canonical, source in id_sources.items():
        if canon[canonical].isna().all():
            raise DataValidationError(
                f"The {canonical} column {source!r} has no values in any of the {n:,} rows. "
                f"Check the mapping: pass {canonical}='<column that holds the ids>'."
            )
    bad_dates = canon[config.DATE].isna()
    n_bad = int(bad_dates.sum())
    if n_bad and (not policy.drop_unparsable_dates or n_bad / n > policy.max_unparsable_date_share):
        examples = format_examples(raw_dates[bad_dates].astype("str"))
        share = policy.max_unparsable_date_share if policy.drop_unparsable_dates else 0.0
        fix = (
            f"They do not match date_format={date_format!r}: check the format"
            if date_format is not None
            else f"Check that {date!r} is the date column, or pass its format, e.g. "
            f"{option_hint('date_format', '%d/%m/%Y %H:%M')}"
        )
        raise DataValidationError(
            f"Column {date!r} of {where}: {n_bad:,} of {n:,} dates do not parse "
            f"({n_bad / n:.1%}; at most {share:.0%} may be dropped), e.g. {examples}. "
            f"{fix}, or convert the column first with pandas.to_datetime(..., format=...)."
        )
    values = [canon[config.AMOUNT], *([canon[config.QUANTITY]] if config.QUANTITY in canon else [])]
    infinite = np.logical_or.reduce([np.isinf(v.to_numpy(dtype="float64")) for v in values])
    if infinite.any() and not policy.drop_non_finite_amounts:
        raise DataValidationError(
            f"{int(infinite.sum()):,} of {n:,} rows of {where} have an infinite amount or "
            "quantity (inf, -inf, or a number too large for a float, also after quantity x "
            "price), and the cleaning policy has drop_non_finite_amounts=False. Fix those "
            "values in the source or use a policy that drops them."
        )
    for column, flag, rule in (
        (config.CUSTOMER_ID, policy.drop_missing_customer_id, "drop_missing_customer_id"),
        (config.AMOUNT, policy.drop_missing_amounts, "drop_missing_amounts"),
    ):
        missing = int(canon[column].isna().sum())
        if missing and not flag:
            raise DataValidationError(
                f"{missing:,} of {n:,} rows have no {column}, and the cleaning policy has "
                f"{rule}=False. Fill them in or use a policy that drops them."
            )


def load_transactions(
    source: object,
    *,
    customer_id: str = config.CUSTOMER_ID,
    date: str = config.DATE,
    amount: str | None = None,
    quantity: str | None = None,
    price: str | None = None,
    order_id: str | None = None,
    product_id: str | None = None,
    policy: CleaningPolicy | None = None,
    observation_end: object = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    encoding: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    sheet: str | int | None = None,
    timezone: str | None = None,
    read_options: dict[str, Any] | None = None,
) -> LoadedTransactions:
    """Load a transaction log into churnlab's canonical columns and clean it.

    Parameters
    ----------
    source : DataFrame, str, os.PathLike or ibis.Table
        See :func:`read_source`.
    customer_id, date : str
        Source columns holding the customer id and the purchase date/time.
    amount : str, optional
        Source column holding the line value. Defaults to ``"amount"`` if present.
    quantity, price : str, optional
        Source columns for units and unit price; ``amount = quantity * price``
        when ``amount`` is not given. ``quantity`` is kept when mapped.
    order_id : str, optional
        Source column holding the order (invoice) id. When absent, a stable id is
        synthesised per customer and timestamp (``"<customer>@<timestamp>"``).
    product_id : str, optional
        Source column holding the product (stock) code; needed by the non-product rule.
    policy : CleaningPolicy, optional
        Rules that drop rows; ``CleaningPolicy()`` by default.
    observation_end : str or Timestamp, optional
        Rows dated after this are dropped as ``future_date`` (a bare date includes
        its whole day). Defaults to now. Read with ``date_format``/``dayfirst``
        like the dates, e.g. ``"01/02/2011"`` with ``dayfirst=True`` is 1 Feb 2011.
    date_format : str, optional
        Exact strftime format of the dates, e.g. ``"%d/%m/%Y %H:%M"``; values that
        do not match count as ``unparsable_date``. Default: ISO dates and dates in
        one consistent format are read as they are, and for ``05/01/2021``-style
        dates the data must show the order (a first number above 12 means
        day-first, a second number above 12 month-first); otherwise loading
        refuses and asks for this option or ``dayfirst``.
    dayfirst : bool, optional
        Read ``05/01/2021``-style dates as day-first (True: 5 January) or
        month-first (False: 1 May).
    encoding : str, optional
        Text encoding of a CSV file, e.g. ``"latin-1"`` or ``"utf-16"``; UTF-8 by default.
    sep : str, optional
        Column separator of a CSV file, e.g. ``";"`` (``"tab"`` for a tab); a comma
        by default, and a file that evidently uses another one is refused with its name.
    decimal : str, optional
        Decimal mark of a CSV file's numbers: ``","`` for ``12,50``.
    sheet : str or int, optional
        Excel sheet to read, by name or position (0 = first); required when the
        workbook has more than one sheet.
    timezone : str, optional
        Time zone (e.g. ``"Europe/London"``) that timezone-aware dates are
        converted to before their zone is dropped; default UTC. Naive dates are
        kept as they are.
    read_options : dict, optional
        Extra keyword arguments for the pandas reader.

    Returns
    -------
    LoadedTransactions
        ``(data, report, dropped)``.

    Raises
    ------
    DataValidationError
        Missing columns, empty input, wrong delimiter, dates that do not parse or
        read both day-first and month-first, non-numeric amounts, an all-empty
        customer id column, a missing or unreadable file, a workbook with
        several sheets and no ``sheet``.
    ConfigError
        Neither ``amount`` nor ``quantity`` and ``price`` can be resolved, or an
        option has the wrong type or an unknown value (see
        :func:`churnlab.data.source_options`).
    """
    options = source_options(
        {
            "customer_id": customer_id,
            "date": date,
            "amount": amount,
            "quantity": quantity,
            "price": price,
            "order_id": order_id,
            "product_id": product_id,
            "date_format": date_format,
            "dayfirst": dayfirst,
            "encoding": encoding,
            "sep": sep,
            "decimal": decimal,
            "sheet": sheet,
            "timezone": timezone,
        }
    )
    policy = policy or CleaningPolicy()
    where = "load_transactions"
    source_name = describe_source(source.data if isinstance(source, LoadedTransactions) else source)
    date_options = {"date_format": date_format, "dayfirst": dayfirst}
    cutoff = _future_cutoff(observation_end, **date_options, timezone=timezone)
    raw = read_source(
        source,
        id_columns=[customer_id, order_id or config.ORDER_ID, product_id or config.PRODUCT_ID],
        read_options=read_options,
        encoding=options.get("encoding"),
        sheet=options.get("sheet"),
        sep=options.get("sep"),
        decimal=options.get("decimal"),
    )
    named = [n for n in raw.index.names if n is not None]
    raw = raw.reset_index(drop=not named)
    mapping = resolve_mapping(
        raw.columns,
        amount=amount,
        quantity=quantity,
        price=price,
        order_id=order_id,
        product_id=product_id,
    )
    mapped = {"customer_id": customer_id, "date": date}
    mapped.update({k: v for k, v in mapping.items() if v is not None})
    check_mapped_columns(raw, mapped, where=source_name)

    canon = pd.DataFrame(index=raw.index)
    canon[config.CUSTOMER_ID] = clean_id_strings(raw[customer_id])
    if mapping["order_id"] is not None:
        canon[config.ORDER_ID] = clean_id_strings(raw[mapping["order_id"]])
    parsed_dates = parse_date_column(
        raw[date], **date_options, timezone=timezone, column=date, where=source_name
    )
    canon[config.DATE] = parsed_dates.values
    price_values = None
    if mapping["quantity"] is not None:
        canon[config.QUANTITY] = to_numeric_column(
            raw[mapping["quantity"]], column=mapping["quantity"], where=where
        )
    if mapping["amount"] is not None:
        canon[config.AMOUNT] = to_numeric_column(
            raw[mapping["amount"]], column=mapping["amount"], where=where
        )
    else:
        price_values = to_numeric_column(
            raw[mapping["price"]], column=mapping["price"], where=where
        )
        canon[config.AMOUNT] = canon[config.QUANTITY] * price_values
    if mapping["product_id"] is not None:
        canon[config.PRODUCT_ID] = clean_id_strings(raw[mapping["product_id"]])
    id_sources = {config.CUSTOMER_ID: customer_id}
    if mapping["order_id"] is not None:
        id_sources[config.ORDER_ID] = mapping["order_id"]
    _check_structural(
        canon,
        raw[date],
        policy,
        date=date,
        id_sources=id_sources,
        date_format=date_format,
        where=source_name,
    )

    reasons = assign_drop_reasons(
        canon,
        policy,
        raw=raw,
        future_cutoff=cutoff,
        has_order_id=mapping["order_id"] is not None,
        price=price_values,
    )
    if mapping["order_id"] is None:
        dates = canon[config.DATE]
        daily = bool((dates.dropna() == dates.dropna().dt.normalize()).all())
        stamp = dates.dt.strftime("%Y-%m-%d" if daily else "%Y-%m-%dT%H:%M:%S")
        canon.insert(1, config.ORDER_ID, (canon[config.CUSTOMER_ID] + "@" + stamp).astype("str"))
    order = [config.CUSTOMER_ID, config.ORDER_ID, config.DATE, config.AMOUNT]
    order += [c for c in (config.QUANTITY, config.PRODUCT_ID) if c in canon]
    canon = canon[order]

    kept_mask = reasons.isna()
    counts = reasons.value_counts()
    report = CleaningReport(
        input_rows=len(canon),
        kept_rows=int(kept_mask.sum()),
        dropped={r: int(counts.get(r, 0)) for r in policy.enabled_reasons()},
        policy=policy.name,
        date_format=parsed_dates.date_format,
    )
    if report.kept_rows == 0:
        summary = ", ".join(f"{r}: {n:,}" for r, n in report.dropped.items() if n)
        raise DataValidationError(
            f"All {report.input_rows:,} rows were dropped by the cleaning policy "
            f"{policy.name!r} ({summary}). Check the column mapping and observation_end, "
            "or pass a CleaningPolicy that keeps these rows."
        )
    data = canon[kept_mask].sort_values(
        [config.DATE, config.CUSTOMER_ID, config.ORDER_ID], kind="stable"
    )
    dropped = canon[~kept_mask].assign(drop_reason=reasons[~kept_mask].astype("str"))
    return LoadedTransactions(data.reset_index(drop=True), report, dropped)
