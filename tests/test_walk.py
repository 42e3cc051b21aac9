"""Folder walks never skip a file silently (issue 15, item 6).

Every file under a walked folder is analysed or listed as not checked with a reason:
hidden files, symbolic links, FIFOs/sockets, unreadable folders, more video containers,
DICOM and other files redact cannot analyse.  Inputs are built here; the CLI runs use
only the barcode stage (``redact.toml``), so no face or text model is loaded.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from redact.cli import app
from redact.discover import Entry, MediaType, expand, sniff
from redact.errors import ExitCode

runner = CliRunner()
FAST = 'stages = ["barcodes"]\n'


def _jpeg(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((24, 32, 3), 120, np.uint8)).save(path, format="JPEG")
    return path


def _walk(folder: Path, **kw: object) -> dict[str, str | None]:
    """Relative name -> problem (``None``: analysed)."""
    found: dict[str, str | None] = {}
    for entry in expand([folder], **kw):  # type: ignore[arg-type]
        assert isinstance(entry, Entry)
        found[entry.path.relative_to(folder).as_posix()] = entry.problem
    return found


def _check(*args: object, cwd: Path):
    """``redact scan`` in-process with the fast settings of ``cwd`` (check refuses narrowed stages)."""
    (cwd / "redact.toml").write_text(FAST)
    return runner.invoke(app, ["scan", "--config", str(cwd / "redact.toml"), *map(str, args)])


def test_drawings_and_web_pages_are_not_pictures(tmp_path: Path):
    (tmp_path / "icon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0h9"/></svg>')
    (tmp_path / "page.html").write_text("<!DOCTYPE html><html><body><svg><image href='a.png'/></svg></body></html>")
    assert _walk(tmp_path) == {".": "no image files found in this folder"}


def test_typescript_is_not_a_transport_stream(tmp_path: Path):
    (tmp_path / "app.ts").write_text("export const x: number = 1;\n")
    (tmp_path / "mod.mts").write_text("export {};\n")
    (tmp_path / "clip.ts").write_bytes(b"G" + b"\0" * 187 + b"G" + b"\0" * 187 + b"G" + b"\0" * 200)
    assert _walk(tmp_path) == {"clip.ts": None}


def test_hidden_files_and_folders_are_analysed(tmp_path: Path):
    _jpeg(tmp_path / ".hidden.jpg")
    _jpeg(tmp_path / ".private" / "ward.jpg")
    _jpeg(tmp_path / ".git" / "lfs" / "objects" / "ab" / "abcdef")  # a git-lfs object is a real photo
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1" + b"\0" * 40)  # not media: passed over
    assert _walk(tmp_path) == {".git/lfs/objects/ab/abcdef": None, ".hidden.jpg": None, ".private/ward.jpg": None}


def test_fifo_and_socket_in_a_folder_are_reported_never_opened(tmp_path: Path):
    _jpeg(tmp_path / "a.jpg")
    os.mkfifo(tmp_path / "pipe.jpg")  # opening it for reading would block forever
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        found = _walk(tmp_path)
    assert found["a.jpg"] is None
    assert "FIFO" in (found["pipe.jpg"] or "")
    assert "socket" in (found["sock"] or "")


def test_a_fifo_named_on_the_command_line_fails_without_hanging(tmp_path: Path):
    os.mkfifo(tmp_path / "pipe.jpg")
    (tmp_path / "redact.toml").write_text(FAST)
    proc = subprocess.run(
        [sys.executable, "-m", "redact", "scan", "--config", "redact.toml", "pipe.jpg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr
    assert "not a regular file (a FIFO)" in proc.stderr
    # clean with a cache entry for it (it was a photo in an earlier run): never hashed either
    _jpeg(tmp_path / "was.jpg")
    clean = [sys.executable, "-m", "redact", "clean", "--config", "redact.toml", "-o", "out", "--cache", "cache"]
    subprocess.run([*clean, "was.jpg"], cwd=tmp_path, check=True, capture_output=True, timeout=60)
    (tmp_path / "was.jpg").unlink()
    os.mkfifo(tmp_path / "was.jpg")
    again = subprocess.run([*clean, "was.jpg"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode == ExitCode.BAD_INPUT, again.stderr


def test_symbolic_links_followed_inside_reported_outside_no_loops(tmp_path: Path):
    root = tmp_path / "site"
    _jpeg(root / "real" / "ward.jpg")
    _jpeg(tmp_path / "elsewhere" / "secret.jpg")
    (root / "alias.jpg").symlink_to(root / "real" / "ward.jpg")
    (root / "loop").symlink_to(root)  # back to the root: walked once only
    (root / "out.jpg").symlink_to(tmp_path / "elsewhere" / "secret.jpg")
    (root / "outdir").symlink_to(tmp_path / "elsewhere")
    (root / "broken.jpg").symlink_to(root / "missing.jpg")
    found = _walk(root)
    assert found.pop("alias.jpg") is None and found.pop("real/ward.jpg") is None
    assert "outside the folder" in (found.pop("out.jpg") or "")
    assert "outside the folder" in (found.pop("outdir") or "")
    assert "cannot be followed" in (found.pop("broken.jpg") or "")
    assert found == {}


def test_unreadable_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _jpeg(tmp_path / "a.jpg")
    _jpeg(tmp_path / "locked" / "b.jpg")
    real = os.scandir

    def scandir(path: object) -> object:
        if Path(str(path)).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    found = _walk(tmp_path)
    assert found["a.jpg"] is None
    assert found["locked"] == "folder cannot be read (Permission denied): nothing in it was checked"


SVG_PICTURE = b'<image href="data:image/jpeg;base64,/9j/4AAQ"/></svg>'


def _dicom() -> bytes:
    return b"\0" * 128 + b"DICM" + b"\2\0\0\0UL\4\0" + b"\0" * 64


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("scan.dcm", _dicom(), "DICOM"),
        ("IM0001", _dicom(), "DICOM"),  # by content, no suffix
        ("raw.dcm", b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100", "DICOM"),  # no preamble: by name
        ("letter.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        ("report.docx", b"PK\x03\x04\x14\x00\x06\x00" + b"\0" * 30 + b"[Content_Types].xml", "ZIP"),
        ("Thumbs.db", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "Thumbs.db"),
        ("IMG_1.CR2", b"II*\x00\x10\x00\x00\x00CR\x02\x00", None),  # TIFF-based RAW: by content a TIFF
        ("IMG_2.NEF", b"\0" * 16, "camera RAW"),
        ("logo.svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">' + SVG_PICTURE, "SVG"),
    ],
)
def test_files_redact_cannot_analyse_are_reported(tmp_path: Path, name: str, data: bytes, what: str | None):
    (tmp_path / name).write_bytes(data)
    (tmp_path / "notes.txt").write_text("plain text is not media")
    found = _walk(tmp_path)
    assert "notes.txt" not in found
    if what is None:  # analysed (and then fails as damaged): never passed over either
        assert found == {name: None}
    else:
        assert what in (found[name] or ""), found
        assert "not checked" in (found[name] or "")


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"G" + b"\0" * 187 + b"G" + b"\0" * 187 + b"G" + b"\0" * 100, MediaType.VIDEO),  # MPEG-TS
        (b"\0" * 4 + (b"G" + b"\0" * 191) * 3, MediaType.VIDEO),  # M2TS / MTS
        (b"\x00\x00\x01\xba\x44\x00\x04\x00", MediaType.VIDEO),  # MPEG-PS (.mpg, .vob)
        (b"FLV\x01\x05\x00\x00\x00\x09", MediaType.VIDEO),
        (bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + b"\0" * 8, MediaType.VIDEO),  # ASF/WMV
        (b"OggS\x00\x02" + b"\0" * 22 + b"\x80theora", MediaType.VIDEO),
        (b"OggS\x00\x02" + b"\0" * 22 + b"\x01vorbis", MediaType.OTHER),  # audio
        (b"\0" * 128 + b"DICM", MediaType.UNSUPPORTED),
    ],
)
def test_sniff_more_containers(head: bytes, kind: MediaType):
    assert sniff(head) is kind


def test_check_folder_with_a_transport_stream_analyses_it(tmp_path: Path):
    av = pytest.importorskip("av")
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("clip.ts", "clip-without-suffix"):
        with av.open(str(folder / name), "w", format="mpegts") as out:
            stream = out.add_stream("mpeg2video", rate=10)
            stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
            for i in range(5):
                frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 * i, np.uint8), format="rgb24")
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
    result = _check(folder, "--json", cwd=tmp_path)
    assert result.exit_code == ExitCode.OK, result.stderr
    files = json.loads(result.stdout)["files"]
    assert sorted((Path(f["path"]).name, f["status"]) for f in files) == [
        ("clip-without-suffix", "clean"),
        ("clip.ts", "clean"),
    ]


def test_check_folder_exits_non_zero_and_names_what_was_not_checked(tmp_path: Path):
    folder = tmp_path / "site"
    _jpeg(folder / "ok.jpg")
    (folder / "scan.dcm").write_bytes(_dicom())
    os.mkfifo(folder / "pipe")
    result = _check(folder, cwd=tmp_path)
    assert result.exit_code == ExitCode.BATCH_FAILED, result.stderr
    assert "scan.dcm" in result.stderr and "DICOM" in result.stderr
    assert "pipe" in result.stderr and "FIFO" in result.stderr


def test_include_and_exclude_apply_to_reported_files_too(tmp_path: Path):
    _jpeg(tmp_path / "keep" / "a.jpg")
    (tmp_path / "drafts").mkdir()
    os.mkfifo(tmp_path / "drafts" / "pipe.jpg")
    (tmp_path / "keep" / "x.dcm").write_bytes(_dicom())
    assert _walk(tmp_path, exclude=["drafts/**"]) == {
        "keep/a.jpg": None,
        "keep/x.dcm": "DICOM file: redact cannot analyse it, so it was not checked",
    }
    assert _walk(tmp_path, include=["**/*.jpg"]).keys() == {"keep/a.jpg", "drafts/pipe.jpg"}


MAKE_TEMP = (
    "import sys, pathlib; from redact.media.atomic import temp_beside; print(temp_beside(pathlib.Path(sys.argv[1])))"
)


def test_leftover_of_a_killed_run_is_listed_by_scan_and_removed_by_clean(tmp_path: Path):
    from redact.media.atomic import temp_beside

    folder = tmp_path / "photos"
    _jpeg(folder / "a.jpg")
    child = subprocess.run(
        [sys.executable, "-c", MAKE_TEMP, str(folder / "a.redacted.jpg")],
        capture_output=True,
        text=True,
        check=True,
    )
    leftover = Path(child.stdout.strip())  # its writer has exited: a leftover
    leftover.write_bytes(b"\xff\xd8\xff half an output")
    live = temp_beside(folder / "b.redacted.jpg")  # this process is alive: never removed
    found = _walk(folder)
    assert "interrupted redact run" in (found[leftover.name] or "")
    (tmp_path / "redact.toml").write_text(FAST)
    scan = runner.invoke(app, ["scan", "--config", str(tmp_path / "redact.toml"), str(folder)])
    assert scan.exit_code == ExitCode.BATCH_FAILED and leftover.name in scan.stderr and leftover.exists()
    # clean writes into this folder: the dead writer's file goes, the live one stays (its run is going on)
    result = runner.invoke(app, ["clean", "--config", str(tmp_path / "redact.toml"), str(folder)])
    assert result.exit_code == ExitCode.OK, result.stderr
    assert not leftover.exists() and live.exists()
    assert (folder / "a.redacted.jpg").is_file()


def test_output_folder_inside_the_input_is_still_left_out(tmp_path: Path):
    _jpeg(tmp_path / "a.jpg")
    _jpeg(tmp_path / "out" / "a.jpg")
    assert _walk(tmp_path, skip=[tmp_path / "out"]) == {"a.jpg": None}
