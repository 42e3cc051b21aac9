"""Does ``redact check`` pass what ``redact clean`` wrote?  Faces flagged again on covered photos.

Usage::

    python benchmarks/reflag.py [--step 6]     # every 6th photo of both face sets

For each photo: detect faces, cover them (each face method), then run the face detector on
the covered pixels, as ``redact check`` would on the written copy.  Printed with and without
the face self-check :func:`redact.covering.cover_faces_left` that ``clean`` runs, with the
extra seconds it costs per photo.  Reads ``../shared/faces`` (or ``$REDACT_SHARED``); exits 0
with a message when the data is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._data import iter_sets
from redact import obscure, policy
from redact.analysis import Analyzer
from redact.config import FaceMethod, Settings
from redact.covering import cover_faces_left


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=6, help="every n-th photo of each set")
    args = parser.parse_args(argv)
    samples = [s for _, found in iter_sets(["wider_dev", "facemask_dev"], None) for s in found[:: args.step]]
    if not samples:
        print("no evaluation data (../shared/faces or $REDACT_SHARED): nothing to benchmark", file=sys.stderr)
        return 0
    print(f"{len(samples)} photos (every {args.step}th of wider_dev and facemask_dev)\n")
    print("| face method | flagged again, no face self-check | flagged again, with it (clean) | extra s/photo |")
    print("|---|---|---|---|")
    for method in FaceMethod:
        settings = Settings().replace(face_method=method, stages=("faces",))
        analyzer = Analyzer(settings)
        plain = rechecked = 0
        extra = 0.0
        for sample in samples:
            rgb = sample.load()
            h, w = rgb.shape[:2]
            faces = analyzer.faces_left(rgb)
            covered = obscure.apply(rgb, policy.plan(faces, settings, w, h), settings) if faces else rgb
            plain += bool(analyzer.faces_left(np.ascontiguousarray(covered[..., :3])))
            if faces:
                start = time.perf_counter()
                covered, _ = cover_faces_left(covered, faces, analyzer, w, h)
                extra += time.perf_counter() - start
            rechecked += bool(analyzer.faces_left(np.ascontiguousarray(covered[..., :3])))
        analyzer.close()
        n = len(samples)
        print(
            f"| {method.value} | {plain}/{n} ({plain / n:.0%}) | {rechecked}/{n} ({rechecked / n:.0%}) "
            f"| {extra / n:.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
