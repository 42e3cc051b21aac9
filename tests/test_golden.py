"""End-to-end on the bundled samples: every face covered, metadata gone, originals intact.

The expected face positions come from ``samples/make_samples.py`` (where it pastes faces).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from redact.cli import app
from redact.config import Settings
from redact.errors import ExitCode
from redact.policy import cover_boxes
from redact.types import Box, Finding, Kind

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

#: The face (hairline to chin, ear to ear) in skimage's astronaut, original pixels.
ASTRONAUT_FACE = (170, 55, 285, 180)


def _pasted(crop_xy: tuple[int, int], scale: float, at: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where ASTRONAUT_FACE lands after make_samples.py crops at crop_xy, scales and pastes at ``at``."""
    x0, y0, x1, y1 = ASTRONAUT_FACE
    cx, cy = crop_xy
    return (
        round(at[0] + (x0 - cx) * scale),
        round(at[1] + (y0 - cy) * scale),
        round(at[0] + (x1 - cx) * scale),
        round(at[1] + (y1 - cy) * scale),
    )


def _many_sizes_faces() -> list[tuple[int, int, int, int]]:
    boxes, x = [], 40
    for size in (260, 160, 100, 64, 40):
        boxes.append(_pasted((140, 10), size / 250, (x, 900 - size - 60)))
        x += size * 4 // 5 + 60
    return boxes


#: Faces that make_samples.py puts in each sample.
EXPECTED_FACES: dict[str, list[tuple[int, int, int, int]]] = {
    "astronaut.jpg": [ASTRONAUT_FACE],
    "ward_whiteboard.png": [_pasted((140, 20), 1.0, (1000, 260)), _pasted((140, 20), 0.3, (1380, 330))],
    "faces_many_sizes.jpg": _many_sizes_faces(),
    "coffee_no_faces.jpg": [],
}


#: PHI text make_samples.py writes on the whiteboard (the room number and the nurse's
#: first name and extension are not patient identifiers and stay).
EXPECTED_TEXT: dict[str, set[str]] = {"ward_whiteboard.png": {"NAME", "MRN", "DOB", "TEXT"}}
#: Samples that look like a patient record (all their text is then covered, hence "TEXT").
EXPECTED_FLAGS: dict[str, set[str]] = {"ward_whiteboard.png": {"record.phi_fields", "record.field_labels"}}
#: Planted PHI that must not be readable in any output.
PLANTED_PHI = ("DOE", "JANE", "40817263", "1948")


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    out = tmp_path_factory.mktemp("cleaned")
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SAMPLES.iterdir() if p.is_file()}
    result = CliRunner().invoke(app, ["clean", str(SAMPLES), "-o", str(out), "--json"])
    assert result.exit_code == ExitCode.OK, result.stderr
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SAMPLES.iterdir() if p.is_file()}
    assert after == digests, "samples were modified"
    report = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    return out, report


def _covered_fraction(face: tuple[int, int, int, int], covers: list[Box], size: tuple[int, int]) -> float:
    mask = np.zeros((size[1], size[0]), bool)
    for c in covers:
        x0, y0, x1, y1 = c.pixel_bounds(*size) or (0, 0, 0, 0)
        mask[y0:y1, x0:x1] = True
    x0, y0, x1, y1 = face
    return float(mask[y0:y1, x0:x1].mean())


@pytest.mark.parametrize("name", sorted(EXPECTED_FACES))
def test_every_expected_face_is_covered(cleaned, name: str):
    _, report = cleaned
    entry = report[name]
    findings = [Finding.from_dict(f) for f in entry["findings"]]
    size = tuple(entry["size"])
    covers = cover_boxes(findings, Settings(), *size)
    for face in EXPECTED_FACES[name]:
        assert _covered_fraction(face, covers, size) >= 0.95, (name, face)
    faces = [f for f in findings if f.kind is Kind.FACE]
    assert len(faces) == len(EXPECTED_FACES[name]), (name, entry["findings"])
    labels = {f.label for f in findings if f.kind is Kind.TEXT}
    assert labels == EXPECTED_TEXT.get(name, set()), (name, labels)
    assert not [f for f in findings if f.kind is Kind.BARCODE], (name, "no codes in this photo")
    assert {f["code"] for f in entry["flags"]} == EXPECTED_FLAGS.get(name, set()), (name, entry["flags"])
    assert entry["status"] == ("redacted" if EXPECTED_FACES[name] else "clean")


@pytest.mark.parametrize("name", sorted(EXPECTED_FACES))
def test_face_pixels_changed_and_background_kept(cleaned, name: str):
    out, _ = cleaned
    before = np.asarray(Image.open(SAMPLES / name).convert("RGB"), dtype=int)
    after = np.asarray(Image.open(out / name).convert("RGB"), dtype=int)
    assert before.shape == after.shape
    for x0, y0, x1, y1 in EXPECTED_FACES[name]:
        region_diff = np.abs(before[y0:y1, x0:x1] - after[y0:y1, x0:x1]).mean()
        assert region_diff > 8, (name, (x0, y0, x1, y1), region_diff)
    # far from any face, only JPEG re-encoding noise
    assert np.abs(before[-20:, -20:] - after[-20:, -20:]).mean() < 6


def test_phone_photo_is_upright_and_carries_no_metadata(cleaned):
    out, report = cleaned
    written = out / "phone_portrait_gps.jpg"
    raw = written.read_bytes()
    with Image.open(written) as im:
        assert im.size == (600, 800)  # upright portrait; on disk the input is 800 x 600
        assert not im.getexif()
        assert "exif" not in im.info and "icc_profile" not in im.info
    assert b"Exif" not in raw and b"ExamplePhone" not in raw and b"GPS" not in raw
    assert raw.count(b"\xff\xd8") == 1, "an embedded thumbnail (second JPEG) survived"
    assert report["phone_portrait_gps.jpg"]["size"] == [600, 800]
    assert [f["label"] for f in report["phone_portrait_gps.jpg"]["findings"]] == ["FACE", "FACE"]


def test_heic_sample_is_written_without_metadata(cleaned):
    out, report = cleaned
    written = Path(report["astronaut.heic"]["output"])
    assert written.parent == out and written.is_file()
    raw = written.read_bytes()
    assert b"Exif" not in raw
    assert [f["label"] for f in report["astronaut.heic"]["findings"]] == ["FACE"]


def test_no_planted_phi_is_readable_in_the_output(cleaned):
    from redact.detect.text import TextDetector

    out, report = cleaned
    detector = TextDetector(Settings())
    for name in ("ward_whiteboard.png", "phone_portrait_gps.jpg"):
        pixels = np.asarray(Image.open(out / name).convert("RGB"))
        read = " ".join(r.text for line in detector.analyse(pixels) for r in line.readings).upper()
        for secret in PLANTED_PHI:
            assert secret not in read, (name, "PHI still readable")
    # and never in the report
    assert not any(secret in json.dumps(report) for secret in PLANTED_PHI)


def test_ward_video_sample_is_covered_flagged_and_stripped(cleaned):
    import av

    out, report = cleaned
    entry = report["ward_pan.mp4"]
    assert entry["status"] == "redacted" and entry["output"].endswith("ward_pan.mp4")
    assert {f["code"] for f in entry["flags"]} >= {"record.phi_fields"}
    assert "GPS" in entry["metadata"]
    with av.open(str(out / "ward_pan.mp4")) as c:
        assert [s.type for s in c.streams] == ["video"]  # audio dropped
        assert c.streams.video[0].frames == 45
        assert not any("location" in k.lower() for k in c.metadata)
    # The nurse's face (pasted at 1000,260 in the ward scene) is covered in every frame where it
    # is wholly in view: its pixels differ clearly from the scene's (make_samples.ward_video pans).
    import sys

    sys.path.insert(0, str(SAMPLES))
    from make_samples import ward_scene

    scene = np.asarray(ward_scene()).astype(int)
    fx0, fy0, fx1, fy1 = _pasted((140, 20), 1.0, (1000, 260))
    with av.open(str(out / "ward_pan.mp4")) as c:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]
    checked = 0
    for i, frame in enumerate(frames):
        x = round((1600 - 640) * i / 44)
        y = 140 + round(40 * np.sin(i / 6))
        if fx0 - x < 0 or fx1 - x > 640:
            continue
        region = frame[fy0 - y : fy1 - y, fx0 - x : fx1 - x]
        original = scene[fy0:fy1, fx0:fx1]
        assert np.abs(region - original).mean() > 12, f"face visible in frame {i}"
        checked += 1
    assert checked >= 10
    assert any(f["kind"] == "text" for f in entry["findings"])
