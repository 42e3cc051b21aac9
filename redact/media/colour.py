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
        alpha = real_alpha(to_array(image.convert("RGBA").getchannel("A")))
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
    return to_array(image.convert("RGB") if image.mode != "RGB" else image)


#: Bytes converted at a time by :func:`to_array`.
_BAND_BYTES = 8 << 20


def to_array(image: Image.Image) -> Pixels:
    """``image`` as a writable uint8 array, converted a band of rows at a time.

    ``np.asarray(image)`` goes through ``image.tobytes()``, which holds the encoded chunks
    and their joined copy at once: two extra copies of the whole image at its peak.  Band
    by band, the only full-size copy is the array itself (measured on a 100 MP PNG).
    """
    width, height = image.size
    channels = len(image.getbands())
    out: Pixels = np.empty((height, width, channels) if channels > 1 else (height, width), np.uint8)
    rows = max(1, _BAND_BYTES // max(1, width * channels))
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        out[top:bottom] = np.asarray(image.crop((0, top, width, bottom)))
    return out


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
