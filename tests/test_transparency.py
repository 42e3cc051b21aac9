"""Transparency: every rendering a viewer can show is analysed, and outputs are opaque (issue 15, item 2).

A viewer may composite an image onto white or black, ignore its alpha channel (and show
the colour stored under transparent pixels), or show the alpha channel itself.  Each case
below is built in code; the unit tests check the renderings ``load_image`` hands to the
analysis, the end-to-end tests that ``scan`` finds what only one rendering shows and that
``clean`` writes a copy with no alpha channel in which nothing covered shows through.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

from redact.cli import app
from redact.config import Settings
from redact.media import load_image

RECORD = ("Patient: JANE DOE", "MRN: 48271930", "DOB: 03/14/1961")


def _text_mask(width: int = 420, height: int = 150) -> np.ndarray:
    """255 where the record's letters are (black text on a white page, inverted)."""
    page = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(26)
    for i, line in enumerate(RECORD):
        draw.text((14, 10 + 45 * i), line, fill=255, font=font)
    return np.asarray(page)


def _rgba(colour: tuple[int, int, int] | np.ndarray, alpha: np.ndarray) -> np.ndarray:
    h, w = alpha.shape
    rgb = np.broadcast_to(np.asarray(colour, np.uint8), (h, w, 3)) if not isinstance(colour, np.ndarray) else colour
    return np.dstack([rgb, alpha]).astype(np.uint8)


def _save(path: Path, image: Image.Image | np.ndarray, **kw: object) -> Path:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image.save(path, **kw)
    return path


def _names(image: object) -> list[str]:
    return [name for name, _ in image.renderings.draw()]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- renderings


def test_black_text_on_transparent_black_shows_on_white(tmp_path: Path, settings: Settings) -> None:
    mask = _text_mask()
    path = _save(tmp_path / "export.png", _rgba((0, 0, 0), mask))  # (0,0,0,0) outside the letters
    image = load_image(path, settings)
    assert image.pixels.shape[2] == 3
    assert image.pixels[mask == 255].max() == 0 and image.pixels[mask == 0].min() == 255
    assert set(_names(image)) >= {"on black", "colour channels without alpha", "alpha channel"}


def test_colour_hidden_under_transparent_pixels_is_a_rendering(tmp_path: Path, settings: Settings) -> None:
    mask = _text_mask()
    colour = np.where(mask[..., None] == 255, 0, 255).astype(np.uint8).repeat(3, axis=2)
    path = _save(tmp_path / "hidden.png", _rgba(colour, np.zeros_like(mask)))  # fully transparent
    image = load_image(path, settings)
    assert (image.pixels == 255).all()  # nothing shows on white...
    raw = dict(image.renderings.draw())["colour channels without alpha"]
    assert raw[mask == 255].max() == 0  # ...but a tool that drops alpha shows the text


def test_face_only_in_the_alpha_channel_is_a_rendering(tmp_path: Path, settings: Settings) -> None:
    alpha = _text_mask()
    path = _save(tmp_path / "alpha.png", _rgba((255, 255, 255), alpha))
    image = load_image(path, settings)
    shown = dict(image.renderings.draw())["alpha channel"]
    assert (shown[..., 0] == alpha).all()


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("la.png", lambda m: Image.fromarray(np.dstack([np.zeros_like(m), m]), "LA")),
        ("palette.png", lambda m: _palette(m)),
        ("palette.gif", lambda m: _palette(m)),
        ("rgba.webp", lambda m: Image.fromarray(_rgba((0, 0, 0), m))),
        ("rgba.tif", lambda m: Image.fromarray(_rgba((0, 0, 0), m))),
    ],
)
def test_every_transparent_mode_is_flattened_onto_white(name: str, make, tmp_path: Path, settings: Settings) -> None:
    mask = _text_mask()
    kw = {"lossless": True} if name.endswith(".webp") else {}
    image = load_image(_save(tmp_path / name, make(mask), **kw), settings)
    assert image.pixels.shape == (*mask.shape, 3)
    assert image.pixels[mask == 255].max() <= 10 and image.pixels[mask == 0].min() >= 245
    assert "alpha channel" in _names(image)


def _palette(mask: np.ndarray) -> Image.Image:
    """Palette image: index 0 transparent (its colour black), index 1 black text."""
    image = Image.fromarray((mask == 255).astype(np.uint8), "P")
    image.putpalette([0, 0, 0, 0, 0, 0] + [0] * 762)
    image.info["transparency"] = 0
    return image


def _png(width: int, height: int, depth: int, colour_type: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    raw = b"".join(b"\0" + row for row in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_16_bit_rgba_with_transparent_black(tmp_path: Path, settings: Settings) -> None:
    mask = _text_mask(120, 40)
    rows = [b"".join(struct.pack(">HHHH", 0, 0, 0, 65535 if v else 0) for v in row) for row in mask]
    path = tmp_path / "deep.png"
    path.write_bytes(_png(120, 40, 16, 6, rows))
    image = load_image(path, settings)
    assert image.pixels[mask == 255].max() == 0 and image.pixels[mask == 0].min() == 255


def _premultiplied_tiff(rgba: np.ndarray) -> bytes:
    """An RGBA TIFF whose ExtraSamples says *associated* (premultiplied) alpha."""
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="TIFF")
    data = bytearray(buf.getvalue())
    # ExtraSamples (tag 338, SHORT, count 1): 2 (unassociated) -> 1 (associated).
    entry = struct.pack("<HHI", 338, 3, 1)
    at = data.index(entry)
    data[at + 8 : at + 10] = struct.pack("<H", 1)
    return bytes(data)


def test_premultiplied_alpha(tmp_path: Path, settings: Settings) -> None:
    # Stored premultiplied: black text, opaque; a grey (100) box at alpha 128 stores 50.
    mask = _text_mask(120, 40)
    rgba = _rgba((0, 0, 0), mask)
    rgba[:10, :10] = (50, 50, 50, 128)
    path = tmp_path / "premultiplied.tif"
    path.write_bytes(_premultiplied_tiff(rgba))
    assert Image.open(path).tile[0][3][0] == "RGBa"  # decoded as premultiplied
    image = load_image(path, settings)
    assert image.pixels[mask == 255].max() == 0 and image.pixels[20:, 60:][mask[20:, 60:] == 0].min() == 255
    views = dict(image.renderings.draw())
    assert abs(int(views["on black"][5, 5, 0]) - 50) <= 1  # on black: the stored channels
    assert abs(int(views["colour channels without alpha"][5, 5, 0]) - 100) <= 1  # straight colour
    assert abs(int(image.pixels[5, 5, 0]) - 177) <= 1  # 100 * 128/255 + 255 * 127/255


def test_opaque_images_have_no_other_rendering(tmp_path: Path, settings: Settings) -> None:
    opaque = _rgba(np.full((20, 30, 3), 90, np.uint8), np.full((20, 30), 255, np.uint8))
    for path in (_save(tmp_path / "opaque.png", opaque), _save(tmp_path / "photo.jpg", opaque[..., :3])):
        image = load_image(path, settings)
        assert not image.renderings and list(image.renderings.draw()) == []


# --------------------------------------------------------------------------- end to end

runner = CliRunner()


def _scan(*paths: Path) -> dict:
    result = runner.invoke(app, ["scan", "--json", "--jobs", "1", *map(str, paths)])
    return {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Images that show PHI in one rendering only (all clean to the old RGB-only analysis)."""
    from skimage import data

    folder = tmp_path_factory.mktemp("alpha")
    mask = _text_mask()
    _save(folder / "on-white.png", _rgba((0, 0, 0), mask))  # black text on (0,0,0,0)
    hidden = np.where(mask[..., None] == 255, 0, 255).astype(np.uint8).repeat(3, axis=2)
    _save(folder / "under-alpha.png", _rgba(hidden, np.zeros_like(mask)))
    face = np.asarray(Image.fromarray(data.astronaut()).convert("L").resize((256, 256)))
    _save(folder / "alpha-face.png", _rgba((0, 0, 0), face))  # black, shaped by a face in alpha
    return folder


def test_scan_finds_what_only_one_rendering_shows(cases: Path) -> None:
    found = _scan(*sorted(cases.iterdir()))
    assert found["on-white.png"]["counts"].get("text", 0) >= 2, found["on-white.png"]
    assert found["under-alpha.png"]["counts"].get("text", 0) >= 2, found["under-alpha.png"]
    assert found["alpha-face.png"]["counts"].get("face", 0) >= 1, found["alpha-face.png"]
    assert all(f["status"] == "findings" for f in found.values())


def test_clean_writes_opaque_copies_that_show_nothing_covered(cases: Path, tmp_path: Path) -> None:
    from redact.detect.text import TextDetector

    out = tmp_path / "out"
    result = runner.invoke(app, ["clean", "--jobs", "1", "--text", "all", str(cases), "-o", str(out)])
    assert result.exit_code == 0, result.output
    detector = TextDetector(Settings())
    for written in sorted(out.glob("*.png")):
        copy = Image.open(written)
        assert copy.mode == "RGB" and "transparency" not in copy.info, written.name
        pixels = np.asarray(copy)
        # Opaque: on white, on black and without alpha are all this one picture.
        readings = " ".join(r.text for line in detector.analyse(pixels) for r in line.readings).upper()
        assert not any(word in readings for word in ("JANE", "48271930", "1961")), written.name
