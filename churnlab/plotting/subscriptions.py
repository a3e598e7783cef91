"""Plots for subscription data: survival curves, the sBG projection and value per subscriber."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from churnlab.plotting._common import get_axes, percent_axis, set_labels, unit_name

__all__ = [
    "plot_cohort_survival",
    "plot_projection",
    "plot_survival",
    "plot_tenure",
    "plot_value_by_year",
]


def plot_survival(
    survival: pd.DataFrame,
    *,
    time_unit: str = "M",
    by: str | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Kaplan-Meier curve(s) with their confidence band (Kaplan & Meier 1958).

    Parameters
    ----------
    survival : pandas.DataFrame
        :func:`churnlab.subscriptions.survival_curve` output (one curve, or one per
        value of ``by`` in the first index level).
    time_unit : {"D", "W", "M"}, default "M"
        Unit of the tenure, for the axis label.
    by : str, optional
        Name of the grouping (e.g. ``"plan"``), for the legend title.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.step``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (9, 4.5))
    curves = (
        [("all subscribers", survival)]
        if survival.index.nlevels == 1
        else [(str(k), g.droplevel(0)) for k, g in survival.groupby(level=0, sort=True)]
    )
    for label, curve in curves:
        t = curve.index.to_numpy(dtype=float)
        (line,) = ax.step(t, curve["survival"], where="post", label=label, **kwargs)
        ax.fill_between(
            t,
            curve["survival_lower"],
            curve["survival_upper"],
            step="post",
            alpha=0.2,
            color=line.get_color(),
        )
    ax.set_ylim(0, 1.02)
    percent_axis(ax.yaxis)
    return set_labels(
        ax,
        xlabel=f"tenure ({unit_name(time_unit)})",
        ylabel="share still subscribed",
        title="Subscribers still active by tenure (Kaplan-Meier, shaded: 95% interval)",
        legend={"title": by.replace("_", " ").capitalize()} if by else True,
    )


def plot_projection(
    projection: pd.DataFrame, *, time_unit: str = "M", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Draw the sBG survival projection next to the observed Kaplan-Meier survival.

    Parameters
    ----------
    projection : pandas.DataFrame
        :func:`churnlab.subscriptions.projected_survival` output with
        ``observed_survival``.
    time_unit : {"D", "W", "M"}, default "M"
        Unit of the periods, for the axis label.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.plot`` for the projection.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (9, 4.5))
    t = projection.index.to_numpy(dtype=float)
    ax.plot(t, projection["observed_survival"], color="black", lw=2, label="observed")
    ax.plot(t, projection["survival"], ls="--", label="retention model (sBG)", **kwargs)
    last = projection["observed_survival"].last_valid_index()
    if last is not None and last < t.max():
        ax.axvline(float(last), color="grey", lw=0.8)
        ax.annotate(
            " projection", (float(last), 0.05), color="grey", fontsize=8, ha="left", va="bottom"
        )
    ax.set_ylim(0, 1.02)
    percent_axis(ax.yaxis)
    return set_labels(
        ax,
        xlabel=f"tenure ({unit_name(time_unit)})",
        ylabel="share still subscribed",
        title="Observed survival and the retention model's projection",
        legend=True,
    )


def plot_value_by_year(
    what_if: pd.DataFrame, *, currency: str = "", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Cumulative value per original subscriber by year, today and with auto-renewal.

    Parameters
    ----------
    what_if : pandas.DataFrame
        :func:`churnlab.subscriptions.auto_renew_what_if` output.
    currency : str, default ""
        Currency prefix for the axis label (e.g. "$").
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (8, 4))
    years = what_if.index.to_numpy()
    labels = {
        "base": "as today",
        "lower_renewal_cost": "cheaper renewals only",
        "higher_retention": "higher retention only",
        "auto_renew": "auto-renewal (both)",
    }
    for column, label in labels.items():
        ax.plot(years, what_if[column], marker="o", label=label, **kwargs)
    ax.set_xticks(years.astype(np.int64))
    unit = f" ({currency.strip()})" if currency else ""
    return set_labels(
        ax,
        xlabel="year",
        ylabel=f"value per subscriber{unit}",
        title="Cumulative value per new subscriber, by year",
        legend=True,
    )


def plot_cohort_survival(
    matrix: pd.DataFrame, *, time_unit: str = "M", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Heatmap of survival by start cohort (rows) and tenure (columns).

    Parameters
    ----------
    matrix : pandas.DataFrame
        :func:`churnlab.subscriptions.retention_by_cohort` output (shares 0-1).
    time_unit : {"D", "W", "M"}, default "M"
        Unit of the tenure, for the axis label.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``seaborn.heatmap``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (10, max(2.5, 0.45 * len(matrix) + 1.5)))
    options = {
        "annot": len(matrix) <= 24,
        "fmt": ".0%",
        "cmap": "Blues",
        "vmin": 0,
        "vmax": 1,
        "annot_kws": {"size": 8},
        "cbar_kws": {"label": "share of the cohort still subscribed"},
    }
    options.update(kwargs)
    sns.heatmap(matrix.astype(float), ax=ax, **options)
    ax.set_yticklabels([str(i) for i in matrix.index], rotation=0)
    return set_labels(
        ax,
        xlabel=f"tenure ({unit_name(time_unit)})",
        ylabel="start cohort",
        title="Share of each start cohort still subscribed",
    )


def plot_tenure(
    customers: pd.DataFrame, *, time_unit: str = "M", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Histogram of how long subscribers have stayed so far, still active and left, stacked.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``tenure`` and ``churned`` per subscriber (e.g. ``subscribers.parquet``).
    time_unit : {"D", "W", "M"}, default "M"
        Unit of the tenure, for the axis label.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.hist``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (9, 4))
    tenure = customers["tenure"].to_numpy(dtype=float)
    left = customers["churned"].to_numpy(dtype=bool)
    bins = np.histogram_bin_edges(tenure, bins=min(40, max(5, int(np.sqrt(len(tenure))))))
    ax.hist(
        [tenure[~left], tenure[left]],
        bins=bins,
        stacked=True,
        label=["still active", "left"],
        color=["#1f77b4", "#c0504d"],
        **kwargs,
    )
    return set_labels(
        ax,
        xlabel=f"tenure so far ({unit_name(time_unit)})",
        ylabel="subscribers",
        title="How long subscribers have stayed",
        legend=True,
    )
