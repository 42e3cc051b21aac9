"""The detector contract as the Analyzer uses it: no detector is special-cased by its type."""

from __future__ import annotations

import numpy as np
import pytest

from redact.analysis import Analyzer
from redact.config import Settings, TextMode
from redact.detect import Detection, Detector
from redact.errors import AnalysisError
from redact.records import CODE_LABELS
from redact.types import Box, Finding, Kind

IMAGE = np.zeros((40, 60, 3), np.uint8)
FACE = Finding(Kind.FACE, Box(1, 1, 10, 10), 0.9, "stub-faces", "FACE")
NAME = Finding(Kind.TEXT, Box(20, 5, 50, 12), 0.9, "stub-text", "NAME")
LINE = Finding(Kind.TEXT, Box(20, 20, 50, 27), 0.5, "stub-text", "TEXT")


class Faces(Detector):
    name = "stub-faces"
    kind = Kind.FACE

    def __init__(self) -> None:
        self.closed = False

    def detect(self, image: np.ndarray) -> list[Finding]:
        return [FACE]

    def close(self) -> None:
        self.closed = True


class Text(Detector):
    """Reads a form: one name, two printed field labels, and a harmless line."""

    name = "stub-text"
    kind = Kind.TEXT

    def __init__(self, on_record: bool = True) -> None:
        self.on_record = on_record

    def detect(self, image: np.ndarray) -> list[Finding]:
        return [NAME]

    def examine(self, image: np.ndarray) -> Detection:
        return Detection([NAME], field_labels=("NAME", "DOB"), on_record=[NAME, LINE] if self.on_record else None)


class Broken(Detector):
    name = "broken"
    kind = Kind.BARCODE

    def detect(self, image: np.ndarray) -> list[Finding]:
        raise RuntimeError("payload text that must not be echoed")


def test_a_record_is_judged_on_the_evidence_and_covered_as_the_detector_says():
    analysis = Analyzer(Settings(), [Faces(), Text()]).analyse(IMAGE)
    assert [f.code for f in analysis.flags] == [CODE_LABELS]
    assert analysis.findings == [FACE, NAME, LINE]
    assert analysis.notes == ["looks like a patient record: all text covered; a person should review it"]


def test_a_detector_with_nothing_more_to_cover_on_a_record_keeps_its_findings():
    analysis = Analyzer(Settings(text_mode=TextMode.ALL), [Faces(), Text(on_record=False)]).analyse(IMAGE)
    assert [f.code for f in analysis.flags] == [CODE_LABELS]
    assert analysis.findings == [FACE, NAME]
    assert analysis.notes == []


def test_faces_can_be_left_to_the_caller_and_found_again():
    analyzer = Analyzer(Settings(), [Faces(), Text()])
    assert FACE not in analyzer.analyse(IMAGE, faces=False).findings
    assert analyzer.face_detector is analyzer.detectors[0]
    assert analyzer.faces_left(IMAGE) == [FACE]


def test_the_defaults_of_the_contract():
    faces = Faces()
    assert faces.examine(IMAGE) == Detection([FACE])
    assert faces.verify(IMAGE, [FACE]) == []
    assert faces.for_video(keyframe=False) is faces.for_video(keyframe=True) is faces
    analyzer = Analyzer(Settings(), [faces, Text()])
    assert analyzer.verify(IMAGE, [FACE, NAME]) == []
    analyzer.close()
    assert faces.closed


def test_a_detector_error_fails_the_file_without_its_message():
    with pytest.raises(AnalysisError) as raised:
        Analyzer(Settings(), [Faces(), Broken()]).analyse(IMAGE)
    assert "payload" not in str(raised.value) and "RuntimeError" in str(raised.value)
