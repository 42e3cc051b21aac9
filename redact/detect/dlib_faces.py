"""face_recognition's default face detector (dlib's HOG + linear SVM), selectable by name.

``face_detector = "dlib-hog"`` uses what ``face_recognition.face_locations(img,
number_of_times_to_upsample=1, model="hog")`` uses, calling dlib directly (redact never
imports face_recognition, see :mod:`redact.consent.encoder`), with the score threshold
lowered from 0 to :data:`ADJUST` for recall.  It is here for comparison
and for users who already trust it: on our benchmarks it covers far fewer faces than the
default CenterFace detector (small, turned and masked faces are its weak spots), so it is
never the default.  Videos get the same detector on every frame it looks at.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from redact.config import Settings
from redact.consent.encoder import load_dlib
from redact.detect.base import Detector, RGBImage, register
from redact.errors import MissingDependencyError
from redact.types import Box, Finding, Kind

#: face_recognition's default: upsample the image once (finds faces down to ~40 px).
UPSAMPLE = 1
#: dlib's score threshold adjustment (face_recognition: 0); lower finds more faces.
ADJUST = -0.5


@register("dlib-hog")
class DlibHogDetector(Detector):
    """dlib's frontal-face HOG detector, as face_recognition runs it by default."""

    name = "dlib-hog"
    kind = Kind.FACE

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        dlib = load_dlib()
        try:
            self._detector: Any = dlib.get_frontal_face_detector()
        except (RuntimeError, AttributeError) as exc:
            raise MissingDependencyError(f"dlib's face detector cannot be loaded ({type(exc).__name__})") from None

    def detect(self, image: RGBImage) -> list[Finding]:
        """Every face dlib's HOG detector finds; scores are squashed into [0, 1]."""
        rgb = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
        rects, scores, _kinds = self._detector.run(rgb, UPSAMPLE, ADJUST)
        findings = []
        for rect, score in zip(rects, scores, strict=True):
            box = Box(float(rect.left()), float(rect.top()), float(rect.right() + 1), float(rect.bottom() + 1))
            confidence = float(1 / (1 + np.exp(-2 * score)))
            findings.append(Finding(Kind.FACE, box, confidence, self.name, "FACE"))
        return findings
