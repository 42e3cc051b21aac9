"""Nothing leaves the machine and nothing is written outside the outputs (issue 15, item 1).

The real CLI runs in subprocesses with ``HOME``, ``XDG_*`` and ``TMPDIR`` pointed at fresh,
empty folders, on one file (in the main process) and on a batch (in worker processes).
A ``sitecustomize`` on ``PYTHONPATH`` (loaded by every interpreter, spawned workers
included) keeps each process alive for :data:`LINGER_S` seconds after its first model
loads: onnxruntime's telemetry fires about 9 s after that.  Afterwards the home and temporary
folders must still be empty (a temporary file that was removed again is tolerated only in
the sense that ``TMPDIR`` must end empty), the working folder must hold exactly the inputs
and the outputs, and -- where ``strace`` is installed (``.ci/run`` installs it) -- no process
may create or use an internet (``AF_INET``/``AF_INET6``) socket; local ``AF_UNIX`` ones are fine.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REDACT = Path(sys.executable).with_name("redact")


def _strace() -> str | None:
    """``strace`` when it is installed and may trace here (containers can forbid ptrace)."""
    found = shutil.which("strace")
    if found is None:
        return None
    done = subprocess.run([found, "-f", "-qq", "-e", "trace=none", "true"], capture_output=True, check=False)
    return found if done.returncode == 0 else None


STRACE = _strace()
#: Seconds each process lingers after its first model load (onnxruntime's timer: ~9 s).
LINGER_S = 12

SITECUSTOMIZE = """
import os, time
import redact.detect.onnx as onnx

_session = onnx.session
_waited = []


def session(*args, **kwargs):
    made = _session(*args, **kwargs)
    if not _waited:  # the first model of this process: outlive the telemetry timer
        _waited.append(True)
        time.sleep(float(os.environ["REDACT_TEST_LINGER_S"]))
    return made


onnx.session = session
"""

#: A line of ``strace -f`` that creates or talks through an internet socket.
_NETWORK = re.compile(r"socket\((AF_INET6?|PF_INET6?)\b|sa_family=AF_INET6?\b")


@dataclass
class Run:
    """One CLI run in its own sandbox folders."""

    name: str
    args: list[str]
    inputs: list[str]
    outputs: list[str]
    root: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def work(self) -> Path:
        return self.root / "work"

    def folders(self) -> dict[str, Path]:
        return {
            v: self.root / v.lower()
            for v in (
                "HOME",
                "XDG_CACHE_HOME",
                "XDG_CONFIG_HOME",
                "XDG_DATA_HOME",
                "XDG_STATE_HOME",
                "XDG_RUNTIME_DIR",
                "TMPDIR",
            )
        }


def _photo(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pixels = np.full((96, 128, 3), 200, np.uint8)
    pixels[20:70, 30:100] = rng.integers(0, 255, (50, 70, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def _start(run: Run, site: Path) -> None:
    run.work.mkdir(parents=True)
    for i, name in enumerate(run.inputs):
        _photo(run.work / name, i)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ORT_", "OPENCV_"))}
    for variable, folder in run.folders().items():
        folder.mkdir(mode=0o700)
        env[variable] = str(folder)
    env["PYTHONPATH"] = str(site)
    env["REDACT_TEST_LINGER_S"] = str(LINGER_S)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [str(REDACT), *run.args]
    if STRACE:
        command = [
            STRACE,
            "-f",
            "-qq",
            "-e",
            "trace=socket,connect,sendto,sendmsg",
            "-e",
            "signal=none",
            "-o",
            str(run.root / "strace.log"),
            *command,
        ]
    run.proc = subprocess.Popen(command, cwd=run.work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Run]:
    """Six runs at once (they mostly sleep): scan, check and clean, one file and a batch."""
    base = tmp_path_factory.mktemp("offline")
    site = base / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    batch = ["a.png", "b.png", "c.png"]
    all_runs = [
        Run("scan-one", ["scan", "a.png"], ["a.png"], [], base / "scan-one"),
        Run("check-one", ["check", "a.png"], ["a.png"], [], base / "check-one"),
        Run("clean-one", ["clean", "a.png"], ["a.png"], ["a.redacted.png"], base / "clean-one"),
        Run("scan-batch", ["scan", "--jobs", "2", *batch], batch, [], base / "scan-batch"),
        Run("check-batch", ["check", "--jobs", "2", *batch], batch, [], base / "check-batch"),
        Run(
            "clean-batch",
            ["clean", "--jobs", "2", *batch, "-o", "out"],
            batch,
            ["out", *(f"out/{n}" for n in batch)],
            base / "clean-batch",
        ),
    ]
    for run in all_runs:
        _start(run, site)
    for run in all_runs:
        assert run.proc is not None
        out, _ = run.proc.communicate(timeout=600)
        assert run.proc.returncode == 0, (run.name, out.decode(errors="replace")[-2000:])
    return all_runs


@pytest.mark.parametrize("name", ["scan-one", "check-one", "clean-one", "scan-batch", "check-batch", "clean-batch"])
def test_nothing_written_under_home_xdg_or_tmp(runs: list[Run], name: str) -> None:
    run = next(r for r in runs if r.name == name)
    for variable, folder in run.folders().items():
        assert _leftovers(folder) == [], f"{name} wrote under {variable}"


@pytest.mark.parametrize("name", ["scan-one", "check-one", "clean-one", "scan-batch", "check-batch", "clean-batch"])
def test_working_folder_holds_only_inputs_and_outputs(runs: list[Run], name: str) -> None:
    run = next(r for r in runs if r.name == name)
    assert _leftovers(run.work) == sorted([*run.inputs, *run.outputs])


@pytest.mark.skipif(STRACE is None, reason="strace is not installed (.ci/run installs it)")
@pytest.mark.parametrize("name", ["scan-one", "check-one", "clean-one", "scan-batch", "check-batch", "clean-batch"])
def test_no_internet_socket(runs: list[Run], name: str) -> None:
    run = next(r for r in runs if r.name == name)
    log = (run.root / "strace.log").read_text(errors="replace")
    assert "execve" not in log  # only the traced calls are logged
    bad = [line for line in log.splitlines() if _NETWORK.search(line)]
    assert bad == [], f"{name} used an internet socket:\n" + "\n".join(bad[:5])


@pytest.mark.skipif(STRACE is None, reason="strace is not installed (.ci/run installs it)")
def test_strace_sees_an_internet_socket() -> None:
    """The check above can fail: a process that resolves a name is caught."""
    script = (
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\nexcept OSError:\n    pass\n"
    )
    done = subprocess.run(
        [STRACE, "-f", "-qq", "-e", "trace=socket,connect", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
    )
    assert any(_NETWORK.search(line) for line in done.stderr.splitlines())


def test_onnxruntime_imported_before_redact_is_refused(tmp_path: Path) -> None:
    """Telemetry set up before redact could turn it off: no model is loaded."""
    script = (
        "import onnxruntime\nimport redact.detect.onnx as o\nfrom redact.errors import MissingDependencyError\n"
        "try:\n    o.session(b'', 1, 'test')\nexcept MissingDependencyError as e:\n    print('refused:', e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False)
    assert "refused:" in done.stdout and "telemetry" in done.stdout


def test_environment_is_forced_in_every_process() -> None:
    script = "import redact, os\nprint(os.environ['ORT_DISABLE_TELEMETRY'], os.environ['OPENCV_OPENCL_RUNTIME'])"
    env = {**os.environ, "ORT_DISABLE_TELEMETRY": "0"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split() == ["1", "disabled"]


def test_a_video_path_that_reads_as_a_url_opens_no_socket(tmp_path: Path) -> None:
    """FFmpeg takes ``tcp:HOST:PORT/x.mp4`` as a network address unless told it is a file."""
    from redact.errors import InputError
    from redact.media.video import VideoReader

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(3)
    port = listener.getsockname()[1]
    folder = tmp_path / f"tcp:127.0.0.1:{port}"
    folder.mkdir()
    clip = folder / "x.mp4"
    clip.write_bytes(b"\0\0\0\x18ftypisom" + b"\0" * 64)
    accepted: list[object] = []

    def accept() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        accepted.append(True)
        conn.close()  # EOF: the reader fails at once instead of waiting for data

    thread = threading.Thread(target=accept)
    thread.start()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(InputError):  # a damaged local file, read as a file
            VideoReader(Path(folder.name) / "x.mp4")
    finally:
        os.chdir(cwd)
        thread.join()
        listener.close()
    assert accepted == []
