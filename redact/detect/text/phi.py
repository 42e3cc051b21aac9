"""PHI recognition as data: Presidio-style patterns, context words and field labels.

Three tables drive everything:

* :data:`RECOGNISERS` -- an entity label, regular-expression :class:`Pattern` s with a
  base score, and *context* words that raise the score when they occur on the same or a
  neighbouring line (Presidio's context enhancement).
* :data:`FIELD_LABELS` -- printed field labels ("Name:", "DOB", "MRN #") and the entity
  of the value that follows them.  The layout rule in :mod:`redact.detect.text.layout`
  turns "value right of or below a label" into PHI, even when the value looks harmless.
* :data:`STAFF_WORDS` -- titles that mark a person's name as staff, not patient.

Beside the tables, recognisers with more logic live in their own modules: dates in
every common order and language (:mod:`.dates`), phone numbers of any country
(:mod:`.phones`, libphonenumber), person names with initials, titles and credentials
(:mod:`.names`, US Census lexicon), passport/ID machine-readable zones (:mod:`.mrz`).

Nothing here returns or logs the matched text: :func:`classify` returns labels, scores
and character spans only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from redact.detect.text import dates, mrz, names, phones
from redact.detect.text.names import STAFF, Lexicon, lexicon

__all__ = ["STAFF", "Lexicon", "Match", "classify", "field_label", "lexicon"]

#: Scores at or above this make a line PHI.
THRESHOLD = 0.5
#: What a context word adds to a pattern's score (capped at 1).
CONTEXT_BOOST = 0.35


@dataclass(frozen=True, slots=True)
class Pattern:
    """A named regular expression with a base score in ``[0, 1]``."""

    name: str
    regex: str
    score: float


@dataclass(frozen=True, slots=True)
class Recogniser:
    """An entity type, its patterns, and words that make a match more likely PHI.

    ``context_label``, when set, replaces ``label`` on a context hit (a date near
    "DOB" becomes a ``DOB``).
    """

    label: str
    patterns: tuple[Pattern, ...]
    context: tuple[str, ...] = ()
    context_label: str | None = None
    flags: int = re.IGNORECASE


@dataclass(frozen=True, slots=True)
class Match:
    """One PHI hit in a line: entity label, score and character span (no text)."""

    label: str
    score: float
    start: int
    end: int


#: US state and territory codes (upper case).
_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|"
    "OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|GU|VI"
)
_PHONE_CONTEXT = ("phone", "tel", "telephone", "fax", "cell", "mobile", "call", "contact", "ph", "h/p", "hp", "hotline")
#: Words about when something happens: a bare "5/28" beside one is a date.
_WHEN_CONTEXT = (
    "date", "today", "discharge", "admit", "admitted", "admission", "due", "expected", "appt",
    "appointment", "surgery", "since", "until", "dob", "born", "seen", "visit", "next",
)  # fmt: skip
_DOB_CONTEXT = ("dob", "d.o.b", "birth", "born", "bday", "b-day", "geb", "né", "née", "naissance", "nacimiento")
#: Street-type words that come before the street's name (French, Spanish, Italian, Portuguese, Malay...).
_STREET_FIRST = (
    r"jalan|jln|lorong|lrg|persiaran|lebuh|lebuhraya|taman|rue|avenue|av|chemin|boulevard|bd|allée|via|viale|"
    r"piazza|corso|calle|avda|avenida|paseo|plaza|rua|travessa|praça|carrer|ulica|ul|strada"
)
#: Street-type word endings of Germanic and Nordic street names ("Hauptstraße 5", "Kerkstraat 12").
_STREET_SUFFIX = r"stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|laan|straat|gracht|plein|vej|gade|gatan|vägen|veien|gate"

RECOGNISERS: tuple[Recogniser, ...] = (
    Recogniser(
        "SSN",
        (
            Pattern("ssn_dashed", r"\b(?!000|666|9\d\d)\d{3}[- ](?!00)\d{2}[- ](?!0000)\d{4}\b", 0.7),
            Pattern("ssn_plain", r"\b(?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4}\b", 0.2),
        ),
        context=("ssn", "social security", "ss#", "soc sec"),
    ),
    Recogniser(
        "DATE",
        # A day and month without the year ("5/28"), next to a word about when.
        (Pattern("month_day_numeric", r"(?<![\d/.])(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])(?![\d/])", 0.3),),
        context=_WHEN_CONTEXT,
    ),
    Recogniser("PHONE", (Pattern("extension", r"\b(?:ext|x)\.?\s?\d{3,5}\b", 0.2),), context=_PHONE_CONTEXT),
    Recogniser(
        "EMAIL",
        (
            Pattern("email", r"\b[\w.+\-]+\s?@\s?[\w\-]+(?:\.[\w\-]+)+\b", 0.85),
            # OCR often reads "@" as S, &, a or drops it: first.last...domain.tld
            Pattern("email_misread", r"\b[a-z0-9]+[._][a-z0-9._+\-]*\.(?:com|org|net|edu|gov|ory|orq|con|c0m)\b", 0.5),
        ),
        context=("email", "e-mail", "mail"),
    ),
    Recogniser(
        "URL",
        (
            Pattern("scheme", r"\bhttps?://\S+", 0.5),
            Pattern("www", r"\bwww\.[\w\-]+\.\w{2,}\S*", 0.5),
        ),
        context=("portal", "login", "link"),
    ),
    Recogniser(
        "IP_ADDRESS",
        (
            Pattern("ipv4", r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b", 0.6),
            Pattern("ipv6", r"\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b", 0.6),
        ),
        context=("ip", "host", "server"),
    ),
    Recogniser(
        "MRN",
        (
            Pattern("labelled", r"\b(?:mrn|mr#|mr\s?no|med\s?rec)\W{0,3}[a-z]{0,3}\d[\d\-]{3,}\b", 0.85),
            Pattern("long_number", r"(?<![\w.,])\d{6,12}(?![\w.,])", 0.45),
            Pattern("prefixed_id", r"\b[a-z]{1,4}[\-#]?\d{5,12}\b", 0.4),
            Pattern("grouped_id", r"\b\d{2,4}-\d{3,4}-\d{2,6}\b", 0.4),
        ),
        context=("mrn", "mr#", "record", "medical", "chart", "patient id", "pt id", "hosp"),
    ),
    Recogniser(
        "ACCOUNT",
        (Pattern("labelled", r"\b(?:acct|account|fin|csn|enc|encounter|visit)\W{0,3}[a-z]{0,3}\d[\d\-]{3,}\b", 0.8),),
        context=("acct", "account", "billing", "fin", "csn", "encounter", "visit"),
    ),
    Recogniser(
        "ACCESSION",
        (
            Pattern("labelled", r"\b(?:acc|accession|specimen|spec)\W{0,3}[a-z]{0,3}\d[\d\-]{3,}\b", 0.8),
            Pattern("lab_style", r"\b[a-z]{1,3}\d{2}-\d{3,8}\b", 0.5),
        ),
        context=("accession", "specimen", "lab", "collected", "sample"),
    ),
    Recogniser(
        "AGE",
        (
            Pattern("years_old", r"\b\d{1,3}\s?(?:y/?o|yrs?\.?(?:\s?old)?|years?\s?old|y\.o\.)(?!\w)", 0.6),
            Pattern("age_sex", r"\b\d{1,3}\s?(?:y|yo)?\s?/?\s?[mf]\b", 0.3),
            Pattern("sex_age", r"\b[mf]\s*/?\s*\d{1,3}\s?(?:y|yo|yrs?)\b", 0.6),
            Pattern("age_unit_sex", r"\b\d{1,3}\s?(?:y|yo|yrs?)\s*/?\s*[mf]\b", 0.6),
            Pattern("short_years", r"\b\d{1,3}\s?y\b", 0.3),
            Pattern("over_89", r"\b(?:9\d|1[01]\d)\s?(?:y/?o|yrs?|years?|y\b)", 0.9),
        ),
        context=("age", "aged", "yo", "dob", "mrn", "sex"),
    ),
    Recogniser(
        "ADDRESS",
        (
            Pattern(
                "street",
                r"\b\d{1,6}\s+(?:[nsew]\.?\s+)?(?:[a-z0-9]+\.?\s+){1,3}"
                r"(?:st|street|ave|avenue|rd|road|blvd|boulevard|dr|drive|ln|lane|way|ct|court|pl|place|"
                r"ter|terrace|hwy|highway|pkwy|parkway|cir|circle|sq|square)\b\.?",
                0.65,
            ),
            Pattern("po_box", r"\bp\.?\s?o\.?\s?box\s+\d+\b", 0.7),
            Pattern("city_state_zip", r"\b[a-z][a-z .]+,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\b", 0.7),
            Pattern("zip", r"\b\d{5}-\d{4}\b", 0.5),
            Pattern("apt", r"\b(?:apt|unit|suite|ste)\.?\s?#?\s?\w{1,5}\b", 0.3),
            Pattern("street_first", rf"(?:\b\d{{1,5}}[a-z]?,?\s+)?\b(?:{_STREET_FIRST})\.?\s+[a-z0-9][\w'\-]*", 0.55),
            Pattern("street_suffix", rf"\b[a-zäöüß\-]{{2,}}(?:{_STREET_SUFFIX})\s*\d{{1,4}}[a-z]?\b", 0.6),
            Pattern("house_no", r"\b(?:no|lot|blok|block|unit)\.?\s*\d{1,5}[a-z]?\s*,", 0.45),
        ),
        context=("address", "addr", "home", "street", "city", "zip", "residence", "lives"),
    ),
    Recogniser(
        "ADDRESS",
        # A US state code and ZIP without the city ("…, CA 46407"): the city was read as a
        # separate line, or misread.  Case-sensitive, so "in 10000 steps" is not a state.
        (
            Pattern("state_zip", rf"\b(?:{_STATES})\s?,?\s*\d{{5}}(?:-\d{{4}})?(?!\d)", 0.5),
            # UK and Canadian postcodes.
            Pattern("uk_postcode", r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", 0.55),
            Pattern("ca_postcode", r"\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b", 0.55),
            # A 4-5 digit postcode and a place in capitals, then a comma or the line's end
            # ("81100 JOHOR BAHRU,", "75002 PARIS").
            Pattern("postcode_place", r"(?<![\d,.])\d{4,5}\s+[A-Z][A-Z'\-]+(?:\s+[A-Z][A-Z'\-]+){0,2}\s*(?:,|$)", 0.5),
        ),
        context=("address", "addr", "home", "street", "city", "zip", "residence", "lives"),
        flags=0,
    ),
    Recogniser(
        "PLATE",
        (Pattern("plate", r"\b(?:[A-Z]{2,3}[\s\-]?\d{3,4}|\d[A-Z]{3}\d{3}|[A-Z]{3}[\s\-]?\d[A-Z]\d)\b", 0.25),),
        context=("plate", "license", "licence", "vehicle", "tag", "parking permit"),
        flags=0,
    ),
    Recogniser(
        "SERIAL",
        (Pattern("labelled", r"\b(?:s/?n|serial(?:\s?no)?|sn#?|device id|udi)\W{0,3}[a-z0-9][a-z0-9\-]{4,}\b", 0.75),),
        context=("serial", "device", "udi", "lot"),
    ),
    Recogniser(
        "NAME",
        (
            Pattern("labelled", r"\b(?:pt|patient|name|pt\.?\s?name|patient\s?name)\s?[:\-]\s*[a-z][a-z'\-]+", 0.75),
            # Who served or rang up a sale, on receipts: "SERVED BY: AMY", "CASHIER ALI".
            Pattern(
                "served_by",
                r"\b(?:served by|cashier|attended by|salesperson|sales person|waiter|waitress)"
                r"\s*(?:name)?\s*[:#\-]?\s*[a-z][a-z .'\-]+",
                0.6,
            ),
        ),
        context=("patient", "pt", "name", "guardian", "mother", "father", "next of kin", "contact"),
    ),
)


#: Printed field labels (lower case, punctuation stripped) -> entity of their value.
FIELD_LABELS: dict[str, str] = {
    "name": "NAME",
    "patient": "NAME",
    "patient name": "NAME",
    "pt": "NAME",
    "pt name": "NAME",
    "last name": "NAME",
    "first name": "NAME",
    "surname": "NAME",
    "given name": "NAME",
    "guardian": "NAME",
    "emergency contact": "NAME",
    "next of kin": "NAME",
    "mother": "NAME",
    "father": "NAME",
    "dob": "DOB",
    "d o b": "DOB",
    "date of birth": "DOB",
    "birth date": "DOB",
    "birthdate": "DOB",
    "born": "DOB",
    "mrn": "MRN",
    "mr": "MRN",
    "mr no": "MRN",
    "medical record": "MRN",
    "medical record number": "MRN",
    "patient id": "MRN",
    "pt id": "MRN",
    "hosp no": "MRN",
    "chart": "MRN",
    "id": "ID",
    "acct": "ACCOUNT",
    "account": "ACCOUNT",
    "acct no": "ACCOUNT",
    "fin": "ACCOUNT",
    "csn": "ACCOUNT",
    "encounter": "ACCOUNT",
    "enc": "ACCOUNT",
    "visit": "ACCOUNT",
    "accession": "ACCESSION",
    "acc": "ACCESSION",
    "specimen": "ACCESSION",
    "specimen id": "ACCESSION",
    "phone": "PHONE",
    "tel": "PHONE",
    "telephone": "PHONE",
    "cell": "PHONE",
    "mobile": "PHONE",
    "fax": "PHONE",
    "email": "EMAIL",
    "e mail": "EMAIL",
    "address": "ADDRESS",
    "addr": "ADDRESS",
    "home address": "ADDRESS",
    "ssn": "SSN",
    "social security": "SSN",
    "age": "AGE",
    "insurance id": "ID",
    "member id": "ID",
    "policy": "ID",
    "policy no": "ID",
    "plate": "PLATE",
    "license plate": "PLATE",
    "serial": "SERIAL",
    "serial no": "SERIAL",
    "sn": "SERIAL",
    "s n": "SERIAL",
    "device id": "SERIAL",
    "admitted": "DATE",
    "admit date": "DATE",
    "adm": "DATE",
    "collected": "DATE",
    "date": "DATE",
}

#: Labels of a person's name that count only with a colon ("TO:", "FROM:", "Cashier:"): bare,
#: they are ordinary words.
COLON_LABELS: dict[str, str] = dict.fromkeys(
    (
        "to", "from", "cc", "bcc", "attn", "attention", "by", "signed", "signature", "author", "prepared by",
        "requested by", "approved by", "reviewed by", "entered by", "ordered by", "provider", "physician",
        "doctor", "attending", "nurse", "pcp", "referring", "ordering", "consultant", "surgeon", "cashier",
        "served by", "operator", "server", "staff", "employee", "contact", "customer", "client", "recipient",
        "sender", "member", "insured", "subscriber", "holder", "owner", "driver", "passenger",
    ),
    "NAME",
)  # fmt: skip

#: Last words of a label whose value is an identifier ("Passport No.", "Member ID", "Ref #").
ID_WORDS = frozenset(
    (
        "id", "no", "nr", "number", "num", "ref", "reference", "passport", "licence", "license", "card",
        "member", "policy", "document", "doc", "record", "reg", "registration", "ic", "nric", "nhs",
        "insurance", "claim", "case", "file", "badge", "permit", "certificate", "cert",
    ),
)  # fmt: skip

#: Words that mark a nearby person's name as a member of staff (not PHI).
STAFF_WORDS: tuple[str, ...] = (
    "dr",
    "md",
    "rn",
    "np",
    "pa-c",
    "do",
    "lpn",
    "cna",
    "nurse",
    "physician",
    "attending",
    "resident",
    "staff",
    "employee",
    "volunteer",
    "pharmacist",
    "technician",
    "therapist",
    "doctor",
    "surgeon",
)

#: Words near a line that make "Firstname Unknownsurname" a patient's name.
PATIENT_CONTEXT: tuple[str, ...] = ("dob", "mrn", "patient", "pt", "acc", "acct", "birth", "allergies", "rx")

#: Words of headings and forms: a capitalised line made only of these is not a name.
HEADING_WORDS: frozenset[str] = frozenset(
    [
        "patient",
        "patients",
        "summary",
        "discharge",
        "admission",
        "report",
        "record",
        "records",
        "result",
        "results",
        "medication",
        "medications",
        "hospital",
        "medical",
        "center",
        "centre",
        "clinic",
        "health",
        "care",
        "department",
        "unit",
        "ward",
        "room",
        "bed",
        "lab",
        "laboratory",
        "specimen",
        "sample",
        "pharmacy",
        "prescription",
        "order",
        "orders",
        "note",
        "notes",
        "history",
        "physical",
        "exam",
        "plan",
        "assessment",
        "diagnosis",
        "problem",
        "list",
        "allergies",
        "allergy",
        "vitals",
        "vital",
        "signs",
        "nursing",
        "nurse",
        "doctor",
        "physician",
        "emergency",
        "radiology",
        "cardiology",
        "oncology",
        "pediatrics",
        "surgery",
        "intensive",
        "general",
        "regional",
        "memorial",
        "university",
        "saint",
        "st",
        "community",
        "children",
        "family",
        "information",
        "details",
        "profile",
        "chart",
        "overview",
        "visit",
        "encounter",
        "label",
        "band",
        "wristband",
        "date",
        "time",
        "name",
        "address",
        "phone",
        "email",
        "contact",
        "insurance",
        "billing",
        "account",
        "identification",
        "id",
        "number",
        "code",
        "status",
        "diet",
        "activity",
        "goals",
        "today",
        "daily",
        "welcome",
        "instructions",
        "follow",
        "up",
        "blood",
        "pressure",
        "heart",
        "rate",
        "temperature",
        "weight",
        "height",
        "pain",
    ]
)

#: A line of two or three capitalised words and nothing else (a name on a band or a label).
#: A line of two or three capitalised words and nothing else (a name on a band or a label).
_NAME_SHAPE = re.compile(r"^\s*[A-Z][A-Za-z'\-]+,?(?:\s+[A-Z][A-Za-z'\-]*\.?){1,2}\s*$")


def fold(text: str) -> str:
    """NFKC-fold what an engine read: PP-OCR (a Chinese alphabet) emits full-width commas, colons, brackets."""
    return unicodedata.normalize("NFKC", text)


def normalise(text: str) -> str:
    """Lower-case, collapse whitespace; keeps characters so spans stay meaningful."""
    return re.sub(r"\s+", " ", text).strip().lower()


def label_key(text: str) -> str:
    """Reduce a printed label ("D.O.B.:", "Pt Name -") to a :data:`FIELD_LABELS` key."""
    return re.sub(r"[^a-z ]+", " ", text.lower()).split("#")[0].strip().replace("  ", " ")


@lru_cache(maxsize=64)
def _words_regex(words: tuple[str, ...]) -> re.Pattern[str]:
    alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![a-z])(?:{alternation})(?![a-z])")


def has_word(text: str, words: Iterable[str]) -> bool:
    """Whether any of ``words`` occurs in ``text`` as a whole word (case-insensitive)."""
    key = words if isinstance(words, tuple) else tuple(words)
    return bool(key) and _words_regex(key).search(text.lower()) is not None


def _pattern_matches(text: str, context: str) -> list[Match]:
    out: list[Match] = []
    for rec in RECOGNISERS:
        boosted = bool(rec.context) and has_word(context, rec.context)
        for pattern in rec.patterns:
            for m in re.finditer(pattern.regex, text, rec.flags):
                score = min(1.0, pattern.score + (CONTEXT_BOOST if boosted else 0.0))
                label = rec.context_label if boosted and rec.context_label else rec.label
                out.append(Match(label, score, m.start(), m.end()))
    return out


def _name_matches(text: str, context: str, lex: Lexicon) -> list[Match]:
    """Person names (see :mod:`.names`); a clinician's name, or one beside staff words, is ``STAFF``."""
    patient = has_word(context, PATIENT_CONTEXT)
    staff_near = has_word(context, STAFF_WORDS) and not patient
    out = [
        Match(STAFF if hit.staff or (staff_near and not hit.comma) else "NAME", hit.score, hit.start, hit.end)
        for hit in names.find_names(text, lex, patient)
    ]
    if _NAME_SHAPE.match(text) and patient and not staff_near:
        tokens = [w.strip(",.").lower() for w in text.split()]
        if not all(w in HEADING_WORDS for w in tokens):
            # Name-shaped line next to patient identifiers: fail closed even off-lexicon.
            out.append(Match("NAME", 0.5, 0, len(text)))
    return out


def _span_matches(
    label: str, spans: Iterable[tuple[int, int, float]], boosted: bool, boosted_label: str | None = None
) -> list[Match]:
    bonus = CONTEXT_BOOST if boosted else 0.0
    name = boosted_label if boosted and boosted_label else label
    return [Match(name, min(1.0, score + bonus), a, b) for a, b, score in spans]


def _date_matches(text: str, context: str) -> list[Match]:
    """Dates (``DOB`` near birth words); a day and month alone, or a clock time, next to a date."""
    birth = has_word(context, _DOB_CONTEXT)
    full = dates.find_dates(text)
    out = _span_matches("DATE", full, birth, "DOB")
    out += _span_matches("DATE", dates.find_partial_dates(text), birth, "DOB")
    if full or dates.find_dates(context):
        # A time beside a date (a chart's "05/19 21:15", a table's time column).
        out += [Match("DATE", 0.55, a, b) for a, b in dates.find_times(text)]
    return out


def _phone_matches(text: str, context: str) -> list[Match]:
    return _span_matches("PHONE", phones.find_phones(text), has_word(context, _PHONE_CONTEXT))


def _mrz_matches(text: str) -> list[Match]:
    return [Match("MRZ", 0.95, 0, len(text))] if mrz.is_mrz_line(text) else []


def warm() -> None:
    """Load the vocabularies every image needs now (name lexicon, month names, phone metadata).

    Called when the detector is built, so a missing or damaged data file fails early
    (exit 4).  The drug dictionary (:mod:`.clinical`) loads with the first image that shows
    a patient identifier.
    """
    lexicon()
    phones.warm()
    classify("Tel 03-9010-9849 1 Jan 2020 K. A. Sparrow")


def classify(text: str, context: str = "", lex: Lexicon | None = None) -> list[Match]:
    """Return every PHI match in one line of ``text`` at or above :data:`THRESHOLD`.

    ``context`` is the text of neighbouring lines, used only for context words.  Names
    written as a clinician's come back labelled :data:`STAFF` (resolved per image).
    """
    text, context = fold(text), fold(context)
    if not text.strip():
        return []
    scope = f"{text} {context}"
    found = _pattern_matches(text, scope)
    found += _date_matches(text, scope)
    found += _phone_matches(text, scope)
    found += _mrz_matches(text)
    found += _name_matches(text, scope, lex or lexicon())
    return sorted((m for m in found if m.score >= THRESHOLD), key=lambda m: -m.score)


def best_label(matches: Sequence[Match]) -> str | None:
    """The entity label of the highest-scoring match, if any."""
    return matches[0].label if matches else None


def field_label(text: str) -> tuple[str, str] | None:
    """If ``text`` is, or ends with, a printed field label, return ``(entity, rest)``.

    ``rest`` is whatever follows the label in the same line ("" when the value must be
    in a neighbouring region).  Tried longest label first, at the start of the line.
    Besides :data:`FIELD_LABELS`: the :data:`COLON_LABELS` with a colon ("TO:", "Served
    by:"), and any label ending with an ID-like word ("Passport No.", "Member #", "Ref")
    whose value holds digits.
    """
    low = fold(text).lower().strip()
    m = re.match(r"^\s*([a-z][a-z .]{0,24}?)\s*(?:#|no\.?|number)?\s*([:#\-;.])\s*(.*)$", low)
    if m:
        key, rest = label_key(m.group(1)), m.group(3).strip()
        entity = _label_entity(key) or (_colon_label(key) if m.group(2) == ":" else None)
        entity = entity or _id_label(key, m.group(0), rest)
        if entity is not None:
            return entity, rest
    # No separator ("DOB 14 Jun 1998", handwriting; "DoB14Jun1998", a read that lost the
    # spaces): a label directly followed by a value holding at least four digits.
    m = re.match(r"^\s*([a-z][a-z .]{0,24}?)\s*(\d.*)$", low)
    if m and sum(ch.isdigit() for ch in m.group(2)) >= 4:
        entity = _label_entity(label_key(m.group(1))) or _id_label(label_key(m.group(1)), low, m.group(2))
        if entity is not None:
            return entity, m.group(2).strip()
    entity = _label_entity(label_key(low))
    return (entity, "") if entity is not None else None


def _colon_label(key: str) -> str | None:
    """Entity of a colon label, also as the end of a longer one ("Your Nurse:", "Primary Doctor:")."""
    words = key.split()
    for tail in (key, " ".join(words[-2:]), " ".join(words[-1:])):
        entity = COLON_LABELS.get(tail) or FIELD_LABELS.get(tail)
        if entity is not None and (tail == key or len(tail) >= 4):
            return entity
    return None


def _id_label(key: str, whole: str, rest: str) -> str | None:
    """``ID`` for a label ending with an ID-like word, with a value of >= 3 digits (or none yet)."""
    words = key.split()
    if not words or words[-1] not in ID_WORDS or len(words) > 4:
        return None
    if rest:
        return "ID" if sum(ch.isdigit() for ch in rest) >= 3 else None
    # A bare label ("Passport No.:") names the value in the next region.
    return "ID" if re.search(r"[:#]\s*$", whole) else None


#: Field labels with their spaces removed ("dateofbirth"), for reads that lost the spaces.
_SQUEEZED_LABELS: dict[str, str] = {k.replace(" ", ""): v for k, v in FIELD_LABELS.items()}
#: A read may lose at most this many characters off a long label's end ("PatientNam").
_CUT_OFF = 2
#: ...when what is left has at least this many letters.
_CUT_MIN = 8


def _label_entity(key: str) -> str | None:
    """Entity of a label key as printed, read without its spaces, or with its end cut off.

    PP-OCR drops the spaces of small print ("DateofBirth:"), and a region found a little
    short loses the label's end ("Patient Name:" read "PatientNam").  A squeezed read of
    at least :data:`_CUT_MIN` letters that a squeezed label starts with, missing at most
    :data:`_CUT_OFF` letters, counts as that label.
    """
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    squeezed = key.replace(" ", "")
    if squeezed in _SQUEEZED_LABELS:
        return _SQUEEZED_LABELS[squeezed]
    if len(squeezed) < _CUT_MIN:
        return None
    for label, entity in _SQUEEZED_LABELS.items():
        if label.startswith(squeezed) and len(label) - len(squeezed) <= _CUT_OFF:
            return entity
    return None


def phrase_in(text: str, phrases: Iterable[str]) -> bool:
    """Whether any phrase occurs in ``text``, ignoring case, spacing and punctuation."""
    squeezed = re.sub(r"[^a-z0-9]+", "", text.lower())
    return any(p and re.sub(r"[^a-z0-9]+", "", p.lower()) in squeezed for p in phrases)


def strip_phrases(text: str, phrases: Iterable[str]) -> str:
    """Remove allow-listed phrases (case-insensitive, flexible spacing) from ``text``."""
    for p in phrases:
        words = [re.escape(w) for w in p.split() if w]
        if words:
            text = re.sub(r"\W*".join(words), " ", text, flags=re.IGNORECASE)
    return text
