"""Barcode stage benchmark on generated 12-MP scenes (benchmarks/code_scenes.py).

Usage::

    python benchmarks/barcodes.py            # 4 scenes per kind (~1-2 minutes on 2 cores)
    python benchmarks/barcodes.py --per-kind 2

Metrics (printed as markdown):

* **PHI codes covered** -- a code is covered when >= 98% of its symbol's pixels (no quiet
  zone) are painted by the policy's covers;
* **decodable after** -- codes zxing (thorough, full and reduced resolution) still reads
  in the redacted image (target 0);
* **ID label** -- decoded PHI codes labelled ``BARCODE_ID`` / harmless codes ``BARCODE``;
* **false positives** -- findings on code-free photos (scikit-image samples at native size
  and enlarged to 12 MP, and plain generated backgrounds), and the share of image area covered;
* **ms / 12-MP photo** -- time of ``BarcodeDetector.detect`` only (median, p90), wall clock and
  process CPU time (the latter is steadier when others share the machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.code_scenes import KINDS, Scene, _background, make_scene
from redact import obscure, policy
from redact.config import Settings
from redact.detect.barcodes import LABEL_ID, LABEL_OTHER, BarcodeDetector, verify_no_codes
from redact.types import Finding

Image = npt.NDArray[np.uint8]
COVERED = 0.98


def painted_mask(findings: list[Finding], settings: Settings, w: int, h: int) -> npt.NDArray[np.bool_]:
    white = settings.replace(fill_color=(255, 255, 255))
    canvas = np.zeros((h, w, 3), np.uint8)
    return np.asarray(obscure.apply(canvas, policy.plan(findings, white, w, h), white)[..., 0] > 0)


def fraction_inside(mask: npt.NDArray[np.bool_], quad: npt.NDArray[np.float64]) -> float:
    target = np.zeros(mask.shape, np.uint8)
    cv2.fillPoly(target, [np.round(quad).astype(np.int32)], 1)
    inside = target > 0
    return float(mask[inside].mean()) if inside.any() else 1.0


def overlaps(finding: Finding, quad: npt.NDArray[np.float64]) -> bool:
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    b = finding.box
    return bool(min(b.x1, x1) > max(b.x0, x0) and min(b.y1, y1) > max(b.y0, y0))


def code_free_photos() -> list[tuple[str, Image]]:
    out: list[tuple[str, Image]] = []
    try:
        from skimage import data
    except ImportError:
        return out
    for name in ("astronaut", "coffee", "chelsea", "camera", "rocket", "horse", "immunohistochemistry", "page"):
        try:
            img = np.asarray(getattr(data, name)())
        except Exception:  # a sample not bundled with this scikit-image: skip, never download
            continue
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        img = np.ascontiguousarray(img[..., :3]).astype(np.uint8)
        out.append((name, img))
        if name in ("astronaut", "coffee", "chelsea", "rocket"):
            big = np.asarray(cv2.resize(img, (4000, 3000), interpolation=cv2.INTER_CUBIC), np.uint8)
            out.append((f"{name}@12MP", big))
    rng = np.random.default_rng(5)
    for kind in ("wristband", "specimen", "sheet"):
        out.append((f"plain-{kind}@12MP", _background(rng, 4000, 3000, kind)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=4, help="scenes per kind (default 4)")
    args = parser.parse_args()
    settings = Settings()
    detector = BarcodeDetector(settings)

    per_kind: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    times: list[float] = []  # wall ms per 12-MP photo
    cpu: list[float] = []  # CPU ms (all threads) per 12-MP photo: steadier on a shared machine
    for i, kind in enumerate(KINDS):
        for j in range(args.per_kind):
            scene: Scene = make_scene(kind, 100 + 1000 * i + j)
            h, w = scene.image.shape[:2]
            t, c = time.perf_counter(), time.process_time()
            findings = detector.detect(scene.image)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            mask = painted_mask(findings, settings, w, h)
            out = obscure.apply(scene.image, policy.plan(findings, settings, w, h), settings)
            after = verify_no_codes(out, settings)
            row = per_kind[kind]
            row["scenes"] += 1
            row["findings"] += len(findings)
            for code in scene.codes:
                covered = fraction_inside(mask, code.quad) >= COVERED
                decoded = [f for f in findings if f.source.startswith("zxing:") and overlaps(f, code.quad)]
                key = "phi" if code.phi else "harmless"
                row[key] += 1
                row[f"{key}_covered"] += covered
                row[f"{key}_decoded"] += bool(decoded)
                want = LABEL_ID if code.phi else LABEL_OTHER
                row[f"{key}_label_ok"] += bool(decoded) and all(f.label == want for f in decoded)
                row["decodable_after"] += any(overlaps(f, code.quad) for f in after)
            row["stray_after"] += sum(not any(overlaps(f, c.quad) for c in scene.codes) for f in after)

    print("## Barcode stage on generated 12-MP scenes\n")
    print(
        "| scene | n | PHI codes covered | PHI decoded | PHI → BARCODE_ID | harmless covered"
        " | harmless → BARCODE | decodable after |"
    )
    print("|---|---|---|---|---|---|---|---|")
    total: dict[str, float] = defaultdict(float)
    for kind in KINDS:
        row = per_kind[kind]
        for k, v in row.items():
            total[k] += v
        print(_row(kind, row))
    print(_row("**all**", total))

    print("\n## False positives on code-free photos\n")
    print("| photo | size | findings | area covered |")
    print("|---|---|---|---|")
    fp_total = 0
    photos = code_free_photos()
    for name, img in photos:
        h, w = img.shape[:2]
        t, c = time.perf_counter(), time.process_time()
        findings = detector.detect(img)
        if h * w >= 10_000_000:
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        area = float(painted_mask(findings, settings, w, h).mean()) if findings else 0.0
        fp_total += len(findings)
        print(f"| {name} | {w}x{h} | {len(findings)} | {area:.1%} |")
    if photos:
        print(f"| **mean** | | {fp_total / len(photos):.2f} | |")

    print("\n## Time of `BarcodeDetector.detect` per 12-MP photo\n")
    print("| clock | photos | median ms | p90 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, values in (("wall", times), ("CPU", cpu)):
        values.sort()
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        print(f"| {name} | {len(values)} | {statistics.median(values):.0f} | {p90:.0f} | {values[-1]:.0f} |")
    print(f"\n(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    return 0


def _row(name: str, row: dict[str, float]) -> str:
    def pct(num: str, den: str) -> str:
        return f"{row[num] / row[den]:.0%} ({int(row[num])}/{int(row[den])})" if row[den] else "-"

    codes = int(row["phi"] + row["harmless"])
    return (
        f"| {name} | {int(row['scenes'])} | {pct('phi_covered', 'phi')} | {pct('phi_decoded', 'phi')} | "
        f"{pct('phi_label_ok', 'phi_decoded')} | {pct('harmless_covered', 'harmless')} | "
        f"{pct('harmless_label_ok', 'harmless_decoded')} | {int(row['decodable_after'])}/{codes} |"
    )


if __name__ == "__main__":
    raise SystemExit(main())
