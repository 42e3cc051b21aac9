"""What an image file carries besides the picture a decoder shows: names only, never values.

:func:`carried` walks the file's own structure (JPEG segments, PNG chunks, RIFF chunks,
GIF blocks, BMP header) and :func:`from_pillow` reads what Pillow parsed (EXIF, TIFF tags,
HEIC items).  Both return names from :data:`NAMES`; :data:`LEAKY` are the ones that make
the file, as it is, unsafe to publish.  Outputs never carry any of it: the writer rebuilds
every file from pixels alone.
"""

from __future__ import annotations

from redact.media.hidden.names import LEAKY, NAMES
from redact.media.hidden.pillow_info import from_pillow
from redact.media.hidden.scan import carried

__all__ = ["LEAKY", "NAMES", "carried", "from_pillow"]
