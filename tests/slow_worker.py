"""Run ``redact`` with a slow stand-in for the per-file work, to stop it mid-batch with signals.

``python tests/slow_worker.py ARGS...`` is ``redact ARGS...`` where each file's processing
writes its output slowly through the real atomic writer: files named ``quick*`` take
0.2 s, the others a minute, so a signal finds temporary files in the output folder.  The
detectors are built for real (their helper processes too: Tesseract with the text stage).
Spawned workers import this module by name (the tests folder is on their ``sys.path``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import BinaryIO

from redact import batch, executor
from redact.jobs import Job
from redact.media.atomic import atomic_write
from redact.types import FileResult, Mode, Status

_real_work = executor._work


def slow_process(job: Job, mode: Mode, analyzer: object, progress: object = None) -> FileResult:
    """Write the output over ``0.2 s`` (``quick*``) or 60 s, as a long photo or video would."""
    seconds = 0.2 if job.path.name.startswith("quick") else 60.0

    def write(fh: BinaryIO) -> None:
        fh.write(b"\xff\xd8\xff half an output ")
        fh.flush()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.05)
        fh.write(b"and the rest")

    assert job.output is not None
    atomic_write(job.output, write)
    return FileResult(job.path, Status.REDACTED, output=job.output)


def work(index: int, job: Job) -> tuple[int, FileResult]:
    executor.process = slow_process  # type: ignore[assignment]
    return _real_work(index, job)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    import slow_worker  # by name, so that pool workers can unpickle slow_worker.work

    executor._work = slow_worker.work  # type: ignore[assignment]
    batch.process = slow_worker.slow_process  # type: ignore[assignment]
    from redact.cli import main

    sys.argv[0] = "redact"
    main()
