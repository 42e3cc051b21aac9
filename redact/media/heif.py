"""Optional HEIC/HEIF support through pillow-heif (imported lazily, guarded)."""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType

from redact.errors import MissingDependencyError

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
