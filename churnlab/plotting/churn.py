"""Plots for the churn classifier: calibration, lift, cumulative gains and drivers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from churnlab.classifier.metrics import calibration_table, lift_table
from churnlab.plotting._common import get_axes, set_labels

__all__ = ["plot_calibration", "plot_churn_drivers", "plot_gains", "plot_lift"]


def _curves(
    y_true: pd.Series,
    scores: pd.DataFrame,
    curve: Callable[[pd.Series, pd.Series], tuple[Any, Any]],
    *,
    reference: str,
    ax: Axes | None,
    **kwargs: Any,
) -> Axes:
    """Draw the diagonal ``reference`` line and one ``curve(y, score) -> (x, y)`` per model."""
    ax = get_axes(ax, (6, 5))
    y = y_true.reindex(scores.index)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label=reference)
    for name in scores.columns:
        x_values, y_values = curve(y, scores[name])
        ax.plot(x_values, y_values, marker="o", label=name, **kwargs)
    return ax


def _calibration_curve(y: pd.Series, score: pd.Series, n_bins: int) -> tuple[Any, Any]:
    """Mean predicted probability and observed churn rate per bin."""
    table = calibration_table(y, score, n_bins=n_bins)
    return table["mean_predicted"], table["observed_rate"]


def _gains_curve(y: pd.Series, score: pd.Series) -> tuple[Any, Any]:
    """Cumulative share of customers and of churners, starting at (0, 0)."""
    table = lift_table(y, score)
    return np.r_[0, table["cumulative_share"]], np.r_[0, table["cumulative_gain"]]


def plot_calibration(
    y_true: pd.Series,
    scores: pd.DataFrame,
    *,
    n_bins: int = 10,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Reliability diagram: predicted vs observed churn rate for each score column.

    Parameters
    ----------
    y_true : pandas.Series
        True labels indexed by customer_id.
    scores : pandas.DataFrame
        One probability column per model, same index.
    n_bins : int, default 10
        Equal-width bins.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    curve = partial(_calibration_curve, n_bins=n_bins)
    ax = _curves(y_true, scores, curve, reference="perfect", ax=ax, **kwargs)
    return set_labels(
        ax,
        xlabel="predicted churn probability",
        ylabel="observed churn rate",
        title="Calibration",
        legend=True,
    )


def plot_lift(
    y_true: pd.Series, scores: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Lift by decile (decile 1 = highest predicted risk) for each score column.

    Parameters
    ----------
    y_true : pandas.Series
        True labels.
    scores : pandas.DataFrame
        One probability column per model.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.bar``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (8, 5))
    y = y_true.reindex(scores.index)
    width = 0.8 / max(len(scores.columns), 1)
    for i, name in enumerate(scores.columns):
        table = lift_table(y, scores[name])
        ax.bar(
            table["decile"] + (i - (len(scores.columns) - 1) / 2) * width,
            table["lift"],
            width=width,
            label=name,
            **kwargs,
        )
    ax.axhline(1.0, color="grey", linestyle="--")
    ax.set_xticks(np.arange(1, 11))
    return set_labels(
        ax,
        xlabel="decile of predicted risk (1 = highest)",
        ylabel="lift over average churn rate",
        title="Lift by decile",
        legend=True,
    )


def plot_gains(
    y_true: pd.Series, scores: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Cumulative gains: share of churners found vs share of customers contacted.

    Parameters
    ----------
    y_true : pandas.Series
        True labels.
    scores : pandas.DataFrame
        One probability column per model.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _curves(y_true, scores, _gains_curve, reference="random", ax=ax, **kwargs)
    return set_labels(
        ax,
        xlabel="share of customers contacted (highest risk first)",
        ylabel="share of churners found",
        title="Cumulative gains",
        legend=True,
    )


def plot_churn_drivers(
    importance: pd.DataFrame,
    *,
    top: int = 15,
    labels: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Horizontal bars of permutation importance (``permutation_drivers``), in AUC points.

    Parameters
    ----------
    importance : pandas.DataFrame
        Index feature, columns ``importance_mean`` and ``importance_std`` (drops in
        ROC AUC, shown ×100 as points).
    top : int, default 15
        Number of features shown.
    labels : mapping, optional
        Feature name -> what readers call it (e.g. ``FEATURE_DESCRIPTIONS``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (7, 5))
    data = importance.head(top).iloc[::-1]
    names = [(labels or {}).get(f, str(f).replace("_", " ")) for f in data.index]
    points = 100 * data[["importance_mean", "importance_std"]]
    ax.barh(names, points["importance_mean"], xerr=points["importance_std"], **kwargs)
    title = "Churn drivers (held-out permutation importance)"
    return set_labels(
        ax, xlabel="drop in ROC AUC when shuffled (points)", ylabel="what the classifier looks at",
        title=title,
    )  # fmt: skip
