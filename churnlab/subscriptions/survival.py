"""Kaplan-Meier survival and period retention of subscription customers.

Survival is the Kaplan-Meier estimate (Kaplan & Meier 1958, "Nonparametric Estimation
from Incomplete Observations", JASA 53(282), 457-481) computed by lifelines'
``KaplanMeierFitter``. Works on :class:`~churnlab.data.customers.LoadedCustomers` (or
its ``data``): one row per customer with ``tenure`` (periods so far) and ``churned``.

Tenure and periods: a customer active at tenure ``n`` has survived ``n`` periods. For
period-based analyses (retention by period, sBG, residual value) tenure is rounded to
whole periods, and a churner is counted as having stayed at least one period.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from churnlab import config
from churnlab.data.customers import TENURE, LoadedCustomers
from churnlab.data.validation import format_examples, require_columns
from churnlab.exceptions import ConfigError, DataValidationError

__all__ = ["retention_by_tenure", "survival_curve"]


def _table(customers: Any, *, where: str, by: str | None = None) -> pd.DataFrame:
    """Return the customer table after checking ``tenure``, ``churned`` and ``by``."""
    data = customers.data if isinstance(customers, LoadedCustomers) else customers
    require_columns(data, [TENURE, config.CHURNED, *([by] if by else [])], where=where)
    tenure = pd.to_numeric(data[TENURE], errors="coerce")
    bad = tenure.isna() | (tenure < 0) | data[config.CHURNED].isna()
    if bad.any():
        raise DataValidationError(
            f"{where}: {int(bad.sum()):,} of {len(data):,} customers have a missing or "
            f"negative tenure or churn flag, e.g. {format_examples(data.index[bad])}. "
            "Load the table with churnlab.data.load_customers, which drops such rows."
        )
    if by is not None and data[by].isna().any():
        n = int(data[by].isna().sum())
        raise DataValidationError(
            f"{where}: column {by!r} is empty for {n:,} of {len(data):,} customers. Fill it "
            "(e.g. with 'unknown') so that no customer silently falls out of the groups."
        )
    return data


def _check_ci(ci: float) -> float:
    if not (isinstance(ci, int | float) and 0 < ci < 1):
        raise ConfigError(f"ci must be a level between 0 and 1 (e.g. 0.95), got {ci!r}.")
    return float(ci)


def _km(tenure: Any, churned: Any, *, ci: float = 0.95) -> KaplanMeierFitter:
    return KaplanMeierFitter(alpha=1 - ci).fit(
        np.asarray(tenure, dtype=float), np.asarray(churned, dtype=bool)
    )


def _groups(data: pd.DataFrame, by: str | None) -> list[tuple[Any, pd.DataFrame]]:
    return [(None, data)] if by is None else list(data.groupby(by, sort=True))


def survival_curve(customers: Any, *, by: str | None = None, ci: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier survival curve of the customers, with pointwise confidence intervals.

    Parameters
    ----------
    customers : LoadedCustomers or pandas.DataFrame
        ``tenure`` and ``churned`` per customer (churn = event, active = censored).
    by : str, optional
        Column to split by (e.g. ``"plan"``); one curve per value.
    ci : float, default 0.95
        Confidence level of lifelines' exponential Greenwood interval.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``tenure`` (or ``(by, tenure)``), with ``survival``,
        ``survival_lower``, ``survival_upper``, ``at_risk``, ``churned`` and
        ``censored`` at each observed tenure (from 0).
    """
    data = _table(customers, where="survival_curve", by=by)
    level = _check_ci(ci)
    frames = {}
    for key, group in _groups(data, by):
        km = _km(group[TENURE], group[config.CHURNED], ci=level)
        events = km.event_table
        frame = pd.DataFrame(
            {
                "survival": km.survival_function_.iloc[:, 0],
                "survival_lower": km.confidence_interval_.iloc[:, 0],
                "survival_upper": km.confidence_interval_.iloc[:, 1],
                "at_risk": events["at_risk"],
                "churned": events["observed"],
                "censored": events["censored"],
            }
        )
        frame.index = pd.Index(frame.index.to_numpy(dtype=float), name=TENURE)
        frames[key] = frame
    if by is None:
        return frames[None]
    return pd.concat(frames, names=[by, TENURE])


def _whole_periods(data: pd.DataFrame, max_periods: int | None = None) -> tuple[Any, Any]:
    """Tenure rounded to whole periods (churners >= 1), censored at ``max_periods``."""
    periods = np.rint(data[TENURE].to_numpy(dtype=float))
    churned = data[config.CHURNED].to_numpy(dtype=bool)
    periods = np.where(churned, np.maximum(periods, 1.0), periods)
    if max_periods is not None:
        churned = churned & (periods <= max_periods)
        periods = np.minimum(periods, max_periods)
    return periods, churned


def _period_table(data: pd.DataFrame) -> pd.DataFrame:
    periods, churned = _whole_periods(data)
    last = int(periods.max())
    t = np.arange(1, last + 1)
    surv = _km(periods, churned).survival_function_at_times(np.arange(0, last + 1)).to_numpy()
    start, end = surv[:-1], surv[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(start > 0, end / start, np.nan)
    return pd.DataFrame(
        {
            "at_risk": [int((periods > k - 1).sum()) for k in t],
            "churned": [int((churned & (periods == k)).sum()) for k in t],
            "survival_start": start,
            "survival_end": end,
            "retention_rate": rate,
        },
        index=pd.Index(t, name="period"),
    )


def retention_by_tenure(customers: Any, *, by: str | None = None) -> pd.DataFrame:
    """Period-by-period retention ``r_t = S(t) / S(t - 1)`` from the Kaplan-Meier curve.

    The contractual retention rate of Fader & Hardie (2007, eq. 7) estimated without a
    model: the share of customers alive at the start of period ``t`` who are still
    alive at its end.

    Parameters
    ----------
    customers : LoadedCustomers or pandas.DataFrame
        ``tenure`` and ``churned`` per customer; tenure is rounded to whole periods.
    by : str, optional
        Column to split by (e.g. ``"plan"``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period`` (1, 2, ...; or ``(by, period)``) with ``at_risk``,
        ``churned``, ``survival_start``, ``survival_end`` and ``retention_rate``
        (NaN once nobody is left).
    """
    data = _table(customers, where="retention_by_tenure", by=by)
    tables = {key: _period_table(group) for key, group in _groups(data, by)}
    return tables[None] if by is None else pd.concat(tables, names=[by, "period"])
