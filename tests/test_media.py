"""Loading and saving images: formats, orientation, modes, errors, atomic writes, paths."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import WriteImage, pattern
from PIL import Image, ImageCms, ImageFile

from redact.config import Settings
from redact.errors import ExitCode, ImageTooLargeError, InputError, MissingDependencyError, OutputError, RedactError
from redact.media import (
    atomic_write,
    default_output_path,
    heif,
    load_image,
    output_would_overwrite,
    same_file,
    save_image,
)

# --- formats -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "expected", "written"),
    [
        ("a.jpg", "JPEG", "JPEG", ".jpg"),
        ("a.png", "PNG", "PNG", ".png"),
        ("a.webp", "WEBP", "WEBP", ".webp"),
        ("a.tif", "TIFF", "TIFF", ".tif"),
        ("a.bmp", "BMP", "BMP", ".bmp"),
        ("a.gif", "GIF", "GIF", ".png"),
        ("a.heic", "HEIF", "HEIF", ".heic"),
    ],
)
def test_roundtrip_each_format(
    write_image: WriteImage, settings: Settings, tmp_path: Path, name: str, fmt: str, expected: str, written: str
) -> None:
    src = write_image(name, format=fmt)
    image = load_image(src, settings)
    assert image.format == expected
    assert image.pixels.shape == (24, 32, 3) and image.pixels.dtype == np.uint8
    assert abs(int(image.pixels[2, 2, 0]) - 255) < 20  # top-left quadrant is red
    out = save_image(image.pixels, tmp_path / "out" / name, image.format, settings)
    assert out.suffix == written and out.is_file()
    again = load_image(out, settings)
    assert again.format == image.output_format
    assert np.abs(again.pixels.astype(int) - image.pixels.astype(int)).mean() < 8


def test_format_is_detected_by_content(write_image: WriteImage, settings: Settings) -> None:
    src = write_image("really_a_png.jpg", format="PNG")
    image = load_image(src, settings)
    assert image.format == "PNG" and image.output_format == "PNG" and image.suffix == ".png"


def test_suffix_keeps_a_matching_original_spelling(write_image: WriteImage, settings: Settings) -> None:
    assert load_image(write_image("a.JPEG", format="JPEG"), settings).suffix == ".JPEG"


# --- orientation -------------------------------------------------------------------------

_ORIENT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: np.rot90(a, 1),
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(write_image: WriteImage, settings: Settings, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    src = write_image("o.jpg", pattern(30, 40), quality=95, exif=exif)
    stored = np.asarray(Image.open(src).convert("RGB"))  # the pixels as stored, unrotated
    loaded = load_image(src, settings).pixels
    np.testing.assert_array_equal(loaded, _ORIENT[orientation](stored))


def _colour_at(pixels: np.ndarray, y: int, x: int) -> str:
    names = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "white": (255, 255, 255)}
    px = pixels[y, x, :3].astype(int)
    return min(names, key=lambda n: int(np.abs(px - np.array(names[n])).sum()))


@pytest.mark.parametrize(
    ("orientation", "corners"),
    [
        # (top-left, top-right, bottom-left) colours as displayed
        (6, ("blue", "red", "white")),  # phone held upright: rotate 90 degrees clockwise
        (8, ("green", "white", "red")),
        (3, ("white", "blue", "green")),
    ],
)
def test_portrait_phone_photo_comes_back_rotated(
    write_image: WriteImage, settings: Settings, orientation: int, corners: tuple[str, str, str]
) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    src = write_image("phone.jpg", pattern(30, 40), quality=95, exif=exif)  # stored landscape, 40 x 30
    px = load_image(src, settings).pixels
    assert px.shape[:2] == ((40, 30) if orientation in (6, 8) else (30, 40))
    h, w = px.shape[:2]
    assert (_colour_at(px, 2, 2), _colour_at(px, 2, w - 3), _colour_at(px, h - 3, 2)) == corners


def test_heic_orientation_is_applied(write_image: WriteImage, settings: Settings) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    src = write_image("phone.heic", pattern(30, 40), exif=exif.tobytes())
    px = load_image(src, settings).pixels
    assert px.shape[:2] == (40, 30)
    assert _colour_at(px, 3, px.shape[1] - 4) == "red"


# --- modes and colour --------------------------------------------------------------------


def _half_transparent() -> Image.Image:
    image = Image.fromarray(pattern()).convert("RGBA")
    image.putalpha(Image.fromarray(np.repeat([[0], [255]], 12, axis=0).repeat(32, axis=1).astype(np.uint8)))
    return image


def _palette_with_transparency() -> Image.Image:
    image = Image.fromarray(pattern()).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    image.info["transparency"] = int(np.asarray(image)[0, 0])
    return image


@pytest.mark.parametrize(
    ("name", "make", "channels"),
    [
        ("l.png", lambda: Image.fromarray(pattern()).convert("L"), 3),
        ("la.png", lambda: Image.fromarray(pattern()).convert("LA"), 3),  # alpha all 255: opaque
        ("p.png", lambda: Image.fromarray(pattern()).convert("P"), 3),
        ("pt.png", _palette_with_transparency, 4),
        ("pt.gif", _palette_with_transparency, 4),
        ("one.png", lambda: Image.fromarray(pattern()).convert("1"), 3),
        ("one.tif", lambda: Image.fromarray(pattern()).convert("1"), 3),
        ("rgba.png", lambda: _half_transparent(), 4),
        ("rgba.webp", lambda: _half_transparent(), 4),
        ("cmyk.jpg", lambda: Image.fromarray(pattern()).convert("CMYK"), 3),
        ("cmyk.tif", lambda: Image.fromarray(pattern()).convert("CMYK"), 3),
    ],
)
def test_modes_become_opaque_rgb(write_image: WriteImage, settings: Settings, name: str, make, channels: int) -> None:
    # Transparent images are flattened onto white; their other renderings come apart.
    image = load_image(write_image(name, make()), settings)
    assert image.pixels.dtype == np.uint8 and image.pixels.shape == (24, 32, 3)
    assert bool(image.renderings) == (channels == 4)
    assert image.rgb.shape == (24, 32, 3) and image.rgb.flags.c_contiguous


def test_cmyk_jpeg_colours(write_image: WriteImage, settings: Settings) -> None:
    px = load_image(write_image("cmyk.jpg", Image.fromarray(pattern()).convert("CMYK"), quality=95), settings).pixels
    assert _colour_at(px, 2, 2) == "red" and _colour_at(px, 20, 2) == "blue"


def test_transparent_pixels_show_white_and_keep_their_alpha_apart(write_image: WriteImage, settings: Settings) -> None:
    image = load_image(write_image("pt.png", _palette_with_transparency()), settings)
    assert (image.pixels[0, 0] == 255).all()
    alpha = image.renderings.alpha
    assert alpha is not None and alpha[0, 0] == 0 and alpha[-1, -1] == 255


def test_16_bit_grey_is_scaled_not_clipped(write_image: WriteImage, settings: Settings) -> None:
    values = np.array([[0, 256 * 100, 65535]], np.uint16).repeat(4, axis=0)
    src = write_image("g16.png", Image.fromarray(values))
    assert Image.open(src).mode.startswith("I")
    px = load_image(src, settings).pixels
    assert px.shape == (4, 3, 3)
    assert px[0, :, 0].tolist() == [0, 100, 255]


def _swapped_red_blue_profile() -> bytes:
    """An sRGB profile whose red and blue primaries are exchanged: red pixels mean blue."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = struct.unpack(">I", data[128:132])[0]
    where = {bytes(data[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    r, b = where[b"rXYZ"], where[b"bXYZ"]
    data[r + 4 : r + 12], data[b + 4 : b + 12] = data[b + 4 : b + 12], data[r + 4 : r + 12]
    data[84:100] = bytes(16)  # profile id
    return bytes(data)


@pytest.mark.parametrize("name", ["icc.png", "icc.tif", "icc.webp"])
def test_icc_profile_is_converted_to_srgb(write_image: WriteImage, settings: Settings, name: str) -> None:
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    kw = {"lossless": True} if name.endswith("webp") else {}
    image = load_image(write_image(name, red, icc_profile=_swapped_red_blue_profile(), **kw), settings)
    assert _colour_at(image.pixels, 4, 4) == "blue"
    assert image.notes == ()


def test_icc_conversion_keeps_alpha(write_image: WriteImage, settings: Settings) -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:4, :, 3] = 0
    rgba[4:, :, 3] = 255
    image = load_image(write_image("icc.png", rgba, icc_profile=_swapped_red_blue_profile()), settings)
    px, alpha = image.pixels, image.renderings.alpha
    assert alpha is not None and alpha[0, 0] == 0 and alpha[7, 7] == 255
    assert _colour_at(px, 7, 7) == "blue" and (px[0, 0] == 255).all()
    colour = image.renderings.colour
    assert colour is not None and _colour_at(colour, 0, 0) == "blue"  # converted under transparency too


def test_unusable_icc_profile_is_noted_not_fatal(write_image: WriteImage, settings: Settings) -> None:
    image = load_image(write_image("bad.png", icc_profile=b"not a profile" * 20), settings)
    assert image.pixels.shape == (24, 32, 3)
    assert any("ICC" in note for note in image.notes)


# --- errors ------------------------------------------------------------------------------


def _truncated(write_image: WriteImage, name: str, fmt: str, **kw: object) -> Path:
    rng = np.random.default_rng(0)
    path = write_image(name, rng.integers(0, 255, (200, 200, 3), dtype=np.uint8), format=fmt, **kw)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose IHDR claims ``width x height`` pixels, with a few bytes of pixel data only."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(bytes(16))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat))
    return path


def _animated(write_image: WriteImage, name: str, fmt: str) -> Path:
    frames = [Image.fromarray(pattern()), Image.fromarray(pattern()[::-1])]
    return write_image(name, frames[0], format=fmt, save_all=True, append_images=frames[1:])


def _assert_one_line_error(exc: RedactError, path: Path, code: ExitCode) -> None:
    assert exc.exit_code == code
    assert path.name in str(exc)
    assert "\n" not in str(exc) and "Traceback" not in str(exc)


BAD_INPUTS = {
    "missing": (lambda w, t: t / "nope.jpg", InputError, "not found"),
    "directory": (lambda w, t: t, InputError, "not a regular file"),
    "empty": (lambda w, t: (t / "empty.jpg").open("wb").close() or t / "empty.jpg", InputError, "empty"),
    "text_named_jpg": (
        lambda w, t: (t / "notes.jpg").write_text("patient notes\n") and t / "notes.jpg",
        InputError,
        "not a supported image",
    ),
    "pdf": (lambda w, t: (t / "x.jpg").write_bytes(b"%PDF-1.4\n" * 10) and t / "x.jpg", InputError, "not a supported"),
    "truncated_jpeg": (lambda w, t: _truncated(w, "cut.jpg", "JPEG"), InputError, "truncated"),
    "truncated_progressive_jpeg": (
        lambda w, t: _truncated(w, "cutp.jpg", "JPEG", progressive=True),
        InputError,
        "truncated",
    ),
    "truncated_png": (lambda w, t: _truncated(w, "cut.png", "PNG"), InputError, "truncated"),
    "animated_gif": (lambda w, t: _animated(w, "anim.gif", "GIF"), InputError, "multi-frame"),
    "animated_webp": (lambda w, t: _animated(w, "anim.webp", "WEBP"), InputError, "multi-frame"),
    "multipage_tiff": (lambda w, t: _animated(w, "pages.tif", "TIFF"), InputError, "multi-frame"),
    "apng": (lambda w, t: _animated(w, "anim.png", "PNG"), InputError, "multi-frame"),
    "huge_header": (lambda w, t: _png_header_only(t / "bomb.png", 50_000, 50_000), ImageTooLargeError, "limit"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_fail_with_one_line_errors(
    write_image: WriteImage, settings: Settings, tmp_path: Path, case: str
) -> None:
    make, error, words = BAD_INPUTS[case]
    path = make(write_image, tmp_path)
    with pytest.raises(error) as info:
        load_image(path, settings)
    _assert_one_line_error(info.value, path, ExitCode.BAD_INPUT)
    assert words in str(info.value)


def test_pixel_limit_is_inclusive_and_checked_from_the_header(write_image: WriteImage, tmp_path: Path) -> None:
    small = Settings(max_pixels=1_000_000)
    assert load_image(write_image("ok.png", np.zeros((1000, 1000, 3), np.uint8)), small).size == (1000, 1000)
    with pytest.raises(ImageTooLargeError):
        load_image(write_image("big.png", np.zeros((1000, 1001, 3), np.uint8)), small)
    # No pixel data at all: only a header check can tell "too large" apart from "truncated".
    with pytest.raises(ImageTooLargeError):
        load_image(_png_header_only(tmp_path / "h.png", 1001, 1000), small)


def test_pillow_bomb_guard_follows_the_setting(tmp_path: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    generous = Settings(max_pixels=1_000_000_000)
    # 400 M pixels is over twice Pillow's default guard but under this setting: the
    # (empty) file must fail as damaged, not as too large.
    with pytest.raises(InputError) as info:
        load_image(_png_header_only(tmp_path / "h.png", 20_000, 20_000), generous)
    assert not isinstance(info.value, ImageTooLargeError)
    assert before == Image.MAX_IMAGE_PIXELS


def test_truncated_images_are_never_loaded_partially() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(write_image: WriteImage, settings: Settings) -> None:
    path = write_image("locked.jpg")
    path.chmod(0)
    try:
        with pytest.raises(InputError, match="permission denied"):
            load_image(path, settings)
    finally:
        path.chmod(0o644)


def test_permission_denied_on_open(
    write_image: WriteImage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_image("locked.jpg")

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(InputError) as info:
        load_image(path, settings)
    _assert_one_line_error(info.value, path, ExitCode.BAD_INPUT)
    assert "permission denied" in str(info.value)


def test_heic_without_pillow_heif(write_image: WriteImage, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_image("photo.heic")
    monkeypatch.setattr(heif, "_module", lambda: None)
    with pytest.raises(MissingDependencyError) as info:
        load_image(path, settings)
    _assert_one_line_error(info.value, path, ExitCode.MISSING_DEPENDENCY)


# --- writing -----------------------------------------------------------------------------


def test_heic_falls_back_to_jpeg_when_it_cannot_be_encoded(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heif, "can_encode", lambda: False)
    out = save_image(pattern(), tmp_path / "photo.redacted.heic", "HEIF", settings)
    assert out == tmp_path / "photo.redacted.jpg"
    assert Image.open(out).format == "JPEG" and not (tmp_path / "photo.redacted.heic").exists()


def test_rgba_written_as_jpeg_is_flattened_onto_white(settings: Settings, tmp_path: Path) -> None:
    rgba = np.zeros((16, 16, 4), np.uint8)
    out = save_image(rgba, tmp_path / "x.jpg", "JPEG", settings)
    assert np.asarray(Image.open(out)).min() > 240


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF", "HEIF"])
def test_every_output_is_opaque(settings: Settings, tmp_path: Path, fmt: str) -> None:
    # No alpha channel in any output: nothing hidden under transparency, nothing drawn in alpha.
    rgba = np.full((8, 8, 4), 200, np.uint8)
    rgba[0, 0] = (0, 0, 0, 0)
    out = save_image(rgba, tmp_path / f"x.{fmt.lower()}", fmt, settings)
    reopened = Image.open(out)
    assert reopened.mode == "RGB" and "transparency" not in reopened.info
    assert np.asarray(reopened)[0, 0].min() > 240


def test_jpeg_quality_comes_from_settings(tmp_path: Path) -> None:
    noisy = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    low = save_image(noisy, tmp_path / "low.jpg", "JPEG", Settings(jpeg_quality=50))
    high = save_image(noisy, tmp_path / "high.jpg", "JPEG", Settings(jpeg_quality=100))
    assert low.stat().st_size < high.stat().st_size


def test_bad_pixel_arrays_are_rejected(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        save_image(np.zeros((4, 4, 3), np.float32), tmp_path / "x.png", "PNG", settings)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        save_image(np.zeros((4, 4), np.uint8), tmp_path / "x.png", "PNG", settings)
    with pytest.raises(ValueError, match="format"):
        save_image(pattern(), tmp_path / "x.psd", "PSD", settings)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_save_creates_parent_folders_with_normal_permissions(settings: Settings, tmp_path: Path) -> None:
    out = save_image(pattern(), tmp_path / "a" / "b" / "x.png", "PNG", settings)
    assert out.is_file() and _listing(out.parent) == ["x.png"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_failed_write_leaves_no_temp_file_and_keeps_existing_dest(tmp_path: Path) -> None:
    dest = tmp_path / "out.jpg"
    dest.write_bytes(b"previous")

    def explode(fh: io.BufferedWriter) -> None:
        fh.write(b"half an image")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError) as info:
        atomic_write(dest, explode)  # type: ignore[arg-type]
    _assert_one_line_error(info.value, dest, ExitCode.CANNOT_WRITE)
    assert "No space left" in str(info.value)
    assert dest.read_bytes() == b"previous"
    assert _listing(tmp_path) == ["out.jpg"]


def test_dest_untouched_until_the_rename(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "out.png"
    dest.write_bytes(b"previous")
    seen: list[bytes] = []

    def failing_replace(src: str, dst: str) -> None:
        seen.append(Path(dst).read_bytes())
        assert Path(src).read_bytes().startswith(b"\x89PNG")  # the complete new file is ready
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OutputError):
        save_image(pattern(), dest, "PNG", settings)
    assert seen == [b"previous"] and dest.read_bytes() == b"previous"
    assert _listing(tmp_path) == ["out.png"]


def test_interrupted_write_cleans_up(tmp_path: Path) -> None:
    def interrupted(fh: io.BufferedWriter) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "x.png", interrupted)  # type: ignore[arg-type]
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("where", ["is_a_directory", "under_a_file"])
def test_unwritable_destinations(settings: Settings, tmp_path: Path, where: str) -> None:
    (tmp_path / "file").write_bytes(b"x")
    dest = tmp_path if where == "is_a_directory" else tmp_path / "file" / "out.png"
    with pytest.raises(OutputError) as info:
        save_image(pattern(), dest, "PNG", settings)
    assert info.value.exit_code == ExitCode.CANNOT_WRITE and "\n" not in str(info.value)
    assert _listing(tmp_path) == ["file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_folder(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    try:
        with pytest.raises(OutputError):
            save_image(pattern(), folder / "x.png", "PNG", settings)
    finally:
        folder.chmod(0o755)


# --- never touching the input ------------------------------------------------------------


def test_output_would_overwrite(write_image: WriteImage, tmp_path: Path) -> None:
    src = write_image("in.jpg")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.jpg").symlink_to(src)
    os.link(src, tmp_path / "hard.jpg")
    for dest in (src, tmp_path / "sub" / ".." / "in.jpg", tmp_path / "link.jpg", tmp_path / "hard.jpg"):
        assert same_file(src, dest)
        with pytest.raises(OutputError, match="output would overwrite the input") as info:
            output_would_overwrite(src, dest)
        _assert_one_line_error(info.value, dest, ExitCode.CANNOT_WRITE)
    assert not same_file(src, tmp_path / "in.redacted.jpg")
    output_would_overwrite(src, tmp_path / "in.redacted.jpg")


def test_save_refuses_to_overwrite_its_source(write_image: WriteImage, settings: Settings, tmp_path: Path) -> None:
    src = write_image("in.jpg")
    before = src.read_bytes()
    (tmp_path / "link.jpg").symlink_to(src)
    for dest in (src, tmp_path / "link.jpg"):
        with pytest.raises(OutputError, match="output would overwrite the input") as info:
            save_image(pattern(), dest, "JPEG", settings, source=src)
        assert info.value.exit_code == ExitCode.CANNOT_WRITE
    assert src.read_bytes() == before


@pytest.mark.parametrize("name", ["in.jpg", "in.png", "in.heic", "in.tif"])
def test_input_bytes_and_mtime_unchanged(write_image: WriteImage, settings: Settings, name: str) -> None:
    src = write_image(name)
    os.utime(src, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = (src.read_bytes(), src.stat().st_mtime_ns)
    image = load_image(src, settings)
    save_image(image.pixels, default_output_path(src, None, None), image.output_format, settings, source=src)
    assert (src.read_bytes(), src.stat().st_mtime_ns) == before


# --- default output paths ----------------------------------------------------------------


def test_default_output_path_next_to_input() -> None:
    assert default_output_path(Path("/p/photo.jpg"), None, None) == Path("/p/photo.redacted.jpg")
    assert default_output_path(Path("/p/anim.gif"), None, None, "GIF") == Path("/p/anim.redacted.png")


def test_default_output_path_mirrors_under_outdir(tmp_path: Path) -> None:
    root, out = tmp_path / "in", tmp_path / "out"
    src = root / "2024" / "ward" / "photo.JPG"
    assert default_output_path(src, out, root) == out / "2024" / "ward" / "photo.JPG"
    assert default_output_path(src, out, None) == out / "photo.JPG"
    assert default_output_path(src, out, tmp_path / "elsewhere") == out / "photo.JPG"
    assert default_output_path(Path("photo.heic"), Path("out"), Path(".")) == Path("out/photo.heic")
