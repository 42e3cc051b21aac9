"""Keep the libraries redact loads from phoning home or writing under the user's home folder.

Imported first by :mod:`redact` (``redact/__init__.py``), so it runs before any submodule
and therefore before onnxruntime or OpenCV is imported, in every process: the CLI, library
users, and spawned worker processes (which import ``redact`` to unpickle their work and
inherit this environment anyway).

* onnxruntime (Linux builds) sends 1DS telemetry about 9 s after a model loads and writes
  ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/`` plus a session file in the temporary
  folder; only ``ORT_DISABLE_TELEMETRY=1`` set *before it is imported* stops both
  (``onnxruntime.disable_telemetry_events()`` does not).
* OpenCV would load a system OpenCL runtime and cache compiled kernels under
  ``~/.cache/opencv``; redact needs no OpenCL.

The values are forced, not defaulted: a user's ``ORT_DISABLE_TELEMETRY=0`` cannot turn
telemetry back on.  :func:`telemetry_is_off` tells whether onnxruntime was imported before
this module ran, in which case its telemetry is already armed and cannot be stopped.
"""

from __future__ import annotations

import os
import sys

#: Environment every redact process runs with.
ENVIRONMENT = {
    "ORT_DISABLE_TELEMETRY": "1",
    "OPENCV_OPENCL_RUNTIME": "disabled",
}

#: True when onnxruntime was already imported, without telemetry turned off, before redact.
_ORT_ARMED_EARLY = "onnxruntime" in sys.modules and os.environ.get("ORT_DISABLE_TELEMETRY") != "1"

os.environ.update(ENVIRONMENT)


def telemetry_is_off() -> bool:
    """True when onnxruntime cannot send telemetry from this process.

    False only when something imported onnxruntime before redact (its telemetry is set up
    at import, so setting the variable afterwards is too late) or reset the variable.
    """
    return not _ORT_ARMED_EARLY and os.environ.get("ORT_DISABLE_TELEMETRY") == "1"
