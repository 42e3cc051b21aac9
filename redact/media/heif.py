"""Optional HEIC/HEIF support through pillow-heif (imported lazily, guarded)."""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType

from redact.errors import InputError, MissingDependencyError

#: ISO-BMFF ``ftyp`` major brands of HEIF still images and sequences.
_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"})


def looks_like_heif(head: bytes) -> bool:
    """Return True when the first bytes of a file are a HEIF ``ftyp`` box."""
    return len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _BRANDS


@functools.cache
def _module() -> ModuleType | None:
    try:
        import pillow_heif
    except (ImportError, OSError):
        return None
    pillow_heif.register_heif_opener()
    return pillow_heif


def available() -> bool:
    """Return True when HEIF images can be opened (pillow-heif imported and registered with Pillow)."""
    return _module() is not None


def can_encode() -> bool:
    """Return True when HEIF images can also be written (libheif has an HEVC encoder)."""
    module = _module()
    if module is None:
        return False
    try:
        return bool(module.libheif_info().get("HEIF"))
    except Exception:  # an old or broken build: treat as "cannot encode"
        return False


def require(path: Path) -> None:
    """Raise :class:`MissingDependencyError` unless HEIF images can be opened."""
    if not available():
        raise MissingDependencyError("HEIC/HEIF images need the pillow-heif package", path)


def verify_decodes(path: Path) -> None:
    """Decode every HEVC picture in a HEIF file with FFmpeg too; raise :class:`InputError` on damage.

    libheif decodes damaged data without a word: a grid tile it cannot decode is left blank
    (pillow-heif does not pass libheif's decoding warnings on), so a photo missing the tile
    with a face in it would pass as clean.  FFmpeg's HEVC decoder reports such damage; any
    error it logs, or a picture (tile, thumbnail, auxiliary image) that yields no frame, fails
    the file.
    """
    import av
    import av.logging

    from redact.media.video import local_url

    previous = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as logs:
            frames = _decode_all(av, local_url(path))
    except av.error.FFmpegError:
        frames = {}
    finally:
        av.logging.set_level(previous)
    errors = [entry for entry in logs if entry[0] is not None and entry[0] <= av.logging.ERROR]
    if not frames or 0 in frames.values() or errors:
        raise InputError("damaged image (a HEVC picture in the HEIF file does not decode)", path)


def _decode_all(av: ModuleType, url: str) -> dict[int, int]:
    """Frames decoded per video stream of ``url`` (every tile, thumbnail and auxiliary image)."""
    from redact.media.video import LOCAL_ONLY

    with av.open(url, options=LOCAL_ONLY) as container:
        streams = list(container.streams.video)
        frames = {s.index: 0 for s in streams}
        for packet in container.demux(*streams):
            for _ in packet.decode():
                frames[packet.stream.index] += 1
    return frames
