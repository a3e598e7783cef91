"""Evaluation of churn scores: discrimination, calibration, lift and gains.

All functions take the true label and one or more probability columns on the
**same** customers, so a classifier and the BG/NBD baseline are compared fairly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from churnlab.exceptions import DataQualityWarning, DataValidationError

__all__ = [
    "calibration_table",
    "evaluate_churn_scores",
    "expected_calibration_error",
    "lift_table",
]


def _aligned(y_true: pd.Series | np.ndarray, proba: pd.Series | np.ndarray) -> tuple:
    y = np.asarray(y_true).astype(float)
    p = np.asarray(proba, dtype=float)
    if y.shape != p.shape:
        raise DataValidationError(
            f"Labels ({len(y)}) and probabilities ({len(p)}) differ in length. "
            "Score the same customers you labelled."
        )
    keep = ~(np.isnan(y) | np.isnan(p))
    return y[keep].astype(bool), p[keep]


def expected_calibration_error(
    y_true: pd.Series | np.ndarray, proba: pd.Series | np.ndarray, *, n_bins: int = 10
) -> float:
    """Return the expected calibration error (equal-width bins, weighted by bin size).

    Parameters
    ----------
    y_true : array-like of bool
        True churn labels.
    proba : array-like of float
        Predicted churn probabilities in [0, 1].
    n_bins : int, default 10
        Number of equal-width probability bins.

    Returns
    -------
    float
        ``sum_b n_b / n * |mean(y)_b - mean(p)_b|`` (Naeini et al., 2015).
    """
    y, p = _aligned(y_true, proba)
    bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        mask = bins == b
        total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / max(len(y), 1))


def calibration_table(
    y_true: pd.Series | np.ndarray, proba: pd.Series | np.ndarray, *, n_bins: int = 10
) -> pd.DataFrame:
    """Return mean predicted vs observed churn per equal-width probability bin.

    Parameters
    ----------
    y_true : array-like of bool
        True churn labels.
    proba : array-like of float
        Predicted churn probabilities.
    n_bins : int, default 10
        Number of bins.

    Returns
    -------
    pandas.DataFrame
        Columns ``bin``, ``n``, ``mean_predicted``, ``observed_rate``.
    """
    y, p = _aligned(y_true, proba)
    bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1)
    frame = pd.DataFrame({"bin": bins, "y": y, "p": p})
    grouped = frame.groupby("bin").agg(
        n=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean")
    )
    return grouped.reset_index()


def lift_table(
    y_true: pd.Series | np.ndarray, proba: pd.Series | np.ndarray, *, n_groups: int = 10
) -> pd.DataFrame:
    """Return lift and cumulative gains by score decile (decile 1 = highest risk).

    Parameters
    ----------
    y_true : array-like of bool
        True churn labels.
    proba : array-like of float
        Predicted churn probabilities.
    n_groups : int, default 10
        Number of equal-size groups.

    Returns
    -------
    pandas.DataFrame
        Columns ``decile``, ``n``, ``churners``, ``churn_rate``, ``lift`` (rate over
        base rate), ``cumulative_share`` (customers contacted) and
        ``cumulative_gain`` (share of all churners captured).
    """
    y, p = _aligned(y_true, proba)
    order = np.argsort(-p, kind="stable")
    groups = np.empty(len(p), dtype=int)
    groups[order] = np.arange(len(p)) * n_groups // max(len(p), 1) + 1
    frame = pd.DataFrame({"decile": groups, "y": y})
    table = frame.groupby("decile").agg(n=("y", "size"), churners=("y", "sum"))
    base = y.mean() if len(y) else np.nan
    table["churn_rate"] = table["churners"] / table["n"]
    table["lift"] = table["churn_rate"] / base
    table["cumulative_share"] = table["n"].cumsum() / table["n"].sum()
    table["cumulative_gain"] = table["churners"].cumsum() / max(y.sum(), 1)
    return table.reset_index()


def evaluate_churn_scores(
    y_true: pd.Series, scores: pd.DataFrame | dict[str, pd.Series], *, n_bins: int = 10
) -> pd.DataFrame:
    """Compare churn scores on the same customers and label, one row per score.

    Parameters
    ----------
    y_true : pandas.Series
        True churn labels indexed by customer_id.
    scores : DataFrame or dict of Series
        Churn probabilities per model, indexed by customer_id. Customers missing
        from any score are dropped from every row, so all rows see the same set.
    n_bins : int, default 10
        Bins for the calibration error and groups for lift.

    Returns
    -------
    pandas.DataFrame
        Index = model name; columns ``n``, ``churn_rate``, ``mean_predicted`` (the
        average score: compared with ``churn_rate`` it is the calibration in the
        large), ``roc_auc``, ``pr_auc``, ``brier``, ``ece``, ``top_decile_lift``,
        ``top_decile_capture``.
    """
    table = pd.DataFrame(scores)
    empty = [c for c in table.columns if table[c].isna().all()]
    if empty:
        warnings.warn(
            f"Score(s) {empty} have no values and are left out of the comparison.",
            DataQualityWarning,
            stacklevel=2,
        )
        table = table.drop(columns=empty)
    table = table.join(y_true.rename("__y__"), how="inner").dropna()
    if table.empty or table["__y__"].nunique() < 2:
        raise DataValidationError(
            "evaluate_churn_scores needs labelled customers of both classes shared by every "
            f"score; got {len(table)} customer(s). Check that scores and labels share the index."
        )
    y = table.pop("__y__").astype(bool)
    rows = {}
    for name in table.columns:
        p = table[name].to_numpy(dtype=float)
        lift = lift_table(y, p, n_groups=n_bins)
        rows[name] = {
            "n": len(y),
            "churn_rate": y.mean(),
            "mean_predicted": float(p.mean()),
            "roc_auc": roc_auc_score(y, p),
            "pr_auc": average_precision_score(y, p),
            "brier": brier_score_loss(y, np.clip(p, 0, 1)),
            "ece": expected_calibration_error(y, p, n_bins=n_bins),
            "top_decile_lift": lift["lift"].iloc[0],
            "top_decile_capture": lift["cumulative_gain"].iloc[0],
        }
    result = pd.DataFrame.from_dict(rows, orient="index")
    result.index.name = "model"
    return result
