"""The report pipeline: papermill runner, HTML export, index page and run manifest.

``run_report(ReportConfig(...))`` is what ``churnlab report`` calls;
``record_kpis`` is what notebooks call to put headline numbers on the index.
The runner is imported lazily, so notebooks importing ``record_kpis`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from churnlab.report.kpis import record_kpis
from churnlab.report.params import ReportConfig, ReportParameters, load_config_file

if TYPE_CHECKING:
    from churnlab.report.runner import RunResult, run_report

__all__ = [
    "ReportConfig",
    "ReportParameters",
    "RunResult",
    "load_config_file",
    "record_kpis",
    "run_report",
]


def __getattr__(name: str) -> object:
    if name in {"RunResult", "run_report"}:
        from churnlab.report import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'churnlab.report' has no attribute {name!r}")
