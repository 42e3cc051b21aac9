"""The ``text`` detector: regions -> rectified crops -> OCR (two engines) -> PHI decisions.

``detect`` returns, in ``text_mode = "phi"`` (the default), only lines judged PHI, each
as a :class:`~redact.types.Finding` whose label is the entity ("NAME", "DOB", "MRN",
"UNCERTAIN", "DENY_LIST"...); harmless text is *not returned*.  In ``text_mode = "all"``
every region is returned, harmless ones labelled ``"TEXT"``.  The polygon is the
region's rotated rectangle grown by :data:`PAD` of its line height on every side.

:meth:`TextDetector.verify` is the self-check to run on the covered output.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import cv2
import numpy as np

from redact import models
from redact.config import Settings, TextMode
from redact.detect.base import Detection, Detector, RGBImage, register
from redact.detect.text import layout, tiles
from redact.detect.text.layout import Line
from redact.detect.text.ocr import Engine, PaddleEngine, Reading, TesseractEngine, find_tesseract, read_with_timeout
from redact.detect.text.recognise import prepare
from redact.detect.text.regions import Region, RegionDetector
from redact.errors import AnalysisError, MissingDependencyError
from redact.types import Box, Finding, Kind

#: Padding of every covered line, as a fraction of its (detected) line height.
PAD = 0.25
#: Flag code that escalates an image to ``text_mode = "all"`` (set by a later issue).
PATIENT_RECORD_FLAG = "patient_record"
#: Lines read below this confidence get a second engine's reading.
SECOND_OPINION_BELOW = 0.93
#: PHI lines less tall than this (pixels as the region detector saw them) are looked at again, closer.
ZOOM_BELOW = 24.0
#: Line height (image pixels, enlarged up to :data:`MAX_ZOOM` x) that second look aims for.
ZOOM_HEIGHT = 32.0
MAX_ZOOM = 2.0


def _reads_as_text(line: Line) -> bool:
    """Whether some engine read at least two letters/digits with confidence >= 0.5.

    The region detector also fires on brick, grass and shape edges with scores as high as
    real text's; in ``all`` mode only regions that read as text are covered.
    """
    return any(r.confidence >= 0.5 and sum(ch.isalnum() for ch in r.text) >= 2 for r in line.readings)


def _steep(region: Region) -> bool:
    """Whether a line runs closer to vertical than horizontal."""
    (x0, y0), (x1, y1) = region.corners[0], region.corners[1]
    return abs(x1 - x0) < abs(y1 - y0)


def _doubtful(readings: Sequence[Reading]) -> bool:
    """Whether a line deserves another engine's reading."""
    best = max(readings, key=lambda r: r.confidence)
    return best.confidence < SECOND_OPINION_BELOW or sum(ch.isalnum() for ch in best.text) < 3


def effective_mode(settings: Settings, flag_codes: Sequence[str] = ()) -> TextMode:
    """Return the text mode for one image: ``all`` when it is flagged as a patient record."""
    return TextMode.ALL if PATIENT_RECORD_FLAG in flag_codes else settings.text_mode


class TextDetector(Detector):
    """Finds text PHI.  ``engines`` and ``regions`` may be injected (tests, benchmarks)."""

    name = "text"
    kind = Kind.TEXT

    def __init__(
        self,
        settings: Settings,
        engines: Sequence[Engine] | None = None,
        regions: RegionDetector | None = None,
    ) -> None:
        self.settings = settings
        self.regions = regions or RegionDetector(models.model_path("ppocr_det"), max_side=settings.text_max_side)
        if engines is None:
            try:
                import pytesseract  # noqa: F401  (checked here so a missing module is exit 4)
            except ImportError:
                raise MissingDependencyError("pytesseract not installed: pip install pytesseract") from None
            engines = [
                TesseractEngine(find_tesseract(), timeout_s=settings.ocr_timeout_s),
                PaddleEngine(models.model_path("ppocr_rec")),
            ]
        self.engines = list(engines)
        # Fail early (exit 4) rather than on the first image; load vocabularies once here.
        from redact.detect.text.phi import warm

        warm()

    def close(self) -> None:
        """Stop helper processes (the pre-started Tesseract); the detector is unusable after."""
        for engine in self.engines:
            close = getattr(engine, "close", None)
            if callable(close):
                close()

    def read(self, image: RGBImage, found: list[Region], deadline: float | None = None) -> list[Line]:
        """OCR every region; all engine passes together must end by ``deadline``.

        ``deadline`` is a :func:`time.monotonic` instant (default: ``ocr_timeout_s`` from now).

        The first engine (Tesseract) reads every line; each further engine (PP-OCR)
        re-reads only the lines the engines before it found doubtful -- low confidence
        or almost no letters/digits -- which is where it raises recall (handwriting,
        glare, curved bands) without paying for it on clean print.
        """
        if deadline is None:
            deadline = time.monotonic() + self.settings.ocr_timeout_s
        crops = prepare(image, found)
        # Steep lines (a photo taken sideways) may read either way up: read both.
        steep = [i for i, r in enumerate(found) if _steep(r)]
        crops += [np.ascontiguousarray(crops[i][::-1, ::-1]) for i in steep]
        readings: list[list[Reading]] = [[] for _ in crops]
        todo = list(range(len(crops)))
        for engine in self.engines:
            if not todo:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise AnalysisError(f"OCR timed out after {self.settings.ocr_timeout_s:g} s")
            got = read_with_timeout(engine, [crops[i] for i in todo], left)
            for i, reading in zip(todo, got, strict=True):
                readings[i].append(reading)
            todo = [i for i in todo if _doubtful(readings[i])]
        regions = list(found)
        for k, i in enumerate(steep):
            flipped = readings[len(found) + k]
            if max(r.confidence for r in flipped) > max(r.confidence for r in readings[i]):
                # It reads the other way up: turn the region so its frame follows the reading.
                c = found[i].corners
                regions[i] = Region((c[2], c[3], c[0], c[1]), found[i].score)
            readings[i] += flipped
        return [Line(region, readings[i]) for i, region in enumerate(regions)]

    def analyse(self, image: RGBImage) -> list[Line]:
        """Every text line in ``image``, read and decided (harmless ones have ``label=None``)."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise AnalysisError("text detector needs an RGB uint8 image")
        deadline = time.monotonic() + self.settings.ocr_timeout_s
        found = self._regions_in(image)
        if not found:
            return []
        lines = self.read(image, found, deadline)
        layout.decide(lines, self.settings.text_allow, self.settings.text_deny)
        self.zoom(image, lines)
        return lines

    def _regions_in(self, image: RGBImage) -> list[Region]:
        """The region detector's text regions in ``image``; any failure fails the file."""
        try:
            if isinstance(self.regions, RegionDetector):
                return tiles.find(self.regions, image)
            return self.regions.detect(image)
        except (AnalysisError, MissingDependencyError):
            raise
        except Exception as exc:
            raise AnalysisError(f"text region detector failed ({type(exc).__name__})") from None

    def zoom(self, image: RGBImage, lines: Sequence[Line]) -> None:
        """Lengthen small PHI lines to what a second, closer look at their ends finds.

        The region detector sees the image scaled to ``text_max_side``; near its
        resolution limit a line's end can be lost ("Imelda A." found as "Imelda").  Around
        both ends of every PHI line under :data:`ZOOM_BELOW` pixels tall (as the detector
        saw it), regions are detected again at full resolution, enlarged so lines are about
        :data:`ZOOM_HEIGHT` pixels tall; one on the same row that overlaps the line and
        reaches further stretches it (see :func:`layout.lengthen`).
        """
        h, w = image.shape[:2]
        scale = min(1.0, getattr(self.regions, "max_side", max(h, w)) / max(h, w))
        small = [line for line in lines if line.label is not None and line.region.height * scale < ZOOM_BELOW]
        if not small:
            return
        heights = sorted(line.region.height for line in small)
        zoom = float(np.clip(ZOOM_HEIGHT / max(heights[len(heights) // 2], 1.0), 1.0, MAX_ZOOM))
        boxes = [_end_box(line.region, end) for line in small for end in (0, 1)]
        for wx0, wy0, wx1, wy1 in _windows(boxes, 0.0, w, h):
            crop = np.ascontiguousarray(image[wy0:wy1, wx0:wx1, :3])
            if zoom > 1.0:
                crop = np.asarray(cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC), np.uint8)
            for region in self._regions_in(crop):
                back = Region(
                    tuple((x / zoom + wx0, y / zoom + wy0) for x, y in region.corners),  # type: ignore[arg-type]
                    region.score,
                )
                for line in small:
                    longer = layout.lengthen(line.region, back)
                    if longer is not None:
                        line.region = longer

    def findings(self, lines: Sequence[Line], mode: TextMode) -> list[Finding]:
        """Turn decided lines into findings for ``mode`` (labels only, never text)."""
        out = []
        for line in lines:
            label = line.label or ("TEXT" if mode is TextMode.ALL and _reads_as_text(line) else None)
            if label is None:
                continue
            polygon = line.region.padded(PAD)
            xs = [p[0] for p in polygon]
            ys = [p[1] for p in polygon]
            out.append(
                Finding(
                    kind=Kind.TEXT,
                    box=Box(min(xs), min(ys), max(xs), max(ys)),
                    confidence=float(min(1.0, max(line.score, line.region.score if label == "TEXT" else 0.0))),
                    source=self.name,
                    label=label,
                    polygon=polygon,
                )
            )
        return out

    def detect(self, image: RGBImage) -> list[Finding]:
        """Findings to cover in ``image`` under the configured text mode."""
        return self.findings(self.analyse(image), self.settings.text_mode)

    def examine(self, image: RGBImage) -> Detection:
        """:meth:`detect`'s findings, the record evidence, and every line to cover on a record.

        The evidence is :func:`layout.evidence`'s counts as tokens ("label:MRN", "entity:NAME",
        "clinical", "mrz"...; never text).  On a record, text that could not be read but
        lies on the record's surface is covered too (:func:`layout.cover_surface`).
        """
        lines = self.analyse(image)
        mode = self.settings.text_mode
        found = self.findings(lines, mode)
        evidence = tuple(layout.evidence(lines).elements())
        layout.cover_surface(lines)
        return Detection(found, field_labels=evidence, on_record=self.findings(lines, TextMode.ALL))

    def verify(self, output: RGBImage, findings: Sequence[Finding], margin: float = 1.5) -> list[Finding]:
        """Self-check after covering: PHI still readable in or next to the covered regions.

        Re-runs detection and OCR on the covered output around every text finding (a
        window grown by ``margin`` line heights) and returns findings for lines that are
        still PHI by their own text and overlap a covered box.  Empty means the covering held.
        The caller covers what is returned, or marks the file unsafe.
        """
        text = [f for f in findings if f.kind is Kind.TEXT]
        h, w = output.shape[:2]
        leaks: list[Finding] = []
        for window in _windows([f.box for f in text], margin, w, h):
            leaks += self._verify_window(output, window, [f.box for f in text])
        return leaks

    def _verify_window(self, output: RGBImage, window: tuple[int, int, int, int], boxes: list[Box]) -> list[Finding]:
        wx0, wy0, wx1, wy1 = window
        crop = np.ascontiguousarray(output[wy0:wy1, wx0:wx1, :3])
        covered = [Box(b.x0 - wx0, b.y0 - wy0, b.x1 - wx0, b.y1 - wy0) for b in boxes]
        try:
            found = self.regions.detect(crop)
        except Exception as exc:
            raise AnalysisError(f"text self-check failed ({type(exc).__name__})") from None
        # Only text that overlaps a cover can be a leak; the rest was judged already.
        suspects = [r for r in found if any(_overlap(r, c) >= 0.15 for c in covered)]
        if not suspects:
            return []
        lines = self.read(crop, suspects)
        layout.decide(lines, self.settings.text_allow, self.settings.text_deny)
        leaks = []
        for finding in self.findings([line for line in lines if line.pattern_phi], TextMode.PHI):
            polygon = tuple((x + wx0, y + wy0) for x, y in finding.polygon or ())
            moved = Box(finding.box.x0 + wx0, finding.box.y0 + wy0, finding.box.x1 + wx0, finding.box.y1 + wy0)
            leaks.append(Finding(Kind.TEXT, moved, finding.confidence, "text-verify", finding.label, polygon or None))
        return leaks


def _end_box(region: Region, end: int, reach: float = 1.5) -> Box:
    """A square ``2 * reach`` line heights wide around the start (``end=0``) or end (``1``) of a line."""
    c = region.corners
    (x0, y0), (x1, y1) = (c[0], c[3]) if end == 0 else (c[1], c[2])
    r = reach * region.height
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return Box(cx - r, cy - r, cx + r, cy + r)


def _windows(boxes: list[Box], margin: float, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Each box grown by ``margin`` of its height, overlapping ones merged, clipped to the image."""
    grown = [b.pad(margin * b.height / max(b.width, 1.0), margin) for b in boxes]
    merged: list[Box] = []
    for box in sorted(grown, key=lambda b: (b.y0, b.x0)):
        for i, other in enumerate(merged):
            if box.intersection(other) > 0:
                merged[i] = Box(
                    min(box.x0, other.x0), min(box.y0, other.y0), max(box.x1, other.x1), max(box.y1, other.y1)
                )
                break
        else:
            merged.append(box)
    out = []
    for box in merged:
        bounds = box.pixel_bounds(width, height)
        if bounds is not None and bounds[2] - bounds[0] >= 8 and bounds[3] - bounds[1] >= 8:
            out.append(bounds)
    return out


def _overlap(region: Region, box: Box) -> float:
    """Fraction of ``region``'s bounding box inside ``box``."""
    xs = [p[0] for p in region.corners]
    ys = [p[1] for p in region.corners]
    own = Box(min(xs), min(ys), max(xs), max(ys))
    return own.intersection(box) / own.area if own.area > 0 else 0.0


@register("text")
def create_text_detector(settings: Settings) -> TextDetector:
    """Registry factory: ``redact.detect.create("text", settings)``."""
    return TextDetector(settings)
