"""Image input/output: load any supported photo as oriented sRGB pixels; write pixels only.

Principles: fail closed (a file that cannot be fully decoded is an error, never a partial
image), never alter the user's original, and outputs carry no hidden PHI (no metadata of
the source is ever copied).
"""

from redact.media.atomic import atomic_write, output_would_overwrite, same_file
from redact.media.formats import READABLE, WRITABLE
from redact.media.image import LoadedImage, load_image
from redact.media.paths import default_output_path
from redact.media.preview import preview_jpeg
from redact.media.views import Pixels
from redact.media.writer import save_image

__all__ = [
    "READABLE",
    "WRITABLE",
    "LoadedImage",
    "Pixels",
    "atomic_write",
    "default_output_path",
    "load_image",
    "output_would_overwrite",
    "preview_jpeg",
    "same_file",
    "save_image",
]
