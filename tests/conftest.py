"""Shared fixtures: default settings and a factory that writes small test images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from redact.config import Settings

WriteImage = Callable[..., Path]


def pattern(height: int = 24, width: int = 32) -> np.ndarray:
    """Four flat quadrants (red, green, blue, white): survives JPEG and shows any rotation."""
    a = np.zeros((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    a[:h, :w] = (255, 0, 0)
    a[:h, w:] = (0, 255, 0)
    a[h:, :w] = (0, 0, 255)
    a[h:, w:] = (255, 255, 255)
    return a


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def write_image(tmp_path: Path) -> WriteImage:
    """``write_image(name, image=None, format=None, **save_kwargs)`` -> path under tmp_path."""

    def write(name: str, image: Image.Image | np.ndarray | None = None, format: str | None = None, **kw: Any) -> Path:
        if image is None:
            image = pattern()
        if isinstance(image, np.ndarray):
            image = Image.fromarray(image)
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, format=format, **kw)
        return path

    return write


@pytest.fixture
def unprivileged() -> list[str]:
    """A command prefix under which file permissions apply (root ignores them).

    As root: ``setpriv`` without the capabilities that bypass permission checks;
    otherwise nothing.  ``chmod 000`` then makes a file or folder unreadable.
    """
    import os
    import shutil

    if os.name != "posix" or not hasattr(os, "geteuid"):
        pytest.skip("POSIX permissions")
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
