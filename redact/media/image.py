"""Reading an image file into oriented 8-bit sRGB pixels, failing closed on anything odd.

The file is opened read-only and never modified.  Its format is found from its content
(never its name); its size is checked from the header before any pixel is decoded; a
damaged or truncated file fails rather than loading partly.
"""

from __future__ import annotations

import contextlib
import stat
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from redact.config import Settings
from redact.errors import ImageTooLargeError, InputError, RedactError, reason
from redact.media import formats, heif
from redact.media.colour import to_srgb

Pixels = npt.NDArray[np.uint8]

_LIMIT_LOCK = threading.RLock()


@dataclass(frozen=True, slots=True, eq=False)
class LoadedImage:
    """A decoded image: ``pixels`` are H x W x 3 (RGB) or H x W x 4 (RGBA), uint8, sRGB.

    EXIF orientation is already applied.  ``format`` is the detected source format
    ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF" or "HEIF"); ``output_format`` is what
    :func:`~redact.media.save_image` should write by default, and ``suffix`` its usual
    file suffix.  ``notes`` say what was dropped or ignored (never any content).
    ``metadata`` names the hidden metadata the *source file* carries ("GPS", "EXIF",
    "XMP", "THUMBNAIL"...); outputs never carry any of it.
    """

    path: Path
    pixels: Pixels
    format: str
    output_format: str
    notes: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` after orientation."""
        return self.width, self.height

    @property
    def has_alpha(self) -> bool:
        return bool(self.pixels.shape[2] == 4)

    @property
    def rgb(self) -> Pixels:
        """The colour channels only (H x W x 3, C-contiguous): what detectors take."""
        return np.ascontiguousarray(self.pixels[:, :, :3])

    @property
    def suffix(self) -> str:
        """The output suffix: the input's own when it suits ``output_format``, else the usual one."""
        return formats.suffix_for(self.output_format, self.path.suffix)


def load_image(path: Path, settings: Settings) -> LoadedImage:
    """Decode ``path`` fully, or raise a one-line :class:`~redact.errors.RedactError` naming it.

    Raises :class:`InputError` (missing, unreadable, not a regular file, empty, not a
    supported image, damaged/truncated, several frames), :class:`ImageTooLargeError`
    (over ``settings.max_pixels``) or :class:`MissingDependencyError` (HEIC without pillow-heif).
    """
    path = Path(path)
    _check_file(path)
    try:
        with path.open("rb") as fh:
            return _decode(path, fh, settings)
    except RedactError:
        raise
    except PermissionError:
        raise InputError("permission denied", path) from None
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except UnidentifiedImageError:
        raise InputError("not a supported image", path) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLargeError(f"image is larger than the limit of {settings.max_pixels} pixels", path) from None
    except MemoryError:
        raise InputError("not enough memory to decode the image", path) from None
    except Exception as exc:  # decoders raise many types on hostile input: all mean "damaged"
        raise InputError(f"damaged or truncated image ({reason(exc)})", path) from None


def _check_file(path: Path) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except PermissionError:
        raise InputError("permission denied", path) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({reason(exc)})", path) from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError("not a regular file", path)
    if info.st_size == 0:
        raise InputError("empty file", path)


def _decode(path: Path, fh: BinaryIO, settings: Settings) -> LoadedImage:
    head = fh.read(16)
    fh.seek(0)
    if heif.looks_like_heif(head):
        heif.require(path)
    heif.available()  # registers the HEIF opener when pillow-heif is installed
    with _pixel_limit(settings.max_pixels):
        image = Image.open(fh, formats=formats.READABLE)
        with image:
            width, height = image.size
            if width * height > settings.max_pixels:
                raise ImageTooLargeError(
                    f"image is {width}x{height}, more than the limit of {settings.max_pixels} pixels", path
                )
            notes = _check_frames(image, path)
            image.load()
            metadata = source_metadata(image)
            source_format = "JPEG" if image.format == "MPO" else str(image.format)
            icc = image.info.get("icc_profile")
            oriented = ImageOps.exif_transpose(image)
    srgb, colour_notes = to_srgb(oriented, icc if isinstance(icc, bytes) else None)
    pixels = np.array(srgb, dtype=np.uint8)
    return LoadedImage(
        path=path,
        pixels=pixels,
        format=source_format,
        output_format=formats.canonical(source_format),
        notes=notes + colour_notes,
        metadata=metadata,
    )


def source_metadata(image: Image.Image) -> tuple[str, ...]:
    """Kinds of hidden metadata in an opened image (names only, never values)."""
    found: list[str] = []
    try:
        exif = image.getexif()
        if len(exif):
            found.append("EXIF")
            if exif.get_ifd(0x8825):
                found.append("GPS")
    except Exception:  # damaged EXIF: it is there, whatever it says (and never copied)
        found.append("EXIF")
    info = image.info
    raw = info.get("exif")
    if isinstance(raw, bytes) and b"\xff\xd8" in raw[8:]:
        found.append("THUMBNAIL")
    if any(k in info for k in ("xmp", "XML:com.adobe.xmp")):
        found.append("XMP")
    if "icc_profile" in info:
        found.append("ICC")
    if "comment" in info:
        found.append("COMMENT")
    return tuple(found)


def _check_frames(image: Image.Image, path: Path) -> tuple[str, ...]:
    frames = int(getattr(image, "n_frames", 1))
    if frames <= 1:
        return ()
    if image.format == "MPO":
        return (f"dropped {frames - 1} extra image(s) embedded in the JPEG (MPF)",)
    raise InputError("multi-frame images are not supported yet", path)


@contextlib.contextmanager
def _pixel_limit(max_pixels: int) -> Iterator[None]:
    """Make Pillow's own decompression-bomb guard match ``max_pixels`` for one load.

    Pillow keeps the limit in a module global; it is restored afterwards, and a lock keeps
    concurrent loads in threads from seeing each other's value.
    """
    with _LIMIT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = previous
