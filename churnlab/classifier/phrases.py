"""How a churn driver is said to an account manager: one editable table, :data:`REASONS`.

Each behaviour feature that may be given as a reason has

* a **theme** (rhythm, recency, frequency, spend, trend, basket, returns, outlook,
  tenure): a customer gets at most one reason per theme, so "too few purchases" is
  never said twice;
* the **risky side** (``"high"`` or ``"low"``): a feature is a reason only when the
  customer's value lies on that side of the typical value of customers who stayed,
  so a reason never contradicts the customer's own numbers ("only 17 purchases
  (typical 3)" cannot happen);
* a **sentence** built from the customer's value and the typical one, in words an
  account manager would use, with money in the run's currency.

Features not in the table (model units such as ``recency`` and ``T``, or values
that are ambiguous such as ``clv`` and ``monetary_value``, which is 0 for every
one-time buyer) are never given as reasons.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnlab.money import format_money

__all__ = [
    "MISSING_REASONS",
    "REASONS",
    "THEME_LABELS",
    "Reason",
    "is_risky",
    "reason_text",
    "reason_texts",
    "risky_mask",
    "theme_label",
]


@dataclass(frozen=True)
class Reason:
    """How one feature is given as a churn reason.

    Attributes
    ----------
    theme : str
        At most one reason per theme is given to a customer.
    risky : {"high", "low"}
        Which side of the typical value counts as a risk.
    say : callable
        ``say(value, typical, money) -> str``, where ``money(amount)`` formats an
        amount in the run's currency.
    beyond : float, optional
        A value is a reason only past this bound too (below it for ``"low"``): P(alive)
        of 96% is below a typical 100% but says nothing about having stopped.
    shown : callable, optional
        The values as ``say`` shows them (vectorised, e.g. whole days), when that is
        all it uses of them: values shown alike are phrased once.
    """

    theme: str
    risky: str
    say: Callable[[float, float, Callable[[float], str]], str]
    beyond: float | None = None
    shown: Callable[[np.ndarray], np.ndarray] | None = None


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _days(value: float) -> str:
    """Whole calendar days since a purchase: the action list counts them the same way."""
    return f"{math.ceil(value - 1e-9):,}"


def _whole_days(values: np.ndarray) -> np.ndarray:
    """Return the whole days :func:`_days` shows, for many values."""
    return np.ceil(values - 1e-9)


def _less(verb: str, none: str, change_pct: float) -> str:
    """Say a fall against the quarter before; a fall of 100% is said as none at all."""
    if change_pct <= -99.5:
        return f"{none} in the last quarter, after buying in the one before"
    return f"{verb} {abs(change_pct):.0f}% less than in the quarter before"


def _counted(count: str, noun: str, plural: str = "") -> str:
    """Say a count as shown (``_n`` or ``_days``) with its noun: "1 order", "3 orders"."""
    return f"{count} " + (noun if count == "1" else plural or f"{noun}s")


REASONS: dict[str, Reason] = {
    "days_since_last": Reason(
        "recency",
        "high",
        lambda v, t, m: f"no purchase for {_counted(_days(v), 'day')} (typically {_days(t)})",
        shown=_whole_days,
    ),
    "gap_ratio": Reason(
        "recency",
        "high",
        lambda v, t, m: f"silent {v:.1f} times longer than their usual gap between purchases",
    ),
    "orders_change_pct": Reason("trend", "low", lambda v, t, m: _less("ordered", "no orders", v)),
    "spend_change_pct": Reason("trend", "low", lambda v, t, m: _less("spent", "spent nothing", v)),
    "orders_last": Reason(
        "frequency",
        "low",
        lambda v, t, m: f"{_counted(_n(v), 'order')} in the last quarter (typically {_n(t)})",
        shown=np.rint,
    ),
    "frequency": Reason(
        "frequency",
        "low",
        lambda v, t, m: f"only {_counted(_n(v), 'repeat purchase')} so far (typically {_n(t)})",
        shown=np.rint,
    ),
    "n_orders": Reason(
        "frequency",
        "low",
        lambda v, t, m: f"only {_counted(_n(v), 'order')} so far (typically {_n(t)})",
        shown=np.rint,
    ),
    "ipt_mean_days": Reason(
        "rhythm",
        "high",
        lambda v, t, m: f"buys every {_counted(_n(v), 'day')} on average (typically {_n(t)})",
        shown=np.rint,
    ),
    "ipt_cv": Reason("rhythm", "high", lambda v, t, m: "buys at irregular intervals"),
    "ipt_std_days": Reason("rhythm", "high", lambda v, t, m: "buys at irregular intervals"),
    "regularity": Reason("rhythm", "low", lambda v, t, m: "buys at irregular intervals"),
    "spend_last": Reason(
        "spend", "low", lambda v, t, m: f"spent {m(v)} in the last quarter (typically {m(t)})"
    ),
    "total_spend": Reason(
        "spend", "low", lambda v, t, m: f"has spent {m(v)} in all (typically {m(t)})"
    ),
    "avg_order_value": Reason(
        "spend", "low", lambda v, t, m: f"smaller orders than most ({m(v)} vs {m(t)})"
    ),
    "tenure_days": Reason(
        "tenure",
        "low",
        lambda v, t, m: f"a recent customer (first purchase {_counted(_n(v), 'day')} ago)",
        shown=np.rint,
    ),
    "n_products": Reason(
        "basket",
        "low",
        lambda v, t, m: f"buys only {_counted(_n(v), 'different product')} (typically {_n(t)})",
    ),
    "avg_basket_items": Reason(
        "basket",
        "low",
        lambda v, t, m: f"small baskets ({_counted(_n(v), 'item')} vs {_n(t)} typically)",
    ),
    "returns_share": Reason(
        "returns", "high", lambda v, t, m: f"returned {v * 100:.0f}% of what they bought"
    ),
    "n_returns": Reason(
        "returns",
        "high",
        lambda v, t, m: _counted(_n(v), "return or cancellation", "returns or cancellations"),
    ),
    "p_alive": Reason(
        "outlook",
        "low",
        lambda v, t, m: (
            f"their buying pattern suggests they may have stopped "
            f"({v * 100:.0f}% chance they are still a customer)"
        ),
        beyond=0.5,
    ),
    "expected_purchases": Reason(
        "outlook",
        "low",
        lambda v, t, m: (
            f"expected to buy less often than most ({v:.1f} vs {t:.1f} purchases "
            "in the coming months)"
        ),
    ),
}

#: What each theme is called when it stands in as a churn reason category.
THEME_LABELS: dict[str, str] = {
    "recency": "Gone silent",
    "trend": "Buying less than before",
    "frequency": "Few orders",
    "rhythm": "Irregular or one-off buying",
    "spend": "Low spend",
    "tenure": "New customer",
    "basket": "Narrow or small baskets",
    "returns": "Returns and cancellations",
    "outlook": "Purchase model expects little",
}

#: Sentences for a missing value (NaN) that counts as a reason, by feature: no mean gap
#: between purchase days means one purchase day. (A missing standard deviation only
#: means one gap, i.e. two purchase days, and is no reason.)
MISSING_REASONS: dict[str, str] = {"ipt_mean_days": "has bought on only one day so far"}


def is_risky(feature: str, value: float, typical: float) -> bool:
    """Return True when ``value`` is on the feature's risky side of ``typical`` (and bound)."""
    return bool(risky_mask(np.array([[value]], dtype=float), [feature], np.array([typical]))[0, 0])


def risky_mask(values: np.ndarray, columns: list[str], typical: np.ndarray) -> np.ndarray:
    """Return where each value can be given as a reason: on the risky side, past the bound.

    Parameters
    ----------
    values : numpy.ndarray
        Customers x features.
    columns : list of str
        The features' names (columns not in :data:`REASONS` are never reasons).
    typical : numpy.ndarray
        The typical value of each feature among customers who stayed.

    Returns
    -------
    numpy.ndarray of bool
        Same shape as ``values``.
    """
    typical = np.asarray(typical, dtype=float)
    known = np.array([c in REASONS for c in columns], dtype=bool)
    reasons = [REASONS.get(c, Reason("", "high", lambda v, t, m: "")) for c in columns]
    high = np.array([r.risky == "high" for r in reasons], dtype=bool)
    bound = np.array([np.nan if r.beyond is None else r.beyond for r in reasons])
    with np.errstate(invalid="ignore"):
        side = np.where(high, values > typical, values < typical) & ~np.isnan(typical)
        past = np.where(high, values > bound, values < bound) | np.isnan(bound)
    missing_ok = np.array([c in MISSING_REASONS for c in columns], dtype=bool)
    return np.where(np.isnan(values), missing_ok, side & past) & known


def reason_text(feature: str, value: float, typical: float, *, currency: str = "") -> str:
    """Return the account-manager sentence for one feature value.

    Parameters
    ----------
    feature : str
        Feature (column) name, a key of :data:`REASONS`.
    value : float
        The customer's value (NaN means "no data").
    typical : float
        The median among customers who stayed.
    currency : str, default ""
        ISO code (or symbol) of money amounts in the sentence.

    Returns
    -------
    str
        "" when the feature is not given as a reason.
    """
    value = np.nan if value is None or pd.isna(value) else value
    return str(reason_texts(feature, np.array([value], dtype=float), typical, currency=currency)[0])


def reason_texts(
    feature: str, values: np.ndarray, typical: float, *, currency: str = ""
) -> np.ndarray:
    """Return :func:`reason_text` of many values of one feature (an object array).

    The checks (missing value, the bound of :attr:`Reason.beyond`) are vectorised;
    only the sentences themselves are written one by one.
    """
    values = np.asarray(values, dtype=float)
    out = np.full(values.shape, "", dtype=object)
    reason = REASONS.get(feature)
    if reason is None:
        return out
    missing = np.isnan(values)
    out[missing] = MISSING_REASONS.get(feature, "")
    said = ~missing
    if reason.beyond is not None:
        said &= values > reason.beyond if reason.risky == "high" else values < reason.beyond
    middle = float(typical) if pd.notna(typical) else np.nan
    say = reason.say

    def money(amount: float) -> str:
        return format_money(amount, currency)

    shown = values[said] if reason.shown is None else reason.shown(values[said])
    distinct, where = np.unique(shown, return_inverse=True)
    texts = np.array([say(v, middle, money) for v in distinct.tolist()] or [""], dtype=object)
    out[said] = texts[where]
    return out


def theme_label(feature: str) -> str:
    """Return the plain category a feature belongs to (its theme), e.g. "Gone silent"."""
    reason = REASONS.get(feature)
    if reason is None:
        return feature.replace("_", " ").capitalize()
    return THEME_LABELS.get(reason.theme, reason.theme.capitalize())
