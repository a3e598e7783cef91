"""Validation of static covariate tables for the covariate models.

A covariate enters a model as a numeric column with one finite value per customer; this
module turns what the analyst passes (columns of the summary, or a table indexed by
``customer_id``) into the aligned matrix, or says in plain English what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churnlab.data.messages import format_examples
from churnlab.exceptions import DataValidationError
from churnlab.models._validation import customer_index

__all__ = ["covariate_matrix"]


def covariate_matrix(
    data: pd.DataFrame,
    covariates: pd.DataFrame | None,
    columns: Sequence[str],
    *,
    where: str,
    check_constant: bool = False,
) -> np.ndarray:
    """Return the ``(n_customers, len(columns))`` covariate matrix aligned with ``data``.

    Parameters
    ----------
    data : pandas.DataFrame
        The RFM summary, one row per customer.
    covariates : pandas.DataFrame, optional
        Covariates indexed by ``customer_id`` (one row per customer of ``data``, extra rows
        ignored). When omitted the columns are read from ``data`` itself.
    columns : sequence of str
        Covariate column names.
    where : str
        The calling method, used in messages.
    check_constant : bool, default False
        Reject columns with a single value (set when fitting: their coefficient is not
        identified, it is confounded with ``alpha``/``beta``/``a``/``b``).

    Raises
    ------
    DataValidationError
        On missing columns or customers, non-numeric, NaN or infinite values, or (with
        ``check_constant``) a constant column. The message says how to fix it.
    """
    columns = list(columns)
    if not columns:
        return np.zeros((len(data), 0))
    source = data if covariates is None else covariates
    if not isinstance(source, pd.DataFrame):
        raise DataValidationError(
            f"{where}: covariates must be a pandas DataFrame indexed by customer_id, got "
            f"{type(source).__name__}."
        )
    missing = [c for c in columns if c not in source.columns]
    if missing:
        shown = ", ".join(map(repr, list(source.columns)[:12]))
        raise DataValidationError(
            f"{where}: covariate column(s) {', '.join(map(repr, missing))} not found in the "
            f"{'summary' if covariates is None else 'covariates table'} (columns: {shown}). "
            "Check the spelling, or pass covariates=<table indexed by customer_id>."
        )
    frame = source[columns]
    if covariates is not None:
        ids = customer_index(data)
        if not frame.index.is_unique:
            dup = frame.index[frame.index.duplicated()].unique()
            raise DataValidationError(
                f"{where}: the covariates table has {len(dup)} customer(s) on more than one row "
                f"(e.g. {format_examples(list(dup))}); static covariates need one row per "
                "customer. Drop or aggregate the duplicates."
            )
        absent = ~ids.isin(frame.index)
        if absent.any():
            raise DataValidationError(
                f"{where}: {int(absent.sum())} customer(s) of the summary have no row in the "
                f"covariates table (e.g. {format_examples(list(ids[absent]))}). Add their "
                "covariates, or drop those customers from the summary."
            )
        frame = frame.loc[ids]
    for c in columns:
        col = frame[c]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise DataValidationError(
                f"{where}: covariate '{c}' is not numeric (dtype {col.dtype}, e.g. "
                f"{format_examples(list(col.dropna().unique()))}). Encode it as numbers first, "
                f"e.g. pd.get_dummies(table['{c}'], drop_first=True, dtype=float)."
            )
    z = frame.to_numpy(dtype=float)
    bad = ~np.isfinite(z)
    if bad.any():
        rows, cols = np.nonzero(bad)
        names = sorted({columns[j] for j in cols})
        raise DataValidationError(
            f"{where}: covariate(s) {', '.join(map(repr, names))} have {int(bad.any(axis=1).sum())}"
            f" customer(s) with NaN or infinite values (e.g. customer "
            f"{format_examples(list(customer_index(data)[rows[:3]]))}). Impute or drop them "
            "before fitting."
        )
    if check_constant:
        constant = [c for j, c in enumerate(columns) if np.ptp(z[:, j]) == 0]
        if constant:
            raise DataValidationError(
                f"{where}: covariate(s) {', '.join(map(repr, constant))} take a single value for "
                "every customer, so their effect cannot be told apart from the baseline "
                "parameters. Drop them from the covariate list."
            )
    return z
