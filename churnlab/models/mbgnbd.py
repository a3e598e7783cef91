"""MBG/NBD: the modified beta-geometric/NBD model of Batislam, Denizel & Filiztekin (2007).

Reference: E. P. Batislam, M. Denizel and A. Filiztekin (2007), "Empirical validation and
comparison of models for customer base analysis", *International Journal of Research in
Marketing* 24(3), 201-209.
"""

from __future__ import annotations

from churnlab.models.bgnbd import _BetaGeoFamily


class ModifiedBetaGeoModel(_BetaGeoFamily):
    """MBG/NBD model (Batislam et al. 2007): BG/NBD where customers may also drop out at time 0.

    As in BG/NBD, purchases follow a Poisson process with rate ``lambda ~ Gamma(r, alpha)``
    and dropout happens with probability ``p ~ Beta(a, b)``, but the coin is also tossed
    right after the first purchase. The likelihood (Batislam et al. 2007, eq. 4) therefore
    replaces ``b + x`` by ``b + x + 1``, and **P(alive) is below 1 even for customers with
    no repeat purchase**, unlike BG/NBD.

    Required columns: ``frequency``, ``recency`` and ``T``, indexed by ``customer_id``.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * sum(params ** 2)`` on the mean negative log-likelihood.
    tol : float, default 1e-10
        Gradient tolerance of the optimiser.
    maxiter : int, default 2000
        Maximum optimiser iterations.
    initial_params : dict, optional
        Starting values for ``r``, ``alpha``, ``a``, ``b``.

    Attributes
    ----------
    r_, alpha_, a_, b_ : float
        Fitted parameters (Batislam et al. report r=0.525, alpha=6.183, a=0.891, b=1.614 on
        CDNOW).
    params_, summary_, covariance_, log_likelihood_, n_customers_, time_unit_
        As for :class:`~churnlab.models.BetaGeoModel`.

    Notes
    -----
    Predictions: :meth:`probability_alive`, :meth:`probability_no_purchase` (the churn
    probability over a horizon), :meth:`expected_purchases`,
    :meth:`expected_purchases_new_customer` and :meth:`probability_of_purchases`.
    """

    _shift = 1
    _display_name = "purchase model (MBG/NBD)"
