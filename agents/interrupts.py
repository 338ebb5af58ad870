"""Graceful Ctrl-C and SIGTERM: finish the current step, save, then stop.

A long training run should never lose its progress to an interrupt, and an interrupt that
arrives while a checkpoint is being written must not leave half a checkpoint behind. The
handler here only records the signal; the training loop polls :attr:`GracefulInterrupt.requested`
after every step, and writes its checkpoint inside :meth:`GracefulInterrupt.protect`, where
further signals are reported and deferred instead of raising in the middle of a write.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _say(message: str) -> None:
    # the process's real stderr: inside a ZenML step sys.stderr is a log capture
    stream = sys.__stderr__ or sys.stderr
    print(message, file=stream, flush=True)


class GracefulInterrupt:
    """Context manager that turns SIGINT and SIGTERM into a stop request.

    Python delivers signals to the main thread only; elsewhere (some orchestrators run steps in
    threads) the handlers are not installed and :attr:`installed` is False.

    Example:
        >>> with GracefulInterrupt() as interrupt:
        ...     while not interrupt.requested:
        ...         step()
        ...     with interrupt.protect():
        ...         save()
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        """The first signal received, if any."""
        self.installed = False
        self._previous: dict[int, Any] = {}
        self._protecting = False
        self._deferred = 0

    @property
    def requested(self) -> bool:
        """True once a stop was requested."""
        return self.signum is not None

    @property
    def signal_name(self) -> str:
        """``SIGINT``/``SIGTERM``, or an empty string when no signal arrived."""
        return signal.Signals(self.signum).name if self.signum is not None else ""

    @property
    def exit_code(self) -> int:
        """The conventional exit code for the received signal (128 + its number)."""
        return 128 + (self.signum or 0)

    def __enter__(self) -> GracefulInterrupt:
        if threading.current_thread() is threading.main_thread():
            for sig in HANDLED_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
            self.installed = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
        self.installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._protecting:
            self._deferred += 1
            _say(f"{name} received while a checkpoint is being written: it will be completed first")
            if self.signum is None:
                self.signum = signum
            return
        if self.signum is None:
            self.signum = signum
            _say(f"{name} received: finishing the current step, then writing a checkpoint")
        else:
            _say(f"{name} received again: already stopping after the current step")

    @contextmanager
    def protect(self) -> Iterator[None]:
        """Defer signals while the body runs (writing a checkpoint)."""
        self._protecting = True
        try:
            yield
        finally:
            self._protecting = False


class TrainingInterrupted(RuntimeError):  # noqa: N818  (an outcome, like KeyboardInterrupt)
    """Training stopped on a signal after writing a checkpoint.

    Args:
        message: What happened and how to resume.
        signal_name: ``SIGINT`` or ``SIGTERM``.
        exit_code: 128 + the signal's number, for the CLI's exit status.
        run_name: The interrupted run.
    """

    def __init__(self, message: str, signal_name: str, exit_code: int, run_name: str):
        super().__init__(message)
        self.signal_name = signal_name
        self.exit_code = exit_code
        self.run_name = run_name

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.signal_name, self.exit_code, self.run_name))
