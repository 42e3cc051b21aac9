"""redact: find and irreversibly cover PHI (faces, text, codes) in photos."""

# First, before anything can import onnxruntime or OpenCV: no telemetry, no caches under HOME.
import redact.offline  # noqa: F401

__version__ = "0.1.0"
