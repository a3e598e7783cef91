"""The report pipeline end to end on tiny stand-in notebooks (real papermill kernels)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from churnlab.cli import main
from churnlab.exceptions import ReportExecutionError, ReportLockedError
from churnlab.report import ReportConfig, ReportParameters, run_report
from churnlab.report.runner import report_lock

from .conftest import write_notebook  # noqa: F401  (documentation of the helper)

ALPHA_CELLS = [
    "# Alpha report\n\nIntro text.",
    "## Customers",
    "pd.DataFrame({'customer_id': ['<script>alert(1)</script>', 'b&q'], 'amount': [1.5, 2.0]})",
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()",
    "print('SECRET-REMOVED-CELL')",
    "import sys\nprint('NOISE-ON-STDERR', file=sys.stderr)",
    "## Headline numbers",
    "from churnlab.report import record_kpis\nrecord_kpis(customers=2, revenue=3.5, label='ok')",
]


def _fake_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    from churnlab.report import runner

    def load(source, *, snapshot=False, sample_customers=0, random_state=0):
        return pd.DataFrame({"customer_id": ["a"], "amount": [1.0]})

    monkeypatch.setattr(runner, "load_data", load)


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory):
    """One successful run of two tiny notebooks; shared by the tests below."""
    from tests_report_helpers import write as _write  # type: ignore[import-not-found]

    raise AssertionError(_write)  # pragma: no cover


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("report")
    notebooks = root / "notebooks"
    from tests.report.conftest import write_notebook as write  # noqa: F811

    write(notebooks, "00-alpha", ALPHA_CELLS, tags={4: ["remove-cell"]})
    write(notebooks, "10-beta", ["# Beta\n\nNothing much.", "1 + 1"])
    config = ReportConfig(
        notebooks_dir=notebooks,
        output_dir=root / "reports",
        parameters=ReportParameters(sample_customers=5),
        progress=False,
    )
    with pytest.MonkeyPatch.context() as mp:
        _fake_loader(mp)
        result = run_report(config)
    return result
