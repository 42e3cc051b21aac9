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

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from redact.detect.text import phi
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


def _right_of(a: Region, b: Region) -> float | None:
    """Cost of ``b`` as the value right of label ``a`` (``None`` when not on a's row).

    Short labels give a poor angle, so the row test uses whichever frame -- the label's
    or the value's -- puts them closer to one line; misalignment costs more than distance.
    """
    gap, across = _offset(a, b)
    _, back = _offset(b, a)
    off = min(abs(across), abs(back) * max(b.height, 1.0) / max(a.height, 1.0))
    # Boxes of one line split in two overlap (each is grown by the detector's unclip):
    # up to MAX_OVERLAP line heights is fine while b's centre lies beyond a's end.
    after = gap > -0.5 or (gap > -MAX_OVERLAP and gap * max(a.height, 1.0) + b.width / 2 > 0)
    if off < 0.6 and after and gap < RIGHT_GAP:
        return gap + 8.0 * off
    return None


def _gap_after(a: Region, b: Region) -> float | None:
    """Gap (in ``a``'s line heights) from ``a``'s end to ``b``'s start when ``b`` follows ``a`` on its row."""
    gap, across = _offset(a, b)
    along, _ = _frame(a)
    ahead = float((np.array(b.centre) - np.array(a.centre)) @ along) > 0
    return gap if ahead and abs(across) < 0.6 else None


def extend(region: Region, by: float) -> Region:
    """``region`` lengthened at its end (in reading direction) by ``by`` line heights (not shortened)."""
    if by <= 0:
        return region
    along, _ = _frame(region)
    d = along * by * max(region.height, 1.0)
    c = [np.array(p, np.float64) for p in region.corners]
    corners = (c[0], c[1] + d, c[2] + d, c[3])
    return Region(tuple((float(x), float(y)) for x, y in corners), region.score)  # type: ignore[arg-type]


def _below(a: Region, b: Region) -> float | None:
    along, across = _frame(a)
    d = np.array(b.centre) - np.array(a.centre)
    h = max(a.height, 1.0)
    down = float(d @ across) / h
    # b's left edge (its first corner) relative to a's extent along the line
    left = float((np.array(b.corners[0]) - np.array(a.corners[0])) @ along) / h
    if 0.5 < down < 2.2 and -1.5 < left < a.width / h + 0.5:
        return down
    return None


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


def _distance(a: Region, b: Region) -> float:
    """Centre distance minus half extents, in ``a``'s line heights (0 when touching)."""
    gap, across = _offset(a, b)
    return max(0.0, gap, abs(across) - 1.0)


def decide(
    lines: Sequence[Line],
    allow: Sequence[str] = (),
    deny: Sequence[str] = (),
    lex: phi.Lexicon | None = None,
) -> None:
    """Fill in ``label``/``score`` on every line (in place)."""
    lex = lex or phi.lexicon()
    centres = [np.array(line.region.centre) for line in lines]
    frame = frames([line.region for line in lines])
    for i, line in enumerate(lines):
        h = max(line.region.height, 1.0)
        neighbours = [
            " ".join(other.texts)
            for j, other in enumerate(lines)
            if j != i
            and (
                float(np.linalg.norm(centres[j] - centres[i])) < 4 * h + line.region.width / 2
                or _right_of(frame[j], frame[i]) is not None
            )
        ]
        context = " ".join(neighbours)
        for raw in line.texts:
            if deny and phi.phrase_in(raw, deny):
                line.label, line.score, line.pattern_phi = "DENY_LIST", 1.0, True
                break
            text = phi.strip_phrases(raw, allow) if allow else raw
            labelled = phi.field_label(text)
            if labelled is not None:
                entity, rest = labelled
                line.is_field_label = True
                line.field_entity = entity
                if rest and any(ch.isalnum() for ch in rest):
                    line.field_inline = True
                    if line.score < 0.8:
                        line.label, line.score, line.pattern_phi = entity, 0.8, True
            for match in phi.classify(text, context, lex):
                if match.score > line.score:
                    line.label, line.score, line.pattern_phi = match.label, match.score, True
    # Split lines: a name or date cut in two by the detector ("PRUITT," | "GIOVANNA")
    # is judged joined with the line right after it on the same row.
    for i, line in enumerate(lines):
        for j, other in enumerate(lines):
            if i == j or not line.texts or not other.texts:
                continue
            gap = _right_of(frame[i], frame[j])
            if gap is None or gap >= CONTINUATION_GAP or (line.pattern_phi and other.pattern_phi):
                continue
            joined = [f"{a} {b}" for a in line.texts for b in other.texts]
            best = max((m for t in joined for m in phi.classify(t, "", lex)), key=lambda m: m.score, default=None)
            if best is not None:
                for part in (line, other):
                    if best.score > part.score:
                        part.label, part.score, part.pattern_phi = best.label, best.score, True
    # Layout: values right of / below a bare field label.
    for i, line in enumerate(lines):
        # A bare label pairs with its value even when another reading of it (the wrong
        # way up, say) looked like PHI by itself; a label with its value inline does not.
        if not line.is_field_label or line.field_inline or line.field_entity is None:
            continue
        right = [
            (g, j)
            for j, o in enumerate(lines)
            if j != i and not o.is_field_label and (g := _right_of(frame[i], frame[j])) is not None
        ]
        below = [(d, j) for j, o in enumerate(lines) if j != i and (d := _below(frame[i], frame[j])) is not None]
        target = min(right)[1] if right else (min(below)[1] if below else None)
        if target is None:
            continue
        value = lines[target]
        if value.is_field_label and value.field_entity is not None and not value.pattern_phi:
            continue
        if value.label is None or value.score < 0.8:
            value.label, value.score = line.field_entity, max(value.score, 0.8)
        if value.region.width < SHORT_VALUE * max(value.region.height, 1.0):
            # A value found short ("Julia A." as "Juba"): cover on to its row's end.
            row = [_gap_after(frame[target], frame[k]) for k in range(len(lines)) if k != target]
            value.region = extend(frame[target], min([EXTEND, *(g - 0.3 for g in row if g is not None)]))
    # Continuations: a PHI line split in two by the detector (a gap, a bend) stays PHI.
    changed = True
    while changed:
        changed = False
        for i, line in enumerate(lines):
            if line.label is not None or line.is_field_label:
                continue
            for j, other in enumerate(lines):
                if other.label is not None and other.label not in ("UNCERTAIN", "DENY_LIST"):
                    gap = _right_of(frame[j], frame[i])
                    if gap is not None and gap < CONTINUATION_GAP:
                        line.label, line.score, changed = other.label, other.score, True
                        break
    # Uncertain text near labels or PHI.
    anchors = [frame[j] for j, line in enumerate(lines) if line.is_field_label or line.label is not None]
    for i, line in enumerate(lines):
        if (
            line.label is None
            and line.uncertain
            and any(_distance(a, frame[i]) < NEAR_LINES for a in anchors if a is not frame[i])
        ):
            line.label, line.score = "UNCERTAIN", phi.THRESHOLD
