"""Cleaning policy and the report that accounts for every input row.

Rules are applied in a fixed order, and a dropped row is counted under the
first rule that hits it, so each row has exactly one reason and
``kept_rows + sum(dropped.values()) == input_rows`` always holds:

1. ``missing_customer_id`` - no customer id;
2. ``unparsable_date`` - the date is missing or does not parse;
3. ``future_date`` - the date is after ``observation_end`` (or after now);
4. ``missing_amount`` - amount (or quantity/price) is missing;
5. ``non_finite_amount`` - amount, quantity or price is infinite (``inf``, ``-inf``,
   or a number such as ``1e309`` too large for a float, also after
   ``quantity * price``);
6. ``duplicate`` - an exact copy of an earlier input line;
7. ``cancellation`` - a cancellation or return (order id prefix, negative quantity);
8. ``non_product`` - postage, fees, manual adjustments and other non-product codes;
9. ``nonpositive_amount`` - zero or negative price or amount;
10. ``reversed_purchase`` - a purchase line that a dropped cancellation line fully
   reverses (see :mod:`churnlab.data.reversals`). Only rows that passed rules
   1-9 can be reversed, and only lines dropped as ``cancellation`` reverse, so
   this rule moves rows from kept to dropped and leaves the other counts alone.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.data.accounting import DROP_REASONS, REASON_DESCRIPTIONS, CleaningReport
from churnlab.data.reversals import match_reversals
from churnlab.exceptions import ConfigError

__all__ = [
    "DROP_REASONS",
    "ONLINE_RETAIL_NON_PRODUCT_CODES",
    "REASON_DESCRIPTIONS",
    "CleaningPolicy",
    "CleaningReport",
    "assign_drop_reasons",
]

_REASON_FLAGS: dict[str, str] = {
    "missing_customer_id": "drop_missing_customer_id",
    "unparsable_date": "drop_unparsable_dates",
    "future_date": "drop_future_dates",
    "missing_amount": "drop_missing_amounts",
    "non_finite_amount": "drop_non_finite_amounts",
    "duplicate": "drop_duplicates",
    "cancellation": "drop_cancellations",
    "non_product": "drop_non_products",
    "nonpositive_amount": "drop_nonpositive_amounts",
    "reversed_purchase": "drop_reversed_purchases",
}

ONLINE_RETAIL_NON_PRODUCT_CODES: tuple[str, ...] = (
    "POST",
    "DOT",
    "M",
    "m",
    "C2",
    "D",
    "S",
    "BANK CHARGES",
    "AMAZONFEE",
    "CRUK",
    "PADS",
    "B",
    "gift_0001_*",
    "DCGS*",
)


@dataclass(frozen=True)
class CleaningPolicy:
    """Which rules drop rows when transactions are loaded.

    Parameters
    ----------
    drop_missing_customer_id : bool, default True
        Drop rows without a customer id.
    drop_unparsable_dates : bool, default True
        Drop rows whose date is missing or does not parse, as long as they are at
        most ``max_unparsable_date_share`` of the rows; otherwise (or when False)
        loading raises :class:`~churnlab.exceptions.DataValidationError`.
    max_unparsable_date_share : float, default 0.05
        Largest share of rows with bad dates that is dropped rather than raised.
    drop_future_dates : bool, default True
        Drop rows dated after ``observation_end`` (when given) or after now.
    drop_missing_amounts : bool, default True
        Drop rows whose amount (or quantity or price) is missing.
    drop_non_finite_amounts : bool, default True
        Drop rows whose amount, quantity or price is infinite, including an
        amount that overflows when computed as ``quantity * price``; when False,
        such rows make loading raise, since no model can use them.
    drop_duplicates : bool, default True
        Drop exact duplicates (every input column equal) of an earlier line.
    drop_cancellations : bool, default True
        Drop cancellations and returns: order ids starting with one of
        ``cancellation_prefixes`` and, if ``negative_quantity_is_return``, lines
        with a negative quantity.
    cancellation_prefixes : tuple of str, default ()
        Order id prefixes that mark a cancellation, e.g. ``("C",)``.
    negative_quantity_is_return : bool, default True
        Treat a negative quantity as a return.
    drop_non_products : bool, default True
        Drop lines whose product id matches ``non_product_codes``.
    non_product_codes : tuple of str, default ()
        Exact product codes or shell-style patterns (``"gift_0001_*"``); case-sensitive.
    drop_nonpositive_amounts : bool, default True
        Drop lines with a zero or negative price or amount.
    drop_reversed_purchases : bool, default True
        Also drop the purchase line that a cancellation reverses in full, so that
        neither side of the pair reaches Monetary or Gamma-Gamma. A purchase is
        reversed by a line dropped as ``cancellation`` with a negative quantity
        when both have the same customer and product, the purchase was made at
        or before the cancellation, and its quantity equals the cancelled
        quantity with the sign flipped. Taken in time order, each cancellation
        takes the latest such purchase still unmatched, and each purchase is
        taken at most once.
        *Partial* reversals (e.g. 2 of 10 units returned) are left as they are:
        the purchase stays whole, because which part to net is a guess. Needs
        ``product_id`` and ``quantity`` mapped, and ``drop_cancellations`` on
        (a kept negative line already nets its purchase); otherwise it drops
        nothing.
    name : str, default "default"
        A label shown in the cleaning report.
    """

    drop_missing_customer_id: bool = True
    drop_unparsable_dates: bool = True
    max_unparsable_date_share: float = 0.05
    drop_future_dates: bool = True
    drop_missing_amounts: bool = True
    drop_non_finite_amounts: bool = True
    drop_duplicates: bool = True
    drop_cancellations: bool = True
    cancellation_prefixes: tuple[str, ...] = ()
    negative_quantity_is_return: bool = True
    drop_non_products: bool = True
    non_product_codes: tuple[str, ...] = ()
    drop_nonpositive_amounts: bool = True
    drop_reversed_purchases: bool = True
    name: str = "default"

    @classmethod
    def online_retail(cls, **overrides: Any) -> CleaningPolicy:
        """Return the policy for the UCI Online Retail data.

        Cancellations are invoices starting with ``C``; postage, fees, manual
        lines, samples, discounts and gift vouchers are non-product lines; a
        purchase cancelled in full (e.g. 80,995 x PAPER CRAFT, LITTLE BIRDIE,
        581483/C581484) is dropped with its cancellation (see ``data/README.md``).

        Parameters
        ----------
        **overrides
            Fields to change, e.g. ``drop_duplicates=False``.

        Returns
        -------
        CleaningPolicy
        """
        settings: dict[str, Any] = {
            "cancellation_prefixes": ("C",),
            "non_product_codes": ONLINE_RETAIL_NON_PRODUCT_CODES,
            "name": "online_retail",
        }
        settings.update(overrides)
        return cls(**settings)

    @classmethod
    def only(cls, *reasons: str, **overrides: Any) -> CleaningPolicy:
        """Return a policy that applies only the named rules.

        Parameters
        ----------
        *reasons : str
            Drop reasons to keep on (see ``DROP_REASONS``); every other rule is off.
        **overrides
            Other fields, e.g. ``cancellation_prefixes=("C",)``.

        Returns
        -------
        CleaningPolicy

        Raises
        ------
        ConfigError
            If a reason is unknown.
        """
        unknown = [r for r in reasons if r not in DROP_REASONS]
        if unknown:
            raise ConfigError(
                f"Unknown cleaning rule(s) {', '.join(map(repr, unknown))}. "
                f"Valid rules: {', '.join(DROP_REASONS)}."
            )
        settings: dict[str, Any] = {
            flag: reason in reasons for reason, flag in _REASON_FLAGS.items()
        }
        settings["name"] = "only " + ", ".join(reasons) if reasons else "keep everything"
        settings.update(overrides)
        return cls(**settings)

    def enabled_reasons(self) -> tuple[str, ...]:
        """Return the drop reasons this policy checks, in application order.

        Returns
        -------
        tuple of str
        """
        return tuple(r for r in DROP_REASONS if getattr(self, _REASON_FLAGS[r]))


def _matches_codes(codes: pd.Series, patterns: tuple[str, ...]) -> pd.Series:
    """Return a boolean mask of ``codes`` equal to, or matching, one of ``patterns``."""
    exact = [p for p in patterns if not any(ch in p for ch in "*?[")]
    wild = [p for p in patterns if p not in exact]
    mask = codes.isin(exact)
    if wild:
        regex = "|".join(f"(?:{fnmatch.translate(p)})" for p in wild)
        mask |= codes.str.match(re.compile(regex)).eq(True)
    return mask.fillna(False).astype(bool)


def assign_drop_reasons(
    frame: pd.DataFrame,
    policy: CleaningPolicy,
    *,
    raw: pd.DataFrame,
    future_cutoff: pd.Timestamp,
    has_order_id: bool,
    price: pd.Series | None,
) -> pd.Series:
    """Return each row's drop reason (first rule that hits it), or NaN for kept rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical columns already parsed (``customer_id``, ``date``, ``amount`` and,
        when mapped, ``order_id``, ``quantity``, ``product_id``).
    policy : CleaningPolicy
        The rules to apply.
    raw : pandas.DataFrame
        The input as read, used to find exact duplicate lines.
    future_cutoff : pandas.Timestamp
        Rows dated at or after this instant are future rows.
    has_order_id : bool
        Whether ``order_id`` came from the source (prefix rule applies).
    price : pandas.Series or None
        Unit prices when amount was computed from quantity and price.

    Returns
    -------
    pandas.Series
        ``object`` dtype, aligned with ``frame``.
    """
    checks = {
        "missing_customer_id": lambda: frame[config.CUSTOMER_ID].isna(),
        "unparsable_date": lambda: frame[config.DATE].isna(),
        "future_date": lambda: frame[config.DATE] >= future_cutoff,
        "missing_amount": lambda: (
            frame[config.AMOUNT].isna() | (price.isna() if price is not None else False)
        ),
        "non_finite_amount": lambda: _non_finite(frame, price),
        "duplicate": lambda: pd.Series(raw.duplicated(keep="first").to_numpy(), frame.index),
        "cancellation": lambda: _cancellation_mask(frame, policy, has_order_id),
        "non_product": lambda: (
            _matches_codes(frame[config.PRODUCT_ID], policy.non_product_codes)
            if config.PRODUCT_ID in frame and policy.non_product_codes
            else pd.Series(False, frame.index)
        ),
        "nonpositive_amount": lambda: (
            (frame[config.AMOUNT] <= 0) | ((price <= 0) if price is not None else False)
        ),
    }
    reason = pd.Series(np.nan, index=frame.index, dtype="object")
    for name in policy.enabled_reasons():
        if name == "reversed_purchase":
            hit = _reversed_purchase_mask(frame, reason)
        else:
            hit = checks[name]().fillna(False).astype(bool) & reason.isna()
        reason[hit] = name
    return reason


def _non_finite(frame: pd.DataFrame, price: pd.Series | None) -> pd.Series:
    """Return rows whose amount, quantity or price is +/-inf (NaN is a missing value)."""
    mask = pd.Series(False, index=frame.index)
    columns = [frame[c] for c in (config.AMOUNT, config.QUANTITY) if c in frame]
    for values in [*columns, *([price] if price is not None else [])]:
        mask |= np.isinf(values.to_numpy(dtype="float64"))
    return mask


def _reversed_purchase_mask(frame: pd.DataFrame, reason: pd.Series) -> pd.Series:
    """Return the still-kept purchase lines that a dropped cancellation reverses in full."""
    mask = pd.Series(False, index=frame.index)
    if config.PRODUCT_ID not in frame or config.QUANTITY not in frame:
        return mask
    pairs = match_reversals(frame, purchases=reason.isna(), cancellations=reason.eq("cancellation"))
    mask.loc[pairs["purchase"].to_numpy()] = True
    return mask


def _cancellation_mask(
    frame: pd.DataFrame, policy: CleaningPolicy, has_order_id: bool
) -> pd.Series:
    mask = pd.Series(False, index=frame.index)
    if has_order_id and policy.cancellation_prefixes:
        orders = frame[config.ORDER_ID].astype("str")
        mask |= orders.str.startswith(tuple(policy.cancellation_prefixes)).fillna(False)
    if policy.negative_quantity_is_return and config.QUANTITY in frame:
        mask |= (frame[config.QUANTITY] < 0).fillna(False)
    return mask.astype(bool)
