"""Files a person reviewed and approved, keyed by a keyed content hash.

``redact approve FILE... --baseline B`` records each file's HMAC-SHA-256 under a random key
kept in the baseline; ``redact check --baseline B`` then passes those exact bytes without
analysing them again.  Any change to a file changes its hash and it is checked afresh.
The key makes the hashes useless outside this baseline: they cannot be looked up in a
list of known files' hashes or matched between two baselines.  (Whoever holds the baseline
*and* a file can still tell whether that file was approved; keep baselines out of
published folders.)  The baseline holds hashes of whole image files and their names as
given, never any text read from them.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from redact.digest import file_hmac
from redact.errors import InputError, UsageError
from redact.media import atomic_write

BASELINE_VERSION = 2


class Baseline:
    """An approved-files list loaded from (and saved to) a JSON file."""

    def __init__(self, path: Path, entries: dict[str, dict[str, Any]] | None = None, key: bytes | None = None) -> None:
        self.path = path
        self.entries = entries or {}
        self.key = key if key is not None else secrets.token_bytes(32)

    def digest(self, file: Path) -> str:
        """The keyed hash ``file``'s current bytes are approved under."""
        return file_hmac(file, self.key)

    @classmethod
    def load(cls, path: Path, missing_ok: bool = False) -> Baseline:
        """Read ``path``; a missing file is an error unless ``missing_ok``."""
        if not path.exists():
            if missing_ok:
                return cls(path)
            raise UsageError("baseline file not found", path)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            raise UsageError("baseline is not a readable redact baseline (JSON)", path) from None
        if isinstance(data, dict) and data.get("baseline_version") == 1:
            raise UsageError(
                "baseline_version 1 lists plain SHA-256 hashes of the approved files; "
                "approve them again into a new baseline",
                path,
            )
        if not isinstance(data, dict) or data.get("baseline_version") != BASELINE_VERSION:
            raise UsageError(f"baseline has an unknown format (expected baseline_version {BASELINE_VERSION})", path)
        entries = data.get("approved")
        if not isinstance(entries, dict):
            raise UsageError("baseline has no 'approved' table", path)
        try:
            key = bytes.fromhex(str(data.get("key")))
        except ValueError:
            key = b""
        if len(key) < 16:
            raise UsageError("baseline has no valid 'key'", path)
        return cls(path, entries, key)

    def approves(self, file: Path) -> bool:
        """True when ``file``'s current bytes were approved."""
        try:
            return self.digest(file) in self.entries
        except OSError:
            return False

    def approve(self, files: Iterable[Path], note: str = "") -> list[Path]:
        """Add ``files`` (as they are now); returns them."""
        added = []
        for file in files:
            try:
                digest = self.digest(file)
            except OSError as exc:
                raise InputError(f"cannot read ({exc.strerror or exc})", file) from None
            self.entries[digest] = {"file": str(file), "approved": dt.date.today().isoformat(), "note": note}
            added.append(file)
        return added

    def save(self) -> None:
        """Write the baseline atomically."""
        text = json.dumps(
            {"baseline_version": BASELINE_VERSION, "key": self.key.hex(), "approved": self.entries},
            indent=2,
            sort_keys=True,
        ).encode()

        def write(fh: BinaryIO) -> None:
            fh.write(text + b"\n")

        atomic_write(self.path, write)
