"""Money for people: amounts in a currency, with thousands separators or K/M/B.

The one money formatter of the package; the report's formatting layer
(:mod:`churnlab.report.formatting`) and the analysis texts (e.g. the churn-reason memo)
both use it, so an amount reads the same on every page.
"""

from __future__ import annotations

import math

__all__ = ["CURRENCY_SYMBOLS", "currency_prefix", "format_money"]

#: Symbols of the common ISO 4217 codes; other codes are written before the amount.
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "INR": "₹", "CHF": "CHF "}


def currency_prefix(currency: str) -> str:
    """Return the prefix of money amounts in ``currency`` ("" when none is given).

    ``currency`` is an ISO 4217 code ("GBP" -> "£", "SEK" -> "SEK ") or a prefix this
    function returned before ("£" stays "£"), so passing either is safe.
    """
    code = (currency or "").strip().upper()
    if code in CURRENCY_SYMBOLS:
        return CURRENCY_SYMBOLS[code]
    return f"{code} " if code.isalpha() else (currency or "")


def format_money(value: float | None, currency: str = "", *, compact: bool = False) -> str:
    """Format an amount of money for people: ``£1,234,567`` or, compact, ``£1.23M``.

    Parameters
    ----------
    value : float or None
        The amount.
    currency : str, default ""
        ISO code of the run's currency.
    compact : bool, default False
        Use K/M/B suffixes for large amounts.

    Returns
    -------
    str
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign, amount, prefix = ("-" if value < 0 else ""), abs(float(value)), currency_prefix(currency)
    if compact and amount >= 1_000:
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if amount >= size:
                return f"{sign}{prefix}{amount / size:,.2f}{suffix}"
    decimals = 0 if amount >= 1_000 else 2
    return f"{sign}{prefix}{amount:,.{decimals}f}"
