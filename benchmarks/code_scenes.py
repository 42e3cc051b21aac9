"""Generated scenes with barcodes and known ground truth, for benchmarks/barcodes.py.

Each scene is a photo-like RGB image with labels carrying codes drawn by zxing-cpp's
writer, placed with rotation and scale, then degraded (blur, noise, JPEG).  Every code's
symbol outline (no quiet zone) is recorded, with whether it carries PHI.  Payloads are made
up (fake MRNs, names, dates); nothing here is real patient data.

Scene types:

* ``wristband`` -- a narrow white band on an arm: Code 128 (MRN) + name/DOB/MRN text,
  sometimes a DataMatrix too;
* ``specimen`` -- a tube label: DataMatrix (accession) + Code 128 + text;
* ``medication`` -- a pharmacy label: PDF417 (patient) + an EAN-13 product code (not PHI);
* ``poster`` -- an awareness poster: a large URL QR code (not PHI) and a headline;
* ``blurred`` -- a wristband too blurred or scuffed to decode (still PHI);
* ``sheet`` -- a label sheet with many small codes (QR, DataMatrix, Aztec, Code 39).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

Image = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float64]
F = zxingcpp.BarcodeFormat

KINDS = ("wristband", "specimen", "medication", "poster", "blurred", "sheet")


@dataclass
class Code:
    """One code in a scene: symbol outline (scene pixels), symbology, PHI or not."""

    quad: Quad
    symbology: str
    phi: bool


@dataclass
class Scene:
    """A generated image and its codes."""

    kind: str
    image: Image
    codes: list[Code] = field(default_factory=list)


def symbol(fmt: zxingcpp.BarcodeFormat, payload: str, scale: int) -> Image:
    """The code's modules (no quiet zone), black on white, ``scale`` px per module."""
    return np.asarray(zxingcpp.create_barcode(payload, fmt).to_image(scale=scale, add_quiet_zones=False))


@dataclass
class _Label:
    """A label being composed: pixels and its codes' outlines in label pixels."""

    pixels: Image
    codes: list[Code] = field(default_factory=list)

    def code(self, fmt: zxingcpp.BarcodeFormat, payload: str, scale: int, x: int, y: int, name: str, phi: bool) -> int:
        sym = symbol(fmt, payload, scale)
        h, w = sym.shape
        self.pixels[y : y + h, x : x + w] = sym[..., None]
        quad = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
        self.codes.append(Code(quad, name, phi))
        return int(w)

    def text(self, line: str, x: int, y: int, size: float) -> None:
        cv2.putText(self.pixels, line, (x, y), cv2.FONT_HERSHEY_SIMPLEX, size, (20, 20, 20), max(1, round(size * 2)))


def _background(rng: np.random.Generator, width: int, height: int, kind: str) -> Image:
    base = {
        "wristband": (190, 150, 130),  # skin / sheet
        "blurred": (185, 148, 128),
        "specimen": (225, 228, 232),
        "medication": (150, 160, 175),
        "poster": (120, 130, 140),
        "sheet": (110, 100, 90),
    }[kind]
    yy, xx = np.mgrid[0:height:8, 0:width:8]
    shade = (0.85 + 0.15 * np.sin(xx / 400.0 + rng.uniform(0, 6)) * np.cos(yy / 300.0)).astype(np.float32)
    small = (np.array(base, np.float32)[None, None] * shade[..., None]).clip(0, 255).astype(np.uint8)
    return np.asarray(cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR), np.uint8)


def _compose(rng: np.random.Generator, kind: str) -> _Label:
    mrn = f"MRN{rng.integers(10**7, 10**8)}"
    if kind in ("wristband", "blurred"):
        lab = _Label(np.full((200, 1300, 3), 250, np.uint8))
        w = lab.code(F.Code128, mrn, 3, 40, 30, "CODE128", True)
        lab.text("DOE, JANE  F", 80 + w, 70, 1.4)
        lab.text(f"DOB 03/04/19{rng.integers(40, 99)}  {mrn}", 80 + w, 125, 1.0)
        if rng.random() < 0.5:
            lab.code(F.DataMatrix, mrn, 6, 1300 - 140, 40, "DATAMATRIX", True)
        return lab
    if kind == "specimen":
        lab = _Label(np.full((260, 900, 3), 252, np.uint8))
        lab.code(F.DataMatrix, f"S24-{rng.integers(10**6, 10**7)}", 7, 30, 40, "DATAMATRIX", True)
        lab.code(F.Code128, mrn, 2, 240, 30, "CODE128", True)
        lab.text("DOE, JANE", 240, 200, 1.2)
        lab.text("CBC  LAV", 240, 240, 0.9)
        return lab
    if kind == "medication":
        lab = _Label(np.full((420, 1000, 3), 248, np.uint8))
        lab.code(F.PDF417, f"RX{rng.integers(10**6, 10**7)}^DOE^JANE^{mrn}", 3, 30, 30, "PDF417", True)
        lab.code(F.EAN13, "5901234123457", 3, 620, 250, "EAN13", False)
        lab.text("AMOXICILLIN 500MG", 30, 330, 1.2)
        lab.text("TAKE 1 CAPSULE 3X DAILY", 30, 380, 0.9)
        return lab
    if kind == "poster":
        lab = _Label(np.full((900, 700, 3), 245, np.uint8))
        lab.text("WASH YOUR HANDS", 40, 100, 1.6)
        lab.text("Learn more:", 40, 200, 1.2)
        lab.code(F.QRCode, "https://example.org/hand-hygiene", 8, 150, 300, "QRCODE", False)
        return lab
    # sheet: a grid of small labels
    lab = _Label(np.full((1100, 1500, 3), 250, np.uint8))
    fmts = [(F.QRCode, 4, "QRCODE"), (F.DataMatrix, 5, "DATAMATRIX"), (F.Aztec, 4, "AZTEC"), (F.Code39, 1, "CODE39")]
    for i in range(24):
        fmt, scale, name = fmts[i % len(fmts)]
        payload = f"P{rng.integers(10**6, 10**7)}"
        lab.code(fmt, payload, scale, 40 + (i % 6) * 240, 40 + (i // 6) * 260, name, True)
    return lab


def make_scene(kind: str, seed: int, width: int = 4000, height: int = 3000) -> Scene:
    """One ``kind`` scene of ``width x height`` pixels, deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    img = _background(rng, width, height, kind)
    lab = _compose(rng, kind)
    lh, lw = lab.pixels.shape[:2]
    # Size on the photo: the label spans 25-60% of the width (sheets and posters more).
    span = rng.uniform(0.3, 0.6) if kind in ("sheet", "poster") else rng.uniform(0.25, 0.6)
    scale = span * width / lw
    angle = float(rng.uniform(-40, 40)) if kind != "sheet" else float(rng.uniform(-8, 8))
    cx, cy = width * rng.uniform(0.35, 0.65), height * rng.uniform(0.35, 0.65)
    m = cv2.getRotationMatrix2D((lw / 2, lh / 2), angle, scale)
    m[:, 2] += (cx - lw / 2, cy - lh / 2)
    # Warp only into the label's bounding box (12-MP frames are costly).
    corners = cv2.transform(np.array([[[0, 0], [lw, 0], [lw, lh], [0, lh]]], np.float64), m)[0]
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int), (width, height))
    mr = m.copy()
    mr[:, 2] -= (x0, y0)
    size = (int(x1 - x0), int(y1 - y0))
    warped = cv2.warpAffine(lab.pixels, mr, size, flags=cv2.INTER_AREA, borderValue=(0, 0, 0))
    mask = cv2.warpAffine(np.full((lh, lw), 255, np.uint8), mr, size, flags=cv2.INTER_NEAREST) > 0
    roi = img[y0:y1, x0:x1]
    roi[mask] = warped[mask]
    codes = [Code(np.asarray(cv2.transform(c.quad[None], m)[0], np.float64), c.symbology, c.phi) for c in lab.codes]
    img = _degrade(rng, img, heavy=kind == "blurred")
    return Scene(kind, img, codes)


def _degrade(rng: np.random.Generator, img: Image, heavy: bool) -> Image:
    """Camera-like blur, noise and JPEG compression (``heavy``: defocus + motion blur)."""
    sigma = rng.uniform(5.0, 7.0) if heavy else rng.uniform(0.0, 1.2)
    if sigma > 0.3:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), sigma), np.uint8)
    if heavy:
        k = np.zeros((15, 15), np.float32)
        k[7, :] = 1.0 / 15
        img = np.asarray(cv2.filter2D(img, -1, k), np.uint8)
    noise = rng.integers(-4, 5, (*img.shape[:2], 1), dtype=np.int16)
    img = np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("JPEG decoding failed")
    return np.ascontiguousarray(np.asarray(decoded, np.uint8)[..., ::-1])


def scenes(count_per_kind: int, seed: int = 0, width: int = 4000, height: int = 3000) -> list[Scene]:
    """``count_per_kind`` scenes of every kind."""
    return [
        make_scene(k, seed + 1000 * i + j, width, height) for i, k in enumerate(KINDS) for j in range(count_per_kind)
    ]
