"""A run over many files: the baseline and cache gate, then scheduling on the cores asked for.

One bad file never stops the others; results keep job order.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from redact import discover, executor, interrupt
from redact.analysis import Analyzer
from redact.baseline import Baseline
from redact.cache import ResultCache
from redact.config import Settings
from redact.cores import thread_budget_of, usable_cores, worker_plan
from redact.errors import InputError, OutputError
from redact.jobs import Job
from redact.media.atomic import sweep_leftovers
from redact.outcome import failed
from redact.process import process
from redact.types import FileResult, Mode, Status


def run(
    jobs: Sequence[Job],
    mode: Mode,
    settings: Settings,
    on_result: Callable[[FileResult], None] | None = None,
    *,
    cores: int | None = None,
    cache_dir: Path | None = None,
    baseline: Baseline | None = None,
    on_progress: Callable[[Path, int, int], None] | None = None,
) -> list[FileResult]:
    """Process every job; one bad file never stops the others.  Results keep job order.

    ``cores`` is how many CPU cores to use (``--jobs``; default: every usable core).
    Files run in ``min(cores, files)`` worker processes (models loaded once per worker; a
    single file runs in this process), each with a thread budget of ``cores // workers``
    (:mod:`redact.cores`): ``cores=1`` uses one core, and a single file gets them all.
    With ``cache_dir`` (clean mode), files whose input, settings and output are unchanged
    since the last run there are not processed again.  Files a ``baseline`` approves pass
    as clean without analysis.  ``on_progress(path, done, total)`` reports frames of videos.
    """
    results: list[FileResult | None] = [None] * len(jobs)
    cache = ResultCache(cache_dir, settings) if cache_dir is not None and mode is Mode.CLEAN else None
    claimed: dict[Path, Path] = {}
    todo: list[tuple[int, Job]] = []

    def finish(index: int, result: FileResult) -> None:
        results[index] = result
        job = jobs[index]
        if cache is not None and job.output is not None and "cached" not in result.notes:
            cache.store(job.path, job.output, result)
        if on_result is not None:
            on_result(result)

    if mode is Mode.CLEAN:  # what killed runs left half-written where this one writes
        for folder in {j.output.parent for j in jobs if j.output is not None}:
            sweep_leftovers(folder)
    try:
        for index, job in enumerate(jobs):
            early = _precheck(job, claimed)
            if early is None and baseline is not None and os.path.isfile(job.path) and baseline.approves(job.path):
                early = FileResult(job.path, Status.CLEAN, notes=("approved in baseline",))
            if early is None and cache is not None and job.output is not None:
                early = cache.lookup(job.path, job.output)
            if early is not None:
                finish(index, early)
            else:
                todo.append((index, job))
        if todo:
            cores = usable_cores() if cores is None else max(1, cores)
            # A file run here may use all the cores asked for; pool workers get their
            # share (worker_plan).
            with thread_budget_of(cores):
                _run_todo(todo, mode, settings, cores, finish, on_progress)
    finally:
        if cache is not None:
            cache.save()
    return [r for r in results if r is not None]


def _run_todo(
    todo: list[tuple[int, Job]],
    mode: Mode,
    settings: Settings,
    cores: int,
    finish: Callable[[int, FileResult], None],
    on_progress: Callable[[Path, int, int], None] | None,
) -> None:
    """Process the ``(index, job)`` pairs of :func:`run` that need analysis, on ``cores`` cores.

    A single file runs here, with this process's thread budget (all the cores asked for).
    More go to a pool of worker processes, even with one core: a file that crashes or
    hangs its worker then fails alone (see :func:`redact.executor.run_parallel`) instead
    of ending the batch.  The workers build their own detectors (no probe here: a worker
    that cannot, say for a missing model, stops the run with that error at its first file).
    """
    if len(todo) == 1:
        [(index, job)] = todo
        analyzer = Analyzer(settings)
        try:
            report = None if on_progress is None else functools.partial(on_progress, job.path)
            with interrupt.job():  # a stop request while its output is renamed waits for the report
                finish(index, process(job, mode, analyzer, report))
        finally:
            analyzer.close()
        return
    workers, threads = worker_plan(cores, len(todo))
    # Longest work first, so no worker is left with a long file while the others sit idle
    # at the end of the batch: videos (each takes many photos' time), then photos by size.
    ordered = sorted(todo, key=lambda item: (not _is_video(item[1].path), -_size(item[1].path)))
    order = [i for i, _ in ordered]
    executor.run_parallel(
        [j for _, j in ordered],
        mode,
        settings,
        workers,
        lambda k, result: finish(order[k], result),
        threads,
        on_progress,
    )


def _is_video(path: Path) -> bool:
    return discover.sniff_file(path) is discover.MediaType.VIDEO


def _size(path: Path) -> int:
    """File size in bytes, 0 when it cannot be read (the file then fails on its own)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _precheck(job: Job, claimed: dict[Path, Path]) -> FileResult | None:
    """Fail jobs that cannot be processed at all, before any model work."""
    started = time.perf_counter()
    if job.problem is not None:
        return failed(job, InputError(job.problem, job.path), started)
    if os.path.isdir(job.path):
        return failed(job, InputError("no image files found in this folder", job.path), started)
    special = discover.special_file(job.path)
    if special is not None:  # a FIFO or device: reading it (a hash, a decoder) could block forever
        return failed(job, InputError(f"not a regular file ({special}): never opened", job.path), started)
    if job.output is not None:
        key = job.output.resolve()
        if key in claimed:
            return failed(job, OutputError(f"output {job.output} is already written for {claimed[key]}"), started)
        claimed[key] = job.path
    return None
