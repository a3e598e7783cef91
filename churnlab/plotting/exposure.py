"""Customer exposure plot: each customer's observation window and last purchase.

After pymc-marketing's ``plot_customer_exposure``: one horizontal line per customer from the
first purchase to the end of observation, split at the last purchase (``recency``), so the
reader sees how long each customer has been watched and how long ago they last bought --
the two numbers every BTYD model's P(alive) rests on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from churnlab import config
from churnlab.data.validation import require_columns
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.plotting._common import get_axes, set_labels, unit_name

__all__ = ["plot_customer_exposure"]

_ACTIVE, _QUIET = "#1f77b4", "#ff7f0e"


def plot_customer_exposure(
    summary: pd.DataFrame,
    *,
    n: int | None = 50,
    align: str = "end",
    random_state: int | None = 0,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw one line per customer from first purchase to the end of observation.

    The line is solid blue from the first purchase to the last one (``recency``) and orange
    from the last purchase to the end of observation (``T - recency``, the time without a
    purchase); dots mark the first purchase, the last purchase and the end.

    Parameters
    ----------
    summary : pandas.DataFrame
        RFM summary with ``recency`` and ``T`` (:func:`churnlab.features.rfm_summary`);
        ``attrs["time_unit"]`` names the unit on the axis.
    n : int or None, default 50
        Customers to show, drawn at random (``random_state``) when there are more; None
        shows all. They are sorted by ``T`` then ``recency``, longest-observed at the top.
    align : {"end", "start"}, default "end"
        ``"end"``: the x axis is time before the end of observation (every line ends at 0,
        so customers who joined earlier start further left). ``"start"``: time since each
        customer's first purchase (every line starts at 0).
    random_state : int, optional
        Seed of the sample of customers.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure's when None.
    **kwargs
        Passed to both ``ax.hlines`` calls (e.g. ``linewidth``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    where = "plot_customer_exposure"
    require_columns(summary, [config.RECENCY, config.T], where=where)
    if align not in {"end", "start"}:
        raise ConfigError(f"align must be 'end' or 'start', got {align!r}.")
    if n is not None and (int(n) != n or n < 1):
        raise ConfigError(f"n must be a whole number of customers >= 1 (or None), got {n!r}.")
    if len(summary) == 0:
        raise DataValidationError(f"{where} got an empty summary; pass at least one customer.")
    data = summary[[config.RECENCY, config.T]].astype(float)
    bad = (
        ~np.isfinite(data).all(axis=1)
        | (data[config.RECENCY] > data[config.T])
        | (data < 0).any(axis=1)
    )
    if bad.any():
        raise DataValidationError(
            f"{where}: {int(bad.sum())} customer(s) have a missing or negative recency/T, or "
            f"recency > T (e.g. {list(data.index[bad][:3])}). Rebuild the summary with "
            "churnlab.features.rfm_summary()."
        )
    if n is not None and len(data) > n:
        data = data.sample(n=int(n), random_state=random_state)
    data = data.sort_values([config.T, config.RECENCY], kind="stable")
    recency, big_t = data[config.RECENCY].to_numpy(), data[config.T].to_numpy()
    start = -big_t if align == "end" else np.zeros_like(big_t)
    last, end = start + recency, start + big_t
    y = np.arange(len(data))
    ax = get_axes(ax, (8, 2 + 0.08 * len(data)))
    ax.hlines(y, start, last, color=_ACTIVE, label="first to last purchase", **kwargs)
    ax.hlines(y, last, end, color=_QUIET, label="since the last purchase", **kwargs)
    ax.scatter(start, y, color=_ACTIVE, s=8, zorder=3, label="first purchase")
    ax.scatter(last, y, color="black", s=10, zorder=3, label="last purchase")
    ax.scatter(end, y, color=_QUIET, s=8, zorder=3, label="end of observation")
    ax.set_yticks([])
    unit = unit_name(summary.attrs.get("time_unit"))
    xlabel = (
        f"Time relative to the end of observation ({unit}; 0 = end)"
        if align == "end"
        else f"Time since the first purchase ({unit})"
    )
    shown = (
        f"{len(data):,} of {len(summary):,} customers"
        if len(data) < len(summary)
        else (f"{len(data):,} customers")
    )
    return set_labels(
        ax,
        xlabel=xlabel,
        ylabel=f"Customer ({shown})",
        title="Customer exposure: first purchase, last purchase and end of observation",
        legend={"loc": "lower left", "fontsize": 8},
    )
