"""Probabilistic purchase, spend and retention models, CLV, and the supervised churn classifier."""

from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.churn import ChurnClassifier
from churnlab.models.churn_backtest import backtest, score_customers
from churnlab.models.clv import customer_lifetime_value
from churnlab.models.evaluation import HoldoutReport, holdout_report
from churnlab.models.gamma_gamma import GammaGammaModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel
from churnlab.models.pareto_nbd import ParetoNBDModel
from churnlab.models.sbg import ShiftedBetaGeoModel

__all__ = [
    "BetaGeoModel",
    "ChurnClassifier",
    "GammaGammaModel",
    "HoldoutReport",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "backtest",
    "customer_lifetime_value",
    "holdout_report",
    "score_customers",
]
