"""Is this picture a patient record?  A per-image judgement with stable, PHI-free reasons.

Evidence that generalises, not one template: how many PHI fields were found and of which
kinds, which printed PHI *labels* appear ("MRN", "DOB", "Patient"...), and codes carrying a
patient ID next to PHI text.  One name on a staff badge, a phone number on a poster or a
date on a menu is not a record; a name *with* a date of birth, or three PHI fields, is.

A flagged image makes ``scan``/``check`` exit 1, and ``clean`` covers *all* text in it.
Thresholds live in :class:`redact.config.Settings` (``record_*``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from redact.config import Settings
from redact.types import Finding, Flag, Kind

#: Entities that identify a patient on their own or with one more field.
STRONG_ENTITIES = frozenset({"NAME", "MRN", "DOB", "SSN", "ID", "ACCOUNT", "ACCESSION", "AGE_OVER_89"})
#: Text labels that are not PHI entities (harmless text, or "could not read it").
NOT_PHI = frozenset({"TEXT", "UNCERTAIN"})

#: Stable flag codes (reports and SARIF use them; never rename).
CODE_FIELDS = "record.phi_fields"
CODE_LABELS = "record.field_labels"
CODE_BARCODE = "record.id_barcode"


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one image showed, reduced to counts (no text)."""

    #: PHI text findings per entity label.
    phi_fields: Counter[str] = field(default_factory=Counter)
    #: Printed field labels seen ("DOB:", "MRN #"...), per the entity of their value.
    field_labels: Counter[str] = field(default_factory=Counter)
    #: Codes whose payload looked like a patient ID.
    id_codes: int = 0

    @classmethod
    def gather(cls, findings: Iterable[Finding], field_label_entities: Iterable[str] = ()) -> Evidence:
        """Evidence from an image's findings and the entities of its printed field labels."""
        fields: Counter[str] = Counter()
        id_codes = 0
        for f in findings:
            if f.kind is Kind.TEXT and f.label not in NOT_PHI:
                fields[f.label] += 1
            elif f.kind is Kind.BARCODE and f.label == "BARCODE_ID":
                id_codes += 1
        return cls(fields, Counter(field_label_entities), id_codes)


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
    return flags


def _names(kinds: Sequence[str] | set[str]) -> str:
    return ", ".join(sorted(kinds))
