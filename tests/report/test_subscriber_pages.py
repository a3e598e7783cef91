"""The contractual pages' sentences and tables follow from the figures (Telco, checked directly)."""

from __future__ import annotations

import json

import pytest
from lifelines import KaplanMeierFitter

from churnlab.datasets import load_telco
from churnlab.report import subscriber_pages as pages
from churnlab.report import subscriber_summary as summary
from churnlab.report import subscriber_value as value
from churnlab.subscriptions.scoring import SubscriberSettings, load_subscribers, score_subscribers


@pytest.fixture(scope="module")
def telco():
    return load_telco()


@pytest.fixture(scope="module")
def result():
    return score_subscribers(load_subscribers("telco"), SubscriberSettings(currency="USD"))


def _km(frame):
    return KaplanMeierFitter().fit(frame["Tenure in Months"], frame["churned"])


def test_who_the_subscribers_are(result, telco):
    text = pages.subscribers_text(result).data
    median = telco["Tenure in Months"].median()
    assert text.startswith("**7,043** subscribers, of whom **5,174** (73%) are still active")
    assert f"Half of them have stayed {median:,.0f} months or more" in text
    monthly = telco.loc[~telco["churned"], "Monthly Charge"].sum()
    assert f"pay **\\${monthly:,.0f}** a month" in text  # $ escaped: not maths in Markdown
    assert pages.cleaning_text(result).data.startswith("All **7,043** rows read were kept")


def test_plan_sentence_is_the_kaplan_meier_of_each_contract(result, telco):
    at = {
        plan: float(_km(group).survival_function_at_times(12).iloc[0])
        for plan, group in telco.groupby("Contract")
    }
    text = pages.plan_text(result).data
    assert text == (
        f"After 12 months, **{at['Two Year']:.0%}** of *Two Year* subscribers are still active "
        f"against **{at['Month-to-Month']:.0%}** of *Month\\-to\\-Month* subscribers."
    )  # plan names come from the data: escaped for Markdown


def test_riskiest_month_is_the_lowest_period_retention(result, telco):
    km = _km(telco).survival_function_at_times([0, 1]).to_numpy()
    text = pages.retention_text(result).data
    assert text.startswith(
        f"Subscribers are most likely to leave in month 1: **{km[1] / km[0]:.0%}** of those"
    )


def test_recommendations_follow_from_the_table(result, telco):
    left = telco[telco["churned"]]
    early = float((left["Tenure in Months"] <= 3).mean())
    text = summary.recommendations(result).data
    assert f"{early:.0%} of the subscribers who left did so within their first 3 months" in text
    assert "Find out why Month\\-to\\-Month subscribers leave" in text  # escaped plan name
    active = telco[~telco["churned"]]
    revenue = 12 * active.loc[active["Contract"] == "Month-to-Month", "Monthly Charge"].sum()
    assert f"those still active pay \\${revenue:,.0f} a year" in text


def test_calculator_takes_retention_and_price_from_the_table(result, telco):
    calc = value.subscriber_calculator(result)
    year = float(_km(telco).survival_function_at_times(12).iloc[0])
    assert calc.parameters["retention"] == pytest.approx(year, abs=1e-4)
    assert calc.parameters["list_price"] == pytest.approx(
        12 * telco["Monthly Charge"].mean(), abs=0.01
    )
    assert calc.auto_renew == {"auto_renew_cost": 1.0, "auto_renew_retention": round(year + 0.1, 4)}
    values = calc.table["value_per_subscriber"]
    assert values.is_monotonic_increasing  # every year adds profit at these inputs


def test_change_table_against_a_previous_run(result):
    previous = dict(result.kpis, customers=7000, yearly_retention=0.80, base_value=None)
    html = summary.change_table(result, json.dumps(previous)).to_html()
    assert "+43" in html  # 7,043 subscribers against 7,000
    change = (result.kpis["yearly_retention"] - 0.80) * 100
    assert f"{change:+.1f} points" in html
