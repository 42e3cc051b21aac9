"""SARIF 2.1.0 output for code-scanning UIs.

Each finding becomes a result under a stable rule id (``phi/face``, ``phi/text/NAME``,
``phi/barcode``, ``phi/record``...), located by file, with its pixel box in
``attachments[].rectangles``.  A file that could not be analysed is a ``redact/unanalysed``
error result, so a gate built on SARIF fails closed too.  No PHI text ever appears.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redact import __version__
from redact.config import STAGES
from redact.report import narrowed, printable, skipped
from redact.types import FileResult, Finding, Kind, Status

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://pypi.org/project/redact/"

#: Rule id -> (short name, description).  Text rules are made per entity label.
#: ``consent/kept`` is a note (not a problem): faces left visible by the consent list.
STATIC_RULES: dict[str, tuple[str, str]] = {
    "phi/face": ("Face", "A face is visible. Faces are identifying; cover them unless the person consented."),
    "phi/barcode": ("Barcode", "A barcode or 2-D code (wristband, specimen or medication label) is visible."),
    "phi/record": ("PatientRecord", "The image resembles a patient record and needs a person's review."),
    "phi/metadata/gps": ("GpsMetadata", "The file carries a GPS position in its metadata."),
    "phi/metadata/thumbnail": (
        "ThumbnailMetadata",
        "The file's metadata embeds a thumbnail of the unredacted photo.",
    ),
    "phi/metadata/embedded_image": (
        "EmbeddedImage",
        "The file holds another picture besides the one shown (MPF image, depth map, image after the end).",
    ),
    "phi/metadata/embedded_video": ("EmbeddedVideo", "The file holds a video after its picture (Motion Photo)."),
    "phi/metadata/trailer": ("Trailer", "The file holds other data after the end of its picture."),
    "consent/kept": (
        "KeptByConsent",
        "Faces were left visible because they matched people on the consent list; a reviewer should check.",
    ),
    "redact/unanalysed": (
        "Unanalysed",
        "The file could not be fully analysed; it must be treated as unsafe until checked.",
    ),
}


#: Rules whose results are not errors.
_LEVELS = {"consent/kept": "note"}


def rule_id(finding: Finding) -> str:
    """The stable SARIF rule id for a finding."""
    if finding.kind is Kind.FACE:
        return "phi/face"
    if finding.kind is Kind.BARCODE:
        return "phi/barcode"
    return f"phi/text/{finding.label}"


def _rule(rule: str) -> dict[str, Any]:
    if rule in STATIC_RULES:
        name, text = STATIC_RULES[rule]
    else:
        label = rule.rsplit("/", 1)[-1]
        name, text = f"Text{label.title().replace('_', '')}", f"Visible text classified as PHI ({label})."
    return {
        "id": rule,
        "name": name,
        "shortDescription": {"text": text.split(".")[0] + "."},
        "fullDescription": {"text": text},
        "defaultConfiguration": {"level": _LEVELS.get(rule, "error")},
        "helpUri": INFO_URI,
    }


def _uri(path: Path) -> str:
    """A relative POSIX path when under the working directory, else a file URI."""
    try:
        rel = Path(os.path.relpath(path.resolve(), Path.cwd().resolve()))
    except ValueError:  # another drive (Windows)
        rel = None
    if rel is not None and not rel.as_posix().startswith(".."):
        return printable(rel.as_posix())
    return path.resolve().as_uri()  # percent-encodes the name's bytes


def _rectangle(finding: Finding) -> dict[str, Any]:
    x0, y0, x1, y1 = (round(v, 1) for v in finding.box.xyxy)
    return {"left": x0, "top": y0, "right": x1, "bottom": y1, "message": {"text": finding.label}}


def to_dict(results: Sequence[FileResult], exit_code: int, stages: Sequence[str] = STAGES) -> dict[str, Any]:
    """The SARIF log as a dict; ``stages`` are the analysis stages that ran."""
    rules: dict[str, int] = {}
    sarif_results: list[dict[str, Any]] = []
    artifacts: list[dict[str, Any]] = []

    def index_of(rule: str) -> int:
        if rule not in rules:
            rules[rule] = len(rules)
        return rules[rule]

    def emit(rule: str, text: str, location: dict[str, Any], **extra: Any) -> None:
        sarif_results.append(
            {
                "ruleId": rule,
                "ruleIndex": index_of(rule),
                "level": _LEVELS.get(rule, "error"),
                "message": {"text": text},
                "locations": [location],
                **extra,
            }
        )

    for result in results:
        uri = _uri(result.path)
        artifact_index = len(artifacts)
        artifacts.append({"location": {"uri": uri}})
        location = {"physicalLocation": {"artifactLocation": {"uri": uri, "index": artifact_index}}}
        if result.status is Status.FAILED:
            emit("redact/unanalysed", printable(f"Not analysed: {result.error or 'failed'}"), location)
            continue
        for kind in result.leaky_metadata:
            emit(f"phi/metadata/{kind.lower()}", f"Input metadata carries {kind}; redact clean removes it.", location)
        for flag in result.flags:
            emit("phi/record", f"Looks like a patient record: {flag.reason}", location, properties={"flag": flag.code})
        for name, count in result.kept:
            emit(
                "consent/kept",
                f"{count} face(s) kept visible by consent: {name}",
                location,
                properties={"consent_name": name, "faces": count},
            )
        covered = "; covered in the redacted copy." if result.status is Status.REDACTED else "."
        for finding in result.findings:
            properties: dict[str, object] = {"kind": str(finding.kind), "confidence": round(finding.confidence, 4)}
            frames = ""
            if finding.frame is not None:
                end = finding.frame if finding.frame_end is None else finding.frame_end
                properties.update(frame=finding.frame, frameEnd=end)
                frames = f" in frames {finding.frame}-{end}"
            emit(
                rule_id(finding),
                f"{finding.label} found by {finding.source}{frames} (confidence {finding.confidence:.2f}){covered}",
                location,
                attachments=[
                    {
                        "description": {"text": f"{finding.kind} region in pixels of the upright image"},
                        "artifactLocation": {"uri": uri, "index": artifact_index},
                        "rectangles": [_rectangle(finding)],
                    }
                ],
                properties=properties,
            )
    failed = any(r.status is Status.FAILED for r in results)
    invocation: dict[str, Any] = {
        "executionSuccessful": not failed,
        "exitCode": exit_code,
        "properties": {"stages": [s for s in STAGES if s in stages], "stagesSkipped": skipped(stages)},
    }
    warning = narrowed(stages)
    if warning:
        invocation["toolExecutionNotifications"] = [{"level": "warning", "message": {"text": warning}}]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "redact",
                        "version": __version__,
                        "informationUri": INFO_URI,
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "artifacts": artifacts,
                "results": sarif_results,
                "invocations": [invocation],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
