"""``clean --in-place``: replace a file with its redacted version, under the same name.

The file keeps its name and permission bits.  Its format follows its *name* (what web
servers, site generators and editors go by), so a ``.gif`` stays a GIF and a JPEG named
``.png`` becomes a real PNG; a name that says no format we write keeps the content's
format.  Anything that cannot be replaced faithfully is refused (the file then fails and
stays as it was): a symbolic link (its target would change, not the staged file), a file
with other hard links (they would keep the original), a video container we do not write.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from redact.errors import OutputError, reason
from redact.media import formats, heif

#: Image formats by name; GIF is written as GIF here (a new copy is written as PNG).
_BY_SUFFIX: dict[str, str] = {s: fmt for fmt, group in formats.SUFFIXES.items() for s in group} | {".gif": "GIF"}

#: Video names whose container we write (H.264 in MP4/QuickTime/Matroska).
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv"})


def permissions(path: Path) -> int:
    """The permission bits ``path``'s replacement gets; raises :class:`OutputError` if it cannot be replaced."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise OutputError(f"cannot replace the file ({reason(exc)})", path) from None
    if stat.S_ISLNK(info.st_mode):
        raise OutputError("is a symbolic link: --in-place replaces regular files only (name its target)", path)
    if not stat.S_ISREG(info.st_mode):
        raise OutputError("not a regular file: --in-place cannot replace it", path)
    if info.st_nlink > 1:
        raise OutputError(
            f"has {info.st_nlink - 1} other hard link(s) that --in-place would leave unredacted: use -o", path
        )
    return stat.S_IMODE(info.st_mode)


def image_format(path: Path, content_format: str) -> str:
    """The format to write over ``path`` (see the module notes); ``content_format`` is what it holds."""
    fmt = _BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        fmt = "GIF" if content_format == "GIF" else formats.canonical(content_format)
    if fmt == "HEIF" and not heif.can_encode():
        raise OutputError("cannot write HEIF here, so it cannot be replaced in place: use -o", path)
    return fmt


def check_video(path: Path) -> None:
    """Refuse a video whose name says a container we do not write (an MP4 named ``.avi`` would mislead)."""
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        shown = path.suffix or "(no suffix)"
        raise OutputError(f"--in-place cannot write a {shown} video (only .mp4 .m4v .mov .mkv): use -o", path)
