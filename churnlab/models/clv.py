"""Customer lifetime value from a transaction model and a spend model.

CLV is the discounted sum, over a horizon, of the purchases a customer is
expected to make in each period times the amount they are expected to spend
per purchase (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves
for Customer Base Analysis", section 4). Time units are explicit: the horizon
is counted in ``horizon_unit`` periods and converted to the transaction
model's own time unit, so weekly data can never be silently treated as daily.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.data.validation import require_columns
from churnlab.exceptions import ConfigError, ModelNotFittedError
from churnlab.models._base import row_codes
from churnlab.models.intervals import draw_models
from churnlab.units import check_unit, convert

__all__ = ["customer_lifetime_value"]

#: Customers whose bootstrap samples are held at once (draws x customers; bounds memory).
_CHUNK_SIZE = 100_000


def _check_fitted(model: Any, role: str) -> None:
    """Raise :class:`ModelNotFittedError` unless ``model`` has fitted parameters."""
    if getattr(model, "params_", None) is None:
        raise ModelNotFittedError(
            f"customer_lifetime_value needs a fitted {role} "
            f"({type(model).__name__} has no params_). Call .fit(summary) on it first."
        )


def _model_time_unit(model: Any) -> str:
    """Return the transaction model's time unit or raise a :class:`ConfigError`."""
    unit = getattr(model, "time_unit_", None)
    if unit not in config.TIME_UNIT_DAYS:
        raise ConfigError(
            f"customer_lifetime_value cannot tell which time unit {type(model).__name__} was "
            f"fitted in (time_unit_={unit!r}; expected one of "
            f"{', '.join(repr(u) for u in config.TIME_UNIT_DAYS)}). Fit the model with "
            "fit(summary, time_unit='W') (or 'D'/'M'), or build the summary with "
            "churnlab.features.rfm.rfm_summary(..., time_unit=...), which records it."
        )
    return str(unit)


def _validate_options(
    horizon: int, horizon_unit: str, discount_rate: float, interval: float | None, n_draws: int
) -> None:
    """Raise :class:`ConfigError` for out-of-range options."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ConfigError(
            f"horizon must be a positive whole number of {horizon_unit!r} periods, "
            f"got {horizon!r}. For example horizon=12 with horizon_unit='M' is one year."
        )
    check_unit(horizon_unit, name="horizon_unit")
    if not np.isfinite(discount_rate) or discount_rate <= -1:
        raise ConfigError(
            f"discount_rate is the discount rate per {horizon_unit!r} period and must be "
            f"greater than -1, got {discount_rate!r}. Use e.g. 0.01 for 1% per month."
        )
    if interval is not None and not 0 < interval < 1:
        raise ConfigError(
            f"interval must be a coverage level strictly between 0 and 1 (e.g. 0.9), "
            f"got {interval!r}. Pass interval=None for point estimates only."
        )
    if interval is not None and (isinstance(n_draws, bool) or n_draws < 2):
        raise ConfigError(f"n_draws must be an integer of at least 2, got {n_draws!r}.")


class _Rows(NamedTuple):
    """Customers split into the distinct rows each model needs (scored once each)."""

    purchases: pd.DataFrame  # distinct (frequency, recency, T)
    purchase_codes: np.ndarray
    spend: pd.DataFrame  # distinct (frequency, monetary_value)
    spend_codes: np.ndarray


def _distinct(data: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the distinct rows of ``data[columns]`` and each row's code into them."""
    keys = data[columns]
    first, codes = row_codes(*(keys[c].to_numpy(dtype=float) for c in columns))
    return keys.iloc[first], codes


def _rows(data: pd.DataFrame, covariates: list[str]) -> _Rows:
    keys = [config.FREQUENCY, config.RECENCY, config.T, *covariates]
    purchases, purchase_codes = _distinct(data, keys)
    spend, spend_codes = _distinct(data, [config.FREQUENCY, config.MONETARY_VALUE])
    return _Rows(purchases, purchase_codes, spend, spend_codes)


def _discounted_purchases(
    transaction_model: Any, purchases: pd.DataFrame, times: np.ndarray, discounts: np.ndarray
) -> np.ndarray:
    """Discounted expected purchases over the horizon, per distinct purchase row."""
    previous = np.zeros(len(purchases))
    factor = np.zeros(len(purchases))
    for t, discount in zip(times, discounts, strict=True):
        cumulative = transaction_model.expected_purchases(purchases, float(t))
        cumulative = np.asarray(cumulative, dtype=float)
        factor += (cumulative - previous) * discount
        previous = cumulative
    return factor


def _clv_values(
    transaction_model: Any,
    spend_model: Any,
    rows: _Rows,
    times: np.ndarray,
    discounts: np.ndarray,
) -> np.ndarray:
    """Discounted CLV for each customer of ``rows`` at the models' current parameters."""
    spend = np.asarray(spend_model.expected_spend(rows.spend), dtype=float)
    factor = _discounted_purchases(transaction_model, rows.purchases, times, discounts)
    return factor[rows.purchase_codes] * spend[rows.spend_codes]


def customer_lifetime_value(
    transaction_model: Any,
    spend_model: Any,
    data: pd.DataFrame,
    *,
    horizon: int = 12,
    horizon_unit: str = "M",
    discount_rate: float = 0.01,
    interval: float | None = None,
    n_draws: int = 200,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Discounted customer lifetime value over a horizon, per customer.

    For periods ``k = 1 .. horizon`` of length ``horizon_unit``,

    ``CLV = E[spend] * sum_k (E[X(k·Δ)] - E[X((k-1)·Δ)]) / (1 + discount_rate) ** k``

    where ``E[X(t)]`` is the transaction model's conditional expected number of
    purchases in the next ``t`` of its own time units, ``Δ`` is one
    ``horizon_unit`` expressed in those units (via :func:`churnlab.units.convert`)
    and ``E[spend]`` is the spend model's conditional expected average spend.
    This is the stepping of lifetimes' ``_customer_lifetime_value`` with
    ``freq`` replaced by explicit, exact unit conversion.

    Parameters
    ----------
    transaction_model : BetaGeoModel, ParetoNBDModel, ModifiedBetaGeoModel or a covariate model
        A fitted transaction model with ``expected_purchases(data, t)`` and a
        known ``time_unit_`` ("D", "W" or "M"). For
        :class:`~churnlab.models.BetaGeoCovariateModel` and
        :class:`~churnlab.models.ParetoNBDCovariateModel` ``data`` must also hold the
        covariate columns.
    spend_model : GammaGammaModel
        A fitted spend model with ``expected_spend(data)``.
    data : pandas.DataFrame
        Columns ``frequency``, ``recency``, ``T`` (in the transaction model's
        time unit) and ``monetary_value``, indexed by ``customer_id``.
    horizon : int, default 12
        Number of ``horizon_unit`` periods to project.
    horizon_unit : {"M", "W", "D"}, default "M"
        Length of one projection period.
    discount_rate : float, default 0.01
        Discount rate per ``horizon_unit`` period (0.01 = 1% a month).
    interval : float, optional
        Coverage of a parametric-bootstrap interval, e.g. 0.9. Parameters of
        both models are drawn from a normal approximation of their sampling
        distribution on the log scale (mean log of the estimates, covariance
        from ``covariance_`` by the delta method; see
        :func:`churnlab.models.intervals.draw_models`), CLV is recomputed for each
        draw and the interval is the central percentile range.
    n_draws : int, default 200
        Number of bootstrap draws when ``interval`` is given.
    random_state : int or numpy.random.Generator, optional
        Seed of the bootstrap draws; the same seed gives the same bounds.

    Returns
    -------
    pandas.DataFrame
        Column ``clv`` (plus ``clv_lower`` and ``clv_upper`` when ``interval``
        is given), indexed like ``data`` (by ``customer_id``).

    Raises
    ------
    ConfigError
        If the transaction model's time unit is unknown, an option is out of
        range, or ``interval`` is requested but a model's ``covariance_`` has
        the wrong shape.
    ModelNotFittedError
        If either model has not been fitted.
    DataValidationError
        If ``data`` lacks a required column.

    Warns
    -----
    ConvergenceWarning
        If ``interval`` is requested and some parameter has no finite standard
        error (e.g. an estimate at a boundary); it is then held fixed.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using
    iso-value curves for customer base analysis. Journal of Marketing Research
    42(4), 415-430.

    Examples
    --------
    >>> clv = customer_lifetime_value(bgnbd, gamma_gamma, summary,  # doctest: +SKIP
    ...                               horizon=12, horizon_unit="M", interval=0.9)
    """
    _validate_options(horizon, horizon_unit, discount_rate, interval, n_draws)
    _check_fitted(transaction_model, "transaction model")
    _check_fitted(spend_model, "spend model")
    model_unit = _model_time_unit(transaction_model)
    # A covariate model scores each customer with their own covariates (columns of data).
    covariates = sorted(
        {
            *getattr(transaction_model, "purchase_covariates_", []),
            *getattr(transaction_model, "dropout_covariates_", []),
        }
    )
    require_columns(
        data,
        [config.FREQUENCY, config.RECENCY, config.T, config.MONETARY_VALUE, *covariates],
        where="customer_lifetime_value",
    )
    step = convert(1, horizon_unit, model_unit)
    periods = np.arange(1, int(horizon) + 1)
    times = periods * step
    discounts = (1.0 + discount_rate) ** -periods.astype(float)

    # Identical rows have identical values: each model scores its distinct rows once.
    clv = _clv_values(transaction_model, spend_model, _rows(data, covariates), times, discounts)
    result = pd.DataFrame({"clv": clv}, index=data.index)
    if interval is None:
        return result

    rng = np.random.default_rng(random_state)
    # The one bootstrap of churnlab (models.intervals): a parameter without a finite standard
    # error is held fixed with a warning, so CLV ranges stay available for the other ones.
    transaction_draws = draw_models(
        transaction_model, n_draws, rng, unknown="fix", caller="customer_lifetime_value"
    )
    spend_draws = draw_models(
        spend_model, n_draws, rng, unknown="fix", caller="customer_lifetime_value"
    )
    quantiles = [(1 - interval) / 2, (1 + interval) / 2]
    lower = np.empty(len(data))
    upper = np.empty(len(data))
    # each draw projects the distinct purchase rows of the whole base once (draws x rows)
    rows = _rows(data, covariates)
    factors = np.stack(
        [_discounted_purchases(tm, rows.purchases, times, discounts) for tm in transaction_draws]
    )
    for start in range(0, len(data), _CHUNK_SIZE):
        block = data.iloc[start : start + _CHUNK_SIZE]
        spend_rows, spend_codes = _distinct(block, [config.FREQUENCY, config.MONETARY_VALUE])
        spends = np.stack(
            [np.asarray(sm.expected_spend(spend_rows), dtype=float) for sm in spend_draws]
        )
        purchase_codes = rows.purchase_codes[start : start + _CHUNK_SIZE]
        samples = factors[:, purchase_codes] * spends[:, spend_codes]
        bounds = np.quantile(samples, quantiles, axis=0)
        lower[start : start + samples.shape[1]] = bounds[0]
        upper[start : start + samples.shape[1]] = bounds[1]
    result["clv_lower"] = lower
    result["clv_upper"] = upper
    return result
