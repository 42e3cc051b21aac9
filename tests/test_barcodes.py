"""Barcode / 2-D code stage: found, covered, undecodable afterwards, payload never exposed."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

zxingcpp = pytest.importorskip("zxingcpp")

from redact import obscure, policy  # noqa: E402
from redact.config import Settings  # noqa: E402
from redact.detect import base  # noqa: E402
from redact.detect.barcodes import (  # noqa: E402
    LABEL_ID,
    LABEL_OTHER,
    LABEL_UNREAD,
    BarcodeDetector,
    looks_like_id,
    symbology,
    verify_no_codes,
)
from redact.detect.code_locate import locate_fine, looks_printed  # noqa: E402
from redact.errors import AnalysisError, MissingDependencyError  # noqa: E402
from redact.types import Finding, Kind  # noqa: E402

Image = npt.NDArray[np.uint8]
F = zxingcpp.BarcodeFormat


# ----------------------------------------------------------------------------- scenes


@dataclass
class Placed:
    """A code drawn into a scene: its symbol's corners (no quiet zone) and its payload."""

    quad: npt.NDArray[np.float64]
    payload: str


def symbol(fmt: object, payload: str, scale: int) -> Image:
    """The code's modules only (no quiet zone), black on white."""
    return np.asarray(zxingcpp.create_barcode(payload, fmt).to_image(scale=scale, add_quiet_zones=False))


def scene(width: int = 900, height: int = 700, seed: int = 0) -> Image:
    """A plain, slightly textured background (a bed sheet / desk)."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), (196, 204, 214), np.uint8)
    noise = rng.normal(0, 4, (height, width, 1))
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def place(img: Image, code: Image, x: float, y: float, angle: float = 0.0, quiet: int = 36) -> npt.NDArray[np.float64]:
    """Draw ``code`` on a white label (quiet zone ``quiet`` px) centred at ``(x, y)``, rotated.

    Returns the symbol's four corners in scene pixels; parts outside the scene are clipped.
    """
    h, w = code.shape
    label = np.full((h + 2 * quiet, w + 2 * quiet), 255, np.uint8)
    label[quiet : quiet + h, quiet : quiet + w] = code
    lh, lw = label.shape
    m = cv2.getRotationMatrix2D((lw / 2, lh / 2), angle, 1.0)
    m[:, 2] += (x - lw / 2, y - lh / 2)
    size = (img.shape[1], img.shape[0])
    warped = cv2.warpAffine(label, m, size, flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpAffine(np.ones_like(label), m, size, flags=cv2.INTER_NEAREST, borderValue=0)
    img[mask > 0] = warped[mask > 0][:, None]
    corners = np.array([[quiet, quiet], [quiet + w, quiet], [quiet + w, quiet + h], [quiet, quiet + h]], float)
    return np.asarray(cv2.transform(corners[None], m)[0], np.float64)


def covered_fraction(findings: list[Finding], quad: npt.NDArray[np.float64], shape: tuple[int, ...]) -> float:
    """Fraction of the symbol's in-image pixels that the policy's covers paint."""
    h, w = shape[:2]
    canvas = np.zeros((h, w, 3), np.uint8)
    white = Settings(fill_color=(255, 255, 255))
    painted = obscure.apply(canvas, policy.plan(findings, white, w, h), white)[..., 0] > 0
    target = np.zeros((h, w), np.uint8)
    cv2.fillPoly(target, [np.round(quad).astype(np.int32)], 1)
    inside = target > 0
    return float(painted[inside].mean()) if inside.any() else 1.0


def redact_image(img: Image, findings: list[Finding]) -> Image:
    h, w = img.shape[:2]
    s = Settings()
    return obscure.apply(img, policy.plan(findings, s, w, h), s)


def zxing_reads(img: Image) -> int:
    return len(zxingcpp.read_barcodes(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)))


@pytest.fixture(scope="module")
def detector() -> BarcodeDetector:
    return BarcodeDetector(Settings())


# ----------------------------------------------------------------------------- symbologies

SYMBOLOGIES = [
    (F.Code128, "MRN00482913", 3, "CODE128", LABEL_ID),
    (F.Code39, "PID7734021", 3, "CODE39", LABEL_ID),
    (F.PDF417, "DOE^JANE^19710304^MRN 5521907", 2, "PDF417", LABEL_ID),
    (F.DataMatrix, "S24-0091127", 8, "DATAMATRIX", LABEL_ID),
    (F.QRCode, "https://example.org/visit-us", 6, "QRCODE", LABEL_OTHER),
    (F.Aztec, "ACC 88120476", 6, "AZTEC", LABEL_ID),
    (F.EAN13, "5901234123457", 3, "EAN13", LABEL_OTHER),
    (F.UPCA, "036000291452", 3, "", LABEL_OTHER),  # zxing reports UPC-A as EAN-13 or UPC-A
]


@pytest.mark.parametrize(
    ("fmt", "payload", "scale", "name", "label"), SYMBOLOGIES, ids=[s[3] or "UPCA" for s in SYMBOLOGIES]
)
def test_each_symbology_found_labelled_and_covered(
    detector: BarcodeDetector, fmt: object, payload: str, scale: int, name: str, label: str
) -> None:
    img = scene()
    quad = place(img, symbol(fmt, payload, scale), 450, 350)
    assert zxing_reads(img) == 1, "fixture: the code must decode before redaction"
    findings = detector.detect(img)
    decoded = [f for f in findings if f.source.startswith("zxing:")]
    assert decoded, "the code was not decoded"
    assert all(f.kind is Kind.BARCODE for f in findings)
    if name:
        assert symbology(decoded[0]) == name
    assert decoded[0].label == label
    assert decoded[0].polygon is not None and len(decoded[0].polygon) == 4
    assert covered_fraction(findings, quad, img.shape) == 1.0
    out = redact_image(img, findings)
    assert verify_no_codes(out) == []
    assert zxing_reads(out) == 0


# ----------------------------------------------------------------------------- hard cases


@pytest.mark.parametrize(
    ("fmt", "payload", "scale", "sigma"),
    [(F.QRCode, "MRN 00482913 DOE JANE 1971-03-04", 6, 4.5), (F.Code128, "MRN00482913", 3, 3.5)],
    ids=["qr", "code128"],
)
def test_blurred_undecodable_code_still_found(
    detector: BarcodeDetector, fmt: object, payload: str, scale: int, sigma: float
) -> None:
    img = scene()
    quad = place(img, symbol(fmt, payload, scale), 420, 330)
    img = np.asarray(cv2.GaussianBlur(img, (0, 0), sigma), np.uint8)
    assert zxing_reads(img) == 0, "fixture: the code must be too blurred to decode"
    findings = detector.detect(img)
    assert findings, "a blurred code was not found"
    assert all(f.label == LABEL_UNREAD for f in findings)
    assert covered_fraction(findings, quad, img.shape) >= 0.95


def test_thirty_codes_in_one_image_all_found(detector: BarcodeDetector) -> None:
    img = scene(1800, 1300)
    placed: list[Placed] = []
    kinds = [(F.QRCode, 4), (F.DataMatrix, 5), (F.Code128, 2)]
    for i in range(30):
        fmt, scale = kinds[i % 3]
        payload = f"MRN{1000000 + i * 7919}"
        x, y = 130 + (i % 6) * 300, 130 + (i // 6) * 260
        placed.append(Placed(place(img, symbol(fmt, payload, scale), x, y), payload))
    findings = detector.detect(img)
    for p in placed:
        assert covered_fraction(findings, p.quad, img.shape) == 1.0
    assert verify_no_codes(redact_image(img, findings)) == []


@pytest.mark.parametrize(("x", "y"), [(40, 300), (450, 690), (890, 10)], ids=["left", "bottom", "corner"])
def test_code_cut_by_the_border_found(detector: BarcodeDetector, x: int, y: int) -> None:
    img = scene()
    quad = place(img, symbol(F.QRCode, "MRN00482913 DOE", 6), x, y)
    findings = detector.detect(img)
    assert findings
    assert covered_fraction(findings, quad, img.shape) == 1.0


@pytest.mark.parametrize("angle", [30, 90, 135])
@pytest.mark.parametrize(("fmt", "scale"), [(F.Code128, 3), (F.QRCode, 6), (F.DataMatrix, 8)], ids=["c128", "qr", "dm"])
def test_rotated_codes_found_and_covered(detector: BarcodeDetector, fmt: object, scale: int, angle: float) -> None:
    img = scene()
    quad = place(img, symbol(fmt, "MRN00482913", scale), 450, 350, angle)
    findings = detector.detect(img)
    assert any(f.source.startswith("zxing:") for f in findings) or findings
    assert covered_fraction(findings, quad, img.shape) == 1.0
    assert verify_no_codes(redact_image(img, findings)) == []


def test_small_code_on_twelve_megapixel_photo(detector: BarcodeDetector) -> None:
    img = scene(4000, 3000)
    quad = place(img, symbol(F.Code128, "MRN00482913", 2), 2600, 1900)  # 0.8-px modules at search scale
    findings = detector.detect(img)
    assert any(symbology(f) == "CODE128" for f in findings)
    assert covered_fraction(findings, quad, img.shape) == 1.0


def tiny_code39_sheet(sigma: float) -> tuple[Image, list[npt.NDArray[np.float64]]]:
    """A 2400 x 1800 photo of a label sheet with four Code 39 labels of 1-px bars, blurred."""
    img = scene(2400, 1800, seed=3)
    quads = []
    for i, angle in enumerate((3.0, -6.0, 25.0, 90.0)):
        code = symbol(F.Code39, f"P{4410372 + 97 * i}", 1)  # 129 x 50 px, narrow bars 1 px
        quads.append(place(img, code, 500 + (i % 2) * 1300, 450 + (i // 2) * 900, angle, quiet=12))
    return np.asarray(cv2.GaussianBlur(img, (0, 0), sigma), np.uint8), quads


@pytest.mark.parametrize("sigma", [0.6, 1.0])
def test_tiny_code39_with_one_pixel_bars_covered(detector: BarcodeDetector, sigma: float) -> None:
    # The texture locator runs scaled down, where 1-px bars blend into flat grey, and
    # blurred ones do not decode: the fine-bar locator must find them at full resolution.
    img, quads = tiny_code39_sheet(sigma)
    findings = detector.detect(img)
    for quad in quads:
        assert covered_fraction(findings, quad, img.shape) >= 0.98
    assert verify_no_codes(redact_image(img, findings)) == []


def test_fine_locator_finds_only_the_bars() -> None:
    img, quads = tiny_code39_sheet(1.0)
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    # Code-free: sensor noise, a lone high-contrast edge, fine isotropic texture, text.
    plain = cv2.cvtColor(scene(2400, 1800, seed=4), cv2.COLOR_RGB2GRAY)
    plain[:, 1200:] = 10
    rng = np.random.default_rng(1)
    plain[200:500, 200:600] = rng.integers(0, 256, (300, 400), dtype=np.uint8)
    for row in range(5):
        cv2.putText(plain, "DOE, JANE  DOB 03/04/1971", (200, 900 + 60 * row), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 20, 2)
    assert locate_fine(plain) == []
    found = locate_fine(gray)
    assert all(c.shape == "LINEAR" for c in found)
    centres = [q.mean(axis=0) for q in quads]
    assert len(found) == len(quads)
    for c in found:
        assert min(float(np.hypot(*(c.quad.mean(axis=0) - m))) for m in centres) < 20


@pytest.mark.parametrize("offset", [0, 1, 2, 3])
@pytest.mark.parametrize("module", [1, 2, 3, 4])
def test_fine_locator_sees_bars_along_the_rows_at_any_offset(module: int, offset: int) -> None:
    # Steps are taken on half the rows: bars lying exactly along the rows must still show
    # their edges whatever their width and position (pairs (2k, 2k + 1) missed 2-px bars).
    img = scene(1200, 900, seed=5)
    quad = place(img, symbol(F.Code39, "P4410372", module), 600 + offset, 450 + offset, 90.0, quiet=12)
    found = locate_fine(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
    assert any(float(np.hypot(*(c.quad.mean(axis=0) - quad.mean(axis=0)))) < 20 for c in found)


def test_inverted_code_found(detector: BarcodeDetector) -> None:
    img = scene()
    place(img, symbol(F.QRCode, "MRN00482913", 6), 450, 350)
    img = 255 - img
    assert any(f.source == "zxing:QRCODE" for f in detector.detect(img))


# ----------------------------------------------------------------------------- sanity


def test_plain_scene_has_no_findings(detector: BarcodeDetector) -> None:
    assert detector.detect(scene()) == []
    assert verify_no_codes(scene()) == []


SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def _code_free_photos() -> list[tuple[str, object]]:
    photos: list[tuple[str, object]] = [
        (p.name, p) for p in sorted(SAMPLES.glob("*.jpg")) + sorted(SAMPLES.glob("*.png"))
    ]
    photos += [(f"skimage-{name}", name) for name in ("astronaut", "coffee", "chelsea")]
    return photos


@pytest.mark.parametrize("source", [p[1] for p in _code_free_photos()], ids=[p[0] for p in _code_free_photos()])
def test_code_free_photo_has_no_findings(detector: BarcodeDetector, source: object) -> None:
    # Hair, skin, wood grain and fabric pass the locator's texture test; the full-resolution
    # check must reject them (a black box over a harmless photo or a face is a defect).
    if isinstance(source, Path):
        from PIL import Image, ImageOps

        photo = np.asarray(ImageOps.exif_transpose(Image.open(source)).convert("RGB"), np.uint8)
    else:
        data = pytest.importorskip("skimage.data")
        photo = np.asarray(getattr(data, str(source))(), np.uint8)[..., :3]
    assert detector.detect(np.ascontiguousarray(photo)) == []


def test_looks_printed_rejects_hair_and_skin_keeps_a_blurred_code() -> None:
    data = pytest.importorskip("skimage.data")
    astronaut = np.ascontiguousarray(data.astronaut()[..., :3])
    # The region the texture test used to box: her face and hair.
    face = np.array([[120.0, 0.0], [330.0, 0.0], [330.0, 210.0], [120.0, 210.0]])
    assert not looks_printed(astronaut, face)
    img = scene()
    quad = place(img, symbol(F.QRCode, "MRN 00482913 DOE JANE 1971-03-04", 6), 420, 330, 25)
    assert looks_printed(np.asarray(cv2.GaussianBlur(img, (0, 0), 4.5), np.uint8), quad)


@pytest.mark.parametrize("paper", [(255, 225, 70), (255, 190, 200), (170, 210, 255)], ids=["yellow", "pink", "blue"])
@pytest.mark.parametrize(
    ("fmt", "payload", "scale", "sigma"),
    [(F.QRCode, "MRN 00482913 DOE JANE 1971-03-04", 6, 4.0), (F.Code128, "MRN00482913", 3, 3.5)],
    ids=["qr", "code128"],
)
def test_blurred_code_on_coloured_band_still_found(
    detector: BarcodeDetector, fmt: object, payload: str, scale: int, sigma: float, paper: tuple[int, int, int]
) -> None:
    # Black ink on a coloured wristband: the ink takes the band's colour when blurred, so
    # the colour test must not mistake it for a coloured object.
    img = scene()
    quad = place(img, symbol(fmt, payload, scale), 420, 330, 20)
    outline = np.zeros(img.shape[:2], np.uint8)
    cv2.fillConvexPoly(outline, np.round(quad).astype(np.int32), 1)
    band = np.asarray(cv2.dilate(outline, np.ones((80, 80), np.uint8)) > 0)
    img[band] = (img[band].astype(np.float32) * np.array(paper, np.float32) / 255).astype(np.uint8)
    img = np.asarray(cv2.GaussianBlur(img, (0, 0), sigma), np.uint8)
    assert zxing_reads(img) == 0, "fixture: the code must be too blurred to decode"
    findings = detector.detect(img)
    assert all(f.label == LABEL_UNREAD for f in findings)
    assert covered_fraction(findings, quad, img.shape) >= 0.95


def test_payload_never_appears_in_findings(detector: BarcodeDetector) -> None:
    img = scene(1200, 800)
    payloads = ["MRN00482913", "DOE^JANE^19710304", "https://ehr.example.org/patient?mrn=5521907", "S24-0091127"]
    fmts = [(F.Code128, 3), (F.PDF417, 2), (F.QRCode, 5), (F.DataMatrix, 8)]
    for i, (payload, (fmt, scale)) in enumerate(zip(payloads, fmts, strict=True)):
        place(img, symbol(fmt, payload, scale), 250 + (i % 2) * 650, 200 + (i // 2) * 400)
    findings = detector.detect(img)
    assert sum(f.source.startswith("zxing:") for f in findings) >= 4
    text = json.dumps([f.to_dict() for f in findings]) + repr(findings)
    for payload in payloads:
        for part in {payload, *payload.replace("^", " ").replace("=", " ").replace("?", " ").split()}:
            if len(part) >= 4:
                assert part not in text
                assert part.lower() not in text.lower()
        for digits in ("00482913", "5521907", "19710304", "0091127"):
            assert digits not in text


def test_looks_like_id() -> None:
    assert looks_like_id("MRN00482913")
    assert looks_like_id("S24-0091127")
    assert looks_like_id("PID|1||5521907^^^HOSP^MR")
    assert looks_like_id("https://ehr.example.org/patient?mrn=5521907")
    assert looks_like_id("DOE^JANE^19710304")
    assert not looks_like_id("https://example.org/visit-us")
    assert not looks_like_id("Wash your hands!")
    assert not looks_like_id("5901234123457", "EAN13")
    assert not looks_like_id("")


# ----------------------------------------------------------------------------- failures


def test_decoder_crash_is_analysis_error(monkeypatch: pytest.MonkeyPatch, detector: BarcodeDetector) -> None:
    def boom(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("MRN00482913 decoder exploded")

    monkeypatch.setattr(zxingcpp, "read_barcodes", boom)
    img = scene()
    place(img, symbol(F.QRCode, "MRN00482913", 6), 450, 350)
    with pytest.raises(AnalysisError) as info:
        detector.detect(img)
    assert "MRN00482913" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(AnalysisError):
        verify_no_codes(img)


def test_locator_crash_is_analysis_error(monkeypatch: pytest.MonkeyPatch, detector: BarcodeDetector) -> None:
    import redact.detect.barcodes as mod

    def boom(*args: object, **kwargs: object) -> list[object]:
        raise cv2.error("bad")

    monkeypatch.setattr(mod, "locate", boom)
    with pytest.raises(AnalysisError):
        detector.detect(scene())


def test_bad_image_is_analysis_error(detector: BarcodeDetector) -> None:
    with pytest.raises(AnalysisError):
        detector.detect(np.zeros((10, 10, 3), np.float32))


def test_missing_zxing_is_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    with pytest.raises(MissingDependencyError):
        BarcodeDetector(Settings())


def test_registered_under_barcodes() -> None:
    det = base.create("barcodes", Settings())
    assert det.name == "barcodes" and det.kind is Kind.BARCODE
    assert isinstance(det, base.Detector)


def test_a_code_beside_a_rotated_read_is_not_taken_for_it():
    """Regions are compared with a read's outline, not its bounding box.

    A long code read at 45 degrees has a huge bounding box; a second code lying in that box
    but off the read's outline must still count as new (it was dropped, left uncovered).
    """
    from redact.detect.barcodes import _Hit, _inside_fraction

    diagonal = np.array([[0, 0], [1000, 1000], [960, 1040], [-40, 40]], np.float64)
    read = _Hit(diagonal, LABEL_OTHER, "zxing:PDF417", 1.0, False)
    beside = np.array([[700, 100], [900, 100], [900, 250], [700, 250]], np.float64)
    on_it = np.array([[480, 470], [560, 550], [540, 570], [460, 490]], np.float64)
    assert _inside_fraction(beside, [read]) < 0.5
    assert _inside_fraction(on_it, [read]) > 0.95


def test_unread_codes_get_twice_the_padding():
    from redact.detect.barcodes import _finding, _Hit

    quad = np.array([[100, 100], [200, 100], [200, 200], [100, 200]], np.float64)
    read = _finding(_Hit(quad, LABEL_ID, "zxing:QR", 1.0, False), 0.15)
    unread = _finding(_Hit(quad, LABEL_UNREAD, "zxing:QR", 0.8, False), 0.15)
    assert read.box.x0 == pytest.approx(100 - 15) and unread.box.x0 == pytest.approx(100 - 30)
