"""WebP: every RIFF chunk, and what follows the RIFF size."""

from __future__ import annotations

import struct

from redact.media.hidden import blobs
from redact.media.hidden.blobs import Buffer

_PICTURE = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"})


def scan(data: Buffer) -> set[str]:
    """Names for everything in a WebP file besides its picture."""
    found: set[str] = set()
    (size,) = struct.unpack("<I", data[4:8])
    riff_end = min(len(data), 8 + size)
    pos = 12
    while pos + 8 <= riff_end:
        kind, length = struct.unpack("<4sI", data[pos : pos + 8])
        body_start, body_end = pos + 8, min(riff_end, pos + 8 + length)
        pos = body_end + (length & 1)
        if kind in _PICTURE:
            continue
        body = data[body_start:body_end]
        if kind == b"EXIF":
            found |= blobs.exif(body)
        elif kind == b"XMP ":
            found |= blobs.xmp(body)
        elif kind == b"ICCP":
            found.add("ICC")
        else:
            found.add("EMBEDDED_IMAGE" if blobs.holds_image(body) else "PRIVATE")
    return found | blobs.trailer(data, 8 + size)
