"""One way to open an ONNX model with onnxruntime on the CPU (no network, quiet logs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redact.errors import MissingDependencyError


def session(model: Path, threads: int, what: str) -> Any:
    """An ``onnxruntime.InferenceSession`` for ``model``; ``what`` names it in errors."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise MissingDependencyError("onnxruntime not installed: pip install onnxruntime") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise MissingDependencyError(f"{what} model cannot be loaded ({type(exc).__name__})") from None
