"""Plots for segments, health tiers, the value x loyalty grid and cohort retention."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from churnlab.data.validation import require_columns

__all__ = [
    "plot_cluster_profiles",
    "plot_cohort_heatmap",
    "plot_health_tiers",
    "plot_segment_sizes",
    "plot_value_loyalty_grid",
]


def _axes(ax: Axes | None, size: tuple[float, float] = (8, 5)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


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
    ax = _axes(ax)
    if value is None:
        sizes = segments["segment"].value_counts(sort=False)
        label = "customers"
    else:
        sizes = value.reindex(segments.index).groupby(segments["segment"], observed=False).sum()
        label = "value"
    sizes = sizes.iloc[::-1]
    ax.barh(sizes.index.astype(str), sizes.to_numpy(), **kwargs)
    ax.set_xlabel(label)
    ax.set_title(f"RFM segments by {label}")
    return ax


def plot_health_tiers(health: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Histogram of the health score, coloured by tier.

    Parameters
    ----------
    health : pandas.DataFrame
        Output of ``health_tiers`` (``health_score``, ``tier``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    **kwargs
        Passed to ``seaborn.histplot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_columns(health, ["health_score", "tier"], where="plot_health_tiers")
    ax = _axes(ax)
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
    ax.set_title("Customer health score by tier")
    return ax


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
    ax = _axes(ax, (6, 4.5))
    sns.heatmap(
        summary.astype(float), annot=True, fmt=fmt, cmap="RdYlGn_r", cbar=False, ax=ax, **kwargs
    )
    ax.set_xlabel("churn risk")
    ax.set_ylabel("value (CLV)")
    ax.set_title("Value x loyalty")
    return ax


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
    ax = _axes(ax, (10, 6))
    normalized = bool(matrix.max(numeric_only=True).max() <= 1.0 + 1e-9)
    options = {
        "annot": len(matrix) <= 24,
        "fmt": ".0%" if normalized else ",.0f",
        "cmap": "Blues",
        "annot_kws": {"size": 7},
    }
    options.update(kwargs)
    sns.heatmap(matrix.astype(float), ax=ax, **options)
    ax.set_yticklabels([str(i) for i in matrix.index], rotation=0)
    ax.set_xlabel("periods since first purchase")
    ax.set_ylabel("cohort (first purchase)")
    ax.set_title(f"Cohort retention ({matrix.attrs.get('values', 'customers')})")
    return ax


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
    ax = _axes(ax, (10, 4))
    data = profiles.drop(columns=["share"], errors="ignore").astype(float)
    span = (data.max() - data.min()).replace(0, 1)
    sns.heatmap(
        (data - data.min()) / span,
        annot=data,
        fmt=".3g",
        cmap="viridis",
        cbar=False,
        ax=ax,
        **kwargs,
    )
    ax.set_title("Cluster profiles (medians; colour = relative level)")
    return ax
