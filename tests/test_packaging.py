"""The conda environment mirrors pyproject.toml, the source of truth for dependencies."""

from __future__ import annotations

import re
import tomllib

import yaml

from churnlab.config import PROJECT_ROOT


def _normalise(requirement: str) -> tuple[str, str]:
    """Split ``"ibis-framework[duckdb]>=10"`` into ``("ibis-framework[duckdb]", ">=10")``."""
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*(.*)$", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(_normalise(r) for r in requirements)


def _environment_requirements() -> dict[str, str]:
    environment = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    conda, pip = [], []
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip.extend(p for p in entry["pip"] if not p.startswith("-e"))
        elif not entry.startswith(("python=", "pip")) or entry.startswith("pip-"):
            conda.append(entry)
    return dict(_normalise(r) for r in conda + pip)


def test_environment_yml_lists_the_same_packages_as_pyproject() -> None:
    assert _environment_requirements() == _pyproject_requirements()


def test_spark_extra_is_part_of_the_dev_tools() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(extras["spark"]) <= set(extras["dev"])
