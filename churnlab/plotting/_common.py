"""Private helpers shared by the plotting modules: axes creation, labels and tick formats."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.ticker import FuncFormatter, PercentFormatter

from churnlab.units import UNIT_NAMES


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


def _tick(value: float) -> str:
    """Say a tick value with thousands separators, or in millions and billions (``2.5M``)."""
    for size, suffix in ((1e9, "B"), (1e6, "M")):
        if abs(value) >= size:
            return f"{value / size:,.4g}{suffix}"
    return f"{value:,.0f}"


def thousands_axis(axis: Axis) -> None:
    """Format the ticks of ``axis`` (``ax.xaxis`` or ``ax.yaxis``) with thousands separators.

    From a million on, ticks are in millions (``2.5M``) or billions, so that seven of
    them fit side by side under a bar chart.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        The axis to format.
    """
    axis.set_major_formatter(FuncFormatter(lambda v, _: _tick(v)))


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
    return UNIT_NAMES[time_unit][1] if time_unit in UNIT_NAMES else "periods"


def figure_html(ax: Axes, *, alt: str = "") -> str:
    """Return the figure of ``ax`` as an inline PNG ``<img>`` and close it.

    For page layouts that place a figure beside a table (the notebook would
    otherwise show the figure again at the end of the cell).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Any axes of the figure.
    alt : str, default ""
        Text alternative of the image (defaults to the axes' title).

    Returns
    -------
    str
    """
    figure = ax.figure
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    text = html.escape(alt or ax.get_title(), quote=True)
    return f'<img src="data:image/png;base64,{data}" alt="{text}">'
