"""Plots for segments, health tiers, the value x loyalty grid and cohort retention."""

from __future__ import annotations

from typing import Any

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from churnlab.data.validation import require_columns
from churnlab.plotting._common import get_axes, set_labels

__all__ = [
    "plot_cluster_profiles",
    "plot_cohort_heatmap",
    "plot_health_tiers",
    "plot_segment_sizes",
    "plot_value_at_risk_grid",
    "plot_value_loyalty_grid",
]


def plot_segment_sizes(
    segments: pd.DataFrame, *, value: pd.Series | None = None, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Bar chart of customers (or summed ``value``) per RFM segment.

    Parameters
    ----------
    segments : pandas.DataFrame
        Output of ``rfm_segments`` (needs ``segment``).
    value : pandas.Series, optional
        Per-customer value (e.g. CLV) to sum instead of counting customers.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_columns(segments, ["segment"], where="plot_segment_sizes")
    ax = get_axes(ax, (8, 5))
    if value is None:
        sizes = segments["segment"].value_counts(sort=False)
        measure = "customers"
    else:
        sizes = value.reindex(segments.index).groupby(segments["segment"], observed=False).sum()
        measure = "value"
    sizes = sizes.iloc[::-1]
    ax.barh(sizes.index.astype(str), sizes.to_numpy(), **kwargs)
    return set_labels(ax, xlabel=measure, ylabel="segment", title=f"RFM segments by {measure}")


def plot_health_tiers(health: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Histogram of the health score, coloured by tier.

    Parameters
    ----------
    health : pandas.DataFrame
        Output of ``health_tiers`` (``health_score``, ``tier``), or the scoring pass's
        customer table (``health_score``, ``health_tier``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``seaborn.histplot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if "tier" not in health and "health_tier" in health:
        health = health.rename(columns={"health_tier": "tier"})
    require_columns(health, ["health_score", "tier"], where="plot_health_tiers")
    ax = get_axes(ax, (8, 5))
    palette = {"Good": "tab:green", "Average": "tab:orange", "Poor": "tab:red"}
    sns.histplot(
        data=health,
        x="health_score",
        hue="tier",
        bins=20,
        multiple="stack",
        palette=palette,
        ax=ax,
        **kwargs,
    )
    return set_labels(
        ax,
        xlabel="health score (0 = has stopped, 100 = buys regularly)",
        ylabel="customers",
        title="Customer health score by tier",
    )


def plot_value_loyalty_grid(
    summary: pd.DataFrame, *, ax: Axes | None = None, fmt: str = ",.0f", **kwargs: Any
) -> Axes:
    """Heatmap of a value x risk cross-tab (``value_loyalty_summary``).

    Parameters
    ----------
    summary : pandas.DataFrame
        Rows value tiers, columns risk tiers.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    fmt : str, default ",.0f"
        Annotation format.
    **kwargs
        Passed to ``seaborn.heatmap``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (6, 4.5))
    sns.heatmap(
        summary.astype(float), annot=True, fmt=fmt, cmap="RdYlGn_r", cbar=False, ax=ax, **kwargs
    )
    return set_labels(ax, xlabel="churn risk", ylabel="value (CLV)", title="Value x loyalty")


def plot_value_at_risk_grid(
    grid: pd.DataFrame, *, currency: str = "", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Value × loyalty heatmap coloured by revenue at risk, with customers and value in each cell.

    Parameters
    ----------
    grid : pandas.DataFrame
        ``value_loyalty_grid`` output joined with ``revenue_at_risk`` per customer.
    currency : str, default ""
        Prefix of money amounts (e.g. "£").
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``seaborn.heatmap``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_columns(grid, ["value_tier", "risk_tier", "revenue_at_risk"], where="value grid")
    ax = get_axes(ax, (8, 5))
    cells = grid.groupby(["value_tier", "risk_tier"], observed=False)
    risk = cells["revenue_at_risk"].sum().unstack().sort_index(ascending=False)
    count = cells.size().unstack().reindex_like(risk)
    labels = (
        count.astype(int).astype(str)
        + " customers\n"
        + risk.map(lambda v: f"{currency}{v:,.0f} at risk")
    )
    sns.heatmap(
        risk.astype(float),
        annot=labels,
        fmt="",
        cmap="Reds",
        cbar_kws={"label": f"revenue at risk ({currency.strip() or 'money'})"},
        ax=ax,
        **kwargs,
    )
    return set_labels(
        ax,
        xlabel="churn risk (Low < 30%, High ≥ 70%)",
        ylabel="lifetime value (thirds of customers)",
        title="Where the value at risk is: value × churn risk",
    )


def plot_cohort_heatmap(matrix: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Heatmap of a cohort matrix (``cohort_matrix``), cohorts as rows.

    Parameters
    ----------
    matrix : pandas.DataFrame
        Rows cohorts, columns periods since the first purchase.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``seaborn.heatmap``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (10, 6))
    normalized = bool(matrix.max(numeric_only=True).max() <= 1.0 + 1e-9)
    options = {
        "annot": len(matrix) <= 24,
        "fmt": ".0%" if normalized else ",.0f",
        "cmap": "Blues",
        "annot_kws": {"size": 7},
        "cbar_kws": {
            "label": "share of the cohort still buying"
            if normalized
            else "relative to the cohort's first period"
        },
    }
    options.update(kwargs)
    sns.heatmap(matrix.astype(float), ax=ax, **options)
    ax.set_yticklabels([str(i) for i in matrix.index], rotation=0)
    return set_labels(
        ax,
        xlabel={"W": "weeks", "M": "months", "Q": "quarters"}.get(
            matrix.attrs.get("period", ""), "periods"
        )
        + " since the first purchase",
        ylabel="cohort (first purchase)",
        title=f"Cohort retention ({matrix.attrs.get('values', 'customers')})",
    )


def plot_cluster_profiles(profiles: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Heatmap of cluster profiles, each column scaled to its own range.

    Parameters
    ----------
    profiles : pandas.DataFrame
        ``ClusterResult.profiles``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``seaborn.heatmap``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (10, 4))
    labels = {
        "frequency": "repeat purchases",
        "recency": "first to last purchase",
        "T": "customer for",
        "monetary_value": "average repeat purchase",
        "days_since_last": "days since last purchase",
        "regularity": "regularity (1 = clockwork)",
        "total_spend": "total spend",
    }
    profiles = profiles.rename(columns=labels)
    data = profiles.drop(columns=["share"], errors="ignore").astype(float)
    span = (data.max() - data.min()).replace(0, 1)
    sns.heatmap(
        (data - data.min()) / span,
        annot=data.map(lambda v: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2f}"),
        fmt="",
        cmap="viridis",
        cbar=False,
        ax=ax,
        **kwargs,
    )
    return set_labels(
        ax,
        xlabel="measure (median of the cluster)",
        ylabel="cluster",
        title="Cluster profiles (medians; colour = level relative to the other clusters)",
    )
