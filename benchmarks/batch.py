"""Batch throughput: 1 vs 2 workers, and a second run on an unchanged folder (cache).

    python benchmarks/batch.py [--files 500] [--keep DIR]

Builds a folder of ``--files`` media files: the repo's samples, images from
``../shared/faces`` and the clips in ``../shared/video`` when present, with 5% of the
files corrupted (truncated or garbage).  Then runs ``redact clean`` three times through
the real CLI and prints a markdown table: seconds, files/s, speed-up, exit code, and
whether every corrupt file is listed as failed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REDACT_SHARED", ROOT.parent / "shared"))


def sources() -> list[Path]:
    found = sorted(p for p in (ROOT / "samples").iterdir() if p.suffix.lower() in {".jpg", ".png", ".heic"})
    faces = SHARED / "faces"
    if faces.is_dir():
        found += sorted(faces.glob("*/images/*"))
    video = SHARED / "video"
    if video.is_dir():
        found += sorted(p for p in video.iterdir() if _seconds(p) <= MAX_VIDEO_S)
    return found


#: Longer clips are left out: one 2-minute clip would dominate the batch's time.
MAX_VIDEO_S = 10.0


def _seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return (container.duration or 0) / av.time_base


def build(folder: Path, n: int, seed: int = 0) -> tuple[set[str], set[str]]:
    """Fill ``folder``; return the names of the corrupt files and of the videos."""
    rng = random.Random(seed)
    pool = sources()
    corrupt: set[str] = set()
    videos: set[str] = set()
    n_corrupt = max(1, n // 20)
    for i, src in zip(range(n), itertools.cycle(pool), strict=False):
        sub = folder / f"day{i % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        dest = sub / f"{i:04}_{src.name}"
        data = src.read_bytes()
        if i < n_corrupt:
            data = data[: len(data) // 3] if i % 2 else bytes(rng.getrandbits(8) for _ in range(2048))
            corrupt.add(dest.relative_to(folder).as_posix())
        elif src.suffix.lower() in {".mp4", ".mkv", ".mov"}:
            videos.add(dest.relative_to(folder).as_posix())
        dest.write_bytes(data)
    return corrupt, videos


def run(folder: Path, out: Path, jobs: int) -> tuple[float, int, dict[str, object]]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "redact", "clean", str(folder), "-o", str(out), "-j", str(jobs), "--json", "-q"],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    return elapsed, proc.returncode, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--keep", type=Path, help="build the folder here and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="redact-batch-"))
    folder = work / "in"
    if folder.exists():
        shutil.rmtree(folder)
    corrupt, videos = build(folder, args.files)
    if not (SHARED / "faces").is_dir():
        print(f"note: {SHARED} not found; using the repo's samples only")
    rows = []
    one = run(folder, work / "out1", 1)
    rows.append(("1 worker, first run", *one))
    two = run(folder, work / "out2", 2)
    rows.append(("2 workers, first run", *two))
    again = run(folder, work / "out2", 2)
    rows.append(("2 workers, unchanged folder (cache)", *again))
    print(f"\n{args.files} files ({len(corrupt)} corrupt, {len(videos)} videos) on {os.cpu_count()} CPUs\n")
    print("| run | seconds | files/s | speed-up vs 1 worker | exit code |")
    print("|---|---:|---:|---:|---:|")
    for name, seconds, code, _ in rows:
        print(f"| {name} | {seconds:.1f} | {args.files / seconds:.1f} | {one[0] / seconds:.2f}x | {code} |")
    report = two[2]
    files = report["files"] if isinstance(report, dict) else []
    failed = {
        Path(f["path"]).relative_to(folder).as_posix()
        for f in files  # type: ignore[union-attr]
        if f["status"] == "failed"
    }
    print()
    print(f"- corrupt files listed as failed: {len(corrupt & failed)}/{len(corrupt)}")
    redacted = {
        Path(f["path"]).relative_to(folder).as_posix()
        for f in files  # type: ignore[union-attr]
        if f["status"] in ("redacted", "clean")
    }
    print(f"- videos written (clips up to {MAX_VIDEO_S:g} s): {len(videos & redacted)}/{len(videos)}")
    print(f"- other failures: {len(failed - corrupt - videos)}")
    print(f"- cache speed-up (first 2-worker run / second run): {two[0] / again[0]:.1f}x")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
