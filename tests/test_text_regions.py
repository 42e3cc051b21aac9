"""Finding every line: the closer look on large photos, tile joins, merging (inputs built here)."""

import itertools

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from redact import models
from redact.detect.text import tiles
from redact.detect.text.regions import Region, RegionDetector


def _font(size):
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def _region(x0, y0, x1, y1):
    return Region(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), 0.9)


def _inside(polygon, regions, shape):
    """Fraction of ``polygon`` inside the union of the regions."""
    own = np.zeros(shape, np.uint8)
    cv2.fillPoly(own, [np.round(np.asarray(polygon)).astype(np.int32)], 1)
    union = np.zeros(shape, np.uint8)
    for r in regions:
        cv2.fillPoly(union, [np.round(np.asarray(r.padded(0.25))).astype(np.int32)], 1)
    return float((own & union).sum()) / max(int(own.sum()), 1)


# --------------------------------------------------------------------------- geometry (no model)


def test_spans_cover_the_length_with_overlap():
    for length, scale in ((500, 1.0), (1600, 1.09), (4000, 0.5), (7016, 0.9)):
        spans = tiles._spans(length, scale)
        assert spans[0][0] == 0 and spans[-1][1] == length
        for (a0, a1), (b0, _b1) in itertools.pairwise(spans):
            assert b0 < a1  # overlap
            assert (a1 - a0) * scale <= tiles.TILE + 2


def test_pieces_of_a_line_cut_by_a_tile_border_are_joined():
    left, right, below = _region(100, 100, 400, 130), _region(380, 101, 700, 131), _region(100, 200, 400, 230)
    joined = tiles.join_pieces([left, right, below], [0, 1, 1])
    assert len(joined) == 2
    whole = max(joined, key=lambda r: r.width)
    assert whole.width == pytest.approx(600, abs=2) and whole.height == pytest.approx(31, abs=2)


def test_pieces_from_one_tile_are_not_joined():
    a, b = _region(100, 100, 400, 130), _region(405, 100, 700, 130)
    assert len(tiles.join_pieces([a, b], [0, 0])) == 2


def test_windows_only_around_lines_below_the_resolution_limit():
    big = _region(100, 100, 1500, 300)  # 200 px tall at scale 0.24: 48 px as seen
    assert tiles.plan_windows([big], 0.24, 4000, 3000) == []
    small = _region(2000, 2000, 2600, 2040)  # 40 px tall: 9.6 px as seen
    plan = tiles.plan_windows([big, small], 0.24, 4000, 3000)
    assert len(plan) == 1
    (x0, y0, x1, y1), scale = plan[0]
    assert x0 < 2000 and x1 > 2600 and y0 < 2000 and y1 > 2040
    assert scale == pytest.approx(tiles.TARGET / 40)


def test_merge_keeps_first_pass_lines_nothing_replaced():
    blob = _region(100, 100, 300, 160)  # several small lines the first pass ran together
    kept_alone = _region(1000, 1000, 1100, 1010)  # small, not seen again closer: kept
    closer = [_region(100, 100, 300, 118), _region(100, 121, 300, 139), _region(100, 142, 300, 160)]
    merged = tiles.merge([blob, kept_alone], closer, [(0, 0, 2000, 2000)], 0.24)
    assert blob not in merged and kept_alone in merged
    assert all(c in merged for c in closer)


# --------------------------------------------------------------------------- the real detector


@pytest.fixture(scope="module")
def detector():
    return RegionDetector(models.model_path("ppocr_det"), max_side=960)


def _page(lines, size=17, width=900):
    """A white page of small print; returns it and each line's box on the page."""
    font = _font(size)
    page = Image.new("RGB", (width, 60 + len(lines) * int(size * 1.9)), (250, 250, 248))
    draw = ImageDraw.Draw(page)
    boxes = []
    for i, text in enumerate(lines):
        y = 30 + i * int(size * 1.9)
        draw.text((30, y), text, font=font, fill=(20, 20, 20))
        boxes.append(draw.textbbox((30, y), text, font=font))
    return np.asarray(page), boxes


LINES = [
    "Progress note  Patient: Harriet Q. Lindqvist",
    "DOB 03/14/1952   MRN 00482913   Room 4B",
    "Seen at bedside, afebrile, vitals stable.",
    "Plan: continue IV fluids, recheck labs 0600",
    "Attending: Dr. Okonkwo   Phone 555-0147",
    "Signed 11/02/2026 14:35",
]


def test_small_print_rotated_70_degrees_in_a_12_mp_photo_is_found(detector):
    page, boxes = _page(LINES, size=15)
    ph, pw = page.shape[:2]
    photo = np.full((3000, 4000, 3), (120, 110, 95), np.uint8)  # a desk
    photo[::7, :, :] = 100  # some texture
    m = cv2.getRotationMatrix2D((pw / 2, ph / 2), 70, 1.0)
    m[:, 2] += (2200 - pw / 2, 1400 - ph / 2)
    warped = cv2.warpAffine(page, m, (4000, 3000), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    paper = cv2.warpAffine(np.full(page.shape[:2], 255, np.uint8), m, (4000, 3000)) > 0
    photo[paper] = warped[paper]
    found = tiles.find(detector, photo)
    first = detector.detect_at(photo)
    quads = [
        np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float) @ m[:, :2].T + m[:, 2] for x0, y0, x1, y1 in boxes
    ]
    heights = [y1 - y0 for _, y0, _, y1 in boxes]
    assert all(_line_found(q, hgt, found, photo.shape[:2]) for q, hgt in zip(quads, heights, strict=True))
    # the first pass alone (the old behaviour) runs lines together: the closer look separates them
    assert not all(_line_found(q, hgt, first, photo.shape[:2]) for q, hgt in zip(quads, heights, strict=True))


def _line_found(quad, height, regions, shape):
    """Regions of about a line's height (not blobs of several lines) hold >= 80% of the line."""
    return _inside(quad, [r for r in regions if r.height <= 3.5 * height], shape) >= 0.8


def test_tiny_labels_on_a_small_scan_are_found(detector):
    page, boxes = _page(["NAME  Rosalind Tweedy", "DATE  4/9/97", "FAX 614 466 5087"], size=8, width=400)
    found = tiles.find(detector, page)
    for box in boxes:
        x0, y0, x1, y1 = box
        assert _inside([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], found, page.shape[:2]) >= 0.8
