"""redact: find and irreversibly cover PHI (faces, text, codes) in photos."""

__version__ = "0.1.0"
