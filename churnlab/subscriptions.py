"""Subscription (contractual) retention: survival curves, sBG projections and residual value.

Works on :class:`~churnlab.data.customers.LoadedCustomers` (or its ``data``): one row per
customer with ``tenure`` (periods so far) and ``churned``. Survival is the Kaplan-Meier
estimate (Kaplan & Meier 1958, "Nonparametric Estimation from Incomplete Observations",
JASA 53(282), 457-481) computed by lifelines' ``KaplanMeierFitter``; projections use the
shifted-beta-geometric model of Fader & Hardie (2007, "How to Project Customer
Retention", J. Interactive Marketing 21(1), 76-90) and residual values its discounted
expected residual lifetime (Fader & Hardie 2010, "Customer-Base Valuation in a
Contractual Setting", Marketing Science 29(1), 85-93). The magazine calculator at the
end is a spreadsheet-style yearly lifetime-value table for managers.

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
from churnlab.data.customers import START, TENURE, LoadedCustomers
from churnlab.data.validation import format_examples, require_columns
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.models.sbg import ShiftedBetaGeoModel

__all__ = [
    "auto_renew_what_if",
    "fit_cohort_sbg",
    "projected_survival",
    "residual_value",
    "retention_by_cohort",
    "retention_by_tenure",
    "subscriber_value_by_year",
    "survival_curve",
]

_COHORT_FREQS = ("Y", "Q", "M", "W")


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


# --------------------------------------------------------------------------------------
# The magazine calculator: a yearly lifetime-value table a manager can check by hand.
# --------------------------------------------------------------------------------------


def _check_share(name: str, value: float, *, low: float = 0.0, high: float = 1.0) -> None:
    if not (isinstance(value, int | float) and np.isfinite(value) and low <= value <= high):
        raise ConfigError(
            f"{name} must be a number between {low:g} and {high:g} (a share, e.g. 0.3 for "
            f"30%), got {value!r}."
        )


def subscriber_value_by_year(
    *,
    subscribers: int,
    list_price: float,
    retention: float,
    renewal_cost: float,
    subscription_revenue_share: float,
    margin: float,
    acquisition_discount: float = 0.0,
    years: int = 5,
    discount_rate: float = 0.0,
) -> pd.DataFrame:
    """Yearly value of a class of new subscribers to a publication (a lifetime-value table).

    The model, year by year (``y = 1..years``), for ``N = subscribers``:

    1. Active subscribers: ``N * retention ** (y - 1)``.
    2. Subscription revenue: each active subscriber pays ``list_price`` (year 1:
       ``list_price * (1 - acquisition_discount)``, the introductory offer).
    3. Advertising revenue: subscriptions (with list rental) are
       ``subscription_revenue_share`` of revenue, so each subscription dollar comes
       with ``(1 - share) / share`` advertising dollars.
    4. Gross profit: ``margin * (subscription + advertising revenue)``, what is left
       after editorial, printing and postage.
    5. Renewal costs: every subscriber whose subscription comes up for renewal at the
       end of the year gets letters and calls costing ``renewal_cost``; booked that year.
    6. Profit = gross profit - renewal costs, discounted by ``(1 + discount_rate) **
       (y - 1)`` (year-1 money at face value); value per subscriber = cumulative
       discounted profit / ``N`` (per *original* subscriber, so it only grows while
       profit is positive). This is the simple retention model of Berger & Nasr (1998,
       "Customer Lifetime Value: Marketing Models and Applications", J. Interactive
       Marketing 12(1), 17-30, case 1) laid out as a table.

    Examples
    --------
    The magazine example (100,000 new subscribers at $40, 30% renew, $8 renewal letters
    and calls per subscriber up for renewal, 25% of revenue from subscriptions) with the
    values it implies: a 75% introductory discount ($10 first year), a 25% margin and a
    20% discount rate give $2.00 per subscriber in year 1, $10.00 by year 2 and $12.00
    by year 3: year 1 is ``0.25 * 10 / 0.25 - 8 = 2``, and each later active subscriber
    earns ``0.25 * 40 / 0.25 - 8 = 32``, so year 2 adds ``0.3 * 32 / 1.2 = 8`` and
    year 3 ``0.09 * 32 / 1.44 = 2``.

    >>> table = subscriber_value_by_year(
    ...     subscribers=100_000, list_price=40, retention=0.3, renewal_cost=8,
    ...     subscription_revenue_share=0.25, margin=0.25, acquisition_discount=0.75,
    ...     discount_rate=0.2)
    >>> table["value_per_subscriber"].round(2).tolist()
    [2.0, 10.0, 12.0, 12.5, 12.62]

    Parameters
    ----------
    subscribers : int
        New subscribers at the start of year 1.
    list_price : float
        Yearly subscription price.
    retention : float
        Share of subscribers who renew each year.
    renewal_cost : float
        Renewal letters and calls per subscriber up for renewal, each year.
    subscription_revenue_share : float
        Share of revenue from subscriptions and list rental (the rest is advertising).
    margin : float
        Share of revenue left after the cost of making and delivering the publication.
    acquisition_discount : float, default 0.0
        Discount off the list price in year 1 (introductory offer or agent commission).
    years : int, default 5
        Years to tabulate.
    discount_rate : float, default 0.0
        Yearly discount rate.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year``: ``active_subscribers``, ``subscription_revenue``,
        ``advertising_revenue``, ``revenue``, ``gross_profit``, ``renewal_costs``,
        ``profit``, ``profit_per_active``, ``discounted_profit``, ``cumulative_profit``
        and ``value_per_subscriber``.
    """
    if isinstance(subscribers, bool) or not (
        isinstance(subscribers, int | np.integer) and subscribers > 0
    ):
        raise ConfigError(f"subscribers must be a whole number > 0, got {subscribers!r}.")
    if isinstance(years, bool) or not (isinstance(years, int | np.integer) and years >= 1):
        raise ConfigError(f"years must be a whole number >= 1, got {years!r}.")
    for name, value in (("list_price", list_price), ("renewal_cost", renewal_cost)):
        if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
            raise ConfigError(f"{name} must be an amount >= 0, got {value!r}.")
    _check_share("retention", retention)
    _check_share("margin", margin)
    _check_share("acquisition_discount", acquisition_discount)
    _check_share("discount_rate", discount_rate, high=10.0)
    _check_share("subscription_revenue_share", subscription_revenue_share)
    if subscription_revenue_share == 0:
        raise ConfigError(
            "subscription_revenue_share must be above 0: advertising is expressed per "
            "subscription dollar. Use e.g. 0.25 when subscriptions bring 25% of revenue."
        )
    year = np.arange(1, int(years) + 1)
    active = subscribers * float(retention) ** (year - 1)
    price = np.where(year == 1, list_price * (1 - acquisition_discount), list_price)
    subs = active * price
    ads = subs * (1 - subscription_revenue_share) / subscription_revenue_share
    gross = margin * (subs + ads)
    renewal = renewal_cost * active
    profit = gross - renewal
    discounted = profit / (1 + discount_rate) ** (year - 1)
    cumulative = np.cumsum(discounted)
    return pd.DataFrame(
        {
            "active_subscribers": active,
            "subscription_revenue": subs,
            "advertising_revenue": ads,
            "revenue": subs + ads,
            "gross_profit": gross,
            "renewal_costs": renewal,
            "profit": profit,
            "profit_per_active": profit / active,
            "discounted_profit": discounted,
            "cumulative_profit": cumulative,
            "value_per_subscriber": cumulative / subscribers,
        },
        index=pd.Index(year, name="year"),
    )


def auto_renew_what_if(
    *,
    auto_renew_cost: float,
    auto_renew_retention: float,
    subscribers: int,
    list_price: float,
    retention: float,
    renewal_cost: float,
    subscription_revenue_share: float,
    margin: float,
    acquisition_discount: float = 0.0,
    years: int = 5,
    discount_rate: float = 0.0,
) -> pd.DataFrame:
    """Value per original subscriber if renewals move to card auto-renewal.

    Auto-renewal replaces the letters and calls by a card charge and a notice
    (``auto_renew_cost`` per subscriber up for renewal) and raises retention to
    ``auto_renew_retention``. Each lever is also shown on its own, so a manager sees how
    much of the gain comes from cheaper renewals and how much from higher retention.
    The other parameters are those of :func:`subscriber_value_by_year`.

    Parameters
    ----------
    auto_renew_cost : float
        Renewal cost per subscriber up for renewal with auto-renewal.
    auto_renew_retention : float
        Yearly retention with auto-renewal.
    subscribers, list_price, retention, renewal_cost, subscription_revenue_share, margin
        The base case, see :func:`subscriber_value_by_year`.
    acquisition_discount, years, discount_rate
        See :func:`subscriber_value_by_year`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year``: cumulative value per original subscriber under ``base``,
        ``lower_renewal_cost``, ``higher_retention`` and ``auto_renew`` (both), and
        ``gain`` (``auto_renew - base``).
    """
    if not (isinstance(auto_renew_cost, int | float) and 0 <= auto_renew_cost < np.inf):
        raise ConfigError(f"auto_renew_cost must be an amount >= 0, got {auto_renew_cost!r}.")
    _check_share("auto_renew_retention", auto_renew_retention)
    base = {
        "subscribers": subscribers,
        "list_price": list_price,
        "retention": retention,
        "renewal_cost": renewal_cost,
        "subscription_revenue_share": subscription_revenue_share,
        "margin": margin,
        "acquisition_discount": acquisition_discount,
        "years": years,
        "discount_rate": discount_rate,
    }
    scenarios = {
        "base": {},
        "lower_renewal_cost": {"renewal_cost": auto_renew_cost},
        "higher_retention": {"retention": auto_renew_retention},
        "auto_renew": {"renewal_cost": auto_renew_cost, "retention": auto_renew_retention},
    }
    table = pd.DataFrame(
        {
            name: subscriber_value_by_year(**{**base, **change})["value_per_subscriber"]
            for name, change in scenarios.items()
        }
    )
    table["gain"] = table["auto_renew"] - table["base"]
    return table
