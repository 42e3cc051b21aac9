"""Memory: decoding makes few copies; an image too large for a worker is refused from its header.

Issue 15, item 12.
A 190 KB PNG of one colour can hold 100 megapixels; loading used to make five copies of the
decoded pixels at once.  Peak RSS is measured with ``resource.getrusage`` in a fresh
subprocess, so other tests' memory does not count.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redact import memory
from redact.config import Settings
from redact.errors import ExitCode, ImageTooLargeError
from redact.media import load_image

MEASURE = """
import resource, sys
from pathlib import Path
from redact.config import Settings
from redact.media import load_image
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
image = load_image(Path(sys.argv[1]), Settings())
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024, image.pixels.nbytes)
"""


def test_loading_holds_few_copies_of_the_pixels(tmp_path: Path) -> None:
    pixels = np.full((4000, 5000, 3), 200, np.uint8)
    pixels[1000:3000, 1000:4000] = (20, 40, 60)
    path = tmp_path / "flat.png"
    Image.fromarray(pixels).save(path)
    del pixels
    assert path.stat().st_size < 200_000  # 20 MP in a small file
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    grew, decoded = (int(v) for v in done.stdout.split())
    # The decoded image plus Pillow's own (about 2.9x here); it was 6.1x.
    assert grew <= 3.5 * decoded, f"peak grew by {grew / decoded:.1f}x the decoded size"


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header says ``width x height`` (and whose pixel data is cut short)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + data + chunk(b"IEND", b"")


def test_an_image_too_large_for_a_worker_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.png"
    path.write_bytes(_png_header_only(14000, 14000))  # 196 MP: under max_pixels, ~3.8 GB to analyse
    monkeypatch.setattr(memory, "machine_memory", lambda: 4 << 30)
    with pytest.raises(ImageTooLargeError) as info:
        load_image(path, Settings())
    assert info.value.exit_code is ExitCode.BAD_INPUT and "MB" in str(info.value)


def test_the_memory_share_follows_the_thread_share(monkeypatch: pytest.MonkeyPatch) -> None:
    from redact import cores

    monkeypatch.setattr(memory, "machine_memory", lambda: 16 << 30)
    monkeypatch.setattr(memory, "usable_cores", lambda: 4)
    monkeypatch.setattr(memory, "thread_budget", lambda: 1)  # one of four workers
    one_of_four = memory.memory_budget()
    monkeypatch.setattr(memory, "thread_budget", lambda: 4)  # a single file
    assert memory.memory_budget() == 4 * one_of_four == int(16 * 0.75 * (1 << 30))
    assert cores.usable_cores() >= 1
