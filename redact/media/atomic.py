"""Atomic file writes and the guard that keeps outputs off their inputs."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from redact import interrupt
from redact.errors import OutputError, reason


def same_file(a: Path, b: Path) -> bool:
    """Return True when ``a`` and ``b`` name the same file (symlinks, ``..`` and hard links included)."""
    with contextlib.suppress(OSError):
        if os.path.samefile(a, b):
            return True
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError):  # a name too long, a link loop: compare as written
        return os.path.abspath(a) == os.path.abspath(b)


def output_would_overwrite(src: Path, dest: Path) -> None:
    """Raise :class:`OutputError` when writing ``dest`` would replace the input ``src``.

    Use :func:`same_file` for a plain yes/no answer.
    """
    if same_file(src, dest):
        raise OutputError("output would overwrite the input", dest)


def temp_beside(dest: Path) -> Path:
    """Create an empty owner-only temporary file for ``dest``, hidden in its folder.

    Named ``.NAME.PID.RANDOM.part`` (NAME shortened to fit the file-name limit), so that a
    later run can tell a leftover of a killed process (:func:`sweep_leftovers`).
    """
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=_temp_prefix(dest), suffix=".part")
    os.close(fd)
    return Path(name)


#: Bytes of the output's name kept in its temporary file's name (a name is at most 255 bytes).
_TEMP_NAME_BYTES = 100
_TEMP_TAIL = re.compile(r"(\d+)\.[A-Za-z0-9_]{8}\.part")
#: The name of any temporary file of :func:`temp_beside`; group 1 is the writer's pid.
LEFTOVER_NAME = re.compile(r"\..*\.(\d+)\.[A-Za-z0-9_]{8}\.part", re.DOTALL)


def _temp_prefix(dest: Path) -> str:
    return f".{_shorten(dest.name, _TEMP_NAME_BYTES)}.{os.getpid()}."


def _shorten(name: str, limit: int) -> str:
    """``name`` cut to at most ``limit`` bytes in the file-system encoding, never inside a UTF-8 character."""
    raw = os.fsencode(name)
    if len(raw) <= limit:
        return name
    while limit > 0 and raw[limit] & 0xC0 == 0x80:  # a continuation byte: step back to the character's start
        limit -= 1
    return os.fsdecode(raw[:limit])


def _leftovers(folder: Path, prefix: str | None = None) -> Iterator[tuple[Path, int]]:
    """``(path, writer's pid)`` of redact's temporary files in ``folder`` (of one output: ``prefix``)."""
    with contextlib.suppress(OSError), os.scandir(folder) as listing:
        for entry in listing:
            name = entry.name
            if prefix is None:
                match = LEFTOVER_NAME.fullmatch(name)
            else:
                match = _TEMP_TAIL.fullmatch(name, len(prefix)) if name.startswith(prefix) else None
            if match is not None:
                yield Path(entry.path), int(match.group(1))


def discard_leftovers(dest: Path) -> int:
    """Remove temporary files of ``dest`` that a killed writer left behind; return how many.

    Only for a ``dest`` that no live process is writing (e.g. its worker died).
    """
    prefix = f".{_shorten(Path(dest).name, _TEMP_NAME_BYTES)}."
    removed = 0
    for leftover, _ in list(_leftovers(Path(dest).parent, prefix)):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed += 1
    return removed


def sweep_leftovers(folder: Path) -> list[Path]:
    """Remove the temporary files that killed redact processes left in ``folder``; return them.

    A temporary file names its writer's process id: only files whose writer is gone are
    removed, so a run going on at the same time in the same folder is not disturbed.
    """
    removed: list[Path] = []
    for leftover, pid in list(_leftovers(Path(folder))):
        if not process_alive(pid):
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed.append(leftover)
    return removed


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (always ``True`` where that cannot be asked safely)."""
    if os.name == "nt" or pid <= 0:  # os.kill(pid, 0) is not a probe on Windows
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed process not yet reaped (Linux): it still answers ``kill(pid, 0)`` but writes nothing."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in (b"Z", b"X")


def atomic_write(dest: Path, write: Callable[[BinaryIO], None], mode: int | None = None) -> None:
    """Create or replace ``dest`` with what ``write`` puts into a file object, all or nothing.

    Writes a hidden temporary file in the destination folder, fsyncs it and renames it over
    ``dest``: readers see the old file or the complete new one, never a partial file.  Any
    failure removes the temporary file, leaves ``dest`` untouched and raises :class:`OutputError`.
    Missing parent folders are created.  The file gets ``mode`` (default: what the umask
    gives a new file); the temporary file is owner-only until then.
    """
    dest = Path(dest)
    if os.path.isdir(dest):
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
        interrupt.hold()  # renamed into place means reported: a stop request now waits for that
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
