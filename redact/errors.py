"""Exit codes and the typed errors that carry them.

Every error knows its exit code; :func:`redact.cli.app` is the one place that turns
them into a process status.  Messages name the file, never its contents: they must
never echo PHI text.
"""

from __future__ import annotations

import enum
from pathlib import Path


class ExitCode(enum.IntEnum):
    """Process exit statuses, documented in README.md."""

    OK = 0  # every file clean, or redacted copies written
    FINDINGS = 1  # scan/check: PHI found or a file flagged
    USAGE = 2  # bad command line or configuration (Click uses 2 too)
    BAD_INPUT = 3  # unreadable, unsupported, damaged or too large input
    MISSING_DEPENDENCY = 4  # a library, binary or model file is missing or broken
    CANNOT_WRITE = 5  # output cannot be written (or would overwrite the input)
    BATCH_FAILED = 6  # several files given and at least one failed
    ANALYSIS_FAILED = 7  # a detector crashed on a file: the file is unsafe
    INTERRUPTED = 130  # Ctrl-C


class RedactError(Exception):
    """Base class of every error redact reports as a one-line message."""

    exit_code: ExitCode = ExitCode.ANALYSIS_FAILED

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.message = message
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)


class UsageError(RedactError):
    """A bad option value or configuration."""

    exit_code = ExitCode.USAGE


class InputError(RedactError):
    """The input cannot be read, is not a supported image, is damaged or too large."""

    exit_code = ExitCode.BAD_INPUT


class ImageTooLargeError(InputError):
    """The image has more pixels than the configured limit (decompression-bomb guard)."""


class MissingDependencyError(RedactError):
    """A required library, binary or model file is missing or cannot be loaded."""

    exit_code = ExitCode.MISSING_DEPENDENCY


class OutputError(RedactError):
    """The output cannot be written where it was asked to go."""

    exit_code = ExitCode.CANNOT_WRITE


class AnalysisError(RedactError):
    """A detector failed part-way: the file was not fully analysed and is unsafe."""

    exit_code = ExitCode.ANALYSIS_FAILED


def reason(exc: BaseException) -> str:
    """A short single-line reason for ``exc`` (its ``strerror`` when it has one), for messages."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:100]
