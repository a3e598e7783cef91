"""The churn record: one row per churned customer with reason, tenure, value and segment."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from churnlab.config import AMOUNT, CUSTOMER_ID, DATE
from churnlab.data.validation import format_examples, require_columns
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.reasons.engagement import NOT_AVAILABLE, period_activity, trend_and_pattern
from churnlab.reasons.records import (
    CATEGORY,
    CHURN_DATE,
    COMMENT,
    COMPETITOR,
    DRIVER,
    EVIDENCE,
    NO_EVIDENCE,
    NPS,
    REASON,
    REASON_COLUMNS,
    SATISFACTION,
    STATED,
    UNKNOWN_REASON,
    LoadedReasons,
    churned_index,
    join_reasons,
)
from churnlab.units import days_per

__all__ = ["RECORD_FIELDS", "TELCO_COLUMNS", "TELCO_EXTRA", "churn_record"]

#: Fields ``columns=`` may map to a column of the customer table.
RECORD_FIELDS = (
    CATEGORY,
    REASON,
    CHURN_DATE,
    COMMENT,
    COMPETITOR,
    SATISFACTION,
    NPS,
    "tenure",
    "revenue",
    "clv",
    "segment",
)
#: ``columns="telco"``: the bundled IBM Telco table (``churnlab.datasets.load_telco``).
#: Tenure is in months, revenue is Total Revenue to date, CLV is IBM's predicted CLTV and
#: the segment is the internet product (Telco has no RFM segments; IBM's "None" is
#: shown as "No internet").
TELCO_COLUMNS: dict[str, str] = {
    CATEGORY: "Churn Category",
    REASON: "Churn Reason",
    "tenure": "Tenure in Months",
    "revenue": "Total Revenue",
    "clv": "CLTV",
    "segment": "Internet Type",
    SATISFACTION: "Satisfaction Score",
}
#: Extra Telco columns carried into the record (record name -> IBM column).
TELCO_EXTRA: dict[str, str] = {
    "contract": "Contract",
    "offer": "Offer",
    "monthly_charge": "Monthly Charge",
    "gb_download": "Avg Monthly GB Download",
}
TENURE_EDGES = (0, 12, 24, 48, np.inf)
TENURE_LABELS = ("0-12 months", "13-24 months", "25-48 months", "49+ months")
VALUE_LABELS = ("Low value", "Mid value", "High value")
SATISFACTION_LABELS = ("Low (1-2)", "Neutral (3)", "High (4-5)")
NPS_LABELS = ("Detractor (0-6)", "Passive (7-8)", "Promoter (9-10)")
UNSEGMENTED = "Unsegmented"


def churn_record(
    customers: pd.DataFrame | None = None,
    *,
    reasons: pd.DataFrame | LoadedReasons | None = None,
    transactions: pd.DataFrame | None = None,
    clv: pd.Series | pd.DataFrame | None = None,
    segments: pd.Series | pd.DataFrame | None = None,
    drivers: pd.DataFrame | None = None,
    columns: str | Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
    n_periods: int = 6,
    time_unit: str = "M",
) -> pd.DataFrame:
    """Build the churn record: one row per churned customer.

    Parameters
    ----------
    customers : pandas.DataFrame, optional
        Customer table indexed by customer_id (or with that column). With a
        boolean ``churned`` column only churned customers get a record;
        without one, every row is a churned customer.
    reasons : DataFrame or LoadedReasons, optional
        Output of :func:`load_churn_reasons`; joined with :func:`join_reasons`.
    transactions : pandas.DataFrame, optional
        Canonical transaction log (customer_id, date, amount). Gives tenure and
        revenue to date when the customer table does not, and the engagement trend.
    clv : Series or DataFrame, optional
        Customer lifetime value at churn (a Series or a ``clv`` column, e.g. from
        ``churnlab.models.clv.customer_lifetime_value``).
    segments : Series or DataFrame, optional
        Segment at churn (a Series or a ``segment`` column, e.g. from
        ``churnlab.segments.rfm_segments``).
    drivers : pandas.DataFrame, optional
        Per-customer classifier drivers (see :func:`churnlab.reasons.driver_reasons`);
        they stand in for customers without a stated reason.
    columns : "telco" or mapping, optional
        Record field -> customer-table column, for fields in :data:`RECORD_FIELDS`
        (tenure in months). ``"telco"`` uses :data:`TELCO_COLUMNS` and :data:`TELCO_EXTRA`.
    extra : mapping, optional
        More customer-table columns to carry along (record name -> column).
    n_periods : int, default 6
        Periods before churn used for the engagement trend.
    time_unit : {"D", "W", "M"}, default "M"
        Length of those periods.

    Returns
    -------
    pandas.DataFrame
        Index customer_id; columns churn_date, category, reason, comment,
        competitor, satisfaction, nps, evidence ("stated reason", "classifier
        driver" or "none"), tenure_months, revenue_to_date, clv_lost, segment,
        engagement_trend, engagement_pattern, tenure_band, value_tier,
        satisfaction_band, nps_band, then the extra columns.
        ``attrs["has_log"]`` says whether engagement comes from a transaction log.

    Raises
    ------
    ConfigError
        For an unknown field in ``columns`` or when neither customers nor reasons is given.
    DataValidationError
        For a missing mapped column or a non-boolean ``churned`` column.
    """
    mapping, extra_map = _resolve_columns(columns, extra)
    if customers is None and reasons is None:
        raise ConfigError(
            "churn_record needs customers= (with a boolean 'churned' column) or reasons= "
            "(from load_churn_reasons) to know who churned."
        )
    table = None
    if customers is not None:
        table = customers if customers.index.name == CUSTOMER_ID else _index_customers(customers)
        require_columns(table, [*mapping.values(), *extra_map.values()], where="churn_record")
        table = table.set_axis(table.index.astype(str))
    if reasons is not None:
        who = churned_index(table, where="churn_record") if table is not None else None
        base = join_reasons(who if who is not None else _reason_ids(reasons), reasons)
    else:
        ids = churned_index(table, where="churn_record")
        base = pd.DataFrame({c: pd.Series(np.nan, index=ids, dtype=object) for c in REASON_COLUMNS})
    base = _fill_from_table(base, table, mapping)
    if drivers is not None:
        base = _fill_from_drivers(base, drivers)
    out = base.copy()
    out[CHURN_DATE] = pd.to_datetime(out[CHURN_DATE]).astype("datetime64[ns]")
    ids = out.index
    out["tenure_months"] = _column(table, mapping.get("tenure"), ids)
    out["revenue_to_date"] = _column(table, mapping.get("revenue"), ids)
    out["clv_lost"] = _series(clv, "clv", ids, fallback=_column(table, mapping.get("clv"), ids))
    seg = _series(segments, "segment", ids, fallback=_column(table, mapping.get("segment"), ids))
    if isinstance(columns, str) and segments is None:
        seg = seg.replace({"None": "No internet"})
    out["segment"] = seg.astype(object).where(seg.notna(), UNSEGMENTED)
    out["engagement_trend"] = np.nan
    out["engagement_pattern"] = NOT_AVAILABLE
    if transactions is not None:
        out = _from_log(out, transactions, n_periods=n_periods, time_unit=time_unit)
    out = _add_bands(out)
    for name, col in extra_map.items():
        out[name] = _column(table, col, ids)
    out.attrs["has_log"] = transactions is not None
    out.attrs["segment_source"] = (
        "segments argument"
        if segments is not None
        else mapping.get("segment", "none (no segments given)")
    )
    return out


def _resolve_columns(
    columns: str | Mapping[str, str] | None, extra: Mapping[str, str] | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Return (field mapping, extra mapping), validating field names."""
    if isinstance(columns, str):
        if columns.lower() != "telco":
            raise ConfigError(
                f"columns={columns!r} is not a known preset. Use 'telco' or a mapping "
                f"of record fields ({', '.join(RECORD_FIELDS)}) to your column names."
            )
        return dict(TELCO_COLUMNS), dict(TELCO_EXTRA) | dict(extra or {})
    mapping = dict(columns or {})
    unknown = [k for k in mapping if k not in RECORD_FIELDS]
    if unknown:
        raise ConfigError(
            f"columns= has unknown record field(s) {format_examples(unknown)}. "
            f"Known fields: {', '.join(RECORD_FIELDS)}; carry other columns with extra=."
        )
    return mapping, dict(extra or {})


def _index_customers(customers: pd.DataFrame) -> pd.DataFrame:
    """Index a customer table by customer_id."""
    require_columns(customers, [CUSTOMER_ID], where="churn_record")
    return customers.set_index(CUSTOMER_ID)


def _reason_ids(reasons: pd.DataFrame | LoadedReasons) -> pd.Index:
    """Ids of the customers in a reasons table."""
    data = reasons.data if isinstance(reasons, LoadedReasons) else reasons
    return pd.Index(data.index.astype(str), name=CUSTOMER_ID)


def _column(table: pd.DataFrame | None, column: str | None, ids: pd.Index) -> pd.Series:
    """Return a customer-table column aligned on ``ids`` (NaN when not mapped)."""
    if table is None or column is None:
        return pd.Series(np.nan, index=ids)
    return table[column].reindex(ids)


def _series(
    value: pd.Series | pd.DataFrame | None, name: str, ids: pd.Index, *, fallback: pd.Series
) -> pd.Series:
    """Align a Series (or a DataFrame's ``name`` column) on ``ids``."""
    if value is None:
        return fallback
    if isinstance(value, pd.DataFrame):
        require_columns(value, [name], where=f"churn_record ({name}=)")
        value = value[name]
    return value.set_axis(value.index.astype(str)).reindex(ids)


def _fill_from_table(
    base: pd.DataFrame, table: pd.DataFrame | None, mapping: dict[str, str]
) -> pd.DataFrame:
    """Fill record fields that the reasons table lacks from mapped customer columns."""
    base = base.astype({c: object for c in (CATEGORY, REASON, COMMENT, COMPETITOR, EVIDENCE)})
    unknown = base[CATEGORY].isna() | (base[CATEGORY] == UNKNOWN_REASON)
    for name in (CHURN_DATE, COMMENT, COMPETITOR, SATISFACTION, NPS, CATEGORY, REASON):
        if name in mapping and table is not None:
            values = table[mapping[name]].reindex(base.index)
            if name in (CATEGORY, REASON):
                values = values.where(values.astype("string").str.strip().ne("").fillna(False))
                base.loc[unknown, name] = values[unknown]
            else:
                base[name] = base[name].where(base[name].notna(), values)
    base[CATEGORY] = base[CATEGORY].where(base[CATEGORY].notna(), base[REASON])
    base[REASON] = base[REASON].where(base[REASON].notna(), base[CATEGORY])
    base[[CATEGORY, REASON]] = base[[CATEGORY, REASON]].fillna(UNKNOWN_REASON)
    stated = base[CATEGORY] != UNKNOWN_REASON
    base[EVIDENCE] = np.where(stated, STATED, NO_EVIDENCE)
    return base


def _fill_from_drivers(base: pd.DataFrame, drivers: pd.DataFrame) -> pd.DataFrame:
    """Give customers without a stated reason their top classifier driver."""
    from churnlab.reasons.drivers import driver_reasons

    top = driver_reasons(drivers)
    base = base.copy()
    use = (base[EVIDENCE] == NO_EVIDENCE) & base.index.isin(top.index)
    ids = base.index[use]
    base.loc[ids, CATEGORY] = top.loc[ids, CATEGORY]
    base.loc[ids, REASON] = top.loc[ids, REASON]
    base.loc[ids, EVIDENCE] = DRIVER
    return base


def _from_log(
    out: pd.DataFrame, transactions: pd.DataFrame, *, n_periods: int, time_unit: str
) -> pd.DataFrame:
    """Tenure, revenue to date and engagement trend from a transaction log."""
    require_columns(transactions, [CUSTOMER_ID, DATE, AMOUNT], where="churn_record (transactions)")
    tx = transactions[[CUSTOMER_ID, DATE, AMOUNT]].copy()
    tx[CUSTOMER_ID] = tx[CUSTOMER_ID].astype(str)
    tx = tx[tx[CUSTOMER_ID].isin(out.index)]
    end = tx[CUSTOMER_ID].map(out[CHURN_DATE])
    before = tx[end.isna() | (tx[DATE] <= end)]
    late = len(tx) - len(before)
    first = tx.groupby(CUSTOMER_ID)[DATE].min().reindex(out.index)
    last = before.groupby(CUSTOMER_ID)[DATE].max().reindex(out.index)
    stop = out[CHURN_DATE].fillna(last)
    days = (stop - first).dt.total_seconds() / 86400.0
    out["tenure_months"] = out["tenure_months"].fillna(days / days_per("M"))
    revenue = before.groupby(CUSTOMER_ID)[AMOUNT].sum().reindex(out.index)
    out["revenue_to_date"] = out["revenue_to_date"].fillna(revenue)
    no_history = first.isna()
    if no_history.all():
        raise DataValidationError(
            f"churn_record: none of the {len(out):,} churned customers has a transaction in "
            f"the log, e.g. {format_examples(out.index[:5])}. Check that both use the same "
            "customer ids."
        )
    spend, _ = period_activity(
        tx[~no_history.reindex(tx[CUSTOMER_ID]).to_numpy()],
        out.loc[~no_history, CHURN_DATE],
        n_periods=n_periods,
        time_unit=time_unit,
    )
    trend = trend_and_pattern(spend)
    out.loc[trend.index, "engagement_trend"] = trend["engagement_trend"]
    out.loc[trend.index, "engagement_pattern"] = trend["engagement_pattern"]
    out.attrs["purchases_after_churn_date"] = late
    return out


def _add_bands(out: pd.DataFrame) -> pd.DataFrame:
    """Tenure band, value tier (CLV lost, else revenue), satisfaction and NPS bands."""
    out["tenure_band"] = pd.cut(
        out["tenure_months"], TENURE_EDGES, labels=TENURE_LABELS, include_lowest=True
    )
    basis = "clv_lost" if out["clv_lost"].notna().any() else "revenue_to_date"
    value = out[basis]
    if value.notna().sum() >= len(VALUE_LABELS):
        ranks = value.rank(method="first")
        out["value_tier"] = pd.qcut(ranks, len(VALUE_LABELS), labels=VALUE_LABELS)
    else:
        out["value_tier"] = pd.Categorical([np.nan] * len(out), categories=VALUE_LABELS)
    out.attrs["value_tier_basis"] = basis
    sat = pd.to_numeric(out[SATISFACTION], errors="coerce")
    out["satisfaction_band"] = pd.cut(sat, (0, 2, 3, 5), labels=SATISFACTION_LABELS)
    nps = pd.to_numeric(out[NPS], errors="coerce")
    out["nps_band"] = pd.cut(nps, (-0.5, 6, 8, 10), labels=NPS_LABELS)
    return out
