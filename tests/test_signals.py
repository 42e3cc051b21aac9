"""SIGTERM, SIGHUP and SIGINT stop a run as Ctrl-C does (issue 15, item 8).

A real ``redact`` process runs a batch (tests/slow_worker.py: real workers and detectors,
slow writes); a signal goes to the main process alone.  Then: exit 128 + signal, no
process of its group left (workers, Tesseract), no temporary file, and every output in the
folder was reported.  A later run into the folder removes a killed run's temporary files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redact.errors import ExitCode

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP") or not Path("/proc").is_dir(), reason="POSIX, /proc")


def _photos(folder: Path, quick: int, slow: int) -> None:
    folder.mkdir()
    image = Image.fromarray(np.full((24, 32, 3), 120, np.uint8))
    for i in range(quick):
        image.save(folder / f"quick{i}.jpg")
    for i in range(slow):
        image.save(folder / f"slow{i}.jpg")


def _group(pgid: int) -> list[int]:
    """Live processes in process group ``pgid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _start(tmp_path: Path, stages: str, *args: str) -> subprocess.Popen[str]:
    (tmp_path / "redact.toml").write_text(f"stages = {stages}\n")
    return subprocess.Popen(
        [sys.executable, str(HERE / "slow_worker.py"), "clean", "--config", str(tmp_path / "redact.toml"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: what is left of it can be found
    )


def _wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[str], sig: int) -> tuple[float, str]:
    started = time.monotonic()
    proc.send_signal(sig)  # the main process alone, not its group
    _, stderr = proc.communicate(timeout=120)
    return time.monotonic() - started, stderr


def _assert_nothing_left(proc: subprocess.Popen[str], out: Path, stderr: str) -> None:
    _wait_for(lambda: not _group(proc.pid), timeout=15)  # workers and Tesseract are gone
    assert not list(out.rglob("*.part")), "a temporary file was left behind"
    for written in out.glob("*.jpg"):
        assert written.name in stderr, f"{written.name} was written but never reported"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_a_signal_to_the_main_process_stops_the_whole_batch(tmp_path: Path, sig: int, code: int):
    _photos(tmp_path / "in", quick=3, slow=4)
    out = tmp_path / "out"
    # the text stage: every worker has a pre-started Tesseract process that must end too
    stages = '["text"]' if sig == signal.SIGTERM else '["barcodes"]'
    proc = _start(tmp_path, stages, str(tmp_path / "in"), "-o", str(out), "-j", "2")
    try:
        _wait_for(lambda: len(list(out.glob(".*.part"))) >= 2)  # two slow files being written
        if sig == signal.SIGTERM:
            assert len(_group(proc.pid)) >= 4  # main, 2 workers, their Tesseract processes
        took, stderr = _stop(proc, sig)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code, stderr
    assert took < 30, f"took {took:.1f} s to stop"
    assert "interrupted" in stderr and "Traceback" not in stderr
    _assert_nothing_left(proc, out, stderr)
    time.sleep(2)  # an orphaned worker would keep writing outputs
    assert not list(out.rglob("*.part"))
    for written in out.glob("*.jpg"):
        assert written.name in stderr


def test_sigterm_on_a_single_file_leaves_no_temporary_file(tmp_path: Path):
    _photos(tmp_path / "in", quick=0, slow=1)
    out = tmp_path / "out"
    proc = _start(tmp_path, '["barcodes"]', str(tmp_path / "in" / "slow0.jpg"), "-o", str(out))
    try:
        _wait_for(lambda: bool(list(out.glob(".*.part"))))
        _, stderr = _stop(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, stderr
    _assert_nothing_left(proc, out, stderr)
    assert list(out.iterdir()) == []


def test_a_killed_runs_temporary_files_are_removed_by_the_next_run(tmp_path: Path):
    _photos(tmp_path / "in", quick=1, slow=1)
    out = tmp_path / "out"
    proc = _start(tmp_path, '["barcodes"]', str(tmp_path / "in"), "-o", str(out), "-j", "2")
    try:
        _wait_for(lambda: bool(list(out.glob(".slow0.jpg.*.part"))))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # nothing can clean up after SIGKILL
        proc.communicate(timeout=60)
    _wait_for(lambda: not _group(proc.pid), timeout=15)
    assert list(out.glob(".slow0.jpg.*.part"))
    (tmp_path / "in" / "slow0.jpg").rename(tmp_path / "in" / "quick9.jpg")
    again = _start(tmp_path, '["barcodes"]', str(tmp_path / "in"), "-o", str(out), "-j", "2")
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == ExitCode.OK, stderr
    assert not list(out.glob(".*.part"))


def test_a_leftover_of_a_killed_but_unreaped_writer_is_removed(tmp_path: Path):
    # A killed process stays a zombie until reaped (containers whose init does not reap):
    # kill(pid, 0) still finds it, but it writes nothing any more.
    from redact.media.atomic import sweep_leftovers

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    _wait_for(lambda: Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z", 30)
    leftover = tmp_path / f".a.jpg.{child.pid}.abcd1234.part"
    leftover.write_bytes(b"half")
    mine = tmp_path / f".b.jpg.{os.getpid()}.abcd1234.part"
    mine.write_bytes(b"half")
    assert sweep_leftovers(tmp_path) == [leftover]
    assert mine.exists()
    child.wait()
