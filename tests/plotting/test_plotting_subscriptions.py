"""Every figure of the contractual pages has a title, labelled axes and draws the data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from churnlab.plotting import subscriptions as plots
from churnlab.report import subscriber_figures as figures
from churnlab.report.subscriber_value import subscriber_calculator
from churnlab.subscriptions.scoring import load_subscribers, score_subscribers


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(5)
    start = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 700, 300), unit="D")
    end = start + pd.to_timedelta(rng.exponential(400, 300).astype(int) + 10, unit="D")
    table = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(300)],
            "start": start,
            "end": end.where(end <= pd.Timestamp("2024-06-30")),
            "plan": np.where(np.arange(300) % 2, "Monthly", "Yearly"),
            "fee": 30.0,
        }
    )
    loaded = load_subscribers(table, customer_id="id", start="start", end="end", plan="plan",
                              revenue="fee", observation_end="2024-06-30")  # fmt: skip
    return score_subscribers(loaded)


def _axes(draw) -> list[plt.Axes]:
    plt.close("all")
    draw()
    return [ax for n in plt.get_fignums() for ax in plt.figure(n).axes]


FIGURES = {
    "tenure": lambda r: figures.tenure_figure(r),
    "survival": lambda r: figures.survival_figure(r),
    "survival by plan": lambda r: figures.survival_figure(r, by_plan=True),
    "cohorts": lambda r: figures.cohort_figure(r),
    "projection": lambda r: figures.projection_figure(r),
    "calculator": lambda r: figures.calculator_figure(subscriber_calculator(r)),
}


@pytest.mark.parametrize("name", FIGURES)
def test_figure_is_titled_and_labelled(result, name):
    axes = _axes(lambda: FIGURES[name](result))
    main = [ax for ax in axes if ax.get_label() != "<colorbar>"]
    assert len(main) == 1, name
    ax = main[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel(), name
    assert ax.lines or ax.patches or ax.collections, f"{name}: nothing drawn"
    if name == "cohorts":
        (bar,) = [a for a in axes if a.get_label() == "<colorbar>"]
        assert bar.get_ylabel() == "share of the cohort still subscribed"


def test_survival_curve_steps_through_the_kaplan_meier_values(result):
    ax = plots.plot_survival(result.survival)
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_ydata(), result.survival["survival"])
    by_plan = plots.plot_survival(result.survival_by_plan, by="plan", ax=plt.figure().gca())
    assert sorted(t.get_text() for t in by_plan.get_legend().get_texts()) == ["Monthly", "Yearly"]
    plt.close("all")


def test_figures_without_plans_or_dates_say_so():
    table = pd.DataFrame({"id": ["a", "b", "c"], "t": [1, 5, 14], "c": ["Yes", "No", "No"]})
    bare = score_subscribers(load_subscribers(table, customer_id="id", tenure="t", churned="c"))
    plt.close("all")
    note = figures.survival_figure(bare, by_plan=True)
    assert "no plans" in note.data and not plt.get_fignums()
    assert figures.cohort_figure(bare).data == "" and not plt.get_fignums()
    assert figures.calculator_figure(subscriber_calculator(bare)).data == ""
