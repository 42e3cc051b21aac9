import numpy as np
import pytest

from redact.config import FaceMethod, Settings
from redact.obscure import apply, cell_edges, mosaic_grid, pixelate, safe_blur
from redact.policy import Cover, plan
from redact.types import Box, Finding, Kind


def _noise(h=120, w=90, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize(("w", "h"), [(90, 120), (400, 400), (7, 300), (1, 1)])
def test_mosaic_grid_never_exceeds_cells(w, h):
    across, down = mosaic_grid(w, h, 5)
    assert 1 <= across <= 5 and 1 <= down <= 5


@pytest.mark.parametrize("fn", [pixelate, safe_blur])
def test_face_methods_keep_at_most_25_colours_of_information(fn):
    """Two regions with the same coarse mosaic give identical outputs: detail is gone."""
    a = _noise(seed=1)
    coarse_equal = a.copy()
    # Shuffle pixels inside each mosaic cell: the cell means stay, the detail changes.
    across, down = mosaic_grid(90, 120, 5)
    rng = np.random.default_rng(2)
    ye, xe = cell_edges(120, down), cell_edges(90, across)
    for i in range(down):
        for j in range(across):
            ys, xs = slice(ye[i], ye[i + 1]), slice(xe[j], xe[j + 1])
            cell = coarse_equal[ys, xs].reshape(-1, 3)
            coarse_equal[ys, xs] = rng.permutation(cell).reshape(coarse_equal[ys, xs].shape)
    assert not np.array_equal(a, coarse_equal)
    diff = np.abs(fn(a, 5).astype(int) - fn(coarse_equal, 5).astype(int))
    assert diff.max() == 0


def test_pixelate_has_at_most_25_distinct_colours():
    out = pixelate(_noise(300, 200), 5)
    assert len(np.unique(out.reshape(-1, 3), axis=0)) <= 25


def test_safe_blur_is_smooth_not_blocky():
    out = safe_blur(_noise(300, 300), 5).astype(int)
    # no hard block edges: neighbouring pixels differ little everywhere
    assert np.abs(np.diff(out, axis=1)).max() < 40


def test_apply_changes_only_inside_the_cover_and_keeps_input():
    img = _noise(200, 200)
    before = img.copy()
    out = apply(img, [Cover(Box(50, 60, 150, 160), FaceMethod.FILL)], Settings())
    assert np.array_equal(img, before)
    assert (out[60:160, 50:150] == 0).all()
    mask = np.ones((200, 200), bool)
    mask[60:160, 50:150] = False
    assert np.array_equal(out[mask], img[mask])


def test_apply_handles_alpha_and_fractional_boxes():
    img = np.full((50, 50, 4), 200, np.uint8)
    img[..., 3] = 0
    out = apply(img, [Cover(Box(10.4, 10.6, 20.2, 20.9), FaceMethod.FILL)], Settings())
    assert (out[10:21, 10:21, :3] == 0).all()
    assert (out[10:21, 10:21, 3] == 255).all()


def test_polygon_fill_covers_rotated_text_region():
    img = np.full((100, 100, 3), 255, np.uint8)
    poly = ((20.0, 40.0), (80.0, 20.0), (85.0, 35.0), (25.0, 55.0))
    out = apply(img, [Cover(Box(20, 20, 85, 55), FaceMethod.FILL, poly)], Settings())
    assert (out[38, 50] == 0).all()  # inside the polygon
    assert (out[22, 22] == 255).all()  # inside the box, outside the polygon


def test_plan_pads_faces_and_clips_but_keeps_border_faces():
    s = Settings()
    faces = [Finding(Kind.FACE, Box(-10, -10, 30, 30), 0.9, "t", "FACE")]
    covers = plan(faces, s, 100, 100)
    assert len(covers) == 1
    b = covers[0].box
    assert b.x0 == 0 and b.y0 == 0 and b.x1 == pytest.approx(30 + 0.3 * 40)
    assert covers[0].method is s.face_method


def test_weak_face_detections_get_twice_the_padding():
    s = Settings()
    box = Box(100, 100, 140, 140)
    strong = plan([Finding(Kind.FACE, box, 0.9, "t", "FACE")], s, 400, 400)[0].box
    weak = plan([Finding(Kind.FACE, box, 0.2, "t", "FACE")], s, 400, 400)[0].box
    assert strong.x1 == pytest.approx(140 + 0.3 * 40) and strong.y0 == pytest.approx(100 - 0.4 * 40)
    assert weak.x1 == pytest.approx(140 + 0.6 * 40) and weak.y0 == pytest.approx(100 - 0.8 * 40)
    assert weak.y1 == pytest.approx(140 + 0.6 * 40)
    # The cut-off is a setting; at 0 nothing counts as weak.
    assert plan([Finding(Kind.FACE, box, 0.2, "t", "FACE")], Settings(face_weak_score=0.0), 400, 400)[0].box == strong


def test_plan_fills_text_even_when_faces_blur():
    s = Settings(face_method=FaceMethod.BLUR)
    text = Finding(Kind.TEXT, Box(0, 0, 10, 10), 0.9, "t", "MRN")
    assert plan([text], s, 100, 100)[0].method is FaceMethod.FILL
