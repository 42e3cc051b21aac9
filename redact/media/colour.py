"""Bring any decoded image to 8-bit sRGB colour, with its alpha channel kept apart."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms

from redact.media.depth import to_eight_bit
from redact.media.views import Pixels, Renderings, on_white, real_alpha

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


@dataclass(frozen=True, slots=True, eq=False)
class Colour:
    """A decoded image in 8-bit sRGB: what it shows on white, and its other renderings."""

    #: H x W x 3: the picture composited onto white (itself when opaque).
    shown: Pixels
    renderings: Renderings
    notes: tuple[str, ...] = ()


def to_srgb(image: Image.Image, icc: bytes | None) -> Colour:
    """``image`` (loaded, oriented) as 8-bit sRGB; ``icc`` is its embedded profile, if any.

    Transparency is kept apart (see :mod:`redact.media.views`): ``shown`` is opaque.
    """
    notes: list[str] = []
    image, grey = to_eight_bit(image)
    alpha = None
    if image.mode in _ALPHA_MODES or image.has_transparency_data:
        alpha = real_alpha(np.asarray(image.convert("RGBA").getchannel("A")))
    colour_image = image.convert("RGBA") if image.mode in ("RGBa", "La") else image  # straight colour
    target = _colour_mode(colour_image.mode)
    if colour_image.mode != target:
        colour_image = colour_image.convert(target)
    if icc:
        try:
            colour_image = _apply_profile(colour_image, icc)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            notes.append("ignored an unreadable or unsuitable ICC colour profile")
    colour = _rgb_array(colour_image)
    del colour_image
    shown = on_white(colour, alpha)
    renderings = Renderings(colour=colour if alpha is not None else None, alpha=alpha, grey=grey)
    return Colour(shown, renderings, tuple(notes))


def _rgb_array(image: Image.Image) -> Pixels:
    """An H x W x 3 uint8 array of ``image`` (grey is repeated into three channels)."""
    array: Pixels = np.asarray(image.convert("RGB") if image.mode != "RGB" else image)
    return array


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
