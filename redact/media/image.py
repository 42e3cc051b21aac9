"""Reading an image file into oriented 8-bit sRGB pixels, failing closed on anything odd.

The file is opened read-only and never modified.  Its format is found from its content
(never its name); its size is checked from the header before any pixel is decoded; a
damaged or truncated file fails rather than loading partly.  Besides the picture, the
file's whole structure is read for what else it carries (:mod:`redact.media.hidden`), and
an image with transparency or a high bit depth keeps what is needed to draw its other
renderings (:mod:`redact.media.views`).
"""

from __future__ import annotations

import contextlib
import mmap
import stat
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from redact.config import Settings
from redact.errors import ImageTooLargeError, InputError, RedactError, reason
from redact.media import formats, heif, hidden
from redact.media.colour import to_srgb
from redact.media.views import Pixels, Renderings
from redact.memory import image_needs, memory_budget

_LIMIT_LOCK = threading.RLock()


@dataclass(frozen=True, slots=True, eq=False)
class LoadedImage:
    """A decoded image: ``pixels`` are H x W x 3, uint8, sRGB, opaque.

    EXIF orientation is already applied.  An image with transparency is composited onto
    white (what a browser shows on a white page, and what redact writes); its other
    renderings (on black, its colour channels without alpha, its alpha channel...) are drawn
    by ``renderings.draw()`` and must be analysed too.  ``format`` is the detected source
    format ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF" or "HEIF"); ``output_format`` is what
    :func:`~redact.media.save_image` should write by default, and ``suffix`` its usual file
    suffix.  ``notes`` say what was dropped or ignored (never any content).  ``metadata``
    names what the *source file* carries besides its picture (:data:`redact.media.hidden.NAMES`:
    "GPS", "EXIF", "THUMBNAIL", "EMBEDDED_IMAGE"...); outputs never carry any of it.
    """

    path: Path
    pixels: Pixels
    format: str
    output_format: str
    notes: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    renderings: Renderings = field(default_factory=Renderings)

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
    def rgb(self) -> Pixels:
        """The pixels as detectors take them (H x W x 3, C-contiguous)."""
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
    is_heif = heif.looks_like_heif(head)
    if is_heif:
        heif.require(path)
    heif.available()  # registers the HEIF opener when pillow-heif is installed
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as whole:
        carried = hidden.carried(whole)
    with _pixel_limit(settings.max_pixels):
        image = Image.open(fh, formats=formats.READABLE)
        with image:
            width, height = image.size
            if width * height > settings.max_pixels:
                raise ImageTooLargeError(
                    f"image is {width}x{height}, more than the limit of {settings.max_pixels} pixels", path
                )
            _check_memory(width, height, path)
            notes = _check_frames(image, path)
            image.load()
            metadata = tuple(sorted({*carried, *hidden.from_pillow(image)}))
            source_format = "JPEG" if image.format == "MPO" else str(image.format)
            icc = image.info.get("icc_profile")
            ImageOps.exif_transpose(image, in_place=True)
            colour = to_srgb(image, icc if isinstance(icc, bytes) else None)
    if is_heif:
        heif.verify_decodes(path)
    return LoadedImage(
        path=path,
        pixels=colour.shown,
        format=source_format,
        output_format=formats.canonical(source_format),
        notes=notes + colour.notes,
        metadata=metadata,
        renderings=colour.renderings,
    )


def _check_memory(width: int, height: int, path: Path) -> None:
    """Refuse, from the header, an image whose analysis needs more memory than this process may use."""
    needs, budget = image_needs(width, height), memory_budget()
    if needs > budget:
        raise ImageTooLargeError(
            f"image is {width}x{height}: analysing it needs about {needs >> 20} MB, more than the "
            f"{budget >> 20} MB one worker may use here (fewer --jobs give each worker more)",
            path,
        )


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
