"""The RFM summary read off a feature snapshot equals rfm_summary's own query.

rfm_summary matches lifetimes' summary_data_from_transaction_data (tests/features/test_rfm.py);
the snapshot taken the day after the observation end holds the same purchases, so the two
must agree exactly, including when that day starts a new week or month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnlab.features.behaviour import behaviour_features
from churnlab.features.rfm import rfm_summary, summary_from_snapshot


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 4_000
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, 400, n).astype(str),
            "date": pd.Timestamp("2022-01-01")
            + pd.to_timedelta(rng.integers(0, 700 * 24 * 60, n), unit="min"),
            "amount": rng.gamma(2.0, 30.0, n).round(2),
        }
    )


# 2023-11-30 is a Thursday; 2023-12-03 a Sunday (the next day starts a week); 2023-11-30 is
# also the last day of November (the next day starts a month)
@pytest.mark.parametrize("end", ["2023-11-29 17:45", "2023-12-03 12:00", "2023-11-30 23:59"])
@pytest.mark.parametrize("time_unit", ["D", "W", "M"])
def test_the_snapshot_gives_rfm_summarys_numbers(log: pd.DataFrame, end: str, time_unit: str):
    end = pd.Timestamp(end)
    upto = log[log["date"] <= end]
    cutoff = end.normalize() + pd.Timedelta(days=1)
    snapshot = behaviour_features(upto, cutoff=cutoff, time_unit=time_unit)
    derived = summary_from_snapshot(
        snapshot, observation_end=end, cutoff=cutoff, time_unit=time_unit
    )
    expected = rfm_summary(upto, observation_end=end, time_unit=time_unit)
    expected.index = expected.index.astype(str)
    pd.testing.assert_frame_equal(derived, expected.loc[derived.index], check_exact=True)
    assert len(derived) == len(expected) and derived.attrs["time_unit"] == time_unit


@pytest.mark.parametrize(("time_unit", "expected"), [("D", 0.4), ("W", 0.9), ("M", 0.0)])
def test_a_large_first_order_leaves_the_repeat_spend_exact(time_unit: str, expected: float):
    # Monday and Tuesday of two weeks in one month: the repeat spend is summed, not found
    # as the total minus a first period 10,000 times larger (which loses its digits).
    # By hand: days after the first 0.3, 0.7, 0.2 (mean 0.4); the second week 0.9; one month.
    log = pd.DataFrame(
        {
            "customer_id": ["a"] * 4,
            "date": pd.to_datetime(["2023-01-02", "2023-01-03", "2023-01-09", "2023-01-10"]),
            "amount": [12345.67, 0.3, 0.7, 0.2],
        }
    )
    end, cutoff = pd.Timestamp("2023-01-31"), pd.Timestamp("2023-02-01")
    snapshot = behaviour_features(log, cutoff=cutoff, time_unit=time_unit)
    derived = summary_from_snapshot(
        snapshot, observation_end=end, cutoff=cutoff, time_unit=time_unit
    )
    summary = rfm_summary(log, observation_end=end, time_unit=time_unit)
    assert derived["monetary_value"].iloc[0] == summary["monetary_value"].iloc[0] == expected
