"""Machine-readable run reports.

No PHI text ever appears in them: findings carry entity labels, geometry and scores only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redact import __version__
from redact.config import STAGES
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


def skipped(stages: Sequence[str]) -> list[str]:
    """The analysis stages that did not run (the ``stages`` setting left them out)."""
    return [stage for stage in STAGES if stage not in stages]


def narrowed(stages: Sequence[str]) -> str | None:
    """A warning when not every stage ran, else None: every report says so."""
    missing = skipped(stages)
    if not missing:
        return None
    return (
        f"only {', '.join(s for s in STAGES if s in stages)} looked for; {', '.join(missing)} NOT looked for "
        "(the 'stages' setting): a clean result does not mean the file shows no PHI"
    )


def to_dict(
    results: Sequence[FileResult], mode: str, exit_code: int, stages: Sequence[str] = STAGES
) -> dict[str, Any]:
    """The JSON report as a dict (see README, "JSON output"); ``stages`` are those that ran."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "redact", "version": __version__},
        "mode": mode,
        "exit_code": exit_code,
        "stages": [s for s in STAGES if s in stages],
        "stages_skipped": skipped(stages),
        "summary": summary(results),
        "files": [_printable(r.to_dict()) for r in results],
    }


def _printable(entry: dict[str, Any]) -> dict[str, Any]:
    for key in ("path", "output", "error"):
        if isinstance(entry.get(key), str):
            entry[key] = printable(entry[key])
    return entry


def to_json(results: Sequence[FileResult], mode: str, exit_code: int, stages: Sequence[str] = STAGES) -> str:
    """The JSON report as text."""
    return json.dumps(to_dict(results, mode, exit_code, stages), indent=2)
