"""Input validation shared by churnlab's probability models.

Checks of RFM summaries (column contract, empty tables, NaN/negative values, recency > T,
...), of prediction horizons and purchase counts, and the time-unit resolution used by
``fit``. Errors follow the project style: they name the column or parameter, count the
rows, show a few examples and say how to fix the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.data.validation import format_examples, require_columns
from churnlab.exceptions import ConfigError, DataValidationError


def customer_index(data: pd.DataFrame) -> pd.Index:
    """Return the customer index of ``data`` (a ``customer_id`` column wins over the index)."""
    if config.CUSTOMER_ID in data.columns:
        return pd.Index(data[config.CUSTOMER_ID], name=config.CUSTOMER_ID)
    return data.index


def check_time(t: Any, *, name: str = "t") -> np.ndarray | float:
    """Validate a non-negative, finite time horizon (scalar or per-customer array).

    Raises
    ------
    ConfigError
        If ``t`` is negative, NaN or infinite.
    """
    arr = np.asarray(t, dtype=float)
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        raise ConfigError(
            f"{name} must be a finite number of periods >= 0, got "
            f"{format_examples(arr[bad].ravel())}. "
            f"Pass e.g. {name}=12 (in the model's time unit)."
        )
    return float(arr) if arr.ndim == 0 else arr


def _bad_rows(mask: np.ndarray, index: pd.Index, values: dict[str, np.ndarray]) -> str:
    """Describe the rows flagged by ``mask``: count and a few examples."""
    positions = np.flatnonzero(mask)[:3]
    examples = []
    for i in positions:
        shown = ", ".join(f"{k}={v[i]:g}" for k, v in values.items())
        examples.append(f"{index[i]!r} ({shown})")
    more = f" and {mask.sum() - len(positions)} more" if mask.sum() > len(positions) else ""
    return f"{int(mask.sum())} row(s), e.g. {'; '.join(examples)}{more}"


def validate_rfm(
    data: pd.DataFrame, *, where: str, require_repeat: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check an RFM summary and return its ``frequency``, ``recency`` and ``T`` arrays.

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``frequency``, ``recency`` and ``T`` (see :func:`churnlab.features.rfm_summary`).
    where : str
        The calling method, used in messages.
    require_repeat : bool, default False
        Raise when no customer has a repeat purchase (a fit cannot learn from that).

    Raises
    ------
    DataValidationError
        On missing columns, an empty table, NaN/infinite or negative values, non-integer
        frequency, recency greater than T, non-zero recency with zero frequency, or (with
        ``require_repeat``) no repeat buyers. The message counts the rows, shows examples and
        says how to fix the data.
    """
    cols = (config.FREQUENCY, config.RECENCY, config.T)
    require_columns(data, cols, where=where)
    if len(data) == 0:
        raise DataValidationError(f"{where} got an empty table; pass at least one customer.")
    index = customer_index(data)
    arrays = {}
    for c in cols:
        source = data[c] if c in data.columns else data.index.get_level_values(c)
        try:
            # to_numpy, not np.asarray: numpy's attribute probes on a Series make pandas
            # hash the whole index (0.1 s for a million string ids).
            arrays[c] = source.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(
                f"{where}: column '{c}' must be numeric ({exc}). Convert it with "
                f"pd.to_numeric(data['{c}'])."
            ) from None
    x, tx, big_t = arrays[config.FREQUENCY], arrays[config.RECENCY], arrays[config.T]
    fix = "Rebuild the summary with churnlab.features.rfm_summary()."
    checks = [
        (~np.isfinite(x) | ~np.isfinite(tx) | ~np.isfinite(big_t), "have NaN or infinite values"),
        ((x < 0) | (tx < 0) | (big_t < 0), "have negative frequency, recency or T"),
        (
            np.isfinite(x) & (x != np.round(x)),
            "have a non-integer frequency (a count of repeat purchases)",
        ),
        (
            tx > big_t * (1 + 1e-12),
            "have recency > T (the last purchase after the end of observation)",
        ),
        (
            (x == 0) & (tx != 0),
            "have frequency == 0 but recency != 0 (recency must be 0 without repeat purchases)",
        ),
        (
            (x > 0) & (tx == 0),
            "have frequency > 0 but recency == 0 (repeat purchases in the first period must be "
            "merged into it)",
        ),
    ]
    for mask, what in checks:
        if np.any(mask):
            raise DataValidationError(f"{where}: {_bad_rows(mask, index, arrays)} {what}. {fix}")
    if require_repeat and not np.any(x > 0):
        raise DataValidationError(
            f"{where}: none of the {len(x)} customers has a repeat purchase (frequency is 0 "
            "everywhere), so purchase rates and dropout cannot be estimated. Use a longer "
            "observation window, or check that the summary counts repeat purchases."
        )
    return x, np.minimum(tx, big_t), big_t


def resolve_time_unit(data: pd.DataFrame, time_unit: str | None, *, where: str) -> str | None:
    """Return the time unit from ``data.attrs['time_unit']`` or the ``time_unit`` argument.

    Raises
    ------
    ConfigError
        If the unit is unknown, or the argument contradicts the data's attribute.
    """
    attr = data.attrs.get("time_unit") if hasattr(data, "attrs") else None
    if attr is not None and time_unit is not None and attr != time_unit:
        raise ConfigError(
            f"{where}: time_unit={time_unit!r} contradicts the summary's attrs['time_unit']="
            f"{attr!r}. Drop the argument, or rebuild the summary with time_unit={time_unit!r}."
        )
    unit = attr if attr is not None else time_unit
    if unit is not None and unit not in config.TIME_UNIT_DAYS:
        raise ConfigError(
            f"{where}: unknown time_unit {unit!r}; use one of "
            f"{', '.join(repr(u) for u in config.TIME_UNIT_DAYS)}."
        )
    return unit


def check_counts(n: Any) -> np.ndarray:
    """Validate purchase counts (non-negative integers) for ``probability_of_purchases``."""
    arr = np.asarray(n, dtype=float)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if np.any(bad):
        raise ConfigError(
            f"n must be a non-negative whole number of purchases, got "
            f"{format_examples(arr[bad].ravel())}. Pass e.g. n=0, n=[0, 1, 2]."
        )
    return arr
