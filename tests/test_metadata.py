"""Outputs carry pixels only: every kind of hidden metadata in the input is gone.

Each test first checks that the input really carries the metadata, so it can fail.
"""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

import pillow_heif
import pytest
from conftest import WriteImage, pattern
from PIL import ExifTags, Image, ImageCms, PngImagePlugin, TiffImagePlugin

from redact.config import Settings
from redact.media import heif, load_image, save_image

SECRETS = (b"SecretCam", b"Model-X-1234", b"PATIENT-JANE", b"MAKERNOTE-SERIAL", b"GPSLAT")
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Label="PATIENT-JANE"/></rdf:RDF></x:xmpmeta>'
)
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

# --- a hand-built EXIF block: IFD0 (Make, Model), Exif IFD (MakerNote), GPS IFD, IFD1 thumbnail


def _entry(tag: int, kind: int, count: int, data: bytes) -> tuple[int, int, int, bytes]:
    return tag, kind, count, data


def _ifd(entries: list[tuple[int, int, int, bytes]], start: int, next_ifd: int) -> bytes:
    """One little-endian TIFF IFD at offset ``start``, values over 4 bytes stored after it."""
    data_at = start + 2 + 12 * len(entries) + 4
    table, blob = b"", b""
    for tag, kind, count, value in sorted(entries):
        if len(value) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            table += struct.pack("<HHII", tag, kind, count, data_at + len(blob))
            blob += value + b"\0" * (len(value) % 2)
    return struct.pack("<H", len(entries)) + table + struct.pack("<I", next_ifd) + blob


def _ascii(tag: int, text: bytes) -> tuple[int, int, int, bytes]:
    return _entry(tag, 2, len(text) + 1, text + b"\0")


def _long(tag: int, value: int) -> tuple[int, int, int, bytes]:
    return _entry(tag, 4, 1, struct.pack("<I", value))


def exif_with_thumbnail(thumbnail: bytes) -> bytes:
    """``Exif\\0\\0`` + TIFF data with camera, MakerNote, GPS and a JPEG thumbnail in IFD1."""

    def build(offsets: tuple[int, int, int, int]) -> tuple[bytes, tuple[int, int, int, int]]:
        exif_at, gps_at, ifd1_at, thumb_at = offsets
        ifd0 = [_ascii(0x010F, b"SecretCam"), _ascii(0x0110, b"Model-X-1234"), _long(0x8769, exif_at)]
        ifd0.append(_long(0x8825, gps_at))
        exif_ifd = [_entry(0x927C, 7, 16, b"MAKERNOTE-SERIAL")]
        gps = [
            _entry(0x0000, 1, 4, bytes([2, 3, 0, 0])),
            _ascii(0x0001, b"N"),
            _entry(0x0002, 5, 3, struct.pack("<6I", 48, 1, 51, 1, 29, 1)),
            _ascii(0x001B, b"GPSLAT"),  # GPSProcessingMethod-ish marker text
        ]
        ifd1 = [_entry(0x0103, 3, 1, struct.pack("<H", 6)), _long(0x0201, thumb_at), _long(0x0202, len(thumbnail))]
        out = b"II*\0" + struct.pack("<I", 8)
        parts = [(ifd0, ifd1_at), (exif_ifd, 0), (gps, 0), (ifd1, 0)]
        real: list[int] = []
        for entries, nxt in parts:
            real.append(len(out))
            out += _ifd(entries, len(out), nxt)
        real.append(len(out))
        out += thumbnail
        return out, (real[1], real[2], real[3], real[4])

    _, offsets = build((0, 0, 0, 0))
    tiff, check = build(offsets)
    assert check == offsets
    return b"Exif\0\0" + tiff


def _thumbnail() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pattern(8, 8)).save(buf, format="JPEG", comment=b"PATIENT-JANE thumbnail")
    return buf.getvalue()


def _app_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _iptc() -> bytes:
    """A Photoshop APP13 segment with an IPTC caption."""
    record = b"\x1c\x02\x78" + struct.pack(">H", 12) + b"PATIENT-JANE"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(record)) + record
    return _app_segment(0xED, b"Photoshop 3.0\0" + resource)


def _jpeg_markers(data: bytes) -> list[int]:
    """Markers of the segments before the first scan."""
    assert data[:2] == b"\xff\xd8"
    markers, pos = [], 2
    while pos < len(data):
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return markers


@pytest.fixture
def loaded_jpeg(write_image: WriteImage) -> Path:
    """A JPEG with EXIF (GPS, Make/Model, MakerNote, thumbnail), XMP, ICC, IPTC and a comment."""
    path = write_image(
        "camera.jpg", pattern(48, 64), exif=exif_with_thumbnail(_thumbnail()), xmp=XMP, icc_profile=ICC,
        comment=b"PATIENT-JANE ward 4",
    )  # fmt: skip
    data = path.read_bytes()
    path.write_bytes(data[:2] + _iptc() + data[2:])
    return path


def test_jpeg_input_really_carries_metadata(loaded_jpeg: Path) -> None:
    data = loaded_jpeg.read_bytes()
    for needle in (b"Exif\0\0", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"Photoshop 3.0", *SECRETS):
        assert needle in data, needle
    assert data.count(b"\xff\xd8") == 2  # the image and its EXIF thumbnail
    markers = _jpeg_markers(data)
    assert {0xE1, 0xE2, 0xED, 0xFE} <= set(markers)
    exif = Image.open(loaded_jpeg).getexif()
    assert exif[0x010F] == "SecretCam" and exif.get_ifd(0x8825)
    assert exif.get_ifd(ExifTags.IFD.IFD1)[0x0202] == len(_thumbnail())


def test_jpeg_output_has_pixels_only(loaded_jpeg: Path, settings: Settings, tmp_path: Path) -> None:
    image = load_image(loaded_jpeg, settings)
    out = save_image(image.pixels, tmp_path / "out.jpg", image.output_format, settings)
    data = out.read_bytes()
    for needle in (b"Exif", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"Photoshop", b"8BIM", *SECRETS):
        assert needle not in data, needle
    assert data.count(b"\xff\xd8") == 1  # no thumbnail or MPF image after the main one
    assert set(_jpeg_markers(data)) <= {0xE0, 0xDB, 0xC0, 0xC2, 0xC4, 0xDD, 0xDA}  # JFIF, tables, frame, scan
    reopened = Image.open(out)
    assert not reopened.getexif()
    assert not {"exif", "icc_profile", "xmp", "comment", "photoshop"} & set(reopened.info)


def test_mpo_extra_images_are_dropped(write_image: WriteImage, settings: Settings, tmp_path: Path) -> None:
    frames = [Image.fromarray(pattern()), Image.fromarray(pattern()[::-1])]
    src = write_image("phone.jpg", frames[0], format="MPO", save_all=True, append_images=frames[1:])
    assert Image.open(src).format == "MPO" and src.read_bytes().count(b"\xff\xd8") == 2
    image = load_image(src, settings)
    assert image.format == "JPEG" and image.notes
    out = save_image(image.pixels, tmp_path / "out.jpg", image.output_format, settings)
    data = out.read_bytes()
    assert data.count(b"\xff\xd8") == 1 and b"MPF" not in data


def _png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return chunks


def test_png_text_exif_and_profile_chunks_are_stripped(
    write_image: WriteImage, settings: Settings, tmp_path: Path
) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "PATIENT-JANE")
    info.add_text("Author", "PATIENT-JANE", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    src = write_image("scan.png", pnginfo=info, exif=exif, icc_profile=ICC)
    assert {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"} <= set(_png_chunks(src.read_bytes()))
    image = load_image(src, settings)
    out = save_image(image.pixels, tmp_path / "out.png", image.output_format, settings)
    data = out.read_bytes()
    assert set(_png_chunks(data)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
    assert b"SecretCam" not in data and b"PATIENT" not in data


def _riff_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    chunks, pos = [], 12
    while pos < len(data):
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        chunks.append(data[pos : pos + 4])
        pos += 8 + length + (length & 1)
    return chunks


def test_webp_exif_xmp_and_profile_are_stripped(write_image: WriteImage, settings: Settings, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    src = write_image("x.webp", exif=exif, xmp=XMP, icc_profile=ICC)
    assert {b"EXIF", b"XMP ", b"ICCP"} <= set(_riff_chunks(src.read_bytes()))
    image = load_image(src, settings)
    out = save_image(image.pixels, tmp_path / "out.webp", image.output_format, settings)
    data = out.read_bytes()
    assert not {b"EXIF", b"XMP ", b"ICCP"} & set(_riff_chunks(data))
    assert b"SecretCam" not in data and b"PATIENT" not in data


def test_tiff_tags_are_stripped(write_image: WriteImage, settings: Settings, tmp_path: Path) -> None:
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[0x010F] = "SecretCam"  # Make
    tags[0x010E] = "PATIENT-JANE"  # ImageDescription
    tags[0x013B] = "PATIENT-JANE"  # Artist
    src = write_image("x.tif", tiffinfo=tags, icc_profile=ICC)
    assert b"SecretCam" in src.read_bytes()
    image = load_image(src, settings)
    out = save_image(image.pixels, tmp_path / "out.tif", image.output_format, settings)
    data = out.read_bytes()
    assert b"SecretCam" not in data and b"PATIENT" not in data
    reopened = Image.open(out)
    assert not {0x010F, 0x010E, 0x013B, 0x8773} & set(reopened.tag_v2)  # 0x8773 = ICC profile


@pytest.mark.skipif(not heif.can_encode(), reason="this libheif cannot encode HEIC")
def test_heic_exif_and_xmp_are_stripped(write_image: WriteImage, settings: Settings, tmp_path: Path) -> None:
    src = write_image("phone.heic", exif=exif_with_thumbnail(_thumbnail()), xmp=XMP)
    before = src.read_bytes()
    assert b"SecretCam" in before and b"http://ns.adobe.com/xap" in before
    image = load_image(src, settings)
    out = save_image(image.pixels, tmp_path / "out.heic", image.output_format, settings)
    assert out.suffix == ".heic"
    data = out.read_bytes()
    for needle in (b"Exif", b"http://ns.adobe.com/xap", *SECRETS):
        assert needle not in data, needle
    heif_file = pillow_heif.open_heif(out)
    assert not heif_file.info.get("exif") and not heif_file.info.get("xmp")
    assert len(heif_file) == 1 and not heif_file.info.get("thumbnails")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "BMP", "HEIF"])
def test_written_files_never_contain_a_profile_or_exif(settings: Settings, tmp_path: Path, fmt: str) -> None:
    out = save_image(pattern(), tmp_path / f"x.{fmt.lower()}", fmt, settings)
    data = out.read_bytes()
    assert b"Exif\0\0" not in data and b"ICC_PROFILE" not in data and not re.search(rb"acspAPPL|acspMSFT", data)
    reopened = Image.open(out)
    assert not reopened.info.get("icc_profile")
    exif = reopened.getexif()  # for TIFF this lists the file's own structural tags
    assert not {0x010F, 0x0110, 0x8769, 0x8825, 0x8773, 0x02BC, 0x83BB} & set(exif)
    assert fmt == "TIFF" or not exif
