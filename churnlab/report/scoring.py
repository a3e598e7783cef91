"""``churnlab score``: the scoring pass's per-customer table for CRM import.

The same table, from the same function (:func:`churnlab.scoring.score`), as
``scores.parquet`` in a report run: P(alive), churn probability, expected purchases,
CLV with interval, revenue at risk, RFM segment, health tier, the top three reasons
and the recommended action.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from churnlab.data.datasets import load_source
from churnlab.data.validation import parse_date
from churnlab.exceptions import ConfigError
from churnlab.report.tables import spreadsheet_safe
from churnlab.scoring import ScoringResult, ScoringSettings, score

__all__ = ["accounting_line", "check_output_path", "score_source", "write_scores"]


def score_source(
    source: str,
    *,
    settings: ScoringSettings,
    sample_customers: int = 0,
    data_options: Mapping[str, Any] | None = None,
) -> ScoringResult:
    """Load a transaction log with its mapping and reading options, and score it.

    Parameters
    ----------
    source : str
        Bundled name ("online_retail", "cdnow") or a path.
    settings : ScoringSettings
        The scoring pass's configuration.
    sample_customers : int, default 0
        Score a random sample of customers; 0 = all.
    data_options : mapping, optional
        :data:`churnlab.config.SOURCE_OPTIONS` (column mapping, ``date_format``, ...).

    Returns
    -------
    ScoringResult
    """
    loaded = load_source(
        source,
        sample_customers=sample_customers,
        random_state=settings.random_state,
        **dict(data_options or {}),
    )
    return score(loaded, settings)


def iso_date(value: str | None, *, data_options: Mapping[str, Any]) -> str:
    """Return ``--observation-end`` as an ISO date, read with the data's date options."""
    if not value:
        return ""
    stamp = parse_date(
        value,
        name="--observation-end",
        date_format=data_options.get("date_format"),
        dayfirst=data_options.get("dayfirst"),
    )
    return stamp.isoformat() if stamp != stamp.normalize() else str(stamp.date())


def accounting_line(result: ScoringResult) -> str:
    """Say how many rows and customers were read, kept and dropped (by reason)."""
    report = result.cleaning
    text = f"{len(result.customers):,} customers scored"
    if report is None:
        return text
    reasons = ", ".join(f"{n:,} {r.replace('_', ' ')}" for r, n in report.dropped.items() if n)
    return (
        f"{report.input_rows:,} rows read, {report.kept_rows:,} kept"
        + (f", {report.dropped_rows:,} dropped ({reasons})" if reasons else "")
        + f"; {text}"
    )


def write_scores(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the scores as Parquet (``.parquet``) or CSV (``.csv``).

    CSV text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
    ``@``, tab, carriage return first) get a leading ``'`` (see
    :func:`churnlab.report.tables.spreadsheet_safe`); Parquet keeps exact values.

    Parameters
    ----------
    table : pandas.DataFrame
        ``ScoringResult.customers``.
    path : str or Path
        Destination; its folder must exist.

    Returns
    -------
    Path

    Raises
    ------
    ConfigError
        For another extension, a missing folder or a folder that cannot be written.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet":
            table.to_parquet(path)
        else:
            spreadsheet_safe(table).to_csv(path, float_format="%.4f")
    except OSError as exc:
        raise ConfigError(
            f"-o {str(path)!r} cannot be written ({exc.strerror or exc}). Choose a file in a "
            "folder you can write to, on a disk with free space."
        ) from None
    return path


def check_output_path(path: str | Path, *, source: str | None = None) -> Path:
    """Check a scores destination before any work is done.

    Parameters
    ----------
    path : str or Path
        Destination file.
    source : str, optional
        The input; writing over it is refused.

    Returns
    -------
    Path

    Raises
    ------
    ConfigError
        For an extension other than .parquet/.csv, a missing or read-only folder, or
        the input file itself.
    """
    path = Path(path)
    if path.suffix.lower() not in {".parquet", ".csv"}:
        raise ConfigError(
            f"-o {str(path)!r}: use a .parquet or .csv file name for the scores table."
        )
    if not path.parent.is_dir():
        raise ConfigError(f"-o {str(path)!r}: folder {str(path.parent)!r} does not exist.")
    if path.is_dir():
        raise ConfigError(f"-o {str(path)!r} is a folder; give a file name such as scores.csv.")
    if source and Path(source).exists() and path.resolve() == Path(source).resolve():
        raise ConfigError(
            f"-o {str(path)!r} is the input file; choose another name so the data is not "
            "overwritten."
        )
    existed = path.exists()
    try:  # find out now, not after scoring, that the file cannot be written
        with path.open("ab"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"-o {str(path)!r} cannot be written ({exc.strerror or exc}). Choose a file in a "
            "folder you can write to."
        ) from None
    if not existed:
        path.unlink()
    return path
