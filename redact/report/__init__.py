"""Machine-readable run reports.

No PHI text ever appears in them: findings carry entity labels, geometry and scores only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redact import __version__
from redact.types import FileResult, Status

#: Bumped whenever a field changes meaning or disappears (additions keep the version).
SCHEMA_VERSION = 1


def printable(text: str) -> str:
    """``text`` with the undecodable bytes of file names written as backslash escapes.

    POSIX file names are bytes; Python carries the ones that are not UTF-8 as lone
    surrogates, which no report format can encode.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def summary(results: Sequence[FileResult]) -> dict[str, int]:
    """Number of files per status, plus the total."""
    counts = {str(s): 0 for s in Status}
    for r in results:
        counts[str(r.status)] += 1
    counts["total"] = len(results)
    return counts


def to_dict(results: Sequence[FileResult], mode: str, exit_code: int) -> dict[str, Any]:
    """The JSON report as a dict (see README, "JSON output")."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "redact", "version": __version__},
        "mode": mode,
        "exit_code": exit_code,
        "summary": summary(results),
        "files": [_printable(r.to_dict()) for r in results],
    }


def _printable(entry: dict[str, Any]) -> dict[str, Any]:
    for key in ("path", "output", "error"):
        if isinstance(entry.get(key), str):
            entry[key] = printable(entry[key])
    return entry


def to_json(results: Sequence[FileResult], mode: str, exit_code: int) -> str:
    """The JSON report as text."""
    return json.dumps(to_dict(results, mode, exit_code), indent=2)
