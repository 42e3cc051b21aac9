"""Phone numbers of any country, validated by Google's libphonenumber (``phonenumbers``).

A run of digits with the separators people print ("03-9010-9849", "(614) 466-5087",
"+44 20 7946 0958", "H/P:012-3163818") is a candidate; it is a phone number when
libphonenumber finds it valid in international form (a leading ``+`` or ``00``) or as a
national number of one of :data:`REGIONS`.  Dates and plain amounts are left alone.
"""

from __future__ import annotations

import re

import phonenumbers

from redact.detect.text import dates

#: Countries whose national formats are tried for numbers printed without a country code.
REGIONS = (
    "US", "CA", "GB", "IE", "AU", "NZ", "ZA", "IN", "SG", "MY", "PH", "ID", "HK", "JP", "CN",
    "DE", "FR", "IT", "ES", "PT", "NL", "BE", "CH", "AT", "SE", "NO", "DK", "FI", "PL", "BR", "MX",
)  # fmt: skip

_CANDIDATE = re.compile(r"(?<![\w.,])(?:\+|00)?\s?\(?\d[\d\s().\-/]{5,40}\d(?![\w])")
#: Split candidates that hold two numbers ("03-1234 5678 / 03-8765 4321").
_SPLIT = re.compile(r"\s*/\s+|\s+/\s*|\s{3,}")


def warm() -> None:
    """Load libphonenumber's metadata of every region in :data:`REGIONS` (lazy otherwise)."""
    for region in REGIONS:
        phonenumbers.PhoneMetadata.metadata_for_region(region)
    phonenumbers.is_valid_number(phonenumbers.parse("+44 20 7946 0958", None))


def _valid(number: str) -> bool:
    digits = sum(ch.isdigit() for ch in number)
    if not 7 <= digits <= 15:
        return False
    try:
        if number.lstrip().startswith(("+", "00")):
            intl = "+" + number.lstrip().lstrip("+")[2:] if number.lstrip().startswith("00") else number
            return bool(phonenumbers.is_valid_number(phonenumbers.parse(intl, None)))
        return any(phonenumbers.is_valid_number(phonenumbers.parse(number, region)) for region in REGIONS)
    except phonenumbers.NumberParseException:
        return False


def _pieces(m: re.Match[str]) -> list[tuple[int, int]]:
    """Spans of ``m`` to try: split at slashes and wide gaps, then runs of its digit groups."""
    text, start = m.group(0), m.start()
    parts, pos = [], 0
    for sep in _SPLIT.finditer(text):
        parts.append((start + pos, start + sep.start()))
        pos = sep.end()
    parts.append((start + pos, start + len(text)))
    return parts


def _windows(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Runs of consecutive space-separated groups of ``text[a:b]`` holding 7-15 digits, longest first."""
    groups = [(a + g.start(), a + g.end()) for g in re.finditer(r"\S+", text[a:b])]
    out = []
    for i in range(len(groups)):
        for j in range(len(groups) - 1, i - 1, -1):
            digits = sum(ch.isdigit() for ch in text[groups[i][0] : groups[j][1]])
            if 7 <= digits <= 15:
                out.append((groups[i][0], groups[j][1]))
    return sorted(out, key=lambda w: w[0] - w[1])


def find_phones(text: str) -> list[tuple[int, int, float]]:
    """Spans of valid phone numbers in ``text`` with a base score."""
    out: list[tuple[int, int, float]] = []
    taken = [(a, b) for a, b, _ in dates.find_dates(text)]
    for m in _CANDIDATE.finditer(text):
        for a, b in _pieces(m):
            for wa, wb in _windows(text, a, b):
                raw = text[wa:wb]
                piece = raw.strip(" .-/")
                wa += len(raw) - len(raw.lstrip(" .-/"))
                wb = wa + len(piece)
                overlaps = any(wa < e and s < wb for s, e in taken)
                if piece and not overlaps and _valid(piece):
                    shaped = bool(re.search(r"[\s\-.()]", piece)) or piece.startswith("+")
                    out.append((wa, wb, 0.6 if shaped else 0.45))
                    taken.append((wa, wb))
    return out
