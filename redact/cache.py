"""A content-hash cache, so re-running on an unchanged folder is cheap.

The cache lives in a folder the user names (``clean --cache DIR`` or the ``cache_dir``
setting), never in the output folder and never under the home folder by default: it holds
a SHA-256 of every original, and a published output folder carrying it would let anyone
holding a photo check whether it was among the originals.  Without a cache folder there is
no cache.  A cache of an earlier version left in an output folder (``OUT/.redact-cache.json``)
is removed (:func:`remove_legacy`).

Per output file the cache remembers the SHA-256 of the input it was made from, the
output's own size and modification time, and the result.  An entry is reused only when
the input's content, the output file, redact's version, the settings and the model files
are all unchanged (with a consent store: also the store's content and the date).  Failed
files are never cached: they are retried every run.  The cache holds geometry and labels
only, like every report: no text, no payloads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, BinaryIO

from redact import __version__
from redact.config import Settings
from redact.digest import file_sha256
from redact.errors import OutputError, UsageError
from redact.media import atomic_write
from redact.types import FileResult, Status

#: The name earlier versions used inside the output folder.
LEGACY_NAME = ".redact-cache.json"
CACHE_VERSION = 2


def fingerprint(settings: Settings) -> str:
    """What, besides the input, decides an output: version, settings, model files."""
    from redact.models import MODELS

    data: dict[str, object] = {
        "version": __version__,
        "settings": dataclasses.asdict(settings),
        "models": {name: m.sha256 for name, m in sorted(MODELS.items())},
    }
    if settings.consent_store is not None:
        # Who may stay visible changes with the store's content and, through expiry, the date:
        # a revoked or expired consent must never be served from the cache.
        try:
            data["consent"] = [file_sha256(settings.consent_store), dt.date.today().isoformat()]
        except OSError:
            data["consent"] = None
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def remove_legacy(outdir: Path) -> bool:
    """Remove an earlier version's cache from an output folder (it lists the originals' hashes)."""
    legacy = outdir / LEGACY_NAME
    try:
        legacy.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        message = f"cannot remove an old cache that lists the originals' hashes ({exc.strerror})"
        raise OutputError(message, legacy) from None
    return True


def check_location(cache_dir: Path, outdir: Path | None) -> None:
    """Refuse a cache folder inside the output folder (publishing it would publish the cache)."""
    if outdir is not None and cache_dir.resolve().is_relative_to(outdir.resolve()):
        raise UsageError(
            "the cache folder must not be inside the output folder: a published output folder would list "
            "which originals were there",
            cache_dir,
        )


class ResultCache:
    """Load, query and save the cache kept in ``cache_dir`` (one file per settings fingerprint)."""

    def __init__(self, cache_dir: Path, settings: Settings) -> None:
        self.fingerprint = fingerprint(settings)
        self.path = cache_dir / f"redact-cache-{self.fingerprint[:16]}.json"
        self.entries: dict[str, dict[str, Any]] = {}
        self._dirty = False
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return  # no cache, or a damaged one: start afresh
        if (
            isinstance(data, dict)
            and data.get("cache_version") == CACHE_VERSION
            and data.get("fingerprint") == self.fingerprint
            and isinstance(data.get("entries"), dict)
        ):
            self.entries = data["entries"]

    def lookup(self, source: Path, output: Path) -> FileResult | None:
        """The cached result for ``source`` -> ``output``, if still valid."""
        entry = self.entries.get(_key(output))
        if entry is None:
            return None
        try:
            if file_sha256(source) != entry["input_sha256"]:
                return None
            written = Path(entry["result"]["output"])
            stat = written.stat()
            if [stat.st_size, stat.st_mtime_ns] != entry["output_stat"]:
                return None
            cached = FileResult.from_dict(entry["result"])
        except (OSError, KeyError, TypeError, ValueError):
            return None
        return dataclasses.replace(cached, path=source, elapsed_ms=0.0, notes=(*cached.notes, "cached"))

    def store(self, source: Path, output: Path, result: FileResult) -> None:
        """Remember a finished result (failures are not remembered)."""
        if result.status is Status.FAILED or result.output is None:
            return
        try:
            stat = result.output.stat()
            entry = {
                "input_sha256": file_sha256(source),
                "output_stat": [stat.st_size, stat.st_mtime_ns],
                "result": {**result.to_dict(), "notes": [n for n in result.notes if n != "cached"]},
            }
        except OSError:
            return
        self.entries[_key(output)] = entry
        self._dirty = True

    def save(self) -> None:
        """Write the cache atomically (only when something changed), in a folder only the user can read."""
        if not self._dirty:
            return
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            return  # a cache that cannot be written only costs time
        data = {"cache_version": CACHE_VERSION, "fingerprint": self.fingerprint, "entries": self.entries}
        text = json.dumps(data, indent=1, sort_keys=True).encode()

        def write(fh: BinaryIO) -> None:
            fh.write(text)

        try:
            atomic_write(self.path, write)
        except OutputError:
            return  # a cache that cannot be written only costs time
        self._dirty = False


def _key(output: Path) -> str:
    """An output's entry name: its absolute path (runs may start from other folders)."""
    return str(output.absolute())
