"""Video input/output with PyAV (FFmpeg): decode to display-oriented RGB, encode H.264 MP4.

Kept apart from detection (as PySceneDetect keeps its backends apart from its detectors):
:class:`VideoReader` yields :class:`VideoFrame` objects, :class:`VideoWriter` takes
covered pixels back.  Principles carried over from photos:

* fail closed: a file that does not decode completely raises :class:`InputError`
  (never a shorter "clean" video);
* the output carries no metadata of the input (container tags, stream tags, chapters,
  GPS tracks and data streams are never copied); only the display rotation is kept;
* the output is written to a temporary file and renamed over the destination only when
  it is complete.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from redact import interrupt
from redact.cores import thread_budget, usable_cores
from redact.errors import InputError, MissingDependencyError, OutputError, reason
from redact.media.atomic import current_umask, temp_beside

RGB = npt.NDArray[np.uint8]

#: Container tags that identify a place, a device, a time or a person.  Reported (by
#: name only) for the input; none of the input's tags is ever written.
_TAG_GROUPS: dict[str, tuple[str, ...]] = {
    "GPS": ("location", "com.apple.quicktime.location.iso6709", "xyz", "gps"),
    "DEVICE": ("make", "model", "com.apple.quicktime.make", "com.apple.quicktime.model", "com.android.manufacturer"),
    "CREATION_TIME": ("creation_time", "date", "com.apple.quicktime.creationdate"),
    "TITLE": ("title", "comment", "description", "artist", "author", "album", "keywords"),
}

#: Encoder defaults: H.264 plays everywhere; CRF 18 is visually lossless for most clips.
#: ``superfast`` encodes 1080p about twice as fast as ``veryfast`` on 2 cores, for files
#: about twice as large (benchmarks/video.py).
CODEC = "libx264"
PRESET = "superfast"
CRF = 18


def _av() -> Any:
    """Import PyAV, or explain that the installation is broken (exit 4)."""
    try:
        import av
    except ImportError as exc:  # pragma: no cover - a broken install
        raise MissingDependencyError(f"video support needs PyAV (the 'av' package): {exc}") from None
    return av


#: FFmpeg may open nothing but local files, also from inside a file (playlists, references).
LOCAL_ONLY = {"protocol_whitelist": "file"}


def local_url(path: Path) -> str:
    """``path`` as an FFmpeg URL that can only mean a local file.

    FFmpeg takes ``tcp:host:port/x.mp4`` or ``concat:a|b`` (a folder or file name with a
    colon) as a protocol to open; ``file:`` and an absolute path leave no such reading.
    """
    return "file:" + os.path.abspath(path)


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What a video's headers say (coded size; ``rotation`` is counter-clockwise degrees)."""

    width: int
    height: int
    rotation: int
    frames: int  # from the header; 0 when the container does not say
    rate: Fraction | None
    time_base: Fraction
    duration_s: float | None
    pixel_format: str
    codec: str
    has_audio: bool
    audio_codec: str | None
    #: Names of identifying metadata the input carries ("GPS", "DEVICE"...), never values.
    metadata: tuple[str, ...]

    @property
    def display_size(self) -> tuple[int, int]:
        """``(width, height)`` as shown, after the display rotation."""
        return (self.height, self.width) if self.rotation % 180 else (self.width, self.height)

    @property
    def expected_frames(self) -> int:
        """Frames the headers promise, or an estimate from duration and rate (0: unknown)."""
        if self.frames:
            return self.frames
        if self.duration_s and self.rate:
            return round(self.duration_s * float(self.rate))
        return 0

    @property
    def high_bit_depth(self) -> bool:
        return any(tag in self.pixel_format for tag in ("10", "12", "16"))


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One decoded frame: its index, timestamp and display-oriented RGB pixels."""

    index: int
    pts: int | None
    rgb: RGB
    #: How long the frame is shown (input time base), when the container says.
    duration: int | None = None


def _metadata_names(container: Any) -> tuple[str, ...]:
    tags = {str(k).lower() for k in container.metadata}
    for stream in container.streams:
        tags |= {str(k).lower() for k in stream.metadata}
    found = [
        name for name, keys in _TAG_GROUPS.items() if any(t == k or t.startswith(k + "-") for t in tags for k in keys)
    ]
    if any(s.type == "data" for s in container.streams):
        found.append("DATA_STREAM")  # timed GPS / camera tracks
    if getattr(container, "chapters", None) and callable(container.chapters) and container.chapters():
        found.append("CHAPTERS")
    return tuple(found)


def _rotation(stream: Any, first: Any | None) -> int:
    rotation = int(getattr(first, "rotation", 0) or 0) if first is not None else 0
    if not rotation:
        with contextlib.suppress(KeyError, ValueError, TypeError):
            rotation = -int(float(stream.metadata["rotate"]))  # old-style tag: clockwise
    return round(rotation / 90) * 90 % 360


class VideoReader:
    """Decode a video's first video stream, frame by frame, failing on any damage.

    Use as a context manager.  :attr:`info` is read on open (the first frame is decoded
    to learn the rotation).
    """

    def __init__(self, path: Path, max_pixels: int | None = None) -> None:
        av = _av()
        self.path = Path(path)
        try:
            self._container = av.open(local_url(path), metadata_errors="ignore", options=LOCAL_ONLY)
        except av.error.FFmpegError as exc:
            raise InputError(f"not a readable video ({reason(exc)})", path) from None
        except OSError as exc:
            raise InputError(f"cannot read the file ({reason(exc)})", path) from None
        try:
            self.info = self._open(max_pixels)
        except BaseException:
            self._container.close()
            raise

    def _open(self, max_pixels: int | None) -> VideoInfo:
        av = _av()
        container = self._container
        if not container.streams.video:
            kind = "audio-only file" if container.streams.audio else "no video stream"
            raise InputError(f"not a video ({kind})", self.path)
        stream = container.streams.video[0]
        ctx = stream.codec_context
        # Decoder errors must surface, not be concealed into plausible-looking frames.
        ctx.options = {"err_detect": "crccheck+bitstream+buffer+explode"}
        stream.thread_type = "AUTO"
        if (threads := _codec_threads()) is not None:
            ctx.thread_count = threads
        if not ctx.width or not ctx.height:
            raise InputError("video stream has no frame size", self.path)
        if max_pixels is not None and ctx.width * ctx.height > max_pixels:
            raise InputError(
                f"video frames have {ctx.width * ctx.height:,} pixels, more than the {max_pixels:,} allowed", self.path
            )
        audio = container.streams.audio[0] if container.streams.audio else None
        self._frames = self._decode(stream)
        try:
            first = next(self._frames)
        except StopIteration:
            raise InputError("video has no decodable frames (empty or damaged)", self.path) from None
        self._pending: Any | None = first
        self._start_time = float(first.pts * stream.time_base) if first.pts is not None and stream.time_base else 0.0
        duration = None
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / av.time_base
        fmt = first.format.name if first is not None else (ctx.pix_fmt or "")
        return VideoInfo(
            width=ctx.width,
            height=ctx.height,
            rotation=_rotation(stream, first),
            frames=int(stream.frames or 0),
            rate=Fraction(stream.average_rate) if stream.average_rate else None,
            time_base=Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000),
            duration_s=duration,
            pixel_format=str(fmt),
            codec=str(ctx.name),
            has_audio=audio is not None,
            audio_codec=str(audio.codec_context.name) if audio is not None else None,
            metadata=_metadata_names(container),
        )

    def _decode(self, stream: Any) -> Iterator[Any]:
        av = _av()
        index = 0
        try:
            for frame in self._container.decode(stream):
                if getattr(frame, "is_corrupt", False):
                    raise InputError(f"video is damaged at frame {index}: the file was NOT fully checked", self.path)
                index += 1
                yield frame
        except av.error.FFmpegError as exc:
            raise InputError(
                f"video is damaged at frame {index} ({reason(exc)}): the file was NOT fully checked", self.path
            ) from None

    @property
    def audio_stream(self) -> Any | None:
        return self._container.streams.audio[0] if self._container.streams.audio else None

    def __iter__(self) -> Iterator[VideoFrame]:
        k = self.info.rotation // 90
        index = 0
        frames = self._frames
        if self._pending is not None:
            pending, self._pending = self._pending, None
            frames = _chain(pending, frames)
        last_time: float | None = None
        for frame in frames:
            if frame.pts is not None:
                last_time = float(frame.pts * self.info.time_base)
            rgb = frame.to_ndarray(format="rgb24")
            if k:
                rgb = np.ascontiguousarray(np.rot90(rgb, k))
            yield VideoFrame(index, frame.pts, rgb, getattr(frame, "duration", None) or None)
            index += 1
        if self.info.frames and index < self.info.frames:
            raise InputError(
                f"video ends after {index} of {self.info.frames} frames (truncated?): the file was NOT fully checked",
                self.path,
            )
        if self._ends_early(last_time):
            raise InputError(
                f"video ends at {last_time:.1f} s of {self.info.duration_s:.1f} s (truncated?): "
                "the file was NOT fully checked",
                self.path,
            )

    def _ends_early(self, last_time: float | None) -> bool:
        """True when the last frame is well before the duration the headers state."""
        duration, start = self.info.duration_s, self._start_time
        if last_time is None or not duration:
            return False
        step = 1 / float(self.info.rate) if self.info.rate else 0.1
        return last_time - start + step < duration - max(0.5, 3 * step)

    def packets(self, stream: Any) -> Iterator[Any]:
        """Demux ``stream``'s packets (a second pass over the file, for copying audio)."""
        av = _av()
        with av.open(local_url(self.path), metadata_errors="ignore", options=LOCAL_ONLY) as again:
            source = again.streams[stream.index]
            try:
                for packet in again.demux(source):
                    if packet.dts is not None:
                        yield packet
            except av.error.FFmpegError as exc:
                raise InputError(f"audio stream is damaged ({reason(exc)})", self.path) from None

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def _codec_threads() -> int | None:
    """Decoder/encoder threads: the thread budget, or ``None`` (FFmpeg's choice: every core).

    Set only when the budget is below the usable cores, so a video run alone is unchanged.
    """
    budget = thread_budget()
    return budget if budget < usable_cores() else None


class VideoWriter:
    """Encode display-oriented RGB frames as H.264 in a new file, atomically.

    The coded size, frame timestamps, time base and display rotation follow the input;
    no input metadata is written.  :meth:`commit` renames the finished file into place;
    leaving the context without it deletes the temporary file.
    """

    def __init__(self, dest: Path, info: VideoInfo, audio: Any | None = None, mode: int | None = None) -> None:
        av = _av()
        self.dest = Path(dest)
        #: Permission bits of the finished file (default: a new file's, from the umask).
        self.mode = 0o666 & ~current_umask() if mode is None else mode
        self.info = info
        if os.path.isdir(self.dest):
            raise OutputError("output path is a directory", self.dest)
        try:
            self.dest.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = temp_beside(self.dest)
        except OSError as exc:
            raise OutputError(f"cannot write to the output folder ({reason(exc)})", self.dest) from None
        fmt = _container_format(self.dest)
        try:
            self._out = av.open(local_url(self._tmp), "w", format=fmt)
        except av.error.FFmpegError as exc:
            self._discard()
            raise OutputError(f"cannot write the output ({reason(exc)})", self.dest) from None
        self._out.metadata.clear()
        rate = info.rate if info.rate and info.rate > 0 else Fraction(30)
        stream = self._out.add_stream(CODEC, rate=rate)
        stream.width, stream.height = info.width, info.height
        # 4:2:0 needs even sizes; odd-sized videos keep their size as 4:4:4.
        stream.pix_fmt = "yuv420p" if info.width % 2 == 0 and info.height % 2 == 0 else "yuv444p"
        stream.time_base = info.time_base
        stream.codec_context.time_base = info.time_base
        stream.options = {"crf": str(CRF), "preset": PRESET}
        if (threads := _codec_threads()) is not None:
            stream.codec_context.thread_count = threads
        if info.rotation:
            stream.set_display_rotation(info.rotation)
        self._stream = stream
        self._audio_out: Any | None = None
        self._audio_in = audio
        if audio is not None:
            try:
                self._audio_out = self._out.add_stream_from_template(audio)
            except (av.error.FFmpegError, ValueError) as exc:
                self._discard()
                raise InputError(
                    f"audio ({audio.codec_context.name}) cannot be copied into {fmt} ({reason(exc)})"
                ) from None
            self._audio_out.metadata.clear()
        self._last_pts: int | None = None
        self._count = 0
        self._committed = False

    def write(self, rgb: RGB, pts: int | None, duration: int | None = None) -> None:
        """Encode one display-oriented frame at ``pts`` for ``duration`` (input time base)."""
        av = _av()
        k = self.info.rotation // 90
        coded = np.ascontiguousarray(np.rot90(rgb, -k)) if k else rgb
        frame = av.VideoFrame.from_ndarray(coded, format="rgb24")
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            pts = (self._last_pts + 1) if self._last_pts is not None else 0
        frame.pts = pts
        frame.time_base = self.info.time_base
        if duration:
            frame.duration = duration
        self._last_pts = pts
        self._count += 1
        self._mux(self._stream.encode(frame))

    def copy_audio(self, packets: Iterator[Any]) -> None:
        """Copy audio packets unchanged into the output."""
        if self._audio_out is None:
            return
        for packet in packets:
            packet.stream = self._audio_out
            self._mux([packet])

    def _mux(self, packets: Any) -> None:
        av = _av()
        try:
            self._out.mux(packets)
        except av.error.FFmpegError as exc:
            raise OutputError(f"cannot write the output ({reason(exc)})", self.dest) from None

    def commit(self) -> None:
        """Flush the encoder, finish the file and rename it into place."""
        self._mux(self._stream.encode(None))
        try:
            self._out.close()
            os.chmod(self._tmp, self.mode)  # mkstemp made it 0600
            interrupt.hold()  # renamed into place means reported: a stop request now waits for that
            os.replace(self._tmp, self.dest)
        except OSError as exc:
            self._discard()
            raise OutputError(f"cannot write the output ({reason(exc)})", self.dest) from None
        self._committed = True

    @property
    def frames_written(self) -> int:
        return self._count

    def _discard(self) -> None:
        with contextlib.suppress(Exception):
            self._out.close()
        with contextlib.suppress(OSError):
            self._tmp.unlink()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._committed:
            self._discard()


def _container_format(dest: Path) -> str:
    suffix = dest.suffix.lower()
    return {".mkv": "matroska", ".webm": "matroska", ".mov": "mov"}.get(suffix, "mp4")
