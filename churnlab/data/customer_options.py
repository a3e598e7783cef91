"""The column-mapping options of a customer table, as a config file or command line gives them.

:func:`churnlab.data.load_customers` takes them as keyword arguments; the report's
``[data]`` table (``kind = "subscriptions"``) and ``churnlab report --customers`` take the
same names, and check them here before anything is read.
"""

from __future__ import annotations

from churnlab.data.validation import period_days
from churnlab.exceptions import ConfigError

__all__ = ["CUSTOMER_OPTIONS", "check_customer_options"]

#: Column-mapping options of a customer table beyond :data:`churnlab.config.SOURCE_OPTIONS`
#: (``customer_id`` and the reading options are shared with transaction logs).
CUSTOMER_OPTIONS: tuple[str, ...] = (
    "start",
    "end",
    "churned",
    "tenure",
    "tenure_unit",
    "plan",
    "revenue",
)


def check_customer_options(options: dict[str, object]) -> dict[str, object]:
    """Check the customer-table options of a config or command line (names and types).

    Parameters
    ----------
    options : dict
        Names from :data:`CUSTOMER_OPTIONS` (column names, and ``tenure_unit``).

    Returns
    -------
    dict
        The options that are set, in :data:`CUSTOMER_OPTIONS` order.

    Raises
    ------
    ConfigError
        For an unknown name, a value that is not a column name, or an unknown unit.
    """
    unknown = [k for k in options if k not in CUSTOMER_OPTIONS]
    if unknown:
        raise ConfigError(
            f"Unknown customer-table option(s) {', '.join(map(repr, unknown))}. Known: "
            f"{', '.join(CUSTOMER_OPTIONS)}."
        )
    out: dict[str, object] = {}
    for name in CUSTOMER_OPTIONS:
        value = options.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{name} must be a column name, got {value!r}.")
        if name == "tenure_unit":
            period_days(value, name="tenure_unit")
        out[name] = value
    return out
