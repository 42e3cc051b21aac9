"""What results mean: a file's status, a FAILED result, and a run's exit code."""

from __future__ import annotations

import time
from collections.abc import Sequence

from redact.errors import ExitCode, RedactError
from redact.jobs import Job
from redact.types import LEAKY_METADATA, FileResult, Finding, Flag, Mode, Status


def outcome(mode: Mode, findings: Sequence[Finding], flags: Sequence[Flag], metadata: Sequence[str]) -> Status:
    """The status of a fully analysed file: what was covered (clean) or what needs covering (scan).

    In scan mode, hidden metadata that leaks PHI (GPS, an embedded thumbnail) counts too.
    """
    if mode is Mode.CLEAN:
        return Status.REDACTED if findings else Status.CLEAN
    leaky = any(m in LEAKY_METADATA for m in metadata)
    return Status.FINDINGS if findings or flags or leaky else Status.CLEAN


def failed(job: Job, exc: RedactError, started: float | None = None) -> FileResult:
    """A FAILED result for ``job`` carrying ``exc``'s one-line message and exit code."""
    # The result already names the input; keep any other path the error names.
    message = exc.message if exc.path in (None, job.path) else str(exc)
    return FileResult(
        path=job.path,
        status=Status.FAILED,
        error=message,
        exit_code=int(exc.exit_code),
        elapsed_ms=(time.perf_counter() - started) * 1000 if started is not None else 0.0,
    )


def exit_code(results: Sequence[FileResult], mode: Mode) -> ExitCode:
    """The process status for a run.

    Findings or flags in scan mode give 1; otherwise a failure of the only file gives
    that file's own code and failures in a batch give 6.
    """
    failed = [r for r in results if r.status is Status.FAILED]
    if mode is Mode.SCAN and any(r.status is Status.FINDINGS or r.flags for r in results):
        return ExitCode.FINDINGS
    if failed:
        return ExitCode(failed[0].exit_code) if len(results) == 1 else ExitCode.BATCH_FAILED
    return ExitCode.OK
