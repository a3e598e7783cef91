"""Purchase-model outputs as classifier features: P(alive), expected purchases and CLV.

The behaviour features (:func:`churnlab.features.behaviour.behaviour_features`) come
from the log alone; the churn classifier also sees what a BG/NBD model (Fader,
Hardie & Lee 2005) and a Gamma-Gamma spend model fitted on the same pre-cutoff
summary say about each customer. Fitting them here, not in ``features``, keeps the
layers one way: features never import models.
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from churnlab.config import TIME_UNIT_DAYS
from churnlab.exceptions import ChurnlabError, ConfigError, DataQualityWarning
from churnlab.features.behaviour import behaviour_features
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.clv import customer_lifetime_value
from churnlab.models.gamma_gamma import GammaGammaModel

__all__ = ["model_features"]


def _model_outputs(
    rfm: pd.DataFrame,
    *,
    transaction_model: Any,
    spend_model: Any,
    model_horizon: float,
    clv_horizon: int,
    time_unit: str,
) -> pd.DataFrame:
    out = pd.DataFrame(index=rfm.index)
    try:
        if isinstance(transaction_model, str):
            if transaction_model != "fit":
                raise ConfigError(
                    f"transaction_model={transaction_model!r}: pass a fitted model, 'fit' or None."
                )
            transaction_model = BetaGeoModel(penalizer=0.001).fit(rfm, time_unit=time_unit)
        out["p_alive"] = transaction_model.probability_alive(rfm)
        out["expected_purchases"] = transaction_model.expected_purchases(rfm, model_horizon)
        if spend_model is not None:
            if isinstance(spend_model, str):
                repeat = rfm[(rfm["frequency"] > 0) & (rfm["monetary_value"] > 0)]
                # no penalizer: an L2 penalty on p, q, v is scale-dependent (v is in money
                # units) and drags q below 1 on real data, making expected spend negative
                spend_model = GammaGammaModel().fit(repeat, time_unit=time_unit)
            clv = customer_lifetime_value(
                transaction_model, spend_model, rfm, horizon=clv_horizon, horizon_unit="M"
            )
            out["clv"] = clv["clv"]
            negative = int((out["clv"] < 0).sum())
            if negative:
                warnings.warn(
                    f"{negative} customer(s) got a negative CLV (the spend model has q <= 1, "
                    "so its mean spend is infinite); their clv is set to NaN. Refit the "
                    "spend model without a penalizer or remove extreme order values.",
                    DataQualityWarning,
                    stacklevel=3,
                )
                out["clv"] = out["clv"].where(out["clv"] >= 0)
    except ConfigError:
        raise
    except (ChurnlabError, ValueError, ArithmeticError) as exc:
        warnings.warn(
            f"BG/NBD features were skipped because the model could not be used: {exc}. "
            "Use a later cutoff (more history) or pass transaction_model=None.",
            DataQualityWarning,
            stacklevel=3,
        )
        return pd.DataFrame(index=rfm.index)
    return out.astype("float64")


def model_features(
    transactions: Any,
    *,
    cutoff: Any,
    time_unit: str = "W",
    returns: Any = None,
    transaction_model: Any = "fit",
    spend_model: Any = None,
    model_horizon: float | None = None,
    clv_horizon: int = 12,
    behaviour: pd.DataFrame | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Behaviour features plus the purchase models' view of each customer.

    Parameters
    ----------
    transactions : DataFrame, LoadedTransactions, path or ibis.Table
        Canonical transaction log.
    cutoff : date-like
        Point in time; only purchases before it are used (for the models too).
    time_unit : {"D", "W", "M"}, default "W"
        Unit of the RFM columns and of ``model_horizon``.
    returns : DataFrame, optional
        Returns/cancellations (adds ``returns_share``).
    transaction_model : fitted BG/NBD-type model, "fit" or None, default "fit"
        Adds ``p_alive`` and ``expected_purchases``; ``"fit"`` fits a
        :class:`~churnlab.models.BetaGeoModel` on the pre-cutoff summary (no leakage).
    spend_model : fitted GammaGammaModel, "fit" or None
        With a transaction model, adds ``clv`` over ``clv_horizon`` months.
    model_horizon : float, optional
        Horizon of ``expected_purchases`` in ``time_unit`` periods; default 3 months.
    clv_horizon : int, default 12
        CLV horizon in months.
    behaviour : pandas.DataFrame, optional
        The behaviour features at ``cutoff`` when they are already computed (with
        the same ``time_unit``, ``returns`` and ``options``); not queried again.
    **options
        Further options of :func:`~churnlab.features.behaviour.behaviour_features`.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer_id.
    """
    features = (
        behaviour
        if behaviour is not None
        else behaviour_features(
            transactions, cutoff=cutoff, time_unit=time_unit, returns=returns, **options
        )
    )
    if transaction_model is None:
        return features
    horizon = model_horizon if model_horizon is not None else 3 * TIME_UNIT_DAYS["M"]
    if model_horizon is None:
        horizon /= TIME_UNIT_DAYS[time_unit]
    outputs = _model_outputs(
        features,
        transaction_model=transaction_model,
        spend_model=spend_model,
        model_horizon=horizon,
        clv_horizon=clv_horizon,
        time_unit=time_unit,
    )
    joined = features.join(outputs)
    joined.attrs.update(features.attrs)
    return joined
