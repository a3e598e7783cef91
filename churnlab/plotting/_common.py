"""Private helpers shared by the plotting modules: axes creation, labels and tick formats."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.ticker import FuncFormatter, PercentFormatter

_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months"}


def get_axes(ax: Axes | None, size: tuple[float, float] | None = None) -> Axes:
    """Return ``ax``, or the axes of a new figure of ``size`` (matplotlib's default when None).

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        Axes given by the caller.
    size : tuple of float, optional
        Figure size in inches for a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def set_labels(
    ax: Axes,
    *,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    legend: bool | Mapping[str, Any] = False,
) -> Axes:
    """Set the axis labels and title given (None leaves one as it is) and draw a legend.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes to label.
    xlabel, ylabel, title : str, optional
        Text to set; an empty string clears it.
    legend : bool or mapping, default False
        True draws ``ax.legend()``; a mapping is passed to ``ax.legend`` as keywords.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    if isinstance(legend, Mapping):
        ax.legend(**legend)
    elif legend:
        ax.legend()
    return ax


def thousands_axis(axis: Axis) -> None:
    """Format the ticks of ``axis`` (``ax.xaxis`` or ``ax.yaxis``) with thousands separators.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        The axis to format.
    """
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def percent_axis(axis: Axis) -> None:
    """Format the ticks of ``axis`` as percentages of 1.0.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        The axis to format.
    """
    axis.set_major_formatter(PercentFormatter(1.0))


def date_axis(ax: Axes) -> None:
    """Use compact, non-overlapping date tick labels on the x axis.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes whose x axis holds dates.
    """
    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def unit_name(time_unit: Any) -> str:
    """Readable name of a time unit code ("periods" when unknown).

    Parameters
    ----------
    time_unit : object
        ``"D"``, ``"W"``, ``"M"`` or anything else.

    Returns
    -------
    str
    """
    return _UNIT_NAMES.get(time_unit, "periods")
