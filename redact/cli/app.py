"""Typer commands: ``clean``, ``scan``, ``check``, ``approve`` and ``--version``.

``consent add|list|remove`` live in :mod:`redact.cli.consent`.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, NoReturn

import typer

from redact import __version__
from redact.cli import render
from redact.config import FaceMethod, Settings, TextMode, find_config, load_settings
from redact.errors import ExitCode, RedactError, UsageError
from redact.types import FileResult, Mode

if TYPE_CHECKING:
    from redact.baseline import Baseline

#: Settings every command group shares.  Locals can hold PHI (OCR text, file contents):
#: tracebacks never print them.
TYPER_DEFAULTS: dict[str, Any] = {
    "no_args_is_help": True,
    "add_completion": False,
    "pretty_exceptions_show_locals": False,
    "pretty_exceptions_enable": False,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}

app = typer.Typer(
    name="redact",
    help="Find and irreversibly cover faces and other PHI in photos and videos before they are posted.",
    **TYPER_DEFAULTS,
)


class ReportFormat(enum.StrEnum):
    """Report formats for ``--format``."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"


PathsArg = Annotated[
    list[Path],
    typer.Argument(help="Photos, videos or folders (searched recursively).", show_default=False, readable=False),
]
ConfigOpt = Annotated[
    Path | None,
    # "\\[": help text is Rich markup, where an unescaped [tool.redact] is a (dropped) style tag.
    typer.Option(
        "--config", help="A redact.toml, or a pyproject.toml with \\[tool.redact].", show_default=False, readable=False
    ),
]
FormatOpt = Annotated[
    ReportFormat,
    typer.Option(
        "--format",
        "-f",
        help="Report format: table (human, stderr), json, sarif or html (stdout, or --report).",
    ),
]
ReportOpt = Annotated[
    Path | None,
    typer.Option(
        "--report", help="Write the report to this file instead of stdout.", show_default=False, readable=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only problems on stderr.")]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        help="CPU cores to use: up to N files at once, sharing the N cores (default: every usable core).",
        show_default=False,
    ),
]
ThresholdOpt = Annotated[
    float | None,
    typer.Option("--face-threshold", help="Face score threshold; lower finds more faces.", show_default=False),
]
TextOpt = Annotated[
    TextMode | None,
    typer.Option("--text", help="Text to cover: phi (default) or all.", show_default=False),
]
MaxPixelsOpt = Annotated[
    int | None,
    typer.Option("--max-pixels", help="Refuse images with more pixels than this.", show_default=False),
]
ConsentOpt = Annotated[
    Path | None,
    typer.Option(
        "--consent",
        help="Consent store (see `redact consent`): faces of enrolled people stay visible; all others are covered.",
        show_default=False,
        readable=False,
    ),
]


@dataclass(frozen=True)
class Output:
    """Where and how the run reports."""

    fmt: ReportFormat
    report: Path | None
    quiet: bool


def _version(value: bool) -> None:
    if value:
        typer.echo(f"redact {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Find and irreversibly cover faces and other PHI in photos and videos before they are posted."""


@contextmanager
def _boundary() -> Iterator[None]:
    """Turn library errors into a one-line message and their exit code (the only place)."""
    try:
        yield
    except RedactError as exc:
        render.error(str(exc))
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP (redact.interrupt)
        render.error("interrupted")
        raise typer.Exit(getattr(exc, "exit_code", int(ExitCode.INTERRUPTED))) from None
    except ImportError as exc:  # a broken or partial installation
        render.error(f"missing dependency: cannot import {exc.name or 'a module'}; reinstall redact")
        raise typer.Exit(int(ExitCode.MISSING_DEPENDENCY)) from None


def _settings(config: Path | None, **overrides: object) -> Settings:
    with _boundary():
        return load_settings(config).replace(**overrides)


def _output(fmt: ReportFormat, json_out: bool, report: Path | None, quiet: bool) -> Output:
    return Output(ReportFormat.JSON if json_out else fmt, report, quiet)


@app.command()
def clean(
    paths: PathsArg,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-o",
            help="Write redacted copies here (folder trees are mirrored). "
            "Default: NAME.redacted.EXT beside each input.",
            show_default=False,
            readable=False,
        ),
    ] = None,
    method: Annotated[
        FaceMethod | None,
        typer.Option("--method", "-m", help="How faces are covered (default: blur, a safe irreversible blur)."),
    ] = None,
    in_place: Annotated[
        bool,
        typer.Option(
            "--in-place",
            help="Replace each input with its redacted version (atomically). Only for files whose originals "
            "are kept elsewhere, e.g. staged in git by a pre-commit hook.",
        ),
    ] = False,
    fail_if_changed: Annotated[
        bool,
        typer.Option("--fail-if-changed", help="Exit 1 when any file needed covering (for hooks)."),
    ] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache",
            help="Keep a content-hash cache in this folder (never inside the output folder) so files unchanged "
            "since the last run are not processed again. Default: the cache_dir setting, else no cache.",
            show_default=False,
            readable=False,
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Process every file even if unchanged since the last run.")
    ] = False,
    keep_audio: Annotated[
        bool,
        typer.Option(
            "--keep-audio",
            help="Videos: copy the audio track unchanged. Default: drop it (voices and spoken names identify people).",
        ),
    ] = False,
    text: TextOpt = None,
    face_threshold: ThresholdOpt = None,
    max_pixels: MaxPixelsOpt = None,
    jobs: JobsOpt = None,
    consent: ConsentOpt = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = ReportFormat.TABLE,
    report: ReportOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write redacted copies: faces covered, metadata removed. Originals are never changed."""
    settings = _settings(
        config,
        face_method=method,
        face_threshold=face_threshold,
        max_pixels=max_pixels,
        text_mode=text,
        jobs=jobs,
        keep_audio=keep_audio or None,
        consent_store=consent,
        cache_dir=cache_dir,
    )
    if in_place and output_dir is not None:
        _usage("--in-place and --output-dir exclude each other")
    out = _output(fmt, json_out, report, quiet)
    with _boundary():
        results, code = _run(
            Mode.CLEAN,
            paths,
            settings,
            out,
            outdir=output_dir,
            in_place=in_place,
            cache_dir=None if no_cache else settings.cache_dir,
        )
    if fail_if_changed and code == ExitCode.OK and any(r.findings or r.flags for r in results):
        code = ExitCode.FINDINGS
    raise typer.Exit(int(code))


@app.command()
def scan(
    paths: PathsArg,
    text: TextOpt = None,
    face_threshold: ThresholdOpt = None,
    max_pixels: MaxPixelsOpt = None,
    jobs: JobsOpt = None,
    consent: ConsentOpt = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = ReportFormat.TABLE,
    report: ReportOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Report what would be covered; write nothing. Exit 1 when anything is found."""
    settings = _settings(
        config,
        face_threshold=face_threshold,
        max_pixels=max_pixels,
        text_mode=text,
        jobs=jobs,
        consent_store=consent,
    )
    with _boundary():
        _, code = _run(Mode.SCAN, paths, settings, _output(fmt, json_out, report, quiet))
    raise typer.Exit(int(code))


@app.command()
def check(
    files: PathsArg,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="Approved files (see `redact approve`) pass unchanged.",
            show_default=False,
            readable=False,
        ),
    ] = None,
    text: TextOpt = None,
    jobs: JobsOpt = None,
    consent: ConsentOpt = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = ReportFormat.TABLE,
    report: ReportOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Pre-publish gate: exit 0 only when every file is clean. Never writes files.

    Exit 1 when any file shows PHI or looks like a patient record; 3-7 on errors.
    With --consent, faces of enrolled, unexpired people do not count as PHI.
    """
    settings = _settings(config, text_mode=text, jobs=jobs, consent_store=consent)
    _refuse_narrowed_check(settings, config)
    with _boundary():
        approved = None
        if baseline is not None:
            from redact.baseline import Baseline

            approved = Baseline.load(baseline)
        _, code = _run(Mode.SCAN, files, settings, _output(fmt, json_out, report, True), baseline=approved)
    raise typer.Exit(int(code))


@app.command()
def approve(
    files: Annotated[
        list[Path], typer.Argument(help="Files a person reviewed and approved.", show_default=False, readable=False)
    ],
    baseline: Annotated[
        Path, typer.Option("--baseline", help="Baseline file to add them to (created if missing).", readable=False)
    ] = Path(".redact-baseline.json"),
    note: Annotated[str, typer.Option("--note", help="Why they were approved (no patient details).")] = "",
) -> None:
    """Record reviewed files in a baseline so `redact check --baseline` lets them pass."""
    from redact.baseline import Baseline

    with _boundary():
        store = Baseline.load(baseline, missing_ok=True)
        added = store.approve(files, note)
        store.save()
    render.console.print(f"approved {len(added)} file(s) in {baseline}")


def _refuse_narrowed_check(settings: Settings, config: Path | None) -> None:
    """``check`` passes a file only when every kind of PHI was looked for (fail closed).

    A ``stages`` setting in a config file found upward from the working folder would
    otherwise silently narrow the gate.
    """
    from redact.report import skipped

    missing = skipped(settings.stages)
    if missing:
        source = config or find_config(Path.cwd())
        where = f" (set in {source})" if source is not None else ""
        _usage(
            f"check cannot pass a file without looking for every kind of PHI, and the 'stages' setting{where} "
            f"leaves out: {', '.join(missing)}; use scan to look for some kinds only"
        )


def _usage(message: str) -> NoReturn:
    render.error(message)
    raise typer.Exit(int(ExitCode.USAGE))


def _run(
    mode: Mode,
    paths: list[Path],
    settings: Settings,
    out: Output,
    *,
    outdir: Path | None = None,
    in_place: bool = False,
    cache_dir: Path | None = None,
    baseline: Baseline | None = None,
) -> tuple[list[FileResult], ExitCode]:
    # Imported here so that `redact --version` and `--help` stay instant.
    from redact import batch, jobs, outcome
    from redact.executor import default_jobs

    if outdir is not None and os.path.exists(outdir) and not os.path.isdir(outdir):
        raise UsageError("output folder is a file", outdir)
    if mode is Mode.CLEAN:
        from redact import cache

        if cache_dir is not None:
            cache.check_location(cache_dir, outdir)
        if outdir is not None and cache.remove_legacy(outdir):
            render.warning(f"removed {outdir / cache.LEGACY_NAME}: an earlier version's cache listed the originals")
    if settings.consent_store is not None:
        # Fail fast on a missing or corrupt store, and say whose consent has expired.
        from redact.consent import ConsentStore

        render.warn_expired(ConsentStore.load(settings.consent_store))
    planned = jobs.plan_jobs(paths, mode, outdir, settings, preview=out.fmt is ReportFormat.HTML, in_place=in_place)
    jobs.refuse_overwrites(planned, out.report)
    view = render.Progress(quiet=out.quiet, total=len(planned))
    with view:
        results = batch.run(
            planned,
            mode,
            settings,
            on_result=view.file_done,
            cores=settings.jobs or default_jobs(),
            cache_dir=cache_dir,
            baseline=baseline,
            on_progress=view.frames,
        )
    code = outcome.exit_code(results, mode)
    if not out.quiet or code != ExitCode.OK:
        render.summary(results, mode)
    from redact.report import narrowed

    limited = narrowed(settings.stages)
    if limited:  # even with --quiet: this run did not look for everything
        render.warning(limited)
    _report(results, mode, code, settings, out)
    return results, code


def _report(results: list[FileResult], mode: Mode, code: ExitCode, settings: Settings, out: Output) -> None:
    from redact import report

    if out.fmt is ReportFormat.TABLE:
        if out.report is None:
            return
        from redact.report import text

        body = text.render(results, str(mode), int(code), settings.stages)
    elif out.fmt is ReportFormat.JSON:
        body = report.to_json(results, str(mode), int(code), settings.stages)
    elif out.fmt is ReportFormat.SARIF:
        import json

        from redact.report import sarif

        body = json.dumps(sarif.to_dict(results, int(code), settings.stages), indent=2)
    else:
        from redact.report import html

        body = html.render(results, str(mode), int(code), settings)
    # Every format is UTF-8 text; a name that is not (a file-name byte) never stops the report.
    data = (body if body.endswith("\n") else body + "\n").encode("utf-8", "backslashreplace")
    if out.report is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from redact.media import atomic_write

    def write(fh: BinaryIO) -> None:
        fh.write(data)

    atomic_write(out.report, write)
    if not out.quiet:
        render.console.print(f"report written to {out.report}")


def main() -> NoReturn:
    """Console-script entry point: never a traceback, always a documented exit code.

    Typer's standalone mode handles usage errors (exit 2) and ``typer.Exit``; the
    commands map library errors themselves.  Anything else is a bug: one line, no
    traceback and no locals (they may hold PHI).
    """
    from redact import interrupt

    interrupt.install()  # SIGTERM and SIGHUP stop a run as Ctrl-C does (exit 143, 129)
    try:
        app()
    except KeyboardInterrupt as exc:
        render.error("interrupted")
        sys.exit(getattr(exc, "exit_code", int(ExitCode.INTERRUPTED)))
    except Exception as exc:
        render.error(f"internal error ({type(exc).__name__}); please report it")
        sys.exit(int(ExitCode.ANALYSIS_FAILED))
    sys.exit(0)
