"""Find barcodes and 2-D codes *without decoding them*.

The decoding stage (:mod:`redact.detect.barcodes`) only reports codes it can read; a
code that is blurred, damaged, tiny or half cut off still identifies a patient to anyone
with a better photo or a better reader.  This module localises code-like regions from
their appearance alone, so they are covered whether or not they decode:

* **linear** -- OpenCV's barcode *detector* (``cv2.barcode.BarcodeDetector.detect``),
  which finds 1-D bar patterns at any angle from gradient-orientation coherence and never
  needs the bars to be readable;
* **matrix** -- a texture test for QR / DataMatrix / Aztec / PDF417 (and bars): a region
  of high local contrast whose edges run along two perpendicular axes (a module grid has
  a strong four-fold gradient-orientation symmetry, natural texture has none) and that
  is roughly half dark, half light (a code's modules), unlike printed text (mostly
  background) or a flat surface;
* **fine** -- 1-D codes whose bars are a pixel or two wide, which blend into flat grey on
  the scaled-down image the other two search: found at full resolution from cheap
  neighbour-pixel steps that are strong across the bars and weak along them.

Recall comes first: a missed code exposes a patient.  But the texture test alone also
fires on hair, skin, wood grain and foliage, and a black box over a harmless photo (or over
a face, which deserves the face stage's blur) is a defect too.  So every region is then
judged on its own, cut out at full resolution and set upright (:func:`looks_printed`): a
code is *one* printed object -- its edges follow one pair of perpendicular axes across the
whole region (natural texture changes direction from place to place), its grey levels
split cleanly into ink and paper (blur turns bars into a sine, which still splits well),
the two differ strongly, and the ink is not a colour on a neutral ground.  A 2-D code
blurred past about a module has lost its edge directions; it must then sit in a light,
flat quiet zone instead.  Nothing here reads or keeps a payload.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

GrayImage = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float64]  # 4 x 2 corner points, clockwise


@dataclass(frozen=True, slots=True)
class Candidate:
    """A code-like region: its quadrilateral (image pixels), shape family and score in [0, 1]."""

    quad: Quad
    shape: str  # "LINEAR" or "MATRIX"
    score: float


@dataclass(frozen=True, slots=True)
class LocateTuning:
    """Thresholds of the texture test (defaults measured in benchmarks/barcodes.py)."""

    #: The texture test runs on an image whose longer side is at most this (speed).
    max_side: int = 1024
    #: Side of the square window (pixels at the test's scale) for local statistics.
    window: int = 15
    #: Minimum local standard deviation of grey levels (0-255) inside a code.
    min_std: float = 12.0
    #: Minimum four-fold orientation alignment (0 = isotropic texture, 1 = perfect grid).
    min_align: float = 0.3
    #: Minimum edge density: mean gradient magnitude over local standard deviation.  About
    #: ``4*sqrt(2)/period`` for stripes of ``period`` pixels whatever their blur; a lone
    #: object edge scores far lower.
    min_density: float = 0.3
    #: The test also runs at these further down-scalings (codes with large modules).
    octaves: tuple[float, ...] = (1.0, 0.5)
    #: Heavily blurred codes have edges too soft for ``min_density``: the first octave's
    #: maps are thresholded once more with this edge density, and those regions added to
    #: the others (blur merges a label's codes and text into one region, which must not
    #: replace the sharper, tighter ones).  None: no such regions.
    blur_density: float | None = 0.2
    #: An octave runs only if the image's shorter side is at least this many pixels there.
    min_octave_side: int = 240
    #: Regions larger than this fraction of the image are scenery, not a code.
    max_area: float = 0.1
    #: A region's dark fraction must lie in this range (codes are about half dark).
    dark_range: tuple[float, float] = (0.25, 0.75)
    #: Smallest region side, in pixels at the test's scale.
    min_side: int = 12
    #: Regions must fill at least this fraction of their rotated rectangle.
    min_fill: float = 0.45
    #: Minimum mean number of dark/light transitions per line across the region (along its
    #: busier axis): a code has many, the rim of a cup or an eye has two or three.
    min_transitions: float = 6.0


@dataclass(frozen=True, slots=True)
class FineTuning:
    """Thresholds of :func:`locate_fine` (bars a pixel or two wide, at full resolution)."""

    #: Directional step energies are averaged over blocks of this many pixels ...
    block: int = 8
    #: ... and then over windows of this many blocks (a lone edge averages away).
    window: int = 3
    #: Minimum mean absolute grey-level step (0-255) across the bars: about the contrast
    #: times the bars' edges per pixel (bars 1-2 px wide: 25-130 in the benchmark's scenes,
    #: faint and blurred ones down to ~10; smooth or upscaled photos a few).  A lone strong
    #: edge can reach it, but not the transitions test below.
    min_step: float = 10.0
    #: Maximum ratio of the weakest to the strongest of four step directions (0, 45, 90,
    #: 135 degrees): stripes have one quiet direction along the bars (<= ~0.45 at any
    #: angle, ~0.1 near the axes), noise and most texture none (>= ~0.7).
    max_quiet_ratio: float = 0.55
    #: Smallest region side, in blocks.
    min_blocks: int = 3
    #: Regions must fill at least this fraction of their rotated rectangle.
    min_fill: float = 0.45
    #: Regions are reported grown by this many blocks on every side.
    margin: float = 0.5
    #: The tests below look at the middle of the region, this fraction of its sides.
    core: float = 0.7
    #: The region, cut out at full resolution, must be one set of aligned bars (four-fold
    #: coherence; codes with 1-2 px bars score 0.8-0.98, text and hair far less) ...
    min_coherence: float = 0.7
    #: ... with many ink/paper changes per line (a code has dozens -- a blurred one with 1-px
    #: bars still 8 or more -- a lone edge one or two).
    min_transitions: float = 12.0


@dataclass(frozen=True, slots=True)
class VerifyTuning:
    """Thresholds of :func:`looks_printed` (measured in benchmarks/barcodes.py and on photos)."""

    #: The region is judged with its longer side scaled to at most this (speed).
    max_side: int = 384
    #: Minimum four-fold orientation coherence over the whole region.  Sharp or moderately
    #: blurred codes, even merged with their label's text, score >= 0.55; hair, faces,
    #: foliage < 0.5 (heavily blurred 2-D codes too: see ``min_quiet_light``).
    min_coherence: float = 0.5
    #: Minimum Otsu effectiveness (between-class / total grey variance).  A sharp code
    #: scores ~0.9, a blurred one (a sine) ~0.8, a structureless blur 2/pi = 0.64.
    min_bimodality: float = 0.55
    #: Minimum difference of the ink and paper class means (grey levels 0-255) ...
    min_contrast: float = 60.0
    #: ... or this, when the coherence is at least ``aligned_coherence`` and a line across
    #: the region changes between ink and paper at least ``min_transitions`` times: bars a
    #: pixel wide blur to a faint grey, but their edges stay many and perfectly aligned
    #: (a lone edge -- a ceiling moulding, a door frame -- changes once or twice).
    min_contrast_aligned: float = 30.0
    aligned_coherence: float = 0.85
    min_transitions: float = 12.0
    #: Colour: ink this saturated ((max - min) / max of RGB, class mean) ...
    coloured_ink: float = 0.35
    #: ... and at least this many times as saturated as the paper is a coloured object on
    #: a neutral background (a blue toy on concrete, a wooden door on a white wall), not
    #: printer ink.  Black ink on coloured paper (yellow allergy bands, pink or blue baby
    #: bands) is at most as saturated as its paper -- ink darkens the paper's colour, and
    #: blur mixes the two -- so coloured labels are never rejected for their colour; nor
    #: are hair or skin, which the tests above reject on structure.  Black-on-white codes
    #: score <= 0.25 even with the skin around a wristband in the region; blue print on a
    #: pale blue shirt 1.7.
    ink_over_paper: float = 1.3
    #: A heavily blurred 2-D code (blur of about a module or more) has lost its edge
    #: directions (coherence ~0.02-0.2, like hair); it is kept when it sits in a light,
    #: flat quiet zone: at least this fraction of the surround lighter than its ink ...
    min_quiet_light: float = 0.9
    #: ... and the surround's grey-level spread at most this fraction of the contrast ...
    max_quiet_spread: float = 0.35
    #: ... and the region itself still this contrasted (heavy blur flattens it).
    min_blurred_contrast: float = 45.0


@dataclass(frozen=True, slots=True)
class RegionStats:
    """What :func:`looks_printed` measures on a region."""

    coherence: float  # four-fold gradient-orientation coherence, 0-1
    bimodality: float  # Otsu effectiveness, 0-1
    contrast: float  # paper class mean minus ink class mean, grey levels
    ink_saturation: float  # mean saturation of the dark class, 0-1
    paper_saturation: float  # mean saturation of the light class, 0-1
    surround_light: float  # fraction of the surround lighter than the ink/paper threshold
    surround_spread: float  # grey-level std of the surround over the contrast
    transitions: float  # mean ink/paper changes per row or per column, whichever is more


def locate(gray: GrayImage, tuning: LocateTuning | None = None) -> list[Candidate]:
    """Code-like regions in ``gray`` (H x W, uint8), in ``gray``'s pixel coordinates."""
    tuning = tuning or LocateTuning()
    return locate_linear(gray) + locate_matrix(gray, tuning)


def locate_linear(gray: GrayImage) -> list[Candidate]:
    """1-D barcodes found by OpenCV's (decode-free) barcode detector."""
    ok, points = cv2.barcode.BarcodeDetector().detect(gray)
    if not ok or points is None:
        return []
    quads = np.asarray(points, np.float64).reshape(-1, 4, 2)
    return [Candidate(_clockwise(q), "LINEAR", 0.6) for q in quads]


def locate_fine(gray: GrayImage, tuning: FineTuning | None = None) -> list[Candidate]:
    """1-D codes whose bars are a pixel or two wide, found at ``gray``'s own resolution.

    The texture test of :func:`locate_matrix` runs on a scaled-down image, where such bars
    blend into a flat grey; here only integer steps between neighbouring pixels are taken
    at full size (cheap uint8 work on half the rows), averaged over blocks: bars
    give strong steps across them and none along them.  The middle of each region is then
    cut out at full resolution and must be aligned (:func:`region_stats`) and change
    between ink and paper many times per line (:func:`_bar_changes`).
    """
    tuning = tuning or FineTuning()
    step, quiet = _step_maps(gray, tuning)
    if step.size == 0:
        return []
    raw = ((step >= tuning.min_step) & (quiet <= tuning.max_quiet_ratio * step)).astype(np.uint8)
    opened = cv2.morphologyEx(raw, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    mask = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[Candidate] = []
    for contour in contours:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < tuning.min_blocks or cv2.contourArea(contour) < tuning.min_fill * rw * rh:
            continue
        # Judged on the middle of the region: with any quiet zone in it, a blurred code's
        # grey would split from the white paper, not into bars.  Reported with a margin
        # (the window shrinks the region, most at steep angles).
        centre = ((cx + 0.5) * tuning.block, (cy + 0.5) * tuning.block)
        inner = tuning.core * tuning.block
        core = _clockwise(cv2.boxPoints((centre, (rw * inner, rh * inner), angle)))
        stats = region_stats(gray, core)
        if stats is None or stats.coherence < tuning.min_coherence or _bar_changes(gray, core) < tuning.min_transitions:
            continue
        outer = ((rw + 2 * tuning.margin) * tuning.block, (rh + 2 * tuning.margin) * tuning.block)
        quad = _clockwise(cv2.boxPoints((centre, outer, angle)))
        found.append(Candidate(quad, "LINEAR", float(np.clip(stats.coherence * 0.75, 0.0, 0.75))))
    return found


def _bar_changes(gray: GrayImage, quad: Quad) -> float:
    """Mean light/dark changes per line across ``quad`` (upright), along its busier axis.

    Each pixel is compared with the mean of its line's neighbours (7 px), with a dead zone
    of a tenth of the contrast: one global threshold (Otsu) splits a blurred code's grey
    from any paper beside it, or along a shadow, instead of into bars.
    """
    cut = _upright_patch(gray, quad, 384, 0.0)
    if cut is None:
        return 0.0
    patch = cut[0].astype(np.float32)
    lo, hi = np.percentile(patch, (5, 95))
    dead = max(3.0, 0.1 * float(hi - lo))
    best = 0.0
    for lines in (patch, np.ascontiguousarray(patch.T)):
        detail = lines - cv2.blur(lines, (7, 1))
        level = np.sign(np.where(np.abs(detail) > dead, detail, 0.0))
        # Carry each line's last nonzero level over the dead zone, then count flips.
        idx = np.where(level != 0, np.arange(level.shape[1]), 0)
        filled = np.take_along_axis(level, np.maximum.accumulate(idx, axis=1), axis=1)
        flips = np.count_nonzero((filled[:, 1:] != filled[:, :-1]) & (filled[:, :-1] != 0))
        best = max(best, flips / max(1, lines.shape[0]))
    return best


#: Rows (within each 8-row block) whose step to the next row is taken: half the rows, with
#: every residue mod 4 present, so bars up to 4 px wide that lie exactly along the rows
#: show their edges whatever their offset (pairs (2k, 2k + 1) miss every 2-px bar edge
#: on an even row).
_PAIR_ROWS = (0, 3, 5, 6)


def _step_maps(gray: GrayImage, tuning: FineTuning) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Per block: the strongest and the weakest mean absolute step of four directions."""
    h, w = gray.shape
    size = ((w - 1) // tuning.block, (h - 1) // tuning.block)
    if min(size) < 1:
        empty = np.zeros((0, 0), np.float32)
        return empty, empty
    rows = (np.arange(size[1])[:, None] * tuning.block + np.array(_PAIR_ROWS)[None]).ravel()
    top, bottom = gray[rows], gray[rows + 1]
    cols = size[0] * tuning.block
    steps = (
        cv2.absdiff(top[:, 1 : cols + 1], top[:, :cols]),  # 0 degrees
        cv2.absdiff(top[:, :cols], bottom[:, :cols]),  # 90
        cv2.absdiff(top[:, :cols], bottom[:, 1 : cols + 1]),  # 45
        cv2.absdiff(top[:, 1 : cols + 1], bottom[:, :cols]),  # 135
    )
    win = (tuning.window, tuning.window)
    means = [
        cv2.boxFilter(cv2.resize(s, size, interpolation=cv2.INTER_AREA).astype(np.float32), -1, win) for s in steps
    ]
    strongest = cv2.max(cv2.max(means[0], means[1]), cv2.max(means[2], means[3]))
    weakest = cv2.min(cv2.min(means[0], means[1]), cv2.min(means[2], means[3]))
    return np.asarray(strongest, np.float32), np.asarray(weakest, np.float32)


def locate_matrix(gray: GrayImage, tuning: LocateTuning) -> list[Candidate]:
    """High-contrast, grid-aligned, half-dark regions (2-D codes and bars, readable or not)."""
    h, w = gray.shape
    found: list[Candidate] = []
    for i, octave in enumerate(tuning.octaves):
        scale = min(1.0, tuning.max_side / max(h, w)) * octave
        if min(h, w) * scale < tuning.min_octave_side:
            continue
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = gray if scale == 1.0 else np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), np.uint8)
        maps = _texture_maps(small, tuning)
        found.extend(_regions(small, scale, tuning, _texture_mask(maps, tuning, tuning.min_density), maps[1]))
        if i == 0 and tuning.blur_density is not None:
            mask = _texture_mask(maps, tuning, tuning.blur_density)
            found.extend(_regions(small, scale, tuning, mask, maps[1]))
    # Every candidate is kept (never truncated: a dropped region could be a code).
    found.sort(key=lambda c: -c.score)
    return found


def _regions(
    small: GrayImage,
    scale: float,
    tuning: LocateTuning,
    mask: npt.NDArray[np.uint8],
    align: npt.NDArray[np.float32],
) -> list[Candidate]:
    """Candidates in ``small`` (regions of ``mask``), mapped back by ``1 / scale``."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[Candidate] = []
    for contour in contours:
        x, y, bw, bh = cv2.boundingRect(contour)
        if min(bw, bh) < tuning.min_side:
            continue
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        rect = ((float(cx), float(cy)), (float(rw), float(rh)), float(angle))
        if min(rw, rh) < tuning.min_side or cv2.contourArea(contour) < tuning.min_fill * rw * rh:
            continue
        if rw * rh > tuning.max_area * small.shape[0] * small.shape[1]:
            continue
        # Judge the region set upright, so a tilted code's white surround does not count.
        contrast, dark, changes = _upright_stats(small, rect)
        if contrast < 2 * tuning.min_std or not tuning.dark_range[0] <= dark <= tuning.dark_range[1]:
            continue
        # A code cut by the image border shows fewer modules: accept fewer changes.
        at_border = x <= 1 or y <= 1 or x + bw >= small.shape[1] - 1 or y + bh >= small.shape[0] - 1
        if changes < tuning.min_transitions * (0.6 if at_border else 1.0):
            continue
        inside = mask[y : y + bh, x : x + bw] > 0
        score = float(np.clip(np.mean(align[y : y + bh, x : x + bw][inside]), 0, 1))
        quad = cv2.boxPoints(rect).astype(np.float64) / scale
        found.append(Candidate(_clockwise(quad), "MATRIX", score))
    return found


def _upright_stats(
    small: GrayImage, rect: tuple[tuple[float, float], tuple[float, float], float]
) -> tuple[float, float, float]:
    """Contrast, dark fraction and transitions of ``rect``, cut out and set upright.

    Contrast is the 95th minus the 5th grey percentile; transitions are the mean number of
    dark/light changes per row or per column, whichever is larger.
    """
    (cx, cy), (rw, rh), angle = rect
    w, h = max(2, round(rw)), max(2, round(rh))
    m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    m[:, 2] += np.array([w / 2 - cx, h / 2 - cy])
    patch = cv2.warpAffine(small, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    lo, hi = np.percentile(patch, (5, 95))
    ink = patch < (lo + hi) / 2
    rows = np.count_nonzero(ink[:, 1:] != ink[:, :-1]) / h
    cols = np.count_nonzero(ink[1:, :] != ink[:-1, :]) / w
    return float(hi - lo), float(ink.mean()), float(max(rows, cols))


_Maps = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]


def _texture_maps(small: GrayImage, tuning: LocateTuning) -> _Maps:
    """Per-pixel local standard deviation, four-fold alignment and edge density."""
    g = small.astype(np.float32)
    win = (tuning.window, tuning.window)
    mean = cv2.boxFilter(g, -1, win)
    std = np.sqrt(np.maximum(cv2.boxFilter(cv2.multiply(g, g), -1, win) - cv2.multiply(mean, mean), 0.0))
    gx = np.asarray(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), np.float32)
    gy = np.asarray(cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3), np.float32)
    # With z = gx + i*gy, z**4 / |z|**2 = |z|**2 * exp(4i*theta): its local mean is large
    # only where edges follow two perpendicular directions (or one).
    re4, im4, mag2 = _fourfold(gx, gy)
    total = cv2.boxFilter(mag2, -1, win) + 1e-3
    align = cv2.magnitude(cv2.boxFilter(re4, -1, win), cv2.boxFilter(im4, -1, win)) / total
    # Sobel 3x3 responds with 8x the true slope.
    density = cv2.boxFilter(cv2.sqrt(mag2), -1, win) / (8.0 * std + 1e-3)
    return np.asarray(std, np.float32), np.asarray(align, np.float32), np.asarray(density, np.float32)


def _fourfold(
    gx: npt.NDArray[np.float32], gy: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Real and imaginary parts of z**4 / |z|**2 for z = gx + i*gy, and |z|**2.

    Plain arithmetic: with z**2 = a + ib (a = gx**2 - gy**2, b = 2*gx*gy) and |z|**2 = m,
    z**4 / |z|**2 = (a**2 - b**2 + 2iab) / m -- no angles, several times faster.
    """
    gx2, gy2 = cv2.multiply(gx, gx), cv2.multiply(gy, gy)
    a = cv2.subtract(gx2, gy2)
    b = 2 * cv2.multiply(gx, gy)
    m = cv2.add(gx2, gy2)
    inv = 1.0 / np.maximum(m, 1e-6)
    re4 = cv2.multiply(cv2.subtract(cv2.multiply(a, a), cv2.multiply(b, b)), inv)
    im4 = cv2.multiply(2 * cv2.multiply(a, b), inv)
    return np.asarray(re4, np.float32), np.asarray(im4, np.float32), np.asarray(m, np.float32)


def _texture_mask(maps: _Maps, tuning: LocateTuning, min_density: float) -> npt.NDArray[np.uint8]:
    """Pixels whose neighbourhood looks like a code (edge density at least ``min_density``)."""
    std, align, density = maps
    raw = ((std >= tuning.min_std) & (align >= tuning.min_align) & (density >= min_density)).astype(np.uint8)
    opened = cv2.morphologyEx(raw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    # Merge the fragments of one (blurred) code, which is what gets covered.
    win = (tuning.window, tuning.window)
    closed = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, win))
    return np.asarray(closed, np.uint8)


def looks_printed(image: npt.NDArray[np.uint8], quad: Quad, tuning: VerifyTuning | None = None) -> bool:
    """True when the region ``quad`` of ``image`` (RGB or grey, its own pixels) looks like a code.

    See :class:`VerifyTuning`; a region the image does not contain is kept (benefit of doubt).
    """
    tuning = tuning or VerifyTuning()
    stats = region_stats(image, quad, tuning.max_side)
    if stats is None:
        return True
    coloured = (
        stats.ink_saturation >= tuning.coloured_ink
        and stats.ink_saturation >= tuning.ink_over_paper * stats.paper_saturation
    )
    if coloured or stats.bimodality < tuning.min_bimodality:
        return False
    if stats.coherence >= tuning.min_coherence and stats.contrast >= tuning.min_contrast:
        return True
    if stats.coherence >= tuning.aligned_coherence:
        return stats.contrast >= tuning.min_contrast_aligned and stats.transitions >= tuning.min_transitions
    if stats.coherence >= tuning.min_coherence:
        return False
    # Edge directions lost (a heavily blurred 2-D code, or texture): a light, flat quiet
    # zone must vouch for it.
    return (
        stats.contrast >= tuning.min_blurred_contrast
        and stats.surround_light >= tuning.min_quiet_light
        and stats.surround_spread <= tuning.max_quiet_spread
    )


def region_stats(image: npt.NDArray[np.uint8], quad: Quad, max_side: int = 384) -> RegionStats | None:
    """:class:`RegionStats` of ``quad`` cut out of ``image`` and set upright; None if empty."""
    cut = _upright_patch(image, np.asarray(quad, np.float64), max_side, _SURROUND)
    if cut is None:
        return None
    patch, valid = cut
    ph, pw = patch.shape[:2]
    # The region proper is the middle of the patch; the surround a ring around it, leaving
    # a gap for the code's own (blurred) edge.
    my, mx = round(ph * _SURROUND / (2 * (1 + _SURROUND))), round(pw * _SURROUND / (2 * (1 + _SURROUND)))
    ring = valid.copy()
    gy_, gx_ = (
        round(ph * (_SURROUND - _GAP) / (2 * (1 + _SURROUND))),
        round(pw * (_SURROUND - _GAP) / (2 * (1 + _SURROUND))),
    )
    ring[gy_ : ph - gy_, gx_ : pw - gx_] = False
    region = patch[my : ph - my, mx : pw - mx]
    if min(region.shape[:2]) < 4:
        return None
    hi: npt.NDArray[np.uint8] | None = None
    chroma: npt.NDArray[np.uint8] | None = None
    if region.ndim == 3:
        rgb = np.ascontiguousarray(region[..., :3])
        gray = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), np.uint8)
        full = np.asarray(cv2.cvtColor(np.ascontiguousarray(patch[..., :3]), cv2.COLOR_RGB2GRAY), np.uint8)
        r, g, b = cv2.split(rgb)
        hi = np.asarray(cv2.max(cv2.max(r, g), b), np.uint8)
        chroma = np.asarray(cv2.subtract(hi, cv2.min(cv2.min(r, g), b)), np.uint8)
    else:
        gray, full = np.ascontiguousarray(region), patch
    # OpenCV's masked reductions throughout: several times faster than numpy's here.
    thresh, light_u8 = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    dark_u8 = cv2.bitwise_not(light_u8)
    n_dark = cv2.countNonZero(dark_u8)
    if n_dark == 0 or n_dark == gray.size:
        return RegionStats(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    mu0 = cv2.mean(gray, mask=dark_u8)[0]
    mu1 = cv2.mean(gray, mask=light_u8)[0]
    total_std = cv2.meanStdDev(gray)[1][0, 0]
    w0 = n_dark / gray.size
    bimodality = w0 * (1 - w0) * (mu1 - mu0) ** 2 / (total_std**2 + 1e-6)
    ink_sat = paper_sat = 0.0
    if hi is not None and chroma is not None:
        ink_sat = cv2.mean(chroma, mask=dark_u8)[0] / (cv2.mean(hi, mask=dark_u8)[0] + 1e-6)
        paper_sat = cv2.mean(chroma, mask=light_u8)[0] / (cv2.mean(hi, mask=light_u8)[0] + 1e-6)
    grey = gray.astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)[1:-1, 1:-1]
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)[1:-1, 1:-1]
    # z**4 / |z|**2 = |z|**2 * exp(4i*theta): summed over the region, large only when its
    # edges follow one pair of perpendicular axes throughout.
    re4, im4, mag2 = _fourfold(np.ascontiguousarray(gx), np.ascontiguousarray(gy))
    coherence = float(np.hypot(cv2.sumElems(re4)[0], cv2.sumElems(im4)[0]) / (cv2.sumElems(mag2)[0] + 1e-6))
    ring_u8 = ring.astype(np.uint8)
    n_ring = cv2.countNonZero(ring_u8)
    if n_ring:
        lighter = np.asarray(full > thresh, np.uint8)
        light = cv2.countNonZero(cv2.bitwise_and(lighter, lighter, mask=ring_u8)) / n_ring
        spread = cv2.meanStdDev(full, mask=ring_u8)[1][0, 0] / (mu1 - mu0 + 1e-6)
    else:  # nothing around it in the image: no evidence either way
        light, spread = 1.0, 0.0
    ink = light_u8 == 0
    rows = np.count_nonzero(ink[:, 1:] != ink[:, :-1]) / ink.shape[0]
    cols = np.count_nonzero(ink[1:, :] != ink[:-1, :]) / ink.shape[1]
    return RegionStats(
        coherence,
        float(bimodality),
        float(mu1 - mu0),
        float(ink_sat),
        float(paper_sat),
        float(light),
        float(spread),
        float(max(rows, cols)),
    )


#: The surround is judged out to this fraction of the region's size beyond it (both sides
#: together), leaving out the first ``_GAP`` (the code's own blurred edge).
_SURROUND = 0.5
_GAP = 0.15


def _upright_patch(
    image: npt.NDArray[np.uint8], quad: Quad, max_side: int, grow: float
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]] | None:
    """``quad`` (clockwise from its top-left) grown by ``grow``, set upright, and its in-image mask.

    The region's longer side is scaled to at most ``max_side`` pixels.
    """
    h, w = image.shape[:2]
    centre = quad.mean(axis=0)
    quad = centre + (quad - centre) * (1 + grow)
    along = float(np.hypot(*(quad[1] - quad[0])))
    across = float(np.hypot(*(quad[3] - quad[0])))
    x0, y0 = np.floor(quad.min(axis=0)).astype(int).clip(0, (w, h))
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int).clip(0, (w, h))
    if min(along, across) < 6 or x1 - x0 < 4 or y1 - y0 < 4:
        return None
    scale = min(1.0, max_side * (1 + grow) / max(along, across))
    crop = image[y0:y1, x0:x1]
    local = (quad - (x0, y0)) * scale
    if scale < 1.0:
        # Area averaging: thin bars must blend, not alias.  Exact halvings first, which
        # OpenCV does ~10x faster than one area resize by an arbitrary factor.
        size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
        while crop.shape[1] >= 2 * size[0] and crop.shape[0] >= 2 * size[1]:
            half = (crop.shape[1] // 2, crop.shape[0] // 2)
            crop = np.asarray(
                cv2.resize(crop[: half[1] * 2, : half[0] * 2], half, interpolation=cv2.INTER_AREA), np.uint8
            )
        crop = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), np.uint8)
    pw, ph = max(6, round(along * scale)), max(6, round(across * scale))
    src = local[[0, 1, 3]].astype(np.float32)
    dst = np.array([[0, 0], [pw, 0], [0, ph]], np.float32)
    m = cv2.getAffineTransform(src, dst)
    patch = cv2.warpAffine(crop, m, (pw, ph), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpAffine(np.full(crop.shape[:2], 255, np.uint8), m, (pw, ph), flags=cv2.INTER_NEAREST, borderValue=0)
    return np.asarray(patch, np.uint8), np.asarray(inside > 0)


def _clockwise(quad: npt.ArrayLike) -> Quad:
    """The four points ordered clockwise (image coordinates, y down) from the top-left-most."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    centre = q.mean(axis=0)
    angles = np.arctan2(q[:, 1] - centre[1], q[:, 0] - centre[0])
    q = q[np.argsort(angles)]
    start = int(np.argmin(q.sum(axis=1)))
    return np.roll(q, -start, axis=0)
