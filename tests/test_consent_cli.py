"""`redact consent ...` and `--consent` end to end, with the real detector and dlib models.

Faces: the public-domain NASA portrait (``samples/astronaut.jpg``, scikit-image ``astronaut``)
is the enrolled person; scikit-image's ``camera`` (CC0, Lav Varshney) is a stranger.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from redact.cli import app
from redact.errors import ExitCode

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
runner = CliRunner()
pytestmark = pytest.mark.slow


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the astronaut enrolled as 'Eileen C'."""
    store = tmp_path_factory.mktemp("consent") / "consent.json"
    result = invoke("consent", "add", "Eileen C", SAMPLES / "astronaut.jpg", "--store", store)
    assert result.exit_code == 0, result.stderr
    return store


@pytest.fixture
def two_people(tmp_path: Path) -> Path:
    """The astronaut (enrolled) beside the cameraman (not enrolled)."""
    from skimage import data

    astronaut = np.asarray(Image.open(SAMPLES / "astronaut.jpg").convert("RGB"))
    camera = np.stack([data.camera()] * 3, axis=-1)
    path = tmp_path / "in" / "two.png"
    path.parent.mkdir()
    Image.fromarray(np.hstack([astronaut, camera])).save(path)
    return path


def test_add_list_remove(tmp_path: Path, enrolled: Path):
    store = tmp_path / "c.json"
    shutil.copy(enrolled, store)
    listed = invoke("consent", "list", "--store", store)
    assert listed.exit_code == 0
    assert "Eileen C" in listed.stdout and "never" in listed.stdout and "active" in listed.stdout
    removed = invoke("consent", "remove", "eileen c", "--store", store)
    assert removed.exit_code == 0, removed.stderr
    assert "removed 'Eileen C'" in removed.stderr
    assert "no one is enrolled" in invoke("consent", "list", "--store", store).stdout
    again = invoke("consent", "remove", "Eileen C", "--store", store)
    assert again.exit_code == ExitCode.USAGE
    assert "not enrolled" in one_line_error(again)


def test_store_never_holds_photos_or_prints_encodings(enrolled: Path):
    data = json.loads(enrolled.read_text())
    (person,) = data["people"]
    assert set(person) == {"name", "added", "expires", "encodings"}
    assert len(person["encodings"]) == 1 and len(person["encodings"][0]) == 128
    listed = invoke("consent", "list", "--store", enrolled)
    assert f"{person['encodings'][0][0]}"[:8] not in listed.stdout + listed.stderr


def test_expiry_is_listed_and_warned(tmp_path: Path, enrolled: Path, two_people: Path):
    store = tmp_path / "c.json"
    data = json.loads(enrolled.read_text())
    data["people"][0]["expires"] = "2020-01-31"
    store.write_text(json.dumps(data))
    listed = invoke("consent", "list", "--store", store)
    assert "2020-01-31" in listed.stdout and "EXPIRED" in listed.stdout
    result = invoke("scan", two_people, "--consent", store, "--json", "-j", "1")
    assert result.exit_code == ExitCode.FINDINGS
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "expired on 2020-01-31" in warnings[0]
    report = json.loads(result.stdout)["files"][0]
    assert report["counts"]["face"] == 2 and report["kept_by_consent"] == {}


def test_duplicate_name_is_refused(enrolled: Path, tmp_path: Path):
    store = tmp_path / "c.json"
    shutil.copy(enrolled, store)
    result = invoke("consent", "add", "EILEEN C", SAMPLES / "astronaut.jpg", "--store", store)
    assert result.exit_code == ExitCode.USAGE
    assert "already enrolled" in one_line_error(result)
    assert store.read_bytes() == enrolled.read_bytes()


@pytest.mark.parametrize(
    ("photo", "message"),
    [
        ("faces_many_sizes.jpg", "exactly one face, found 5"),
        ("coffee_no_faces.jpg", "exactly one face, found 0"),
    ],
)
def test_reference_photo_needs_exactly_one_face(tmp_path: Path, photo: str, message: str):
    store = tmp_path / "c.json"
    result = invoke("consent", "add", "X", SAMPLES / "astronaut.jpg", SAMPLES / photo, "--store", store)
    assert result.exit_code == ExitCode.BAD_INPUT
    line = one_line_error(result)
    assert photo in line and message in line
    assert not store.exists()  # nothing enrolled from a partly bad set


def test_unreadable_reference_photo(tmp_path: Path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    result = invoke("consent", "add", "X", bad, "--store", tmp_path / "c.json")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "broken.jpg" in one_line_error(result)


@pytest.mark.parametrize(("value", "message"), [("31/01/2027", "YYYY-MM-DD"), ("2001-01-01", "in the past")])
def test_bad_expiry(tmp_path: Path, value: str, message: str):
    result = invoke("consent", "add", "X", SAMPLES / "astronaut.jpg", "--expires", value, "--store", tmp_path / "c")
    assert result.exit_code == ExitCode.USAGE
    assert message in one_line_error(result)


def test_corrupt_store_is_one_line_exit_3(tmp_path: Path, two_people: Path):
    store = tmp_path / "c.json"
    store.write_text("{ half a file")
    for args in (("consent", "list", "--store", store), ("scan", two_people, "--consent", store)):
        result = invoke(*args)
        assert result.exit_code == ExitCode.BAD_INPUT
        assert "corrupt" in one_line_error(result)


def test_missing_store_for_scan_is_usage_error(tmp_path: Path, two_people: Path):
    result = invoke("scan", two_people, "--consent", tmp_path / "nope.json")
    assert result.exit_code == ExitCode.USAGE
    assert "consent store not found" in one_line_error(result)


def test_enrolled_person_stays_visible_and_stranger_is_covered(enrolled: Path, two_people: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = invoke("clean", two_people, "-o", out, "--consent", enrolled, "--json", "-j", "1")
    assert result.exit_code == ExitCode.OK, result.stderr
    report = json.loads(result.stdout)["files"][0]
    assert report["kept_by_consent"] == {"Eileen C": 1}
    assert report["counts"] == {"face": 1}
    (finding,) = report["findings"]
    assert finding["box"][0] >= 512  # the covered face is the cameraman's (right half)
    before = np.asarray(Image.open(two_people).convert("RGB")).astype(int)
    after = np.asarray(Image.open(out / "two.png").convert("RGB")).astype(int)
    assert np.abs(after[:, :512] - before[:, :512]).max() == 0  # astronaut untouched
    x0, y0, x1, y1 = (int(v) for v in finding["box"])
    x0, y0 = max(x0, 0), max(y0, 0)
    assert np.abs(after[y0:y1, x0:x1] - before[y0:y1, x0:x1]).mean() > 10  # cameraman covered


def test_without_consent_both_faces_are_covered(two_people: Path):
    result = invoke("scan", two_people, "--json", "-j", "1")
    report = json.loads(result.stdout)["files"][0]
    assert report["counts"] == {"face": 2} and report["kept_by_consent"] == {}


def test_reports_name_the_kept_faces(enrolled: Path, two_people: Path, tmp_path: Path):
    sarif = invoke("scan", two_people, "--consent", enrolled, "-f", "sarif", "-j", "1")
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    notes = [r for r in results if r["ruleId"] == "consent/kept"]
    assert len(notes) == 1 and notes[0]["level"] == "note"
    assert notes[0]["message"]["text"] == "1 face(s) kept visible by consent: Eileen C"
    assert sum(r["ruleId"] == "phi/face" for r in results) == 1
    text = tmp_path / "r.txt"
    invoke("scan", two_people, "--consent", enrolled, "--report", text, "-j", "1")
    assert "1 face; 1 face(s) kept visible by consent: Eileen C" in text.read_text()
    page = invoke("scan", two_people, "--consent", enrolled, "-f", "html", "-j", "1").stdout
    assert "1 face(s) kept visible by consent: Eileen C" in page


def test_check_passes_when_only_consented_faces_show(enrolled: Path, tmp_path: Path):
    photo = tmp_path / "eileen.jpg"
    shutil.copy(SAMPLES / "astronaut.jpg", photo)
    assert invoke("check", photo).exit_code == ExitCode.FINDINGS
    assert invoke("check", photo, "--consent", enrolled).exit_code == ExitCode.OK


# --- a broken dlib / face_recognition install -------------------------------------------------


@pytest.fixture
def no_dlib(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "dlib", None)  # import dlib -> ImportError


def test_broken_dlib_exits_4_with_one_line(no_dlib, enrolled: Path, two_people: Path, tmp_path: Path):
    for args in (
        ("clean", two_people, "-o", tmp_path / "out", "--consent", enrolled),
        ("scan", two_people, "--consent", enrolled),
        ("consent", "add", "Y", SAMPLES / "astronaut.jpg", "--store", tmp_path / "c.json"),
    ):
        result = invoke(*args)
        assert result.exit_code == ExitCode.MISSING_DEPENDENCY, (args, result.stderr)
        assert "consent matching needs dlib" in one_line_error(result)
    assert not (tmp_path / "out").exists()  # nothing written: no face left visible


def test_dlib_that_exits_on_import_cannot_end_redact(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    fake = tmp_path / "fakes"
    (fake / "dlib").mkdir(parents=True)
    (fake / "dlib" / "__init__.py").write_text("print('Please install `face_recognition_models`')\nquit()\n")
    monkeypatch.syspath_prepend(str(fake))
    monkeypatch.delitem(sys.modules, "dlib", raising=False)
    from redact.consent.encoder import load_dlib
    from redact.errors import MissingDependencyError

    with pytest.raises(MissingDependencyError, match=r"cannot import dlib: SystemExit"):
        load_dlib()


def test_face_recognition_is_never_imported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, two_people: Path):
    """A face_recognition that quit()s on import (setuptools>=82) must not matter: we never import it."""
    fake = tmp_path / "fakes"
    fake.mkdir()
    (fake / "face_recognition.py").write_text("quit()\n")
    (fake / "face_recognition_models.py").write_text("quit()\n")
    monkeypatch.syspath_prepend(str(fake))
    store = tmp_path / "c.json"
    added = invoke("consent", "add", "Eileen C", SAMPLES / "astronaut.jpg", "--store", store)
    assert added.exit_code == 0, added.stderr
    scanned = invoke("scan", two_people, "--consent", store, "--json", "-j", "1")
    assert scanned.exit_code == ExitCode.FINDINGS
    assert json.loads(scanned.stdout)["files"][0]["kept_by_consent"] == {"Eileen C": 1}
    assert "face_recognition" not in sys.modules and "face_recognition_models" not in sys.modules
