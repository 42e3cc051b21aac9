"""Format names, the output format chosen for each input format, and file suffixes."""

from __future__ import annotations

from pathlib import Path

from redact.media import heif

#: Pillow format ids we open.  Anything else is "not a supported image".
#: A JPEG with extra MPF images (camera previews, depth maps) opens as "MPO": we read its
#: primary image only and report it as "JPEG".
READABLE = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF", "HEIF")

#: Formats :func:`redact.media.save_image` writes.
WRITABLE = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "HEIF")

#: Suffixes per written format; the first one is used for new names.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "TIFF": (".tif", ".tiff"),
    "BMP": (".bmp",),
    "HEIF": (".heic", ".heif", ".hif"),
}

_ALIASES = {"JPG": "JPEG", "MPO": "JPEG", "TIF": "TIFF", "HEIC": "HEIF", "GIF": "PNG"}


def canonical(fmt: str) -> str:
    """Return the written format for a format name or alias (``"jpg"`` -> ``"JPEG"``, ``"GIF"`` -> ``"PNG"``).

    HEIF becomes JPEG when this installation cannot encode HEIF.  Raises ``ValueError``
    for a format we do not write.
    """
    name = fmt.upper().lstrip(".")
    name = _ALIASES.get(name, name)
    if name == "HEIF" and not heif.can_encode():
        name = "JPEG"
    if name not in WRITABLE:
        raise ValueError(f"unsupported output format {fmt!r}")
    return name


def suffix_for(fmt: str, current: str = "") -> str:
    """Return ``current`` if it already suits ``fmt`` (any case), else the usual suffix of ``fmt``."""
    suffixes = SUFFIXES[canonical(fmt)]
    return current if current.lower() in suffixes else suffixes[0]


def matching_suffix(dest: Path, fmt: str) -> Path:
    """Return ``dest`` with its suffix changed when it names another image format than ``fmt``.

    ``x.gif`` written as PNG becomes ``x.png``; unknown or missing suffixes are kept.
    """
    suffix = dest.suffix.lower()
    known = suffix == ".gif" or any(suffix in group for group in SUFFIXES.values())
    if known and suffix not in SUFFIXES[canonical(fmt)]:
        return dest.with_suffix(SUFFIXES[canonical(fmt)][0])
    return dest
