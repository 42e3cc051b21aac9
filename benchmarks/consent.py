"""Consent-list benchmark: how often a stranger's face is kept visible, and an enrolled one is not.

Usage::

    python benchmarks/consent.py            # every image (15 minutes on a busy 2-core machine)
    python benchmarks/consent.py --quick    # every 4th image

No package on PyPI ships photos of several *labelled* identities under a permissive licence
(scikit-image's ``lfw_subset`` is 25x25 crops without names), so this uses the evaluation
data in ``../shared`` (never copied into the repository; the script exits 0 with a message
when it is absent):

* **impostor pairs** (false keep rate): every pair of distinct faces found by our detector in
  ``faces/wider_dev`` and ``faces/facemask_dev`` (different people, with rare exceptions:
  WIDER has no identity labels, so the same person in two photos would count as an impostor);
  plus *hard impostors*: the two different people of the ASL clips, same room and camera;
* **genuine, other recording**: ``video/asl_again.mkv`` and ``video/asl_help.mkv`` show the
  same person in two clips; enrol from 3 frames of one clip, probe every 2nd frame of the other;
* **genuine, same photo** (robustness only, *not* identity across photos): each frontal face
  >= 80 px is enrolled from the photo and probed with an altered copy (rescaled, rotated,
  relit, JPEG-recompressed, maybe mirrored).

Encodings are made with the pipeline's own path (CenterFace box -> dlib landmarks -> chip ->
ResNet) with the quality gate off, and the gate is applied afterwards, so one run gives
tables for several gates.  Prints markdown tables (copied into benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._data import Sample, _iou, shared_dir
from redact.config import Settings
from redact.consent.encoder import FaceEncoder, Quality, sharpness
from redact.detect.faces import CenterFaceDetector
from redact.types import Box, Finding

Image = npt.NDArray[np.uint8]
THRESHOLDS = (0.30, 0.33, 0.35, 0.38, 0.40, 0.42, 0.45, 0.50, 0.55, 0.60)
#: Encodings in the simulated store for the per-face false keep rate.
STORE_SIZE = 30
FRONTAL_PX = 80.0


@dataclass
class Face:
    """One encoded face: where it came from, its size, sharpness and encoding."""

    source: str
    height: float
    sharp: float
    frontal: bool
    vector: npt.NDArray[np.float64]


class Encoder:
    """Detector + ungated encoder; records height and chip sharpness for gating later."""

    def __init__(self) -> None:
        self.detector = CenterFaceDetector(Settings())
        self.encoder = FaceEncoder(Quality(min_face_px=0.0, min_sharpness=0.0))
        self.ms: list[float] = []

    def face(self, image: Image, box: Box, source: str, frontal: bool) -> Face:
        started = time.perf_counter()
        vector = self.encoder.encode(image, box)
        self.ms.append((time.perf_counter() - started) * 1000)
        assert vector is not None
        return Face(source, box.height, chip_sharpness(self.encoder, image, box), frontal, vector)


def chip_sharpness(encoder: FaceEncoder, image: Image, box: Box) -> float:
    from redact.consent.encoder import dlib_rect_for

    dlib = encoder._dlib
    rgb = np.ascontiguousarray(image)
    shape = encoder._landmarks(rgb, dlib.rectangle(*dlib_rect_for(box)))
    return sharpness(np.asarray(dlib.get_face_chip(rgb, shape, size=150, padding=0.25), dtype=np.uint8))


def load_sets(root: Path, step: int) -> list[tuple[Sample, list[dict[str, int]] | None, list[str] | None]]:
    import json

    out = []
    for name in ("wider_dev", "facemask_dev"):
        gt = root / "faces" / name / "gt.jsonl"
        if not gt.is_file():
            continue
        for i, line in enumerate(gt.read_text().splitlines()):
            if i % step:
                continue
            d = json.loads(line)
            faces = [(x, y, x + w, y + h) for x, y, w, h in d["faces"]]
            sample = Sample(gt.parent / d["file"], faces, [])
            out.append((sample, d.get("attrs"), d.get("labels")))
    return out


def photo_faces(enc: Encoder, root: Path, step: int, rng: np.random.Generator) -> tuple[list[Face], list[float]]:
    """Encode every detected face >= 40 px that matches a GT face; genuine distances from augmentations."""
    faces: list[Face] = []
    genuine: list[float] = []
    for sample, attrs, labels in load_sets(root, step):
        image = sample.load()
        for det in enc.detector.detect(image):
            box = det.box
            if box.height < 40:
                continue
            ious = [_iou(box.xyxy, g) for g in sample.faces]
            if not ious or max(ious) < 0.4:
                continue  # not a labelled face: a false detection would only blur the numbers
            k = int(np.argmax(ious))
            frontal = True
            if attrs is not None:
                a = attrs[k]
                frontal = a.get("pose", 0) == 0 and a.get("occlusion", 0) == 0
            if labels is not None:
                frontal = labels[k] == "without_mask"
            face = enc.face(image, box, sample.path.name, frontal)
            faces.append(face)
            if frontal and box.height >= FRONTAL_PX:
                probe = augmented(enc, image, box, rng)
                if probe is not None:
                    genuine.append(float(np.linalg.norm(probe.vector - face.vector)))
    return faces, genuine


def augmented(enc: Encoder, image: Image, box: Box, rng: np.random.Generator) -> Face | None:
    """The same face after a random rescale, rotation, relighting, JPEG round trip and maybe a mirror."""
    h, w = image.shape[:2]
    pad = box.pad(0.8).clip(w, h)
    assert pad is not None
    x0, y0, x1, y1 = (int(v) for v in pad.xyxy)
    crop = image[y0:y1, x0:x1]
    scale = rng.uniform(max(0.6, FRONTAL_PX / box.height), 1.0)
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ch, cw = crop.shape[:2]
    matrix = cv2.getRotationMatrix2D((cw / 2, ch / 2), rng.uniform(-10, 10), 1.0)
    crop = cv2.warpAffine(crop, matrix, (cw, ch), borderMode=cv2.BORDER_REFLECT)
    crop = np.clip(crop.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-25, 25), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        crop = np.ascontiguousarray(crop[:, ::-1])
    _ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 75))])
    crop = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    dets = enc.detector.detect(crop)
    if not dets:
        return None
    centre = np.array([cw / 2, ch / 2])

    def off_centre(d: Finding) -> float:
        return float(np.hypot(*(np.array([(d.box.x0 + d.box.x1) / 2, (d.box.y0 + d.box.y1) / 2]) - centre)))

    best = min(dets, key=off_centre)
    return enc.face(crop, best.box, "augmented", True)


def clip_faces(enc: Encoder, path: Path, every: int = 2) -> list[Face]:
    """The largest face in every ``every``-th frame of a clip."""
    capture = cv2.VideoCapture(str(path))
    faces: list[Face] = []
    for index in itertools.count():
        ok, frame = capture.read()
        if not ok:
            break
        if index % every:
            continue
        rgb = np.ascontiguousarray(frame[..., ::-1])
        dets = enc.detector.detect(rgb)
        if dets:
            best = max(dets, key=lambda d: d.box.area)
            faces.append(enc.face(rgb, best.box, f"{path.stem}:{index}", True))
    capture.release()
    return faces


def gated(faces: list[Face], quality: Quality) -> list[Face]:
    return [f for f in faces if f.height >= quality.min_face_px and f.sharp >= quality.min_sharpness]


def enrol(faces: list[Face]) -> npt.NDArray[np.float64]:
    """Three reference encodings spread over a clip (as a user would pick three photos)."""
    picks = [faces[len(faces) * k // 4] for k in (1, 2, 3)]
    return np.stack([f.vector for f in picks])


def min_dist(gallery: npt.NDArray[np.float64], probes: list[Face]) -> npt.NDArray[np.float64]:
    if not probes:
        return np.zeros(0)
    return np.array([float(np.min(np.linalg.norm(gallery - p.vector, axis=1))) for p in probes])


def pair_dists(faces: list[Face]) -> npt.NDArray[np.float64]:
    if len(faces) < 2:
        return np.zeros(0)
    v = np.stack([f.vector for f in faces])
    sq = np.sum(v**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * v @ v.T, 0)
    iu = np.triu_indices(len(faces), 1)
    return np.sqrt(d2[iu])


def store_false_keeps(faces: list[Face], rng: np.random.Generator, rounds: int = 20) -> npt.NDArray[np.float64]:
    """Nearest-reference distance of each stranger to a random store of STORE_SIZE encodings.

    The store holds faces of other photos than the probe's (strangers); repeated ``rounds`` times.
    """
    if len(faces) <= STORE_SIZE:
        return np.zeros(0)
    out: list[float] = []
    for _ in range(rounds):
        pick = rng.choice(len(faces), STORE_SIZE, replace=False)
        photos = {faces[i].source for i in pick}
        gallery = np.stack([faces[i].vector for i in pick])
        probes = [f for f in faces if f.source not in photos]
        out.extend(min_dist(gallery, probes).tolist())
    return np.asarray(out)


def rate(d: npt.NDArray[np.float64], t: float) -> str:
    return f"{100 * float(np.mean(d <= t)):.3f}%" if len(d) else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every 4th image")
    args = parser.parse_args()
    root = shared_dir()
    if root is None or not (root / "faces").is_dir():
        print("../shared/faces not found: skipping the consent benchmark")
        return 0
    rng = np.random.default_rng(8)
    enc = Encoder()
    started = time.perf_counter()
    faces, same_photo = photo_faces(enc, root, 4 if args.quick else 1, rng)
    video = root / "video"
    clips = {n: clip_faces(enc, video / f"{n}.mkv") for n in ("asl_again", "asl_help", "asl_thanks")}
    print(
        f"encoded {len(enc.ms)} faces in {time.perf_counter() - started:.0f} s; "
        f"encoding median {np.median(enc.ms):.1f} ms per face\n"
    )

    for quality in (Quality(0, 0), Quality(64, 0), Quality(64, 10), Quality(64, 20)):
        print(f"### gate: face >= {quality.min_face_px:g} px, chip sharpness >= {quality.min_sharpness:g}\n")
        kept = gated(faces, quality)
        frontal = [f for f in kept if f.frontal and f.height >= FRONTAL_PX]
        impostor = pair_dists(kept)
        impostor_frontal = pair_dists(frontal)
        a, b, c = (gated(clips[n], quality) for n in ("asl_again", "asl_help", "asl_thanks"))
        other_rec = (
            np.concatenate([min_dist(enrol(a), b), min_dist(enrol(b), a)]) if len(a) > 4 and len(b) > 4 else np.zeros(0)
        )
        hard = (
            np.concatenate([min_dist(enrol(a), c), min_dist(enrol(b), c)]) if len(a) > 4 and len(b) > 4 else np.zeros(0)
        )
        same = np.asarray(same_photo)
        per_face = store_false_keeps(kept, rng)
        print(
            f"faces encodable: {len(kept)} of {len(faces)} photo faces "
            f"({len(frontal)} frontal >= {FRONTAL_PX:g} px); "
            f"clip frames {len(a)}/{len(clips['asl_again'])}, {len(b)}/{len(clips['asl_help'])}, "
            f"{len(c)}/{len(clips['asl_thanks'])}\n"
        )
        print(
            "| threshold | true keep, other recording | true keep, same photo altered | "
            "false keep, all pairs | false keep, frontal >= 80 px pairs | false keep, hard impostor frames | "
            f"false keep per face, {STORE_SIZE}-encoding store |"
        )
        print("|---|---|---|---|---|---|---|")
        for t in THRESHOLDS:
            print(
                f"| {t:.2f} | {rate(other_rec, t)} | {rate(same, t)} | {rate(impostor, t)} | "
                f"{rate(impostor_frontal, t)} | {rate(hard, t)} | {rate(per_face, t)} |"
            )
        print(
            f"\npairs: other recording {len(other_rec)}, same photo {len(same)}, impostor {len(impostor)}, "
            f"frontal impostor {len(impostor_frontal)}, hard impostor {len(hard)}"
        )
        if len(other_rec):
            print(
                f"distances: other recording median {np.median(other_rec):.3f} max {np.max(other_rec):.3f}; "
                f"impostor min {np.min(impostor):.3f} 0.1%-quantile {np.quantile(impostor, 0.001):.3f}; "
                f"hard impostor min {np.min(hard) if len(hard) else float('nan'):.3f}\n"
            )
    heights = {n: float(np.median([f.height for f in v])) if v else 0.0 for n, v in clips.items()}
    sharp = {n: float(np.median([f.sharp for f in v])) if v else 0.0 for n, v in clips.items()}
    print(f"clip face height median (px): {heights}; chip sharpness median: {sharp}")
    quantiles = np.quantile([f.sharp for f in faces], [0.05, 0.25, 0.5]).round(1)
    print(f"photo faces: sharpness quantiles 5/25/50%: {quantiles}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
