"""Tests of the static-covariate BG/NBD and Pareto/NBD models.

Known values come from two independent sources: data simulated under the model with known
coefficients (recovered within a few standard errors), and churnlab's plain BG/NBD and
Pareto/NBD implementations (themselves held against lifetimes and the published CDNOW
numbers in test_bgnbd.py / test_pareto_nbd.py), which the covariate models must reproduce
when every coefficient is zero and match customer by customer at the scaled parameters.

CLVTools' apparel data with static covariates is not used: CLVTools ships it only as .rda
(no reader installed here) and states no static-covariate estimates in its tests or
vignette sources, so there is no published number to match.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from churnlab.exceptions import ConfigError, DataValidationError, ModelNotFittedError
from churnlab.models import (
    BetaGeoCovariateModel,
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDCovariateModel,
    ParetoNBDModel,
    customer_lifetime_value,
    prediction_intervals,
)
from churnlab.models._simulate import simulate_bgnbd
from churnlab.models._simulate_covariates import (
    simulate_bgnbd_covariates,
    simulate_pareto_covariates,
)
from churnlab.models._special import expected_alive
from churnlab.models.bgnbd_covariates import _expected_if_alive

RFM = ["frequency", "recency", "T"]


def _covariates(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"income": rng.normal(size=n), "offline": rng.integers(0, 2, n).astype(float)}
    )


@pytest.fixture(scope="module")
def bg_data() -> pd.DataFrame:
    return simulate_bgnbd_covariates(
        _covariates(20_000, 1),
        r=0.6, alpha=8.0, a=0.8, b=3.0,
        purchase={"income": 0.4, "offline": -0.3}, dropout={"offline": 0.7},
        T=40.0, random_state=11,
    )  # fmt: skip


@pytest.fixture(scope="module")
def bg_fit(bg_data: pd.DataFrame) -> BetaGeoCovariateModel:
    return BetaGeoCovariateModel().fit(
        bg_data,
        purchase_covariates=["income", "offline"],
        dropout_covariates=["offline"],
        time_unit="W",
    )


@pytest.fixture(scope="module")
def pareto_data() -> pd.DataFrame:
    return simulate_pareto_covariates(
        _covariates(10_000, 2),
        r=0.6, alpha=8.0, s=0.8, beta=12.0,
        purchase={"income": 0.4, "offline": -0.3}, dropout={"income": 0.5},
        T=40.0, random_state=12,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pareto_fit(pareto_data: pd.DataFrame) -> ParetoNBDCovariateModel:
    return ParetoNBDCovariateModel().fit(
        pareto_data, purchase_covariates=["income", "offline"], dropout_covariates=["income"]
    )


# ------------------------------------------------------------------ recovery
def _assert_recovered(model, truth: dict[str, float]) -> None:
    """Every estimate within 4 standard errors of the truth (two-sided p ~ 6e-5 each)."""
    table = model.summary_
    for name, value in truth.items():
        est, se = table.loc[name, "estimate"], table.loc[name, "std_error"]
        assert np.isfinite(se) and se > 0
        assert abs(est - value) < 4 * se, (name, est, se, value)


def test_bgnbd_recovers_known_coefficients(bg_fit: BetaGeoCovariateModel) -> None:
    truth = {
        "r": 0.6, "alpha": 8.0, "a": 0.8, "b": 3.0,
        "purchase:income": 0.4, "purchase:offline": -0.3, "dropout:offline": 0.7,
    }  # fmt: skip
    _assert_recovered(bg_fit, truth)
    # The test has power: purchase effects are pinned to better than +-0.1.
    assert bg_fit.summary_.loc["purchase:income", "std_error"] < 0.05
    assert bg_fit.health_.ok and bg_fit.converged_


def test_pareto_recovers_known_coefficients(pareto_fit: ParetoNBDCovariateModel) -> None:
    truth = {
        "r": 0.6, "alpha": 8.0, "s": 0.8, "beta": 12.0,
        "purchase:income": 0.4, "purchase:offline": -0.3, "dropout:income": 0.5,
    }  # fmt: skip
    _assert_recovered(pareto_fit, truth)
    assert pareto_fit.summary_.loc["dropout:income", "std_error"] < 0.15
    assert pareto_fit.health_.ok


def test_coefficient_table(bg_fit: BetaGeoCovariateModel) -> None:
    table = bg_fit.coefficients_
    assert list(table.index) == ["purchase:income", "purchase:offline", "dropout:offline"]
    assert list(table["process"]) == ["purchase", "purchase", "dropout"]
    assert list(table["covariate"]) == ["income", "offline", "offline"]
    row = table.loc["purchase:income"]
    assert row["lower_95"] < row["estimate"] < row["upper_95"]
    assert row["z"] == pytest.approx(row["estimate"] / row["std_error"])
    assert row["p_value"] < 1e-10  # a true effect of 0.4 at se < 0.05
    narrow = bg_fit.summary(level=0.5).loc[table.index]
    assert (narrow["upper_50"] - narrow["lower_50"] < table["upper_95"] - table["lower_95"]).all()
    # Base parameters: log-scale interval, always positive.
    assert (bg_fit.summary_.loc[["r", "alpha", "a", "b"], "lower_95"] > 0).all()


# -------------------------------------------------- reduces to the plain model
@pytest.fixture(scope="module")
def no_effect() -> pd.DataFrame:
    data = simulate_bgnbd(4000, r=0.5, alpha=6.0, a=0.7, b=2.5, T=40.0, random_state=5)
    rng = np.random.default_rng(6)
    data["noise"] = rng.normal(size=len(data))
    data["flag"] = rng.integers(0, 2, len(data)).astype(float)
    return data


@pytest.mark.parametrize(
    ("cov_cls", "plain_cls", "dropout"),
    [
        (BetaGeoCovariateModel, BetaGeoModel, ["flag"]),
        (ParetoNBDCovariateModel, ParetoNBDModel, ["noise"]),
    ],
)
def test_zero_coefficients_give_the_plain_likelihood(
    no_effect: pd.DataFrame, cov_cls, plain_cls, dropout
) -> None:
    plain = plain_cls().fit(no_effect[RFM])
    model = cov_cls().fit(no_effect, purchase_covariates=["noise"], dropout_covariates=dropout)
    params = {**plain.params_.to_dict(), "purchase:noise": 0.0, f"dropout:{dropout[0]}": 0.0}
    assert model.log_likelihood(no_effect, params=params) == pytest.approx(
        plain.log_likelihood_, rel=1e-10
    )
    # Fitted with covariates that do nothing: the likelihood gains at most a chi-square(2)
    # amount (0.999 quantile), the coefficients are within 4 se of 0 and the base
    # parameters within 3 se of the plain fit.
    gain = model.log_likelihood_ - plain.log_likelihood_
    assert -1e-6 <= gain <= chi2.ppf(0.999, 2) / 2
    coef = model.coefficients_
    assert (coef["estimate"].abs() < 4 * coef["std_error"]).all()
    for name in plain.params_.index:
        se = plain.summary_.loc[name, "std_error"]
        assert abs(model.params_[name] - plain.params_[name]) < 3 * se


@pytest.mark.parametrize(
    ("cov_cls", "plain_cls"),
    [(BetaGeoCovariateModel, BetaGeoModel), (ParetoNBDCovariateModel, ParetoNBDModel)],
)
def test_without_covariates_equals_the_plain_model(no_effect, cov_cls, plain_cls) -> None:
    plain = plain_cls().fit(no_effect[RFM])
    model = cov_cls().fit(no_effect)
    np.testing.assert_allclose(model.params_.to_numpy(), plain.params_.to_numpy(), rtol=1e-5)
    assert model.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-10)
    np.testing.assert_allclose(
        np.sqrt(np.diag(model.covariance_)), plain.summary_["std_error"], rtol=1e-3
    )
    rows = no_effect.iloc[:300]
    np.testing.assert_allclose(model.probability_alive(rows), plain.probability_alive(rows))
    for method in ("expected_purchases", "probability_no_purchase"):
        np.testing.assert_allclose(
            getattr(model, method)(rows, 12.0), getattr(plain, method)(rows, 12.0), rtol=1e-9
        )


# ------------------------------------------------------- per-customer predictions
def _plain_at(plain, values: pd.Series):
    """A copy of a fitted plain model set to one customer's scaled parameters."""
    clone = copy.copy(plain)
    clone.params_ = values[list(plain.params_.index)].astype(float).rename("estimate")
    for k, v in clone.params_.items():
        setattr(clone, f"{k}_", float(v))
    return clone


@pytest.mark.parametrize("family", ["bgnbd", "pareto"])
def test_predictions_use_each_customers_parameters(
    family: str, bg_fit, bg_data, pareto_fit, pareto_data
) -> None:
    model, data, plain_cls = {
        "bgnbd": (bg_fit, bg_data, BetaGeoModel),
        "pareto": (pareto_fit, pareto_data, ParetoNBDModel),
    }[family]
    plain = plain_cls().fit(data[RFM])
    rows = data.iloc[[0, 1, 2, 3, 5, 8, 13, 21]]
    scaled = model.customer_params(rows)
    alive = model.probability_alive(rows)
    expected = model.expected_purchases(rows, 26.0)
    silent = model.probability_no_purchase(rows, 26.0)
    for i, cid in enumerate(rows.index):
        reference = _plain_at(plain, scaled.loc[cid])
        one = rows.iloc[[i]][RFM]
        assert alive.iloc[i] == pytest.approx(reference.probability_alive(one).iloc[0], rel=1e-9)
        assert expected.iloc[i] == pytest.approx(
            reference.expected_purchases(one, 26.0).iloc[0], rel=1e-8
        )
        assert silent.iloc[i] == pytest.approx(
            reference.probability_no_purchase(one, 26.0).iloc[0], rel=1e-9
        )


def test_bgnbd_expectation_with_continuous_dropout_covariate() -> None:
    # A continuous dropout covariate gives every customer their own a_i: the vectorised
    # closed form is used; it must agree with the plain model at each customer's parameters.
    data = simulate_bgnbd_covariates(
        _covariates(3000, 3), r=0.6, alpha=8.0, a=0.8, b=3.0,
        dropout={"income": 0.3}, T=40.0, random_state=4,
    )  # fmt: skip
    model = BetaGeoCovariateModel().fit(data, dropout_covariates=["income"])
    plain = BetaGeoModel().fit(data[RFM])
    rows = data.iloc[:80]
    assert model.customer_params(rows)["a"].nunique() == 80
    got = model.expected_purchases(rows, 20.0)
    scaled = model.customer_params(rows)
    want = [
        _plain_at(plain, scaled.iloc[i]).expected_purchases(rows.iloc[[i]][RFM], 20.0).iloc[0]
        for i in range(len(rows))
    ]
    np.testing.assert_allclose(got, want, rtol=1e-7)


def test_scaling_direction_follows_clvtools(bg_fit, pareto_fit, bg_data, pareto_data) -> None:
    # alpha_i = alpha exp(-gamma z): a positive purchase coefficient lowers alpha_i.
    row = bg_data.iloc[[0]].copy()
    row["income"], row["offline"] = 1.0, 0.0
    scaled = bg_fit.customer_params(row).iloc[0]
    g = bg_fit.params_["purchase:income"]
    assert scaled["alpha"] == pytest.approx(bg_fit.params_["alpha"] * np.exp(-g))
    row["offline"] = 1.0
    scaled = bg_fit.customer_params(row).iloc[0]
    d = bg_fit.params_["dropout:offline"]
    assert scaled["a"] == pytest.approx(bg_fit.params_["a"] * np.exp(d))
    assert scaled["b"] == pytest.approx(bg_fit.params_["b"] * np.exp(d))
    prow = pareto_data.iloc[[0]].copy()
    prow["income"], prow["offline"] = 1.0, 0.0
    beta = pareto_fit.customer_params(prow).iloc[0]["beta"]
    assert beta == pytest.approx(
        pareto_fit.params_["beta"] * np.exp(-pareto_fit.params_["dropout:income"])
    )


def test_covariates_from_a_separate_table(bg_data: pd.DataFrame) -> None:
    sample = bg_data.iloc[:3000]
    table = sample[["income"]].sample(frac=1.0, random_state=0)  # shuffled rows, same ids
    inside = BetaGeoCovariateModel().fit(sample, purchase_covariates=["income"])
    apart = BetaGeoCovariateModel().fit(sample[RFM], table, purchase_covariates=["income"])
    np.testing.assert_allclose(inside.params_, apart.params_, rtol=1e-8)
    np.testing.assert_allclose(
        inside.probability_alive(sample), apart.probability_alive(sample[RFM], table)
    )


def test_analytic_gradient_matches_finite_differences(bg_fit, bg_data, pareto_fit, pareto_data):
    for model, data in ((bg_fit, bg_data.iloc[:2000]), (pareto_fit, pareto_data.iloc[:2000])):
        z_p = data[model.purchase_covariates_].to_numpy(float)
        z_d = data[model.dropout_covariates_].to_numpy(float)
        rows = (*(data[c].to_numpy(float) for c in RFM), z_p, z_d)
        k = len(model._base_names)
        theta = np.concatenate([np.log(model.params_.iloc[:k]), model.params_.iloc[k:]]) + 0.05
        _, grad = model._objective(theta, rows)
        h = 1e-6
        numeric = [
            (model._objective(theta + h * e, rows)[0] - model._objective(theta - h * e, rows)[0])
            / (2 * h)
            for e in np.eye(theta.size)
        ]
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


# ----------------------------------------------------------------- validation
@pytest.fixture()
def small(bg_data: pd.DataFrame) -> pd.DataFrame:
    return bg_data.iloc[:500].copy()


def test_missing_covariate_column(small: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"'incme' not found in the summary.*spelling"):
        BetaGeoCovariateModel().fit(small, purchase_covariates=["incme"])


def test_nan_covariate(small: pd.DataFrame) -> None:
    small.loc[small.index[:3], "income"] = np.nan
    with pytest.raises(
        DataValidationError, match=r"'income' have 3 customer\(s\) with NaN.*Impute"
    ):
        BetaGeoCovariateModel().fit(small, purchase_covariates=["income"])


def test_non_numeric_covariate(small: pd.DataFrame) -> None:
    small["channel"] = np.where(small["offline"] > 0, "shop", "web")
    with pytest.raises(DataValidationError, match=r"'channel' is not numeric.*get_dummies"):
        ParetoNBDCovariateModel().fit(small, dropout_covariates=["channel"])


def test_constant_covariate(small: pd.DataFrame) -> None:
    small["one"] = 1.0
    with pytest.raises(DataValidationError, match=r"'one' take a single value.*Drop them"):
        BetaGeoCovariateModel().fit(small, dropout_covariates=["one"])


def test_covariate_table_missing_customers(small: pd.DataFrame) -> None:
    table = small[["income"]].iloc[10:]
    with pytest.raises(DataValidationError, match=r"10 customer\(s\) of the summary have no row"):
        BetaGeoCovariateModel().fit(small[RFM], table, purchase_covariates=["income"])


def test_covariate_table_duplicate_customers(small: pd.DataFrame) -> None:
    table = pd.concat([small[["income"]], small[["income"]].iloc[:2]])
    with pytest.raises(DataValidationError, match=r"2 customer\(s\) on more than one row"):
        BetaGeoCovariateModel().fit(small[RFM], table, purchase_covariates=["income"])


def test_covariates_must_be_a_list(small: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"purchase_covariates must be a list"):
        BetaGeoCovariateModel().fit(small, purchase_covariates="income")


def test_negative_penalizer(small: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"penalizer must be a finite number >= 0"):
        BetaGeoCovariateModel(penalizer=-1.0).fit(small, purchase_covariates=["income"])


def test_prediction_needs_the_covariates(bg_fit, small: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"'income'.*not found"):
        bg_fit.probability_alive(small[RFM])


def test_not_fitted(small: pd.DataFrame) -> None:
    with pytest.raises(ModelNotFittedError, match=r"not fitted yet"):
        ParetoNBDCovariateModel().expected_purchases(small, 10.0)


def test_log_likelihood_params_must_be_complete(bg_fit, small: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"params must give exactly the parameters"):
        bg_fit.log_likelihood(small, params={"r": 1.0})


def test_repr_and_html(bg_fit) -> None:
    assert "fitted on 20,000 customers" in repr(bg_fit)
    assert "purchase:income" in bg_fit._repr_html_()
    assert "not fitted" in repr(BetaGeoCovariateModel())


def test_vectorised_expectation_matches_the_exact_evaluator() -> None:
    # Every customer with their own dropout shape a: the vectorised closed form (with its
    # fallbacks) against churnlab's exact per-shape evaluation (_special.expected_alive, which
    # BetaGeoModel.expected_purchases uses and test_precision.py holds against mpmath), on a
    # wide grid including a within 2e-3 of 1 and
    # z = tau / (1 + tau) close to 1.
    rng = np.random.default_rng(0)
    n = 800
    a = np.exp(rng.uniform(np.log(0.05), np.log(20.0), n))
    a[:40] = 1.0 + rng.uniform(-2e-3, 2e-3, 40)
    big_a = rng.uniform(0.05, 60.0, n)
    big_b = np.exp(rng.uniform(np.log(0.05), np.log(200.0), n))
    tau = np.exp(rng.uniform(np.log(1e-3), np.log(200.0), n))
    got = _expected_if_alive(big_a, a, big_b, tau)
    want = [
        expected_alive(big_a[i : i + 1], a[i], big_b[i : i + 1], tau[i : i + 1])[0]
        for i in range(n)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-8)


@pytest.mark.parametrize("family", ["bgnbd", "pareto"])
def test_log_likelihood_is_the_sum_of_plain_likelihoods_at_scaled_parameters(
    family: str, bg_fit, bg_data, pareto_fit, pareto_data
) -> None:
    # With non-zero coefficients: each customer's term is the plain model's likelihood of
    # that one customer at their own scaled parameters (an independent implementation).
    model, data, plain_cls = {
        "bgnbd": (bg_fit, bg_data, BetaGeoModel),
        "pareto": (pareto_fit, pareto_data, ParetoNBDModel),
    }[family]
    plain = plain_cls().fit(data[RFM].iloc[:2000])
    rows = data.iloc[:25]
    scaled = model.customer_params(rows)
    want = sum(
        plain.log_likelihood(rows.iloc[[i]][RFM], params=scaled.iloc[i].to_dict())
        for i in range(len(rows))
    )
    assert model.log_likelihood(rows) == pytest.approx(want, rel=1e-10)


def test_clv_and_intervals_with_a_covariate_model(bg_fit, bg_data) -> None:
    rows = bg_data.iloc[:400].copy()
    rows.attrs["time_unit"] = "W"
    rng = np.random.default_rng(9)
    rows["monetary_value"] = np.where(rows["frequency"] > 0, rng.gamma(4.0, 10.0, len(rows)), 0)
    spend = GammaGammaModel().fit(rows)
    clv = customer_lifetime_value(bg_fit, spend, rows, horizon=6, horizon_unit="M")
    plain = BetaGeoModel().fit(bg_data[RFM].iloc[:2000], time_unit="W")
    scaled = bg_fit.customer_params(rows)
    for i in (0, 1, 7, 30):
        reference = _plain_at(plain, scaled.iloc[i])
        one = customer_lifetime_value(
            reference, spend, rows.iloc[[i]], horizon=6, horizon_unit="M"
        )["clv"].iloc[0]
        assert clv["clv"].iloc[i] == pytest.approx(one, rel=1e-9)
    bounds = prediction_intervals(bg_fit, rows.iloc[:50], t=26.0, n_draws=50)
    for what in ("probability_alive", "expected_purchases"):
        assert (bounds[f"{what}_lower"] <= bounds[what] + 1e-12).all()
        assert (bounds[what] <= bounds[f"{what}_upper"] + 1e-12).all()
    assert (bounds["expected_purchases_upper"] > bounds["expected_purchases_lower"]).all()


def test_linearly_dependent_covariates(small: pd.DataFrame) -> None:
    small["online"] = 1.0 - small["offline"]  # dummies of both categories
    with pytest.raises(DataValidationError, match=r"linearly dependent.*leave out one category"):
        BetaGeoCovariateModel().fit(small, dropout_covariates=["offline", "online"])
    small["income_k"] = 1000.0 * small["income"] + 3.0
    with pytest.raises(DataValidationError, match=r"'income', 'income_k' are linearly dependent"):
        ParetoNBDCovariateModel().fit(small, purchase_covariates=["income", "income_k"])
