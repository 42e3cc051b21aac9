"""The CLI through Typer's CliRunner: exit codes, one-line errors, outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from redact import __version__
from redact.cli import app
from redact.errors import ExitCode

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert lines, result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


@pytest.fixture
def face_jpg(tmp_path: Path) -> Path:
    dest = tmp_path / "in" / "face.jpg"
    dest.parent.mkdir()
    shutil.copy(SAMPLES / "astronaut.jpg", dest)
    return dest


@pytest.fixture
def plain_png(tmp_path: Path) -> Path:
    dest = tmp_path / "in" / "plain.png"
    dest.parent.mkdir(exist_ok=True)
    Image.fromarray(np.full((120, 160, 3), 90, np.uint8)).save(dest)
    return dest


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_no_args_shows_help():
    result = invoke()
    assert "clean" in result.output and "scan" in result.output


@pytest.mark.parametrize("command", ["clean", "scan", "check"])
def test_help_keeps_bracketed_text(command: str, monkeypatch: pytest.MonkeyPatch):
    # Help is Rich markup: an unescaped "[tool.redact]" would vanish as a style tag.
    monkeypatch.setenv("COLUMNS", "240")
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "pyproject.toml with [tool.redact]." in result.output


def test_scan_face_exits_findings_and_writes_nothing(face_jpg: Path):
    before = sorted(face_jpg.parent.iterdir())
    result = invoke("scan", face_jpg)
    assert result.exit_code == ExitCode.FINDINGS
    assert "1 face" in result.stderr
    assert sorted(face_jpg.parent.iterdir()) == before


def test_scan_clean_image_exits_ok(plain_png: Path):
    result = invoke("scan", plain_png)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert "nothing found" in result.stderr


def test_clean_writes_redacted_copy_and_keeps_original(face_jpg: Path, tmp_path: Path):
    original = face_jpg.read_bytes()
    out = tmp_path / "out"
    result = invoke("clean", face_jpg, "-o", out, "--json")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert face_jpg.read_bytes() == original
    written = out / "face.jpg"
    assert written.is_file()
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    assert report["files"][0]["status"] == "redacted"
    assert report["files"][0]["output"] == str(written)
    x0, y0, x1, y1 = (round(v) for v in report["files"][0]["findings"][0]["box"])
    before = np.asarray(Image.open(face_jpg).convert("RGB"), dtype=int)[y0:y1, x0:x1]
    after = np.asarray(Image.open(written).convert("RGB"), dtype=int)[y0:y1, x0:x1]
    assert np.abs(before - after).mean() > 20


def test_clean_default_output_is_beside_input(face_jpg: Path):
    result = invoke("clean", face_jpg)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert (face_jpg.parent / "face.redacted.jpg").is_file()


@pytest.mark.parametrize("method", ["blur", "pixelate", "fill"])
def test_every_face_method_changes_the_face(face_jpg: Path, tmp_path: Path, method: str):
    result = invoke("clean", face_jpg, "-o", tmp_path / method, "-m", method)
    assert result.exit_code == ExitCode.OK, result.stderr
    after = np.asarray(Image.open(tmp_path / method / "face.jpg").convert("RGB"), dtype=int)
    before = np.asarray(Image.open(face_jpg).convert("RGB"), dtype=int)
    # the astronaut's face is around (180-300, 60-200)
    assert np.abs(after[80:180, 190:290] - before[80:180, 190:290]).mean() > 20


def test_missing_path(tmp_path: Path):
    result = invoke("scan", tmp_path / "nope.jpg")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "nope.jpg" in one_line_error_or_line(result)


def one_line_error_or_line(result) -> str:
    assert "Traceback" not in result.output + result.stderr
    bad = [line for line in result.stderr.splitlines() if "FAILED" in line or "error" in line]
    assert bad, result.stderr
    return bad[0]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.jpg", b""),
        ("notes.jpg", b"this is a text file, not a photo\n" * 20),
        ("truncated.jpg", None),
    ],
)
def test_bad_files_are_input_errors(tmp_path: Path, name: str, content: bytes | None):
    path = tmp_path / name
    if content is None:
        data = (SAMPLES / "astronaut.jpg").read_bytes()
        content = data[: len(data) // 2]
    path.write_bytes(content)
    for command in ("scan", "clean"):
        result = invoke(command, path, *(["-o", tmp_path / "out"] if command == "clean" else []))
        assert result.exit_code == ExitCode.BAD_INPUT, (command, result.stderr)
        assert name in one_line_error_or_line(result)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_too_many_pixels_is_refused(tmp_path: Path):
    path = tmp_path / "big.png"
    Image.new("RGB", (1001, 1000)).save(path)
    result = invoke("scan", path, "--max-pixels", "1000000")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "big.png" in one_line_error_or_line(result)


def test_empty_folder_is_bad_input(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    result = invoke("scan", tmp_path / "empty")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "no image files" in result.stderr


def test_output_folder_that_is_a_file(face_jpg: Path, tmp_path: Path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    result = invoke("clean", face_jpg, "-o", blocker)
    assert result.exit_code == ExitCode.USAGE
    assert "blocker" in one_line_error(result)


def test_unwritable_output_folder(face_jpg: Path, tmp_path: Path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    result = invoke("clean", face_jpg, "-o", blocker / "sub")
    assert result.exit_code == ExitCode.CANNOT_WRITE
    one_line_error_or_line(result)


def test_output_equal_to_input_is_refused(face_jpg: Path):
    original = face_jpg.read_bytes()
    result = invoke("clean", face_jpg, "-o", face_jpg.parent)
    assert result.exit_code == ExitCode.CANNOT_WRITE
    assert "overwrite" in result.stderr
    assert face_jpg.read_bytes() == original


def test_batch_continues_after_a_bad_file(face_jpg: Path, plain_png: Path, tmp_path: Path):
    bad = face_jpg.parent / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "out"
    result = invoke("clean", face_jpg.parent, "-o", out, "--json")
    assert result.exit_code == ExitCode.BATCH_FAILED, result.stderr
    assert (out / "face.jpg").is_file() and (out / "plain.png").is_file()
    assert not (out / "broken.png").exists()
    statuses = {Path(f["path"]).name: f["status"] for f in json.loads(result.stdout)["files"]}
    assert statuses == {"broken.png": "failed", "face.jpg": "redacted", "plain.png": "clean"}
    assert "NOT checked" in result.stderr


def test_scan_findings_outrank_failures(face_jpg: Path, tmp_path: Path):
    result = invoke("scan", face_jpg, tmp_path / "missing.jpg")
    assert result.exit_code == ExitCode.FINDINGS


def test_folder_tree_is_mirrored(face_jpg: Path, tmp_path: Path):
    nested = face_jpg.parent / "a" / "b"
    nested.mkdir(parents=True)
    shutil.copy(face_jpg, nested / "deep.jpg")
    out = tmp_path / "out"
    result = invoke("clean", face_jpg.parent, "-o", out)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert (out / "a" / "b" / "deep.jpg").is_file()


@pytest.mark.parametrize(
    ("args", "word"), [(["--face-threshold", "5"], "face_threshold"), (["-m", "smudge"], "smudge")]
)
def test_bad_option_values_are_usage_errors(face_jpg: Path, args: list[str], word: str):
    result = invoke("clean", face_jpg, *args)
    assert result.exit_code == ExitCode.USAGE
    assert word in result.output + result.stderr


def test_bad_config_key_is_named(face_jpg: Path, tmp_path: Path):
    cfg = tmp_path / "redact.toml"
    cfg.write_text("blur_strength = 3\n")
    result = invoke("scan", face_jpg, "--config", cfg)
    assert result.exit_code == ExitCode.USAGE
    assert "blur_strength" in one_line_error(result)


def test_detector_crash_fails_closed(face_jpg: Path, monkeypatch: pytest.MonkeyPatch):
    from redact.detect import faces

    def boom(self, image):
        raise RuntimeError("patient DOE JANE")  # the message must not leak

    cls = next(
        v
        for v in vars(faces).values()
        if isinstance(v, type) and hasattr(v, "detect") and v.__module__ == faces.__name__
    )
    monkeypatch.setattr(cls, "detect", boom)
    result = invoke("scan", face_jpg, "--json")
    assert result.exit_code == ExitCode.ANALYSIS_FAILED
    assert json.loads(result.stdout)["files"][0]["status"] == "failed"
    assert "DOE" not in result.stdout + result.stderr


def test_missing_model_package_is_exit_4(face_jpg: Path, monkeypatch: pytest.MonkeyPatch):
    from redact import models

    monkeypatch.setattr(models, "_package_dir", lambda package: None)
    models.clear_cache()
    try:
        result = invoke("scan", face_jpg)
    finally:
        models.clear_cache()
    assert result.exit_code == ExitCode.MISSING_DEPENDENCY
    assert "not found" in one_line_error(result)


def test_directory_where_a_file_is_expected(face_jpg: Path, tmp_path: Path):
    result = invoke("scan", face_jpg, "--config", tmp_path)
    assert result.exit_code == ExitCode.USAGE
    assert "is a directory" in one_line_error(result)


def test_broken_install_is_exit_4_not_a_traceback(face_jpg: Path, monkeypatch: pytest.MonkeyPatch):
    import redact.jobs

    def broken(*args, **kwargs):
        raise ImportError("No module named 'cv2'", name="cv2")

    monkeypatch.setattr(redact.jobs, "plan_jobs", broken)
    result = invoke("scan", face_jpg)
    assert result.exit_code == ExitCode.MISSING_DEPENDENCY
    assert "cv2" in one_line_error(result)
