"""One file -> :class:`~redact.types.FileResult`, and a run over many files.

Stages, in order: load (orientation applied, metadata left behind) -> detect ->
policy (what to cover, how) -> obscure -> write (atomic, pixels only) -> result.
Every failure becomes a FAILED result: a file that was not fully analysed is never
reported clean.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from redact import detect, obscure, policy
from redact.config import Settings
from redact.errors import AnalysisError, ExitCode, InputError, OutputError, RedactError
from redact.media import default_output_path, load_image, output_would_overwrite, save_image
from redact.types import FileResult, Finding, Mode, Status

#: File name endings picked up when a folder is given.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif"})


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of work: an input and where its output goes (picklable, for workers)."""

    path: Path
    output: Path | None = None


class Analyzer:
    """The loaded detectors; build once (per worker) and reuse for every file."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.detectors = [detect.create(settings.face_detector, settings)]

    def analyse(self, pixels: detect.RGBImage) -> list[Finding]:
        """Every finding of every detector; any detector failure fails the file."""
        rgb = pixels[..., :3] if pixels.ndim == 3 and pixels.shape[2] == 4 else pixels
        findings: list[Finding] = []
        for detector in self.detectors:
            try:
                findings.extend(detector.detect(rgb))
            except RedactError:
                raise
            except Exception as exc:  # fail closed: an unfinished analysis is unsafe
                # Only the exception type: its message might quote what was read.
                raise AnalysisError(f"{detector.name} detector failed ({type(exc).__name__})") from exc
        return findings


def process(job: Job, mode: Mode, analyzer: Analyzer) -> FileResult:
    """Run every stage on one file; errors become a FAILED result, never an exception."""
    started = time.perf_counter()
    settings = analyzer.settings
    try:
        if mode is Mode.CLEAN and job.output is None:
            raise OutputError("no output path", job.path)
        if mode is Mode.CLEAN and job.output is not None:
            output_would_overwrite(job.path, job.output)  # before any work: fail fast
        image = load_image(job.path, settings)
        height, width = image.pixels.shape[:2]
        findings = analyzer.analyse(image.pixels)
        output = None
        if mode is Mode.CLEAN:
            assert job.output is not None
            covers = policy.plan(findings, settings, width, height)
            pixels = obscure.apply(image.pixels, covers, settings) if covers else image.pixels
            output = save_image(pixels, job.output, image.output_format, settings, source=job.path)
            status = Status.REDACTED if findings else Status.CLEAN
        else:
            status = Status.FINDINGS if findings else Status.CLEAN
        return FileResult(
            path=job.path,
            status=status,
            findings=tuple(findings),
            output=output,
            size=(width, height),
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )
    except RedactError as exc:
        return _failed(job, exc, started)
    except (MemoryError, RecursionError) as exc:
        return _failed(job, AnalysisError(f"ran out of resources ({type(exc).__name__})"), started)


def _failed(job: Job, exc: RedactError, started: float) -> FileResult:
    # The result already names the input; keep any other path the error names.
    message = exc.message if exc.path in (None, job.path) else str(exc)
    return FileResult(
        path=job.path,
        status=Status.FAILED,
        error=message,
        exit_code=int(exc.exit_code),
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


def expand(paths: Sequence[Path]) -> Iterator[tuple[Path, Path | None]]:
    """Each input file with the folder it was found under (``None`` for a named file).

    Folders are walked recursively for image files; a named path is passed through as
    it is, so that a missing or unreadable one is reported as a failure, not skipped.
    """
    for path in paths:
        if path.is_dir():
            found = False
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in IMAGE_SUFFIXES and not _hidden(child, path):
                    found = True
                    yield child, path
            if not found:
                yield path, None  # reported as "no images found"
        else:
            yield path, None


def _hidden(child: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in child.relative_to(root).parts)


def plan_jobs(paths: Sequence[Path], mode: Mode, outdir: Path | None) -> list[Job]:
    """The jobs for ``paths``; in clean mode each gets a distinct output path."""
    jobs: list[Job] = []
    for path, root in expand(paths):
        output = default_output_path(path, outdir, root) if mode is Mode.CLEAN else None
        jobs.append(Job(path, output))
    return jobs


def run(
    jobs: Iterable[Job],
    mode: Mode,
    settings: Settings,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Process every job in order; one bad file never stops the others."""
    analyzer = Analyzer(settings)
    results: list[FileResult] = []
    claimed: dict[Path, Path] = {}
    for job in jobs:
        result = _precheck(job, claimed) or process(job, mode, analyzer)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def _precheck(job: Job, claimed: dict[Path, Path]) -> FileResult | None:
    """Fail jobs that cannot be processed at all, before any model work."""
    started = time.perf_counter()
    if job.path.is_dir():
        return _failed(job, InputError("no image files found in this folder", job.path), started)
    if job.output is not None:
        key = job.output.resolve()
        if key in claimed:
            return _failed(job, OutputError(f"output {job.output} is already written for {claimed[key]}"), started)
        claimed[key] = job.path
    return None


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
