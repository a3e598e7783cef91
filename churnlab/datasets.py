"""Bundled sample datasets: ``load_online_retail``, ``load_telco``, ``load_cdnow``, ``load_source``.

A thin public module; the implementation lives in :mod:`churnlab.data.datasets`.
Provenance, terms and quirks of the bundled files are in ``data/README.md``.
"""

from __future__ import annotations

from churnlab.data.datasets import (
    TRANSACTION_SOURCES,
    load_cdnow,
    load_online_retail,
    load_source,
    load_telco,
)

__all__ = [
    "TRANSACTION_SOURCES",
    "load_cdnow",
    "load_online_retail",
    "load_source",
    "load_telco",
]
