"""Covering pixels irreversibly: safe blur, coarse pixelation, solid fill.

A plain Gaussian blur or a fine mosaic of a face can be undone by recognition models
(McPherson et al. 2016).  Here every face method first reduces the region to at most
``mosaic_cells`` x ``mosaic_cells`` colours; the safe blur then smooths that mosaic,
so the output depends on those few colours only and nothing else of the original.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from redact.config import FaceMethod, Settings
from redact.policy import Cover

Image = npt.NDArray[np.uint8]


def mosaic_grid(width: int, height: int, cells: int) -> tuple[int, int]:
    """Cells across and down for a region: ``cells`` along the longer side, fewer on the shorter."""
    longer = max(width, height)
    across = max(1, min(cells, round(cells * width / longer)))
    down = max(1, min(cells, round(cells * height / longer)))
    return across, down


def cell_edges(length: int, cells: int) -> npt.NDArray[np.intp]:
    """Integer boundaries of ``cells`` near-equal cells along ``length`` pixels."""
    return np.linspace(0, length, cells + 1).round().astype(np.intp)


def _coarse(region: Image, cells: int) -> Image:
    """The mean colour of each mosaic cell (shape: down x across x C)."""
    h, w = region.shape[:2]
    across, down = mosaic_grid(w, h, cells)
    xs, ys = cell_edges(w, across), cell_edges(h, down)
    if np.all(np.diff(xs) > 0) and np.all(np.diff(ys) > 0):
        # Every cell has pixels: sum the cells in two vectorised passes.
        sums = np.add.reduceat(np.add.reduceat(region, ys[:-1], axis=0, dtype=np.float64), xs[:-1], axis=1)
        counts = (np.diff(ys)[:, None] * np.diff(xs)[None, :])[..., None]
        return np.asarray((sums / counts).round(), dtype=np.uint8)
    out = np.empty((down, across, region.shape[2]), np.uint8)
    for i in range(down):
        for j in range(across):
            cell = region[ys[i] : ys[i + 1], xs[j] : xs[j + 1]]
            out[i, j] = cell.reshape(-1, region.shape[2]).mean(axis=0).round() if cell.size else 0
    return out


def pixelate(region: Image, cells: int) -> Image:
    """A blocky mosaic of at most ``cells`` x ``cells`` blocks."""
    h, w = region.shape[:2]
    coarse = _coarse(region, cells)
    down, across = coarse.shape[:2]
    xs, ys = cell_edges(w, across), cell_edges(h, down)
    out = np.empty_like(region)
    for i in range(down):
        for j in range(across):
            out[ys[i] : ys[i + 1], xs[j] : xs[j + 1]] = coarse[i, j]
    return out


def safe_blur(region: Image, cells: int) -> Image:
    """A smooth, blur-like rendering of the coarse mosaic (irreversible)."""
    h, w = region.shape[:2]
    coarse = _coarse(region, cells)
    # Smooth at most ~128 px across, then scale up: the result is equally smooth and a
    # large face (a close-up, a 4K frame) costs no more than a small one.
    scale = min(1.0, _SMOOTH_SIDE / max(w, h))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    smooth = cv2.resize(coarse, (sw, sh), interpolation=cv2.INTER_LINEAR)
    # Soften the bilinear creases; the kernel is about one cell wide.  Only the
    # coarse colours feed this, so no detail of the original can come back.
    across, down = mosaic_grid(sw, sh, cells)
    k = max(3, (max(sw // across, sh // down) // 2) | 1)
    out = cv2.GaussianBlur(smooth, (k, k), 0, borderType=cv2.BORDER_REPLICATE)
    if (sw, sh) != (w, h):
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.asarray(out, dtype=np.uint8).reshape(region.shape)


_SMOOTH_SIDE = 128


def fill(region: Image, color: tuple[int, int, int]) -> Image:
    """A solid block of ``color`` (alpha, if any, is left opaque)."""
    out = np.empty_like(region)
    out[..., :3] = color
    if region.shape[-1] == 4:
        out[..., 3] = 255
    return out


def apply(image: Image, covers: list[Cover], settings: Settings) -> Image:
    """A copy of ``image`` (H x W x 3 or 4) with every cover applied in order."""
    out = image.copy()
    height, width = out.shape[:2]
    for cover in covers:
        bounds = cover.box.pixel_bounds(width, height)
        if bounds is None:
            continue
        x0, y0, x1, y1 = bounds
        if cover.polygon is not None and cover.method is FaceMethod.FILL:
            _fill_polygon(out, cover, settings.fill_color)
            continue
        region = out[y0:y1, x0:x1]
        if cover.method is FaceMethod.FILL:
            out[y0:y1, x0:x1] = fill(region, settings.fill_color)
        elif cover.method is FaceMethod.PIXELATE:
            out[y0:y1, x0:x1] = pixelate(region, settings.mosaic_cells)
        else:
            out[y0:y1, x0:x1] = safe_blur(region, settings.mosaic_cells)
    return out


def _fill_polygon(out: Image, cover: Cover, color: tuple[int, int, int]) -> None:
    assert cover.polygon is not None
    pts = np.array([[math.floor(x), math.floor(y)] for x, y in cover.polygon], dtype=np.int32)
    fill_value = (*color, 255) if out.shape[-1] == 4 else color
    cv2.fillPoly(out, [pts], fill_value, lineType=cv2.LINE_8)
    # Dilate by a pixel so anti-aliased glyph edges at the border are gone too.
    cv2.polylines(out, [pts], True, fill_value, thickness=3, lineType=cv2.LINE_8)
