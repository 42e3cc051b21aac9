"""How many CPU cores this process may use, and how many threads the analysis may keep busy.

``--jobs N`` means "use up to N cores" (as in OCRmyPDF): a batch runs ``min(N, files)``
worker processes and each gets a *thread budget* of ``N // workers`` cores.  Every thread
pool inside the analysis reads :func:`thread_budget` when it is built -- the onnxruntime
sessions, OpenCV (set here), the zxing threads in the barcode detector, the video
decoder and encoder -- so ``--jobs 1`` really uses one core and two workers do not fight
over the same two cores.  Without a budget set, the analysis may use every usable core.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

_budget: int | None = None


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity (containers, taskset) where known."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def thread_budget() -> int:
    """Threads the analysis in this process may keep busy: the budget set, at most the usable cores."""
    cores = usable_cores()
    return cores if _budget is None else max(1, min(_budget, cores))


def worker_plan(jobs: int, files: int) -> tuple[int, int]:
    """``(worker processes, threads each)`` for ``files`` files with ``--jobs jobs`` cores.

    One worker per file up to ``jobs``; the cores are shared out among them, so a single
    file still gets all ``jobs`` cores.
    """
    jobs = max(1, jobs)
    workers = max(1, min(jobs, files))
    return workers, max(1, jobs // workers)


def set_thread_budget(threads: int | None) -> None:
    """Set this process's thread budget (``None``: every usable core), OpenCV's included.

    Detectors read the budget when they are built: set it before building an ``Analyzer``.
    """
    global _budget
    _budget = None if threads is None else max(1, threads)
    import cv2

    cv2.setNumThreads(thread_budget())


@contextmanager
def thread_budget_of(threads: int) -> Iterator[None]:
    """Run the body with a thread budget of ``threads``; the previous budget is restored after."""
    previous = _budget
    set_thread_budget(threads)
    try:
        yield
    finally:
        set_thread_budget(previous)
