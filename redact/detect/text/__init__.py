"""Visible text PHI: find every line of text in a photo, read it, decide what is PHI.

Importing this package registers the ``text`` detector (see :mod:`.detector`).
"""

from redact.detect.text.detector import PATIENT_RECORD_FLAG, TextDetector, create_text_detector, effective_mode

__all__ = ["PATIENT_RECORD_FLAG", "TextDetector", "create_text_detector", "effective_mode"]
