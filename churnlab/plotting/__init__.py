"""Figures for notebooks and reports: ``plot_<thing>(data_or_model, *, ax=None, **kwargs) -> Axes``.

Only this package imports matplotlib and seaborn. No function calls ``show()`` or saves a file.
"""

from churnlab.plotting.churn import (
    plot_calibration,
    plot_churn_drivers,
    plot_gains,
    plot_lift,
)
from churnlab.plotting.comparison import plot_model_comparison
from churnlab.plotting.exposure import plot_customer_exposure
from churnlab.plotting.models import (
    plot_calibration_holdout,
    plot_clv_distribution,
    plot_frequency_recency_matrix,
    plot_probability_alive_history,
    plot_probability_alive_matrix,
    plot_repeat_histogram,
    plot_tracking,
)
from churnlab.plotting.quality import (
    plot_cleaning_report,
    plot_date_coverage,
    plot_monthly_activity,
    plot_order_values,
    plot_repeat_purchases,
    plot_rfm_overview,
)
from churnlab.plotting.reasons import (
    plot_engagement_before_churn,
    plot_reason_distribution,
    plot_reason_mix,
    plot_value_lost_by_reason,
)
from churnlab.plotting.segments import (
    plot_cluster_profiles,
    plot_cohort_heatmap,
    plot_health_tiers,
    plot_segment_sizes,
    plot_value_loyalty_grid,
)

__all__ = [
    "plot_calibration",
    "plot_calibration_holdout",
    "plot_churn_drivers",
    "plot_cleaning_report",
    "plot_cluster_profiles",
    "plot_clv_distribution",
    "plot_cohort_heatmap",
    "plot_customer_exposure",
    "plot_date_coverage",
    "plot_engagement_before_churn",
    "plot_frequency_recency_matrix",
    "plot_gains",
    "plot_health_tiers",
    "plot_lift",
    "plot_model_comparison",
    "plot_monthly_activity",
    "plot_order_values",
    "plot_probability_alive_history",
    "plot_probability_alive_matrix",
    "plot_reason_distribution",
    "plot_reason_mix",
    "plot_repeat_histogram",
    "plot_repeat_purchases",
    "plot_rfm_overview",
    "plot_segment_sizes",
    "plot_tracking",
    "plot_value_lost_by_reason",
    "plot_value_loyalty_grid",
]
