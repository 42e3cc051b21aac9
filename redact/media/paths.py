"""Where a redacted copy goes by default."""

from __future__ import annotations

import os
from pathlib import Path

from redact.media import formats


def default_output_path(src: Path, outdir: Path | None, root: Path | None, fmt: str | None = None) -> Path:
    """Return the default output path for ``src``.

    With ``outdir``: ``src``'s path relative to ``root`` (or its bare name when ``root`` is
    ``None`` or does not contain it) mirrored under ``outdir``, same name.  Without:
    ``photo.redacted.jpg`` next to ``photo.jpg``.  When ``fmt`` (the format to be written)
    does not suit ``src``'s suffix, the suffix changes to that format's usual one.
    """
    src = Path(src)
    suffix = formats.suffix_for(fmt, src.suffix) if fmt else src.suffix
    if outdir is None:
        return src.with_name(f"{src.stem}.redacted{suffix}")
    relative = _relative(src, root) if root is not None else Path(src.name)
    return Path(outdir) / relative.with_name(relative.stem + suffix)


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
