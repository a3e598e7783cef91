"""The report pipeline end to end on tiny stand-in notebooks (real papermill kernels)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from churnlab.cli import main
from churnlab.exceptions import ReportExecutionError, ReportLockedError
from churnlab.report import ReportConfig, run_report
from churnlab.report.runner import report_lock

EVIL_ID = "<script>alert(1)</script>"


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def test_run_is_published(published) -> None:
    out = published.run_dir.parent
    assert published.run_dir == out / published.run_id
    assert os.readlink(out / "latest") == published.run_id
    assert published.run_id in (out / "latest.html").read_text()
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")]
    names = {p.name for p in published.run_dir.iterdir()}
    assert {"00-alpha.html", "10-beta.html", "00-alpha.ipynb", "manifest.json", "run.log"} <= names
    assert "index.html" in names


def test_manifest(published) -> None:
    manifest = json.loads((published.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    assert manifest["parameters"]["sample_customers"] == 5
    assert manifest["data"]["online_retail"]["fingerprint"].startswith("sha256:")
    assert {"python", "pandas", "papermill", "nbconvert"} <= set(manifest["versions"])
    assert [n["status"] for n in manifest["notebooks"]] == ["succeeded", "succeeded"]
    assert all(n["seconds"] >= 0 for n in manifest["notebooks"])
    assert manifest["kpis"] == {"customers": 2, "revenue": 3.5}
    assert "--sample-customers 5" in manifest["reproduce"]


def test_stakeholder_html(published) -> None:
    page = (published.run_dir / "00-alpha.html").read_text()
    # data text is escaped: the id renders as text, never as a script
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert EVIL_ID not in page
    assert "b&amp;q" in page
    # raw HTML outputs are defused: no scripts, no event handlers
    assert "<b>bold</b>" in page
    assert "alert(6)" not in page and "onmouseover" not in page
    # code hidden, remove-cell dropped, stderr noise and KPI payload not shown
    assert "record_kpis" not in page
    assert "plt.plot" not in page
    assert "SECRET-REMOVED-CELL" not in page
    assert "NOISE-ON-STDERR" not in page
    assert "vnd.churnlab.kpis" not in page
    # offline single file: figures embedded, no external scripts
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)
    assert not re.search(r"<script[^>]+src=", page)
    # header, table of contents and footer
    assert published.run_id in page
    assert "sha256:" in page and "sample_customers" in page
    toc = re.search(r'<nav class="churnlab-toc".*?</nav>', page, re.S).group(0)
    targets = re.findall(r'href="#([^"]+)"', toc)
    assert len(targets) == 3
    for target in targets:
        assert f'id="{target}"' in page
    assert "How to reproduce this report" in page


def test_index_lists_the_run(published) -> None:
    index = (published.run_dir.parent / "index.html").read_text()
    assert f'href="{published.run_id}/00-alpha.html"' in index
    assert "succeeded" in index and "(latest)" in index
    assert "Revenue: <strong>3.50</strong>" in index  # labelled and formatted


def test_failing_notebook_keeps_last_good_report(
    published, make_notebook, fake_loader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = published.run_dir.parent
    before = _digest(published.run_dir)
    notebooks = tmp_path / "notebooks"
    make_notebook(notebooks, "20-broken", ["# Broken", "x = 1", "raise ValueError('boom')", "2"])
    with pytest.MonkeyPatch.context() as mp:
        fake_loader(mp)
        code = main(
            ["report", "--notebooks-dir", str(notebooks), "--output-dir", str(out), "--no-progress"]
        )
    err = capsys.readouterr().err
    assert code == 4
    assert "notebook '20-broken' failed at cell 5 (In [5]): ValueError: boom" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    # last good report untouched, latest still points at it
    assert _digest(published.run_dir) == before
    assert os.readlink(out / "latest") == published.run_id
    failed = next(out.glob("*-failed"))
    manifest = json.loads((failed / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["error"]["notebook"] == "20-broken"
    assert manifest["error"]["cell"] == 5
    debug = (failed / "20-broken.debug.html").read_text()
    assert "raise" in debug and "boom" in debug and "churnlab-error" in debug
    index = (out / "index.html").read_text()
    assert "status-failed" in index and "(latest)" in index


def test_lock_blocks_a_second_run(
    published, fake_loader, capsys: pytest.CaptureFixture[str]
) -> None:
    out = published.run_dir.parent
    notebooks = published.run_dir.parent.parent / "notebooks"
    config = ReportConfig(notebooks_dir=notebooks, output_dir=out, lock_timeout=0.3, progress=False)
    with pytest.MonkeyPatch.context() as mp:
        fake_loader(mp)
        with report_lock(out, timeout=0):
            with pytest.raises(ReportLockedError, match="another churnlab report run holds"):
                run_report(config)
            code = main(
                [
                    *("report", "--notebooks-dir", str(notebooks)),
                    *("--output-dir", str(out), "--lock-timeout", "0"),
                ]
            )
    assert code == 5
    assert "--lock-timeout" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (
            {"cell_timeout": 2},
            r"cell 3 \(In \[4\]\): the cell ran longer than the per-cell timeout \(2 s",
        ),
        ({"run_timeout": 4}, r"the whole run exceeded its timeout \(4 s, --run-timeout\)"),
    ],
)
def test_timeouts(make_notebook, fake_loader, tmp_path: Path, options: dict, match: str) -> None:
    notebooks = tmp_path / "notebooks"
    make_notebook(notebooks, "30-slow", ["import time\ntime.sleep(60)"])
    config = ReportConfig(
        notebooks_dir=notebooks, output_dir=tmp_path / "out", progress=False, **options
    )
    with pytest.MonkeyPatch.context() as mp:
        fake_loader(mp)
        with pytest.raises(ReportExecutionError, match=match):
            run_report(config)
    assert not (tmp_path / "out" / "latest").exists()


def test_a_subset_run_does_not_become_latest(tmp_path: Path, make_notebook, fake_loader) -> None:
    from churnlab.report import ReportConfig, ReportParameters, run_report

    notebooks = tmp_path / "notebooks"
    make_notebook(notebooks, "00-alpha", ["# Alpha", "1"])
    make_notebook(notebooks, "90-executive-summary", ["# Summary", "2"])
    out = tmp_path / "out"
    config = ReportConfig(
        notebooks_dir=notebooks, output_dir=out, parameters=ReportParameters(), progress=False
    )
    with pytest.MonkeyPatch.context() as mp:
        fake_loader(mp)
        full = run_report(config)
        subset = run_report(replace(config, notebooks=("00",)))
    assert os.readlink(out / "latest") == full.run_id  # latest = latest complete run
    index = (out / "index.html").read_text()
    assert f'href="{full.run_id}/90-executive-summary.html"' in index
    assert "subset (00)" in index and ">full<" in index
    assert subset.manifest["scope"] == "subset"
