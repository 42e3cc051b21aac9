"""What a file carries besides its first picture is named, and what leaks fails ``check`` (issue 15, item 5).

Every case is built here from Pillow output and byte surgery.  Each test checks that its
input really carries the thing, that ``load_image`` names it in ``metadata`` (names only,
never values), that a leaky one makes a scan report the file, and that the written copy
carries nothing of it.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pillow_heif
import pytest
from conftest import pattern
from PIL import Image, TiffImagePlugin

from redact.config import Settings
from redact.media import heif, load_image, save_image
from redact.media.hidden import LEAKY, NAMES, carried
from redact.outcome import outcome
from redact.types import Mode, Status

SECRET = b"PATIENT-JANE-DOE"
XMP_GPS = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.48N"'
    b' exif:GPSLongitude="2,17.67E"/></rdf:RDF></x:xmpmeta>'
)


def _image_bytes(fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pattern(32, 48)).save(buf, format=fmt, **kw)
    return buf.getvalue()


def _thumbnail() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pattern(8, 8)).save(buf, format="JPEG", comment=SECRET)
    return buf.getvalue()


def _gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    return exif.tobytes()


def _make_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Camera"
    return exif.tobytes()


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _after_soi(jpeg: bytes, *segments: bytes) -> bytes:
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def _irb(ident: int, body: bytes) -> bytes:
    return b"8BIM" + struct.pack(">H", ident) + b"\0\0" + struct.pack(">I", len(body)) + body + b"\0" * (len(body) & 1)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _before_iend(png: bytes, *chunks: bytes) -> bytes:
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + b"".join(chunks) + png[iend:]


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1)


def _webp_with(*chunks: bytes) -> bytes:
    data = _image_bytes("WEBP", lossless=True)
    body = data[12:] + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", SECRET * 20)
    return buf.getvalue()


def _mp4() -> bytes:
    return struct.pack(">I", 24) + b"ftypisom" + b"\0\0\0\x01isommp42" + struct.pack(">I", 16) + b"mdat" + SECRET[:8]


def _mpo() -> bytes:
    buf = io.BytesIO()
    frames = [Image.fromarray(pattern(32, 48)), Image.fromarray(pattern(32, 48)[::-1])]
    frames[0].save(buf, format="MPO", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def _tiff(tags: dict[int, object]) -> bytes:
    info = TiffImagePlugin.ImageFileDirectory_v2()
    for tag, value in tags.items():
        info[tag] = value
    return _image_bytes("TIFF", tiffinfo=info)


def _gif_with_comment_and_trailer() -> bytes:
    data = _image_bytes("GIF", comment=SECRET)
    return data + _zip()


#: name -> (builder, suffix, the names load_image must report)
CASES: dict[str, tuple[Callable[[], bytes], str, set[str]]] = {
    "jpeg-mpf-second-image": (_mpo, ".jpg", {"MPF", "EMBEDDED_IMAGE"}),
    "jpeg-after-eoi": (lambda: _image_bytes("JPEG") + _image_bytes("JPEG"), ".jpg", {"EMBEDDED_IMAGE"}),
    "jpeg-motion-photo": (lambda: _image_bytes("JPEG") + _mp4(), ".jpg", {"EMBEDDED_VIDEO"}),
    "jpeg-zip-polyglot": (lambda: _image_bytes("JPEG") + _zip(), ".jpg", {"TRAILER"}),
    "jpeg-photoshop-thumbnail": (
        lambda: _after_soi(_image_bytes("JPEG"), _segment(0xED, b"Photoshop 3.0\0" + _irb(0x040C, _thumbnail()))),
        ".jpg",
        {"IRB", "THUMBNAIL"},
    ),
    "jpeg-iptc": (
        lambda: _after_soi(
            _image_bytes("JPEG"),
            _segment(0xED, b"Photoshop 3.0\0" + _irb(0x0404, b"\x1c\x02\x78\x00\x10" + SECRET)),
        ),
        ".jpg",
        {"IRB", "IPTC"},
    ),
    "jpeg-gps-only-in-xmp": (lambda: _image_bytes("JPEG", xmp=XMP_GPS), ".jpg", {"XMP", "GPS"}),
    "jpeg-gps-in-a-second-exif": (
        lambda: _after_soi(_image_bytes("JPEG"), _segment(0xE1, _make_exif()), _segment(0xE1, _gps_exif())),
        ".jpg",
        {"EXIF", "GPS"},
    ),
    "jpeg-jfxx-thumbnail": (
        lambda: _after_soi(_image_bytes("JPEG"), _segment(0xE0, b"JFXX\0\x10" + _thumbnail())),
        ".jpg",
        {"THUMBNAIL"},
    ),
    "jpeg-vendor-segment-image": (
        lambda: _after_soi(_image_bytes("JPEG"), _segment(0xEB, b"JP\0\0jumb" + _thumbnail())),
        ".jpg",
        {"EMBEDDED_IMAGE"},
    ),
    "jpeg-extended-xmp-image": (
        lambda: _after_soi(
            _image_bytes("JPEG"),
            _segment(0xE1, b"http://ns.adobe.com/xmp/extension/\0" + b"0" * 40 + b'GImage:Data="/9j/4AAQSkZJRg"'),
        ),
        ".jpg",
        {"XMP", "EMBEDDED_IMAGE"},
    ),
    "jpeg-comment": (lambda: _image_bytes("JPEG", comment=SECRET), ".jpg", {"COMMENT"}),
    "png-text-chunks": (
        lambda: _before_iend(
            _image_bytes("PNG"),
            _png_chunk(b"tEXt", b"Comment\0" + SECRET),
            _png_chunk(b"zTXt", b"Author\0\0" + zlib.compress(SECRET)),
            _png_chunk(b"iTXt", b"Title\0\0\0\0\0" + SECRET),
        ),
        ".png",
        {"PNG_TEXT"},
    ),
    "png-exif-chunk-gps": (lambda: _image_bytes("PNG", exif=_gps_exif()), ".png", {"EXIF", "GPS"}),
    "png-xmp-gps": (
        lambda: _before_iend(_image_bytes("PNG"), _png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + XMP_GPS)),
        ".png",
        {"XMP", "GPS"},
    ),
    "png-image-after-iend": (lambda: _image_bytes("PNG") + _image_bytes("JPEG"), ".png", {"EMBEDDED_IMAGE"}),
    "png-zip-after-iend": (lambda: _image_bytes("PNG") + _zip(), ".png", {"TRAILER"}),
    "png-private-chunk-image": (
        lambda: _before_iend(_image_bytes("PNG"), _png_chunk(b"caBX", _thumbnail())),
        ".png",
        {"EMBEDDED_IMAGE"},
    ),
    "webp-exif-gps": (lambda: _image_bytes("WEBP", exif=_gps_exif()), ".webp", {"EXIF", "GPS"}),
    "webp-xmp-gps": (lambda: _image_bytes("WEBP", xmp=XMP_GPS), ".webp", {"XMP", "GPS"}),
    "webp-private-chunk-image": (lambda: _webp_with(_riff_chunk(b"THMB", _thumbnail())), ".webp", {"EMBEDDED_IMAGE"}),
    "webp-trailer": (lambda: _image_bytes("WEBP") + _zip(), ".webp", {"TRAILER"}),
    "tiff-sub-ifds": (lambda: _tiff({330: (8,)}), ".tif", {"EMBEDDED_IMAGE"}),
    "tiff-iptc": (lambda: _tiff({33723: b"\x1c\x02\x78\x00\x10" + SECRET}), ".tif", {"IPTC"}),
    "tiff-xmp-gps": (lambda: _tiff({700: XMP_GPS}), ".tif", {"XMP", "GPS"}),
    "tiff-photoshop-thumbnail": (lambda: _tiff({34377: _irb(0x040C, _thumbnail())}), ".tif", {"IRB", "THUMBNAIL"}),
    "gif-comment-and-trailer": (_gif_with_comment_and_trailer, ".gif", {"COMMENT", "TRAILER"}),
    "bmp-trailer": (lambda: _image_bytes("BMP") + _zip(), ".bmp", {"TRAILER"}),
}


def _write(tmp_path: Path, name: str) -> Path:
    build, suffix, _ = CASES[name]
    path = tmp_path / f"{name}{suffix}"
    path.write_bytes(build())
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_what_the_file_carries_is_named(name: str, settings: Settings, tmp_path: Path) -> None:
    path = _write(tmp_path, name)
    image = load_image(path, settings)
    expected = CASES[name][2]
    assert expected <= set(image.metadata), image.metadata
    assert set(image.metadata) <= set(NAMES)
    leaky = expected & LEAKY
    status = outcome(Mode.SCAN, [], [], image.metadata)
    assert status is (Status.FINDINGS if leaky else Status.CLEAN)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_cleaned_copy_carries_none_of_it(name: str, settings: Settings, tmp_path: Path) -> None:
    path = _write(tmp_path, name)
    image = load_image(path, settings)
    out = save_image(image.pixels, tmp_path / "out" / path.name, image.output_format, settings)
    data = out.read_bytes()
    assert SECRET not in data and b"ftyp" not in data and b"PK\x03\x04" not in data
    assert carried(data) == ()
    again = load_image(out, settings)
    assert set(again.metadata) <= {"EXIF"} if again.format == "TIFF" else again.metadata == ()


def test_names_never_carry_values(settings: Settings, tmp_path: Path) -> None:
    for name in CASES:
        image = load_image(_write(tmp_path, name), settings)
        assert all(m in NAMES for m in image.metadata)
        assert not any(SECRET.decode() in m for m in (*image.metadata, *image.notes))


@pytest.mark.skipif(not heif.can_encode(), reason="this libheif cannot encode HEIC")
def test_heic_thumbnail_is_named_and_never_written(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "phone.heic"
    Image.fromarray(pattern(64, 96)).save(path, format="HEIF", thumbnails=[32])
    assert pillow_heif.open_heif(path).info["thumbnails"]
    image = load_image(path, settings)
    assert "THUMBNAIL" in image.metadata
    assert outcome(Mode.SCAN, [], [], image.metadata) is Status.FINDINGS
    out = save_image(image.pixels, tmp_path / "out.heic", image.output_format, settings)
    assert not pillow_heif.open_heif(out).info["thumbnails"]


def test_padding_after_the_end_is_not_a_trailer(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "padded.jpg"
    path.write_bytes(_image_bytes("JPEG") + b"\0" * 64 + b"\xff" * 8 + b"\r\n")
    assert load_image(path, settings).metadata == ()


def test_check_fails_each_leaky_file(tmp_path: Path) -> None:
    """The real gate: one ``check`` over every leaky case exits 1 and names each file's leak."""
    import json

    from typer.testing import CliRunner

    from redact.cli import app

    names = [n for n, (_, _, expected) in CASES.items() if expected & LEAKY]
    paths = [_write(tmp_path, n) for n in names]
    result = CliRunner().invoke(app, ["check", "--json", "--jobs", "1", *map(str, paths)])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    for entry in report["files"]:
        assert entry["status"] == "findings", entry
        assert set(entry["metadata"]) & LEAKY
