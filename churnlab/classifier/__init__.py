"""The supervised churn model: a calibrated scikit-learn pipeline on behaviour features.

:mod:`~churnlab.classifier.pipeline` (``ChurnClassifier``, ``churn_labels``),
:mod:`~churnlab.classifier.model_features` (purchase-model outputs as features),
:mod:`~churnlab.classifier.backtest` (time-split backtests, scoring today),
:mod:`~churnlab.classifier.drivers` (overall and per-customer reasons) and
:mod:`~churnlab.classifier.metrics` (ROC/PR AUC, Brier, calibration, lift).
"""

from churnlab.classifier.backtest import backtest, backtest_cutoffs, score_customers
from churnlab.classifier.drivers import customer_reasons, permutation_drivers
from churnlab.classifier.metrics import evaluate_churn_scores
from churnlab.classifier.pipeline import ChurnClassifier, churn_labels

__all__ = [
    "ChurnClassifier",
    "backtest",
    "backtest_cutoffs",
    "churn_labels",
    "customer_reasons",
    "evaluate_churn_scores",
    "permutation_drivers",
    "score_customers",
]
