"""A pool job function that kills its worker on files named ``crash*`` and hangs on ``hang*``.

tests/test_batch.py puts it in place of :func:`redact.executor._work`; the spawned workers
import this module by name (the tests folder is on their ``sys.path``).
"""

from __future__ import annotations

import os
import time

from redact import executor
from redact.jobs import Job
from redact.media.atomic import temp_beside
from redact.types import FileResult

_real_work = executor._work
_real_process = executor.process


def work(index: int, job: Job) -> tuple[int, FileResult]:
    """Die as a segfault or an out-of-memory kill would, mid-write; else do the real work."""
    if job.path.name.startswith("crash"):
        if job.output is not None:
            job.output.parent.mkdir(parents=True, exist_ok=True)
            temp_beside(job.output).write_bytes(b"half an output")
        os._exit(137)
    # The real job function arms the stall alarm around ``process``.
    executor.process = _hang if job.path.name.startswith("hang") else _real_process  # type: ignore[assignment]
    return _real_work(index, job)


def _hang(*args: object, **kwargs: object) -> None:
    """Never return, as a decoder stuck in native code would not."""
    time.sleep(3600)
