"""Pareto/NBD model of Schmittlein, Morrison & Colombo (1987).

References: D. C. Schmittlein, D. G. Morrison and R. Colombo (1987), "Counting Your
Customers: Who Are They and What Will They Do Next?", *Management Science* 33(1), 1-24;
P. S. Fader and B. G. S. Hardie (2005), "A Note on Deriving the Pareto/NBD Model and
Related Expressions" (eqs. 18-22 likelihood, 27 new customer, 36-37 P(alive), 41
conditional expectation).

Every quantity is written with the integral ``I(p, q) = int_lo^hi (alpha + y)^-p
(beta + y)^-q dy``; its closed form uses the Gaussian hypergeometric function on the
branch ``c = max(alpha, beta)`` so that its argument ``|alpha - beta| / (c + y)`` lies
in [0, 1) (the stable choice of Fader & Hardie's note, eqs. 19-20). The derivatives in
``alpha`` and ``beta`` are integrals of the same kind; those in ``r`` and ``s`` come from
term-by-term differentiation of the hypergeometric series (row by row in
:mod:`churnlab.models._pareto_closed`). The fit's total likelihood writes ``I`` as a difference
of tail integrals evaluated once per distinct ``(x, t_x)`` and ``(x, T)`` pair
(:mod:`churnlab.models._pareto_terms`), and starts at the no-dropout limit when the data show
no dropout.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import integrate
from scipy.special import digamma, expit, gammaln

from churnlab.models._base import (
    TransactionModel,
    as_float,
    digamma_rising,
    log_rising,
    on_unique_rows,
    percent_text,
    unique_inverse,
    unique_rows,
)
from churnlab.models._pareto_closed import _integral_terms, _log_integral
from churnlab.models._pareto_terms import MIN_SHARE, fit_no_dropout_limit, log_tail_terms
from churnlab.models._special import pareto_integral_quadrature
from churnlab.models._validation import check_counts, check_time


class ParetoNBDModel(TransactionModel):
    """Pareto/NBD model of repeat purchasing and dropout (Schmittlein et al. 1987).

    While active, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r,
    alpha)`` and has an exponential lifetime with rate ``mu ~ Gamma(s, beta)``. The
    likelihood is Fader & Hardie (2005) eq. 18, maximised over log-parameters with the
    analytic gradient on identical rows compressed with weights.

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
        Starting values for ``r``, ``alpha``, ``s``, ``beta``.

    Attributes
    ----------
    r_, alpha_, s_, beta_ : float
        Fitted parameters (Fader & Hardie report r=0.553, alpha=10.578, s=0.606,
        beta=11.669, LL=-9595.0 on CDNOW).
    params_, summary_, covariance_, log_likelihood_, n_customers_, time_unit_
        As for :class:`~churnlab.models.BetaGeoModel`.
    """

    _param_names = ("r", "alpha", "s", "beta")
    _display_name = "purchase model (Pareto/NBD)"

    def _specific_boundary_problems(self) -> list[tuple[list[str], str]]:
        problems = super()._specific_boundary_problems()
        s, beta = float(self.params_["s"]), float(self.params_["beta"])
        horizon = getattr(self, "max_T_", 1.0)
        # Share of customers expected to drop out within the longest observed history.
        dropout = -np.expm1(-s * np.log1p(horizon / beta))
        names = [n for n, bad in (("s", s < 1e-3), ("beta", beta > 1e3 * horizon)) if bad]
        if not names and dropout < 1e-3:
            names = ["s", "beta"]
        if names:
            problems.insert(
                0,
                (
                    names,
                    f"The {self._display_name} found no evidence that customers stop buying "
                    "(s \u2248 0 or beta \u2192 \u221e: it expects "
                    f"{percent_text(dropout)} of customers to drop out over the observed period), "
                    "so its 'probability still active' is close to 100% for everyone and should "
                    "not be used to rank churn risk. Use the probability of no purchase over a "
                    "horizon, or the churn classifier.",
                ),
            )
        return problems

    @staticmethod
    def _loglik(
        params: np.ndarray, columns: tuple[np.ndarray, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        x, tx, big_t = columns
        r, alpha, s, beta = params
        p, q = r + x, s + 1.0
        log_i, di_dp, di_dq, ratio_a, ratio_b = _integral_terms(
            p, q, alpha, beta, tx, big_t, derivatives=True
        )
        u1 = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        u2 = np.log(s) + log_i
        top = np.logaddexp(u1, u2)
        w2 = np.exp(u2 - top)
        w1 = 1.0 - w2
        has = w2 > 0

        def part(values: np.ndarray) -> np.ndarray:
            return np.where(has, w2 * np.where(has, values, 0.0), 0.0)

        ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + top
        grad = np.empty((x.size, 4))
        grad[:, 0] = (
            digamma(r + x) - digamma(r) + np.log(alpha) - w1 * np.log(alpha + big_t) + part(di_dp)
        )
        grad[:, 1] = r / alpha - w1 * (r + x) / (alpha + big_t) - part(p * ratio_a)
        grad[:, 2] = np.log(beta) - w1 * np.log(beta + big_t) + part(1.0 / s + di_dq)
        grad[:, 3] = s / beta - w1 * s / (beta + big_t) - part(q * ratio_b)
        return ll, grad

    #: ``log s`` at which a fit at the no-dropout boundary is reported (``s`` ~ 1.4e-11).
    _limit_log_s = -25.0

    def _no_dropout_start(
        self, columns: tuple[np.ndarray, ...], weights: np.ndarray
    ) -> np.ndarray | None:
        """Return parameters at the no-dropout limit when the data show no dropout, else None.

        The limit ``s -> 0`` of the likelihood is the NBD likelihood of ``(r, alpha)``
        (:func:`~churnlab.models._pareto_terms.fit_no_dropout_limit`), where ``beta`` no
        longer matters. If at its maximiser the likelihood falls as ``s`` rises from ~0 for
        every ``beta`` tried (0.01 to 100 times the longest history), the maximum likelihood
        is that limit, and the optimiser, which would crawl along the ridge ``s -> 0`` for
        many evaluations, starts (and stops) there. Any sign that some dropout raises the
        likelihood sends the fit down the ordinary path. ``beta`` is reported equal to ``alpha``
        (any value gives the same likelihood to within ``s``).
        """
        if self.penalizer or self.initial_params:
            return None
        x, _, big_t = columns
        limit = fit_no_dropout_limit(x, big_t, weights)
        if limit is None:
            return None
        s = float(np.exp(self._limit_log_s))
        state = self._prepare_weighted(columns, weights)
        horizon, alpha = float(big_t.max()), limit[1]
        for beta in (alpha, horizon, *(horizon * np.array([0.1, 10.0, 0.01, 100.0]))):
            _, grad = self._weighted_loglik(np.array([*limit, s, beta]), state)
            if not (np.all(np.isfinite(grad)) and grad[2] < 0):
                return None
        # beta is not identified at the limit; beta = alpha makes the integrals' series
        # argument |alpha - beta| / (max + y) zero, so the remaining evaluations are cheap.
        return np.array([*limit, s, alpha])

    def _warm_start(
        self, columns: tuple[np.ndarray, ...], weights: np.ndarray
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        self._cache_state = True  # the boundary check's pair tables serve the fit too
        self._limit_start = self._no_dropout_start(columns, weights)
        if self._limit_start is not None:
            return None, None
        return super()._warm_start(columns, weights)

    def _fit_columns(
        self,
        columns: tuple[np.ndarray, ...],
        weights: np.ndarray,
        *,
        n_customers: int,
        start: np.ndarray | None = None,
        start_hessian: np.ndarray | None = None,
    ) -> None:
        limit = getattr(self, "_limit_start", None)
        if limit is not None:
            start, start_hessian = limit, None
        try:
            super()._fit_columns(
                columns, weights, n_customers=n_customers, start=start, start_hessian=start_hessian
            )
        finally:
            self._limit_start = None
            self._cache_state = False
            self._state_cache = None

    def _prepare_weighted(self, columns: tuple[np.ndarray, ...], weights: np.ndarray) -> Any:
        """Distinct ``(x, t_x)`` and ``(x, T)`` pairs (where the integrals live) and weight sums."""
        if not getattr(self, "_cache_state", False):
            return self._pair_tables(columns, weights)
        cache = getattr(self, "_state_cache", None)
        if cache is not None and cache[0] is columns[0] and cache[1] is weights:
            return cache[2]
        state = self._pair_tables(columns, weights)
        self._state_cache = (columns[0], weights, state)
        return state

    @staticmethod
    def _pair_tables(columns: tuple[np.ndarray, ...], weights: np.ndarray) -> dict:
        x, tx, big_t = columns
        n = x.size
        (pair_x, pair_y), key = unique_rows(np.concatenate([x, x]), np.concatenate([tx, big_t]))
        ux, ix = unique_inverse(x)
        ut, it = unique_inverse(big_t)
        return {
            "x": x, "tx": tx, "T": big_t, "w": weights, "empty": big_t <= tx,
            "pair_x": pair_x, "pair_y": pair_y, "i_lo": key[:n], "i_hi": key[n:],
            "ux": ux, "w_x": np.bincount(ix, weights, minlength=ux.size), "uT": ut, "iT": it,
        }  # fmt: skip

    def _weighted_loglik(self, params: np.ndarray, state: Any) -> tuple[float, np.ndarray]:
        """Weighted total of Fader & Hardie (2005) eq. 18 and its gradient, from pair tables.

        Same terms as :meth:`_loglik`, with ``I = Phi(t_x) - Phi(T)`` built from tail integrals
        evaluated once per distinct ``(x, t_x)`` and ``(x, T)`` pair
        (:mod:`churnlab.models._pareto_terms`), and ``log Gamma(r + x) - log Gamma(r)`` once
        per distinct frequency as a stable log rising factorial. Each moment of ``I`` is
        ``(M(t_x) - rho M(T)) / (1 - rho)``, so its weighted sum over rows is a sum over pairs
        of ``M`` times per-pair coefficients (two ``bincount`` calls): only ``log Phi`` is
        gathered per row. Rows where the difference would cancel are integrated directly.
        """
        r, alpha, s, beta = (float(v) for v in params)
        x, tx, big_t, w = state["x"], state["tx"], state["T"], state["w"]
        i_lo, i_hi, empty = state["i_lo"], state["i_hi"], state["empty"]
        q = s + 1.0
        tails = log_tail_terms(r + state["pair_x"], q, alpha, beta, state["pair_y"])
        delta = tails[0][i_hi] - tails[0][i_lo]
        with np.errstate(divide="ignore", invalid="ignore"):
            one_m = -np.expm1(delta)
            log_i = tails[0][i_lo] + np.log(one_m)
        log_i[empty] = -np.inf
        redo = np.flatnonzero(~empty & ~(one_m >= MIN_SHARE))
        direct = None
        if redo.size:
            direct = pareto_integral_quadrature(
                r + x[redo], np.full(redo.size, q), alpha, beta, tx[redo], big_t[redo]
            )
            log_i[redo] = direct[0]
        ut, it = state["uT"], state["iT"]
        l_at, l_bt = np.log(alpha + ut), np.log(beta + ut)
        u1 = -(r + x) * l_at[it] - s * l_bt[it]
        with np.errstate(divide="ignore"):
            u2 = np.log(s) + log_i
        top = np.logaddexp(u1, u2)
        ww2 = w * np.exp(u2 - top)
        ww1 = w - ww2
        # Per-pair coefficients of the moments M: sum_rows ww2 (M_lo - rho M_hi) / (1 - rho).
        with np.errstate(divide="ignore", invalid="ignore"):
            c_lo = np.where(empty, 0.0, ww2 / one_m)
        if redo.size:
            c_lo[redo] = 0.0
        n_pairs = tails[0].size
        coef = np.bincount(i_lo, c_lo, minlength=n_pairs) - np.bincount(
            i_hi, c_lo * (1.0 - one_m), minlength=n_pairs
        )
        m_dp, m_dq = coef @ tails[1], coef @ tails[2]
        m_ra = coef @ ((r + state["pair_x"]) * tails[3])
        m_rb = coef @ tails[4]
        if direct is not None:
            w_r = ww2[redo]
            m_dp += w_r @ direct[1]
            m_dq += w_r @ direct[2]
            m_ra += w_r @ ((r + x[redo]) * direct[3])
            m_rb += w_r @ direct[4]
        # Sums over rows of functions of T: through per-age weight sums.
        b1 = np.bincount(it, ww1, minlength=ut.size)
        b1x = np.bincount(it, ww1 * (r + x), minlength=ut.size)
        ux, w_x = state["ux"], state["w_x"]
        w_total = float(w.sum())
        total = w_x @ log_rising(r, ux) + w_total * (r * np.log(alpha) + s * np.log(beta))
        total += w @ top
        grad = np.array(
            [
                w_x @ digamma_rising(r, ux) + w_total * np.log(alpha) - b1 @ l_at + m_dp,
                w_total * r / alpha - b1x @ (1.0 / (alpha + ut)) - m_ra,
                w_total * np.log(beta) - b1 @ l_bt + ww2.sum() / s + m_dq,
                w_total * s / beta - s * (b1 @ (1.0 / (beta + ut))) - q * m_rb,
            ]
        )
        return float(total), grad

    def _initial_params(self, columns: tuple[np.ndarray, ...], weights: np.ndarray) -> np.ndarray:
        x, _, big_t = columns
        mean_t = max(float(weights @ big_t) / weights.sum(), 1e-6)
        rate = max(float(weights @ x) / max(float(weights @ big_t), 1e-12), 1e-6)
        return np.array([1.0, 1.0 / rate, 1.0, mean_t])

    # ---------------------------------------------------------- predictions
    def _p_alive(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        return on_unique_rows(self._p_alive_rows, x, tx, big_t)

    def _p_alive_rows(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = self._params()
        log_i = _log_integral(r + x, s + 1.0, alpha, beta, tx, big_t)[0]
        u = np.log(s) + log_i + (r + x) * np.log(alpha + big_t) + s * np.log(beta + big_t)
        return expit(-u)

    def probability_alive(self, data: pd.DataFrame, t: Any = 0.0) -> pd.Series:
        """Probability that each customer is still active ``t`` periods after observation ends.

        At ``t = 0`` (the default) Fader & Hardie (2005) eqs. 36-37. For ``t > 0`` the
        lifetime is memoryless and, given alive at ``T``, the dropout rate has posterior
        ``mu ~ Gamma(s, beta + T)`` (independent of the purchase rate), so ``P(alive at T + t) =
        P(alive at T) * ((beta + T) / (beta + T + t))^s``.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``, indexed by ``customer_id``.
        t : float or array-like, default 0.0
            Time after the end of observation ``T``, in the model's time unit (one value, or
            one per customer).

        Returns
        -------
        pandas.Series
            ``probability_alive`` in [0, 1] (P(alive at ``T + t``)), non-increasing in ``t``,
            indexed by customer.
        """
        t = np.asarray(check_time(t), dtype=float)
        x, tx, big_t = self._data(data, "probability_alive")
        alive = self._p_alive(x, tx, big_t)
        if np.any(t > 0):
            s, beta = self._params()[2:]
            alive = alive * np.exp(-s * np.log1p(t / (beta + big_t)))
        return self._series(alive, data, "probability_alive")

    def probability_no_purchase(self, data: pd.DataFrame, t: float) -> pd.Series:
        """Probability that each customer makes no purchase in the next ``t`` periods (churn).

        ``1 - P(alive) * P(a purchase within t | alive)``; given alive, ``lambda ~ Gamma(r + x,
        alpha + T)`` and ``mu ~ Gamma(s, beta + T)`` independently, and the first event is a
        purchase before ``t`` with probability ``E[lambda / (lambda + mu) (1 - exp(-(lambda +
        mu) t))]``, evaluated in closed form with the hypergeometric integral.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``, indexed by ``customer_id``.
        t : float
            Horizon, in the model's time unit.

        Returns
        -------
        pandas.Series
            ``probability_no_purchase`` in [0, 1], indexed by customer.
        """
        t = check_time(t)
        x, tx, big_t = self._data(data, "probability_no_purchase")
        r, alpha, s, beta = self._params()

        def buy_if_alive(x: np.ndarray, big_t: np.ndarray, t: np.ndarray) -> np.ndarray:
            ra, aa, ba = r + x, alpha + big_t, beta + big_t
            log_i = _log_integral(ra + 1.0, s, aa, ba, 0.0, t)[0]
            return np.exp(np.log(ra) + ra * np.log(aa) + s * np.log(ba) + log_i)

        buy = on_unique_rows(buy_if_alive, x, big_t, np.broadcast_to(t, x.shape))
        value = 1.0 - self._p_alive(x, tx, big_t) * np.clip(buy, 0.0, 1.0)
        return self._series(np.clip(value, 0.0, 1.0), data, "probability_no_purchase")

    def _expected(self, t: Any, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = self._params()
        log_ratio = np.log1p(t / (beta + big_t))
        if abs(s - 1.0) < 1e-10:
            g = log_ratio
        else:
            g = -np.expm1(-(s - 1.0) * log_ratio) / (s - 1.0)
        return (r + x) * (beta + big_t) / (alpha + big_t) * g

    def expected_purchases(self, data: pd.DataFrame, t: float) -> pd.Series:
        """Return the expected number of purchases of each customer in the next ``t`` periods.

        Fader & Hardie (2005) eq. 41.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``, indexed by ``customer_id``.
        t : float
            Horizon, in the model's time unit.

        Returns
        -------
        pandas.Series
            ``expected_purchases`` (>= 0), indexed by customer.
        """
        t = check_time(t)
        x, tx, big_t = self._data(data, "expected_purchases")
        value = self._expected(t, x, big_t) * self._p_alive(x, tx, big_t)
        return self._series(value, data, "expected_purchases")

    def expected_purchases_new_customer(self, t: Any) -> float | np.ndarray:
        """Return the expected repeat purchases of a new customer in ``(0, t]`` (eq. 27).

        Parameters
        ----------
        t : float or array-like
            Time(s) since the first purchase, in the model's time unit.

        Returns
        -------
        float or numpy.ndarray
        """
        t = np.asarray(check_time(t), dtype=float)
        return as_float(self._expected(t, np.zeros_like(t), np.zeros_like(t)))

    def probability_of_purchases(self, n: Any, t: Any) -> float | np.ndarray:
        """Probability that a new customer makes exactly ``n`` repeat purchases in ``(0, t]``.

        Alive at ``t`` (``NB(n; r, alpha / (alpha + t)) * (beta / (beta + t))^s``) or dead at
        ``tau < t`` after ``n`` purchases (an integral over ``tau``, evaluated by adaptive
        quadrature); Fader & Hardie (2005), section 4.

        Parameters
        ----------
        n : int or array-like of int
            Number(s) of repeat purchases.
        t : float or array-like
            Time(s) since the first purchase, in the model's time unit.

        Returns
        -------
        float or numpy.ndarray
        """
        n = check_counts(n)
        t = np.asarray(check_time(t), dtype=float)
        r, alpha, s, beta = self._params()
        n, t = np.broadcast_arrays(n, t)
        log_nb = gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha)

        def log_pmf_alive(nn: float, tt: float) -> float:
            pois = nn * np.log(tt) if nn > 0 else 0.0
            return pois - (r + nn) * np.log(alpha + tt)

        def one(nn: float, tt: float, lnb: float) -> float:
            if tt == 0:
                return float(nn == 0)
            alive = np.exp(lnb + log_pmf_alive(nn, tt) + s * (np.log(beta) - np.log(beta + tt)))

            def integrand(tau: float) -> float:
                if tau <= 0 and nn > 0:
                    return 0.0
                log_death = np.log(s) + s * np.log(beta) - (s + 1) * np.log(beta + tau)
                return float(np.exp(lnb + log_pmf_alive(nn, tau) + log_death))

            # Break points on the death density's scale beta (it can be a spike at 0).
            marks = [v for v in beta * np.array([1.0, 10.0, 100.0, 1e3]) if 0.0 < v < tt]
            dead, _ = integrate.quad(
                integrand, 0.0, tt, points=marks or None, epsabs=1e-14, epsrel=1e-11, limit=200
            )
            return float(alive + dead)

        values = np.vectorize(one, otypes=[float])(n, t, log_nb)
        return as_float(np.clip(values, 0.0, 1.0))
