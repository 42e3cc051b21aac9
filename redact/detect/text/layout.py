"""From read lines to PHI decisions: patterns, field-label layout, lists, uncertainty.

Rules, applied in order to every line (a detected region with its readings):

1. **Deny list** -- a line holding a deny-listed phrase is covered (``DENY_LIST``).
2. **Allow list** -- allow-listed phrases are removed before anything else looks.
3. **Patterns** -- :func:`redact.detect.text.phi.classify` on each engine's reading, with
   the neighbouring lines as context; the best label wins.
4. **Field labels** -- "Name: Jane Roe" is PHI in one line; a line that *is* a label
   ("DOB", "MRN #") makes the nearest line to its right, else the one just below, PHI of
   the label's entity, however harmless that value looks alone.
5. **Uncertain text** -- a line the engines could not read confidently, lying within
   a few line heights of a field label or a PHI line, is covered (``UNCERTAIN``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from redact.detect.text import clinical, phi
from redact.detect.text.ocr import Reading
from redact.detect.text.regions import Region

#: A line whose best reading is below this confidence is "uncertain".
UNCERTAIN_BELOW = 0.6
#: How far (in line heights) uncertain text may be from a label/PHI line and still be covered.
NEAR_LINES = 2.5
#: A line starting within this many line heights after a PHI line's end continues it.
CONTINUATION_GAP = 1.2
#: How far (in line heights) two pieces of one split line may overlap along the line.
MAX_OVERLAP = 1.5
#: A label's value narrower than this (in line heights) may have been found short ...
SHORT_VALUE = 3.0
#: ... and is extended along its row by up to this many line heights (less when text follows).
EXTEND = 3.0
#: How far right of a field label (in line heights) its value may start (EHR forms use wide columns).
RIGHT_GAP = 16.0


@dataclass(slots=True)
class Line:
    """A region, what each engine read there, and the decision about it."""

    region: Region
    readings: list[Reading]
    label: str | None = None  # entity label when PHI
    score: float = 0.0
    is_field_label: bool = False
    field_entity: str | None = None
    field_inline: bool = False  # the label's value is in the same line ("Name: Jane Roe")
    pattern_phi: bool = False  # PHI by its own text (not by layout)
    entities: set[str] = field(default_factory=set)  # every entity its text matched (record evidence)
    notes: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.readings if r.text.strip()]

    @property
    def confidence(self) -> float:
        return max((r.confidence for r in self.readings if r.text.strip()), default=0.0)

    @property
    def uncertain(self) -> bool:
        alnum = max((sum(ch.isalnum() for ch in t) for t in self.texts), default=0)
        return alnum < 2 or self.confidence < UNCERTAIN_BELOW


def _reoriented(region: Region, along: np.ndarray) -> Region:
    """The same line (centre, width, height) re-drawn along the unit vector ``along``.

    ``along`` is the reading direction; "down" (the next line) is ``along`` turned a
    quarter clockwise on the image -- for upside-down or sideways text too.
    """
    across = np.array([-along[1], along[0]])
    c = np.array(region.centre)
    hw, hh = region.width / 2, region.height / 2
    pts = [c - hw * along - hh * across, c + hw * along - hh * across, c + hw * along + hh * across]
    pts.append(c - hw * along + hh * across)
    return Region(tuple((float(x), float(y)) for x, y in pts), region.score)  # type: ignore[arg-type]


def frames(regions: Sequence[Region]) -> list[Region]:
    """Regions re-oriented to a steadier reading direction, for the layout rules.

    A short word ("Age", "MRN") has a poorly defined angle; under perspective a few
    degrees decide which row its value is on.  Each short region takes the reading
    direction of the (up to) three nearest long lines (width >= 4 line heights): their
    common axis, pointing the way most of them read (a record held sideways or upside
    down reads that way throughout).
    """
    long = [r for r in regions if r.width >= 4 * r.height]
    out = []
    for region in regions:
        if region in long or not long:
            out.append(region)
            continue
        c = np.array(region.centre)
        nearest = sorted(long, key=lambda r: float(np.linalg.norm(np.array(r.centre) - c)))[:3]
        units = []
        for r in nearest:
            a = np.array(r.corners[1], np.float64) - np.array(r.corners[0], np.float64)
            units.append(a / max(float(np.linalg.norm(a)), 1e-6))
        axis = sum((u if u @ units[0] >= 0 else -u for u in units), np.zeros(2))
        norm = float(np.linalg.norm(axis))
        if norm <= 1e-6:
            out.append(region)
            continue
        along = axis / norm
        if sum(float(u @ along) for u in units) < 0:
            along = -along
        out.append(_reoriented(region, along))
    return out


def _frame(region: Region) -> tuple[np.ndarray, np.ndarray]:
    c = np.array(region.corners, np.float64)
    along = c[1] - c[0]
    across = c[3] - c[0]
    return along / max(np.linalg.norm(along), 1e-6), across / max(np.linalg.norm(across), 1e-6)


def _offset(a: Region, b: Region) -> tuple[float, float]:
    """``b``'s position relative to ``a`` in ``a``'s reading frame, in ``a``'s line heights.

    Returns (gap along the line after ``a``'s end, offset across the line).
    """
    along, across = _frame(a)
    d = np.array(b.centre) - np.array(a.centre)
    h = max(a.height, 1.0)
    along_d = float(d @ along)
    across_d = float(d @ across)
    gap = (along_d - a.width / 2 - b.width / 2) / h
    return gap, across_d / h


def extend(region: Region, by: float) -> Region:
    """``region`` lengthened at its end (in reading direction) by ``by`` line heights (not shortened)."""
    if by <= 0:
        return region
    along, _ = _frame(region)
    d = along * by * max(region.height, 1.0)
    c = [np.array(p, np.float64) for p in region.corners]
    corners = (c[0], c[1] + d, c[2] + d, c[3])
    return Region(tuple((float(x), float(y)) for x, y in corners), region.score)  # type: ignore[arg-type]


def lengthen(region: Region, other: Region, most: float = 3.0) -> Region | None:
    """``region`` stretched along its line to also hold ``other``, when ``other`` is the same line found longer.

    ``other`` must lie on ``region``'s row (centre within half a line height across, no
    taller than 1.6 lines), overlap it along the line by at least half the shorter of the
    two, and reach beyond it; each end grows by at most ``most`` line heights.  ``None``
    when ``other`` is not such a line or adds nothing.
    """
    along, across = _frame(region)
    c = np.array(region.centre)
    h = max(region.height, 1.0)
    pts = np.array(other.corners, np.float64) - c
    a, b = pts @ along, pts @ across
    if abs(float(b.mean())) > 0.5 * h or float(b.max() - b.min()) > 1.6 * h:
        return None
    lo, hi = -region.width / 2, region.width / 2
    shared = min(hi, float(a.max())) - max(lo, float(a.min()))
    if shared < 0.5 * min(region.width, float(a.max() - a.min())):
        return None
    new_lo, new_hi = max(lo - most * h, min(lo, float(a.min()))), min(hi + most * h, max(hi, float(a.max())))
    if new_lo > lo - 0.1 * h and new_hi < hi + 0.1 * h:
        return None
    top, bottom = c - across * h / 2, c + across * h / 2
    corners = (top + new_lo * along, top + new_hi * along, bottom + new_hi * along, bottom + new_lo * along)
    return Region(tuple((float(x), float(y)) for x, y in corners), region.score)  # type: ignore[arg-type]


class Geo:
    """Where every line lies in every other line's reading frame, in line heights.

    Computed once per image as matrices (``[a, b]``: ``b`` seen from ``a``), so the
    layout rules cost a look-up per pair instead of a small linear-algebra problem.
    """

    def __init__(self, regions: Sequence[Region]) -> None:
        n = len(regions)
        self.regions = list(regions)
        c = np.array([r.corners for r in regions], np.float64).reshape(n, 4, 2)
        along, across = c[:, 1] - c[:, 0], c[:, 3] - c[:, 0]
        along /= np.maximum(np.linalg.norm(along, axis=1), 1e-6)[:, None]
        across /= np.maximum(np.linalg.norm(across, axis=1), 1e-6)[:, None]
        self.h = np.maximum(np.array([r.height for r in regions], np.float64), 1.0)
        self.w = np.array([r.width for r in regions], np.float64)
        centre = c.mean(axis=1)
        d = centre[None, :, :] - centre[:, None, :]
        along_d = np.einsum("abk,ak->ab", d, along)
        #: Gap from a's end to b's start along a's line, and b's offset across it.
        self.gap = (along_d - self.w[:, None] / 2 - self.w[None, :] / 2) / self.h[:, None]
        self.across = np.einsum("abk,ak->ab", d, across) / self.h[:, None]
        self.ahead = along_d > 0
        #: b's first corner along a's line from a's first corner.
        self.left = np.einsum("abk,ak->ab", c[None, :, 0, :] - c[:, None, 0, :], along) / self.h[:, None]
        self.dist = np.linalg.norm(d, axis=2)
        # right[a, b]: cost of b as the value right of label a (NaN: not on a's row).
        # Short labels give a poor angle, so the row test uses whichever frame -- the
        # label's or the value's -- puts them closer to one line; misalignment costs more
        # than distance.  Boxes of one line split in two overlap (each is grown by the
        # detector's unclip): up to MAX_OVERLAP line heights is fine while b's centre lies
        # beyond a's end.
        off = np.minimum(np.abs(self.across), np.abs(self.across.T) * self.h[None, :] / self.h[:, None])
        gap = self.gap
        after = (gap > -0.5) | ((gap > -MAX_OVERLAP) & (gap * self.h[:, None] + self.w[None, :] / 2 > 0))
        self.right = np.where((off < 0.6) & after & (gap < RIGHT_GAP), gap + 8.0 * off, np.nan)

    def right_of(self, a: int, b: int) -> float | None:
        """Cost of ``b`` as the value right of label ``a`` (``None`` when not on a's row)."""
        cost = float(self.right[a, b])
        return None if np.isnan(cost) else cost

    def gap_after(self, a: int, b: int) -> float | None:
        """Gap from ``a``'s end to ``b``'s start when ``b`` follows ``a`` on its row."""
        return float(self.gap[a, b]) if self.ahead[a, b] and abs(self.across[a, b]) < 0.6 else None

    def below(self, a: int, b: int) -> float | None:
        """How far ``b`` is below ``a`` (lines) when it starts within ``a``'s extent, else ``None``."""
        down, left = float(self.across[a, b]), float(self.left[a, b])
        if 0.5 < down < 2.2 and -1.5 < left < self.w[a] / self.h[a] + 0.5:
            return down
        return None

    def distance(self, a: int, b: int) -> float:
        """Centre distance minus half extents, in ``a``'s line heights (0 when touching)."""
        return max(0.0, float(self.gap[a, b]), abs(float(self.across[a, b])) - 1.0)


def _contexts(lines: Sequence[Line], geo: Geo) -> list[str]:
    """Each line's context: the text of lines within a few line heights or just left of it."""
    texts = [" ".join(line.texts) for line in lines]
    reach = 4 * geo.h + geo.w / 2
    near = (geo.dist < reach[:, None]) | ~np.isnan(geo.right.T)
    np.fill_diagonal(near, False)
    return [" ".join(texts[j] for j in np.flatnonzero(row)) for row in near]


def _set(line: Line, label: str, score: float, by_text: bool = True) -> None:
    """Give ``line`` the label when it scores higher than what it has."""
    if score > line.score:
        line.label, line.score = label, score
        line.pattern_phi = line.pattern_phi or by_text


def _judge_texts(line: Line, context: str, allow: Sequence[str], deny: Sequence[str], lex: phi.Lexicon) -> None:
    """Rules 1-4 on one line's own readings: deny list, allow list, field labels, patterns."""
    for raw in line.texts:
        if deny and phi.phrase_in(raw, deny):
            line.label, line.score, line.pattern_phi = "DENY_LIST", 1.0, True
            return
        text = phi.strip_phrases(raw, allow) if allow else raw
        labelled = phi.field_label(text)
        if labelled is not None:
            entity, rest = labelled
            line.is_field_label = True
            line.field_entity = entity
            if rest and any(ch.isalnum() for ch in rest):
                line.field_inline = True
                _set(line, entity, 0.8)
        for match in phi.classify(text, context, lex):
            _set(line, match.label, match.score)
            line.entities.add(match.label)


def _join_split(lines: Sequence[Line], geo: Geo, lex: phi.Lexicon) -> None:
    """A name or date cut in two by the detector ("PRUITT," | "GIOVANNA") is judged joined."""
    with np.errstate(invalid="ignore"):
        pairs = np.argwhere(geo.right < CONTINUATION_GAP)
    for i, j in pairs:
        line, other = lines[i], lines[j]
        if i == j or not line.texts or not other.texts or (line.pattern_phi and other.pattern_phi):
            continue
        joined = [f"{a} {b}" for a in line.texts for b in other.texts]
        best = max((m for t in joined for m in phi.classify(t, "", lex)), key=lambda m: m.score, default=None)
        if best is not None:
            for part in (line, other):
                _set(part, best.label, best.score)


def _label_target(i: int, lines: Sequence[Line], geo: Geo) -> int | None:
    """The value of bare field label ``i``: the nearest line right of it, else just below."""
    right = [
        (g, j) for j, o in enumerate(lines) if j != i and not o.is_field_label and (g := geo.right_of(i, j)) is not None
    ]
    if right:
        return min(right)[1]
    below = [(d, j) for j in range(len(lines)) if j != i and (d := geo.below(i, j)) is not None]
    return min(below)[1] if below else None


def _label_values(lines: Sequence[Line], geo: Geo) -> None:
    """Values right of / below a bare field label take the label's entity."""
    for i, line in enumerate(lines):
        # A bare label pairs with its value even when another reading of it (the wrong
        # way up, say) looked like PHI by itself; a label with its value inline does not.
        if not line.is_field_label or line.field_inline or line.field_entity is None:
            continue
        target = _label_target(i, lines, geo)
        if target is None:
            continue
        value = lines[target]
        if value.is_field_label and value.field_entity is not None and not value.pattern_phi:
            continue
        if value.label is None or value.score < 0.8 or value.label == phi.STAFF:
            value.label, value.score = line.field_entity, max(value.score, 0.8)
        if value.region.width < SHORT_VALUE * max(value.region.height, 1.0):
            # A value found short ("Julia A." as "Juba"): cover on to its row's end.
            row = [geo.gap_after(target, k) for k in range(len(lines)) if k != target]
            value.region = extend(geo.regions[target], min([EXTEND, *(g - 0.3 for g in row if g is not None)]))


def _continuations(lines: Sequence[Line], geo: Geo) -> None:
    """A PHI line split in two by the detector (a gap, a bend) stays PHI."""
    changed = True
    while changed:
        changed = False
        for i, line in enumerate(lines):
            if line.label is not None or line.is_field_label:
                continue
            for j, other in enumerate(lines):
                if other.label is not None and other.label not in ("UNCERTAIN", "DENY_LIST"):
                    gap = geo.right_of(j, i)
                    if gap is not None and gap < CONTINUATION_GAP:
                        line.label, line.score, changed = other.label, other.score, True
                        break


def _wrapped(line: Line) -> bool:
    """Whether a line ends with a comma: the rest of its entry follows on the next line."""
    return any(t.rstrip().endswith(",") for t in line.texts)


def _address_blocks(lines: Sequence[Line], geo: Geo) -> None:
    """An address wrapped over several lines stays one address.

    A line below an address line ending with a comma, or above one while itself ending
    with a comma, is part of the address.
    """
    changed = True
    while changed:
        changed = False
        for i, line in enumerate(lines):
            for j, other in enumerate(lines):
                if i == j or geo.below(i, j) is None:
                    continue
                if line.label == "ADDRESS" and _wrapped(line) and other.label is None and other.texts:
                    other.label, other.score, changed = "ADDRESS", phi.THRESHOLD, True
                elif other.label == "ADDRESS" and _wrapped(line) and line.label is None:
                    line.label, line.score, changed = "ADDRESS", phi.THRESHOLD, True


def _uncertain(lines: Sequence[Line], geo: Geo) -> None:
    """Text the engines could not read, near a field label or PHI, is covered."""
    anchors = [j for j, line in enumerate(lines) if line.is_field_label or line.label is not None]
    for i, line in enumerate(lines):
        if line.label is None and line.uncertain and any(geo.distance(a, i) < NEAR_LINES for a in anchors if a != i):
            line.label, line.score = "UNCERTAIN", phi.THRESHOLD


#: Entities that show an image is about a patient (a clinician's name there is PHI too).
PATIENT_ENTITIES = frozenset({"NAME", "MRN", "DOB", "AGE", "ID", "ACCOUNT", "ACCESSION", "SSN", "MRZ"})


def patient_evidence(lines: Sequence[Line]) -> bool:
    """Whether the image shows a patient's identifiers (not just a staff member's name)."""
    if any(line.label in PATIENT_ENTITIES or line.entities & PATIENT_ENTITIES for line in lines):
        return True
    if any(line.field_entity in PATIENT_ENTITIES and line.field_entity != "NAME" for line in lines):
        return True
    return any(phi.has_word(t, phi.PATIENT_CONTEXT) for line in lines for t in line.texts)


def _lone_name(lines: Sequence[Line]) -> Line | None:
    """The one name of an image that shows nothing else about a patient, else ``None``.

    A staff badge: a name, a role, a department, the hospital, no patient identifier.
    """
    named = [line for line in lines if line.label in ("NAME", phi.STAFF)]
    others = [line for line in lines if line.label not in (None, "NAME", phi.STAFF)]
    if len(named) != 1 or others or any(line.is_field_label for line in lines):
        return None
    if any(phi.has_word(t, phi.PATIENT_CONTEXT) for line in lines for t in line.texts):
        return None
    if sum(1 for line in lines if line.texts and not line.uncertain) < 2:
        return None  # a name alone on a surface: nothing says whose it is
    if any(line.uncertain and sum(ch.isalnum() for t in line.texts for ch in t) >= 4 for line in lines):
        return None  # text that could not be read may be the patient's details
    return named[0]


def _resolve_staff(lines: Sequence[Line]) -> None:
    """Clinicians' names are PHI on patient material and harmless alone (a badge)."""
    lone = _lone_name(lines)
    if lone is not None:
        lone.label, lone.entities = phi.STAFF, {phi.STAFF}
    staff = [line for line in lines if line.label == phi.STAFF]
    if not staff:
        return
    keep = patient_evidence(lines)
    for line in lines:
        if keep and phi.STAFF in line.entities:
            line.entities.add("NAME")
        line.entities.discard(phi.STAFF)
    for line in staff:
        if keep:
            line.label = "NAME"
        else:
            line.label, line.score, line.pattern_phi = None, 0.0, False


def decide(
    lines: Sequence[Line],
    allow: Sequence[str] = (),
    deny: Sequence[str] = (),
    lex: phi.Lexicon | None = None,
) -> None:
    """Fill in ``label``/``score`` on every line (in place)."""
    lex = lex or phi.lexicon()
    geo = Geo(frames([line.region for line in lines]))
    for line, context in zip(lines, _contexts(lines, geo), strict=True):
        _judge_texts(line, context, allow, deny, lex)
    _join_split(lines, geo, lex)
    _label_values(lines, geo)
    _continuations(lines, geo)
    _address_blocks(lines, geo)
    _resolve_staff(lines)
    _uncertain(lines, geo)


def evidence(lines: Sequence[Line]) -> Counter[str]:
    """What the text shows for the record judgement, as counts (never text).

    ``entity:<ENTITY>`` per line whose text matched that entity (a line may hold several:
    "DOB 1996-11-22 27 yrs"), ``label:<ENTITY>`` per printed field label, ``clinical`` per
    line with clinical vocabulary (:mod:`.clinical`), ``mrz`` per machine-readable-zone
    line, ``patient_words`` when a patient word ("Patient", "DOB", "MRN"...) appears.
    """
    out: Counter[str] = Counter()
    for line in lines:
        for entity in line.entities - {phi.STAFF, "UNCERTAIN", "DENY_LIST"}:
            out[f"entity:{entity}"] += 1
        if line.is_field_label and line.field_entity:
            out[f"label:{line.field_entity}"] += 1
        if line.label == "MRZ":
            out["mrz"] += 1
    # Clinical vocabulary only counts beside a patient identifier: without one, it is not
    # looked up (the drug dictionary is not even loaded for a photo without PHI).
    if any(line.entities & PATIENT_ENTITIES or line.is_field_label for line in lines):
        for line in lines:
            best = max((clinical.terms(t) for t in line.texts if line.confidence >= UNCERTAIN_BELOW), default=0)
            out["clinical"] += best > 0
    out["patient_words"] += any(phi.has_word(t, phi.PATIENT_CONTEXT) for line in lines for t in line.texts)
    return out


def cover_surface(lines: Sequence[Line], reach: float = 1.0) -> None:
    """On a record: unreadable text on the record's surface is covered too (``UNCERTAIN``).

    The surface is the convex hull of the lines that read as text, grown by ``reach``
    of the median line height.
    """
    read = [line for line in lines if line.texts and not line.uncertain]
    if len(read) < 2:
        return
    pts = np.array([p for line in read for p in line.region.corners], np.float32)
    hull = cv2.convexHull(pts)
    grow = reach * float(np.median([line.region.height for line in read]))
    for line in lines:
        if line.label is None and (not line.texts or line.uncertain):
            inside = cv2.pointPolygonTest(hull, tuple(float(v) for v in line.region.centre), True)
            if inside >= -grow:
                line.label, line.score = "UNCERTAIN", phi.THRESHOLD
