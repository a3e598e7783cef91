"""Model health, log-scale confidence intervals and the public log_likelihood method."""

from __future__ import annotations

import warnings
from dataclasses import FrozenInstanceError

import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError
from churnlab.models._base import ModelHealth
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.gamma_gamma import GammaGammaModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel
from churnlab.models.pareto_nbd import ParetoNBDModel
from churnlab.models.sbg import ShiftedBetaGeoModel

Z95 = 1.959963984540054


def _never_drop_out(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Online Retail-like log of customers who never stop buying: Poisson rates, no dropout."""
    rng = np.random.default_rng(seed)
    big_t = np.round(rng.uniform(1, 52, n), 3)
    count = rng.poisson(rng.gamma(0.8, 1 / 2.0, n) * big_t)
    recency = np.where(count > 0, np.round(big_t * rng.beta(np.maximum(count, 1), 1), 3), 0.0)
    recency = np.where((count > 0) & (recency == 0), 0.001, recency)
    return pd.DataFrame({"frequency": count, "recency": recency, "T": big_t})


# ------------------------------------------------------------------ health
@pytest.mark.parametrize(
    ("cls", "names"),
    [
        (BetaGeoModel, {"a", "b"}),
        (ModifiedBetaGeoModel, {"a", "b"}),
        (ParetoNBDModel, {"s", "beta"}),
    ],
)
def test_no_dropout_log_is_reported_as_degenerate(cls, names):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls().fit(_never_drop_out())
    health = model.health_
    assert isinstance(health, ModelHealth)
    assert not health.ok
    assert set(health.at_boundary) & names
    assert any("no evidence that customers stop buying" in p for p in health.problems)
    assert any("should not be used to rank churn risk" in p for p in health.problems)
    # ... and it is right to be worried: P(alive) is ~1 for nearly everyone.
    assert model.probability_alive(_never_drop_out()).quantile(0.05) > 0.99


@pytest.mark.parametrize("name", ["bg_cdnow", "mbg_cdnow", "pnbd_cdnow", "gg_cdnow"])
def test_cdnow_fits_are_healthy(name, request):
    health = request.getfixturevalue(name).health_
    assert health.converged and health.finite_standard_errors
    assert health.at_boundary == [] and health.problems == [] and health.ok
    assert health.q_above_one is (True if name == "gg_cdnow" else None)


def test_health_is_frozen_and_serialisable(bg_cdnow):
    with pytest.raises(FrozenInstanceError):
        bg_cdnow.health_.ok = False
    as_dict = bg_cdnow.health_.to_dict()
    assert set(as_dict) == {
        "converged", "at_boundary", "finite_standard_errors", "q_above_one", "ok", "problems"
    }  # fmt: skip


def test_non_convergence_is_a_health_problem(cdnow_summary):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BetaGeoModel(maxiter=1).fit(cdnow_summary)
    assert not model.health_.converged and not model.health_.ok
    assert "did not converge" in model.health_.problems[0]


# ------------------------------------------------------ confidence intervals
def test_intervals_are_on_the_log_scale(bg_cdnow):
    # Issue #14: fitting is on log-parameters, so the delta-method interval is
    # exp(log theta +- z se / theta), not theta +- z se.
    s = bg_cdnow.summary_
    est, se = s["estimate"], s["std_error"]
    np.testing.assert_allclose(s["lower_95"], est * np.exp(-Z95 * se / est), rtol=1e-12)
    np.testing.assert_allclose(s["upper_95"], est * np.exp(Z95 * se / est), rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(s["lower_95"] * s["upper_95"]), est, rtol=1e-12)


def test_summary_level(bg_cdnow):
    ninety = bg_cdnow.summary(level=0.9)
    assert list(ninety.columns) == ["estimate", "std_error", "lower_90", "upper_90"]
    s = bg_cdnow.summary_
    assert (ninety["lower_90"] > s["lower_95"]).all() and (ninety["upper_90"] < s["upper_95"]).all()
    pd.testing.assert_frame_equal(bg_cdnow.summary(), s)
    assert "lower_99_5" in bg_cdnow.summary(0.995).columns
    with pytest.raises(ConfigError, match="level must be strictly between 0 and 1"):
        bg_cdnow.summary(level=95)


def test_intervals_stay_in_the_parameter_space():
    # Small cohort: wide intervals. theta +- 1.96 se would go negative; the log interval
    # stays positive, and Gamma-Gamma's q stays above its bound 1.
    model = ShiftedBetaGeoModel().fit([100, 80, 70, 65])
    assert (model.summary_["lower_95"] > 0).all()
    rng = np.random.default_rng(1)
    x = rng.integers(1, 4, size=80)
    nu = rng.gamma(1.5, 1 / 15.0, size=80)  # q = 1.5: close to the bound
    data = pd.DataFrame({"frequency": x, "monetary_value": rng.gamma(5.0 * x, 1 / (nu * x))})
    spend = GammaGammaModel().fit(data)
    q = spend.summary_.loc["q"]
    assert q["estimate"] - Z95 * q["std_error"] < 1 < q["lower_95"] < q["estimate"]


# ----------------------------------------------------------- log_likelihood
@pytest.mark.parametrize("name", ["bg_cdnow", "mbg_cdnow", "pnbd_cdnow"])
def test_log_likelihood_method(name, request, cdnow_summary):
    model = request.getfixturevalue(name)
    assert model.log_likelihood(cdnow_summary) == pytest.approx(model.log_likelihood_, rel=1e-12)
    half = cdnow_summary.iloc[: len(cdnow_summary) // 2]
    rest = cdnow_summary.iloc[len(cdnow_summary) // 2 :]
    assert model.log_likelihood(half) + model.log_likelihood(rest) == pytest.approx(
        model.log_likelihood_, rel=1e-12
    )
    moved = {k: v * 1.1 for k, v in model.params_.items()}
    assert model.log_likelihood(cdnow_summary, moved) < model.log_likelihood_  # a maximum


def test_log_likelihood_at_given_parameters(cdnow_summary, bg_cdnow):
    # FHL (2005): LL = -9582.4 at r=0.243, alpha=4.414, a=0.793, b=2.426 on CDNOW.
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert bg_cdnow.log_likelihood(cdnow_summary, published) == pytest.approx(-9582.4, abs=0.5)
    with pytest.raises(ConfigError, match=r"missing \['b'\]"):
        bg_cdnow.log_likelihood(cdnow_summary, {"r": 1, "alpha": 1, "a": 1})
    with pytest.raises(ConfigError, match="above their lower bounds"):
        bg_cdnow.log_likelihood(cdnow_summary, {**published, "a": -1.0})


def test_log_likelihood_spend_and_retention(gg_cdnow, cdnow_spend):
    assert gg_cdnow.log_likelihood(cdnow_spend) == pytest.approx(
        gg_cdnow.log_likelihood_, rel=1e-12
    )
    with pytest.raises(ConfigError, match="above their lower bounds"):
        gg_cdnow.log_likelihood(cdnow_spend, {"p": 6.0, "q": 0.9, "v": 15.0})  # q > 1
    curve = [1000, 869, 743, 653, 593, 551, 517, 491]  # FH (2007) Table 1, high end
    model = ShiftedBetaGeoModel().fit(curve)
    assert model.log_likelihood(curve) == pytest.approx(model.log_likelihood_, rel=1e-12)
