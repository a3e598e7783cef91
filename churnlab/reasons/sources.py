"""One call from a notebook's ``data_source`` parameter to churn records.

Telco carries stated reasons. A transaction log either comes with a reasons
table (``reasons_source``), or churn is defined by inactivity and the churn
classifier's per-customer drivers stand in for reasons (and say so).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

import pandas as pd

from churnlab.classifier.drivers import customer_reasons
from churnlab.classifier.pipeline import ChurnClassifier, churn_labels
from churnlab.config import CHURNED, DATE
from churnlab.datasets import load_source, load_telco
from churnlab.exceptions import ConfigError
from churnlab.features.behaviour import behaviour_features
from churnlab.markup import escape_markdown
from churnlab.reasons.build import churn_record
from churnlab.reasons.records import REASON_COLUMNS, load_churn_reasons
from churnlab.units import days_per

__all__ = ["ReasonRecords", "records_for_source"]


class ReasonRecords(NamedTuple):
    """What :func:`records_for_source` returns.

    Attributes
    ----------
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record`.
    transactions : pandas.DataFrame or None
        The transaction log used (None for snapshot data such as Telco).
    description : str
        One sentence on where the records come from, for the notebook.
    """

    records: pd.DataFrame
    transactions: pd.DataFrame | None
    description: str


def records_for_source(
    data_source: str | os.PathLike[str] = "telco",
    *,
    reasons_source: str | os.PathLike[str] = "",
    reasons_columns: Mapping[str, str] | None = None,
    sample_customers: int = 0,
    random_state: int = 0,
    n_periods: int = 6,
    time_unit: str = "M",
    horizon: float = 3,
    transactions: pd.DataFrame | None = None,
    currency: str = "",
) -> ReasonRecords:
    """Build churn records for a bundled dataset or a transaction log.

    Parameters
    ----------
    data_source : str or path, default "telco"
        ``"telco"`` (stated reasons), or a transaction source accepted by
        :func:`churnlab.datasets.load_source`.
    reasons_source : str or path, default ""
        Reasons file for a transaction log; "" = none (classifier drivers stand in).
    reasons_columns : mapping, optional
        Keyword arguments of :func:`load_churn_reasons` (``customer_id``,
        ``category``, ...); default: the canonical names present in the file.
    sample_customers : int, default 0
        Random sample of customers (0 = all).
    random_state : int, default 0
        Seed of the sample and the classifier.
    n_periods : int, default 6
        Periods before churn for the engagement trend.
    time_unit : {"D", "W", "M"}, default "M"
        Period length.
    horizon : float, default 3
        Without reasons: months without a purchase after the cutoff that count as churn.
    transactions : pandas.DataFrame, optional
        The run's cleaned log (``ScoringResult.transactions``); when given it is used
        instead of loading ``data_source`` again, which then only names it.
    currency : str, default ""
        ISO code (or symbol) of the log's amounts, for the money in the reasons the
        classifier's drivers stand in for (e.g. ``scoring.run_currency(run_dir)``).

    Returns
    -------
    ReasonRecords
        Records, the log used, and a description.
    """
    if str(data_source) == "telco":
        telco = load_telco()
        if sample_customers:
            telco = telco.sample(n=min(sample_customers, len(telco)), random_state=random_state)
        records = churn_record(telco, columns="telco")
        text = (
            f"IBM Telco snapshot: {len(telco):,} customers, {len(records):,} churned, with the "
            "churn category and reason each customer gave. It has no transaction log and no "
            "churn dates."
        )
        return ReasonRecords(records, None, text)
    tx = transactions
    if tx is None:
        tx = load_source(
            data_source, sample_customers=sample_customers, random_state=random_state
        ).data
    if reasons_source:
        kwargs = dict(reasons_columns or _canonical_columns(reasons_source))
        loaded = load_churn_reasons(reasons_source, **kwargs)
        records = churn_record(
            reasons=loaded, transactions=tx, n_periods=n_periods, time_unit=time_unit
        )
        text = (
            f"Transaction log {_quoted(data_source)} joined to the reasons table "
            f"{_quoted(reasons_source)} ({loaded.report.kept_rows:,} records kept of "
            f"{loaded.report.input_rows:,})."
        )
        return ReasonRecords(records, tx, text)
    return _records_from_drivers(
        tx, data_source, random_state, n_periods, time_unit, horizon, currency=currency
    )


#: How the bundled sources are named for readers.
_BUNDLED_NAMES = {
    "online_retail": "Online Retail (bundled sample)",
    "cdnow": "CDNOW (bundled sample)",
}


def _quoted(source: str | os.PathLike[str]) -> str:
    """Return a data source as readers know it (a bundled name, or the file's name), escaped."""
    text = os.fspath(source)
    return f"'{escape_markdown(_BUNDLED_NAMES.get(text, os.path.basename(text) or text))}'"


def _canonical_columns(path: str | os.PathLike[str]) -> dict[str, str]:
    """Map load_churn_reasons keywords to the canonical columns the file has."""
    header = pd.read_csv(path, nrows=0).columns if str(path).endswith((".csv", ".gz")) else None
    if header is None:
        raise ConfigError(
            "records_for_source: pass reasons_columns= (the load_churn_reasons column "
            f"mapping) for {os.fspath(path)!r}; only CSV headers are read automatically."
        )
    found = {name: name for name in REASON_COLUMNS[:-1] if name in header}
    return {"customer_id": "customer_id", **found}


def _records_from_drivers(
    tx: pd.DataFrame,
    data_source: str | os.PathLike[str],
    random_state: int,
    n_periods: int,
    time_unit: str,
    horizon: float,
    *,
    currency: str,
) -> ReasonRecords:
    """Inactivity churn with the classifier's top driver standing in as the reason."""
    cutoff = tx[DATE].max().normalize() - pd.Timedelta(days=horizon * days_per("M"))
    labels = churn_labels(tx, cutoff=cutoff, horizon=horizon, horizon_unit="M")
    features = behaviour_features(tx, cutoff=cutoff)
    y = labels.reindex(features.index).fillna(False).astype(bool)
    model = ChurnClassifier(random_state=random_state).fit(features, y)
    churned = features.index[y.to_numpy()]
    drivers = customer_reasons(
        model, features.loc[churned], reference=features.loc[~y], top=1, currency=currency
    )
    customers = labels.to_frame(CHURNED)
    records = churn_record(
        customers,
        transactions=tx[tx[DATE] < cutoff],
        drivers=drivers,
        n_periods=n_periods,
        time_unit=time_unit,
    )
    text = (
        f"Transaction log {_quoted(data_source)} without stated reasons: a customer "
        f"counts as churned after {horizon:g} months without a purchase (cutoff "
        f"{cutoff.date()}), and the churn classifier's top driver stands in as the reason."
    )
    return ReasonRecords(records, tx[tx[DATE] < cutoff], text)
