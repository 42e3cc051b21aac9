"""Nothing a run writes may replace one of its inputs (issue 15, item 7).

Refused before anything is written, with one line and exit 5: a ``--report`` path that is
an input, an output or any photo (``--report *.jpg``), and an output that is another input
(``clean a.jpg b/a.jpg -o b``), however the paths are spelled (links, hard links).
Runs use only the barcode stage: no face or text model is loaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from redact.cli import app
from redact.errors import ExitCode

runner = CliRunner()


def _jpeg(path: Path, value: int = 120) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((24, 32, 3), value, np.uint8)).save(path, format="JPEG")
    return path


def _run(tmp_path: Path, *args: object):
    (tmp_path / "redact.toml").write_text('stages = ["barcodes"]\n')
    return runner.invoke(app, [str(args[0]), "--config", str(tmp_path / "redact.toml"), *map(str, args[1:])])


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, bytes]:
    for i, name in enumerate(("a.jpg", "b.jpg", "sub/a.jpg")):
        _jpeg(tmp_path / name, 40 * i)
    return {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*.jpg")}


def _unchanged(tmp_path: Path, photos: dict[str, bytes]) -> bool:
    now = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    now.pop("redact.toml", None)
    return now == photos


@pytest.mark.parametrize("fmt", ["html", "json", "table"])
def test_report_glob_never_turns_a_photo_into_a_report(tmp_path: Path, photos: dict[str, bytes], fmt: str):
    # `redact scan -f html --report *.jpg`: the shell hands the first photo to --report
    result = _run(tmp_path, "scan", "-f", fmt, "--report", tmp_path / "a.jpg", tmp_path / "b.jpg")
    assert result.exit_code == ExitCode.CANNOT_WRITE, result.stderr
    assert "--report would overwrite" in result.stderr
    assert _unchanged(tmp_path, photos)


def test_report_that_is_an_input_through_a_link(tmp_path: Path, photos: dict[str, bytes]):
    (tmp_path / "alias.txt").symlink_to(tmp_path / "a.jpg")
    result = _run(tmp_path, "scan", "--report", tmp_path / "alias.txt", tmp_path / "a.jpg")
    assert result.exit_code == ExitCode.CANNOT_WRITE, result.stderr
    assert _unchanged(tmp_path, {**photos, "alias.txt": photos["a.jpg"]})


def test_report_that_is_an_output(tmp_path: Path, photos: dict[str, bytes]):
    out = tmp_path / "out"
    result = _run(tmp_path, "clean", "-o", out, "--report", out / "b.jpg", tmp_path / "b.jpg")
    assert result.exit_code == ExitCode.CANNOT_WRITE, result.stderr
    assert not out.exists()


def test_an_output_that_is_another_input_is_refused_before_anything_is_written(
    tmp_path: Path, photos: dict[str, bytes]
):
    result = _run(tmp_path, "clean", tmp_path / "a.jpg", tmp_path / "sub" / "a.jpg", "-o", tmp_path / "sub")
    assert result.exit_code == ExitCode.CANNOT_WRITE, result.stderr
    assert "would overwrite the input" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert _unchanged(tmp_path, photos)


def test_an_output_that_is_a_hard_link_to_another_input(tmp_path: Path, photos: dict[str, bytes]):
    other = tmp_path / "elsewhere" / "b.jpg"
    other.parent.mkdir()
    os.link(tmp_path / "sub" / "a.jpg", other)  # the same file under another name
    out = tmp_path / "elsewhere"
    result = _run(tmp_path, "clean", tmp_path / "b.jpg", tmp_path / "sub" / "a.jpg", "-o", out)
    assert result.exit_code == ExitCode.CANNOT_WRITE, result.stderr
    assert other.read_bytes() == photos["sub/a.jpg"]


def test_an_earlier_report_may_be_replaced(tmp_path: Path, photos: dict[str, bytes]):
    report = tmp_path / "review.html"
    for _ in range(2):
        result = _run(tmp_path, "scan", "-f", "html", "--report", report, tmp_path / "a.jpg")
        assert result.exit_code == ExitCode.OK, result.stderr
    assert report.read_text().startswith("<!DOCTYPE html>")
