"""Typer commands: ``redact clean``, ``redact scan``, ``redact --version``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from redact import __version__
from redact.cli import render
from redact.config import FaceMethod, Settings, load_settings
from redact.errors import ExitCode, RedactError, UsageError
from redact.types import Mode

app = typer.Typer(
    name="redact",
    help="Find and irreversibly cover faces and other PHI in photos before they are posted.",
    no_args_is_help=True,
    add_completion=False,
    # Locals can hold PHI (OCR text, file contents): never print them.
    pretty_exceptions_show_locals=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

PathsArg = Annotated[
    list[Path],
    typer.Argument(help="Image files or folders (searched recursively).", show_default=False),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="A redact.toml or pyproject.toml with [tool.redact].", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON report on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")]
ThresholdOpt = Annotated[
    float | None,
    typer.Option("--face-threshold", help="Face score threshold; lower finds more faces.", show_default=False),
]
MaxPixelsOpt = Annotated[
    int | None,
    typer.Option("--max-pixels", help="Refuse images with more pixels than this.", show_default=False),
]


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
    """Find and irreversibly cover faces and other PHI in photos before they are posted."""


def _settings(config: Path | None, **overrides: object) -> Settings:
    return load_settings(config).replace(**overrides)


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
        ),
    ] = None,
    method: Annotated[
        FaceMethod | None,
        typer.Option("--method", "-m", help="How faces are covered (default: blur, a safe irreversible blur)."),
    ] = None,
    face_threshold: ThresholdOpt = None,
    max_pixels: MaxPixelsOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write redacted copies: faces covered, metadata removed. Originals are never changed."""
    with _boundary():
        settings = _settings(config, face_method=method, face_threshold=face_threshold, max_pixels=max_pixels)
    _execute(Mode.CLEAN, paths, output_dir, settings, json_out, quiet)


@app.command()
def scan(
    paths: PathsArg,
    face_threshold: ThresholdOpt = None,
    max_pixels: MaxPixelsOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Report what would be covered; write nothing. Exit 1 when anything is found."""
    with _boundary():
        settings = _settings(config, face_threshold=face_threshold, max_pixels=max_pixels)
    _execute(Mode.SCAN, paths, None, settings, json_out, quiet)


@contextmanager
def _boundary() -> Iterator[None]:
    """Turn library errors into a one-line message and their exit code (the only place)."""
    try:
        yield
    except RedactError as exc:
        render.error(str(exc))
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        render.error("interrupted")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


def _execute(
    mode: Mode, paths: list[Path], outdir: Path | None, settings: Settings, json_out: bool, quiet: bool
) -> None:
    with _boundary():
        code = _run(mode, paths, outdir, settings, json_out, quiet)
    raise typer.Exit(int(code))


def _run(mode: Mode, paths: list[Path], outdir: Path | None, settings: Settings, json_out: bool, quiet: bool) -> int:
    # Imported here so that `redact --version` and `--help` stay instant.
    from redact import pipeline, report

    if outdir is not None and outdir.exists() and not outdir.is_dir():
        raise UsageError("output folder is a file", outdir)
    jobs = pipeline.plan_jobs(paths, mode, outdir)
    view = render.Progress(quiet=quiet, total=len(jobs))
    with view:
        results = pipeline.run(jobs, mode, settings, on_result=view.file_done)
    code = pipeline.exit_code(results, mode)
    if not quiet:
        render.summary(results, mode)
    if json_out:
        sys.stdout.write(report.to_json(results, str(mode), int(code)) + "\n")
    return int(code)


def main() -> NoReturn:
    """Console-script entry point: never a traceback, always a documented exit code.

    Typer's standalone mode handles usage errors (exit 2) and ``typer.Exit``; the
    commands map library errors themselves.  Anything else is a bug: one line, no
    traceback and no locals (they may hold PHI).
    """
    try:
        app()
    except KeyboardInterrupt:
        render.error("interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except Exception as exc:
        render.error(f"internal error ({type(exc).__name__}); please report it")
        sys.exit(int(ExitCode.ANALYSIS_FAILED))
    sys.exit(0)
