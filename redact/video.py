"""Video: cover faces, text and codes in every frame; judge the video by its worst frame.

Stages per frame, streaming through a bounded look-ahead buffer:

1. **decode** (:mod:`redact.media.video`) to display-oriented RGB;
2. **detect**: a fast single-scale face pass on every ``video_detect_every``-th frame;
   every ``video_keyframe_s`` seconds a *keyframe* gets the full photo analysis
   (multi-scale faces, text, codes, record flag);
3. **track** (:mod:`redact.track`): face tracks bridge the frames between detections,
   and hold/lead boxes around them -- they only ever *add* covered area;
4. **carry**: a keyframe's text and code boxes cover the frames around it, moved by the
   camera's global motion (phase correlation between consecutive frames) and grown;
5. **cover + self-check** (keyframes), **encode** to a temporary H.264 MP4 renamed into
   place when complete.  Any error fails the whole file (no partial output).

The look-ahead is what lets a track reach *back* (lead frames, interpolation across a
gap): a frame is emitted only once every frame that could still add a box to it has been
detected.  Memory is bounded by that buffer, not by the video's length.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from redact import obscure, policy
from redact.analysis import Analyzer, guard
from redact.config import Settings, TextMode
from redact.covering import cover
from redact.detect import Detector
from redact.jobs import Job
from redact.media import inplace
from redact.media.preview import preview_jpeg
from redact.media.video import RGB, VideoFrame, VideoInfo, VideoReader, VideoWriter
from redact.outcome import outcome
from redact.track import FaceTracks, Motion
from redact.types import Box, FileResult, Finding, Flag, Kind, Mode

#: Called with (frames done, frames expected or 0 when unknown).
Progress = Callable[[int, int], None]

#: Camera motion between two frames (fraction of the longer side) above which every frame
#: gets the face pass, not only every ``video_detect_every``-th (whip pans).  Slower pans
#: need no extra passes: track boxes follow the camera (benchmarks/README.md#video).
FAST_MOTION = 0.03


@dataclass(slots=True)
class _Pending:
    """A decoded frame waiting for the frames after it to be detected."""

    frame: VideoFrame
    faces: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class _Keyframe:
    """Text/code findings of a keyframe, carried to the frames around it."""

    index: int
    findings: list[Finding]


@dataclass(slots=True)
class VideoSummary:
    """What one pass over a video found (for the :class:`~redact.types.FileResult`)."""

    #: Consent: ``(name, face tracks shown)`` pairs.
    kept: tuple[tuple[str, int], ...] = ()
    #: A JPEG of the covered frame with the most covers (review pages), when asked for.
    preview: bytes | None = None
    frames: int = 0
    findings: list[Finding] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Motion:
    """Global (camera) translation between consecutive frames, by phase correlation."""

    def __init__(self, side: int = 256) -> None:
        self.side = side
        self._prev: np.ndarray[Any, np.dtype[np.float32]] | None = None
        self._window: Any = None
        self._scale = 1.0
        self.offset = (0.0, 0.0)

    def step(self, rgb: RGB) -> tuple[float, float]:
        h, w = rgb.shape[:2]
        self._scale = min(1.0, self.side / max(h, w))
        small = cv2.resize(
            rgb, (max(8, round(w * self._scale)), max(8, round(h * self._scale))), interpolation=cv2.INTER_AREA
        )
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
        if self._prev is not None and self._prev.shape == gray.shape:
            if self._window is None or self._window.shape != gray.shape:
                self._window = cv2.createHanningWindow((gray.shape[1], gray.shape[0]), cv2.CV_32F)
            (dx, dy), response = cv2.phaseCorrelate(self._prev, gray, self._window)
            if response > 0.05 and math.isfinite(dx) and math.isfinite(dy):
                ox, oy = self.offset
                self.offset = (ox + dx / self._scale, oy + dy / self._scale)
        self._prev = gray
        return self.offset


class VideoAnalysis:
    """Stream a video's frames with the covers each needs (see the module docstring)."""

    def __init__(self, reader: VideoReader, analyzer: Analyzer, progress: Progress | None = None) -> None:
        self.reader = reader
        self.info: VideoInfo = reader.info
        self.analyzer = analyzer
        self.settings: Settings = analyzer.settings
        self.progress = progress
        settings = self.settings
        fps = float(self.info.rate) if self.info.rate and self.info.rate > 0 else 30.0
        self.every = settings.video_detect_every
        self.key_every = max(1, round(settings.video_keyframe_s * fps))
        self.motion = Motion(
            max_gap=max(30, self.key_every + self.every),
            hold=max(15, 2 * self.every),
            lead=max(6, 2 * self.every),
        )
        self.lookahead = max(self.motion.lead, self.every, self.key_every) + 1
        self.tracks = FaceTracks(self.motion)
        # The configured face detector's video passes: a fast one between keyframes, a
        # thorough one on keyframes (see Detector.for_video).
        faces = analyzer.face_detector
        self.fast = faces.for_video(keyframe=False) if faces is not None else None
        self.key_faces = faces.for_video(keyframe=True) if faces is not None else None
        self.summary = VideoSummary()
        self._keyframes: deque[_Keyframe] = deque()
        self._track_spans: dict[int, list[Any]] = {}
        self._flag_codes: set[str] = set()
        self._last_index = -1
        #: Consent: (track id, detection frame) -> the enrolled name that detection matched.
        self.consent = analyzer.consent
        self._consented: dict[tuple[int, int], str] = {}
        #: Consent: track id -> name, for tracks shown in at least one frame.
        self.kept_tracks: dict[int, str] = {}
        self._covered_tracks: set[int] = set()
        #: Cumulative camera offset per recent frame (for held/led face boxes).
        self._offsets: dict[int, tuple[float, float]] = {}

    # -- detection -------------------------------------------------------------------

    def _detect(self, pending: _Pending) -> None:
        index, rgb = pending.frame.index, pending.frame.rgb
        if index % self.key_every == 0:
            analysis = self.analyzer.analyse(rgb, faces=False)
            faces = self._faces(self.key_faces, rgb)
            rest = [f for f in analysis.findings if f.kind is not Kind.FACE]
            for flag in analysis.flags:
                if flag.code not in self._flag_codes:
                    self._flag_codes.add(flag.code)
                    self.summary.flags.append(Flag(flag.code, f"frame {index}: {flag.reason}"))
            for note in analysis.notes:
                if note not in self.summary.notes and not note.startswith("looks like a patient record"):
                    self.summary.notes.append(note)
            self._keyframes.append(_Keyframe(index, rest))
        elif index % self.every == 0 or self._fast_motion(index):
            faces = self._faces(self.fast, rgb)
        else:
            faces = []
        ids = self.tracks.update(index, [f.box for f in faces], [f.confidence for f in faces])
        pending.faces = [_with(f, frame=index, track_id=i) for f, i in zip(faces, ids, strict=True)]
        if self.consent is not None and pending.faces:
            _, kept = self.analyzer.apply_consent(rgb, pending.faces)
            for face, name in kept:
                if face.track_id is not None:
                    self._consented[(face.track_id, index)] = name
        for f in pending.faces:
            assert f.track_id is not None
            span = self._track_spans.get(f.track_id)
            if span is None:
                self._track_spans[f.track_id] = [index, index, f.confidence, f.box]
            else:
                span[1] = index
                span[2] = max(span[2], f.confidence)

    def _fast_motion(self, index: int) -> bool:
        """True when the camera moved fast since the last frame: then every frame is detected."""
        return math.hypot(*self._camera(index - 1, index)) > FAST_MOTION * max(self.info.display_size)

    @staticmethod
    def _faces(detector: Detector | None, rgb: RGB) -> list[Finding]:
        if detector is None:
            return []
        with guard(detector.name):
            return detector.detect(rgb)

    # -- covers ----------------------------------------------------------------------

    def _kept(self, track_id: int | None, t: int) -> bool:
        """Consent: a face stays visible at ``t`` only while its track's match holds.

        A raw detection at ``t`` must itself have matched; a bridged box needs the track's
        detections on *both* sides to have matched.  Held and led boxes are always covered.
        """
        if self.consent is None or track_id is None:
            return False
        before, after = self.tracks.detections_around(track_id, t)
        if before is None or after is None:
            return False
        first = self._consented.get((track_id, before))
        second = self._consented.get((track_id, after))
        if first is None or first != second:
            return False
        self.kept_tracks[track_id] = first
        return True

    def _camera(self, a: int, b: int) -> tuple[float, float]:
        """Scene displacement from frame ``a`` to ``b`` (0 when either is no longer known)."""
        oa, ob = self._offsets.get(a), self._offsets.get(b)
        if oa is None or ob is None:
            return (0.0, 0.0)
        return (ob[0] - oa[0], ob[1] - oa[1])

    def _smeared(self, face: Finding) -> Finding:
        """A detected face grown by its track's per-frame motion (motion blur, fast pans)."""
        if face.track_id is None:
            return face
        vx, vy = self.tracks.velocity_of(face.track_id)
        b = face.box
        dx, dy = min(abs(vx), b.width), min(abs(vy), b.height)
        if dx < 1 and dy < 1:
            return face
        return _with(face, box=Box(b.x0 - dx, b.y0 - dy, b.x1 + dx, b.y1 + dy))

    def _findings_for(self, pending: _Pending) -> list[Finding]:
        t = pending.frame.index
        found: list[Finding] = [self._smeared(f) for f in pending.faces if not self._kept(f.track_id, t)]
        raw = {f.track_id: f.box for f in pending.faces}
        for track_id, box, score in self.tracks.boxes_at(t, self._camera):
            # A detected track's box is its raw detection (covered above) unless the track
            # holds more (a detection that shrank abruptly keeps its predecessor's box).
            if raw.get(track_id) == box or self._kept(track_id, t):
                continue
            # The score is the weakest detection the box rests on (weak ones get more padding).
            found.append(Finding(Kind.FACE, box, score, "track", "FACE", frame=t, track_id=track_id))
        self._covered_tracks.update(f.track_id for f in found if f.track_id is not None)
        for key in self._keyframes:
            if abs(key.index - t) > self.key_every:
                continue
            dx, dy = self._camera(key.index, t)
            for f in key.findings:
                found.append(f if key.index == t else _carried(f, dx, dy, abs(key.index - t)))
        return found

    def frames(self) -> Iterator[tuple[VideoFrame, list[policy.Cover], list[Finding]]]:
        """Yield every frame in order with its covers (display coordinates) and findings."""
        buffer: deque[_Pending] = deque()
        motion = _Motion()
        width, height = self.info.display_size
        expected = self.info.expected_frames
        for frame in self.reader:
            self._offsets[frame.index] = motion.step(frame.rgb)
            pending = _Pending(frame)
            self._detect(pending)
            buffer.append(pending)
            while buffer and buffer[0].frame.index <= frame.index - self.lookahead:
                yield self._emit(buffer.popleft(), width, height)
            if self.progress is not None:
                self.progress(frame.index + 1, expected)
        while buffer:
            yield self._emit(buffer.popleft(), width, height)
        self.summary.frames = self._last_index + 1
        self.summary.kept = tuple(sorted(Counter(self.kept_tracks.values()).items()))
        self._finish()

    def keyframe_findings(self, index: int) -> list[Finding]:
        """The text/code findings keyframe ``index`` itself found (not those carried to it)."""
        return next((list(key.findings) for key in self._keyframes if key.index == index), [])

    def carry(self, index: int, findings: list[Finding]) -> None:
        """Add ``findings`` (e.g. what a keyframe's self-check found) to keyframe ``index``."""
        for key in self._keyframes:
            if key.index == index:
                key.findings.extend(findings)

    def _emit(self, pending: _Pending, width: int, height: int) -> tuple[VideoFrame, list[policy.Cover], list[Finding]]:
        t = pending.frame.index
        self._last_index = t
        findings = self._findings_for(pending)
        covers = policy.plan(findings, self.settings, width, height)
        while self._keyframes and self._keyframes[0].index < t - self.key_every:
            self._keyframes.popleft()
        self.tracks.forget_before(t - 1)
        horizon = t - 2 * max(self.motion.hold, self.motion.max_gap)
        for old in [k for k in self._offsets if k < horizon]:
            del self._offsets[old]
        if self._consented:
            horizon = t - 2 * self.motion.max_gap
            self._consented = {k: v for k, v in self._consented.items() if k[1] >= horizon}
        return pending.frame, covers, findings

    def _finish(self) -> None:
        last = max(0, self._last_index)
        for track_id, (first, end, confidence, box) in sorted(self._track_spans.items()):
            if track_id not in self._covered_tracks:
                continue  # shown in every frame by consent
            self.summary.findings.append(
                Finding(
                    Kind.FACE,
                    box,
                    float(confidence),
                    self.key_faces.name if self.key_faces is not None else "faces",
                    "FACE",
                    frame=max(0, first - self.motion.lead),
                    frame_end=min(last, end + self.motion.hold),
                    track_id=track_id,
                )
            )


def _with(finding: Finding, **changes: Any) -> Finding:
    return dataclasses.replace(finding, **changes)


def _carried(finding: Finding, dx: float, dy: float, frames: int) -> Finding:
    """``finding`` moved by the camera motion and grown for the uncertainty of ``frames``."""
    b = finding.box
    grow = min(0.5, 0.1 + 0.01 * frames)
    margin = max(4.0, grow * max(b.height, 8.0))
    box = Box(b.x0 + dx - margin, b.y0 + dy - margin, b.x1 + dx + margin, b.y1 + dy + margin)
    return _with(finding, box=box, polygon=None)


#: Frames that may wait for the background encoder (bounded memory).
_ENCODE_QUEUE = 4


def cover_frame(rgb: RGB, covers: list[policy.Cover], settings: Settings) -> RGB:
    """``rgb`` with ``covers`` applied (a copy)."""
    return obscure.apply(rgb, covers, settings) if covers else rgb


def analyse_video(
    reader: VideoReader,
    analyzer: Analyzer,
    writer: VideoWriter | None,
    progress: Progress | None = None,
    preview: bool = False,
) -> VideoSummary:
    """Run the whole video through :class:`VideoAnalysis`; write covered frames to ``writer``.

    Keyframes are self-checked after covering (PHI text still readable, codes that still
    decode); what still shows is covered too and kept for the frames around it.
    """
    run = VideoAnalysis(reader, analyzer, progress)
    settings = analyzer.settings
    audio = _AudioCopier(reader, writer) if writer is not None and settings.keep_audio else None
    keyframe_findings: list[Finding] = []
    most_covers = -1
    width, height = run.info.display_size

    failed = False

    def emit(frame: VideoFrame, covers: list[policy.Cover], covered: RGB | None) -> None:
        nonlocal failed
        if failed:
            return  # an earlier frame failed: the file fails; write nothing more
        try:
            _emit(frame, covers, covered)
        except BaseException:
            failed = True
            raise

    def _emit(frame: VideoFrame, covers: list[policy.Cover], covered: RGB | None) -> None:
        nonlocal most_covers
        want_preview = preview and len(covers) > most_covers
        if writer is None and not want_preview:
            return
        if covered is None:
            covered = cover_frame(frame.rgb, covers, settings)
        if want_preview:
            most_covers = len(covers)
            run.summary.preview = preview_jpeg(covered)
        if writer is not None:
            writer.write(covered, frame.pts, frame.duration)
            if audio is not None:
                audio.until(frame, run.info)

    # Covering and encoding run on one background thread, in frame order, while the next
    # frames are analysed: OpenCV, onnxruntime and the encoder release the GIL, so the
    # single-threaded parts of one overlap the other's.  At most _ENCODE_QUEUE frames wait.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="redact-encode") as encoder:
        queued: deque[Future[None]] = deque()
        try:
            for frame, covers, findings in run.frames():
                covered: RGB | None = None
                if frame.index % run.key_every == 0:
                    # Keyframes are covered and self-checked like photos; what the check adds
                    # is carried to the frames after it too.
                    covered, checked = cover(frame.rgb, findings, analyzer, width, height)
                    run.carry(frame.index, checked[len(findings) :])
                    # Reported once, by the keyframe that found them (and any self-check additions).
                    keyframe_findings.extend(_with(f, frame=frame.index) for f in run.keyframe_findings(frame.index))
                queued.append(encoder.submit(emit, frame, covers, covered))
                while queued and (len(queued) > _ENCODE_QUEUE or queued[0].done()):
                    queued.popleft().result()  # re-raises an encoding error here
            while queued:
                queued.popleft().result()
        finally:
            for future in queued:
                future.cancel()
    if audio is not None:
        audio.rest()
    summary = run.summary
    span = run.key_every
    last = max(0, summary.frames - 1)
    summary.findings.extend(
        _with(f, frame=max(0, (f.frame or 0) - span), frame_end=min(last, (f.frame or 0) + span))
        for f in keyframe_findings
    )
    if summary.flags and settings.text_mode is not TextMode.ALL:
        note = "looks like a patient record: all text in its frames covered; a person should review it"
        if note not in summary.notes:
            summary.notes.append(note)
    return summary


class _AudioCopier:
    """Copies audio packets into the output, interleaved with the video by time."""

    def __init__(self, reader: VideoReader, writer: VideoWriter) -> None:
        self.writer = writer
        stream = reader.audio_stream
        self._packets = reader.packets(stream) if stream is not None else iter(())
        self._next: Any | None = None

    def until(self, frame: VideoFrame, info: VideoInfo) -> None:
        if frame.pts is None:
            return
        now = float(frame.pts * info.time_base)
        while True:
            if self._next is None:
                self._next = next(self._packets, None)
                if self._next is None:
                    return
            packet = self._next
            when = float(packet.pts * packet.time_base) if packet.pts is not None else 0.0
            if when > now:
                return
            self.writer.copy_audio(iter([packet]))
            self._next = None

    def rest(self) -> None:
        if self._next is not None:
            self.writer.copy_audio(iter([self._next]))
            self._next = None
        self.writer.copy_audio(self._packets)


def frame_covers(path: Path, settings: Settings | None = None) -> Iterator[list[Box]]:
    """Yield, for every displayed frame of ``path``, the boxes redact covers (benchmarks)."""
    settings = settings or Settings()
    analyzer = Analyzer(settings)
    try:
        with VideoReader(path, settings.max_pixels) as reader:
            for _frame, covers, _findings in VideoAnalysis(reader, analyzer).frames():
                yield [c.box for c in covers]
    finally:
        analyzer.close()


def process_video(job: Job, mode: Mode, analyzer: Analyzer, progress: Progress | None = None) -> FileResult:
    """One video -> :class:`FileResult` (the video counterpart of :func:`redact.process.process`).

    Raises :class:`~redact.errors.RedactError` for the caller to turn into a FAILED result.
    """
    started = time.perf_counter()
    settings = analyzer.settings
    with VideoReader(job.path, settings.max_pixels) as reader:
        info = reader.info
        notes: list[str] = []
        if info.high_bit_depth:
            notes.append(f"{info.pixel_format} input written as 8-bit H.264 (colours may differ)")
        if info.width % 2 or info.height % 2:
            notes.append("odd frame size kept: written as H.264 4:4:4")
        writer = None
        if mode is Mode.CLEAN:
            assert job.output is not None
            audio = reader.audio_stream if settings.keep_audio else None
            keep_mode = None
            if job.in_place:  # same name, same permission bits, a container the name says
                keep_mode = inplace.permissions(job.path)
                inplace.check_video(job.path)
            writer = VideoWriter(job.output, info, audio, mode=keep_mode)
        if info.has_audio:
            if mode is not Mode.CLEAN:
                notes.append("has an audio track (voices can identify people); clean drops it unless --keep-audio")
            elif settings.keep_audio:
                notes.append("audio copied unchanged (--keep-audio): voices and spoken names are NOT redacted")
            else:
                notes.append("audio dropped (voices can identify people; --keep-audio copies it)")
        if writer is not None:
            with writer:
                summary = analyse_video(reader, analyzer, writer, progress, job.preview)
                writer.commit()
        else:
            summary = analyse_video(reader, analyzer, None, progress, job.preview)
    findings = tuple(summary.findings)
    status = outcome(mode, findings, summary.flags, info.metadata)
    return FileResult(
        path=job.path,
        status=status,
        findings=findings,
        flags=tuple(summary.flags),
        output=job.output if mode is Mode.CLEAN else None,
        size=info.display_size,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        notes=(f"video: {summary.frames} frames", *notes, *summary.notes),
        metadata=info.metadata,
        kept=summary.kept,
        preview=summary.preview,
    )
