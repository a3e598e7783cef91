"""Plots of fitted transaction models, holdout evaluations and customer lifetime value.

Every function draws on ``ax`` (a new figure's axes when None), passes
``**kwargs`` to the main matplotlib call and returns the Axes. None of them
calls ``show()`` or saves a file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from churnlab import config
from churnlab.data.validation import require_columns
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.plotting._common import date_axis, get_axes, set_labels, unit_name
from churnlab.units import check_unit

__all__ = [
    "plot_calibration_holdout",
    "plot_clv_distribution",
    "plot_frequency_recency_matrix",
    "plot_probability_alive_history",
    "plot_probability_alive_matrix",
    "plot_repeat_histogram",
    "plot_tracking",
]


def _unit_name(model: Any) -> str:
    """Readable name of the model's time unit ("periods" when unknown)."""
    return unit_name(getattr(model, "time_unit_", None))


def _grid(
    max_frequency: int | None, max_recency: float | None, data: pd.DataFrame | None
) -> tuple[int, int]:
    """Matrix extent from explicit limits, else from ``data``, else (20, 52)."""
    if data is not None:
        require_columns(data, [config.FREQUENCY, config.T], where="frequency/recency matrix")
        max_frequency = max_frequency or int(data[config.FREQUENCY].max())
        max_recency = max_recency or float(data[config.T].max())
    return int(max_frequency or 20), int(np.ceil(max_recency or 52))


def _matrix(model: Any, values: str, max_frequency: int, max_recency: int, t: float) -> np.ndarray:
    """Model output on the (frequency x recency) grid with T = max_recency.

    Cells that cannot occur (repeat purchases with recency 0) are NaN (left blank);
    customers without a repeat purchase have recency 0 whatever the column.
    """
    freq, rec = np.meshgrid(np.arange(max_frequency + 1), np.arange(max_recency + 1), indexing="ij")
    freq, rec = freq.ravel().astype(float), rec.ravel().astype(float)
    valid = (freq == 0) | (rec > 0)
    grid = pd.DataFrame(
        {
            config.FREQUENCY: freq[valid],
            config.RECENCY: np.where(freq == 0, 0.0, rec)[valid],
            config.T: float(max_recency),
        }
    )
    if values == "expected":
        out = model.expected_purchases(grid, t)
    else:
        out = model.probability_alive(grid)
    matrix = np.full(freq.shape, np.nan)
    matrix[valid] = np.asarray(out, dtype=float)
    return matrix.reshape(max_frequency + 1, max_recency + 1)


def _draw_matrix(
    matrix: np.ndarray, ax: Axes, title: str, colorbar: str, unit: str, **kwargs: Any
) -> Axes:
    kwargs.setdefault("cmap", "viridis")
    image = ax.imshow(matrix, origin="lower", aspect="auto", interpolation="none", **kwargs)
    ax.figure.colorbar(image, ax=ax, label=colorbar)
    xlabel = f"Recency: time of last purchase ({unit} since first)"
    return set_labels(ax, xlabel=xlabel, ylabel="Frequency: repeat purchases", title=title)


def plot_frequency_recency_matrix(
    model: Any,
    *,
    t: float = 1.0,
    max_frequency: int | None = None,
    max_recency: float | None = None,
    data: pd.DataFrame | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Heat map of expected purchases in the next ``t`` periods by frequency and recency.

    Parameters
    ----------
    model : BetaGeoModel, ParetoNBDModel or ModifiedBetaGeoModel
        A fitted transaction model.
    t : float, default 1.0
        Horizon, in the model's time unit.
    max_frequency, max_recency : optional
        Extent of the matrix; default from ``data`` or 20 purchases x 52 periods.
        Customers are assumed observed for ``T = max_recency``.
    data : pandas.DataFrame, optional
        RFM summary used to set the extent.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    **kwargs
        Passed to ``ax.imshow``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    max_f, max_r = _grid(max_frequency, max_recency, data)
    matrix = _matrix(model, "expected", max_f, max_r, t)
    unit = _unit_name(model)
    title = f"Expected purchases in the next {t:.3g} {unit}"
    return _draw_matrix(matrix, get_axes(ax), title, "expected purchases", unit, **kwargs)


def plot_probability_alive_matrix(
    model: Any,
    *,
    max_frequency: int | None = None,
    max_recency: float | None = None,
    data: pd.DataFrame | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Heat map of the probability that a customer is still active, by frequency and recency.

    Parameters
    ----------
    model : BetaGeoModel, ParetoNBDModel or ModifiedBetaGeoModel
        A fitted transaction model.
    max_frequency, max_recency : optional
        Extent of the matrix; default from ``data`` or 20 purchases x 52 periods.
    data : pandas.DataFrame, optional
        RFM summary used to set the extent.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    **kwargs
        Passed to ``ax.imshow``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    max_f, max_r = _grid(max_frequency, max_recency, data)
    matrix = _matrix(model, "alive", max_f, max_r, 0.0)
    kwargs.setdefault("vmin", 0.0)
    kwargs.setdefault("vmax", 1.0)
    title = "Probability that the customer is still active"
    return _draw_matrix(matrix, get_axes(ax), title, "P(alive)", _unit_name(model), **kwargs)


def _table(obj: Any, attribute: str, columns: list[str], where: str) -> pd.DataFrame:
    """Take ``obj.<attribute>`` from a HoldoutReport, or ``obj`` itself when a DataFrame."""
    table = getattr(obj, attribute, obj) if not isinstance(obj, pd.DataFrame) else obj
    if table is None:
        raise DataValidationError(
            f"{where} needs the tracking curve, but the report has none. "
            "Pass transactions= to holdout_report()."
        )
    require_columns(table, columns, where=where)
    return table


def plot_calibration_holdout(report: Any, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Mean actual vs predicted holdout purchases per calibration-frequency bucket.

    Parameters
    ----------
    report : HoldoutReport or pandas.DataFrame
        A :func:`churnlab.models.evaluation.holdout_report` result or its
        ``conditional`` table (``actual``, ``predicted`` indexed by bucket).
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    **kwargs
        Passed to both ``ax.plot`` calls.

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = _table(report, "conditional", ["actual", "predicted"], "plot_calibration_holdout")
    ax = get_axes(ax)
    x = np.arange(len(table))
    ax.plot(x, table["actual"], marker="o", label="actual", **kwargs)
    ax.plot(x, table["predicted"], marker="o", linestyle="--", label="model", **kwargs)
    ax.set_xticks(x, [str(i) for i in table.index])
    return set_labels(
        ax,
        xlabel="Repeat purchases in the calibration period",
        ylabel="Average purchases in the holdout period",
        title="Actual vs predicted holdout purchases",
        legend=True,
    )


def plot_tracking(report: Any, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Cumulative repeat purchases over time, actual vs model, with the calibration end marked.

    Parameters
    ----------
    report : HoldoutReport or pandas.DataFrame
        A holdout report with a tracking curve, or the output of
        :func:`churnlab.models.evaluation.tracking_curve`.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    **kwargs
        Passed to both ``ax.plot`` calls.

    Returns
    -------
    matplotlib.axes.Axes
    """
    curve = _table(report, "tracking", ["date", "actual", "predicted"], "plot_tracking")
    ax = get_axes(ax)
    ax.plot(curve["date"], curve["actual"], label="actual", **kwargs)
    ax.plot(curve["date"], curve["predicted"], linestyle="--", label="model", **kwargs)
    if "in_calibration" in curve and not curve["in_calibration"].all():
        end = curve.loc[curve["in_calibration"], "date"].max()
        ax.axvline(end, color="grey", linestyle=":", label="end of calibration")
    date_axis(ax)
    title = "Tracking: cumulative repeat purchases"
    return set_labels(
        ax, xlabel="Date", ylabel="Cumulative repeat purchases", title=title, legend=True
    )


def plot_repeat_histogram(
    model: Any,
    *,
    data: pd.DataFrame,
    max_frequency: int = 7,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot the number of customers by repeat purchases, actual vs expected by the model.

    The model count for ``n`` is ``sum_i P(X(T_i) = n)`` with each customer's own
    observation time ``T_i`` (``probability_of_purchases``); the last bar
    gathers ``max_frequency`` or more.

    Parameters
    ----------
    model : BetaGeoModel, ParetoNBDModel or ModifiedBetaGeoModel
        The fitted model.
    data : pandas.DataFrame
        The RFM summary it was fitted on (``frequency``, ``T``).
    max_frequency : int, default 7
        Last bar (``"7+"``).
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    **kwargs
        Passed to both ``ax.bar`` calls.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if max_frequency < 1:
        raise ConfigError(f"max_frequency must be at least 1, got {max_frequency!r}.")
    require_columns(data, [config.FREQUENCY, config.T], where="plot_repeat_histogram")
    observed = np.minimum(data[config.FREQUENCY].to_numpy(dtype=float), max_frequency)
    actual = np.bincount(observed.astype(int), minlength=max_frequency + 1)
    times, counts = np.unique(data[config.T].to_numpy(dtype=float), return_counts=True)
    n = np.arange(max_frequency)
    probs = np.asarray(model.probability_of_purchases(n[:, None], times[None, :]), dtype=float)
    expected = probs @ counts
    expected = np.append(expected, max(len(data) - expected.sum(), 0.0))
    x = np.arange(max_frequency + 1)
    ax = get_axes(ax)
    ax.bar(x - 0.2, actual, width=0.4, label="actual", **kwargs)
    ax.bar(x + 0.2, expected, width=0.4, label="model", **kwargs)
    ax.set_xticks(x, [*map(str, n), f"{max_frequency}+"])
    title = "Repeat purchases per customer: actual vs model"
    return set_labels(
        ax, xlabel="Repeat purchases per customer", ylabel="Customers", title=title, legend=True
    )


def plot_clv_distribution(
    clv: pd.DataFrame | pd.Series,
    *,
    bins: int = 50,
    log_scale: bool = False,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Histogram of customer lifetime values with the median and mean marked.

    Parameters
    ----------
    clv : pandas.DataFrame or pandas.Series
        Output of :func:`churnlab.models.clv.customer_lifetime_value` (column
        ``clv``) or a Series of values.
    bins : int, default 50
        Histogram bins.
    log_scale : bool, default False
        Log-scale the value axis (CLV is usually very skewed).
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    **kwargs
        Passed to ``ax.hist``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if isinstance(clv, pd.DataFrame):
        require_columns(clv, ["clv"], where="plot_clv_distribution")
        clv = clv["clv"]
    values = np.asarray(clv, dtype=float)
    values = values[np.isfinite(values)]
    ax = get_axes(ax)
    edges: Any = bins
    if log_scale:
        positive = values[values > 0]
        low, high = (positive.min(), positive.max()) if len(positive) else (1.0, 10.0)
        edges = np.geomspace(low, max(high, low * 1.01), bins + 1)
        ax.set_xscale("log")
    ax.hist(values, bins=edges, label="customers", **kwargs)
    ax.axvline(np.median(values), color="black", linestyle="--", label="median")
    ax.axvline(np.mean(values), color="red", linestyle=":", label="mean")
    title = "Distribution of customer lifetime value"
    return set_labels(
        ax, xlabel="Customer lifetime value", ylabel="Customers", title=title, legend=True
    )


def plot_probability_alive_history(
    model: Any,
    *,
    transactions: Any,
    customer_id: Any,
    observation_end: str | pd.Timestamp | None = None,
    horizon: float | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot one customer's probability of being alive over time, with their purchases marked.

    At the end of every model period from the first purchase on, the customer's
    frequency, recency and age are recomputed from the purchases made so far
    (merged per period, as in the RFM summary) and scored with
    ``probability_alive``.

    Parameters
    ----------
    model : BetaGeoModel, ParetoNBDModel or ModifiedBetaGeoModel
        Fitted model with a known ``time_unit_``.
    transactions : pandas.DataFrame or LoadedTransactions
        Transaction log with ``customer_id`` and ``date``.
    customer_id : object
        The customer to show.
    observation_end : str or Timestamp, optional
        Last date; default the last date in ``transactions``.
    horizon : float, optional
        Also draw the probability of at least one purchase in the next
        ``horizon`` periods (``1 - probability_no_purchase``), in model units.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    unit = check_unit(getattr(model, "time_unit_", None), name="model.time_unit_")
    frame = getattr(transactions, "data", transactions)
    require_columns(
        frame, [config.CUSTOMER_ID, config.DATE], where="plot_probability_alive_history"
    )
    dates = pd.to_datetime(frame[config.DATE])
    end = pd.Timestamp(observation_end) if observation_end else dates.max()
    mine = dates[(frame[config.CUSTOMER_ID] == customer_id).to_numpy() & (dates <= end).to_numpy()]
    if mine.empty:
        raise DataValidationError(
            f"plot_probability_alive_history: customer {customer_id!r} has no purchase on or "
            f"before {end.date()}. Pick a customer_id from the transactions."
        )
    bought = np.unique(pd.PeriodIndex(mine, freq=unit).asi8)
    first = int(bought[0])
    periods = np.arange(first, pd.Period(end, freq=unit).ordinal + 1)
    n_bought = np.searchsorted(bought, periods, side="right")
    history = pd.DataFrame(
        {
            config.FREQUENCY: (n_bought - 1).astype(float),
            config.RECENCY: (bought[n_bought - 1] - first).astype(float),
            config.T: (periods - first).astype(float),
        }
    )
    alive = np.asarray(model.probability_alive(history), dtype=float)
    when = pd.PeriodIndex.from_ordinals(periods, freq=unit).start_time
    ax = get_axes(ax)
    ax.plot(when, alive, label="P(alive)", **kwargs)
    if horizon is not None:
        buys = 1 - np.asarray(model.probability_no_purchase(history, horizon), dtype=float)
        buys_label = f"P(buys in the next {horizon:.0f} {_unit_name(model)})"
        ax.plot(when, buys, linestyle="--", label=buys_label, **kwargs)
    for i, day in enumerate(sorted(mine.unique())):
        ax.axvline(
            day, color="grey", linestyle=":", alpha=0.7, label="purchase" if i == 0 else None
        )
    ax.set_ylim(0, 1.05)
    date_axis(ax)
    title = f"P(alive) history of customer {customer_id}"
    return set_labels(ax, xlabel="Date", ylabel="Probability", title=title, legend=True)
