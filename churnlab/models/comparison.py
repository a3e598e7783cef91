"""Compare fitted transaction models in one call: likelihood, AIC/BIC, LR tests, holdout scores.

Every model is fitted on the calibration period of a calibration/holdout split
(:func:`churnlab.features.rfm.calibration_holdout_split`) and scored on the holdout by
:func:`churnlab.models.evaluation.holdout_report` (the same scores as everywhere else):

* fit: log-likelihood, number of parameters ``k``, ``AIC = 2k - 2 LL`` (Akaike 1974) and
  ``BIC = k ln(N) - 2 LL`` (Schwarz 1978) with ``N`` customers;
* holdout: MAE and RMSE of purchases per customer, the aggregate error (sum predicted vs
  actual), ROC AUC and Brier score of P(no purchase in the holdout);
* likelihood-ratio tests (Wilks 1938) for **nested** pairs only: ``2 (LL_full -
  LL_restricted) ~ chi2(k_full - k_restricted)``. A static-covariate model nests its
  no-covariate model (all coefficients 0): BG/NBD in :class:`BetaGeoCovariateModel`,
  Pareto/NBD in :class:`ParetoNBDCovariateModel`. BG/NBD, MBG/NBD and Pareto/NBD are
  **not** nested in one another (MBG/NBD lets customers without a repeat purchase drop out,
  which no BG/NBD parameter value reproduces; Pareto/NBD has continuous-time dropout), so
  they are compared by AIC/BIC and the holdout, never by an LR test.

Log-likelihoods and AIC/BIC are only comparable between models fitted on the same data
(here: the same calibration summary).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2
from sklearn.base import clone

from churnlab import config
from churnlab.exceptions import ChurnlabError, ConfigError
from churnlab.features.rfm import calibration_holdout_split
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.evaluation import (
    DURATION_HOLDOUT,
    FREQUENCY_CAL,
    FREQUENCY_HOLDOUT,
    RECENCY_CAL,
    T_CAL,
    holdout_report,
)
from churnlab.models.mbgnbd import ModifiedBetaGeoModel
from churnlab.models.pareto_nbd import ParetoNBDModel

__all__ = [
    "NESTED_MODELS",
    "best_model",
    "compare_models",
    "comparison_table",
    "default_models",
    "fit_models",
    "likelihood_ratio_test",
]

#: Class name of a model -> class name of the model nested in it (its special case).
NESTED_MODELS: dict[str, str] = {
    "BetaGeoCovariateModel": "BetaGeoModel",
    "ParetoNBDCovariateModel": "ParetoNBDModel",
}

#: One candidate: an estimator (cloned, then ``fit(calibration_summary)``) or a callable
#: that takes the calibration summary and returns a fitted model.
Candidate = Any

_SPLIT_COLUMNS = (FREQUENCY_CAL, RECENCY_CAL, T_CAL, FREQUENCY_HOLDOUT, DURATION_HOLDOUT)


def default_models(penalizer: float = 0.0) -> dict[str, Any]:
    """Return BG/NBD, MBG/NBD and Pareto/NBD estimators (unfitted), by display name."""
    return {
        "BG/NBD": BetaGeoModel(penalizer=penalizer),
        "MBG/NBD": ModifiedBetaGeoModel(penalizer=penalizer),
        "Pareto/NBD": ParetoNBDModel(penalizer=penalizer),
    }


def _calibration_summary(split: pd.DataFrame) -> pd.DataFrame:
    """Return the calibration columns renamed to the contract, plus extra (covariate) columns."""
    cal = split[[f"{c}_cal" for c in (config.FREQUENCY, config.RECENCY, config.T)]].rename(
        columns=lambda c: c.removesuffix("_cal")
    )
    extra = [c for c in split.columns if c not in _SPLIT_COLUMNS and not str(c).endswith("_cal")]
    cal = pd.concat([cal, split[extra]], axis=1) if extra else cal
    cal.attrs["time_unit"] = split.attrs.get("time_unit")
    return cal


def fit_models(
    split: pd.DataFrame, models: Mapping[str, Candidate] | None = None, *, penalizer: float = 0.0
) -> tuple[dict[str, Any], dict[str, str]]:
    """Fit each candidate on the calibration columns of ``split``.

    Parameters
    ----------
    split : pandas.DataFrame
        Output of ``calibration_holdout_split`` (with ``attrs["time_unit"]``); extra columns
        (e.g. covariates) are passed on to the fits.
    models : mapping of str to estimator or callable, optional
        Default :func:`default_models`. Estimators are cloned and fitted with
        ``fit(calibration_summary)``; a callable gets the calibration summary and returns a
        fitted model (for fits that need more arguments, e.g. covariate names).
    penalizer : float, default 0.0
        Penalizer of the default models.

    Returns
    -------
    tuple
        ``(fitted, failures)``: fitted models by name, and the error message of each fit
        that failed. Fit warnings are kept out of the log: each model's ``health_`` says
        what went wrong.
    """
    cal = _calibration_summary(split)
    fitted: dict[str, Any] = {}
    failures: dict[str, str] = {}
    candidates = models if models is not None else default_models(penalizer)
    for name, candidate in candidates.items():
        if not (hasattr(candidate, "fit") or callable(candidate)):
            raise ConfigError(
                f"models[{name!r}] must be an estimator or a callable returning a fitted "
                f"model, got {type(candidate).__name__}."
            )
    for name, candidate in candidates.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if hasattr(candidate, "fit"):
                    fitted[name] = clone(candidate).fit(cal)
                else:
                    fitted[name] = candidate(cal)
        except (ChurnlabError, ValueError, ArithmeticError) as exc:
            failures[name] = str(exc)
    return fitted, failures


def likelihood_ratio_test(restricted: Any, full: Any) -> dict[str, float]:
    """Likelihood-ratio test of a restricted model against the model it is nested in.

    Parameters
    ----------
    restricted, full : fitted models
        Fitted on the same data; ``restricted`` a special case of ``full``.

    Returns
    -------
    dict
        ``lr_statistic`` = ``2 (LL_full - LL_restricted)`` (floored at 0), ``lr_df`` =
        ``k_full - k_restricted`` and ``lr_p_value`` = ``P(chi2(df) > statistic)``.
    """
    df = len(full.params_) - len(restricted.params_)
    if df <= 0:
        raise ConfigError(
            f"{type(full).__name__} has {len(full.params_)} parameters and "
            f"{type(restricted).__name__} {len(restricted.params_)}: the full model of a "
            "likelihood-ratio test needs more parameters than the restricted one."
        )
    stat = max(0.0, 2.0 * (float(full.log_likelihood_) - float(restricted.log_likelihood_)))
    return {"lr_statistic": stat, "lr_df": float(df), "lr_p_value": float(chi2.sf(stat, df))}


class _WithCovariates:
    """Hand a covariate model its covariates when the holdout scorer calls it."""

    def __init__(self, model: Any, covariates: pd.DataFrame) -> None:
        self.model, self.covariates = model, covariates
        self.time_unit_ = getattr(model, "time_unit_", None)

    def expected_purchases(self, data: pd.DataFrame, t: float) -> pd.Series:
        return self.model.expected_purchases(data, t, covariates=self.covariates)

    def probability_no_purchase(self, data: pd.DataFrame, t: float) -> pd.Series:
        return self.model.probability_no_purchase(data, t, covariates=self.covariates)


def _scorer(model: Any, split: pd.DataFrame) -> Any:
    if hasattr(model, "purchase_covariates_") or hasattr(model, "dropout_covariates_"):
        names = [
            *getattr(model, "purchase_covariates_", []),
            *getattr(model, "dropout_covariates_", []),
        ]
        return _WithCovariates(model, split[list(dict.fromkeys(names))])
    return model


def _health(model: Any) -> tuple[bool, str]:
    health = getattr(model, "health_", None)
    return (True, "") if health is None else (bool(health.ok), " ".join(health.problems))


def _nested_pairs(fitted: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(restricted, full)`` name pairs among ``fitted`` from :data:`NESTED_MODELS`."""
    by_class: dict[str, list[str]] = {}
    for name, model in fitted.items():
        by_class.setdefault(type(model).__name__, []).append(name)
    pairs = []
    for name, model in fitted.items():
        inner = NESTED_MODELS.get(type(model).__name__)
        pairs.extend((r, name) for r in by_class.get(inner, []))
    return pairs


def comparison_table(
    split: pd.DataFrame,
    fitted: Mapping[str, Any],
    *,
    failures: Mapping[str, str] | None = None,
    nested: Sequence[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Score fitted models on the holdout of ``split``: one tidy row per model.

    Parameters
    ----------
    split : pandas.DataFrame
        The calibration/holdout frame the models were fitted on.
    fitted : mapping of str to fitted model
        E.g. the first output of :func:`fit_models`.
    failures : mapping of str to str, optional
        Fits that failed (a row each, unhealthy, with the message).
    nested : sequence of (restricted, full) names, optional
        Pairs to test by likelihood ratio; default the pairs known in :data:`NESTED_MODELS`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``model``: ``model_class``, ``n_parameters``, ``n_customers``,
        ``log_likelihood``, ``aic``, ``bic``, ``holdout_mae``, ``holdout_rmse``,
        ``actual_total``, ``predicted_total``, ``holdout_error_pct``, ``roc_auc``,
        ``brier``, ``healthy``, ``problems`` and, for the full model of a nested pair,
        ``nests`` (the restricted model), ``lr_statistic``, ``lr_df``, ``lr_p_value``.
        ``attrs["nested_pairs"]`` lists the pairs tested.
    """
    rows: dict[str, dict[str, Any]] = {}
    for name, model in fitted.items():
        scores = holdout_report(_scorer(model, split), split).scores["value"]
        ok, problems = _health(model)
        k, ll, n = len(model.params_), float(model.log_likelihood_), int(model.n_customers_)
        rows[name] = {
            "model_class": type(model).__name__,
            "n_parameters": k,
            "n_customers": n,
            "log_likelihood": ll,
            "aic": 2 * k - 2 * ll,
            "bic": k * np.log(n) - 2 * ll,
            "holdout_mae": float(scores["mae"]),
            "holdout_rmse": float(scores["rmse"]),
            "actual_total": float(scores["actual_total"]),
            "predicted_total": float(scores["predicted_total"]),
            "holdout_error_pct": float(scores.get("total_error_pct", np.nan)),
            "roc_auc": float(scores.get("roc_auc", np.nan)),
            "brier": float(scores.get("brier_score", np.nan)),
            "healthy": ok,
            "problems": problems,
        }
    for name, message in (failures or {}).items():
        rows[name] = {"healthy": False, "problems": f"the fit failed: {message}"}
    pairs = list(nested) if nested is not None else _nested_pairs(fitted)
    for restricted, full in pairs:
        if restricted not in fitted or full not in fitted:
            raise ConfigError(
                f"nested pair ({restricted!r}, {full!r}) names a model that was not fitted; "
                f"fitted: {list(fitted)}."
            )
        rows[full].update(
            nests=restricted, **likelihood_ratio_test(fitted[restricted], fitted[full])
        )
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
    table.attrs["nested_pairs"] = [list(p) for p in pairs]
    table.attrs["time_unit"] = split.attrs.get("time_unit")
    return table


def compare_models(
    data: Any,
    models: Mapping[str, Candidate] | None = None,
    *,
    calibration_end: Any = None,
    observation_end: Any = None,
    time_unit: str = "W",
    penalizer: float = 0.0,
    nested: Sequence[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Fit candidate models on a calibration period and compare them in one table.

    Parameters
    ----------
    data : pandas.DataFrame or transactions
        A calibration/holdout split (``frequency_cal``, ``recency_cal``, ``T_cal``,
        ``frequency_holdout``, ``duration_holdout``), or a transaction log, which is split
        at ``calibration_end`` with :func:`~churnlab.features.rfm.calibration_holdout_split`.
    models : mapping of str to estimator or callable, optional
        Candidates by display name (default BG/NBD, MBG/NBD, Pareto/NBD); see
        :func:`fit_models`.
    calibration_end, observation_end : date-like, optional
        Split dates, for a transaction log (``calibration_end`` is then required).
    time_unit : {"D", "W", "M"}, default "W"
        Period of the split built from a transaction log.
    penalizer : float, default 0.0
        Penalizer of the default models.
    nested : sequence of (restricted, full) names, optional
        Pairs for likelihood-ratio tests; default the known nested pairs (see module notes).

    Returns
    -------
    pandas.DataFrame
        :func:`comparison_table`'s table; ``attrs["best"]`` is the healthy model with the
        lowest holdout MAE (any model when none is healthy).

    Raises
    ------
    ConfigError
        A transaction log without ``calibration_end``, or an unusable candidate.
    """
    columns = getattr(data, "columns", ())
    if all(c in columns for c in _SPLIT_COLUMNS):
        split = data
    else:
        if calibration_end is None:
            raise ConfigError(
                "compare_models got a transaction log (no frequency_cal/frequency_holdout "
                "columns) without calibration_end; pass calibration_end='2024-06-30' (the end "
                "of the fitting period), or a calibration_holdout_split() frame."
            )
        split = calibration_holdout_split(
            data,
            calibration_end=calibration_end,
            observation_end=observation_end,
            time_unit=time_unit,
        )
    fitted, failures = fit_models(split, models, penalizer=penalizer)
    if not fitted:
        raise ConfigError(f"compare_models: every fit failed: {failures}.")
    table = comparison_table(split, fitted, failures=failures, nested=nested)
    table.attrs["best"] = best_model(table)
    return table


def best_model(table: pd.DataFrame) -> str:
    """Return the healthy model with the lowest holdout MAE (any model if none is healthy)."""
    scored = table[table["holdout_mae"].notna()] if "holdout_mae" in table else table.iloc[:0]
    if scored.empty:
        raise ConfigError("No model in the comparison could be fitted and scored.")
    healthy = scored[scored["healthy"].astype(bool)]
    candidates = healthy if not healthy.empty else scored
    return str(candidates["holdout_mae"].astype(float).idxmin())
