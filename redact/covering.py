"""Cover what was found, then self-check the covered pixels and cover what still shows.

Used for photos and for video keyframes.  PHI still readable after a second round fails
the file: such a file must never pass as safe.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from redact import obscure, policy
from redact.analysis import Analyzer
from redact.detect import RGBImage
from redact.errors import AnalysisError
from redact.types import Finding, Kind


def cover(
    image: RGBImage, findings: list[Finding], analyzer: Analyzer, width: int, height: int
) -> tuple[RGBImage, list[Finding]]:
    """Cover ``findings``, self-check the result, and cover again what still shows.

    Returns the covered pixels and every finding covered (including any the self-check
    added).  Raises :class:`AnalysisError` when PHI is still readable after a second round:
    such a file must never pass as safe.
    """
    settings = analyzer.settings
    covered = obscure.apply(image, policy.plan(findings, settings, width, height), settings) if findings else image
    if not findings:
        return covered, findings
    for _ in range(2):
        leaks = analyzer.verify(np.ascontiguousarray(covered[..., :3]), findings)
        if not leaks:
            return covered, findings
        findings = findings + leaks
        covered = obscure.apply(covered, policy.plan(leaks, settings, width, height), settings)
    raise AnalysisError(f"{len(leaks)} region(s) still readable after covering twice")


#: Rounds of :func:`cover_faces_left`.
FACE_RECHECKS = 2


def cover_faces_left(
    covered: RGBImage, findings: list[Finding], analyzer: Analyzer, width: int, height: int
) -> tuple[RGBImage, list[Finding]]:
    """Look for faces again on the covered pixels and cover what is found (``clean`` only).

    A mosaic can still look face-like, and a face's cover can unmask a face-like patch next
    to it; ``redact check`` on the written copy would then flag it again.  Covering what the
    detector still finds, up to :data:`FACE_RECHECKS` times, keeps ``clean``'s output clean by
    ``check``'s measure (see benchmarks/README.md#faces).
    """
    settings = analyzer.settings
    for _ in range(FACE_RECHECKS):
        again = analyzer.faces_left(np.ascontiguousarray(covered[..., :3]))
        if not again:
            break
        covered = obscure.apply(covered, policy.plan(again, settings, width, height), settings)
        findings = _merge_faces(findings, again, width, height)
    return covered, findings


def _merge_faces(findings: list[Finding], again: list[Finding], width: int, height: int) -> list[Finding]:
    """Add ``again`` to ``findings``; one that overlaps a face already found widens its box.

    A face found again on its own cover is the same face: reports count it once, with a box
    that spans both covers (clipped to the ``width`` x ``height`` frame).
    """
    merged = list(findings)
    for extra in again:
        for i, known in enumerate(merged):
            if known.kind is Kind.FACE and known.box.intersection(extra.box) > 0:
                box = known.box.union(extra.box)
                merged[i] = replace(known, box=box.clip(width, height) or box)
                break
        else:
            merged.append(extra)
    return merged
