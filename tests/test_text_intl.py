"""#16 recognisers beyond US formats, staff names, harmless layouts and record reasons (text only, fast)."""

from __future__ import annotations

from collections import Counter

import pytest

from redact.config import Settings
from redact.detect.text import clinical, dates, layout, mrz, names, phi, phones
from redact.detect.text.layout import Line
from redact.detect.text.ocr import Reading
from redact.detect.text.regions import Region
from redact.records import CODE_CONTEXT, CODE_ID_DOCUMENT, Evidence, judge
from redact.types import Box, Finding, Kind


def labels(text: str, context: str = "") -> set[str]:
    return {m.label for m in phi.classify(text, context)}


def region(x: float, y: float, w: float, h: float = 20) -> Region:
    return Region(((x, y), (x + w, y), (x + w, y + h), (x, y + h)), 0.9)


def line(text: str, x: float, y: float, w: float, h: float = 20, conf: float = 0.95) -> Line:
    return Line(region(x, y, w, h), [Reading(text, conf)])


@pytest.mark.parametrize(
    "text",
    ["07-03-21", "2- Jan- 04", "9 août 2019", "4. März 2020", "3 de junio de 1975", "Sept 9, 2011", "2019.04.07"],
)
def test_dates_in_any_order_separator_and_language(text):
    assert dates.find_dates(text)
    assert "DATE" in labels(text)


@pytest.mark.parametrize("text", ["Version 2.14.3", "Total 45.10", "13-13-13", "Suite 4-21"])
def test_numbers_that_are_no_dates(text):
    assert "DATE" not in labels(text)


def test_a_time_is_a_date_only_next_to_one():
    assert "DATE" in labels("08:45", context="04/11/2022")
    assert "DATE" in labels("11/04/2022 08:45")
    assert labels("Open 08:45 - 17:00") == set()


@pytest.mark.parametrize(
    "text", ["02-8123-4567", "019-4452781", "H/P:016-2239411", "+49 30 901820", "(212) 555-0172", "Tel 020 7946 0321"]
)
def test_phone_numbers_of_any_country(text):
    assert phones.find_phones(text)
    assert "PHONE" in labels(text)


@pytest.mark.parametrize("text", ["Total 1,234.56", "03/05/2021", "Qty 12", "Order 55"])
def test_amounts_and_dates_are_no_phones(text):
    assert phones.find_phones(text) == []


@pytest.mark.parametrize(
    "text", ["R. T. Mallory", "MS. R. T. MALLORY", "B.W. Okonkwo", "Herr Vogt", "HARDY, Ellen", "Mr Lim Wei"]
)
def test_names_with_initials_and_titles(text):
    assert "NAME" in labels(text)


@pytest.mark.parametrize("text", ["HARDY, Ellen MD", "Paul Ortiz, NP", "Dr. R. Mallory", "Ellen Hardy RN"])
def test_clinicians_names_carry_the_staff_label(text):
    assert labels(text) == {"STAFF"}
    assert any(h.staff for h in names.find_names(text, names.lexicon()))


@pytest.mark.parametrize("text", ["SERVED BY: PRIYA", "Cashier KUMAR", "Waiter: Tom"])
def test_who_served_a_receipt_is_a_name(text):
    assert "NAME" in labels(text)


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("FROM: R. T. Mallory", "NAME"),
        ("Passport No.: X0048213", "ID"),
        ("Member # 88120331", "ID"),
        ("Patient.Ellen Hardy", "NAME"),
    ],
)
def test_colon_and_id_like_labels(text, entity):
    found = phi.field_label(text)
    assert found is not None
    assert found[0] == entity


def test_bare_words_are_not_colon_labels():
    assert phi.field_label("From") is None
    assert phi.field_label("To the lifts") is None


@pytest.mark.parametrize(
    "text", ["No. 7, Jalan Ampang", "Lindenstraße 14", "12 Rue des Lilas", "LONDON SW1A 1AA", "40150 SHAH ALAM,"]
)
def test_addresses_that_are_not_us_shaped(text):
    assert "ADDRESS" in labels(text)


def test_icao_check_digits_and_mrz_lines():
    # The ICAO 9303 specimen passport's MRZ (document L898902C3, born 1974-08-12).
    top = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
    bottom = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
    assert mrz.check_digit("L898902C3") == 6
    assert mrz.td3_checks(bottom) == 3
    assert mrz.is_mrz_line(top)
    assert mrz.is_mrz_line(bottom.replace("<", "«"))
    assert labels(top) == {"MRZ"}
    assert not mrz.is_mrz_line("PLEASE WAIT HERE")


def test_clinical_vocabulary():
    assert clinical.terms("Amoxicillin 500 mg PO TID") >= 2
    assert clinical.terms("BP 118/76 HR 72 bpm") >= 1
    assert clinical.terms("Soup of the day") == 0


def _labels(lines: list[Line]) -> list[str | None]:
    return [x.label for x in lines]


def test_a_staff_badge_keeps_its_text():
    lines = [
        line("Lakeside General Hospital", 10, 10, 300),
        line("Dana Whitfield", 20, 120, 200, h=40),
        line("Respiratory Therapist, RRT", 20, 170, 260),
        line("Pulmonology", 20, 200, 120),
    ]
    layout.decide(lines)
    assert _labels(lines) == [None, None, None, None]
    assert judge(Evidence.gather([], layout.evidence(lines)), Settings()) == []


def test_a_poster_keeps_its_text():
    lines = [
        line("Flu Shot Clinic", 10, 10, 300, h=40),
        line("Walk in, no appointment", 10, 70, 280),
        line("Tuesday 9am - 4pm", 10, 100, 200),
        line("Ask your pharmacist", 10, 130, 220),
    ]
    layout.decide(lines)
    assert _labels(lines) == [None, None, None, None]


def test_clinicians_on_patient_material_are_covered():
    lines = [
        line("HARDY, Ellen", 10, 10, 150),
        line("DOB: 04/11/1962", 10, 40, 150),
        line("Attending: Dr. Paul Ortiz", 10, 70, 250),
    ]
    layout.decide(lines)
    assert _labels(lines)[0] == "NAME"
    assert _labels(lines)[2] == "NAME"


def test_a_wrapped_address_is_one_address():
    lines = [
        line("No. 7, Jalan Ampang,", 10, 10, 200),
        line("Taman Sri Putri,", 10, 35, 160),
        line("Selangor.", 10, 60, 90),
    ]
    layout.decide(lines)
    assert _labels(lines) == ["ADDRESS", "ADDRESS", "ADDRESS"]


def test_record_reason_patient_identifier_with_clinical_vocabulary():
    lines = [
        line("HARDY, Ellen", 10, 10, 150),
        line("Allergies: penicillin", 10, 40, 200),
        line("Metoprolol 25 mg PO BID", 10, 70, 250),
    ]
    layout.decide(lines)
    found = [Finding(Kind.TEXT, Box(0, 0, 1, 1), 0.9, "text", x.label) for x in lines if x.label]
    flags = judge(Evidence.gather(found, layout.evidence(lines)), Settings())
    assert CODE_CONTEXT in {f.code for f in flags}


def test_record_reason_id_document():
    ev = Evidence.gather([], Counter({"mrz": 2}))
    assert CODE_ID_DOCUMENT in {f.code for f in judge(ev, Settings())}


def test_evidence_is_counts_not_text():
    lines = [line("HARDY, Ellen", 10, 10, 150), line("MRN: 00412733", 10, 40, 150)]
    layout.decide(lines)
    ev = layout.evidence(lines)
    assert all(":" not in k or k.split(":")[0] in ("entity", "label") for k in ev)
    assert not any("HARDY" in k or "00412733" in k for k in ev)


def test_unreadable_text_on_a_record_surface_is_covered():
    lines = [
        line("HARDY, Ellen", 10, 10, 150),
        line("MRN: 00412733", 10, 40, 150),
        line("Ward 4B", 10, 70, 150),
        Line(region(60, 100, 80), [Reading("~", 0.1)]),  # smudged, inside the page
        Line(region(900, 900, 80), [Reading("~", 0.1)]),  # far off the page
    ]
    layout.decide(lines)
    layout.cover_surface(lines)
    assert lines[3].label == "UNCERTAIN"
    assert lines[4].label is None
