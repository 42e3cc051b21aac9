"""Per-region rectification and preparation for recognition.

Each rotated region is warped to an upright, fixed-height grey strip (so perspective
and rotation are undone line by line), its polarity is normalised to dark text on a
light background (screens are often light-on-dark), and its contrast is stretched.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from redact.detect.text.ocr import LINE_HEIGHT, GrayImage
from redact.detect.text.regions import Region

RGBImage = npt.NDArray[np.uint8]

#: Widest crop handed to an engine (very long lines are squeezed, not cut).
MAX_WIDTH = 1600


def rectify(image: RGBImage | GrayImage, region: Region, height: int = LINE_HEIGHT) -> GrayImage:
    """Warp ``region`` of ``image`` (RGB or grey) to an upright grey strip ``height`` pixels tall."""
    src = np.array(region.corners, np.float32)
    w_src, h_src = max(region.width, 1.0), max(region.height, 1.0)
    width = int(min(MAX_WIDTH, max(8, round(height * w_src / h_src))))
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    strip = cv2.warpPerspective(grey, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(strip, np.uint8)


def normalise(strip: GrayImage) -> GrayImage:
    """Return dark-on-light, contrast-stretched text (polarity from an Otsu split)."""
    _, binary = cv2.threshold(strip, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Text covers less of a line than its background: if most pixels are dark, invert.
    if np.count_nonzero(binary) < binary.size / 2:
        strip = 255 - strip
    lo, hi = np.percentile(strip, (2, 98))
    if hi - lo < 8:
        return strip
    stretched = (strip.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.asarray(np.clip(stretched, 0, 255), np.uint8)


def prepare(image: RGBImage, regions: list[Region]) -> list[GrayImage]:
    """Return one normalised, rectified strip per region."""
    grey = np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), np.uint8)  # once, not per line
    return [normalise(rectify(grey, r)) for r in regions]
