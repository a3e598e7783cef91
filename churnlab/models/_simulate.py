"""Simulators of purchase histories from the BG/NBD family, for tests and benchmarks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnlab import config


def simulate_bgnbd(
    n_customers: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: Any = 39.0,
    modified: bool = False,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Draw RFM summaries from the BG/NBD (or MBG/NBD) generative process.

    Each customer gets ``lambda ~ Gamma(r, rate=alpha)`` and ``p ~ Beta(a, b)``. Repeat
    purchases arrive as a Poisson process; after each one (and, when ``modified``, also right
    after the first purchase) the customer drops out with probability ``p`` (Fader, Hardie &
    Lee 2005, section 2). Fully vectorised: the number of purchases before dropout is
    geometric, the Poisson count over ``(0, T]`` caps it, and the time of the last kept
    purchase is a uniform order statistic (a beta draw).

    Parameters
    ----------
    n_customers : int
        Number of customers.
    r, alpha, a, b : float
        Model parameters.
    T : float or array-like, default 39.0
        Observation length of each customer (scalar or one per customer).
    modified : bool, default False
        Simulate MBG/NBD (dropout possible at time 0) instead of BG/NBD.
    random_state : int or numpy.random.Generator, optional
        Seed or generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency``, ``recency``, ``T``, indexed by ``customer_id`` (0..n-1).
    """
    rng = np.random.default_rng(random_state)
    big_t = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, size=n_customers)
    p = rng.beta(a, b, size=n_customers)
    # Purchases made before dropping out (the dropout follows the K-th repeat purchase).
    k = rng.geometric(p)
    if modified:
        k = k - 1
    n_events = rng.poisson(lam * big_t)
    x = np.minimum(n_events, k)
    pos = x > 0
    recency = np.zeros(n_customers)
    recency[pos] = big_t[pos] * rng.beta(x[pos], n_events[pos] - x[pos] + 1)
    frame = pd.DataFrame(
        {config.FREQUENCY: x.astype(np.int64), config.RECENCY: recency, config.T: big_t},
        index=pd.RangeIndex(n_customers, name=config.CUSTOMER_ID),
    )
    return frame
