"""Tests of the parametric-bootstrap intervals (churnlab.models.intervals).

Coverage is checked against the truth on data simulated under the model: the prediction at
the *true* parameters must fall inside the 90% interval in about 90% of repeated samples.
The process-noise simulation is checked against the closed-form expectations it must
average to (FHL 2005 eq. 10, Fader & Hardie 2005 eq. 41, Gamma-Gamma expected spend).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError, ModelNotFittedError
from churnlab.models import (
    BetaGeoCovariateModel,
    BetaGeoModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    aggregate_forecast,
    prediction_intervals,
)
from churnlab.models._simulate import simulate_bgnbd
from churnlab.models._simulate_covariates import simulate_bgnbd_covariates
from churnlab.models.intervals import _simulate_purchases, _simulate_revenue, draw_models

TRUTH = {"r": 0.5, "alpha": 6.0, "a": 0.7, "b": 2.5}
PROFILES = pd.DataFrame(
    {"frequency": [0, 2, 6, 3], "recency": [0.0, 30.0, 38.0, 8.0], "T": [40.0] * 4},
    index=pd.Index(["new", "regular", "heavy", "quiet"], name="customer_id"),
)


def _at(model, params: dict[str, float]):
    clone = copy.copy(model)
    clone.params_ = pd.Series(params, name="estimate")
    for k, v in params.items():
        setattr(clone, f"{k}_", float(v))
    return clone


@pytest.fixture(scope="module")
def bg_sim() -> tuple[pd.DataFrame, BetaGeoModel]:
    data = simulate_bgnbd(3000, **TRUTH, T=40.0, random_state=3)
    return data, BetaGeoModel().fit(data)


def test_coverage_of_the_true_prediction() -> None:
    # 30 samples of 1500 customers: how often does the 90% interval contain the prediction
    # at the true parameters? Binomial(30, 0.9) has mean 27 and sd 1.6; 22 is 3 sd below.
    hits = {what: np.zeros(len(PROFILES)) for what in ("probability_alive", "expected_purchases")}
    for rep in range(30):
        data = simulate_bgnbd(1500, **TRUTH, T=40.0, random_state=100 + rep)
        model = BetaGeoModel().fit(data)
        truth = _at(model, TRUTH)
        bounds = prediction_intervals(model, PROFILES, t=20.0, n_draws=100, random_state=rep)
        for what in hits:
            true_value = (
                truth.probability_alive(PROFILES)
                if what == "probability_alive"
                else truth.expected_purchases(PROFILES, 20.0)
            ).to_numpy()
            inside = (bounds[f"{what}_lower"] <= true_value) & (
                true_value <= bounds[f"{what}_upper"]
            )
            hits[what] += inside.to_numpy()
    # Observed (seeded): 25-28 of 30 per profile.
    assert (hits["expected_purchases"] >= 22).all(), hits
    # P(alive) of a customer without repeat purchase is exactly 1 under BG/NBD: skip "new".
    assert (hits["probability_alive"][1:] >= 22).all(), hits
    # The intervals are not vacuous: some sample misses (coverage below 100%) somewhere.
    assert hits["expected_purchases"].sum() < 30 * len(PROFILES)


def test_interval_brackets_the_estimate_and_shrinks_with_n() -> None:
    widths = []
    for n in (1000, 16000):
        data = simulate_bgnbd(n, **TRUTH, T=40.0, random_state=7)
        model = BetaGeoModel().fit(data)
        out = prediction_intervals(
            model, PROFILES, what=["expected_purchases", "probability_no_purchase"], t=20.0
        )
        for what in ("expected_purchases", "probability_no_purchase"):
            assert (out[f"{what}_lower"] <= out[what]).all()
            assert (out[what] <= out[f"{what}_upper"]).all()
        widths.append(
            (out["expected_purchases_upper"] - out["expected_purchases_lower"]).to_numpy()
        )
    # Standard errors fall like 1/sqrt(n): 16x the customers, about a quarter of the width.
    ratio = widths[1] / widths[0]
    assert np.all((ratio > 0.15) & (ratio < 0.4)), ratio


def test_same_seed_same_bounds(bg_sim) -> None:
    _, model = bg_sim
    one = prediction_intervals(model, PROFILES, t=10.0, random_state=5)
    two = prediction_intervals(model, PROFILES, t=10.0, random_state=5)
    other = prediction_intervals(model, PROFILES, t=10.0, random_state=6)
    pd.testing.assert_frame_equal(one, two)
    assert not np.allclose(one["expected_purchases_upper"], other["expected_purchases_upper"])
    assert list(one.columns) == [
        "probability_alive", "probability_alive_lower", "probability_alive_upper",
        "expected_purchases", "expected_purchases_lower", "expected_purchases_upper",
    ]  # fmt: skip


def test_draws_follow_the_covariance_on_the_fitting_scale(gg_cdnow) -> None:
    data = simulate_bgnbd_covariates(
        pd.DataFrame({"z": np.random.default_rng(0).normal(size=3000)}),
        **TRUTH, purchase={"z": 0.3}, T=40.0, random_state=1,
    )  # fmt: skip
    model = BetaGeoCovariateModel().fit(data, purchase_covariates=["z"])
    draws = draw_models(model, 4000, np.random.default_rng(0))
    values = np.array([m.params_.to_numpy() for m in draws])
    cov = model.covariance_.to_numpy()
    est = model.params_.to_numpy()
    # Base parameters: log-normal with var(log) = var / estimate^2 (delta method).
    np.testing.assert_allclose(
        np.log(values[:, :4]).std(axis=0), np.sqrt(np.diag(cov)[:4]) / est[:4], rtol=0.06
    )
    # The coefficient: normal on its own scale, centred at the estimate.
    assert values[:, 4].std() == pytest.approx(np.sqrt(cov[4, 4]), rel=0.06)
    assert values[:, 4].mean() == pytest.approx(est[4], abs=4 * np.sqrt(cov[4, 4] / 4000))
    # Gamma-Gamma's q is fitted as log(q - 1): every draw keeps q > 1 even when it is loose.
    loose = copy.copy(gg_cdnow)
    loose.covariance_ = gg_cdnow.covariance_ * 400.0
    qs = np.array([m.params_["q"] for m in draw_models(loose, 2000, np.random.default_rng(1))])
    assert qs.min() > 1.0


# ------------------------------------------------------------------ aggregate
def test_aggregate_forecast_estimate_and_interval(cdnow_spend, gg_cdnow) -> None:
    model = BetaGeoModel().fit(cdnow_spend)
    table = aggregate_forecast(model, cdnow_spend, 26.0, spend_model=gg_cdnow, n_draws=100)
    expected = model.expected_purchases(cdnow_spend, 26.0)
    spend = gg_cdnow.expected_spend(cdnow_spend)
    assert table.loc["purchases", "estimate"] == pytest.approx(expected.sum())
    assert table.loc["revenue", "estimate"] == pytest.approx((expected * spend).sum())
    assert (table["lower"] < table["estimate"]).all() and (table["estimate"] < table["upper"]).all()
    assert table.attrs["uncertainty"] == "parameter"
    noisy = aggregate_forecast(
        model, cdnow_spend, 26.0, spend_model=gg_cdnow, n_draws=100, process_noise=True
    )
    assert noisy.attrs["uncertainty"] == "parameter and process"
    assert ((noisy["upper"] - noisy["lower"]) > (table["upper"] - table["lower"])).all()
    again = aggregate_forecast(
        model, cdnow_spend, 26.0, spend_model=gg_cdnow, n_draws=100, process_noise=True
    )
    pd.testing.assert_frame_equal(noisy, again)


@pytest.mark.parametrize("model_cls", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_process_simulation_averages_to_the_closed_form(model_cls, cdnow_spend, gg_cdnow) -> None:
    model = model_cls().fit(cdnow_spend)
    rng = np.random.default_rng(0)
    counts = np.mean([_simulate_purchases(model, cdnow_spend, 26.0, rng) for _ in range(300)], 0)
    expected = model.expected_purchases(cdnow_spend, 26.0).to_numpy()
    # 300 x 2357 simulated customers: the total is within 1% of the closed form (its Monte
    # Carlo error is about 0.3%).
    assert counts.sum() == pytest.approx(expected.sum(), rel=0.01)
    if model_cls is BetaGeoModel:
        revenue = np.mean(
            [
                _simulate_revenue(gg_cdnow, cdnow_spend, np.round(expected * 0 + 2.0), rng)
                for _ in range(300)
            ],
            0,
        )
        spend = gg_cdnow.expected_spend(cdnow_spend).to_numpy()
        assert revenue.sum() == pytest.approx(2.0 * spend.sum(), rel=0.01)


# --------------------------------------------------------------------- errors
def test_missing_covariance(bg_sim) -> None:
    _, model = bg_sim
    broken = copy.copy(model)
    broken.covariance_ = None
    with pytest.raises(ConfigError, match=r"covariance_ is missing.*Refit"):
        prediction_intervals(broken, PROFILES, t=10.0)


def test_non_finite_covariance(bg_sim) -> None:
    _, model = bg_sim
    broken = copy.copy(model)
    broken.covariance_ = model.covariance_ * np.nan
    with pytest.raises(
        ConfigError, match=r"no finite standard error for r, alpha, a, b.*penalizer"
    ):
        prediction_intervals(broken, PROFILES, what="probability_alive")
    with pytest.raises(ConfigError, match=r"no finite standard error"):
        aggregate_forecast(broken, PROFILES, 10.0)


def test_option_errors(bg_sim) -> None:
    _, model = bg_sim
    with pytest.raises(ConfigError, match=r"what must name predictions"):
        prediction_intervals(model, PROFILES, what="clv")
    with pytest.raises(ConfigError, match=r"needs a horizon t.*expected_purchases"):
        prediction_intervals(model, PROFILES, what="expected_purchases")
    with pytest.raises(ConfigError, match=r"level must be strictly between 0 and 1"):
        prediction_intervals(model, PROFILES, t=10.0, level=90)
    with pytest.raises(ConfigError, match=r"n_draws must be a whole number of at least 2"):
        aggregate_forecast(model, PROFILES, 10.0, n_draws=1)
    with pytest.raises(ConfigError, match=r"needs a 'monetary_value' column"):
        aggregate_forecast(model, PROFILES, 10.0, spend_model=model)
    with pytest.raises(ModelNotFittedError, match=r"needs a fitted BetaGeoModel"):
        prediction_intervals(BetaGeoModel(), PROFILES, t=10.0)


def test_process_noise_needs_a_simulable_model(gg_cdnow, cdnow_spend) -> None:
    with pytest.raises(ConfigError, match=r"process_noise=True can simulate BG/NBD"):
        aggregate_forecast(gg_cdnow, cdnow_spend, 10.0, process_noise=True)
