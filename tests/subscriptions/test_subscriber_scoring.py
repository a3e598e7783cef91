"""The contractual scoring pass: KM vs lifelines, DERL vs the sBG closed form, KPIs, caveats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from scipy.special import betaln

from churnlab.data.customers import check_customer_options
from churnlab.datasets import load_telco
from churnlab.exceptions import ConfigError
from churnlab.report.params import check_data_options
from churnlab.subscriptions.scoring import (
    SUBSCRIBER_COLUMNS,
    SubscriberSettings,
    load_subscribers,
    score_subscribers,
)


@pytest.fixture(scope="module")
def telco():
    return score_subscribers(load_subscribers("telco"), SubscriberSettings(currency="USD"))


def test_telco_pass_is_lifelines_kaplan_meier(telco):
    raw = load_telco()
    km = KaplanMeierFitter().fit(raw["Tenure in Months"], raw["churned"])
    assert list(telco.customers.columns) == list(SUBSCRIBER_COLUMNS)
    np.testing.assert_allclose(
        telco.customers["survival_to_date"],
        km.survival_function_at_times(raw["Tenure in Months"]).to_numpy(),
        rtol=1e-12,
    )
    year = float(km.survival_function_at_times(12).iloc[0])
    assert telco.kpis["yearly_retention"] == pytest.approx(year, abs=1e-6)
    # Monthly and yearly retention are one figure, related by compounding.
    assert telco.kpis["monthly_retention"] ** 12 == pytest.approx(year, rel=1e-5)
    # IBM's Telco table: 7,043 customers, 1,869 of them churned (Churn Value = 1).
    assert telco.kpis["customers"] == 7043 and telco.kpis["active_customers"] == 5174
    assert telco.kpis["churned_share"] == pytest.approx(1869 / 7043, abs=1e-6)


def test_telco_values_add_up(telco):
    table, k = telco.customers, telco.kpis
    active = table[~table["churned"]]
    assert k["base_value"] == pytest.approx(active["residual_value"].sum(), abs=0.01)
    assert k["recurring_revenue_per_year"] == pytest.approx(12 * active["revenue"].sum(), abs=0.01)
    assert (table.loc[table["churned"], ["derl", "residual_value"]] == 0).all().all()
    assert k["periods_per_year"] == 12 and k["tenure_unit"] == "M"
    # 10% a year, as a monthly rate.
    assert k["discount_rate_per_period"] == pytest.approx(1.1 ** (1 / 12) - 1, abs=1e-8)
    assert telco.cohorts is None and telco.transactions is None  # no start dates, no log


def test_expected_remaining_periods_is_the_sbg_closed_form(telco):
    # S(t) = B(a, b + t) / B(a, b) (Fader & Hardie 2007, eq. 6); a subscriber at tenure n
    # is expected to pay sum_{t=1..H} S(n + t) / S(n) more times within H = 120 months.
    a, b = telco.kpis["sbg_alpha"], telco.kpis["sbg_beta"]
    row = telco.customers[~telco.customers["churned"]].iloc[0]
    n, steps = int(row["renewals"]), np.arange(1, 121)
    direct = np.exp(betaln(a, b + n + steps) - betaln(a, b + n)).sum()
    assert row["expected_remaining_periods"] == pytest.approx(direct, rel=1e-4)


def test_pass_is_deterministic_and_samples_by_seed():
    first = score_subscribers(load_subscribers("telco", sample_customers=500, random_state=3))
    again = score_subscribers(load_subscribers("telco", sample_customers=500, random_state=3))
    pd.testing.assert_frame_equal(first.customers, again.customers)
    assert first.kpis == again.kpis and first.kpis["customers"] == 500
    other = load_subscribers("telco", sample_customers=500, random_state=4)
    assert not other.data.index.equals(first.customers.index)


def test_table_without_revenue_or_a_full_year_says_so():
    table = pd.DataFrame(
        {"id": [f"c{i}" for i in range(40)], "months": [1 + i % 8 for i in range(40)]}
    )
    table["left"] = np.where(np.arange(40) % 3 == 0, "Yes", "No")
    loaded = load_subscribers(table, customer_id="id", tenure="months", churned="left")
    result = score_subscribers(loaded)
    assert result.kpis["yearly_retention"] is None and result.kpis["base_value"] is None
    assert result.customers["residual_value"].isna().all()
    text = " ".join(result.caveats)
    assert "no revenue per subscriber" in text and "observed for a full year" in text


def test_settings_and_options_errors():
    with pytest.raises(ConfigError, match="yearly_discount_rate must be between 0 and 1"):
        SubscriberSettings(yearly_discount_rate=10)
    with pytest.raises(ConfigError, match="cohort_freq must be"):
        SubscriberSettings(cohort_freq="D")
    with pytest.raises(ConfigError, match="tenure_unit='Y' is not a known"):
        check_customer_options({"tenure": "t", "tenure_unit": "Y"})
    with pytest.raises(ConfigError, match="plan must be a column name"):
        check_customer_options({"plan": 3})
    with pytest.raises(ConfigError, match="data kind 'contracts' is not known"):
        check_data_options({"kind": "contracts"})
    assert check_data_options({"kind": "subscriptions", "tenure": "t", "currency": "eur"}) == {
        "kind": "subscriptions",
        "tenure": "t",
        "currency": "EUR",
    }


def test_a_transaction_log_is_not_a_customer_table():
    with pytest.raises(ConfigError, match="'online_retail' is a bundled transaction log"):
        load_subscribers("online_retail")
