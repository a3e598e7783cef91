"""Per-customer features: RFM summaries and point-in-time behaviour features."""

from churnlab.features.behaviour import behaviour_features
from churnlab.features.behaviour_transformer import BehaviourFeatures
from churnlab.features.discrete import discrete_summary
from churnlab.features.rfm import calibration_holdout_split, rfm_summary
from churnlab.features.snapshot import snapshot_features

__all__ = [
    "BehaviourFeatures",
    "behaviour_features",
    "calibration_holdout_split",
    "discrete_summary",
    "rfm_summary",
    "snapshot_features",
]
