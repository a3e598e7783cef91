"""Probabilistic purchase, spend and retention models, and CLV.

The supervised churn classifier lives beside this package, in :mod:`churnlab.classifier`.
"""

from churnlab.models.bgbb import BetaGeoBetaBinomModel
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.bgnbd_covariates import BetaGeoCovariateModel
from churnlab.models.clv import customer_lifetime_value
from churnlab.models.comparison import compare_models
from churnlab.models.evaluation import HoldoutReport, holdout_report
from churnlab.models.gamma_gamma import GammaGammaModel
from churnlab.models.intervals import aggregate_forecast, prediction_intervals
from churnlab.models.mbgnbd import ModifiedBetaGeoModel
from churnlab.models.pareto_covariates import ParetoNBDCovariateModel
from churnlab.models.pareto_nbd import ParetoNBDModel
from churnlab.models.persistence import load_model, save_model
from churnlab.models.sbg import ShiftedBetaGeoModel

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoCovariateModel",
    "BetaGeoModel",
    "GammaGammaModel",
    "HoldoutReport",
    "ModifiedBetaGeoModel",
    "ParetoNBDCovariateModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "aggregate_forecast",
    "compare_models",
    "customer_lifetime_value",
    "holdout_report",
    "load_model",
    "prediction_intervals",
    "save_model",
]
