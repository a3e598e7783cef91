"""Gamma-Gamma spend model against Fader, Hardie & Lee (2005) and lifetimes 0.11.3."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import GammaGammaFitter

from churnlab.exceptions import (
    ConvergenceWarning,
    DataQualityWarning,
    DataValidationError,
    ModelNotFittedError,
)
from churnlab.models.gamma_gamma import GammaGammaModel


def test_published_parameters(gg_cdnow):
    # Fader, Hardie & Lee (2005), "RFM and CLV", and Hardie's note "The Gamma-Gamma Model of
    # Monetary Value" (2013): p=6.25, q=3.74, gamma=15.44 on the 946 CDNOW repeat buyers.
    assert gg_cdnow.p_ == pytest.approx(6.25, abs=5e-3)
    assert gg_cdnow.q_ == pytest.approx(3.74, abs=5e-3)
    assert gg_cdnow.v_ == pytest.approx(15.44, abs=1e-2)  # 15.447 in lifetimes at tighter tol
    assert gg_cdnow.n_customers_ == 946
    assert gg_cdnow.n_excluded_ == 2357 - 946
    assert "946 repeat buyers" in repr(gg_cdnow)


def test_fit_and_predictions_match_lifetimes(gg_cdnow, cdnow_spend, lifetimes_at):
    repeat = cdnow_spend[cdnow_spend["frequency"] > 0]
    x, m = repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy()
    lt = GammaGammaFitter().fit(x, m)
    ones = np.ones_like(x, dtype=float)
    lt_ll = -GammaGammaFitter._negative_log_likelihood(
        np.log(lt.params_.to_numpy()), x, m, ones, 0.0
    )
    assert gg_cdnow.log_likelihood_ == pytest.approx(lt_ll * len(x), rel=1e-6)
    at_ours = lifetimes_at(GammaGammaFitter, gg_cdnow)
    np.testing.assert_allclose(
        gg_cdnow.expected_spend(cdnow_spend),
        at_ours.conditional_expected_average_profit(
            cdnow_spend["frequency"], cdnow_spend["monetary_value"]
        ),
        rtol=1e-6,
    )


def test_expected_spend_shrinks_towards_population_mean(gg_cdnow):
    data = pd.DataFrame(
        {"frequency": [0, 1, 50], "monetary_value": [0.0, 500.0, 500.0]}, index=["a", "b", "c"]
    )
    spend = gg_cdnow.expected_spend(data)
    population = gg_cdnow.p_ * gg_cdnow.v_ / (gg_cdnow.q_ - 1)
    assert spend["a"] == pytest.approx(population)
    assert population < spend["b"] < spend["c"] < 500.0
    assert spend.name == "expected_spend" and list(spend.index) == ["a", "b", "c"]


def test_gradient_matches_finite_differences(cdnow_spend):
    repeat = cdnow_spend[cdnow_spend["frequency"] > 0]
    cols = (repeat["frequency"].to_numpy(float), repeat["monetary_value"].to_numpy())
    p = np.array([6.0, 3.5, 15.0])
    _, grad = GammaGammaModel._loglik(p, cols)
    for j in range(3):
        h = 1e-6 * p[j]
        up, down = p.copy(), p.copy()
        up[j] += h
        down[j] -= h
        num = (GammaGammaModel._loglik(up, cols)[0] - GammaGammaModel._loglik(down, cols)[0]) / (
            2 * h
        )
        np.testing.assert_allclose(grad[:, j], num, rtol=1e-5, atol=1e-7)


def test_missing_monetary_column_is_reported():
    with pytest.raises(DataValidationError, match="monetary_value"):
        GammaGammaModel().fit(pd.DataFrame({"frequency": [1, 2]}))


def test_negative_spend_of_repeat_buyers_is_rejected():
    data = pd.DataFrame(
        {"frequency": [1, 2, 3], "monetary_value": [10.0, 0.0, -5.0]}, index=list("xyz")
    )
    with pytest.raises(DataValidationError, match=r"1 row\(s\).*'z'.*monetary_value < 0"):
        GammaGammaModel().fit(data)


def test_zero_mean_repeat_spend_is_excluded_with_a_count(cdnow_spend, gg_cdnow):
    # Issue #14: a repeat buyer whose repeat orders were all free used to fail the whole fit.
    data = cdnow_spend.copy()
    zero = data.index[data["frequency"] > 0][:3]
    data.loc[zero, "monetary_value"] = 0.0
    with pytest.warns(DataQualityWarning, match="3 repeat buyer.*mean repeat spend of 0"):
        model = GammaGammaModel().fit(data)
    assert model.n_zero_spend_ == 3
    assert model.n_customers_ == gg_cdnow.n_customers_ - 3
    spend = model.expected_spend(data)
    assert np.all(spend > 0)
    # Shrunk from 0 towards the population mean: positive, below it.
    assert np.all(spend[zero] < model.p_ * model.v_ / (model.q_ - 1))


def test_invalid_frequency_is_rejected():
    data = pd.DataFrame({"frequency": [1.5, 2], "monetary_value": [10.0, 3.0]})
    with pytest.raises(DataValidationError, match="non-integer frequency"):
        GammaGammaModel().fit(data)
    with pytest.raises(DataValidationError, match="NaN or infinite"):
        GammaGammaModel().fit(data.assign(monetary_value=[np.nan, 1.0]))


def test_no_repeat_buyer_is_a_clear_error():
    data = pd.DataFrame({"frequency": [0, 0], "monetary_value": [0.0, 0.0]})
    with pytest.raises(DataValidationError, match="none of the 2 customers has a repeat purchase"):
        GammaGammaModel().fit(data)


def test_heavy_tailed_spend_is_constrained_to_q_above_one():
    # nu ~ Gamma(q=0.6): the population mean spend is infinite. Unconstrained, the fit gives
    # q <= 1 and negative expected spend; constrained (lifetimes' q_constraint) q stays > 1,
    # expected spend is positive, and the fit's health says the constraint binds.
    rng = np.random.default_rng(3)
    nu = rng.gamma(0.6, 1 / 10.0, size=4000)
    x = rng.integers(1, 6, size=4000)
    m = rng.gamma(4.0 * x, 1 / (nu * x))
    data = pd.DataFrame({"frequency": x, "monetary_value": m})
    with pytest.warns(ConvergenceWarning, match="q=.* lower bound 1"):
        model = GammaGammaModel().fit(data)
    assert model.q_ > 1
    assert np.all(model.expected_spend(data) > 0)
    health = model.health_
    assert health.q_above_one is False and "q" in health.at_boundary and not health.ok
    assert any("average spend per order is not well defined" in p for p in health.problems)


def test_healthy_fit_reports_q_above_one(gg_cdnow):
    assert gg_cdnow.health_.q_above_one is True
    assert gg_cdnow.health_.ok and gg_cdnow.health_.problems == []


def test_not_fitted():
    with pytest.raises(ModelNotFittedError, match=r"not fitted yet.*\.fit\(summary\)"):
        GammaGammaModel().expected_spend(pd.DataFrame({"frequency": [1], "monetary_value": [2.0]}))
