"""The spend model used when Gamma-Gamma is unhealthy: each customer's mean spend, shrunk.

When the Gamma-Gamma fit has ``q ≤ 1`` (the population mean of spend does not
exist) or did not converge, its ``expected_spend`` is unreliable. The fallback is
the credibility-weighted mean of the customer's own repeat spend and the base's
mean (Bühlmann credibility; the same form as the Gamma-Gamma posterior mean,
Fader, Hardie & Lee 2005, "RFM and CLV", eq. 5, with a fixed weight):

``E[spend_i] = (x_i · m_i + k · m̄) / (x_i + k)``

where ``x_i`` is the number of repeat purchases, ``m_i`` their mean value, ``m̄`` the
spend-weighted mean over repeat buyers and ``k`` the prior weight in purchases.
It is never negative and never larger than the largest observed mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.config import FREQUENCY, MONETARY_VALUE

__all__ = ["ShrunkMeanSpend"]


class ShrunkMeanSpend:
    """Credibility-weighted mean spend per customer (fallback for an unhealthy Gamma-Gamma).

    Parameters
    ----------
    prior_weight : float, default 2.0
        ``k``: how many purchases the base's mean counts for.

    Attributes
    ----------
    population_mean_ : float
        ``m̄``, the mean repeat-purchase value over repeat buyers.
    params_ : pandas.Series
        ``population_mean``, as the fitted models expose their parameters.
    """

    def __init__(self, *, prior_weight: float = 2.0) -> None:
        self.prior_weight = prior_weight

    def fit(self, data: pd.DataFrame) -> ShrunkMeanSpend:
        """Learn the base's mean repeat-purchase value.

        Parameters
        ----------
        data : pandas.DataFrame
            ``frequency`` and ``monetary_value`` per customer.

        Returns
        -------
        ShrunkMeanSpend
        """
        repeat = data[FREQUENCY] > 0
        x, m = data.loc[repeat, FREQUENCY], data.loc[repeat, MONETARY_VALUE].clip(lower=0)
        self.population_mean_ = float((x * m).sum() / x.sum()) if x.sum() > 0 else 0.0
        self.params_ = pd.Series({"population_mean": self.population_mean_}, name="estimate")
        return self

    def expected_spend(self, data: pd.DataFrame) -> pd.Series:
        """Return the shrunk mean spend per customer.

        Parameters
        ----------
        data : pandas.DataFrame
            ``frequency`` and ``monetary_value`` per customer.

        Returns
        -------
        pandas.Series
        """
        x = data[FREQUENCY].to_numpy(dtype=float)
        m = np.where(x > 0, data[MONETARY_VALUE].to_numpy(dtype=float), 0.0).clip(min=0)
        k = self.prior_weight
        value = (x * m + k * self.population_mean_) / (x + k)
        return pd.Series(value, index=data.index, name="expected_spend")

    def __repr__(self) -> str:
        fitted = hasattr(self, "population_mean_")
        return f"ShrunkMeanSpend(prior_weight={self.prior_weight}, fitted={fitted})"
