"""Decide, per detected face, whether it belongs to an enrolled, unexpired person.

A face is kept visible only when its encoding lies within :data:`DEFAULT_TOLERANCE`
(Euclidean distance) of one of the person's reference encodings.  The default is
stricter than face_recognition's 0.6; see docs/consent.md and benchmarks/README.md for
the measurements behind it.  Faces that cannot be encoded, and every face when no one
is enrolled, stay covered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from redact.consent.encoder import FaceEncoder, RGBImage, Vector
from redact.consent.store import ConsentStore, Person
from redact.errors import UsageError
from redact.types import Finding, Kind

#: Largest encoding distance that still counts as the same person (face_recognition uses 0.6).
DEFAULT_TOLERANCE = 0.4


class ConsentMatcher:
    """Match faces against the unexpired entries of a consent store.

    Reusable per image or per video frame: :meth:`keep` takes RGB pixels and the face
    findings of our detector and returns, per face, the enrolled name to keep it visible
    for, or ``None`` to cover it.
    """

    def __init__(
        self,
        store: ConsentStore,
        encoder: FaceEncoder | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        today: dt.date | None = None,
    ) -> None:
        if not 0.0 < tolerance < 1.0:
            raise UsageError(f"consent tolerance must be between 0 and 1, got {tolerance!r}")
        self.tolerance = tolerance
        today = today or dt.date.today()
        people = list(store.people.values())
        #: Entries past their expiry date: they never match (callers warn about them).
        self.expired: list[Person] = [p for p in people if p.expired(today)]
        self._names: list[str] = []
        rows: list[Sequence[float]] = []
        for person in people:
            if person.expired(today):
                continue
            for encoding in person.encodings:
                self._names.append(person.name)
                rows.append(encoding)
        self._references: npt.NDArray[np.float64] = np.asarray(rows, dtype=np.float64).reshape(-1, 128)
        # Loaded even when no one can match: asking for consent with a broken dlib fails loudly.
        self.encoder = encoder or FaceEncoder()

    @classmethod
    def from_path(cls, path: Path, tolerance: float = DEFAULT_TOLERANCE) -> ConsentMatcher:
        """Load the store at ``path`` (it must exist) and the dlib models."""
        return cls(ConsentStore.load(path), tolerance=tolerance)

    @property
    def active(self) -> int:
        """Number of reference encodings that can match."""
        return len(self._names)

    def match(self, encoding: Vector | None) -> str | None:
        """The enrolled name nearest to ``encoding`` within the tolerance, else ``None``."""
        if encoding is None or not self._names:
            return None
        distances = np.linalg.norm(self._references - encoding, axis=1)
        best = int(np.argmin(distances))
        return self._names[best] if float(distances[best]) <= self.tolerance else None

    def keep(self, image: RGBImage, faces: Sequence[Finding]) -> list[str | None]:
        """Per face finding: the name to keep it visible for, or ``None`` to cover it.

        Non-face findings are never kept.
        """
        if not self._names:
            return [None] * len(faces)
        return [self.match(self.encoder.encode(image, f.box)) if f.kind is Kind.FACE else None for f in faces]
