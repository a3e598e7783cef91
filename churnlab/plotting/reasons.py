"""Plots for churn-reason analysis; each returns the Axes it drew on."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from churnlab.data.validation import require_columns
from churnlab.money import currency_prefix
from churnlab.plotting._common import get_axes, percent_axis, set_labels, thousands_axis

__all__ = [
    "plot_engagement_before_churn",
    "plot_reason_distribution",
    "plot_reason_mix",
    "plot_value_lost_by_reason",
]

ADDRESSABLE_COLOR, OTHER_COLOR = "#1f77b4", "#b0b0b0"


def plot_reason_distribution(
    distribution: pd.DataFrame, *, ax: Axes | None = None, top: int = 15, **kwargs: Any
) -> Axes:
    """Horizontal bars of each reason's share of churn with its confidence interval.

    Parameters
    ----------
    distribution : pandas.DataFrame
        Output of :func:`churnlab.reasons.reason_distribution`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    top : int, default 15
        Most frequent reasons shown.
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_columns(
        distribution, ["share", "share_lower", "share_upper"], where="plot_reason_distribution"
    )
    data = distribution.sort_values("share").tail(top)
    ax = get_axes(ax, (7, 0.4 * len(data) + 1.5))
    err = np.vstack([data["share"] - data["share_lower"], data["share_upper"] - data["share"]])
    kwargs.setdefault("color", ADDRESSABLE_COLOR)
    ax.barh(data.index.astype(str), data["share"], xerr=err, capsize=3, **kwargs)
    level = distribution.attrs.get("confidence", 0.95)
    percent_axis(ax.xaxis)
    xlabel = f"share of churned customers ({level:.0%} Wilson interval)"
    return set_labels(ax, xlabel=xlabel, title="Why customers left")


def plot_value_lost_by_reason(
    value_lost: pd.DataFrame,
    *,
    ax: Axes | None = None,
    column: str = "revenue_lost",
    currency: str = "",
    **kwargs: Any,
) -> Axes:
    """Bars of revenue (or CLV) lost per reason, coloured by addressability.

    Parameters
    ----------
    value_lost : pandas.DataFrame
        Output of :func:`churnlab.reasons.value_lost_by_reason`.
    ax : matplotlib Axes, optional
        Where to draw.
    column : {"revenue_lost", "clv_lost"}, default "revenue_lost"
        Which value to show.
    currency : str, default ""
        ISO code (or symbol) of the money, named in the axis label.
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_columns(value_lost, [column, "addressable"], where="plot_value_lost_by_reason")
    data = value_lost.sort_values(column)
    ax = get_axes(ax, (7, 0.4 * len(data) + 1.5))
    colors = np.where(data["addressable"], ADDRESSABLE_COLOR, OTHER_COLOR)
    ax.barh(data.index.astype(str), data[column], color=colors, **kwargs)
    handles = [
        Patch(color=ADDRESSABLE_COLOR, label="addressable"),
        Patch(color=OTHER_COLOR, label="not addressable"),
    ]
    thousands_axis(ax.xaxis)
    what = "lifetime value lost" if column == "clv_lost" else "revenue lost"
    unit = currency_prefix(currency).strip()
    return set_labels(
        ax,
        xlabel=f"{what} ({unit})" if unit else what,
        title="Value lost by churn reason",
        legend={"handles": handles, "loc": "lower right"},
    )


def plot_reason_mix(crosstab: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Stacked bars: the reason mix within each customer group.

    Parameters
    ----------
    crosstab : pandas.DataFrame
        Output of :func:`churnlab.reasons.reason_crosstab` (shares; reasons as
        rows, groups as columns).
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to ``DataFrame.plot.barh``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (8, 0.5 * crosstab.shape[1] + 2))
    kwargs.setdefault("stacked", True)
    kwargs.setdefault("colormap", "tab10")
    crosstab.T.plot.barh(ax=ax, **kwargs)
    return set_labels(
        ax,
        xlabel="share of the group's churned customers",
        ylabel=_words(crosstab.columns.name),
        title="Reason mix by group",
        legend={
            "title": _words(crosstab.index.name),
            "bbox_to_anchor": (1.01, 1),
            "loc": "upper left",
        },
    )


def plot_engagement_before_churn(
    trajectories: pd.DataFrame,
    *,
    ax: Axes | None = None,
    by: str = "category",
    value: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Lines of engagement per reason: over the periods before churn, or across bands.

    Parameters
    ----------
    trajectories : pandas.DataFrame
        Output of :func:`churnlab.reasons.engagement_trajectories` (x = periods
        before churn), or of :func:`churnlab.reasons.usage_by_band` for snapshot
        data (index reason x band; x = band).
    ax : matplotlib Axes, optional
        Where to draw.
    by : str, default "category"
        Reason column (or index level).
    value : str, optional
        Column to plot; default ``spend_index`` for trajectories, else the first
        usage column.
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (7, 4))
    if "periods_before_churn" in trajectories.columns:
        x, data, title = "periods_before_churn", trajectories, "Engagement before churn"
        value = value or "spend_index"
    else:
        data = trajectories.reset_index()
        x = str(trajectories.index.names[-1])
        value = value or next(c for c in trajectories.columns if c != "customers")
        title = f"Snapshot usage by {x.replace('_', ' ')} (no transaction log)"
    require_columns(data, [by, x, value], where="plot_engagement_before_churn")
    for name, group in data.groupby(by, observed=True):
        group = group.sort_values(x)
        ax.plot(
            group[x].astype(str) if x != "periods_before_churn" else group[x],
            group[value],
            marker="o",
            label=name,
            **kwargs,
        )
    return set_labels(
        ax,
        xlabel=x.replace("_", " "),
        ylabel=value.replace("_", " "),
        title=title,
        legend={"title": "Reason" if by == "category" else _words(by), "fontsize": "small"},
    )


def _words(name: object) -> str:
    """Return a column name as a reader says it: ``value_tier`` -> "Value tier"."""
    return str(name or "").replace("_", " ").capitalize()
