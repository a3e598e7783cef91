"""Subscription (contractual) retention: survival curves, sBG projections and residual value.

Works on :class:`~churnlab.data.customers.LoadedCustomers` (or its ``data``): one row per
customer with ``tenure`` (periods so far) and ``churned``.

- :mod:`~churnlab.subscriptions.survival`: Kaplan-Meier survival (Kaplan & Meier 1958) via
  lifelines, and retention by tenure;
- :mod:`~churnlab.subscriptions.cohorts`: retention by start cohort, the shifted-beta-
  geometric fit and projection (Fader & Hardie 2007) and residual value (DERL, Fader &
  Hardie 2010);
- :mod:`~churnlab.subscriptions.value`: the magazine calculator (value per subscriber by
  year) and its auto-renewal what-if;
- :mod:`~churnlab.subscriptions.scoring`: the contractual scoring pass that computes all
  of the above once for a report run.
"""

from __future__ import annotations

from churnlab.subscriptions.cohorts import (
    fit_cohort_sbg,
    projected_survival,
    residual_value,
    retention_by_cohort,
)
from churnlab.subscriptions.survival import retention_by_tenure, survival_curve
from churnlab.subscriptions.value import auto_renew_what_if, subscriber_value_by_year

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
