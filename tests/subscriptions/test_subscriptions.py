"""Subscription analyses: Kaplan-Meier vs lifelines, sBG vs Fader & Hardie, the magazine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from churnlab import config
from churnlab.data import load_customers
from churnlab.datasets import load_telco
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.models.sbg import ShiftedBetaGeoModel
from churnlab.subscriptions import (
    auto_renew_what_if,
    fit_cohort_sbg,
    projected_survival,
    residual_value,
    retention_by_cohort,
    retention_by_tenure,
    subscriber_value_by_year,
    survival_curve,
)

# Fader & Hardie (2007), "How to Project Customer Retention", Table 1, regular segment:
# customers of a cohort of 1,000 still active at the start of years 0-12.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]


def cohort_table(survivors: list[int]) -> pd.DataFrame:
    """A LoadedCustomers-shaped table for one cohort: ``lost`` churners at each tenure t."""
    n = len(survivors) - 1
    tenure, churned = [], []
    for t in range(1, n + 1):
        lost = survivors[t - 1] - survivors[t]
        tenure += [float(t)] * lost
        churned += [True] * lost
    tenure += [float(n)] * survivors[-1]
    churned += [False] * survivors[-1]
    index = pd.Index([f"c{i}" for i in range(len(tenure))], name=config.CUSTOMER_ID)
    table = pd.DataFrame(
        {"start": pd.NaT, "end": pd.NaT, "tenure": tenure, config.CHURNED: churned}, index=index
    )
    table.attrs["tenure_unit"] = "M"
    return table


@pytest.fixture(scope="module")
def telco():
    return load_customers(
        load_telco(),
        tenure="Tenure in Months",
        churned="Churn Label",
        plan="Contract",
        revenue="Monthly Charge",
    )


@pytest.fixture(scope="module")
def regular():
    return fit_cohort_sbg(cohort_table(REGULAR[:8]))


def test_survival_curve_is_lifelines_kaplan_meier_on_telco(telco):
    raw = pd.read_csv(config.DATA_DIR / "telco_customer_churn_extended.csv")
    km = KaplanMeierFitter(alpha=0.10).fit(raw["Tenure in Months"], raw["Churn Value"])
    curve = survival_curve(telco, ci=0.90)
    np.testing.assert_allclose(curve.index, km.survival_function_.index)
    np.testing.assert_allclose(curve["survival"], km.survival_function_["KM_estimate"])
    np.testing.assert_allclose(curve["survival_lower"], km.confidence_interval_.iloc[:, 0])
    np.testing.assert_allclose(curve["survival_upper"], km.confidence_interval_.iloc[:, 1])
    np.testing.assert_array_equal(curve["at_risk"], km.event_table["at_risk"])
    assert curve["churned"].sum() == 1869
    assert curve["churned"].sum() + curve["censored"].sum() == 7043


def test_survival_curve_by_plan(telco):
    curves = survival_curve(telco, by="plan")
    assert curves.index.names == ["plan", "tenure"]
    two_year = telco.data[telco.data["plan"] == "Two Year"]
    km = KaplanMeierFitter().fit(two_year["tenure"], two_year[config.CHURNED])
    np.testing.assert_allclose(
        curves.loc["Two Year", "survival"], km.survival_function_["KM_estimate"]
    )
    at_72 = curves.xs(72.0, level="tenure")["survival"]
    assert at_72["Month-to-Month"] < at_72["One Year"] < at_72["Two Year"]


def test_retention_by_tenure_is_the_survival_ratio(telco):
    table = retention_by_tenure(telco)
    assert table.index.tolist() == list(range(1, 73))
    km = KaplanMeierFitter().fit(telco.data["tenure"], telco.data[config.CHURNED])
    s = km.survival_function_at_times(np.arange(0, 73)).to_numpy()
    np.testing.assert_allclose(table["retention_rate"], s[1:] / s[:-1])
    # With whole-month tenures the ratio is the life-table rate 1 - churned / at risk.
    np.testing.assert_allclose(table["retention_rate"], 1 - table["churned"] / table["at_risk"])
    assert table.loc[1, "at_risk"] == 7043 and table.loc[1, "churned"] == 380
    by_plan = retention_by_tenure(telco, by="plan")
    assert by_plan.index.names == ["plan", "period"]


def test_retention_by_cohort_from_dates():
    frame = pd.DataFrame(
        {
            "id": list("abcdef"),
            "start": [
                "2022-01-10",
                "2022-03-01",
                "2022-06-01",
                "2023-02-01",
                "2023-03-01",
                "2023-04-01",
            ],
            "end": ["2022-04-10", None, "2022-07-01", None, "2023-05-01", None],
        }
    )
    customers = load_customers(
        frame, customer_id="id", start="start", end="end", observation_end="2023-06-01"
    )
    matrix = retention_by_cohort(customers, freq="Y")
    assert matrix.index.tolist() == ["2022", "2023"]
    assert matrix.attrs["cohort_size"].tolist() == [3, 3]
    # 2022: churn at month 1 (c) and month 3 (a), b active for 15 months.
    assert matrix.loc["2022", 0] == 1.0
    assert matrix.loc["2022", 1] == pytest.approx(2 / 3)
    assert matrix.loc["2022", 3] == pytest.approx(1 / 3)
    assert matrix.loc["2022", 15] == pytest.approx(1 / 3)
    # 2023: d active 4 months, e churned after 2 months, f active 2 months (censored).
    assert matrix.loc["2023", 2] == pytest.approx(2 / 3)
    assert matrix.loc["2023", 4] == pytest.approx(2 / 3)
    assert np.isnan(matrix.loc["2023", 5])
    assert retention_by_cohort(customers, freq="Q").index[0] == "2022Q1"


def test_fit_cohort_sbg_reproduces_fader_hardie_2007(regular):
    # FH (2007), section 4: regular segment fitted on years 1-7 -> alpha=0.704, beta=1.182.
    assert regular.alpha_ == pytest.approx(0.704, abs=5e-4)
    assert regular.beta_ == pytest.approx(1.182, abs=5e-4)
    assert regular.cohort_size_ == 1000 and regular.n_periods_ == 7
    direct = ShiftedBetaGeoModel().fit(REGULAR[:8])
    assert regular.alpha_ == pytest.approx(direct.alpha_, rel=1e-9)
    # The full 12 years, calibrated on years 1-7 only, is the same fit.
    calibrated = fit_cohort_sbg(cohort_table(REGULAR), max_periods=7)
    assert calibrated.beta_ == pytest.approx(regular.beta_, rel=1e-9)
    assert regular.time_unit_ == "M"
    # The same cohort as a raw customer table through load_customers (years as "periods").
    table = cohort_table(REGULAR[:8])
    raw = pd.DataFrame(
        {
            "id": table.index,
            "years": table["tenure"].astype(int),
            "left": table[config.CHURNED].map({True: "Yes", False: "No"}),
        }
    )
    loaded = load_customers(raw, customer_id="id", tenure="years", churned="left")
    assert fit_cohort_sbg(loaded).alpha_ == pytest.approx(regular.alpha_, rel=1e-9)


def test_projected_survival_against_the_holdout_years(regular):
    full = cohort_table(REGULAR)
    curve = projected_survival(regular, 12, customers=full)
    assert list(curve.columns) == ["survival", "active", "retention_rate", "observed_survival"]
    np.testing.assert_allclose(curve["observed_survival"], np.array(REGULAR) / 1000)
    # Calibrated on years 1-7, the sBG projects the holdout years 8-12 of FH (2007),
    # Table 1 (22.3 ... 17.3%) within half a percentage point (largest gap 0.31 points).
    gap = 100 * (curve["survival"] - curve["observed_survival"]).loc[8:12].abs()
    assert gap.max() < 0.5
    assert np.isnan(projected_survival(regular, 14, customers=full).loc[14, "observed_survival"])


def test_residual_value_is_fader_hardie_2010_derl(regular):
    customers = cohort_table(REGULAR[:8]).assign(revenue=10.0)
    values = residual_value(customers, regular, discount_rate=0.1)
    active = values[~values[config.CHURNED]]
    assert (values.loc[values[config.CHURNED], "residual_value"] == 0).all()
    # An active customer at tenure 7 has made 7 renewals: DERL is FH (2010) eq. 6 with
    # n - 1 = 7, the discounted sum of S(t) / S(7) over t >= 8 (next payment undiscounted).
    derl = regular.dert(0.1, renewals=7)
    t = np.arange(8, 5000)
    direct = np.sum(regular.survival(t) / regular.survival(7) / 1.1 ** (t - 8))
    assert derl == pytest.approx(direct, rel=1e-8)
    np.testing.assert_allclose(active["derl"], derl)
    np.testing.assert_allclose(active["residual_value"], 10 * derl)
    as_number = residual_value(
        customers.drop(columns="revenue"), regular, discount_rate=0.1, revenue=10
    )
    pd.testing.assert_frame_equal(as_number, values)
    per_customer = pd.Series(10.0, index=customers.index)
    pd.testing.assert_frame_equal(
        residual_value(customers, regular, discount_rate=0.1, revenue=per_customer), values
    )


def test_residual_value_on_telco(telco):
    model = fit_cohort_sbg(telco)
    values = residual_value(telco, model, discount_rate=1.1 ** (1 / 12) - 1)
    assert values.index.equals(telco.data.index)
    active = values[~values[config.CHURNED]]
    assert (active["derl"] > 0).all() and (values.loc[values[config.CHURNED], "derl"] == 0).all()
    # sBG retention rises with tenure, so longer-tenured customers have a longer DERL.
    by_tenure = active.groupby("renewals")["derl"].first()
    assert by_tenure.is_monotonic_increasing


# The magazine example: 100,000 new subscribers at a $40 list price, 30% renew each
# year, $8 of renewal letters and calls, 25% of revenue from subscriptions and list
# rental (75% from advertisers). The example's shape ("very low in year 1, about $12
# by year 3") implies: a 75% introductory discount ($10 in year 1), a 25% margin on
# revenue, renewal letters to every subscriber up for renewal, a 20% discount rate,
# and value counted per ORIGINAL subscriber (cumulative discounted profit / 100,000).
MAGAZINE = {
    "subscribers": 100_000,
    "list_price": 40.0,
    "retention": 0.30,
    "renewal_cost": 8.0,
    "subscription_revenue_share": 0.25,
    "margin": 0.25,
    "acquisition_discount": 0.75,
    "discount_rate": 0.20,
}


def test_magazine_value_is_low_in_year_1_and_about_12_by_year_3():
    table = subscriber_value_by_year(**MAGAZINE)
    assert table.index.tolist() == [1, 2, 3, 4, 5]
    # By hand: year 1 = 0.25 * ($10 + $30 ads) - $8 = $2 per subscriber; later years earn
    # 0.25 * ($40 + $120) - $8 = $32 per active subscriber: year 2 adds 0.3 * 32 / 1.2 = 8,
    # year 3 adds 0.09 * 32 / 1.44 = 2.
    np.testing.assert_allclose(table["value_per_subscriber"], [2.0, 10.0, 12.0, 12.5, 12.625])
    assert table.loc[1, "value_per_subscriber"] < 0.2 * table.loc[3, "value_per_subscriber"]
    np.testing.assert_allclose(table["active_subscribers"], [100_000, 30_000, 9_000, 2_700, 810])
    np.testing.assert_allclose(table["profit_per_active"], [2, 32, 32, 32, 32])
    share = table["subscription_revenue"] / table["revenue"]
    np.testing.assert_allclose(share, 0.25)
    assert table.loc[1, "renewal_costs"] == 800_000
    assert table.loc[2, "advertising_revenue"] == 3_600_000
    np.testing.assert_allclose(
        table["profit"], table["gross_profit"] - table["renewal_costs"], rtol=1e-12
    )
    undiscounted = subscriber_value_by_year(**{**MAGAZINE, "discount_rate": 0.0})
    np.testing.assert_allclose(undiscounted["value_per_subscriber"].iloc[:3], [2.0, 11.6, 14.48])


def test_auto_renewal_what_if():
    # Card auto-renewal: $1 of notices and card fees instead of $8, retention 30% -> 50%.
    table = auto_renew_what_if(auto_renew_cost=1.0, auto_renew_retention=0.5, **MAGAZINE)
    assert list(table.columns) == [
        "base",
        "lower_renewal_cost",
        "higher_retention",
        "auto_renew",
        "gain",
    ]
    np.testing.assert_allclose(table["base"], [2.0, 10.0, 12.0, 12.5, 12.625])
    # Year 3 by hand: 9 + 0.5 * 39 / 1.2 + 0.25 * 39 / 1.44 = 32.0208...
    assert table.loc[3, "auto_renew"] == pytest.approx(9 + 0.5 * 39 / 1.2 + 0.25 * 39 / 1.44)
    best_single = table[["lower_renewal_cost", "higher_retention"]].max(axis=1)
    assert table.loc[1, "auto_renew"] == table.loc[1, "lower_renewal_cost"]  # no renewals yet
    assert (table["auto_renew"].loc[2:] > best_single.loc[2:]).all()
    assert (table["gain"] > 0).all()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"subscribers": 0}, "subscribers must be a whole number > 0"),
        ({"years": 0}, "years must be a whole number >= 1"),
        ({"list_price": -1}, "list_price must be an amount >= 0"),
        ({"renewal_cost": float("nan")}, "renewal_cost must be an amount >= 0"),
        ({"retention": 1.3}, "retention must be a number between 0 and 1"),
        ({"margin": -0.1}, "margin must be a number between 0 and 1"),
        ({"acquisition_discount": 2}, "acquisition_discount must be a number between 0 and 1"),
        ({"discount_rate": -0.1}, "discount_rate must be a number between 0 and 10"),
        ({"subscription_revenue_share": 0}, "subscription_revenue_share must be above 0"),
    ],
)
def test_magazine_parameter_errors(change, match):
    with pytest.raises(ConfigError, match=match):
        subscriber_value_by_year(**{**MAGAZINE, **change})


def test_what_if_parameter_errors():
    with pytest.raises(ConfigError, match="auto_renew_cost must be an amount >= 0"):
        auto_renew_what_if(auto_renew_cost=-1, auto_renew_retention=0.5, **MAGAZINE)
    with pytest.raises(ConfigError, match="auto_renew_retention must be a number between"):
        auto_renew_what_if(auto_renew_cost=1, auto_renew_retention=50, **MAGAZINE)


def test_analysis_errors(telco, regular):
    with pytest.raises(ConfigError, match="ci must be a level between 0 and 1"):
        survival_curve(telco, ci=95)
    with pytest.raises(DataValidationError, match="needs column\\(s\\) 'tenure'"):
        survival_curve(pd.DataFrame({"x": [1]}))
    bad = cohort_table(REGULAR[:3])
    bad.iloc[0, bad.columns.get_loc("tenure")] = -1.0
    with pytest.raises(DataValidationError, match="1 of 1,000 customers have a missing or"):
        retention_by_tenure(bad)
    holes = telco.data.assign(plan=telco.data["plan"].where(telco.data["tenure"] > 1))
    with pytest.raises(DataValidationError, match="column 'plan' is empty for 613 of 7,043"):
        survival_curve(holes, by="plan")
    with pytest.raises(DataValidationError, match="retention_by_cohort needs start dates"):
        retention_by_cohort(telco)
    with pytest.raises(ConfigError, match="freq='D' is not a cohort width"):
        retention_by_cohort(telco, freq="D")
    with pytest.raises(ConfigError, match="max_periods must be a whole number >= 1"):
        fit_cohort_sbg(telco, max_periods=0)
    with pytest.raises(ConfigError, match="max_periods=80 is beyond the longest tenure, 72"):
        fit_cohort_sbg(telco, max_periods=80)
    with pytest.raises(DataValidationError, match="no customer churned"):
        fit_cohort_sbg(cohort_table([10, 10, 10]))
    customers = cohort_table(REGULAR[:8])
    with pytest.raises(ConfigError, match="residual_value needs the revenue per period"):
        residual_value(customers, regular, discount_rate=0.1)
    with pytest.raises(DataValidationError, match="revenue has no value for 999 of 1,000"):
        residual_value(customers, regular, discount_rate=0.1, revenue=pd.Series({"c0": 1.0}))
    with pytest.raises(ConfigError, match="discount_rate must be > 0 per period"):
        residual_value(customers, regular, discount_rate=0.0, revenue=1.0)
