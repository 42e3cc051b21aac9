"""Temporal coverage for video: face tracks that only ever *add* covered area.

A detector misses a face now and then (a head turns, a hand passes, motion blur), and
in video one uncovered frame is a leak.  :class:`FaceTracks` links raw detections from
frame to frame and, for any frame, returns boxes for every track alive around it:

* **gaps** between two detections of a track are bridged by interpolation (grown by a
  margin, since motion is not linear);
* **after** a track's last detection its box is held for ``hold`` frames, moving with
  the track's recent velocity and growing with every frame of uncertainty;
* **before** its first detection the box is shown ``lead`` frames early (a face entering
  the frame is usually detected a few frames late).

Raw detections are never filtered by the tracker: callers cover the raw boxes of a
frame *and* the track boxes.  Unlike a tracker that must decide what is "really" a face,
this one has no confirmation threshold: a single detection starts a track.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from redact.types import Box

#: ``camera(a, b)``: how far the scene moved (dx, dy pixels) from frame ``a`` to frame ``b``.
CameraShift = Callable[[int, int], tuple[float, float]]


@dataclass(frozen=True, slots=True)
class Motion:
    """How far tracks reach beyond their detections (frames) and how much they grow."""

    #: Frames between two detections that interpolation bridges (longer gaps are held/led).
    max_gap: int = 30
    #: Frames a box is held (and moved) after the track's last detection.
    hold: int = 15
    #: Frames a box is shown before the track's first detection.
    lead: int = 6
    #: Growth of an interpolated box (fraction of its size on each side).
    gap_margin: float = 0.1
    #: Extra growth per frame of extrapolation (fraction of size per side), capped.
    grow_per_frame: float = 0.03
    max_growth: float = 0.5
    #: IoU (or centre distance, as a fraction of size) that links a detection to a track.
    link_iou: float = 0.1
    link_distance: float = 0.75
    #: A detection smaller than this fraction of its track's previous one (by area) does
    #: not replace it: the previous box is held as well (a face leaving the frame, found
    #: only in part under motion blur).
    shrink: float = 0.5


class TrackBox(NamedTuple):
    """A track's box for one frame and the detector score it rests on (the lowest involved)."""

    track_id: int
    box: Box
    score: float


@dataclass(slots=True)
class Track:
    """One face over time: its raw detections (and their scores), in frame order."""

    id: int
    frames: list[int] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)

    def add(self, frame: int, box: Box, score: float = 1.0) -> None:
        if self.frames and frame == self.frames[-1]:
            self.boxes[-1] = self.boxes[-1].union(box)
            self.scores[-1] = min(self.scores[-1], score)
            return
        self.frames.append(frame)
        self.boxes.append(box)
        self.scores.append(score)

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    def velocity(self, at_end: bool = True) -> tuple[float, float, float, float]:
        """Per-frame change of ``(x0, y0, x1, y1)`` at the track's end (or start)."""
        if len(self.frames) < 2:
            return (0.0, 0.0, 0.0, 0.0)
        (f0, b0), (f1, b1) = (
            ((self.frames[-2], self.boxes[-2]), (self.frames[-1], self.boxes[-1]))
            if at_end
            else ((self.frames[0], self.boxes[0]), (self.frames[1], self.boxes[1]))
        )
        dt = max(1, f1 - f0)
        return tuple((b - a) / dt for a, b in zip(b0.xyxy, b1.xyxy, strict=True))  # type: ignore[return-value]

    def predict(self, frame: int) -> Box:
        """The box expected at ``frame`` from the last detection and velocity (no growth)."""
        return _shift(self.boxes[-1], self.velocity(), frame - self.last)


class FaceTracks:
    """Link per-frame detections into tracks; answer "which boxes cover frame t"."""

    def __init__(self, motion: Motion | None = None) -> None:
        self.motion = motion or Motion()
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, frame: int, boxes: list[Box], scores: list[float] | None = None) -> list[int]:
        """Add the raw detections of ``frame`` (frames in increasing order); return their track ids."""
        m = self.motion
        scores = scores if scores is not None else [1.0] * len(boxes)
        live = [t for t in self.tracks if frame - t.last <= m.max_gap and t.last < frame]
        pairs: list[tuple[float, int, int]] = []
        for i, box in enumerate(boxes):
            for j, track in enumerate(live):
                guess = track.predict(frame)
                score = box.iou(guess)
                if score < m.link_iou:
                    size = max(guess.width, guess.height, box.width, box.height, 1.0)
                    dist = _centre_distance(box, guess) / size
                    if dist > m.link_distance:
                        continue
                    score = m.link_iou * (1 - dist / m.link_distance) * 0.5
                pairs.append((score, i, j))
        ids: list[int] = [0] * len(boxes)
        used_boxes: set[int] = set()
        used_tracks: set[int] = set()
        for _, i, j in sorted(pairs, reverse=True):
            if i in used_boxes or j in used_tracks:
                continue
            used_boxes.add(i)
            used_tracks.add(j)
            live[j].add(frame, boxes[i], scores[i])
            ids[i] = live[j].id
        for i, box in enumerate(boxes):
            if i not in used_boxes:
                track = Track(self._next_id)
                self._next_id += 1
                track.add(frame, box, scores[i])
                self.tracks.append(track)
                ids[i] = track.id
        return ids

    def boxes_at(self, frame: int, camera: CameraShift | None = None) -> list[TrackBox]:
        """Every track box covering ``frame``: detected, interpolated, held or led.

        ``camera(a, b)`` (optional) is the scene's displacement from frame ``a`` to ``b``:
        held and led boxes then also follow the camera (a pan that reverses, a face half out
        of the frame whose own velocity is unreliable).  Every extra box is a union: it only adds.
        """
        m = self.motion
        out: list[TrackBox] = []
        for track in self.tracks:
            found = self._box_at(track, frame, m, camera)
            if found is not None:
                out.append(TrackBox(track.id, *found))
        return out

    def _box_at(
        self, track: Track, frame: int, m: Motion, camera: CameraShift | None = None
    ) -> tuple[Box, float] | None:
        found = self._own_box_at(track, frame, m, camera)
        # The latest detection at or before ``frame``: if it shrank abruptly, hold its predecessor too.
        i = bisect_left(track.frames, frame + 1) - 1
        if found is None or i < 1 or track.boxes[i].area >= m.shrink * track.boxes[i - 1].area:
            return found
        if frame - track.frames[i - 1] > m.hold:
            return found
        held = _reach(track.boxes[i - 1], track.frames[i - 1], frame, None, camera, m)
        return found[0].union(held), min(found[1], track.scores[i - 1])

    def _own_box_at(
        self, track: Track, frame: int, m: Motion, camera: CameraShift | None = None
    ) -> tuple[Box, float] | None:
        i = bisect_left(track.frames, frame)
        if i < len(track.frames) and track.frames[i] == frame:
            return track.boxes[i], track.scores[i]
        before = i - 1 if i > 0 else None
        after = i if i < len(track.frames) else None
        if before is not None and after is not None:
            f0, f1 = track.frames[before], track.frames[after]
            if f1 - f0 <= m.max_gap:
                t = (frame - f0) / (f1 - f0)
                a, b = track.boxes[before], track.boxes[after]
                lerp = Box(*(p + (q - p) * t for p, q in zip(a.xyxy, b.xyxy, strict=True)))
                return lerp.pad(m.gap_margin), min(track.scores[before], track.scores[after])
        if before is not None and frame - track.frames[before] <= m.hold:
            # Held after a detection (own velocity only after the track's last one).
            velocity = track.velocity() if before == len(track.frames) - 1 else None
            box = _reach(track.boxes[before], track.frames[before], frame, velocity, camera, m)
            return box, track.scores[before]
        if after is not None and track.frames[after] - frame <= m.lead:
            # Shown before a detection (own velocity only before the track's first one).
            velocity = track.velocity(at_end=False) if after == 0 else None
            box = _reach(track.boxes[after], track.frames[after], frame, velocity, camera, m)
            return box, track.scores[after]
        return None

    def _find(self, track_id: int) -> Track | None:
        return next((t for t in self.tracks if t.id == track_id), None)

    def velocity_of(self, track_id: int) -> tuple[float, float]:
        """The track's recent centre velocity (pixels per frame), ``(0, 0)`` when unknown."""
        track = self._find(track_id)
        if track is None:
            return (0.0, 0.0)
        x0, y0, x1, y1 = track.velocity()
        return ((x0 + x1) / 2, (y0 + y1) / 2)

    def detections_around(self, track_id: int, frame: int) -> tuple[int | None, int | None]:
        """The frames of ``track_id``'s detections just before/at and just after/at ``frame``."""
        track = self._find(track_id)
        if track is None:
            return None, None
        i = bisect_left(track.frames, frame)
        after = track.frames[i] if i < len(track.frames) else None
        before = after if after == frame else (track.frames[i - 1] if i > 0 else None)
        return before, after

    def forget_before(self, frame: int) -> None:
        """Drop tracks that can no longer cover ``frame`` or later (bounded memory)."""
        m = self.motion
        horizon = max(m.hold, m.max_gap)
        self.tracks = [t for t in self.tracks if t.last + horizon >= frame]
        for track in self.tracks:
            # Keep the last few detections: enough for velocity and interpolation.
            cut = bisect_left(track.frames, frame - horizon)
            cut = min(cut, len(track.frames) - 2)
            if cut > 0:
                del track.frames[:cut]
                del track.boxes[:cut]
                del track.scores[:cut]


def _shift(box: Box, velocity: tuple[float, float, float, float], steps: int) -> Box:
    x0, y0, x1, y1 = (v + d * steps for v, d in zip(box.xyxy, velocity, strict=True))
    # A shrinking extrapolation is not trusted: keep at least the original size.
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = max(x1 - x0, box.width), max(y1 - y0, box.height)
    return Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _translate(box: Box, dx: float, dy: float) -> Box:
    return Box(box.x0 + dx, box.y0 + dy, box.x1 + dx, box.y1 + dy)


def _union_all(boxes: list[Box]) -> Box:
    out = boxes[0]
    for box in boxes[1:]:
        out = out.union(box)
    return out


def _reach(
    anchor: Box,
    seen: int,
    frame: int,
    velocity: tuple[float, float, float, float] | None,
    camera: CameraShift | None,
    m: Motion,
) -> Box:
    """Where a face seen as ``anchor`` at frame ``seen`` may be at ``frame``, grown for the doubt.

    The union of standing still, moving with its own ``velocity`` and moving with the
    ``camera``: a union only adds coverage.
    """
    steps = frame - seen
    boxes = [anchor]
    if velocity is not None:
        boxes.append(_shift(anchor, velocity, steps))
    if camera is not None:
        boxes.append(_translate(anchor, *camera(seen, frame)))
    return _grow(_union_all(boxes), steps, m)


def _grow(box: Box, steps: int, m: Motion) -> Box:
    return box.pad(min(m.max_growth, m.gap_margin + m.grow_per_frame * abs(steps)))


def _centre_distance(a: Box, b: Box) -> float:
    ax, ay = (a.x0 + a.x1) / 2, (a.y0 + a.y1) / 2
    bx, by = (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2
    return float(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5)
