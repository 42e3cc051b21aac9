"""Batches: discovery by content, parallel workers, the result cache, check/approve, in-place."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from redact.batch import run
from redact.cli import app
from redact.config import Settings
from redact.discover import MediaType, expand, sniff
from redact.errors import ExitCode
from redact.jobs import plan_jobs
from redact.types import Mode, Status

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    (root / "ward" / "day1").mkdir(parents=True)
    shutil.copy(SAMPLES / "astronaut.jpg", root / "ward" / "day1" / "nurse.jpg")
    shutil.copy(SAMPLES / "coffee_no_faces.jpg", root / "coffee.jpg")
    # a PNG without an extension, found by content
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(root / "ward" / "noext", format="PNG")
    (root / "notes.txt").write_text("not media")
    return root


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe0" + b"\0" * 28, MediaType.IMAGE),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 24, MediaType.IMAGE),
        (b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 16, MediaType.IMAGE),
        (b"\0\0\0\x18ftypheic" + b"\0" * 20, MediaType.IMAGE),
        (b"\0\0\0\x18ftypisom" + b"\0" * 20, MediaType.VIDEO),
        (b"\0\0\0\x14ftypqt  " + b"\0" * 20, MediaType.VIDEO),
        (b"\x1a\x45\xdf\xa3" + b"\0" * 28, MediaType.VIDEO),
        (b"hello world" + b"\0" * 21, MediaType.OTHER),
    ],
)
def test_sniff(head: bytes, kind: MediaType):
    assert sniff(head) is kind


def test_walk_picks_media_by_content_including_hidden_and_skips_text(folder: Path):
    (folder / ".hidden.jpg").write_bytes((SAMPLES / "astronaut.jpg").read_bytes())
    found = sorted(e.path.relative_to(folder).as_posix() for e in expand([folder]))
    assert found == [".hidden.jpg", "coffee.jpg", "ward/day1/nurse.jpg", "ward/noext"]


def test_include_and_exclude_globs(folder: Path):
    only_ward = sorted(e.path.name for e in expand([folder], include=["ward/**"]))
    assert only_ward == ["noext", "nurse.jpg"]
    no_day1 = sorted(e.path.name for e in expand([folder], exclude=["ward/day1/*"]))
    assert no_day1 == ["coffee.jpg", "noext"]


def test_output_folder_inside_input_is_not_walked(folder: Path):
    out = folder / "redacted"
    out.mkdir()
    shutil.copy(SAMPLES / "astronaut.jpg", out / "old.jpg")
    jobs = plan_jobs([folder], Mode.CLEAN, out)
    assert all("redacted" not in j.path.parts for j in jobs)


def test_parallel_results_equal_serial_and_keep_order(folder: Path):
    jobs = plan_jobs([folder], Mode.SCAN, None)
    serial = run(jobs, Mode.SCAN, Settings(), cores=1)
    parallel = run(jobs, Mode.SCAN, Settings(), cores=2)
    assert [r.path for r in parallel] == [j.path for j in jobs]
    assert [(r.status, len(r.findings)) for r in parallel] == [(r.status, len(r.findings)) for r in serial]
    assert [r.status for r in serial] == [Status.CLEAN, Status.FINDINGS, Status.CLEAN]


def _batch_with_a_bad_worker(monkeypatch: pytest.MonkeyPatch, folder: Path, good: int, bad: str) -> list[str]:
    """``good`` photos and one named ``bad`` (tests/crashing_worker.py: crash*, hang*); return the good names."""
    import crashing_worker

    from redact import executor

    monkeypatch.setattr(executor, "_work", crashing_worker.work)
    folder.mkdir()
    names = [f"ok{i}.jpg" for i in range(good)]
    for name in [*names, bad]:
        shutil.copy(SAMPLES / "coffee_no_faces.jpg", folder / name)
    return names


@pytest.mark.parametrize("cores", [1, 2])
def test_a_file_that_kills_its_worker_fails_alone_and_the_batch_goes_on(
    cores: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    # A decoder crash or an out-of-memory kill breaks the whole process pool: the files
    # it held are retried one at a time, and only the one that kills a worker again fails.
    from redact import executor

    good = _batch_with_a_bad_worker(monkeypatch, tmp_path / "batch", 5, "crash.jpg")
    out = tmp_path / "out"
    results = run(plan_jobs([tmp_path / "batch"], Mode.CLEAN, out), Mode.CLEAN, Settings(), cores=cores)
    status = {r.path.name: (r.status, r.error) for r in results}
    assert status.pop("crash.jpg") == (Status.FAILED, executor.WORKER_DIED)
    assert status == dict.fromkeys(good, (Status.CLEAN, None))
    # the dead worker's half-written temporary file is gone; every other output is whole
    assert sorted(p.name for p in out.iterdir()) == good


def test_a_file_stuck_past_the_stall_limit_fails_and_the_batch_goes_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import time

    from redact import executor

    good = _batch_with_a_bad_worker(monkeypatch, tmp_path / "batch", 3, "hang.jpg")
    started = time.monotonic()
    jobs = plan_jobs([tmp_path / "batch"], Mode.SCAN, None)
    # 10 s: a good photo must finish within the limit even on a loaded machine (2 s failed
    # the good files at a load average of 12 on 2 cores).
    results = run(jobs, Mode.SCAN, Settings(stall_limit_s=10), cores=2)
    assert time.monotonic() - started < 120
    status = {r.path.name: (r.status, r.error) for r in results}
    assert status.pop("hang.jpg") == (Status.FAILED, executor.WORKER_DIED)
    assert status == dict.fromkeys(good, (Status.CLEAN, None))


def test_discard_leftovers_removes_only_that_outputs_temporary_files(tmp_path: Path):
    from redact.media.atomic import discard_leftovers, temp_beside

    dest = tmp_path / "ward [1].jpg"  # glob characters in the name are taken literally
    mine = [temp_beside(dest), temp_beside(dest)]
    other = temp_beside(tmp_path / "ward 1.jpg")
    dest.write_bytes(b"finished output")
    assert all(p.name.startswith(".ward [1].jpg.") and p.suffix == ".part" for p in mine)
    assert discard_leftovers(dest) == 2
    assert sorted(tmp_path.iterdir()) == sorted([dest, other])


def test_a_worker_that_cannot_build_its_detectors_stops_the_run(folder: Path, tmp_path: Path):
    # No probe in the main process: the workers' own error (here a missing consent store)
    # must stop the run with its typed error, not fail each file as a crashed worker.
    from redact.errors import UsageError

    jobs = plan_jobs([folder], Mode.SCAN, None)
    with pytest.raises(UsageError, match="consent store not found"):
        run(jobs, Mode.SCAN, Settings(consent_store=tmp_path / "missing.json"), cores=2)


def test_second_run_uses_cache_and_a_changed_file_is_redone(folder: Path, tmp_path: Path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = invoke("clean", folder, "-o", out, "--cache", cache, "--json", "-j", "1")
    assert first.exit_code == ExitCode.OK, first.stderr
    assert len(list(cache.glob("redact-cache-*.json"))) == 1
    second = json.loads(invoke("clean", folder, "-o", out, "--cache", cache, "--json", "-j", "1").stdout)
    assert all("cached" in f["notes"] for f in second["files"])
    # change one input: only that file is processed again
    Image.fromarray(np.full((64, 64, 3), 10, np.uint8)).save(folder / "coffee.jpg", format="JPEG")
    third = json.loads(invoke("clean", folder, "-o", out, "--cache", cache, "--json", "-j", "1").stdout)
    cached = {Path(f["path"]).name: "cached" in f["notes"] for f in third["files"]}
    assert cached == {"coffee.jpg": False, "nurse.jpg": True, "noext": True}
    # a deleted output is rewritten
    (out / "ward" / "day1" / "nurse.jpg").unlink()
    invoke("clean", folder, "-o", out, "--cache", cache, "-j", "1")
    assert (out / "ward" / "day1" / "nurse.jpg").is_file()


def test_cache_is_ignored_when_settings_change(folder: Path, tmp_path: Path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    invoke("clean", folder, "-o", out, "--cache", cache, "-j", "1")
    again = json.loads(invoke("clean", folder, "-o", out, "--cache", cache, "-m", "fill", "--json", "-j", "1").stdout)
    assert not any("cached" in f["notes"] for f in again["files"])


def test_the_output_folder_never_lists_the_originals(folder: Path, tmp_path: Path):
    # A published output folder must not carry hashes of the originals (a holder of a photo could
    # check whether it was among them): no cache there by default, none allowed there, and an
    # earlier version's cache is removed.
    import hashlib

    out = tmp_path / "out"
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}
    assert invoke("clean", folder, "-o", out, "-j", "1").exit_code == ExitCode.OK
    written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert not any(d.encode() in written for d in digests)
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]
    inside = invoke("clean", folder, "-o", out, "--cache", out / ".cache", "-j", "1")
    assert inside.exit_code == ExitCode.USAGE and "inside the output folder" in inside.output
    (out / ".redact-cache.json").write_text('{"entries": {}}')
    again = invoke("clean", folder, "-o", out, "-j", "1")
    assert again.exit_code == ExitCode.OK and not (out / ".redact-cache.json").exists()


def test_check_exit_codes_and_writes_nothing(folder: Path, tmp_path: Path):
    face = folder / "ward" / "day1" / "nurse.jpg"
    before = sorted(p for p in folder.rglob("*"))
    assert invoke("check", folder / "coffee.jpg").exit_code == ExitCode.OK
    result = invoke("check", face, folder / "coffee.jpg")
    assert result.exit_code == ExitCode.FINDINGS
    assert "nurse.jpg" in result.stderr
    assert sorted(p for p in folder.rglob("*")) == before


def test_check_unreadable_file_is_not_clean(tmp_path: Path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 broken")
    result = invoke("check", bad)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "bad.jpg" in result.stderr


def test_unreadable_video_is_reported_unchecked_not_clean(tmp_path: Path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\0\0\0\x18ftypisom" + b"\0" * 100)
    result = invoke("check", video)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "not a readable video" in result.stderr


def test_baseline_lets_an_approved_file_pass_until_it_changes(folder: Path, tmp_path: Path):
    face = folder / "ward" / "day1" / "nurse.jpg"
    base = tmp_path / "baseline.json"
    assert invoke("approve", face, "--baseline", base, "--note", "consent on file").exit_code == 0
    assert invoke("check", face, "--baseline", base).exit_code == ExitCode.OK
    data = json.loads(base.read_text())
    assert data["baseline_version"] == 2 and len(data["approved"]) == 1
    face.write_bytes(face.read_bytes() + b"\0")  # any change: checked afresh
    assert invoke("check", face, "--baseline", base).exit_code == ExitCode.FINDINGS


def test_baseline_hashes_are_keyed(folder: Path, tmp_path: Path):
    # A plain SHA-256 of each approved file could be looked up or matched across baselines.
    import hashlib

    files = sorted(p for p in folder.rglob("*.jpg") if not p.name.startswith("."))
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert invoke("approve", *files, "--baseline", first).exit_code == 0
    assert invoke("approve", *files, "--baseline", second).exit_code == 0
    text = first.read_text()
    assert not any(hashlib.sha256(p.read_bytes()).hexdigest() in text for p in files)
    a, b = (set(json.loads(x.read_text())["approved"]) for x in (first, second))
    assert len(a) == len(files) and not a & b  # the same files, unrelated hashes
    old = tmp_path / "v1.json"
    old.write_text(json.dumps({"baseline_version": 1, "approved": {}}))
    refused = invoke("check", files[0], "--baseline", old)
    assert refused.exit_code == ExitCode.USAGE and "approve them again" in refused.output


def test_bad_baseline_is_a_usage_error(folder: Path, tmp_path: Path):
    base = tmp_path / "baseline.json"
    base.write_text("{not json")
    result = invoke("check", folder / "coffee.jpg", "--baseline", base)
    assert result.exit_code == ExitCode.USAGE
    assert "baseline" in result.stderr


def test_in_place_replaces_with_redacted_and_fail_if_changed(folder: Path):
    face = folder / "ward" / "day1" / "nurse.jpg"
    original = face.read_bytes()
    # pixelate: a safe-blurred face can still look face-like to the detector (see README)
    args = ("--in-place", "--fail-if-changed", "-m", "pixelate", "-j", "1")
    result = invoke("clean", face, folder / "coffee.jpg", *args)
    assert result.exit_code == ExitCode.FINDINGS, result.stderr
    assert face.read_bytes() != original
    assert invoke("check", face).exit_code == ExitCode.OK  # what is left is clean
    assert invoke("clean", folder / "coffee.jpg", "--in-place", "--fail-if-changed").exit_code == ExitCode.OK


def test_in_place_and_output_dir_exclude_each_other(folder: Path, tmp_path: Path):
    result = invoke("clean", folder, "--in-place", "-o", tmp_path / "o")
    assert result.exit_code == ExitCode.USAGE


def test_report_file_table_and_json(folder: Path, tmp_path: Path):
    table = tmp_path / "r.txt"
    result = invoke("scan", folder, "--report", table, "-j", "1")
    assert result.exit_code == ExitCode.FINDINGS
    text = table.read_text()
    assert "nurse.jpg: 1 face" in text and "exit code 1" in text
    as_json = tmp_path / "r.json"
    invoke("scan", folder, "--format", "json", "--report", as_json, "-j", "1")
    assert json.loads(as_json.read_text())["summary"]["findings"] == 1


def test_ctrl_c_exits_130_and_leaves_no_partial_outputs(tmp_path: Path):
    import signal
    import subprocess
    import sys
    import time

    src = tmp_path / "many"
    src.mkdir()
    for i in range(40):
        shutil.copy(SAMPLES / "faces_many_sizes.jpg", src / f"p{i:02}.jpg")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "redact", "clean", str(src), "-o", str(out), "-j", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.is_dir() and any(out.glob("*.jpg"))):
        time.sleep(0.2)
    assert proc.poll() is None, "the batch ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # like Ctrl-C in a terminal: the whole process group
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not list(out.rglob("*.part")), "a half-written output was left behind"
    for written in out.glob("*.jpg"):
        with Image.open(written) as im:
            im.load()  # every output that exists is complete


def test_faces_left_after_covering_are_covered_too():
    from redact.covering import FACE_RECHECKS, cover_faces_left
    from redact.types import Box, Finding, Kind

    class Stub:
        """Finds one more 'face' on the first look, then nothing."""

        settings = Settings()

        def __init__(self) -> None:
            self.calls = 0

        def faces_left(self, covered):
            self.calls += 1
            if self.calls == 1:
                return [Finding(Kind.FACE, Box(10, 10, 40, 50), 0.2, "centerface", "FACE")]
            return []

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (100, 120, 3), dtype=np.uint8)
    first = [Finding(Kind.FACE, Box(70, 20, 100, 60), 0.9, "centerface", "FACE")]
    stub = Stub()
    covered, findings = cover_faces_left(image.copy(), first, stub, 120, 100)  # type: ignore[arg-type]
    assert stub.calls == 2 <= FACE_RECHECKS  # stops once nothing is left
    assert len(findings) == 2 and findings[0] is first[0]
    assert not np.array_equal(covered[10:50, 10:40], image[10:50, 10:40])  # the new face is covered
    assert np.array_equal(covered[80:, 60:], image[80:, 60:])  # elsewhere untouched


def test_clean_output_passes_check_for_each_face_method(tmp_path: Path):
    # The pre-publish flow: clean, then check the written copy (see cover_faces_left).
    src = tmp_path / "nurse.jpg"
    shutil.copy(SAMPLES / "astronaut.jpg", src)
    for method in ("pixelate", "blur", "fill"):
        out = tmp_path / f"out-{method}"
        assert invoke("clean", src, "-o", out, "-m", method, "-j", "1").exit_code == ExitCode.OK
        result = invoke("check", out / "nurse.jpg", "-j", "1")
        assert result.exit_code == ExitCode.OK, (method, result.stderr)


def test_a_face_found_again_on_its_own_cover_is_reported_once():
    from redact.covering import _merge_faces
    from redact.types import Box, Finding, Kind

    face = Finding(Kind.FACE, Box(50, 40, 90, 90), 0.9, "centerface", "FACE")
    text = Finding(Kind.TEXT, Box(0, 0, 30, 10), 0.9, "text", "NAME")
    again = [
        Finding(Kind.FACE, Box(40, -5, 100, 95), 0.2, "centerface", "FACE"),  # on the face's cover
        Finding(Kind.FACE, Box(5, 60, 25, 90), 0.2, "centerface", "FACE"),  # somewhere else
    ]
    merged = _merge_faces([text, face], again, 120, 100)
    assert [f.kind for f in merged] == [Kind.TEXT, Kind.FACE, Kind.FACE]
    assert merged[1].box == Box(40, 0, 100, 95) and merged[1].confidence == 0.9  # widened, clipped
    assert merged[2] is again[1]


def test_face_recheck_can_be_turned_off(tmp_path: Path):
    from redact.config import load_settings

    (tmp_path / "redact.toml").write_text("face_recheck = false\n")
    assert load_settings(tmp_path / "redact.toml").face_recheck is False
    assert Settings().face_recheck is True
