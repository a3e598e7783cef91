"""Validation helpers shared by loaders, features and models.

The one place that enforces the column contract: every ``fit``/``predict``
and loader calls :func:`require_columns` with the columns it needs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import pandas as pd

from churnlab.exceptions import DataValidationError


def format_examples(values: Iterable[object], *, limit: int = 5) -> str:
    """Return up to ``limit`` distinct example values as a short, readable string.

    Parameters
    ----------
    values : iterable
        The offending values.
    limit : int, default 5
        How many distinct examples to show.

    Returns
    -------
    str
        For example ``"'abc', '2021-13-01' (and 12 more)"``.
    """
    distinct = list(dict.fromkeys(repr(v) for v in values))
    shown = ", ".join(distinct[:limit])
    rest = len(distinct) - limit
    return shown + (f" (and {rest} more)" if rest > 0 else "")


def require_columns(data: pd.DataFrame, required: Sequence[str], *, where: str) -> None:
    """Raise :class:`DataValidationError` unless ``data`` has every required column.

    Parameters
    ----------
    data : pandas.DataFrame
        The table to check. A named index counts as a column.
    required : sequence of str
        Column names that must be present.
    where : str
        What needs them, e.g. ``"BetaGeoModel.fit"``; used in the message.

    Raises
    ------
    DataValidationError
        Names each missing column, lists the available ones and suggests the
        closest match.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            f"{where} expects a pandas DataFrame, got {type(data).__name__}. "
            "Pass the table returned by churnlab's loaders or rfm_summary()."
        )
    available = [str(c) for c in data.columns] + [str(n) for n in data.index.names if n]
    missing = [c for c in required if c not in available]
    if not missing:
        return
    hints = []
    for column in missing:
        close = difflib.get_close_matches(column, available, n=1, cutoff=0.5)
        hints.append(f"'{column}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    raise DataValidationError(
        f"{where} needs column(s) {', '.join(hints)}, which the data does not have. "
        f"Available columns: {', '.join(repr(c) for c in available) or 'none'}. "
        "Rename your columns to churnlab's names (see churnlab.config) or pass the "
        "column mapping to the loader."
    )
