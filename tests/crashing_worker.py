"""A pool job function that kills its worker process on files named ``crash*``.

tests/test_batch.py puts it in place of :func:`redact.executor._work`; the spawned workers
import this module by name (the tests folder is on their ``sys.path``).
"""

from __future__ import annotations

import os

from redact import executor
from redact.pipeline import Job
from redact.types import FileResult

_real_work = executor._work


def work(index: int, job: Job) -> tuple[int, FileResult]:
    """Die as a segfault or an out-of-memory kill would, without cleanup; else do the real work."""
    if job.path.name.startswith("crash"):
        os._exit(137)
    return _real_work(index, job)
