"""Names for what Pillow parsed out of an opened image: EXIF, TIFF tags, HEIC items."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PIL import Image

from redact.media.hidden import blobs

#: TIFF tags that hold other pictures: SubIFDs (full-size or preview images), Photoshop's
#: layer data (ImageSourceData), and a JPEG thumbnail's offset in IFD0.
_TIFF_IMAGES = (330, 37724)
_TIFF_THUMBNAIL = 513
_TIFF_IPTC, _TIFF_XMP, _TIFF_PHOTOSHOP = 33723, 700, 34377
_TIFF_EXIF, _TIFF_GPS = 34665, 34853
#: IFD0 tags that describe the photo or its maker, not the pixel layout (a TIFF's own
#: structure -- size, strips, compression -- is not metadata).
_TIFF_DESCRIPTIVE = frozenset({269, 270, 271, 272, 285, 305, 306, 315, 316, 33432, _TIFF_EXIF})


def from_pillow(image: Image.Image) -> tuple[str, ...]:
    """Names (sorted) of the metadata Pillow found in ``image`` (opened, not necessarily loaded)."""
    found: set[str] = set()
    if image.format == "TIFF":
        found |= _tiff(getattr(image, "tag_v2", {}))
    else:
        found |= _exif(image)
    info = image.info
    raw = info.get("exif")
    if isinstance(raw, bytes | bytearray):
        found |= blobs.exif(bytes(raw))
    for key in ("xmp", "XML:com.adobe.xmp"):
        packet = info.get(key)
        if isinstance(packet, str):
            packet = packet.encode("utf-8", "replace")
        if isinstance(packet, bytes | bytearray):
            found |= blobs.xmp(bytes(packet))
    if info.get("icc_profile"):
        found.add("ICC")
    if info.get("comment"):
        found.add("COMMENT")
    if image.format == "HEIF":
        found |= _heif(info)
    return tuple(sorted(found))


def _exif(image: Image.Image) -> set[str]:
    found: set[str] = set()
    try:
        exif = image.getexif()
        if len(exif):
            found.add("EXIF")
            if exif.get_ifd(0x8825):
                found.add("GPS")
    except Exception:  # damaged EXIF: it is there, whatever it says (and never copied)
        found.add("EXIF")
    return found


def _tiff(tags: Any) -> set[str]:
    found: set[str] = set()
    keys = set(tags.keys())
    if keys & _TIFF_DESCRIPTIVE:
        found.add("EXIF")
    if _TIFF_GPS in keys:
        found.add("GPS")
    if keys & set(_TIFF_IMAGES):
        found.add("EMBEDDED_IMAGE")
    if _TIFF_THUMBNAIL in keys:
        found.add("THUMBNAIL")
    if _TIFF_IPTC in keys:
        found.add("IPTC")
    if _TIFF_XMP in keys:
        found |= blobs.xmp(_as_bytes(tags.get(_TIFF_XMP)))
    if _TIFF_PHOTOSHOP in keys:
        found |= blobs.photoshop(_as_bytes(tags.get(_TIFF_PHOTOSHOP)))
    return found


def _heif(info: Mapping[Any, Any]) -> set[str]:
    found: set[str] = set()
    if info.get("thumbnails"):
        found.add("THUMBNAIL")
    if info.get("depth_images") or any(info.get("aux", {}).values()):
        found.add("EMBEDDED_IMAGE")
    return found


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    if isinstance(value, tuple | list) and all(isinstance(v, int) for v in value):
        return bytes(v & 0xFF for v in value)
    return b""
