"""The names reports use for what a file carries (``metadata`` in JSON), and which ones leak."""

from __future__ import annotations

from redact.types import LEAKY_METADATA

#: Every name, with what it means.  Reports list names only, never values.
NAMES: dict[str, str] = {
    "EXIF": "EXIF tags (camera, dates, settings)",
    "GPS": "a GPS position (EXIF GPS tags, or latitude/longitude in XMP)",
    "THUMBNAIL": "a small copy of the picture (EXIF, JFIF/JFXX, Photoshop, XMP or HEIC thumbnail)",
    "XMP": "an XMP packet",
    "ICC": "an ICC colour profile",
    "COMMENT": "a comment (JPEG COM, GIF comment extension)",
    "IPTC": "IPTC-IIM fields (captions, keywords, names, places)",
    "IRB": "Photoshop image resources",
    "PNG_TEXT": "PNG text chunks (tEXt, zTXt, iTXt)",
    "MPF": "a JPEG Multi-Picture Format index",
    "EMBEDDED_IMAGE": "another picture inside the file (MPF images, a JPEG after the end of the image, "
    "images in vendor segments, extended XMP, TIFF sub-images, Photoshop layers, HEIC depth or auxiliary images)",
    "EMBEDDED_VIDEO": "a video inside the file (Motion Photo class)",
    "TRAILER": "other data after the end of the image (e.g. an appended ZIP archive)",
    "PRIVATE": "vendor segments or chunks redact does not read",
}

#: Names that make the file as it is unsafe to publish (``scan``/``check`` exit 1).
LEAKY = LEAKY_METADATA
