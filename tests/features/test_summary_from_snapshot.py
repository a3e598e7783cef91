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
