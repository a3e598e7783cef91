"""discrete_summary: BG/BB's (x, t_x, n) per customer from a transaction log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.features.discrete import discrete_summary
from churnlab.models.bgbb import BetaGeoBetaBinomModel

TX = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "b", "b", "c", "d"],
        "date": pd.to_datetime(
            ["1995-03-01", "1995-07-01", "1997-02-01", "1995-01-05", "2001-12-31",
             "1996-06-01", "2002-01-03"]
        ),
    }
)  # fmt: skip


def test_yearly_opportunities_by_hand():
    # a: first gift 1995 (two in 1995 count once), again 1997 -> x=1, t_x=2, n=2001-1995=6.
    out = discrete_summary(TX, observation_end="2001-12-31")
    expected = pd.DataFrame(
        {"frequency": [1.0, 1.0, 0.0], "recency": [2.0, 6.0, 0.0], "T": [6.0, 6.0, 5.0]},
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(out, expected)
    assert out.attrs["time_unit"] == "Y"


@pytest.mark.parametrize("period", ["Y", "Q", "M"])
def test_matches_pandas_periods(period):
    # Reference: pandas Period ordinals on the CDNOW sample shipped with lifetimes.
    lifetimes = pytest.importorskip("lifetimes")
    path = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_sample.txt"
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=["cust", "id", "date", "cds", "usd"])
    tx = pd.DataFrame(
        {
            "customer_id": raw["cust"].astype(str),
            "date": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
        }
    )
    out = discrete_summary(tx, period=period)
    p = tx["date"].dt.to_period(period).map(lambda v: v.ordinal)
    end = tx["date"].max().to_period(period).ordinal
    distinct = pd.DataFrame({"c": tx["customer_id"], "p": p}).drop_duplicates()
    g = distinct.groupby("c")["p"]
    ref = pd.DataFrame(
        {"frequency": g.count() - 1.0, "recency": g.max() - g.min(), "T": end - g.min()}
    ).astype(float)
    np.testing.assert_array_equal(out.to_numpy(), ref.loc[out.index].to_numpy())
    assert len(out) == tx["customer_id"].nunique()


def test_fits_bgbb():
    rng = np.random.default_rng(2)
    rows = []
    for c in range(3000):
        p, alive = rng.beta(2, 3), True
        rows.append((f"c{c}", pd.Timestamp("2010-05-01")))
        for year in range(2011, 2021):
            alive = alive and rng.random() > 0.15
            if alive and rng.random() < p:
                rows.append((f"c{c}", pd.Timestamp(f"{year}-05-01")))
    summary = discrete_summary(pd.DataFrame(rows, columns=["customer_id", "date"]))
    assert summary["T"].eq(10).all()
    model = BetaGeoBetaBinomModel().fit(summary)
    assert model.time_unit_ == "Y"
    # mean dropout probability gamma / (gamma + delta) near the simulated 0.15
    assert model.gamma_ / (model.gamma_ + model.delta_) == pytest.approx(0.15, abs=0.03)


def test_bad_input_is_explained():
    with pytest.raises(ConfigError, match="period must be one of"):
        discrete_summary(TX, period="W")
    with pytest.raises(DataValidationError, match="date"):
        discrete_summary(TX.drop(columns="date"))
    with pytest.raises(DataValidationError, match="before every purchase"):
        discrete_summary(TX, observation_end="1990-01-01")
    bad = TX.assign(date=TX["date"].astype(str).where(TX.index != 2, "not a date"))
    with pytest.raises(DataValidationError, match="1 missing or unparsable"):
        discrete_summary(bad)
