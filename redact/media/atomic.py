"""Atomic file writes and the guard that keeps outputs off their inputs."""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from redact.errors import OutputError, reason


def same_file(a: Path, b: Path) -> bool:
    """Return True when ``a`` and ``b`` name the same file (symlinks, ``..`` and hard links included)."""
    with contextlib.suppress(OSError):
        if os.path.samefile(a, b):
            return True
    return Path(a).resolve() == Path(b).resolve()


def output_would_overwrite(src: Path, dest: Path) -> None:
    """Raise :class:`OutputError` when writing ``dest`` would replace the input ``src``.

    Use :func:`same_file` for a plain yes/no answer.
    """
    if same_file(src, dest):
        raise OutputError("output would overwrite the input", dest)


def temp_beside(dest: Path) -> Path:
    """Create an empty owner-only temporary file for ``dest``, hidden in its folder (``.NAME.*.part``)."""
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=_temp_prefix(dest), suffix=".part")
    os.close(fd)
    return Path(name)


def _temp_prefix(dest: Path) -> str:
    return f".{dest.name[:100]}."


def discard_leftovers(dest: Path) -> int:
    """Remove temporary files of ``dest`` that a killed writer left behind; return how many.

    Only for a ``dest`` that no live process is writing (e.g. its worker died).
    """
    removed = 0
    with contextlib.suppress(OSError):
        for leftover in dest.parent.glob(f"{glob.escape(_temp_prefix(dest))}*.part"):
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed += 1
    return removed


def atomic_write(dest: Path, write: Callable[[BinaryIO], None], mode: int | None = None) -> None:
    """Create or replace ``dest`` with what ``write`` puts into a file object, all or nothing.

    Writes a hidden temporary file in the destination folder, fsyncs it and renames it over
    ``dest``: readers see the old file or the complete new one, never a partial file.  Any
    failure removes the temporary file, leaves ``dest`` untouched and raises :class:`OutputError`.
    Missing parent folders are created.  The file gets ``mode`` (default: what the umask
    gives a new file); the temporary file is owner-only until then.
    """
    dest = Path(dest)
    if dest.is_dir():
        raise OutputError("output path is a directory", dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp_name = temp_beside(dest)
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder ({reason(exc)})", dest) from None
    try:
        with open(tmp_name, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o666 & ~current_umask() if mode is None else mode)
        os.replace(tmp_name, dest)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, (OSError, ValueError)):
            raise OutputError(f"cannot write the output ({reason(exc)})", dest) from None
        raise
    _fsync_dir(dest.parent)


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (best effort: not every platform can open a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@functools.cache
def current_umask() -> int:
    """Return the process umask, read once (mkstemp files are 0600; outputs get normal permissions)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
