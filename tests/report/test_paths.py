"""A relative data path is resolved once, so the page, the manifest and the check agree."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnlab import config
from churnlab.report.params import ReportConfig, ReportParameters


def _log(path: Path, customers: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = [
        (f"c{c}", pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(d)), 10.0 + c)
        for c in range(customers)
        for d in rng.integers(0, 300, size=3)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).to_csv(path, index=False)


def test_relative_sources_become_absolute(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = ReportConfig(
        parameters=ReportParameters(data_source="t/base.csv", extra={"reasons_source": "r.csv"}),
        notebook_parameters={"40": {"reasons_source": "x/r.csv", "top_n": 3}},
    )
    assert run.parameters.data_source == str(tmp_path / "t" / "base.csv")
    assert run.parameters.extra["reasons_source"] == str(tmp_path / "r.csv")
    assert run.notebook_parameters["40"] == {
        "reasons_source": str(tmp_path / "x/r.csv"),
        "top_n": 3,
    }
    assert ReportParameters(data_source="cdnow").data_source == "cdnow"


@pytest.mark.slow
def test_relative_path_from_another_folder_reads_the_validated_file(tmp_path: Path) -> None:
    # The user's file has 60 customers; a same-named decoy beside the notebooks has 20.
    work = tmp_path / "work"
    _log(work / "t" / "base.csv", 60, seed=1)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(config.NOTEBOOKS_DIR / "00-data-quality.ipynb", notebooks)
    _log(notebooks / "t" / "base.csv", 20, seed=2)
    completed = subprocess.run(
        [sys.executable, "-m", "churnlab.cli", "report", "--data-source", "t/base.csv",
         "--notebooks", "00", "--notebooks-dir", str(notebooks),
         "--output-dir", str(tmp_path / "reports"), "--no-progress"],
        cwd=work, capture_output=True, text=True, timeout=600,
        env={**os.environ, "CHURNLAB_DEBUG": ""},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    run_dir = next(p for p in (tmp_path / "reports").iterdir() if p.name[:2] == "20")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    facts = next(iter(manifest["data"].values()))
    assert facts["customers"] == 60
    assert facts["file_sha256"].startswith("sha256:")
    page = (run_dir / "00-data-quality.html").read_text(encoding="utf-8")
    assert re.search(r"\b60\b", page) and not re.search(r"\b20 customers\b", page)
    assert manifest["kpis"]["customers"] == 60
