"""The pre-commit hooks, for real: a temporary git repo, the real pre-commit, `try-repo`.

pre-commit builds its own virtualenv with redact installed from this repository (from
PyPI packages), so this test takes a minute or two the first time in a session.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"

pytestmark = pytest.mark.slow


def _pre_commit() -> list[str]:
    exe = Path(sys.executable).with_name("pre-commit")
    if not exe.exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return [str(exe)]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }


def _git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _repo(tmp_path: Path, env: dict[str, str], files: dict[str, Path]) -> Path:
    repo = tmp_path / "site"
    repo.mkdir()
    _git(repo, "init", "-q", env=env)
    for name, source in files.items():
        shutil.copy(source, repo / name)
    _git(repo, "add", *files, env=env)
    return repo


def _try(repo: Path, hook: str, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_pre_commit(), "try-repo", str(ROOT), hook, "--verbose", *extra],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _hook_patterns() -> dict[str, tuple[re.Pattern[str], re.Pattern[str] | None]]:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return {h["id"]: (re.compile(h["files"]), re.compile(h["exclude"]) if "exclude" in h else None) for h in hooks}


def test_hook_patterns_match_every_media_name_redact_reads():
    # pre-commit matches by name: a type missing here is never checked before a commit.
    from redact.discover import IMAGE_SUFFIXES, VIDEO_SUFFIXES

    for hook, (files, exclude) in _hook_patterns().items():
        for suffix in sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES):
            for name in (f"ward{suffix}", f"dir/WARD{suffix.upper()}"):
                assert files.search(name), (hook, name)
                assert exclude is None or not exclude.search(name), (hook, name)
        for other in ("notes.txt", "app.ts", "mod.mts", "README.md", "jpg", "photo.jpg.txt"):
            assert not files.search(other), (hook, other)
    _, exclude = _hook_patterns()["redact-clean"]
    assert exclude is not None and exclude.search("ward.redacted.avi")


def test_check_hook_blocks_a_patient_photo(tmp_path: Path, env: dict[str, str]):
    repo = _repo(tmp_path, env, {"ward.jpg": SAMPLES / "astronaut.jpg", "coffee.jpg": SAMPLES / "coffee_no_faces.jpg"})
    result = _try(repo, "redact-check", env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ward.jpg" in result.stdout
    assert not (repo / "ward.redacted.jpg").exists()  # check never writes


def test_check_hook_passes_a_clean_photo(tmp_path: Path, env: dict[str, str]):
    repo = _repo(tmp_path, env, {"coffee.jpg": SAMPLES / "coffee_no_faces.jpg", "notes.txt": ROOT / "README.md"})
    result = _try(repo, "redact-check", env)
    assert result.returncode == 0, result.stdout + result.stderr
    _git(repo, "commit", "-q", "-m", "clean photo", env=env)


def test_clean_hook_writes_copies_and_fails(tmp_path: Path, env: dict[str, str]):
    repo = _repo(tmp_path, env, {"ward.jpg": SAMPLES / "astronaut.jpg"})
    result = _try(repo, "redact-clean", env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (repo / "ward.redacted.jpg").is_file()
    assert (repo / "ward.jpg").read_bytes() == (SAMPLES / "astronaut.jpg").read_bytes()
