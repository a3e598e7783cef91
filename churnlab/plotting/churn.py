"""Plots for the churn classifier: calibration, lift, cumulative gains and drivers."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from churnlab.models.churn_evaluation import calibration_table, lift_table

__all__ = ["plot_calibration", "plot_churn_drivers", "plot_gains", "plot_lift"]


def _axes(ax: Axes | None, size: tuple[float, float] = (6, 5)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


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
    ax = _axes(ax)
    y = y_true.reindex(scores.index)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect")
    for name in scores.columns:
        table = calibration_table(y, scores[name], n_bins=n_bins)
        ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", label=name, **kwargs)
    ax.set_xlabel("predicted churn probability")
    ax.set_ylabel("observed churn rate")
    ax.set_title("Calibration")
    ax.legend()
    return ax


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
    ax = _axes(ax, (8, 5))
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
    ax.set_xlabel("decile of predicted risk (1 = highest)")
    ax.set_ylabel("lift over average churn rate")
    ax.set_title("Lift by decile")
    ax.legend()
    return ax


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
    ax = _axes(ax)
    y = y_true.reindex(scores.index)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="random")
    for name in scores.columns:
        table = lift_table(y, scores[name])
        ax.plot(
            np.r_[0, table["cumulative_share"]],
            np.r_[0, table["cumulative_gain"]],
            marker="o",
            label=name,
            **kwargs,
        )
    ax.set_xlabel("share of customers contacted (highest risk first)")
    ax.set_ylabel("share of churners found")
    ax.set_title("Cumulative gains")
    ax.legend()
    return ax


def plot_churn_drivers(
    importance: pd.DataFrame, *, top: int = 15, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Horizontal bars of permutation importance (``permutation_drivers``).

    Parameters
    ----------
    importance : pandas.DataFrame
        Index feature, columns ``importance_mean`` and ``importance_std``.
    top : int, default 15
        Number of features shown.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, (7, 5))
    data = importance.head(top).iloc[::-1]
    ax.barh(data.index.astype(str), data["importance_mean"], xerr=data["importance_std"], **kwargs)
    ax.set_xlabel("drop in ROC AUC when shuffled")
    ax.set_title("Churn drivers (held-out permutation importance)")
    return ax
