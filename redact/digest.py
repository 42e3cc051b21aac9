"""Content hashes of files (model verification, the result cache, baselines)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_hmac(path: Path, key: bytes) -> str:
    """HMAC-SHA-256 of a file's bytes under ``key``, read in 1 MiB chunks."""
    digest = hmac.new(key, digestmod=hashlib.sha256)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
