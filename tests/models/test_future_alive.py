"""P(alive at T + t) of the transaction models against mpmath references from the model definitions.

Each reference is ``P(history and alive at T + t) / P(history)``, both written out from the
model's assumptions and integrated with ``mpmath`` at 40 digits:

* BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam et al. 2007): a customer alive at
  ``T`` with rate ``lambda`` and dropout probability ``p`` survives each purchase with
  probability ``1 - p``, so the numerator is ``int int lambda^x e^(-lambda T) (1 - p)^(x + k)
  e^(-lambda p t) dGamma(r, alpha) dBeta(a, b)``, ``k = 0`` (BG/NBD) or 1 (MBG/NBD);
* Pareto/NBD (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model"): the numerator is
  ``int int lambda^x e^(-lambda T) e^(-mu (T + t)) dGamma(r, alpha) dGamma(s, beta)``.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel
from churnlab.models.pareto_nbd import ParetoNBDModel

mp.mp.dps = 40

ROWS = [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 0.5, 7.0), (25, 90.0, 100.0)]
HORIZONS = [0.5, 52.0, 500.0]


def _model(cls, params):
    model = cls()
    model.params_ = pd.Series(params, index=list(cls._param_names))
    return model


def _mp_beta_geo(params, x, tx, big_t, t, shift, *, by_quadrature=False):
    r, alpha, a, b = (mp.mpf(v) for v in params)
    tx, big_t, t = mp.mpf(tx), mp.mpf(big_t), mp.mpf(t)
    head = mp.gamma(r + x) * alpha**r / mp.gamma(r)

    def alive_through(horizon_t):
        # P(history, alive at T + horizon_t): no dropout at any of the x (+ 1) coin tosses and
        # no dropout in (T, T + horizon_t], where dropouts come at rate lambda p.
        if by_quadrature:  # the definition, integrated over p (slow at 40 digits)
            return mp.quad(
                lambda p: p ** (a - 1) * (1 - p) ** (b - 1) / mp.beta(a, b)
                * (1 - p) ** (x + shift) * head / (alpha + big_t + p * horizon_t) ** (r + x),
                [0, mp.mpf("1e-6"), mp.mpf("0.01"), 0.5, 1],
            )  # fmt: skip
        # The same integral by Euler's integral of 2F1 (DLMF 15.6.1).
        tau = horizon_t / (alpha + big_t)
        ratio = mp.beta(a, b + x + shift) / mp.beta(a, b)
        survive = mp.hyp2f1(r + x, a, a + b + x + shift, -tau)
        return head * ratio * (alpha + big_t) ** (-(r + x)) * survive

    died = 0
    if x > 0 or shift:  # dropped out right after the last purchase at t_x
        died = mp.beta(a + 1, b + x + shift - 1) / mp.beta(a, b) * head / (alpha + tx) ** (r + x)
    return float(alive_through(t) / (alive_through(0) + died))


def _mp_pareto(params, x, tx, big_t, t):
    r, alpha, s, beta = (mp.mpf(v) for v in params)
    tx, big_t, t = mp.mpf(tx), mp.mpf(big_t), mp.mpf(t)
    head = mp.gamma(r + x) * alpha**r * beta**s / mp.gamma(r)
    alive_now = head * (alpha + big_t) ** (-(r + x)) * (beta + big_t) ** (-s)
    alive_later = head * (alpha + big_t) ** (-(r + x)) * (beta + big_t + t) ** (-s)
    # Dropout at y in (t_x, T): density s beta^s (beta + y)^-(s + 1), no purchase after t_x.
    # Geometric break points from t_x: the integrand can fall by e per 1/1000 of a week.
    points = [tx] + [tx + (big_t - tx) * mp.mpf(2) ** -k for k in range(40, -1, -2)]
    died = (
        head * s * mp.quad(lambda y: (alpha + y) ** (-(r + x)) * (beta + y) ** (-(s + 1)), points)
    )
    return float(alive_later / (alive_now + died))


BG_PARAMS = [
    (0.243, 4.414, 0.793, 2.426),  # FHL (2005) CDNOW estimates
    (0.525, 6.183, 0.891, 1.614),  # Batislam et al. (2007) CDNOW estimates (MBG/NBD)
    (2.0, 0.5, 3.0, 0.3),
    (0.05, 30.0, 0.2, 40.0),
]
PARETO_PARAMS = [
    (0.553, 10.578, 0.606, 11.669),  # Fader & Hardie (2005) CDNOW estimates
    (1e-3, 1e-3, 1e3, 1e3),
    (2.0, 1e-3, 5.0, 1e4),
]


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
@pytest.mark.parametrize("params", BG_PARAMS)
def test_beta_geo_future_alive_matches_mpmath(cls, params):
    model = _model(cls, params)
    data = pd.DataFrame(ROWS, columns=["frequency", "recency", "T"])
    for t in HORIZONS:
        ref = [_mp_beta_geo(params, *row, t, cls._shift) for row in ROWS]
        np.testing.assert_allclose(model.probability_alive(data, t), ref, rtol=1e-9)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_beta_geo_future_alive_matches_the_defining_integral(cls):
    params, row = BG_PARAMS[0], ROWS[1]
    model = _model(cls, params)
    data = pd.DataFrame([row], columns=["frequency", "recency", "T"])
    ref = _mp_beta_geo(params, *row, 52.0, cls._shift, by_quadrature=True)
    assert model.probability_alive(data, 52.0).iloc[0] == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("params", PARETO_PARAMS)
def test_pareto_future_alive_matches_mpmath(params):
    model = _model(ParetoNBDModel, params)
    data = pd.DataFrame(ROWS, columns=["frequency", "recency", "T"])
    for t in HORIZONS:
        ref = [_mp_pareto(params, *row, t) for row in ROWS]
        np.testing.assert_allclose(model.probability_alive(data, t), ref, rtol=1e-8)


MODELS = [
    (BetaGeoModel, BG_PARAMS[0]),
    (ModifiedBetaGeoModel, BG_PARAMS[1]),
    (ParetoNBDModel, PARETO_PARAMS[0]),
]


@pytest.mark.parametrize(("cls", "params"), MODELS)
def test_future_alive_starts_at_current_alive_and_decreases(cls, params, cdnow_summary):
    model = _model(cls, params)
    now = model.probability_alive(cdnow_summary).to_numpy()
    np.testing.assert_array_equal(model.probability_alive(cdnow_summary, 0.0), now)
    previous = now
    for t in (1.0, 10.0, 52.0, 520.0):
        later = model.probability_alive(cdnow_summary, t).to_numpy()
        assert np.all((later >= 0) & (later <= 1))
        assert np.all(later <= previous * (1 + 1e-12))
        assert np.any(later < previous)  # someone can drop out in the meantime
        # Being dead at T implies no purchase, so P(no purchase) >= 1 - P(alive at T).
        no_buy = model.probability_no_purchase(cdnow_summary, t).to_numpy()
        assert np.all(no_buy >= 1 - now - 1e-12)
        previous = later


@pytest.mark.parametrize(("cls", "params"), MODELS)
def test_future_alive_takes_one_horizon_per_customer(cls, params):
    model = _model(cls, params)
    data = pd.DataFrame(ROWS, columns=["frequency", "recency", "T"])
    horizons = np.array([0.0, 5.0, 52.0, 500.0])
    each = [model.probability_alive(data.iloc[[i]], h).iloc[0] for i, h in enumerate(horizons)]
    np.testing.assert_allclose(model.probability_alive(data, horizons), each, rtol=1e-14)
