"""Bring any decoded image to 8-bit sRGB (RGB, or RGBA when it has transparency)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageCms

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


def to_srgb(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, tuple[str, ...]]:
    """Return ``image`` as 8-bit sRGB ``RGB``/``RGBA`` and any notes about what was lost.

    ``icc`` is the source's embedded profile (if any); the result needs no profile.
    """
    notes: list[str] = []
    image = _eight_bit(image)
    alpha: Image.Image | None = None
    if image.mode in _ALPHA_MODES or image.has_transparency_data:
        alpha = image.convert("RGBA").getchannel("A")
    colour = image.convert(_colour_mode(image.mode))
    if icc:
        try:
            colour = _apply_profile(colour, icc)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            notes.append("ignored an unreadable or unsuitable ICC colour profile")
    colour = colour.convert("RGB")
    if alpha is not None:
        colour.putalpha(alpha)
    return colour, tuple(notes)


def _eight_bit(image: Image.Image) -> Image.Image:
    """16/32-bit greyscale scaled (not clipped) to 8 bits; 1-bit and float to ``L``."""
    if image.mode.startswith("I;16") or image.mode == "I":
        values = np.asarray(image).astype(np.int64)
        scaled = (np.clip(values, 0, 65535) >> 8).astype(np.uint8)
        return Image.fromarray(scaled)
    if image.mode in ("1", "F"):
        return image.convert("L")
    return image


def _colour_mode(mode: str) -> str:
    if mode in ("L", "LA", "La"):
        return "L"
    if mode == "CMYK":
        return "CMYK"
    return "RGB"


def _apply_profile(image: Image.Image, icc: bytes) -> Image.Image:
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
    if converted is None:  # only when inPlace=True
        raise ValueError("colour conversion returned nothing")
    return converted
