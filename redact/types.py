"""Core value types that flow detectors -> policy -> redactor -> writer -> report.

Coordinates are pixels in the *oriented* image (EXIF orientation already applied),
``xyxy`` order, floats; ``(0, 0)`` is the top-left corner.  A :class:`Finding` carries
an entity *label* ("FACE", "MRN", "DOB"...) and never the matched text.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Kind(enum.StrEnum):
    """What sort of thing a finding is."""

    FACE = "face"
    TEXT = "text"
    BARCODE = "barcode"


class Mode(enum.StrEnum):
    """What a run does with each file."""

    SCAN = "scan"  # analyse and report; write nothing
    CLEAN = "clean"  # analyse and write a covered, metadata-free copy


class Status(enum.StrEnum):
    """The outcome for one file."""

    CLEAN = "clean"  # analysed fully, nothing to cover
    REDACTED = "redacted"  # analysed fully, covered copy written
    FINDINGS = "findings"  # scan mode: analysed fully, something needs covering
    FAILED = "failed"  # not fully analysed: unsafe (fail closed)


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box ``[x0, x1) x [y0, y1)`` in pixels."""

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        values = (self.x0, self.y0, self.x1, self.y1)
        if not all(math.isfinite(v) for v in values):
            raise ValueError("box coordinates must be finite")
        if self.x1 < self.x0 or self.y1 < self.y0:
            raise ValueError("box must have x0 <= x1 and y0 <= y1")

    @classmethod
    def from_xywh(cls, x: float, y: float, w: float, h: float) -> Box:
        """Build a box from its top-left corner, width and height."""
        return cls(x, y, x + w, y + h)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)

    def pad(
        self,
        left: float,
        top: float | None = None,
        right: float | None = None,
        bottom: float | None = None,
    ) -> Box:
        """Grow each side by a fraction of the box's own width (left/right) or height.

        ``pad(0.3)`` grows every side by 30%; the box stays centred.
        """
        top = left if top is None else top
        right = left if right is None else right
        bottom = top if bottom is None else bottom
        w, h = self.width, self.height
        return Box(self.x0 - left * w, self.y0 - top * h, self.x1 + right * w, self.y1 + bottom * h)

    def clip(self, width: int, height: int) -> Box | None:
        """Clip to an image of ``width x height``; ``None`` when nothing is left inside."""
        x0, y0 = max(0.0, self.x0), max(0.0, self.y0)
        x1, y1 = min(float(width), self.x1), min(float(height), self.y1)
        if x1 <= x0 or y1 <= y0:
            return None
        return Box(x0, y0, x1, y1)

    def pixel_bounds(self, width: int, height: int) -> tuple[int, int, int, int] | None:
        """Integer slice bounds that cover every pixel the box touches, clipped to the image.

        Rounds outwards (floor/ceil) so a redaction never leaves a partly covered edge pixel.
        """
        clipped = self.clip(width, height)
        if clipped is None:
            return None
        x0, y0 = math.floor(clipped.x0), math.floor(clipped.y0)
        x1, y1 = math.ceil(clipped.x1), math.ceil(clipped.y1)
        return x0, y0, x1, y1

    def intersection(self, other: Box) -> float:
        """Area shared with ``other``."""
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def union(self, other: Box) -> Box:
        """The smallest box holding both."""
        return Box(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))

    def iou(self, other: Box) -> float:
        """Intersection over union with ``other`` (0 for two empty boxes)."""
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def scale(self, factor: float) -> Box:
        """Multiply every coordinate by ``factor`` (for resized images)."""
        return Box(self.x0 * factor, self.y0 * factor, self.x1 * factor, self.y1 * factor)


Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that was found and must be covered (or reported).

    ``label`` is an entity type such as ``"FACE"`` or ``"MRN"`` -- never the matched
    text or a barcode payload.  ``polygon`` (when set) is the tighter outline the
    detector found; ``box`` always encloses it.
    """

    kind: Kind
    box: Box
    confidence: float
    source: str
    label: str
    polygon: tuple[Point, ...] | None = None
    frame: int | None = None
    #: Video: the last frame the finding covers (``frame`` is the first).
    frame_end: int | None = None
    track_id: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError("confidence must be within [0, 1]")
        if not self.label or not self.label.isupper():
            raise ValueError("label must be an upper-case entity type, e.g. 'FACE'")

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view (no text, only geometry and labels)."""
        out: dict[str, object] = {
            "kind": str(self.kind),
            "label": self.label,
            "box": [round(v, 1) for v in self.box.xyxy],
            "confidence": round(self.confidence, 4),
            "source": self.source,
        }
        if self.polygon is not None:
            out["polygon"] = [[round(x, 1), round(y, 1)] for x, y in self.polygon]
        if self.frame is not None:
            out["frame"] = self.frame
        if self.frame_end is not None:
            out["frame_end"] = self.frame_end
        if self.track_id is not None:
            out["track_id"] = self.track_id
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """The inverse of :meth:`to_dict`."""
        polygon = data.get("polygon")
        return cls(
            kind=Kind(data["kind"]),
            box=Box(*data["box"]),
            confidence=float(data["confidence"]),
            source=str(data["source"]),
            label=str(data["label"]),
            polygon=tuple((float(x), float(y)) for x, y in polygon) if polygon else None,
            frame=data.get("frame"),
            frame_end=data.get("frame_end"),
            track_id=data.get("track_id"),
        )


@dataclass(frozen=True, slots=True)
class Flag:
    """A whole-file judgement that needs a person (e.g. "looks like a patient record")."""

    code: str
    reason: str


#: Input metadata that makes the file as it is unsafe to publish: a position, or a copy of
#: the unredacted picture (or anything else) that a viewer may show and redact does not
#: analyse: a thumbnail, another image or a video inside the file, data after its end.
LEAKY_METADATA = frozenset({"GPS", "THUMBNAIL", "EMBEDDED_IMAGE", "EMBEDDED_VIDEO", "TRAILER"})


@dataclass(frozen=True, slots=True)
class FileResult:
    """What happened to one input file."""

    path: Path
    status: Status
    findings: tuple[Finding, ...] = ()
    flags: tuple[Flag, ...] = ()
    output: Path | None = None
    error: str | None = None
    exit_code: int = 0
    size: tuple[int, int] | None = None  # (width, height) after orientation
    elapsed_ms: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Hidden metadata the *input* carries ("GPS", "EXIF", "THUMBNAIL"...); never in outputs.
    metadata: tuple[str, ...] = ()
    #: A small JPEG of the *covered* image for review pages (never the original); not in JSON.
    preview: bytes | None = field(default=None, repr=False, compare=False)
    #: Faces left visible because they matched the consent list: ``(name, count)`` pairs, by name.
    kept: tuple[tuple[str, int], ...] = ()

    @property
    def leaky_metadata(self) -> tuple[str, ...]:
        """Metadata that leaks PHI if the input is published as it is."""
        return tuple(m for m in self.metadata if m in LEAKY_METADATA)

    @property
    def unsafe(self) -> bool:
        """True when the file must not be published as it is."""
        return self.status in (Status.FINDINGS, Status.FAILED) or bool(self.flags)

    def counts(self) -> dict[str, int]:
        """Number of findings per kind."""
        return count_by_kind(self.findings)

    @property
    def kept_faces(self) -> int:
        """Number of faces left visible by consent."""
        return sum(n for _, n in self.kept)

    def kept_text(self) -> str:
        """``"2 face(s) kept visible by consent: A. Jones (1), B. Smith (1)"``, or ``""``."""
        if not self.kept:
            return ""
        names = ", ".join(f"{name} ({n})" if len(self.kept) > 1 else name for name, n in self.kept)
        return f"{self.kept_faces} face(s) kept visible by consent: {names}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view of the result."""
        return {
            "path": str(self.path),
            "status": str(self.status),
            "size": list(self.size) if self.size else None,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
            "flags": [{"code": f.code, "reason": f.reason} for f in self.flags],
            "output": str(self.output) if self.output else None,
            "error": self.error,
            "exit_code": self.exit_code,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "notes": list(self.notes),
            "metadata": list(self.metadata),
            "kept_by_consent": dict(self.kept),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileResult:
        """The inverse of :meth:`to_dict`."""
        return cls(
            path=Path(data["path"]),
            status=Status(data["status"]),
            findings=tuple(Finding.from_dict(f) for f in data["findings"]),
            flags=tuple(Flag(f["code"], f["reason"]) for f in data["flags"]),
            output=Path(data["output"]) if data.get("output") else None,
            error=data.get("error"),
            exit_code=int(data.get("exit_code", 0)),
            size=(int(data["size"][0]), int(data["size"][1])) if data.get("size") else None,
            elapsed_ms=float(data.get("elapsed_ms", 0.0)),
            notes=tuple(data.get("notes", ())),
            metadata=tuple(data.get("metadata", ())),
            kept=tuple((str(k), int(n)) for k, n in data.get("kept_by_consent", {}).items()),
        )


def count_by_kind(findings: Iterable[Finding]) -> dict[str, int]:
    """Count findings per :class:`Kind` value."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[str(f.kind)] = counts.get(str(f.kind), 0) + 1
    return counts
