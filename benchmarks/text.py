"""Text-PHI benchmark on generated scenes: redact's ``text`` detector vs Presidio, side by side.

    /work/venv/bin/python benchmarks/text.py [--count 60] [--seed 7] [--presidio /work/venv-bench/bin/python]

Scenes come from :mod:`redact.synth` (wristbands, whiteboards with handwriting-like
script, EHR screens at an angle, printed records, specimen labels; negatives: signage,
posters, menus, staff badges; plain photos with no text).  Both tools see the same PNGs.

Metrics (per tool):

* **PHI covered** -- legible PHI items (text height >= 9 px) with >= 95% of their
  ground-truth polygon's pixels covered (equal to the fill colour, or changed by > 30).
* **PHI still readable** -- PHI items whose GT crop of the *output*, rectified and read
  by Tesseract and by PP-OCR, still yields the value (similarity >= 0.8 on letters and
  digits).  Reported with the same count on the input as the baseline.
* **harmless altered** -- harmless items on the negative scenes with > 10% of their
  polygon's pixels changed.
* **no-text unchanged** -- plain photos whose output equals the input exactly.
* **ms/photo** -- median wall time per photo (redact: detect + cover + self-check).
"""

from __future__ import annotations

import argparse
import difflib
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from redact import obscure, policy
from redact.config import Settings
from redact.detect.text import TextDetector
from redact.detect.text.ocr import PaddleEngine, TesseractEngine, read_with_timeout
from redact.detect.text.recognise import normalise, rectify
from redact.detect.text.regions import Region, order_corners
from redact.models import model_path
from redact.synth.scenes import Item, Scene, generate

FILL = (0, 0, 0)


@dataclass
class Tally:
    """Counts for one tool."""

    legible_phi: int = 0
    covered_phi: int = 0
    readable_phi: int = 0
    harmless: int = 0
    harmless_altered: int = 0
    plain: int = 0
    plain_unchanged: int = 0
    ms: list[float] = field(default_factory=list)
    missed: dict[str, int] = field(default_factory=dict)


def _mask(item: Item, shape: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(np.array(item.polygon)).astype(np.int32)], 1)
    return mask.astype(bool)


def _covered_fraction(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> float:
    if not mask.any():
        return 1.0
    diff = np.abs(after.astype(np.int16) - before.astype(np.int16)).max(axis=2) > 30
    filled = (after == np.array(FILL, np.uint8)).all(axis=2)
    return float((diff | filled)[mask].mean())


def _changed_fraction(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> float:
    if not mask.any():
        return 0.0
    diff = np.abs(after.astype(np.int16) - before.astype(np.int16)).max(axis=2) > 30
    return float(diff[mask].mean())


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _similar(value: str, reading: str) -> float:
    v, r = _alnum(value), _alnum(reading)
    if not v or not r:
        return 0.0
    best = 0.0
    for start in range(max(1, len(r) - len(v) + 1)):
        best = max(best, difflib.SequenceMatcher(None, v, r[start : start + len(v)]).ratio())
    return best


class Reader:
    """The 'attacker': rectify each GT polygon and read it with both engines."""

    def __init__(self) -> None:
        self.engines = [TesseractEngine(), PaddleEngine(model_path("ppocr_rec"))]

    def readable(self, image: np.ndarray, items: list[Item]) -> list[bool]:
        if not items:
            return []
        crops = []
        for item in items:
            rect = cv2.minAreaRect(np.array(item.polygon, np.float32))
            grown = (rect[0], (rect[1][0] + 0.3 * min(rect[1]), rect[1][1] + 0.3 * min(rect[1])), rect[2])
            region = Region(order_corners(np.asarray(cv2.boxPoints(grown), np.float32)), 1.0)
            crops.append(normalise(rectify(image, region)))
        readings = [read_with_timeout(e, crops, 120) for e in self.engines]
        return [any(_similar(item.text, r[i].text) >= 0.8 for r in readings) for i, item in enumerate(items)]


def score(tally: Tally, scene: Scene, output: np.ndarray, reader: Reader) -> None:
    """Add one scene's outcome to ``tally``."""
    if scene.kind == "plain":
        tally.plain += 1
        tally.plain_unchanged += int(np.array_equal(scene.image, output))
        return
    phi = [i for i in scene.items if i.phi and i.legible]
    for item, still in zip(phi, reader.readable(output, phi), strict=True):
        tally.legible_phi += 1
        covered = _covered_fraction(scene.image, output, _mask(item, output.shape)) >= 0.95
        tally.covered_phi += int(covered)
        tally.readable_phi += int(still)
        if not covered:
            key = f"{scene.kind}/{item.label}"
            tally.missed[key] = tally.missed.get(key, 0) + 1
    if scene.negative:
        for item in scene.items:
            tally.harmless += 1
            tally.harmless_altered += int(_changed_fraction(scene.image, output, _mask(item, output.shape)) > 0.10)


def run_redact(detector: TextDetector, settings: Settings, image: np.ndarray) -> tuple[np.ndarray, float]:
    """Detect, cover, self-check (cover leaks once more); return output and ms."""
    started = time.perf_counter()
    findings = detector.detect(image)
    h, w = image.shape[:2]
    out = obscure.apply(image, policy.plan(findings, settings, w, h), settings) if findings else image
    if findings:
        leaks = detector.verify(out, findings)
        if leaks:
            out = obscure.apply(out, policy.plan(leaks, settings, w, h), settings)
    return out, (time.perf_counter() - started) * 1000


def _start_presidio(python: str) -> subprocess.Popen[str] | None:
    """Start Presidio in its own environment in serve mode (``None`` when unavailable)."""
    if not python or not Path(python).exists():
        return None
    script = Path(__file__).with_name("presidio_text.py")
    proc = subprocess.Popen(
        [python, str(script), "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        print("presidio failed to start", file=sys.stderr)
        proc.kill()
        return None
    return proc


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}% ({a}/{b})" if b else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--presidio", default="/work/venv-bench/bin/python", help="python of the Presidio env ('' skips)"
    )
    parser.add_argument("--max-side", type=int, default=None, help="override text_max_side")
    args = parser.parse_args()

    scenes = list(generate(args.count, args.seed))
    settings = Settings().replace(text_max_side=args.max_side)
    detector = TextDetector(settings)
    reader = Reader()
    tallies = {"redact": Tally()}
    baseline = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        presidio = _start_presidio(args.presidio)
        if presidio is not None:
            tallies["presidio"] = Tally()
        for i, s in enumerate(scenes):
            # Interleaved image by image, so both tools run under the same machine load.
            if presidio is not None:
                src, dst = Path(tmp) / f"{i:04d}.png", Path(tmp) / f"{i:04d}-presidio.png"
                Image.fromarray(s.image).save(src)
                assert presidio.stdin is not None and presidio.stdout is not None
                presidio.stdin.write(f"{src}\t{dst}\n")
                presidio.stdin.flush()
                tallies["presidio"].ms.append(float(presidio.stdout.readline()))
                score(tallies["presidio"], s, np.asarray(Image.open(dst).convert("RGB")), reader)
            out, ms = run_redact(detector, settings, s.image)
            tallies["redact"].ms.append(ms)
            score(tallies["redact"], s, out, reader)
            score(baseline, s, s.image, reader)
        if presidio is not None:
            presidio.communicate(timeout=60)

    print(
        f"\n{len(scenes)} scenes (seed {args.seed}); PHI OCR-readable in the *input*: "
        f"{baseline.readable_phi}/{baseline.legible_phi} legible items\n"
    )
    print(
        "| tool | legible PHI covered | PHI still OCR-readable | harmless text altered (negatives) "
        "| no-text photos unchanged | median ms/photo |"
    )
    print("|---|---|---|---|---|---|")
    for name, t in tallies.items():
        print(
            f"| {name} | {pct(t.covered_phi, t.legible_phi)} | {t.readable_phi} of {t.legible_phi} "
            f"| {pct(t.harmless_altered, t.harmless)} | {pct(t.plain_unchanged, t.plain)} "
            f"| {statistics.median(t.ms):.0f} |"
        )
    for name, t in tallies.items():
        if t.missed:
            print(f"\n{name} uncovered PHI by scene/entity: {dict(sorted(t.missed.items()))}")


if __name__ == "__main__":
    main()
