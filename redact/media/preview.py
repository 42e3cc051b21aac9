"""Small JPEG previews of *covered* images, for review pages (never of an original)."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from PIL import Image


def preview_jpeg(pixels: npt.NDArray[np.uint8], max_side: int = 960, quality: int = 80) -> bytes:
    """A metadata-free JPEG of ``pixels`` (RGB or RGBA) no larger than ``max_side``."""
    image = Image.fromarray(np.ascontiguousarray(pixels[..., :3]))
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
