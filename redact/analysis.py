"""The loaded detectors and what they find in one image: :class:`Analyzer` -> :class:`Analysis`.

Every detector error is turned into an :class:`~redact.errors.AnalysisError` by
:func:`guard`: a file that was not fully analysed fails, it is never reported clean.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redact import detect, records
from redact.config import Settings
from redact.errors import AnalysisError, RedactError
from redact.types import Finding, Flag, Kind

if TYPE_CHECKING:
    from redact.consent import ConsentMatcher


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the detectors found in one image, and the whole-image judgement."""

    findings: list[Finding]
    flags: list[Flag]
    notes: list[str]
    #: Faces left visible because they matched the consent list, with the enrolled name.
    kept: list[tuple[Finding, str]] = field(default_factory=list)

    def kept_counts(self) -> tuple[tuple[str, int], ...]:
        """``(name, faces kept)`` pairs, sorted by name."""
        return tuple(sorted(Counter(name for _, name in self.kept).items()))

    def merged(self, other: Analysis) -> Analysis:
        """Both analyses of one image (two renderings of it): a finding ``other`` repeats is kept once."""
        findings = self.findings + [f for f in other.findings if not _repeats(f, self.findings)]
        codes = {flag.code for flag in self.flags}
        flags = self.flags + [flag for flag in other.flags if flag.code not in codes]
        notes = self.notes + [note for note in other.notes if note not in self.notes]
        mine = [f for f, _ in self.kept]
        kept = self.kept + [(f, name) for f, name in other.kept if not _repeats(f, mine)]
        return Analysis(findings, flags, notes, kept)


def _repeats(finding: Finding, known: Sequence[Finding]) -> bool:
    """True when a finding of the same kind and label already covers at least 90% of ``finding``."""
    area = finding.box.area
    return any(
        k.kind is finding.kind and k.label == finding.label and k.box.intersection(finding.box) >= 0.9 * area
        for k in known
    )


class Analyzer:
    """The loaded detectors; build once (per worker) and reuse for every file."""

    def __init__(self, settings: Settings, detectors: Sequence[detect.Detector] | None = None) -> None:
        """Load the detectors ``settings.stages`` name, or use ``detectors`` (tests, stubs)."""
        self.settings = settings
        names = {"faces": settings.face_detector, "text": "text", "barcodes": "barcodes"}
        if detectors is None:
            detectors = [detect.create(names[stage], settings) for stage in settings.stages]
        self.detectors = list(detectors)
        #: Consent matching (``settings.consent_store``); a broken dlib or store fails here, at once.
        self.consent: ConsentMatcher | None = None
        if settings.consent_store is not None:
            from redact.consent import ConsentMatcher

            self.consent = ConsentMatcher.from_path(settings.consent_store, settings.consent_tolerance)

    @property
    def face_detector(self) -> detect.Detector | None:
        """The configured face detector (``settings.face_detector``), when faces are a stage."""
        return next((d for d in self.detectors if d.kind is Kind.FACE), None)

    def analyse(self, pixels: detect.RGBImage, faces: bool = True) -> Analysis:
        """Run every detector on RGB ``pixels`` and judge the image; any failure fails the file.

        ``faces=False`` leaves the face detector out (video runs its own face passes).
        """
        detections: list[detect.Detection] = []
        for detector in self.detectors:
            if faces or detector.kind is not Kind.FACE:
                with guard(detector.name):
                    detections.append(detector.examine(pixels))
        findings, kept = self.apply_consent(pixels, [f for d in detections for f in d.findings])
        labels = [label for d in detections for label in d.field_labels]
        flags = records.judge(records.Evidence.gather(findings, labels), self.settings)
        notes: list[str] = []
        escalated = [d for d in detections if d.on_record is not None]
        if flags and escalated:
            # A patient record: every piece of text in it goes, not only what read as PHI.
            replaced = {id(f) for d in escalated for f in d.findings}
            instead = [f for d in escalated for f in d.on_record or ()]
            findings = [f for f in findings if id(f) not in replaced] + instead
            notes.append("looks like a patient record: all text covered; a person should review it")
        return Analysis(findings, flags, notes, kept)

    def analyse_renderings(self, shown: detect.RGBImage, others: Iterable[tuple[str, detect.RGBImage]]) -> Analysis:
        """Analyse ``shown`` and each other rendering of the same image; the findings of all.

        ``others`` are what a viewer can also be made to show of it (on black, without its
        alpha channel, its alpha channel...: :mod:`redact.media.views`); PHI that only one of
        them shows is found and covered on ``shown``, which is what is written.
        """
        analysis = self.analyse(shown)
        for _name, pixels in others:
            analysis = analysis.merged(self.analyse(pixels))
        return analysis

    def apply_consent(
        self, pixels: detect.RGBImage, findings: list[Finding]
    ) -> tuple[list[Finding], list[tuple[Finding, str]]]:
        """Split off the faces the consent list keeps visible: ``(to cover, kept with names)``.

        Without a consent store nothing is kept.  Any error fails the file (never uncovers).
        """
        faces = [f for f in findings if f.kind is Kind.FACE]
        if self.consent is None or not faces:
            return findings, []
        with guard("consent matching"):
            names = self.consent.keep(pixels, faces)
        chosen = {id(face): name for face, name in zip(faces, names, strict=True) if name is not None}
        cover = [f for f in findings if id(f) not in chosen]
        kept = [(f, chosen[id(f)]) for f in findings if id(f) in chosen]
        return cover, kept

    def faces_left(self, covered: detect.RGBImage) -> list[Finding]:
        """Faces the face detector still finds on ``covered`` pixels, less the consented ones."""
        found: list[Finding] = []
        for detector in self.detectors:
            if detector.kind is Kind.FACE:
                with guard(detector.name):
                    found.extend(detector.detect(covered))
        return self.apply_consent(covered, found)[0]

    def close(self) -> None:
        """Stop the detectors' helper processes (e.g. the pre-started Tesseract)."""
        for detector in self.detectors:
            detector.close()

    def verify(self, covered: detect.RGBImage, findings: Sequence[Finding]) -> list[Finding]:
        """Self-check on the covered image: PHI text still readable, codes that still decode."""
        leaks: list[Finding] = []
        for detector in self.detectors:
            with guard(f"{detector.name} self-check"):
                leaks.extend(detector.verify(covered, findings))
        return leaks


@contextmanager
def guard(name: str) -> Iterator[None]:
    """Fail closed: any detector error means the file was not fully analysed."""
    try:
        yield
    except RedactError:
        raise
    except Exception as exc:
        # Only the exception type: its message might quote what was read.
        raise AnalysisError(f"{name} failed ({type(exc).__name__})") from exc
