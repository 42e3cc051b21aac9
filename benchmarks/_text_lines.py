"""Caches for the #16 text benchmark: reading-stage lines per image, and OCR of the originals.

* :class:`LineCache` keeps, per image, what the reading stage produced (regions and each
  engine's readings, *before* any PHI decision) and the barcode findings, pickled under
  ``/tmp/text-phi/lines/<fingerprint>/``.  The fingerprint hashes the reading stage's
  source files, so text-read's changes invalidate it.  ``classify`` then runs only the
  decision stages -- ``layout.decide``, the record judgement and its escalation -- through
  the real :class:`redact.analysis.Analyzer`, cheaply, for iterating on rules.
* :class:`Reader` is the "attacker": Tesseract and PP-OCR read each PHI item's crop; what
  they read in the *original* is cached per set.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import pickle
import re
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmarks._text_sets import Sample, Target
from redact.config import Settings
from redact.detect import Detector
from redact.detect.text import TextDetector
from redact.detect.text.layout import Line
from redact.detect.text.ocr import PaddleEngine, TesseractEngine, read_with_timeout
from redact.detect.text.recognise import normalise, rectify
from redact.detect.text.regions import Region, order_corners
from redact.models import model_path
from redact.types import Kind

#: Files whose change invalidates the cache (detector.py mixes reading and deciding: delete
#: the cache by hand when its reading part changes).
READING_STAGE = ("regions.py", "ocr.py", "recognise.py")


def poly_mask(shapes: list[list[tuple[float, float]]], shape: tuple[int, ...]) -> np.ndarray:
    """Union of polygons as a boolean mask of ``shape[:2]``."""
    mask = np.zeros(shape[:2], np.uint8)
    for poly in shapes:
        cv2.fillPoly(mask, [np.round(np.array(poly)).astype(np.int32)], 1)
    return mask.astype(bool)


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def chars_read(value: str, reading: str) -> float:
    """Share of ``value``'s letters/digits found in ``reading`` in order (best alignment)."""
    v, r = _alnum(value), _alnum(reading)
    if not v or not r:
        return 0.0
    blocks = difflib.SequenceMatcher(None, v, r, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks) / len(v)


def _crop_region(target: Target, pad: float = 4.0) -> Region:
    pts = np.array([p for poly in target.shapes for p in poly], np.float32)
    (cx, cy), (w, h), angle = cv2.minAreaRect(pts)
    grown = ((cx, cy), (w + 2 * pad, h + 2 * pad), angle)
    corners = order_corners(np.asarray(cv2.boxPoints(grown), np.float32))
    region = Region(corners, 1.0)
    if region.height > region.width * 1.5:  # a vertical word: read it turned
        c = region.corners
        region = Region((c[3], c[0], c[1], c[2]), 1.0)
    return region


class Reader:
    """Tesseract and PP-OCR on each PHI item's crop; originals' results cached per set."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        cache.mkdir(parents=True, exist_ok=True)
        self.engines = [TesseractEngine(), PaddleEngine(model_path("ppocr_rec"))]
        self.known: dict[str, dict[str, list[bool]]] = {}

    def readable(self, image: np.ndarray, targets: list[Target]) -> list[bool]:
        if not targets:
            return []
        crops = [normalise(rectify(image, _crop_region(t))) for t in targets]
        readings = [read_with_timeout(e, crops, 300) for e in self.engines]
        return [any(chars_read(t.text, r[i].text) >= 0.7 for r in readings) for i, t in enumerate(targets)]

    def _before(self, s: Sample, image: np.ndarray, targets: list[Target]) -> list[bool]:
        path = self.cache / f"{s.set}.json"
        known = self.known.setdefault(s.set, json.loads(path.read_text()) if path.is_file() else {})
        if s.name not in known:
            known[s.name] = self.readable(image, targets)
            path.write_text(json.dumps(known))
        return known[s.name]

    def still_readable(self, s: Sample, before: np.ndarray, after: np.ndarray) -> tuple[int, int]:
        """(PHI items readable in the original, of those still readable in the output)."""
        targets = [t for t in s.targets if t.phi and t.legible and len(_alnum(t.text)) >= 2]
        base = self._before(s, before, targets)
        todo = [t for t, ok in zip(targets, base, strict=True) if ok]
        if after is before or not todo:
            return len(todo), len(todo) if after is before else 0
        return len(todo), sum(self.readable(after, todo))


def _fingerprint() -> str:
    import redact.detect.text as pkg

    folder = Path(pkg.__file__).parent
    digest = hashlib.sha256()
    for name in READING_STAGE:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()[:12]


class _NoRegions:
    max_side = 10**9

    def detect(self, image: Any) -> list[Region]:
        return []


class _Cached(TextDetector):
    """A text detector whose reading stage is replayed from the cache."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, engines=[], regions=_NoRegions())  # type: ignore[arg-type]
        self.lines: list[Line] = []

    def analyse(self, image: Any) -> list[Line]:
        from redact.detect.text import layout

        lines = copy.deepcopy(self.lines)
        layout.decide(lines, self.settings.text_allow, self.settings.text_deny)
        return lines


class _Codes(Detector):
    """The barcode stage replayed from the cache."""

    name = "barcodes"
    kind = Kind.BARCODE

    def __init__(self) -> None:
        self.found: list[Any] = []

    def detect(self, image: Any) -> list[Any]:
        return list(self.found)


class LineCache:
    """Reading-stage lines and barcode findings per image, and cheap re-classification."""

    def __init__(self, root: Path) -> None:
        self.root = root / _fingerprint()
        self.root.mkdir(parents=True, exist_ok=True)
        self.settings = Settings()
        self._reader: TextDetector | None = None
        self._codes: Any = None
        self._analyzer: Any = None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    def has(self, s: Sample) -> bool:
        """Whether ``s``'s reading stage is cached."""
        return (self.root / s.set / f"{s.name}.pkl").is_file()

    def raw(self, s: Sample) -> tuple[list[Line], list[Any]]:
        """The reading stage's lines (undecided) and the barcode findings of ``s``."""
        path = self.root / s.set / f"{s.name}.pkl"
        if path.is_file():
            with path.open("rb") as fh:
                lines, codes = pickle.load(fh)
            # Fresh objects of today's Line class (the cache outlives changes to it).
            return [Line(ln.region, list(ln.readings)) for ln in lines], codes
        image = s.load()
        if self._reader is None:
            from redact import detect

            self._reader = TextDetector(self.settings)
            self._codes = detect.create("barcodes", self.settings)
        found = self._reader._regions_in(image)
        lines = self._reader.read(image, found) if found else []
        codes = self._codes.detect(image)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            pickle.dump((lines, codes), fh)
        return lines, codes

    def analyzer(self) -> tuple[Any, _Cached, _Codes]:
        if self._analyzer is None:
            from redact.analysis import Analyzer

            text, codes = _Cached(self.settings), _Codes()
            self._analyzer = (Analyzer(self.settings, [text, codes]), text, codes)
        return self._analyzer  # type: ignore[no-any-return]

    def decided(self, s: Sample) -> tuple[list[Any], bool, float]:
        """Findings and flag of the decision stages alone on ``s``'s cached lines; ms."""
        lines, codes = self.raw(s)
        analyzer, text, coder = self.analyzer()
        text.lines, coder.found = lines, codes
        started = time.perf_counter()
        analysis = analyzer.analyse(np.zeros((1, 1, 3), np.uint8), faces=False)
        ms = (time.perf_counter() - started) * 1000
        return analysis.findings, bool(analysis.flags), ms

    def classify(self, s: Sample, text_only: bool = False) -> tuple[np.ndarray, bool, float]:
        """(covered mask, flagged, ms) from the decision stages on cached lines.

        ``text_only`` paints only the text findings (codes' boxes left out).
        """
        findings, flagged, ms = self.decided(s)
        if text_only:
            findings = [f for f in findings if f.kind is Kind.TEXT]
        with_size = s.load().shape
        polys = [list(f.polygon) for f in findings if f.kind is Kind.TEXT and f.polygon]
        polys += [
            [(f.box.x0, f.box.y0), (f.box.x1, f.box.y0), (f.box.x1, f.box.y1), (f.box.x0, f.box.y1)]
            for f in findings
            if f.kind is not Kind.TEXT
        ]
        return poly_mask(polys, with_size), flagged, ms

    def why_missed(self, s: Sample, target: Target) -> str:
        """'not found', 'found, not read', 'read, not classified' or 'classified, cover short'."""
        lines, _ = self.raw(s)
        shape = (max(int(max(p[1] for poly in target.shapes for p in poly)) + 2, 2),)
        shape += (max(int(max(p[0] for poly in target.shapes for p in poly)) + 2, 2),)
        item = poly_mask(target.shapes, shape)
        area = max(int(item.sum()), 1)
        touching = [ln for ln in lines if (item & poly_mask([list(ln.region.corners)], shape)).sum() >= 0.2 * area]
        if not touching:
            return "not found"
        best = (
            max(chars_read(target.text, t) for ln in touching for t in ln.texts)
            if any(ln.texts for ln in touching)
            else 0.0
        )
        joined = " ".join(t for ln in touching for t in ln.texts[:1])
        best = max(best, chars_read(target.text, joined))
        if best < 0.7:
            return "found, not read"
        findings, _, _ = self.decided(s)
        polys = [list(f.polygon) for f in findings if f.kind is Kind.TEXT and f.polygon]
        if polys and (item & poly_mask(polys, shape)).sum() >= 0.2 * area:
            return "classified, cover short"
        return "read, not classified"
