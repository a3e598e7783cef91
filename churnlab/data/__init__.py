"""Loading, validating and cleaning data: every input row is kept or dropped with a reason."""

from __future__ import annotations

from churnlab.data.cleaning import DROP_REASONS, CleaningPolicy, CleaningReport
from churnlab.data.customers import LoadedCustomers, load_customers
from churnlab.data.io import LoadedTransactions, load_transactions
from churnlab.data.options import source_options
from churnlab.data.readers import read_source
from churnlab.data.tables import load_table
from churnlab.data.validation import format_examples, require_columns

__all__ = [
    "DROP_REASONS",
    "CleaningPolicy",
    "CleaningReport",
    "LoadedCustomers",
    "LoadedTransactions",
    "format_examples",
    "load_customers",
    "load_table",
    "load_transactions",
    "read_source",
    "require_columns",
    "source_options",
]
