"""What the CLI wraps around a pipeline run: one store, crash recovery, signals.

- **One store, initialised once.** Two runs started at once on a fresh ``ZENML_CONFIG_PATH``
  would both create and migrate the SQLite store, and the loser fails with "The ZenML database
  has never been migrated with alembic". :func:`prepare_store` initialises it under a file
  lock in the config directory, before anything else touches ZenML.
- **Crash recovery.** Every step records the process that runs it in its pipeline run's
  metadata (:func:`record_run_owner`, the pipelines' ``on_start`` hook): host, machine and
  boot ids, pid namespace, pid and process start time. After a SIGKILL (or a power cut) the
  run stays "running" forever; at the next start :func:`recover_crashed_runs` fails the
  unfinished runs whose recorded process is gone *on this machine* (runs of other machines,
  and of processes that still exist, are never touched), and deletes the half-written
  payloads they left in the local artifact store.
- **Signals.** ZenML installs, around each step, a SIGINT/SIGTERM handler that logs and raises
  ``RunInterruptedException`` wherever the main thread happens to be: inside PyBoy's Cython
  frame hook that exception is swallowed ("Exception ignored in ... _post_tick") and the
  process runs on; while the main thread writes to stderr, logging from the handler fails.
  :class:`RunGuard` replaces that handler, for the CLI's run only, by
  :class:`agents.interrupts.GracefulInterrupt`, which only records the signal: training and
  evaluation poll it between steps, and a step that would start after a signal fails at once
  with :class:`~agents.interrupts.StopRequested`. It also keeps ZenML's traceback of such a
  stop off the terminal (the CLI prints what stopped and how to continue instead); real
  failures are logged as before.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from uuid import UUID

from agents.interrupts import GracefulInterrupt, StopRequested

if TYPE_CHECKING:
    from zenml.models import PipelineRunResponse, StepRunResponse

logger = logging.getLogger(__name__)

OWNER_KEY = "zenrl_process"
"""Pipeline run metadata: the process that runs the run's steps (see :func:`this_process`)."""

LOCK_FILE = "zenrl-store.lock"
"""In the ZenML config directory: held while the store is initialised and recovered."""

ORPHAN_GRACE_SECONDS = 3600.0
"""A payload without a checksum record, referenced by no artifact version, is deleted once it
has not changed for this long (a payload being written changes all the time)."""

DEAD_RUN_SETTLE_SECONDS = 5.0
"""...or, when a dead run of this machine was just found, once it has not changed for this
long and was written after that run's process started."""

STOP_LOGGERS = ("zenml.orchestrators.local.local_orchestrator", "zenml.orchestrators.step_launcher")
"""ZenML loggers that report a failed step (with a traceback): a stop on a signal is not one."""


# ----------------------------------------------------------------------------- the store
@contextmanager
def store_lock() -> Iterator[None]:
    """Hold an exclusive lock on the ZenML config directory (blocking)."""
    from zenml.utils.io_utils import get_global_config_directory

    directory = Path(get_global_config_directory())
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_store() -> list[str]:
    """Initialise ZenML's config and store once (under :func:`store_lock`), then recover what
    crashed runs of this machine left behind.

    Returns:
        One line per run failed and payload deleted (also logged).
    """
    with store_lock():
        from zenml.client import Client

        Client().active_stack_model  # noqa: B018  (creates, migrates and fills a new store)
        try:
            return recover_crashed_runs()
        except Exception as exc:  # housekeeping must never stop a run
            logger.warning("skipped the recovery of crashed runs: %s", exc)
            return []


# ------------------------------------------------------------------------ run ownership
def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _pid_namespace(pid: int | str = "self") -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def this_process() -> dict[str, Any]:
    """Who runs this process: host, machine id, boot id, pid namespace, pid, start time."""
    import psutil

    pid = os.getpid()
    return {
        "host": socket.gethostname(),
        "machine_id": _read("/etc/machine-id"),
        "boot_id": _read("/proc/sys/kernel/random/boot_id"),
        "pid_namespace": _pid_namespace(),
        "pid": pid,
        "started": psutil.Process(pid).create_time(),
    }


def process_is_gone(owner: dict[str, Any]) -> bool:
    """True only when ``owner`` (from :func:`this_process`) was a process of this machine
    that no longer exists; False when it lives, or when this cannot be told from here (another
    host, another pid namespace, missing fields)."""
    import psutil

    me = this_process()
    if not owner or owner.get("host") != me["host"]:
        return False
    same_machine = bool(me["machine_id"]) and owner.get("machine_id") == me["machine_id"]
    if same_machine and owner.get("boot_id") and owner.get("boot_id") != me["boot_id"]:
        return True  # this machine rebooted since: every process of that boot is gone
    if not me["pid_namespace"] or owner.get("pid_namespace") != me["pid_namespace"]:
        return False  # a pid from another container means nothing here
    if owner.get("boot_id") != me["boot_id"]:
        return False
    try:
        pid, started = int(owner["pid"]), float(owner["started"])
    except (KeyError, TypeError, ValueError):
        return False
    try:
        return abs(psutil.Process(pid).create_time() - started) > 1.0  # pid reused
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


_recorded_runs: set[UUID] = set()


def record_run_owner() -> None:
    """Step ``on_start`` hook: record this process as the owner of the step's pipeline run
    (once per run and process; a step that runs in another process records that one)."""
    from zenml import get_step_context, log_metadata

    run = get_step_context().pipeline_run
    if run.id in _recorded_runs:
        return
    log_metadata(metadata={OWNER_KEY: this_process()}, run_id_name_or_prefix=run.id)
    _recorded_runs.add(run.id)


# ------------------------------------------------------------------------ crash recovery
def _unfinished_runs() -> list[PipelineRunResponse]:
    from zenml.client import Client
    from zenml.enums import ExecutionStatus

    client = Client()
    runs = []
    for status in ExecutionStatus:
        if status.is_finished or status == ExecutionStatus.PAUSED:
            continue
        runs += client.list_pipeline_runs(status=status.value, size=1000, hydrate=True).items
    return runs


def _fail_run(run: PipelineRunResponse, reason: str) -> None:
    from zenml.client import Client
    from zenml.enums import ExecutionStatus
    from zenml.models import PipelineRunUpdate
    from zenml.orchestrators.publish_utils import publish_failed_step_run

    client = Client()
    for step in run.steps.values():
        if not step.status.is_finished:
            publish_failed_step_run(step.id)
    client.zen_store.update_run(
        run.id, PipelineRunUpdate(status=ExecutionStatus.FAILED, status_reason=reason)
    )


def fail_dead_runs() -> tuple[list[str], list[float]]:
    """Fail the unfinished runs whose recorded process is gone from this machine.

    Returns:
        A line per run failed, and the start times of their processes.
    """
    lines: list[str] = []
    starts: list[float] = []
    for run in _unfinished_runs():
        owner = run.run_metadata.get(OWNER_KEY)
        if not isinstance(owner, dict) or not process_is_gone(owner):
            continue
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(owner["started"])))
        reason = (
            f"its process (pid {owner['pid']} on {owner['host']}, started {when}) ended "
            "without reporting (killed, or the machine went down)"
        )
        _fail_run(run, reason)
        starts.append(float(owner["started"]))
        lines.append(f"marked run {run.name} failed: {reason}")
    return lines, starts


def _open_paths() -> set[str]:
    """Files that processes of this machine (those we may inspect) have open."""
    import psutil

    paths: set[str] = set()
    for process in psutil.process_iter():
        try:
            paths.update(entry.path for entry in process.open_files())
        except psutil.Error:
            continue
    return paths


def remove_orphaned_payloads(
    dead_since: float | None = None,
    grace_seconds: float = ORPHAN_GRACE_SECONDS,
    settle_seconds: float = DEAD_RUN_SETTLE_SECONDS,
) -> list[str]:
    """Delete half-written artifacts from the active stack's local artifact store.

    A directory qualifies when it holds a payload but no checksum record (the materializer
    writes the record last), no artifact version refers to it, no process has a file in it
    open, and nothing in it changed for ``grace_seconds`` -- or, when ``dead_since`` (the
    start time of a dead run's process) is given, for ``settle_seconds`` since a moment after
    ``dead_since``. Other artifact stores are left alone.

    Returns:
        A line per directory deleted.
    """
    import shutil

    from zenml.client import Client
    from zenml.enums import StackComponentType

    from materializers.safe_pickle import META_FILE, PAYLOAD_FILE

    client = Client()
    stores = client.active_stack_model.components.get(StackComponentType.ARTIFACT_STORE, [])
    if not stores or stores[0].flavor_name != "local":
        return []  # only the local store is this machine's to tidy (and cheap to walk)
    store = client.active_stack.artifact_store
    if not os.path.isdir(store.path):
        return []
    now = time.time()
    candidates: list[tuple[str, float]] = []
    for directory, _, files in os.walk(store.path):
        if PAYLOAD_FILE in files and META_FILE not in files:
            try:
                changed = max(os.stat(os.path.join(directory, f)).st_mtime for f in files)
            except OSError:  # removed meanwhile
                continue
            age = now - changed
            if age > grace_seconds or (
                dead_since is not None and changed >= dead_since and age > settle_seconds
            ):
                candidates.append((directory, age))
    if not candidates:
        return []
    open_paths = _open_paths()
    lines = []
    for directory, age in candidates:
        prefix = directory + os.sep
        if any(path.startswith(prefix) for path in open_paths):
            continue
        if client.list_artifact_versions(uri=directory, size=1).total:
            continue  # a registered artifact that lost its record: a damaged one, not ours
        shutil.rmtree(directory, ignore_errors=True)
        lines.append(
            f"deleted half-written artifact {directory} (a payload without its checksum "
            f"record, unchanged for {age:.0f}s, referenced by no artifact version)"
        )
    return lines


def recover_crashed_runs() -> list[str]:
    """Fail this machine's dead runs, then delete orphaned payloads; log a line for each."""
    lines, starts = fail_dead_runs()
    lines += remove_orphaned_payloads(min(starts) if starts else None)
    for line in lines:
        logger.warning(line)
    return lines


# ------------------------------------------------------------------------------- signals
class HideStopTracebacks(logging.Filter):
    """Drop ZenML's "step failed" records (and their traceback) for a stop on a signal."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], StopRequested):
            return False
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(isinstance(arg, StopRequested) for arg in args)


class RunGuard:
    """Signal handling and ZenML set-up for one CLI command.

    Entered first thing, it records SIGINT and SIGTERM for the whole command
    (:class:`~agents.interrupts.GracefulInterrupt`). :meth:`start_zenml` prepares the store and
    takes over ZenML's per-step signal handler (see the module docstring); :meth:`check`
    raises :class:`~agents.interrupts.StopRequested` if a signal arrived.

    Attributes:
        interrupt: The command's stop record, shared with the steps' own.
        run_id: The pipeline run whose step started last (``None`` before the first).
        step_name: That step.
    """

    def __init__(self) -> None:
        self.interrupt = GracefulInterrupt(on_stop="stopping after the current step")
        self.run_id: UUID | None = None
        self.step_name: str | None = None
        self._filter = HideStopTracebacks()
        self._zenml_started = False
        self._original_handler: Any = None

    def __enter__(self) -> RunGuard:
        self.interrupt.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._zenml_started:
            from zenml.orchestrators import step_launcher

            step_launcher.SignalHandler = self._original_handler  # type: ignore[misc]
            for name in STOP_LOGGERS:
                logging.getLogger(name).removeFilter(self._filter)
            self._zenml_started = False
        self.interrupt.__exit__(exc_type, exc, traceback)

    def check(self, where: str) -> None:
        """Raise :class:`StopRequested` (``stopped by SIGINT {where}``) after a signal."""
        if self.interrupt.poll():
            raise StopRequested(
                f"stopped by {self.interrupt.signal_name} {where}",
                self.interrupt.signal_name,
                self.interrupt.exit_code,
            )

    def start_zenml(self) -> list[str]:
        """Prepare the store (see :func:`prepare_store`; signals wait until it is done) and
        replace ZenML's per-step signal handler by a gate that stops at the next step.

        Returns:
            The recovery's lines.
        """
        self.check("before ZenML started")
        with self.interrupt.protect():
            lines = prepare_store()
        from zenml.orchestrators import step_launcher

        if not self._zenml_started:
            self._original_handler = step_launcher.SignalHandler
            step_launcher.SignalHandler = self._gate  # type: ignore[misc,assignment]
            for name in STOP_LOGGERS:
                logging.getLogger(name).addFilter(self._filter)
            self._zenml_started = True
        return lines

    def _gate(self, step_run: StepRunResponse, execution_mode: Any) -> _StepGate:
        return _StepGate(self, step_run)


class _StepGate:
    """Stands in for ZenML's step ``SignalHandler`` (same ``register``/``unregister``): our
    handler stays installed, and a step that starts after a signal fails at once."""

    def __init__(self, guard: RunGuard, step_run: StepRunResponse):
        self._guard = guard
        self._step_run = step_run

    def register(self) -> _StepGate:
        self._guard.run_id = self._step_run.pipeline_run_id
        self._guard.step_name = self._step_run.name
        self._guard.check(f"before step {self._step_run.name} started")
        return self

    def unregister(self) -> None:
        """Nothing to restore: the guard's handler was never replaced."""
