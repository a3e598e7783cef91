"""Probabilistic purchase, spend and retention models, and CLV.

The supervised churn classifier lives beside this package, in :mod:`churnlab.classifier`.
"""

from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.clv import customer_lifetime_value
from churnlab.models.evaluation import HoldoutReport, holdout_report
from churnlab.models.gamma_gamma import GammaGammaModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel
from churnlab.models.pareto_nbd import ParetoNBDModel
from churnlab.models.sbg import ShiftedBetaGeoModel

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "HoldoutReport",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "customer_lifetime_value",
    "holdout_report",
]
