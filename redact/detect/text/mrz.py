"""Machine-readable zones of passports, ID cards and visas (ICAO Doc 9303).

An MRZ line is 30, 36 or 44 characters of ``A-Z``, ``0-9`` and the filler ``<``; OCR
reads the fillers as ``<``, ``«``, ``K`` or ``(`` and drops some, so a line counts when
it is long, made of that alphabet, and holds a run of fillers.  :func:`check_digit` is
the ICAO 7-3-1 check digit, used to confirm number fields when they read cleanly.
"""

from __future__ import annotations

import re

_VALUES = {**{str(d): d for d in range(10)}, **{chr(ord("A") + i): 10 + i for i in range(26)}, "<": 0}
_LINE = re.compile(r"[A-Z0-9<]{24,46}")


def check_digit(field: str) -> int:
    """ICAO 9303 check digit of ``field`` (weights 7, 3, 1 repeated; ``<`` counts 0)."""
    total = sum(_VALUES.get(ch, 0) * (7, 3, 1)[i % 3] for i, ch in enumerate(field.upper()))
    return total % 10


def valid_field(field: str, digit: str) -> bool:
    """Whether ``digit`` is the check digit of ``field``."""
    return digit.isdigit() and check_digit(field) == int(digit)


def normalise(text: str) -> str:
    """Upper-case, spaces dropped, OCR's filler look-alikes turned into ``<``."""
    return re.sub(r"[\u00ab\u2039(\[{]", "<", text.upper().replace(" ", ""))


def is_mrz_line(text: str) -> bool:
    """Whether ``text`` reads as one line of a machine-readable zone."""
    line = normalise(text)
    m = _LINE.search(line)
    if m is None or len(m.group(0)) < 0.8 * len(line):
        return False
    body = m.group(0)
    return "<<" in body and sum(ch.isalnum() for ch in body) >= 10


def td3_checks(line2: str) -> int:
    """How many of a passport's (TD3) second-line check digits hold: 0-3.

    Checked: document number, birth date, expiry.
    """
    s = normalise(line2)
    if len(s) < 28:
        return 0
    return sum(valid_field(s[a:b], s[b]) for a, b in ((0, 9), (13, 19), (21, 27)))
