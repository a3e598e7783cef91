import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from churnlab.plotting.segments import (
    plot_cluster_profiles,
    plot_cohort_heatmap,
    plot_health_tiers,
    plot_segment_sizes,
    plot_value_loyalty_grid,
)
from churnlab.retention import cohort_matrix
from churnlab.segments import health_tiers, value_loyalty_grid, value_loyalty_summary


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_segment_sizes():
    segments = pd.DataFrame({"segment": pd.Categorical(["Lost", "New", "New"])}, index=list("abc"))
    ax = plot_segment_sizes(segments)
    assert [p.get_width() for p in ax.patches] == [2, 1]
    _, given = plt.subplots()
    assert (
        plot_segment_sizes(segments, value=pd.Series([1.0, 2, 3], index=list("abc")), ax=given)
        is given
    )


def test_health_and_grid():
    p = pd.Series(np.linspace(0.05, 0.95, 20), index=[f"c{i}" for i in range(20)])
    assert plot_health_tiers(health_tiers(p)).get_title()
    grid = value_loyalty_grid(pd.Series(np.arange(20.0), index=p.index), p)
    ax = plot_value_loyalty_grid(value_loyalty_summary(grid))
    assert ax.get_xlabel() == "churn risk"


def test_cohort_heatmap(tiny_transactions):
    ax = plot_cohort_heatmap(cohort_matrix(tiny_transactions))
    assert "Cohort retention" in ax.get_title()
    assert plot_cohort_heatmap(cohort_matrix(tiny_transactions, values="revenue", normalize=False))


def test_cluster_profiles():
    profiles = pd.DataFrame({"customers": [5, 7], "share": [0.4, 0.6], "frequency": [1.0, 4.0]})
    assert plot_cluster_profiles(profiles).get_title()
