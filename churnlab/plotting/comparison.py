"""Plot of a model comparison table (:func:`churnlab.models.comparison.compare_models`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from churnlab.data.validation import require_columns
from churnlab.exceptions import ConfigError
from churnlab.plotting._common import get_axes, set_labels

__all__ = ["plot_model_comparison"]

#: Metric -> (axis label with its unit, higher is better).
METRICS: dict[str, tuple[str, bool]] = {
    "holdout_mae": ("Mean absolute error of holdout purchases (purchases per customer)", False),
    "holdout_rmse": (
        "Root mean squared error of holdout purchases (purchases per customer)",
        False,
    ),
    "holdout_error_pct": ("Error of the total holdout purchases (% of actual)", False),
    "roc_auc": ("ROC AUC of P(no purchase in the holdout) (0.5 = chance, 1 = perfect)", True),
    "brier": ("Brier score of P(no purchase in the holdout) (squared probability error)", False),
    "aic": ("AIC on the calibration period (log-likelihood units)", False),
    "bic": ("BIC on the calibration period (log-likelihood units)", False),
    "log_likelihood": ("Log-likelihood on the calibration period", True),
}
_HEALTHY, _UNHEALTHY = "#1f77b4", "#b0b0b0"


def plot_model_comparison(
    table: pd.DataFrame, *, metric: str = "holdout_mae", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Draw one horizontal bar per model for ``metric``, healthy fits in colour.

    Each bar is annotated with the model's AIC difference from the best AIC and its ROC AUC,
    and the model with the best value of ``metric`` is marked "best" (unhealthy fits are
    grey and never marked).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`~churnlab.models.comparison.compare_models`.
    metric : str, default "holdout_mae"
        A numeric column of the table: ``holdout_mae``, ``holdout_rmse``,
        ``holdout_error_pct``, ``roc_auc``, ``brier``, ``aic``, ``bic`` or ``log_likelihood``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure's when None.
    **kwargs
        Passed to ``ax.barh``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {list(METRICS)}, got {metric!r}.")
    require_columns(table, [metric, "healthy"], where="plot_model_comparison")
    scored = table[table[metric].notna()]
    if scored.empty:
        raise ConfigError(f"plot_model_comparison: no model has a value of {metric!r} to plot.")
    label, higher = METRICS[metric]
    values = scored[metric].astype(float)
    healthy = scored["healthy"].astype(bool).to_numpy()
    ax = get_axes(ax, (8, 1.2 + 0.6 * len(scored)))
    y = np.arange(len(scored))[::-1]
    colours = [_HEALTHY if ok else _UNHEALTHY for ok in healthy]
    ax.barh(y, values.to_numpy(), color=colours, **kwargs)
    ax.set_yticks(y, [str(n) for n in scored.index])
    pool = values[healthy] if healthy.any() else values
    best = pool.idxmax() if higher else pool.idxmin()
    aic = scored["aic"].astype(float) if "aic" in scored else None
    for pos, (name, value) in zip(y, values.items(), strict=True):
        notes = []
        if aic is not None and np.isfinite(aic[name]):
            notes.append(f"ΔAIC {aic[name] - aic.min():,.1f}")
        if "roc_auc" in scored and metric != "roc_auc" and np.isfinite(scored.at[name, "roc_auc"]):
            notes.append(f"AUC {scored.at[name, 'roc_auc']:.3f}")
        if name == best and healthy.any():
            notes.insert(0, "best")
        text = f" {value:,.3f}" + (f"  ({', '.join(notes)})" if notes else "")
        ax.text(value, pos, text, va="center", ha="left" if value >= 0 else "right", fontsize=9)
    ax.set_xlim(right=ax.get_xlim()[1] * 1.35 if values.max() > 0 else None)
    handles = [
        Patch(color=_HEALTHY, label="healthy fit"),
        Patch(color=_UNHEALTHY, label="unhealthy fit"),
    ]
    better = "higher is better" if higher else "lower is better"
    period = "calibration" if metric in {"aic", "bic", "log_likelihood"} else "holdout"
    return set_labels(
        ax,
        xlabel=f"{label}; {better}",
        ylabel="Model",
        title=f"Transaction models compared on the {period} period",
        legend={"handles": handles, "loc": "lower right", "fontsize": 8},
    )
