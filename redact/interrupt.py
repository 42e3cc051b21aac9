"""Stop requests (Ctrl-C, SIGTERM, SIGHUP) as one exception, held back while an output is committed.

:func:`install` makes SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` in the main
thread, so every one of them unwinds like Ctrl-C: temporary files are removed, worker
processes and their helpers (Tesseract) are stopped, and the exit status is 128 + the
signal's number (130, 143, 129).

An output renamed into place must be reported, or it is a file nobody knows was written.
Inside a :func:`job`, :func:`hold` (called just before the rename) turns a stop request
into a note that is acted on when the job ends, after its result was reported.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

#: The signals that stop a run, where the platform has them.
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Interrupted(KeyboardInterrupt):
    """A stop request (a signal); ``exit_code`` is the shell's 128 + signal number."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum


class _Job:
    def __init__(self) -> None:
        self.holding = False
        self.held: int | None = None


_active: _Job | None = None


def on_signal(signum: int, frame: FrameType | None = None) -> None:
    """Signal handler: raise :class:`Interrupted`, or note it while an output is committed."""
    job = _active
    if job is not None and job.holding:
        job.held = job.held or signum
        return
    raise Interrupted(signum)


def install() -> None:
    """Make the stop signals raise :class:`Interrupted` (main thread of the main process only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)


@contextlib.contextmanager
def job(raise_held: bool = True) -> Iterator[_Job]:
    """The span of one file's work, up to its result being reported.

    A stop request held by :func:`hold` is raised when the span ends normally (with
    ``raise_held``; else it is left in the yielded object's ``held``).
    """
    global _active
    outer, current = _active, _Job()
    _active = current
    try:
        yield current
    finally:
        _active = outer
    if current.held is not None and raise_held:
        raise Interrupted(current.held)


def hold() -> None:
    """From now until the current :func:`job` ends, stop requests wait (an output is being committed)."""
    if _active is not None:
        _active.holding = True


@contextlib.contextmanager
def shielded() -> Iterator[_Job]:
    """Hold stop requests for the duration, then act on one (e.g. while a result is reported)."""
    with job() as current:
        current.holding = True
        yield current


@contextlib.contextmanager
def deferred() -> Iterator[_Job]:
    """Hold every stop request for the duration and drop it (while a stop is being carried out)."""
    with job(raise_held=False) as current:
        current.holding = True
        yield current
