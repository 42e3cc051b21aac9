"""PNG: every chunk, and what follows IEND."""

from __future__ import annotations

import struct

from redact.media.hidden import blobs
from redact.media.hidden.blobs import Buffer

#: Chunks of the picture itself (image data, palette, transparency, colour and size hints,
#: animation control): nothing hidden in them.
_PICTURE = frozenset(
    {
        b"IHDR", b"PLTE", b"IDAT", b"tRNS", b"cHRM", b"gAMA", b"sBIT", b"sRGB", b"bKGD", b"hIST",
        b"pHYs", b"sPLT", b"tIME", b"cICP", b"mDCV", b"cLLI", b"mDCv", b"cLLi", b"acTL", b"fcTL", b"fdAT",
    }
)  # fmt: skip
_TEXT = frozenset({b"tEXt", b"zTXt", b"iTXt"})


def scan(data: Buffer) -> set[str]:
    """Names for everything in a PNG besides its picture."""
    found: set[str] = set()
    pos, end = 8, len(data)
    while pos + 12 <= end:
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body_start, body_end = pos + 8, min(end, pos + 8 + length)
        pos = body_end + 4  # CRC
        if kind == b"IEND":
            return found | blobs.trailer(data, pos)
        if kind in _PICTURE:
            continue
        body = data[body_start:body_end]
        if kind in _TEXT:
            found |= _text(kind, body)
        elif kind == b"eXIf":
            found |= blobs.exif(body)
        elif kind == b"iCCP":
            found.add("ICC")
        else:
            found.add("EMBEDDED_IMAGE" if blobs.holds_image(body) else "PRIVATE")
    return found


def _text(kind: bytes, body: bytes) -> set[str]:
    keyword, _, rest = body.partition(b"\0")
    if kind == b"zTXt":
        text = blobs.inflate(rest[1:])
    elif kind == b"iTXt":
        compressed = rest[:1] == b"\x01"
        # compression flag, method, language tag \0, translated keyword \0, text
        text = rest[2:].split(b"\0", 2)[-1]
        text = blobs.inflate(text) if compressed else text
    else:
        text = rest
    if keyword == b"XML:com.adobe.xmp":
        return blobs.xmp(text)
    found = {"PNG_TEXT"}
    if keyword.lower().startswith(b"raw profile type"):  # ImageMagick's hex-encoded EXIF/IPTC/XMP
        found.add("PRIVATE")
    if blobs.holds_image(text):
        found.add("EMBEDDED_IMAGE")
    return found
