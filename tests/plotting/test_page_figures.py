"""Every figure a stakeholder page draws has a title and labelled axes (checked before export)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from churnlab import retention, segments
from churnlab.data import load_transactions
from churnlab.plotting import models as model_plots
from churnlab.plotting import quality as quality_plots
from churnlab.plotting import segments as segment_plots
from churnlab.report import model_pages, narrative, quality
from churnlab.scoring import ScoringSettings, score


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(3)
    rows = []
    for c in range(400):
        start = int(rng.integers(0, 250))
        life = int(rng.integers(60, 300)) if c % 3 == 0 else 800
        days = start + np.cumsum(rng.exponential(35, size=40)).astype(int)
        rows += [
            (f"c{c}", pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(d)), 30.0 + c % 7)
            for d in days[(days < start + life) & (days < 730)]
        ]
    log = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    return score(load_transactions(log), ScoringSettings(random_state=0, currency="GBP"))


def _figures(draw) -> list[plt.Axes]:
    plt.close("all")
    draw()
    axes = [ax for number in plt.get_fignums() for ax in plt.figure(number).axes]
    assert axes, "nothing was drawn"
    return axes


def _is_colorbar(ax: plt.Axes) -> bool:
    return ax.get_label() == "<colorbar>"


PAGES = {
    "cleaning": lambda r: quality_plots.plot_cleaning_report(r.cleaning),
    "coverage": lambda r: quality_plots.plot_date_coverage(r.transactions),
    "monthly": lambda r: quality_plots.plot_monthly_activity(
        quality.monthly_activity(r.transactions)
    ),
    "orders": lambda r: quality_plots.plot_order_values(quality.order_values(r.transactions)),
    "segments": lambda r: segment_plots.plot_segment_sizes(r.customers),
    "health": lambda r: segment_plots.plot_health_tiers(r.customers),
    "value grid": lambda r: segment_plots.plot_value_at_risk_grid(narrative.value_grid(r)),
    "cohorts": lambda r: segment_plots.plot_cohort_heatmap(retention.cohort_matrix(r.transactions)),
    "tracking": lambda r: model_plots.plot_tracking(model_pages.holdout(r)),
    "calibration": lambda r: model_plots.plot_calibration_holdout(model_pages.holdout(r)),
    "clv": lambda r: model_plots.plot_clv_distribution(r.customers["clv"], log_scale=True),
    "backtest": lambda r: model_pages.backtest_figures(r),
    "drivers": lambda r: model_pages.drivers_table(r),
    "clusters": lambda r: segment_plots.plot_cluster_profiles(
        segments.customer_clusters(r.models["scoring"].features, random_state=0).profiles
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_figures_are_labelled(result, name: str) -> None:
    for ax in _figures(lambda: PAGES[name](result)):
        if _is_colorbar(ax):
            assert ax.get_ylabel() or ax.get_xlabel(), f"{name}: colour bar without a label"
            continue
        assert ax.get_title(), f"{name}: figure without a title"
        assert ax.get_xlabel() and ax.get_ylabel(), (
            f"{name}: unlabelled axis (x={ax.get_xlabel()!r}, y={ax.get_ylabel()!r})"
        )
    plt.close("all")
