"""Ground-truth loading and face metrics shared by the benchmarks.

The evaluation sets live in ``../shared`` beside the repository (or ``$REDACT_SHARED``)
and are never copied into the repository.  See benchmarks/README.md for the metric
definitions; in short:

* **coverage recall** -- a GT face is covered when >= 80% of its GT box's pixels lie in the
  *union* of the redaction boxes (rasterised mask, so several boxes can share a face);
* **recall@IoU.5** -- a GT face is hit when some raw detection box has IoU >= 0.5 with it;
* **false positive** -- a raw detection that matches no GT face and no ignore box, where
  *matches* means IoU >= 0.3, or the detection covers >= 50% of the box, or >= 50% of the
  detection lies inside the box;
* GT faces are bucketed by GT box height: ``<32``, ``32-96``, ``>96`` px.  ``ignore`` boxes
  are neither hits nor misses.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

XYXY = tuple[float, float, float, float]
BUCKETS = ("<32", "32-96", ">96")
COVER_FRACTION = 0.8


def shared_dir() -> Path | None:
    """``$REDACT_SHARED`` or ``../shared`` next to the repository, if it exists."""
    env = os.environ.get("REDACT_SHARED")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    return path if path.is_dir() else None


@dataclass
class Sample:
    """One evaluation image and its boxes (xyxy, pixels)."""

    path: Path
    faces: list[XYXY]
    ignore: list[XYXY]

    def load(self) -> npt.NDArray[np.uint8]:
        with Image.open(self.path) as im:
            return np.asarray(im.convert("RGB"))


def _xyxy(b: Sequence[float]) -> XYXY:
    x, y, w, h = b
    return (float(x), float(y), float(x + w), float(y + h))


def load_set(root: Path, limit: int | None = None) -> list[Sample]:
    """Read ``root/gt.jsonl`` (``limit``: every n-th image for a quick subset)."""
    samples = []
    with (root / "gt.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            samples.append(
                Sample(root / d["file"], [_xyxy(b) for b in d["faces"]], [_xyxy(b) for b in d.get("ignore", [])])
            )
    if limit and len(samples) > limit:
        step = len(samples) / limit
        samples = [samples[int(i * step)] for i in range(limit)]
    return samples


def bucket(height: float) -> str:
    """Size bucket of a face by its GT height."""
    return "<32" if height < 32 else ("32-96" if height <= 96 else ">96")


def _iou(a: XYXY, b: XYXY) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _inter(a: XYXY, b: XYXY) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _area(a: XYXY) -> float:
    return max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])


def matches(det: XYXY, gt: XYXY) -> bool:
    """True when a detection plausibly is (part of) the face in ``gt`` (not a false positive)."""
    inter = _inter(det, gt)
    if inter <= 0:
        return False
    return _iou(det, gt) >= 0.3 or inter >= 0.5 * _area(gt) or inter >= 0.5 * _area(det)


@dataclass
class Tally:
    """Counts accumulated over a set, overall and per size bucket."""

    faces: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    covered: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    hit: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    images: int = 0
    false_positives: int = 0
    max_fp: int = 0
    fp_per_image: list[int] = field(default_factory=list)
    detections: int = 0
    seconds: float = 0.0

    def add(self, sample: Sample, raw: Sequence[XYXY], mask: npt.NDArray[np.bool_], seconds: float) -> None:
        """Score one image: ``raw`` detection boxes and the ``mask`` of pixels actually covered."""
        height, width = mask.shape
        self.images += 1
        self.seconds += seconds
        self.detections += len(raw)
        for gt in sample.faces:
            b = bucket(gt[3] - gt[1])
            self.faces[b] += 1
            x0, y0 = max(0, round(gt[0])), max(0, round(gt[1]))
            x1, y1 = min(width, round(gt[2])), min(height, round(gt[3]))
            region = mask[y0:y1, x0:x1]
            if region.size and region.mean() >= COVER_FRACTION:
                self.covered[b] += 1
            if any(_iou(d, gt) >= 0.5 for d in raw):
                self.hit[b] += 1
        fps = sum(1 for d in raw if not any(matches(d, g) for g in (*sample.faces, *sample.ignore)))
        self.false_positives += fps
        self.max_fp = max(self.max_fp, fps)
        self.fp_per_image.append(fps)

    @property
    def median_fp(self) -> float:
        return float(np.median(self.fp_per_image)) if self.fp_per_image else float("nan")

    def rate(self, counts: dict[str, int], buckets: Sequence[str] = BUCKETS) -> float:
        n = sum(self.faces[b] for b in buckets)
        return sum(counts[b] for b in buckets) / n if n else float("nan")


def box_mask(covers: Sequence[XYXY], width: int, height: int) -> npt.NDArray[np.bool_]:
    """Union of rectangular covers as a boolean mask (every touched pixel counts)."""
    mask = np.zeros((height, width), dtype=bool)
    for c in covers:
        x0, y0 = max(0, int(np.floor(c[0]))), max(0, int(np.floor(c[1])))
        x1, y1 = min(width, int(np.ceil(c[2]))), min(height, int(np.ceil(c[3])))
        if x1 > x0 and y1 > y0:
            mask[y0:y1, x0:x1] = True
    return mask


def iter_sets(names: Sequence[str], limit: int | None) -> Iterator[tuple[str, list[Sample]]]:
    """Yield ``(name, samples)`` for each evaluation set that exists."""
    root = shared_dir()
    if root is None:
        return
    for name in names:
        folder = root / "faces" / name
        if (folder / "gt.jsonl").is_file():
            yield name, load_set(folder, limit)
