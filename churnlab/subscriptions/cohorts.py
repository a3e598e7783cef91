"""Cohorts, the shifted-beta-geometric projection and residual value (DERL).

Projections use the shifted-beta-geometric model of Fader & Hardie (2007, "How to
Project Customer Retention", J. Interactive Marketing 21(1), 76-90) and residual
values its discounted expected residual lifetime (Fader & Hardie 2010, "Customer-Base
Valuation in a Contractual Setting", Marketing Science 29(1), 85-93). Tenure is rounded
to whole periods as in :mod:`churnlab.subscriptions.survival`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.data.customers import START, TENURE
from churnlab.data.validation import format_examples, require_columns
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.models.sbg import ShiftedBetaGeoModel
from churnlab.subscriptions.survival import _km, _table, _whole_periods

__all__ = ["fit_cohort_sbg", "projected_survival", "residual_value", "retention_by_cohort"]

_COHORT_FREQS = ("Y", "Q", "M", "W")


def retention_by_cohort(customers: Any, *, freq: str = "Y") -> pd.DataFrame:
    """Kaplan-Meier survival by start cohort: the share of each cohort still active.

    Parameters
    ----------
    customers : LoadedCustomers or pandas.DataFrame
        Needs ``start`` dates (tables loaded with ``start=``/``end=``), ``tenure`` and
        ``churned``.
    freq : {"Y", "Q", "M", "W"}, default "Y"
        Cohort width: customers who started in the same year, quarter, month or week.

    Returns
    -------
    pandas.DataFrame
        Rows = cohort (e.g. ``"2023"``), columns = whole tenure periods 0, 1, ...;
        NaN beyond the longest tenure observed in the cohort. Cohort sizes are in
        ``attrs["cohort_size"]``.
    """
    if freq not in _COHORT_FREQS:
        raise ConfigError(f"freq={freq!r} is not a cohort width; use one of {_COHORT_FREQS}.")
    data = _table(customers, where="retention_by_cohort")
    require_columns(data, [START], where="retention_by_cohort")
    starts = pd.to_datetime(data[START])
    if starts.isna().any():
        raise DataValidationError(
            f"retention_by_cohort needs start dates, but {int(starts.isna().sum()):,} of "
            f"{len(data):,} customers have none (a table loaded from tenure only, such as "
            "Telco, has no cohorts). Use retention_by_tenure, or load start= and end= dates."
        )
    cohorts = starts.dt.to_period(freq).astype("str")
    periods, churned = _whole_periods(data)
    ages = np.arange(0, int(periods.max()) + 1)
    rows, sizes = {}, {}
    for cohort in sorted(cohorts.unique()):
        mask = (cohorts == cohort).to_numpy()
        surv = _km(periods[mask], churned[mask]).survival_function_at_times(ages).to_numpy()
        rows[cohort] = np.where(ages <= periods[mask].max(), surv, np.nan)
        sizes[cohort] = int(mask.sum())
    matrix = pd.DataFrame.from_dict(rows, orient="index", columns=ages)
    matrix.index.name, matrix.columns.name = "cohort", "period"
    matrix.attrs["cohort_size"] = pd.Series(sizes, name="customers")
    return matrix


def _survivors(data: pd.DataFrame, max_periods: int | None) -> np.ndarray:
    periods, churned = _whole_periods(data, max_periods)
    last = int(periods.max()) if max_periods is None else int(max_periods)
    km = _km(periods, churned)
    return len(data) * km.survival_function_at_times(np.arange(0, last + 1)).to_numpy()


def fit_cohort_sbg(customers: Any, *, max_periods: int | None = None) -> ShiftedBetaGeoModel:
    """Fit the shifted-beta-geometric model (Fader & Hardie 2007) to a cohort of customers.

    The survivor counts by period are ``N * S(t)``, t = 0..n, with ``S`` the Kaplan-Meier
    curve of tenure (rounded to whole periods) and churn. For one cohort observed for
    the same ``n`` periods (everyone still active has tenure ``n``) these are exactly the
    counts of customers still active after each period, as in FH (2007), Table 1. When
    active customers have different tenures (several cohorts, as in Telco), the curve is
    the censoring-corrected pooled survival; the fit then treats it as one cohort of
    ``N`` observed for ``n`` periods, so standard errors are too small.

    Parameters
    ----------
    customers : LoadedCustomers or pandas.DataFrame
        ``tenure`` and ``churned`` per customer.
    max_periods : int, optional
        Fit on periods 1..``max_periods`` only (later churn counts as survival to
        ``max_periods``), e.g. 7 to calibrate on the first seven years as FH (2007) do.
        Defaults to the longest tenure.

    Returns
    -------
    ShiftedBetaGeoModel
        Fitted; ``time_unit_`` is the table's ``attrs["tenure_unit"]`` when it is a
        known unit.
    """
    data = _table(customers, where="fit_cohort_sbg")
    if max_periods is not None and (int(max_periods) != max_periods or max_periods < 1):
        raise ConfigError(f"max_periods must be a whole number >= 1, got {max_periods!r}.")
    longest = int(_whole_periods(data)[0].max())
    if max_periods is not None and max_periods > longest:
        raise ConfigError(
            f"max_periods={max_periods} is beyond the longest tenure, {longest} periods: "
            "later periods have no data. Pass at most that, or leave max_periods out."
        )
    unit = data.attrs.get("tenure_unit")
    curve = _survivors(data, max_periods)
    return ShiftedBetaGeoModel().fit(
        curve, time_unit=unit if unit in config.TIME_UNIT_DAYS else None
    )


def projected_survival(
    model: ShiftedBetaGeoModel, periods: int, *, customers: Any = None
) -> pd.DataFrame:
    """Projected survival and retention for periods 0..``periods`` (FH 2007, eqs. 6-7).

    Parameters
    ----------
    model : ShiftedBetaGeoModel
        Fitted, e.g. by :func:`fit_cohort_sbg`.
    periods : int
        Last period to project.
    customers : LoadedCustomers or pandas.DataFrame, optional
        Add ``observed_survival``, the Kaplan-Meier curve of these customers (NaN beyond
        their longest tenure), to compare projection and data.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period`` with ``survival``, ``active`` (of the fitted cohort),
        ``retention_rate`` and, with ``customers``, ``observed_survival``.
    """
    curve = model.projected_curve(periods)
    if customers is not None:
        data = _table(customers, where="projected_survival")
        observed = _survivors(data, None) / len(data)
        curve["observed_survival"] = pd.Series(observed).reindex(curve.index).to_numpy()
    return curve


def residual_value(
    customers: Any,
    model: ShiftedBetaGeoModel,
    *,
    discount_rate: float,
    revenue: float | pd.Series | None = None,
) -> pd.DataFrame:
    """Per-customer discounted expected residual lifetime (DERL) and residual value.

    Fader & Hardie (2010), eq. 6 (:meth:`ShiftedBetaGeoModel.dert`): a customer still
    active at tenure ``n`` has made ``n`` renewals, and their expected discounted number
    of future payments is ``DERL = (b + n) / (a + b + n) * 2F1(1, b + n + 1; a + b + n +
    1; 1 / (1 + d))``, counting the next renewal's payment undiscounted. Residual value is
    ``DERL * revenue per period``; churned customers have none.

    Parameters
    ----------
    customers : LoadedCustomers or pandas.DataFrame
        ``tenure`` and ``churned`` (tenure rounded to whole periods) and, unless
        ``revenue`` is given, ``revenue`` per period.
    model : ShiftedBetaGeoModel
        Fitted on the same period length, e.g. by :func:`fit_cohort_sbg`.
    discount_rate : float
        Discount rate per period (e.g. ``1.1 ** (1 / 12) - 1`` for 10% a year, monthly).
    revenue : float or pandas.Series, optional
        Revenue (or margin) per period: one number for everyone, or a Series indexed by
        ``customer_id``. Defaults to the ``revenue`` column.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``: ``tenure``, ``churned``, ``renewals``, ``derl``,
        ``revenue`` and ``residual_value`` (NaN where the revenue is missing).
    """
    data = _table(customers, where="residual_value")
    if revenue is None:
        if "revenue" not in data.columns:
            raise ConfigError(
                "residual_value needs the revenue per period: load the table with "
                "revenue='<column>' or pass revenue=<number or Series>."
            )
        per_period = data["revenue"].astype("float64")
    elif isinstance(revenue, pd.Series):
        per_period = revenue.reindex(data.index).astype("float64")
        missing = ~data.index.isin(revenue.index)
        if missing.any():
            raise DataValidationError(
                f"residual_value: revenue has no value for {int(missing.sum()):,} of "
                f"{len(data):,} customers, e.g. {format_examples(data.index[missing])}. "
                "Pass a Series indexed by customer_id that covers every customer."
            )
    else:
        per_period = pd.Series(float(revenue), index=data.index)
    periods, churned = _whole_periods(data)
    renewals = periods.astype(int)
    unique = np.unique(renewals[~churned])
    derl_of = {int(k): model.dert(discount_rate, renewals=int(k)) for k in unique}
    if not derl_of:
        model.dert(discount_rate)  # validates the rate even when everyone churned
    derl = np.array([0.0 if c else derl_of[int(k)] for k, c in zip(renewals, churned, strict=True)])
    return pd.DataFrame(
        {
            TENURE: data[TENURE].to_numpy(dtype=float),
            config.CHURNED: churned,
            "renewals": renewals,
            "derl": derl,
            "revenue": per_period.to_numpy(),
            "residual_value": derl * per_period.to_numpy(),
        },
        index=data.index,
    )
