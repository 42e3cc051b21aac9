"""PHI recognisers and the layout rules, on text alone (no OCR, fast)."""

import numpy as np
import pytest

from redact.detect.text import layout, phi
from redact.detect.text.layout import Line
from redact.detect.text.ocr import Reading
from redact.detect.text.regions import Region


def labels(text: str, context: str = "") -> set[str]:
    return {m.label for m in phi.classify(text, context)}


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("03/14/1948", "DATE"),
        ("1948-03-14", "DATE"),
        ("14.03.1948", "DATE"),
        ("Mar 14, 1948", "DATE"),
        ("14 March 1948", "DATE"),
        ("3/4/51", "DATE"),
        ("(617) 555-0142", "PHONE"),
        ("617-555-0142", "PHONE"),
        ("617.555.0142", "PHONE"),
        ("+44 20 7946 0958", "PHONE"),
        ("jane.roe@example.org", "EMAIL"),
        ("123-45-6789", "SSN"),
        ("MRN: 00482133", "MRN"),
        ("Acct# 55012345", "ACCOUNT"),
        ("Acc# S22-847572", "ACCESSION"),
        ("S/N: AX9-2231-77", "SERIAL"),
        ("192.168.10.44", "IP_ADDRESS"),
        ("https://portal.example.org/chart/991", "URL"),
        ("1200 Oak Street", "ADDRESS"),
        ("Springfield, MA 01103", "ADDRESS"),
        ("P.O. Box 4410", "ADDRESS"),
        ("45 y/o", "AGE"),
        ("F 92y", "AGE"),
        ("93 years old", "AGE"),
        ("SMITH, JOHN", "NAME"),
        ("Garcia, Luis", "NAME"),
        ("Mary Johnson", "NAME"),
        ("Patient: Okafor", "NAME"),
        ("Mrs. Kowalski", "NAME"),
        ("Jonathan B.", "NAME"),
    ],
)
def test_pattern_finds(text, label):
    assert label in labels(text)


def test_date_near_birth_label_is_dob():
    assert "DOB" in labels("03/14/1948", context="DOB")
    assert "DOB" in labels("DOB 03/14/1948")


def test_unknown_surname_needs_patient_context():
    assert labels("Teresa Bernettiz") == set()
    assert "NAME" in labels("Teresa Bernettiz", context="DOB 1987-06-01")


@pytest.mark.parametrize(
    "text",
    [
        "EXIT",
        "Radiology",
        "Visiting Hours 8am - 8pm",
        "Please use hand sanitizer",
        "Tomato soup  $3.50",
        "Open Mon-Fri 7:00 - 19:00",
        "Blood pressure 128/76",
        "Pain goal 3/10",
        "Lisinopril 10 mg tablet",
        "Temperature 98.6 F",
        "Level 2 West Wing",
        "Mercy General Hospital",
    ],
)
def test_harmless_text_is_not_phi(text):
    assert labels(text) == set()


def test_clinicians_names_are_staff_until_the_image_shows_a_patient():
    # Resolved per image by the layout stage (see test_text_records_layout.py).
    assert labels("Dr. Sarah Chen") == {"STAFF"}
    assert labels("Sarah Chen", context="RN") == {"STAFF"}
    assert "NAME" in labels("Sarah Chen")


def test_age_over_89_scores_high():
    best = phi.classify("92 yo")[0]
    assert best.label == "AGE"
    assert best.score >= 0.9


@pytest.mark.parametrize("text", ["患者 张伟", "مريض", "Пациент Иванов", "🙂🙂", "\x00\x01", "ÆØÅ ñ ü"])
def test_non_latin_text_does_not_crash(text):
    phi.classify(text, context=text)
    phi.field_label(text)


def test_matches_carry_spans_not_text():
    for match in phi.classify("Name: Jane Roe, DOB 01/02/1950"):
        assert set(vars(match) if hasattr(match, "__dict__") else match.__slots__) == {"label", "score", "start", "end"}


def test_field_labels():
    assert phi.field_label("DOB:") == ("DOB", "")
    assert phi.field_label("D.O.B.") == ("DOB", "")
    assert phi.field_label("MRN #") == ("MRN", "")
    assert phi.field_label("Patient Name: x") == ("NAME", "x")
    assert phi.field_label("Radiology") is None


# ----------------------------------------------------------------------------- layout


def region(x: float, y: float, w: float, h: float = 20) -> Region:
    return Region(((x, y), (x + w, y), (x + w, y + h), (x, y + h)), 0.9)


def line(text: str, x: float, y: float, w: float, conf: float = 0.95) -> Line:
    return Line(region(x, y, w), [Reading(text, conf)])


def test_value_right_of_label_is_phi_even_if_harmless_alone():
    lines = [
        line("Name", 10, 10, 50),
        line("Blue", 260, 10, 50),
        line("Diet", 10, 60, 40),
        line("regular", 260, 60, 80),
    ]
    layout.decide(lines)
    assert [x.label for x in lines] == [None, "NAME", None, None]


def test_value_below_label_is_phi():
    lines = [line("Date of Birth:", 10, 10, 140), line("Spring 1950", 10, 40, 110)]
    layout.decide(lines)
    assert lines[1].label == "DOB"


def test_uncertain_text_near_a_label_is_covered_far_text_is_not():
    lines = [line("MRN", 10, 10, 40), line("#~", 70, 10, 30, conf=0.2), line("x7", 700, 600, 30, conf=0.2)]
    layout.decide(lines)
    assert lines[1].label is not None
    assert lines[2].label is None


def test_allow_and_deny_lists():
    lines = [line("Mary Johnson", 10, 10, 120), line("Pharmacy", 10, 200, 100)]
    layout.decide(lines, allow=["mary johnson"], deny=["PHARMACY"])
    assert lines[0].label is None
    assert lines[1].label == "DENY_LIST"


def test_census_lexicon_is_loaded_and_verified():
    lex = phi.lexicon()
    assert "MARY" in lex.first
    assert "JOHNSON" in lex.last


def test_full_width_punctuation_from_ppocr_is_folded():
    assert "NAME" in labels("Roncalli\uff0cBrigitte", context="DOB")
    assert phi.field_label("MRN\uff1a") == ("MRN", "")


def test_a_name_split_in_two_regions_is_judged_joined():
    lines = [line("PRUITT,", 10, 10, 80), line("GIOVANNA", 100, 10, 100), line("Radiology", 10, 200, 100)]
    layout.decide(lines)
    assert [x.label for x in lines] == ["NAME", "NAME", None]


def test_ocr_misread_email_and_bare_age_next_to_patient_ids():
    assert "EMAIL" in labels("laura.johnsonSexample.ory")
    assert "AGE" in labels("55y", context="DOB: 4/5/36")
    assert labels("55y") == set()


def test_label_and_value_without_a_separator():
    # Handwriting has no colon; a read can lose the spaces.
    assert phi.field_label("DOB 14 Jun 1998") == ("DOB", "14 jun 1998")
    assert phi.field_label("DoB14Jun1998") == ("DOB", "14jun1998")
    assert phi.field_label("MRN 00482133") == ("MRN", "00482133")
    # Needs a label word and a value with >= 4 digits.
    assert phi.field_label("Room 1350") is None
    assert phi.field_label("Age 45") == ("AGE", "")
    lines = [line("DOB 21Ju1939", 10, 10, 120), line("Diet regular", 10, 200, 100)]
    layout.decide(lines)
    assert [x.label for x in lines] == ["DOB", None]


def test_state_and_zip_without_the_city():
    assert "ADDRESS" in labels("1, CA 46407")
    assert "ADDRESS" in labels(",CA46407")
    assert labels("in 10000 steps") == set()
    assert labels("Open 7 days, OK 24/7") == set()


def test_overlapping_halves_of_a_split_line_are_judged_joined():
    # The detector grows each box, so halves of one line can overlap by most of a line height.
    lines = [line("PRUITT,", 10, 10, 80), line("GIOVANNA", 75, 10, 100)]
    layout.decide(lines)
    assert [x.label for x in lines] == ["NAME", "NAME"]
    # A box that is mostly under the first one is not "right of" it.
    assert layout.Geo([region(10, 10, 200), region(150, 10, 80)]).right_of(0, 1) is None


def test_lengthen_takes_the_longer_find_of_the_same_line_only():
    short = region(100, 10, 60)
    longer = layout.lengthen(short, region(95, 11, 100))
    assert longer is not None
    xs = [x for x, _ in longer.corners]
    ys = [y for _, y in longer.corners]
    assert min(xs) == pytest.approx(95) and max(xs) == pytest.approx(195)
    assert min(ys) == pytest.approx(10) and max(ys) == pytest.approx(30)
    assert layout.lengthen(short, region(100, 40, 100)) is None  # the next line down
    assert layout.lengthen(short, region(100, 10, 55)) is None  # nothing beyond
    assert layout.lengthen(short, region(300, 10, 60)) is None  # a different word on the row
    capped = layout.lengthen(short, region(100, 10, 1000))
    assert capped is not None
    assert max(x for x, _ in capped.corners) == pytest.approx(160 + 3 * 20)


def test_labels_read_without_spaces_or_cut_short():
    assert phi.field_label("DateofBirth:") == ("DOB", "")
    assert phi.field_label("DateofBirth: 05/08/1944") == ("DOB", "05/08/1944")
    assert phi.field_label("PatientNam") == ("NAME", "")  # "Patient Name:" with its end lost
    # Too short to guess, or missing too much of the label.
    assert phi.field_label("Patien") is None
    assert phi.field_label("Emergency") is None
    assert phi.field_label("Patients") is None


def turned(x: float, y: float, w: float, degrees: int, h: float = 20) -> Region:
    """A region laid out in a record's own frame, then the record turned by ``degrees`` about (500, 500).

    Corners stay in reading order (as :meth:`TextDetector.read` leaves them).
    """
    t = np.radians(degrees)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    pts = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    return Region(tuple(tuple(float(v) for v in rot @ np.array(p) + 500) for p in pts), 0.9)  # type: ignore[arg-type]


@pytest.mark.parametrize("degrees", [0, 7, 90, 97, 180, 270, 263])
def test_label_value_pairs_in_the_records_own_reading_direction(degrees):
    def at(text, x, y, w, conf=0.95):
        return Line(turned(x, y, w, degrees), [Reading(text, conf)])

    lines = [
        at("Discharge Summary for today", 0, 0, 300),
        at("Name:", 0, 40, 60),
        at("Juba", 110, 40, 40),  # harmless alone, found short
        at("Diet regular as tolerated", 0, 80, 260),
        at("Pain goal three", 0, 120, 200),
        at("Date of Birth:", 0, 160, 140),
        at("Spring 1950", 0, 190, 110),  # below its label
        at("Room", 0, 240, 50),
        at("east wing three", 70, 240, 180),
    ]
    layout.decide(lines)
    assert [x.label for x in lines] == [None, None, "NAME", None, None, None, "DOB", None, None]


@pytest.mark.parametrize("degrees", [0, 90, 180, 270, 185])
def test_short_labels_take_the_reading_direction_of_their_neighbours(degrees):
    lines = [
        Line(turned(0, 0, 300, degrees), [Reading("Discharge Summary for today", 0.95)]),
        Line(turned(0, 30, 40, degrees), [Reading("MRN", 0.95)]),
        Line(turned(0, 60, 60, degrees), [Reading("blue", 0.95)]),  # below the label
        Line(turned(0, 90, 300, degrees), [Reading("Diet regular as tolerated", 0.95)]),
    ]
    # The short label's own box is drawn the wrong way round (as a detector may leave it).
    c = lines[1].region.corners
    lines[1].region = Region((c[2], c[3], c[0], c[1]), 0.9)
    layout.decide(lines)
    assert [x.label for x in lines] == [None, None, "MRN", None]


def test_a_bare_label_pairs_even_when_another_reading_of_it_looked_like_phi():
    # Steep lines are read both ways up; the wrong way up can look like a name.
    label = Line(region(10, 10, 120), [Reading("WEN Wweneg", 0.15), Reading("PatientNam", 0.96)])
    lines = [label, Line(region(150, 10, 40), [Reading("Juba", 0.96)])]
    layout.decide(lines, lex=phi.Lexicon(frozenset({"WEN"}), frozenset()))
    assert lines[1].label == "NAME"
    # A label with its value in the same line leaves the next box alone.
    lines = [line("Name: Jane Roe", 10, 10, 140), line("Blue", 260, 10, 40)]
    layout.decide(lines)
    assert lines[1].label is None


def test_a_short_value_is_extended_to_its_rows_end():
    lines = [line("Name:", 10, 10, 60), line("Juba", 90, 10, 40)]
    layout.decide(lines)
    xs = [x for x, _ in lines[1].region.corners]
    assert min(xs) == pytest.approx(90) and max(xs) == pytest.approx(130 + layout.EXTEND * 20)
    # ... but not over the next text on the row, nor when it is long already.
    lines = [line("Name:", 10, 10, 60), line("Juba", 90, 10, 40), line("Sex:", 150, 10, 40)]
    layout.decide(lines)
    assert max(x for x, _ in lines[1].region.corners) == pytest.approx(150 - 0.3 * 20)
    lines = [line("Name:", 10, 10, 60), line("Julia Andrews", 90, 10, 130)]
    layout.decide(lines)
    assert max(x for x, _ in lines[1].region.corners) == pytest.approx(220)
