"""Which models the scoring pass uses, decided on evidence, with the reasons written down.

* The **transaction model**: BG/NBD (Fader, Hardie & Lee 2005), MBG/NBD (Batislam,
  Denizel & Filiztekin 2007) and Pareto/NBD (Schmittlein, Morrison & Colombo 1987) are
  fitted on a calibration period and scored on the holdout that follows it. The
  healthy model with the lowest mean absolute error of holdout purchases per customer
  is chosen and refitted on the whole log.
* The **spend model**: Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV") when its
  fit is healthy, else :class:`~churnlab.models.shrunk_spend.ShrunkMeanSpend`.
* The **churn probability**: the classifier's or the chosen transaction model's
  P(no purchase in the horizon), whichever scores better on a time-split backtest on
  the same customers and label (ROC AUC and Brier score; Brier decides a split vote,
  since the probabilities weight money).

Every problem becomes a plain-English caveat that the pages show.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.classifier.backtest import backtest, backtest_cutoffs
from churnlab.classifier.metrics import evaluate_churn_scores
from churnlab.classifier.sampled import classifier_for
from churnlab.config import FREQUENCY, MONETARY_VALUE, RECENCY, T
from churnlab.exceptions import ChurnlabError
from churnlab.features.rfm import calibration_holdout_split
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.comparison import best_model, comparison_table, fit_models
from churnlab.models.gamma_gamma import GammaGammaModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel
from churnlab.models.pareto_nbd import ParetoNBDModel
from churnlab.models.shrunk_spend import ShrunkMeanSpend

__all__ = [
    "TRANSACTION_MODELS",
    "choose_churn_source",
    "compare_transaction_models",
    "model_health",
    "spend_model",
]

#: Candidate transaction models, in the order they are shown.
TRANSACTION_MODELS: dict[str, type] = {
    "BG/NBD": BetaGeoModel,
    "MBG/NBD": ModifiedBetaGeoModel,
    "Pareto/NBD": ParetoNBDModel,
}


def model_health(model: Any) -> tuple[bool, list[str]]:
    """Return whether a fitted model is healthy and its problems in words.

    Models without a ``health_`` (the shrunk-mean spend fallback) count as healthy.
    """
    health = getattr(model, "health_", None)
    if health is None:
        return True, []
    return bool(health.ok), list(health.problems)


def _fit(cls: type, summary: pd.DataFrame, settings: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(penalizer=settings.penalizer).fit(summary, time_unit=settings.time_unit)


def model_name(model: Any) -> str:
    """Return the display name of a fitted transaction model (e.g. ``"BG/NBD"``)."""
    return next((n for n, c in TRANSACTION_MODELS.items() if isinstance(model, c)), "model")


def compare_transaction_models(
    data: pd.DataFrame, summary: pd.DataFrame, *, end: pd.Timestamp, settings: Any
) -> tuple[pd.DataFrame, Any, dict[str, Any]]:
    """Fit every candidate on a calibration period, score it on the holdout, choose one.

    The fits and scores come from :func:`churnlab.models.comparison.compare_models`'s
    parts (:func:`~churnlab.models.comparison.fit_models`,
    :func:`~churnlab.models.comparison.comparison_table`); the choice is
    :func:`~churnlab.models.comparison.best_model`: the healthy model with the lowest
    holdout MAE.

    Parameters
    ----------
    data : pandas.DataFrame, path or ibis.Table
        Cleaned transactions up to ``end``: the whole log, or every purchase of a
        random sample of customers (:func:`churnlab.scoring.training_log`), which
        chooses as well as the whole base does.
    summary : pandas.DataFrame
        RFM summary of the whole log (the chosen model is refitted on it).
    end : pandas.Timestamp
        Observation end.
    settings : ScoringSettings
        ``holdout_weeks``, ``time_unit``, ``penalizer``.

    Returns
    -------
    tuple
        ``(table, model, calibration)``: one row per model (log-likelihood, AIC, BIC,
        holdout MAE, RMSE, aggregate error %, ROC AUC and Brier of P(no purchase), health
        and problems; ``attrs["chosen"]`` and ``attrs["caveats"]``), the chosen model fitted
        on ``summary``, and the calibration fits with their split.
    """
    calibration_end = end - pd.Timedelta(weeks=settings.holdout_weeks)
    split = calibration_holdout_split(
        data, calibration_end=calibration_end, observation_end=end, time_unit=settings.time_unit
    )
    split.attrs["time_unit"] = settings.time_unit
    candidates = {
        name: cls(penalizer=settings.penalizer) for name, cls in TRANSACTION_MODELS.items()
    }
    fitted, failures = fit_models(split, candidates)
    table = comparison_table(split, fitted, failures=failures)
    chosen = best_model(table)
    caveats = []
    if not table["healthy"].any():
        caveats.append(
            f"No purchase model fits this data well. {table.loc[chosen, 'problems']} "
            "Churn probability therefore comes from the churn classifier alone, P(alive) "
            f"is not shown, and lifetime values use {chosen} as a rough projection."
        )
    table.attrs.update(chosen=chosen, caveats=caveats)
    model = _fit(TRANSACTION_MODELS[chosen], summary, settings)
    ok, problems = model_health(model)
    if table.loc[chosen, "healthy"] and not ok:
        caveats.append(
            f"The purchase model ({chosen}) fitted well before the holdout but not on the "
            f"whole log: {' '.join(problems)}"
        )
    return table, model, {"models": fitted, "split": split, "calibration_end": calibration_end}


def spend_model(summary: pd.DataFrame, *, settings: Any) -> tuple[Any, list[str]]:
    """Fit Gamma-Gamma on the repeat buyers, or fall back to shrunk mean spend.

    Parameters
    ----------
    summary : pandas.DataFrame
        RFM summary.
    settings : ScoringSettings
        ``penalizer`` and ``time_unit``.

    Returns
    -------
    tuple
        ``(model, caveats)``.
    """
    repeaters = summary[(summary[FREQUENCY] > 0) & (summary[MONETARY_VALUE] > 0)]
    problem = ""
    try:
        model = _fit(GammaGammaModel, repeaters, settings)
        ok, problems = model_health(model)
        q = float(getattr(model, "q_", np.nan))
        if not ok or not q > 1:
            problem = " ".join(problems) or f"q = {q:.3g} ≤ 1, so the mean spend is undefined."
    except (ChurnlabError, ValueError, ArithmeticError) as exc:
        problem = f"the fit failed ({exc})."
    if not problem:
        return model, []
    fallback = ShrunkMeanSpend().fit(summary)
    return fallback, [
        "The spend model (Gamma-Gamma) is unreliable on this data: "
        f"{problem} Expected spend is therefore each customer's own average spend, shrunk "
        "towards the base's average, and lifetime-value intervals are not shown."
    ]


def choose_churn_source(
    data: pd.DataFrame,
    transaction: Any,
    *,
    end: pd.Timestamp,
    settings: Any,
    snapshots: dict[tuple, Any] | None = None,
) -> tuple[pd.DataFrame, str, Any, list[str]]:
    """Backtest the classifier against the transaction model and pick the better one.

    Parameters
    ----------
    data : pandas.DataFrame
        Cleaned transactions up to ``end``.
    transaction : fitted transaction model
        The chosen model (its class is refitted on the pre-cutoff data).
    end : pandas.Timestamp
        Observation end.
    settings : ScoringSettings
        ``churn_horizon_months``, ``time_unit``, ``penalizer``, ``random_state``.
    snapshots : dict, optional
        Labelled snapshots of ``data`` already built by the scoring pass (see
        :func:`churnlab.classifier.backtest.labelled_snapshot`).

    Returns
    -------
    tuple
        ``(table, source, backtest, caveats)``: the evaluation table (ROC AUC, Brier,
        ECE, lift per score), ``"classifier"`` or ``"transaction model"``, the
        classifier's :class:`~churnlab.classifier.backtest.BacktestResult` (None when
        the history is too short) and plain-English caveats.
    """
    name = model_name(transaction)
    healthy = model_health(transaction)[0]
    horizon = settings.churn_horizon_months
    try:
        # "now" as the scoring pass has it, so the test snapshot is its last training one
        now = end.normalize() + pd.Timedelta(days=1)
        train_at, test_at = backtest_cutoffs(data, horizon=horizon, n_train=4, observation_end=now)
        result = backtest(
            data, train_cutoff=train_at, test_cutoff=test_at, horizon=horizon,
            time_unit=settings.time_unit, baselines=False, random_state=settings.random_state,
            classifier=classifier_for(settings), snapshots=snapshots,
        )  # fmt: skip
    except (ChurnlabError, ValueError) as exc:
        source = "transaction model" if healthy else "classifier"
        return (
            pd.DataFrame(),
            source,
            None,
            [
                f"The churn scores could not be backtested ({exc}); churn probability comes "
                f"from the {'classifier' if source == 'classifier' else name}, unchecked."
            ],
        )
    features = result.test_features
    before = features[[FREQUENCY, RECENCY, T]].copy()
    before.attrs["time_unit"] = settings.time_unit
    window = horizon * config.TIME_UNIT_DAYS["M"] / config.TIME_UNIT_DAYS[settings.time_unit]
    baseline = _fit(type(transaction), before, settings).probability_no_purchase(before, window)
    scores = {"classifier": result.scores["classifier"], name: baseline}
    table = evaluate_churn_scores(result.test_labels, scores)
    result.scores = pd.DataFrame(scores)  # both candidates, for the calibration and lift plots
    c, m = table.loc["classifier"], table.loc[name]
    wins = {"ROC AUC": c["roc_auc"] > m["roc_auc"], "Brier score": c["brier"] < m["brier"]}
    source = "classifier" if (not healthy or wins["Brier score"]) else "transaction model"
    caveats = []
    if not all(wins.values()) and healthy:
        lost = [k for k, won in wins.items() if not won]
        used = "the classifier" if source == "classifier" else name
        caveats.append(
            f"The churn classifier does not beat {name} on {' and '.join(lost)} in the "
            f"backtest (ROC AUC {c['roc_auc']:.3f} vs {m['roc_auc']:.3f}, Brier "
            f"{c['brier']:.3f} vs {m['brier']:.3f}); churn probability comes from {used}."
        )
    if source == "classifier" and c["ece"] > 0.02:
        caveats.append(_calibration_caveat(c, result.train_labels.mean()))
    table.attrs["source"] = source
    return table, source, result, caveats


def _calibration_caveat(scores: pd.Series, train_rate: float) -> str:
    """Say how far off the classifier's probabilities were, and whether the churn rate moved.

    When most of the calibration error is the gap between the average prediction and
    the churn rate of the test window (calibration in the large), and the training
    windows' churn rate differs from the test window's, the cause is a change in the
    churn rate over time (e.g. a season), which no calibration on past windows removes.
    """
    text = (
        f"The classifier's probabilities are off by {scores['ece']:.1%} on average in the "
        "backtest (expected calibration error; target 2%)"
    )
    gap = scores["mean_predicted"] - scores["churn_rate"]
    moved = abs(train_rate - scores["churn_rate"]) >= 0.02
    if abs(gap) >= scores["ece"] / 2 and moved:
        text += (
            f": it predicted {scores['mean_predicted']:.0%} churn on average, and "
            f"{scores['churn_rate']:.0%} churned, while {train_rate:.0%} had churned in the "
            "windows it learnt from; the churn rate itself moved"
        )
    return text + ", so read them as a ranking."
