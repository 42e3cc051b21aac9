"""JPEG: every marker segment, every scan, and what follows the end-of-image marker."""

from __future__ import annotations

import re
import struct

from redact.media.hidden import blobs
from redact.media.hidden.blobs import Buffer

_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
#: Segments every decoder needs: frame, tables, scan, restart interval, Adobe colour transform.
_STRUCTURE = frozenset({*range(0xC0, 0xD0), 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xEE})
_XMP = b"http://ns.adobe.com/xap/1.0/\0"
_XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\0"


def scan(data: Buffer) -> set[str]:
    """Names for everything in a JPEG besides its primary picture."""
    found: set[str] = set()
    pos = 2  # after SOI
    end = len(data)
    while pos + 2 <= end:
        if data[pos : pos + 1] != b"\xff":
            pos = _next_marker(data, pos)  # junk between segments: decoders skip it too
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # EOI: the picture ends here
            return found | blobs.trailer(data, pos + 2)
        if marker in _STANDALONE:
            pos += 2
            continue
        if pos + 4 > end:
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        body_start, body_end = pos + 4, min(end, pos + 2 + length)
        if marker not in _STRUCTURE:
            found |= _segment(marker, data[body_start:body_end])
        pos = pos + 2 + length
        if marker == 0xDA:  # entropy-coded data follows the scan header
            pos = _next_marker(data, pos)
    return found


#: A marker in entropy-coded data: 0xFF not followed by a stuffed 0x00, a restart marker or fill.
_MARKER = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")


def _next_marker(data: Buffer, pos: int) -> int:
    """The offset of the next marker at or after ``pos`` (stuffed bytes and restarts skipped).

    One regular-expression scan in C: a crafted scan full of stuffed bytes costs no Python loop.
    """
    found = _MARKER.search(data, pos)  # type: ignore[call-overload]
    return len(data) if found is None else int(found.start())


def _segment(marker: int, body: bytes) -> set[str]:
    if marker == 0xE0:
        return _app0(body)
    if marker == 0xE1 and body.startswith(b"Exif\0"):
        return blobs.exif(body)
    if marker == 0xE1 and body.startswith(_XMP):
        return blobs.xmp(body[len(_XMP) :])
    if marker == 0xE1 and body.startswith(_XMP_EXTENSION):
        return blobs.xmp(body[len(_XMP_EXTENSION) :])
    if marker == 0xE2 and body.startswith(b"ICC_PROFILE\0"):
        return {"ICC"}
    if marker == 0xE2 and body.startswith(b"MPF\0"):
        return _mpf(body[4:])
    if marker == 0xED and body.startswith(b"Photoshop 3.0\0"):
        return blobs.photoshop(body[14:])
    if marker == 0xFE:
        return {"COMMENT"}
    return {"EMBEDDED_IMAGE"} if blobs.holds_image(body) else {"PRIVATE"}


def _app0(body: bytes) -> set[str]:
    if body.startswith(b"JFIF\0"):
        # Xthumbnail, Ythumbnail: an uncompressed RGB thumbnail follows when both are set.
        return {"THUMBNAIL"} if len(body) >= 14 and body[12] and body[13] else set()
    if body.startswith(b"JFXX\0"):
        return {"THUMBNAIL"}
    return {"EMBEDDED_IMAGE"} if blobs.holds_image(body) else {"PRIVATE"}


def _mpf(tiff: bytes) -> set[str]:
    """An MPF index; more than one image listed means pictures after this one."""
    found = {"MPF"}
    try:
        order = "<" if tiff[:2] == b"II" else ">"
        (ifd,) = struct.unpack(order + "I", tiff[4:8])
        (count,) = struct.unpack(order + "H", tiff[ifd : ifd + 2])
        for i in range(count):
            tag, _kind, number = struct.unpack(order + "HHI", tiff[ifd + 2 + 12 * i : ifd + 10 + 12 * i])
            if tag == 0xB001 and number > 1:  # NumberOfImages
                found.add("EMBEDDED_IMAGE")
            if tag == 0xB002 and number > 16:  # MPEntry: 16 bytes per image
                found.add("EMBEDDED_IMAGE")
    except (struct.error, IndexError):
        found.add("EMBEDDED_IMAGE")  # an index we cannot read: assume the worst
    return found
