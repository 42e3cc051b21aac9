"""Find barcodes and 2-D codes *without decoding them*.

The decoding stage (:mod:`redact.detect.barcodes`) only reports codes it can read; a
code that is blurred, damaged, tiny or half cut off still identifies a patient to anyone
with a better photo or a better reader.  This module localises code-like regions from
their appearance alone, so they are covered whether or not they decode:

* **linear** -- OpenCV's barcode *detector* (``cv2.barcode.BarcodeDetector.detect``),
  which finds 1-D bar patterns at any angle from gradient-orientation coherence and never
  needs the bars to be readable;
* **matrix** -- a texture test for QR / DataMatrix / Aztec / PDF417 (and bars): a region
  of high local contrast whose edges run along two perpendicular axes (a module grid has
  a strong four-fold gradient-orientation symmetry, natural texture has none) and that
  is roughly half dark, half light (a code's modules), unlike printed text (mostly
  background) or a flat surface.

Recall comes first: a stripy shirt or a tiled wall may be boxed too, which costs a black
patch; a missed code exposes a patient.  Nothing here reads or keeps a payload.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

GrayImage = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float64]  # 4 x 2 corner points, clockwise


@dataclass(frozen=True, slots=True)
class Candidate:
    """A code-like region: its quadrilateral (image pixels), shape family and score in [0, 1]."""

    quad: Quad
    shape: str  # "LINEAR" or "MATRIX"
    score: float


@dataclass(frozen=True, slots=True)
class LocateTuning:
    """Thresholds of the texture test (defaults measured in benchmarks/barcodes.py)."""

    #: The texture test runs on an image whose longer side is at most this (speed).
    max_side: int = 1024
    #: Side of the square window (pixels at the test's scale) for local statistics.
    window: int = 15
    #: Minimum local standard deviation of grey levels (0-255) inside a code.
    min_std: float = 12.0
    #: Minimum four-fold orientation alignment (0 = isotropic texture, 1 = perfect grid).
    min_align: float = 0.3
    #: Minimum edge density: mean gradient magnitude over local standard deviation.  About
    #: ``4*sqrt(2)/period`` for stripes of ``period`` pixels whatever their blur; a lone
    #: object edge scores far lower.
    min_density: float = 0.3
    #: The test also runs at these further down-scalings (codes with large modules).
    octaves: tuple[float, ...] = (1.0, 0.5)
    #: An octave runs only if the image's shorter side is at least this many pixels there.
    min_octave_side: int = 240
    #: Regions larger than this fraction of the image are scenery, not a code.
    max_area: float = 0.1
    #: A region's dark fraction must lie in this range (codes are about half dark).
    dark_range: tuple[float, float] = (0.25, 0.75)
    #: Smallest region side, in pixels at the test's scale.
    min_side: int = 12
    #: Regions must fill at least this fraction of their rotated rectangle.
    min_fill: float = 0.45
    #: Minimum mean number of dark/light transitions per line across the region (along its
    #: busier axis): a code has many, the rim of a cup or an eye has two or three.
    min_transitions: float = 6.0


def locate(gray: GrayImage, tuning: LocateTuning | None = None) -> list[Candidate]:
    """Code-like regions in ``gray`` (H x W, uint8), in ``gray``'s pixel coordinates."""
    tuning = tuning or LocateTuning()
    return locate_linear(gray) + locate_matrix(gray, tuning)


def locate_linear(gray: GrayImage) -> list[Candidate]:
    """1-D barcodes found by OpenCV's (decode-free) barcode detector."""
    ok, points = cv2.barcode.BarcodeDetector().detect(gray)
    if not ok or points is None:
        return []
    quads = np.asarray(points, np.float64).reshape(-1, 4, 2)
    return [Candidate(_clockwise(q), "LINEAR", 0.6) for q in quads]


def locate_matrix(gray: GrayImage, tuning: LocateTuning) -> list[Candidate]:
    """High-contrast, grid-aligned, half-dark regions (2-D codes and bars, readable or not)."""
    h, w = gray.shape
    found: list[Candidate] = []
    for octave in tuning.octaves:
        scale = min(1.0, tuning.max_side / max(h, w)) * octave
        if min(h, w) * scale < tuning.min_octave_side:
            continue
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = gray if scale == 1.0 else np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), np.uint8)
        found.extend(_regions(small, scale, tuning))
    # Every candidate is kept (never truncated: a dropped region could be a code).
    found.sort(key=lambda c: -c.score)
    return found


def _regions(small: GrayImage, scale: float, tuning: LocateTuning) -> list[Candidate]:
    """Candidates in ``small``, mapped back by ``1 / scale``."""
    mask, align = _texture_mask(small, tuning)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[Candidate] = []
    for contour in contours:
        x, y, bw, bh = cv2.boundingRect(contour)
        if min(bw, bh) < tuning.min_side:
            continue
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        rect = ((float(cx), float(cy)), (float(rw), float(rh)), float(angle))
        if min(rw, rh) < tuning.min_side or cv2.contourArea(contour) < tuning.min_fill * rw * rh:
            continue
        if rw * rh > tuning.max_area * small.shape[0] * small.shape[1]:
            continue
        # Judge the region set upright, so a tilted code's white surround does not count.
        contrast, dark, changes = _upright_stats(small, rect)
        if contrast < 2 * tuning.min_std or not tuning.dark_range[0] <= dark <= tuning.dark_range[1]:
            continue
        # A code cut by the image border shows fewer modules: accept fewer changes.
        at_border = x <= 1 or y <= 1 or x + bw >= small.shape[1] - 1 or y + bh >= small.shape[0] - 1
        if changes < tuning.min_transitions * (0.6 if at_border else 1.0):
            continue
        inside = mask[y : y + bh, x : x + bw] > 0
        score = float(np.clip(np.mean(align[y : y + bh, x : x + bw][inside]), 0, 1))
        quad = cv2.boxPoints(rect).astype(np.float64) / scale
        found.append(Candidate(_clockwise(quad), "MATRIX", score))
    return found


def _upright_stats(
    small: GrayImage, rect: tuple[tuple[float, float], tuple[float, float], float]
) -> tuple[float, float, float]:
    """Contrast, dark fraction and transitions of ``rect``, cut out and set upright.

    Contrast is the 95th minus the 5th grey percentile; transitions are the mean number of
    dark/light changes per row or per column, whichever is larger.
    """
    (cx, cy), (rw, rh), angle = rect
    w, h = max(2, round(rw)), max(2, round(rh))
    m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    m[:, 2] += np.array([w / 2 - cx, h / 2 - cy])
    patch = cv2.warpAffine(small, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    lo, hi = np.percentile(patch, (5, 95))
    ink = patch < (lo + hi) / 2
    rows = np.count_nonzero(ink[:, 1:] != ink[:, :-1]) / h
    cols = np.count_nonzero(ink[1:, :] != ink[:-1, :]) / w
    return float(hi - lo), float(ink.mean()), float(max(rows, cols))


def _texture_mask(small: GrayImage, tuning: LocateTuning) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """Pixels whose neighbourhood looks like a code, and the per-pixel alignment map."""
    g = small.astype(np.float32)
    win = (tuning.window, tuning.window)
    mean = cv2.boxFilter(g, -1, win)
    std = np.sqrt(np.maximum(cv2.boxFilter(cv2.multiply(g, g), -1, win) - cv2.multiply(mean, mean), 0.0))
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    # With z = gx + i*gy, z**4 / |z|**2 = |z|**2 * exp(4i*theta): its local mean is large
    # only where edges follow two perpendicular directions (or one).  |z|**2 and 4*theta
    # come from cartToPolar of z**2 = (gx**2 - gy**2) + i*(2*gx*gy).
    mag = cv2.magnitude(gx, gy)
    mag2, angle2 = cv2.cartToPolar(cv2.subtract(cv2.multiply(gx, gx), cv2.multiply(gy, gy)), 2 * cv2.multiply(gx, gy))
    cos4, sin4 = cv2.polarToCart(mag2, 2 * angle2)
    re = cv2.boxFilter(cos4, -1, win)
    im = cv2.boxFilter(sin4, -1, win)
    total = cv2.boxFilter(mag2, -1, win) + 1e-3
    align = cv2.magnitude(re, im) / total
    # Sobel 3x3 responds with 8x the true slope.
    density = cv2.boxFilter(mag, -1, win) / (8.0 * std + 1e-3)
    raw = ((std >= tuning.min_std) & (align >= tuning.min_align) & (density >= tuning.min_density)).astype(np.uint8)
    opened = cv2.morphologyEx(raw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    # Merge the fragments of one (blurred) code, which is what gets covered.
    closed = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, win))
    return np.asarray(closed, np.uint8), np.asarray(align, np.float32)


def _clockwise(quad: npt.ArrayLike) -> Quad:
    """The four points ordered clockwise (image coordinates, y down) from the top-left-most."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    centre = q.mean(axis=0)
    angles = np.arctan2(q[:, 1] - centre[1], q[:, 0] - centre[0])
    q = q[np.argsort(angles)]
    start = int(np.argmin(q.sum(axis=1)))
    return np.roll(q, -start, axis=0)
