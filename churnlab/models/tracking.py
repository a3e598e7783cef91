"""Cumulative tracking curve of a transaction model's repeat purchases.

Compares the cohort's actual cumulative repeat purchases per period with what a fitted
BG/NBD-family model expects (Fader, Hardie & Lee 2005, fig. 3). Used by
:func:`churnlab.models.evaluation.holdout_report`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.data.validation import require_columns
from churnlab.exceptions import ConfigError, DataValidationError

__all__ = ["tracking_curve"]


def tracking_curve(
    model: Any,
    transactions: Any,
    *,
    calibration_end: str | pd.Timestamp | None = None,
    observation_end: str | pd.Timestamp | None = None,
    time_unit: str = "W",
) -> pd.DataFrame:
    """Cumulative repeat purchases of the cohort per period, actual vs expected.

    The cohort is every customer whose first purchase is on or before
    ``calibration_end``. Purchases are merged per customer and period (as
    in the RFM summary); the first one is not a repeat purchase. The expected
    curve sums, over first-purchase periods ``f``, the number of new customers
    in ``f`` times the model's ``expected_purchases_new_customer`` for the
    elapsed time, as in lifetimes' ``expected_cumulative_transactions`` and
    Fader, Hardie & Lee (2005), "A note on implementing the Pareto/NBD model".

    Parameters
    ----------
    model : BetaGeoModel, ParetoNBDModel or ModifiedBetaGeoModel
        Fitted transaction model with a known ``time_unit_``.
    transactions : pandas.DataFrame or LoadedTransactions
        Columns ``customer_id`` and ``date``.
    calibration_end : str or Timestamp, optional
        End of the calibration period; defines the cohort and the
        ``in_calibration`` flag. None means every customer.
    observation_end : str or Timestamp, optional
        Last date tracked; None means the last transaction date.
    time_unit : {"W", "D", "M"}, default "W"
        Length of one tracking period.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period`` (1, 2, ...) with ``date`` (end of the period),
        ``actual``, ``predicted`` (cumulative repeat purchases) and
        ``in_calibration``.
    """
    if time_unit not in config.TIME_UNIT_DAYS:
        raise ConfigError(f"time_unit must be one of 'D', 'W', 'M', got {time_unit!r}.")
    model_unit = getattr(model, "time_unit_", None)
    if model_unit not in config.TIME_UNIT_DAYS:
        raise ConfigError(
            f"tracking_curve needs the model's time unit, but time_unit_={model_unit!r}. "
            "Fit with fit(summary, time_unit='W') or build the summary with rfm_summary()."
        )
    frame = getattr(transactions, "data", transactions)
    require_columns(frame, [config.CUSTOMER_ID, config.DATE], where="tracking_curve")
    dates = pd.to_datetime(frame[config.DATE])
    end = pd.Timestamp(observation_end) if observation_end else dates.max()
    keep = (dates <= end).to_numpy()
    ordinal = pd.PeriodIndex(dates[keep], freq=time_unit).asi8
    pairs = pd.DataFrame(
        {"customer": frame[config.CUSTOMER_ID].to_numpy()[keep], "period": ordinal}
    ).drop_duplicates()
    first = pairs.groupby("customer")["period"].transform("min").to_numpy()
    if calibration_end is not None:
        cal_period = pd.Period(pd.Timestamp(calibration_end), freq=time_unit).ordinal
        in_cohort = first <= cal_period
        pairs, first = pairs[in_cohort], first[in_cohort]
    if not len(first):
        raise DataValidationError(
            f"tracking_curve: no customer made a first purchase on or before calibration_end="
            f"{pd.Timestamp(calibration_end).date()} (first purchase in the data: "
            f"{dates.min().date()}). Pass a later calibration_end."
        )
    start = int(first.min())
    n_periods = int(pd.Period(end, freq=time_unit).ordinal - start)
    repeats = np.bincount(
        pairs["period"].to_numpy()[pairs["period"].to_numpy() > first] - start,
        minlength=n_periods + 1,
    )
    actual = np.cumsum(repeats)[:n_periods]
    new_periods, new_counts = np.unique(
        first[pairs["period"].to_numpy() == first], return_counts=True
    )
    elapsed = (start + np.arange(1, n_periods + 1))[:, None] - new_periods[None, :]
    scale = config.TIME_UNIT_DAYS[time_unit] / config.TIME_UNIT_DAYS[model_unit]
    positive = elapsed > 0
    expected = np.zeros(elapsed.shape)
    expected[positive] = np.asarray(
        model.expected_purchases_new_customer(elapsed[positive] * scale), dtype=float
    )
    period_end = pd.PeriodIndex.from_ordinals(start + np.arange(n_periods), freq=time_unit)
    period_dates = period_end.end_time.normalize()
    cal_date = pd.Timestamp(calibration_end) if calibration_end is not None else end
    return pd.DataFrame(
        {
            "date": period_dates,
            "actual": actual.astype(float),
            "predicted": expected @ new_counts,
            "in_calibration": period_dates <= cal_date,
        },
        index=pd.RangeIndex(1, n_periods + 1, name="period"),
    )
