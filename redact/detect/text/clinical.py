"""Clinical vocabulary: whether a line reads like a chart, a label or an order.

Evidence for the patient-record flag, never PHI by itself:

* **medication names** -- the drug dictionary of the ``drug-named-entity-recognition``
  wheel (names from DrugBank, MeSH, MedlinePlus and the NHS; MIT), verified through
  :mod:`redact.models` before it is unpickled;
* **doses, routes and frequencies** in standard notation (UCUM units such as ``mg``,
  ``mL/hr``, ``mmol/L``; Latin sig abbreviations such as ``PO``, ``IV``, ``BID``, ``PRN``);
* **vital signs** (a blood pressure ``120/80``, ``SpO2``, ``bpm``, a temperature in degrees).
"""

from __future__ import annotations

import bz2
import pickle
import re
from functools import lru_cache

from redact import models

#: Shortest dictionary entry used (the short ones are mostly acronyms that OCR noise hits).
MIN_DRUG_LETTERS = 6

_DOSE = re.compile(
    r"(?<![\w.])\d+(?:[.,]\d+)?\s?(?:mg|mcg|µg|ug|ng|g|kg|ml|l|iu|units?|meq|mmol|mol|%)"
    r"(?:/(?:kg|hr?|min|day|d|dose|ml|l|dl|m2))?(?![a-z])",
    re.IGNORECASE,
)
_SIG = re.compile(r"\b(?:PO|IV|IM|SC|SQ|SL|PR|NG|IVPB|PRN|BID|TID|QID|QHS|QAM|QPM|QD|STAT|q\d{1,2}h|NPO)\b")
_VITALS = re.compile(
    r"\b(?:SpO2|SaO2|O2\s?sat|mmHg|bpm|BP|HR|RR|GCS|BMI|FiO2|EtCO2|MAP|CVP)\b|\b\d{2,3}/\d{2,3}\s?(?:mmHg)?\b|°\s?[CF]\b"
    r"|\b\d{2,3}(?:\.\d)?\s?(?:°|deg)",
)
_LAB_UNITS = re.compile(
    r"\b(?:mg/dL|g/dL|mmol/L|µmol/L|umol/L|U/L|IU/L|mEq/L|x10\^?\d|10\^\d+/L|fL|pg)\b", re.IGNORECASE
)
_WORD = re.compile(rf"[A-Za-z][A-Za-z\-]{{{MIN_DRUG_LETTERS - 1},}}")


@lru_cache(maxsize=1)
def drug_names() -> frozenset[str]:
    """Lower-case single-word medication names (generic and brand) of the drug dictionary."""
    path = models.model_path("drug_names")  # SHA-256 verified: only then is it unpickled
    with bz2.open(path, "rb") as fh:
        data = pickle.load(fh)  # a pinned, hash-checked data file
    variants = data["drug_variant_to_canonical"]
    return frozenset(k for k in variants if " " not in k and k.isalpha() and len(k) >= MIN_DRUG_LETTERS)


def terms(text: str) -> int:
    """How many kinds of clinical evidence ``text`` holds (0-4): drug, dose/sig, vitals, lab units."""
    drugs = drug_names()
    kinds = 0
    kinds += any(w.lower() in drugs for w in _WORD.findall(text))
    kinds += bool(_DOSE.search(text) or _SIG.search(text))
    kinds += bool(_VITALS.search(text))
    kinds += bool(_LAB_UNITS.search(text))
    return kinds
