"""Jobs: an input file and where its output goes, planned from the paths a user gave."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from redact import discover
from redact.config import Settings
from redact.errors import OutputError
from redact.media import default_output_path
from redact.types import Mode


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
    # A killed run's temporary files in a folder this run writes to are removed (see
    # redact.batch.run); anywhere else they are listed, so that nobody publishes them unknowingly.
    written_to = {j.output.parent for j in jobs if j.output is not None}
    jobs.extend(j for j in leftovers if j.path.parent not in written_to)
    return jobs


def refuse_overwrites(jobs: Sequence[Job], report: Path | None = None) -> None:
    """Raise :class:`OutputError` when anything the run would write is one of its inputs.

    Checked before anything is written: an output that is another input (``clean a.jpg
    b/a.jpg -o b``), or a ``report`` file that is an input, an output, or an existing photo
    or video (``--report *.jpg`` makes the first photo the report's path).  Files are
    compared as the file system sees them (links, ``..``, hard links, case-insensitive names).
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
