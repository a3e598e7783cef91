"""The drop reasons and the report that accounts for every input row.

:class:`CleaningReport` is shared by every loader (transactions, customer tables,
churn records): kept rows plus dropped rows per reason equal the input rows.
The rules behind the reasons are in :mod:`churnlab.data.cleaning`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnlab.exceptions import DataValidationError

#: Every drop reason, in the order the rules are applied.
DROP_REASONS: tuple[str, ...] = (
    "missing_customer_id",
    "unparsable_date",
    "future_date",
    "missing_amount",
    "non_finite_amount",
    "duplicate",
    "cancellation",
    "non_product",
    "nonpositive_amount",
    "reversed_purchase",
)

REASON_DESCRIPTIONS: dict[str, str] = {
    "missing_customer_id": "no customer id",
    "unparsable_date": "date missing or not parseable",
    "future_date": "date after the observation end (or in the future)",
    "missing_amount": "amount, quantity or price missing",
    "non_finite_amount": "amount, quantity or price infinite or too large",
    "duplicate": "exact duplicate of an earlier line",
    "cancellation": "cancellation or return",
    "non_product": "non-product line (postage, fees, adjustments)",
    "nonpositive_amount": "zero or negative price or amount",
    "reversed_purchase": ("purchase cancelled in full later (same customer, product and quantity)"),
}


@dataclass(frozen=True)
class CleaningReport:
    """How many input rows were kept, and how many were dropped for each reason.

    Parameters
    ----------
    input_rows : int
        Rows read from the source.
    kept_rows : int
        Rows that passed every rule.
    dropped : dict of str to int
        Rows dropped per reason (one count per reason checked, zeros included).
    policy : str, default "default"
        Name of the :class:`CleaningPolicy` used.
    date_format : str, optional
        The format the date column was read with (e.g. ``"%d/%m/%Y %H:%M"``);
        None when the dates were already datetimes.

    Raises
    ------
    DataValidationError
        If ``kept_rows + sum(dropped.values()) != input_rows``.
    """

    input_rows: int
    kept_rows: int
    dropped: dict[str, int] = field(default_factory=dict)
    policy: str = "default"
    date_format: str | None = None

    def __post_init__(self) -> None:
        total = self.kept_rows + sum(self.dropped.values())
        if total != self.input_rows:
            raise DataValidationError(
                f"CleaningReport does not add up: {self.kept_rows:,} kept + "
                f"{sum(self.dropped.values()):,} dropped = {total:,}, but the input had "
                f"{self.input_rows:,} rows. Every input row must be kept or dropped once."
            )

    @property
    def dropped_rows(self) -> int:
        """int: Total number of dropped rows."""
        return int(sum(self.dropped.values()))

    def to_frame(self) -> pd.DataFrame:
        """Return the accounting as a table.

        Returns
        -------
        pandas.DataFrame
            One row per reason plus ``kept`` and ``input``, with columns ``rows``,
            ``share`` (of the input) and ``description``; indexed by ``reason``.
            ``attrs`` holds ``policy`` and ``date_format``.
        """
        reasons = list(self.dropped)
        rows = [*(self.dropped[r] for r in reasons), self.kept_rows, self.input_rows]
        descriptions = [
            *(REASON_DESCRIPTIONS.get(r, r) for r in reasons),
            "rows kept",
            "rows read",
        ]
        frame = pd.DataFrame(
            {"rows": np.asarray(rows, dtype="int64"), "description": descriptions},
            index=pd.Index([*reasons, "kept", "input"], name="reason"),
        )
        frame.insert(1, "share", frame["rows"] / self.input_rows if self.input_rows else 0.0)
        frame.attrs.update(policy=self.policy, date_format=self.date_format)
        return frame

    def __repr__(self) -> str:
        parts = ", ".join(f"{r}={n:,}" for r, n in self.dropped.items() if n)
        dates = f", date_format={self.date_format!r}" if self.date_format else ""
        return (
            f"CleaningReport(policy={self.policy!r}, input_rows={self.input_rows:,}, "
            f"kept_rows={self.kept_rows:,}, dropped={{{parts}}}{dates})"
        )

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        right = "<td style='text-align:right'>"
        body = "".join(
            f"<tr><td>{html.escape(str(reason))}</td>{right}{row.rows:,}</td>"
            f"{right}{row.share:.1%}</td><td>{html.escape(row.description)}</td></tr>"
            for reason, row in frame.iterrows()
        )
        dates = f"; dates read as {html.escape(self.date_format)}" if self.date_format else ""
        return (
            f"<table class='churnlab-cleaning-report'><caption>Cleaning report "
            f"(policy: {html.escape(self.policy)}{dates})</caption><thead><tr><th>reason</th>"
            f"<th>rows</th><th>share</th><th>description</th></tr></thead><tbody>{body}</tbody></table>"
        )
