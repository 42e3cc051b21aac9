"""Face tracks only add coverage: gaps bridged, boxes held after and shown before detections."""

from __future__ import annotations

from redact.track import FaceTracks, Motion
from redact.types import Box


def covers(outer: Box, inner: Box) -> bool:
    return outer.x0 <= inner.x0 and outer.y0 <= inner.y0 and outer.x1 >= inner.x1 and outer.y1 >= inner.y1


def moving(frame: int) -> Box:
    """A 40 px face moving 5 px per frame to the right."""
    return Box(100 + 5 * frame, 50, 140 + 5 * frame, 90)


def test_a_gap_between_detections_is_interpolated():
    tracks = FaceTracks(Motion(max_gap=10))
    for frame in (0, 2, 8):  # frames 3-7 missed (a head turn)
        tracks.update(frame, [moving(frame)])
    for frame in range(3, 8):
        boxes = tracks.boxes_at(frame)
        assert len(boxes) == 1 and covers(boxes[0][1], moving(frame)), frame


def test_boxes_are_held_and_moved_after_the_last_detection():
    tracks = FaceTracks(Motion(hold=6))
    for frame in (0, 2, 4):
        tracks.update(frame, [moving(frame)])
    for frame in range(5, 11):
        boxes = tracks.boxes_at(frame)
        assert boxes and covers(boxes[0][1], moving(frame)), frame
    assert tracks.boxes_at(11) == []  # beyond the hold: nothing invented forever


def test_boxes_appear_before_the_first_detection():
    tracks = FaceTracks(Motion(lead=4))
    for frame in (10, 12):
        tracks.update(frame, [moving(frame)])
    for frame in range(6, 10):
        assert tracks.boxes_at(frame), frame
    assert tracks.boxes_at(5) == []


def test_every_raw_detection_starts_or_extends_a_track():
    tracks = FaceTracks()
    far_apart = [Box(0, 0, 20, 20), Box(300, 300, 330, 330), Box(600, 0, 610, 10)]
    ids = tracks.update(0, far_apart)
    assert len(set(ids)) == 3 and all(ids)
    # The next frame: the same faces, slightly moved, keep their ids.
    moved = [Box(b.x0 + 2, b.y0 + 1, b.x1 + 2, b.y1 + 1) for b in far_apart]
    assert tracks.update(1, moved) == ids


def test_forgetting_old_tracks_keeps_live_ones():
    tracks = FaceTracks(Motion(hold=5, max_gap=5))
    tracks.update(0, [moving(0)])
    tracks.update(40, [moving(40)])
    tracks.forget_before(40)
    assert [t.first for t in tracks.tracks] == [40]


def test_a_detection_that_shrinks_abruptly_keeps_the_previous_box_held():
    # A face leaving the frame under motion blur is found only in part: the small box
    # must not replace the face's last full-size box.
    tracks = FaceTracks(Motion(hold=10))
    full = Box(100, 0, 200, 100)
    tracks.update(0, [full])
    tracks.update(2, [Box(100, 0, 200, 100)])
    part = Box(110, 0, 140, 30)
    tracks.update(6, [part])
    for frame in (6, 7, 8):
        (box,) = [b.box for b in tracks.boxes_at(frame)]
        assert covers(box, full), frame
    # Beyond the predecessor's hold only the small box's own reach is left.
    (late,) = [b.box for b in tracks.boxes_at(13)]
    assert not covers(late, full)


def test_track_boxes_carry_the_weakest_score_they_rest_on():
    tracks = FaceTracks(Motion(max_gap=10, hold=5))
    tracks.update(0, [moving(0)], [0.9])
    tracks.update(4, [moving(4)], [0.2])
    assert tracks.boxes_at(0)[0].score == 0.9
    assert tracks.boxes_at(2)[0].score == 0.2  # interpolated: the weaker end
    assert tracks.boxes_at(6)[0].score == 0.2  # held after the weak detection
    assert tracks.boxes_at(3)[0].track_id == tracks.boxes_at(0)[0].track_id
