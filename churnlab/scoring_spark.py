"""The scoring pass on Spark: same queries, models fitted once, customers scored in parallel.

:func:`score_spark` gives the table of :func:`churnlab.scoring.score` (the columns
of ``scores.parquet``, :data:`~churnlab.scoring.SCORE_COLUMNS`) as a Spark DataFrame:

1. **Aggregation on Spark.** The RFM summary, the calibration/holdout split, the
   behaviour-feature snapshots and the churn labels are the same Ibis expressions
   as on DuckDB, run by Ibis's pyspark backend.
2. **Models on the driver.** The transaction models (chosen on a holdout), the
   spend model, the classifier (on its bounded stratified sample, see
   ``ScoringSettings.classifier_sample``) and its backtest are fitted on the
   per-customer summaries and training snapshots, which the driver collects.
3. **Scoring on the executors.** One per-customer Spark DataFrame (summary, gaps
   and the current behaviour aggregates, plus the global ranks behind the RFM
   segments) is scored with ``mapInPandas`` over the fitted models: model outputs,
   CLV with interval, both churn probabilities, health tier, reasons and action.
   The thresholds that depend on the whole base (RFM ranks, the valuable share's
   spend cut, the median purchase gap) are computed by Spark beforehand.

The scores equal DuckDB's on the same log (``tests/test_scoring_spark.py``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from churnlab import config
from churnlab.actions import recommended_actions
from churnlab.classifier.model_features import _model_outputs
from churnlab.classifier.pipeline import churn_labels
from churnlab.classifier.sampled import classifier_for
from churnlab.config import CUSTOMER_ID, DATE, FREQUENCY, MONETARY_VALUE, RECENCY, T
from churnlab.engine import execute, settle_floats
from churnlab.exceptions import DataValidationError
from churnlab.features.behaviour import behaviour_expr, finish_behaviour
from churnlab.features.rfm import rfm_expr, rfm_summary
from churnlab.model_choice import (
    choose_churn_source,
    compare_transaction_models,
    model_health,
    spend_model,
)
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.scoring import (
    SCORE_COLUMNS,
    ScoringSettings,
    _clv,
    at_risk_reasons,
    purchase_gaps,
    training_log,
)
from churnlab.segments import SEGMENT_RULES, health_tiers

__all__ = ["score_spark"]

_SUMMARY = [FREQUENCY, RECENCY, T, MONETARY_VALUE]
_PREFIX = "b__"
_STRING_COLUMNS = {"segment", "health_tier", "reason_1", "reason_2", "reason_3", "action"}


def _ibis_table(transactions: Any) -> ir.Table:
    if isinstance(transactions, ir.Table):
        return transactions
    session = getattr(transactions, "sparkSession", None)
    if session is None:
        raise DataValidationError(
            f"score_spark needs a Spark DataFrame or an Ibis table on the pyspark backend, got "
            f"{type(transactions).__name__}. For pandas or Parquet use churnlab.scoring.score."
        )
    backend = ibis.pyspark.connect(session)
    name = f"churnlab_transactions_{id(transactions):x}"
    transactions.createOrReplaceTempView(name)
    return backend.table(name)


def _spark_frame(expr: ir.Table) -> Any:
    backend = expr._find_backend()
    backend._run_pre_execute_hooks(expr)
    return backend._session.sql(backend.compile(expr))


def _fit_on_driver(table: ir.Table, end: pd.Timestamp, now: pd.Timestamp, s: ScoringSettings):
    """Fit every model of the pass, as :func:`churnlab.scoring.score` does."""
    summary = rfm_summary(table, observation_end=end, time_unit=s.time_unit).sort_index()
    summary.index = summary.index.astype(str)
    history = training_log(table, summary.index, s)
    _, transaction, _ = compare_transaction_models(history, summary, end=end, settings=s)
    spend, _ = spend_model(summary, settings=s)
    _, source, _, _ = choose_churn_source(history, transaction, end=end, settings=s)

    # the classifier's training snapshots, as churnlab.classifier.backtest.score_customers
    horizon_days = s.churn_horizon_months * config.TIME_UNIT_DAYS["M"]
    window = pd.Timedelta(days=horizon_days)
    starts = sorted((now - window).normalize() - pd.Timedelta(days=30 * k) for k in range(2))
    model_horizon = horizon_days / config.TIME_UNIT_DAYS[s.time_unit]
    xs, ys = [], []
    for at in starts:
        x = finish_behaviour(
            execute(behaviour_expr(history, cutoff=at, time_unit=s.time_unit)).set_index(
                CUSTOMER_ID
            ),
            cutoff=at,
            time_unit=s.time_unit,
        ).sort_index()
        x = x.join(_outputs(x, "fit", model_horizon, s))
        xs.append(x)
        labels = churn_labels(history, cutoff=at, horizon=s.churn_horizon_months, horizon_unit="M")
        ys.append(labels.reindex(x.index))
    keys = [str(at.date()) for at in starts]
    train_x = pd.concat(xs, keys=keys, names=["cutoff"])
    train_y = pd.concat(ys, keys=keys, names=["cutoff"])
    classifier = classifier_for(s).fit(train_x, train_y)
    retained = train_x[~train_y.to_numpy(dtype=bool)]

    # the current snapshot's BG/NBD (a classifier feature), fitted on its RFM columns
    before = table.filter(table[DATE] < now.to_pydatetime())
    current = execute(rfm_expr(before, observation_end=now, time_unit=s.time_unit))
    current = settle_floats(current.set_index(CUSTOMER_ID).astype("float64"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feature_model = BetaGeoModel(penalizer=0.001).fit(current, time_unit=s.time_unit)
    return {
        "transaction": transaction,
        "healthy": model_health(transaction)[0],
        "spend": spend,
        "source": source,
        "classifier": classifier,
        "columns": list(train_x.columns),
        "typical": retained.median(numeric_only=True).to_frame().T,
        "feature_model": feature_model,
        "model_horizon": model_horizon,
    }


def _outputs(features: pd.DataFrame, model: Any, horizon: float, s: ScoringSettings) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _model_outputs(
            features, transaction_model=model, spend_model=None, model_horizon=horizon,
            clv_horizon=12, time_unit=s.time_unit,
        )  # fmt: skip


def _segment(r_score: pd.Series, fm_score: pd.Series) -> pd.Series:
    """Return the first matching segment of :data:`~churnlab.segments.SEGMENT_RULES`."""
    segment = pd.Series(pd.NA, index=r_score.index, dtype="object")
    for row in SEGMENT_RULES.itertuples(index=False):
        hit = segment.isna() & r_score.between(row.r_min, row.r_max)
        segment[hit & fm_score.between(row.fm_min, row.fm_max)] = row.segment
    return segment


def _actions(customers: pd.DataFrame, s: ScoringSettings, cuts: dict[str, float]) -> pd.Series:
    """:func:`churnlab.actions.contact_list` with the base-wide cuts computed by Spark."""
    value = customers["total_spend"].fillna(0.0)
    listed = (value >= cuts["spend"]) & (value > 0)
    listed &= customers["churn_probability"].fillna(0.0) >= s.min_churn_probability
    gap = customers["typical_gap_days"].fillna(cuts["gap"])
    listed &= customers["days_since_last_purchase"] > 1.5 * gap
    actions = pd.Series(pd.NA, index=customers.index, dtype="object")
    chosen = customers.loc[listed]
    actions[listed] = recommended_actions(
        chosen["segment"], chosen["reason_1"], chosen["churn_probability"]
    )
    return actions


def _score_rows(
    raw: pd.DataFrame, fitted: dict[str, Any], s: ScoringSettings, now: pd.Timestamp, cuts: dict
) -> pd.DataFrame:
    """Score one batch of per-customer rows (row by row, given the fitted models)."""
    raw = raw.set_index(CUSTOMER_ID)
    raw.index = raw.index.astype(str)
    summary = settle_floats(raw[_SUMMARY].astype("float64"))
    summary.attrs["time_unit"] = s.time_unit
    behaviour = raw[[c for c in raw.columns if c.startswith(_PREFIX)]]
    behaviour = behaviour.rename(columns=lambda c: c.removeprefix(_PREFIX))
    features = finish_behaviour(behaviour, cutoff=now, time_unit=s.time_unit)
    features = features.join(
        _outputs(features, fitted["feature_model"], fitted["model_horizon"], s)
    ).reindex(columns=fitted["columns"])
    transaction, spend = fitted["transaction"], fitted["spend"]
    horizon = (
        s.churn_horizon_months * config.TIME_UNIT_DAYS["M"] / config.TIME_UNIT_DAYS[s.time_unit]
    )
    customers = summary.join(purchase_gaps(features))
    customers["p_alive"] = transaction.probability_alive(summary) if fitted["healthy"] else np.nan
    customers["expected_purchases"] = transaction.expected_purchases(summary, horizon)
    customers["expected_spend"] = spend.expected_spend(summary).clip(lower=0.0)
    customers = customers.join(_clv(transaction, spend, summary, s))
    customers["clv"] = customers["clv"].clip(lower=0.0)
    classifier = fitted["classifier"]
    by_classifier = classifier.churn_probability(features)
    by_model = transaction.probability_no_purchase(summary, horizon)
    customers["churn_probability_classifier"] = by_classifier
    customers["churn_probability_transaction_model"] = by_model
    chosen = by_classifier if fitted["source"] == "classifier" else by_model
    customers["churn_probability"] = chosen
    customers["revenue_at_risk"] = customers["clv"] * customers["churn_probability"]
    customers["segment"] = _segment(raw["r_score"], raw["fm_score"])
    health = health_tiers(
        customers["churn_probability"].fillna(0.5), regularity=features["regularity"]
    )
    customers["health_tier"] = health["tier"].astype("object")
    customers["health_score"] = health["health_score"]
    reasons = at_risk_reasons(
        classifier, features, customers["churn_probability"], reference=fitted["typical"],
        min_churn_probability=s.min_churn_probability, currency=s.currency,
    )  # fmt: skip
    customers = customers.join(reasons)
    customers["action"] = _actions(customers, s, cuts)
    out = customers[list(SCORE_COLUMNS)].reset_index()
    for column in _STRING_COLUMNS:
        out[column] = out[column].astype("object").where(out[column].notna(), None)
    return out


def _ranked(frame: Any, n: int) -> Any:
    """Add ``r_score`` and ``fm_score``: RFM quintiles from average-rank percentiles."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    def score(column: Any, name: str) -> Any:
        ordered = F.rank().over(Window.orderBy(column))
        ties = F.count(F.lit(1)).over(Window.partitionBy(column))
        pct = (ordered + (ties - 1) / 2.0) / float(n)
        return F.least(F.greatest(F.ceil(pct * 5), F.lit(1)), F.lit(5)).alias(name)

    since_last = -(F.col(T) - F.col(RECENCY))
    with_scores = frame.select(
        "*",
        score(since_last, "r_score"),
        score(F.col(FREQUENCY), "_f"),
        score(F.col(MONETARY_VALUE), "_m"),
    )
    fm = F.floor((F.col("_f") + F.col("_m") + 1) / 2)
    return with_scores.withColumn("fm_score", fm).drop("_f", "_m")


def _schema() -> Any:
    from pyspark.sql import types as S

    fields = [S.StructField(CUSTOMER_ID, S.StringType())]
    for column in SCORE_COLUMNS:
        kind = S.StringType() if column in _STRING_COLUMNS else S.DoubleType()
        fields.append(S.StructField(column, kind))
    return S.StructType(fields)


def score_spark(transactions: Any, settings: ScoringSettings | None = None) -> Any:
    """Run the scoring pass on Spark and return the per-customer scores as a Spark DataFrame.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame or ibis.Table
        Cleaned transactions in canonical columns (``customer_id``, ``date``,
        ``amount``, optionally ``order_id``), or an Ibis table on the pyspark backend.
    settings : ScoringSettings, optional
        The pass's configuration, as for :func:`churnlab.scoring.score`.

    Returns
    -------
    pyspark.sql.DataFrame
        ``customer_id`` and :data:`~churnlab.scoring.SCORE_COLUMNS`: the table of
        ``scores.parquet`` (not ordered; sort by ``customer_id`` to compare).

    Raises
    ------
    DataValidationError
        If ``transactions`` is neither a Spark DataFrame nor an Ibis table.

    Notes
    -----
    The KPI record (``kpis.json``) is not computed here; it is a handful of sums over
    this table and the log.
    """
    from pyspark.sql import functions as F

    s = settings or ScoringSettings()
    table = _ibis_table(transactions)
    end = pd.Timestamp(s.observation_end) if s.observation_end else None
    if end is None:
        end = pd.Timestamp(execute(table[DATE].max()))
    table = table.filter(table[DATE] <= end.to_pydatetime())
    now = end.normalize() + pd.Timedelta(days=1)
    fitted = _fit_on_driver(table, end, now, s)

    behaviour = behaviour_expr(table, cutoff=now, time_unit=s.time_unit)
    behaviour = behaviour.rename(
        {f"{_PREFIX}{c}": c for c in behaviour.columns if c != CUSTOMER_ID}
    )
    rows = rfm_expr(table, observation_end=end, time_unit=s.time_unit)
    rows = rows.join(behaviour, CUSTOMER_ID)
    frame = _spark_frame(rows)
    n = frame.count()
    cut_row = frame.select(
        F.percentile(F.coalesce(F.col(f"{_PREFIX}total_spend"), F.lit(0.0)), 1 - s.valuable_share),
        F.percentile(F.col(f"{_PREFIX}ipt_mean_days"), 0.5),
    ).first()
    cuts = {"spend": float(cut_row[0]), "gap": 30.0 if cut_row[1] is None else float(cut_row[1])}
    ranked = _ranked(frame, n)

    def score_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            if len(batch):
                yield _score_rows(batch, fitted, s, now, cuts)

    return ranked.mapInPandas(score_batches, schema=_schema())
