"""Batch throughput: 1 vs 2 cores (``--jobs``), and a second run on an unchanged folder (cache).

    python benchmarks/batch.py [--files 500] [--keep DIR] [--old-style] [--abba] [--wait-idle S]

Builds a folder of ``--files`` media files: the repo's samples, images from
``../shared/faces`` and the clips in ``../shared/video`` when present, with 5% of the
files corrupted (truncated or garbage).  Then runs ``redact clean`` three times through
the real CLI (``--jobs 1``: one process on one core; ``--jobs 2``: two workers with one
thread each; ``--jobs 2`` again on the unchanged folder) and prints a markdown table:
seconds, files/s, CPU seconds and cores kept busy, the cores other processes kept busy
meanwhile (the machine may be shared; ``--wait-idle S`` waits for a quiet moment before
each run), speed-up, exit code, and whether every corrupt file is listed as failed.

``--abba`` runs ``--jobs 1`` and ``--jobs 2`` once more, in reverse order (1, 2, cache,
2, 1), and also prints the speed-up of the summed times: this VM's speed drifts by 10% or
more over minutes, and the mirrored order cancels a steady drift.

``--old-style`` adds the run that ``--jobs 1`` was before the thread budget: one process
with two threads (what a single file still gets with ``--jobs 2``), run by patching the
worker plan to one worker.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
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


#: ``python -m redact`` with every batch run in one process, keeping the whole thread budget.
ONE_PROCESS = (
    "import redact.batch as p; p.worker_plan = lambda cores, files: (1, cores); from redact.cli import main; main()"
)


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (Linux ``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_idle(limit_s: float, busy: float = 0.15, window_s: float = 10.0) -> float:
    """Wait (at most ``limit_s``) until the machine is nearly idle for ``window_s``; return the wait."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        before = busy_seconds()
        time.sleep(window_s)
        if (busy_seconds() - before) / window_s < busy:
            break
    return time.perf_counter() - started


def run(
    folder: Path, out: Path, jobs: int, one_process: bool = False
) -> tuple[float, int, dict[str, object], float, float]:
    """``(seconds, exit code, JSON report, CPU seconds of redact and its children, of all others)``."""
    entry = ["-c", ONE_PROCESS] if one_process else ["-m", "redact"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine = busy_seconds()
    started = time.perf_counter()
    proc = subprocess.run(
        # The cache sits beside the output folder, one per output folder (never inside it).
        [*(sys.executable, *entry, "clean", str(folder), "-o", str(out), "--cache", f"{out}.cache"),
         *("-j", str(jobs), "--json", "-q")],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    others = max(0.0, busy_seconds() - machine - cpu)
    return elapsed, proc.returncode, json.loads(proc.stdout), cpu, others


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--keep", type=Path, help="build the folder here and keep it")
    parser.add_argument("--old-style", action="store_true", help="also run one process with two threads")
    parser.add_argument("--abba", action="store_true", help="run --jobs 2 and --jobs 1 again, in reverse order")
    parser.add_argument(
        "--wait-idle", type=float, default=0.0, metavar="S", help="before each run, wait up to S s for an idle machine"
    )
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="redact-batch-"))
    folder = work / "in"
    if folder.exists():
        shutil.rmtree(folder)
    corrupt, videos = build(folder, args.files)
    if not (SHARED / "faces").is_dir():
        print(f"note: {SHARED} not found; using the repo's samples only")
    rows = []

    def timed(
        name: str, out: str, jobs: int, one_process: bool = False
    ) -> tuple[float, int, dict[str, object], float, float]:
        if args.wait_idle:
            wait_idle(args.wait_idle)
        result = run(folder, work / out, jobs, one_process)
        rows.append((name, *result))
        return result

    one = timed("`--jobs 1`: 1 worker, 1 thread, first run", "out1", 1)
    two = timed("`--jobs 2`: 2 workers, 1 thread each, first run", "out2", 2)
    again = timed("`--jobs 2`, unchanged folder (cache)", "out2", 2)
    if args.abba:
        two_b = timed("`--jobs 2`: 2 workers, 1 thread each, first run (repeat)", "out2b", 2)
        one_b = timed("`--jobs 1`: 1 worker, 1 thread, first run (repeat)", "out1b", 1)
    if args.old_style:
        timed("old `--jobs 1`: 1 worker, 2 threads, first run", "out3", 2, one_process=True)
    print(f"\n{args.files} files ({len(corrupt)} corrupt, {len(videos)} videos) on {os.cpu_count()} CPUs\n")
    print(
        "| run | seconds | files/s | CPU s | cores busy | other processes' cores | speed-up vs `--jobs 1` | exit code |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, seconds, code, _, cpu, others in rows:
        print(
            f"| {name} | {seconds:.1f} | {args.files / seconds:.1f} | {cpu:.1f} | {cpu / seconds:.2f} "
            f"| {others / seconds:.2f} | {one[0] / seconds:.2f}x | {code} |"
        )
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
    if args.abba:
        print(
            f"- speed-up of the mirrored pairs, (`--jobs 1` + repeat) / (`--jobs 2` + repeat): "
            f"{(one[0] + one_b[0]) / (two[0] + two_b[0]):.2f}x"
        )
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
