"""Human output on stderr (stdout is kept for --json).  Never prints PHI text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TaskID, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from redact.report import printable
from redact.report.text import describe
from redact.types import FileResult, Mode, Status

if TYPE_CHECKING:
    from redact.consent.store import ConsentStore

console = Console(stderr=True, highlight=False)

_STYLE = {
    Status.CLEAN: ("green", "clean"),
    Status.REDACTED: ("cyan", "redacted"),
    Status.FINDINGS: ("yellow", "found"),
    Status.FAILED: ("red", "FAILED"),
}


def error(message: str) -> None:
    """One line, ``redact: error: ...``."""
    console.print(f"[red]redact: error:[/red] {escape(printable(message))}", soft_wrap=True)


class _Rate(ProgressColumn):
    """Items per second (frames/s for videos)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        unit = task.fields.get("unit", "files")
        return Text(f"{speed:5.1f} {unit}/s" if speed else "", style="progress.data.speed")


def warning(message: str) -> None:
    """One line, ``redact: warning: ...``."""
    console.print(f"[yellow]redact: warning:[/yellow] {escape(printable(message))}", soft_wrap=True)


class Progress:
    """Per-file lines and progress bars on stderr; when quiet, only unsafe files are listed.

    One bar counts files (batches); each video gets a frame bar with frames/s and ETA.
    """

    def __init__(self, quiet: bool, total: int) -> None:
        self.quiet = quiet
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        self._frames: dict[str, TaskID] = {}
        if not quiet and console.is_terminal:
            self._bar = RichProgress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _Rate(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            if total > 1:
                self._task = self._bar.add_task("redact", total=total)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def frames(self, path: object, done: int, total: int) -> None:
        """Report frames of a video processed so far (``total`` 0 when unknown)."""
        if self._bar is None:
            return
        key = str(path)
        task = self._frames.get(key)
        if task is None:
            name = key.rsplit("/", 1)[-1]
            task = self._bar.add_task(escape(name[-40:]), total=total or None, unit="frames")
            self._frames[key] = task
        self._bar.update(task, completed=done)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def file_done(self, result: FileResult) -> None:
        """Report one finished file."""
        if self._bar is not None:
            frame_task = self._frames.pop(str(result.path), None)
            if frame_task is not None:
                self._bar.remove_task(frame_task)
            if self._task is not None:
                self._bar.advance(self._task)
        if self.quiet and not result.unsafe:
            return
        style, word = _STYLE[result.status]
        console.print(
            f"[{style}]{word:>8}[/{style}] {escape(printable(f'{result.path}: {describe(result)}'))}", soft_wrap=True
        )


def warn_expired(store: ConsentStore, today: dt.date | None = None) -> None:
    """One warning line per expired entry (expired entries never match)."""
    for person in store.people.values():
        if person.expired(today):
            assert person.expires is not None
            warning(
                f"consent for '{person.name}' expired on {person.expires.isoformat()}: "
                "their face is covered; renew with `redact consent remove` + `add`"
            )


def summary(results: Sequence[FileResult], mode: Mode) -> None:
    """A closing table (files per outcome) and the failures with their reasons."""
    if len(results) > 1:
        table = Table(box=box.SIMPLE, show_header=True, header_style="bold")
        table.add_column(f"redact {mode}")
        table.add_column("files", justify="right")
        flagged = sum(1 for r in results if r.flags and r.status is not Status.FAILED)
        for status in Status:
            n = sum(1 for r in results if r.status is status)
            if n:
                style, word = _STYLE[status]
                table.add_row(f"[{style}]{word}[/{style}]", str(n))
        if flagged:
            table.add_row("[magenta]flagged for review[/magenta]", str(flagged))
        kept = sum(r.kept_faces for r in results)
        if kept:
            table.add_row("[green]faces kept visible by consent[/green]", str(kept))
        cached = sum(1 for r in results if "cached" in r.notes)
        if cached:
            table.add_row("[dim]unchanged since last run[/dim]", str(cached))
        table.add_row("total", str(len(results)))
        console.print(table)
    failed = [r for r in results if r.status is Status.FAILED]
    if failed and len(results) > 1:
        console.print(f"[red]{len(failed)} file(s) failed and were NOT checked; treat them as unsafe:[/red]")
        for r in failed:
            line = printable(f"{r.path}: {r.error or 'failed'}")
            console.print(f"  {escape(line)}", soft_wrap=True)
