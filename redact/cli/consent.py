"""``redact consent add|list|remove``: manage the consent store.

Registered on the main app in :mod:`redact.cli` (``app.add_typer``).  The store is
``--store PATH``, else ``consent_store`` from the config, else the user's data folder.
Enrolment runs our own face detector on each reference photo: exactly one face, large
and sharp enough to encode, or a one-line error naming the photo.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from redact.cli import render
from redact.cli.app import TYPER_DEFAULTS, ConfigOpt, _boundary
from redact.config import Settings, load_settings
from redact.consent.store import ConsentStore, Person, check_name, default_store_path
from redact.errors import InputError, UsageError

consent_app = typer.Typer(
    name="consent",
    help="Manage the consent list: people whose faces may stay visible (`clean --consent STORE`).",
    **TYPER_DEFAULTS,
)

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Consent store file (default: consent_store from the config, else ~/.local/share/redact/consent.json).",
        show_default=False,
        readable=False,
    ),
]


def store_path(store: Path | None, settings: Settings) -> Path:
    """The store to use: ``--store``, else the config's ``consent_store``, else the default."""
    return (store or settings.consent_store or default_store_path()).expanduser()


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--expires takes a date as YYYY-MM-DD, got {value!r}") from None


@consent_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A label for the person, e.g. 'Nurse A. Jones' (shown in reports).")],
    photos: Annotated[
        list[Path],
        typer.Argument(
            help="Reference photos, each showing only this person's face.", show_default=False, readable=False
        ),
    ],
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="Last day the consent is valid (YYYY-MM-DD).", show_default=False),
    ] = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Enrol NAME from reference photos: their face encodings (never the photos) go into the store."""
    with _boundary():
        settings = load_settings(config)
        path = store_path(store, settings)
        until = _parse_date(expires)
        today = dt.date.today()
        if until is not None and until < today:
            raise UsageError(f"--expires {until.isoformat()} is in the past")
        consent = ConsentStore.load(path, missing_ok=True)
        name = check_name(name)
        if consent.find(name) is not None:
            raise UsageError(f"'{name}' is already enrolled; remove it first to replace it", path)
        encodings = _enrol(photos, settings)
        consent.add(name, encodings, until, today)
        consent.save()
    until_text = f", valid until {until.isoformat()}" if until else ""
    message = f"enrolled '{name}' from {len(encodings)} photo(s) in {path}{until_text}"
    render.console.print(escape(message), soft_wrap=True)


def _enrol(photos: list[Path], settings: Settings) -> list[list[float]]:
    """One encoding per reference photo; a one-line InputError naming the photo otherwise."""
    from redact.consent.encoder import FaceEncoder
    from redact.detect.faces import CenterFaceDetector
    from redact.media import load_image

    encoder = FaceEncoder()  # first: a broken dlib fails before any photo is read
    detector = CenterFaceDetector(settings)
    encodings: list[list[float]] = []
    for photo in photos:
        image = load_image(photo, settings)
        faces = detector.detect(image.rgb)
        if len(faces) != 1:
            raise InputError(f"reference photo must show exactly one face, found {len(faces)}", photo)
        encoding = encoder.encode(image.rgb, faces[0].box)
        if encoding is None:
            q = encoder.quality
            raise InputError(
                f"the face is too small or blurred to enrol (needs a sharp face at least {q.min_face_px:g} px high)",
                photo,
            )
        encodings.append([float(v) for v in encoding])
    return encodings


@consent_app.command("list")
def list_(store: StoreOpt = None, config: ConfigOpt = None) -> None:
    """Show who is enrolled: name, reference encodings, date added, expiry."""
    with _boundary():
        path = store_path(store, load_settings(config))
        consent = ConsentStore.load(path, missing_ok=True)
    out = Console(highlight=False, soft_wrap=True)  # stdout: the listing is the output
    if not consent.people:
        out.print(f"no one is enrolled in {escape(str(path))}")
        return
    today = dt.date.today()
    table = Table(title=f"consent store {escape(str(path))}", title_justify="left")
    for column in ("name", "encodings", "added", "expires", "status"):
        table.add_column(column, justify="right" if column == "encodings" else "left")
    for person in sorted(consent.people.values(), key=lambda p: p.name.casefold()):
        table.add_row(
            escape(person.name),
            str(len(person.encodings)),
            person.added.isoformat(),
            person.expires.isoformat() if person.expires else "never",
            _status(person, today),
        )
    out.print(table)


def _status(person: Person, today: dt.date) -> str:
    return "[red]EXPIRED[/red]" if person.expired(today) else "active"


@consent_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The enrolled name (any letter case).")],
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Forget NAME: their encodings are deleted from the store."""
    with _boundary():
        path = store_path(store, load_settings(config))
        consent = ConsentStore.load(path)
        person = consent.remove(name)
        consent.save()
    render.console.print(f"removed '{escape(person.name)}' from {escape(str(path))}", soft_wrap=True)
