"""churnlab: a churn and customer-lifetime-value lab."""

__version__ = "0.1.0"
