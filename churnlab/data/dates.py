"""Parse date columns and date parameters without guessing which number is the day.

A column of ``05/01/2021``-style dates can mean 5 January or 1 May. churnlab reads
such a column one way for every row, and only when the caller says which
(``date_format=`` or ``dayfirst=``) or the data settles it: a first number above
12 anywhere means day-first, a second number above 12 anywhere means month-first.
Otherwise it refuses with examples. ISO dates (``2021-01-05``, with or without a
time) are unambiguous. Dates outside pandas' range (before 1677 or after 2262)
do not parse, like any other bad date.
"""

from __future__ import annotations

import re
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.tseries.api import guess_datetime_format

from churnlab.data.messages import format_examples, option_hint
from churnlab.exceptions import ConfigError, DataValidationError

#: ``05/01/2021``, ``5.1.21``, ``05-01-2021 08:26``: day and month first, in some order.
_DAY_MONTH = r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})((?:[ T].*)?)"
#: The same two layouts for pyarrow (RE2 has no back-references: the separators are
#: compared afterwards). Groups: three numbers, two separators, the rest (a time).
_ARROW_LAYOUTS = {
    "day_month": r"^(?P<n0>\d{1,2})(?P<s1>[/.\-])(?P<n1>\d{1,2})(?P<s2>[/.\-])"
    r"(?P<n2>\d{4}|\d{2})(?P<rest>(?:[ T].*)?)$",
    "year_first": r"^(?P<n0>\d{4})(?P<s1>[/.\-])(?P<n1>\d{1,2})(?P<s2>[/.\-])"
    r"(?P<n2>\d{1,2})(?P<rest>(?:[ T].*)?)$",
}
#: A time followed by a UTC offset or zone: the value is timezone-aware.
_OFFSET = r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?|UTC|GMT)$"
#: Digits and separators only: never handed to dateutil, which would guess.
_NUMERIC_ONLY = r"[\d\s/.\-:]+"
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


class ParsedDates(NamedTuple):
    """A parsed date column and the format that was used to read it.

    Attributes
    ----------
    values : pandas.Series
        ``datetime64[ns]``, timezone-naive; ``NaT`` where a value did not parse.
    date_format : str or None
        The strftime format used (e.g. ``"%d/%m/%Y %H:%M"``); several joined by
        ``" and "`` when the column mixes unambiguous layouts; None when the
        column already held datetimes.
    """

    values: pd.Series
    date_format: str | None


def _in_range(values: pd.Series) -> pd.Series:
    """Return naive datetimes as ``datetime64[ns]``, with out-of-range values as NaT."""
    inside = values.isna() | ((values >= pd.Timestamp.min) & (values <= pd.Timestamp.max))
    return values.where(inside).astype("datetime64[ns]")


def _naive(values: pd.Series, *, timezone: str | None) -> pd.Series:
    """Convert tz-aware datetimes to ``timezone`` (default UTC) and drop the zone."""
    return values.dt.tz_convert(timezone or "UTC").dt.tz_localize(None)


def _guess_format(text: pd.Series, *, sample: int = 50) -> str | None:
    """Return the most common strftime format among the first distinct values, if any."""
    head = text.dropna().drop_duplicates().head(sample)
    guesses = [guess_datetime_format(v) for v in head]
    formats = pd.Series([g for g in guesses if g], dtype="object")
    return str(formats.mode().iloc[0]) if len(formats) else None


def _to_utc(text: pd.Series, *, mixed: bool = True) -> pd.Series:
    """Parse strings in their most common format; the rest (if ``mixed``) with dateutil."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format=_guess_format(text))
        retry = parsed.isna() & text.notna()
        if mixed and retry.any():
            again = pd.to_datetime(text[retry], errors="coerce", format="mixed", utc=True)
            parsed = parsed.astype(again.dtype)
            parsed.loc[retry] = again
    return parsed


def _is_valid_date(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    """Return whether each (year, month, day) is a calendar date."""
    y, m, d = (s.to_numpy(dtype="int64") for s in (year, month, day))
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    ok_month = (m >= 1) & (m <= 12)
    days = np.where(ok_month, _DAYS_IN_MONTH[np.clip(m, 1, 12) - 1], 0) + (
        ok_month & leap & (m == 2)
    )
    return pd.Series(ok_month & (d >= 1) & (d <= days), index=year.index)


def _four_digit_year(year: pd.Series) -> pd.Series:
    """Return years as ints; two-digit years follow strptime's ``%y`` (69-99 -> 19xx)."""
    y = year.astype("int64")
    short = year.str.len() == 2
    return y.where(~short, np.where(y < 69, 2000 + y, 1900 + y))


def _arrow(values: pd.Series) -> pa.Array:
    return pa.array(values.to_numpy(dtype=object), type=pa.string())


def _extract(values: pd.Series, layout: str) -> pd.DataFrame:
    """Return the parts of the values in ``layout`` (pyarrow, so a million values are quick).

    Columns: 0, 2, 3 the three numbers (as strings), 1 the separator, 4 the rest.
    """
    pattern = _ARROW_LAYOUTS[layout]
    array = _arrow(values)
    hit = pc.fill_null(pc.match_substring_regex(array, pattern), False)
    found = pc.extract_regex(array.filter(hit), pattern)
    parts = {
        key: found.field(name).to_numpy(zero_copy_only=False)
        for key, name in enumerate(("n0", "s1", "n1", "n2", "rest", "s2"))
    }
    frame = pd.DataFrame(parts, index=values.index[hit.to_numpy(zero_copy_only=False)])
    return frame[frame[1] == frame.pop(5)]


def _iso(year: pd.Series, month: pd.Series, day: pd.Series, rest: pd.Series) -> pd.Series:
    """Return ``YYYY-MM-DD<rest>`` strings (built with pyarrow)."""
    padded = [
        pc.utf8_lpad(pc.cast(pa.array(v.to_numpy(dtype="int64")), pa.string()), width, "0")
        for v, width in ((year, 4), (month, 2), (day, 2))
    ]
    joined = pc.binary_join_element_wise(
        pc.binary_join_element_wise(*padded, "-"), _arrow(rest), ""
    )
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=year.index, dtype=object)


def _parse_iso(strings: pd.Series) -> pd.Series:
    """Parse ``YYYY-MM-DD...`` strings as UTC: strict ISO 8601 first, then any time layout."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(strings, format="ISO8601", errors="coerce", utc=True)
    retry = parsed.isna()
    if retry.any():
        again = _to_utc(strings[retry])
        parsed = parsed.astype(again.dtype)
        parsed[retry] = again
    return parsed


def _label(iso_values: pd.Series, date_part: str) -> str:
    """Return the strftime format of the first value, with its date part as ``date_part``."""
    guess = guess_datetime_format(str(iso_values.iloc[0])) or "%Y-%m-%d"
    return date_part + guess[len("%Y-%m-%d") :] if guess.startswith("%Y-%m-%d") else date_part


def _rows(text: pd.Series, values: pd.Series) -> str:
    """Return ``"1 row"`` / ``"12 rows"``: how many rows of ``text`` hold one of ``values``."""
    n = int(text.isin(set(values)).sum())
    return f"{n:,} row" + ("" if n == 1 else "s")


def _decide_dayfirst(
    text: pd.Series,
    found: pd.DataFrame,
    *,
    dayfirst: bool | None,
    column: str,
    where: str,
    n_iso: int,
) -> tuple[bool, pd.Series]:
    """Return the reading of day/month values and which of them are calendar dates."""
    year = _four_digit_year(found[3])
    first, second = found[0].astype("int64"), found[2].astype("int64")
    ok_dm = _is_valid_date(year, second, first)
    ok_md = _is_valid_date(year, first, second)
    if dayfirst is None:
        only_dm, only_md = ok_dm & ~ok_md, ok_md & ~ok_dm
        ambiguous = ok_dm & ok_md & (first != second)
        values = found["value"]
        if only_dm.any() and only_md.any():
            sep = found[1].iloc[0]
            most = "%d{0}%m{0}%Y" if only_dm.sum() >= only_md.sum() else "%m{0}%d{0}%Y"
            raise DataValidationError(
                f"Column {column!r} of {where} mixes day-first and month-first dates: "
                f"{_rows(text, values[only_dm])} only make sense day-first "
                f"(e.g. {format_examples(values[only_dm], limit=3)}) and "
                f"{_rows(text, values[only_md])} only month-first (e.g. "
                f"{format_examples(values[only_md], limit=3)}). A date column must use one "
                f"format: fix the file, or pass the format most rows use, e.g. "
                f"{option_hint('date_format', most.format(sep))}; values that do not match it "
                "count as unparsable dates."
            )
        if only_dm.any() or only_md.any():
            dayfirst = bool(only_dm.any())
        elif ambiguous.any():
            sep = found[1].iloc[0]
            iso_note = (
                f" (its {n_iso:,} ISO dates such as '2021-01-05' are unambiguous)" if n_iso else ""
            )
            example = values[ambiguous].iloc[0]
            a, b = int(first[ambiguous].iloc[0]), int(second[ambiguous].iloc[0])
            raise DataValidationError(
                f"Column {column!r} of {where} has {_rows(text, values[ambiguous])} whose date "
                f"reads as day-first or as month-first{iso_note}, e.g. "
                f"{format_examples(values[ambiguous], limit=3)}: {example!r} is day {a} of "
                f"month {b}, or month {a} day {b}. No value has a day above 12 to settle it. "
                f"Say which: {option_hint('dayfirst', True)} for dd{sep}mm{sep}yyyy or "
                f"dayfirst=False for mm{sep}dd{sep}yyyy, or give the exact format, e.g. "
                f"{option_hint('date_format', f'%d{sep}%m{sep}%Y')}."
            )
        else:
            dayfirst = True  # every value reads the same both ways (or neither way)
    return dayfirst, (ok_dm if dayfirst else ok_md)


def _parse_text(
    text: pd.Series,
    *,
    date_format: str | None,
    dayfirst: bool | None,
    timezone: str | None,
    column: str,
    where: str,
) -> ParsedDates:
    """Parse a column of date strings (no missing values), each distinct value once."""
    codes, distinct = pd.factorize(text)
    uniques = pd.Series(distinct, dtype=object)
    aware = pd.Series(False, index=uniques.index)
    if timezone is not None:
        matches = pc.match_substring_regex(_arrow(uniques), _OFFSET)
        aware = pd.Series(pc.fill_null(matches, False).to_numpy(zero_copy_only=False))
    if date_format is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                parsed = pd.to_datetime(uniques, format=date_format, errors="coerce", utc=True)
        except ValueError as exc:
            raise ConfigError(
                f"date_format={date_format!r} is not a valid strftime format ({exc}). "
                f"Use codes such as {option_hint('date_format', '%d/%m/%Y %H:%M')}."
            ) from None
        aware = pd.Series("%z" in date_format or "%Z" in date_format, index=uniques.index)
        labels = [date_format]
    else:
        parsed = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[us, UTC]")
        labels = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            strict = pd.to_datetime(uniques, format="ISO8601", errors="coerce", utc=True)
        iso_done = strict.notna()
        if iso_done.any():  # the common case, in C: '2021-01-05', '2021-01-05T08:26:00+01:00'
            parsed[iso_done] = strict[iso_done]
            labels.append(guess_datetime_format(str(uniques[iso_done].iloc[0])) or "ISO 8601")
        left = uniques[~iso_done]
        ymd = _extract(left, "year_first")
        dm = _extract(left.drop(index=ymd.index), "day_month")
        other = left.drop(index=ymd.index.union(dm.index))
        if len(ymd):
            year = ymd[0].astype("int64")
            ok = _is_valid_date(year, ymd[2].astype("int64"), ymd[3].astype("int64"))
            iso = _iso(year[ok], ymd[2][ok], ymd[3][ok], ymd[4][ok])
            if len(iso):
                parsed.loc[iso.index] = _parse_iso(iso)
                labels.append(_label(iso, "%Y-%m-%d"))
        if len(dm):
            dm["value"] = uniques[dm.index]
            n_iso = int(iso_done.sum()) + len(ymd)
            first_is_day, ok = _decide_dayfirst(
                text, dm, dayfirst=dayfirst, column=column, where=where, n_iso=n_iso
            )
            day, month = (dm[0], dm[2]) if first_is_day else (dm[2], dm[0])
            iso = _iso(_four_digit_year(dm[3])[ok], month[ok], day[ok], dm[4][ok])
            if len(iso):
                parsed.loc[iso.index] = _parse_iso(iso)
                sep, year_code = dm[1].iloc[0], "%Y" if len(dm[3].iloc[0]) == 4 else "%y"
                parts = ("%d", "%m") if first_is_day else ("%m", "%d")
                labels.append(_label(iso, f"{parts[0]}{sep}{parts[1]}{sep}{year_code}"))
        if len(other):
            numeric = other.str.fullmatch(_NUMERIC_ONLY)
            words = _to_utc(other[~numeric])  # e.g. '5 Jan 2021', 'Jan 5, 2021 08:26'
            digits = _to_utc(other[numeric], mixed=False)  # e.g. '20210105'; never guessed
            for part in (words, digits):
                if part.notna().any():
                    parsed.loc[part.index] = part
                    labels.append(_guess_format(other[part.index][part.notna()]) or "mixed")
    local = parsed.dt.tz_localize(None).copy()
    if timezone is not None and aware.any():
        local[aware] = _naive(parsed[aware], timezone=timezone)
    values = pd.Series(_in_range(local).to_numpy()[codes], index=text.index)
    label = " and ".join(dict.fromkeys(labels)) if labels else None
    return ParsedDates(values.astype("datetime64[ns]"), label)


def parse_date_column(
    values: pd.Series,
    *,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    timezone: str | None = None,
    column: str | None = None,
    where: str = "the data",
) -> ParsedDates:
    """Parse a column of dates, leaving values that do not parse as ``NaT``.

    Parameters
    ----------
    values : pandas.Series
        Raw dates: datetimes, strings or ``YYYYMMDD`` integers.
    date_format : str, optional
        Exact strftime format of string dates; values that do not match are NaT.
    dayfirst : bool, optional
        Read ``05/01/2021``-style dates as day-first (True) or month-first (False).
        Without it (and without ``date_format``) the data must settle the order.
    timezone : str, optional
        Zone that timezone-aware dates are converted to before the zone is
        dropped; default UTC. Naive dates are left as they are.
    column : str, optional
        Source column name, for messages; defaults to ``values.name``.
    where : str, default "the data"
        What is being read, e.g. ``"'log.csv'"``, for messages.

    Returns
    -------
    ParsedDates
        ``(values, date_format)``: ``datetime64[ns]`` values, same index, and the
        format that was used.

    Raises
    ------
    DataValidationError
        If day/month dates could be read either way, or the column mixes
        day-first and month-first dates.
    ConfigError
        If ``date_format`` is not a valid format.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return ParsedDates(_in_range(_naive(values, timezone=timezone)), None)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return ParsedDates(_in_range(values), None)
    if pd.api.types.is_integer_dtype(values.dtype):
        fmt = date_format or "%Y%m%d"
        parsed = pd.to_datetime(values.astype("str"), format=fmt, errors="coerce")
        return ParsedDates(_in_range(parsed), fmt)
    text = values.astype("str").str.strip().mask(values.isna())
    text = text.mask(text == "")
    present = text.dropna()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if not len(present):
        return ParsedDates(out, date_format)
    name = column if column is not None else str(values.name or "date")
    parsed = _parse_text(
        present,
        date_format=date_format,
        dayfirst=dayfirst,
        timezone=timezone,
        column=name,
        where=where,
    )
    out.loc[present.index] = parsed.values
    return ParsedDates(out, parsed.date_format)


def parse_date_value(
    value: object,
    *,
    name: str,
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> pd.Timestamp:
    """Parse one date parameter such as ``observation_end``; it may carry a timezone.

    Parameters
    ----------
    value : str, datetime or pandas.Timestamp
        The date given by the caller.
    name : str
        The parameter's name, used in messages.
    date_format, dayfirst : optional
        As for :func:`parse_date_column`; they apply to strings only.

    Returns
    -------
    pandas.Timestamp
        ``NaT`` when the value is missing.

    Raises
    ------
    ConfigError
        If the value is not a date, does not match ``date_format``, or is a
        day/month date that reads both ways and ``dayfirst`` is not given.
    """
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and date_format is not None:
        try:
            return pd.Timestamp(pd.to_datetime(text, format=date_format))
        except (TypeError, ValueError):
            example = pd.Timestamp("2011-12-09 10:30").strftime(date_format)
            raise ConfigError(
                f"{name}={value!r} does not match date_format={date_format!r}. Write it in "
                f"that format (e.g. {example!r}) or use an ISO date such as '2011-12-09'."
            ) from None
    match = re.fullmatch(_DAY_MONTH, text) if isinstance(text, str) else None
    if match is not None:
        a, sep, b, y, rest = match.groups()
        year = _four_digit_year(pd.Series([y], dtype="str"))
        first, second = pd.Series([int(a)]), pd.Series([int(b)])
        ok_dm = bool(_is_valid_date(year, second, first).iloc[0])
        ok_md = bool(_is_valid_date(year, first, second).iloc[0])
        if dayfirst is None and ok_dm and ok_md and int(a) != int(b):
            raise ConfigError(
                f"{name}={value!r} reads as day {int(a)} of month {int(b)} or as month "
                f"{int(a)} day {int(b)}. Say which: {option_hint('dayfirst', True)} or "
                f"dayfirst=False, or {option_hint('date_format', f'%d{sep}%m{sep}%Y')}, or "
                "write it as an ISO date such as '2011-12-09'."
            )
        first_is_day = ok_dm if dayfirst is None else dayfirst
        if not (ok_dm if first_is_day else ok_md):
            order = "day-first" if first_is_day else "month-first"
            raise ConfigError(
                f"{name}={value!r} is not a date (read {order}). Pass a date such as '2011-12-09'."
            )
        day, month = (a, b) if first_is_day else (b, a)
        text = f"{int(year.iloc[0]):04d}-{int(month):02d}-{int(day):02d}{rest}"
    try:
        return pd.Timestamp(text)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"{name}={value!r} is not a date ({error}). Pass a date such as '2011-09-01'."
        ) from None
