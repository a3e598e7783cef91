"""Load exit-survey / cancellation records and join them to customers.

:func:`load_churn_reasons` reads a reasons table with the same validation and
row accounting as :func:`churnlab.data.load_transactions`: every input row is
either kept or dropped for one named reason, and the counts add up.
:func:`join_reasons` attaches the records to the churned customers; customers
without a record get :data:`UNKNOWN_REASON` and are never dropped.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from churnlab.config import CHURNED, CUSTOMER_ID
from churnlab.data import CleaningReport, format_examples, read_source, require_columns
from churnlab.data.validation import clean_id_strings, parse_dates
from churnlab.exceptions import ConfigError, DataQualityWarning, DataValidationError

__all__ = [
    "CATEGORY",
    "CHURN_DATE",
    "COMMENT",
    "COMPETITOR",
    "EVIDENCE",
    "NPS",
    "REASON",
    "REASON_COLUMNS",
    "SATISFACTION",
    "UNKNOWN_REASON",
    "LoadedReasons",
    "join_reasons",
    "load_churn_reasons",
]

CHURN_DATE = "churn_date"
CATEGORY = "category"
REASON = "reason"
COMMENT = "comment"
COMPETITOR = "competitor"
SATISFACTION = "satisfaction"
NPS = "nps"
EVIDENCE = "evidence"
#: Columns of a loaded reasons table (index: customer_id), in this order.
REASON_COLUMNS = (CHURN_DATE, CATEGORY, REASON, COMMENT, COMPETITOR, SATISFACTION, NPS, EVIDENCE)
#: Label of churned customers with no usable reason.
UNKNOWN_REASON = "Unknown reason"
#: Values of the ``evidence`` column.
STATED, DRIVER, NO_EVIDENCE = "stated reason", "classifier driver", "none"

_TEXT = (CATEGORY, REASON, COMMENT, COMPETITOR)
#: Drop reasons of :func:`load_churn_reasons`, in the order they are checked.
DROP_REASONS = ("missing_customer_id", "unparsable_churn_date", "duplicate_customer")


class LoadedReasons(NamedTuple):
    """What :func:`load_churn_reasons` returns; unpacks as ``data, report, dropped``."""

    data: pd.DataFrame
    report: CleaningReport
    dropped: pd.DataFrame


def load_churn_reasons(
    source: pd.DataFrame | str | Path,
    *,
    customer_id: str,
    churn_date: str | None = None,
    category: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    competitor: str | None = None,
    satisfaction: str | None = None,
    nps: str | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    read_options: dict[str, Any] | None = None,
) -> LoadedReasons:
    """Load exit-survey or cancellation records, one per churned customer.

    Parameters
    ----------
    source : DataFrame, path or ibis.Table
        The records: anything :func:`churnlab.data.read_source` reads (DataFrame,
        CSV/CSV.gz/Parquet/Excel path, Parquet glob, Ibis table).
    customer_id : str
        Source column with the customer id (required).
    churn_date, category, reason, comment, competitor, satisfaction, nps : str, optional
        Source columns for the churn date, the reason category, the detailed reason,
        a free-text comment, the competitor named, a satisfaction score and a
        0-10 NPS answer. At least one of category, reason or comment is required.
    date_format, dayfirst : optional
        How to read the churn dates, as for ``load_transactions``: an exact strftime
        format, or whether ``05/01/2021``-style dates are day-first. Needed when the
        dates read both ways.
    read_options : dict, optional
        Extra keyword arguments for the pandas reader.

    Returns
    -------
    LoadedReasons
        ``data`` is indexed by customer_id with columns :data:`REASON_COLUMNS`
        (unmapped ones are missing values); a row without category and reason
        gets :data:`UNKNOWN_REASON`; ``data.attrs["blanked_values"]`` counts
        values set to missing. ``report`` (a :class:`churnlab.data.CleaningReport`)
        accounts for every input row, one count per :data:`DROP_REASONS` entry, and
        ``dropped`` holds the dropped rows with a ``drop_reason`` column.

    Raises
    ------
    ConfigError
        When no category, reason or comment column is given.
    DataValidationError
        When the source cannot be read, a mapped column is missing, or no row is left.

    Notes
    -----
    Rows are dropped for a missing customer id, an unparsable churn date, or a
    duplicate record of the same customer (the latest record is kept). A
    non-numeric satisfaction score, or an NPS outside 0-10, is blanked with a
    :class:`DataQualityWarning`; the row is kept.
    """
    mapping = {
        CHURN_DATE: churn_date,
        CATEGORY: category,
        REASON: reason,
        COMMENT: comment,
        COMPETITOR: competitor,
        SATISFACTION: satisfaction,
        NPS: nps,
    }
    if category is None and reason is None and comment is None:
        raise ConfigError(
            "load_churn_reasons needs at least one of category=, reason= or comment= "
            "(the source column that says why the customer left)."
        )
    raw = read_source(source, id_columns=[customer_id], read_options=read_options)
    if raw.index.name is not None:
        raw = raw.reset_index()
    used = {CUSTOMER_ID: customer_id} | {k: v for k, v in mapping.items() if v is not None}
    require_columns(raw, list(dict.fromkeys(used.values())), where="load_churn_reasons")
    raw = raw.reset_index(drop=True)
    frame = pd.DataFrame(index=raw.index)
    ids = clean_id_strings(raw[customer_id])
    frame[CUSTOMER_ID] = ids.astype(object).where(ids.notna(), None)
    frame[CHURN_DATE] = (
        pd.NaT
        if churn_date is None
        else parse_dates(raw[churn_date], date_format=date_format, dayfirst=dayfirst)
    )
    for col in _TEXT:
        frame[col] = _clean_text(raw[mapping[col]]) if mapping[col] else pd.NA
    blanked: dict[str, int] = {}
    frame[SATISFACTION] = _score(raw, satisfaction, None, "satisfaction", blanked)
    frame[NPS] = _score(raw, nps, (0, 10), "nps", blanked)

    reasons = pd.Series("", index=raw.index, dtype=object)
    reasons[frame[CUSTOMER_ID].isna()] = "missing_customer_id"
    if churn_date is not None:
        bad_date = frame[CHURN_DATE].isna() & raw[churn_date].notna()
        bad_date &= raw[churn_date].astype(str).str.strip() != ""
        reasons[bad_date & (reasons == "")] = "unparsable_churn_date"
    order = frame.assign(_row=np.arange(len(frame))).sort_values(
        [CHURN_DATE, "_row"], na_position="first"
    )
    ok = order.index[reasons[order.index] == ""]
    dup = frame.loc[ok, CUSTOMER_ID].duplicated(keep="last")
    reasons[dup.index[dup.to_numpy()]] = "duplicate_customer"

    keep = reasons == ""
    data = _fill_reasons(frame[keep]).set_index(CUSTOMER_ID).sort_index()
    data[EVIDENCE] = np.where(data[CATEGORY] == UNKNOWN_REASON, NO_EVIDENCE, STATED)
    data = data[list(REASON_COLUMNS)]
    counts = reasons[~keep].value_counts()
    report = CleaningReport(
        input_rows=len(raw),
        kept_rows=int(keep.sum()),
        dropped={k: int(counts.get(k, 0)) for k in DROP_REASONS},
        policy="churn reasons",
    )
    data.attrs["blanked_values"] = blanked
    if data.empty:
        raise DataValidationError(
            f"load_churn_reasons kept no rows out of {len(raw):,}: "
            f"{', '.join(f'{v:,} {k}' for k, v in report.dropped.items() if v)}. "
            f"Check the customer_id={customer_id!r} and churn_date={churn_date!r} columns."
        )
    dropped = frame[~keep].assign(drop_reason=reasons[~keep])
    return LoadedReasons(data, report, dropped.reset_index(drop=True))


def join_reasons(
    customers: pd.DataFrame | pd.Index, reasons: pd.DataFrame | LoadedReasons
) -> pd.DataFrame:
    """Attach reason records to churned customers, never dropping a customer.

    Parameters
    ----------
    customers : DataFrame or Index
        Customers indexed by customer_id. With a boolean ``churned`` column only
        churned customers are used; an Index is taken as the churned customers.
    reasons : DataFrame or LoadedReasons
        Output of :func:`load_churn_reasons`.

    Returns
    -------
    pandas.DataFrame
        One row per churned customer, columns :data:`REASON_COLUMNS`. Customers
        without a record get :data:`UNKNOWN_REASON` and evidence ``"none"``.
        Records of customers missing from ``customers`` (or marked as not
        churned) are kept, with a :class:`DataQualityWarning`.
    """
    table = reasons.data if isinstance(reasons, LoadedReasons) else reasons
    require_columns(table, [CATEGORY, REASON], where="join_reasons (reasons table)")
    churned = churned_index(customers, where="join_reasons")
    extra = table.index.difference(churned)
    if len(extra):
        warnings.warn(
            f"{len(extra):,} reason record(s) belong to customers that are not among the "
            f"churned customers, e.g. {format_examples(extra[:5])}; they are kept and "
            "counted as churned. Check the customer ids or the churned flag.",
            DataQualityWarning,
            stacklevel=2,
        )
    index = churned.append(extra)
    out = table.reindex(index).reindex(columns=list(REASON_COLUMNS))
    missing = ~index.isin(table.index)
    out.loc[missing, [CATEGORY, REASON]] = UNKNOWN_REASON
    out.loc[missing, EVIDENCE] = NO_EVIDENCE
    out.index.name = CUSTOMER_ID
    return out


def churned_index(customers: pd.DataFrame | pd.Index, *, where: str) -> pd.Index:
    """Return the ids of churned customers (a ``churned`` column, or all rows)."""
    if isinstance(customers, pd.Index):
        return pd.Index(customers.astype(str), name=CUSTOMER_ID)
    frame = customers
    if frame.index.name != CUSTOMER_ID:
        require_columns(frame, [CUSTOMER_ID], where=where)
        frame = frame.set_index(CUSTOMER_ID)
    if CHURNED in frame.columns:
        flag = frame[CHURNED]
        if flag.isna().any() or not flag.isin([True, False, 0, 1]).all():
            bad = flag[flag.isna() | ~flag.isin([True, False, 0, 1])]
            raise DataValidationError(
                f"{where}: column '{CHURNED}' must be boolean; {len(bad):,} row(s) are not, "
                f"e.g. {format_examples(bad.head())}. Convert it, e.g. df['churned'] = "
                "df['Churn Label'].eq('Yes')."
            )
        frame = frame[flag.astype(bool)]
    return pd.Index(frame.index.astype(str), name=CUSTOMER_ID)


def _clean_text(values: pd.Series) -> pd.Series:
    """Strip strings; blanks become missing; ids like 17850.0 keep their text."""
    text = values.astype("string").str.strip()
    blank = text.isna() | text.eq("").fillna(True)
    out = text.astype(object)
    out[blank.to_numpy(dtype=bool)] = np.nan
    return out


def _score(
    raw: pd.DataFrame,
    column: str | None,
    bounds: tuple[float, float] | None,
    name: str,
    blanked: dict[str, int],
) -> pd.Series:
    """Parse a numeric score column, blanking (and counting) invalid values."""
    if column is None:
        return pd.Series(np.nan, index=raw.index)
    text = raw[column].astype("string").str.strip()
    values = pd.to_numeric(text.mask(text == ""), errors="coerce").astype(float)
    invalid = values.isna() & text.notna() & (text != "")
    if bounds is not None:
        invalid |= values.notna() & ~values.between(*bounds)
    if invalid.any():
        label = f"{name} not numeric" + (
            f" or outside {bounds[0]:g}-{bounds[1]:g}" if bounds else ""
        )
        blanked[label] = int(invalid.sum())
        warnings.warn(
            f"load_churn_reasons: {int(invalid.sum()):,} value(s) in column {column!r} ({name}) "
            f"are invalid, e.g. {format_examples(raw.loc[invalid, column].head())}; they were "
            "set to missing and the rows kept.",
            DataQualityWarning,
            stacklevel=3,
        )
    return values.mask(invalid)


def _fill_reasons(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill category from reason and vice versa; neither -> UNKNOWN_REASON."""
    frame = frame.copy()
    category, reason = frame[CATEGORY], frame[REASON]
    frame[CATEGORY] = category.where(category.notna(), reason)
    frame[REASON] = reason.where(reason.notna(), category)
    frame[[CATEGORY, REASON]] = frame[[CATEGORY, REASON]].fillna(UNKNOWN_REASON)
    return frame
