"""Writing pixels, and nothing else, to an image file.

The image is rebuilt from the pixel array alone (``Image.fromarray``), so no metadata of
the source can travel with it: no EXIF/GPS/MakerNotes, EXIF thumbnail, XMP, IPTC, ICC
profile, comments, MPF extra images or PNG text chunks.  The pixels are sRGB, so no
profile is needed.  Every output is opaque: an alpha channel is flattened onto white, so
no viewer can show colour hidden under transparency or a shape drawn in the alpha channel
(see :mod:`redact.media.views`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
from PIL import Image, features

from redact.config import Settings
from redact.media import formats, inplace
from redact.media.atomic import atomic_write, output_would_overwrite

#: Transparent pixels are flattened onto this colour, in every format.
_FLATTEN_ONTO = (255, 255, 255)


def save_image(
    pixels: npt.NDArray[np.uint8],
    dest: Path,
    fmt: str,
    settings: Settings,
    *,
    source: Path | None = None,
) -> Path:
    """Write ``pixels`` (H x W x 3 RGB, or H x W x 4 RGBA flattened onto white; uint8, sRGB) to ``dest`` atomically.

    ``fmt`` is a format name or alias ("JPEG", "jpg", "PNG", "WEBP", "TIFF", "BMP", "HEIC";
    "GIF" is written as PNG; HEIF as JPEG when it cannot be encoded here).  When ``dest``'s
    suffix is another image format's, it is changed to match what is written
    (``x.gif`` -> ``x.png``, ``x.heic`` -> ``x.jpg``); the path actually written is returned.  With
    ``source``, refuses (:class:`OutputError`) to write over that input.  Raises
    :class:`OutputError` when the file cannot be written; ``dest`` is then left as it was.
    """
    _check_pixels(pixels)
    dest = Path(dest)
    name = formats.canonical(fmt)
    dest = formats.matching_suffix(dest, name)
    if source is not None:
        output_would_overwrite(source, dest)
    image = _image_for(pixels)
    options = _options(name, settings)

    def write(fh: BinaryIO) -> None:
        image.save(fh, format=name, **options)

    atomic_write(dest, write)
    return dest


def replace_image(pixels: npt.NDArray[np.uint8], path: Path, content_format: str, settings: Settings) -> Path:
    """Replace the image file ``path`` with ``pixels`` (``clean --in-place``), atomically.

    Same name and permission bits; the format follows the name (:mod:`redact.media.inplace`).
    Raises :class:`OutputError` when the file cannot be replaced that way; it is then left as it was.
    """
    _check_pixels(pixels)
    path = Path(path)
    mode = inplace.permissions(path)
    name = inplace.image_format(path, content_format)
    image = _image_for(pixels)
    options = _options(name, settings)

    def write(fh: BinaryIO) -> None:
        image.save(fh, format=name, **options)

    atomic_write(path, write, mode=mode)
    return path


def _check_pixels(pixels: npt.NDArray[np.uint8]) -> None:
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8:
        raise TypeError("pixels must be a uint8 numpy array")
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4) or 0 in pixels.shape:
        raise ValueError(f"pixels must be H x W x 3 or H x W x 4, got shape {pixels.shape}")


def _image_for(pixels: npt.NDArray[np.uint8]) -> Image.Image:
    """Return a fresh, opaque image holding the pixels only (no ``info``, no EXIF, no profile)."""
    image = Image.fromarray(np.ascontiguousarray(pixels))
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, _FLATTEN_ONTO)
        background.paste(image, mask=image.getchannel("A"))
        image = background
    return image


def _options(fmt: str, settings: Settings) -> dict[str, Any]:
    """Return encoder options; deliberately no ``exif``, ``icc_profile``, ``xmp``, ``comment`` or ``pnginfo``."""
    if fmt in ("JPEG", "WEBP", "HEIF"):
        return {"quality": settings.jpeg_quality}
    if fmt == "TIFF" and features.check("libtiff"):
        return {"compression": "tiff_lzw"}
    return {}
