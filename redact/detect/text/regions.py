"""Scene-text regions with high recall: PP-OCRv4's DB detector under onnxruntime.

The detector returns a per-pixel text probability; each connected blob becomes a
rotated rectangle (``cv2.minAreaRect``), grown by the DB "unclip" distance so it holds
the whole line, ascenders and descenders included.  Thresholds are low on purpose:
a region that is found can still be judged harmless later, one that is missed cannot.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from redact.detect import onnx
from redact.types import Point

RGBImage = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Region:
    """One text line: a rotated rectangle in image pixels.

    ``corners`` run clockwise from the top-left of the *text* (reading direction),
    so ``corners[0] -> corners[1]`` is the baseline direction.
    """

    corners: tuple[Point, Point, Point, Point]
    score: float

    @property
    def width(self) -> float:
        (x0, y0), (x1, y1) = self.corners[0], self.corners[1]
        return float(np.hypot(x1 - x0, y1 - y0))

    @property
    def height(self) -> float:
        (x1, y1), (x2, y2) = self.corners[1], self.corners[2]
        return float(np.hypot(x2 - x1, y2 - y1))

    @property
    def centre(self) -> Point:
        xs = [p[0] for p in self.corners]
        ys = [p[1] for p in self.corners]
        return (sum(xs) / 4.0, sum(ys) / 4.0)

    def padded(self, fraction: float) -> tuple[Point, ...]:
        """Return the corners grown by ``fraction`` of the line height on every side."""
        c = np.array(self.corners, np.float64)
        along = c[1] - c[0]
        across = c[3] - c[0]
        along /= max(np.linalg.norm(along), 1e-6)
        across /= max(np.linalg.norm(across), 1e-6)
        d = fraction * self.height
        grown = [
            c[0] - d * along - d * across,
            c[1] + d * along - d * across,
            c[2] + d * along + d * across,
            c[3] - d * along + d * across,
        ]
        return tuple((float(x), float(y)) for x, y in grown)


def order_corners(points: npt.NDArray[np.float32]) -> tuple[Point, Point, Point, Point]:
    """Order a rotated rectangle's corners so the longer side is the reading direction.

    Text is assumed to read left to right and never upside down in the frame (a
    rotation of at most 90 degrees either way); vertical boxes start at the top.
    """
    pts = points.astype(np.float64)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise in image coordinates, starting anywhere
    # Start at the corner such that edge 0->1 is a long side pointing rightwards.
    best = 0
    best_key = -np.inf
    for i in range(4):
        a, b, d = pts[i], pts[(i + 1) % 4], pts[(i + 3) % 4]
        along = b - a
        length, side = float(np.hypot(*along)), float(np.hypot(*(d - a)))
        key = (1.0 if length >= side * 0.999 else 0.0) * 10 + along[0] / max(length, 1e-6)
        if key > best_key:
            best, best_key = i, key
    o = [pts[(best + k) % 4] for k in range(4)]
    return ((o[0][0], o[0][1]), (o[1][0], o[1][1]), (o[2][0], o[2][1]), (o[3][0], o[3][1]))


class RegionDetector:
    """PP-OCRv4 DB text detector at the scales the image needs; one instance per process, thread-safe.

    :meth:`detect` looks at the whole image scaled to ``max_side``;
    :func:`redact.detect.text.tiles.find` then takes a closer look where that pass found
    lines near its resolution limit: small print on a large photo, tiny labels on a small scan.
    """

    def __init__(
        self,
        model: Path,
        max_side: int = 1600,
        threshold: float = 0.3,
        box_threshold: float = 0.45,
        unclip: float = 1.6,
        threads: int = 1,
    ) -> None:
        self.session = onnx.session(model, threads, "text detection")
        self.input = self.session.get_inputs()[0].name
        self.max_side = max_side
        self.threshold = threshold
        self.box_threshold = box_threshold
        self.unclip = unclip
        self.lock = threading.Lock()

    def base_scale(self, image: RGBImage) -> float:
        """Scale of the first, whole-image pass (never enlarged)."""
        return float(min(1.0, self.max_side / max(image.shape[:2])))

    def probability(self, image: RGBImage, scale: float | None = None) -> tuple[npt.NDArray[np.float32], float]:
        """Return the text-probability map of ``image`` at ``scale`` and the scale from image to map pixels.

        ``scale`` defaults to :meth:`base_scale`; sides are rounded to multiples of 32 (at least 32).
        """
        h, w = image.shape[:2]
        if scale is None:
            scale = self.base_scale(image)
        nh, nw = max(32, round(h * scale / 32) * 32), max(32, round(w * scale / 32) * 32)
        interpolation = cv2.INTER_AREA if nw < w else cv2.INTER_LINEAR
        resized = cv2.resize(image, (nw, nh), interpolation=interpolation)
        blob = ((resized[..., ::-1].astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        with self.lock:
            prob = self.session.run(None, {self.input: np.ascontiguousarray(blob)})[0][0, 0]
        return prob.astype(np.float32), nw / w

    def detect_at(self, image: RGBImage, scale: float | None = None) -> list[Region]:
        """Text lines of ``image`` seen at one ``scale`` (default: :meth:`base_scale`), in image pixels."""
        h, w = image.shape[:2]
        prob, _ = self.probability(image, scale)
        ph, pw = prob.shape
        return self.regions(prob, w / pw, h / ph, w, h)

    def regions(self, prob: npt.NDArray[np.float32], sx: float, sy: float, w: int, h: int) -> list[Region]:
        """Blobs of a probability map as rotated rectangles in image pixels (``sx``, ``sy``: map to image)."""
        mask = np.asarray(cv2.dilate((prob > self.threshold).astype(np.uint8), np.ones((2, 2), np.uint8)), np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        regions: list[Region] = []
        for contour in contours[:2000]:
            if len(contour) < 3:
                continue
            rect = cv2.minAreaRect(contour)
            if min(rect[1]) < 2:
                continue
            x, y, bw, bh = cv2.boundingRect(contour)
            blob_mask = np.zeros((bh, bw), np.uint8)
            cv2.fillPoly(blob_mask, [contour - np.array([x, y])], 1)
            score = float(cv2.mean(prob[y : y + bh, x : x + bw], blob_mask)[0])
            if score < self.box_threshold:
                continue
            area = rect[1][0] * rect[1][1]
            perimeter = 2 * (rect[1][0] + rect[1][1])
            grow = area * self.unclip / max(perimeter, 1e-6)
            grown = (rect[0], (rect[1][0] + 2 * grow, rect[1][1] + 2 * grow), rect[2])
            pts = np.asarray(cv2.boxPoints(grown), np.float32)
            pts[:, 0] = np.clip(pts[:, 0] * sx, -0.5 * w, 1.5 * w)
            pts[:, 1] = np.clip(pts[:, 1] * sy, -0.5 * h, 1.5 * h)
            regions.append(Region(order_corners(pts), score))
        return regions

    def detect(self, image: RGBImage) -> list[Region]:
        """Every text line of ``image`` (RGB uint8) seen in one pass at :meth:`base_scale`, top to bottom.

        :func:`redact.detect.text.tiles.find` adds the closer look where this pass is at its limit.
        """
        found = self.detect_at(image)
        found.sort(key=lambda r: (r.centre[1], r.centre[0]))
        return found
