"""Gamma-Gamma model of average spend per transaction.

Reference: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "RFM and CLV: Using Iso-Value
Curves for Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430, and
B. G. S. Hardie's note "The Gamma-Gamma Model of Monetary Value" (2013), eqs. (1)-(5).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from churnlab import config
from churnlab.data.validation import require_columns
from churnlab.exceptions import ConvergenceWarning, DataQualityWarning, DataValidationError
from churnlab.models._base import (
    BaseModel,
    compress_rows,
    digamma_rising,
    log_rising,
    unique_inverse,
)
from churnlab.models._validation import _bad_rows, customer_index, resolve_time_unit


def _spend_arrays(data: pd.DataFrame, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return ``frequency`` and ``monetary_value``."""
    require_columns(data, (config.FREQUENCY, config.MONETARY_VALUE), where=where)
    if len(data) == 0:
        raise DataValidationError(f"{where} got an empty table; pass at least one customer.")
    try:
        x = data[config.FREQUENCY].to_numpy(dtype=float)  # not np.asarray: see validate_rfm
        m = data[config.MONETARY_VALUE].to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"{where}: frequency and monetary_value must be numeric ({exc}). Convert them with "
            "pd.to_numeric."
        ) from None
    index = customer_index(data)
    values = {config.FREQUENCY: x, config.MONETARY_VALUE: m}
    checks = [
        (~np.isfinite(x) | ~np.isfinite(m), "have NaN or infinite frequency or monetary_value"),
        ((x < 0) | (x != np.round(x)), "have a negative or non-integer frequency"),
        ((x > 0) & (m < 0), "are repeat buyers with monetary_value < 0 (spend cannot be negative)"),
    ]
    for mask, what in checks:
        if np.any(mask):
            raise DataValidationError(
                f"{where}: {_bad_rows(mask, index, values)} {what}. Rebuild the summary with "
                "churnlab.features.rfm_summary(monetary=True) on cleaned transactions "
                "(returns and zero-price lines removed)."
            )
    return x, m


def _by_frequency(
    function: Callable[[np.ndarray], np.ndarray], x: np.ndarray, p: float, q: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``function(p x + q)`` and ``function(p x)`` for every row.

    Frequencies are whole numbers with few distinct values, so the special function
    is evaluated once per distinct frequency instead of once per customer.
    """
    counts = x.astype(np.int64)
    if counts.size == 0 or counts.max() > 1_000_000:
        return function(p * x + q), function(p * x)
    grid = p * np.arange(counts.max() + 1, dtype=float)
    return function(grid + q)[counts], function(grid)[counts]


class GammaGammaModel(BaseModel):
    """Gamma-Gamma model of a customer's average transaction value (Fader, Hardie & Lee 2005).

    A customer's spend per transaction is Gamma(p, nu) with ``nu ~ Gamma(q, v)`` across
    customers, independent of the purchase process. The model is fitted on **repeat buyers
    only** (``frequency > 0``): ``monetary_value`` is the mean value of the repeat
    purchases, so customers without a repeat purchase carry no spend information and are
    left out of the fit (their count is kept in ``n_excluded_``).

    Required columns: ``frequency`` and ``monetary_value`` (mean spend of the repeat
    purchases, >= 0), indexed by ``customer_id``. The fit is constrained to ``q > 1``, so
    the population mean spend ``p v / (q - 1)`` exists and ``expected_spend`` is always
    positive (lifetimes' ``q_constraint=True``); ``health_.q_above_one`` says whether the
    constraint is binding.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * sum(params ** 2)`` on the mean negative log-likelihood.
    tol : float, default 1e-10
        Gradient tolerance of the optimiser.
    maxiter : int, default 2000
        Maximum optimiser iterations.
    initial_params : dict, optional
        Starting values for ``p``, ``q``, ``v``.

    Attributes
    ----------
    p_, q_, v_ : float
        Fitted parameters (FHL 2005 report p=6.25, q=3.74, v=15.44 on CDNOW).
    params_, summary_, covariance_, log_likelihood_ : see :class:`~churnlab.models.BetaGeoModel`
    n_customers_ : int
        Repeat buyers the model was fitted on.
    n_excluded_ : int
        Customers without a repeat purchase, left out of the fit.
    n_zero_spend_ : int
        Repeat buyers with a mean repeat spend of 0, left out of the fit (with a
        ``DataQualityWarning``).
    health_ : ModelHealth
        Convergence, boundaries, standard errors and ``q_above_one``; see
        :class:`~churnlab.models._base.ModelHealth`.
    time_unit_ : str or None
        Time unit of the summary (kept for consistency with the transaction models).
    """

    _param_names = ("p", "q", "v")
    _forward_covariance = True  # closed-form gradient, smooth to rounding
    #: q > 1: the population mean spend p v / (q - 1) must exist (lifetimes' q_constraint).
    _param_floor = (0.0, 1.0, 0.0)
    _display_name = "spend model (Gamma-Gamma)"

    def fit(self, summary: pd.DataFrame, *, time_unit: str | None = None) -> GammaGammaModel:
        """Fit the model on the repeat buyers of an RFM summary.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency`` and ``monetary_value``.
        time_unit : {"D", "W", "M"}, optional
            Recorded in ``time_unit_`` when ``summary.attrs["time_unit"]`` is not set.

        Returns
        -------
        self

        Raises
        ------
        DataValidationError
            On malformed values or when there is no repeat buyer.
        """
        where = "GammaGammaModel.fit"
        x, m = _spend_arrays(summary, where)
        self.time_unit_ = resolve_time_unit(summary, time_unit, where=where)
        repeat = x > 0
        if not np.any(repeat):
            raise DataValidationError(
                f"{where}: none of the {len(x)} customers has a repeat purchase, and the "
                "Gamma-Gamma model is fitted on repeat buyers' mean spend. Use a longer "
                "observation window."
            )
        self.n_excluded_ = int((~repeat).sum())
        zero = repeat & (m == 0)
        self.n_zero_spend_ = int(zero.sum())
        if self.n_zero_spend_:
            warnings.warn(
                f"GammaGammaModel.fit: {self.n_zero_spend_} repeat buyer(s) have a mean repeat "
                "spend of 0 (e.g. only free or fully refunded repeat orders) and are left out of "
                "the fit, which needs positive spend; their expected_spend is shrunk from 0 "
                "towards the population mean. Remove zero-value lines before rfm_summary if "
                "they are not real purchases.",
                DataQualityWarning,
                stacklevel=2,
            )
        use = repeat & ~zero
        if not np.any(use):
            raise DataValidationError(
                f"{where}: all {int(repeat.sum())} repeat buyers have a mean repeat spend of 0, "
                "so spend cannot be modelled. Check the monetary_value column."
            )
        # Spend is continuous, so identical (x, m) rows are rare and compressing them would
        # cost more than it saves: the rows go in as they are, with unit weights.
        columns, weights = (x[use], m[use]), np.ones(int(use.sum()))
        start, hessian = self._warm_start(columns, weights)
        self._fit_columns(
            columns, weights, n_customers=int(use.sum()), start=start, start_hessian=hessian
        )
        if not self.health_.q_above_one:
            warnings.warn(
                f"GammaGammaModel: q={self.q_:.6g} is at its lower bound 1 (without the bound "
                "the fit would give q <= 1), so the population mean spend p v / (q - 1) is "
                "not well determined and expected spend is unreliable for customers with few "
                "purchases. Check for extreme monetary values, or use a shrunk mean spend.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _q_above_one(self) -> bool | None:
        return bool(self.q_ - 1.0 > 1e-6)

    def _specific_boundary_problems(self) -> list[tuple[list[str], str]]:
        if self.q_ - 1.0 > 1e-6:
            return []
        sentence = (
            "The spend model found that a few customers spend so much more than the rest that "
            "the average spend per order is not well defined (q \u2264 1), so expected spend, "
            "and therefore CLV, is unreliable for customers with few purchases."
        )
        return [(["q"], sentence)]

    def _columns_for_loglik(self, data: pd.DataFrame) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        x, m = _spend_arrays(data, "GammaGammaModel.log_likelihood")
        use = (x > 0) & (m > 0)
        return compress_rows(x[use], m[use])

    @staticmethod
    def _loglik(
        params: np.ndarray, columns: tuple[np.ndarray, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Log-density of the observed mean spend (Hardie's note, eq. 2) and its gradient."""
        x, m = columns
        p, q, v = params
        px = p * x
        log_xm_v = np.log(x * m + v)
        log_m, log_x = np.log(m), np.log(x)
        gammaln_pxq, gammaln_px = _by_frequency(gammaln, x, p, q)
        digamma_pxq, digamma_px = _by_frequency(digamma, x, p, q)
        ll = (
            gammaln_pxq - gammaln_px - gammaln(q) + q * np.log(v)
            + (px - 1) * log_m + px * log_x - (px + q) * log_xm_v
        )  # fmt: skip
        grad = np.empty((x.size, 3))
        grad[:, 0] = x * (digamma_pxq - digamma_px + log_m + log_x - log_xm_v)
        grad[:, 1] = digamma_pxq - digamma(q) + np.log(v) - log_xm_v
        grad[:, 2] = q / v - (px + q) / (x * m + v)
        return ll, grad

    def _prepare_weighted(self, columns: tuple[np.ndarray, ...], weights: np.ndarray) -> dict:
        """Precompute the sums that do not depend on the parameters, and the distinct frequencies.

        Hardie's eq. (2) summed over customers is ``sum_x W_x [log Gamma(p x + q) - log Gamma(p x)
        + p x log x] - W log Gamma(q) + W q log v + p sum w x log m - sum w log m - sum w (p x
        + q) log(x m + v)``: only the last term needs a pass over the rows (one logarithm).
        """
        x, m = columns
        ux, ix = unique_inverse(x)
        log_m = np.log(m)
        wx = weights * x
        return {
            "ux": ux,
            "log_ux": np.log(ux),
            "w_x": np.bincount(ix, weights, minlength=ux.size),
            "xm": x * m,
            "w": weights,
            "wx": wx,
            "w_total": float(weights.sum()),
            "sx": float(wx @ log_m),
            "sl": float(weights @ log_m),
        }

    def _weighted_loglik(self, params: np.ndarray, state: dict) -> tuple[float, np.ndarray]:
        """Weighted total of Hardie's eq. (2) and its gradient (same terms as :meth:`_loglik`)."""
        p, q, v = (float(t) for t in params)
        ux, w_x, w, wx, total_w = (
            state["ux"],
            state["w_x"],
            state["w"],
            state["wx"],
            state["w_total"],
        )
        pxu = p * ux
        shifted = state["xm"] + v
        log_s = np.log(shifted)
        inv_s = 1.0 / shifted
        a_sum, b_sum = float(wx @ log_s), float(w @ log_s)
        per_x = log_rising(pxu, q) + pxu * state["log_ux"]
        d_pq = digamma(pxu + q)
        total = (
            w_x @ per_x - total_w * (gammaln(q) - q * np.log(v))
            + p * state["sx"] - state["sl"] - p * a_sum - q * b_sum
        )  # fmt: skip
        grad = np.array(
            [
                w_x @ (ux * (digamma_rising(pxu, q) + state["log_ux"])) + state["sx"] - a_sum,
                w_x @ d_pq - total_w * (digamma(q) - np.log(v)) - b_sum,
                total_w * q / v - p * float(wx @ inv_s) - q * float(w @ inv_s),
            ]
        )
        return float(total), grad

    def _initial_params(self, columns: tuple[np.ndarray, ...], weights: np.ndarray) -> np.ndarray:
        _, m = columns
        mean = float(weights @ m) / weights.sum()
        return np.array([2.0, 3.0, max(mean, 1e-6)])

    def _fitted_on(self) -> str:
        excluded = f"{self.n_excluded_:,} without repeat purchase excluded"
        return f"{self.n_customers_:,} repeat buyers ({excluded})"

    def expected_spend(self, data: pd.DataFrame) -> pd.Series:
        """Return the expected mean spend per future transaction of each customer.

        Hardie's note eq. (5): a weighted average of the population mean ``p v / (q - 1)``
        and the customer's observed ``monetary_value``, with weight ``p x / (p x + q - 1)``
        on the latter. Customers without a repeat purchase get the population mean.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``frequency`` and ``monetary_value``, indexed by ``customer_id``.

        Returns
        -------
        pandas.Series
            ``expected_spend`` indexed by customer.
        """
        self._check_fitted()
        x, m = _spend_arrays(data, "GammaGammaModel.expected_spend")
        p, q, v = self._params()
        m = np.where(x > 0, m, 0.0)
        value = (p * v + p * x * m) / (p * x + q - 1)
        return pd.Series(value, index=customer_index(data), name="expected_spend")
