"""Policy: turn findings into the regions to cover, and how to cover each.

Faces are padded (hair, ears, chin) and covered with the configured face method; text
and codes are always solid-filled, because blurred or pixelated text can be recovered.
Boxes are clipped to the image but never dropped when partly outside the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from redact.config import FaceMethod, Settings
from redact.types import Box, Finding, Kind, Point


@dataclass(frozen=True, slots=True)
class Cover:
    """One region to cover: a clipped box, an optional polygon, a method, and why."""

    box: Box
    method: FaceMethod
    polygon: tuple[Point, ...] | None = None
    finding: Finding | None = None


def face_cover_box(box: Box, settings: Settings, weak: bool = False) -> Box:
    """The padded box that covers a detected face (before clipping); twice the padding if ``weak``."""
    k = 2.0 if weak else 1.0
    side, top = k * settings.face_padding, k * settings.face_padding_top
    return box.pad(side, top, side, side)


def is_weak(finding: Finding, settings: Settings) -> bool:
    """A face found with a score below ``face_weak_score``: its box is less reliable.

    (A video track's carried box has the score of the weakest detection it rests on.)
    """
    return finding.confidence < settings.face_weak_score


def plan(findings: list[Finding] | tuple[Finding, ...], settings: Settings, width: int, height: int) -> list[Cover]:
    """The covers for ``findings`` on a ``width x height`` image, in drawing order.

    Faces are drawn first so that solid fills of text and codes always end on top.
    """
    faces: list[Cover] = []
    solids: list[Cover] = []
    for finding in findings:
        if finding.kind is Kind.FACE:
            box = face_cover_box(finding.box, settings, is_weak(finding, settings)).clip(width, height)
            if box is not None:
                faces.append(Cover(box, settings.face_method, finding=finding))
        else:
            box = finding.box.clip(width, height)
            if box is not None:
                solids.append(Cover(box, FaceMethod.FILL, finding.polygon, finding))
    return faces + solids


def cover_boxes(
    findings: list[Finding] | tuple[Finding, ...], settings: Settings, width: int, height: int
) -> list[Box]:
    """Just the boxes :func:`plan` would cover (used by benchmarks and reports)."""
    return [c.box for c in plan(findings, settings, width, height)]
