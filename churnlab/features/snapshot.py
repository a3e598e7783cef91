"""Feature table for snapshot data with a churn flag (e.g. IBM Telco), with a leakage guard.

A snapshot table often carries columns written *after* the outcome was known:
the churn label itself, the churn reason, a vendor's churn score. A model that
sees them looks perfect and is useless. :func:`snapshot_features` refuses such
columns unless the analyst drops them or allows them by name.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import pandas as pd

from churnlab.config import CHURNED
from churnlab.data.validation import format_examples, require_columns
from churnlab.exceptions import DataQualityWarning, DataValidationError, LeakageError

__all__ = [
    "LEAKY_COLUMNS",
    "SUSPICIOUS_COLUMNS",
    "TELCO_LEAKY_COLUMNS",
    "SnapshotFeatures",
    "snapshot_features",
]

#: Columns that encode the churn outcome (IBM Telco names); matched ignoring case,
#: spaces and underscores. Edit to extend the guard.
LEAKY_COLUMNS: dict[str, str] = {
    "Customer Status": "is 'Churned' exactly when the customer churned",
    "Churn Label": "is the churn target itself",
    "Churn Value": "is the churn target itself (as 0/1)",
    "Churn Score": "is IBM's churn model output, computed with knowledge of the outcome",
    "CLTV": "is IBM's model output, not an observation",
    "Churn Category": "is filled only for customers who churned",
    "Churn Reason": "is filled only for customers who churned",
}

#: Columns that are not the target but separate it almost perfectly.
SUSPICIOUS_COLUMNS: dict[str, str] = {
    "Satisfaction Score": (
        "separates churn almost perfectly in Telco (scores 1-2 all churned); it is "
        "probably collected after the decision to leave"
    ),
}

#: Everything to drop from ``churnlab.datasets.load_telco()`` before modelling.
TELCO_LEAKY_COLUMNS: tuple[str, ...] = (*LEAKY_COLUMNS, *SUSPICIOUS_COLUMNS)


class SnapshotFeatures(NamedTuple):
    """Model-ready snapshot data: ``X, y = snapshot_features(...)`` unpacks."""

    features: pd.DataFrame
    target: pd.Series


def _key(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _matching(columns: Iterable[object], names: Iterable[str]) -> list[str]:
    keys = {_key(n) for n in names}
    return [str(c) for c in columns if _key(c) in keys]


def _to_binary(values: pd.Series, *, target: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.astype(bool)
    mapped = values.map(
        lambda v: {
            "yes": True,
            "no": False,
            "true": True,
            "false": False,
            "1": True,
            "0": False,
        }.get(str(v).strip().lower().removesuffix(".0"))
    )
    bad = values[mapped.isna()]
    if len(bad):
        raise DataValidationError(
            f"Target column '{target}' must be binary (True/False, 1/0 or Yes/No); "
            f"{len(bad)} row(s) are not, e.g. {format_examples(bad)}. "
            "Map the column to churned/not churned first."
        )
    return mapped.astype(bool)


def snapshot_features(
    table: pd.DataFrame,
    *,
    target: str = CHURNED,
    allow_leaky: Sequence[str] = (),
    drop: Sequence[str] = (),
) -> SnapshotFeatures:
    """Split a snapshot table into features and a churn target, refusing leaky columns.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer (index customer_id), e.g. ``load_telco()``.
    target : str, default "churned"
        The churn column (bool, 0/1 or Yes/No).
    allow_leaky : sequence of str, default ()
        Leaky or suspicious columns to keep anyway (for a deliberate experiment).
    drop : sequence of str, default ()
        Columns to remove before the guard runs, e.g. :data:`TELCO_LEAKY_COLUMNS`.
        Names that are not in the table are ignored.

    Returns
    -------
    SnapshotFeatures
        ``features`` (every other column, index kept) and ``target`` (bool Series
        named ``churned``).

    Raises
    ------
    LeakageError
        If a column in :data:`LEAKY_COLUMNS` is present and not allowed, or a
        column equals the target (or its opposite).
    DataValidationError
        If ``target`` is missing or not binary.

    Warns
    -----
    DataQualityWarning
        For columns in :data:`SUSPICIOUS_COLUMNS` that are kept.
    """
    require_columns(table, [target], where="snapshot_features")
    y = _to_binary(table[target], target=target).rename(CHURNED)
    drop_keys = {_key(d) for d in drop} | {_key(target)}
    X = table.loc[:, [c for c in table.columns if _key(c) not in drop_keys]]
    allowed = {_key(a) for a in allow_leaky}

    leaky = [c for c in _matching(X.columns, LEAKY_COLUMNS) if _key(c) not in allowed]
    for column in X.columns:
        if str(column) in leaky or _key(column) in allowed or X[column].nunique() != 2:
            continue
        try:
            as_bool = _to_binary(X[column], target=str(column))
        except DataValidationError:
            continue
        if as_bool.equals(y) or as_bool.equals(~y):
            leaky.append(str(column))
    if leaky:
        why = "; ".join(
            f"'{c}' {LEAKY_COLUMNS.get(_canonical(c), 'is identical to the target')}" for c in leaky
        )
        raise LeakageError(
            f"{len(leaky)} column(s) encode the churn target and would leak it into the model: "
            f"{why}. Drop them (drop={tuple(leaky)!r}, or drop=TELCO_LEAKY_COLUMNS for Telco), "
            "or pass allow_leaky=[...] if you really mean to keep them."
        )
    suspicious = [c for c in _matching(X.columns, SUSPICIOUS_COLUMNS) if _key(c) not in allowed]
    for column in suspicious:
        warnings.warn(
            f"Column '{column}' {SUSPICIOUS_COLUMNS[_canonical(column, SUSPICIOUS_COLUMNS)]}. "
            f"Drop it (drop=['{column}']) or keep it on purpose with allow_leaky=['{column}'].",
            DataQualityWarning,
            stacklevel=2,
        )
    return SnapshotFeatures(X.copy(), y)


def _canonical(column: str, names: dict[str, str] = LEAKY_COLUMNS) -> str:
    for name in names:
        if _key(name) == _key(column):
            return name
    return column
