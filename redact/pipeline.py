"""One file -> :class:`~redact.types.FileResult`, and a run over many files.

Stages, in order: load (orientation applied, metadata left behind) -> detect ->
policy (what to cover, how) -> obscure -> write (atomic, pixels only) -> result.
Every failure becomes a FAILED result: a file that was not fully analysed is never
reported clean.
"""

from __future__ import annotations

import functools
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from redact import detect, discover, interrupt, obscure, policy, records
from redact.baseline import Baseline
from redact.cache import ResultCache
from redact.config import Settings, TextMode
from redact.cores import thread_budget_of, usable_cores, worker_plan
from redact.detect.text import TextDetector
from redact.detect.text.layout import Line
from redact.errors import AnalysisError, ExitCode, InputError, OutputError, RedactError
from redact.media import default_output_path, inplace, load_image, output_would_overwrite, preview_jpeg, save_image
from redact.media.atomic import sweep_leftovers
from redact.media.writer import replace_image
from redact.types import LEAKY_METADATA, FileResult, Finding, Flag, Kind, Mode, Status

if TYPE_CHECKING:
    from redact.consent import ConsentMatcher


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of work: an input and where its output goes (picklable, for workers)."""

    path: Path
    output: Path | None = None
    #: Attach a small JPEG of the covered image to the result (for HTML review pages).
    preview: bool = False
    #: Replace the input with its redacted version (``clean --in-place``, for hooks).
    in_place: bool = False
    #: Why the input cannot be analysed at all (found while walking a folder): it fails as is.
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the detectors found in one image, and the whole-image judgement."""

    findings: list[Finding]
    flags: list[Flag]
    notes: list[str]
    #: Faces left visible because they matched the consent list, with the enrolled name.
    kept: list[tuple[Finding, str]] = field(default_factory=list)

    def kept_counts(self) -> tuple[tuple[str, int], ...]:
        """``(name, faces kept)`` pairs, sorted by name."""
        return tuple(sorted(Counter(name for _, name in self.kept).items()))


class Analyzer:
    """The loaded detectors; build once (per worker) and reuse for every file."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        names = {"faces": settings.face_detector, "text": "text", "barcodes": "barcodes"}
        self.detectors = [detect.create(names[stage], settings) for stage in settings.stages]
        #: Consent matching (``settings.consent_store``); a broken dlib or store fails here, at once.
        self.consent: ConsentMatcher | None = None
        if settings.consent_store is not None:
            from redact.consent import ConsentMatcher

            self.consent = ConsentMatcher.from_path(settings.consent_store, settings.consent_tolerance)

    def analyse(self, pixels: detect.RGBImage, faces: bool = True) -> Analysis:
        """Run every detector on RGB ``pixels`` and judge the image; any failure fails the file.

        ``faces=False`` leaves the face detector out (video runs its own face passes).
        """
        findings: list[Finding] = []
        text: TextDetector | None = None
        lines: list[Line] = []
        for detector in self.detectors:
            if not faces and getattr(detector, "kind", None) is Kind.FACE:
                continue
            with guard(detector.name):
                if isinstance(detector, TextDetector):
                    text, lines = detector, detector.analyse(pixels)
                    findings.extend(detector.findings(lines, self.settings.text_mode))
                else:
                    findings.extend(detector.detect(pixels))
        findings, kept = self.apply_consent(pixels, findings)
        labels = [line.field_entity for line in lines if line.is_field_label and line.field_entity]
        flags = records.judge(records.Evidence.gather(findings, labels), self.settings)
        notes: list[str] = []
        if flags and text is not None and self.settings.text_mode is not TextMode.ALL:
            # A patient record: every piece of text in it goes, not only what read as PHI.
            with guard(text.name):
                findings = [f for f in findings if f.kind is not Kind.TEXT] + text.findings(lines, TextMode.ALL)
            notes.append("looks like a patient record: all text covered; a person should review it")
        return Analysis(findings, flags, notes, kept)

    def apply_consent(
        self, pixels: detect.RGBImage, findings: list[Finding]
    ) -> tuple[list[Finding], list[tuple[Finding, str]]]:
        """Split off the faces the consent list keeps visible: ``(to cover, kept with names)``.

        Without a consent store nothing is kept.  Any error fails the file (never uncovers).
        """
        faces = [f for f in findings if f.kind is Kind.FACE]
        if self.consent is None or not faces:
            return findings, []
        with guard("consent matching"):
            names = self.consent.keep(pixels, faces)
        chosen = {id(face): name for face, name in zip(faces, names, strict=True) if name is not None}
        cover = [f for f in findings if id(f) not in chosen]
        kept = [(f, chosen[id(f)]) for f in findings if id(f) in chosen]
        return cover, kept

    def faces_left(self, covered: detect.RGBImage) -> list[Finding]:
        """Faces the face detector still finds on ``covered`` pixels, less the consented ones."""
        found: list[Finding] = []
        for detector in self.detectors:
            if getattr(detector, "kind", None) is Kind.FACE:
                with guard(detector.name):
                    found.extend(detector.detect(covered))
        return self.apply_consent(covered, found)[0]

    def close(self) -> None:
        """Stop the detectors' helper processes (e.g. the pre-started Tesseract)."""
        for detector in self.detectors:
            close = getattr(detector, "close", None)
            if callable(close):
                close()

    def verify(self, covered: detect.RGBImage, findings: Sequence[Finding]) -> list[Finding]:
        """Self-check on the covered image: PHI text still readable, codes that still decode."""
        leaks: list[Finding] = []
        for detector in self.detectors:
            check = getattr(detector, "verify", None)
            if check is None:
                continue
            with guard(f"{detector.name} self-check"):
                leaks.extend(check(covered, findings))
        return leaks


@contextmanager
def guard(name: str) -> Iterator[None]:
    """Fail closed: any detector error means the file was not fully analysed."""
    try:
        yield
    except RedactError:
        raise
    except Exception as exc:
        # Only the exception type: its message might quote what was read.
        raise AnalysisError(f"{name} failed ({type(exc).__name__})") from exc


def cover(
    image: detect.RGBImage, findings: list[Finding], analyzer: Analyzer, width: int, height: int
) -> tuple[detect.RGBImage, list[Finding]]:
    """Cover ``findings``, self-check the result, and cover again what still shows.

    Returns the covered pixels and every finding covered (including any the self-check
    added).  Raises :class:`AnalysisError` when PHI is still readable after a second round:
    such a file must never pass as safe.
    """
    settings = analyzer.settings
    covered = obscure.apply(image, policy.plan(findings, settings, width, height), settings) if findings else image
    if not findings:
        return covered, findings
    for _ in range(2):
        leaks = analyzer.verify(np.ascontiguousarray(covered[..., :3]), findings)
        if not leaks:
            return covered, findings
        findings = findings + leaks
        covered = obscure.apply(covered, policy.plan(leaks, settings, width, height), settings)
    raise AnalysisError(f"{len(leaks)} region(s) still readable after covering twice")


#: Rounds of :func:`cover_faces_left`.
FACE_RECHECKS = 2


def cover_faces_left(
    covered: detect.RGBImage, findings: list[Finding], analyzer: Analyzer, width: int, height: int
) -> tuple[detect.RGBImage, list[Finding]]:
    """Look for faces again on the covered pixels and cover what is found (``clean`` only).

    A mosaic can still look face-like, and a face's cover can unmask a face-like patch next
    to it; ``redact check`` on the written copy would then flag it again.  Covering what the
    detector still finds, up to :data:`FACE_RECHECKS` times, keeps ``clean``'s output clean by
    ``check``'s measure (see benchmarks/README.md#faces).
    """
    settings = analyzer.settings
    for _ in range(FACE_RECHECKS):
        again = analyzer.faces_left(np.ascontiguousarray(covered[..., :3]))
        if not again:
            break
        covered = obscure.apply(covered, policy.plan(again, settings, width, height), settings)
        findings = _merge_faces(findings, again, width, height)
    return covered, findings


def _merge_faces(findings: list[Finding], again: list[Finding], width: int, height: int) -> list[Finding]:
    """Add ``again`` to ``findings``; one that overlaps a face already found widens its box.

    A face found again on its own cover is the same face: reports count it once, with a box
    that spans both covers (clipped to the ``width`` x ``height`` frame).
    """
    merged = list(findings)
    for extra in again:
        for i, known in enumerate(merged):
            if known.kind is Kind.FACE and known.box.intersection(extra.box) > 0:
                box = known.box.union(extra.box)
                merged[i] = replace(known, box=box.clip(width, height) or box)
                break
        else:
            merged.append(extra)
    return merged


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
        analysis = analyzer.analyse(image.rgb)
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


def plan_jobs(
    paths: Sequence[Path],
    mode: Mode,
    outdir: Path | None,
    settings: Settings | None = None,
    preview: bool = False,
    in_place: bool = False,
) -> list[Job]:
    """The jobs for ``paths`` (folders walked); in clean mode each gets an output path."""
    settings = settings or Settings()
    skip = [outdir] if outdir is not None else []
    jobs: list[Job] = []
    leftovers: list[Job] = []
    for entry in discover.expand(paths, settings.include, settings.exclude, skip):
        path = entry.path
        if entry.problem is not None:
            (leftovers if entry.leftover else jobs).append(Job(path, problem=entry.problem))
            continue
        # GIF is written as PNG: name it so up front, so collisions are caught in planning.
        fmt = "PNG" if path.suffix.lower() == ".gif" else None
        if mode is not Mode.CLEAN:
            output = None
        elif in_place:
            output = path
        else:
            # H.264 in MP4 for a video, whatever the input container
            video = discover.sniff_file(path) is discover.MediaType.VIDEO
            output = default_output_path(path, outdir, entry.root, fmt, ".mp4" if video else None)
        jobs.append(Job(path, output, preview, in_place))
    # A killed run's temporary files in a folder this run writes to are removed (see run());
    # anywhere else they are listed, so that nobody publishes them unknowingly.
    written_to = {j.output.parent for j in jobs if j.output is not None}
    jobs.extend(j for j in leftovers if j.path.parent not in written_to)
    return jobs


def refuse_overwrites(jobs: Sequence[Job], report: Path | None = None) -> None:
    """Raise :class:`OutputError` when anything the run would write is one of its inputs.

    Checked before anything is written: an output that is another input (``clean a.jpg
    b/a.jpg -o b``), or a ``report`` file that is an input, an output, or an existing
    photo or video (``--report *.jpg`` makes the first photo the report's path).  Paths are compared
    as the file system sees them (links, ``..``, hard links, case-insensitive names).
    """
    inputs = {key: job.path for job in jobs if job.problem is None and (key := _identity(job.path)) is not None}
    for job in jobs:
        if job.output is None or job.in_place:
            continue
        key = _identity(job.output)
        other = inputs.get(key) if key is not None else None
        if other is not None and other != job.path:
            raise OutputError(f"the output of {job.path} would overwrite the input {other}: choose another folder")
    if report is None:
        return
    key = _identity(report)
    if key is not None and key in inputs:
        raise OutputError(f"--report would overwrite the input {inputs[key]}", report)
    if key is not None and discover.sniff_file(report) is not discover.MediaType.OTHER:
        # e.g. ``--report *.jpg``: the shell made the first photo the report's path
        raise OutputError("--report would overwrite a photo or video (not an earlier report)", report)
    target = _real(report)
    for job in jobs:
        if job.output is not None and _real(job.output) == target:
            raise OutputError(f"--report would overwrite the output of {job.path}", report)


def _identity(path: Path) -> tuple[int, int] | None:
    """The file ``path`` names (device, inode), or ``None`` when there is none (yet)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_dev, info.st_ino) if info.st_ino else None


def _real(path: Path) -> str:
    return os.path.normcase(os.path.realpath(path))


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
    from redact.executor import run_parallel

    # Longest work first, so no worker is left with a long file while the others sit idle
    # at the end of the batch: videos (each takes many photos' time), then photos by size.
    ordered = sorted(todo, key=lambda item: (not _is_video(item[1].path), -_size(item[1].path)))
    order = [i for i, _ in ordered]
    run_parallel(
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
    if job.output is not None:
        key = job.output.resolve()
        if key in claimed:
            return failed(job, OutputError(f"output {job.output} is already written for {claimed[key]}"), started)
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
