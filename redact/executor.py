"""Run jobs serially or in worker processes, behind one interface.

Models are loaded once per worker (in the pool initializer), never per file.  Workers
are started with ``spawn`` so no OpenCV/ONNX thread state is inherited through ``fork``.
Results come back as they finish; the caller orders them if it needs to.  A video's frame
progress comes back through a queue, relayed by a thread here.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.queues
import multiprocessing.util
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

from redact import interrupt
from redact.analysis import Analyzer
from redact.config import Settings
from redact.cores import set_thread_budget, usable_cores
from redact.errors import AnalysisError, ExitCode, RedactError
from redact.jobs import Job
from redact.media.atomic import discard_leftovers
from redact.outcome import failed
from redact.process import process
from redact.types import FileResult, Mode, Status

_worker_state: dict[str, object] = {}


def default_jobs() -> int:
    """Cores to use by default (``--jobs``): every CPU this process may run on."""
    return usable_cores()


class WorkerStartError(Exception):
    """A worker could not build its detectors; carries the typed error it hit."""

    def __init__(self, error: RedactError) -> None:
        super().__init__(error)
        self.error = error


#: Seconds between two frame-progress messages from a worker (the last one is always sent).
PROGRESS_EVERY_S = 0.25

if TYPE_CHECKING:
    #: ``(path, frames done, frames expected)`` from the workers; ``None`` ends the relay.
    FrameQueue = multiprocessing.queues.Queue[tuple[Path, int, int] | None]


def _init_worker(settings: Settings, mode: Mode, threads: int, frames: FrameQueue | None = None) -> None:
    set_thread_budget(threads)  # before the detectors are built: they read it
    if hasattr(signal, "SIGALRM"):  # the stall alarm ends the worker, even inside native code
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    if multiprocessing.parent_process() is not None:  # a real worker, not a test calling this in-process
        _stop_on_signals()
    _worker_state["mode"] = mode
    _worker_state["frames"] = frames
    try:
        analyzer = Analyzer(settings)
        _worker_state["analyzer"] = analyzer
        # Pool workers leave through multiprocessing's exit hooks, not atexit: stop the
        # detectors' helper processes (the pre-started Tesseract) there.
        multiprocessing.util.Finalize(analyzer, analyzer.close, exitpriority=10)
    except RedactError as exc:  # e.g. a missing model: raised with the first file (run_parallel)
        _worker_state["error"] = exc
    except Exception as exc:  # a bug: stop the run all the same (a failing initializer breaks the pool)
        _worker_state["error"] = AnalysisError(f"a worker could not load the detectors ({type(exc).__name__})")


def _stop_on_signals() -> None:
    """How a worker stops: the main process decides, and asks with SIGTERM (see :func:`_stop_pool`).

    Ctrl-C reaches every process of the terminal's group: workers ignore SIGINT and SIGHUP
    and wait for the main process.  SIGTERM unwinds the file in hand (its temporary file is
    removed) unless its output is being renamed into place (then the file finishes and is
    reported); an idle worker waits for the pool's shutdown, which closes its detectors
    (the pre-started Tesseract).  A worker whose main process is gone stops by itself.
    """
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _on_stop_signal)
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), name="redact-parent", daemon=True).start()


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    if _worker_state.get("stopping"):
        return  # already unwinding: a second request must not cut the clean-up short
    _worker_state["stopping"] = True
    if _worker_state.get("busy"):
        interrupt.on_signal(signum, frame)  # raises, unless an output is being committed


#: Seconds a worker whose main process died gives its file to unwind before it exits.
ORPHAN_GRACE_S = 30.0


def _watch_parent(parent: int) -> None:
    """End this worker when the main process is gone (killed, even with SIGKILL): no orphans."""
    while os.getppid() == parent:
        time.sleep(1.0)
    if _worker_state.get("busy") and hasattr(signal, "SIGTERM"):
        os.kill(os.getpid(), signal.SIGTERM)  # unwind the file in hand first
        deadline = time.monotonic() + ORPHAN_GRACE_S
        while _worker_state.get("busy") and time.monotonic() < deadline:
            time.sleep(0.1)
    _leave()


def _leave() -> NoReturn:
    """Close the detectors (their helper processes) and end this worker now."""
    analyzer = _worker_state.get("analyzer")
    if isinstance(analyzer, Analyzer):
        with contextlib.suppress(Exception):
            analyzer.close()
    os._exit(int(ExitCode.INTERRUPTED))


def _work(index: int, job: Job) -> tuple[int, FileResult]:
    if _worker_state.get("stopping"):
        _leave()  # asked to stop between two files (the main process then retries them elsewhere)
    error = _worker_state.get("error")
    if isinstance(error, RedactError):
        raise WorkerStartError(error)
    analyzer = _worker_state["analyzer"]
    mode = _worker_state["mode"]
    assert isinstance(analyzer, Analyzer) and isinstance(mode, Mode)
    frames = _worker_state.get("frames")
    progress = _FrameReporter(
        frames if isinstance(frames, multiprocessing.queues.Queue) else None,
        job.path,
        analyzer.settings.stall_limit_s,
    )
    progress.rearm()
    _worker_state["busy"] = True
    try:
        with interrupt.job(raise_held=False) as span:
            result = process(job, mode, analyzer, progress)
        if span.held is not None:  # its output was committed: report it, then stop (see _work)
            _worker_state["stopping"] = True
        return index, result
    finally:
        _worker_state["busy"] = False
        progress.disarm()


class _FrameReporter:
    """A video's ``progress(done, expected)`` in a worker: sent to the main process, throttled.

    Also the stall alarm: each call re-arms a ``SIGALRM`` timer of ``limit_s`` (0: none),
    whose default action ends the worker, so a file stuck for that long (a photo in all, a
    video between two frames) kills it; the pool then names the file (see :func:`run_parallel`).
    """

    def __init__(self, frames: FrameQueue | None, path: Path, limit_s: float) -> None:
        self.frames = frames
        self.path = path
        self.limit_s = limit_s if hasattr(signal, "setitimer") else 0.0
        self.sent = 0.0

    def rearm(self) -> None:
        if self.limit_s:
            signal.setitimer(signal.ITIMER_REAL, self.limit_s)

    def disarm(self) -> None:
        if self.limit_s:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def __call__(self, done: int, expected: int) -> None:
        self.rearm()
        if self.frames is None:
            return
        now = time.monotonic()
        if now - self.sent >= PROGRESS_EVERY_S or done == expected:
            self.sent = now
            self.frames.put((self.path, done, expected))


def run_parallel(
    jobs: Sequence[Job],
    mode: Mode,
    settings: Settings,
    workers: int,
    on_result: Callable[[int, FileResult], None],
    threads: int = 1,
    on_progress: Callable[[Path, int, int], None] | None = None,
) -> None:
    """Process ``jobs`` in ``workers`` processes, calling ``on_result(index, result)`` as each ends.

    Each worker's analysis keeps at most ``threads`` threads busy (its thread budget, see
    :mod:`redact.cores`): ``workers * threads`` should not exceed the cores to be used.
    ``on_progress(path, done, expected)`` gets the workers' video frame counts, never
    after that file's ``on_result``; it is called from another thread.

    At most ``2 * workers`` jobs are queued at a time, so a huge folder does not pile up
    in memory.  A worker that dies (a crash in a decoder, an out-of-memory kill, a file
    stuck for ``settings.stall_limit_s``) takes the pool with it: the files the pool held
    are then run again one at a time, so only a file that kills its worker again fails,
    and a new pool takes the rest.  Ctrl-C cancels what has not started; outputs are
    atomic, so nothing is left half-written.
    """
    context = multiprocessing.get_context("spawn")
    frames: FrameQueue | None = context.Queue() if on_progress is not None else None
    relay = _ProgressRelay(frames, on_progress) if frames is not None and on_progress is not None else None

    def pool(size: int, budget: int) -> Callable[[], ProcessPoolExecutor]:
        return lambda: ProcessPoolExecutor(
            size, mp_context=context, initializer=_init_worker, initargs=(settings, mode, budget, frames)
        )

    def done(index: int, result: FileResult) -> None:
        if relay is not None:
            relay.finished(jobs[index].path)
        on_result(index, result)

    todo = deque(range(len(jobs)))
    try:
        while todo:
            lost = _in_pool(pool(workers, threads), jobs, todo, 2 * workers, done)
            if lost:
                _one_at_a_time(pool(1, workers * threads), jobs, lost, done)
    finally:
        if relay is not None:
            relay.stop()


#: The error of a file whose worker died on it twice.
WORKER_DIED = "the worker process died on this file (a crash, out of memory, or stuck past stall_limit_s)"


def _one_at_a_time(
    new_pool: Callable[[], ProcessPoolExecutor],
    jobs: Sequence[Job],
    suspects: list[int],
    done: Callable[[int, FileResult], None],
) -> None:
    """Run ``suspects`` one by one in one-worker pools: a worker that dies now names its file."""
    left = deque(suspects)
    while left:
        for index in _in_pool(new_pool, jobs, left, 1, done):
            done(index, failed(jobs[index], AnalysisError(WORKER_DIED)))


def _in_pool(
    new_pool: Callable[[], ProcessPoolExecutor],
    jobs: Sequence[Job],
    todo: deque[int],
    in_flight: int,
    done: Callable[[int, FileResult], None],
) -> list[int]:
    """Take job indices from ``todo`` into a new pool, at most ``in_flight`` at a time.

    Returns ``[]`` when ``todo`` is done, or the indices lost with the pool when a worker
    died (the rest stay in ``todo``), after removing the temporary files of their outputs.
    """
    pool = new_pool()
    pending: dict[Future[tuple[int, FileResult]], int] = {}
    lost: list[int] = []
    try:
        while pending or (todo and not lost):
            while todo and not lost and len(pending) < in_flight:
                index = todo.popleft()
                try:
                    pending[pool.submit(_work, index, jobs[index])] = index
                except BrokenProcessPool:
                    todo.appendleft(index)
                    break
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            with interrupt.shielded():  # an output that exists is reported, even on Ctrl-C
                lost += _collect(finished, pending, jobs, done)
    except BaseException:
        _stop_pool(pool, pending, jobs, done)
        raise
    pool.shutdown(wait=True)  # a broken pool has stopped its other workers by now
    for index in lost:  # what a killed worker was writing is half-written: remove it
        output = jobs[index].output
        if output is not None:
            discard_leftovers(output)
    return lost


def _collect(
    finished: set[Future[tuple[int, FileResult]]],
    pending: dict[Future[tuple[int, FileResult]], int],
    jobs: Sequence[Job],
    done: Callable[[int, FileResult], None],
) -> list[int]:
    """Report the ``finished`` jobs (taken out of ``pending``); return those lost with a dead worker."""
    lost: list[int] = []
    for future in finished:
        index = pending.pop(future)
        try:
            _, result = future.result()
        except BrokenProcessPool:
            lost.append(index)
            continue
        except WorkerStartError as exc:  # no worker can analyse anything: stop, as in-process would
            raise exc.error from None
        except Exception as exc:  # e.g. a result that cannot be sent back: the file is unsafe
            result = failed(jobs[index], AnalysisError(f"worker process failed ({type(exc).__name__})"))
        done(index, result)
    return lost


#: Seconds the workers get to unwind their files after a stop request, before they are killed.
STOP_GRACE_S = 20.0


def _stop_pool(
    pool: ProcessPoolExecutor,
    pending: dict[Future[tuple[int, FileResult]], int],
    jobs: Sequence[Job],
    done: Callable[[int, FileResult], None],
) -> None:
    """Stop the run (Ctrl-C, SIGTERM, SIGHUP, or an error): workers end, nothing is left behind.

    Files not started are dropped.  Each worker is asked to stop (SIGTERM): the file in hand
    unwinds and its temporary file goes, unless its output was already being renamed into
    place; such a finished file is reported here, so no output exists that the run did not
    report.  Then the pool shuts down (workers close their Tesseract) and any worker still
    there after :data:`STOP_GRACE_S` is killed and its temporary files removed.
    """
    with interrupt.deferred():  # more Ctrl-C / SIGTERM while stopping must not cut it short
        for future in pending:
            future.cancel()
        workers = list((getattr(pool, "_processes", None) or {}).values())  # no public way to reach them
        for worker in workers:
            with contextlib.suppress(Exception):
                if worker.is_alive():
                    worker.terminate()
        running = [f for f in pending if not f.cancelled()]
        finished, _ = wait(running, timeout=STOP_GRACE_S)
        reported = set()
        for future in finished:
            if future.exception() is None:
                _, result = future.result()
                if result.status is not Status.FAILED:  # a failure caused by the stop is not news
                    done(pending[future], result)
                    reported.add(pending[future])
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + STOP_GRACE_S / 2
        for worker in workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                worker.kill()
                worker.join(timeout=5)
        for index in pending.values():  # every worker is gone: what they left half-written goes
            output = jobs[index].output
            if index not in reported and output is not None:
                discard_leftovers(output)


class _ProgressRelay:
    """A thread passing the workers' frame progress on, except for files already finished."""

    def __init__(self, frames: FrameQueue, on_progress: Callable[[Path, int, int], None]) -> None:
        self.frames = frames
        self.on_progress = on_progress
        self.lock = threading.Lock()
        self.done: set[Path] = set()
        self.thread = threading.Thread(target=self._run, name="redact-progress", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.frames.get()) is not None:
            path, done, expected = item
            with self.lock:
                if path not in self.done:
                    self.on_progress(path, done, expected)

    def finished(self, path: Path) -> None:
        """No more progress for ``path``: its result is about to be reported."""
        with self.lock:
            self.done.add(path)

    def stop(self) -> None:
        self.frames.put(None)
        self.thread.join(timeout=5)
