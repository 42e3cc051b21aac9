"""Dates and times in the orders, separators and languages people write them.

Month names come from the Unicode CLDR through Babel (English and the common European
languages, wide and abbreviated forms), not from a list of our own.  Numeric dates are
accepted in day-month-year, month-day-year and year-month-day order with ``/ - .`` or
spaces between the parts and two- or four-digit years, when the numbers can be a date
in at least one order ("18-11-18", "2- Dec- 97", "05.06.2024").  A clock time ("21:15",
"9.30 pm") is a date-like PHI part only next to a date (same line or a neighbour).
"""

from __future__ import annotations

import re
from functools import lru_cache

#: CLDR locales whose month names are recognised.
LOCALES = ("en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb", "pl", "fi", "ms", "id")


@lru_cache(maxsize=1)
def month_names() -> frozenset[str]:
    """Lower-case month names and abbreviations of :data:`LOCALES` (without dots)."""
    from babel.dates import get_month_names

    out = set()
    for loc in LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                out |= {str(v).lower().rstrip(".") for v in get_month_names(width, context, loc).values()}
    out.add("sept")
    return frozenset(n for n in out if len(n) >= 3)


@lru_cache(maxsize=1)
def _month_alt() -> str:
    return "|".join(sorted((re.escape(n) for n in month_names()), key=len, reverse=True))


def _num(lo: int, hi: int, value: str) -> bool:
    return value.isdigit() and lo <= int(value) <= hi


def _numeric_ok(a: str, b: str, c: str) -> bool:
    """Whether three numbers can be a date in some common order."""
    if len(a) == 4:  # year first: y-m-d
        return _num(1900, 2099, a) and _num(1, 12, b) and _num(1, 31, c)
    if len(c) not in (2, 4) or (len(c) == 4 and not _num(1900, 2099, c)):
        return False
    dmy = _num(1, 31, a) and _num(1, 12, b)
    mdy = _num(1, 12, a) and _num(1, 31, b)
    return dmy or mdy


_SEP = r"\s*[/\-.]\s*"
_NUMERIC = re.compile(rf"(?<![\d.,/:-])(\d{{1,4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{2,4}})(?![\d/:-])")
_TIME = re.compile(
    r"(?<![\d:.])(?:[01]?\d|2[0-3])(?::[0-5]\d(?::[0-5]\d)?(?:\s?[ap]\.?m\.?)?|[.h][0-5]\d\s?[ap]\.?m\.?)(?![\d:])",
    re.IGNORECASE,
)
_CLOCK_12 = re.compile(r"(?<!\d)(?:0?[1-9]|1[0-2])\s?[ap]\.?m\.?(?![a-z])", re.IGNORECASE)


@lru_cache(maxsize=1)
def _worded() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    month = rf"(?:{_month_alt()})\.?"
    day = r"(?:[0-2]?\d|3[01])(?:st|nd|rd|th|er|\.)?"
    year = r"(?:1[89]|20)?\d\d"
    flags = re.IGNORECASE
    day_month_year = re.compile(rf"(?<![\w]){day}[\s\-/.,]*(?:de\s+)?{month}[\s\-/.,']*(?:de\s+)?{year}(?![\w])", flags)
    month_day_year = re.compile(rf"(?<![\w]){month}[\s\-/.]*{day},?[\s\-/.,']*{year}(?![\w])", flags)
    month_year = re.compile(rf"(?<![\w]){month}[\s\-/.,']*(?:1[89]|20)\d\d(?![\w])", flags)
    return day_month_year, month_day_year, month_year


@lru_cache(maxsize=1)
def _day_month() -> re.Pattern[str]:
    month = rf"(?:{_month_alt()})\.?"
    return re.compile(rf"(?<![\w])(?:(?:[0-2]?\d|3[01])\s*{month}|{month}\s*(?:[0-2]?\d|3[01]))(?![\w])", re.IGNORECASE)


def find_dates(text: str) -> list[tuple[int, int, float]]:
    """Spans of full dates in ``text`` with a base score: ``[(start, end, score)]``."""
    out: list[tuple[int, int, float]] = []
    for m in _NUMERIC.finditer(text):
        if _numeric_ok(m.group(1), m.group(2), m.group(3)):
            # "1.5.20" could be a version; separators that are all dots score lower.
            dots = m.group(0).count(".") == 2 and len(m.group(3)) == 2 and len(m.group(1)) < 4
            out.append((m.start(), m.end(), 0.45 if dots else 0.6))
    for pattern in _worded():
        out += [(m.start(), m.end(), 0.6) for m in pattern.finditer(text)]
    return out


def find_partial_dates(text: str) -> list[tuple[int, int, float]]:
    """A day and month name without a year ("14 Jun", "Dec 3"): weak alone."""
    return [(m.start(), m.end(), 0.3) for m in _day_month().finditer(text)]


def find_times(text: str) -> list[tuple[int, int]]:
    """Clock times ("21:15", "9.30 pm", "7 am")."""
    spans = [(m.start(), m.end()) for m in _TIME.finditer(text)]
    spans += [(m.start(), m.end()) for m in _CLOCK_12.finditer(text)]
    return spans
