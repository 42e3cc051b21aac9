"""The patient-record flag: rules on evidence, and the pipeline escalating to all text."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from redact.cli import app
from redact.config import Settings
from redact.errors import ExitCode
from redact.records import CODE_BARCODE, CODE_FIELDS, CODE_LABELS, Evidence, judge
from redact.synth import scene
from redact.types import Box, Finding, Kind

S = Settings()


def text(label: str) -> Finding:
    return Finding(Kind.TEXT, Box(0, 0, 10, 10), 0.9, "text", label)


def codes(*flags) -> set[str]:
    return {f.code for f in flags}


@pytest.mark.parametrize(
    ("fields", "labels", "expected"),
    [
        ({"NAME": 1}, {}, set()),  # a staff badge
        ({"PHONE": 1, "URL": 1, "DATE": 1}, {}, set()),  # a poster: no strong identifier
        ({"NAME": 1, "DOB": 1}, {}, {CODE_FIELDS}),  # two identifiers together
        ({"NAME": 2, "DATE": 1}, {}, {CODE_FIELDS}),  # three fields, two kinds, one strong
        ({"MRN": 1}, {"NAME": 1, "DOB": 1}, {CODE_LABELS}),  # labels of a form, one value read
        ({}, {"NAME": 1, "DOB": 1}, set()),  # an empty form: nothing of a patient's
    ],
)
def test_rules(fields: dict[str, int], labels: dict[str, int], expected: set[str]):
    evidence = Evidence(Counter(fields), Counter(labels))
    assert codes(*judge(evidence, S)) == expected


def test_id_barcode_needs_phi_text_next_to_it():
    code = Finding(Kind.BARCODE, Box(0, 0, 10, 10), 1.0, "zxing:CODE128", "BARCODE_ID")
    assert codes(*judge(Evidence.gather([code]), S)) == set()
    flags = judge(Evidence.gather([code, text("NAME")]), S)
    assert CODE_BARCODE in codes(*flags)


def test_harmless_text_never_counts():
    assert judge(Evidence.gather([text("TEXT")] * 10 + [text("UNCERTAIN")] * 5), S) == []


def test_thresholds_come_from_settings():
    evidence = Evidence(Counter({"NAME": 2, "DATE": 1}))
    assert judge(evidence, Settings(record_min_phi_fields=4)) == []


def test_reasons_carry_no_text():
    flags = judge(Evidence.gather([text("NAME"), text("DOB"), text("MRN")]), S)
    assert flags and all(f.reason.isascii() and "(" in f.reason for f in flags)


@pytest.fixture(scope="module")
def record_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for seed in range(20):
        s = scene("printed_record", seed)
        if len([i for i in s.items if i.phi and i.legible and i.height >= 16]) >= 4:
            break
    path = tmp_path_factory.mktemp("record") / "chart.png"
    Image.fromarray(s.image).save(path)
    return path


def test_a_printed_record_is_flagged_in_scan_and_all_its_text_covered_in_clean(record_photo: Path, tmp_path: Path):
    runner = CliRunner()
    scanned = runner.invoke(app, ["scan", str(record_photo), "--json", "--quiet"])
    assert scanned.exit_code == ExitCode.FINDINGS
    entry = json.loads(scanned.stdout)["files"][0]
    assert entry["flags"] and all(f["code"].startswith("record.") for f in entry["flags"])
    assert any("patient record" in n for n in entry["notes"])
    labels = Counter(f["label"] for f in entry["findings"])
    assert labels["TEXT"] >= 1, "a flagged image has all its text covered, harmless lines too"
    cleaned = runner.invoke(app, ["clean", str(record_photo), "-o", str(tmp_path), "--quiet"])
    assert cleaned.exit_code == ExitCode.OK
    assert "review" in cleaned.stderr
    before = np.asarray(Image.open(record_photo).convert("RGB"), dtype=int)
    after = np.asarray(Image.open(tmp_path / "chart.png").convert("RGB"), dtype=int)
    assert np.abs(before - after).mean() > 1
