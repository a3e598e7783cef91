"""Simulators of purchase histories under the static-covariate BG/NBD and Pareto/NBD models.

For tests and benchmarks: each customer's parameters are scaled by their covariates exactly
as :class:`~churnlab.models.bgnbd_covariates.BetaGeoCovariateModel` and
:class:`~churnlab.models.pareto_covariates.ParetoNBDCovariateModel` assume (CLVTools'
parameterisation of Fader & Hardie 2007).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from churnlab import config

__all__ = ["simulate_bgnbd_covariates", "simulate_pareto_covariates"]


def _linear(covariates: pd.DataFrame, coefficients: Mapping[str, float]) -> np.ndarray:
    """``z @ gamma`` for the named columns (0 when there are none)."""
    out = np.zeros(len(covariates))
    for name, value in coefficients.items():
        out += float(value) * covariates[name].to_numpy(dtype=float)
    return out


def _frame(
    x: np.ndarray, recency: np.ndarray, big_t: np.ndarray, covariates: pd.DataFrame
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {config.FREQUENCY: x.astype(np.int64), config.RECENCY: recency, config.T: big_t},
        index=pd.RangeIndex(len(x), name=config.CUSTOMER_ID),
    )
    for name in covariates.columns:
        frame[name] = covariates[name].to_numpy()
    return frame


def simulate_bgnbd_covariates(
    covariates: pd.DataFrame,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    purchase: Mapping[str, float] | None = None,
    dropout: Mapping[str, float] | None = None,
    T: Any = 39.0,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Draw RFM summaries from BG/NBD with covariates scaling ``alpha``, ``a`` and ``b``.

    ``alpha_i = alpha exp(-purchase . z)``, ``a_i = a exp(dropout . z)`` and
    ``b_i = b exp(dropout . z)``.

    The generative process of Fader, Hardie & Lee (2005), section 2, per customer: ``lambda ~
    Gamma(r, rate=alpha_i)``, ``p ~ Beta(a_i, b_i)``, Poisson purchases, dropout after each
    repeat purchase with probability ``p`` (vectorised as in
    :func:`churnlab.models._simulate.simulate_bgnbd`).

    Parameters
    ----------
    covariates : pandas.DataFrame
        One row per customer; the columns named in ``purchase`` and ``dropout`` are used,
        and every column is copied into the result.
    r, alpha, a, b : float
        Baseline parameters.
    purchase, dropout : mapping of str to float, optional
        Coefficients by covariate column.
    T : float or array-like, default 39.0
        Observation length of each customer.
    random_state : int or numpy.random.Generator, optional
        Seed or generator.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T`` and the covariates, indexed by ``customer_id``.
    """
    rng = np.random.default_rng(random_state)
    n = len(covariates)
    big_t = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    alpha_i = alpha * np.exp(-_linear(covariates, purchase or {}))
    scale = np.exp(_linear(covariates, dropout or {}))
    lam = rng.gamma(r, 1.0 / alpha_i)
    p = rng.beta(a * scale, b * scale)
    k = rng.geometric(p)
    n_events = rng.poisson(lam * big_t)
    x = np.minimum(n_events, k)
    pos = x > 0
    recency = np.zeros(n)
    recency[pos] = big_t[pos] * rng.beta(x[pos], n_events[pos] - x[pos] + 1)
    return _frame(x, recency, big_t, covariates)


def simulate_pareto_covariates(
    covariates: pd.DataFrame,
    *,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    purchase: Mapping[str, float] | None = None,
    dropout: Mapping[str, float] | None = None,
    T: Any = 39.0,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Draw RFM summaries from Pareto/NBD with covariates scaling ``alpha`` and ``beta``.

    ``alpha_i = alpha exp(-purchase . z)`` and ``beta_i = beta exp(-dropout . z)``.

    Schmittlein, Morrison & Colombo (1987): ``lambda ~ Gamma(r, rate=alpha_i)``, ``mu ~
    Gamma(s, rate=beta_i)``, an exponential lifetime with rate ``mu`` and Poisson purchases
    while alive; the last purchase is the maximum of the arrival times (a beta draw).

    Parameters
    ----------
    covariates : pandas.DataFrame
        One row per customer (see :func:`simulate_bgnbd_covariates`).
    r, alpha, s, beta : float
        Baseline parameters.
    purchase, dropout : mapping of str to float, optional
        Coefficients by covariate column.
    T : float or array-like, default 39.0
        Observation length of each customer.
    random_state : int or numpy.random.Generator, optional
        Seed or generator.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T`` and the covariates, indexed by ``customer_id``.
    """
    rng = np.random.default_rng(random_state)
    n = len(covariates)
    big_t = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    alpha_i = alpha * np.exp(-_linear(covariates, purchase or {}))
    beta_i = beta * np.exp(-_linear(covariates, dropout or {}))
    lam = rng.gamma(r, 1.0 / alpha_i)
    mu = rng.gamma(s, 1.0 / beta_i)
    life = np.minimum(rng.exponential(1.0 / mu), big_t)
    x = rng.poisson(lam * life)
    pos = x > 0
    recency = np.zeros(n)
    recency[pos] = life[pos] * rng.beta(x[pos], 1.0)
    return _frame(x, recency, big_t, covariates)
