"""``clean --in-place`` replaces the file it was given, or refuses (issue 15, item 10).

Never a new file beside it with the original left unredacted: a GIF stays a GIF under its
name, a file whose name does not match its content is rewritten in the format its name
says, permission bits are kept; links, hard-linked files and video containers we do not
write are refused (non-zero exit, file unchanged).  A QR code is the PHI here, so only the
barcode stage runs (no face or text model).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from typer.testing import CliRunner

from redact.cli import app
from redact.errors import ExitCode

runner = CliRunner()


def _photo_with_code() -> np.ndarray:
    code = np.asarray(zxingcpp.create_barcode("MRN 12345678", zxingcpp.BarcodeFormat.QRCode).to_image(scale=6))
    image = np.full((260, 260, 3), 235, np.uint8)
    h, w = code.shape[:2]
    image[40 : 40 + h, 40 : 40 + w] = code[..., None] if code.ndim == 2 else code[..., :3]
    return image


def _clean(tmp_path: Path, *args: object):
    (tmp_path / "redact.toml").write_text('stages = ["barcodes"]\n')
    return runner.invoke(app, ["clean", "--config", str(tmp_path / "redact.toml"), "--in-place", *map(str, args)])


def _decodes(path: Path) -> bool:
    with Image.open(path) as im:
        return bool(zxingcpp.read_barcodes(im.convert("RGB")))


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "redact.toml")


@pytest.mark.parametrize(
    ("name", "content", "written"),
    [
        ("ward.gif", "GIF", "GIF"),  # GIF stays a GIF (a new copy would be PNG)
        ("ward.png", "JPEG", "PNG"),  # the name says PNG: a real PNG now
        ("ward.jpg", "PNG", "JPEG"),
        ("ward", "PNG", "PNG"),  # no name: the content's format
        ("ward.gif", "PNG", "GIF"),
    ],
)
def test_in_place_replaces_the_file_under_its_own_name(tmp_path: Path, name: str, content: str, written: str):
    path = tmp_path / name
    Image.fromarray(_photo_with_code()).save(path, format=content)
    path.chmod(0o640)
    assert _decodes(path)
    result = _clean(tmp_path, path)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert _listing(tmp_path) == [name]  # nothing written beside it
    with Image.open(path) as im:
        assert im.format == written
    assert not _decodes(path)  # the code is covered in the file that will be committed
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_in_place_refuses_a_symbolic_link_and_leaves_both_files(tmp_path: Path):
    real = tmp_path / "real.jpg"
    Image.fromarray(_photo_with_code()).save(real, format="JPEG")
    before = real.read_bytes()
    (tmp_path / "link.jpg").symlink_to(real)
    result = _clean(tmp_path, tmp_path / "link.jpg")
    assert result.exit_code == ExitCode.CANNOT_WRITE, result.stderr
    assert "symbolic link" in result.stderr
    assert (tmp_path / "link.jpg").is_symlink() and real.read_bytes() == before
    assert _listing(tmp_path) == ["link.jpg", "real.jpg"]


def test_in_place_refuses_a_file_with_other_hard_links(tmp_path: Path):
    path = tmp_path / "a.jpg"
    Image.fromarray(_photo_with_code()).save(path, format="JPEG")
    os.link(path, tmp_path / "copy.jpg")
    result = _clean(tmp_path, path)
    assert result.exit_code == ExitCode.CANNOT_WRITE, result.stderr
    assert "hard link" in result.stderr
    assert _decodes(tmp_path / "copy.jpg") and _decodes(path)


def test_in_place_refuses_a_video_container_it_does_not_write(tmp_path: Path):
    av = pytest.importorskip("av")
    path = tmp_path / "clip.avi"
    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), 60 * i, np.uint8), "rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    before = path.read_bytes()
    result = _clean(tmp_path, path)
    assert result.exit_code == ExitCode.CANNOT_WRITE, result.stderr
    assert ".avi" in result.stderr
    assert path.read_bytes() == before and _listing(tmp_path) == ["clip.avi"]
