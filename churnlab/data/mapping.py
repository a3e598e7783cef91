"""Map a source's columns to churnlab's canonical names, suggesting the closest on a miss."""

from __future__ import annotations

import difflib
import re

import pandas as pd

from churnlab import config
from churnlab.data.messages import format_examples
from churnlab.exceptions import ConfigError, DataValidationError


def resolve_mapping(
    columns: pd.Index,
    *,
    amount: str | None,
    quantity: str | None,
    price: str | None,
    order_id: str | None,
    product_id: str | None,
) -> dict[str, str | None]:
    """Fill in optional mappings from canonical column names present in the data.

    Parameters
    ----------
    columns : pandas.Index
        The source's columns.
    amount, quantity, price, order_id, product_id : str or None
        The caller's mapping; None means "use the canonical name if present".

    Returns
    -------
    dict of str to str or None
        ``amount``, ``quantity``, ``price`` (None when ``amount`` is used),
        ``order_id`` and ``product_id``.

    Raises
    ------
    ConfigError
        If neither ``amount`` nor ``quantity`` and ``price`` can be resolved.
    """
    present = set(map(str, columns))

    def default(given: str | None, canonical: str) -> str | None:
        return given if given is not None else (canonical if canonical in present else None)

    if amount is None and price is None:
        amount = default(None, config.AMOUNT)
    if amount is None and price is None:
        raise ConfigError(
            "load_transactions needs the purchase value: pass amount='<column>' or both "
            f"quantity='<column>' and price='<column>'. Available columns: "
            f"{format_examples(map(str, columns), limit=30)}."
        )
    quantity = default(quantity, config.QUANTITY)
    if amount is None and quantity is None:
        raise ConfigError(
            f"load_transactions got price={price!r} but no quantity: pass quantity='<column>' "
            "too, or pass amount='<column>' instead."
        )
    return {
        "amount": amount,
        "quantity": quantity,
        "price": price if amount is None else None,
        "order_id": default(order_id, config.ORDER_ID),
        "product_id": default(product_id, config.PRODUCT_ID),
    }


def _closest(column: str, available: list[str]) -> str | None:
    """Return the available column most like ``column`` (case and punctuation ignored)."""

    def norm(name: str) -> str:
        return re.sub(r"[^0-9a-z]", "", name.lower())

    same = [c for c in available if norm(c) == norm(column)]
    if same:
        return same[0]
    lowered = {c.lower(): c for c in available}
    close = difflib.get_close_matches(column.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[close[0]] if close else None


def check_mapped_columns(raw: pd.DataFrame, mapping: dict[str, str], *, where: str) -> None:
    """Raise when a mapped column is missing, naming the option and the closest column.

    Parameters
    ----------
    raw : pandas.DataFrame
        The source as read.
    mapping : dict of str to str
        Option name (``"customer_id"``, ...) to the source column it names.
    where : str
        The source, for the message, e.g. ``"'log.csv'"``.

    Raises
    ------
    DataValidationError
        Names each missing ``option='column'``, the closest available column
        (case and punctuation ignored) and the available columns.
    """
    available = [str(c) for c in raw.columns]
    missing = {option: column for option, column in mapping.items() if column not in available}
    if not missing:
        return
    hints, fixes = [], []
    for option, column in missing.items():
        close = _closest(column, available)
        hints.append(f"{option}={column!r}" + (f" (did you mean {close!r}?)" if close else ""))
        fixes.append(f"{option}={(close or '<column>')!r}")
    raise DataValidationError(
        f"load_transactions needs column(s) {', '.join(hints)}, which {where} does not have. "
        f"Available columns: {', '.join(repr(c) for c in available) or 'none'}. Pass the "
        f"mapping, e.g. {', '.join(fixes)}, or rename the columns to churnlab's names."
    )
