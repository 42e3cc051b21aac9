"""How much memory analysing an image takes, and how much one worker may use.

Decoded pixels, not file sizes, are what cost memory: a 190 KB PNG of one colour can be
100 megapixels.  An image's need is estimated from its header, before any pixel is decoded
(:func:`image_needs`: measured peak RSS of ``clean`` on large PNGs, benchmarks/README.md), and
an image whose need is over this process's share of the machine's memory is refused (exit 3)
instead of exhausting it.  The share follows the thread budget (:mod:`redact.cores`): a batch
of N workers sharing the cores shares three quarters of the memory the same way, so all the
workers together stay within it; a single file, or ``--jobs 1``, gets a larger share.
"""

from __future__ import annotations

import os

from redact.cores import thread_budget, usable_cores

#: Peak memory of ``clean`` beyond the loaded models: bytes per decoded pixel (the pixels,
#: their covered copy, the detectors' full-resolution passes, decoding) ...
BYTES_PER_PIXEL = 16
#: ... plus the models and the network's working memory, which do not grow with the image.
BASE_BYTES = 700 << 20
#: The part of the machine's memory redact's processes may use together.
MACHINE_SHARE = 0.75


def machine_memory() -> int:
    """Physical memory of this machine in bytes (8 GiB when it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 8 << 30


def memory_budget() -> int:
    """Bytes the analysis in this process may use: its thread share of ``MACHINE_SHARE`` of memory."""
    share = min(1.0, thread_budget() / max(1, usable_cores()))
    return int(machine_memory() * MACHINE_SHARE * share)


def image_needs(width: int, height: int) -> int:
    """Estimated peak memory (bytes) of analysing and covering a ``width x height`` image."""
    return BASE_BYTES + BYTES_PER_PIXEL * width * height
