"""Barcodes and 2-D codes: find them, decode them with zxing-cpp, report, never keep the payload.

Wristbands, specimen labels and medication labels carry a patient's MRN or name in
Code 128, Code 39, PDF417, DataMatrix, QR or Aztec codes.  Every code found is covered
with a solid fill, whether or not it decodes.

Stages (all on a grey copy of the image):

1. **search pass** -- zxing-cpp with every effort (rotations, inverted codes, its own
   down-scaled pyramid) on the image scaled to ``Settings.barcode_max_side``;
2. **full-resolution pass** -- for larger photos (``Settings.barcode_full_res``): zxing at
   full size without its slow options, for codes too small for the search pass;
3. **locate** -- :mod:`redact.detect.code_locate` finds code-like regions without
   decoding (blurred, damaged, partial, steeply rotated codes) on the scaled-down image,
   and, for larger images, 1-D codes with bars a pixel or two wide at full resolution
   (:func:`~redact.detect.code_locate.locate_fine`: they vanish when scaled down); each region not already
   decoded is judged on the full-resolution colour image (:func:`~redact.detect.code_locate.looks_printed`:
   one grid-aligned, black-on-light printed object, not hair, skin or wood), and each one
   that passes is cut out, turned upright and given one more decode attempt, and is
   reported whatever the result.

Every zxing failure raises :class:`~redact.errors.AnalysisError` (the file is unsafe); an
empty list always means "looked everywhere, found nothing".

Finding scheme (kind ``barcode``; the payload itself is never stored, logged, hashed or put
in an exception message -- it is only inspected, in memory, by :func:`looks_like_id`):

* ``label`` -- what the payload is, as far as redact can tell:

  - ``BARCODE_ID``: decoded, and the payload looks like a patient/specimen/record
    identifier (an MRN-like token, an HL7 ``PID`` segment, ``MRN``/``DOB``... keys);
  - ``BARCODE``: decoded, and it does not (a poster's URL, a product's EAN/GTIN);
  - ``BARCODE_UNREAD``: found but not decoded -- treat as possibly identifying.

* ``source`` -- ``"<stage>:<SYMBOLOGY>"``: ``zxing:CODE128``, ``zxing:QRCODE``,
  ``zxing:DATAMATRIX``, ``zxing:PDF417``, ``zxing:AZTEC``, ``zxing:EAN13`` ... (symbology
  names are zxing's, upper-cased, non-alphanumerics dropped); ``locate:LINEAR`` or
  ``locate:MATRIX`` for codes whose symbology is unknown.  :func:`symbology` reads it back.
* ``polygon`` -- the code's quadrilateral grown by ``Settings.barcode_padding`` (quiet
  zone, position error); 1-D codes whose decoder reported only a scan line are grown
  across the bars too.  ``box`` encloses the polygon (it may extend past the image;
  the policy clips it).
* ``confidence`` -- 1.0 decoded; 0.8 read with a checksum/format error; the locator's
  score (< 0.8) otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from redact.config import Settings
from redact.cores import thread_budget
from redact.detect.base import Detector, RGBImage, register
from redact.detect.code_locate import Candidate, GrayImage, LocateTuning, Quad, locate, locate_fine, looks_printed
from redact.errors import AnalysisError, MissingDependencyError
from redact.types import Box, Finding, Kind

LABEL_ID = "BARCODE_ID"
LABEL_OTHER = "BARCODE"
LABEL_UNREAD = "BARCODE_UNREAD"

#: Symbologies of retail products (GTINs), never a patient identifier.
_PRODUCT_CODES = frozenset({"EAN13", "EAN8", "UPCA", "UPCE", "ISBN", "EAN2", "EAN5", "ITF14"})
#: Symbologies zxing outlines fully; the others (1-D) may be reported as a scan line.
_MATRIX_CODES = frozenset({"QRCODE", "MICROQRCODE", "RMQRCODE", "DATAMATRIX", "AZTEC", "MAXICODE", "PDF417"})
_ID_KEYS = re.compile(
    r"(?<![A-Z])(MRN|MR#|PID|PATIENT|PAT ?ID|DOB|NHS|HOSP|ACC(?:ESSION)?|SPECIMEN|ENCOUNTER|VISIT|CSN|FIN|SSN)(?![A-Z])"
)
_ID_TOKEN = re.compile(r"[A-Z0-9]+(?:[-/.:_ ]?[A-Z0-9]+)*")
_URL_ID = re.compile(
    r"[?&;](?:MRN|PID|PATIENT|PATIENT_?ID|PAT_?ID|DOB|NHS|ACC|ACCESSION|SPECIMEN|ENCOUNTER|CSN|FIN|SSN)=|/PATIENTS?/\w"
)
_URL = re.compile(r"^(?:[A-Z][A-Z0-9+.-]*://|WWW\.)")

#: Locator regions get a full-resolution decode attempt, up to this many per image.
_MAX_CROP_DECODES = 24
#: Crops are scaled down to at most this side before decoding.
_MAX_CROP_SIDE = 1024
#: Reads with errors whose outline has a side shorter than this (pixels) are noise.
_MIN_ERROR_SIDE = 32.0
#: A located region this much inside a read's cover adds nothing (less: it is kept, so the part
#: of the code the read's outline missed is covered too).
_INSIDE = 0.95
#: ... and one at least this much inside is that code (not a second one beside it).
_SAME_CODE = 0.5


def symbology(finding: Finding) -> str:
    """The symbology part of a barcode finding's ``source`` (``"LINEAR"``/``"MATRIX"`` if unknown)."""
    return finding.source.partition(":")[2] or "UNKNOWN"


def looks_like_id(text: str, symbology_name: str = "", gs1: bool = False) -> bool:
    """True when a decoded payload looks like an identifier of a patient, specimen or record.

    Product codes (EAN/UPC, GS1 element strings without a GSRN) are not; URLs only when they
    carry an ID-like key or a long digit run.  The text is inspected, never kept.
    """
    if symbology_name in _PRODUCT_CODES:
        return False
    upper = text.strip().upper()
    if not upper:
        return False
    if gs1:
        return "(8018)" in upper or upper.startswith("8018")
    if _URL.match(upper):
        # A link is an ID only when it carries one: ?mrn=..., /patient/..., a long number.
        return _URL_ID.search(upper) is not None or re.search(r"\d{6,}", upper) is not None
    if _ID_KEYS.search(upper):
        return True
    if re.search(r"\d{6,}", upper):
        return True
    compact = upper.replace("^", " ").replace("|", " ").strip()
    return (
        4 <= len(compact) <= 40
        and _ID_TOKEN.fullmatch(compact) is not None
        and sum(ch.isdigit() for ch in compact) >= 4
    )


@dataclass(frozen=True, slots=True)
class _Hit:
    """One code found: its outline (full-resolution pixels) and what may be said about it."""

    quad: Quad
    label: str
    source: str
    confidence: float
    linear: bool
    #: A located region that is mostly a code already read (its full extent): covered, not
    #: decoded again.
    extent: bool = False

    @property
    def box(self) -> Box:
        return Box(*self.quad.min(axis=0), *self.quad.max(axis=0))


@register("barcodes")
class BarcodeDetector(Detector):
    """Finds, decodes (in memory) and outlines every barcode and 2-D code in an image."""

    name = "barcodes"
    kind = Kind.BARCODE

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._zx = _import_zxing()

    def detect(self, image: RGBImage) -> list[Finding]:
        """Every code in ``image`` (RGB uint8), decoded or not; see the module docstring."""
        gray = _gray(image)
        small, scale = _scaled(gray, self.settings.barcode_max_side)
        fine_bars = max(gray.shape) > LocateTuning().max_side
        # zxing releases the GIL: with a thread budget of two or more, its full-resolution
        # pass (for large images) runs on a second thread while the scaled-down pass and the
        # decode-free locators run here; with one, after them.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="redact-zxing") as pool:
            full_res = pool.submit(self._full_res_pass, gray, scale) if thread_budget() > 1 else None
            hits = _read(self._zx, small, scale, thorough=True)
            located = [replace(c, quad=c.quad / scale) for c in _guard(lambda: locate(small))]
            # The texture test above ran scaled down, blind to bars a pixel or two wide.
            fine = _guard(lambda: locate_fine(gray)) if fine_bars else []
            hits += full_res.result() if full_res is not None else self._full_res_pass(gray, scale)
        hits += self._judged(image, located, hits)
        hits += self._judged(image, self._fine(fine, hits), hits)
        hits = self._retry_unread(gray, hits)
        return [_finding(h, self.settings.barcode_padding) for h in _dedupe(hits)]

    def verify(self, covered: RGBImage, findings: Sequence[Finding]) -> list[Finding]:
        """Self-check after covering: codes that still decode (see :func:`verify_no_codes`)."""
        if not any(f.kind is Kind.BARCODE for f in findings):
            # Nothing was covered as a code, and detect() found every code that decodes.
            return []
        return verify_no_codes(covered, self.settings)

    def _judged(self, image: RGBImage, candidates: list[Candidate], hits: list[_Hit]) -> list[_Hit]:
        """The located ``candidates`` (full-resolution pixels) that are new and look printed."""
        out: list[_Hit] = []
        for cand in candidates:
            hit = _Hit(cand.quad, LABEL_UNREAD, f"locate:{cand.shape}", min(0.79, cand.score), cand.shape == "LINEAR")
            inside = _inside_fraction(cand.quad, hits)
            if inside >= _INSIDE:
                continue
            if inside >= _SAME_CODE:
                # Mostly on a code already read, whose outline missed part of it: cover all.
                out.append(replace(hit, extent=True))
                continue
            # Judged at full resolution, in colour: hair, skin, wood and foliage pass the
            # texture test but are not one printed, black-on-light, grid-aligned object.
            if not _guard(lambda q=cand.quad: looks_printed(image, q)):
                continue
            out.append(hit)
        return out

    def _fine(self, candidates: list[Candidate], hits: list[_Hit]) -> list[Candidate]:
        """Fine-bar regions (:func:`locate_fine`) not mostly on the cover of one of ``hits``.

        Such a region is that code, already decoded or located (and covered): dropping it
        saves its checks and a second crop decode.  Covers, not outlines, are compared: a
        1-D read's outline is a scan line.
        """
        padding = self.settings.barcode_padding
        return [c for c in candidates if _inside_fraction(c.quad, hits, padding, located=True) < _INSIDE]

    def _full_res_pass(self, gray: GrayImage, scale: float) -> list[_Hit]:
        """The full-resolution decode pass, for images the search pass saw scaled down.

        Small codes (thin bars, 2-D codes of a few pixels per module) vanish when scaled
        down.  Upright/sideways only: rotated codes come from the locator.
        """
        if scale < 1.0 and self.settings.barcode_full_res:
            return _read(self._zx, gray, 1.0, thorough=False)
        return []

    def _retry_unread(self, gray: GrayImage, hits: list[_Hit]) -> list[_Hit]:
        """Give each located-but-unread region one full-resolution decode attempt.

        The attempts run on up to two threads, within the thread budget (zxing and OpenCV
        release the GIL); the result keeps the order of ``hits``.
        """
        unread = [
            i for i, h in enumerate(hits) if h.label == LABEL_UNREAD and h.source.startswith("locate:") and not h.extent
        ]
        unread = unread[:_MAX_CROP_DECODES]
        if not unread:
            return hits
        threads = max(1, min(2, thread_budget(), len(unread)))
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="redact-zxing") as pool:
            reads = dict(zip(unread, pool.map(lambda i: _read_crop(self._zx, gray, hits[i].quad), unread), strict=True))
        out: list[_Hit] = []
        for i, hit in enumerate(hits):
            decoded = reads.get(i)
            if decoded is None:
                out.append(hit)
                continue
            out.extend(decoded)
            # The located outline stays too: a decode may cover only part of the region.
            if _inside_fraction(hit.quad, decoded) < _INSIDE:
                out.append(hit)
        return out


def verify_no_codes(image: RGBImage, settings: Settings | None = None) -> list[Finding]:
    """Codes that zxing can still read in ``image`` (e.g. after redaction); empty means none.

    Runs the detector's search pass, plus a thorough full-resolution pass for larger images
    (no decode-free locating), and reports symbols that decode without error: a solid fill
    can itself look like a damaged DataMatrix corner to zxing, so error-reads are ignored.
    Raises :class:`~redact.errors.AnalysisError` when the decoder fails.
    """
    settings = settings or Settings()
    zx = _import_zxing()
    gray = _gray(image)
    small, scale = _scaled(gray, settings.barcode_max_side)
    hits = list(_read(zx, small, scale, thorough=True, valid_only=True))
    if scale < 1.0:
        hits.extend(_read(zx, gray, 1.0, thorough=True, valid_only=True))
    return [_finding(h, settings.barcode_padding) for h in _dedupe(hits)]


# --------------------------------------------------------------------------- decoding


def _import_zxing() -> Any:
    try:
        import zxingcpp
    except ImportError:
        raise MissingDependencyError(
            "the barcode stage needs the 'zxing-cpp' package (pip install zxing-cpp)"
        ) from None
    return zxingcpp


def _guard(call: Any) -> Any:
    """Run ``call()``; any exception becomes an AnalysisError naming only its type (no payload)."""
    try:
        return call()
    except AnalysisError:
        raise
    except Exception as exc:  # zxing/OpenCV failures of any type: the file is not analysed
        raise AnalysisError(f"barcode stage failed ({type(exc).__name__})") from None


def _read(
    zx: Any, gray: GrayImage, scale: float, *, thorough: bool, linear_only: bool = False, valid_only: bool = False
) -> list[_Hit]:
    """Decode every symbol in ``gray`` (which is the image scaled by ``scale``)."""

    def run() -> list[_Hit]:
        extra = {"formats": zx.BarcodeFormat.LinearCodes} if linear_only else {}
        results = zx.read_barcodes(
            np.ascontiguousarray(gray),
            **extra,
            try_rotate=thorough,
            try_downscale=thorough,
            try_invert=thorough,
            return_errors=True,
        )
        return [_hit(zx, r, scale, (0.0, 0.0)) for r in results if _plausible(r, valid_only)]

    hits: list[_Hit] = _guard(run)
    return hits


def _plausible(result: Any, valid_only: bool) -> bool:
    """Keep valid reads; keep reads with errors (damaged codes) unless tiny or ``valid_only``.

    zxing's DataMatrix detector reports checksum-failing "symbols" a few modules wide in
    sensor noise; a real damaged code is larger than ``_MIN_ERROR_SIDE`` pixels.
    """
    if result.valid:
        return True
    if valid_only:
        return False
    pos = result.position
    pts = np.array([[p.x, p.y] for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)], float)
    sides = np.hypot(*(np.roll(pts, -1, axis=0) - pts).T)
    return float(sides.min()) >= _MIN_ERROR_SIDE


def _read_crop(zx: Any, gray: GrayImage, quad: Quad) -> list[_Hit]:
    """Decode inside ``quad`` (full-resolution pixels), cut out with a margin and set upright.

    zxing's 1-D readers need a scan line that crosses every bar, which a steeply rotated
    code does not offer; the crop is rotated so the region's longer side is horizontal.
    """
    h, w = gray.shape
    box = Box(*quad.min(axis=0), *quad.max(axis=0))
    grown = box.pad(0.25).pixel_bounds(w, h)
    if grown is None:
        return []
    x0, y0, x1, y1 = grown
    crop = np.ascontiguousarray(gray[y0:y1, x0:x1])
    crop, scale = _scaled(crop, _MAX_CROP_SIDE)
    if min(crop.shape) < 8:
        return []
    edge = quad[1] - quad[0] if np.hypot(*(quad[1] - quad[0])) >= np.hypot(*(quad[3] - quad[0])) else quad[3] - quad[0]
    angle = float(np.degrees(np.arctan2(edge[1], edge[0])))
    ch, cw = crop.shape
    # Rotate about the centre into a canvas large enough for the whole crop.
    m = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, 1.0)
    side = int(np.ceil(np.hypot(cw, ch)))
    m[:, 2] += ((side - cw) / 2, (side - ch) / 2)
    upright = np.asarray(cv2.warpAffine(crop, m, (side, side), flags=cv2.INTER_LINEAR, borderValue=255), np.uint8)
    back = cv2.invertAffineTransform(m)

    def run() -> list[_Hit]:
        results = zx.read_barcodes(upright, return_errors=True)
        hits = []
        for r in results:
            # Valid reads only: the located outline already covers the region, and error
            # reads in a crop of texture are mostly DataMatrix noise with a large outline.
            if not _plausible(r, valid_only=True):
                continue
            hit = _hit(zx, r, 1.0, (0.0, 0.0))
            pts = cv2.transform(hit.quad[None], back)[0] / scale + (x0, y0)
            hits.append(_Hit(np.asarray(pts, np.float64), hit.label, hit.source, hit.confidence, hit.linear))
        return hits

    hits: list[_Hit] = _guard(run)
    return hits


def _hit(zx: Any, result: Any, scale: float, offset: tuple[float, float]) -> _Hit:
    """A zxing result as a :class:`_Hit`; the payload is classified here and dropped."""
    name = re.sub(r"[^A-Z0-9]", "", str(result.format).upper()) or "UNKNOWN"
    pos = result.position
    quad = np.array([[p.x, p.y] for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)], np.float64)
    quad = quad / scale + np.asarray(offset)
    linear = name not in _MATRIX_CODES
    if result.error is not None and not result.valid:
        return _Hit(quad, LABEL_UNREAD, f"zxing:{name}", 0.8, linear)
    gs1 = result.content_type == zx.ContentType.GS1
    label = LABEL_ID if looks_like_id(result.text, name, gs1) else LABEL_OTHER
    return _Hit(quad, label, f"zxing:{name}", 1.0, linear)


# --------------------------------------------------------------------------- geometry


def _gray(image: RGBImage) -> GrayImage:
    def run() -> GrayImage:
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError("expected a uint8 H x W (x C) image")
        if image.ndim == 2:
            return image
        if image.shape[2] == 4:
            return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY), np.uint8)
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), np.uint8)

    gray: GrayImage = _guard(run)
    return gray


def _scaled(gray: GrayImage, max_side: int) -> tuple[GrayImage, float]:
    """``gray`` shrunk so its longer side is at most ``max_side``, and the factor used.

    Area averaging throughout (thin bars must blend, not alias); exact halvings first,
    which OpenCV does several times faster than one arbitrary-factor area resize.
    """
    h, w = gray.shape
    scale = min(1.0, max_side / max(h, w, 1))
    if scale == 1.0:
        return gray, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = gray
    while small.shape[1] >= 2 * size[0] and small.shape[0] >= 2 * size[1]:
        half = (small.shape[1] // 2, small.shape[0] // 2)
        small = np.asarray(
            cv2.resize(small[: half[1] * 2, : half[0] * 2], half, interpolation=cv2.INTER_AREA), np.uint8
        )
    if small.shape[1] != size[0] or small.shape[0] != size[1]:
        small = np.asarray(cv2.resize(small, size, interpolation=cv2.INTER_AREA), np.uint8)
    return small, size[0] / w


def _padded(quad: Quad, padding: float, linear: bool) -> Quad:
    """``quad`` (clockwise from the code's top-left) grown along its own axes.

    Every side moves out by ``padding`` x the shorter side; a 1-D code reported as a thin
    scan line grows across the bars to at least half its length (bars are taller than a
    line), and along them by at least 8% of its length (quiet zones).
    """
    p0, p1, p2, p3 = quad
    u = ((p1 - p0) + (p2 - p3)) / 2  # along the code (left -> right)
    v = ((p3 - p0) + (p2 - p1)) / 2  # across it (top -> bottom)
    lu, lv = float(np.hypot(*u)), float(np.hypot(*v))
    # Degenerate outlines (a scan line, a point) still get a proper frame.
    if lu > 1e-6 and lv > 1e-6:
        uh, vh = u / lu, v / lv
    elif lu > 1e-6:
        uh = u / lu
        vh = np.array([-uh[1], uh[0]])
    elif lv > 1e-6:
        vh = v / lv
        uh = np.array([vh[1], -vh[0]])
    else:
        uh, vh = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    du = dv = padding * max(min(lu, lv), 4.0)
    if linear:
        du = max(du, 0.08 * lu)
        if lv < 0.5 * lu:
            dv = max(dv, (0.5 * lu - lv) / 2 + padding * lv)
    return np.array([p0 - du * uh - dv * vh, p1 + du * uh - dv * vh, p2 + du * uh + dv * vh, p3 - du * uh + dv * vh])


def _inside_fraction(quad: Quad, hits: Iterable[_Hit], padding: float = 0.15, located: bool = False) -> float:
    """The largest fraction of ``quad`` inside the outline, padded by ``padding``, of one of ``hits``.

    Only reads count unless ``located`` (then located regions too).  Outlines, not their
    bounding boxes: a rotated code's box also holds what lies beside it (another code, or
    a huge bogus read's box holding a real code).
    """
    area = _area(quad)
    best = 0.0
    for h in hits:
        if not located and h.label == LABEL_UNREAD and h.source.startswith("locate:"):
            continue
        best = max(best, _overlap(quad, _padded(h.quad, padding, h.linear)) / area)
    return best


def _area(quad: Quad) -> float:
    return max(float(cv2.contourArea(cv2.convexHull(quad.astype(np.float32)))), 1e-6)


def _overlap(a: Quad, b: Quad) -> float:
    """Area shared by the convex hulls of ``a`` and ``b``."""
    hull_a, hull_b = (cv2.convexHull(q.astype(np.float32)) for q in (a, b))
    shared, _ = cv2.intersectConvexConvex(hull_a, hull_b)
    return float(shared)


def _dedupe(hits: list[_Hit]) -> list[_Hit]:
    """Drop repeats of one code seen by several passes, keeping the best reading.

    Decoded beats read-with-error beats located; an ID label wins over a non-ID one.
    Distinct codes never merge (they overlap little), so none is dropped.
    """
    rank = {LABEL_ID: 0, LABEL_OTHER: 1, LABEL_UNREAD: 2}
    ordered = sorted(hits, key=lambda h: (rank[h.label], -h.confidence, -h.box.area))
    kept: list[_Hit] = []
    for hit in ordered:
        dup = next((k for k in kept if k.box.iou(hit.box) > 0.5), None)
        if dup is None:
            kept.append(hit)
        elif hit.box.area > dup.box.area * 1.2:
            # Same code, a larger outline (e.g. full bars vs a scan line): cover both.
            kept.append(hit)
    return kept


def _finding(hit: _Hit, padding: float) -> Finding:
    # The outline of a code that was not read (a damaged read, a located texture) is less
    # sure than a decoded one: it gets twice the padding.
    quad = _padded(hit.quad, 2 * padding if hit.label == LABEL_UNREAD else padding, hit.linear)
    polygon = tuple((float(x), float(y)) for x, y in quad)
    box = Box(float(quad[:, 0].min()), float(quad[:, 1].min()), float(quad[:, 0].max()), float(quad[:, 1].max()))
    return Finding(
        kind=Kind.BARCODE,
        box=box,
        confidence=hit.confidence,
        source=hit.source,
        label=hit.label,
        polygon=polygon,
    )


__all__ = [
    "LABEL_ID",
    "LABEL_OTHER",
    "LABEL_UNREAD",
    "BarcodeDetector",
    "looks_like_id",
    "symbology",
    "verify_no_codes",
]
