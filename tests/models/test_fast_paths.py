"""The fast paths of the fits agree with the plain ones: weighted sums and the warm start."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnlab.models._base import compress_rows
from churnlab.models._simulate import simulate_bgnbd
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.gamma_gamma import GammaGammaModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel


@pytest.fixture(scope="module")
def daily():
    """300,000 customers, ages of 1-1095 whole days: ~100k distinct (x, recency, T) rows."""
    rng = np.random.default_rng(4)
    big_t = rng.integers(1, 1096, size=300_000).astype(float)
    data = simulate_bgnbd(300_000, r=0.25, alpha=28.0, a=0.8, b=2.5, T=big_t, random_state=5)
    data["recency"] = np.minimum(np.ceil(data["recency"]), data["T"])
    return data


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_weighted_sum_equals_per_row_likelihood(cls, cdnow_summary):
    cols, w = compress_rows(
        *(cdnow_summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    )
    model = cls()
    state = model._prepare_weighted(cols, w)
    for p in ([0.24, 4.4, 0.79, 2.4], [2.0, 0.5, 3.0, 0.3], [1e3, 1e-3, 1e3, 1e-3]):
        p = np.array(p)
        ll, grad = cls._loglik(p, cols)
        total, total_grad = model._weighted_loglik(p, state)
        assert total == pytest.approx(w @ ll, rel=1e-13)
        np.testing.assert_allclose(total_grad, w @ grad, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_warm_start_reaches_the_same_optimum(cls, daily):
    _, w = compress_rows(*(daily[c].to_numpy(float) for c in ("frequency", "recency", "T")))
    assert w.size > 2 * cls._warm_start_rows  # the sample fit and Newton steps are used
    assert (
        cls()._warm_start(*compress_rows(*(daily[c].to_numpy(float) for c in daily)))[0] is not None
    )
    fast = cls().fit(daily)
    assert fast.health_.ok
    plain = cls()
    plain._warm_start_rows = 10**9  # no sample fit, no Newton steps: L-BFGS-B from scratch
    plain.fit(daily)
    np.testing.assert_allclose(fast.params_, plain.params_, rtol=1e-6)
    assert fast.log_likelihood_ >= plain.log_likelihood_ - 1e-9 * abs(plain.log_likelihood_)
    np.testing.assert_allclose(fast.summary_["std_error"], plain.summary_["std_error"], rtol=1e-4)


def test_gamma_gamma_weighted_sum_equals_per_row_likelihood(cdnow_spend):
    repeat = cdnow_spend[cdnow_spend["frequency"] > 0]
    cols, w = compress_rows(
        repeat["frequency"].to_numpy(float), repeat["monetary_value"].to_numpy()
    )
    model = GammaGammaModel()
    state = model._prepare_weighted(cols, w)
    for p in ([6.25, 3.74, 15.44], [0.5, 1.01, 1e3], [1e3, 1e3, 1e-2]):
        p = np.array(p)
        ll, grad = GammaGammaModel._loglik(p, cols)
        total, total_grad = model._weighted_loglik(p, state)
        assert total == pytest.approx(w @ ll, rel=1e-12)
        np.testing.assert_allclose(
            total_grad, w @ grad, rtol=1e-8, atol=1e-8 * np.abs(w @ grad).max()
        )


def test_gamma_gamma_warm_start_reaches_the_same_optimum():
    # 60,000 repeat buyers (more than twice the warm-start sample): sample fit + Newton steps
    # against L-BFGS-B from scratch on all rows.
    rng = np.random.default_rng(7)
    x = rng.integers(1, 30, size=60_000).astype(float)
    nu = rng.gamma(4.0, 1 / 15.0, size=x.size)
    spend = rng.gamma(6.0 * x, 1 / (nu * x))
    data = pd.DataFrame({"frequency": x, "monetary_value": spend})
    fast = GammaGammaModel().fit(data)
    plain = GammaGammaModel()
    plain._warm_start_rows = 10**9
    plain.fit(data)
    np.testing.assert_allclose(fast.params_, plain.params_, rtol=1e-5)
    assert fast.log_likelihood_ >= plain.log_likelihood_ - 1e-10 * abs(plain.log_likelihood_)
    np.testing.assert_allclose(fast.summary_["std_error"], plain.summary_["std_error"], rtol=1e-3)
