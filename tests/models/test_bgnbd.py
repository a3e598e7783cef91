"""BG/NBD against Fader, Hardie & Lee (2005) and lifetimes 0.11.3 on CDNOW."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter

from churnlab.models.bgnbd import BetaGeoModel


def test_published_parameters(bg_cdnow):
    # Fader, Hardie & Lee (2005), "Counting your customers the easy way", section 5:
    # r=0.243, alpha=4.414, a=0.793, b=2.426, LL=-9582.4 (4-decimal values from Hardie's
    # BG/NBD spreadsheet note: r=0.2426, alpha=4.4136, a=0.7929, b=2.4259, LL=-9582.43).
    est = bg_cdnow.params_
    assert est["r"] == pytest.approx(0.2426, abs=5e-5)
    assert est["alpha"] == pytest.approx(4.4136, abs=5e-4)
    assert est["a"] == pytest.approx(0.7929, abs=5e-5)
    assert est["b"] == pytest.approx(2.4259, abs=5e-4)
    assert bg_cdnow.log_likelihood_ == pytest.approx(-9582.43, abs=5e-3)
    assert bg_cdnow.n_customers_ == 2357
    assert bg_cdnow.time_unit_ == "W"
    assert (bg_cdnow.r_, bg_cdnow.b_) == (est["r"], est["b"])


def test_fit_matches_lifetimes(bg_cdnow, cdnow_summary):
    # lifetimes 0.11.3 BetaGeoFitter on the same data: same optimum, and our log-likelihood is
    # its (unscaled) log-likelihood at its own optimum to 1e-6 relative.
    f, r, t = (cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    lt = BetaGeoFitter().fit(f, r, t)
    ones = np.ones_like(f)
    lt_ll = -BetaGeoFitter._negative_log_likelihood(
        np.log(lt.params_.to_numpy()), f, r, t, ones, 0.0
    )
    assert bg_cdnow.log_likelihood_ == pytest.approx(lt_ll * len(f), rel=1e-6)
    assert bg_cdnow.log_likelihood_ >= lt_ll * len(f) - 1e-6
    np.testing.assert_allclose(bg_cdnow.params_.to_numpy(), lt.params_.to_numpy(), rtol=1e-4)


def test_predictions_match_lifetimes_at_same_parameters(bg_cdnow, cdnow_summary, lifetimes_at):
    # Formula check at identical parameters (lifetimes' conditional_* methods).
    lt = lifetimes_at(BetaGeoFitter, bg_cdnow)
    f, r, t = (cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(
        bg_cdnow.probability_alive(cdnow_summary),
        lt.conditional_probability_alive(f, r, t),
        rtol=1e-6,
    )
    for horizon in (1.0, 10.0, 39.0, 104.0):
        np.testing.assert_allclose(
            bg_cdnow.expected_purchases(cdnow_summary, horizon),
            lt.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, t),
            rtol=1e-6,
        )
    times = np.array([0.5, 1.0, 10.0, 39.0, 78.0])
    np.testing.assert_allclose(
        bg_cdnow.expected_purchases_new_customer(times),
        lt.expected_number_of_purchases_up_to_time(times),
        rtol=1e-6,
    )
    for n in range(8):
        for horizon in (1.0, 39.0, 78.0):
            assert bg_cdnow.probability_of_purchases(n, horizon) == pytest.approx(
                lt.probability_of_n_purchases_up_to_time(horizon, n), rel=1e-6
            )


def test_published_conditional_expectation(bg_cdnow):
    # FHL (2005), section 5: customer with x=2, t_x=30.43, T=38.86 expects 1.226 purchases in
    # the next 39 weeks.
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]}, index=["c1"])
    assert bg_cdnow.expected_purchases(one, 39).iloc[0] == pytest.approx(1.226, abs=5e-4)


def test_probability_alive_is_one_without_repeat_purchase(bg_cdnow):
    data = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [1.0, 500.0]})
    np.testing.assert_array_equal(bg_cdnow.probability_alive(data), [1.0, 1.0])
    churn = bg_cdnow.probability_no_purchase(data, 52)
    # ... which is why probability_no_purchase is the churn probability: it grows with silence.
    assert 0 < churn.iloc[0] < churn.iloc[1] < 1


def test_probability_no_purchase_new_customer_is_p_zero(bg_cdnow):
    # At T=0 the conditional and unconditional models coincide: P(no purchase in t) = P(X(t)=0).
    data = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [0.0]})
    for horizon in (1.0, 13.0, 52.0):
        assert bg_cdnow.probability_no_purchase(data, horizon).iloc[0] == pytest.approx(
            bg_cdnow.probability_of_purchases(0, horizon), rel=1e-12
        )


def test_probability_no_purchase_monte_carlo(bg_cdnow):
    # Simulate the future of a given customer from the posterior: P(alive) and lambda | alive.
    rng = np.random.default_rng(7)
    data = pd.DataFrame({"frequency": [3], "recency": [20.0], "T": [38.0]})
    r, alpha = bg_cdnow.r_, bg_cdnow.alpha_
    alive = rng.random(400_000) < bg_cdnow.probability_alive(data).iloc[0]
    lam = rng.gamma(r + 3, 1 / (alpha + 38.0), size=alive.size)
    no_buy = ~alive | (rng.poisson(lam * 20.0) == 0)
    assert bg_cdnow.probability_no_purchase(data, 20.0).iloc[0] == pytest.approx(
        no_buy.mean(), abs=4e-3
    )


def test_probabilities_of_counts_sum_to_one(bg_cdnow):
    assert np.sum(bg_cdnow.probability_of_purchases(np.arange(400), 39.0)) == pytest.approx(
        1, abs=1e-9
    )
    assert bg_cdnow.probability_of_purchases(0, 0.0) == 1.0


def test_standard_errors_are_inverse_hessian(bg_cdnow, cdnow_summary):
    # Independent second differences of the total log-likelihood (values only).
    from churnlab.models._base import compress_rows

    cols, w = compress_rows(*(cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T")))
    p0 = bg_cdnow.params_.to_numpy()

    def total(p):
        return w @ BetaGeoModel._loglik(p, cols)[0]

    k = len(p0)
    hess = np.empty((k, k))
    h = 1e-4 * p0
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (
                total(p0 + ei + ej)
                - total(p0 + ei - ej)
                - total(p0 - ei + ej)
                + total(p0 - ei - ej)
            ) / (4 * h[i] * h[j])
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    np.testing.assert_allclose(bg_cdnow.summary_["std_error"], se, rtol=1e-3)
    summary = bg_cdnow.summary_
    assert list(summary.columns) == ["estimate", "std_error", "lower_95", "upper_95"]
    assert (summary["lower_95"] < summary["estimate"]).all()
    np.testing.assert_allclose(bg_cdnow.covariance_.to_numpy(), np.linalg.inv(-hess), rtol=2e-3)


def test_gradient_matches_finite_differences(cdnow_summary):
    cols = tuple(cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    for p in ([0.24, 4.4, 0.79, 2.4], [2.0, 0.5, 3.0, 0.3], [0.05, 40.0, 0.2, 9.0]):
        p = np.array(p)
        _, grad = BetaGeoModel._loglik(p, cols)
        for j in range(4):
            h = 1e-6 * p[j]
            up, down = p.copy(), p.copy()
            up[j] += h
            down[j] -= h
            num = (BetaGeoModel._loglik(up, cols)[0] - BetaGeoModel._loglik(down, cols)[0]) / (
                2 * h
            )
            np.testing.assert_allclose(grad[:, j], num, rtol=1e-5, atol=1e-6)


def test_series_are_indexed_by_customer(bg_cdnow, cdnow_summary):
    out = bg_cdnow.expected_purchases(cdnow_summary, 10)
    assert out.index.equals(cdnow_summary.index)
    assert out.name == "expected_purchases"
    with_column = cdnow_summary.reset_index()
    assert bg_cdnow.probability_alive(with_column).index.name == "customer_id"


def test_penalizer_shrinks_parameters(cdnow_summary, bg_cdnow):
    penalised = BetaGeoModel(penalizer=0.01).fit(cdnow_summary)
    assert np.sum(penalised.params_**2) < np.sum(bg_cdnow.params_**2)
    assert penalised.log_likelihood_ < bg_cdnow.log_likelihood_
