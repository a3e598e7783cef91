"""THE scoring pass: one transaction log and one configuration in, one set of numbers out.

:func:`score` fits every model once, with the configuration in :class:`ScoringSettings`,
checks each fit's health, picks the transaction model by its holdout error, decides
whether the churn classifier or that model gives the better churn probability on a
time-split backtest, and returns a :class:`ScoringResult`: one per-customer table
(CLV with interval, churn probability, P(alive), expected purchases, segment, health
tier, reasons, action) and one KPI record (defined in :mod:`churnlab.kpis`). Model
health problems are part of the result, as plain-English ``caveats``.

``churnlab report`` runs it once per run and writes ``scores.parquet`` and
``kpis.json`` into the run folder (:func:`write_outputs`); every notebook reads the
same object through :func:`open_scores`; ``churnlab score`` writes the same table.
Same data, settings and ``random_state`` give identical output.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from churnlab import config
from churnlab.actions import contact_list
from churnlab.classifier.backtest import score_customers
from churnlab.classifier.drivers import customer_reasons
from churnlab.classifier.sampled import classifier_for
from churnlab.config import CUSTOMER_ID, DATE
from churnlab.data.datasets import CURRENCIES, load_source
from churnlab.data.io import LoadedTransactions
from churnlab.engine import as_table, execute, own_connection, second_connection
from churnlab.exceptions import ConfigError
from churnlab.features.behaviour import behaviour_features
from churnlab.features.rfm import check_log, summary_from_snapshot
from churnlab.kpis import base_kpis, log_kpis
from churnlab.model_choice import (
    choose_churn_source,
    compare_transaction_models,
    model_health,
    spend_model,
)
from churnlab.models.clv import customer_lifetime_value
from churnlab.retention import what_if_retention
from churnlab.segments import health_tiers, rfm_segments

__all__ = [
    "ACTION_COLUMNS",
    "REASON_COLUMNS",
    "SCORE_COLUMNS",
    "ScoringResult",
    "ScoringSettings",
    "action_list",
    "at_risk_reasons",
    "load_outputs",
    "open_scores",
    "run_currency",
    "run_transactions",
    "score",
    "training_log",
    "write_outputs",
]

#: Columns of ``scores.parquet``, in order (see ``reports/README.md``).
SCORE_COLUMNS = (
    "frequency", "recency", "T", "monetary_value", "total_spend", "days_since_last_purchase",
    "typical_gap_days", "p_alive", "expected_purchases", "expected_spend", "clv", "clv_lower",
    "clv_upper", "churn_probability", "churn_probability_classifier",
    "churn_probability_transaction_model", "revenue_at_risk", "segment", "health_tier",
    "health_score", "reason_1", "reason_2", "reason_3", "action",
)  # fmt: skip
SCORES_FILE, KPIS_FILE, RESULT_FILE = "scores.parquet", "kpis.json", "scoring.pkl"


@dataclass(frozen=True)
class ScoringSettings:
    """The one documented configuration of the scoring pass.

    Parameters
    ----------
    time_unit : {"D", "W", "M"}, default "W"
        Unit of the RFM summary and the transaction models.
    observation_end : str, default ""
        "Now" (ISO date); "" means the last purchase date.
    churn_horizon_months : float, default 3
        Churned means no purchase within this many months; also the active base.
    clv_horizon_months : int, default 12
        Horizon of the lifetime value.
    monthly_discount_rate : float, default 0.01
        Discount rate of the lifetime value, per month.
    holdout_weeks : int, default 13
        Length of the holdout that picks the transaction model.
    penalizer : float, default 0.001
        L2 penalty of every model fit.
    clv_interval : float, default 0.9
        Coverage of the CLV interval (parametric bootstrap).
    retention_points : float, default 2.0
        What-if: extra points of yearly retention.
    valuable_share, min_churn_probability : float
        Who is on the action list (see :func:`churnlab.actions.contact_list`).
    random_state : int, default 42
        Seed of every stochastic step.
    currency : str, default ""
        ISO code of the amounts (e.g. "GBP"), used to format money on the pages.
    classifier_sample : int, default 30000
        Most training rows the churn classifier is fitted on (backtest and final fit).
        Larger training sets are reduced to a stratified sample of whole customers
        (:class:`~churnlab.classifier.sampled.SampledChurnClassifier`); smaller ones
        are used whole.
    classifier_threads : int, default 1
        OpenMP threads of the classifier's fit and predictions (raise it on a
        dedicated machine with millions of customers).
    training_customers : int, default 50000
        Most customers whose history builds the classifier's training snapshots and
        its backtest (:func:`training_log`); a larger base is represented by a random
        sample of whole customers. Every customer is scored either way.
    """

    time_unit: str = "W"
    observation_end: str = ""
    churn_horizon_months: float = 3.0
    clv_horizon_months: int = 12
    monthly_discount_rate: float = 0.01
    holdout_weeks: int = 13
    penalizer: float = 0.001
    clv_interval: float = 0.9
    retention_points: float = 2.0
    valuable_share: float = 0.25
    min_churn_probability: float = 0.3
    random_state: int = 42
    currency: str = ""
    classifier_sample: int = 30_000
    classifier_threads: int = 1
    training_customers: int = 50_000

    def __post_init__(self) -> None:
        if self.time_unit not in config.TIME_UNIT_DAYS:
            raise ConfigError(
                f"time_unit must be one of {', '.join(config.TIME_UNIT_DAYS)}, "
                f"got {self.time_unit!r}."
            )

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> ScoringSettings:
        """Build settings from a mapping, ignoring names that are not settings."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


@dataclass
class ScoringResult:
    """Everything the scoring pass computed; what every page reads.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer (index ``customer_id``), columns :data:`SCORE_COLUMNS`.
    kpis : dict
        The KPI record (:data:`churnlab.kpis.KPI_GLOSSARY`), with the model choice.
    caveats : list of str
        Model-health problems and what they mean for the figures, in plain words.
    model_comparison : pandas.DataFrame
        Holdout scores and health of every transaction model.
    churn_comparison : pandas.DataFrame
        Backtest of the classifier against the chosen transaction model.
    monthly_retention : pandas.DataFrame
        The monthly active-base retention table behind the KPIs.
    what_if : pandas.DataFrame
        Value of extra yearly retention.
    settings : ScoringSettings
    transactions, cleaning, dropped
        The cleaned log up to the observation end (None when the pass queried a
        Parquet path or an Ibis table where it lies), its cleaning report and dropped
        rows.
    models : dict
        ``transaction`` (chosen, fitted on the whole log), ``spend``, ``classifier``,
        ``backtest`` (the classifier's backtest) and ``calibration`` (models fitted on
        the calibration period, with ``split``, ``calibration_end`` and, when they
        were compared on a sample of customers, that sample's ``transactions``).
    """

    customers: pd.DataFrame
    kpis: dict[str, Any]
    caveats: list[str]
    model_comparison: pd.DataFrame
    churn_comparison: pd.DataFrame
    monthly_retention: pd.DataFrame
    what_if: pd.DataFrame
    settings: ScoringSettings
    transactions: pd.DataFrame | None
    cleaning: Any = None
    dropped: pd.DataFrame | None = None
    models: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


class _Stages:
    """Wall time of each stage of the pass, in seconds (``ScoringResult.timings``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def _aligned(values: pd.DataFrame | pd.Series, index: pd.Index) -> Any:
    """Return ``values`` indexed by ``index`` itself, as ``values.reindex(index)`` would be.

    Every per-customer table of the pass comes from one snapshot, so its rows are
    usually the customers of ``index`` in the same order: then ``index`` is put in
    place (a check of about 10 ms for a million ids) and the joins and assignments
    that follow match rows by position instead of hashing a million ids each.
    """
    if values.index.equals(index):
        return values.set_axis(index)
    return values.reindex(index)


def _values(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Return the values of ``values`` in the order of ``index`` (see :func:`_aligned`)."""
    return _aligned(values, index).to_numpy()


def purchase_gaps(features: pd.DataFrame) -> pd.DataFrame:
    """Return total spend, whole days since the last purchase and the typical gap.

    Read off the current snapshot's behaviour features: ``days_since_last_purchase``
    counts whole calendar days from the last purchase day to the snapshot, as the
    reasons do, and ``typical_gap_days`` is the mean gap between purchase days
    (NaN for a customer who bought on one day only).
    """
    return pd.DataFrame(
        {
            "total_spend": features["total_spend"],
            "days_since_last_purchase": np.ceil(features["days_since_last"] - 1e-9),
            "typical_gap_days": features["ipt_mean_days"],
        },
        index=features.index,
    )


def training_log(table: ir.Table, customers: pd.Index, settings: ScoringSettings) -> ir.Table:
    """Return the log the classifier learns from: the whole log, or that of a customer sample.

    The training snapshots and the backtest describe customers at past cutoffs; a
    random sample of ``settings.training_customers`` whole customers (every purchase
    of each) describes them as well as the whole base does, so on a large base the
    seven past snapshots are built from the sample's purchases, materialised once,
    and only the current snapshot reads the whole log. The customer of the log's last
    purchase is always in the sample, so the sample ends where the log does.

    Parameters
    ----------
    table : ibis.Table
        The log up to the observation end.
    customers : pandas.Index
        Every customer id of the log (as strings; the RFM summary's index).
    settings : ScoringSettings
        ``training_customers`` and ``random_state``.

    Returns
    -------
    ibis.Table
        ``table`` itself when the base is no larger than the sample, else an
        in-memory table of the sampled customers' purchases.
    """
    if len(customers) <= settings.training_customers:
        return table
    rng = np.random.default_rng(settings.random_state)
    chosen = rng.choice(len(customers), size=settings.training_customers, replace=False)
    # the customer of the last purchase stays in, so the sample's data ends where the log's
    # does and the label windows that reach the end are checked against the right date
    last = execute(table.order_by([ibis.desc(DATE), CUSTOMER_ID]).select(CUSTOMER_ID).limit(1))
    position = customers.get_loc(str(last[CUSTOMER_ID].iloc[0]))
    if position not in chosen:
        chosen[0] = position
    ids = ibis.memtable({CUSTOMER_ID: np.asarray(customers[np.sort(chosen)], dtype=object)})
    ids = ids.select(ids[CUSTOMER_ID].cast(table.schema()[CUSTOMER_ID]).name(CUSTOMER_ID))
    return as_table(execute(table.semi_join(ids, CUSTOMER_ID)))


#: The text columns' type: Arrow-backed strings, which go to Parquet without a conversion.
TEXT = pd.StringDtype("pyarrow")

#: The reason columns of the per-customer table.
REASON_COLUMNS = ("reason_1", "reason_2", "reason_3")


def at_risk_reasons(
    classifier: Any,
    features: pd.DataFrame,
    churn_probability: pd.Series,
    *,
    reference: pd.DataFrame,
    min_churn_probability: float,
    currency: str = "",
) -> pd.DataFrame:
    """Return the top three reasons of every customer at risk; missing for the others.

    A customer is at risk when their churn probability reaches
    ``min_churn_probability``, the threshold of the action list
    (:func:`churnlab.actions.contact_list`): reasons for churn explain a risk, so a
    customer likely to stay has none to act on. Reasons come from
    :func:`churnlab.classifier.drivers.customer_reasons`.

    Parameters
    ----------
    classifier : fitted ChurnClassifier
    features : pandas.DataFrame
        The classifier's features now, one row per customer.
    churn_probability : pandas.Series
        The churn probability each customer is shown (classifier or purchase model).
    reference : pandas.DataFrame
        Customers who stayed (training rows); their medians are "typical".
    min_churn_probability : float
        Threshold of being at risk.
    currency : str, default ""
        ISO code of the amounts, for the money in the sentences.

    Returns
    -------
    pandas.DataFrame
        Index of ``features``; string columns :data:`REASON_COLUMNS`.
    """
    risk = _aligned(churn_probability, features.index).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        selected = risk >= min_churn_probability
    out = pd.DataFrame(index=features.index)
    explained = None
    if selected.any():
        at_risk = features[selected]
        explained = customer_reasons(classifier, at_risk, reference=reference, currency=currency)
    for column in REASON_COLUMNS:
        texts = np.full(len(features), None, dtype=object)
        if explained is not None:
            texts[selected] = explained[column].to_numpy(dtype=object)
        out[column] = pd.array(np.where(texts == "", None, texts), dtype=TEXT)
    return out


def _clv(transaction: Any, spend: Any, summary: pd.DataFrame, s: ScoringSettings) -> pd.DataFrame:
    options = {
        "horizon": s.clv_horizon_months,
        "horizon_unit": "M",
        "discount_rate": s.monthly_discount_rate,
    }
    clv = customer_lifetime_value(transaction, spend, summary, **options)
    if all(getattr(getattr(m, "health_", None), "finite_standard_errors", False)
           for m in (transaction, spend)):  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            interval = customer_lifetime_value(
                transaction, spend, summary, **options, interval=s.clv_interval,
                n_draws=100, random_state=s.random_state,
            )  # fmt: skip
        clv = clv.join(_aligned(interval.drop(columns="clv"), clv.index))
    for column in ("clv_lower", "clv_upper"):
        if column not in clv:
            clv[column] = np.nan
    return clv[["clv", "clv_lower", "clv_upper"]]


def _prepare(
    transactions: Any, s: ScoringSettings
) -> tuple[pd.DataFrame | None, ir.Table, pd.Timestamp, Any]:
    """Return the log up to the observation end, as pandas (or None) and as one Ibis table.

    A DataFrame (or ``LoadedTransactions``) becomes one in-memory table, registered
    with DuckDB once for every query of the pass; a Parquet path, folder or glob (or
    an Ibis table) is queried where it lies and never brought into pandas (None).
    """
    loaded = transactions if isinstance(transactions, LoadedTransactions) else None
    if isinstance(transactions, (str, os.PathLike, ir.Table)):
        source = as_table(transactions)
        last = pd.Timestamp(execute(source[DATE].max()))
        end = pd.Timestamp(s.observation_end) if s.observation_end else last
        return None, source.filter(source[DATE] <= end.to_pydatetime()), end, loaded
    data = loaded.data if loaded is not None else transactions
    end = pd.Timestamp(s.observation_end) if s.observation_end else data[DATE].max()
    data = data[data[DATE] <= end].sort_values([DATE, CUSTOMER_ID], kind="stable")
    data = data.reset_index(drop=True)
    return data, as_table(data), end, loaded


@contextmanager
def _beside(
    concurrent: bool, function: Callable[..., Any], *args: Any, **kwargs: Any
) -> Iterator[Callable[[], Any]]:
    """Run ``function`` in a worker thread while the block runs; yield how to get its result.

    The worker queries in-memory tables on a DuckDB connection of its own
    (:func:`churnlab.engine.own_connection`, made here in the main thread). What the
    two threads share is restored once both are done: the warning filters and the
    BLAS thread count (model fits limit it process-wide and would restore each
    other's values; the OpenMP limits are per thread). While both run, a warning of
    one thread may be hidden by the other's ``warnings.catch_warnings`` (not
    thread-safe); the pass reports its findings as caveats, not warnings. An error
    in the block surfaces once the worker has finished (a thread cannot be stopped).
    With ``concurrent`` False, ``function`` runs when its result is asked for.
    """
    if not concurrent:
        yield lambda: function(*args, **kwargs)
        return
    connection = second_connection()

    def run() -> Any:
        with own_connection(connection):
            return function(*args, **kwargs)

    blas = threadpool_limits(limits=1, user_api="blas")
    with warnings.catch_warnings(), blas, ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(run).result


def score(transactions: Any, settings: ScoringSettings | None = None) -> ScoringResult:
    """Run the scoring pass.

    Parameters
    ----------
    transactions : LoadedTransactions, pandas.DataFrame, path or ibis.Table
        Cleaned transactions in canonical columns (``load_transactions`` output), or
        a Parquet file, folder or glob in canonical columns (queried by DuckDB where
        it lies, out-of-core under :func:`churnlab.engine.configure`'s memory limit).
    settings : ScoringSettings, optional
        Default :class:`ScoringSettings()`.

    Returns
    -------
    ScoringResult
        ``timings`` holds the wall time of each stage in seconds.
    """
    s = settings or ScoringSettings()
    stage = _Stages()
    with stage("load"):
        data, table, end, loaded = _prepare(transactions, s)
    now = end.normalize() + pd.Timedelta(days=1)
    caveats: list[str] = []
    with stage("rfm"):
        check_log(table, where="the scoring pass")
        # the snapshot now holds the RFM summary too: one query over the log, not two
        current = behaviour_features(table, cutoff=now, time_unit=s.time_unit)
        summary = summary_from_snapshot(
            current, observation_end=end, cutoff=now, time_unit=s.time_unit
        )
    with stage("kpis"):
        # the log's KPIs first, while the per-customer tables are few and small
        from_log = log_kpis(table, observation_end=end, churn_horizon_months=s.churn_horizon_months)
    horizon = (
        s.churn_horizon_months * config.TIME_UNIT_DAYS["M"] / config.TIME_UNIT_DAYS[s.time_unit]
    )

    with stage("training_sample"):
        training = training_log(table, summary.index, s)
    with stage("model_choice"):
        comparison, chosen, calibration = compare_transaction_models(
            training, summary, end=end, settings=s
        )
        caveats += comparison.attrs["caveats"]
        if training is not table:  # the tracking curve follows the customers compared
            calibration["transactions"] = execute(training)
        transaction = chosen
        spend, spend_caveats = spend_model(summary, settings=s)
        caveats += spend_caveats

    snapshots: dict[tuple, Any] = {}  # the last training snapshot is the backtest's test one
    backtest_options = {"end": end, "settings": s, "snapshots": snapshots}
    # on a large base the backtest reads only the training sample (an in-memory table),
    # so it runs beside the production classifier, on a DuckDB connection of its own
    with _beside(
        training is not table, choose_churn_source, training, transaction, **backtest_options
    ) as backtested:
        with stage("classifier"):
            scored = score_customers(
                table, cutoff=now, horizon=s.churn_horizon_months, time_unit=s.time_unit,
                classifier=classifier_for(s), random_state=s.random_state, training=training,
                current=current, spend_model=None,  # the CLV shown is the chosen models' (below)
                snapshots=snapshots,
            )  # fmt: skip
            del current  # scored.features holds what is needed of it
        with stage("backtest"):
            churn_table, source, backtest, churn_caveats = backtested()
            caveats += churn_caveats
    snapshots.clear()  # the frames are kept in the models' results where needed

    with stage("model_outputs"):
        index = summary.index
        gaps = _aligned(purchase_gaps(scored.features), index)
        clv = _aligned(_clv(transaction, spend, summary, s), index)
        healthy = model_health(transaction)[0]
        by_classifier = _values(scored.churn_probability, index)
        by_model = _values(transaction.probability_no_purchase(summary, horizon), index)
        churn = by_classifier if source == "classifier" else by_model
        value = np.clip(clv["clv"].to_numpy(), 0.0, None)
        # the float columns of SCORE_COLUMNS, in order, built into one frame at once
        columns = {name: summary[name].to_numpy() for name in summary.columns}
        columns.update({name: gaps[name].to_numpy() for name in gaps.columns})
        columns.update(
            p_alive=_values(transaction.probability_alive(summary), index) if healthy else np.nan,
            expected_purchases=_values(transaction.expected_purchases(summary, horizon), index),
            expected_spend=np.clip(_values(spend.expected_spend(summary), index), 0.0, None),
            clv=value,
            clv_lower=clv["clv_lower"].to_numpy(),
            clv_upper=clv["clv_upper"].to_numpy(),
            churn_probability=churn,
            churn_probability_classifier=by_classifier,
            churn_probability_transaction_model=by_model,
            revenue_at_risk=value * churn,
        )
        customers = pd.DataFrame(columns, index=index)
    with stage("segments"):
        customers["segment"] = _aligned(rfm_segments(summary)["segment"], index).astype(TEXT)
        regularity = _aligned(scored.features["regularity"], index)
        health = health_tiers(customers["churn_probability"].fillna(0.5), regularity=regularity)
        health = _aligned(health, index)
        customers["health_tier"] = health["tier"].astype(TEXT)
        customers["health_score"] = health["health_score"]
    with stage("reasons"):
        retained = scored.train_features[~scored.train_labels.to_numpy(dtype=bool)]
        reasons = at_risk_reasons(
            scored.classifier, scored.features, customers["churn_probability"],
            reference=retained, min_churn_probability=s.min_churn_probability,
            currency=s.currency,
        )  # fmt: skip
        reasons = _aligned(reasons, index)
        for name in REASON_COLUMNS:
            customers[name] = reasons[name]
    with stage("segments"):
        customers["action"] = contact_list(
            customers,
            valuable_share=s.valuable_share,
            min_churn_probability=s.min_churn_probability,
        ).astype(TEXT)
        if list(customers.columns) != list(SCORE_COLUMNS):  # built in this order
            customers = customers[list(SCORE_COLUMNS)]
        customers.index.name = CUSTOMER_ID

    with stage("kpis"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kpis, monthly = base_kpis(
            table, customers, observation_end=end,
            churn_horizon_months=s.churn_horizon_months, from_log=from_log,
        )  # fmt: skip
        baseline = kpis["yearly_retention"]
        what_if = what_if_retention(
            transaction, spend, summary, points=[s.retention_points], horizon=36,
            baseline_retention=baseline if baseline is not None and 0 < baseline < 1 else None,
        )  # fmt: skip
    kpis.update(
        retention_what_if_value=round(float(what_if["value_change"].iloc[0]), 2),
        retention_what_if_points=s.retention_points,
        transaction_model=comparison.attrs["chosen"],
        churn_probability_source=source,
        currency=s.currency,
        observation_end=str(end.date()),
        caveats=caveats,
    )
    return ScoringResult(
        customers=customers,
        kpis=kpis,
        caveats=caveats,
        model_comparison=comparison,
        churn_comparison=churn_table,
        monthly_retention=monthly,
        what_if=what_if,
        settings=s,
        transactions=data,
        cleaning=loaded.report if loaded is not None else None,
        dropped=loaded.dropped if loaded is not None else None,
        models={
            "transaction": transaction,
            "spend": spend,
            "classifier": scored.classifier,
            "backtest": backtest,
            "calibration": calibration,
            "scoring": scored,
        },
        timings=stage.seconds,
    )


#: Columns of the action list (``actions.csv``), in order.
ACTION_COLUMNS = (
    "segment", "clv", "churn_probability", "revenue_at_risk", "days_since_last_purchase",
    "reason_1", "reason_2", "reason_3", "action",
)  # fmt: skip


def action_list(result: ScoringResult) -> pd.DataFrame:
    """Return the customers to contact, largest revenue at risk first (the work list).

    Parameters
    ----------
    result : ScoringResult

    Returns
    -------
    pandas.DataFrame
        Index ``customer_id``; :data:`ACTION_COLUMNS`.
    """
    listed = result.customers[result.customers["action"].notna()]
    listed = listed.sort_values(["revenue_at_risk", "clv"], ascending=False, kind="stable")
    return listed[list(ACTION_COLUMNS)]


def write_outputs(
    result: ScoringResult,
    folder: str | Path,
    *,
    keep_result: bool = True,
    table_file: str = SCORES_FILE,
) -> Path:
    """Write ``scores.parquet`` and ``kpis.json`` (and the full result for the notebooks).

    Parameters
    ----------
    result : ScoringResult
        Or any result with ``customers``, ``kpis`` and dataclass ``settings`` (the
        contractual pass's ``SubscriberResult``).
    folder : str or Path
        The run folder.
    keep_result : bool, default True
        Also pickle the whole result to ``scoring.pkl`` (read by :func:`load_outputs`;
        the report runner removes it before publishing).
    table_file : str, default "scores.parquet"
        File name of the per-customer table (``subscribers.parquet`` for a
        subscription run).

    Returns
    -------
    Path
        ``folder``.
    """
    folder = Path(folder)
    result.customers.to_parquet(folder / table_file)
    kpis = {"settings": dataclasses.asdict(result.settings), **result.kpis}
    text = json.dumps(kpis, indent=2, sort_keys=True, default=str, allow_nan=False)
    (folder / KPIS_FILE).write_text(text + "\n", encoding="utf-8")
    if keep_result:
        with (folder / RESULT_FILE).open("wb") as handle:
            pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return folder


def load_outputs(folder: str | Path) -> ScoringResult:
    """Read the scoring result that ``churnlab report`` wrote into a run folder.

    Parameters
    ----------
    folder : str or Path
        The run folder (holding ``scoring.pkl``).

    Returns
    -------
    ScoringResult
    """
    with (Path(folder) / RESULT_FILE).open("rb") as handle:
        return pickle.load(handle)  # written by this run of churnlab itself


def run_transactions(run_dir: str) -> pd.DataFrame | None:
    """Return the run's cleaned transaction log, or None outside a run (or for a snapshot).

    Parameters
    ----------
    run_dir : str
        The run folder passed to the notebooks ("" in JupyterLab).

    Returns
    -------
    pandas.DataFrame or None
    """
    if not run_dir or not (Path(run_dir) / RESULT_FILE).exists():
        return None
    return load_outputs(run_dir).transactions


def run_currency(run_dir: str) -> str:
    """Return the ISO currency of the run's amounts ("" outside a run or for a snapshot).

    Parameters
    ----------
    run_dir : str
        The run folder passed to the notebooks.

    Returns
    -------
    str
    """
    path = Path(run_dir) / KPIS_FILE if run_dir else None
    if path is None or not path.exists():
        return ""
    return str(json.loads(path.read_text(encoding="utf-8")).get("currency", ""))


def open_scores(
    run_dir: str = "",
    *,
    data_source: str = "online_retail",
    sample_customers: int = 0,
    data_options: dict[str, Any] | None = None,
    **settings: Any,
) -> ScoringResult:
    """Return the scoring result a notebook shows: the run's, or a fresh one in JupyterLab.

    Parameters
    ----------
    run_dir : str, default ""
        The run folder ``churnlab report`` passes to every notebook; "" (an analyst
        in JupyterLab) scores ``data_source`` here and now with the same function.
    data_source : str, default "online_retail"
        Bundled name or path (used when ``run_dir`` is "").
    sample_customers : int, default 0
        Customer sample (used when ``run_dir`` is "").
    data_options : dict, optional
        Column mapping and reading options (``churnlab.config.SOURCE_OPTIONS``).
    **settings
        :class:`ScoringSettings` fields; other names are ignored.

    Returns
    -------
    ScoringResult
    """
    if run_dir:
        return load_outputs(run_dir)
    values = ScoringSettings.from_mapping({"currency": CURRENCIES.get(data_source, ""), **settings})
    loaded = load_source(
        data_source,
        sample_customers=sample_customers,
        random_state=values.random_state,
        **(data_options or {}),
    )
    return score(loaded, values)
