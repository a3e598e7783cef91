"""Validation helpers shared by loaders, features and models.

The one place that enforces the column contract: every ``fit``/``predict``
and loader calls :func:`require_columns` with the columns it needs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from churnlab.data.dates import parse_date_column, parse_date_value
from churnlab.data.messages import format_examples, option_hint
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.units import days_per


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
_MANGLED = re.compile(r"(.+)\.\d+")


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
                f"'{shown}'-separated. Pass {option_hint('sep', sep)}."
            )


def check_header(
    path: object, frame: pd.DataFrame, read_header: Callable[[], pd.DataFrame]
) -> None:
    """Raise :class:`DataValidationError` if a file's header repeats a column name.

    pandas renames a repeated ``amount`` to ``amount.1`` without a word; only when
    ``frame`` has such a name is the raw header read again to tell a copy from a
    column really called ``amount.1``.

    Parameters
    ----------
    path : str or os.PathLike
        The file, for the message.
    frame : pandas.DataFrame
        The table as pandas read it.
    read_header : callable
        Returns the file's first line as a one-row DataFrame (``header=None``).

    Raises
    ------
    DataValidationError
        Names each repeated column and its positions.
    """
    names = set(map(str, frame.columns))
    if not any((m := _MANGLED.fullmatch(c)) and m.group(1) in names for c in names):
        return
    header = [str(h) for h in read_header().iloc[0].tolist()]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        positions = {n: [str(i + 1) for i, h in enumerate(header) if h == n] for n in repeated}
        where = "; ".join(f"{n!r} is columns {', '.join(p)}" for n, p in positions.items())
        raise DataValidationError(
            f"'{path}' has a header that repeats column name(s) {format_examples(repeated)} "
            f"({where}). pandas would silently rename the copy to '{repeated[0]}.1', so "
            "churnlab cannot tell which column holds the data. Rename or delete the extra "
            "column in the file."
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
    missing = values.isna()
    if pd.api.types.is_numeric_dtype(values.dtype):
        finite = values[np.isfinite(values.to_numpy(dtype="float64", na_value=np.nan))]
        if len(finite) == int((~missing).sum()) and (finite == finite.round()).all():
            return values.astype("Float64").astype("Int64").astype("str").mask(missing)
        return values.astype("str").mask(missing)
    text = values.astype("str").str.strip().mask(missing)  # pandas 2 writes 'None'/'nan'
    text = text.mask(text == "")
    present = text.dropna()
    if len(present) and present.str.contains(".", regex=False).any():
        if present.str.fullmatch(_NUMERIC_ID).all():
            text = text.str.replace(r"\.0+$", "", regex=True)
    return text


def parse_dates(
    values: pd.Series, *, date_format: str | None = None, dayfirst: bool | None = None
) -> pd.Series:
    """Parse a column of dates, leaving values that do not parse as ``NaT``.

    Accepts datetimes (timezone-aware ones are converted to UTC and made naive),
    strings and ``YYYYMMDD`` integers; see :func:`churnlab.data.dates.parse_date_column`,
    which also returns the format used.

    Parameters
    ----------
    values : pandas.Series
        Raw dates.
    date_format : str, optional
        Exact strftime format of string dates.
    dayfirst : bool, optional
        Read ``05/01/2021``-style dates day-first (True) or month-first (False).

    Returns
    -------
    pandas.Series
        ``datetime64[ns]``, same index.

    Raises
    ------
    DataValidationError
        If day/month dates read both ways and neither option is given, or the
        column mixes day-first and month-first dates.
    """
    return parse_date_column(values, date_format=date_format, dayfirst=dayfirst).values


def _as_float(text: str) -> float:
    """Return ``float(text)``, or NaN when it is not a number."""
    try:
        return float(text)
    except ValueError:
        return float("nan")


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
        text = values.astype("str").str.strip().mask(values.isna())
        text = text.mask(text == "")
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = text.notna() & numbers.isna()
        if bad.any():  # pandas gives up on '1e309'; Python reads it as inf (a cleaning rule)
            numbers[bad] = text[bad].map(_as_float).astype("float64")
            bad = text.notna() & numbers.isna()
        if bad.any():
            examples = text[bad]
            fix = (
                f"The values use a decimal comma: pass {option_hint('decimal', ',')}."
                if examples.str.fullmatch(_DECIMAL_COMMA).all()
                else "Remove currency symbols and thousands separators, or map the right column."
            )
            raise DataValidationError(
                f"{where}: column {column!r} must be numeric, but {int(bad.sum()):,} of "
                f"{len(values):,} values are not numbers, e.g. {format_examples(examples)}. " + fix
            )
        values = numbers
    return values.astype("float64")


def parse_date(
    value: object,
    *,
    name: str,
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> pd.Timestamp:
    """Parse a date parameter such as ``observation_end`` or ``cutoff``.

    Parameters
    ----------
    value : str, datetime or pandas.Timestamp
        The date given by the caller. ISO strings (``"2011-09-01"``) need no option.
    name : str
        The parameter's name, used in the message.
    date_format : str, optional
        Exact strftime format of a string ``value``, e.g. ``"%d/%m/%Y"``.
    dayfirst : bool, optional
        Read ``"01/02/2011"`` as 1 February (True) or 2 January (False); needed
        when such a date reads both ways and ``date_format`` is not given.

    Returns
    -------
    pandas.Timestamp
        A timezone-naive timestamp (transaction dates are naive).

    Raises
    ------
    ConfigError
        If the value is missing, not a date, ambiguous, or carries a timezone.
    """
    stamp = parse_date_value(value, name=name, date_format=date_format, dayfirst=dayfirst)
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
    return days_per(unit, name=name)
