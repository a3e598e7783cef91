import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError
from churnlab.retention import (
    churn_rate,
    cohort_matrix,
    model_retention,
    observed_annual_retention,
    period_retention,
    repeat_purchase_rate,
    retention_rate,
    what_if_retention,
)


def test_retention_rate_worked_example():
    # the CRM worked example from the issue: start 1000, 200 new, end 1100 -> 90%
    assert retention_rate(1000, 1100, 200) == pytest.approx(0.90)
    assert churn_rate(1000, 1100, 200) == pytest.approx(0.10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 10, 1), "nobody to retain"),
        ((10, 5, 6), "exceeds customers_end"),
        ((10, -1, 0), "finite and >= 0"),
    ],
)
def test_retention_rate_errors(args, message):
    with pytest.raises(ConfigError, match=message):
        retention_rate(*args)


def test_period_retention(tiny_transactions):
    # Jan: a, b (new); Feb: a, c (c new); Mar: a? no (a's last is 02-20) -> b, c, d (d new)
    table = period_retention(tiny_transactions, period="M")
    _, feb, mar = table.index.astype(str)
    assert table.loc[feb, "customers_start"] == 2
    assert table.loc[feb, "retention_rate"] == pytest.approx((2 - 1) / 2)
    assert table.loc[mar, "customers_end"] == 3 and table.loc[mar, "new_customers"] == 1
    assert table.loc[mar, "retention_rate"] == pytest.approx((3 - 1) / 2)  # b came back
    assert table.loc[mar, "strict_retention"] == pytest.approx(1 / 2)  # only c bought both
    # Feb revenue from January's active (a: 30) over January revenue (10+20+5)
    assert table.loc[feb, "revenue_retention"] == pytest.approx(30 / 35)
    with pytest.raises(ConfigError, match="period='Y'"):
        period_retention(tiny_transactions, period="Y")


def test_repeat_purchase_rate(tiny_transactions):
    assert repeat_purchase_rate(tiny_transactions) == pytest.approx(3 / 4)
    assert repeat_purchase_rate(tiny_transactions, cutoff="2024-02-01") == pytest.approx(1 / 2)


def test_cohort_matrix(tiny_transactions):
    customers = cohort_matrix(tiny_transactions, normalize=False)
    assert customers.loc[pd.Period("2024-01", "M"), 0] == 2
    assert customers.loc[pd.Period("2024-01", "M"), 1] == 1  # a in February
    assert customers.loc[pd.Period("2024-01", "M"), 2] == 1  # b in March
    assert np.isnan(customers.loc[pd.Period("2024-03", "M"), 1])  # beyond the data
    shares = cohort_matrix(tiny_transactions)
    assert shares.loc[pd.Period("2024-02", "M"), 1] == 1.0  # c buys again in March
    revenue = cohort_matrix(tiny_transactions, values="revenue", normalize=False)
    assert revenue.loc[pd.Period("2024-02", "M"), 1] == pytest.approx(44.0)
    with pytest.raises(ConfigError, match="values="):
        cohort_matrix(tiny_transactions, values="margin")


class _FlatModel:
    """Constant survival ``decay`` per period and unit spend: a hand-checkable model."""

    time_unit_ = "M"

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self.s_, self.beta_ = 1.0, 1.0  # Pareto/NBD-style dropout: (1 / (1 + t)) ** 1

    def expected_purchases(self, data, t):
        # cumulative purchases with survival decay^k per period -> sum_k decay^k
        return pd.Series((1 - self.decay**t) / (1 - self.decay) * self.decay, index=data.index)

    def expected_spend(self, data):
        return pd.Series(1.0, index=data.index)


def test_model_retention():
    from scipy import integrate, stats

    model = _FlatModel(0.9)
    assert model_retention(model, 12.0) == pytest.approx(1 / 13)  # (beta / (beta + t)) ** s

    class BG:
        r_, alpha_, a_, b_ = 0.24, 4.41, 0.79, 2.43  # FHL (2005) CDNOW estimates

    # E[(alpha / (alpha + p t)) ** r] with p ~ Beta(a, b), by adaptive quadrature
    expected, _ = integrate.quad(
        lambda p: stats.beta.pdf(p, BG.a_, BG.b_) * (BG.alpha_ / (BG.alpha_ + p * 52)) ** BG.r_,
        0,
        1,
    )
    assert model_retention(BG(), 52.0) == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ConfigError, match="Cannot read a retention rate"):
        model_retention(object(), 1.0)


def test_what_if_retention():
    data = pd.DataFrame({"frequency": [1.0], "recency": [1.0], "T": [2.0], "monetary_value": [1.0]})
    model = _FlatModel(decay=0.9)
    table = what_if_retention(model, model, data, points=(0, 5), horizon=12, discount_rate=0.0)
    assert table.loc[0.0, "retention_base"] == pytest.approx(1 / 13)
    assert table.loc[0.0, "value_change"] == pytest.approx(0.0)
    assert table.loc[0.0, "value_base"] == pytest.approx(sum(0.9**k for k in range(1, 13)))
    given = what_if_retention(model, model, data, points=5, horizon=12, baseline_retention=0.4)
    assert given.loc[5.0, "retention_new"] == pytest.approx(0.45)
    # purchases in month k scale by the survival ratio ((0.45 / 0.4) ** (1 / 12)) ** k
    ratio = (0.45 / 0.4) ** (1 / 12)
    new = sum(0.9**k * ratio**k / 1.01**k for k in range(1, 13))
    assert given.loc[5.0, "value_new"] == pytest.approx(new)
    with pytest.raises(ConfigError, match="baseline_retention"):
        what_if_retention(model, model, data, baseline_retention=1.5)
    with pytest.raises(ConfigError, match="horizon=1"):
        what_if_retention(model, model, data, horizon=1)


def test_observed_annual_retention_compounds_the_mean_quarterly_rate():
    # Q2: 4 active in Q1, 2 of them active in Q2, none new -> (2 - 0) / 4 = 0.5
    # Q3: 2 active in Q2; a returns and e is new -> (2 - 1) / 2 = 0.5; yearly 0.5 ** 4
    rows = [(c, "2024-01-15") for c in "abcd"] + [("a", "2024-04-10"), ("b", "2024-05-01")]
    rows += [("a", "2024-07-20"), ("e", "2024-08-02")]
    log = pd.DataFrame(rows, columns=["customer_id", "date"])
    log["date"] = pd.to_datetime(log["date"])
    log["amount"] = 10.0
    assert observed_annual_retention(log) == pytest.approx(0.5**4)
    assert np.isnan(observed_annual_retention(log.iloc[:4]))
