"""Fuzzing the image decoding entry points: mutated files never crash, hang or pass half-decoded.

Small valid PNG, JPEG, GIF, WebP, TIFF, BMP (and HEIC, where it can be encoded) files are
built here and mutated at random (bytes flipped, set, inserted, deleted; the file cut
short).  ``load_image`` must give a typed :class:`~redact.errors.RedactError` (a FAILED
result, exit 3) or a whole image, and the structure sniffers must name only known things.
A file cut short that still loads must give exactly the pixels of the whole file: a
partly decoded image must never be analysed as if it were the picture.  Examples are
bounded and derandomised (a few seconds, the same in every run); nothing is written
outside pytest's temporary folder.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from redact.config import Settings
from redact.errors import RedactError
from redact.media import load_image
from redact.media.hidden import NAMES, carried

FUZZ = settings(
    max_examples=40,
    deadline=5000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _picture() -> Image.Image:
    rng = np.random.default_rng(7)
    pixels = np.zeros((16, 24, 3), np.uint8)
    pixels[:8, :12] = (200, 30, 30)
    pixels[8:, 12:] = rng.integers(0, 255, (8, 12, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def _encode(fmt: str) -> bytes:
    buf = io.BytesIO()
    image = _picture()
    if fmt == "GIF":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    kw: dict[str, object] = {"lossless": True} if fmt == "WEBP" else {}
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _formats() -> tuple[str, ...]:
    from redact.media import heif

    return ("PNG", "JPEG", "GIF", "WEBP", "TIFF", "BMP", *(("HEIF",) if heif.can_encode() else ()))


SEEDS = {fmt: _encode(fmt) for fmt in _formats()}


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A seed file with one to four random mutations."""
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[at] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80]))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            del data[at:]
    return bytes(data)


def _load(tmp_path: Path, data: bytes) -> object:
    path = tmp_path / "fuzzed"
    path.write_bytes(data)
    try:
        return load_image(path, Settings())
    except RedactError as exc:  # a typed, one-line failure (FAILED, exit 3/4): fine
        assert "\n" not in str(exc)
        return exc


@FUZZ
@given(data=mutated())
def test_mutated_files_fail_typed_or_load_whole(tmp_path: Path, data: bytes) -> None:
    result = _load(tmp_path, data)
    if not isinstance(result, RedactError):
        pixels = result.pixels  # type: ignore[attr-defined]
        assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3
        assert set(result.metadata) <= set(NAMES)  # type: ignore[attr-defined]


@FUZZ
@given(data=mutated())
def test_structure_sniffers_never_fail(data: bytes) -> None:
    assert set(carried(data)) <= set(NAMES)


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_a_file_cut_short_never_loads_partly(tmp_path: Path, fmt: str) -> None:
    """Every truncation: an error, or (only when nothing the picture needs was cut) the whole picture."""
    data = SEEDS[fmt]
    whole = load_image(_write(tmp_path, "whole", data), Settings()).pixels
    loaded = 0
    for length in range(1, len(data)):
        result = _load(tmp_path, data[:length])
        if isinstance(result, RedactError):
            continue
        loaded += 1
        assert np.array_equal(result.pixels, whole), f"{fmt} cut at {length} of {len(data)} loaded partly"  # type: ignore[attr-defined]
    assert loaded < len(data) // 2  # most cuts must fail


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path
