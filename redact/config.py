"""The one source of defaults and allowed ranges for every setting.

:class:`Settings` is immutable and picklable (it travels to worker processes).
:func:`load_settings` reads ``[tool.redact]`` from ``pyproject.toml`` or a
``redact.toml`` and rejects unknown keys and bad values with a one-line error.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from redact.errors import UsageError, reason


class FaceMethod(enum.StrEnum):
    """How faces are covered.  All three are irreversible."""

    BLUR = "blur"  # safe blur: a coarse mosaic (<= 5x5 cells) smoothed to look like a blur
    PIXELATE = "pixelate"  # the same coarse mosaic, left blocky
    FILL = "fill"  # solid colour


class TextMode(enum.StrEnum):
    """Which text is covered.  Text is always covered with a solid fill."""

    PHI = "phi"  # only text classified as PHI (and uncertain text next to PHI labels)
    ALL = "all"  # every text region found


#: Analysis stages, in the order they run.
STAGES = ("faces", "text", "barcodes")

#: Allowed numeric ranges, inclusive: key -> (low, high).
RANGES: dict[str, tuple[float, float]] = {
    "face_threshold": (0.01, 0.99),
    "face_padding": (0.3, 1.0),
    "face_padding_top": (0.3, 1.5),
    "face_weak_score": (0.0, 1.0),
    "mosaic_cells": (2, 5),
    "max_pixels": (1_000_000, 1_000_000_000),
    "jpeg_quality": (50, 100),
    "face_max_side": (320, 4096),
    "ocr_timeout_s": (1.0, 600.0),
    "text_max_side": (640, 4096),
    "barcode_max_side": (640, 4096),
    "barcode_padding": (0.05, 1.0),
    "jobs": (0, 256),
    "stall_limit_s": (0.0, 86_400.0),
    "record_min_phi_fields": (1, 100),
    "record_min_field_labels": (1, 20),
    "consent_tolerance": (0.2, 0.6),
    "video_detect_every": (1, 10),
    "video_keyframe_s": (0.1, 10.0),
    "video_face_max_side": (320, 4096),
}

#: Settings that are tuples of strings (other tuples are integers, e.g. ``fill_color``).
_STRING_TUPLES = frozenset({"text_allow", "text_deny", "include", "exclude", "stages"})

#: Settings that are file paths (``None`` = unset).  Relative paths in a config file are
#: taken relative to that file's folder.
_PATHS = frozenset({"consent_store", "cache_dir"})


@dataclass(frozen=True, slots=True)
class Settings:
    """Every tunable, with its default.  See :data:`RANGES` for allowed values."""

    face_method: FaceMethod = FaceMethod.BLUR
    #: CenterFace score above which a face is kept.  Low on purpose: recall first.
    face_threshold: float = 0.3
    #: Each side of a face box grows by this fraction of the box (hair, ears, chin).
    face_padding: float = 0.3
    #: The top grows more, to cover hair.
    face_padding_top: float = 0.4
    #: Detections scoring below this get twice the padding: a weak detection's box is often
    #: off (a masked or motion-blurred face found by its eyes only, a face half out of frame).
    face_weak_score: float = 0.3
    #: Mosaic cells across the longer side of a face: at most 5 keeps it irreversible.
    mosaic_cells: int = 5
    #: Images with more pixels than this are refused (decompression-bomb guard).
    max_pixels: int = 200_000_000
    #: Longest side the face detector's base pass sees (larger images are tiled/scaled).
    face_max_side: int = 1280
    #: JPEG/WebP/HEIC output quality.
    jpeg_quality: int = 92
    #: Solid fill colour (RGB) for text, codes and ``fill`` faces.
    fill_color: tuple[int, int, int] = (0, 0, 0)
    #: Face detector name in the registry.
    face_detector: str = "centerface"
    #: An image with this many PHI text fields (of two or more kinds, one of them a strong
    #: identifier such as NAME, MRN or DOB) is flagged as a patient record.
    record_min_phi_fields: int = 3
    #: ... or with printed labels of this many strong identifiers ("Name:", "DOB", "MRN").
    record_min_field_labels: int = 2
    #: Analysis stages that run on every image; ``faces`` uses ``face_detector``.
    #: Leaving one out means that kind of PHI is not looked for (reports say so).
    stages: tuple[str, ...] = ("faces", "text", "barcodes")
    #: ``phi`` covers text classified as PHI; ``all`` covers every text region.
    text_mode: TextMode = TextMode.PHI
    #: Seconds text detection + OCR of one image may take; past it the file fails (unsafe).
    ocr_timeout_s: float = 60.0
    #: Longest side the text-region detector sees (larger images are scaled down).
    text_max_side: int = 960
    #: Phrases that may stay visible (case-insensitive), e.g. the hospital's name.
    text_allow: tuple[str, ...] = ()
    #: Phrases that must always be covered (case-insensitive), e.g. a known patient name.
    text_deny: tuple[str, ...] = ()
    #: Longest side of the barcode stage's search pass (larger images are scaled down for it).
    barcode_max_side: int = 1600
    #: Each side of a code's outline grows by this fraction of its shorter side (quiet zone).
    barcode_padding: float = 0.15
    #: Also decode at full resolution when the image is larger than ``barcode_max_side``
    #: (small codes on 12-MP photos); off saves ~20-40 ms per photo but misses small codes.
    barcode_full_res: bool = True

    #: Video: run the (fast, single-scale) face pass on every n-th frame; tracks cover the
    #: frames between (benchmarks/video.py measures that no frame leaks).
    video_detect_every: int = 2
    #: Video: seconds between *keyframes*, which get the full photo analysis (multi-scale
    #: faces, text, codes, record flag); their text and code boxes are carried to the
    #: frames around them, moved with the camera.
    video_keyframe_s: float = 1.0
    #: Video: longest side the per-frame face pass sees.
    video_face_max_side: int = 1280
    #: Video: copy the audio track unchanged (default: drop it; voices identify people).
    keep_audio: bool = False
    #: ``clean`` (photos): look for faces again on what was covered and cover what is found,
    #: so that ``check`` passes the written copy (about as costly as the first face search).
    face_recheck: bool = True

    #: CPU cores to use (``--jobs``); 0 means every usable core.  A batch runs up to this
    #: many files at once in worker processes and shares the cores out among their threads.
    jobs: int = 0
    #: In a batch's worker processes, a file that makes no progress for this many seconds
    #: (a photo in all, a video between two frames) is given up: its worker is stopped and
    #: the file fails (unsafe).  Guards nightly runs against a hung decoder.  0: no limit.
    #: A run of a single file (in the main process) has no limit.
    stall_limit_s: float = 1800.0
    #: Glob patterns (matched against paths relative to a given folder) a file must match
    #: to be picked from a folder; empty means every image.
    include: tuple[str, ...] = ()
    #: Glob patterns of files to skip when walking a folder (e.g. ``"drafts/**"``).
    exclude: tuple[str, ...] = ()
    #: Consent store (see ``redact consent``): faces matching an enrolled, unexpired person
    #: stay visible.  ``None`` (the default) covers every face.  Also the default store of
    #: the ``redact consent`` commands.
    consent_store: Path | None = None
    #: Largest face-encoding distance that counts as the enrolled person (face_recognition: 0.6).
    #: A stranger's chance of being kept grows with the number of enrolled encodings (about
    #: 0.04% per encoding at 0.40, benchmarks/README.md): lower it for large consent lists.
    consent_tolerance: float = 0.4
    #: ``clean``: keep a content-hash cache here so unchanged files are not processed again
    #: (``--cache``).  ``None`` (the default): no cache.  Never inside the output folder.
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        for key, (low, high) in RANGES.items():
            value = getattr(self, key)
            if not low <= value <= high:
                raise UsageError(f"setting '{key}' must be between {low:g} and {high:g}")
        unknown = set(self.stages) - set(STAGES)
        if unknown or not self.stages:
            raise UsageError(f"setting 'stages' takes one or more of {', '.join(STAGES)}")
        if len(self.fill_color) != 3 or not all(0 <= c <= 255 for c in self.fill_color):
            raise UsageError("setting 'fill_color' must be three integers 0-255")

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied and validated (``None`` values are ignored)."""
        return from_mapping({k: v for k, v in changes.items() if v is not None}, base=self)


def from_mapping(data: Mapping[str, Any], base: Settings | None = None, origin: str = "settings") -> Settings:
    """Validate ``data`` (e.g. a TOML table) into :class:`Settings`, naming any bad key."""
    base = base or Settings()
    known = {f.name: f for f in fields(Settings)}
    changes: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key not in known:
            raise UsageError(f"{origin}: unknown key '{raw_key}'")
        default = getattr(base, key)
        try:
            if key in _STRING_TUPLES:
                changes[key] = _coerce_strings(value)
            elif key in _PATHS:
                changes[key] = _coerce_path(value)
            else:
                changes[key] = _coerce(default, value)
        except (TypeError, ValueError):
            # Never the value itself: text_deny and text_allow hold patient names.
            raise UsageError(f"{origin}: bad value for '{raw_key}' (expected {_expected(key, default)})") from None
    return dataclasses.replace(base, **changes)


def _expected(key: str, default: Any) -> str:
    """What a setting takes, in words, for error messages (which never echo the value)."""
    if key in _STRING_TUPLES:
        return "a list of strings"
    if key in _PATHS:
        return "a file path"
    if isinstance(default, enum.Enum):
        return "one of " + ", ".join(str(member.value) for member in type(default))
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, tuple):
        return "a list of integers"
    return "a string"


def _coerce_strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise TypeError
    return tuple(value)


def _coerce_path(value: Any) -> Path:
    if isinstance(value, Path):
        return value.expanduser()
    if not isinstance(value, str) or not value.strip():
        raise TypeError
    return Path(value).expanduser()


def _coerce(default: Any, value: Any) -> Any:
    if isinstance(default, enum.Enum):
        return type(default)(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise TypeError
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError
        return float(value)
    if isinstance(default, tuple):
        return tuple(int(v) for v in value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise TypeError
        return value
    raise TypeError


def find_config(start: Path) -> Path | None:
    """The nearest ``redact.toml``, or ``pyproject.toml`` with a ``[tool.redact]`` table."""
    for folder in (start, *start.parents):
        candidate = folder / "redact.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "redact" in _read_toml(pyproject).get("tool", {}):
            return pyproject
    return None


def load_settings(path: Path | None = None, start: Path | None = None) -> Settings:
    """Settings from ``path`` (or the discovered config file), else the defaults."""
    if path is None:
        path = find_config(start or Path.cwd())
        if path is None:
            return Settings()
    if path.is_dir():
        raise UsageError("config path is a directory, expected a .toml file", path)
    if not path.is_file():
        raise UsageError("config file not found", path)
    data = _read_toml(path)
    table = data.get("tool", {}).get("redact", {}) if path.name == "pyproject.toml" else data
    settings = from_mapping(table, origin=str(path))
    for key in _PATHS:
        value = getattr(settings, key)
        if value is not None and not value.is_absolute():
            settings = dataclasses.replace(settings, **{key: path.parent / value})
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read config ({reason(exc)})", path) from None
    except tomllib.TOMLDecodeError as exc:
        # Only where: the parser's message can quote the text around the error.
        found = re.search(r"\(at (line \d+, column \d+|end of document)\)", str(exc))
        where = f" at {found.group(1)}" if found else ""
        raise UsageError(f"cannot read config: not valid TOML{where}", path) from None
