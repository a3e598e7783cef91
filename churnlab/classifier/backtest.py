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
from churnlab.classifier.metrics import evaluate_churn_scores
from churnlab.classifier.model_features import model_features
from churnlab.classifier.pipeline import ChurnClassifier, churn_labels, in_columns
from churnlab.config import DATE
from churnlab.data.validation import parse_date, period_days
from churnlab.engine import as_table, execute
from churnlab.exceptions import ConfigError, DataQualityWarning
from churnlab.models.bgnbd import BetaGeoModel

__all__ = [
    "BacktestResult",
    "ScoringResult",
    "backtest",
    "backtest_cutoffs",
    "labelled_snapshot",
    "score_customers",
]


def labelled_snapshot(
    transactions: Any,
    cutoff: pd.Timestamp,
    *,
    options: dict[str, Any],
    horizon: float,
    horizon_unit: str,
    snapshots: dict[tuple, Any] | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Return the classifier features of ``transactions`` at ``cutoff`` and their churn labels.

    The scoring pass's last training snapshot is also the backtest's test snapshot;
    given the same ``snapshots`` dictionary, the second call returns what the first
    built instead of querying the log again.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path or ibis.Table
        Canonical transaction log.
    cutoff : pandas.Timestamp
        Snapshot date.
    options : dict
        Keyword arguments of :func:`model_features` (``time_unit``, ``returns``,
        ``transaction_model``, ``model_horizon``).
    horizon, horizon_unit
        Label window (see :func:`churn_labels`).
    snapshots : dict, optional
        Snapshots built before, keyed by the log, the cutoff and every option; the
        one built here is added.

    Returns
    -------
    tuple
        ``(features, labels)``, the labels aligned with the features' rows.
    """
    returns = options.get("returns")
    settings = ((k, id(v) if k == "returns" else v) for k, v in sorted(options.items()))
    key = (id(transactions), cutoff, horizon, horizon_unit, *settings)
    found = snapshots.get(key) if snapshots is not None else None
    if found is not None and found[0] is transactions and found[1] is returns:
        return found[2], found[3]  # the same log and returns, not others at a reused address
    x = model_features(transactions, cutoff=cutoff, **options)
    y = churn_labels(transactions, cutoff=cutoff, horizon=horizon, horizon_unit=horizon_unit)
    y = y.reindex(x.index)
    if snapshots is not None:
        snapshots[key] = (transactions, returns, x, y)
    return x, y


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
    if observation_end in (None, ""):
        table = as_table(transactions)
        end = pd.Timestamp(execute(table[DATE].max())).normalize() + pd.Timedelta(days=1)
    else:
        end = parse_date(observation_end, name="observation_end")
    window = pd.Timedelta(days=horizon * period_days(horizon_unit, name="horizon_unit"))
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
    snapshots: dict[tuple, Any] | None = None,
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
    snapshots : dict, optional
        Labelled snapshots shared with other calls (see :func:`labelled_snapshot`).

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
    cutoffs = [train_cutoff] if isinstance(train_cutoff, (str, pd.Timestamp)) else train_cutoff
    train_ats = sorted(parse_date(c, name="train_cutoff") for c in np.atleast_1d(cutoffs))
    test_at = parse_date(test_cutoff, name="test_cutoff")
    horizon_days = horizon * period_days(horizon_unit, name="horizon_unit")
    if train_ats[-1] + pd.Timedelta(days=horizon_days) > test_at + pd.Timedelta(days=1):
        raise ConfigError(
            f"train_cutoff {train_ats[-1].date()} + horizon {horizon}{horizon_unit} passes "
            f"test_cutoff {test_at.date()}: the training labels would use data from the test "
            "period. Move train_cutoff earlier or shorten the horizon."
        )
    options = {"time_unit": time_unit, "returns": returns, "transaction_model": "fit"}
    options["model_horizon"] = horizon_days / config.TIME_UNIT_DAYS[time_unit]
    label = {"horizon": horizon, "horizon_unit": horizon_unit, "snapshots": snapshots}
    xs, ys = zip(
        *(labelled_snapshot(transactions, at, options=options, **label) for at in train_ats),
        strict=True,
    )
    train_x = pd.concat(xs, keys=[str(at.date()) for at in train_ats], names=["cutoff"])
    train_y = pd.concat(ys, keys=[str(at.date()) for at in train_ats], names=["cutoff"])
    train_x.attrs.update(xs[-1].attrs)
    test_x, test_y = labelled_snapshot(transactions, test_at, options=options, **label)
    test_x = in_columns(test_x, train_x.columns)

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
    summary = features[["frequency", "recency", "T", "monetary_value"]].copy()
    summary.attrs["time_unit"] = features.attrs.get("time_unit", "W")
    try:
        model = BetaGeoModel(penalizer=0.001).fit(summary, time_unit=summary.attrs["time_unit"])
        return model.probability_no_purchase(summary, horizon).astype("float64")
    except (ValueError, ArithmeticError) as exc:
        warnings.warn(
            f"The BG/NBD baseline could not be fitted ({exc}); it is left empty.",
            DataQualityWarning,
            stacklevel=3,
        )
        return pd.Series(np.nan, index=features.index)


@dataclass
class ScoringResult:
    """Current churn scores from :func:`score_customers`."""

    features: pd.DataFrame
    churn_probability: pd.Series
    classifier: Any
    train_features: pd.DataFrame
    train_labels: pd.Series


def score_customers(
    transactions: Any,
    *,
    cutoff: Any = None,
    horizon: float = 3,
    horizon_unit: str = "M",
    time_unit: str = "W",
    returns: Any = None,
    n_train: int = 2,
    step_days: int = 30,
    spend_model: Any = "fit",
    classifier: Any = None,
    random_state: int | None = None,
    training: Any = None,
    current: pd.DataFrame | None = None,
    snapshots: dict[tuple, Any] | None = None,
) -> ScoringResult:
    """Fit the classifier on the most recent complete label windows and score customers now.

    Training snapshots are taken at ``cutoff - horizon`` and ``n_train - 1`` earlier
    dates ``step_days`` apart, labelled with what happened up to ``cutoff``; the
    fitted classifier then scores every customer at ``cutoff``.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path or ibis.Table
        Canonical transaction log.
    cutoff : date-like, optional
        "Now"; default the day after the last purchase.
    horizon, horizon_unit
        Churn definition: no purchase within this window.
    time_unit : str, default "W"
        Unit of the RFM features and the BG/NBD model.
    returns : DataFrame, optional
        Returns/cancellations (adds ``returns_share``).
    n_train : int, default 2
        Training snapshots.
    step_days : int, default 30
        Spacing of the training snapshots.
    spend_model : "fit", fitted GammaGammaModel or None
        Adds ``clv`` to the scoring features.
    classifier : ChurnClassifier, optional
        Defaults to ``ChurnClassifier(random_state=random_state)``.
    random_state : int, optional
        Seed of the default classifier.
    training : DataFrame, path or ibis.Table, optional
        The log the training snapshots and labels come from, e.g. the whole history
        of a random sample of customers on a large base; default ``transactions``.
        Every customer of ``transactions`` is scored either way.
    current : pandas.DataFrame, optional
        The behaviour features at ``cutoff`` when they are already computed
        (:func:`~churnlab.features.behaviour.behaviour_features` of ``transactions``
        with this ``time_unit`` and ``returns``).
    snapshots : dict, optional
        Labelled training snapshots shared with other calls, e.g. the backtest of the
        same ``training`` log (see :func:`labelled_snapshot`).

    Returns
    -------
    ScoringResult
        ``features`` at ``cutoff`` (with ``clv``), ``churn_probability`` per customer,
        the fitted ``classifier`` and its training data.
    """
    if cutoff in (None, ""):
        last = execute(as_table(transactions)[DATE].max())
        now = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    else:
        now = parse_date(cutoff, name="cutoff")
    horizon_days = horizon * period_days(horizon_unit, name="horizon_unit")
    window = pd.Timedelta(days=horizon_days)
    starts = [(now - window).normalize() - pd.Timedelta(days=step_days * k) for k in range(n_train)]
    options = {"time_unit": time_unit, "returns": returns, "transaction_model": "fit"}
    # the label window in model periods, as the backtest and the churn probability have it
    options["model_horizon"] = horizon_days / config.TIME_UNIT_DAYS[time_unit]
    history = transactions if training is None else training
    label = {"horizon": horizon, "horizon_unit": horizon_unit, "snapshots": snapshots}
    xs, ys = zip(
        *(labelled_snapshot(history, at, options=options, **label) for at in sorted(starts)),
        strict=True,
    )
    keys = [str(at.date()) for at in sorted(starts)]
    train_x = pd.concat(xs, keys=keys, names=["cutoff"])
    train_y = pd.concat(ys, keys=keys, names=["cutoff"])
    current = model_features(
        transactions, cutoff=now, spend_model=spend_model, behaviour=current, **options
    )
    model = classifier if classifier is not None else ChurnClassifier(random_state=random_state)
    model.fit(train_x, train_y)
    probability = model.churn_probability(in_columns(current, train_x.columns))
    return ScoringResult(current, probability, model, train_x, train_y)
