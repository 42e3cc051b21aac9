"""Generate realistic synthetic PHI photos with per-item ground truth.

Each scene draws a flat *object* (wristband, whiteboard, EHR screen, printed record,
specimen/pill label; or, as negatives, signage, poster, menu, staff badge) with text
items, bends it (curvature), places it in a photo with a homography (perspective and
rotation) over a textured background, and degrades the photo (glare, blur, noise,
JPEG).  Every text item keeps its polygon in the final image, whether it is PHI (and
its entity label), and its text -- synthetic values from Faker (several locales, so
many names are not in any US lexicon), never real people.

Fonts need nothing from the system: OpenCV's Hershey fonts (the *script* faces stand in
for handwriting, with per-character jitter) and Pillow's bundled default font; DejaVu
is used too when the system has it.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

RGB = npt.NDArray[np.uint8]
Pt = tuple[float, float]

POSITIVE_KINDS = ("wristband", "whiteboard", "ehr_screen", "printed_record", "label")
NEGATIVE_KINDS = ("signage", "poster", "menu", "badge")
PLAIN_KINDS = ("plain",)
KINDS = POSITIVE_KINDS + NEGATIVE_KINDS + PLAIN_KINDS


@dataclass(frozen=True, slots=True)
class Item:
    """One piece of text in a scene.  ``text`` is ground truth for scoring only."""

    text: str
    phi: bool
    label: str  # entity ("NAME", "DOB"...) or "TEXT" for harmless text
    polygon: tuple[Pt, ...]
    height: float  # text height in the final image, pixels

    @property
    def legible(self) -> bool:
        """Large enough for a person to read (the generator keeps contrast high)."""
        return self.height >= 9.0


@dataclass(slots=True)
class Scene:
    """A generated photo and its ground truth."""

    kind: str
    seed: int
    image: RGB
    items: list[Item] = field(default_factory=list)

    @property
    def negative(self) -> bool:
        return self.kind in NEGATIVE_KINDS or self.kind in PLAIN_KINDS


# ----------------------------------------------------------------------------- drawing


@dataclass(slots=True)
class _Canvas:
    image: Image.Image
    items: list[tuple[str, bool, str, tuple[float, float, float, float]]] = field(default_factory=list)


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False, serif: bool = False, mono: bool = False) -> Any:
    names = []
    if mono:
        names.append("DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf")
    if serif:
        names.append("DejaVuSerif-Bold.ttf" if bold else "DejaVuSerif.ttf")
    names.append("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    for name in names:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _put(
    canvas: _Canvas,
    xy: tuple[float, float],
    text: str,
    size: int,
    colour: tuple[int, int, int],
    *,
    phi: bool = False,
    label: str = "TEXT",
    bold: bool = False,
    serif: bool = False,
    mono: bool = False,
) -> float:
    """Draw printed text; return the x just after it."""
    draw = ImageDraw.Draw(canvas.image)
    font = _font(size, bold, serif, mono)
    x0, y0, x1, y1 = draw.textbbox(xy, text, font=font)
    draw.text(xy, text, font=font, fill=colour)
    canvas.items.append((text, phi, label, (x0, y0, x1, y1)))
    return float(x1)


def _scrawl(
    canvas: _Canvas,
    rng: np.random.Generator,
    xy: tuple[float, float],
    text: str,
    scale: float,
    colour: tuple[int, int, int],
    *,
    phi: bool = False,
    label: str = "TEXT",
) -> float:
    """Handwriting-like text: Hershey script/simplex glyphs with per-character jitter."""
    arr = np.asarray(canvas.image).copy()
    face = int(rng.choice([cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX, cv2.FONT_HERSHEY_SIMPLEX]))
    thickness = max(1, round(scale * rng.uniform(1.6, 2.6)))
    x, y = xy
    base = y + 22 * scale
    xs, ys = [], []
    for ch in _ascii(text):
        (w, h), _ = cv2.getTextSize(ch, face, scale, thickness)
        dy = rng.normal(0, 1.2 * scale)
        cs = scale * rng.uniform(0.92, 1.08)
        cv2.putText(arr, ch, (round(x), round(base + dy)), face, cs, colour, thickness, cv2.LINE_AA)
        xs += [x, x + w]
        ys += [base + dy - h - 2, base + dy + 0.35 * h + 2]
        x += w * rng.uniform(0.95, 1.1)
    canvas.image = Image.fromarray(arr)
    if xs:
        canvas.items.append((text, phi, label, (min(xs), min(ys), max(xs), max(ys))))
    return x


# ----------------------------------------------------------------------------- content


class _Values:
    """Synthetic PHI values (Faker when installed, else a small built-in pool)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        try:
            from faker import Faker

            self.fake: Any = Faker(["en_US", "en_US", "es_MX", "de_DE", "fr_FR", "en_IN", "it_IT", "en_GB"])
            self.fake.seed_instance(int(rng.integers(1 << 30)))
        except ImportError:  # pragma: no cover - Faker is a test dependency
            self.fake = None

    def first(self) -> str:
        if self.fake is None:
            return str(self.rng.choice(["Maria", "James", "Aisha", "Wei", "Olga", "Tomas", "Priya", "Kwame"]))
        return _ascii(str(self.fake.first_name()))

    def last(self) -> str:
        if self.fake is None:
            return str(
                self.rng.choice(["Garcia", "Okafor", "Nguyen", "Schmidt", "Rossi", "Patel", "Brown", "Kowalski"])
            )
        return _ascii(str(self.fake.last_name()))

    def name(self) -> str:
        first, last = self.first(), self.last()
        style = self.rng.integers(4)
        if style == 0:
            return f"{last.upper()}, {first.upper()}"
        if style == 1:
            return f"{last}, {first}"
        if style == 2:
            return f"{first} {last}"
        return f"{first} {last[0]}."

    def dob(self) -> str:
        y, m, d = int(self.rng.integers(1925, 2020)), int(self.rng.integers(1, 13)), int(self.rng.integers(1, 29))
        months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        fmt = self.rng.integers(5)
        return [
            f"{m:02d}/{d:02d}/{y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{m}/{d}/{y % 100:02d}",
            f"{d} {months[m - 1]} {y}",
            f"{months[m - 1]} {d}, {y}",
        ][fmt]

    def mrn(self) -> str:
        n = int(self.rng.integers(6, 10))
        digits = "".join(str(int(d)) for d in self.rng.integers(0, 10, n))
        return digits if self.rng.random() < 0.7 else f"E{digits}"

    def phone(self) -> str:
        a, b, c = self.rng.integers(201, 989), self.rng.integers(200, 999), self.rng.integers(0, 9999)
        return [f"({a}) {b}-{c:04d}", f"{a}-{b}-{c:04d}", f"{a}.{b}.{c:04d}"][int(self.rng.integers(3))]

    def address(self) -> str:
        street = str(self.rng.choice(["Oak", "Maple", "Cedar", "Elm", "Pine", "Lake", "Hill", "Park"]))
        kind = str(self.rng.choice(["St", "Street", "Ave", "Road", "Dr", "Lane"]))
        return f"{int(self.rng.integers(1, 9999))} {street} {kind}"

    def city_zip(self) -> str:
        city = str(self.rng.choice(["Springfield", "Fairview", "Riverton", "Madison", "Georgetown"]))
        state = str(self.rng.choice(["MA", "IL", "OH", "CA", "TX", "NY"]))
        return f"{city}, {state} {int(self.rng.integers(10000, 99999))}"

    def accession(self) -> str:
        return f"S{int(self.rng.integers(20, 26))}-{int(self.rng.integers(1000, 999999)):06d}"

    def age(self) -> str:
        return f"{int(self.rng.integers(18, 104))} y"

    def email(self) -> str:
        return f"{self.first().lower()}.{self.last().lower()}@example.org"

    def staff(self) -> str:
        return f"{self.first()} {self.last()}"


HOSPITALS = ("Mercy General Hospital", "St. Luke Medical Center", "Riverside Health", "Northgate Clinic")
CLINICAL = (
    "Allergies: NKDA",
    "Diet: cardiac, 2 g sodium",
    "Fall risk: moderate",
    "Code status: Full",
    "Ambulate three times daily",
    "Pain goal 3/10",
    "Isolation: contact precautions",
    "Vitals every 4 hours",
    "Blood pressure 128/76",
    "Heart rate 82 bpm",
    "Temperature 98.6 F",
    "Weight 72.4 kg",
    "Lisinopril 10 mg tablet",
    "Take one tablet by mouth daily",
)


# ----------------------------------------------------------------------------- objects


def _paper(w: int, h: int, colour: tuple[int, ...]) -> _Canvas:
    return _Canvas(Image.new("RGB", (w, h), colour[:3]))


def _field(canvas: _Canvas, x: float, y: float, label: str, value: str, entity: str, size: int, **kw: Any) -> None:
    colour = kw.pop("colour", (20, 20, 25))
    end = _put(canvas, (x, y), label, size, colour, **kw)
    _put(canvas, (end + size * 0.5, y), value, size, colour, phi=True, label=entity, **kw)


def _wristband(rng: np.random.Generator, v: _Values) -> _Canvas:
    c = _paper(760, 150, tuple(int(x) for x in rng.choice([[250, 250, 245], [255, 244, 200], [240, 248, 255]])))
    s = int(rng.integers(20, 26))
    _put(c, (24, 12), v.name(), s + 4, (10, 10, 10), phi=True, label="NAME", bold=True)
    _field(c, 24, 16 + s + 10, "MRN:", v.mrn(), "MRN", s)
    _field(c, 330, 16 + s + 10, "DOB:", v.dob(), "DOB", s)
    _field(c, 24, 20 + 2 * (s + 10), "Acct:", str(int(rng.integers(10**7, 10**9))), "ACCOUNT", s - 2)
    _put(
        c,
        (330, 20 + 2 * (s + 10)),
        str(rng.choice(["F", "M"])) + "  " + v.age(),
        s - 2,
        (10, 10, 10),
        phi=True,
        label="AGE",
    )
    bars = np.asarray(c.image).copy()
    x = 600
    while x < 740:
        wbar = int(rng.integers(1, 4))
        bars[20:130, x : x + wbar] = 0
        x += wbar + int(rng.integers(1, 4))
    c.image = Image.fromarray(bars)
    return c


def _whiteboard(rng: np.random.Generator, v: _Values) -> _Canvas:
    c = _paper(1100, 760, (238, 240, 236))
    ink = [(20, 40, 160), (170, 20, 20), (20, 20, 20), (10, 110, 40)]
    sc = float(rng.uniform(1.1, 1.5))
    y = 30.0
    _put(c, (30, y), "Welcome to " + str(rng.choice(HOSPITALS)), 30, (60, 60, 140), bold=True)
    y += 70
    rows: list[tuple[str, str | None, str]] = [
        ("Room", str(int(rng.integers(100, 999))), "TEXT"),
        ("Pt:", v.name(), "NAME"),
        ("DOB", v.dob(), "DOB"),
        ("Nurse:", v.first() + " RN", "TEXT"),
        ("Family:", v.phone(), "PHONE"),
        ("Goals today:", "walk to chair", "TEXT"),
        ("Diet:", str(rng.choice(["NPO", "clear liquids", "regular"])), "TEXT"),
    ]
    for i in rng.permutation(len(rows)):
        label, value, entity = rows[int(i)]
        colour = ink[int(rng.integers(len(ink)))]
        end = _scrawl(c, rng, (40, y), label, sc, colour)
        if value is not None:
            _scrawl(c, rng, (end + 30, y), value, sc, colour, phi=entity != "TEXT", label=entity)
        y += 52 * sc + 20
        if y > 700:
            break
    return c


def _screen(rng: np.random.Generator, v: _Values) -> _Canvas:
    dark = rng.random() < 0.4
    bg, fg, accent = (
        ((28, 32, 40), (225, 230, 235), (90, 170, 255)) if dark else ((250, 250, 252), (25, 25, 30), (0, 90, 170))
    )
    c = _paper(1200, 760, bg)
    draw = ImageDraw.Draw(c.image)
    draw.rectangle((0, 0, 1200, 56), fill=accent)
    s = int(rng.integers(18, 26))
    _put(c, (20, 14), "Patient Summary", 26, (255, 255, 255), bold=True)
    y = 80.0
    for label, value, entity in [
        ("Name", v.name(), "NAME"),
        ("MRN", v.mrn(), "MRN"),
        ("DOB", v.dob(), "DOB"),
        ("Age", v.age(), "AGE"),
        ("Phone", v.phone(), "PHONE"),
        ("Address", v.address(), "ADDRESS"),
        ("Email", v.email(), "EMAIL"),
    ]:
        _put(c, (30, y), label, s, accent, bold=True)
        _put(c, (260, y), value, s, fg, phi=True, label=entity)
        y += s * 2.0
    for i, line in enumerate(rng.choice(CLINICAL, 4, replace=False)):
        _put(c, (640, 80 + i * s * 2.0), str(line), s - 2, fg)
    return c


def _record(rng: np.random.Generator, v: _Values) -> _Canvas:
    c = _paper(900, 1100, (246, 244, 238))
    s = int(rng.integers(18, 24))
    _put(c, (40, 30), str(rng.choice(HOSPITALS)), 30, (10, 10, 60), bold=True, serif=True)
    _put(c, (40, 80), "Discharge Summary", 24, (10, 10, 10), serif=True)
    y = 140.0
    for label, value, entity in [
        ("Patient Name:", v.name(), "NAME"),
        ("Date of Birth:", v.dob(), "DOB"),
        ("MRN:", v.mrn(), "MRN"),
        ("Address:", v.address(), "ADDRESS"),
        ("", v.city_zip(), "ADDRESS"),
        ("Phone:", v.phone(), "PHONE"),
        ("Admitted:", v.dob(), "DATE"),
    ]:
        end = _put(c, (40, y), label, s, (15, 15, 15), bold=True) if label else 40 + 0.0
        _put(c, (max(end, 260.0), y), value, s, (15, 15, 15), phi=True, label=entity, serif=True)
        y += s * 1.8
    y += 20
    for line in rng.choice(CLINICAL, 6, replace=False):
        _put(c, (40, y), str(line), s, (30, 30, 30), serif=True)
        y += s * 1.7
    return c


def _label(rng: np.random.Generator, v: _Values) -> _Canvas:
    c = _paper(620, 300, (255, 255, 255))
    s = int(rng.integers(18, 24))
    _put(c, (20, 14), v.name(), s + 2, (0, 0, 0), phi=True, label="NAME", bold=True, mono=True)
    _field(c, 20, 24 + s + 8, "DOB", v.dob(), "DOB", s, mono=True)
    _field(c, 20, 30 + 2 * (s + 8), "Acc#", v.accession(), "ACCESSION", s, mono=True)
    _field(c, 20, 36 + 3 * (s + 8), "Coll:", v.dob(), "DATE", s, mono=True)
    _put(
        c,
        (20, 42 + 4 * (s + 8)),
        str(rng.choice(["CBC w/ diff", "BMP", "Lipid panel", "Lisinopril 10 mg"])),
        s,
        (0, 0, 0),
        mono=True,
    )
    return c


def _signage(rng: np.random.Generator, v: _Values) -> _Canvas:
    bg = tuple(int(x) for x in rng.choice([[0, 90, 60], [20, 50, 120], [240, 240, 235], [200, 30, 30]]))
    fg = (255, 255, 255) if sum(bg) < 400 else (20, 20, 20)
    c = _paper(1000, 520, bg)
    lines = rng.choice(
        [
            "EXIT",
            "Radiology",
            "Elevators",
            "Emergency Department",
            "Visiting Hours 8am - 8pm",
            "Please use hand sanitizer",
            "Level 2 West Wing",
            "Pharmacy",
            "Main Entrance",
            "Laboratory",
            "Cafeteria",
            "No Smoking",
        ],
        4,
        replace=False,
    )
    y = 40.0
    for line in lines:
        size = int(rng.integers(34, 60))
        _put(c, (40, y), str(line), size, fg, bold=True)
        y += size * 1.5
    return c


def _poster(rng: np.random.Generator, v: _Values) -> _Canvas:
    c = _paper(800, 1000, (250, 250, 240))
    _put(
        c,
        (40, 40),
        str(rng.choice(["Wash Your Hands", "Flu Shots Available", "Stop the Spread", "Stay Hydrated"])),
        44,
        (160, 20, 20),
        bold=True,
    )
    y = 140.0
    for line in rng.choice(
        [
            "Clean hands save lives",
            "Cover your cough",
            "Ask about our wellness program",
            "Vaccines are free for staff",
            "Walk-in clinic every Tuesday",
            "Your health matters to us",
            "Learn more at the front desk",
            "Questions? Ask your care team",
        ],
        5,
        replace=False,
    ):
        _put(c, (40, y), str(line), 30, (20, 20, 20))
        y += 60
    return c


def _menu(rng: np.random.Generator, v: _Values) -> _Canvas:
    c = _paper(820, 900, (30, 30, 30) if rng.random() < 0.5 else (252, 248, 236))
    fg = (240, 240, 240) if np.asarray(c.image)[0, 0, 0] < 100 else (30, 20, 10)
    _put(c, (40, 30), "Today's Menu", 44, fg, bold=True, serif=True)
    y = 120.0
    for dish in rng.choice(
        [
            "Tomato soup",
            "Grilled chicken",
            "Garden salad",
            "Veggie wrap",
            "Beef stew",
            "Fruit cup",
            "Coffee",
            "Pasta bake",
        ],
        6,
        replace=False,
    ):
        _put(c, (50, y), f"{dish}  ${rng.uniform(1.5, 9.5):.2f}", 30, fg, serif=True)
        y += 56
    _put(c, (50, y + 20), "Open Mon-Fri 7:00 - 19:00", 26, fg)
    return c


def _badge(rng: np.random.Generator, v: _Values) -> _Canvas:
    c = _paper(420, 640, (255, 255, 255))
    draw = ImageDraw.Draw(c.image)
    draw.rectangle((0, 0, 420, 90), fill=(0, 80, 150))
    _put(c, (20, 28), str(rng.choice(HOSPITALS)), 22, (255, 255, 255), bold=True)
    draw.rectangle((110, 120, 310, 360), fill=(180, 170, 160))
    _put(c, (30, 390), v.staff(), 34, (10, 10, 10), bold=True)
    _put(c, (30, 450), str(rng.choice(["RN", "MD", "Registered Nurse", "Physician", "Pharmacist"])), 28, (10, 10, 10))
    _put(
        c,
        (30, 500),
        str(rng.choice(["Cardiology", "Emergency", "Pediatrics", "Oncology", "Radiology"])),
        26,
        (60, 60, 60),
    )
    return c


_MAKERS: dict[str, Callable[[np.random.Generator, _Values], _Canvas]] = {
    "wristband": _wristband,
    "whiteboard": _whiteboard,
    "ehr_screen": _screen,
    "printed_record": _record,
    "label": _label,
    "signage": _signage,
    "poster": _poster,
    "menu": _menu,
    "badge": _badge,
}


# ----------------------------------------------------------------------------- photo


def _background(rng: np.random.Generator, w: int, h: int) -> RGB:
    kind = int(rng.integers(4))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(60, 200, 3).astype(np.float32)
    if kind == 0:  # gradient wall
        img = base[None, None, :] * (0.8 + 0.3 * (yy / h))[..., None]
    elif kind == 1:  # brick
        img = np.empty((h, w, 3), np.float32)
        img[:] = (150, 70, 50)
        row = (yy // 40).astype(int)
        mortar = (yy % 40 < 4) | (((xx + (row % 2) * 45) % 90) < 4)
        img[mortar] = (200, 195, 185)
    elif kind == 2:  # grass / foliage
        noise = cv2.GaussianBlur(rng.uniform(0, 1, (h, w)).astype(np.float32), (0, 0), 2)
        img = np.stack([40 + 60 * noise, 90 + 90 * noise, 30 + 40 * noise], axis=-1)
    else:  # fabric / bedsheet
        img = base[None, None, :] + 12 * np.sin(xx / 7.0)[..., None] * np.cos(yy / 9.0)[..., None]
    img += rng.normal(0, 4, img.shape)
    return np.asarray(np.clip(img, 0, 255), np.uint8)


def _curve(arr: RGB, amount: float) -> tuple[RGB, Callable[[float, float], Pt]]:
    """Bend rows like a band round an arm; return the image and the point mapping."""
    h, w = arr.shape[:2]
    pad = int(abs(amount)) + 2
    out_h = h + 2 * pad
    yy, xx = np.mgrid[0:out_h, 0:w].astype(np.float32)
    shift = amount * np.sin(np.pi * xx / max(w - 1, 1))
    map_y = yy - pad - shift
    bent = cv2.remap(arr, xx, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    mask = cv2.remap(np.full((h, w), 255, np.uint8), xx, map_y, cv2.INTER_NEAREST, borderValue=0)
    bent = np.dstack([bent, mask])

    def fwd(x: float, y: float) -> Pt:
        return x, y + pad + amount * math.sin(math.pi * x / max(w - 1, 1))

    return np.asarray(bent, np.uint8), fwd


def _outline(box: tuple[float, float, float, float], n: int = 8) -> list[Pt]:
    x0, y0, x1, y1 = box
    top = [(x0 + (x1 - x0) * i / n, y0) for i in range(n + 1)]
    bottom = [(x1 - (x1 - x0) * i / n, y1) for i in range(n + 1)]
    return top + bottom


def _compose(rng: np.random.Generator, canvas: _Canvas, kind: str) -> tuple[RGB, list[Item]]:
    obj = np.asarray(canvas.image.convert("RGB"))
    curve = (
        {"wristband": 40.0, "label": 25.0}.get(kind, 6.0) * float(rng.uniform(0.2, 1.0)) * float(rng.choice([-1, 1]))
    )
    bent, fwd = _curve(obj, curve)
    oh, ow = bent.shape[:2]
    out_w, out_h = int(rng.choice([1024, 1280, 1600, 2048])), 0
    out_h = int(out_w * float(rng.choice([0.75, 0.5625, 1.0])))
    bg = _background(rng, out_w, out_h)
    scale = min(out_w / ow, out_h / oh) * float(rng.uniform(0.35, 0.95))
    angle = math.radians(float(rng.normal(0, 8)))
    if kind in ("wristband", "label", "printed_record") and rng.random() < 0.15:
        angle += float(rng.choice([-1, 1])) * math.pi / 2  # phone held sideways
        scale *= min(1.0, out_h / (ow * scale) * 0.9)
    cx, cy = out_w / 2 + rng.uniform(-0.1, 0.1) * out_w, out_h / 2 + rng.uniform(-0.1, 0.1) * out_h
    src = np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], np.float32)
    dst = []
    persp = (
        float(rng.uniform(0, 0.18))
        if kind in ("ehr_screen", "printed_record", "whiteboard", "signage")
        else float(rng.uniform(0, 0.08))
    )
    for i, (x, y) in enumerate(src):
        dx, dy = (x - ow / 2) * scale, (y - oh / 2) * scale
        shrink = 1 - persp if i in (1, 2) else 1.0
        dy *= shrink
        rx = dx * math.cos(angle) - dy * math.sin(angle)
        ry = dx * math.sin(angle) + dy * math.cos(angle)
        dst.append([cx + rx, cy + ry])
    matrix = cv2.getPerspectiveTransform(src, np.array(dst, np.float32))
    warped = cv2.warpPerspective(bent, matrix, (out_w, out_h), flags=cv2.INTER_AREA)
    alpha = warped[..., 3:4].astype(np.float32) / 255.0
    photo = bg.astype(np.float32) * (1 - alpha) + warped[..., :3].astype(np.float32) * alpha
    # Glare: a soft bright spot.
    if rng.random() < 0.5:
        gx, gy = rng.uniform(0, out_w), rng.uniform(0, out_h)
        yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
        r = rng.uniform(0.08, 0.2) * out_w
        photo += 90 * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * r * r))[..., None]
    photo = np.clip(photo + rng.normal(0, 3, photo.shape), 0, 255).astype(np.uint8)
    sigma = float(rng.choice([0, 0, 0.6, 1.0]))
    if sigma:
        photo = cv2.GaussianBlur(photo, (0, 0), sigma)
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=int(rng.integers(70, 93)))
    photo = np.asarray(Image.open(buf).convert("RGB"))

    items = []
    for text, phi, label, box in canvas.items:
        pts = np.array([fwd(x, y) for x, y in _outline(box)], np.float32).reshape(-1, 1, 2)
        mapped = cv2.perspectiveTransform(pts, matrix).reshape(-1, 2)
        n = len(mapped) // 2
        heights = [float(np.hypot(*(mapped[i] - mapped[len(mapped) - 1 - i]))) for i in range(n)]
        items.append(Item(text, phi, label, tuple((float(x), float(y)) for x, y in mapped), float(np.median(heights))))
    return photo, items


def _plain(rng: np.random.Generator) -> RGB:
    w = int(rng.choice([1024, 1280]))
    h = int(w * 0.75)
    photo = _background(rng, w, h)
    # A few untextured "objects" (a bed rail, a monitor frame, a cup) so it is not just wallpaper.
    for _ in range(int(rng.integers(1, 4))):
        x, y = int(rng.integers(0, w - 200)), int(rng.integers(0, h - 200))
        colour = tuple(int(c) for c in rng.integers(30, 230, 3))
        if rng.random() < 0.5:
            cv2.rectangle(photo, (x, y), (x + int(rng.integers(80, 300)), y + int(rng.integers(40, 200))), colour, -1)
        else:
            cv2.circle(photo, (x + 60, y + 60), int(rng.integers(20, 80)), colour, -1)
    photo = np.asarray(cv2.GaussianBlur(photo, (0, 0), 1.0), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=85)
    return np.asarray(Image.open(buf).convert("RGB"))


def scene(kind: str, seed: int) -> Scene:
    """Generate one scene of ``kind`` (see :data:`KINDS`), reproducibly from ``seed``."""
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    if kind == "plain":
        return Scene(kind, seed, _plain(rng))
    canvas = _MAKERS[kind](rng, _Values(rng))
    photo, items = _compose(rng, canvas, kind)
    return Scene(kind, seed, photo, items)


def generate(count: int, seed: int = 0, kinds: tuple[str, ...] = KINDS) -> Iterator[Scene]:
    """Yield ``count`` scenes cycling through ``kinds``."""
    for i in range(count):
        yield scene(kinds[i % len(kinds)], seed * 100_000 + i)
