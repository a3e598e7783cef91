"""Tests of churnlab.models.clv.customer_lifetime_value."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

from churnlab import config
from churnlab.exceptions import (
    ConfigError,
    ConvergenceWarning,
    DataValidationError,
    ModelNotFittedError,
)
from churnlab.models.clv import customer_lifetime_value

# The reference: CDNOW 2357-customer cohort shipped with lifetimes (weekly units).


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    data = load_cdnow_summary_data_with_monetary_value()
    data.index = data.index.astype(str).rename(config.CUSTOMER_ID)
    data.attrs["time_unit"] = "W"
    return data


@pytest.fixture(scope="module")
def fitted(cdnow):
    from churnlab.models.bgnbd import BetaGeoModel
    from churnlab.models.gamma_gamma import GammaGammaModel

    bg = BetaGeoModel().fit(cdnow)
    gg = GammaGammaModel().fit(cdnow[cdnow[config.FREQUENCY] > 0])
    return bg, gg


def _lifetimes_at(bg, gg) -> tuple[BetaGeoFitter, GammaGammaFitter]:
    """lifetimes fitters carrying churnlab's fitted parameters (no refit)."""
    lt_bg = BetaGeoFitter()
    lt_bg.params_ = pd.Series(
        bg.params_[["r", "alpha", "a", "b"]].to_numpy(), index=["r", "alpha", "a", "b"]
    )
    lt_bg.predict = lt_bg.conditional_expected_number_of_purchases_up_to_time
    lt_gg = GammaGammaFitter()
    lt_gg.params_ = pd.Series(gg.params_[["p", "q", "v"]].to_numpy(), index=["p", "q", "v"])
    return lt_bg, lt_gg


def test_clv_matches_lifetimes_monthly_stepping(cdnow, fitted):
    # Known value: lifetimes 0.11.3 GammaGammaFitter.customer_lifetime_value(freq="M") at the
    # same parameters. lifetimes steps one unit per month when freq="M"; a weekly BG/NBD model
    # is the same model in months with alpha divided by the weeks per month and recency/T too,
    # so this is like-for-like with churnlab's exact W -> M conversion.
    bg, gg = fitted
    lt_bg, lt_gg = _lifetimes_at(bg, gg)
    weeks_per_month = config.TIME_UNIT_DAYS["M"] / config.TIME_UNIT_DAYS["W"]
    lt_bg.params_["alpha"] = lt_bg.params_["alpha"] / weeks_per_month
    expected = lt_gg.customer_lifetime_value(
        lt_bg,
        cdnow[config.FREQUENCY],
        cdnow[config.RECENCY] / weeks_per_month,
        cdnow[config.T] / weeks_per_month,
        cdnow[config.MONETARY_VALUE],
        time=12,
        discount_rate=0.01,
        freq="M",
    )
    result = customer_lifetime_value(
        bg, gg, cdnow, horizon=12, horizon_unit="M", discount_rate=0.01
    )
    assert list(result.columns) == ["clv"]
    assert result.index.equals(cdnow.index)
    np.testing.assert_allclose(result["clv"], expected.to_numpy(), rtol=1e-6)


def test_clv_close_to_lifetimes_weekly_freq(cdnow, fitted):
    # lifetimes' freq="W" uses 4.345 weeks a month; churnlab uses 30.436875 / 7 = 4.348125,
    # so the two agree to about 0.1% (not exactly) on CDNOW.
    bg, gg = fitted
    lt_bg, lt_gg = _lifetimes_at(bg, gg)
    expected = lt_gg.customer_lifetime_value(
        lt_bg,
        cdnow[config.FREQUENCY],
        cdnow[config.RECENCY],
        cdnow[config.T],
        cdnow[config.MONETARY_VALUE],
        time=12,
        discount_rate=0.01,
        freq="W",
    )
    result = customer_lifetime_value(bg, gg, cdnow)
    np.testing.assert_allclose(result["clv"], expected.to_numpy(), rtol=2e-3)


def test_weekly_horizon_in_weekly_model(cdnow, fitted):
    # 52 weekly steps at zero discount = expected spend x expected purchases in 52 weeks.
    bg, gg = fitted
    result = customer_lifetime_value(bg, gg, cdnow, horizon=52, horizon_unit="W", discount_rate=0)
    expected = gg.expected_spend(cdnow) * bg.expected_purchases(cdnow, 52.0)
    np.testing.assert_allclose(result["clv"], expected.to_numpy(), rtol=1e-10)


def test_time_units_are_converted(cdnow, fitted):
    # A daily horizon of 28 days in a weekly model equals 4 weeks at zero discount.
    bg, gg = fitted
    weekly = customer_lifetime_value(bg, gg, cdnow, horizon=4, horizon_unit="W", discount_rate=0)
    daily = customer_lifetime_value(bg, gg, cdnow, horizon=28, horizon_unit="D", discount_rate=0)
    np.testing.assert_allclose(daily["clv"], weekly["clv"], rtol=1e-9)


def test_discounting_lowers_value(cdnow, fitted):
    bg, gg = fitted
    plain = customer_lifetime_value(bg, gg, cdnow, discount_rate=0.0)["clv"]
    discounted = customer_lifetime_value(bg, gg, cdnow, discount_rate=0.05)["clv"]
    assert (discounted < plain).all()
    assert (discounted > 0).all()


def test_interval_is_reproducible_and_brackets(cdnow, fitted):
    bg, gg = fitted
    subset = cdnow.iloc[:50]
    first = customer_lifetime_value(
        bg, gg, subset, horizon=3, interval=0.9, n_draws=30, random_state=7
    )
    second = customer_lifetime_value(
        bg, gg, subset, horizon=3, interval=0.9, n_draws=30, random_state=7
    )
    other = customer_lifetime_value(
        bg, gg, subset, horizon=3, interval=0.9, n_draws=30, random_state=8
    )
    assert list(first.columns) == ["clv", "clv_lower", "clv_upper"]
    pd.testing.assert_frame_equal(first, second)
    assert not np.allclose(first["clv_lower"], other["clv_lower"])
    assert (first["clv_lower"] <= first["clv_upper"]).all()
    inside = (first["clv_lower"] <= first["clv"] * 1.02) & (
        first["clv"] <= first["clv_upper"] * 1.02
    )
    assert inside.all()
    # the fitted models are not modified by the draws
    np.testing.assert_allclose(
        customer_lifetime_value(bg, gg, subset, horizon=3)["clv"], first["clv"]
    )


def test_wider_interval_is_wider(cdnow, fitted):
    bg, gg = fitted
    subset = cdnow.iloc[:20]
    narrow = customer_lifetime_value(
        bg, gg, subset, horizon=3, interval=0.5, n_draws=40, random_state=1
    )
    wide = customer_lifetime_value(
        bg, gg, subset, horizon=3, interval=0.95, n_draws=40, random_state=1
    )
    assert (
        (wide["clv_upper"] - wide["clv_lower"]) >= (narrow["clv_upper"] - narrow["clv_lower"])
    ).all()


def test_unknown_time_unit_is_config_error(cdnow, fitted):
    bg, gg = fitted
    unitless = copy.copy(bg)
    unitless.time_unit_ = None
    with pytest.raises(
        ConfigError, match=r"time_unit_=None.*fit\(summary, time_unit='W'\).*rfm_summary"
    ):
        customer_lifetime_value(unitless, gg, cdnow)


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"horizon": 0}, "horizon must be a positive whole number"),
        ({"horizon": 2.5}, "horizon must be a positive whole number"),
        (
            {"horizon_unit": "Y"},
            "horizon_unit='Y' is not a known time unit. Use one of 'D', 'W', 'M'",
        ),
        ({"discount_rate": -1.0}, "discount_rate is the discount rate per 'M' period"),
        ({"interval": 1.5}, "interval must be a coverage level strictly between 0 and 1"),
        ({"interval": 0.9, "n_draws": 1}, "n_draws must be an integer of at least 2"),
    ],
)
def test_bad_options_are_config_errors(cdnow, fitted, options, pattern):
    bg, gg = fitted
    with pytest.raises(ConfigError, match=pattern):
        customer_lifetime_value(bg, gg, cdnow, **options)


def test_missing_column(cdnow, fitted):
    bg, gg = fitted
    with pytest.raises(DataValidationError, match="'monetary_value'"):
        customer_lifetime_value(bg, gg, cdnow.drop(columns=[config.MONETARY_VALUE]))


def test_unfitted_model(cdnow, fitted):
    from churnlab.models.bgnbd import BetaGeoModel

    _, gg = fitted
    with pytest.raises(
        ModelNotFittedError, match=r"fitted transaction model.*Call \.fit\(summary\)"
    ):
        customer_lifetime_value(BetaGeoModel(), gg, cdnow)


def test_interval_holds_parameters_without_standard_error_fixed(cdnow, fitted):
    bg, gg = fitted
    broken = copy.copy(gg)
    broken.covariance_ = gg.covariance_ * np.nan
    with pytest.warns(ConvergenceWarning, match=r"no finite standard error for p, q, v.*penalizer"):
        result = customer_lifetime_value(
            bg, broken, cdnow.iloc[:5], horizon=3, interval=0.9, n_draws=20, random_state=0
        )
    assert np.isfinite(result.to_numpy()).all()
    assert (result["clv_lower"] < result["clv_upper"]).all()  # BG/NBD uncertainty remains


def test_interval_needs_square_covariance(cdnow, fitted):
    bg, gg = fitted
    broken = copy.copy(gg)
    broken.covariance_ = np.eye(2)
    with pytest.raises(ConfigError, match=r"interval needs a 3x3 covariance_ for"):
        customer_lifetime_value(bg, broken, cdnow.iloc[:5], interval=0.9, random_state=0)


@pytest.mark.parametrize("name", ["ModifiedBetaGeoModel", "ParetoNBDModel"])
def test_other_transaction_models(cdnow, fitted, name):
    import churnlab.models.mbgnbd
    import churnlab.models.pareto_nbd

    module = churnlab.models.mbgnbd if name.startswith("Modified") else churnlab.models.pareto_nbd
    model = getattr(module, name)().fit(cdnow)
    _, gg = fitted
    result = customer_lifetime_value(model, gg, cdnow, horizon=6, discount_rate=0)
    expected = gg.expected_spend(cdnow) * model.expected_purchases(cdnow, 6 * 30.436875 / 7)
    np.testing.assert_allclose(result["clv"], expected.to_numpy(), rtol=1e-9)
