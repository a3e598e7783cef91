"""The magazine calculator: a yearly lifetime-value table a manager can check by hand.

:func:`subscriber_value_by_year` lays out the simple retention model of Berger & Nasr
(1998, "Customer Lifetime Value: Marketing Models and Applications", J. Interactive
Marketing 12(1), 17-30, case 1) as a spreadsheet-style table, and
:func:`auto_renew_what_if` shows what moving renewals to card auto-renewal is worth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.exceptions import ConfigError

__all__ = ["auto_renew_what_if", "subscriber_value_by_year"]


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
