"""A closer look where the whole-image pass saw text near its resolution limit.

The region detector sees a large photo shrunk to ``max_side`` pixels: 15-px print on a
12 MP photo becomes 3.6 px, below what it resolves (neighbouring lines merge into one
blob, short ones vanish).  Its own output says where that happens: lines under
:data:`SMALL` pixels tall *as it saw them*.  Around those lines (and only there) the
image is looked at again, at the scale that brings them to :data:`TARGET` pixels -- up
to native resolution for large photos, up to :data:`MAX_UP` times enlarged for small
scans -- in tiles of at most :data:`TILE` pixels that overlap by :data:`OVERLAP`.

Merging: inside a closer window the closer look's lines replace the small lines of the
first pass that they cover; lines the first pass resolved (tall ones) are kept, and a
closer line repeating one of them is dropped; pieces of one line cut by a tile border
are joined.  A first-pass line the closer look does not cover is kept: nothing found
is ever dropped for lack of a better find.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from redact.detect.text.regions import Region, order_corners
from redact.types import Box

if TYPE_CHECKING:
    from redact.detect.text.regions import RegionDetector, RGBImage

#: Lines less tall than this (detector input pixels) are near its resolution limit.
SMALL = 16.0
#: Line height (detector input pixels) a closer look brings small lines to.
TARGET = 24.0
#: A closer look enlarges at most this much (beyond native resolution).
MAX_UP = 2.0
#: A closer look must magnify by at least this much over the first pass to be worth running.
MIN_GAIN = 1.4
#: A first-pass region this squat (width under this many heights) may be lines run together:
#: a paragraph of small print seen from afar is one blob.  It is looked at :data:`BLOB_GAIN`
#: times closer (up to native resolution).
BLOB_ASPECT = 4.0
BLOB_GAIN = 3.0
#: Around a small line, a window reaches this many of its line heights (missed neighbours).
REACH = 4.0
#: Tile side and overlap (detector input pixels); bounds the detector's memory (~300 MB).
TILE = 1280
OVERLAP = 96
#: The closer look may cost at most this many times the first pass's pixels.
BUDGET = 8.0

Window = tuple[int, int, int, int]


def find(detector: RegionDetector, image: RGBImage) -> list[Region]:
    """Every text line of ``image``: the detector's whole-image pass plus the closer look, top to bottom."""
    scale = detector.base_scale(image)
    found = closer_look(detector, image, detector.detect_at(image, scale), scale)
    found.sort(key=lambda r: (r.centre[1], r.centre[0]))
    return found


def closer_look(detector: RegionDetector, image: RGBImage, found: list[Region], scale: float) -> list[Region]:
    """``found`` (first pass at ``scale``) with small lines re-detected closer; see the module doc."""
    h, w = image.shape[:2]
    plan = plan_windows(found, scale, w, h)
    if not plan:
        return found
    closer: list[Region] = []
    for (x0, y0, x1, y1), s in plan:
        closer += _detect_tiled(detector, image[y0:y1, x0:x1], s, (x0, y0))
    return merge(found, closer, [win for win, _ in plan], scale)


def plan_windows(found: list[Region], scale: float, width: int, height: int) -> list[tuple[Window, float]]:
    """Windows (image pixels) around small lines and squat blobs, each with the scale to look at it."""
    boxes: list[tuple[Box, float]] = []
    for r in found:
        xs, ys = [p[0] for p in r.corners], [p[1] for p in r.corners]
        if r.height * scale < SMALL:
            m = REACH * r.height
            boxes.append((Box(min(xs) - m, min(ys) - m, max(xs) + m, max(ys) + m), r.height))
        elif r.width < BLOB_ASPECT * r.height and scale < 1.0:
            # As if it held lines just at the resolution limit: look BLOB_GAIN times closer.
            m = 0.1 * r.height
            boxes.append((Box(min(xs) - m, min(ys) - m, max(xs) + m, max(ys) + m), TARGET / (scale * BLOB_GAIN)))
    if not boxes:
        return []
    plan = []
    for box, heights in _merge_boxes(boxes):
        bounds = box.pixel_bounds(width, height)
        if bounds is None:
            continue
        want = TARGET / max(float(np.percentile(heights, 25)), 1.0)
        s = min(want, 1.0 if _blobs_only(heights, scale) else MAX_UP)
        if s >= scale * MIN_GAIN:
            plan.append((bounds, s))
    cost = sum((x1 - x0) * (y1 - y0) * s * s for (x0, y0, x1, y1), s in plan)
    budget = BUDGET * width * height * scale * scale
    if cost > budget:  # too much to look at closely: look less closely, everywhere alike
        shrink = float(np.sqrt(budget / cost))
        plan = [(win, s * shrink) for win, s in plan if s * shrink >= scale * MIN_GAIN]
    return plan


def _blobs_only(heights: list[float], scale: float) -> bool:
    """Whether a window holds only squat blobs (their closer look stops at native resolution)."""
    return all(abs(h - TARGET / (scale * BLOB_GAIN)) < 1e-9 for h in heights)


def _merge_boxes(boxes: list[tuple[Box, float]]) -> list[tuple[Box, list[float]]]:
    """Overlapping boxes merged (to a fixed point), with the line heights each one holds."""
    groups = [(box, [hgt]) for box, hgt in boxes]
    changed = True
    while changed:
        changed = False
        out: list[tuple[Box, list[float]]] = []
        for box, heights in groups:
            for i, (other, hs) in enumerate(out):
                if box.intersection(other) > 0:
                    out[i] = (box.union(other), hs + heights)
                    changed = True
                    break
            else:
                out.append((box, heights))
        groups = out
    return groups


def _detect_tiled(detector: RegionDetector, crop: RGBImage, scale: float, origin: tuple[int, int]) -> list[Region]:
    """Regions of ``crop`` at ``scale``, in tiles of at most :data:`TILE` detector pixels, pieces joined."""
    h, w = crop.shape[:2]
    found: list[Region] = []
    tile_of: list[int] = []
    tiles = [(y, x) for y in _spans(h, scale) for x in _spans(w, scale)]
    for k, ((y0, y1), (x0, x1)) in enumerate(tiles):
        tile = np.ascontiguousarray(crop[y0:y1, x0:x1])
        for r in detector.detect_at(tile, scale):
            found.append(_moved(r, x0 + origin[0], y0 + origin[1]))
            tile_of.append(k)
    return join_pieces(found, tile_of) if len(tiles) > 1 else found


def _spans(length: int, scale: float) -> list[tuple[int, int]]:
    """Equal spans covering ``length`` image pixels, each at most :data:`TILE` detector pixels, overlapping."""
    tile, overlap = TILE / scale, OVERLAP / scale
    count = max(1, int(np.ceil((length - overlap) / (tile - overlap))))
    size = (length + (count - 1) * overlap) / count
    starts = [round(k * (size - overlap)) for k in range(count)]
    return [(s, min(length, round(s + size))) for s in starts]


def _moved(r: Region, dx: float, dy: float) -> Region:
    return Region(tuple((x + dx, y + dy) for x, y in r.corners), r.score)  # type: ignore[arg-type]


def _frame(r: Region) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    c = np.asarray(r.corners, np.float64)
    along = c[1] - c[0]
    along /= max(float(np.linalg.norm(along)), 1e-6)
    return c.mean(axis=0), along, np.array([-along[1], along[0]])


def join_pieces(regions: list[Region], tile_of: list[int]) -> list[Region]:
    """Join pieces of one line that different tiles saw (a tile border cut it, or both saw it whole)."""
    n = len(regions)
    boxes = np.array([_bounds(r) for r in regions], np.float64).reshape(-1, 4)
    slack = np.array([0.25 * r.height for r in regions])[:, None]
    tiles_ = np.asarray(tile_of)
    near = (
        (boxes[:, None, 0] < boxes[None, :, 2] + slack)
        & (boxes[None, :, 0] < boxes[:, None, 2] + slack)
        & (boxes[:, None, 1] < boxes[None, :, 3] + slack)
        & (boxes[None, :, 1] < boxes[:, None, 3] + slack)
        & (tiles_[:, None] != tiles_[None, :])
    )
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    joined = {i: regions[i] for i in range(n)}
    for i, j in zip(*np.nonzero(np.triu(near, 1)), strict=True):
        a, b = root(int(i)), root(int(j))
        if a == b:
            continue
        both = _joined(joined[a], joined[b])
        if both is not None:
            parent[b] = a
            joined[a] = both
            del joined[b]
    return list(joined.values())


def _joined(a: Region, b: Region) -> Region | None:
    """One rectangle holding ``a`` and ``b`` when they are pieces of one line, else ``None``."""
    ha, hb = a.height, b.height
    if min(ha, hb) < 0.6 * max(ha, hb):
        return None
    centre, along, across = _frame(a)
    _, along_b, _ = _frame(b)
    if abs(float(along @ along_b)) < np.cos(np.radians(10)):
        return None
    pa = np.asarray(a.corners, np.float64) - centre
    pb = np.asarray(b.corners, np.float64) - centre
    if abs(float(pb.mean(axis=0) @ across)) > 0.35 * max(ha, hb):
        return None
    ua, ub = pa @ along, pb @ along
    gap = max(ua.min(), ub.min()) - min(ua.max(), ub.max())
    if gap > 0.25 * max(ha, hb):
        return None
    pts = np.concatenate([pa, pb])
    u, v = pts @ along, pts @ across
    corners = [centre + x * along + y * across for x, y in ((u.min(), v.min()), (u.max(), v.min()))]
    corners += [centre + x * along + y * across for x, y in ((u.max(), v.max()), (u.min(), v.max()))]
    return Region(order_corners(np.asarray(corners, np.float32)), max(a.score, b.score))


def _mask(regions: list[Region], origin: tuple[int, int], shape: tuple[int, int]) -> npt.NDArray[np.uint8]:
    mask = np.zeros(shape, np.uint8)
    for r in regions:
        pts = np.round((np.asarray(r.corners, np.float64) - origin) * 4).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1, shift=2)
    return mask


def _bounds(r: Region) -> tuple[int, int, int, int]:
    xs, ys = [p[0] for p in r.corners], [p[1] for p in r.corners]
    return int(np.floor(min(xs))), int(np.floor(min(ys))), int(np.ceil(max(xs))) + 1, int(np.ceil(max(ys))) + 1


def _covered(r: Region, others: list[Region]) -> float:
    """Fraction of ``r``'s area inside the union of ``others``."""
    x0, y0, x1, y1 = _bounds(r)
    near = [o for o in others if _touches(_bounds(o), (x0, y0, x1, y1))]
    if not near:
        return 0.0
    shape = (y1 - y0, x1 - x0)
    own = _mask([r], (x0, y0), shape).astype(bool)
    union = _mask(near, (x0, y0), shape).astype(bool)
    return float((own & union).sum()) / max(int(own.sum()), 1)


def _touches(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(r: Region, window: Window) -> bool:
    cx, cy = r.centre
    return window[0] <= cx < window[2] and window[1] <= cy < window[3]


def merge(first: list[Region], closer: list[Region], windows: list[Window], scale: float) -> list[Region]:
    """First-pass and closer lines together, without repeats (see the module doc)."""
    closer_bounds = [_bounds(c) for c in closer]

    def near(r: Region) -> list[Region]:
        b = _bounds(r)
        return [c for c, cb in zip(closer, closer_bounds, strict=True) if _touches(b, cb)]

    kept: list[Region] = []
    for r in first:
        if any(_inside(r, win) for win in windows):
            small = r.height * scale < SMALL
            around = near(r)
            if small and _covered(r, around) >= 0.5:
                continue  # replaced by the closer look's lines
            inner = [c for c in around if _covered(c, [r]) >= 0.6]
            if not small and len(inner) >= 2 and _covered(r, inner) >= 0.4:
                continue  # several lines the first pass ran together
        kept.append(r)
    tall = [r for r in kept if r.height * scale >= SMALL]
    tall_bounds = [_bounds(t) for t in tall]
    for c, cb in zip(closer, closer_bounds, strict=True):
        if any(
            _touches(cb, tb) and c.height >= 0.5 * t.height and _covered(c, [t]) >= 0.6
            for t, tb in zip(tall, tall_bounds, strict=True)
        ):
            continue  # the first pass had this line already
        kept.append(c)
    return kept
