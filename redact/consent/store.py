"""The consent store: who agreed to be shown, as face encodings (never photos).

One JSON file, versioned, written atomically with owner-only permissions (``0600``; a
folder redact creates for it is ``0700``).  Per person it keeps the name (the user's own
label), the 128-d encodings of the reference photos, the date added and an optional
expiry date.  An entry is valid up to and including its expiry date.

A damaged or foreign file is refused with a one-line :class:`~redact.errors.InputError`
(exit 3) and never rewritten; a duplicate or unknown name is a
:class:`~redact.errors.UsageError` (exit 2).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from redact.errors import InputError, OutputError, UsageError
from redact.media.atomic import atomic_write

#: The ``format`` field of every consent store; a JSON file without it is foreign.
FORMAT = "redact-consent"
#: Bumped when a field changes meaning; older versions are read, newer ones refused.
VERSION = 1
#: The face descriptor the encodings come from: encodings of another model never compare.
ENCODING_MODEL = "dlib_face_recognition_resnet_model_v1"
ENCODING_SIZE = 128
#: Names are labels chosen by the user ("Nurse A. Jones"); keep them short and printable.
MAX_NAME = 100

Encoding = tuple[float, ...]


def default_store_path() -> Path:
    """``$XDG_DATA_HOME/redact/consent.json``, else ``~/.local/share/redact/consent.json``."""
    base = os.environ.get("XDG_DATA_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / "redact" / "consent.json"


def check_name(name: str) -> str:
    """The cleaned ``name``, or a :class:`UsageError` when it is empty, too long or unprintable."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise UsageError("consent NAME must not be empty")
    if len(cleaned) > MAX_NAME:
        raise UsageError(f"consent NAME must be at most {MAX_NAME} characters")
    if not cleaned.isprintable():
        raise UsageError("consent NAME must be printable text")
    return cleaned


@dataclass(frozen=True, slots=True)
class Person:
    """One enrolled person."""

    name: str
    encodings: tuple[Encoding, ...]
    added: dt.date
    expires: dt.date | None = None

    def expired(self, today: dt.date | None = None) -> bool:
        """True once ``today`` is past the expiry date (the expiry day itself still counts)."""
        return self.expires is not None and (today or dt.date.today()) > self.expires

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "added": self.added.isoformat(),
            "expires": self.expires.isoformat() if self.expires else None,
            "encodings": [list(e) for e in self.encodings],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Person:
        """Parse one entry; raises ``ValueError``/``TypeError``/``KeyError`` when malformed."""
        if not isinstance(data, dict):
            raise TypeError("entry is not an object")
        name = data["name"]
        if not isinstance(name, str) or check_name(name) != name:
            raise ValueError("bad name")
        raw = data["encodings"]
        if not isinstance(raw, list) or not raw:
            raise ValueError("no encodings")
        encodings = tuple(_encoding(e) for e in raw)
        expires = data.get("expires")
        return cls(
            name=name,
            encodings=encodings,
            added=dt.date.fromisoformat(data["added"]),
            expires=dt.date.fromisoformat(expires) if expires is not None else None,
        )


def _encoding(values: Any) -> Encoding:
    if not isinstance(values, list) or len(values) != ENCODING_SIZE:
        raise ValueError("encoding has the wrong size")
    out = tuple(float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool))
    if len(out) != ENCODING_SIZE or not all(math.isfinite(v) for v in out):
        raise ValueError("encoding has non-numeric values")
    return out


class ConsentStore:
    """A consent store file, loaded into memory; :meth:`save` writes it back atomically."""

    def __init__(self, path: Path, people: Sequence[Person] = ()) -> None:
        self.path = Path(path)
        self.people: dict[str, Person] = {p.name: p for p in people}

    @classmethod
    def load(cls, path: Path, missing_ok: bool = False) -> ConsentStore:
        """Read ``path``; a missing file is an empty store when ``missing_ok``, else a UsageError."""
        path = Path(path).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if missing_ok:
                return cls(path)
            raise UsageError("consent store not found (enrol people with `redact consent add`)", path) from None
        except IsADirectoryError:
            raise InputError("consent store is a directory, expected a file", path) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read consent store ({type(exc).__name__})", path) from None
        return cls(path, _parse(text, path))

    def find(self, name: str) -> Person | None:
        """The person called ``name`` (case-insensitive), if enrolled."""
        key = check_name(name).casefold()
        return next((p for p in self.people.values() if p.name.casefold() == key), None)

    def add(
        self,
        name: str,
        encodings: Sequence[Sequence[float]],
        expires: dt.date | None = None,
        today: dt.date | None = None,
    ) -> Person:
        """Enrol ``name``; a name already enrolled (in any letter case) is a UsageError."""
        name = check_name(name)
        if self.find(name) is not None:
            raise UsageError(f"'{name}' is already enrolled; remove it first to replace it", self.path)
        if not encodings:
            raise UsageError("at least one reference encoding is needed")
        vectors = tuple(_encoding([float(v) for v in e]) for e in encodings)
        person = Person(name, vectors, today or dt.date.today(), expires)
        self.people[name] = person
        return person

    def remove(self, name: str) -> Person:
        """Forget ``name``; an unknown name is a UsageError."""
        person = self.find(name)
        if person is None:
            raise UsageError(f"'{check_name(name)}' is not enrolled", self.path)
        del self.people[person.name]
        return person

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "encoding_model": ENCODING_MODEL,
            "people": [p.to_dict() for p in sorted(self.people.values(), key=lambda p: p.name.casefold())],
        }

    def save(self) -> None:
        """Write the store atomically, readable by its owner only (file 0600, new folders 0700)."""
        data = (json.dumps(self.to_dict(), indent=1) + "\n").encode()
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write consent store ({type(exc).__name__})", self.path) from None

        def write(fh: BinaryIO) -> None:
            fh.write(data)

        atomic_write(self.path, write, mode=0o600)


def _parse(text: str, path: Path) -> list[Person]:
    try:
        data = json.loads(text)
    except ValueError:
        raise InputError("consent store is corrupt (not valid JSON); restore it from a backup", path) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f'not a redact consent store (no "format": "{FORMAT}")', path)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= VERSION:
        raise InputError(f"consent store version {version!r} is not supported (this redact reads 1-{VERSION})", path)
    if data.get("encoding_model") != ENCODING_MODEL:
        raise InputError("consent store holds encodings of another face model", path)
    people: list[Person] = []
    try:
        for entry in data["people"]:
            people.append(Person.from_dict(entry))
    except (KeyError, TypeError, ValueError, UsageError):
        raise InputError(f"consent store is corrupt (entry {len(people) + 1} is malformed)", path) from None
    if len({p.name.casefold() for p in people}) != len(people):
        raise InputError("consent store is corrupt (a name appears twice)", path)
    return people
