"""The one time-unit vocabulary: names, lengths in days, and calendar vs mean months.

Two different things are both called "a month" in customer-base analysis, and this
module keeps them apart:

- a **duration** of one month is the mean Gregorian month, 365.2425 / 12 = 30.436875
  days (:func:`days_per`, :func:`convert`). Model time (recency, ``T``, forecast
  horizons, label windows) is always a duration;
- a **calendar month** is a period on the calendar (January, February, ...), used to
  count active customers or cohorts per month (:func:`calendar_alias`). Its length
  varies from 28 to 31 days.

The units are ``"D"`` (day), ``"W"`` (week of 7 days; as a calendar period, the week
ending Sunday, like pandas' ``"W"``) and ``"M"`` (month, as above).
"""

from __future__ import annotations

from churnlab.config import TIME_UNIT_DAYS
from churnlab.exceptions import ConfigError

__all__ = ["UNIT_NAMES", "calendar_alias", "check_unit", "convert", "days_per", "unit_name"]

#: Singular and plural English names of each unit, for sentences on the pages.
UNIT_NAMES: dict[str, tuple[str, str]] = {
    "D": ("day", "days"),
    "W": ("week", "weeks"),
    "M": ("month", "months"),
}

#: pandas period aliases of the calendar periods of each unit.
_CALENDAR_ALIASES = {"D": "D", "W": "W-SUN", "M": "M"}


def check_unit(unit: object, *, name: str = "time_unit") -> str:
    """Return ``unit`` if it is a known time unit, else raise a clear error.

    Parameters
    ----------
    unit : object
        The value to check.
    name : str, default "time_unit"
        The parameter's name, used in the message.

    Returns
    -------
    str
        ``unit`` itself.

    Raises
    ------
    ConfigError
        If ``unit`` is not ``"D"``, ``"W"`` or ``"M"``.
    """
    if not isinstance(unit, str) or unit not in TIME_UNIT_DAYS:
        raise ConfigError(
            f"{name}={unit!r} is not a known time unit. Use one of "
            f"{', '.join(repr(u) for u in TIME_UNIT_DAYS)} (days, weeks or months)."
        )
    return unit


def days_per(unit: str, *, name: str = "time_unit") -> float:
    """Return the length in days of one ``unit`` as a duration (month = mean month)."""
    return TIME_UNIT_DAYS[check_unit(unit, name=name)]


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a duration between units: ``convert(3, "M", "W")`` = 13.04 weeks.

    Parameters
    ----------
    value : float
        A duration in ``from_unit``.
    from_unit, to_unit : {"D", "W", "M"}
        The units; months are mean Gregorian months.

    Returns
    -------
    float
        The same duration in ``to_unit``.
    """
    return value * days_per(from_unit, name="from_unit") / days_per(to_unit, name="to_unit")


def unit_name(unit: str, count: float = 2) -> str:
    """Return the English name of ``unit`` for a ``count``: "1 week", "3 months"."""
    singular, plural = UNIT_NAMES[check_unit(unit)]
    return singular if count == 1 else plural


def calendar_alias(unit: str) -> str:
    """Return the pandas period alias of ``unit`` as a calendar period ("M" -> "M")."""
    return _CALENDAR_ALIASES[check_unit(unit)]
