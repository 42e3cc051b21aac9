"""A ``stages`` setting that narrows the analysis is visible in every report, and ``check`` refuses it.

A ``redact.toml`` found upward from the working folder with ``stages = ["faces"]`` used to
make ``check`` pass a photo of a wristband without a word (issue 15, item 13).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from redact.cli import app
from redact.errors import ExitCode

runner = CliRunner()


@pytest.fixture
def narrowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder under a ``redact.toml`` that leaves out text and barcodes; returns the photo."""
    (tmp_path / "redact.toml").write_text('stages = ["faces"]\n')
    work = tmp_path / "site" / "photos"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    photo = work / "plain.png"
    Image.fromarray(np.full((48, 64, 3), 180, np.uint8)).save(photo)
    return photo


def test_check_refuses_to_pass_files_when_stages_are_left_out(narrowed: Path) -> None:
    result = runner.invoke(app, ["check", str(narrowed)])
    assert result.exit_code == ExitCode.USAGE
    assert "text, barcodes" in result.output and "redact.toml" in result.output


@pytest.mark.parametrize("fmt", ["json", "sarif", "html", "table"])
def test_every_report_says_which_stages_ran(narrowed: Path, tmp_path: Path, fmt: str) -> None:
    report = tmp_path / f"report.{fmt}"
    result = runner.invoke(app, ["scan", "-f", fmt, "--report", str(report), str(narrowed)])
    assert result.exit_code == 0, result.output
    assert "NOT looked for" in result.output  # the warning on stderr, whatever the format
    body = report.read_text()
    if fmt == "json":
        data = json.loads(body)
        assert data["stages"] == ["faces"] and data["stages_skipped"] == ["text", "barcodes"]
    elif fmt == "sarif":
        invocation = json.loads(body)["runs"][0]["invocations"][0]
        assert invocation["properties"]["stagesSkipped"] == ["text", "barcodes"]
        assert invocation["toolExecutionNotifications"][0]["level"] == "warning"
    else:
        assert "text, barcodes NOT looked for" in body


def test_a_full_run_lists_every_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from redact import report
    from redact.config import STAGES

    data = report.to_dict([], "scan", 0)
    assert data["stages"] == list(STAGES) and data["stages_skipped"] == []
    assert report.narrowed(STAGES) is None
