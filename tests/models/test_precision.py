"""Numerical precision against arbitrary-precision references (mpmath, 50 digits).

Each reference value is computed here from the paper's formula with ``mpmath`` at 50 significant
digits, so the tests check churnlab's floating-point evaluation, not a transcription.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel

mp.mp.dps = 50

ROWS = [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 0.5, 7.0), (25, 90.0, 100.0), (400, 9000.0, 1e4)]
PARAMS = [
    (0.243, 4.414, 0.793, 2.426),  # FHL (2005) CDNOW estimates
    (1e4, 1e4, 1e4, 1e4),
    (1e-3, 1e4, 1e4, 1e-3),
    (1e4, 1e-3, 1e-3, 1e4),
    (5.5e11, 1.07e13, 4.4e-7, 1.15e8),  # where a fit on identical rows ends up
]


def mp_bg_loglik(params, x, tx, big_t, shift=0):
    """BG/NBD (FHL 2005, eq. 6) or MBG/NBD (Batislam et al. 2007, eq. 4) log-likelihood."""
    r, alpha, a, b = (mp.mpf(v) for v in params)
    tx, big_t = mp.mpf(tx), mp.mpf(big_t)
    head = mp.gamma(r + x) * alpha**r / mp.gamma(r)
    first = mp.beta(a, b + x + shift) / mp.beta(a, b) * head / (alpha + big_t) ** (r + x)
    second = 0
    if x > 0 or shift:
        second = mp.beta(a + 1, b + x + shift - 1) / mp.beta(a, b) * head / (alpha + tx) ** (r + x)
    return mp.log(first + second)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
@pytest.mark.parametrize("params", PARAMS)
def test_beta_geo_loglik_matches_mpmath(cls, params):
    cols = tuple(np.array([row[i] for row in ROWS], dtype=float) for i in range(3))
    ll, _ = cls._loglik(np.array(params), cols)
    ref = np.array([float(mp_bg_loglik(params, *row, shift=cls._shift)) for row in ROWS])
    np.testing.assert_allclose(ll, ref, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_fit_on_identical_rows_reports_the_exact_log_likelihood(cls):
    # Issue #14: on 1,000,000 identical rows (x=2, t_x=30.43, T=38.86) the fit drifts to
    # parameters of ~1e12, where the old formula reported -7,931,640.6 for BG/NBD although
    # the exact value at the returned parameters was -7,933,636.5.
    n = 1_000_000
    data = pd.DataFrame({"frequency": [2] * n, "recency": [30.43] * n, "T": [38.86] * n})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls().fit(data)
    exact = n * float(mp_bg_loglik(model.params_.to_numpy(), 2, 30.43, 38.86, shift=cls._shift))
    assert model.log_likelihood_ == pytest.approx(exact, rel=1e-11)
