"""Per-customer scores and the executive summary's figures, from one transaction log.

:func:`score_base` fits what the summary needs (the churn classifier, BG/NBD and
Gamma-Gamma) once and returns the per-customer table used by ``churnlab score``
(CRM import) and by the executive-summary notebook, plus headline KPIs, the
segments and reasons to act on, the action list and a what-if figure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.data.validation import require_columns
from churnlab.exceptions import ConfigError

__all__ = ["BaseScores", "kpi_changes", "score_base"]

SCORE_COLUMNS = (
    "p_alive",
    "churn_probability",
    "expected_purchases",
    "clv",
    "revenue_at_risk",
    "segment",
    "health_tier",
)


class BaseScores(NamedTuple):
    """What :func:`score_base` returns.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per customer (index customer_id): ``p_alive``, ``churn_probability``,
        ``expected_purchases`` (over the churn horizon), ``clv`` (over the CLV
        horizon), ``revenue_at_risk`` (clv x churn probability), ``segment``,
        ``health_tier`` and, when requested, ``reason_1``..``reason_3``.
    kpis : dict
        Headline KPIs (see :func:`score_base`).
    segments : pandas.DataFrame
        Segments ranked by revenue at risk.
    reasons : pandas.DataFrame
        Top churn-risk reasons among at-risk customers, with shares.
    actions : pandas.DataFrame
        Valuable customers who have gone quiet, ranked by revenue at risk.
    what_if : pandas.DataFrame
        :func:`churnlab.retention.what_if_retention` for the requested points.
    """

    scores: pd.DataFrame
    kpis: dict[str, float]
    segments: pd.DataFrame
    reasons: pd.DataFrame
    actions: pd.DataFrame
    what_if: pd.DataFrame


def _retention(data: pd.DataFrame, end: pd.Timestamp) -> float:
    from churnlab import retention

    table = retention.period_retention(data[[config.CUSTOMER_ID, config.DATE, config.AMOUNT]])
    rates = table["retention_rate"]
    if end.day < end.days_in_month:  # the last month is partial
        rates = rates.iloc[:-1]
    rates = rates.dropna().iloc[-12:]
    return float(rates.median()) if len(rates) else float("nan")


def _top_reasons(explained: pd.DataFrame, at_risk: pd.Index, top_n: int) -> pd.DataFrame:
    """Most frequent main driver (``feature_1``) among the at-risk customers."""
    rows = explained.loc[explained.index.intersection(at_risk)]
    if "feature_1" not in rows or rows.empty:
        return pd.DataFrame({"customers": [], "share": []}).rename_axis("driver")
    drivers = rows["feature_1"].replace("", np.nan).dropna().str.replace("_", " ")
    table = drivers.value_counts().head(top_n).rename("customers").to_frame().rename_axis("driver")
    table["share"] = table["customers"] / len(rows)
    if "reason_1" in rows:
        example = (
            rows.assign(driver=drivers).dropna(subset=["driver"]).groupby("driver")["reason_1"]
        )
        table["example"] = example.first().reindex(table.index)
    return table


def score_base(
    data: pd.DataFrame,
    *,
    observation_end: Any = None,
    time_unit: str = "W",
    churn_horizon_months: float = 3,
    clv_horizon_months: int = 12,
    retention_points: float = 2.0,
    top_n: int = 10,
    reasons: str = "actions",
    random_state: int | None = 42,
) -> BaseScores:
    """Score every customer and compute the executive summary's figures.

    Parameters
    ----------
    data : pandas.DataFrame
        Cleaned transactions in canonical columns (``LoadedTransactions.data``).
    observation_end : date-like, optional
        "Now"; default the last purchase date.
    time_unit : {"D", "W", "M"}, default "W"
        Unit of the RFM summary and the models.
    churn_horizon_months : float, default 3
        Churned = no purchase within this many months.
    clv_horizon_months : int, default 12
        Horizon of the lifetime value.
    retention_points : float, default 2.0
        What-if: extra yearly retention, in percentage points.
    top_n : int, default 10
        Length of the action list and of the reasons table.
    reasons : {"actions", "all", "none"}, default "actions"
        Whose per-customer reasons to compute: the at-risk customers and the
        action list, every customer (CRM export), or none.
    random_state : int, optional
        Seed of the classifier.

    Returns
    -------
    BaseScores
        KPIs: ``customers``, ``active_share`` (bought within the churn horizon),
        ``retention_rate`` and ``churn_rate`` (median monthly, last 12 complete
        months), ``revenue_12m``, ``expected_value_12m`` (sum of CLV),
        ``revenue_at_risk``, ``retention_what_if_value``.

    Raises
    ------
    ConfigError
        For an unknown ``reasons`` choice or time unit.
    DataValidationError
        If a canonical column is missing.
    """
    from churnlab import segments as seg
    from churnlab.features.rfm import rfm_summary
    from churnlab.models.bgnbd import BetaGeoModel
    from churnlab.models.churn_backtest import score_customers
    from churnlab.models.churn_drivers import customer_reasons
    from churnlab.models.clv import customer_lifetime_value
    from churnlab.models.gamma_gamma import GammaGammaModel
    from churnlab.retention import observed_annual_retention, what_if_retention

    if reasons not in {"actions", "all", "none"}:
        raise ConfigError(f"reasons must be 'actions', 'all' or 'none', got {reasons!r}.")
    if time_unit not in config.TIME_UNIT_DAYS:
        raise ConfigError(
            f"time_unit must be one of {list(config.TIME_UNIT_DAYS)}, got {time_unit!r}."
        )
    require_columns(data, [config.CUSTOMER_ID, config.DATE, config.AMOUNT], where="score_base")
    end = (
        pd.Timestamp(observation_end)
        if observation_end not in (None, "")
        else data[config.DATE].max()
    )
    data = data[data[config.DATE] <= end]
    now = end.normalize() + pd.Timedelta(days=1)
    scored = score_customers(
        data,
        cutoff=now,
        horizon=churn_horizon_months,
        time_unit=time_unit,
        random_state=random_state,
    )
    summary = rfm_summary(data, observation_end=end, time_unit=time_unit)
    bgnbd = BetaGeoModel(penalizer=0.001).fit(summary, time_unit=time_unit)
    repeaters = summary[(summary[config.FREQUENCY] > 0) & (summary[config.MONETARY_VALUE] > 0)]
    spend = GammaGammaModel(penalizer=0.001).fit(repeaters, time_unit=time_unit)
    window = churn_horizon_months * config.TIME_UNIT_DAYS["M"] / config.TIME_UNIT_DAYS[time_unit]
    clv = customer_lifetime_value(
        bgnbd, spend, summary, horizon=clv_horizon_months, horizon_unit="M"
    )
    scores = pd.DataFrame(index=summary.index)
    scores["p_alive"] = bgnbd.probability_alive(summary)
    scores["churn_probability"] = scored.churn_probability.reindex(scores.index)
    scores["expected_purchases"] = bgnbd.expected_purchases(summary, window)
    scores["clv"] = clv["clv"].clip(lower=0.0)
    scores["revenue_at_risk"] = scores["clv"] * scores["churn_probability"]
    scores["segment"] = seg.rfm_segments(summary)["segment"]
    regularity = scored.features["regularity"] if "regularity" in scored.features else None
    health = seg.health_tiers(scores["churn_probability"].fillna(0.5), regularity=regularity)
    scores["health_tier"] = health["tier"].reindex(scores.index)
    actions = seg.action_list(
        scores["clv"],
        scores["churn_probability"].fillna(0.0),
        segments=scores["segment"],
        top=top_n,
    )
    top_reasons = _top_reasons(pd.DataFrame(), pd.Index([]), top_n)
    if reasons != "none":
        retained = scored.train_features[~scored.train_labels.to_numpy(dtype=bool)]
        features = scored.features.reindex(columns=scored.train_features.columns)
        at_risk = scores.index[scores["churn_probability"] >= 0.5]
        who = scores.index if reasons == "all" else actions.index.union(at_risk)
        explained = customer_reasons(
            scored.classifier, features.loc[features.index.intersection(who)], reference=retained
        )
        cols = [c for c in ("reason_1", "reason_2", "reason_3") if c in explained]
        scores = scores.join(explained[cols])
        actions = actions.join(explained[cols])
        top_reasons = _top_reasons(explained, at_risk, top_n)
    segment_table = (
        scores.groupby("segment", observed=True)
        .agg(
            customers=("clv", "size"),
            clv=("clv", "sum"),
            revenue_at_risk=("revenue_at_risk", "sum"),
            churn_probability=("churn_probability", "mean"),
        )
        .sort_values("revenue_at_risk", ascending=False)
    )
    observed = observed_annual_retention(data)
    what_if = what_if_retention(
        bgnbd,
        spend,
        summary,
        points=[retention_points],
        horizon=36,
        baseline_retention=observed if 0 < observed < 1 else None,
    )
    last = data.groupby(config.CUSTOMER_ID)[config.DATE].max()
    horizon_start = end - pd.Timedelta(days=churn_horizon_months * config.TIME_UNIT_DAYS["M"])
    year_ago = end - pd.Timedelta(days=365)
    retention_rate = _retention(data, end)
    kpis = {
        "customers": len(scores),
        "active_share": round(float((last > horizon_start).mean()), 4),
        "retention_rate": round(retention_rate, 4),
        "churn_rate": round(1 - retention_rate, 4),
        "revenue_12m": round(float(data.loc[data[config.DATE] > year_ago, config.AMOUNT].sum()), 2),
        "expected_value_12m": round(float(scores["clv"].sum()), 2),
        "revenue_at_risk": round(float(scores["revenue_at_risk"].sum()), 2),
        "retention_what_if_value": round(float(what_if["value_change"].iloc[0]), 2),
    }
    return BaseScores(scores, kpis, segment_table, top_reasons, actions, what_if)


def kpi_changes(kpis: Mapping[str, object], previous: str | Mapping[str, object]) -> pd.DataFrame:
    """Return each KPI with the previous run's value and the change.

    Parameters
    ----------
    kpis : mapping
        This run's KPIs.
    previous : str or mapping
        The previous run's KPIs, or their JSON (the runner passes
        ``previous_kpis`` as JSON); "" or "{}" means no previous run.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``kpi``: ``value``, ``previous`` and ``change`` (NaN when the
        previous run did not record the KPI).

    Raises
    ------
    ConfigError
        If ``previous`` is not valid JSON of an object.
    """
    if isinstance(previous, str):
        try:
            previous = json.loads(previous or "{}")
        except ValueError as exc:
            raise ConfigError(f"previous_kpis is not valid JSON: {exc}") from exc
    if not isinstance(previous, Mapping):
        raise ConfigError("previous_kpis must be a JSON object of KPI name -> value.")
    rows = []
    for name, value in kpis.items():
        before = previous.get(name)
        numeric = isinstance(value, int | float) and isinstance(before, int | float)
        change = float(value) - float(before) if numeric else np.nan
        rows.append((name, value, before if before is not None else np.nan, change))
    frame = pd.DataFrame(rows, columns=["kpi", "value", "previous", "change"], dtype=object)
    return frame.set_index("kpi")
