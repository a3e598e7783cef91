"""Tests of churnlab.plotting.comparison: the Axes content, not pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError
from churnlab.plotting.comparison import plot_model_comparison


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture()
def table() -> pd.DataFrame:
    # The shape of compare_models' output (values invented for the plot).
    return pd.DataFrame(
        {
            "aic": [18317.7, 18301.3, 18304.2, np.nan],
            "holdout_mae": [0.762, 0.731, 0.719, np.nan],
            "roc_auc": [0.764, 0.775, 0.778, np.nan],
            "healthy": [True, True, False, False],
        },
        index=pd.Index(["BG/NBD", "MBG/NBD", "Pareto/NBD", "broken"], name="model"),
    )


def test_bars_labels_and_best_marker(table):
    ax = plot_model_comparison(table)
    assert ax.get_title() == "Transaction models compared on the holdout period"
    assert ax.get_xlabel() == (
        "Mean absolute error of holdout purchases (purchases per customer); lower is better"
    )
    assert ax.get_ylabel() == "Model"
    bars = ax.patches
    assert len(bars) == 3  # the failed fit has no score
    np.testing.assert_allclose(sorted(b.get_width() for b in bars), [0.719, 0.731, 0.762])
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["BG/NBD", "MBG/NBD", "Pareto/NBD"]
    texts = {t.get_text() for t in ax.texts}
    # Pareto/NBD has the lowest error but is unhealthy: MBG/NBD is marked best.
    assert " 0.731  (best, ΔAIC 0.0, AUC 0.775)" in texts
    assert " 0.719  (ΔAIC 2.9, AUC 0.778)" in texts
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["healthy fit", "unhealthy fit"]


def test_other_metric_and_errors(table):
    ax = plot_model_comparison(table, metric="aic")
    assert ax.get_title() == "Transaction models compared on the calibration period"
    assert ax.get_xlabel().endswith("; lower is better")
    ax = plot_model_comparison(table, metric="roc_auc")
    assert ax.get_xlabel().endswith("; higher is better")
    with pytest.raises(ConfigError, match="metric must be one of"):
        plot_model_comparison(table, metric="accuracy")
    with pytest.raises(ConfigError, match="no model has a value"):
        plot_model_comparison(table.assign(holdout_mae=np.nan))
