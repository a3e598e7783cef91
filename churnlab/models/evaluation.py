"""Holdout evaluation of transaction models (BG/NBD family).

Scores a model fitted on the calibration part of a
:func:`churnlab.features.rfm.calibration_holdout_split` frame against what
customers really did in the holdout period:

- predicted vs actual holdout purchases, in aggregate and per customer (MAE, RMSE);
- conditional expectations per calibration-frequency bucket (Fader, Hardie & Lee 2005, fig. 4);
- the cumulative tracking curve of repeat purchases over time (fig. 3 of the same paper),
  computed in :mod:`churnlab.models.tracking` and re-exported here;
- churn metrics of ``probability_no_purchase`` against "no purchase in the holdout":
  ROC AUC, Brier score, log loss and a calibration table.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from churnlab import config
from churnlab.data.validation import require_columns
from churnlab.exceptions import ConfigError, DataQualityWarning
from churnlab.models.tracking import tracking_curve

__all__ = [
    "HoldoutReport",
    "calibration_table",
    "churn_metrics",
    "conditional_expectations",
    "holdout_predictions",
    "holdout_report",
    "purchase_errors",
    "tracking_curve",
]

FREQUENCY_CAL = f"{config.FREQUENCY}_cal"
RECENCY_CAL = f"{config.RECENCY}_cal"
T_CAL = f"{config.T}_cal"
FREQUENCY_HOLDOUT = f"{config.FREQUENCY}_holdout"
DURATION_HOLDOUT = "duration_holdout"
_REQUIRED = [FREQUENCY_CAL, RECENCY_CAL, T_CAL, FREQUENCY_HOLDOUT, DURATION_HOLDOUT]


def _check_units(model: Any, data: pd.DataFrame) -> None:
    """Raise :class:`ConfigError` when the data and the model use different time units."""
    data_unit = data.attrs.get("time_unit")
    model_unit = getattr(model, "time_unit_", None)
    if data_unit and model_unit and data_unit != model_unit:
        raise ConfigError(
            f"The calibration/holdout frame is in time unit {data_unit!r} but the model was "
            f"fitted in {model_unit!r}. Build both with the same time_unit= "
            "(calibration_holdout_split(..., time_unit=...)) and refit."
        )


def holdout_predictions(model: Any, data: pd.DataFrame) -> pd.DataFrame:
    """Per-customer predicted and actual holdout purchases and churn probability.

    Parameters
    ----------
    model : BetaGeoModel, ParetoNBDModel or ModifiedBetaGeoModel
        Transaction model fitted on the calibration columns.
    data : pandas.DataFrame
        Output of ``calibration_holdout_split``: ``frequency_cal``,
        ``recency_cal``, ``T_cal``, ``frequency_holdout``, ``duration_holdout``,
        indexed by ``customer_id``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data`` with ``frequency_cal``, ``actual`` (holdout
        purchases), ``predicted`` (expected holdout purchases),
        ``p_no_purchase`` (model probability of no purchase in the holdout) and
        ``no_purchase`` (bool, the customer really bought nothing).

    Raises
    ------
    DataValidationError
        If a required column is missing.
    ConfigError
        If the frame's ``attrs["time_unit"]`` differs from the model's.
    """
    require_columns(data, _REQUIRED, where="holdout_predictions")
    _check_units(model, data)
    cal = pd.DataFrame(
        {
            config.FREQUENCY: data[FREQUENCY_CAL].to_numpy(dtype=float),
            config.RECENCY: data[RECENCY_CAL].to_numpy(dtype=float),
            config.T: data[T_CAL].to_numpy(dtype=float),
        },
        index=data.index,
    )
    duration = data[DURATION_HOLDOUT].to_numpy(dtype=float)
    predicted = np.empty(len(data))
    p_none = np.empty(len(data))
    for value in np.unique(duration):
        rows = duration == value
        part = cal[rows]
        predicted[rows] = np.asarray(model.expected_purchases(part, float(value)), dtype=float)
        p_none[rows] = np.asarray(model.probability_no_purchase(part, float(value)), dtype=float)
    actual = data[FREQUENCY_HOLDOUT].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            FREQUENCY_CAL: cal[config.FREQUENCY],
            "actual": actual,
            "predicted": predicted,
            "p_no_purchase": np.clip(p_none, 0.0, 1.0),
            "no_purchase": actual == 0,
        },
        index=data.index,
    )


def purchase_errors(predictions: pd.DataFrame) -> pd.DataFrame:
    """Aggregate and per-customer errors of predicted holdout purchases.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Output of :func:`holdout_predictions`.

    Returns
    -------
    pandas.DataFrame
        Column ``value`` indexed by ``metric``: ``n_customers``,
        ``actual_total``, ``predicted_total``, ``total_error_pct`` (predicted
        minus actual, in % of actual), ``mae`` and ``rmse`` (per customer).
    """
    require_columns(predictions, ["actual", "predicted"], where="purchase_errors")
    actual = predictions["actual"].to_numpy(dtype=float)
    error = predictions["predicted"].to_numpy(dtype=float) - actual
    total = actual.sum()
    values = {
        "n_customers": float(len(predictions)),
        "actual_total": total,
        "predicted_total": float(predictions["predicted"].sum()),
        "total_error_pct": 100 * error.sum() / total if total else np.nan,
        "mae": float(np.mean(np.abs(error))) if len(error) else np.nan,
        "rmse": float(np.sqrt(np.mean(error**2))) if len(error) else np.nan,
    }
    return pd.DataFrame({"value": values}).rename_axis("metric")


def conditional_expectations(predictions: pd.DataFrame, *, max_frequency: int = 7) -> pd.DataFrame:
    """Mean actual and predicted holdout purchases per calibration-frequency bucket.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Output of :func:`holdout_predictions`.
    max_frequency : int, default 7
        Customers with at least this many calibration repeat purchases share
        the last bucket, labelled e.g. ``"7+"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bucket`` (``"0"``, ``"1"``, ..., ``"7+"``) with
        ``n_customers``, ``actual`` and ``predicted`` (mean holdout purchases).
    """
    if max_frequency < 1:
        raise ConfigError(f"max_frequency must be at least 1, got {max_frequency!r}.")
    require_columns(
        predictions, [FREQUENCY_CAL, "actual", "predicted"], where="conditional_expectations"
    )
    bucket = np.minimum(predictions[FREQUENCY_CAL].to_numpy(dtype=float), max_frequency)
    table = (
        pd.DataFrame({"bucket": bucket.astype(int), **predictions[["actual", "predicted"]]})
        .groupby("bucket")
        .agg(
            n_customers=("actual", "size"),
            actual=("actual", "mean"),
            predicted=("predicted", "mean"),
        )
    )
    labels = [f"{b}+" if b == max_frequency else str(b) for b in table.index]
    table.index = pd.Index(labels, name="bucket")
    return table


def churn_metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """Score ``p_no_purchase`` against "no purchase in the holdout".

    Parameters
    ----------
    predictions : pandas.DataFrame
        Output of :func:`holdout_predictions`.

    Returns
    -------
    pandas.DataFrame
        Column ``value`` indexed by ``metric``: ``roc_auc``, ``brier_score``,
        ``log_loss``, ``observed_rate`` (share with no holdout purchase) and
        ``mean_predicted``.

    Warns
    -----
    DataQualityWarning
        If all customers share one outcome (ROC AUC is then NaN).
    """
    require_columns(predictions, ["p_no_purchase", "no_purchase"], where="churn_metrics")
    y_true = predictions["no_purchase"].to_numpy(dtype=bool)
    y_prob = predictions["p_no_purchase"].to_numpy(dtype=float)
    both = len(np.unique(y_true)) == 2
    if not both:
        warnings.warn(
            f"Every one of the {len(y_true)} customers has the same holdout outcome, so ROC "
            "AUC is undefined (NaN). Use a longer holdout period or more customers.",
            DataQualityWarning,
            stacklevel=2,
        )
    values = {
        "roc_auc": float(roc_auc_score(y_true, y_prob)) if both else np.nan,
        "brier_score": float(brier_score_loss(y_true, y_prob, pos_label=True)),
        "log_loss": float(
            log_loss(y_true, np.clip(y_prob, 1e-12, 1 - 1e-12), labels=[False, True])
        ),
        "observed_rate": float(y_true.mean()),
        "mean_predicted": float(y_prob.mean()),
    }
    return pd.DataFrame({"value": values}).rename_axis("metric")


def calibration_table(
    predictions: pd.DataFrame, *, n_bins: int = 10, strategy: str = "uniform"
) -> pd.DataFrame:
    """Reliability table of ``p_no_purchase`` (sklearn's ``calibration_curve`` plus counts).

    Parameters
    ----------
    predictions : pandas.DataFrame
        Output of :func:`holdout_predictions`.
    n_bins : int, default 10
        Number of probability bins.
    strategy : {"uniform", "quantile"}, default "uniform"
        Equal-width bins or bins with equal numbers of customers.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty bin: ``lower``, ``upper`` (bin edges),
        ``n_customers``, ``mean_predicted`` and ``observed_rate``.
    """
    if strategy not in {"uniform", "quantile"}:
        raise ConfigError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}.")
    if n_bins < 1:
        raise ConfigError(f"n_bins must be at least 1, got {n_bins!r}.")
    require_columns(predictions, ["p_no_purchase", "no_purchase"], where="calibration_table")
    y_true = predictions["no_purchase"].to_numpy(dtype=bool)
    y_prob = predictions["p_no_purchase"].to_numpy(dtype=float)
    observed, predicted = calibration_curve(
        y_true, y_prob, n_bins=n_bins, strategy=strategy, pos_label=True
    )
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.percentile(y_prob, np.linspace(0, 100, n_bins + 1))
    counts = np.bincount(np.searchsorted(edges[1:-1], y_prob), minlength=n_bins)
    keep = counts != 0
    return pd.DataFrame(
        {
            "lower": edges[:-1][keep],
            "upper": edges[1:][keep],
            "n_customers": counts[keep],
            "mean_predicted": predicted,
            "observed_rate": observed,
        },
        index=pd.RangeIndex(int(keep.sum()), name="bin"),
    )


@dataclass(frozen=True)
class HoldoutReport:
    """Tidy tables of a holdout evaluation (see :func:`holdout_report`).

    Attributes
    ----------
    predictions, errors, conditional, churn, calibration : pandas.DataFrame
        Outputs of :func:`holdout_predictions`, :func:`purchase_errors`,
        :func:`conditional_expectations`, :func:`churn_metrics` and
        :func:`calibration_table`.
    tracking : pandas.DataFrame or None
        :func:`tracking_curve`, when transactions were given.
    """

    predictions: pd.DataFrame
    errors: pd.DataFrame
    conditional: pd.DataFrame
    churn: pd.DataFrame
    calibration: pd.DataFrame
    tracking: pd.DataFrame | None = field(default=None)

    @property
    def scores(self) -> pd.DataFrame:
        """All headline numbers in one ``metric -> value`` table."""
        return pd.concat([self.errors, self.churn])

    def _repr_html_(self) -> str:
        return "<h4>Holdout scores</h4>" + self.scores.to_html(float_format="{:.4g}".format)


def holdout_report(
    model: Any,
    data: pd.DataFrame,
    *,
    transactions: Any = None,
    calibration_end: str | pd.Timestamp | None = None,
    observation_end: str | pd.Timestamp | None = None,
    max_frequency: int = 7,
    n_bins: int = 10,
    tracking_unit: str = "W",
) -> HoldoutReport:
    """Run every holdout evaluation at once.

    Parameters
    ----------
    model : BetaGeoModel, ParetoNBDModel or ModifiedBetaGeoModel
        Transaction model fitted on the calibration columns of ``data``.
    data : pandas.DataFrame
        Output of ``calibration_holdout_split``.
    transactions : pandas.DataFrame or LoadedTransactions, optional
        The transaction log; needed for the tracking curve only.
    calibration_end, observation_end : str or Timestamp, optional
        Passed to :func:`tracking_curve`.
    max_frequency : int, default 7
        Last bucket of :func:`conditional_expectations`.
    n_bins : int, default 10
        Bins of :func:`calibration_table`.
    tracking_unit : {"W", "D", "M"}, default "W"
        Period length of the tracking curve.

    Returns
    -------
    HoldoutReport
        The tables; ``report.scores`` holds the headline numbers.
    """
    predictions = holdout_predictions(model, data)
    tracking = None
    if transactions is not None:
        tracking = tracking_curve(
            model,
            transactions,
            calibration_end=calibration_end,
            observation_end=observation_end,
            time_unit=tracking_unit,
        )
    return HoldoutReport(
        predictions=predictions,
        errors=purchase_errors(predictions),
        conditional=conditional_expectations(predictions, max_frequency=max_frequency),
        churn=churn_metrics(predictions),
        calibration=calibration_table(predictions, n_bins=n_bins),
        tracking=tracking,
    )
