"""Graceful Ctrl-C and SIGTERM: the handler records the signal, the main flow acts on it.

A Python signal handler runs between any two bytecodes of the main thread. A handler that
prints can land while the main thread is itself writing to the same stream, and Python then
raises ``RuntimeError: reentrant call inside <_io.BufferedWriter name='<stderr>'>``; a handler
that raises can land inside a C or Cython callback (PyBoy's frame hook), where the exception is
reported as "Exception ignored" and lost, and the process runs on. So the handler here does
one thing: it appends the signal's number to a list. Everything else happens in the main flow:

- the training loop polls :meth:`GracefulInterrupt.poll` after every agent step, finishes the
  step and writes a checkpoint inside :meth:`GracefulInterrupt.protect`;
- evaluation loops call :func:`check_stop` between environment steps, which raises
  :class:`StopRequested`;
- announcements ("SIGTERM received: ...") are printed by :meth:`GracefulInterrupt.poll`, never
  by the handler.

Contexts nest: a ``GracefulInterrupt`` entered while another is active shares its record, so a
signal received by the CLI before a step started is seen by the step, and vice versa.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _say(message: str) -> None:
    # the process's real stderr: inside a ZenML step sys.stderr is a log capture
    stream = sys.__stderr__ or sys.stderr
    print(message, file=stream, flush=True)


@dataclass
class _Received:
    """What the handler writes: (signal number, whether a checkpoint was being written)."""

    signals: list[tuple[int, bool]] = field(default_factory=list)
    announced: int = 0
    protecting: bool = False


_active: list[GracefulInterrupt] = []
"""Entered interrupts, innermost last (the main thread's; others install nothing)."""


def _record_signal(signum: int, frame: FrameType | None) -> None:
    # Only a list append: no I/O, no locks, no exception, whatever the main thread is doing.
    if _active:
        received = _active[-1]._received
        received.signals.append((signum, received.protecting))


def active_interrupt() -> GracefulInterrupt | None:
    """The innermost entered :class:`GracefulInterrupt`, if any."""
    return _active[-1] if _active else None


def stop_requested() -> bool:
    """True once SIGINT or SIGTERM arrived inside an entered :class:`GracefulInterrupt`."""
    return bool(_active) and _active[-1].requested


def check_stop(what: str) -> None:
    """Raise :class:`StopRequested` if a stop was requested (announcing it first).

    Long loops that hold no state worth saving (evaluation, a round robin) call this between
    environment steps; with no :class:`GracefulInterrupt` entered it does nothing.

    Args:
        what: What is being stopped, for the message (``evaluation``).
    """
    interrupt = active_interrupt()
    if interrupt is not None and interrupt.poll():
        raise StopRequested(
            f"{what} stopped by {interrupt.signal_name}", interrupt.signal_name, interrupt.exit_code
        )


class GracefulInterrupt:
    """Context manager that turns SIGINT and SIGTERM into a stop request.

    Python delivers signals to the main thread only; elsewhere (some orchestrators run steps in
    threads) the handlers are not installed and :attr:`installed` is False.

    Args:
        on_stop: What happens after the first signal, for its announcement (``finishing the
            current step, then writing a checkpoint``).

    Example:
        >>> with GracefulInterrupt() as interrupt:
        ...     while not interrupt.poll():
        ...         step()
        ...     with interrupt.protect():
        ...         save()
    """

    def __init__(self, on_stop: str = "stopping") -> None:
        self.on_stop = on_stop
        self.installed = False
        self._received = _Received()
        self._previous: dict[int, Any] = {}

    @property
    def signum(self) -> int | None:
        """The first signal received, if any."""
        signals = self._received.signals
        return signals[0][0] if signals else None

    @property
    def requested(self) -> bool:
        """True once a stop was requested (no announcement; see :meth:`poll`)."""
        return bool(self._received.signals)

    @property
    def signal_name(self) -> str:
        """``SIGINT``/``SIGTERM``, or an empty string when no signal arrived."""
        return signal.Signals(self.signum).name if self.signum is not None else ""

    @property
    def exit_code(self) -> int:
        """The conventional exit code for the received signal (128 + its number)."""
        return 128 + (self.signum or 0)

    def poll(self) -> bool:
        """Announce the signals received since the last call; True once a stop was requested.

        Called from the main flow (the training loop after every step), so printing here is
        safe where printing in the handler is not.
        """
        received = self._received
        if received.protecting:
            return self.requested  # announced when the checkpoint is complete
        while received.announced < len(received.signals):
            signum, during_save = received.signals[received.announced]
            name = signal.Signals(signum).name
            if received.announced > 0:
                _say(f"{name} received again: already {self.on_stop}")
            elif during_save:
                _say(f"{name} received while a checkpoint was being written: it was completed")
            else:
                _say(f"{name} received: {self.on_stop}")
            received.announced += 1
        return self.requested

    def __enter__(self) -> GracefulInterrupt:
        if _active:  # nested: one record for the whole process
            self._received = _active[-1]._received
        if threading.current_thread() is threading.main_thread():
            for sig in HANDLED_SIGNALS:
                self._previous[sig] = signal.signal(sig, _record_signal)
            self.installed = True
            _active.append(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self.installed:
            return
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
        _active.remove(self)
        self.installed = False

    @contextmanager
    def protect(self) -> Iterator[None]:
        """Let the body (writing a checkpoint) complete whatever arrives; signals received
        meanwhile are announced when it is done."""
        received = self._received
        outer = received.protecting
        received.protecting = True
        try:
            yield
        finally:
            received.protecting = outer
        if not outer:
            self.poll()


class StopRequested(RuntimeError):  # noqa: N818  (an outcome, like KeyboardInterrupt)
    """Work stopped on SIGINT or SIGTERM.

    Args:
        message: What stopped, and where.
        signal_name: ``SIGINT`` or ``SIGTERM``.
        exit_code: 128 + the signal's number, for the CLI's exit status.
    """

    def __init__(self, message: str, signal_name: str, exit_code: int):
        super().__init__(message)
        self.signal_name = signal_name
        self.exit_code = exit_code

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.signal_name, self.exit_code))


class TrainingInterrupted(StopRequested):
    """Training stopped on a signal after writing a checkpoint.

    Args:
        message: What happened and how to resume.
        signal_name: ``SIGINT`` or ``SIGTERM``.
        exit_code: 128 + the signal's number, for the CLI's exit status.
        run_name: The interrupted run.
    """

    def __init__(self, message: str, signal_name: str, exit_code: int, run_name: str):
        super().__init__(message, signal_name, exit_code)
        self.run_name = run_name

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.signal_name, self.exit_code, self.run_name))
