"""Validate the column-mapping and reading options of a transaction source.

The names are :data:`churnlab.config.SOURCE_OPTIONS`; ``load_transactions``,
``load_source``, the CLI (``--date-format`` ...) and the report config all accept
them, and all check them here.
"""

from __future__ import annotations

import codecs
import difflib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.exceptions import ConfigError

#: Options that name a column of the source (the first part of ``SOURCE_OPTIONS``).
COLUMN_OPTIONS: tuple[str, ...] = config.SOURCE_OPTIONS[
    : config.SOURCE_OPTIONS.index("date_format")
]


def _check_string(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        what = "a column name" if name in COLUMN_OPTIONS else "a non-empty string"
        raise ConfigError(f"{name} must be {what}, got {value!r} ({type(value).__name__}).")
    return value


def source_options(mapping: Mapping[str, object] | None = None) -> dict[str, Any]:
    """Check a dict of source options and return it without the unset (None) ones.

    Parameters
    ----------
    mapping : mapping of str to object, optional
        Option name to value, with names from :data:`churnlab.config.SOURCE_OPTIONS`:
        the column mapping (``customer_id``, ``date``, ``amount``, ``quantity``,
        ``price``, ``order_id``, ``product_id``: column names) and the reading
        options ``date_format`` (a strftime format such as ``"%d/%m/%Y"``),
        ``dayfirst`` (bool), ``encoding`` (e.g. ``"latin-1"``), ``sep`` (the
        column separator of a CSV, e.g. ``";"``; ``"tab"`` means a tab),
        ``decimal`` (``","`` for decimal commas), ``sheet`` (an Excel sheet name,
        or its position as an int) and ``timezone`` (an IANA zone such as
        ``"Europe/London"``).

    Returns
    -------
    dict
        The options that are set, in :data:`~churnlab.config.SOURCE_OPTIONS` order;
        ``sheet`` given as digits (``"2"``) stays a string (a sheet may be named so).

    Raises
    ------
    ConfigError
        For an unknown name (with the closest known one), a value of the wrong
        type, a format without ``%`` codes, an unknown encoding or time zone, a
        separator that is not one character, a decimal mark other than ``","``
        and ``"."`` (or equal to the separator), or both ``date_format`` and
        ``dayfirst``.
    """
    given = dict(mapping or {})
    unknown = [str(k) for k in given if k not in config.SOURCE_OPTIONS]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, config.SOURCE_OPTIONS, n=1, cutoff=0.6)
            hints.append(repr(name) + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(
            f"Unknown source option(s) {', '.join(hints)}. Known options: "
            f"{', '.join(config.SOURCE_OPTIONS)}."
        )
    out: dict[str, Any] = {}
    for name in config.SOURCE_OPTIONS:
        value = given.get(name)
        if value is None:
            continue
        if name == "dayfirst":
            if not isinstance(value, bool | np.bool_):
                raise ConfigError(
                    f"dayfirst must be True (dd/mm/yyyy) or False (mm/dd/yyyy), got {value!r}."
                )
            value = bool(value)
        elif name == "sheet":
            if isinstance(value, bool) or not isinstance(value, str | int | np.integer):
                raise ConfigError(
                    f"sheet must be a sheet name or its position (0 = first), got {value!r}."
                )
            if not isinstance(value, str):
                if value < 0:
                    raise ConfigError(f"sheet must be 0 (the first sheet) or more, got {value}.")
                value = int(value)
        elif name == "sep":
            tab = value in ("\t", "\\t", "tab")  # a shell passes --sep '\t' as two characters
            value = "\t" if tab else _check_string(name, value)
        else:
            value = _check_string(name, value)
        out[name] = value
    _check_reading_options(out)
    return out


def _check_reading_options(options: dict[str, Any]) -> None:
    date_format = options.get("date_format")
    if date_format is not None and "%" not in date_format:
        raise ConfigError(
            f"date_format={date_format!r} has no % codes. Write it with strftime codes, "
            "e.g. date_format='%d/%m/%Y' for 31/01/2024 (CLI: --date-format '%d/%m/%Y')."
        )
    if date_format is not None and "dayfirst" in options:
        raise ConfigError(
            f"Pass date_format= or dayfirst=, not both: date_format={date_format!r} already "
            "fixes the order of day and month."
        )
    if "encoding" in options:
        try:
            codecs.lookup(options["encoding"])
        except LookupError:
            raise ConfigError(
                f"encoding={options['encoding']!r} is not a known text encoding. Use e.g. "
                "'utf-8', 'latin-1', 'cp1252' or 'utf-16' (CLI: --encoding latin-1)."
            ) from None
    sep, decimal = options.get("sep"), options.get("decimal")
    if sep is not None and (len(sep) != 1 or sep.isalnum() or sep in "\"'"):
        raise ConfigError(
            f"sep={sep!r} must be the one character between a CSV's columns, e.g. ';', '|' "
            "or a tab (CLI: --sep ';', or --sep '\\t' for a tab)."
        )
    if decimal is not None and decimal not in (",", "."):
        raise ConfigError(
            f"decimal={decimal!r} must be ',' (1,5 means one and a half) or '.' "
            "(CLI: --decimal ',')."
        )
    if decimal is not None and decimal == (sep or ","):
        raise ConfigError(
            f"decimal={decimal!r} is also the column separator, so numbers and columns "
            "cannot be told apart. Pass the file's separator too, e.g. sep=';' "
            "(CLI: --sep ';' --decimal ',')."
        )
    if "timezone" in options:
        try:
            pd.Timestamp("2000-01-01", tz=options["timezone"])
        except Exception:  # pytz/zoneinfo/dateutil raise different errors for bad zones
            raise ConfigError(
                f"timezone={options['timezone']!r} is not a known time zone. Use an IANA "
                "name such as 'Europe/London', 'America/New_York' or 'UTC' "
                "(CLI: --timezone Europe/London)."
            ) from None
