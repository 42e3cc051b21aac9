"""Odd inputs on the command line (issue 15, item 11): unreadable files, names that are not
UTF-8, names near the file-name length limit.  Each fails alone or works; none stops the run.
Runs use only the barcode stage (``redact.toml``): no face or text model is loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from redact.cli import app
from redact.errors import ExitCode

runner = CliRunner()
FAST = 'stages = ["barcodes"]\n'
REDACT = [sys.executable, "-m", "redact"]


def _jpeg(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((24, 32, 3), 120, np.uint8)).save(path, format="JPEG")
    return path


def _config(folder: Path) -> str:
    (folder / "redact.toml").write_text(FAST)
    return str(folder / "redact.toml")


def test_unreadable_file_and_folder_fail_alone_and_the_others_run(tmp_path: Path, unprivileged: list[str]):
    _jpeg(tmp_path / "a.jpg")
    locked = _jpeg(tmp_path / "locked.jpg")
    _jpeg(tmp_path / "tree" / "ok.jpg")
    _jpeg(tmp_path / "tree" / "private" / "b.jpg")
    locked.chmod(0)
    (tmp_path / "tree" / "private").chmod(0)
    try:
        proc = subprocess.run(
            [*unprivileged, *REDACT, "scan", "--config", _config(tmp_path), "--json", "a.jpg", "locked.jpg", "tree"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        (tmp_path / "tree" / "private").chmod(0o755)
    assert proc.returncode == ExitCode.BATCH_FAILED, proc.stderr  # not Click's usage error (2)
    files = {f["path"]: (f["status"], f["exit_code"], f["error"]) for f in json.loads(proc.stdout)["files"]}
    assert files.pop("locked.jpg") == ("failed", ExitCode.BAD_INPUT, "permission denied")
    status, code, error = files.pop(os.path.join("tree", "private"))
    assert (status, code) == ("failed", ExitCode.BAD_INPUT) and "folder cannot be read" in error
    assert files == {"a.jpg": ("clean", 0, None), os.path.join("tree", "ok.jpg"): ("clean", 0, None)}


def test_a_single_unreadable_file_is_exit_3(tmp_path: Path, unprivileged: list[str]):
    _jpeg(tmp_path / "locked.jpg").chmod(0)
    proc = subprocess.run(
        [*unprivileged, *REDACT, "scan", "--config", _config(tmp_path), "locked.jpg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr
    assert "Usage:" not in proc.stderr and "permission denied" in proc.stderr


@pytest.mark.skipif(sys.platform == "darwin", reason="APFS refuses names that are not UTF-8")
@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "html"])
def test_every_report_format_takes_a_name_that_is_not_utf8(tmp_path: Path, fmt: str):
    name = os.fsdecode(b"caf\xe9 \xff.jpg")  # Latin-1 bytes: not UTF-8
    _jpeg(tmp_path / name)
    _jpeg(tmp_path / "plain.jpg")
    report = tmp_path / f"report.{fmt}"
    args = ["scan", "--config", _config(tmp_path), "-f", fmt, "--report", str(report), str(tmp_path / name)]
    result = runner.invoke(app, [*args, str(tmp_path / "plain.jpg")])
    assert result.exit_code == ExitCode.OK, result.stderr
    text = report.read_bytes().decode("utf-8")  # valid UTF-8
    assert "caf\\xe9 \\xff.jpg" in text.replace("\\\\", "\\") or "caf%E9%20%FF.jpg" in text
    if fmt in ("json", "sarif"):
        json.loads(text)
    # and on stdout
    shown = runner.invoke(app, ["scan", "--config", _config(tmp_path), "--json", str(tmp_path / name)])
    assert shown.exit_code == ExitCode.OK, shown.stderr
    assert json.loads(shown.stdout)["files"][0]["path"].endswith("caf\\xe9 \\xff.jpg")


def test_long_names_are_written_within_the_name_limit(tmp_path: Path):
    stem = "患" * 83  # 249 bytes: "NAME.redacted.jpg" would be 262
    first = _jpeg(tmp_path / f"{stem}.jpg")
    second = _jpeg(tmp_path / f"{stem[:-1]}者.jpg")  # the same first 82 characters
    result = runner.invoke(app, ["clean", "--config", _config(tmp_path), "--json", str(first), str(second)])
    assert result.exit_code == ExitCode.OK, result.stderr
    outputs = [Path(f["output"]) for f in json.loads(result.stdout)["files"]]
    assert len(set(outputs)) == 2
    for out in outputs:
        assert out.is_file() and len(os.fsencode(out.name)) <= 255
        assert out.name.endswith(".redacted.jpg") and out.name.startswith("患" * 20)
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".part"]
    # mirrored under -o the input names fit as they are
    out_dir = tmp_path / "out"
    again = runner.invoke(app, ["clean", "--config", _config(tmp_path), "-o", str(out_dir), str(first)])
    assert again.exit_code == ExitCode.OK, again.stderr
    assert (out_dir / first.name).is_file()


def test_a_name_longer_than_any_file_system_allows_fails_alone(tmp_path: Path):
    _jpeg(tmp_path / "a.jpg")
    result = runner.invoke(app, ["scan", "--config", _config(tmp_path), str(tmp_path / "a.jpg"), "患" * 90 + ".jpg"])
    assert result.exit_code == ExitCode.BATCH_FAILED, result.stderr
    assert "File name too long" in result.stderr
