"""Data-quality figures: cleaning accounting, date coverage, monthly activity, order values.

Every function draws on ``ax`` (a new figure's axes when None) with seaborn and
returns the Axes; none calls ``show()`` or saves a file. Tables come from
:mod:`churnlab.report.quality` or the loaders.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from churnlab import config
from churnlab.data.accounting import REASON_DESCRIPTIONS
from churnlab.data.validation import require_columns
from churnlab.exceptions import DataValidationError
from churnlab.plotting._common import get_axes, set_labels, thousands_axis, unit_name

__all__ = [
    "plot_cleaning_report",
    "plot_date_coverage",
    "plot_monthly_activity",
    "plot_order_values",
    "plot_repeat_purchases",
    "plot_rfm_overview",
]


def plot_cleaning_report(report: Any, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Bar chart of the rows kept and dropped per reason.

    Parameters
    ----------
    report : CleaningReport
        The loader's cleaning report (needs ``kept_rows`` and ``dropped``).
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to :func:`seaborn.barplot`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax, (8, 4))
    dropped = {REASON_DESCRIPTIONS.get(k, k): v for k, v in report.dropped.items() if v}
    counts = {"kept": report.kept_rows, **dropped}
    frame = pd.DataFrame({"reason": list(counts), "rows": list(counts.values())})
    frame["rows are"] = np.where(frame["reason"] == "kept", "kept", "set aside")
    palette = {"kept": "#2e7d32", "set aside": "#c62828"}
    sns.barplot(frame, x="rows", y="reason", hue="rows are", palette=palette, ax=ax, **kwargs)
    thousands_axis(ax.xaxis)
    title = f"Where the {report.input_rows:,} input rows went"
    return set_labels(ax, xlabel="rows", ylabel="kept, or why set aside", title=title)


def plot_date_coverage(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Histogram of transaction lines per day, so gaps in the data stand out.

    Parameters
    ----------
    data : pandas.DataFrame
        Transactions with a ``date`` column.
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to :func:`seaborn.histplot`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_columns(data, [config.DATE], where="plot_date_coverage")
    if data.empty:
        raise DataValidationError(
            "plot_date_coverage: the transactions are empty; nothing to plot."
        )
    ax = get_axes(ax, (8, 4))
    daily = data[config.DATE].dt.normalize().value_counts().sort_index()
    n_days = max(1, (daily.index.max() - daily.index.min()).days + 1)
    sns.histplot(x=daily.index, weights=daily.to_numpy(), bins=n_days, ax=ax, **kwargs)
    return set_labels(ax, xlabel="date", ylabel="transaction lines per day", title="Date coverage")


def plot_monthly_activity(monthly: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Lines of active customers, new customers and orders per month.

    Parameters
    ----------
    monthly : pandas.DataFrame
        Output of :func:`churnlab.report.quality.monthly_activity`.
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to :func:`seaborn.lineplot`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_columns(
        monthly, ["customers", "new_customers", "orders"], where="plot_monthly_activity"
    )
    ax = get_axes(ax, (8, 4))
    long = (
        monthly[["customers", "new_customers", "orders"]]
        .rename(columns={"new_customers": "new customers"})
        .rename_axis("month")
        .reset_index()
        .melt(id_vars="month", var_name="measure", value_name="count")
    )
    sns.lineplot(long, x="month", y="count", hue="measure", marker="o", ax=ax, **kwargs)
    thousands_axis(ax.yaxis)
    return set_labels(ax, xlabel="month", ylabel="count", title="Customers and orders per month")


def plot_order_values(values: pd.Series, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Histogram of order totals on a log scale, with the median marked.

    Parameters
    ----------
    values : pandas.Series
        Order totals (:func:`churnlab.report.quality.order_values`).
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to :func:`seaborn.histplot`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    positive = pd.Series(values, dtype="float64")
    positive = positive[positive > 0]
    if positive.empty:
        raise DataValidationError(
            "plot_order_values: no positive order values to plot; check the amount column."
        )
    ax = get_axes(ax, (8, 4))
    sns.histplot(x=positive, log_scale=True, bins=50, ax=ax, color="#6a51a3", **kwargs)
    median = float(positive.median())
    ax.axvline(median, color="black", linestyle="--", label=f"median {median:,.2f}")
    title = "Order value distribution"
    return set_labels(
        ax, xlabel="order value (log scale)", ylabel="orders", title=title, legend=True
    )


def plot_repeat_purchases(table: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Bars of customers by number of orders, titled with the repeat-purchase share.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`churnlab.report.quality.repeat_purchase_summary`.
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to :func:`seaborn.barplot`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_columns(table, ["customers"], where="plot_repeat_purchases")
    ax = get_axes(ax, (6, 4))
    frame = table.reset_index()
    label = frame.columns[0]
    sns.barplot(frame, x=label, y="customers", color="#1f77b4", ax=ax, **kwargs)
    thousands_axis(ax.yaxis)
    share = table.attrs.get("repeat_share")
    title = "Customers by number of orders"
    if share is not None:
        title += f" (repeat buyers: {share:.0%})"
    return set_labels(ax, xlabel="orders per customer", ylabel="customers", title=title)


def plot_rfm_overview(summary: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Scatter of recency against frequency, coloured by average order value.

    Parameters
    ----------
    summary : pandas.DataFrame
        RFM summary with ``frequency``, ``recency``, ``T`` and ``monetary_value``
        (``attrs["time_unit"]`` labels the axes).
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to :func:`seaborn.scatterplot`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    cols = [config.FREQUENCY, config.RECENCY, config.MONETARY_VALUE]
    require_columns(summary, cols, where="plot_rfm_overview")
    ax = get_axes(ax, (7, 5))
    frame = summary[cols].copy()
    cap = float(frame[config.MONETARY_VALUE].quantile(0.95)) if len(frame) else 0.0
    frame["average order value"] = frame[config.MONETARY_VALUE].clip(upper=cap)
    unit = unit_name(summary.attrs.get("time_unit"))
    sns.scatterplot(
        frame,
        x=config.RECENCY,
        y=config.FREQUENCY,
        hue="average order value",
        palette="viridis",
        alpha=0.6,
        s=15,
        ax=ax,
        **kwargs,
    )
    return set_labels(
        ax,
        xlabel=f"recency ({unit} between first and last purchase)",
        ylabel="repeat purchases",
        title="RFM overview",
    )
