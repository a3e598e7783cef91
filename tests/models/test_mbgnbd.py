"""MBG/NBD against Batislam et al. (2007) and lifetimes 0.11.3 on CDNOW."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import ModifiedBetaGeoFitter

from churnlab.models.mbgnbd import ModifiedBetaGeoModel


def test_published_parameters(mbg_cdnow):
    # Batislam, Denizel & Filiztekin (2007) on CDNOW, as reproduced by lifetimes 0.11.3's
    # ModifiedBetaGeoFitter: r=0.525, alpha=6.183, a=0.891, b=1.614.
    est = mbg_cdnow.params_
    assert est["r"] == pytest.approx(0.525, abs=5e-4)
    assert est["alpha"] == pytest.approx(6.183, abs=5e-4)
    assert est["a"] == pytest.approx(0.891, abs=5e-4)
    assert est["b"] == pytest.approx(1.614, abs=5e-4)


def test_fit_matches_lifetimes(mbg_cdnow, cdnow_summary):
    f, r, t = (cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    lt = ModifiedBetaGeoFitter().fit(f, r, t)
    ones = np.ones_like(f)
    lt_ll = -ModifiedBetaGeoFitter._negative_log_likelihood(
        np.log(lt.params_.to_numpy()), f, r, t, ones, 0.0
    )
    assert mbg_cdnow.log_likelihood_ == pytest.approx(lt_ll * len(f), rel=1e-6)
    np.testing.assert_allclose(mbg_cdnow.params_.to_numpy(), lt.params_.to_numpy(), rtol=1e-4)


def test_predictions_match_lifetimes_at_same_parameters(mbg_cdnow, cdnow_summary, lifetimes_at):
    lt = lifetimes_at(ModifiedBetaGeoFitter, mbg_cdnow)
    f, r, t = (cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(
        mbg_cdnow.probability_alive(cdnow_summary),
        lt.conditional_probability_alive(f, r, t),
        rtol=1e-6,
    )
    for horizon in (1.0, 39.0, 104.0):
        np.testing.assert_allclose(
            mbg_cdnow.expected_purchases(cdnow_summary, horizon),
            lt.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, t),
            rtol=1e-6,
        )
    times = np.array([0.5, 10.0, 39.0, 78.0])
    np.testing.assert_allclose(
        mbg_cdnow.expected_purchases_new_customer(times),
        lt.expected_number_of_purchases_up_to_time(times),
        rtol=1e-6,
    )
    for n in range(8):
        for horizon in (1.0, 39.0):
            assert mbg_cdnow.probability_of_purchases(n, horizon) == pytest.approx(
                lt.probability_of_n_purchases_up_to_time(horizon, n), rel=1e-6
            )


def test_zero_repeat_customers_can_be_dead(mbg_cdnow):
    # Unlike BG/NBD, MBG/NBD lets customers drop out right after the first purchase.
    data = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [0.0, 39.0]})
    alive = mbg_cdnow.probability_alive(data)
    assert alive.iloc[0] == pytest.approx(mbg_cdnow.b_ / (mbg_cdnow.a_ + mbg_cdnow.b_))
    assert alive.iloc[1] < alive.iloc[0]
    for horizon in (1.0, 39.0):
        assert mbg_cdnow.probability_no_purchase(data.iloc[:1], horizon).iloc[0] == pytest.approx(
            mbg_cdnow.probability_of_purchases(0, horizon), rel=1e-12
        )
    assert np.sum(mbg_cdnow.probability_of_purchases(np.arange(400), 39.0)) == pytest.approx(
        1, abs=1e-9
    )


def test_gradient_matches_finite_differences(cdnow_summary):
    cols = tuple(cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    p = np.array([0.5, 6.0, 0.9, 1.6])
    _, grad = ModifiedBetaGeoModel._loglik(p, cols)
    for j in range(4):
        h = 1e-6 * p[j]
        up, down = p.copy(), p.copy()
        up[j] += h
        down[j] -= h
        num = (
            ModifiedBetaGeoModel._loglik(up, cols)[0] - ModifiedBetaGeoModel._loglik(down, cols)[0]
        ) / (2 * h)
        np.testing.assert_allclose(grad[:, j], num, rtol=1e-5, atol=1e-6)
