"""Load a subscription customer table: one row per customer, with tenure and churn.

The table gives each customer either a start date and an end date (empty while the
customer is active), or, as in the IBM Telco data, a tenure length and a churn flag.
Every input row ends up either in ``data`` or in ``dropped`` with exactly one reason,
counted in a :class:`~churnlab.data.cleaning.CleaningReport`. The rules, applied in
this order (a row is counted under the first one that hits it):

1. ``missing_customer_id`` - no customer id;
2. ``duplicate_customer_id`` - the id already appeared on an earlier row (the first
   row of each id is kept);
3. ``unparsable_start`` - start date missing or not a date (date tables);
4. ``future_start`` - start date after ``observation_end`` (date tables);
5. ``unparsable_end`` - an end date is given but is not a date (date tables);
6. ``end_before_start`` - the end date is before the start date (date tables);
7. ``missing_tenure`` - no tenure (tenure tables);
8. ``negative_tenure`` - tenure below zero (tenure tables);
9. ``unparsable_churn_flag`` - the churn flag is missing or not one of Yes/No, 1/0,
   True/False (case-insensitive; also Y/N);
10. ``churn_flag_conflict`` - the churn flag contradicts the end date (flagged churned
    without an end date, or not churned with an end date on or before
    ``observation_end``; date tables with both columns).
"""

from __future__ import annotations

import os
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.data.cleaning import CleaningReport
from churnlab.data.customer_options import CUSTOMER_OPTIONS, check_customer_options
from churnlab.data.dates import parse_date_column
from churnlab.data.messages import option_hint
from churnlab.data.options import source_options
from churnlab.data.readers import describe_source, read_source
from churnlab.data.validation import (
    clean_id_strings,
    format_examples,
    parse_date,
    period_days,
    require_columns,
    to_numeric_column,
)
from churnlab.exceptions import ConfigError, DataQualityWarning, DataValidationError

__all__ = [
    "CUSTOMER_DROP_REASONS",
    "CUSTOMER_OPTIONS",
    "LoadedCustomers",
    "check_customer_options",
    "load_customers",
]

START, END, TENURE, PLAN, REVENUE = "start", "end", "tenure", "plan", "revenue"

#: Every drop reason of :func:`load_customers`, in the order the rules are applied.
CUSTOMER_DROP_REASONS: tuple[str, ...] = (
    "missing_customer_id",
    "duplicate_customer_id",
    "unparsable_start",
    "future_start",
    "unparsable_end",
    "end_before_start",
    "missing_tenure",
    "negative_tenure",
    "unparsable_churn_flag",
    "churn_flag_conflict",
)

_YES = frozenset({"yes", "y", "true", "t", "1", "1.0"})
_NO = frozenset({"no", "n", "false", "f", "0", "0.0"})
_ACCEPTED = "Yes/No, Y/N, True/False or 1/0"


class LoadedCustomers(NamedTuple):
    """A cleaned customer table, its cleaning report and the rows that were dropped.

    Attributes
    ----------
    data : pandas.DataFrame
        Indexed by ``customer_id`` (str), in input order, with ``start``
        (datetime64[ns]; NaT when only the tenure is known), ``end`` (datetime64[ns];
        NaT while active or when unknown), ``tenure`` (float64, in
        ``attrs["tenure_unit"]`` periods), ``churned`` (bool) and, when mapped,
        ``plan`` (str) and ``revenue`` (float64, per period). ``attrs`` also holds
        ``observation_end`` (Timestamp or None).
    report : CleaningReport
        Row accounting: kept plus dropped per reason equals the input.
    dropped : pandas.DataFrame
        Every dropped input row in the canonical columns (``customer_id`` included)
        plus ``drop_reason``; indexed by the row's position in the input.
    """

    data: pd.DataFrame
    report: CleaningReport
    dropped: pd.DataFrame


def _read_options(source: object, *, text: dict[str, str], sheet: object) -> dict[str, object]:
    """Turn ``sheet`` and the text options (encoding, sep, decimal) into pandas options."""
    name = os.fspath(source).lower() if isinstance(source, str | os.PathLike) else ""
    is_csv = ".csv" in name or name.endswith((".txt", ".tsv"))
    is_excel = name.endswith((".xlsx", ".xlsm", ".xls"))
    options: dict[str, object] = {}
    for option, value in text.items():
        if not is_csv:
            raise ConfigError(
                f"load_customers: {option}={value!r} applies to CSV files only, but the "
                f"source is not a CSV path. Drop {option}= for DataFrames, Parquet and Excel "
                f"(CLI: drop --{option})."
            )
        options[option] = value
    if sheet is not None:
        if not is_excel:
            raise ConfigError(
                f"load_customers: sheet={sheet!r} applies to Excel files (.xlsx, .xls) only, "
                "but the source is not an Excel path. Drop sheet= or pass the workbook's path."
            )
        options["sheet_name"] = sheet
    return options


def _check_mapping(
    *, start: str | None, end: str | None, tenure: str | None, churned: str | None
) -> None:
    if start is None and tenure is None:
        raise ConfigError(
            "load_customers needs how long each customer stayed: pass start='<start date "
            "column>' and end='<end date column>' (CLI: --start COLUMN --end COLUMN), or "
            "tenure='<tenure column>' and churned='<churn flag column>' (CLI: --tenure COLUMN "
            "--churned COLUMN)."
        )
    if start is not None and tenure is not None:
        raise ConfigError(
            f"load_customers got both start={start!r} and tenure={tenure!r}. With start dates "
            "the tenure is computed as (end or observation_end) - start; pass one of the two."
        )
    if tenure is not None and (churned is None or end is not None):
        raise ConfigError(
            f"load_customers with tenure={tenure!r} needs churned='<churn flag column>' and "
            "no end= (end dates go with start=...)."
        )
    if start is not None and end is None:
        raise ConfigError(
            f"load_customers with start={start!r} needs end='<end date column>' (empty while "
            "the customer is active) to know who churned and when."
        )


def _cutoff(
    value: object, *, date_format: str | None, dayfirst: bool | None, timezone: str | None
) -> pd.Timestamp:
    """Read ``observation_end``: an ISO date always works, else the table's date options."""
    if isinstance(value, str):
        try:
            stamp = pd.Timestamp(pd.to_datetime(value.strip(), format="ISO8601"))
        except (TypeError, ValueError):
            stamp = None
        if stamp is not None:
            return stamp.tz_convert(timezone or "UTC").tz_localize(None) if stamp.tzinfo else stamp
    stamp = parse_date(value, name="observation_end", date_format=date_format, dayfirst=dayfirst)
    return stamp.tz_convert(timezone or "UTC").tz_localize(None) if stamp.tzinfo else stamp


def _present(values: pd.Series) -> pd.Series:
    """Return True where a raw value is given (not NaN, not an empty string)."""
    return values.notna() & (values.astype("str").str.strip() != "")


def _parse_flags(values: pd.Series) -> pd.Series:
    """Map churn flags to a nullable boolean; unknown or missing values become NA."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    text = values.astype("str").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(_YES).fillna(False).to_numpy(dtype=bool)] = True
    out[text.isin(_NO).fillna(False).to_numpy(dtype=bool)] = False
    return out


def _refuse_if_unusable(
    usable: pd.Series, raw: pd.Series, *, column: str, what: str, fix: str
) -> None:
    if not usable.any():
        raise DataValidationError(
            f"load_customers: none of the {len(raw):,} values of column {column!r} is a "
            f"usable {what}, e.g. {format_examples(raw.astype('str'))}. {fix}"
        )


def load_customers(
    source: object,
    *,
    customer_id: str = config.CUSTOMER_ID,
    start: str | None = None,
    end: str | None = None,
    churned: str | None = None,
    tenure: str | None = None,
    tenure_unit: str = "M",
    observation_end: object = None,
    plan: str | None = None,
    revenue: str | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    encoding: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    sheet: str | int | None = None,
    timezone: str | None = None,
) -> LoadedCustomers:
    """Load a subscription customer table into churnlab's canonical columns and clean it.

    The result feeds the contractual-setting analyses of :mod:`churnlab.subscriptions`:
    Kaplan-Meier survival (Kaplan & Meier 1958) and the shifted-beta-geometric model of
    Fader & Hardie (2007, "How to Project Customer Retention").

    Parameters
    ----------
    source : DataFrame, str, os.PathLike or ibis.Table
        See :func:`~churnlab.data.readers.read_source`. A DataFrame indexed by
        ``customer_id`` (as :func:`churnlab.datasets.load_telco` returns) works too.
    customer_id : str, default "customer_id"
        Column holding the customer id; becomes the index.
    start, end : str, optional
        Columns of the start date and the end date (empty while active). Give both, or
        give ``tenure`` and ``churned`` instead.
    churned : str, optional
        Column of the churn flag. Required with ``tenure``; with dates it is checked
        against ``end`` (otherwise churned means "has an end date").
    tenure : str, optional
        Column of the length of the relationship so far, in ``tenure_unit`` periods.
    tenure_unit : {"D", "W", "M"}, default "M"
        Period of ``tenure``; with dates, tenure is ``(end or observation_end) - start``
        in these periods ("M" is the mean Gregorian month, 30.44 days).
    observation_end : str or Timestamp, optional
        The date the table describes (a bare date covers its whole day). Customers
        starting after it are dropped, and an end date after it means the customer was
        still active on it (kept as active, with a
        :class:`~churnlab.exceptions.DataQualityWarning`). Defaults to the latest
        start or end date in the table.
    plan : str, optional
        Column of the plan or contract type.
    revenue : str, optional
        Column of the revenue per period (e.g. Telco's ``Monthly Charge``).
    date_format : str, optional
        ``strftime`` format of the dates, e.g. ``"%d/%m/%Y"``; also read for a
        text ``observation_end``.
    dayfirst : bool, optional
        Read day/month dates such as ``03/04/2024`` as 3 April (True) or 4 March
        (False). Dates are parsed by :func:`churnlab.data.dates.parse_date_column`,
        as in ``load_transactions``: without ``date_format`` or ``dayfirst`` the data
        must settle the order (a day above 12), otherwise the table is refused with
        the option to pass.
    encoding : str, optional
        Text encoding of a CSV file, e.g. ``"latin-1"``.
    sep, decimal : str, optional
        Column separator (e.g. ``";"``) and decimal mark (``","``) of a CSV file.
    sheet : str or int, optional
        Sheet of an Excel workbook.
    timezone : str, optional
        Zone that timezone-aware dates are converted to before the zone is dropped;
        default UTC.

    Returns
    -------
    LoadedCustomers
        ``(data, report, dropped)``.

    Raises
    ------
    ConfigError
        Incomplete or contradictory column mapping, an unknown ``tenure_unit``, a bad
        ``observation_end``, or ``encoding``/``sep``/``decimal``/``sheet`` for a source
        they do not apply to.
    DataValidationError
        Missing columns, an empty source, no usable id, start date, tenure or churn
        flag at all, non-numeric tenure or revenue, day/month dates that read both
        ways (pass ``dayfirst`` or ``date_format``), or every row dropped.
    """
    where = "load_customers"
    _check_mapping(start=start, end=end, tenure=tenure, churned=churned)
    reading = {"date_format": date_format, "dayfirst": dayfirst, "timezone": timezone}
    text = {"encoding": encoding, "sep": sep, "decimal": decimal}
    checked = source_options({"customer_id": customer_id, **reading, **text, "sheet": sheet})
    text = {k: checked[k] for k in text if k in checked}
    days = period_days(tenure_unit, name="tenure_unit")
    cutoff = None if observation_end is None else _cutoff(observation_end, **reading)
    source_name = describe_source(source)
    options = _read_options(source, text=text, sheet=sheet)
    raw = read_source(source, id_columns=[customer_id], read_options=options)
    if customer_id not in raw.columns and customer_id in raw.index.names:
        raw = raw.reset_index()
    raw = raw.reset_index(drop=True)
    mapped = [customer_id, start, end, tenure, churned, plan, revenue]
    require_columns(raw, list(dict.fromkeys(c for c in mapped if c is not None)), where=where)

    canon = pd.DataFrame(index=raw.index)
    canon[config.CUSTOMER_ID] = clean_id_strings(raw[customer_id])
    if canon[config.CUSTOMER_ID].isna().all():
        raise DataValidationError(
            f"load_customers: the customer_id column {customer_id!r} has no values in any of "
            f"the {len(raw):,} rows. Check the mapping: pass customer_id='<id column>'."
        )
    checks: dict[str, pd.Series] = {
        "missing_customer_id": canon[config.CUSTOMER_ID].isna(),
        "duplicate_customer_id": canon[config.CUSTOMER_ID].duplicated()
        & canon[config.CUSTOMER_ID].notna(),
    }
    flags = None
    if churned is not None:
        flags = _parse_flags(raw[churned])
        _refuse_if_unusable(
            flags.notna(),
            raw[churned],
            column=churned,
            what=f"churn flag ({_ACCEPTED})",
            fix="Map the churn column (e.g. 'Churn Label'), or recode it to Yes/No first.",
        )
    if start is not None:
        # One table, one date format: start and end dates are read together, so a
        # day above 12 in either column settles the order of both.
        both = pd.concat([raw[start], raw[end]], ignore_index=True)
        named = ", ".join(c for c in (start, end) if _present(raw[c]).any())
        parsed = parse_date_column(both, **reading, column=named or start, where=source_name)
        canon[START] = parsed.values.iloc[: len(raw)].to_numpy()
        canon[END] = parsed.values.iloc[len(raw) :].to_numpy()
        _refuse_if_unusable(
            canon[START].notna(),
            raw[start],
            column=start,
            what="date",
            fix="Check that it is the start date column, or pass its format, e.g. "
            f"{option_hint('date_format', '%d/%m/%Y')}.",
        )
        if cutoff is None:
            cutoff = pd.concat([canon[START], canon[END]]).max()
        # A bare date covers its whole day, as observation_end does in load_transactions.
        limit = cutoff + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
        limit = limit if cutoff == cutoff.normalize() else cutoff
        has_end = _present(raw[end])
        checks["unparsable_start"] = canon[START].isna()
        checks["future_start"] = canon[START] > limit
        checks["unparsable_end"] = has_end & canon[END].isna()
        checks["end_before_start"] = canon[END] < canon[START]
        late = canon[END] > limit
        if flags is not None:
            ended = canon[END].notna() & ~late
            checks["unparsable_churn_flag"] = flags.isna()
            checks["churn_flag_conflict"] = (flags.fillna(False) & canon[END].isna()) | (
                ~flags.fillna(True) & ended
            )
    else:
        canon[START] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
        canon[END] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
        canon[TENURE] = to_numeric_column(raw[tenure], column=tenure, where=where)
        _refuse_if_unusable(
            canon[TENURE].notna(),
            raw[tenure],
            column=tenure,
            what="tenure",
            fix="Map the tenure column (e.g. 'Tenure in Months').",
        )
        checks["missing_tenure"] = canon[TENURE].isna()
        checks["negative_tenure"] = canon[TENURE] < 0
        checks["unparsable_churn_flag"] = flags.isna()
    if plan is not None:
        canon[PLAN] = clean_id_strings(raw[plan])
    if revenue is not None:
        canon[REVENUE] = to_numeric_column(raw[revenue], column=revenue, where=where)

    reason = pd.Series(np.nan, index=raw.index, dtype="object")
    for name, hit in checks.items():
        reason[hit.fillna(False).astype(bool) & reason.isna()] = name
    kept = reason.isna()
    if start is not None:
        late = late & kept
        if late.any():
            warnings.warn(
                f"load_customers: {int(late.sum()):,} customer(s) have an end date after "
                f"observation_end {cutoff.date()}, e.g. "
                f"{format_examples(canon.loc[late, config.CUSTOMER_ID])}; they count as "
                "active on that date. Pass a later observation_end if they really left.",
                DataQualityWarning,
                stacklevel=2,
            )
        canon.loc[late, END] = pd.NaT
        elapsed = (canon[END].fillna(cutoff) - canon[START]) / pd.Timedelta(days=days)
        canon[TENURE] = elapsed
        canon.loc[kept, TENURE] = elapsed[kept].clip(lower=0)  # began on observation_end day
        canon[config.CHURNED] = canon[END].notna()
    else:
        canon[config.CHURNED] = flags.fillna(False).astype(bool)
    order = [config.CUSTOMER_ID, START, END, TENURE, config.CHURNED]
    canon = canon[order + [c for c in (PLAN, REVENUE) if c in canon]]

    counts = reason.value_counts()
    report = CleaningReport(
        input_rows=len(canon),
        kept_rows=int(kept.sum()),
        dropped={r: int(counts.get(r, 0)) for r in CUSTOMER_DROP_REASONS if r in checks},
        policy="customers",
    )
    if report.kept_rows == 0:
        summary = ", ".join(f"{r}: {n:,}" for r, n in report.dropped.items() if n)
        raise DataValidationError(
            f"load_customers: all {report.input_rows:,} rows were dropped ({summary}). Check "
            "the column mapping, date_format and observation_end; see the rules in "
            "churnlab.data.customers."
        )
    data = canon[kept].set_index(config.CUSTOMER_ID)
    data.index = pd.Index(data.index.to_numpy(), name=config.CUSTOMER_ID, dtype="str")
    data[TENURE] = data[TENURE].astype("float64")
    data.attrs = {"tenure_unit": tenure_unit, "observation_end": cutoff}
    dropped = canon[~kept].assign(drop_reason=reason[~kept].astype("str"))
    return LoadedCustomers(data, report, dropped)
