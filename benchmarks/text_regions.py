"""Is every legible piece of text found and read?  The text detector's finding/reading stage.

    python benchmarks/text_regions.py [--sets phi_even phi_odd funsd sroie ic15] [--tag NAME]
                                      [--limit N] [--fresh] [--misses DIR]

For every legible ground-truth text item of data we did not make (``../shared``):

* ``phi_scenes_dev`` -- every ``texts`` entry with ``legible`` (split into even- and
  odd-numbered files: tune on ``phi_even``, report ``phi_odd`` as held out);
* ``real/funsd_dev`` and ``real/sroie_dev`` -- every ``phi`` and ``harmless`` entry (its word
  boxes together are the item);
* ``real/ic15_dev`` -- every legible word quad;

the benchmark runs :meth:`TextDetector.analyse` (regions, reading, decisions, zoom) and asks:

* **found** -- at least 80% of the item's pixels lie inside the union of the detected line
  polygons, each grown by the cover padding (``detector.PAD``; what would be filled if the
  line is judged PHI).  ``found(raw)`` is the same on the unpadded regions.
* **read** -- some reading of the lines that overlap the item (alone, or concatenated in
  reading order) recovers it: character similarity >= 0.7 between the item's text and the
  best-matching stretch of the reading, both lower-cased and reduced to letters and digits.

Reported per set, per scene type (``phi_scenes_dev``), per text-height bucket (``char_h``
for the scenes, the word box / quad height for the real sets) and per rotation (angle of
the item's baseline), with ms per photo for the whole ``analyse`` call and for region
detection alone.  Results are cached per image under ``/tmp/text-read/<tag>/`` so that
re-scoring or adding sets is cheap; ``--fresh`` recomputes.  Timing on the shared 2-core
machine is noisy: compare tags measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import shared_dir

FOUND_FRACTION = 0.8
READ_SIMILARITY = 0.7
HEIGHTS = ((0, 12, "<12"), (12, 20, "12-20"), (20, 32, "20-32"), (32, 64, "32-64"), (64, 1e9, ">=64"))
CACHE = Path(os.environ.get("TEXT_READ_CACHE", "/tmp/text-read"))
Poly = list[tuple[float, float]]


@dataclass
class Item:
    """One legible ground-truth text item."""

    polys: list[Poly]  # one or more polygons (word boxes of a document field)
    text: str
    height: float
    angle: float  # baseline direction in degrees, (-180, 180]
    group: str  # scene type, or the set's name


@dataclass
class Photo:
    """One image and its legible items."""

    set: str
    path: Path
    items: list[Item]


# --------------------------------------------------------------------------- ground truth


def _angle(quad: Sequence[Sequence[float]]) -> float:
    (x0, y0), (x1, y1) = quad[0], quad[1]
    return float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))


def _quad_height(quad: Sequence[Sequence[float]]) -> float:
    q = np.asarray(quad, np.float64)
    return float((np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2)


def _box_poly(b: Sequence[float]) -> Poly:
    x0, y0, x1, y1 = (float(v) for v in b)
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def phi_scenes(root: Path, parity: int | None) -> Iterator[Photo]:
    for meta in sorted((root / "phi_scenes_dev").glob("*.json")):
        if parity is not None and int(meta.stem) % 2 != parity:
            continue
        d = json.loads(meta.read_text())
        items = []
        for t in d["texts"]:
            if not t.get("legible"):
                continue
            poly = [tuple(p) for p in (t.get("poly") or t["quad"])]
            items.append(Item([poly], t["text"], float(t["char_h"]), _angle(t["quad"]), d["scene_type"]))
        yield Photo("phi_even" if parity == 0 else "phi_odd", meta.with_name(d["file"]), items)


def documents(root: Path, name: str) -> Iterator[Photo]:
    folder = root / "real" / f"{name}_dev"
    for row in (folder / "gt.jsonl").read_text().splitlines():
        d = json.loads(row)
        items = []
        for entry in [*d.get("phi", []), *d.get("harmless", [])]:
            words = entry["words"] or [entry["box"]]
            height = float(np.median([w[3] - w[1] for w in words]))
            items.append(Item([_box_poly(w) for w in words], entry["text"], height, 0.0, name))
        yield Photo(name, folder / d["file"], items)


def scene_words(root: Path) -> Iterator[Photo]:
    folder = root / "real" / "ic15_dev"
    for row in (folder / "gt.jsonl").read_text().splitlines():
        d = json.loads(row)
        items = [
            Item([[tuple(p) for p in w["quad"]]], w["text"], _quad_height(w["quad"]), _angle(w["quad"]), "ic15")
            for w in d["words"]
            if w["legible"]
        ]
        yield Photo("ic15", folder / d["file"], items)


def photos(root: Path, name: str) -> Iterator[Photo]:
    if name in ("phi_even", "phi_odd"):
        yield from phi_scenes(root, 0 if name == "phi_even" else 1)
    elif name in ("funsd", "sroie"):
        yield from documents(root, name)
    elif name == "ic15":
        yield from scene_words(root)
    else:
        raise SystemExit(f"unknown set {name}")


# --------------------------------------------------------------------------- running


def rotation(width: int, height: int, degrees: float) -> tuple[npt.NDArray[np.float64], int, int]:
    """The affine map turning an image ``degrees`` counter-clockwise (as shown), enlarged to fit."""
    m = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(height * s + width * c)), int(np.ceil(height * c + width * s))
    m[0, 2] += nw / 2 - width / 2
    m[1, 2] += nh / 2 - height / 2
    return m, nw, nh


def rotated(photo: Photo, degrees: float) -> Photo:
    """``photo`` with its ground truth turned like :func:`load` turns its pixels."""
    if not degrees:
        return photo
    with Image.open(photo.path) as im:
        m, _, _ = rotation(im.width, im.height, degrees)

    def turn(poly: Poly) -> Poly:
        pts = np.asarray(poly, np.float64) @ m[:, :2].T + m[:, 2]
        return [(float(x), float(y)) for x, y in pts]

    items = []
    for it in photo.items:
        polys = [turn(p) for p in it.polys]
        a = np.radians(it.angle)
        ends = turn([(0.0, 0.0), (float(np.cos(a)), float(np.sin(a)))])
        angle = float(np.degrees(np.arctan2(ends[1][1] - ends[0][1], ends[1][0] - ends[0][0])))
        items.append(Item(polys, it.text, it.height, angle, it.group))
    return Photo(f"{photo.set}@rot{degrees:g}", photo.path, items)


def load(path: Path, degrees: float) -> npt.NDArray[np.uint8]:
    with Image.open(path) as im:
        image = np.ascontiguousarray(np.asarray(im.convert("RGB")))
    if degrees:
        m, nw, nh = rotation(image.shape[1], image.shape[0], degrees)
        image = np.asarray(
            cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(40, 40, 40)), np.uint8
        )
    return image


def _cpu() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(detector: object, path: Path, degrees: float = 0.0) -> dict[str, object]:
    """Analyse one image; return its lines (corners, readings) and timings, JSON-ready.

    ``cpu_ms`` counts this process's threads and finished child processes (Tesseract):
    less disturbed by other people's load than wall time.
    """
    from redact.detect.text.detector import PAD, TextDetector

    assert isinstance(detector, TextDetector)
    image = load(path, degrees)
    t0, c0 = time.perf_counter(), _cpu()
    detector._regions_in(image)
    t1, c1 = time.perf_counter(), _cpu()
    lines = detector.analyse(image)
    t2, c2 = time.perf_counter(), _cpu()
    return {
        "size": [image.shape[1], image.shape[0]],
        "ms_regions": (t1 - t0) * 1000,
        "ms": (t2 - t1) * 1000,
        "cpu_ms_regions": (c1 - c0) * 1000,
        "cpu_ms": (c2 - c1) * 1000,
        "lines": [
            {
                "corners": [list(p) for p in line.region.corners],
                "padded": [list(p) for p in line.region.padded(PAD)],
                "readings": [[r.text, r.confidence] for r in line.readings],
            }
            for line in lines
        ],
    }


def cached(detector: object | None, photo: Photo, tag: str, fresh: bool, degrees: float) -> dict[str, object]:
    out = CACHE / tag / photo.set / f"{photo.path.name}.json"
    if out.is_file() and not fresh:
        return dict(json.loads(out.read_text()))
    if detector is None:
        raise FileNotFoundError(out)
    result = run(detector, photo.path, degrees)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result))
    return result


# --------------------------------------------------------------------------- scoring


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def similarity(truth: str, read: str) -> float:
    """1 - (edit distance of ``truth`` to the best-matching substring of ``read``) / len(truth)."""
    t, r = _norm(truth), _norm(read)
    if not t:
        return 1.0
    prev = np.zeros(len(r) + 1, np.int32)  # free start anywhere in r
    for i, ch in enumerate(t, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        for j, rc in enumerate(r, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ch != rc))
        prev = cur
    return 1.0 - float(prev.min()) / len(t)


def _mask(polys: Sequence[Poly], shape: tuple[int, int], origin: tuple[int, int]) -> npt.NDArray[np.uint8]:
    mask = np.zeros(shape, np.uint8)
    ox, oy = origin
    for p in polys:
        pts = np.round((np.asarray(p, np.float64) - (ox, oy)) * 4).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1, shift=2)
    return mask


def _bounds(polys: Sequence[Poly]) -> tuple[int, int, int, int]:
    pts = np.concatenate([np.asarray(p, np.float64) for p in polys])
    return (
        int(np.floor(pts[:, 0].min())),
        int(np.floor(pts[:, 1].min())),
        int(np.ceil(pts[:, 0].max())) + 1,
        int(np.ceil(pts[:, 1].max())) + 1,
    )


def score_item(item: Item, lines: list[dict[str, object]]) -> tuple[bool, bool, bool]:
    """``(found, found_raw, read)`` for one item against one image's lines."""
    x0, y0, x1, y1 = _bounds(item.polys)
    shape = (y1 - y0, x1 - x0)
    own = _mask(item.polys, shape, (x0, y0)).astype(bool)
    area = max(int(own.sum()), 1)
    padded = np.zeros(shape, bool)
    raw = np.zeros(shape, bool)
    touching: list[tuple[float, dict[str, object]]] = []
    for line in lines:
        corners = line["corners"]
        lx0, ly0, lx1, ly1 = _bounds([line["padded"]])  # type: ignore[list-item]
        if lx1 < x0 or ly1 < y0 or lx0 > x1 or ly0 > y1:
            continue
        m_pad = _mask([line["padded"]], shape, (x0, y0)).astype(bool)  # type: ignore[list-item]
        m_raw = _mask([corners], shape, (x0, y0)).astype(bool)  # type: ignore[list-item]
        padded |= m_pad
        raw |= m_raw
        inter = int((m_raw & own).sum())
        line_area = max(1.0, float(cv2.contourArea(np.asarray(corners, np.float32))))
        if inter >= 0.5 * area or inter >= 0.4 * line_area or inter >= 0.25 * area:
            touching.append((inter, line))
    found = (padded & own).sum() >= FOUND_FRACTION * area
    found_raw = (raw & own).sum() >= FOUND_FRACTION * area
    return found, found_raw, _recovered(item, [line for _, line in touching])


def _recovered(item: Item, lines: list[dict[str, object]]) -> bool:
    texts = [[str(r[0]) for r in line["readings"]] for line in lines]  # type: ignore[attr-defined]
    if any(similarity(item.text, t) >= READ_SIMILARITY for ts in texts for t in ts):
        return True
    if len(lines) < 2:
        return False
    # A field spread over several lines: each line's best-matching reading, in reading order.
    a = np.radians(item.angle)
    along, down = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])

    def key(line: dict[str, object]) -> tuple[float, float]:
        c = np.asarray(line["corners"], np.float64).mean(axis=0)
        return round(float(c @ down) / 8), float(c @ along)

    ordered = sorted(range(len(lines)), key=lambda i: key(lines[i]))
    best = [max(texts[i], key=lambda t: similarity(t, item.text), default="") for i in ordered]
    return similarity(item.text, " ".join(best)) >= READ_SIMILARITY


# --------------------------------------------------------------------------- tables


def height_bucket(h: float) -> str:
    return next(name for lo, hi, name in HEIGHTS if lo <= h < hi)


def rotation_bucket(angle: float) -> str:
    a = abs(angle)
    if a <= 10:
        return "0-10"
    if a <= 45:
        return "10-45"
    if a <= 135:
        return "45-135"
    return ">135 (upside down)"


class Tally:
    """Items, found, found (raw) and read counts per (kind, key)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])

    def add(self, keys: Sequence[tuple[str, str]], found: bool, raw: bool, read: bool) -> None:
        for key in keys:
            row = self.rows[key]
            row[0] += 1
            row[1] += found
            row[2] += raw
            row[3] += read

    def table(self, title: str, kind: str) -> str:
        keys = [k for k in self.rows if k[0] == kind]
        order = [b for _, _, b in HEIGHTS] + ["0-10", "10-45", "45-135", ">135 (upside down)"]
        keys.sort(key=lambda k: (order.index(k[1]) if k[1] in order else -1, k[1]))
        out = [f"\n{title}\n", f"| {kind} | items | found | found (raw) | read |", "|---|---|---|---|---|"]
        for key in keys:
            n, f, r, rd = self.rows[key]
            out.append(f"| {key[1]} | {n} | {f / n:.3f} | {r / n:.3f} | {rd / n:.3f} |")
        return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=["phi_even", "phi_odd", "funsd", "sroie", "ic15"])
    parser.add_argument("--tag", default="head", help="cache name for this code/config")
    parser.add_argument("--limit", type=int, default=None, help="every n-th photo up to N per set")
    parser.add_argument("--fresh", action="store_true", help="recompute cached results")
    parser.add_argument("--score-only", action="store_true", help="use cached results only")
    parser.add_argument("--rotate", type=float, default=0.0, help="turn every photo (and its GT) by this many degrees")
    parser.add_argument("--misses", type=Path, default=None, help="write crops of missed items here")
    args = parser.parse_args()
    root = shared_dir()
    if root is None:
        print("shared evaluation data not found; nothing to do")
        return
    detector = None
    if not args.score_only:
        cv2.setNumThreads(1)
        from redact.config import Settings
        from redact.detect.text import TextDetector

        detector = TextDetector(Settings())
    summary = []
    for name in args.sets:
        all_photos = [rotated(p, args.rotate) for p in photos(root, name)]
        if args.limit and len(all_photos) > args.limit:
            step = len(all_photos) / args.limit
            all_photos = [all_photos[int(i * step)] for i in range(args.limit)]
        name = all_photos[0].set if all_photos else name
        tally = Tally()
        ms, ms_regions, cpu, n = 0.0, 0.0, 0.0, 0
        for k, photo in enumerate(all_photos):
            try:
                result = cached(detector, photo, args.tag, args.fresh, args.rotate)
            except FileNotFoundError:
                continue
            n += 1
            ms += float(result["ms"])  # type: ignore[arg-type]
            ms_regions += float(result["ms_regions"])  # type: ignore[arg-type]
            cpu += float(result.get("cpu_ms", float("nan")))  # type: ignore[arg-type]
            lines = list(result["lines"])  # type: ignore[call-overload]
            for item in photo.items:
                if not _norm(item.text):
                    continue
                found, raw, read = score_item(item, lines)
                keys = [
                    ("all", "all"),
                    ("scene", item.group),
                    ("height", height_bucket(item.height)),
                    ("rotation", rotation_bucket(item.angle)),
                ]
                tally.add(keys, found, raw, read)
                if args.misses and not (found and read):
                    _dump_miss(args.misses, photo, item, found, read)
            print(f"\r{name}: {k + 1}/{len(all_photos)}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        if not n:
            continue
        total = tally.rows[("all", "all")]
        summary.append(
            f"| {name} | {n} | {total[0]} | {total[1] / total[0]:.4f} | {total[2] / total[0]:.4f} | "
            f"{total[3] / total[0]:.4f} | {ms / n:.0f} | {ms_regions / n:.0f} | {cpu / n:.0f} |"
        )
        print(f"\n### {name} ({n} photos, tag {args.tag})")
        for kind in ("scene", "height", "rotation"):
            if len([k for k in tally.rows if k[0] == kind]) > 1 or kind != "scene":
                print(tally.table(f"by {kind}", kind))
    print(f"\n### summary (tag {args.tag})\n")
    print("| set | photos | items | found | found (raw) | read | ms/photo | ms regions | cpu ms/photo |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(summary))


_dumped: dict[str, int] = defaultdict(int)


def _dump_miss(folder: Path, photo: Photo, item: Item, found: bool, read: bool) -> None:
    """Save a crop of a missed item for looking at (evaluation data: keep it out of the repo)."""
    if _dumped[photo.set] >= 300:
        return
    _dumped[photo.set] += 1
    x0, y0, x1, y1 = _bounds(item.polys)
    pad = int(max(8, item.height))
    degrees = float(photo.set.split("@rot")[1]) if "@rot" in photo.set else 0.0
    crop = Image.fromarray(load(photo.path, degrees)).crop((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    what = ("F" if found else "nf") + ("R" if read else "nr")
    folder.mkdir(parents=True, exist_ok=True)
    crop.save(folder / f"{photo.set}_{photo.path.stem}_{x0}_{y0}_{what}.png")


if __name__ == "__main__":
    main()
