"""Choose the structure walker by the file's first bytes."""

from __future__ import annotations

import struct

from redact.media.hidden import blobs, gif, jpeg, png, riff
from redact.media.hidden.blobs import Buffer


def carried(data: Buffer) -> tuple[str, ...]:
    """Names (sorted) of what the file in ``data`` carries besides its primary picture.

    A walker that runs off a damaged structure reports what it saw; the decoder, not
    this scan, decides whether the file is readable.
    """
    head = data[:16]
    try:
        if head.startswith(b"\xff\xd8"):
            found = jpeg.scan(data)
        elif head.startswith(b"\x89PNG\r\n\x1a\n"):
            found = png.scan(data)
        elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            found = riff.scan(data)
        elif head.startswith((b"GIF87a", b"GIF89a")):
            found = gif.scan(data)
        elif head.startswith(b"BM") and len(data) >= 6:
            (size,) = struct.unpack("<I", data[2:6])
            found = blobs.trailer(data, size) if size >= 26 else set()
        else:
            found = set()  # TIFF and HEIF: see pillow_info
    except (struct.error, IndexError, ValueError):
        found = {"PRIVATE"}
    return tuple(sorted(found))
