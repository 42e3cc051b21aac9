"""Pluggable detectors.  Importing this package registers the built-in ones."""

from redact.detect import barcodes as barcodes  # registers "barcodes"
from redact.detect import dlib_faces as dlib_faces  # registers "dlib-hog" (dlib imported only when used)
from redact.detect import faces as faces  # registers "centerface"
from redact.detect import text as text  # registers "text"
from redact.detect.base import Detection, Detector, RGBImage, available, create, register

__all__ = ["Detection", "Detector", "RGBImage", "available", "create", "register"]
