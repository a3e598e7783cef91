"""``churnlab score``: the per-customer table for CRM import.

One row per customer: P(alive), churn probability, expected purchases, CLV,
revenue at risk, RFM segment, health tier and the top three reasons behind the
churn score (see :func:`churnlab.report.summary.score_base`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from churnlab.exceptions import ConfigError
from churnlab.report.tables import spreadsheet_safe

__all__ = ["check_output_path", "scores_table", "write_scores"]


def scores_table(
    source: str,
    *,
    time_unit: str = "W",
    horizon: int = 12,
    churn_horizon_months: float = 3,
    observation_end: str | None = None,
    sample_customers: int = 0,
    random_state: int = 42,
) -> pd.DataFrame:
    """Load a transaction log and score every customer.

    Parameters
    ----------
    source : str
        Bundled name ("online_retail", "cdnow") or a path with canonical columns.
    time_unit : {"D", "W", "M"}, default "W"
        Unit of the RFM summary and the models.
    horizon : int, default 12
        CLV horizon in months.
    churn_horizon_months : float, default 3
        Churned = no purchase within this many months.
    observation_end : str, optional
        ISO date of "now"; default the last purchase date.
    sample_customers : int, default 0
        Score a random sample of customers; 0 = all.
    random_state : int, default 42
        Seed of the sample and the classifier.

    Returns
    -------
    pandas.DataFrame
        Index customer_id; ``p_alive``, ``churn_probability``, ``expected_purchases``,
        ``clv``, ``revenue_at_risk``, ``segment``, ``health_tier``, ``reason_1``..``reason_3``;
        categorical columns as strings.
    """
    from churnlab import datasets
    from churnlab.report.summary import score_base

    loaded = datasets.load_source(
        source, sample_customers=sample_customers, random_state=random_state
    )
    base = score_base(
        loaded.data,
        observation_end=observation_end,
        time_unit=time_unit,
        churn_horizon_months=churn_horizon_months,
        clv_horizon_months=horizon,
        reasons="all",
        random_state=random_state,
    )
    table = base.scores.copy()
    for column in ("segment", "health_tier", "reason_1", "reason_2", "reason_3"):
        if column in table:
            table[column] = table[column].astype("string")
    return table


def write_scores(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the scores as Parquet (``.parquet``) or CSV (``.csv``).

    CSV text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
    ``@``, tab, carriage return first) get a leading ``'`` (see
    :func:`churnlab.report.tables.spreadsheet_safe`); Parquet keeps exact values.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`scores_table`.
    path : str or Path
        Destination; its folder must exist.

    Returns
    -------
    Path

    Raises
    ------
    ConfigError
        For another extension or a missing folder.
    """
    path = check_output_path(path)
    if path.suffix.lower() == ".parquet":
        table.to_parquet(path)
    else:
        spreadsheet_safe(table).to_csv(path)
    return path


def check_output_path(path: str | Path) -> Path:
    """Check a scores destination before any work is done.

    Parameters
    ----------
    path : str or Path
        Destination file.

    Returns
    -------
    Path

    Raises
    ------
    ConfigError
        For an extension other than .parquet/.csv or a missing folder.
    """
    path = Path(path)
    if path.suffix.lower() not in {".parquet", ".csv"}:
        raise ConfigError(
            f"-o {str(path)!r}: use a .parquet or .csv file name for the scores table."
        )
    if not path.parent.is_dir():
        raise ConfigError(f"-o {str(path)!r}: folder {str(path.parent)!r} does not exist.")
    return path
