"""Probabilistic purchase, spend and retention models, and the supervised churn classifier."""

from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.gamma_gamma import GammaGammaModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel
from churnlab.models.pareto_nbd import ParetoNBDModel
from churnlab.models.sbg import ShiftedBetaGeoModel

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
]
