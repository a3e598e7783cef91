"""Validation helpers shared by loaders, features and models.

The one place that enforces the column contract: every ``fit``/``predict``
and loader calls :func:`require_columns` with the columns it needs.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Iterable, Sequence

import pandas as pd
from pandas.tseries.api import guess_datetime_format

from churnlab.config import TIME_UNIT_DAYS
from churnlab.exceptions import ConfigError, DataValidationError


def format_examples(values: Iterable[object], *, limit: int = 5) -> str:
    """Return up to ``limit`` distinct example values as a short, readable string.

    Parameters
    ----------
    values : iterable
        The offending values.
    limit : int, default 5
        How many distinct examples to show.

    Returns
    -------
    str
        For example ``"'abc', '2021-13-01' (and 12 more)"``.
    """
    distinct = list(dict.fromkeys(repr(v) for v in values))
    shown = ", ".join(distinct[:limit])
    rest = len(distinct) - limit
    return shown + (f" (and {rest} more)" if rest > 0 else "")


def require_columns(data: pd.DataFrame, required: Sequence[str], *, where: str) -> None:
    """Raise :class:`DataValidationError` unless ``data`` has every required column.

    Parameters
    ----------
    data : pandas.DataFrame
        The table to check. A named index counts as a column.
    required : sequence of str
        Column names that must be present.
    where : str
        What needs them, e.g. ``"BetaGeoModel.fit"``; used in the message.

    Raises
    ------
    DataValidationError
        Names each missing column, lists the available ones and suggests the
        closest match.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            f"{where} expects a pandas DataFrame, got {type(data).__name__}. "
            "Pass the table returned by churnlab's loaders or rfm_summary()."
        )
    available = [str(c) for c in data.columns] + [str(n) for n in data.index.names if n]
    missing = [c for c in required if c not in available]
    if not missing:
        return
    hints = []
    for column in missing:
        close = difflib.get_close_matches(column, available, n=1, cutoff=0.5)
        hints.append(f"'{column}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    raise DataValidationError(
        f"{where} needs column(s) {', '.join(hints)}, which the data does not have. "
        f"Available columns: {', '.join(repr(c) for c in available) or 'none'}. "
        "Rename your columns to churnlab's names (see churnlab.config) or pass the "
        "column mapping to the loader."
    )


# --------------------------------------------------------------------------------------
# Checks used by the loaders (churnlab.data.io). Each raises DataValidationError with the
# column, the number of rows affected, a few examples and the fix.
# --------------------------------------------------------------------------------------

_OTHER_SEPARATORS = (";", "\t", "|")
_NUMERIC_ID = re.compile(r"^-?\d+(\.0+)?$")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def check_not_empty(data: pd.DataFrame, *, where: str) -> None:
    """Raise :class:`DataValidationError` if ``data`` has no rows.

    Parameters
    ----------
    data : pandas.DataFrame
        The table just read.
    where : str
        What was read, e.g. the file name; used in the message.

    Raises
    ------
    DataValidationError
        When the table has no rows.
    """
    if len(data) == 0:
        columns = ", ".join(repr(str(c)) for c in data.columns) or "none"
        raise DataValidationError(
            f"{where} is empty: it has 0 rows (columns: {columns}). "
            "Check that you passed the right file and that it was fully written."
        )


def check_delimiter(data: pd.DataFrame, *, where: str) -> None:
    """Raise :class:`DataValidationError` if a CSV was evidently split on the wrong separator.

    A ``;``-, tab- or ``|``-separated file read with the default comma gives a single
    column whose name still holds the separator.

    Parameters
    ----------
    data : pandas.DataFrame
        The table just read.
    where : str
        What was read, e.g. the file name; used in the message.

    Raises
    ------
    DataValidationError
        Names the separator the file seems to use and the ``read_options`` to pass.
    """
    if data.shape[1] != 1:
        return
    header = str(data.columns[0])
    for sep in _OTHER_SEPARATORS:
        if header.count(sep) >= 1:
            shown = "\\t" if sep == "\t" else sep
            raise DataValidationError(
                f"{where} was read as a single column {header[:80]!r}: it looks like "
                f"'{shown}'-separated, pass read_options={{'sep': '{shown}'}}."
            )


def clean_id_strings(values: pd.Series) -> pd.Series:
    """Return identifiers as clean strings, with missing values as NaN.

    Floats that hold whole numbers (``17850.0``, as written by spreadsheets and by
    pandas when a column has blanks) become ``"17850"``; strings are stripped and
    empty strings count as missing. Leading zeros of string ids are kept.

    Parameters
    ----------
    values : pandas.Series
        Raw identifiers of any dtype.

    Returns
    -------
    pandas.Series
        ``str`` dtype, same index; missing ids are NaN.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("str")
    if pd.api.types.is_numeric_dtype(values.dtype):
        finite = values.dropna()
        if len(finite) and (finite == finite.round()).all():
            return values.astype("Float64").astype("Int64").astype("str")
        return values.astype("str")
    text = values.astype("str").str.strip()
    text = text.mask(text == "")
    present = text.dropna()
    if len(present) and present.str.contains(".", regex=False).any():
        if present.str.fullmatch(_NUMERIC_ID).all():
            text = text.str.replace(r"\.0+$", "", regex=True)
    return text


def parse_dates(values: pd.Series) -> pd.Series:
    """Parse a column of dates, leaving values that do not parse as ``NaT``.

    Accepts datetimes (timezone-aware ones are converted to UTC and made naive),
    strings in one consistent format (or, for the stragglers, any format dateutil
    understands) and ``YYYYMMDD`` integers.

    Parameters
    ----------
    values : pandas.Series
        Raw dates.

    Returns
    -------
    pandas.Series
        ``datetime64[ns]``, same index.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.astype("datetime64[ns]")
    if pd.api.types.is_integer_dtype(values.dtype):
        parsed = pd.to_datetime(values.astype("str"), format="%Y%m%d", errors="coerce")
        return parsed.astype("datetime64[ns]")
    text = values.astype("str").str.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format=_guess_format(text))
        parsed = parsed.dt.tz_localize(None).astype("datetime64[ns]")
        retry = parsed.isna() & text.notna() & (text != "")
        if retry.any():
            again = pd.to_datetime(text[retry], errors="coerce", format="mixed", utc=True)
            parsed.loc[retry] = again.dt.tz_localize(None).astype("datetime64[ns]")
    return parsed


def _guess_format(text: pd.Series, *, sample: int = 50) -> str | None:
    """Return the most common strftime format among the first distinct values, if any."""
    head = text.dropna().drop_duplicates().head(sample)
    guesses = [guess_datetime_format(v) for v in head]
    formats = pd.Series([g for g in guesses if g], dtype="object")
    return str(formats.mode().iloc[0]) if len(formats) else None


def to_numeric_column(values: pd.Series, *, column: str, where: str) -> pd.Series:
    """Convert a column to ``float64``; raise if any present value is not a number.

    Parameters
    ----------
    values : pandas.Series
        Raw values; missing values stay NaN.
    column : str
        The source column name, for the message.
    where : str
        What is loading it, for the message.

    Returns
    -------
    pandas.Series
        ``float64``, same index.

    Raises
    ------
    DataValidationError
        Names the column, how many values are not numeric, examples and the fix.
    """
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        text = values.astype("str").str.strip()
        text = text.mask(text == "")
        numbers = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & numbers.isna()
        if bad.any():
            examples = text[bad]
            fix = (
                "The values use a decimal comma: pass read_options={'decimal': ','}."
                if examples.str.fullmatch(_DECIMAL_COMMA).all()
                else "Remove currency symbols and thousands separators, or map the right column."
            )
            raise DataValidationError(
                f"{where}: column {column!r} must be numeric, but {int(bad.sum()):,} of "
                f"{len(values):,} values are not numbers, e.g. {format_examples(examples)}. " + fix
            )
        values = numbers
    return values.astype("float64")


def parse_date(value: object, *, name: str) -> pd.Timestamp:
    """Parse a date parameter such as ``observation_end`` or ``cutoff``.

    Parameters
    ----------
    value : str, datetime or pandas.Timestamp
        The date given by the caller.
    name : str
        The parameter's name, used in the message.

    Returns
    -------
    pandas.Timestamp
        A timezone-naive timestamp (transaction dates are naive).

    Raises
    ------
    ConfigError
        If the value is missing, not a date, or carries a timezone.
    """
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"{name}={value!r} is not a date ({error}). Pass a date such as '2011-09-01'."
        ) from None
    if pd.isna(stamp):
        raise ConfigError(f"{name} is missing. Pass a date such as '2011-09-01'.")
    if stamp.tzinfo is not None:
        raise ConfigError(
            f"{name} must be a timezone-naive date (transaction dates are naive), got "
            f"{value!r}. Convert it, e.g. pd.Timestamp(value).tz_localize(None)."
        )
    return stamp


def period_days(unit: str, *, name: str = "time_unit") -> float:
    """Return the length in days of a time unit ("D", "W" or "M").

    Parameters
    ----------
    unit : str
        One of the keys of :data:`churnlab.config.TIME_UNIT_DAYS`.
    name : str, default "time_unit"
        The parameter's name, used in the message.

    Returns
    -------
    float
        Days per unit; "M" is the mean Gregorian month.

    Raises
    ------
    ConfigError
        If the unit is unknown.
    """
    if unit not in TIME_UNIT_DAYS:
        raise ConfigError(
            f"{name}={unit!r} is not a known time unit. "
            f"Use one of {', '.join(repr(u) for u in TIME_UNIT_DAYS)}."
        )
    return TIME_UNIT_DAYS[unit]
