"""Reports: JSON schema, SARIF 2.1.0 (validated against the official schema), HTML review page."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from redact.cli import app
from redact.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
runner = CliRunner()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch")
    shutil.copy(SAMPLES / "astronaut.jpg", root / "face.jpg")
    shutil.copy(SAMPLES / "coffee_no_faces.jpg", root / "coffee.jpg")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return root


def report(batch: Path, tmp_path: Path, fmt: str, command: str = "scan") -> tuple[int, str]:
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke(app, [command, str(batch), "--format", fmt, "--report", str(out), "-j", "1"])
    return result.exit_code, out.read_text()


def test_json_report_schema_and_no_text(batch: Path, tmp_path: Path):
    code, text = report(batch, tmp_path, "json")
    assert code == ExitCode.FINDINGS
    data = json.loads(text)
    assert data["schema_version"] == 1
    assert data["summary"] == {"clean": 1, "redacted": 0, "findings": 1, "failed": 1, "total": 3}
    by_name = {Path(f["path"]).name: f for f in data["files"]}
    assert by_name["broken.png"]["status"] == "failed" and by_name["broken.png"]["exit_code"] == 3
    face = by_name["face.jpg"]["findings"][0]
    assert set(face) == {"kind", "label", "box", "confidence", "source"}


def test_sarif_is_valid_and_locates_findings(batch: Path, tmp_path: Path):
    code, text = report(batch, tmp_path, "sarif")
    assert code == ExitCode.FINDINGS
    log = json.loads(text)
    if SARIF_SCHEMA.is_file():
        import jsonschema

        jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    run = log["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "phi/face" in rules and "redact/unanalysed" in rules
    face = next(r for r in run["results"] if r["ruleId"] == "phi/face")
    assert face["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("face.jpg")
    rect = face["attachments"][0]["rectangles"][0]
    assert rect["left"] < rect["right"] and rect["top"] < rect["bottom"]
    assert rules[face["ruleIndex"]] == "phi/face"
    failed = next(r for r in run["results"] if r["ruleId"] == "redact/unanalysed")
    assert failed["level"] == "error"
    assert run["invocations"][0]["executionSuccessful"] is False


def test_sarif_validates_against_official_schema_when_present():
    if not SARIF_SCHEMA.is_file():
        pytest.skip("../shared/schemas/sarif-schema-2.1.0.json not present")
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text())
    with pytest.raises(jsonschema.ValidationError):  # the validator really checks
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {}}]}, schema)


def _previews(page: str) -> list[np.ndarray]:
    found = re.findall(r'data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', page)
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(b))).convert("RGB")) for b in found]


def test_html_shows_only_covered_images_failed_first(batch: Path, tmp_path: Path):
    code, page = report(batch, tmp_path, "html")
    assert code == ExitCode.FINDINGS
    statuses = re.findall(r'<article data-status="(\w+)"', page)
    assert statuses == ["failed", "findings", "clean"]
    assert "<script src" not in page and "http://" not in page.replace("http-equiv", "")
    previews = _previews(page)
    assert len(previews) == 2  # the broken file has no picture
    original = np.asarray(Image.open(SAMPLES / "astronaut.jpg").convert("RGB"), dtype=int)
    shown = np.asarray(Image.fromarray(previews[0]).resize((512, 512)), dtype=int)
    face = (slice(80, 180), slice(190, 290))
    assert np.abs(shown[face] - original[face]).mean() > 20, "the review page shows the unredacted face"
    assert 'data-label="FACE"' in page


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_html_in_headless_chromium(batch: Path, tmp_path: Path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium not installed")
    _, page = report(batch, tmp_path, "html")
    html_file = tmp_path / "review.html"
    html_file.write_text(page)
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", html_file.as_uri() + "#filter=failed"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    # the script ran: with #filter=failed only the failed article stays visible
    articles = re.findall(r"<article[^>]*>", dom)
    assert len(articles) == 3
    visible = [a for a in articles if "hidden" not in a]
    assert visible == ['<article data-status="failed">']
    assert re.search(r'<button data-filter="failed" class="on">', dom)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1200,900",
            f"--screenshot={shot}",
            html_file.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (900, 1200)
    assert pixels.std() > 20, "the screenshot is blank"


def test_gps_in_the_input_blocks_check_and_is_reported(tmp_path: Path):
    exif = Image.open(SAMPLES / "phone_portrait_gps.jpg").info["exif"]
    photo = tmp_path / "table.jpg"
    Image.fromarray(np.full((300, 400, 3), 120, np.uint8)).save(photo, quality=90, exif=exif)
    result = runner.invoke(app, ["check", str(photo), "--json"])
    assert result.exit_code == ExitCode.FINDINGS
    entry = json.loads(result.stdout)["files"][0]
    assert entry["findings"] == [] and {"GPS", "THUMBNAIL"} <= set(entry["metadata"])
    assert "40.7" not in result.stdout  # names of metadata only, never values
    sarif_out = tmp_path / "r.sarif"
    runner.invoke(app, ["scan", str(photo), "-f", "sarif", "--report", str(sarif_out)])
    log = json.loads(sarif_out.read_text())
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"phi/metadata/gps", "phi/metadata/thumbnail"}
    if SARIF_SCHEMA.is_file():
        import jsonschema

        jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    # the cleaned copy carries none of it and passes the gate
    out = tmp_path / "out"
    assert runner.invoke(app, ["clean", str(photo), "-o", str(out)]).exit_code == ExitCode.OK
    assert runner.invoke(app, ["check", str(out / "table.jpg")]).exit_code == ExitCode.OK
