"""GIF: extension blocks, and what follows the trailer byte."""

from __future__ import annotations

from redact.media.hidden import blobs
from redact.media.hidden.blobs import Buffer

#: Application extensions that only control animation.
_ANIMATION = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def scan(data: Buffer) -> set[str]:
    """Names for everything in a GIF besides its picture."""
    found: set[str] = set()
    end = len(data)
    if end < 13:
        return found
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos < end:
        block = data[pos]
        if block == 0x3B:  # trailer: the file ends here
            return found | blobs.trailer(data, pos + 1)
        if block == 0x2C:  # image: descriptor, optional local table, LZW size, data
            if pos + 10 > end:
                break
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
            pos, _ = _sub_blocks(data, pos)
        elif block == 0x21 and pos + 2 <= end:
            label = data[pos + 1]
            pos, body = _sub_blocks(data, pos + 2)
            found |= _extension(label, body)
        else:
            break  # damaged: the decoder decides
    return found


def _sub_blocks(data: Buffer, pos: int) -> tuple[int, bytes]:
    """Skip a chain of data sub-blocks; return the offset after it and its first 64 KiB."""
    end = len(data)
    head = bytearray()
    while pos < end:
        size = data[pos]
        if size == 0:
            return pos + 1, bytes(head)
        if len(head) < 65536:
            head += data[pos + 1 : pos + 1 + size]
        pos += 1 + size
    return end, bytes(head)


def _extension(label: int, body: bytes) -> set[str]:
    if label in (0xF9, 0x01):  # graphic control, plain text (drawn: part of the picture)
        return set()
    if label == 0xFE:
        return {"COMMENT"}
    if label == 0xFF and body.startswith(b"XMP DataXMP"):
        return blobs.xmp(body[11:])
    if label == 0xFF and body.startswith(_ANIMATION):
        return set()
    return {"EMBEDDED_IMAGE"} if blobs.holds_image(body) else {"PRIVATE"}
