"""A plain-text table of results (``--format table --report FILE``)."""

from __future__ import annotations

from collections.abc import Sequence

from redact.config import STAGES
from redact.report import narrowed, printable, summary
from redact.types import FileResult, Status


def describe(result: FileResult) -> str:
    """A short, PHI-free account of one result."""
    if result.status is Status.FAILED:
        return f"NOT CHECKED: {result.error or 'failed'}"
    counts = result.counts()
    parts = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(counts.items())]
    text = ", ".join(parts) if parts else "nothing found"
    if result.kept:
        text += "; " + result.kept_text()
    if result.leaky_metadata:
        where = "removed from the output" if result.output is not None else "publish a cleaned copy"
        text += f"; input metadata carries {', '.join(result.leaky_metadata)} ({where})"
    if result.flags:
        text += "; looks like a patient record, needs review: " + "; ".join(f.reason for f in result.flags)
    if result.output is not None:
        text += f" -> {result.output}"
    if "cached" in result.notes:
        text += " (unchanged since last run)"
    return text


def render(results: Sequence[FileResult], mode: str, exit_code: int, stages: Sequence[str] = STAGES) -> str:
    """The table as text: the stages that ran, one file per line, then the totals."""
    width = max([len("status")] + [len(str(r.status)) for r in results])
    warning = narrowed(stages)
    lines = [f"WARNING: {warning}" if warning else f"looked for: {', '.join(stages)}"]
    lines.append(f"{'status':<{width}}  file: result")
    for r in results:
        status = "flagged" if r.flags and r.status is not Status.FAILED else str(r.status)
        lines.append(f"{status:<{width}}  {r.path}: {describe(r)}")
    counts = summary(results)
    totals = ", ".join(f"{n} {k}" for k, n in counts.items() if n and k != "total")
    lines.append(f"redact {mode}: {counts['total']} files: {totals or 'none'}; exit code {exit_code}")
    return printable("\n".join(lines) + "\n")
