"""What a report run records, and the two ways it can be stopped from outside.

A run's result, the package versions and the command that repeats it; its own
timeout and a signal (SIGTERM, SIGINT) as exceptions the run turns into a failure.

Shared by :mod:`churnlab.report.runner` and :mod:`churnlab.report.execution`, which
both import it (and not each other in a cycle).
"""

from __future__ import annotations

import contextlib
import shlex
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from churnlab.report.params import ReportConfig

__all__ = [
    "RunInterrupted",
    "RunResult",
    "RunTimeout",
    "package_versions",
    "reproduce_command",
    "signals_as_failures",
]

_VERSIONED = (
    "churnlab", "pandas", "numpy", "scipy", "scikit-learn", "lifetimes", "ibis-framework",
    "duckdb", "matplotlib", "seaborn", "papermill", "nbconvert",
)  # fmt: skip


@dataclass(frozen=True)
class RunResult:
    """Outcome of a successful run.

    Attributes
    ----------
    run_id : str
        The run's id and folder name.
    run_dir : Path
        Folder holding the HTML reports, executed notebooks, manifest and log.
    manifest : dict
        The run's manifest (as written to ``manifest.json``).
    """

    run_id: str
    run_dir: Path
    manifest: dict


def package_versions() -> dict[str, str]:
    """Return Python's and the main packages' versions."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


class RunTimeout(BaseException):
    """Raised inside a run when its whole-run timeout expires."""


def reproduce_command(config: ReportConfig) -> str:
    """Return a ``churnlab report`` command line that repeats a run."""
    params = config.parameters
    words = ["churnlab", "report", "--data-source", params.data_source]
    words += ["--sample-customers", str(params.sample_customers)]
    if config.notebooks:
        words += ["--notebooks", ",".join(config.notebooks)]
    if params.mask_customer_ids:
        words.append("--mask-customer-ids")
    for key in ("observation_end", "time_unit", "random_state"):
        words += ["-p", f"{key}={getattr(params, key)}"]
    for key, value in params.extra.items():
        words += ["-p", f"{key}={value}"]
    for notebook, values in config.notebook_parameters.items():
        words += [w for k, v in values.items() for w in ("-p", f"{notebook}.{k}={v}")]
    for key, value in config.data.items():  # the column mapping and reading options
        flag = "--" + key.replace("_", "-")
        if key == "dayfirst":
            words.append("--dayfirst" if value else "--monthfirst")
        else:
            words += [flag, str(value)]
    return shlex.join(words)


class RunInterrupted(BaseException):
    """Raised inside a run when it receives SIGTERM or SIGINT; the run is recorded as failed."""

    def __init__(self, signum: int) -> None:
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"the run was stopped by {self.signal_name}")


@contextlib.contextmanager
def signals_as_failures() -> Iterator[None]:
    """Turn SIGTERM (``timeout``, ``kill``, schedulers) and SIGINT into :class:`RunInterrupted`.

    So a stopped run ends like a failed one: failed manifest, debug page, index entry,
    one message and a non-zero exit code. Only in the main thread (elsewhere a no-op).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _stop(signum: int, frame: object) -> None:
        raise RunInterrupted(signum)

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
