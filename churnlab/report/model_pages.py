"""What the lifetime-value and churn-classifier pages show, from the one scoring pass.

Figures of a model are drawn only when the model is healthy: a degenerate fit (for
example BG/NBD with no evidence of dropout, where P(alive) is about 1 for everyone)
is never shown as a finding; the page says why instead.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from IPython.display import Markdown

from churnlab import config
from churnlab.classifier.drivers import permutation_drivers
from churnlab.features.behaviour import FEATURE_DESCRIPTIONS
from churnlab.markup import escape_markdown
from churnlab.model_choice import model_health
from churnlab.models.evaluation import HoldoutReport, holdout_report
from churnlab.plotting import churn as churn_plots
from churnlab.plotting import models as model_plots
from churnlab.report.formatting import currency_prefix, format_money
from churnlab.report.tables import mask_ids, styled
from churnlab.scoring import ScoringResult
from churnlab.units import convert

__all__ = [
    "backtest_figures",
    "backtest_kpis",
    "backtest_labels",
    "churn_comparison_table",
    "clv_text",
    "drivers_table",
    "focus_customer_figure",
    "holdout",
    "model_comparison_table",
    "model_fit_figures",
    "parameter_table",
    "riskiest_table",
    "top_customers_table",
]


def model_comparison_table(result: ScoringResult) -> pd.io.formats.style.Styler:
    """Return the purchase models' holdout scores and health, with plain labels."""
    table = result.model_comparison.copy()
    table["healthy"] = table["healthy"].map({True: "yes", False: "no"})
    labels = {
        "holdout_mae": "Error per customer (MAE)",
        "holdout_rmse": "RMSE",
        "holdout_error_pct": "Error of the total, %",
        "roc_auc": "ROC AUC of P(no purchase)",
        "brier": "Brier score",
        "log_likelihood": "Log-likelihood",
        "aic": "AIC",
        "healthy": "Healthy fit",
        "problems": "Problems",
    }
    table = table[[c for c in labels if c in table]].rename(columns=labels)
    table.index.name = "Purchase model"
    return styled(table)


def holdout(result: ScoringResult) -> HoldoutReport:
    """Return the holdout evaluation of the chosen purchase model (fitted before the holdout)."""
    calibration, chosen = result.models["calibration"], result.kpis["transaction_model"]
    return holdout_report(
        calibration["models"][chosen],
        calibration["split"],
        transactions=calibration.get("transactions", result.transactions),
        calibration_end=calibration["calibration_end"],
        observation_end=result.kpis["observation_end"],
    )


def model_fit_figures(result: ScoringResult, *, max_frequency: int = 30) -> Markdown:
    """Draw the fit check and the P(alive) matrix of a healthy model; explain when unhealthy.

    The figures are drawn by :mod:`churnlab.plotting` on new figures, which the notebook's
    inline backend shows below the cell.
    """
    model = result.models["transaction"]
    name = escape_markdown(result.kpis["transaction_model"])
    if not model_health(model)[0]:
        return Markdown(
            f"The fit check and the probability-still-active chart of {name} are not shown: "
            "the fit is degenerate (see the note at the top), so they would show an artefact "
            "of the model, not a finding about customers."
        )
    summary = result.customers[[config.FREQUENCY, config.RECENCY, config.T]]
    summary.attrs["time_unit"] = result.settings.time_unit
    model_plots.plot_repeat_histogram(model, data=summary)
    model_plots.plot_probability_alive_matrix(model, data=summary, max_frequency=max_frequency)
    return Markdown(
        "Fit check (first chart): customers by number of repeat purchases, actual against what "
        f"{name} expects. Second chart: {name}'s probability that a customer is still active, "
        "by number of purchases (up) and time of the last purchase (right)."
    )


def clv_text(result: ScoringResult, *, top_share: float = 0.2) -> Markdown:
    """Say what the base is worth and how concentrated that value is."""
    clv = result.customers["clv"]
    n = max(1, int(len(clv) * top_share))
    share = clv.nlargest(n).sum() / clv.sum() if clv.sum() > 0 else 0.0
    cur = result.settings.currency
    return Markdown(
        f"Total projected value over {result.settings.clv_horizon_months} months: "
        f"**{format_money(clv.sum(), cur)}**. The top {top_share:.0%} of customers hold "
        f"**{share:.0%}** of it."
    )


def top_customers_table(
    result: ScoringResult, *, top: int = 15, mask: bool = False
) -> pd.io.formats.style.Styler:
    """Return the most valuable customers with their value interval, risk and expectations."""
    customers = result.customers.nlargest(top, "clv")
    months = result.settings.churn_horizon_months
    table = pd.DataFrame(
        {
            "Lifetime value": customers["clv"],
            "Low (90%)": customers["clv_lower"],
            "High (90%)": customers["clv_upper"],
            "Churn probability": customers["churn_probability"],
            f"Expected purchases, next {months:g} months": customers["expected_purchases"],
            "Expected spend per purchase": customers["expected_spend"],
            "Segment": customers["segment"],
        },
        index=mask_ids(customers.index, enabled=mask).rename("Customer"),
    )
    return styled(
        table,
        money=["Lifetime value", "Low (90%)", "High (90%)", "Expected spend per purchase"],
        percent=["Churn probability"],
        currency=currency_prefix(result.settings.currency),
    )


def focus_customer_figure(result: ScoringResult, *, mask: bool = False) -> Markdown:
    """Follow the valuable customer most at risk: purchases and the model's P(alive) over time."""
    model = result.models["transaction"]
    listed = result.customers[result.customers["action"].notna()]
    if listed.empty or not model_health(model)[0]:
        return Markdown("")
    focus = listed["revenue_at_risk"].idxmax()
    window = convert(result.settings.churn_horizon_months, "M", result.settings.time_unit)
    ax = model_plots.plot_probability_alive_history(
        model,
        transactions=result.transactions,
        customer_id=focus,
        observation_end=result.kpis["observation_end"],
        horizon=window,
    )
    ax.set_title(f"Purchases and P(alive) of {mask_ids(pd.Index([focus]), enabled=mask)[0]}")
    return Markdown(
        "The customer with the most revenue at risk on the action list: each dotted line is a "
        "purchase; the curves are the model's probability that they are still active and that "
        "they buy within the churn horizon. Both fall while the customer stays silent for "
        "longer than their usual rhythm."
    )


_CHURN_LABELS = {
    "n": "Customers",
    "churn_rate": "Churn rate",
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "brier": "Brier score",
    "ece": "Calibration error",
    "top_decile_lift": "Lift, riskiest 10%",
    "top_decile_capture": "Churners in riskiest 10%",
}


def churn_comparison_table(result: ScoringResult) -> pd.io.formats.style.Styler | Markdown:
    """Return the backtest of the churn classifier against the purchase model, labelled."""
    table = result.churn_comparison
    if table.empty:
        return Markdown("The history is too short for a backtest of the churn scores.")
    table = table[list(_CHURN_LABELS)].rename(columns=_CHURN_LABELS)
    table.index = ["Churn classifier" if i == "classifier" else str(i) for i in table.index]
    table.index.name = "Churn score"
    return styled(table, percent=["Churn rate", "Calibration error", "Churners in riskiest 10%"])


def backtest_labels(result: ScoringResult) -> pd.io.formats.style.Styler | Markdown:
    """Return the backtest's cutoffs with their customers and churn rates."""
    backtest = result.models.get("backtest")
    if backtest is None:
        return Markdown("")
    train = backtest.train_labels.groupby(level="cutoff").agg(["size", "mean"])
    test = backtest.test_labels.agg(["size", "mean"]).to_frame(backtest.settings["test_cutoff"]).T
    table = pd.concat({"training": train, "test": test})
    table.columns = ["Customers", "Churn rate"]
    table.index.names = ["Snapshot", "Cutoff"]
    return styled(table, percent=["Churn rate"])


def backtest_figures(result: ScoringResult) -> Markdown:
    """Draw calibration, lift and gains of both churn scores on the backtest customers."""
    backtest = result.models.get("backtest")
    if backtest is None:
        return Markdown("")
    churn_plots.plot_calibration(backtest.test_labels, backtest.scores)
    churn_plots.plot_lift(backtest.test_labels, backtest.scores)
    churn_plots.plot_gains(backtest.test_labels, backtest.scores)
    return Markdown(
        "**Calibration** (first chart): points on the dashed line mean a predicted 30% really "
        "churns 30% of the time. **Lift**: churn rate of each tenth of customers, riskiest "
        "first, relative to the average. **Gains**: share of all churners found when "
        "contacting the riskiest customers first."
    )


def drivers_table(result: ScoringResult, *, top: int = 10) -> pd.io.formats.style.Styler:
    """Rank the classifier's features by how much ROC AUC falls when each is shuffled."""
    backtest = result.models["backtest"]
    drivers = permutation_drivers(
        backtest.classifier,
        backtest.test_features,
        backtest.test_labels,
        n_repeats=2,
        random_state=result.settings.random_state,
    )
    churn_plots.plot_churn_drivers(drivers, labels=FEATURE_DESCRIPTIONS)
    table = drivers.head(top)
    described = [FEATURE_DESCRIPTIONS.get(f, f.replace("_", " ")) for f in table.index]
    table = pd.DataFrame(
        {"Drop in ROC AUC when shuffled (points)": 100 * table.iloc[:, 0].to_numpy()},
        index=pd.Index(described, name="What the classifier looks at"),
    )
    return styled(table, decimals=1)


def riskiest_table(
    result: ScoringResult, *, top: int = 15, mask: bool = False
) -> pd.io.formats.style.Styler:
    """Return today's customers most likely to churn, with their reasons in words."""
    riskiest = result.customers.sort_values(
        ["churn_probability", "clv"], ascending=False, kind="stable"
    ).head(top)
    table = pd.DataFrame(
        {
            "Churn probability": riskiest["churn_probability"],
            "Lifetime value": riskiest["clv"],
            "Reason 1": riskiest["reason_1"],
            "Reason 2": riskiest["reason_2"],
            "Reason 3": riskiest["reason_3"],
        },
        index=mask_ids(riskiest.index, enabled=mask).rename("Customer"),
    )
    return styled(
        table,
        money=["Lifetime value"],
        percent=["Churn probability"],
        currency=currency_prefix(result.settings.currency),
    )


def backtest_kpis(result: ScoringResult) -> dict[str, float]:
    """Return the backtest's headline numbers for the report index."""
    table = result.churn_comparison
    if table.empty:
        return {}
    other = next(i for i in table.index if i != "classifier")
    return {
        "classifier_roc_auc": round(float(table.loc["classifier", "roc_auc"]), 4),
        "transaction_model_roc_auc": round(float(table.loc[other, "roc_auc"]), 4),
        "classifier_brier": round(float(table.loc["classifier", "brier"]), 4),
        "transaction_model_brier": round(float(table.loc[other, "brier"]), 4),
    }


def parameter_table(model: Any) -> pd.io.formats.style.Styler:
    """Return a fitted model's parameters with their intervals, rounded for people.

    Values below 0.005 are shown as "≈ 0" (a parameter at its boundary), never in
    scientific notation.
    """
    summary = getattr(model, "summary_", None)
    if summary is None:
        summary = model.params_.to_frame("estimate")
    labels = {
        "estimate": "Estimate",
        "std_error": "Standard error",
        "lower_95": "95% interval from",
        "upper_95": "95% interval to",
    }
    table = summary[[c for c in labels if c in summary]].rename(columns=labels)
    shown = table.map(lambda v: "≈ 0" if pd.notna(v) and abs(v) < 0.005 else v)
    shown.index = [str(i).replace("_", " ") for i in shown.index]
    shown.index.name = f"{type(model).__name__} parameter"
    return styled(shown)
