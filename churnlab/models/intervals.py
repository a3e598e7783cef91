"""Prediction intervals by parametric bootstrap from a fitted model's parameter covariance.

One bootstrap implementation for every interval churnlab reports (per-customer predictions,
the whole base's forecast, and CLV in :mod:`churnlab.models.clv`): parameters are drawn from
the normal approximation of their sampling distribution on the scale the model was fitted
on, each draw re-scores the customers, and the interval is the central percentile range of
the draws (Efron & Tibshirani 1993, "An Introduction to the Bootstrap", ch. 6 and 13; the
"parametric bootstrap from the asymptotic distribution of the MLE").

**What the intervals cover.** By default only *parameter uncertainty*: how much the
prediction would move if the model were refitted on another sample from the same
population. ``aggregate_forecast(..., process_noise=True)`` adds the randomness of the
purchases themselves (who is alive, how many purchases a Poisson process gives, the spend of
each purchase) by simulating every customer's future from their posterior, so its interval
is for the *realised* total.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.exceptions import ConfigError, ConvergenceWarning, ModelNotFittedError
from churnlab.models._validation import check_time, customer_index

__all__ = ["aggregate_forecast", "draw_models", "prediction_intervals"]

#: Customers scored at once per draw (bounds memory: n_draws x chunk floats per prediction).
_CHUNK_SIZE = 20_000
_WHAT = ("probability_alive", "expected_purchases", "probability_no_purchase")


def _floor(model: Any, size: int) -> np.ndarray:
    """Lower bound of each parameter: finite = fitted as ``log(theta - floor)``, -inf = as is."""
    floor = getattr(model, "_floor", None)
    return np.zeros(size) if floor is None else np.asarray(floor(), dtype=float)


def draw_models(
    model: Any,
    n_draws: int,
    rng: np.random.Generator,
    *,
    unknown: str = "raise",
    caller: str = "prediction_intervals",
) -> list[Any]:
    """Return ``n_draws`` copies of ``model`` with parameters drawn from their sampling law.

    Each parameter is drawn on its fitting scale: ``log(theta - floor) ~ N(log(theta_hat -
    floor), Sigma_ij / ((theta_i - floor_i)(theta_j - floor_j)))`` (the delta-method
    covariance of the logs, so draws stay inside the parameter space, e.g. ``q > 1`` for
    Gamma-Gamma), and unbounded parameters (covariate coefficients) on their natural scale.

    Parameters
    ----------
    model : fitted churnlab model
        With ``params_`` and ``covariance_`` (natural scale).
    n_draws : int
        Number of draws.
    rng : numpy.random.Generator
        Source of randomness.
    unknown : {"raise", "fix"}, default "raise"
        What to do when some standard error is not finite: raise a :class:`ConfigError`, or
        hold those parameters fixed with a :class:`ConvergenceWarning`.
    caller : str
        Name used in messages.

    Returns
    -------
    list
        Shallow copies of ``model`` with ``params_`` (and ``<name>_``) replaced.

    Raises
    ------
    ModelNotFittedError
        If ``model`` has no ``params_``.
    ConfigError
        If ``covariance_`` is missing or has the wrong shape, or (``unknown="raise"``) has
        non-finite entries.
    """
    name = type(model).__name__
    if getattr(model, "params_", None) is None:
        raise ModelNotFittedError(f"{caller} needs a fitted {name}. Call .fit(summary) first.")
    params = pd.Series(model.params_, dtype=float)
    cov = getattr(model, "covariance_", None)
    if cov is None:
        raise ConfigError(
            f"{caller} needs the parameter covariance of {name} (covariance_ is missing). "
            "Refit the model with churnlab, which computes it."
        )
    cov = cov.loc[params.index, params.index] if isinstance(cov, pd.DataFrame) else cov
    cov = np.asarray(cov, dtype=float)
    k = len(params)
    if cov.shape != (k, k):
        raise ConfigError(
            f"interval needs a {k}x{k} covariance_ for {name}, got shape {cov.shape}. "
            "Refit the model, or call without an interval."
        )
    bad = ~np.isfinite(np.diag(cov)) | ~np.all(np.isfinite(cov), axis=0)
    if bad.any():
        names = ", ".join(map(str, params.index[bad]))
        if unknown == "raise":
            raise ConfigError(
                f"{caller}: {name} has no finite standard error for {names} (an estimate at "
                "the edge of the parameter space, see the model's health_), so no interval can "
                "be drawn. Refit with a small penalizer (e.g. penalizer=0.01)."
            )
        warnings.warn(
            f"{name} has no finite standard error for {names} (an estimate at the edge of the "
            "parameter space), so the interval holds them fixed and understates the "
            "uncertainty. Refit with a small penalizer (e.g. penalizer=0.01) for full intervals.",
            ConvergenceWarning,
            stacklevel=3,
        )
        cov = np.where(bad[:, None] | bad[None, :], 0.0, cov)
    values = params.to_numpy()
    floor = _floor(model, k)
    logged = np.isfinite(floor)
    centre = np.where(logged, np.log(np.where(logged, values - floor, 1.0)), values)
    scale = np.where(logged, values - floor, 1.0)
    fit_cov = cov / np.outer(scale, scale)
    fit_cov = (fit_cov + fit_cov.T) / 2
    eigval, eigvec = np.linalg.eigh(fit_cov)
    root = eigvec * np.sqrt(np.clip(eigval, 0.0, None))
    raw = centre + rng.standard_normal((n_draws, k)) @ root.T
    draws = np.where(logged, np.where(logged, floor, 0.0) + np.exp(raw), raw)
    models = []
    for row in draws:
        clone = copy.copy(model)
        clone.params_ = pd.Series(
            row, index=params.index, name=getattr(model.params_, "name", None)
        )
        for key, value in zip(params.index, row, strict=True):
            if not isinstance(getattr(type(clone), f"{key}_", None), property):
                setattr(clone, f"{key}_", float(value))
        models.append(clone)
    return models


def _check_options(level: float, n_draws: int) -> None:
    if not (isinstance(level, int | float) and 0 < level < 1):
        raise ConfigError(f"level must be strictly between 0 and 1 (e.g. 0.9), got {level!r}.")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 2:
        raise ConfigError(f"n_draws must be a whole number of at least 2, got {n_draws!r}.")


def _predict(model: Any, what: str, data: pd.DataFrame, t: Any) -> np.ndarray:
    method = getattr(model, what)
    values = method(data) if what == "probability_alive" else method(data, t)
    return np.asarray(values, dtype=float)


def prediction_intervals(
    model: Any,
    data: pd.DataFrame,
    *,
    what: str | Sequence[str] = ("probability_alive", "expected_purchases"),
    t: float | None = None,
    level: float = 0.9,
    n_draws: int = 200,
    random_state: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Per-customer predictions with parametric-bootstrap intervals (parameter uncertainty).

    Parameters
    ----------
    model : fitted transaction model
        :class:`~churnlab.models.BetaGeoModel`, :class:`~churnlab.models.ParetoNBDModel`,
        :class:`~churnlab.models.ModifiedBetaGeoModel` or a covariate model.
    data : pandas.DataFrame
        Customers to score (``frequency``, ``recency``, ``T``, and the covariate columns for
        a covariate model), indexed by ``customer_id``.
    what : str or sequence of str, default ("probability_alive", "expected_purchases")
        Any of ``"probability_alive"``, ``"expected_purchases"``, ``"probability_no_purchase"``.
    t : float, optional
        Horizon in the model's time unit; required for the last two.
    level : float, default 0.9
        Coverage of the central percentile interval.
    n_draws : int, default 200
        Bootstrap draws.
    random_state : int or numpy.random.Generator, default 0
        Seed; the same seed gives the same bounds.

    Returns
    -------
    pandas.DataFrame
        For each prediction ``<what>`` (at the estimates), ``<what>_lower`` and
        ``<what>_upper``, indexed by customer.

    Raises
    ------
    ConfigError
        On an unknown ``what``, a missing ``t``, bad ``level``/``n_draws``, or a model whose
        covariance is missing or not finite.
    ModelNotFittedError
        If the model is not fitted.
    """
    names = [what] if isinstance(what, str) else list(what)
    unknown = [w for w in names if w not in _WHAT]
    if unknown or not names:
        raise ConfigError(
            f"what must name predictions among {', '.join(map(repr, _WHAT))}, got {what!r}."
        )
    if any(w != "probability_alive" for w in names):
        if t is None:
            raise ConfigError(
                "prediction_intervals needs a horizon t (in the model's time unit) for "
                f"{', '.join(w for w in names if w != 'probability_alive')}; pass e.g. t=52."
            )
        t = check_time(t)
    _check_options(level, n_draws)
    draws = draw_models(model, n_draws, np.random.default_rng(random_state))
    quantiles = [(1 - level) / 2, (1 + level) / 2]
    result = pd.DataFrame(index=customer_index(data))
    for w in names:
        point = _predict(model, w, data, t)
        lower, upper = np.empty(len(data)), np.empty(len(data))
        for start in range(0, len(data), _CHUNK_SIZE):
            chunk = data.iloc[start : start + _CHUNK_SIZE]
            samples = np.stack([_predict(m, w, chunk, t) for m in draws])
            bounds = np.quantile(samples, quantiles, axis=0)
            lower[start : start + len(chunk)] = bounds[0]
            upper[start : start + len(chunk)] = bounds[1]
        result[w] = point
        result[f"{w}_lower"] = lower
        result[f"{w}_upper"] = upper
    return result


def _customer_values(model: Any, data: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each customer's parameters (covariate models) or the shared ones, as arrays."""
    if hasattr(model, "customer_params"):
        table = model.customer_params(data)
        return {k: table[k].to_numpy(dtype=float) for k in table.columns}
    return {k: np.full(len(data), float(v)) for k, v in model.params_.items()}


def _simulate_purchases(
    model: Any, data: pd.DataFrame, t: float, rng: np.random.Generator
) -> np.ndarray:
    """One draw of every customer's purchases in ``(T, T + t]`` from their posterior.

    Given alive at ``T`` (probability ``P(alive)``), BG/NBD-family customers have ``lambda ~
    Gamma(r + x, alpha + T)`` and ``p ~ Beta(a, b + x + shift)`` independently (FHL 2005,
    section 4; ``shift = 1`` for MBG/NBD), buy as a Poisson process and drop out after each
    purchase with probability ``p``; Pareto/NBD customers have ``lambda ~ Gamma(r + x, alpha +
    T)``, ``mu ~ Gamma(s, beta + T)`` and a remaining exponential lifetime (Fader & Hardie
    2005, section 5).
    """
    v = _customer_values(model, data)
    x = data[config.FREQUENCY].to_numpy(dtype=float)
    big_t = data[config.T].to_numpy(dtype=float)
    alive = rng.random(x.size) < np.asarray(model.probability_alive(data), dtype=float)
    lam = rng.gamma(v["r"] + x, 1.0 / (v["alpha"] + big_t))
    if {"a", "b"} <= v.keys():
        p = rng.beta(v["a"], v["b"] + x + getattr(model, "_shift", 0))
        count = np.minimum(rng.poisson(lam * t), rng.geometric(np.clip(p, 1e-300, 1.0)))
    else:
        mu = rng.gamma(v["s"], 1.0 / (v["beta"] + big_t))
        count = rng.poisson(lam * np.minimum(rng.exponential(1.0 / mu), t))
    return np.where(alive, count, 0).astype(float)


def _simulate_revenue(
    spend_model: Any, data: pd.DataFrame, counts: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Spend of ``counts`` future purchases per customer under the Gamma-Gamma posterior.

    Fader, Hardie & Lee (2005), "RFM and CLV", appendix: ``nu ~ Gamma(q + p x, v + x m)``
    given the history, and the sum of ``n`` purchases is ``Gamma(p n, nu)``.
    """
    p, q, v = (float(spend_model.params_[k]) for k in ("p", "q", "v"))
    x = data[config.FREQUENCY].to_numpy(dtype=float)
    m = np.nan_to_num(data[config.MONETARY_VALUE].to_numpy(dtype=float)) * (x > 0)
    nu = rng.gamma(q + p * x, 1.0 / (v + x * m))
    shape = np.where(counts > 0, p * counts, 1.0)
    return np.where(counts > 0, rng.gamma(shape, 1.0 / nu), 0.0)


def aggregate_forecast(
    model: Any,
    data: pd.DataFrame,
    t: float,
    *,
    spend_model: Any = None,
    level: float = 0.9,
    n_draws: int = 200,
    process_noise: bool = False,
    random_state: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Forecast the whole base's purchases (and revenue) over ``t``, with an interval.

    The estimate is ``sum_i E[X_i(T, T + t]]`` at the fitted parameters (times each
    customer's expected spend for revenue, as in CLV). The interval is the central ``level``
    range over ``n_draws`` parameter draws (:func:`draw_models`): **parameter uncertainty
    only** by default. With ``process_noise=True`` each draw also simulates every customer's
    purchases from their posterior (alive or not, Poisson purchases, dropout, and Gamma-Gamma
    spend per purchase), so the interval covers the *realised* total, which is wider.

    Parameters
    ----------
    model : fitted transaction model
        BG/NBD, MBG/NBD, Pareto/NBD or a covariate model.
    data : pandas.DataFrame
        ``frequency``, ``recency``, ``T`` (in the model's time unit), plus
        ``monetary_value`` with a spend model and the covariates for a covariate model.
    t : float
        Horizon in the model's time unit.
    spend_model : GammaGammaModel, optional
        Adds a ``revenue`` row.
    level : float, default 0.9
        Coverage of the interval.
    n_draws : int, default 200
        Bootstrap draws.
    process_noise : bool, default False
        Add the randomness of the purchases and spends (BG/NBD family and Pareto/NBD, with a
        Gamma-Gamma spend model).
    random_state : int or numpy.random.Generator, default 0
        Seed; the same seed gives the same bounds.

    Returns
    -------
    pandas.DataFrame
        Rows ``purchases`` (and ``revenue``), columns ``estimate``, ``lower``, ``upper``;
        ``attrs`` records ``horizon``, ``level`` and ``uncertainty``.

    Raises
    ------
    ConfigError
        On bad options, a model without a usable covariance, or ``process_noise`` with a
        model it cannot simulate.
    """
    t = check_time(t)
    if np.ndim(t) != 0:
        raise ConfigError(f"t must be one horizon (a number), got an array of shape {np.shape(t)}.")
    _check_options(level, n_draws)
    if process_noise:
        names = set(model.params_.index)
        if not ({"r", "alpha", "a", "b"} <= names or {"r", "alpha", "s", "beta"} <= names):
            raise ConfigError(
                f"process_noise=True can simulate BG/NBD, MBG/NBD and Pareto/NBD models, not "
                f"{type(model).__name__}; pass process_noise=False for parameter uncertainty."
            )
        if spend_model is not None and not {"p", "q", "v"} <= set(spend_model.params_.index):
            raise ConfigError(
                "process_noise=True simulates spend with a Gamma-Gamma model; got "
                f"{type(spend_model).__name__}."
            )
    if spend_model is not None and config.MONETARY_VALUE not in data.columns:
        raise ConfigError(
            f"aggregate_forecast with a spend model needs a '{config.MONETARY_VALUE}' column "
            "in data (the summary from rfm_summary(..., monetary=True))."
        )
    rng = np.random.default_rng(random_state)
    draws = draw_models(model, n_draws, rng, caller="aggregate_forecast")
    spend_draws = (
        draw_models(spend_model, n_draws, rng, caller="aggregate_forecast")
        if spend_model is not None
        else [None] * n_draws
    )

    def spend_of(sm: Any) -> np.ndarray:
        return np.asarray(sm.expected_spend(data), dtype=float)

    expected = _predict(model, "expected_purchases", data, t)
    rows = {"purchases": [float(expected.sum())]}
    if spend_model is not None:
        rows["revenue"] = [float(expected @ spend_of(spend_model))]
    for tm, sm in zip(draws, spend_draws, strict=True):
        if process_noise:
            counts = _simulate_purchases(tm, data, float(t), rng)
            rows["purchases"].append(float(counts.sum()))
            if sm is not None:
                rows["revenue"].append(float(_simulate_revenue(sm, data, counts, rng).sum()))
        else:
            counts = _predict(tm, "expected_purchases", data, t)
            rows["purchases"].append(float(counts.sum()))
            if sm is not None:
                rows["revenue"].append(float(counts @ spend_of(sm)))
    quantiles = [(1 - level) / 2, (1 + level) / 2]
    table = pd.DataFrame(
        [[v[0], *np.quantile(v[1:], quantiles)] for v in rows.values()],
        index=pd.Index(list(rows), name="quantity"),
        columns=["estimate", "lower", "upper"],
    )
    table.attrs.update(
        horizon=float(t),
        level=float(level),
        uncertainty="parameter and process" if process_noise else "parameter",
    )
    return table
