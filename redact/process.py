"""One file -> :class:`~redact.types.FileResult`.

Stages, in order: load (orientation applied, metadata left behind) -> detect ->
policy (what to cover, how) -> obscure -> write (atomic, pixels only) -> result.
Videos go to :func:`redact.video.process_video`.  Every failure becomes a FAILED result:
a file that was not fully analysed is never reported clean.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from redact import discover
from redact.analysis import Analyzer
from redact.covering import cover, cover_faces_left
from redact.errors import AnalysisError, OutputError, RedactError
from redact.jobs import Job
from redact.media import inplace, load_image, output_would_overwrite, preview_jpeg, save_image
from redact.media.writer import replace_image
from redact.outcome import failed, outcome
from redact.types import FileResult, Kind, Mode


def process(job: Job, mode: Mode, analyzer: Analyzer, progress: Callable[[int, int], None] | None = None) -> FileResult:
    """Run every stage on one file; errors become a FAILED result, never an exception.

    ``progress`` is called with (frames done, frames expected) while a video is processed.
    """
    started = time.perf_counter()
    settings = analyzer.settings
    try:
        if mode is Mode.CLEAN and job.output is None:
            raise OutputError("no output path", job.path)
        if mode is Mode.CLEAN and job.output is not None and not job.in_place:
            output_would_overwrite(job.path, job.output)  # before any work: fail fast
        if mode is Mode.CLEAN and job.in_place:
            inplace.permissions(job.path)  # before any work: a link or a hard-linked file is refused
        if discover.sniff_file(job.path) is discover.MediaType.VIDEO:
            from redact.video import process_video

            return process_video(job, mode, analyzer, progress)
        image = load_image(job.path, settings)
        analysis = analyzer.analyse_renderings(image.rgb, image.renderings.draw())
        covered, findings = cover(image.pixels, analysis.findings, analyzer, image.width, image.height)
        output = None
        if mode is Mode.CLEAN and settings.face_recheck and any(f.kind is Kind.FACE for f in findings):
            covered, findings = cover_faces_left(covered, findings, analyzer, image.width, image.height)
        if mode is Mode.CLEAN and job.in_place:
            output = replace_image(covered, job.path, image.format, settings)
        elif mode is Mode.CLEAN:
            assert job.output is not None
            output = save_image(covered, job.output, image.output_format, settings, source=job.path)
        status = outcome(mode, findings, analysis.flags, image.metadata)
        return FileResult(
            path=job.path,
            status=status,
            findings=tuple(findings),
            flags=tuple(analysis.flags),
            output=output,
            size=image.size,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            notes=(*image.notes, *analysis.notes),
            metadata=image.metadata,
            preview=preview_jpeg(covered) if job.preview else None,
            kept=analysis.kept_counts(),
        )
    except RedactError as exc:
        return failed(job, exc, started)
    except Exception as exc:  # a bug or exhausted resources: this file is unsafe, the rest go on
        return failed(job, AnalysisError(f"internal error ({type(exc).__name__})"), started)
