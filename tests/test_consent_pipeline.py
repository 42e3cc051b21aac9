"""Library path: consent never leaves a face visible when matching is unavailable or fails."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redact.analysis import Analyzer
from redact.batch import run
from redact.config import Settings
from redact.consent import ConsentMatcher, ConsentStore
from redact.errors import ExitCode, MissingDependencyError
from redact.jobs import Job, plan_jobs
from redact.process import process
from redact.types import Box, Mode, Status

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
pytestmark = pytest.mark.slow


class BrokenEncoder:
    def encode(self, image: object, box: Box) -> np.ndarray | None:
        raise RuntimeError("dlib crashed")


class BlindEncoder:
    """Every face too small or blurred to encode."""

    def encode(self, image: object, box: Box) -> np.ndarray | None:
        return None


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    dest = tmp_path / "in" / "face.jpg"
    dest.parent.mkdir()
    shutil.copy(SAMPLES / "astronaut.jpg", dest)
    return dest


@pytest.fixture
def store(tmp_path: Path) -> Path:
    consent = ConsentStore(tmp_path / "consent.json")
    consent.add("Someone", [[0.01] * 128])
    consent.save()
    return consent.path


def analyzer_with(encoder: object, store: Path) -> Analyzer:
    analyzer = Analyzer(Settings(stages=("faces",)))
    analyzer.consent = ConsentMatcher(ConsentStore.load(store), encoder=encoder)  # type: ignore[arg-type]
    return analyzer


def test_no_store_changes_nothing(photo: Path, tmp_path: Path):
    analyzer = Analyzer(Settings(stages=("faces",)))
    assert analyzer.consent is None
    result = process(Job(photo, tmp_path / "o.jpg"), Mode.CLEAN, analyzer)
    assert result.status is Status.REDACTED and len(result.findings) == 1 and result.kept == ()


def test_missing_dlib_fails_the_run_before_writing(monkeypatch: pytest.MonkeyPatch, photo: Path, store: Path):
    monkeypatch.setitem(sys.modules, "dlib", None)
    settings = Settings(stages=("faces",), consent_store=store)
    jobs = plan_jobs([photo], Mode.CLEAN, photo.parent / "out", settings)
    with pytest.raises(MissingDependencyError) as err:
        run(jobs, Mode.CLEAN, settings)
    assert err.value.exit_code == ExitCode.MISSING_DEPENDENCY
    assert not (photo.parent / "out").exists()


def test_encoder_crash_fails_the_file_and_writes_nothing(photo: Path, store: Path, tmp_path: Path):
    out = tmp_path / "out.jpg"
    result = process(Job(photo, out), Mode.CLEAN, analyzer_with(BrokenEncoder(), store))
    assert result.status is Status.FAILED
    assert result.exit_code == ExitCode.ANALYSIS_FAILED
    assert result.error == "consent matching failed (RuntimeError)"
    assert not out.exists()


def test_unencodable_face_is_covered(photo: Path, store: Path, tmp_path: Path):
    out = tmp_path / "out.jpg"
    result = process(Job(photo, out), Mode.CLEAN, analyzer_with(BlindEncoder(), store))
    assert result.status is Status.REDACTED
    assert len(result.findings) == 1 and result.kept == ()
    before = np.asarray(Image.open(photo).convert("RGB")).astype(int)
    after = np.asarray(Image.open(out).convert("RGB")).astype(int)
    x0, y0, x1, y1 = (int(v) for v in result.findings[0].box.xyxy)
    assert np.abs(after[y0:y1, x0:x1] - before[y0:y1, x0:x1]).mean() > 10


def test_kept_faces_round_trip_through_json(photo: Path):
    from redact.types import FileResult

    result = FileResult(photo, Status.CLEAN, kept=(("A. Jones", 2), ("B", 1)))
    assert FileResult.from_dict(result.to_dict()).kept == result.kept
    assert result.kept_text() == "3 face(s) kept visible by consent: A. Jones (2), B (1)"
