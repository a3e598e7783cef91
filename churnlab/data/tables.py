"""Read a customer (snapshot) table: one row per customer, indexed by ``customer_id``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from churnlab import config
from churnlab.data.options import source_options
from churnlab.data.readers import read_source
from churnlab.data.validation import clean_id_strings, format_examples, require_columns
from churnlab.exceptions import DataValidationError


def load_table(
    source: object,
    *,
    customer_id: str = config.CUSTOMER_ID,
    required: tuple[str, ...] | list[str] = (),
    encoding: str | None = None,
    sheet: str | int | None = None,
    read_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Read a customer (snapshot) table, one row per customer, indexed by ``customer_id``.

    Parameters
    ----------
    source : DataFrame, str, os.PathLike or ibis.Table
        See :func:`read_source`.
    customer_id : str, default "customer_id"
        Column holding the customer id; becomes the index, named ``customer_id``.
    required : sequence of str, default ()
        Further columns that must be present.
    encoding : str, optional
        Text encoding of a CSV file, e.g. ``"latin-1"``; UTF-8 by default.
    sheet : str or int, optional
        Excel sheet to read, by name or position; required when there are several.
    read_options : dict, optional
        Extra keyword arguments for the pandas reader, e.g.
        ``{"keep_default_na": False, "na_values": [""]}``.

    Returns
    -------
    pandas.DataFrame
        The other columns unchanged, index ``customer_id`` (str).

    Raises
    ------
    DataValidationError
        Missing columns, empty input, wrong delimiter, missing or duplicate ids.
    """
    options = source_options({"encoding": encoding, "sheet": sheet})
    frame = read_source(source, id_columns=[customer_id], read_options=read_options, **options)
    if customer_id not in frame.columns and frame.index.name == customer_id:
        frame = frame.reset_index()
    require_columns(frame, [customer_id, *required], where="load_table")
    ids = clean_id_strings(frame[customer_id])
    missing = int(ids.isna().sum())
    if missing:
        raise DataValidationError(
            f"load_table: column {customer_id!r} is empty in {missing:,} of {len(frame):,} "
            "rows. Every row of a customer table needs an id; drop or fill those rows."
        )
    duplicated = ids.duplicated(keep=False)
    if duplicated.any():
        raise DataValidationError(
            f"load_table: column {customer_id!r} has {int(duplicated.sum()):,} rows with a "
            f"repeated id, e.g. {format_examples(ids[duplicated])}. A customer table has one "
            "row per customer; for a transaction log use load_transactions."
        )
    out = frame.drop(columns=[customer_id])
    out.index = pd.Index(ids.to_numpy(), name=config.CUSTOMER_ID, dtype="str")
    return out
