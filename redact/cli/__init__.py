"""The ``redact`` command line: a thin layer over :mod:`redact.batch`.

This is the only package that imports Typer.  Library errors are turned into exit
codes here and nowhere else.
"""

from redact.cli.app import app, main
from redact.cli.consent import consent_app

app.add_typer(consent_app, name="consent")

__all__ = ["app", "main"]
