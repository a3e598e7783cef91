"""Churn-reason analysis: why customers leave, what it costs, and what can be done.

Load exit-survey or cancellation records (:func:`load_churn_reasons`), build one
record per churned customer (:func:`churn_record`), then analyse the reason mix
with confidence intervals, tests by customer group, value lost, addressable
share, engagement before churn and free-text themes, and summarise it for
stakeholders (:func:`reason_summary`, :func:`recommendations`).
"""

from churnlab.reasons.addressable import addressable_mapping, is_addressable
from churnlab.reasons.analysis import (
    DEFAULT_FACTORS,
    addressable_share,
    reason_associations,
    reason_crosstab,
    reason_differences,
    reason_distribution,
    value_lost_by_reason,
)
from churnlab.reasons.build import RECORD_FIELDS, TELCO_COLUMNS, TELCO_EXTRA, churn_record
from churnlab.reasons.drivers import driver_reasons, evidence_note
from churnlab.reasons.engagement import (
    engagement_by_reason,
    engagement_trajectories,
    period_activity,
    usage_by_band,
)
from churnlab.reasons.memo import (
    addressable_text,
    comment_overview,
    engagement_overview,
    headline,
)
from churnlab.reasons.records import (
    UNKNOWN_REASON,
    LoadedReasons,
    join_reasons,
    load_churn_reasons,
)
from churnlab.reasons.sources import ReasonRecords, records_for_source
from churnlab.reasons.stats import (
    AssociationTest,
    adjust_pvalues,
    adjusted_residuals,
    association_test,
    cramers_v,
    wilson_interval,
)
from churnlab.reasons.summary import reason_summary, recommendations
from churnlab.reasons.text import CommentThemes, comment_themes, map_comments_to_categories

__all__ = [
    "DEFAULT_FACTORS",
    "RECORD_FIELDS",
    "TELCO_COLUMNS",
    "TELCO_EXTRA",
    "UNKNOWN_REASON",
    "AssociationTest",
    "CommentThemes",
    "LoadedReasons",
    "ReasonRecords",
    "addressable_mapping",
    "addressable_share",
    "addressable_text",
    "adjust_pvalues",
    "adjusted_residuals",
    "association_test",
    "churn_record",
    "comment_overview",
    "comment_themes",
    "cramers_v",
    "driver_reasons",
    "engagement_by_reason",
    "engagement_overview",
    "engagement_trajectories",
    "evidence_note",
    "headline",
    "is_addressable",
    "join_reasons",
    "load_churn_reasons",
    "map_comments_to_categories",
    "period_activity",
    "reason_associations",
    "reason_crosstab",
    "reason_differences",
    "reason_distribution",
    "reason_summary",
    "recommendations",
    "records_for_source",
    "usage_by_band",
    "value_lost_by_reason",
    "wilson_interval",
]
