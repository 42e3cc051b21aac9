"""Odd sample formats are read at the scale a viewer shows them (issue 15, item 13).

A float TIFF scaled 0-1 was analysed as black (Pillow clips floats to 0-255), a 32-bit
integer image holding 0-255 values as black too (shifted as if 16-bit), and text drawn in
the low range of a 16-bit image, which a viewer's auto-contrast shows, was never seen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redact.config import Settings
from redact.media import load_image


def _bars(low: float, high: float, dtype: type) -> np.ndarray:
    """A 16 x 32 image: left half ``low``, right half ``high``, a ``low`` bar across the right."""
    values = np.full((16, 32), high, dtype)
    values[:, :16] = low
    values[6:10, 16:] = low
    return values


def _save(tmp_path: Path, name: str, image: Image.Image) -> Path:
    path = tmp_path / name
    image.save(path)
    return path


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (0.0, 255.0), (-3.5, 900.25)])
def test_float_tiff_is_read_at_its_own_scale(tmp_path: Path, settings: Settings, low: float, high: float) -> None:
    path = _save(tmp_path, "float.tif", Image.fromarray(_bars(low, high, np.float32)))
    assert Image.open(path).mode == "F"
    px = load_image(path, settings).pixels[..., 0]
    assert px[0, 0] == 0 and px[0, 31] == 255 and px[8, 31] == 0


def test_float_nan_and_infinity_do_not_break_the_scale(tmp_path: Path, settings: Settings) -> None:
    values = _bars(0.0, 1.0, np.float32)
    values[0, 0], values[1, 1], values[2, 2] = np.nan, np.inf, -np.inf
    px = load_image(_save(tmp_path, "nan.tif", Image.fromarray(values)), settings).pixels[..., 0]
    assert px[0, 31] == 255 and px[8, 31] == 0 and px[1, 1] == 255


def test_32_bit_integers_in_8_bit_range_are_not_shifted(tmp_path: Path, settings: Settings) -> None:
    path = _save(tmp_path, "int.tif", Image.fromarray(_bars(0, 255, np.int32)))
    assert Image.open(path).mode == "I"
    px = load_image(path, settings).pixels[..., 0]
    assert px[0, 31] == 255 and px[8, 31] == 0


def test_16_bit_low_range_text_is_a_stretched_rendering(tmp_path: Path, settings: Settings) -> None:
    # Text at 0 on a background of 300 (of 65535): black at full scale, plain when stretched.
    path = _save(tmp_path, "deep.png", Image.fromarray(_bars(0, 300, np.uint16)))
    assert Image.open(path).mode.startswith("I")
    image = load_image(path, settings)
    assert image.pixels.max() <= 2  # full scale: all but black
    stretched = dict(image.renderings.draw())["stretched range"][..., 0]
    assert stretched[0, 31] == 255 and stretched[8, 31] == 0


def test_full_range_16_bit_has_no_extra_rendering(tmp_path: Path, settings: Settings) -> None:
    path = _save(tmp_path, "full.png", Image.fromarray(_bars(0, 65535, np.uint16)))
    assert not load_image(path, settings).renderings


@pytest.mark.parametrize("mode", ["LAB", "CMYK", "YCbCr"])
def test_other_colour_spaces_come_out_as_srgb(tmp_path: Path, settings: Settings, mode: str) -> None:
    rgb = np.zeros((16, 32, 3), np.uint8)
    rgb[:, :16] = (220, 30, 30)
    rgb[:, 16:] = (30, 30, 220)
    source = Image.fromarray(rgb)
    converted = source.convert(mode) if mode != "LAB" else _to_lab(source)
    path = _save(tmp_path, f"{mode}.tif", converted)
    assert Image.open(path).mode == mode
    px = load_image(path, settings).pixels.astype(int)
    assert px[8, 4, 0] > px[8, 4, 2] + 100 and px[8, 28, 2] > px[8, 28, 0] + 100


def _to_lab(image: Image.Image) -> Image.Image:
    from PIL import ImageCms

    transform = ImageCms.buildTransform(
        ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB"
    )
    return ImageCms.applyTransform(image, transform)


# --------------------------------------------------------------------------- damaged HEIC


def _iloc_extents(data: bytes) -> dict[int, tuple[int, int]]:
    """``item id -> (offset, length)`` of each item's first extent, from the ``iloc`` box."""
    import struct

    at = data.index(b"iloc") + 4
    version = data[at]
    sizes = data[at + 4]
    offset_size, length_size = sizes >> 4, sizes & 15
    base_size, index_size = data[at + 5] >> 4, (data[at + 5] & 15) if version in (1, 2) else 0
    pos = at + 6
    count_fmt, id_fmt = (">I", ">I") if version == 2 else (">H", ">H")
    (count,) = struct.unpack_from(count_fmt, data, pos)
    pos += struct.calcsize(count_fmt)

    def number(size: int) -> int:
        nonlocal pos
        value = int.from_bytes(data[pos : pos + size], "big") if size else 0
        pos += size
        return value

    extents = {}
    for _ in range(count):
        (item,) = struct.unpack_from(id_fmt, data, pos)
        pos += struct.calcsize(id_fmt)
        if version in (1, 2):
            pos += 2  # construction method
        pos += 2  # data reference index
        base = number(base_size)
        (n,) = struct.unpack_from(">H", data, pos)
        pos += 2
        for i in range(n):
            number(index_size)
            offset, length = number(offset_size), number(length_size)
            if i == 0:
                extents[item] = (base + offset, length)
    return extents


def test_a_heic_tile_that_does_not_decode_is_damage(tmp_path: Path, settings: Settings) -> None:
    """libheif leaves an undecodable grid tile blank without a word; that must not pass as clean."""
    import pillow_heif

    from redact.errors import ExitCode, InputError
    from redact.media import heif

    if not heif.can_encode():
        pytest.skip("this libheif cannot encode HEIC")
    previous = pillow_heif.options.GRID_TILE_SIZE
    pillow_heif.options.GRID_TILE_SIZE = 64
    try:
        rgb = np.random.default_rng(3).integers(0, 255, (128, 128, 3), dtype=np.uint8)
        path = _save(tmp_path, "grid.heic", Image.fromarray(rgb))
    finally:
        pillow_heif.options.GRID_TILE_SIZE = previous
    assert load_image(path, settings).size == (128, 128)  # the intact file loads
    data = bytearray(path.read_bytes())
    tiles = sorted(v for v in _iloc_extents(bytes(data)).values() if v[1] > 100)
    assert len(tiles) == 4
    offset, _ = tiles[1]
    data[offset + 4 : offset + 68] = bytes(64)  # the second tile's first NAL unit, zeroed
    damaged = tmp_path / "damaged.heic"
    damaged.write_bytes(bytes(data))
    Image.open(damaged).load()  # Pillow/libheif decode it silently...
    with pytest.raises(InputError) as info:  # ...redact does not
        load_image(damaged, settings)
    assert info.value.exit_code is ExitCode.BAD_INPUT
