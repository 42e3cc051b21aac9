"""Names for the pieces a container holds: EXIF, XMP, Photoshop resources, trailing data.

Every function takes a bytes-like object (``bytes`` or an ``mmap``) and, where a slice of
a large file is meant, ``start``/``end`` offsets, so nothing big is copied.
"""

from __future__ import annotations

import re
import struct
import zlib
from typing import Protocol, overload

#: Start of a JPEG, a PNG, a GIF, a WebP/AVI RIFF, and base64 of JPEG and PNG (in XMP).
_IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"/9j/", b"iVBORw0KGgo")
_PADDING = frozenset(b"\x00\xff\r\n\t ")
#: ``latitude``/``longitude`` as an XMP property (exif:GPSLatitude, drone-dji:GpsLongitude...).
_XMP_POSITION = re.compile(rb"(?i)\b[\w.-]+:(?:gps)?(?:latitude|longitude)\b")
#: Base64 thumbnails: xmpGImg:image, GImage:Data, GDepth:Data...
_XMP_THUMBNAIL = re.compile(rb"(?i)(?:xmpGImg:image|Thumbnails)")
#: Most bytes of a compressed text chunk that are inflated to look inside it.
_INFLATE_LIMIT = 4 << 20


class Buffer(Protocol):
    """What the scanners need of ``bytes`` and ``mmap``."""

    def find(self, sub: bytes, start: int = ..., end: int = ...) -> int: ...

    @overload
    def __getitem__(self, key: int) -> int: ...

    @overload
    def __getitem__(self, key: slice) -> bytes: ...

    def __len__(self) -> int: ...


def holds_image(data: Buffer, start: int = 0, end: int | None = None) -> bool:
    """True when ``data[start:end]`` contains the start of a JPEG, PNG or GIF (raw or base64)."""
    end = len(data) if end is None else end
    return any(data.find(sig, start, end) >= 0 for sig in _IMAGE_SIGNATURES)


def holds_video(data: Buffer, start: int = 0, end: int | None = None) -> bool:
    """True when ``data[start:end]`` contains an ISO-BMFF ``ftyp`` box or a Matroska header."""
    end = len(data) if end is None else end
    return data.find(b"ftyp", start, end) >= 0 or data.find(b"\x1a\x45\xdf\xa3", start, end) >= 0


def trailer(data: Buffer, start: int) -> set[str]:
    """Names for what follows the end of the image at ``start`` (nothing for padding only)."""
    end = len(data)
    first = start
    while first < end and first - start < 4096 and data[first : first + 1][0] in _PADDING:
        first += 1
    if first >= end:
        return set()
    if first - start >= 4096 and all(b in _PADDING for b in data[first : min(end, first + (1 << 20))]):
        return set()  # a long run of padding: look no further than 1 MiB of it
    found = set()
    if holds_image(data, start, end):  # from start: 0xFF counts as padding, and opens a JPEG
        found.add("EMBEDDED_IMAGE")
    if holds_video(data, start, end):
        found.add("EMBEDDED_VIDEO")
    return found or {"TRAILER"}


def exif(raw: bytes) -> set[str]:
    """Names for an EXIF block (with or without its ``Exif`` header): EXIF, GPS, THUMBNAIL."""
    from PIL import Image

    found = {"EXIF"}
    body = raw[6:] if raw.startswith(b"Exif\0\0") else raw
    if holds_image(body, 8):  # an IFD1 thumbnail, or a preview in a MakerNote
        found.add("THUMBNAIL")
    try:
        parsed = Image.Exif()
        parsed.load(body if body.startswith((b"II", b"MM")) else b"Exif\0\0" + body)
        if parsed.get_ifd(0x8825):
            found.add("GPS")
    except Exception:  # damaged EXIF: it is there, whatever it says (and never copied)
        pass
    return found


def xmp(packet: bytes) -> set[str]:
    """Names for an XMP packet: XMP, GPS (latitude/longitude), THUMBNAIL, EMBEDDED_IMAGE."""
    found = {"XMP"}
    if _XMP_POSITION.search(packet):
        found.add("GPS")
    if holds_image(packet):
        found.add("THUMBNAIL" if _XMP_THUMBNAIL.search(packet) else "EMBEDDED_IMAGE")
    return found


def photoshop(resources: bytes) -> set[str]:
    """Names for Photoshop image resources (``8BIM`` blocks): IRB, IPTC, THUMBNAIL, EXIF, XMP."""
    found = {"IRB"}
    pos = 0
    while pos + 12 <= len(resources) and resources[pos : pos + 4] in (b"8BIM", b"MeSa", b"PHUT", b"AgHg", b"DCSR"):
        (ident,) = struct.unpack(">H", resources[pos + 4 : pos + 6])
        name_len = resources[pos + 6]
        pos += 6 + ((name_len + 2) & ~1)  # Pascal name, padded to even
        if pos + 4 > len(resources):
            break
        (size,) = struct.unpack(">I", resources[pos : pos + 4])
        body = resources[pos + 4 : pos + 4 + size]
        pos += 4 + size + (size & 1)
        if ident == 0x0404:
            found.add("IPTC")
        elif ident in (0x0409, 0x040C):
            found.add("THUMBNAIL")
        elif ident == 0x0422:
            found |= exif(body)
        elif ident == 0x0424:
            found |= xmp(body)
        elif holds_image(body):
            found.add("EMBEDDED_IMAGE")
    return found


def inflate(data: bytes) -> bytes:
    """zlib-inflate at most a few MiB of ``data`` (a damaged stream gives what came out)."""
    decoder = zlib.decompressobj()
    try:
        return decoder.decompress(data, _INFLATE_LIMIT)
    except zlib.error:
        return b""
