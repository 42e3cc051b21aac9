"""Synthetic test videos with exact per-frame face ground truth, built from real face photos.

A *scene* is one photo of ``../shared/faces/<set>`` seen through a moving virtual camera:
every frame is ``cv2.warpAffine(photo, M_t)`` for a per-frame affine ``M_t`` (scale,
rotation, translation), and the photo's GT face boxes are mapped through the same ``M_t``
(the axis-aligned bounding box of the four mapped corners).  Motions:

* ``pan``   -- constant zoom, the view travels diagonally across the photo (eased);
* ``zoom``  -- zooms out until the photo is smaller than the frame, then in to ~2.4x;
* ``shake`` -- hand-held: a smoothed random walk of the centre (+-3% of the frame) and
  rotation (+-2 degrees) at a fixed zoom, with per-frame jitter;
* ``whip``  -- pan + zoom + shake at once, and fast, each frame the mean of 3 sub-frame
  renders (motion blur over half the frame interval).

Clips are H.264 (libx264, yuv420p, crf 18, preset medium) in MP4 written with PyAV into a
cache folder (default ``/tmp/redact-bench-video``); a clip is rebuilt only when its spec
changes.  Ground truth is ``<clip>.gt.jsonl``, one line per frame::

    {"frame": i, "faces": [[x0, y0, x1, y1], ...], "ids": [k, ...], "ignore": [[x0, y0, x1, y1], ...]}

in display pixels (xyxy, clipped to the frame); ``ids`` name each face by its index in the
photo's GT, so a face can be followed from frame to frame.  A GT face whose mapped box lies less than
half inside the frame is dropped; a face whose visible box is under ``MIN_FACE`` (24) px
high, and every source ``ignore`` box, goes to ``ignore`` (neither a hit nor a miss).
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks._data import XYXY, Sample, load_set, shared_dir

MIN_FACE = 24
#: Fraction of a mapped face box that must lie inside the frame for the face to count.
MIN_VISIBLE = 0.5
DEFAULT_CACHE = Path("/tmp/redact-bench-video")
#: Bumped whenever rendering changes, so cached clips are rebuilt.
RENDER_VERSION = 3
BORDER = (114, 114, 114)

Image = npt.NDArray[np.uint8]
Affine = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SceneSpec:
    """One synthetic clip: a photo, a motion, a frame size, a rate and a length."""

    name: str
    set_name: str
    file: str
    motion: str
    width: int
    height: int
    fps: int
    frames: int
    seed: int = 0

    def key(self) -> str:
        blob = json.dumps({**asdict(self), "v": RENDER_VERSION}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


@dataclass
class Clip:
    """A rendered clip on disk and its per-frame ground truth."""

    spec: SceneSpec
    path: Path
    faces: list[list[XYXY]]
    ignore: list[list[XYXY]]
    ids: list[list[int]]

    @property
    def frames(self) -> int:
        return len(self.faces)


# Photos with several faces >= 24 px (WIDER: families, a parade, an interview, a couple;
# face-mask set: a street scene with masks).  Missing files are skipped.
PHOTOS = {
    "family": ("wider_dev", "images/20--Family_Group__20_Family_Group_Family_Group_20_540.jpg"),
    "family2": ("wider_dev", "images/20--Family_Group__20_Family_Group_Family_Group_20_33.jpg"),
    "parade": ("wider_dev", "images/0--Parade__0_Parade_Parade_0_470.jpg"),
    "interview": ("wider_dev", "images/13--Interview__13_Interview_Interview_2_People_Visible_13_252.jpg"),
    "couple": ("wider_dev", "images/19--Couple__19_Couple_Couple_19_836.jpg"),
    "masks": ("facemask_dev", "images/maksssksksss340.png"),
}


def _spec(name: str, photo: str, motion: str, size: str, fps: int, seconds: float, seed: int = 0) -> SceneSpec:
    set_name, file = PHOTOS[photo]
    width, height = {"720p": (1280, 720), "1080p": (1920, 1080)}[size]
    return SceneSpec(name, set_name, file, motion, width, height, fps, round(fps * seconds), seed)


def scene_specs(quick: bool = False) -> list[SceneSpec]:
    """The leak-test clips (``quick``: three short ones)."""
    if quick:
        return [
            _spec("720p-pan-family", "family", "pan", "720p", 25, 2),
            _spec("720p-shake-parade", "parade", "shake", "720p", 25, 2, seed=1),
            _spec("1080p-pan-family2", "family2", "pan", "1080p", 30, 2),
        ]
    return [
        _spec("720p-pan-family", "family", "pan", "720p", 25, 6),
        _spec("720p-zoom-interview", "interview", "zoom", "720p", 25, 4),
        _spec("720p-shake-parade", "parade", "shake", "720p", 25, 4, seed=1),
        _spec("720p-whip-masks", "masks", "whip", "720p", 30, 3, seed=2),
        _spec("1080p-pan-family2", "family2", "pan", "1080p", 30, 5),
        _spec("1080p-zoom-couple", "couple", "zoom", "1080p", 30, 3),
    ]


def _ease(t: float) -> float:
    """Smooth 0 -> 1 (cosine ease in/out)."""
    return 0.5 - 0.5 * math.cos(math.pi * min(1.0, max(0.0, t)))


def _affine(scale: float, angle_deg: float, centre: tuple[float, float], width: int, height: int) -> Affine:
    """Map photo (edge) coordinates so that photo point ``centre`` lands mid-frame, scaled and rotated."""
    a = math.radians(angle_deg)
    c, s = scale * math.cos(a), scale * math.sin(a)
    lin = np.array([[c, -s], [s, c]])
    t = np.array([width / 2, height / 2]) - lin @ np.array(centre)
    return np.hstack([lin, t[:, None]])


def _clamp_centre(cx: float, cy: float, scale: float, iw: int, ih: int, width: int, height: int) -> tuple[float, float]:
    """Keep the view inside the photo where the photo is larger than the frame; centre it otherwise."""
    hw, hh = width / 2 / scale, height / 2 / scale
    cx = min(max(cx, hw), iw - hw) if iw > 2 * hw else iw / 2
    cy = min(max(cy, hh), ih - hh) if ih > 2 * hh else ih / 2
    return cx, cy


class _Shake:
    """Hand-held camera: smoothed random walk plus per-frame jitter (deterministic per seed)."""

    def __init__(self, seed: int, frames: int, amplitude: float, degrees: float) -> None:
        rng = np.random.default_rng(seed)
        kernel = np.hanning(9)
        kernel /= kernel.sum()

        def walk(amp: float) -> npt.NDArray[np.float64]:
            steps = rng.normal(0, 1, frames + 8)
            smooth = np.convolve(np.cumsum(steps) * 0.35, kernel, mode="same")[4 : 4 + frames]
            smooth -= smooth.mean()
            peak = float(np.abs(smooth).max()) or 1.0
            return amp * (0.8 * smooth / peak + 0.2 * rng.uniform(-1, 1, frames))

        self.dx, self.dy, self.angle = walk(amplitude), walk(amplitude), walk(degrees)


def _camera(spec: SceneSpec, iw: int, ih: int, faces: Sequence[XYXY]) -> list[list[Affine]]:
    """Per frame, the affines of its sub-frame renders (one, or three for motion blur)."""
    w, h, n = spec.width, spec.height, spec.frames
    fill = max(w / iw, h / ih)
    big = [f for f in faces if f[3] - f[1] >= 24] or list(faces) or [(0.0, 0.0, float(iw), float(ih))]
    fx = float(np.mean([(f[0] + f[2]) / 2 for f in big]))
    fy = float(np.mean([(f[1] + f[3]) / 2 for f in big]))
    shake = _Shake(spec.seed, n + 1, amplitude=0.03 * h, degrees=2.0)
    out: list[list[Affine]] = []
    for i in range(n):
        subs = (0.0, 0.25, 0.5) if spec.motion == "whip" else (0.0,)
        mats = []
        for sub in subs:
            t = (i + sub) / max(1, n - 1)
            angle, jx, jy = 0.0, 0.0, 0.0
            if spec.motion == "pan":
                scale = fill * 1.5
                u = _ease(t)
                cx, cy = (1 - u) * 0 + u * iw, (1 - u) * 0 + u * ih
            elif spec.motion == "zoom":
                # 1 -> 0.6 (photo smaller than the frame) -> 2.4 x fill, about the faces' centroid.
                z = 1 - 0.4 * _ease(t / 0.3) if t < 0.3 else 0.6 + 1.8 * _ease((t - 0.3) / 0.7)
                scale = fill * z
                cx, cy = fx, fy
            elif spec.motion == "shake":
                scale = fill * 1.25
                cx, cy = iw / 2, ih / 2
                k = min(n, i + (1 if sub >= 0.5 else 0))
                angle, jx, jy = shake.angle[k], shake.dx[k], shake.dy[k]
            elif spec.motion == "whip":
                # Two fast back-and-forth passes with zoom breathing and shake.
                scale = fill * (1.4 + 0.4 * math.sin(2 * math.pi * t))
                u = 0.5 - 0.5 * math.cos(2 * math.pi * 2 * t)
                cx, cy = u * iw, ih * (0.3 + 0.4 * t)
                k = min(n, i + (1 if sub >= 0.5 else 0))
                angle, jx, jy = shake.angle[k], shake.dx[k], shake.dy[k]
            else:
                raise ValueError(f"unknown motion {spec.motion!r}")
            cx, cy = _clamp_centre(cx, cy, scale, iw, ih, w, h)
            m = _affine(scale, angle, (cx, cy), w, h)
            m[:, 2] += (jx, jy)
            mats.append(m)
        out.append(mats)
    return out


def map_box(m: Affine, box: XYXY) -> XYXY:
    """The axis-aligned bounding box of ``box`` (edge coordinates) mapped by ``m``."""
    corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[0], box[3]], [box[2], box[3]]])
    pts = corners @ m[:, :2].T + m[:, 2]
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def _clip(box: XYXY, width: int, height: int) -> XYXY | None:
    x0, y0 = max(0.0, box[0]), max(0.0, box[1])
    x1, y1 = min(float(width), box[2]), min(float(height), box[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def frame_truth(m: Affine, sample: Sample, width: int, height: int) -> tuple[list[XYXY], list[int], list[XYXY]]:
    """GT ``(faces, their ids, ignore)`` of one frame rendered with affine ``m`` (display pixels, clipped)."""
    faces: list[XYXY] = []
    ids: list[int] = []
    ignore: list[XYXY] = []
    for k, (box, is_face) in enumerate([(b, True) for b in sample.faces] + [(b, False) for b in sample.ignore]):
        full = map_box(m, box)
        vis = _clip(full, width, height)
        if vis is None:
            continue
        area = (full[2] - full[0]) * (full[3] - full[1])
        if area <= 0 or (vis[2] - vis[0]) * (vis[3] - vis[1]) < MIN_VISIBLE * area:
            ignore.append(vis)  # mostly outside the frame: neither a hit nor a miss
        elif is_face and vis[3] - vis[1] >= MIN_FACE:
            faces.append(vis)
            ids.append(k)
        else:
            ignore.append(vis)
    return faces, ids, ignore


def _render(photo: Image, mats: Sequence[Affine], width: int, height: int) -> Image:
    """One frame: the photo warped by each affine (edge -> pixel-centre coordinates), averaged."""
    acc: npt.NDArray[np.float32] | None = None
    for m in mats:
        centre = m.copy()
        # Edge coords e map to e' = A e + t; pixel centres sit at e - 0.5.
        centre[:, 2] = m[:, 2] + m[:, :2] @ np.array([0.5, 0.5]) - 0.5
        frame = cv2.warpAffine(
            photo, centre, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=BORDER
        )
        if len(mats) == 1:
            return np.asarray(frame, dtype=np.uint8)
        acc = frame.astype(np.float32) if acc is None else acc + frame
    assert acc is not None
    return np.clip(acc / len(mats) + 0.5, 0, 255).astype(np.uint8)


def _photo(spec: SceneSpec, root: Path) -> Sample | None:
    folder = root / "faces" / spec.set_name
    if not (folder / "gt.jsonl").is_file():
        return None
    for sample in load_set(folder):
        if sample.path == folder / spec.file:
            return sample if sample.path.is_file() else None
    return None


def encode(frames: Iterator[Image], path: Path, width: int, height: int, fps: int, crf: int = 18) -> int:
    """Write RGB frames as H.264 yuv420p MP4 (PyAV); returns the frame count."""
    import av

    tmp = path.with_suffix(".part" + path.suffix)
    n = 0
    with av.open(str(tmp), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps, options={"crf": str(crf), "preset": "medium"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
            n += 1
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)
    return n


def build(spec: SceneSpec, cache: Path, root: Path | None = None) -> Clip | None:
    """Render ``spec`` into ``cache`` (unless cached) and return it; None when its photo is absent."""
    root = root or shared_dir()
    if root is None:
        return None
    sample = _photo(spec, root)
    if sample is None:
        return None
    cache.mkdir(parents=True, exist_ok=True)
    stem = f"{spec.name}-{spec.key()}"
    video, gt = cache / f"{stem}.mp4", cache / f"{stem}.gt.jsonl"
    if not (video.is_file() and gt.is_file()):
        photo = sample.load()
        ih, iw = photo.shape[:2]
        cams = _camera(spec, iw, ih, sample.faces)
        encode(
            (_render(photo, mats, spec.width, spec.height) for mats in cams), video, spec.width, spec.height, spec.fps
        )
        with gt.open("w", encoding="utf-8") as fh:
            for i, mats in enumerate(cams):
                # GT of a blurred frame: the faces of its middle sub-frame render.
                faces, ids, ignore = frame_truth(mats[len(mats) // 2], sample, spec.width, spec.height)
                row = {
                    "frame": i,
                    "faces": [[round(v, 2) for v in b] for b in faces],
                    "ids": ids,
                    "ignore": [[round(v, 2) for v in b] for b in ignore],
                }
                fh.write(json.dumps(row) + "\n")
    return load_clip(spec, video, gt)


def _xyxy(b: Sequence[float]) -> XYXY:
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def load_clip(spec: SceneSpec, video: Path, gt: Path) -> Clip:
    faces: list[list[XYXY]] = []
    ignore: list[list[XYXY]] = []
    ids: list[list[int]] = []
    with gt.open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            faces.append([_xyxy(b) for b in d["faces"]])
            ignore.append([_xyxy(b) for b in d["ignore"]])
            ids.append([int(k) for k in d.get("ids", range(len(d["faces"])))])
    return Clip(spec, video, faces, ignore, ids)


def build_all(specs: Sequence[SceneSpec], cache: Path) -> list[Clip]:
    """Every clip whose photo exists (rendering the missing ones)."""
    return [c for c in (build(s, cache) for s in specs) if c is not None]


def loop_clip(source: Path, seconds: float, out: Path) -> Path:
    """``source`` repeated (stream copy, no re-encode) until it lasts at least ``seconds``."""
    import imageio_ffmpeg  # type: ignore[import-untyped]

    if out.is_file():
        return out
    import av

    with av.open(str(source)) as c:
        duration = float(c.duration or 0) / 1e6
    repeats = max(1, math.ceil(seconds / max(duration, 1e-3)))
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{source.resolve()}'\n" for _ in range(repeats)), encoding="utf-8")
    tmp = out.with_suffix(".part.mp4")
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-c",
            "copy",
            str(tmp),
        ],
        check=True,
    )
    listing.unlink()
    tmp.replace(out)
    return out
