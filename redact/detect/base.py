"""The detector contract and a name registry.

A detector takes an RGB ``uint8`` image (H x W x 3, orientation applied) and returns
:class:`~redact.types.Finding` objects.  Detectors know nothing of the CLI, files or
redaction; they raise :class:`~redact.errors.MissingDependencyError` when their model
or library is missing, and any other exception marks the file as not analysed.

Photos and videos use every detector through :class:`Detector` alone: ``examine`` (what
to cover plus evidence for the record judgement), ``verify`` (the self-check on the
covered pixels), ``for_video`` (the passes video frames get) and ``close``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from redact.config import Settings
from redact.errors import UsageError
from redact.types import Finding, Kind

RGBImage = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Detection:
    """What one detector learnt from one image."""

    #: What to cover.
    findings: list[Finding]
    #: Entities of the printed field labels seen ("MRN", "DOB"...): evidence that the image
    #: is a patient record.  Entity names only, never the text read.
    field_labels: tuple[str, ...] = ()
    #: What to cover instead of ``findings`` when the image is judged a patient record
    #: (``None``: the same), e.g. every line of text, not only the PHI.
    on_record: list[Finding] | None = None


class Detector(ABC):
    """Finds one kind of thing in an image.  Subclasses implement :meth:`detect`."""

    name: str
    kind: Kind

    @abstractmethod
    def detect(self, image: RGBImage) -> list[Finding]:
        """Every finding in ``image`` (RGB, uint8, H x W x 3)."""

    def examine(self, image: RGBImage) -> Detection:
        """:meth:`detect`'s findings, with any evidence the detector has for the record judgement."""
        return Detection(self.detect(image))

    def verify(self, covered: RGBImage, findings: Sequence[Finding]) -> list[Finding]:
        """Self-check on the ``covered`` pixels: what of ``findings`` still shows (default: nothing)."""
        return []

    def for_video(self, keyframe: bool) -> Detector:
        """The detector for video frames: a fast per-frame pass, or the keyframes' (default: this one)."""
        return self

    def close(self) -> None:  # noqa: B027  (a no-op default, not an abstract method)
        """Release helper processes; the detector is unusable after (default: nothing to do)."""


DetectorFactory = Callable[[Settings], Detector]

_REGISTRY: dict[str, DetectorFactory] = {}


def register(name: str) -> Callable[[DetectorFactory], DetectorFactory]:
    """Class/function decorator: make a detector factory available under ``name``."""

    def decorate(factory: DetectorFactory) -> DetectorFactory:
        _REGISTRY[name] = factory
        return factory

    return decorate


def available() -> list[str]:
    """Registered detector names."""
    return sorted(_REGISTRY)


def create(name: str, settings: Settings) -> Detector:
    """Instantiate the detector registered as ``name``."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown detector '{name}' (available: {', '.join(available())})") from None
    return factory(settings)
