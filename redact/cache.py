"""A content-hash cache in the output folder, so re-running on an unchanged folder is cheap.

``OUT/.redact-cache.json`` remembers, per output file, the SHA-256 of the input it was made
from, the output's own size and modification time, and the result.  An entry is reused only
when the input's content, the output file, redact's version, the settings and the model
files are all unchanged (with a consent store: also the store's content and the date).
Failed files are never cached: they are retried every run.
The cache holds geometry and labels only, like every report: no text, no payloads.
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
from redact.errors import OutputError
from redact.media import atomic_write
from redact.types import FileResult, Status

CACHE_NAME = ".redact-cache.json"
CACHE_VERSION = 1


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


class ResultCache:
    """Load, query and save the cache of one output folder."""

    def __init__(self, outdir: Path, settings: Settings) -> None:
        self.path = outdir / CACHE_NAME
        self.fingerprint = fingerprint(settings)
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
        entry = self.entries.get(str(output))
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
        self.entries[str(output)] = entry
        self._dirty = True

    def save(self) -> None:
        """Write the cache atomically (only when something changed)."""
        if not self._dirty or not self.path.parent.is_dir():
            return
        data = {"cache_version": CACHE_VERSION, "fingerprint": self.fingerprint, "entries": self.entries}
        text = json.dumps(data, indent=1, sort_keys=True).encode()

        def write(fh: BinaryIO) -> None:
            fh.write(text)

        try:
            atomic_write(self.path, write)
        except OutputError:
            return  # a cache that cannot be written only costs time
        self._dirty = False
