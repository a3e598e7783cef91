"""churnlab: a churn and customer-lifetime-value lab.

The public API, from data to decisions::

    from churnlab import datasets, load_transactions, rfm_summary, BetaGeoModel

Modules: :mod:`churnlab.data` (loading and cleaning), :mod:`churnlab.features`
(RFM and behaviour features), :mod:`churnlab.models` (BG/NBD family, Gamma-Gamma,
sBG, CLV, churn classifier), :mod:`churnlab.segments`, :mod:`churnlab.retention`,
:mod:`churnlab.reasons`, :mod:`churnlab.plotting` and :mod:`churnlab.report`.
"""

from churnlab import datasets, reasons, retention, segments
from churnlab.data import CleaningPolicy, CleaningReport, LoadedTransactions, load_transactions
from churnlab.exceptions import (
    ChurnlabError,
    ConfigError,
    ConvergenceWarning,
    DataQualityWarning,
    DataValidationError,
)
from churnlab.features import behaviour_features, calibration_holdout_split, rfm_summary
from churnlab.models import (
    BetaGeoModel,
    ChurnClassifier,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
    customer_lifetime_value,
)

__version__ = "0.1.0"

__all__ = [
    "BetaGeoModel",
    "ChurnClassifier",
    "ChurnlabError",
    "CleaningPolicy",
    "CleaningReport",
    "ConfigError",
    "ConvergenceWarning",
    "DataQualityWarning",
    "DataValidationError",
    "GammaGammaModel",
    "LoadedTransactions",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "behaviour_features",
    "calibration_holdout_split",
    "customer_lifetime_value",
    "datasets",
    "load_transactions",
    "reasons",
    "retention",
    "rfm_summary",
    "segments",
]
