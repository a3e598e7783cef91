"""Readable tables for stakeholder HTML: thousands separators, money, percentages, escaping.

``styled(frame, money=[...], percent=[...])`` returns a pandas Styler whose
cells and index labels are HTML-escaped (pandas' Styler does not escape by
default), so text from the data can never become markup in a report.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["format_value", "mask_ids", "styled"]


def format_value(
    value: object, *, kind: str = "auto", currency: str = "", decimals: int = 2
) -> str:
    """Format one value for people.

    Parameters
    ----------
    value : object
        Any cell value.
    kind : {"auto", "money", "percent"}, default "auto"
        ``money`` prefixes ``currency`` and uses 2 decimals; ``percent`` multiplies by 100.
    currency : str, default ""
        Currency symbol for money, e.g. "£".
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
        if kind == "money":
            sign = "-" if number < 0 else ""
            return f"{sign}{currency}{abs(number):,.2f}"
        if isinstance(value, numbers.Integral) or (number.is_integer() and abs(number) >= 1000):
            return f"{number:,.0f}"
        return f"{number:,.{decimals}f}"
    return str(value)


def styled(
    frame: pd.DataFrame | pd.Series,
    *,
    money: Sequence[str] = (),
    percent: Sequence[str] = (),
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
    currency : str, default ""
        Currency symbol for money columns.
    decimals : int, default 2
        Decimals of other non-integer numbers.
    caption : str, optional
        Table caption (escaped).

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    data = frame.to_frame() if isinstance(frame, pd.Series) else frame
    formatters: dict[str, Callable[[object], str]] = {}
    for column in data.columns:
        kind = "money" if column in money else "percent" if column in percent else "auto"
        formatters[column] = lambda v, k=kind: format_value(
            v, kind=k, currency=currency, decimals=decimals
        )
    styler = data.style.format(formatters, escape="html")
    styler = styler.format_index(lambda v: format_value(v), escape="html", axis=0)
    styler = styler.format_index(lambda v: format_value(v), escape="html", axis=1)
    if caption:
        import html

        styler = styler.set_caption(html.escape(caption))
    return styler


def mask_ids(values: pd.Index | pd.Series, *, enabled: bool = True) -> pd.Index | pd.Series:
    """Replace customer ids by stable pseudonyms (``C-1a2b3c4d``) for stakeholder HTML.

    Parameters
    ----------
    values : pandas.Index or Series
        Customer ids.
    enabled : bool, default True
        Return ``values`` unchanged when False (pass the ``mask_customer_ids`` parameter).

    Returns
    -------
    pandas.Index or Series
        Same type and order; equal ids map to equal pseudonyms.
    """
    if not enabled:
        return values
    hashed = pd.util.hash_array(np.asarray(values.astype(str), dtype=object))
    masked = [f"C-{h & 0xFFFFFFFF:08x}" for h in hashed]
    if isinstance(values, pd.Index):
        return pd.Index(masked, name=values.name)
    return pd.Series(masked, index=values.index, name=values.name)
