"""The consent list: keep visible the faces of people who agreed to be shown, cover everyone else.

:mod:`~redact.consent.store` keeps the enrolled people (encodings, never photos),
:mod:`~redact.consent.encoder` turns our detector's face boxes into dlib encodings, and
:mod:`~redact.consent.matcher` decides per face.  dlib is imported only by the encoder,
lazily and guarded, so importing this package never needs it.
"""

from redact.consent.matcher import DEFAULT_TOLERANCE, ConsentMatcher
from redact.consent.store import ConsentStore, Person, default_store_path

__all__ = ["DEFAULT_TOLERANCE", "ConsentMatcher", "ConsentStore", "Person", "default_store_path"]
