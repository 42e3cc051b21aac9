"""Where a redacted copy goes by default."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from redact.media import formats


def default_output_path(
    src: Path, outdir: Path | None, root: Path | None, fmt: str | None = None, suffix: str | None = None
) -> Path:
    """Return the default output path for ``src``.

    With ``outdir``: ``src``'s path relative to ``root`` (or its bare name when ``root`` is
    ``None`` or does not contain it) mirrored under ``outdir``, same name.  Without:
    ``photo.redacted.jpg`` next to ``photo.jpg``.  When ``fmt`` (the format to be written)
    does not suit ``src``'s suffix, the suffix changes to that format's usual one; ``suffix``
    sets it outright.  A name that would exceed the file system's limit is shortened
    (see :func:`fit_name`).
    """
    src = Path(src)
    if suffix is None:
        suffix = formats.suffix_for(fmt, src.suffix) if fmt else src.suffix
    if outdir is None:
        return src.with_name(fit_name(src.stem, f".redacted{suffix}", src.parent))
    relative = _relative(src, root) if root is not None else Path(src.name)
    dest = Path(outdir) / relative
    return dest.with_name(fit_name(relative.stem, suffix, dest.parent))


#: Used when the file system does not say its limit (most allow 255 bytes per name).
NAME_MAX = 255
_MARK_BYTES = 9  # "~" and 8 hex digits


def fit_name(stem: str, tail: str, folder: Path | None = None) -> str:
    """``stem + tail``, or, when that is longer than a name may be in ``folder``, ``stem`` cut short.

    The cut name ends with ``~`` and 8 hex digits of a hash of the whole name, so two long
    names that share a beginning still get different outputs; ``tail`` (``.redacted.jpg``)
    is kept.  Lengths are counted in bytes, as file systems count them.
    """
    limit = _name_max(folder)
    raw = os.fsencode(stem + tail)
    if len(raw) <= limit:
        return stem + tail
    mark = "~" + hashlib.sha256(raw).hexdigest()[:8]
    room = max(1, limit - len(os.fsencode(tail)) - _MARK_BYTES)
    encoded = os.fsencode(stem)
    while 0 < room < len(encoded) and encoded[room] & 0xC0 == 0x80:
        room -= 1  # never end inside a UTF-8 character
    return os.fsdecode(encoded[:room]) + mark + tail


def _name_max(folder: Path | None) -> int:
    """The longest file name (bytes) ``folder``'s file system takes (its nearest existing parent's)."""
    probe = Path(folder) if folder is not None else None
    while probe is not None:
        if os.path.exists(probe):
            try:
                return min(NAME_MAX, int(os.pathconf(probe, "PC_NAME_MAX")))
            except (AttributeError, OSError, ValueError):
                return NAME_MAX
        probe = probe.parent if probe.parent != probe else None
    return NAME_MAX


def _relative(src: Path, root: Path) -> Path:
    candidates = (
        (src, root),
        (Path(os.path.abspath(src)), Path(os.path.abspath(root))),
        (src.resolve(), root.resolve()),
    )
    for a, b in candidates:
        try:
            relative = a.relative_to(b)
        except ValueError:
            continue
        if relative.parts and ".." not in relative.parts:
            return relative
    return Path(src.name)
