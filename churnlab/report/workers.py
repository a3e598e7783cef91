"""Running notebooks with papermill: one at a time, or several at once in child processes.

:func:`execute_notebook` runs one planned notebook in the calling process;
:func:`run_in_parallel` runs several, each in its own child process (so a failed,
timed-out or interrupted run can stop them at once: a Jupyter kernel exits when its
parent process does). :func:`describe_failure` turns any failure into the one-line
message the run reports.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat

from churnlab.report.notebooks import NotebookPlan
from churnlab.report.params import ReportConfig
from churnlab.report.run_info import RunInterrupted, RunTimeout

__all__ = [
    "NotebookFailure",
    "describe_failure",
    "disarm_run_timer",
    "execute_notebook",
    "inline_figures",
    "run_in_parallel",
]

_HELPER_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


class NotebookFailure(Exception):
    """A notebook failed: the run's one-line message, and where (cell, execution count)."""

    def __init__(self, message: str, *, cell: int | None, execution_count: int | None) -> None:
        super().__init__(message)
        self.cell = cell
        self.execution_count = execution_count


def _failed_cell(executed: Path, source_text: str | None) -> tuple[int | None, int | None]:
    """Return (1-based cell number in the source notebook, execution count) of the failure."""
    if not executed.exists():
        return None, None
    nb = nbformat.read(executed, as_version=4)
    position, candidate = 0, (None, None)
    for cell in nb.cells:
        if set(cell.metadata.get("tags", [])) & _HELPER_TAGS:
            continue
        position += 1
        meta = cell.metadata.get("papermill", {})
        if source_text is not None and cell.cell_type == "code" and cell.source == source_text:
            return position, cell.get("execution_count")
        if meta.get("status") == "failed":
            return position, cell.get("execution_count")
        if meta.get("start_time"):
            candidate = (position, cell.get("execution_count"))
    return candidate


def describe_failure(
    exc: BaseException,
    plan: NotebookPlan,
    executed: Path,
    config: ReportConfig,
    deadline: float | None,
) -> NotebookFailure:
    """Turn any failure of ``plan`` into the run's one-line message, naming the cell."""
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    source = exc.source if isinstance(exc, PapermillExecutionError) else None
    cell, count = _failed_cell(executed, source)
    where = f"cell {cell}" if cell else "an unknown cell"
    if count:
        where += f" (In [{count}])"
    if isinstance(exc, PapermillExecutionError):
        detail = (str(exc.evalue).strip().splitlines() or [""])[0][:300]
        reason = f"{exc.ename}: {detail}"
    elif isinstance(exc, RunTimeout) or (
        isinstance(exc, CellTimeoutError)
        and deadline is not None
        and time.monotonic() >= deadline - 1
    ):
        reason = f"the whole run exceeded its timeout ({config.run_timeout:g} s, --run-timeout)"
    elif isinstance(exc, RunInterrupted):
        reason = str(exc)
    elif isinstance(exc, CellTimeoutError):
        limit = f"{config.cell_timeout:g} s, --cell-timeout"
        reason = f"the cell ran longer than the per-cell timeout ({limit})"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return NotebookFailure(
        f"notebook '{plan.name}' failed at {where}: {reason}", cell=cell, execution_count=count
    )


def disarm_run_timer() -> None:
    """Cancel the run's SIGALRM timer (only the main thread owns it)."""
    if threading.current_thread() is threading.main_thread():
        signal.setitimer(signal.ITIMER_REAL, 0)


def execute_notebook(
    plan: NotebookPlan,
    executed: Path,
    config: ReportConfig,
    deadline: float | None,
    console: object,
    sockets: str | None = None,
) -> None:
    """Run one notebook with papermill into ``executed``, within the run's deadline.

    ``console`` is the stream for the per-cell progress bar (None: no bar);
    ``sockets`` the path prefix of the kernel's Unix sockets (None: a temporary
    folder of its own).
    """
    import papermill

    cell_timeout = config.cell_timeout or math.inf
    if deadline is not None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RunTimeout
        cell_timeout = min(cell_timeout, remaining)
    with inline_figures(), _kernel_sockets(sockets) as kernel_config:
        papermill.execute_notebook(
            str(plan.path),
            str(executed),
            parameters=plan.parameters,
            kernel_name=config.kernel_name,
            language="python",
            progress_bar=(
                {"desc": plan.name, "leave": False, "file": console}
                if config.progress and console is not None
                else False
            ),
            log_output=True,
            cwd=str(plan.path.parent),
            execution_timeout=None if math.isinf(cell_timeout) else max(1, math.ceil(cell_timeout)),
            config=kernel_config,
        )


@contextlib.contextmanager
def _kernel_sockets(prefix: str | None):
    """Yield the kernel manager's config: Unix sockets ``<prefix>-<n>`` where possible.

    Over TCP, a kernel binds ports its manager picked and released a moment
    before; two kernels starting at once (``--jobs 2``) can then race for the
    same port, and one dies with "Address already in use" before replying to
    ``kernel_info``. Sockets in a folder of the run's own cannot collide. The
    connection file (with the kernel's key) goes beside them, as ``<prefix>.json``.
    With no ``prefix``, both go in a temporary folder removed afterwards.
    """
    from traitlets.config import Config

    if os.name != "posix":
        yield Config()
    elif prefix is not None:
        sockets = {"transport": "ipc", "ip": prefix, "connection_file": f"{prefix}.json"}
        yield Config({"KernelManager": sockets})
    else:  # a short path: a socket's address is limited to about 100 characters
        with _socket_folder() as folder, _kernel_sockets(os.path.join(folder, "k")) as config:
            yield config


def _socket_folder() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="churnlab-kernels-")


@contextlib.contextmanager
def inline_figures():
    """Let the kernel use the inline backend, so figures land in the notebook as PNGs.

    A caller's ``MPLBACKEND`` (e.g. ``Agg`` in test suites) would otherwise be
    inherited by the kernel and the report would have no figures.
    """
    saved = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved


def _child(plan: NotebookPlan, executed: Path, config: ReportConfig, deadline, log, sockets, conn):
    """Run one notebook in a child process; send back None or (message, cell, count)."""
    handler = logging.FileHandler(log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    papermill_log = logging.getLogger("papermill")
    papermill_log.addHandler(handler)
    papermill_log.setLevel(logging.INFO)
    try:
        execute_notebook(plan, executed, config, deadline, None, sockets)
        conn.send(None)
    except BaseException as exc:  # every failure goes back to the parent as text
        failure = describe_failure(exc, plan, executed, config, deadline)
        conn.send((str(failure), failure.cell, failure.execution_count))
    finally:
        conn.close()
        handler.close()


def run_in_parallel(
    plans: Sequence[NotebookPlan],
    executed: Callable[[NotebookPlan], Path],
    config: ReportConfig,
    deadline: float | None,
    *,
    jobs: int,
    log: Path,
    done: Callable[[int, NotebookFailure | None, float], None],
) -> NotebookFailure | None:
    """Run ``plans`` with up to ``jobs`` at once, each in a child process.

    After the first failure no further notebook starts, and the ones running finish.
    A run timeout or a stop signal (raised in this, the main thread) stops the
    running children at once and is reported as the failure of the first of them.

    Parameters
    ----------
    plans : sequence of NotebookPlan
        The notebooks, in the run's order.
    executed : callable
        ``executed(plan)`` is the path of the executed notebook.
    config : ReportConfig
    deadline : float or None
        ``time.monotonic()`` value when the run must stop.
    jobs : int
        Notebooks run at once.
    log : Path
        The run log, which the children append papermill's messages to.
    done : callable
        ``done(index, failure_or_None, seconds)``, called in this process as each
        notebook ends, in the order they end.

    Returns
    -------
    NotebookFailure or None
        The first failure, if any.
    """
    context = multiprocessing.get_context("spawn")
    waiting = list(enumerate(plans))
    running: dict[int, tuple] = {}
    failure: NotebookFailure | None = None
    sockets = _socket_folder()  # the parent's: a stopped child cannot remove its own
    try:
        while waiting or running:
            while waiting and failure is None and len(running) < jobs:
                index, plan = waiting.pop(0)
                receive, send = context.Pipe(duplex=False)
                sockets_of_child = os.path.join(sockets.name, str(index))
                child = context.Process(
                    target=_child,
                    args=(plan, executed(plan), config, deadline, log, sockets_of_child, send),
                    name=f"churnlab-{plan.name}",
                )
                child.start()
                send.close()
                running[index] = (child, receive, time.monotonic())
            for index, (child, receive, begin) in list(running.items()):
                if not (receive.poll() or not child.is_alive()):
                    continue
                outcome = (
                    receive.recv()
                    if receive.poll()
                    else (
                        f"notebook '{plans[index].name}' failed: its process ended with exit "
                        f"code {child.exitcode} before reporting",
                        None,
                        None,
                    )
                )
                child.join()
                del running[index]
                result = (
                    None
                    if outcome is None
                    else NotebookFailure(outcome[0], cell=outcome[1], execution_count=outcome[2])
                )
                failure = failure or result
                done(index, result, time.monotonic() - begin)
            if failure is not None:
                waiting.clear()
            time.sleep(0.05)
    except (RunTimeout, RunInterrupted) as exc:
        for index, (child, _, begin) in sorted(running.items()):
            child.terminate()
            child.join()
            stopped = describe_failure(exc, plans[index], executed(plans[index]), config, deadline)
            failure = failure or stopped
            done(index, stopped, time.monotonic() - begin)
    finally:
        sockets.cleanup()
    return failure
