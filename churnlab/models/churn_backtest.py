"""Time-based backtest of the churn classifier against the BG/NBD baseline.

Fit at one (or several) cutoffs, score at a later one, and compare with BG/NBD's
``probability_no_purchase`` on the same customers and the same label.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.config import DATE
from churnlab.exceptions import ConfigError, DataQualityWarning

__all__ = ["BacktestResult", "backtest", "backtest_cutoffs"]


def backtest_cutoffs(
    transactions: Any,
    *,
    horizon: float = 3,
    horizon_unit: str = "M",
    n_train: int = 4,
    step_days: int = 30,
    observation_end: Any = None,
) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """Choose backtest cutoffs that fit the data: the latest test cutoff and earlier train ones.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path or ibis.Table
        Canonical transaction log.
    horizon, horizon_unit
        Label window.
    n_train : int, default 4
        Number of training cutoffs, ``step_days`` apart.
    step_days : int, default 30
        Spacing of the training cutoffs.
    observation_end : date-like, optional
        End of the data; default the day after the last purchase.

    Returns
    -------
    tuple
        ``(train_cutoffs, test_cutoff)``: the test label window ends at the data end
        and the last training label window ends at the test cutoff.
    """
    from churnlab.features._engine import as_table
    from churnlab.features.behaviour import _period_days, _to_timestamp

    if observation_end in (None, ""):
        table = as_table(transactions)
        end = pd.Timestamp(table[DATE].max().execute()).normalize() + pd.Timedelta(days=1)
    else:
        end = _to_timestamp(observation_end, name="observation_end")
    window = pd.Timedelta(days=horizon * _period_days(horizon_unit, name="horizon_unit"))
    test_at = (end - window).normalize()
    last_train = (test_at - window).normalize()
    train = [last_train - pd.Timedelta(days=step_days * k) for k in range(n_train)][::-1]
    return train, test_at


@dataclass
class BacktestResult:
    """Everything a time-based backtest produces (see :func:`backtest`)."""

    train_features: pd.DataFrame
    train_labels: pd.Series
    test_features: pd.DataFrame
    test_labels: pd.Series
    classifier: Any
    scores: pd.DataFrame
    evaluation: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)


def backtest(
    transactions: Any,
    *,
    train_cutoff: Any,
    test_cutoff: Any,
    horizon: float = 3,
    horizon_unit: str = "M",
    time_unit: str = "W",
    returns: Any = None,
    classifier: Any = None,
    baselines: bool = True,
    random_state: int | None = None,
) -> BacktestResult:
    """Fit at ``train_cutoff``, score at the later ``test_cutoff``, compare with BG/NBD.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path or ibis.Table
        Canonical transaction log.
    train_cutoff : date-like or sequence of date-likes
        Training feature cutoff(s). With several, the customer snapshots are stacked
        (rolling origin), which gives the classifier more and more varied examples.
        ``train_cutoff + horizon`` must not pass ``test_cutoff``, so the training
        labels are known when the test features are built.
    test_cutoff : date-like
        Scoring cutoff; its label window must lie inside the data.
    horizon, horizon_unit
        Label window (see :func:`churn_labels`).
    time_unit : str, default "W"
        Unit of the RFM features and of the BG/NBD model.
    returns : DataFrame, optional
        Returns/cancellations (adds ``returns_share``).
    classifier : ChurnClassifier, optional
        Defaults to ``ChurnClassifier(random_state=random_state)``.
    baselines : bool, default True
        Also score a logistic-regression classifier and the BG/NBD
        ``probability_no_purchase`` on the same customers and label.
    random_state : int, optional
        Seed for the default classifiers.

    Returns
    -------
    BacktestResult
        Features, labels, the fitted classifier, per-customer ``scores`` on the test
        cutoff and the ``evaluation`` table (see :func:`evaluate_churn_scores`).

    Raises
    ------
    ConfigError
        If the cutoffs overlap the label window.
    """
    from churnlab.features.behaviour import _period_days, _to_timestamp, behaviour_features
    from churnlab.models.churn import ChurnClassifier, churn_labels
    from churnlab.models.churn_evaluation import evaluate_churn_scores

    cutoffs = [train_cutoff] if isinstance(train_cutoff, (str, pd.Timestamp)) else train_cutoff
    train_ats = sorted(_to_timestamp(c, name="train_cutoff") for c in np.atleast_1d(cutoffs))
    test_at = _to_timestamp(test_cutoff, name="test_cutoff")
    horizon_days = horizon * _period_days(horizon_unit, name="horizon_unit")
    if train_ats[-1] + pd.Timedelta(days=horizon_days) > test_at + pd.Timedelta(days=1):
        raise ConfigError(
            f"train_cutoff {train_ats[-1].date()} + horizon {horizon}{horizon_unit} passes "
            f"test_cutoff {test_at.date()}: the training labels would use data from the test "
            "period. Move train_cutoff earlier or shorten the horizon."
        )
    options = {"time_unit": time_unit, "returns": returns, "transaction_model": "fit"}
    options["model_horizon"] = horizon_days / config.TIME_UNIT_DAYS[time_unit]
    label_options = {"horizon": horizon, "horizon_unit": horizon_unit}
    xs, ys = [], []
    for at in train_ats:
        x = behaviour_features(transactions, cutoff=at, **options)
        xs.append(x)
        ys.append(churn_labels(transactions, cutoff=at, **label_options).reindex(x.index))
    train_x = pd.concat(xs, keys=[str(at.date()) for at in train_ats], names=["cutoff"])
    train_y = pd.concat(ys, keys=[str(at.date()) for at in train_ats], names=["cutoff"])
    train_x.attrs.update(xs[-1].attrs)
    test_x = behaviour_features(transactions, cutoff=test_at, **options)
    test_x = test_x.reindex(columns=train_x.columns)
    test_y = churn_labels(transactions, cutoff=test_at, **label_options).reindex(test_x.index)

    model = classifier if classifier is not None else ChurnClassifier(random_state=random_state)
    model.fit(train_x, train_y)
    scores = pd.DataFrame({"classifier": model.churn_probability(test_x)})
    if baselines:
        logistic = ChurnClassifier(estimator="logistic", random_state=random_state)
        scores["logistic"] = logistic.fit(train_x, train_y).churn_probability(test_x)
        scores["bgnbd"] = _bgnbd_baseline(test_x, horizon=options["model_horizon"])
    evaluation = evaluate_churn_scores(test_y, scores)
    return BacktestResult(
        train_features=train_x,
        train_labels=train_y,
        test_features=test_x,
        test_labels=test_y,
        classifier=model,
        scores=scores,
        evaluation=evaluation,
        settings={
            "train_cutoffs": [str(at.date()) for at in train_ats],
            "test_cutoff": str(test_at.date()),
            "horizon": horizon,
            "horizon_unit": horizon_unit,
            "time_unit": time_unit,
        },
    )


def _bgnbd_baseline(features: pd.DataFrame, *, horizon: float) -> pd.Series:
    """BG/NBD P(no purchase in horizon), fitted only on the pre-cutoff summary."""
    from churnlab.models.bgnbd import BetaGeoModel

    summary = features[["frequency", "recency", "T", "monetary_value"]].copy()
    summary.attrs["time_unit"] = features.attrs.get("time_unit", "W")
    try:
        model = BetaGeoModel(penalizer=0.001).fit(summary)
        return model.probability_no_purchase(summary, horizon).astype("float64")
    except (ValueError, ArithmeticError) as exc:
        warnings.warn(
            f"The BG/NBD baseline could not be fitted ({exc}); it is left empty.",
            DataQualityWarning,
            stacklevel=3,
        )
        return pd.Series(np.nan, index=features.index)
