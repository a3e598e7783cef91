"""Which churn reasons can the business act on? An editable mapping.

Price, service, product and competitor offers are *addressable* (controllable);
moving, death and similar life events are not. The mapping is a plain dict of
lower-case reason or category labels to True/False; anything not in it is
decided by keyword rules, and "Unknown reason" is never counted as addressable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from churnlab.data.validation import require_columns
from churnlab.reasons.records import CATEGORY, REASON, UNKNOWN_REASON

__all__ = [
    "ADDRESSABLE_KEYWORDS",
    "DEFAULT_ADDRESSABLE",
    "NOT_ADDRESSABLE_KEYWORDS",
    "addressable_mapping",
    "is_addressable",
]

#: Explicit decisions, keyed by lower-case category or detailed reason.
#: Covers the Telco categories and its non-controllable reasons.
DEFAULT_ADDRESSABLE: dict[str, bool] = {
    "competitor": True,
    "price": True,
    "dissatisfaction": True,
    "attitude": True,
    "other": False,
    "moved": False,
    "deceased": False,
    "don't know": False,
    "poor expertise of online support": True,
    UNKNOWN_REASON.lower(): False,
}
#: Keywords (regular expressions) that make an unmapped label addressable.
ADDRESSABLE_KEYWORDS = (
    r"pric",
    r"cost",
    r"charge",
    r"expens",
    r"afford",
    r"competitor",
    r"offer",
    r"servic",
    r"support",
    r"product",
    r"network",
    r"speed",
    r"data",
    r"device",
    r"attitude",
    r"reliab",
    r"website",
    r"quality",
    r"billing",
)
#: Keywords that make an unmapped label non-addressable (checked first).
NOT_ADDRESSABLE_KEYWORDS = (r"\bmov", r"relocat", r"decease", r"death", r"died", r"passed away")


def addressable_mapping(overrides: Mapping[str, bool] | None = None) -> dict[str, bool]:
    """Return the default reason -> addressable mapping with the analyst's edits.

    Parameters
    ----------
    overrides : mapping of str to bool, optional
        Labels (case-insensitive) to add or change, e.g. ``{"Network reliability": False}``.

    Returns
    -------
    dict of str to bool
        Keys in lower case.
    """
    mapping = dict(DEFAULT_ADDRESSABLE)
    mapping.update({str(k).strip().lower(): bool(v) for k, v in (overrides or {}).items()})
    return mapping


def is_addressable(
    records: pd.DataFrame, *, mapping: Mapping[str, bool] | None = None
) -> pd.Series:
    """Decide, per churned customer, whether the reason is addressable.

    The detailed reason is looked up first, then the category; unmapped labels
    fall back to keywords (non-addressable keywords win), and a label matching
    nothing is not addressable.

    Parameters
    ----------
    records : pandas.DataFrame
        Has columns category and reason (e.g. from :func:`churn_record`).
    mapping : mapping of str to bool, optional
        Full mapping (lower-case keys); defaults to :func:`addressable_mapping`.

    Returns
    -------
    pandas.Series of bool
        Indexed like ``records``.
    """
    require_columns(records, [CATEGORY, REASON], where="is_addressable")
    lookup = {str(k).lower(): bool(v) for k, v in (mapping or addressable_mapping()).items()}
    pairs = records[[REASON, CATEGORY]].astype(str).drop_duplicates()
    decided = {
        (r, c): _decide(r.lower(), c.lower(), lookup) for r, c in pairs.itertuples(index=False)
    }
    keys = zip(records[REASON].astype(str), records[CATEGORY].astype(str), strict=True)
    return pd.Series([decided[k] for k in keys], index=records.index, dtype=bool)


def _decide(reason: str, category: str, lookup: dict[str, bool]) -> bool:
    """Decide by mapping on reason, then category, then keywords."""
    for label in (reason, category):
        if label in lookup:
            return lookup[label]
    if UNKNOWN_REASON.lower() in (reason, category):
        return False
    for label in (reason, category):
        if any(re.search(k, label) for k in NOT_ADDRESSABLE_KEYWORDS):
            return False
        if any(re.search(k, label) for k in ADDRESSABLE_KEYWORDS):
            return True
    return False
