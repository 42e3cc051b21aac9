"""Run jobs serially or in worker processes, behind one interface.

Models are loaded once per worker (in the pool initializer), never per file.  Workers
are started with ``spawn`` so no OpenCV/ONNX thread state is inherited through ``fork``.
Results come back as they finish; the caller orders them if it needs to.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
from collections.abc import Callable, Sequence
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from redact.config import Settings
from redact.cores import set_thread_budget, usable_cores
from redact.errors import AnalysisError, RedactError
from redact.pipeline import Analyzer, Job, failed, process
from redact.types import FileResult, Mode

_worker_state: dict[str, object] = {}


def default_jobs() -> int:
    """Cores to use by default (``--jobs``): every CPU this process may run on."""
    return usable_cores()


class WorkerStartError(Exception):
    """A worker could not build its detectors; carries the typed error it hit."""

    def __init__(self, error: RedactError) -> None:
        super().__init__(error)
        self.error = error


def _init_worker(settings: Settings, mode: Mode, threads: int) -> None:
    set_thread_budget(threads)  # before the detectors are built: they read it
    _worker_state["mode"] = mode
    try:
        analyzer = Analyzer(settings)
        _worker_state["analyzer"] = analyzer
        # Pool workers leave through multiprocessing's exit hooks, not atexit: stop the
        # detectors' helper processes (the pre-started Tesseract) there.
        multiprocessing.util.Finalize(analyzer, analyzer.close, exitpriority=10)
    except RedactError as exc:  # e.g. a missing model: raised with the first file (run_parallel)
        _worker_state["error"] = exc


def _work(index: int, job: Job) -> tuple[int, FileResult]:
    error = _worker_state.get("error")
    if isinstance(error, RedactError):
        raise WorkerStartError(error)
    analyzer = _worker_state["analyzer"]
    mode = _worker_state["mode"]
    assert isinstance(analyzer, Analyzer) and isinstance(mode, Mode)
    return index, process(job, mode, analyzer)


def run_parallel(
    jobs: Sequence[Job],
    mode: Mode,
    settings: Settings,
    workers: int,
    on_result: Callable[[int, FileResult], None],
    threads: int = 1,
) -> None:
    """Process ``jobs`` in ``workers`` processes, calling ``on_result(index, result)`` as each ends.

    Each worker's analysis keeps at most ``threads`` threads busy (its thread budget, see
    :mod:`redact.cores`): ``workers * threads`` should not exceed the cores to be used.

    At most ``2 * workers`` jobs are queued at a time, so a huge folder does not pile up
    in memory.  A worker that dies fails its file (never skips it).  Ctrl-C cancels what
    has not started; outputs are atomic, so nothing is left half-written.
    """
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(settings, mode, threads)
    )
    pending: dict[Future[tuple[int, FileResult]], tuple[int, Job]] = {}
    try:
        for index, job in enumerate(jobs):
            pending[pool.submit(_work, index, job)] = (index, job)
            if len(pending) >= 2 * workers:
                _drain(pending, on_result, FIRST_COMPLETED)
        while pending:
            _drain(pending, on_result, ALL_COMPLETED)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _drain(
    pending: dict[Future[tuple[int, FileResult]], tuple[int, Job]],
    on_result: Callable[[int, FileResult], None],
    until: str,
) -> None:
    done, _ = wait(pending, return_when=until)
    for future in done:
        index, job = pending.pop(future)
        try:
            _, result = future.result()
        except WorkerStartError as exc:  # no worker can analyse anything: stop, as in-process would
            raise exc.error from None
        except Exception as exc:  # the worker died (crash, OOM kill): the file is unsafe
            result = failed(job, AnalysisError(f"worker process failed ({type(exc).__name__})"))
        on_result(index, result)
