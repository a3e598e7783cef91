"""Readable tables for stakeholder HTML: thousands separators, money, percentages, escaping.

``styled(frame, money=[...], percent=[...])`` returns a pandas Styler whose
cells and index labels are HTML-escaped (pandas' Styler does not escape by
default), so text from the data can never become markup in a report, and whose
column names are the labels people read (:func:`churnlab.report.formatting.column_label`).
"""

from __future__ import annotations

import hashlib
import hmac
import numbers
import os
import secrets
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.exceptions import DataValidationError
from churnlab.money import format_money
from churnlab.report.formatting import column_label

__all__ = ["format_value", "mask_ids", "spreadsheet_safe", "styled"]


def format_value(
    value: object, *, kind: str = "auto", currency: str = "", decimals: int = 2
) -> str:
    """Format one value for people.

    Parameters
    ----------
    value : object
        Any cell value.
    kind : {"auto", "money", "percent", "pvalue"}, default "auto"
        ``money`` is formatted by :func:`churnlab.money.format_money` (whole units from
        1,000 up, cents below); ``percent`` multiplies by 100;
        ``pvalue`` shows "< 0.01" for small p-values.
    currency : str, default ""
        ISO code or symbol of the money's currency, e.g. "GBP" or "£".
    decimals : int, default 2
        Decimals of non-integer numbers.

    Returns
    -------
    str
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if kind == "percent":
            return f"{number:.1%}"
        if kind == "pvalue":
            return "< 0.01" if number < 0.01 else f"{number:.2f}"
        if kind == "money":
            return format_money(number, currency)
        if isinstance(value, numbers.Integral) or (number.is_integer() and abs(number) >= 1000):
            return f"{number:,.0f}"
        return f"{number:,.{decimals}f}"
    return str(value)


def styled(
    frame: pd.DataFrame | pd.Series,
    *,
    money: Sequence[str] = (),
    percent: Sequence[str] = (),
    pvalue: Sequence[str] = (),
    currency: str = "",
    decimals: int = 2,
    caption: str | None = None,
) -> pd.io.formats.style.Styler:
    """Return an escaped, readably formatted Styler of a table.

    Parameters
    ----------
    frame : pandas.DataFrame or Series
        The table.
    money : sequence of str, optional
        Columns shown as money.
    percent : sequence of str, optional
        Columns holding shares (0-1) shown as percentages.
    pvalue : sequence of str, optional
        Columns of p-values.
    currency : str, default ""
        ISO code or symbol of the currency of the money columns.
    decimals : int, default 2
        Decimals of other non-integer numbers.
    caption : str, optional
        Table caption (escaped).

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    data = frame.to_frame() if isinstance(frame, pd.Series) else frame
    data = data.rename(columns=column_label).rename_axis(
        index=[column_label(n) for n in data.index.names]
    )
    money = [column_label(c) for c in money]
    percent = [column_label(c) for c in percent]
    pvalue = [column_label(c) for c in pvalue]
    formatters: dict[str, Callable[[object], str]] = {}
    for column in data.columns:
        kind = next(
            (k for k, names in (("money", money), ("percent", percent), ("pvalue", pvalue))
             if column in names),
            "auto",
        )  # fmt: skip
        formatters[column] = lambda v, k=kind: format_value(
            v, kind=k, currency=currency, decimals=decimals
        )
    styler = data.style.format(formatters, escape="html")
    ids = {config.CUSTOMER_ID, "Customer"} & set(map(str, data.index.names))
    rows = format_value if ids else (lambda v: format_value(column_label(v)))
    styler = styler.format_index(rows, escape="html", axis=0)  # ids are shown as they are
    styler = styler.format_index(lambda v: format_value(v), escape="html", axis=1)
    if caption:
        import html

        styler = styler.set_caption(html.escape(caption))
    return styler


#: First characters that make Excel, LibreOffice or Sheets read a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot run as spreadsheet formulas.

    OWASP's rule for CSV injection: a text cell (or index label) that begins with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single
    quote, so ``=HYPERLINK(...)`` is shown as text. Numbers are left alone. Use it
    for CSV and Excel exports; Parquet keeps the exact values.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to export.

    Returns
    -------
    pandas.DataFrame
    """
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column].dtype):
            out[column] = out[column].map(_neutralise)
    if not pd.api.types.is_numeric_dtype(out.index.dtype):
        out.index = out.index.map(_neutralise)
    return out


#: Environment variable holding the secret key of the customer-id pseudonyms.
MASK_KEY_VARIABLE = "CHURNLAB_MASK_KEY"
_RUN_KEY = secrets.token_bytes(32)


def mask_key() -> bytes:
    """Return the key of the id pseudonyms: ``$CHURNLAB_MASK_KEY``, else a random per-process key.

    Returns
    -------
    bytes
        With a key from the environment the pseudonyms are stable across runs;
        without one they differ from run to run (and cannot be linked between runs).
    """
    secret = os.environ.get(MASK_KEY_VARIABLE, "")
    return secret.encode() if secret else _RUN_KEY


def mask_ids(
    values: pd.Index | pd.Series, *, enabled: bool = True, key: bytes | None = None
) -> pd.Index | pd.Series:
    """Replace customer ids by keyed pseudonyms (``C-<20 hex digits>``) for stakeholder HTML.

    The pseudonym is HMAC-SHA256 of the id under a secret key, cut to 80 bits, so
    it cannot be reversed by hashing candidate ids without the key, and collisions
    are negligible (about 4e-9 for 100 million customers); a collision among the
    given ids is detected and raised, never shown as one customer.

    Parameters
    ----------
    values : pandas.Index or Series
        Customer ids.
    enabled : bool, default True
        Return ``values`` unchanged when False (pass the ``mask_customer_ids`` parameter).
    key : bytes, optional
        Secret key; default :func:`mask_key` (``$CHURNLAB_MASK_KEY`` or a random
        key per run). The key is never written into the run folder.

    Returns
    -------
    pandas.Index or Series
        Same type and order; equal ids map to equal pseudonyms.

    Raises
    ------
    DataValidationError
        If two different ids get the same pseudonym.
    """
    if not enabled:
        return values
    secret = mask_key() if key is None else key
    ids = pd.Series(np.asarray(values.astype(str), dtype=object))
    distinct = ids.drop_duplicates()
    pseudonyms = {
        v: "C-" + hmac.new(secret, v.encode(), hashlib.sha256).hexdigest()[:20] for v in distinct
    }
    if len(set(pseudonyms.values())) < len(pseudonyms):
        raise DataValidationError(
            "mask_ids: two different customer ids got the same pseudonym. Set another "
            f"{MASK_KEY_VARIABLE}, or turn masking off with mask_customer_ids=false."
        )
    masked = ids.map(pseudonyms).tolist()
    if isinstance(values, pd.Index):
        return pd.Index(masked, name=values.name)
    return pd.Series(masked, index=values.index, name=values.name)
