"""Find the notebooks of a run and check their parameters before anything runs.

Each notebook's declared parameters are read with ``papermill.inspect_notebook``
and every value the run would inject is checked against them: a parameter no
selected notebook declares, or a value whose type differs from the declared
default, is a :class:`ConfigError` naming it.
"""

from __future__ import annotations

import ast
import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from churnlab.exceptions import ConfigError
from churnlab.report.params import RUN_LEVEL_PARAMETERS, ReportConfig, check_range

__all__ = ["NotebookPlan", "discover_notebooks", "inspect_parameters", "plan_run"]

_NOTEBOOK_NAME = re.compile(r"^(\d\d)-[\w.-]+\.ipynb$")
#: Parameters every notebook must declare (team contract).
REQUIRED_PARAMETERS = ("data_source", "sample_customers")
#: Parameters the runner fills in itself, for notebooks that declare them.
RUNNER_PARAMETERS = ("run_id", "previous_kpis", "run_dir")
_MISSING = object()


@dataclass(frozen=True)
class NotebookPlan:
    """One notebook of a run and the parameters it will receive.

    Attributes
    ----------
    name : str
        Stem of the notebook file, e.g. ``"00-data-quality"``.
    path : Path
        The input notebook.
    parameters : dict
        Values papermill injects (only parameters the notebook declares).
    declared : dict
        Declared parameters and their default values (``None`` when not a literal).
    data_source : str
        The data source the notebook will use (injected or its default).
    """

    name: str
    path: Path
    parameters: dict[str, object]
    declared: dict[str, object]
    data_source: str

    @property
    def number(self) -> str:
        """The two-digit notebook number, e.g. ``"00"``."""
        return self.name[:2]


def discover_notebooks(notebooks_dir: Path) -> list[Path]:
    """Return the ``NN-topic.ipynb`` notebooks of a folder, sorted by number.

    Parameters
    ----------
    notebooks_dir : Path
        Folder to scan.

    Returns
    -------
    list of Path

    Raises
    ------
    ConfigError
        If the folder does not exist or holds no notebooks.
    """
    if not notebooks_dir.is_dir():
        raise ConfigError(
            f"notebooks folder {str(notebooks_dir)!r} does not exist. Pass --notebooks-dir "
            "or set CHURNLAB_NOTEBOOKS_DIR."
        )
    found = sorted(p for p in notebooks_dir.iterdir() if _NOTEBOOK_NAME.match(p.name))
    if not found:
        raise ConfigError(
            f"notebooks folder {str(notebooks_dir)!r} holds no NN-topic.ipynb notebooks."
        )
    return found


def inspect_parameters(path: Path, *, kernel_name: str = "python3") -> dict[str, object]:
    """Return the parameters a notebook declares, with their default values.

    Parameters
    ----------
    path : Path
        The notebook.
    kernel_name : str, default "python3"
        Kernel assumed when the notebook names none.

    Returns
    -------
    dict
        Parameter name -> default value (a Python literal), or ``None`` when the
        default is not a literal.

    Raises
    ------
    ConfigError
        If the notebook cannot be read or has no cell tagged "parameters".
    """
    import papermill

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        raise ConfigError(f"notebook {path.name!r} cannot be read: {exc}") from exc
    if not any("parameters" in c.metadata.get("tags", []) for c in nb.cells):
        raise ConfigError(
            f"notebook {path.name!r} has no cell tagged 'parameters'; tag cell 2 "
            "'parameters' so the report can pass data_source and sample_customers."
        )
    if not nb.metadata.get("kernelspec", {}).get("name"):
        nb.metadata["kernelspec"] = {"name": kernel_name, "display_name": kernel_name}
    nb.metadata["kernelspec"].setdefault("language", "python")
    papermill_log = logging.getLogger("papermill")
    level = papermill_log.level
    papermill_log.setLevel(logging.ERROR)  # its parser warns about comments holding "="
    try:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / path.name
            nbformat.write(nb, copy)
            inspected = papermill.inspect_notebook(str(copy))
    finally:
        papermill_log.setLevel(level)
    declared: dict[str, object] = {}
    for name, info in inspected.items():
        try:
            declared[name] = ast.literal_eval(str(info.get("default")))
        except (ValueError, SyntaxError):
            declared[name] = None
    # papermill's line parser skips e.g. `x = 0  # 0 = all`; the cell's syntax tree does not.
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for name, value in _literal_assignments(cell.source).items():
        declared.setdefault(name, value)
    return declared


def _literal_assignments(source: str) -> dict[str, object]:
    """Return ``name = literal`` assignments at the top level of a cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                found[target.id] = None
    return found


#: Sub-folder of ``notebooks_dir`` with the pages of a subscription run.
CONTRACTUAL_DIR = "contractual"
#: The churn-reason page, added to a subscription run that names its ``reasons_source``.
REASONS_PAGE = "40"


def run_notebooks(config: ReportConfig) -> list[Path]:
    """Return the notebooks a run can select from, by the kind of its data.

    A transaction log runs ``notebooks_dir/NN-*.ipynb``. A customer table
    (``[data] kind = "subscriptions"``) runs the contractual pages in
    ``notebooks_dir/contractual``, plus the churn-reason page 40 when the run gives it
    a ``reasons_source`` (``-p 40.reasons_source=telco``, as ``--preset telco`` does).

    Parameters
    ----------
    config : ReportConfig
        The validated run config.

    Returns
    -------
    list of Path
        In page order (by number).

    Raises
    ------
    ConfigError
        If a folder holds no notebooks, or the reasons page is asked for on a customer
        table other than the bundled Telco one (its stated reasons are read from Telco).
    """
    if config.kind != "subscriptions":
        return discover_notebooks(config.notebooks_dir)
    paths = discover_notebooks(config.notebooks_dir / CONTRACTUAL_DIR)
    reasons = [
        p
        for p in discover_notebooks(config.notebooks_dir)
        if p.stem[:2] == REASONS_PAGE
        and any(
            "reasons_source" in config.notebook_parameters.get(key, {})
            for key in (p.stem[:2], p.stem)
        )
    ]
    if reasons and config.parameters.data_source != "telco":
        raise ConfigError(
            f"the churn-reason page {reasons[0].stem!r} reads stated reasons next to the "
            "bundled Telco table only; on another customer table leave out "
            "-p 40.reasons_source=... (the contractual pages run without it)."
        )
    return sorted(paths + reasons, key=lambda p: p.name)


def _select(paths: list[Path], wanted: tuple[str, ...]) -> list[Path]:
    if not wanted:
        return paths
    by_key = {p.stem[:2]: p for p in paths} | {p.stem: p for p in paths}
    unknown = [w for w in wanted if w not in by_key]
    if unknown:
        raise ConfigError(
            f"--notebooks: no notebook {', '.join(repr(u) for u in unknown)}. "
            f"Available: {', '.join(p.stem for p in paths)}."
        )
    chosen = {by_key[w] for w in wanted}
    return [p for p in paths if p in chosen]


def _check_value(notebook: str, name: str, value: object, default: object) -> object:
    if default is None or value is None:
        return value
    expected = type(default)
    if expected is float and type(value) is int:
        return float(value)
    if type(value) is not expected:
        raise ConfigError(
            f"notebook {notebook!r}: parameter '{name}' must be {expected.__name__} like its "
            f"default {default!r}, got {type(value).__name__} {value!r}."
        )
    check_range(name, value, where=f"notebook {notebook!r}")
    return value


def _check_kernel(name: str) -> None:
    """Raise :class:`ConfigError` if no Jupyter kernel of that name is installed."""
    from jupyter_client.kernelspec import KernelSpecManager

    known = sorted(KernelSpecManager().find_kernel_specs())
    if name not in known:
        raise ConfigError(
            f"report config: kernel_name {name!r} is not an installed Jupyter kernel. "
            f"Installed: {', '.join(known) or 'none'}. Use one of them (default 'python3')."
        )


def plan_run(
    config: ReportConfig, *, runner_values: dict[str, object] | None = None
) -> list[NotebookPlan]:
    """Check the run's parameters against every selected notebook and plan the run.

    The common parameters go to each notebook that declares them: every notebook
    of a run reads the run's one data source; per-notebook parameters come last.

    Parameters
    ----------
    config : ReportConfig
        The validated run config.
    runner_values : dict, optional
        Values of runner-provided parameters (``run_id``, ``previous_kpis``).

    Returns
    -------
    list of NotebookPlan
        In notebook order.

    Raises
    ------
    ConfigError
        Naming the notebook and the parameter that is unknown, missing or mistyped.
    """
    _check_kernel(config.kernel_name)
    paths = _select(run_notebooks(config), config.notebooks)
    runner_values = runner_values or {}
    per_notebook = dict(config.notebook_parameters)
    known_keys = {p.stem[:2] for p in paths} | {p.stem for p in paths}
    stray = [k for k in per_notebook if k not in known_keys]
    if stray:
        raise ConfigError(
            f"notebook_parameters: {', '.join(repr(s) for s in stray)} is not a selected "
            f"notebook. Selected: {', '.join(p.stem for p in paths)}."
        )
    common = config.parameters.common()
    extra = dict(config.parameters.extra)
    unused_extra = set(extra) - RUN_LEVEL_PARAMETERS
    plans = []
    for path in paths:
        declared = inspect_parameters(path, kernel_name=config.kernel_name)
        missing = [p for p in REQUIRED_PARAMETERS if p not in declared]
        if missing:
            raise ConfigError(
                f"notebook {path.stem!r} does not declare {', '.join(repr(m) for m in missing)} "
                "in its parameters cell; every notebook must accept data_source and "
                "sample_customers."
            )
        own = {**per_notebook.get(path.stem[:2], {}), **per_notebook.get(path.stem, {})}
        run_level = sorted(set(own) & RUN_LEVEL_PARAMETERS)
        if run_level:
            raise ConfigError(
                f"notebook {path.stem!r}: {', '.join(repr(r) for r in run_level)} can only be "
                "set for the whole run (every page shows the one scoring pass), e.g. "
                f"-p {run_level[0]}=... instead of -p {path.stem[:2]}.{run_level[0]}=...; for "
                "another data source, run another report (churnlab report --preset telco)."
            )
        undeclared = [k for k in own if k not in declared]
        if undeclared:
            raise ConfigError(
                f"notebook {path.stem!r} does not declare parameter(s) "
                f"{', '.join(repr(u) for u in undeclared)}. Declared: "
                f"{', '.join(sorted(declared))}."
            )
        values: dict[str, object] = {}
        for name, value in {**common, **extra}.items():
            if name not in declared:
                continue
            values[name] = value
            unused_extra.discard(name)
        values.update(own)
        values.update({k: v for k, v in runner_values.items() if k in declared})
        checked = {k: _check_value(path.stem, k, v, declared[k]) for k, v in values.items()}
        source = checked.get("data_source", declared["data_source"])
        plans.append(NotebookPlan(path.stem, path, checked, declared, str(source)))
    if unused_extra:
        raise ConfigError(
            f"parameter(s) {', '.join(repr(u) for u in sorted(unused_extra))} are not declared "
            f"by any selected notebook ({', '.join(p.stem for p in paths)}). Check the "
            "spelling; common parameters are data_source, sample_customers, observation_end, "
            "time_unit, random_state and mask_customer_ids."
        )
    return plans
