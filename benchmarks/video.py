"""Video benchmark: leak frames, continuity, throughput and peak memory, redact vs deface.

Usage::

    python benchmarks/video.py                  # leak frames + continuity + throughput (~15-25 min)
    python benchmarks/video.py --quick          # three short clips, quick throughput
    python benchmarks/video.py --no-deface      # redact only
    python benchmarks/video.py --memory         # + peak RSS of `redact clean` on a 1-minute 1080p clip
    python benchmarks/video.py --memory --long  # + a 5-minute 1080p clip (~30+ minutes)
    python benchmarks/video.py --only leaks     # one part: leaks, continuity, throughput, memory

Test clips are rendered from the photos of ``../shared/faces`` with exact per-frame ground
truth (pan, zoom, hand-held shake, a fast "whip" with motion blur; 720p and 1080p; see
benchmarks/_video_scenes.py) into ``--cache`` (default ``/tmp/redact-bench-video``).  The
real clips ``../shared/video/asl_*.mkv`` (a face in every frame, no ground truth) get a
continuity check.  Exits 0 with a message when the shared data is absent.

Metrics:

* **leak frame** -- a frame in which some GT face >= 24 px high has < 80% of its GT box
  inside the union of the regions covered in that frame.  redact's covered regions are the
  boxes ``redact.video.frame_covers(path, Settings())`` yields per displayed frame (padded,
  clipped: exactly what is blurred); deface's are the ellipses its CLI paints by default
  (CenterFace at full resolution, threshold 0.2, ``mask_scale`` 1.3, OpenCV backend, which is
  what ``--backend auto`` picks without the ``onnx`` package), replicated in-process on
  the same decoded frames.  Target: 0 leak frames.
* **throughput** -- wall-clock frames/s of ``redact clean CLIP -o DIR --no-cache`` and
  ``deface CLIP -o OUT.mp4 --backend opencv`` (defaults otherwise; OpenCV is the backend
  ``auto`` picks on a plain ``pip install deface``, and deface's faster one here: with the
  ``onnx`` package that redact installs, ``auto`` picks onnxruntime, 4.9 instead of 7.2 fps
  at 720p), and of a plain ``ffmpeg -i CLIP -c:v libx264
  -preset P -crf C`` decode+encode with redact's encoder settings (the floor).  Target:
  redact >= 1.5x deface.
* **peak memory** -- peak RSS of the ``redact clean`` process tree (sampled /proc every
  0.2 s, summed over child processes) and the largest ``VmHWM`` of one process.  Target:
  flat in the clip's length and < 1.5 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._data import COVER_FRACTION, XYXY, box_mask, shared_dir
from benchmarks._video_scenes import DEFAULT_CACHE, Clip, build_all, loop_clip, scene_specs
from redact.config import Settings

Mask = npt.NDArray[np.bool_]
Image = npt.NDArray[np.uint8]
#: A tool under test: clip path -> per displayed frame, the covered-pixel mask and any
#: raw face boxes with scores (for the continuity cross-check).
Tool = Callable[[Path], Iterator[tuple[Mask, list[tuple[XYXY, float]]]]]

VENV_BIN = Path(sys.executable).parent
DEFACE_LABEL = "deface 1.5 default (t=0.2, ellipse 1.3)"


# --------------------------------------------------------------------------- tools


def decode_rgb(path: Path) -> Iterator[Image]:
    """Every displayed frame of ``path`` as RGB (PyAV)."""
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)


def _redact_frame_covers() -> tuple[Callable[[Path, Settings], Iterator[Sequence[object]]], str]:
    """``redact.video.frame_covers`` or, while it does not exist, a clearly labelled stand-in."""
    try:
        from redact.video import frame_covers  # type: ignore[import-not-found,unused-ignore]

        return frame_covers, "redact (redact.video.frame_covers)"
    except ImportError:
        pass
    from redact.detect.faces import CenterFaceDetector
    from redact.policy import plan
    from redact.types import Box

    detectors: dict[int, CenterFaceDetector] = {}

    def dummy(path: Path, settings: Settings) -> Iterator[list[Box]]:
        detector = detectors.setdefault(0, CenterFaceDetector(settings))
        for image in decode_rgb(path):
            h, w = image.shape[:2]
            yield [c.box for c in plan(detector.detect(image), settings, w, h)]

    return dummy, "DUMMY: per-frame CenterFaceDetector + plan (redact.video missing)"


def redact_tool(settings: Settings) -> tuple[Tool, str]:
    frame_covers, label = _redact_frame_covers()

    def run(path: Path) -> Iterator[tuple[Mask, list[tuple[XYXY, float]]]]:
        import av

        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            width, height = stream.width, stream.height
        for boxes in frame_covers(path, settings):
            covers = [b.xyxy for b in boxes]  # type: ignore[attr-defined]
            yield box_mask(covers, width, height), [(b, 1.0) for b in covers]

    return run, label


def deface_tool(threshold: float = 0.2, mask_scale: float = 1.3) -> Tool | None:
    """Deface 1.5's CLI per frame (``video_detect`` + ``anonymize_frame``), in-process."""
    try:
        import cv2
        from deface.centerface import CenterFace
        from deface.deface import scale_bb
    except ImportError:
        return None
    net = CenterFace(in_shape=None, backend="opencv")

    def run(path: Path) -> Iterator[tuple[Mask, list[tuple[XYXY, float]]]]:
        for image in decode_rgb(path):
            h, w = image.shape[:2]
            dets, _ = net(image, threshold=threshold)
            mask = np.zeros((h, w), dtype=np.uint8)
            raw: list[tuple[XYXY, float]] = []
            for det in dets:
                raw.append(((float(det[0]), float(det[1]), float(det[2]), float(det[3])), float(det[4])))
                x1, y1, x2, y2 = scale_bb(*det[:4].astype(int), mask_scale)
                y1, y2 = max(0, y1), min(h - 1, y2)
                x1, x2 = max(0, x1), min(w - 1, x2)
                if x2 > x1 and y2 > y1:
                    # skimage.draw.ellipse centred in the box, semi-axes half its size.
                    centre = (int((x1 + x2) // 2), int((y1 + y2) // 2))
                    axes = (int((x2 - x1) // 2), int((y2 - y1) // 2))
                    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, thickness=-1)
            yield mask.astype(bool), raw

    return run


# --------------------------------------------------------------------------- leak frames


def coverage(mask: Mask, box: XYXY) -> float:
    """Fraction of ``box``'s pixels inside ``mask`` (as in benchmarks/_data.py)."""
    height, width = mask.shape
    x0, y0 = max(0, round(box[0])), max(0, round(box[1]))
    x1, y1 = min(width, round(box[2])), min(height, round(box[3]))
    region = mask[y0:y1, x0:x1]
    return float(region.mean()) if region.size else 1.0


@dataclass
class Leak:
    """One GT face-frame covered less than COVER_FRACTION."""

    frame: int
    face: XYXY
    covered: float
    #: Displacement of the face's centre since the previous frame (px), if it was in it.
    speed: float | None = None


@dataclass
class LeakTally:
    """Per clip and tool: frames, GT face-frames, covered face-frames and leaks."""

    frames: int = 0
    yielded: int = 0
    face_frames: int = 0
    covered: int = 0
    leak_frames: list[int] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    seconds: float = 0.0


def score_clip(clip: Clip, tool: Tool) -> LeakTally:
    tally = LeakTally(frames=clip.frames)
    start = time.perf_counter()
    i = -1
    for i, (mask, _raw) in enumerate(tool(clip.path)):
        if i >= clip.frames:
            continue
        leaked = False
        before = dict(zip(clip.ids[i - 1], clip.faces[i - 1], strict=True)) if i > 0 else {}
        for k, face in zip(clip.ids[i], clip.faces[i], strict=True):
            tally.face_frames += 1
            frac = coverage(mask, face)
            if frac >= COVER_FRACTION:
                tally.covered += 1
            else:
                leaked = True
                prev = before.get(k)
                speed = (
                    None
                    if prev is None
                    else float(np.hypot(*(np.add(face[:2], face[2:]) - np.add(prev[:2], prev[2:])) / 2))
                )
                tally.leaks.append(Leak(i, face, frac, speed))
        if leaked:
            tally.leak_frames.append(i)
    tally.seconds = time.perf_counter() - start
    tally.yielded = i + 1
    # Frames the tool never produced covers for are uncovered: every face in them leaks.
    for j in range(tally.yielded, clip.frames):
        for face in clip.faces[j]:
            tally.face_frames += 1
            tally.leaks.append(Leak(j, face, 0.0))
        if clip.faces[j]:
            tally.leak_frames.append(j)
    return tally


def _runs(frames: Sequence[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for f in sorted(frames):
        if runs and f == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], f)
        else:
            runs.append((f, f))
    return runs


def leak_tables(clips: Sequence[Clip], results: dict[str, dict[str, LeakTally]]) -> str:
    lines = [
        "### Leak frames (synthetic clips, exact GT)",
        "",
        "| clip | motion | size | fps | frames | GT face-frames | tool | leak frames | face-frames covered "
        "| ms/frame |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    totals: dict[str, LeakTally] = {}
    for clip in clips:
        s = clip.spec
        for label, per_clip in results.items():
            t = per_clip[s.name]
            tot = totals.setdefault(label, LeakTally())
            tot.frames += t.frames
            tot.face_frames += t.face_frames
            tot.covered += t.covered
            tot.leak_frames += [0] * len(t.leak_frames)
            tot.seconds += t.seconds
            note = "" if t.yielded == t.frames else f" (yielded {t.yielded})"
            lines.append(
                f"| {s.name} | {s.motion} | {s.width}x{s.height} | {s.fps} | {t.frames}{note} | {t.face_frames} "
                f"| {label} | {len(t.leak_frames)} | {100 * t.covered / max(1, t.face_frames):.2f}% "
                f"| {1000 * t.seconds / max(1, t.frames):.0f} |"
            )
    for label, tot in totals.items():
        lines.append(
            f"| **all {len(clips)} clips** | | | | {tot.frames} | {tot.face_frames} | {label} "
            f"| **{len(tot.leak_frames)}** | {100 * tot.covered / max(1, tot.face_frames):.2f}% "
            f"| {1000 * tot.seconds / max(1, tot.frames):.0f} |"
        )
    for label, per_clip in results.items():
        rows = []
        for clip in clips:
            t = per_clip[clip.spec.name]
            for a, b in _runs(t.leak_frames):
                leaks = [lk for lk in t.leaks if a <= lk.frame <= b]
                heights = [lk.face[3] - lk.face[1] for lk in leaks]
                worst = min(leaks, key=lambda lk: lk.covered)
                cx, cy = (worst.face[0] + worst.face[2]) / 2, (worst.face[1] + worst.face[3]) / 2
                speeds = [lk.speed for lk in leaks if lk.speed is not None]
                speed = f"{max(speeds):.0f}" if speeds else "entering"
                rows.append(
                    f"| {clip.spec.name} | {a}-{b} | {len(leaks)} | {min(heights):.0f}-{max(heights):.0f} "
                    f"| {worst.covered:.2f} | ({cx:.0f}, {cy:.0f}) | {speed} |"
                )
        if rows:
            lines += [
                "",
                f"#### Where {label} leaks (runs of consecutive leak frames)",
                "",
                "| clip | frames | leaking face-frames | face height px | worst coverage | worst face centre "
                "| face speed px/frame |",
                "|---|---|---|---|---|---|---|",
                *rows[:40],
            ]
            if len(rows) > 40:
                lines.append(f"| ... {len(rows) - 40} more runs | | | | | | |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- continuity


def continuity(paths: Sequence[Path], tools: dict[str, Tool], deface: Tool | None) -> str:
    """Real clips with a face in every frame: frames with no cover, and misses of deface's sure faces."""
    lines = [
        "### Continuity on real clips (a face is visible in every frame)",
        "",
        "| clip | frames | tool | frames with no cover | frames missing a face deface scores >= 0.5 |",
        "|---|---|---|---|---|",
    ]
    for path in paths:
        sure: list[list[XYXY]] = []
        cached: list[tuple[Mask, list[tuple[XYXY, float]]]] = []
        if deface is not None:
            cached = list(deface(path))
            sure = [[b for b, s in raw if s >= 0.5] for _m, raw in cached]
        for label, tool in tools.items():
            empty = missed = n = 0
            frames = iter(cached) if tool is deface else tool(path)
            for i, (mask, _raw) in enumerate(frames):
                n += 1
                empty += not mask.any()
                if i < len(sure) and any(coverage(mask, b) < COVER_FRACTION for b in sure[i]):
                    missed += 1
            cross = "n/a" if deface is None else str(missed)
            lines.append(f"| {path.name} | {n} | {label} | {empty} | {cross} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- processes


@dataclass
class Run:
    """A finished subprocess: exit code, wall time and memory."""

    rc: int
    seconds: float
    hwm_mb: float  # largest VmHWM (own high-water mark) of any process in the tree, sampled
    tree_peak_mb: float  # sampled sum of VmRSS over the process tree
    log: Path


def _tree_rss_kb(pid: int) -> tuple[int, int]:
    """Sum of VmRSS and largest VmHWM over ``pid`` and its descendants (kB).

    Not ``ru_maxrss`` from ``wait4``: Linux carries the parent's RSS at fork into a child's
    ``ru_maxrss`` across ``exec``, so it would report this (large) benchmark process.
    """
    total, hwm, stack, seen = 0, 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as fh:
                    stack += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total, hwm


def run_measured(cmd: Sequence[str], log: Path) -> Run:
    """Run ``cmd`` (output to ``log``), timing it and sampling its process tree's RSS."""
    peak = hwm = 0
    start = time.perf_counter()
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak, hwm
            while not done.is_set():
                rss, high = _tree_rss_kb(proc.pid)
                peak, hwm = max(peak, rss), max(hwm, high)
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, _usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(proc.returncode, seconds, hwm / 1024, peak / 1024, log)


def count_frames(path: Path) -> int:
    import av

    try:
        with av.open(str(path)) as c:
            return sum(1 for _ in c.demux(video=0) if _.size)
    except (OSError, av.FFmpegError):
        return 0


def _encoder_settings() -> tuple[str, int]:
    try:
        from redact.media import video as rv  # type: ignore[attr-defined,unused-ignore]

        return str(rv.PRESET), int(rv.CRF)
    except (ImportError, AttributeError):
        return "veryfast", 18


def redact_clean(clip: Path, work: Path, name: str) -> tuple[Run, Path | None]:
    out_dir = work / f"redact-{name}"
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [str(VENV_BIN / "redact"), "clean", str(clip), "-o", str(out_dir), "--no-cache", "-q"]
    run = run_measured(cmd, work / f"redact-{name}.log")
    outputs = [p for p in out_dir.rglob("*") if p.is_file()] if out_dir.is_dir() else []
    return run, (outputs[0] if outputs else None)


def _tail(log: Path) -> str:
    text = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return (text[-1] if text else "").replace("|", "/")[:100]


def throughput(clips: Sequence[Clip], work: Path, with_deface: bool) -> str:
    import imageio_ffmpeg  # type: ignore[import-untyped]

    preset, crf = _encoder_settings()
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    lines = [
        "### Throughput (wall clock, whole process incl. start-up; frames/s)",
        "",
        f"ffmpeg floor: `ffmpeg -i CLIP -an -c:v libx264 -preset {preset} -crf {crf} -pix_fmt yuv420p OUT.mp4` "
        "(redact's encoder settings).  Load average (1 min) before: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work on the machine slows every column).",
        "",
        "| clip | frames | ffmpeg fps | deface fps | redact fps | redact / deface | redact / ffmpeg | redact output |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for clip in clips:
        n, name = clip.frames, clip.spec.name
        ff = run_measured(
            [
                ffmpeg,
                "-v",
                "error",
                "-y",
                "-i",
                str(clip.path),
                "-an",
                "-c:v",
                "libx264",
                "-preset",
                preset,
                "-crf",
                str(crf),
                "-pix_fmt",
                "yuv420p",
                str(work / f"ffmpeg-{name}.mp4"),
            ],
            work / f"ffmpeg-{name}.log",
        )
        ff_fps = n / ff.seconds if ff.rc == 0 else float("nan")
        de_fps = float("nan")
        if with_deface:
            out = work / f"deface-{name}.mp4"
            de = run_measured(
                [str(VENV_BIN / "deface"), str(clip.path), "-o", str(out), "--backend", "opencv"],
                work / f"deface-{name}.log",
            )
            de_fps = n / de.seconds if de.rc == 0 and out.is_file() else float("nan")
        rd, out_file = redact_clean(clip.path, work, name)
        if rd.rc == 0 and out_file is not None:
            got = count_frames(out_file)
            rd_fps = n / rd.seconds
            status = f"{out_file.suffix} {got}/{n} frames"
        else:
            rd_fps = float("nan")
            status = f"n/a (exit {rd.rc}: {_tail(rd.log)})"

        def fmt(v: float, digits: int = 1) -> str:
            return "n/a" if v != v else f"{v:.{digits}f}"

        lines.append(
            f"| {name} | {n} | {fmt(ff_fps)} | {fmt(de_fps)} | {fmt(rd_fps)} | {fmt(rd_fps / de_fps, 2)}x "
            f"| {fmt(rd_fps / ff_fps, 3)}x | {status} |"
        )
    lines.append(f"\nLoad average (1 min) after: {os.getloadavg()[0]:.1f}.")
    return "\n".join(lines)


def memory(base: Clip, lengths: Sequence[float], cache: Path, work: Path) -> str:
    lines = [
        f"### Peak memory of `redact clean` (1080p, clip `{base.spec.name}` looped)",
        "",
        "| length | frames | wall s | fps | peak RSS, process tree (sampled) | max VmHWM, one process | output |",
        "|---|---|---|---|---|---|---|",
    ]
    for seconds in lengths:
        looped = cache / f"{base.path.stem}-{seconds:g}s.mp4"
        clip = base.path if seconds <= 0 else loop_clip(base.path, seconds, looped)
        n = count_frames(clip)
        run, out = redact_clean(clip, work, f"mem-{seconds:g}")
        ok = run.rc == 0 and out is not None
        status = f"{count_frames(out)}/{n} frames" if ok and out else f"n/a (exit {run.rc}: {_tail(run.log)})"
        length = f"{n / base.spec.fps:.0f} s"
        lines.append(
            f"| {length} | {n} | {run.seconds:.0f} | {n / run.seconds:.1f} | {run.tree_peak_mb:.0f} MB "
            f"| {run.hwm_mb:.0f} MB | {status} |"
        )
        if out is not None:
            out.unlink(missing_ok=True)
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three short clips")
    parser.add_argument("--no-deface", action="store_true", help="skip the deface baseline")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"clip cache (default {DEFAULT_CACHE})")
    parser.add_argument("--memory", action="store_true", help="peak RSS on a 1-minute 1080p clip")
    parser.add_argument("--long", action="store_true", help="with --memory: also a 5-minute 1080p clip")
    parser.add_argument(
        "--only", nargs="+", choices=["leaks", "continuity", "throughput", "memory"], help="run only these parts"
    )
    parser.add_argument("--threads", type=int, default=2, help="OpenCV threads in this process")
    args = parser.parse_args(argv)

    root = shared_dir()
    if root is None or not (root / "faces").is_dir():
        print("shared data (../shared or $REDACT_SHARED) not found: nothing to benchmark")
        return 0
    import cv2

    cv2.setNumThreads(args.threads)
    parts = set(args.only or ["leaks", "continuity", "throughput", *(["memory"] if args.memory else [])])
    settings = Settings()
    redact, redact_label = redact_tool(settings)
    deface = None if args.no_deface else deface_tool()
    if deface is None and not args.no_deface:
        print("deface is not installed: skipping the baseline", file=sys.stderr)
    tools: dict[str, Tool] = {redact_label: redact}
    if deface is not None:
        tools = {DEFACE_LABEL: deface, **tools}

    command = " ".join(["python benchmarks/video.py", *(argv if argv is not None else sys.argv[1:])])
    print(f"## Video benchmark ({dt.date.today().isoformat()}, `{command}`)")
    print(f"\nredact covers from: **{redact_label}**\n")
    started = time.perf_counter()
    clips = build_all(scene_specs(args.quick), args.cache)
    if not clips:
        print("no face photos found in the shared data: nothing to benchmark")
        return 0
    if "leaks" in parts:
        results: dict[str, dict[str, LeakTally]] = {label: {} for label in tools}
        for clip in clips:
            for label, tool in tools.items():
                results[label][clip.spec.name] = score_clip(clip, tool)
                print(
                    f"  {clip.spec.name}: {label}: {len(results[label][clip.spec.name].leak_frames)} leak frames",
                    file=sys.stderr,
                )
        print(leak_tables(clips, results), "\n", flush=True)
    if "continuity" in parts:
        real = sorted((root / "video").glob("asl_*.mkv")) if (root / "video").is_dir() else []
        if args.quick:
            real = real[:1]
        if real:
            print(continuity(real, tools, deface), "\n", flush=True)
        else:
            print("(no ../shared/video/asl_*.mkv: continuity check skipped)\n")
    with tempfile.TemporaryDirectory(prefix="redact-video-bench-") as tmp:
        work = Path(tmp)
        if "throughput" in parts:
            picks = [c for c in clips if c.spec.motion == "pan"]
            print(throughput(picks, work, deface is not None), "\n", flush=True)
        if "memory" in parts:
            base = next((c for c in clips if c.spec.height == 1080), None)
            if base is None:
                print("(no 1080p clip: memory check skipped)\n")
            else:
                lengths = [0.0, 60.0, *([300.0] if args.long else [])]
                print(memory(base, lengths, args.cache, work), "\n", flush=True)
    print(f"_total {time.perf_counter() - started:.0f} s_")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
