"""Person names: lexicon pairs, "LAST, First", initials, titles and credentials.

Names are found by shape and checked against the US Census 1990 first-name and surname
lists (``names`` wheel, verified through :mod:`redact.models`):

* "LAST, First [M.]" and "First [M.] Last", either name in the lexicon;
* initials before a surname: "K. A. Sparrow", "D.J. LANDRO";
* a courtesy title before a name: "Mrs. K. A. Sparrow", "MR TAN", "Frau Keller";
* a credential after it: "Okafor, Ada MD", "Lee Wong, NP" (a clinician: still a name).

A name written with a clinician's title or credential ("Dr.", "RN", "MD") is labelled
``STAFF``: it is PHI on patient material (care team on a chart or a whiteboard) and
harmless alone (the wearer's own badge); :mod:`redact.detect.text.layout` decides which
from the rest of the image.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from redact import models

#: Label of a name written as a clinician's (resolved per image by the layout stage).
STAFF = "STAFF"

#: Courtesy titles (any case, optional dot) in English and the common European languages.
TITLES = (
    "mr", "mrs", "ms", "miss", "mx", "mstr", "madam", "herr", "frau", "mme", "mlle", "sra", "srta", "signora",
    "dhr", "mevr", "encik", "puan", "cik", "tuan",
)  # fmt: skip
#: Clinicians' titles and credentials (a name with one of these is ``STAFF``).
CLINICIAN = (
    "dr", "doctor", "prof", "professor", "nurse", "sister", "md", "do", "rn", "np", "pa", "pa-c", "lpn", "lvn",
    "cna", "aprn", "crna", "dnp", "phd", "pharmd", "rph", "mbbs", "mbchb", "frcp", "frcs", "dds", "dmd", "od",
    "dpm", "pt", "ot", "slp", "rd", "rrt", "emt", "paramedic", "mrcp", "bsn", "msn", "cnm", "ccrn",
)  # fmt: skip

_CAP = r"[A-Z][A-Za-z'\-]+"
_INITIALS = r"(?:[A-Z]\.\s?){1,3}"
_NAME_LAST_FIRST = re.compile(rf"\b({_CAP})\s*,\s*({_CAP})")
_CRED = r"(?:,?\s*(?:" + "|".join(re.escape(c) for c in CLINICIAN if len(c) > 1) + r")\.?)*"
#: A whole line that is just "LAST, First [M.] [MD]".
_NAME_LINE = re.compile(rf"^\s*{_CAP}\s*,\s*{_CAP}(?:\s+[A-Z][A-Za-z'\-]*\.?)?{_CRED}\s*$", re.IGNORECASE)
_INITIAL_SURNAME = re.compile(rf"(?<![\w.])({_INITIALS})\s*({_CAP})")
_FIRST_INITIAL = re.compile(rf"\b({_CAP})\s+[A-Z]\.")
_CLINICAL_TITLES = ("dr", "doctor", "prof", "professor", "nurse", "sister")
_TITLED = re.compile(
    r"(?<![\w])(?i:(" + "|".join(re.escape(t) for t in (*TITLES, *_CLINICAL_TITLES)) + r"))\.?\s+"
    rf"((?:[A-Z]\.\s?){{0,3}}\s*{_CAP}(?:\s+{_CAP})?)",
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_CREDENTIALS = "|".join(re.escape(c) for c in CLINICIAN if len(c) > 1)
_CREDENTIAL_END = re.compile(rf"[\s,]({_CREDENTIALS})\.?\s*$", re.I)
_CREDENTIAL_AFTER = re.compile(rf"^\s*,?\s*({_CREDENTIALS})\b\.?", re.I)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Upper-case first names and surnames."""

    first: frozenset[str]
    last: frozenset[str]
    common: frozenset[str] = field(default_factory=frozenset)


def _read_census(name: str, limit: int | None = None) -> list[str]:
    path = models.model_path(name)
    out = []
    with path.open(encoding="ascii", errors="ignore") as fh:
        for line in fh:
            word = line.split(" ", 1)[0].strip()
            if word:
                out.append(word)
            if limit is not None and len(out) >= limit:
                break
    return out


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Load the US Census first-name and surname lists (verified, cached per process).

    Surnames are limited to the 40,000 most frequent: the long tail is mostly OCR-like
    noise and collides with ordinary words.
    """
    first = frozenset(_read_census("census_female_first") + _read_census("census_male_first"))
    last = frozenset(_read_census("census_last", limit=40_000))
    return Lexicon(first, last)


def _has_word(text: str, words: Iterable[str]) -> bool:
    low = text.lower()
    return any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", low) for w in words)


@dataclass(frozen=True, slots=True)
class NameHit:
    """A name's span, score and whether it is written as a clinician's."""

    start: int
    end: int
    score: float
    staff: bool = False
    #: Written "LAST, First" (chart and band style; never a badge's).
    comma: bool = False


def _staffed(text: str, start: int, end: int) -> bool:
    """Whether the name at ``text[start:end]`` carries a clinician's title or credential."""
    before = text[max(0, start - 12) : start].lower()
    if re.search(r"(?<![a-z])(?:dr|doctor|prof|professor|nurse|sister)\.?\s*$", before):
        return True
    return bool(_CREDENTIAL_AFTER.match(text[end:]) or _CREDENTIAL_END.search(text[start:end]))


def _known(word: str, lex: Lexicon) -> bool:
    w = word.upper()
    return w in lex.first or w in lex.last


def _pairs(text: str, lex: Lexicon, patient: bool) -> Iterable[NameHit]:
    """A known first name, an optional initial and a surname (known, or near patient words)."""
    words = list(_WORD.finditer(text))
    for a, b in itertools.pairwise(words):
        if not re.fullmatch(r"\s+(?:[A-Z]\.?\s+)?", text[a.end() : b.start()]):
            continue
        first, last = a.group(0), b.group(0)
        if not (first[0].isupper() and last[0].isupper()) or first.upper() not in lex.first:
            continue
        if last.upper() in lex.last:
            yield NameHit(a.start(), b.end(), 0.55)
        elif patient:
            yield NameHit(a.start(), b.end(), 0.5)


def find_names(text: str, lex: Lexicon, patient_context: bool = False) -> list[NameHit]:
    """Every name-shaped span of ``text`` with a score (``staff`` set for clinicians)."""
    hits: list[NameHit] = []
    for m in _NAME_LAST_FIRST.finditer(text):
        known = (m.group(1).upper() in lex.last) + _known(m.group(2), lex)
        if known and m.group(2).lower() not in CLINICIAN:
            hits.append(NameHit(m.start(), m.end(), 0.45 + 0.2 * known, comma=True))
    if _NAME_LINE.match(text):
        hits.append(NameHit(0, len(text.rstrip()), 0.55, comma=True))
    for m in _INITIAL_SURNAME.finditer(text):
        hits.append(NameHit(m.start(), m.end(), 0.6 if _known(m.group(2), lex) else 0.5))
    for m in _TITLED.finditer(text):
        clinician = m.group(1).lower() in _CLINICAL_TITLES
        named = "." in m.group(2) or any(_known(w, lex) for w in _WORD.findall(m.group(2)))
        hits.append(NameHit(m.start(), m.end(), 0.6 if named else 0.45, clinician))
    for m in _FIRST_INITIAL.finditer(text):
        if m.group(1).upper() in lex.first:
            hits.append(NameHit(m.start(), m.end(), 0.5))
    hits += _pairs(text, lex, patient_context)
    return [NameHit(h.start, h.end, h.score, h.staff or _staffed(text, h.start, h.end), h.comma) for h in hits]
