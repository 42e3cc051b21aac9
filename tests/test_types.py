import math

import pytest

from redact.types import Box, FileResult, Finding, Kind, Status


def test_box_rejects_inverted_and_non_finite():
    with pytest.raises(ValueError):
        Box(10, 0, 5, 5)
    with pytest.raises(ValueError):
        Box(0, 0, math.nan, 5)


def test_pad_grows_each_side_by_fraction_of_size():
    b = Box(100, 100, 200, 150).pad(0.3)
    assert b.xyxy == pytest.approx((70, 85, 230, 165))


def test_pad_top_separately():
    b = Box(0, 100, 100, 200).pad(0.3, 0.5, 0.3, 0.3)
    assert b.y0 == pytest.approx(50) and b.y1 == pytest.approx(230)


def test_clip_keeps_partly_outside_box_and_drops_fully_outside():
    assert Box(-20, -10, 30, 40).clip(100, 100) == Box(0, 0, 30, 40)
    assert Box(90, 90, 150, 150).clip(100, 100) == Box(90, 90, 100, 100)
    assert Box(120, 0, 150, 10).clip(100, 100) is None


def test_pixel_bounds_round_outwards():
    assert Box(1.2, 2.7, 10.1, 20.0).pixel_bounds(100, 100) == (1, 2, 11, 20)


def test_iou_and_intersection():
    a, b = Box(0, 0, 10, 10), Box(5, 0, 15, 10)
    assert a.intersection(b) == 50
    assert a.iou(b) == pytest.approx(50 / 150)
    assert a.iou(Box(20, 20, 30, 30)) == 0


def test_finding_label_is_an_entity_type_not_text():
    with pytest.raises(ValueError):
        Finding(Kind.TEXT, Box(0, 0, 1, 1), 0.9, "ocr", "Jane Doe")
    with pytest.raises(ValueError):
        Finding(Kind.FACE, Box(0, 0, 1, 1), 1.5, "centerface", "FACE")


def test_result_dict_has_counts_and_no_text():
    f = Finding(Kind.FACE, Box(0, 0, 10, 10), 0.9, "centerface", "FACE")
    r = FileResult(path=__import__("pathlib").Path("a.jpg"), status=Status.FINDINGS, findings=(f, f))
    d = r.to_dict()
    assert d["counts"] == {"face": 2}
    assert d["findings"][0] == {
        "kind": "face",
        "label": "FACE",
        "box": [0, 0, 10, 10],
        "confidence": 0.9,
        "source": "centerface",
    }
    assert r.unsafe


def test_result_round_trips_through_dict():
    from pathlib import Path

    from redact.types import Flag

    f = Finding(Kind.TEXT, Box(1, 2, 30, 40), 0.5, "ocr", "MRN", polygon=((1.0, 2.0), (30.0, 2.0), (30.0, 40.0)))
    r = FileResult(
        Path("x/a.png"),
        Status.REDACTED,
        (f,),
        (Flag("record", "printed page"),),
        Path("o/a.png"),
        size=(100, 50),
        notes=("cached",),
    )
    again = FileResult.from_dict(r.to_dict())
    assert again.to_dict() == r.to_dict()


def test_box_union_holds_both():
    from redact.types import Box

    assert Box(0, 5, 10, 10).union(Box(8, -2, 20, 6)) == Box(0, -2, 20, 10)
