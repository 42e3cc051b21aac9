"""Which files a run looks at: folders walked, media picked by content, globs applied.

A file is picked from a folder when its first bytes say it is an image or a video, or
when its name says so (so a damaged ``.jpg`` is reported as a failure, never skipped).
Files named on the command line are always taken as they are.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif", ".gif", ".avif"}
)
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".3gp"})

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}


class MediaType(enum.StrEnum):
    """What a file's first bytes say it is."""

    IMAGE = "image"
    VIDEO = "video"
    OTHER = "other"


def sniff(head: bytes) -> MediaType:
    """Classify a file by its first 32 bytes."""
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")):
        return MediaType.IMAGE
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType.IMAGE
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return MediaType.VIDEO
    if head[4:8] == b"ftyp":
        return MediaType.IMAGE if head[8:12] in _HEIF_BRANDS else MediaType.VIDEO
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska / WebM
        return MediaType.VIDEO
    return MediaType.OTHER


def sniff_file(path: Path) -> MediaType:
    """Classify ``path`` by content (``OTHER`` when it cannot be read)."""
    try:
        with path.open("rb") as fh:
            return sniff(fh.read(32))
    except OSError:
        return MediaType.OTHER


def _named_media(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in IMAGE_SUFFIXES or suffix in VIDEO_SUFFIXES


def _matches(relative: PurePosixPath, patterns: Sequence[str]) -> bool:
    text = relative.as_posix()
    return any(fnmatch.fnmatchcase(text, p) or relative.match(p) for p in patterns)


def walk(
    folder: Path, include: Sequence[str] = (), exclude: Sequence[str] = (), skip: Sequence[Path] = ()
) -> Iterator[Path]:
    """Media files under ``folder``, recursively, in a stable order.

    Hidden files and folders (``.git``, ``.DS_Store``...) and anything under ``skip``
    (e.g. the output folder, when it lies inside the input) are passed over.
    """
    skipped = [s.resolve() for s in skip]
    for child in sorted(folder.rglob("*")):
        relative = PurePosixPath(child.relative_to(folder).as_posix())
        if any(part.startswith(".") for part in relative.parts):
            continue
        if skipped and any(child.resolve().is_relative_to(s) for s in skipped):
            continue
        if not child.is_file() or child.is_symlink():
            continue
        if include and not _matches(relative, include):
            continue
        if exclude and _matches(relative, exclude):
            continue
        if _named_media(child) or sniff_file(child) is not MediaType.OTHER:
            yield child


def expand(
    paths: Sequence[Path], include: Sequence[str] = (), exclude: Sequence[str] = (), skip: Sequence[Path] = ()
) -> Iterator[tuple[Path, Path | None]]:
    """Each input file with the folder it was found under (``None`` for a named file).

    A folder with no media in it is yielded itself, so the run reports it; a named path is
    passed through as it is, so that a missing or unreadable one is reported, not skipped.
    """
    for path in paths:
        if path.is_dir():
            found = False
            for child in walk(path, include, exclude, skip):
                found = True
                yield child, path
            if not found:
                yield path, None
        else:
            yield path, None
