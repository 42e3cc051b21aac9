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
    text, start = m.group(0), m.start()
    out, pos = [], 0
    for sep in _SPLIT.finditer(text):
        out.append((start + pos, start + sep.start()))
        pos = sep.end()
    out.append((start + pos, start + len(text)))
    return out


def find_phones(text: str) -> list[tuple[int, int, float]]:
    """Spans of valid phone numbers in ``text`` with a base score."""
    out = []
    taken = [(a, b) for a, b, _ in dates.find_dates(text)]
    for m in _CANDIDATE.finditer(text):
        for a, b in _pieces(m):
            raw = text[a:b]
            piece = raw.strip(" .-/")
            a += len(raw) - len(raw.lstrip(" .-/"))
            b = a + len(piece)
            if not piece or any(a < e and s < b for s, e in taken):
                continue
            if _valid(piece):
                shaped = bool(re.search(r"[\s\-.()]", piece)) or piece.startswith("+")
                out.append((a, b, 0.6 if shaped else 0.45))
    return out
