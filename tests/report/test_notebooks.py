"""Every notebook in notebooks/: committed clean, and runs end to end on a small sample.

Each notebook is run through the real report pipeline (``churnlab report
--notebooks NN``): papermill injects only the parameters the notebook declares
(checked with ``papermill.inspect_notebook``), with ``sample_customers=300``.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest

from churnlab import config

NOTEBOOKS = sorted(config.NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))
MAX_STATEMENTS = 15


def _statements(tree: ast.AST) -> int:
    """Statements in a cell (a call formatted over several lines counts once)."""
    return sum(isinstance(node, ast.stmt) for node in ast.walk(tree))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, f"no notebooks in {config.NOTEBOOKS_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        assert not cell.get("outputs"), f"{path.name}: outputs committed in {cell.source[:40]!r}"
        assert cell.get("execution_count") is None, f"{path.name}: execution count committed"
        tree = ast.parse(cell.source)
        defined = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert not defined, (
            f"{path.name}: `def`/`class` belongs in the package: {cell.source[:60]!r}"
        )
        assert _statements(tree) <= MAX_STATEMENTS, (
            f"{path.name}: cell has more than {MAX_STATEMENTS} statements: {cell.source[:60]!r}"
        )
    first, second = nb.cells[0], nb.cells[1]
    assert first.cell_type == "code"
    assert all(isinstance(n, ast.Import | ast.ImportFrom) for n in ast.parse(first.source).body), (
        f"{path.name}: cell 1 must hold imports only"
    )
    assert "parameters" in second.metadata.get("tags", []), f"{path.name}: cell 2 not tagged"
    names = []
    for node in ast.parse(second.source).body:
        assert isinstance(node, ast.Assign | ast.AnnAssign), f"{path.name}: cell 2 holds logic"
        ast.literal_eval(node.value)  # only literals
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        names.append(target.id)
    assert {"data_source", "sample_customers"} <= set(names)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_the_report(path: Path, full_runs) -> None:
    run_dir = full_runs.run_dir(0)
    page = (run_dir / f"{path.stem}.html").read_text(encoding="utf-8")
    assert "churnlab-header" in page
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    injected = manifest["notebook_parameters"][path.stem]
    assert injected["sample_customers"] == 300
    assert "run_dir" not in injected or injected["run_dir"].endswith(f".tmp-{run_dir.name}")
