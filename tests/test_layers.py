"""The import contract (import-linter, ``[tool.importlinter]`` in pyproject.toml) holds,
and it would catch a wrong-way import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from churnlab import config

LINT = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip


def test_the_layers_contract_is_kept() -> None:
    done = _lint(config.PROJECT_ROOT)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 kept, 0 broken" in done.stdout


def test_a_wrong_way_import_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(config.PROJECT_ROOT / "churnlab", tmp_path / "churnlab",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copy(config.PROJECT_ROOT / "pyproject.toml", tmp_path)
    probe = tmp_path / "churnlab" / "features" / "wrong_way.py"
    probe.write_text('"""Features must not import the report layer."""\nimport churnlab.report\n')
    done = _lint(tmp_path)
    assert done.returncode != 0
    assert "churnlab.features.wrong_way -> churnlab.report" in done.stdout
