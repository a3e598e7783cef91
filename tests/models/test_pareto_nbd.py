"""Pareto/NBD against Fader & Hardie's note (2005) and lifetimes 0.11.3 on CDNOW."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import ParetoNBDFitter

from churnlab.models.pareto_nbd import ParetoNBDModel


def test_published_parameters(pnbd_cdnow):
    # Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions",
    # and FHL (2005) Table 1: r=0.553, alpha=10.578, s=0.606, beta=11.669, LL=-9595.0.
    est = pnbd_cdnow.params_
    assert est["r"] == pytest.approx(0.553, abs=5e-4)
    assert est["alpha"] == pytest.approx(10.578, abs=5e-3)
    assert est["s"] == pytest.approx(0.606, abs=5e-4)
    assert est["beta"] == pytest.approx(11.669, abs=5e-3)
    assert pnbd_cdnow.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)


def test_fit_matches_lifetimes(pnbd_cdnow, cdnow_summary):
    f, r, t = (cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    lt = ParetoNBDFitter().fit(f, r, t)
    lt_ll = ParetoNBDFitter._conditional_log_likelihood(lt.params_.to_numpy(), f, r, t).sum()
    assert pnbd_cdnow.log_likelihood_ == pytest.approx(lt_ll, rel=1e-6)
    assert pnbd_cdnow.log_likelihood_ >= lt_ll - 1e-6  # lifetimes stops at Nelder-Mead's tol
    ours = ParetoNBDFitter._conditional_log_likelihood(pnbd_cdnow.params_.to_numpy(), f, r, t).sum()
    assert pnbd_cdnow.log_likelihood_ == pytest.approx(ours, rel=1e-12)


def test_predictions_match_lifetimes_at_same_parameters(pnbd_cdnow, cdnow_summary, lifetimes_at):
    lt = lifetimes_at(ParetoNBDFitter, pnbd_cdnow)
    f, r, t = (cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(
        pnbd_cdnow.probability_alive(cdnow_summary),
        lt.conditional_probability_alive(f, r, t),
        rtol=1e-6,
    )
    for horizon in (1.0, 39.0, 104.0):
        np.testing.assert_allclose(
            pnbd_cdnow.expected_purchases(cdnow_summary, horizon),
            lt.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, t),
            rtol=1e-6,
        )
    times = np.array([0.5, 10.0, 39.0, 78.0])
    np.testing.assert_allclose(
        pnbd_cdnow.expected_purchases_new_customer(times),
        lt.expected_number_of_purchases_up_to_time(times),
        rtol=1e-6,
    )
    # lifetimes' conditional pmf (Hardie's note 028, eq. 16) at an empty history = new customer.
    for n in range(5):
        for horizon in (1.0, 39.0):
            assert pnbd_cdnow.probability_of_purchases(n, horizon) == pytest.approx(
                lt.conditional_probability_of_n_purchases_up_to_time(n, horizon, 0, 0, 0), rel=1e-6
            )
    # ... and with a history, P(no purchase in t) is its n=0 case.
    sample = cdnow_summary.iloc[:60]
    fs, rs, ts = f[:60], r[:60], t[:60]
    np.testing.assert_allclose(
        pnbd_cdnow.probability_no_purchase(sample, 13.0),
        lt.conditional_probability_of_n_purchases_up_to_time(0, 13.0, fs, rs, ts),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    "params",
    [[0.55, 10.6, 0.6, 11.7], [0.55, 12.5, 0.6, 3.7], [2.0, 1.0, 3.0, 20.0], [0.3, 30.0, 0.1, 2.0]],
)
def test_gradient_matches_finite_differences(cdnow_summary, params):
    # Both hypergeometric branches (alpha >= beta and alpha < beta).
    cols = tuple(cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    p = np.array(params)
    _, grad = ParetoNBDModel._loglik(p, cols)
    for j in range(4):
        h = 1e-6 * p[j]
        up, down = p.copy(), p.copy()
        up[j] += h
        down[j] -= h
        num = (ParetoNBDModel._loglik(up, cols)[0] - ParetoNBDModel._loglik(down, cols)[0]) / (
            2 * h
        )
        np.testing.assert_allclose(grad[:, j], num, rtol=1e-5, atol=1e-6)


def test_edge_histories(pnbd_cdnow):
    data = pd.DataFrame(
        {
            "frequency": [0, 5, 5, 10_000],
            "recency": [0.0, 39.0, 0.5, 9_999.0],
            "T": [0.0, 39.0, 39.0, 10_000.0],
        }
    )
    alive = pnbd_cdnow.probability_alive(data)
    assert alive.iloc[0] == 1.0 and alive.iloc[1] == 1.0  # no time since the last purchase
    assert 0 < alive.iloc[2] < 0.01
    churn = pnbd_cdnow.probability_no_purchase(data, 10)
    assert np.all((churn >= 0) & (churn <= 1))
    assert churn.iloc[0] == pytest.approx(pnbd_cdnow.probability_of_purchases(0, 10), rel=1e-9)
