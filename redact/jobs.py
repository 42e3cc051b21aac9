"""Jobs: an input file and where its output goes, planned from the paths a user gave."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from redact import discover
from redact.config import Settings
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
    for path, root in discover.expand(paths, settings.include, settings.exclude, skip):
        # GIF is written as PNG: name it so up front, so collisions are caught in planning.
        fmt = "PNG" if path.suffix.lower() == ".gif" else None
        if mode is not Mode.CLEAN:
            output = None
        elif in_place:
            output = path
        else:
            output = default_output_path(path, outdir, root, fmt)
            if discover.sniff_file(path) is discover.MediaType.VIDEO:
                output = output.with_suffix(".mp4")  # H.264 in MP4, whatever the input container
        jobs.append(Job(path, output, preview, in_place))
    return jobs
