"""Video end to end: every frame covered, timing/size/rotation kept, audio and metadata handled.

Test clips are made here with PyAV from scikit-image's public-domain ``astronaut`` photo
moving across a plain background, so the face's true position is known in every frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from skimage import data
from typer.testing import CliRunner

from redact import batch
from redact.analysis import Analyzer
from redact.cli.app import app
from redact.config import FaceMethod, Settings
from redact.detect.faces import CenterFaceDetector
from redact.jobs import Job, plan_jobs
from redact.process import process
from redact.types import Box, Mode, Status

pytestmark = pytest.mark.slow

W, H, FPS, FRAMES = 480, 320, 12, 24
SPRITE = 200  # the astronaut photo is scaled to this square
STEP = 10  # pixels the sprite moves per frame


@pytest.fixture(scope="module")
def sprite() -> np.ndarray:
    import cv2

    return np.asarray(cv2.resize(data.astronaut()[..., :3], (SPRITE, SPRITE), interpolation=cv2.INTER_AREA))


@pytest.fixture(scope="module")
def face_in_sprite(sprite: np.ndarray) -> Box:
    """The astronaut's face box inside the sprite, found on the still image."""
    faces = CenterFaceDetector(Settings()).detect(sprite)
    assert faces, "the detector must find the astronaut's face on the still image"
    return max(faces, key=lambda f: f.confidence).box


def scene(sprite: np.ndarray, i: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Frame ``i`` (display orientation) and the sprite's top-left corner in it."""
    y = np.linspace(60, 160, H, dtype=np.uint8)[:, None, None]
    frame = np.broadcast_to(y, (H, W, 3)).copy()
    travel = (STEP * i) % 520
    x0, y0 = 10 + (travel if travel <= 260 else 520 - travel), 60
    frame[y0 : y0 + SPRITE, x0 : x0 + SPRITE] = sprite
    return frame, (x0, y0)


def make_video(
    path: Path,
    sprite: np.ndarray,
    *,
    frames: int = FRAMES,
    rotation: int = 0,
    audio: bool = False,
    metadata: dict[str, str] | None = None,
    size: tuple[int, int] | None = None,
    pix_fmt: str = "yuv420p",
    codec: str = "libx264",
    pts: list[int] | None = None,
    fmt: str | None = None,
) -> Path:
    """Write a clip of the moving astronaut; ``rotation`` makes the coded frames sideways."""
    out = av.open(str(path), "w", format=fmt)
    if metadata:
        out.metadata.update(metadata)
        # A chapter title is metadata too (phones and editors write them).
        chapter = {"id": 1, "start": 0, "end": frames, "time_base": Fraction(1, FPS)}
        out.set_chapters([{**chapter, "metadata": {"title": "Patient Jane Doe"}}])
    k = rotation // 90
    sample, _ = scene(sprite, 0)
    coded = np.rot90(sample, -k) if k else sample
    ch, cw = coded.shape[:2]
    if size is not None:
        cw, ch = size
    stream = out.add_stream(codec, rate=FPS)
    stream.width, stream.height, stream.pix_fmt = cw, ch, pix_fmt
    if pts is not None:
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
    if rotation:
        stream.set_display_rotation(rotation)
    sound = None
    if audio:
        sound = out.add_stream("aac", rate=16000)
        sound.layout = "mono"
    for i in range(frames):
        image, _ = scene(sprite, i)
        image = np.ascontiguousarray(np.rot90(image, -k)) if k else image
        if size is not None:
            image = np.ascontiguousarray(np.resize(image, (ch, cw, 3)))
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        if pts is not None:
            frame.pts, frame.time_base = pts[i], Fraction(1, 1000)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
    if sound is not None:
        samples = int(16000 * frames / FPS)
        tone = (0.2 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 16000)).astype(np.float32)[None, :]
        for start in range(0, samples, 1024):
            chunk = av.AudioFrame.from_ndarray(tone[:, start : start + 1024], format="fltp", layout="mono")
            chunk.sample_rate = 16000
            chunk.pts = start
            out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))
    out.close()
    return path


def read_frames(path: Path) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Display-oriented frames and facts about the first video stream."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        frames, pts, rotation = [], [], 0
        for f in c.decode(stream):
            rotation = f.rotation
            pts.append(f.pts)
            image = f.to_ndarray(format="rgb24")
            frames.append(np.rot90(image, (rotation // 90) % 4) if rotation else image)
        info = {
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "rotation": rotation % 360,
            "times": [float(p * stream.time_base) for p in pts],
            "streams": [s.type for s in c.streams],
            "container_tags": dict(c.metadata),
            "stream_tags": [dict(s.metadata) for s in c.streams],
        }
    with av.open(str(path)) as c:
        info["audio_packets"] = sum(1 for p in c.demux(c.streams.audio[0]) if p.size) if c.streams.audio else 0
    return frames, info


def run(args: list[str]) -> Any:
    return CliRunner().invoke(app, args)


def assert_face_covered(frame: np.ndarray, face: Box, corner: tuple[int, int]) -> None:
    """The face's inner area is one flat colour (``--method fill``)."""
    x, y = corner
    inner = face.pad(-0.15)
    region = frame[int(y + inner.y0) : int(y + inner.y1), int(x + inner.x0) : int(x + inner.x1)]
    assert region.size
    assert float(region.std()) < 6.0, "face pixels still visible"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, sprite: np.ndarray) -> Path:
    folder = tmp_path_factory.mktemp("clip")
    tags = {
        "location": "+40.7128-074.0060/",
        "creation_time": "2024-05-01T10:00:00Z",
        "make": "Apple",
        "model": "iPhone 15",
        "title": "Pt Jane Doe MRN 1234567",
    }
    return make_video(folder / "ward.mov", sprite, audio=True, metadata=tags)


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory: pytest.TempPathFactory, clip: Path) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("out")
    result = run(["clean", str(clip), "-o", str(out), "--method", "fill", "--json"])
    assert result.exit_code == 0, result.output
    return out / "ward.mp4", json.loads(result.stdout)


def test_every_frame_of_a_moving_face_is_covered(cleaned, sprite, face_in_sprite):
    output, _ = cleaned
    frames, _ = read_frames(output)
    assert len(frames) == FRAMES
    for i, frame in enumerate(frames):
        _, corner = scene(sprite, i)
        assert_face_covered(frame, face_in_sprite, corner)


def test_size_rate_frames_and_duration_are_kept(clip, cleaned):
    output, _ = cleaned
    _, before = read_frames(clip)
    _, after = read_frames(output)
    assert (after["width"], after["height"]) == (before["width"], before["height"])
    assert len(after["times"]) == len(before["times"]) == FRAMES
    assert after["times"] == pytest.approx(before["times"], abs=1e-3)
    with av.open(str(output)) as c:
        assert c.streams.video[0].average_rate == FPS
        assert c.streams.video[0].codec_context.name == "h264"


def test_no_input_metadata_and_audio_dropped_by_default(cleaned):
    output, report = cleaned
    _, info = read_frames(output)
    assert info["streams"] == ["video"], "audio must be dropped unless --keep-audio"
    text = json.dumps([info["container_tags"], info["stream_tags"]]).lower()
    for leaked in ("+40.7128", "2024-05-01", "apple", "iphone", "jane", "1234567", "creation_time", "location"):
        assert leaked not in text
    assert set(info["container_tags"]) <= {"major_brand", "minor_version", "compatible_brands", "encoder"}
    entry = report["files"][0]
    assert {"GPS", "DEVICE", "CREATION_TIME", "TITLE", "CHAPTERS"} <= set(entry["metadata"])
    with av.open(str(output)) as c:
        assert c.chapters() == []
    assert any("audio dropped" in note for note in entry["notes"])
    faces = [f for f in entry["findings"] if f["kind"] == "face"]
    assert faces and all(f["frame"] <= f["frame_end"] for f in faces)
    assert min(f["frame"] for f in faces) == 0 and max(f["frame_end"] for f in faces) == FRAMES - 1


def test_keep_audio_copies_the_audio_track_unchanged(clip, tmp_path):
    result = run(["clean", str(clip), "-o", str(tmp_path), "--keep-audio", "--json"])
    assert result.exit_code == 0, result.output
    _, before = read_frames(clip)
    _, after = read_frames(tmp_path / "ward.mp4")
    assert after["streams"] == ["video", "audio"]
    assert after["audio_packets"] == before["audio_packets"] > 0
    assert all("jane" not in json.dumps(tags).lower() for tags in after["stream_tags"])
    notes = json.loads(result.stdout)["files"][0]["notes"]
    assert any("audio copied" in note for note in notes)


def test_scan_reports_faces_and_gps_and_writes_nothing(clip, tmp_path):
    before = sorted(clip.parent.iterdir())
    result = run(["scan", str(clip), "--json"])
    assert result.exit_code == 1
    entry = json.loads(result.stdout)["files"][0]
    assert entry["status"] == "findings" and entry["counts"]["face"] >= 1
    assert sorted(clip.parent.iterdir()) == before


def test_rotated_phone_video_keeps_its_rotation_and_is_covered(tmp_path, sprite, face_in_sprite):
    clip = make_video(tmp_path / "phone.mp4", sprite, rotation=90, frames=12)
    _, before = read_frames(clip)
    assert before["rotation"] == 90 and (before["width"], before["height"]) == (H, W)
    result = run(["clean", str(clip), "-o", str(tmp_path / "out"), "--method", "fill"])
    assert result.exit_code == 0, result.output
    frames, after = read_frames(tmp_path / "out" / "phone.mp4")
    assert after["rotation"] == 90 and (after["width"], after["height"]) == (H, W)
    for i, frame in enumerate(frames):
        assert frame.shape[:2] == (H, W)
        assert_face_covered(frame, face_in_sprite, scene(sprite, i)[1])


def test_odd_frame_size_is_kept(tmp_path, sprite):
    clip = make_video(tmp_path / "odd.mkv", sprite, size=(481, 321), frames=6, pix_fmt="yuv444p")
    result = run(["clean", str(clip), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    frames, info = read_frames(tmp_path / "out" / "odd.mp4")
    assert (info["width"], info["height"]) == (481, 321) and len(frames) == 6


def test_variable_frame_rate_timestamps_are_kept(tmp_path, sprite):
    times = [0, 40, 80, 200, 240, 400, 430, 460, 600, 700]
    clip = make_video(tmp_path / "vfr.mkv", sprite, frames=len(times), pts=times, fmt="matroska")
    result = run(["clean", str(clip), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    _, before = read_frames(clip)
    _, after = read_frames(tmp_path / "out" / "vfr.mp4")
    assert after["times"] == pytest.approx(before["times"], abs=2e-3)


def test_ten_bit_input_is_written_as_8_bit_h264(tmp_path, sprite):
    clip = make_video(tmp_path / "hdr.mkv", sprite, frames=6, pix_fmt="yuv420p10le", codec="libx265")
    result = run(["clean", str(clip), "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["files"][0]
    assert any("8-bit" in note for note in entry["notes"])
    with av.open(str(tmp_path / "out" / "hdr.mp4")) as c:
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"


def test_video_is_recognised_by_content_not_name(tmp_path, sprite):
    clip = make_video(tmp_path / "clip.mp4", sprite, frames=4)
    disguised = tmp_path / "folder" / "holiday.dat"
    disguised.parent.mkdir()
    disguised.write_bytes(clip.read_bytes())
    result = run(["scan", str(tmp_path / "folder"), "--json"])
    entry = json.loads(result.stdout)["files"][0]
    assert entry["path"].endswith("holiday.dat") and entry["status"] == "findings"


BAD: list[tuple[str, Callable[[Path, np.ndarray], Path], str]] = []


def _empty(tmp: Path, _s: np.ndarray) -> Path:
    path = tmp / "empty.mp4"
    path.write_bytes(b"")
    return path


def _audio_only(tmp: Path, _s: np.ndarray) -> Path:
    path = tmp / "voice.m4a"
    out = av.open(str(path), "w", format="mp4")
    sound = out.add_stream("aac", rate=16000)
    sound.layout = "mono"
    tone = np.zeros((1, 1024), np.float32)
    for i in range(8):
        chunk = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        chunk.sample_rate, chunk.pts = 16000, i * 1024
        out.mux(sound.encode(chunk))
    out.mux(sound.encode(None))
    out.close()
    return path


def _broken_middle(tmp: Path, sprite: np.ndarray) -> Path:
    clip = make_video(tmp / "ok.mkv", sprite, frames=20, fmt="matroska")
    raw = bytearray(clip.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 600] = bytes(b ^ 0x5A for b in raw[middle : middle + 600])
    path = tmp / "broken.mkv"
    path.write_bytes(bytes(raw))
    return path


def _truncated(tmp: Path, sprite: np.ndarray) -> Path:
    clip = make_video(tmp / "whole.mkv", sprite, frames=36, fmt="matroska")
    raw = clip.read_bytes()
    path = tmp / "cut.mkv"
    path.write_bytes(raw[: int(len(raw) * 0.8)])
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_empty, "empty file"),
        (_audio_only, "audio-only"),
        (_broken_middle, "damaged"),
        (_truncated, "NOT"),
    ],
    ids=["zero-length", "audio-only", "broken-frame", "truncated"],
)
def test_bad_videos_fail_closed_with_one_line_and_no_output(tmp_path, sprite, make, message):
    bad = make(tmp_path, sprite)
    out = tmp_path / "out"
    result = run(["clean", str(bad), "-o", str(out)])
    assert result.exit_code == 3, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert any(message in line for line in lines), result.stderr
    assert "Traceback" not in result.output
    leftovers = [p for p in out.rglob("*") if p.is_file() and p.name != ".redact-cache.json"] if out.exists() else []
    assert leftovers == [], "no partial output may be left"


def test_a_crash_mid_stream_leaves_no_output(tmp_path, sprite, monkeypatch):
    clip = make_video(tmp_path / "crash.mp4", sprite, frames=20)
    settings = Settings(face_method=FaceMethod.FILL)
    analyzer = Analyzer(settings)
    calls = {"n": 0}
    real = analyzer.analyse

    def flaky(pixels: np.ndarray, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("detector crashed")
        return real(pixels, **kwargs)

    monkeypatch.setattr(analyzer, "analyse", flaky)
    job = Job(clip, tmp_path / "out" / "crash.mp4")
    try:
        result = process(job, Mode.CLEAN, analyzer)
    finally:
        analyzer.close()
    assert result.status is Status.FAILED and result.exit_code == 7
    assert not (tmp_path / "out" / "crash.mp4").exists()
    assert [p for p in (tmp_path / "out").glob("*")] == []


def test_an_encoder_error_on_the_background_thread_fails_the_file(tmp_path, sprite, monkeypatch):
    from redact.errors import OutputError
    from redact.media.video import VideoWriter

    clip = make_video(tmp_path / "enc.mp4", sprite, frames=20)
    real = VideoWriter.write
    calls = {"n": 0}

    def failing(self: VideoWriter, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 7:
            raise OutputError("disk full", self.dest)
        real(self, *args, **kwargs)

    monkeypatch.setattr(VideoWriter, "write", failing)
    analyzer = Analyzer(Settings(face_method=FaceMethod.FILL))
    try:
        result = process(Job(clip, tmp_path / "out" / "enc.mp4"), Mode.CLEAN, analyzer)
    finally:
        analyzer.close()
    assert calls["n"] == 7  # nothing written after the failure
    assert result.status is Status.FAILED and result.exit_code == 5
    assert [p for p in (tmp_path / "out").glob("*")] == []


def test_frames_stream_through_a_bounded_buffer(tmp_path, sprite):
    from redact.media.video import VideoReader
    from redact.video import VideoAnalysis

    clip = make_video(tmp_path / "long.mp4", sprite, frames=40)
    settings = Settings(stages=("faces",))
    analyzer = Analyzer(settings)
    decoded: list[int] = []

    class Counting(VideoReader):
        def __iter__(self) -> Any:
            for frame in super().__iter__():
                decoded.append(frame.index)
                yield frame

    try:
        with Counting(clip) as reader:
            run_ = VideoAnalysis(reader, analyzer)
            frames = run_.frames()
            first = next(frames)
            assert first[0].index == 0
            # Frame 0 is emitted once the look-ahead is full: far fewer than 40 decoded.
            assert len(decoded) <= run_.lookahead + 1 < 40
            rest = list(frames)
    finally:
        analyzer.close()
    assert len(rest) == 39


def test_progress_reports_every_frame(tmp_path, sprite):
    clip = make_video(tmp_path / "p.mp4", sprite, frames=8)
    seen: list[tuple[int, int]] = []
    settings = Settings(stages=("faces",))
    jobs = plan_jobs([clip], Mode.SCAN, None, settings)
    batch.run(jobs, Mode.SCAN, settings, on_progress=lambda _p, done, total: seen.append((done, total)))
    assert [d for d, _ in seen] == list(range(1, 9))
    assert all(total == 8 for _, total in seen)


def test_sarif_for_a_video_gives_frame_ranges_and_validates(clip):
    result = run(["scan", str(clip), "-f", "sarif"])
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    faces = [r for r in log["runs"][0]["results"] if r["ruleId"] == "phi/face"]
    assert faces and all(r["properties"]["frame"] <= r["properties"]["frameEnd"] for r in faces)
    assert any(r["ruleId"] == "phi/metadata/gps" for r in log["runs"][0]["results"])
    schema = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "sarif-schema-2.1.0.json"
    if schema.is_file():
        import jsonschema

        jsonschema.validate(log, json.loads(schema.read_text()))


def test_consent_keeps_an_enrolled_face_visible_and_covers_everyone_else(tmp_path):
    """The enrolled astronaut stays visible while matched; the cameraman is covered in every frame."""
    import cv2

    big = 360  # faces of about 90 px: large enough to encode (smaller ones are always covered)
    astronaut = cv2.resize(data.astronaut()[..., :3], (big, big), interpolation=cv2.INTER_AREA)
    camera = cv2.resize(np.stack([data.camera()] * 3, axis=-1), (big, big), interpolation=cv2.INTER_AREA)
    width, height, frames = 880, 400, 16

    def frame_at(i: int) -> np.ndarray:
        image = np.full((height, width, 3), 110, np.uint8)
        image[20 : 20 + big, 10 + 6 * i : 10 + 6 * i + big] = astronaut
        image[20 : 20 + big, 500 : 500 + big] = camera
        return image

    clip = tmp_path / "two.mp4"
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "12"}
        for i in range(frames):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame_at(i), format="rgb24")))
        out.mux(stream.encode(None))
    store = tmp_path / "consent.json"
    samples = Path(__file__).resolve().parents[1] / "samples"
    added = run(["consent", "add", "Astronaut", str(samples / "astronaut.jpg"), "--store", str(store)])
    assert added.exit_code == 0, added.output
    result = run(
        ["clean", str(clip), "-o", str(tmp_path / "out"), "--method", "fill", "--consent", str(store), "--json"]
    )
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["files"][0]
    assert entry["kept_by_consent"] == {"Astronaut": 1}
    detector = CenterFaceDetector(Settings())
    camera_face = max(detector.detect(camera), key=lambda f: f.confidence).box
    astro_face = max(detector.detect(astronaut), key=lambda f: f.confidence).box
    output, _ = read_frames(tmp_path / "out" / "two.mp4")
    visible = 0
    for i, image in enumerate(output):
        assert_face_covered(image, camera_face, (500, 20))  # never shown
        inner = astro_face.pad(-0.15)
        x = 10 + 6 * i
        region = image[int(20 + inner.y0) : int(20 + inner.y1), int(x + inner.x0) : int(x + inner.x1)]
        visible += float(region.std()) > 20
    assert visible >= frames // 2, "the enrolled face should stay visible while it matches"


def test_a_batch_with_photos_and_a_video_runs_photos_in_workers_and_the_video_here(tmp_path, sprite):
    folder = tmp_path / "post"
    folder.mkdir()
    make_video(folder / "clip.mp4", sprite, frames=6)
    samples = Path(__file__).resolve().parents[1] / "samples"
    for name in ("astronaut.jpg", "coffee_no_faces.jpg"):
        (folder / name).write_bytes((samples / name).read_bytes())
    result = run(["clean", str(folder), "-o", str(tmp_path / "out"), "-j", "2", "--json"])
    assert result.exit_code == 0, result.output
    statuses = {Path(f["path"]).name: f["status"] for f in json.loads(result.stdout)["files"]}
    assert statuses == {"clip.mp4": "redacted", "astronaut.jpg": "redacted", "coffee_no_faces.jpg": "clean"}
    assert (tmp_path / "out" / "clip.mp4").is_file()


def test_html_review_page_shows_a_covered_frame_of_the_video(clip, tmp_path):
    page = tmp_path / "review.html"
    result = run(["scan", str(clip), "-f", "html", "--report", str(page), "-q"])
    assert result.exit_code == 1
    text = page.read_text()
    assert "ward.mov" in text and "data:image/jpeg;base64," in text


def test_video_uses_the_configured_face_detector(tmp_path, sprite, monkeypatch):
    from redact.detect import Detector, base
    from redact.media.video import VideoReader
    from redact.types import Finding, Kind
    from redact.video import VideoAnalysis

    calls: list[str] = []

    class Stub(Detector):
        name = "stub-faces"
        kind = Kind.FACE

        def __init__(self, settings: Settings, role: str = "photo") -> None:
            self.settings, self.role = settings, role

        def detect(self, image: np.ndarray) -> list[Finding]:
            calls.append(self.role)
            return [Finding(Kind.FACE, Box(5, 5, 45, 45), 0.9, self.name, "FACE")]

        def for_video(self, keyframe: bool) -> Detector:
            return Stub(self.settings, "key" if keyframe else "frame")

    monkeypatch.setitem(base._REGISTRY, "stub-faces", Stub)
    clip = make_video(tmp_path / "stub.mp4", sprite, frames=8)
    analyzer = Analyzer(Settings(stages=("faces",), face_detector="stub-faces", video_keyframe_s=0.5))
    with VideoReader(clip) as reader:
        run_ = VideoAnalysis(reader, analyzer)
        covered = [[c.box for c in covers] for _frame, covers, _findings in run_.frames()]
    # keyframes (every 6th frame at 12 fps) get the keyframe pass, every 2nd frame the fast one
    assert calls == ["key", "frame", "frame", "key"]  # frames 0, 2, 4, 6
    assert len(covered) == 8 and all(covered)
    assert {f.source for f in run_.summary.findings} == {"stub-faces"}
