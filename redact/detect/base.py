"""The detector contract and a name registry.

A detector takes an RGB ``uint8`` image (H x W x 3, orientation applied) and returns
:class:`~redact.types.Finding` objects.  Detectors know nothing of the CLI, files or
redaction; they raise :class:`~redact.errors.MissingDependencyError` when their model
or library is missing, and any other exception marks the file as not analysed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from redact.config import Settings
from redact.errors import UsageError
from redact.types import Finding, Kind

RGBImage = npt.NDArray[np.uint8]


@runtime_checkable
class Detector(Protocol):
    """Finds one kind of thing in an image."""

    name: str
    kind: Kind

    def detect(self, image: RGBImage) -> list[Finding]:
        """Every finding in ``image`` (RGB, uint8, H x W x 3)."""
        ...


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
