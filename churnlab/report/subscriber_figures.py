"""The figures of the contractual pages, drawn from the run's one contractual scoring pass.

Each function draws its figure (shown by the notebook's inline backend) and returns a
Markdown note: empty when the figure was drawn, or the reason it could not be (a table
without plans or start dates), so a page never branches on the data itself.
"""

from __future__ import annotations

from IPython.display import Markdown

from churnlab.plotting import subscriptions as plots
from churnlab.report.formatting import currency_prefix
from churnlab.report.subscriber_pages import cohort_table
from churnlab.report.subscriber_value import Calculator
from churnlab.subscriptions.scoring import SubscriberResult

__all__ = [
    "calculator_figure",
    "cohort_figure",
    "projection_figure",
    "survival_figure",
    "tenure_figure",
]


def survival_figure(result: SubscriberResult, *, by_plan: bool = False) -> Markdown:
    """Draw the Kaplan-Meier curve with its interval (per plan with ``by_plan``)."""
    unit = result.kpis.get("tenure_unit", "M")
    if not by_plan:
        plots.plot_survival(result.survival, time_unit=unit)
        return Markdown("")
    if result.survival_by_plan is None:
        return Markdown("*The table has no plans, so there is one curve only (above).*")
    plots.plot_survival(result.survival_by_plan, time_unit=unit, by="plan")
    return Markdown("")


def tenure_figure(result: SubscriberResult) -> Markdown:
    """Draw how long subscribers have stayed so far, still active and left."""
    plots.plot_tenure(result.customers, time_unit=result.kpis.get("tenure_unit", "M"))
    return Markdown("")


def cohort_figure(result: SubscriberResult) -> Markdown:
    """Draw the survival of each start cohort (nothing for a table without start dates)."""
    matrix = cohort_table(result)
    if matrix is None:
        return Markdown("")
    plots.plot_cohort_survival(matrix, time_unit=result.kpis.get("tenure_unit", "M"))
    return Markdown("")


def projection_figure(result: SubscriberResult) -> Markdown:
    """Draw the sBG projection next to the observed survival."""
    plots.plot_projection(result.projection, time_unit=result.kpis.get("tenure_unit", "M"))
    return Markdown("")


def calculator_figure(calc: Calculator | None) -> Markdown:
    """Draw the value per new subscriber by year, as today and with auto-renewal."""
    if calc is None:
        return Markdown("")
    plots.plot_value_by_year(calc.what_if, currency=currency_prefix(calc.currency))
    return Markdown("")
