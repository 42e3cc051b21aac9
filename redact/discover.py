"""Which files a run looks at: folders walked, media picked by content, globs applied.

A walk never skips a file silently.  Every entry under a walked folder is one of:

* **media** (picked by its first bytes, or by its name so that a damaged ``.jpg`` is
  reported as a failure): analysed;
* **not checked**, with a one-line reason that the run lists as FAILED: an unreadable
  file or folder, a FIFO/socket/device (never opened: reading one can block forever), a
  broken symbolic link or one that leads out of the walked folder, a file redact cannot
  analyse although it can hold pictures (DICOM, PDF, camera RAW, archives, Office files...),
  or a temporary file an interrupted run left behind;
* anything else (text, code, fonts, audio...): not media, passed over.

Hidden files and folders (``.name``, ``.git`` included) are walked like any other: a
hidden photo is published with its folder all the same.  Symbolic links are followed
while they stay inside the walked folder; each folder is walked once (no loops).  Only
the output folder of the run itself (when it lies inside an input) is left out.
Files named on the command line are always taken as they are.
"""

from __future__ import annotations

import enum
import fnmatch
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from redact.errors import reason
from redact.media.atomic import LEFTOVER_NAME

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif", ".hif", ".gif"}
    | {".avif"}
)
#: Video names.  ``.ts`` and ``.mts`` are left out: they are TypeScript far more often than
#: MPEG transport streams, which are recognised by content whatever their name.
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".3gp", ".3g2", ".m2ts", ".mpg", ".mpeg"}
    | {".vob", ".flv", ".wmv", ".asf", ".ogv", ".mxf", ".rm", ".rmvb"}
)
_RAW = (".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".orf", ".rw2", ".raf", ".pef", ".srw")
_RAW_MORE = (".x3f", ".3fr", ".erf", ".kdc", ".mrw")
#: Names of files that can hold pictures but that redact cannot analyse: never passed over
#: (an SVG only when it embeds or links a picture).
UNSUPPORTED_SUFFIXES: dict[str, str] = {
    **dict.fromkeys((".dcm", ".dicom"), "DICOM"),
    ".pdf": "PDF",
    **dict.fromkeys((".ps", ".eps"), "PostScript"),
    ".psd": "Photoshop",
    **dict.fromkeys((".jp2", ".j2k", ".jpx", ".jpf"), "JPEG 2000"),
    ".jxl": "JPEG XL",
    **dict.fromkeys((".ico", ".cur"), "icon"),
    ".svg": "SVG",
    **dict.fromkeys((*_RAW, *_RAW_MORE), "camera RAW"),
    **dict.fromkeys((".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".epub", ".doc", ".xls", ".ppt"), "document"),
    **dict.fromkeys((".zip", ".7z", ".rar", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".zst"), "archive"),
}

#: Bytes read to classify a file (DICOM's marker is at offset 128, MPEG-TS needs 3 packets).
HEAD_BYTES = 4096

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}



class MediaType(enum.StrEnum):
    """What a file's first bytes say it is."""

    IMAGE = "image"
    VIDEO = "video"
    UNSUPPORTED = "unsupported"  # can hold pictures, but redact cannot analyse it
    OTHER = "other"


def sniff(head: bytes) -> MediaType:
    """Classify a file by its first bytes (up to :data:`HEAD_BYTES`)."""
    return identify(head)[0]


def identify(head: bytes) -> tuple[MediaType, str]:
    """``(media type, what it is)`` from a file's first bytes; the name is for messages."""
    for check in (_image, _video, _unsupported):
        found = check(head)
        if found is not None:
            return found
    return MediaType.OTHER, ""


def _image(head: bytes) -> tuple[MediaType, str] | None:
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")):
        return MediaType.IMAGE, "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType.IMAGE, "WebP"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return MediaType.IMAGE, "HEIF"
    return None


def _video(head: bytes) -> tuple[MediaType, str] | None:
    video = MediaType.VIDEO
    if head[4:8] == b"ftyp":
        if head[8:12] == b"crx ":
            return MediaType.UNSUPPORTED, "camera RAW (CR3)"
        return video, "audio" if head[8:12] in _AUDIO_BRANDS else "MP4/QuickTime"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return video, "AVI"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return video, "Matroska/WebM"
    if _packets(head, 0, 188) or _packets(head, 4, 192):
        return video, "MPEG transport stream"
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return video, "MPEG program stream"
    if head.startswith(b"FLV\x01"):
        return video, "Flash video"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c"):
        return video, "ASF/Windows Media"
    if head.startswith(b"OggS") and any(c in head for c in (b"\x80theora", b"\x80daala", b"dirac", b"fishead")):
        return video, "Ogg video"
    if head.startswith((b".RMF", b"\x06\x0e\x2b\x34\x02\x05\x01\x01")):
        return video, "RealMedia/MXF"
    return None


def _packets(head: bytes, offset: int, size: int) -> bool:
    """MPEG-TS (188-byte packets) or M2TS (192, after a 4-byte time code): three sync bytes in a row."""
    return len(head) >= offset + 2 * size + 1 and all(head[offset + i * size] == 0x47 for i in range(3))


_UNSUPPORTED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"%!PS", "PostScript"),
    (b"\xc5\xd0\xd3\xc6", "PostScript"),
    (b"8BPS", "Photoshop"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"FUJIFILMCCD-RAW", "camera RAW"),
    (b"IIRO", "camera RAW"),
    (b"IIU\x00", "camera RAW"),
    (b"PK\x03\x04", "ZIP archive or document (Office, OpenDocument, EPUB)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE2 document (old Office file, or a Thumbs.db thumbnail cache)"),
    (b"\x00\x05\x16\x07", "AppleDouble file (macOS metadata, may hold a preview)"),
    (b"\x00\x05\x16\x00", "AppleSingle file"),
    (b"7z\xbc\xaf\x27\x1c", "archive"),
    (b"Rar!\x1a\x07", "archive"),
    (b"\x1f\x8b", "archive"),
    (b"BZh", "archive"),
    (b"\xfd7zXZ\x00", "archive"),
    (b"\x28\xb5\x2f\xfd", "archive"),
)


def _unsupported(head: bytes) -> tuple[MediaType, str] | None:
    if head[128:132] == b"DICM":
        return MediaType.UNSUPPORTED, "DICOM"
    for magic, name in _UNSUPPORTED_MAGIC:
        if head.startswith(magic):
            return MediaType.UNSUPPORTED, name
    if head[257:262] == b"ustar":
        return MediaType.UNSUPPORTED, "archive"
    if head.startswith((b"\x00\x00\x01\x00", b"\x00\x00\x02\x00")) and head[4] > 0 and head[5] == 0:
        return MediaType.UNSUPPORTED, "icon"
    if _svg(head):
        return MediaType.UNSUPPORTED, "SVG"
    return None


_XML_PROLOGUE = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.DOTALL | re.IGNORECASE)


def _svg(head: bytes) -> bool:
    """An SVG document: ``<svg`` is its first element (an HTML page with inline SVG is not one)."""
    text = head.removeprefix(b"\xef\xbb\xbf")
    return text[_XML_PROLOGUE.match(text).end() :][:4].lower() == b"<svg"  # type: ignore[union-attr]


def read_head(path: Path | str) -> bytes:
    """The first :data:`HEAD_BYTES` of a regular file; never blocks on a FIFO or device.

    Raises :class:`OSError` when it cannot be read, ``IsADirectoryError``-like
    :class:`OSError` when it is not a regular file.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        chunks = []
        size = 0
        while size < HEAD_BYTES and (chunk := os.read(fd, HEAD_BYTES - size)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def sniff_file(path: Path) -> MediaType:
    """Classify ``path`` by content (``OTHER`` when it cannot be read or is not a regular file)."""
    try:
        return sniff(read_head(path))
    except OSError:
        return MediaType.OTHER


def _named_media(name: str) -> bool:
    suffix = PurePosixPath(name).suffix.lower()
    return suffix in IMAGE_SUFFIXES or suffix in VIDEO_SUFFIXES


def _matches(relative: PurePosixPath, patterns: Sequence[str]) -> bool:
    text = relative.as_posix()
    return any(fnmatch.fnmatchcase(text, p) or relative.match(p) for p in patterns)


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing a run looks at: a file to analyse, or one it cannot (``problem`` says why).

    ``root`` is the folder it was found under (``None`` for a path named on the command
    line).  ``leftover`` marks a temporary file of an interrupted redact run.
    """

    path: Path
    root: Path | None = None
    problem: str | None = None
    leftover: bool = False


@dataclass(frozen=True, slots=True)
class _Filter:
    include: Sequence[str]
    exclude: Sequence[str]
    skip: Sequence[Path]

    def takes(self, relative: PurePosixPath) -> bool:
        if self.include and not _matches(relative, self.include):
            return False
        return not (self.exclude and _matches(relative, self.exclude))

    def prunes(self, relative: PurePosixPath, path: Path) -> bool:
        """A folder none of whose files could be taken (``drafts/**``), or the run's own output folder."""
        # "\0" stands for any name in the folder: "drafts/**" matches it, "drafts/*.jpg" does not.
        if self.exclude and _matches(relative / "\0", self.exclude):
            return True
        return bool(self.skip) and any(_inside(path, s) for s in self.skip)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return Path(os.path.realpath(path)).is_relative_to(folder)
    except (OSError, ValueError):
        return False


def walk(
    folder: Path, include: Sequence[str] = (), exclude: Sequence[str] = (), skip: Sequence[Path] = ()
) -> Iterator[Entry]:
    """Every file under ``folder`` to analyse or to list as not checked, in a stable order.

    ``include``/``exclude`` are globs on the path relative to ``folder``; anything under
    ``skip`` (the output folder, when it lies inside the input) is left out.
    """
    folder = Path(folder)
    walker = _Walker(folder, _Filter(include, exclude, [Path(os.path.realpath(s)) for s in skip]))
    yield from walker.run()


class _Walker:
    """A depth-first walk with ``os.scandir``: errors become entries, folders are walked once."""

    def __init__(self, root: Path, filters: _Filter) -> None:
        self.root = root
        self.real_root = Path(os.path.realpath(root))
        self.filters = filters
        self.seen: set[tuple[int, int]] = set()

    def run(self) -> Iterator[Entry]:
        stack: list[Iterator[Entry | tuple[Path, PurePosixPath]]] = [self._folder(self.root, PurePosixPath())]
        while stack:
            item = next(stack[-1], None)
            if item is None:
                stack.pop()
            elif isinstance(item, Entry):
                yield item
            else:
                stack.append(self._folder(*item))

    def _problem(self, path: Path, message: str) -> Entry:
        return Entry(path, self.root, message)

    def _folder(self, path: Path, relative: PurePosixPath) -> Iterator[Entry | tuple[Path, PurePosixPath]]:
        try:
            info = os.stat(path)
            key = (info.st_dev, info.st_ino)
            if key in self.seen:  # a link back to a folder already walked: its files are covered
                return
            self.seen.add(key)
            with os.scandir(path) as listing:
                children = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            yield self._problem(path, f"folder cannot be read ({reason(exc)}): nothing in it was checked")
            return
        for child in children:
            yield from self._child(child, relative / child.name)

    def _child(self, child: os.DirEntry[str], relative: PurePosixPath) -> Iterator[Entry | tuple[Path, PurePosixPath]]:
        path = Path(child.path)
        try:
            mode = child.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            if self.filters.takes(relative):
                yield self._problem(path, f"cannot be read ({reason(exc)})")
            return
        if stat.S_ISLNK(mode):
            target = self._link(path, relative)
            if isinstance(target, Entry):
                yield target
                return
            mode = target
        if stat.S_ISDIR(mode):
            if not self.filters.prunes(relative, path):
                yield path, relative
        elif self.filters.takes(relative):
            entry = self._file(path, mode)
            if entry is not None:
                yield entry

    def _link(self, path: Path, relative: PurePosixPath) -> Entry | int:
        """The followed mode of a symbolic link, or the entry that reports it instead."""
        taken = self.filters.takes(relative)
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            if taken or not self.filters.prunes(relative, path):
                return self._problem(path, f"symbolic link cannot be followed ({reason(exc)})")
            return 0
        if not Path(os.path.realpath(path)).is_relative_to(self.real_root):
            if stat.S_ISDIR(mode) and self.filters.prunes(relative, path):
                return 0
            if not stat.S_ISDIR(mode) and not taken:
                return 0
            return self._problem(
                path, "symbolic link leads outside the folder being walked: not followed (name its target to check it)"
            )
        return mode

    def _file(self, path: Path, mode: int) -> Entry | None:
        name = path.name
        if not stat.S_ISREG(mode):
            if mode == 0:
                return None
            return self._problem(path, f"not a regular file ({_special(mode)}): never opened")
        if LEFTOVER_NAME.fullmatch(name):
            return Entry(path, self.root, "temporary file left by an interrupted redact run: delete it", leftover=True)
        try:
            head = read_head(path)
        except OSError as exc:
            return self._problem(path, f"cannot be read ({reason(exc)})")
        kind, what = identify(head)
        if kind in (MediaType.IMAGE, MediaType.VIDEO) or _named_media(name):
            return Entry(path, self.root)
        if what == "SVG" and not _holds_pictures(path):
            return None  # a drawing (shapes, text): like a web page, not a picture
        if kind is MediaType.OTHER:
            what = UNSUPPORTED_SUFFIXES.get(path.suffix.lower(), "")
            if not what:
                return None  # not media: text, code, fonts, audio...
        return self._problem(path, f"{what} file: redact cannot analyse it, so it was not checked")


_PICTURE_MARKS = (b"<image", b"data:image", b":image")


def _holds_pictures(path: Path) -> bool:
    """Whether an SVG embeds or links a raster picture (``<image>``); unreadable counts as yes."""
    tail = b""
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                text = (tail + chunk).lower()
                if any(mark in text for mark in _PICTURE_MARKS):
                    return True
                tail = text[-16:]
    except OSError:
        return True
    return False


def special_file(path: Path | str) -> str | None:
    """What ``path`` is when it exists but is neither a regular file nor a folder ("a FIFO"...)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else _special(mode)


def _special(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "a special file"


def expand(
    paths: Sequence[Path], include: Sequence[str] = (), exclude: Sequence[str] = (), skip: Sequence[Path] = ()
) -> Iterator[Entry]:
    """An :class:`Entry` for each input file; folders are walked (see :func:`walk`).

    A folder with nothing in it to analyse or report is yielded itself, with that problem,
    so the run lists it; a named path is passed through as it is, so that a missing,
    unreadable or special one is reported, not skipped.
    """
    for path in paths:
        if os.path.isdir(path):
            found = False
            for entry in walk(path, include, exclude, skip):
                found = True
                yield entry
            if not found:
                yield Entry(path, None, "no image files found in this folder")
        else:
            yield Entry(path)
