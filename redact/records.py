"""Is this picture a patient record?  A per-image judgement with stable, PHI-free reasons.

Evidence that generalises, not one template: how many PHI fields were found and of which
kinds, which printed PHI *labels* appear ("MRN", "DOB", "Patient"...), clinical vocabulary
(medication names, doses, vitals) next to a patient identifier, an ID document's
machine-readable zone, and codes carrying a patient ID next to PHI text.  One name on a
staff badge, a phone number on a poster or a date on a menu is not a record; a name *with*
a date of birth, three PHI fields, or a name beside a medication and its dose is.

A flagged image makes ``scan``/``check`` exit 1, and ``clean`` covers *all* text in it.
Thresholds live in :class:`redact.config.Settings` (``record_*``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from redact.config import Settings
from redact.types import Finding, Flag, Kind

#: Entities that identify a patient on their own or with one more field.
STRONG_ENTITIES = frozenset({"NAME", "MRN", "DOB", "SSN", "ID", "ACCOUNT", "ACCESSION", "AGE_OVER_89", "MRZ"})
#: Text labels that are not PHI entities (harmless text, or "could not read it").
NOT_PHI = frozenset({"TEXT", "UNCERTAIN"})

#: Stable flag codes (reports and SARIF use them; never rename).
CODE_FIELDS = "record.phi_fields"
CODE_LABELS = "record.field_labels"
CODE_BARCODE = "record.id_barcode"
CODE_CONTEXT = "record.patient_context"
CODE_ID_DOCUMENT = "record.id_document"

#: Evidence counted by name (not per entity).
_COUNTS = frozenset({"clinical", "mrz", "patient_words"})

#: Points of evidence (see :func:`points`) that, with a patient identifier, make a record.
MIN_POINTS = 4


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one image showed, reduced to counts (no text)."""

    #: PHI text findings per entity label.
    phi_fields: Counter[str] = field(default_factory=Counter)
    #: Printed field labels seen ("DOB:", "MRN #"...), per the entity of their value.
    field_labels: Counter[str] = field(default_factory=Counter)
    #: Codes whose payload looked like a patient ID.
    id_codes: int = 0
    #: Lines with clinical vocabulary (medication names, doses, vitals, lab units).
    clinical: int = 0
    #: Lines of an ID document's machine-readable zone.
    mrz: int = 0
    #: Whether a patient word ("Patient", "DOB", "MRN", "Allergies"...) is printed.
    patient_words: bool = False

    @classmethod
    def gather(cls, findings: Iterable[Finding], text: Mapping[str, int] | Iterable[str] = ()) -> Evidence:
        """Evidence from an image's findings and what its text showed.

        ``text`` is :func:`redact.detect.text.layout.evidence`'s counts (``label:<ENTITY>``,
        ``entity:<ENTITY>``, ``clinical``, ``mrz``, ``patient_words``), as a mapping or as
        repeated tokens; a bare entity name counts as a printed field label.
        """
        fields: Counter[str] = Counter()
        id_codes = 0
        for f in findings:
            if f.kind is Kind.TEXT and f.label not in NOT_PHI:
                fields[f.label] += 1
            elif f.kind is Kind.BARCODE and f.label == "BARCODE_ID":
                id_codes += 1
        if not isinstance(text, Mapping):
            # Tokens ("label:MRN", "clinical"...); a bare entity name is a field label's.
            text = Counter(t if ":" in t or t in _COUNTS else f"label:{t}" for t in text)
        labels = Counter({k.split(":", 1)[1]: v for k, v in text.items() if k.startswith("label:")})
        for key, n in text.items():
            # Entities a line matched besides its best one ("DOB 1996-11-22 27 yrs").
            if key.startswith("entity:") and key[7:] not in NOT_PHI:
                fields[key[7:]] = max(fields[key[7:]], n)
        clinical, mrz, words = text.get("clinical", 0), text.get("mrz", 0), bool(text.get("patient_words", 0))
        return cls(fields, labels, id_codes, clinical, mrz, words)


def points(evidence: Evidence) -> int:
    """Weighed evidence for :data:`CODE_CONTEXT`.

    2 per kind of patient identifier, 1 per other PHI kind, 1 for patient words, 1 per
    clinical line (up to 3), 1 per identifier field label (up to 3).
    """
    kinds = set(evidence.phi_fields)
    strong = kinds & STRONG_ENTITIES
    score = 2 * len(strong) + len(kinds - strong) + int(evidence.patient_words)
    score += min(evidence.clinical, 3) + min(len(set(evidence.field_labels) & STRONG_ENTITIES), 3)
    return score


def judge(evidence: Evidence, settings: Settings) -> list[Flag]:
    """The reasons this image looks like a patient record (empty: it does not)."""
    flags: list[Flag] = []
    kinds = set(evidence.phi_fields)
    total = sum(evidence.phi_fields.values())
    strong = kinds & STRONG_ENTITIES
    if total >= settings.record_min_phi_fields and len(kinds) >= 2 and strong:
        flags.append(Flag(CODE_FIELDS, f"{total} PHI fields ({_names(kinds)})"))
    elif len(strong) >= 2:
        flags.append(Flag(CODE_FIELDS, f"patient identifiers together ({_names(strong)})"))
    labels = set(evidence.field_labels) & STRONG_ENTITIES
    if len(labels) >= settings.record_min_field_labels and total >= 1:
        flags.append(Flag(CODE_LABELS, f"patient-record field labels ({_names(labels)})"))
    if evidence.id_codes and (total or labels):
        flags.append(Flag(CODE_BARCODE, "code carrying a patient ID next to PHI text"))
    if not flags and strong and points(evidence) >= MIN_POINTS:
        flags.append(Flag(CODE_CONTEXT, "a patient identifier with clinical vocabulary or patient-record words"))
    if evidence.mrz:
        flags.append(Flag(CODE_ID_DOCUMENT, "an ID document's machine-readable zone"))
    return flags


def _names(kinds: Sequence[str] | set[str]) -> str:
    return ", ".join(sorted(kinds))
