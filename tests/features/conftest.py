"""Fixtures for the feature tests: CDNOW transactions and lifetimes as the reference."""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

#: numpy's average month, which lifetimes 0.11.3 divides by for freq="M".
_AVERAGE_MONTH = pd.Timedelta(days=365.2425 / 12)


@pytest.fixture(scope="session")
def cdnow_transactions() -> pd.DataFrame:
    """CDNOW master log shipped with lifetimes (23,570 customers, 69,659 lines).

    Columns: customer id, date yyyymmdd, number_of_cds, dollar_value; read here
    directly so the RFM tests do not depend on the loader.
    """
    path = importlib.resources.files("lifetimes.datasets") / "CDNOW_master.txt"
    frame = pd.read_csv(
        path,
        sep=r"\s+",
        header=0,
        names=["customer_id", "date", "number_of_cds", "amount"],
        dtype={"customer_id": str, "date": str},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame[["customer_id", "date", "amount"]]


class _NumpyWithMonths:
    """numpy, except ``timedelta64(n, "M")`` is numpy's average month as a Timedelta.

    lifetimes 0.11.3 computes recency and T for freq="M" as (month start - month
    start) / np.timedelta64(1, "M"), which pandas >= 2 rejects. With this shim it
    runs as it did on older pandas; rounding its result gives the calendar-month
    count (an n-month span is within a few days of n average months).
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def timedelta64(value: int, unit: str) -> Any:
        if unit == "M":
            return value * _AVERAGE_MONTH
        return np.timedelta64(value, unit)


@contextmanager
def _lifetimes_months(time_unit: str) -> Iterator[None]:
    import lifetimes.utils

    if time_unit != "M":
        yield
        return
    original = lifetimes.utils.np
    lifetimes.utils.np = _NumpyWithMonths()
    try:
        yield
    finally:
        lifetimes.utils.np = original


def lifetimes_summary(
    transactions: pd.DataFrame, *, time_unit: str, observation_end: Any = None
) -> pd.DataFrame:
    """lifetimes' summary_data_from_transaction_data on canonical columns."""
    from lifetimes.utils import summary_data_from_transaction_data

    with _lifetimes_months(time_unit):
        result = summary_data_from_transaction_data(
            transactions,
            "customer_id",
            "date",
            monetary_value_col="amount",
            observation_period_end=observation_end,
            freq=time_unit,
        )
    if time_unit == "M":
        result[["recency", "T"]] = result[["recency", "T"]].round()
    return result


def lifetimes_calibration(
    transactions: pd.DataFrame,
    *,
    calibration_end: Any,
    observation_end: Any = None,
    time_unit: str,
) -> pd.DataFrame:
    """lifetimes' calibration_and_holdout_data on canonical columns."""
    from lifetimes.utils import calibration_and_holdout_data

    with _lifetimes_months(time_unit):
        result = calibration_and_holdout_data(
            transactions,
            "customer_id",
            "date",
            calibration_end,
            observation_period_end=observation_end,
            freq=time_unit,
            monetary_value_col="amount",
        )
    if time_unit == "M":
        result[["recency_cal", "T_cal"]] = result[["recency_cal", "T_cal"]].round()
    return result


def assert_matches_lifetimes(ours: pd.DataFrame, reference: pd.DataFrame) -> None:
    """Column-by-column: exact for counts and durations, rtol 1e-9 for money."""
    assert list(ours.columns) == list(reference.columns)
    assert sorted(map(str, ours.index)) == sorted(map(str, reference.index))
    assert ours.index.is_unique
    reference = reference.set_axis(reference.index.map(str)).loc[ours.index.map(str)]
    for column in ours.columns:
        assert ours[column].dtype == np.float64, column
        expected = reference[column].to_numpy(dtype=float)
        if column.startswith("monetary_value"):
            np.testing.assert_allclose(ours[column], expected, rtol=1e-9, atol=0, err_msg=column)
        else:
            np.testing.assert_array_equal(ours[column].to_numpy(), expected, err_msg=column)


@pytest.fixture(scope="session")
def lifetimes_ref() -> SimpleNamespace:
    """lifetimes as the reference: ``.summary``, ``.calibration`` and ``.check``."""
    return SimpleNamespace(
        summary=lifetimes_summary,
        calibration=lifetimes_calibration,
        check=assert_matches_lifetimes,
    )
