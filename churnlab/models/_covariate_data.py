"""Covariate validation, parameter tables and health of the static-covariate models.

A covariate enters a model as a numeric column with one finite value per customer;
:func:`covariate_matrix` turns what the analyst passes (columns of the summary, or a table
indexed by ``customer_id``) into the aligned matrix, or says in plain English what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from churnlab.data.messages import format_examples
from churnlab.exceptions import DataValidationError
from churnlab.models._base import ModelHealth
from churnlab.models._validation import customer_index

__all__ = ["coefficient_table", "covariate_health", "covariate_matrix", "parameter_table"]


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
        Reject columns with a single value and linearly dependent columns (set when fitting:
        their coefficients are not identified, they are confounded with the baseline
        ``alpha``/``beta``/``a``/``b`` or with each other).

    Raises
    ------
    DataValidationError
        On missing columns or customers, non-numeric, NaN or infinite values, or (with
        ``check_constant``) a constant column or linearly dependent columns. The message says
        how to fix it.
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
        # With the baseline (a column of ones), the columns must be linearly independent.
        centred = (z - z.mean(axis=0)) / z.std(axis=0)
        if np.linalg.matrix_rank(centred, tol=1e-8 * np.sqrt(len(z))) < len(columns):
            raise DataValidationError(
                f"{where}: covariates {', '.join(map(repr, columns))} are linearly dependent (one "
                "is a weighted sum of the others, e.g. dummies of every category), so their "
                "effects cannot be told apart. Drop one of them (for dummies, leave out one "
                "category)."
            )
    return z


def parameter_table(params: pd.Series, se: np.ndarray, n_base: int, level: float) -> pd.DataFrame:
    """Estimates, standard errors and ``level`` intervals of a covariate model's parameters.

    The first ``n_base`` parameters are positive and fitted on the log scale: their interval is
    the delta-method interval of the log mapped back, ``theta * exp(+-z se / theta)`` (always
    positive). Coefficients get ``estimate +- z se``.
    """
    est = params.to_numpy(dtype=float)
    z = float(ndtri(0.5 + level / 2))
    lower, upper = est - z * se, est + z * se
    with np.errstate(all="ignore"):
        spread = np.exp(z * se[:n_base] / est[:n_base])
    lower[:n_base], upper[:n_base] = est[:n_base] / spread, est[:n_base] * spread
    tag = f"{round(100 * level, 6):g}".replace(".", "_")
    return pd.DataFrame(
        {"estimate": est, "std_error": se, f"lower_{tag}": lower, f"upper_{tag}": upper},
        index=pd.Index(list(params.index), name="parameter"),
    )


def coefficient_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``process``, ``covariate``, Wald ``z`` and two-sided ``p_value`` to coefficient rows."""
    table = rows.copy()
    split = [str(name).split(":", 1) for name in table.index]
    table.insert(0, "covariate", [c for _, c in split])
    table.insert(0, "process", [p for p, _ in split])
    with np.errstate(all="ignore"):
        table["z"] = table["estimate"] / table["std_error"]
        table["p_value"] = 2 * ndtr(-np.abs(table["z"]))
    return table


def covariate_health(
    model: str, converged: bool, at_bound: list[str], finite_se: bool
) -> ModelHealth:
    """Health of a covariate-model fit, with a plain-English sentence per problem."""
    problems: list[str] = []
    if not converged:
        problems.append(
            f"The {model} fit did not converge, so its estimates and the predictions made from "
            "them may be unreliable."
        )
    if at_bound:
        problems.append(
            f"The {model} fit pushed {', '.join(at_bound)} to an extreme value; treat its "
            "predictions with caution."
        )
    if not finite_se:
        problems.append(
            f"The data do not pin down all of the {model}'s parameters (their standard errors "
            "are undefined), so no intervals can be given for it."
        )
    return ModelHealth(
        converged=bool(converged),
        at_boundary=list(at_bound),
        finite_standard_errors=finite_se,
        ok=not problems,
        problems=problems,
    )
