"""Everything a viewer can be made to show of one image, so that all of it is analysed.

An image with transparency shows differently on a white page, on a black page, in a tool
that ignores the alpha channel (the colour stored under transparent pixels: black text
on ``(0, 0, 0, 0)`` pixels is invisible on black and plain on white), and in a tool that
shows the alpha channel itself (a face drawn in alpha only).  (A premultiplied file's
stored channels are its picture on black.)  A high-bit-depth image also shows its
stretched range (:mod:`redact.media.depth`).  :class:`Renderings` holds what is needed to draw each of them
and draws them one at a time, so only images with a real alpha channel (or high bit
depth) pay for the extra analysis and memory.

What redact writes is the image flattened onto white (:func:`on_white`): one opaque
picture, with no alpha channel and no colour hidden under transparency.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Pixels = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True, eq=False)
class Renderings:
    """The pieces an image's other renderings are drawn from (all in the oriented frame).

    ``colour`` is the straight (un-premultiplied) sRGB colour, H x W x 3, kept only when
    ``alpha`` (H x W) says some pixel is not opaque; ``grey`` extra H x W renderings
    (stretched range).
    """

    colour: Pixels | None = None
    alpha: Pixels | None = None
    grey: tuple[Pixels, ...] = ()

    def __bool__(self) -> bool:
        return self.alpha is not None or bool(self.grey)

    def draw(self) -> Iterator[tuple[str, Pixels]]:
        """``(name, RGB pixels)`` for each rendering besides the one on white, drawn one by one."""
        if self.colour is not None and self.alpha is not None:
            yield "on black", _composite(self.colour, self.alpha, 0)
            yield "colour channels without alpha", self.colour
            yield "alpha channel", _grey_rgb(self.alpha)
        for grey in self.grey:
            yield "stretched range", _grey_rgb(grey)


def on_white(colour: Pixels, alpha: Pixels | None) -> Pixels:
    """``colour`` composited onto white with ``alpha`` (``colour`` itself when opaque)."""
    return colour if alpha is None else _composite(colour, alpha, 255)


def real_alpha(alpha: Pixels | None) -> Pixels | None:
    """``alpha`` when some pixel is not fully opaque, else None (an opaque RGBA costs nothing more)."""
    return None if alpha is None or int(alpha.min()) == 255 else alpha


#: Rows composited at a time: the 16-bit intermediates stay small on huge images.
_ROWS = 512


def _composite(colour: Pixels, alpha: Pixels, background: int) -> Pixels:
    out: Pixels = np.empty(colour.shape, np.uint8)
    for top in range(0, colour.shape[0], _ROWS):
        a = alpha[top : top + _ROWS].astype(np.uint16)[..., None]
        mixed = (colour[top : top + _ROWS].astype(np.uint16) * a + background * (255 - a) + 127) // 255
        out[top : top + _ROWS] = mixed
    return out


def _grey_rgb(grey: Pixels) -> Pixels:
    out: Pixels = np.repeat(grey[..., None], 3, axis=2)
    return out
