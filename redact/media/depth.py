"""Bring images with more than 8 bits per sample (or float samples) down to 8 bits.

A viewer may show such an image at full scale or stretched to its own range (the
"auto-contrast" of scientific and medical viewers): text drawn in values 0-300 of a
16-bit image is black at full scale and plain to read stretched.  Both are returned, so
both can be analysed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

Grey = npt.NDArray[np.uint8]


def to_eight_bit(image: Image.Image) -> tuple[Image.Image, tuple[Grey, ...]]:
    """``image`` with 8-bit samples, and any other rendering a viewer could be made to show.

    16-bit grey (``I;16*``) is scaled (``v >> 8``); 32-bit integer (``I``) and float (``F``)
    images are read at the scale their values fit (0-1 or 0-255 floats, 0-255 or 0-65535
    integers), else stretched.  The extra rendering is the image stretched from its lowest
    to its highest value, when that differs from the first.  1-bit images become ``L``.
    """
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image)
        shown = _full_scale(values, mode)
        stretched = _stretch(values)
        extra = () if stretched is None or np.array_equal(stretched, shown) else (stretched,)
        return Image.fromarray(shown), extra
    if mode == "1":
        return image.convert("L"), ()
    return image, ()


def _full_scale(values: npt.NDArray[np.generic], mode: str) -> Grey:
    if mode.startswith("I;16"):
        return (values.astype(np.uint16) >> 8).astype(np.uint8)
    finite = _finite(values)
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    out: Grey
    if mode == "F" and low >= 0.0 and high <= 1.0:
        out = np.rint(finite.astype(np.float32) * np.float32(255.0)).astype(np.uint8)
        return out
    if low >= 0.0 and high <= 255.0:
        out = np.rint(finite.astype(np.float32)).astype(np.uint8)
        return out
    if mode == "I" and low >= 0 and high <= 65535:
        return (finite.astype(np.uint32) >> 8).astype(np.uint8)
    stretched = _stretch(values)
    return stretched if stretched is not None else np.zeros(values.shape, np.uint8)


def _stretch(values: npt.NDArray[np.generic]) -> Grey | None:
    """The image stretched from its lowest to its highest finite value; None when flat."""
    finite = _finite(values)
    if not finite.size:
        return None
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        return None
    scaled = (finite.astype(np.float32) - np.float32(low)) * np.float32(255.0 / (high - low))
    out: Grey = np.rint(scaled).clip(0, 255).astype(np.uint8)
    return out


def _finite(values: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """``values`` with NaN as 0 and infinities clipped to the finite range (floats only)."""
    if not np.issubdtype(values.dtype, np.floating):
        return values
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    cleaned: npt.NDArray[np.generic] = np.nan_to_num(values, nan=0.0, posinf=high, neginf=low)
    return cleaned
